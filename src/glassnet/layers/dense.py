"""The fully connected layer: ``y = activation(x @ W + b)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import activations, initializers
from glassnet._typing import Array, Shape
from glassnet._validation import check_bool, check_positive_int
from glassnet.activations import ActivationFunction
from glassnet.errors import ShapeError
from glassnet.layers.base import Layer, registry

__all__ = ["Dense"]


@registry.register("dense")
class Dense(Layer):
    """A densely connected layer: ``y = activation(x @ W + b)``, W shaped (n_in, units).

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
    input_dim, input_shape : int or tuple, optional
        The per-sample input size, for the first layer of a model.

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

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, input_dim=input_dim)
        self.units = check_positive_int(units, "units")
        self.activation: ActivationFunction = activations.get(activation)
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(
        self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Draw ``W`` (n_in, units) and ``b`` (units,) from ``rng``."""
        if len(input_shape) != 1:
            raise ShapeError(
                f"Dense expects samples that are flat feature vectors (batch, features)."
                f" Received: input_shape={tuple(input_shape)} for layer '{self.name}'."
            )
        n_in = input_shape[0]
        self.params = {"W": self.kernel_initializer((n_in, self.units), rng, dtype)}
        if self.use_bias:
            self.params["b"] = self.bias_initializer((self.units,), rng, dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        super().build(input_shape, rng, dtype)

    def forward(self, x: Array, *, training: bool = False) -> Array:
        """``z = x @ W + b``, then ``y = activation(z)``."""
        z = x @ self.params["W"]
        if self.use_bias:
            z += self.params["b"]
        y = self.activation.forward(z)
        self._x, self._z, self._y = x, z, y
        return y

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array:
        """Back through the activation, then through the affine map.

        ``input_grad=False`` fills the grads but skips ``dx`` and returns an empty
        array: the training loop asks for this from a first layer, whose input is
        the data (nobody reads its gradient, and ``dx`` costs as much as ``dW``).
        """
        # y = f(z)  =>  dz = (vector-Jacobian product of f at z) applied to dy
        grad_z = self.activation.backward(self._z, self._y, grad_output)
        if input_grad:
            return self.backward_from_logits(grad_z)
        self._fill_grads(grad_z)
        return np.empty(0, grad_z.dtype)

    def backward_from_logits(self, grad_logits: Array) -> Array:
        """Backward through ``z = x @ W + b`` only, given dL/dz."""
        # z = x @ W + b  =>  dW = x.T @ dz,  db = sum over the batch of dz,
        #                    dx = dz @ W.T
        self._fill_grads(grad_logits)
        return grad_logits @ self.params["W"].T

    def _fill_grads(self, grad_logits: Array) -> None:
        """``dW = x.T @ dz`` and ``db = sum(dz)``: see backward_from_logits."""
        # Written into the existing arrays: in a model they are views into one flat
        # buffer that the optimizer updates in a single pass (models/flat.py).
        np.matmul(self._x.T, grad_logits, out=self.grads["W"])
        if self.use_bias:
            grad_logits.sum(axis=0, out=self.grads["b"])

    @property
    def output_activation(self) -> ActivationFunction:
        """The activation this layer applies to ``z``."""
        return self.activation

    @property
    def logits(self) -> Array:
        """``z = x @ W + b`` from the last forward pass."""
        return self._z

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(units,)``."""
        return (self.units,)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, with activation and initializers serialized."""
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
        )
        return config
