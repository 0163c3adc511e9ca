"""The fully connected layer: ``y = activation(x @ W + b)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import activations, initializers
from glassnet._typing import Array
from glassnet._validation import check_bool, check_positive_int
from glassnet.activations import ActivationFunction, Linear
from glassnet.activations.rectifiers import ReLU
from glassnet.activations.squashing import Sigmoid, Tanh
from glassnet.errors import ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import (
    Cost,
    activation_flops,
    arrays_kept,
    known_size,
    unknown_length,
)
from glassnet.layers.dense_fused import (
    bias_relu,
    bias_sigmoid,
    relu_backward,
    squashing_backward,
)
from glassnet.layers.penalties import (
    constraint_argument,
    options_config,
    regularizer_argument,
)

__all__ = ["Dense"]

#: The activations whose bias and derivative dense_fused.py fuses, by exact type
#: (a subclass may change the function).
_FUSED_ACTIVATIONS = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}


def _product(a: Array, b: Array, out: Array | None = None) -> Array:
    """``a @ b`` (into ``out`` when given), through ``np.dot`` for matrices.

    For 2-D arrays ``np.dot`` is the same BLAS call as ``@``, equal bit for bit,
    without the generalized ufunc's dispatch: 0.3 us less per product, a twentieth
    of a tiny network's step (five products of 2x2 matrices). N-D inputs use
    ``@``, and so does an ``out`` np.dot refuses (another dtype than the product's,
    or not C-contiguous), which ``@`` casts into.

    >>> _product(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]))
    array([[11.]])
    """
    if a.ndim == 2:
        try:
            return np.dot(a, b, out=out)
        except ValueError:  # out refused, or shapes: @ casts, or raises its error
            pass
    return np.matmul(a, b, out=out)


@registry.register("dense")
class Dense(Layer):
    """A densely connected layer: ``y = activation(x @ W + b)``, W shaped (n_in, units).

    On inputs with more than one axis per sample, Dense acts on the last axis (as
    in Keras): ``(batch, steps, n_in)`` gives ``(batch, steps, units)``.

    Parameters
    ----------
    units : int
        Number of neurons (output features).
    activation : str, ActivationFunction or None
        Applied inside the layer; None means linear.
    use_bias : bool
        Whether the layer adds the bias vector ``b``.
    kernel_initializer, bias_initializer : str, dict or Initializer
        How ``W`` and ``b`` are drawn (Keras defaults: glorot_uniform, zeros).
    kernel_regularizer, bias_regularizer : str, dict or Regularizer, optional
        Penalties on ``W`` and ``b`` added to the training loss
        (:mod:`glassnet.regularizers`: ``"l1"``, ``"l2"``, ``L1L2(...)``...).
    activity_regularizer : str, dict or Regularizer, optional
        Penalty on the output ``y``, divided by the batch size.
    kernel_constraint, bias_constraint : str, dict or Constraint, optional
        Projections of ``W`` and ``b`` after every update
        (:mod:`glassnet.constraints`: ``"max_norm"``, ``"non_neg"``...).
    input_dim, input_shape : int or tuple, optional
        The per-sample input size, for the first layer of a model.
    name : str, optional
        Unique name; Keras' automatic ``dense``, ``dense_1``... when omitted.
    trainable : bool
        False freezes the layer: the optimizer leaves ``W`` and ``b`` alone.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(2, activation="sigmoid")
    >>> layer.build((3,), np.random.default_rng(0), np.float64)
    >>> layer.params["W"].shape, layer.params["b"].shape
    ((3, 2), (2,))
    >>> layer.forward(np.zeros((1, 3)))
    array([[0.5, 0.5]])
    """

    has_output_activation = True
    penalized_weights = ("kernel", "bias")
    supports_masking = True  # passes a padding mask on (Keras)

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name,
            input_shape=input_shape,
            input_dim=input_dim,
            trainable=trainable,
            activity_regularizer=activity_regularizer,
        )
        self.units = check_positive_int(units, "units")
        self.activation: ActivationFunction = activations.get(activation)
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizer_argument(
            kernel_regularizer, "kernel_regularizer"
        )
        self.bias_regularizer = regularizer_argument(
            bias_regularizer, "bias_regularizer"
        )
        self.kernel_constraint = constraint_argument(
            kernel_constraint, "kernel_constraint"
        )
        self.bias_constraint = constraint_argument(bias_constraint, "bias_constraint")

    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """``W`` (n_in, units) and ``b`` (units,), n_in the last input axis."""
        n_in = self._input_width(input_shape)
        shapes: dict[str, tuple[int, ...]] = {"W": (n_in, self.units)}
        if self.use_bias:
            shapes["b"] = (self.units,)
        return shapes

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Draw ``W`` (n_in, units) and ``b`` (units,) from ``rng``."""
        shapes = self.weight_shapes(input_shape)
        self.params = {"W": self.kernel_initializer(shapes["W"], rng, dtype)}
        if self.use_bias:
            self.params["b"] = self.bias_initializer(shapes["b"], rng, dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        super().build(input_shape, rng, dtype)

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``z = x @ W + b``, then ``y = activation(z)``."""
        z = _product(x, self.params["W"])
        y = None
        fused = self._fused_activation()
        # + b with the activation in fewer passes, with Numba (layers/dense_fused.py)
        if fused == "relu":
            y = bias_relu(z, self.params["b"])
        elif fused == "sigmoid":
            y = bias_sigmoid(z, self.params["b"])
        if y is None:
            if self.use_bias:
                # b as a (1, units) row: when the batch is one sample NumPy adds
                # two same-shaped arrays, 0.4 us less than broadcasting (units,)
                z += self.params["b"][None]
            y = self.activation.forward(z)
        self._cache = (x, z, y) if training or keep_cache else None
        return y

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Back through the activation, then through the affine map.

        ``input_grad=False`` fills the grads but skips ``dx`` (as costly as ``dW``)
        and returns None: the model asks for this when nothing below needs dx.
        """
        x, z, y = self.cached()
        fused = self._fused_activation()
        if self.trainable and fused is not None:
            # dz (as below) and db = sum of dz in one pass, with Numba installed
            if fused == "relu":
                grad_z = relu_backward(z, grad_output, self.grads["b"])
            else:
                grad_z = squashing_backward(fused, y, grad_output, self.grads["b"])
            if grad_z is not None:
                return self._affine_backward(x, grad_z, input_grad, bias_done=True)
        # y = f(z)  =>  dz = (vector-Jacobian product of f at z) applied to dy
        grad_z = self.activation.backward(z, y, grad_output)
        return self._affine_backward(x, grad_z, input_grad)

    def backward_from_logits(
        self, grad_logits: Array, *, input_grad: bool = True
    ) -> Array | None:
        """Backward through ``z = x @ W + b`` only, given dL/dz."""
        return self._affine_backward(self.cached()[0], grad_logits, input_grad)

    def _affine_backward(
        self, x: Array, grad_z: Array, input_grad: bool, bias_done: bool = False
    ) -> Array | None:
        """dL/dW, dL/db (when trainable, unless ``bias_done``) and dL/dx (when
        asked) from dL/dz."""
        # z = x @ W + b  =>  dW = x.T @ dz,  db = sum over the batch of dz,
        #                    dx = dz @ W.T
        if self.trainable:
            # Written into the existing arrays: in a model they are views into one
            # flat buffer that the optimizer updates in a single pass (models/flat.py).
            x_rows, dz_rows = x, grad_z
            if x.ndim > 2:  # N-D input: every position along the middle axes is a row
                x_rows = x.reshape(-1, x.shape[-1])
                dz_rows = grad_z.reshape(-1, grad_z.shape[-1])
            _product(x_rows.T, dz_rows, out=self.grads["W"])
            if self.use_bias and not bias_done:
                # np.add.reduce is what dz.sum(axis=0) calls, without the Python
                # wrapper in between (a tenth of a microsecond, per layer per step)
                np.add.reduce(dz_rows, axis=0, out=self.grads["b"])
        return _product(grad_z, self.params["W"].T) if input_grad else None

    def _fused_activation(self) -> str | None:
        """``"relu"``, ``"sigmoid"`` or ``"tanh"`` when this layer is ``f(x @ W + b)``
        with an f whose bias and derivative dense_fused.py fuses, else None."""
        if not self.use_bias:
            return None
        return _FUSED_ACTIVATIONS.get(type(self.activation))

    @property
    def output_activation(self) -> ActivationFunction:
        """The activation this layer applies to ``z``."""
        return self.activation

    @property
    def logits(self) -> Array:
        """``z = x @ W + b`` from the last caching forward pass."""
        return self.cached()[1]

    def output_shape(self, input_shape: Any) -> Any:
        """The input shape with its last axis replaced by ``units``."""
        self._input_width(input_shape)
        return (*tuple(input_shape)[:-1], self.units)

    def flops(self, input_shape: Any) -> Cost:
        """``2 x n_in`` per output (multiply-adds), the bias, the activation."""
        n_in = self._input_width(input_shape)
        size = known_size(self.output_shape(input_shape))
        if size is None:
            return unknown_length()
        terms, total = [f"2 x {n_in:,} x {size:,}"], 2 * n_in * size
        if self.use_bias:
            terms.append(f"{size:,}")
            total += size
        if not isinstance(self.activation, Linear):
            name, per = self.activation.name, activation_flops(self.activation)
            if per is None:
                return Cost(None, f"unknown for activation '{name}'")
            terms.append(f"{size:,} x {per} ({name})")
            total += size * per
        return Cost(total, f"{' + '.join(terms)} = {total:,}")

    def kept_activations(self, input_shape: Any) -> Cost:
        """``z`` and ``y = f(z)``: one array when f is linear (it returns z itself)."""
        size = known_size(self.output_shape(input_shape))
        if isinstance(self.activation, Linear):
            return arrays_kept(("z = y", size))
        return arrays_kept(("z", size), ("y", size))

    def _input_width(self, input_shape: Any) -> int:
        width = input_shape[-1] if len(input_shape) else None
        if width is None:
            raise ShapeError(
                f"Dense layer '{self.name}' needs the size of the last input axis to "
                f"be known. Received: input_shape={tuple(input_shape)}"
            )
        return int(width)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, with activation and initializers serialized."""
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            **options_config(self),
        )
        return config
