"""``Recurrent``: what SimpleRNN, LSTM and GRU share around their recurrence.

Sequences are batch-major ``(batch, time, features)`` at the API, as in Keras, and
the time axis may have any length (``Input((None, 8))``). Inside, a layer works
time-major and feature-major: the input is transposed once to ``(time, features,
batch)`` (reversed in time for ``go_backwards``), so each step reads one contiguous
block and each gate is a contiguous row block of the step's ``(gates*U, batch)``
pre-activations (``layers/recurrent_ops.py`` says why); the input projection of
every step is computed before the loop, ``W.T @ x`` for all steps at once. A
subclass runs the steps (``_run``) and back-propagates through them
(``_run_backward``). Docstrings and chain-rule comments write the math with row
vectors, as Keras does (``x @ W``); the code computes the same products transposed
(``W.T @ x``). This class handles everything else:

- ``return_sequences``: the output at every step ``(batch, time, units)``, or at the
  last step only ``(batch, units)``. With ``go_backwards`` the steps run from the
  last input to the first and the sequence comes out in that (reversed) order.
- ``dropout`` / ``recurrent_dropout`` as Keras: masks drawn once per sequence (one
  per gate when ``recurrent_dropout`` is set) and held for every step
  (``layers/recurrent_ops.py``); only while training.
- Keras' weight layout and paths: ``kernel`` ``(D, gates*U)``, ``recurrent_kernel``
  ``(U, gates*U)``, ``bias``; Keras nests them in a cell, ``lstm/lstm_cell/kernel``.
- Padding masks, as Keras: ``forward(x, mask=m)`` with ``m`` ``(batch, time)``, True
  on the real steps (a model passes the mask of ``Masking`` or
  ``Embedding(mask_zero=True)``). A masked step carries the state over unchanged
  and repeats the previous output (zeros with ``zero_output_for_mask=True``);
  backward passes the state's gradient straight through it
  (``layers/recurrent_masks.py``). The output keeps the mask with
  ``return_sequences`` (the input's, unreversed even with ``go_backwards``, as
  Keras), else it ends here.
- Keras arguments glassnet cannot honour yet are refused by name: ``stateful=True``
  and ``return_state=True``. ``unroll=True`` is accepted and computes the same thing
  (glassnet always loops over the steps).

>>> import numpy as np
>>> from glassnet.layers import LSTM
>>> layer = LSTM(4, return_sequences=True)
>>> layer.output_shape((None, 3)), layer.weight_shapes((None, 3))["recurrent_kernel"]
((None, 4), (4, 16))
>>> layer(np.zeros((2, 5, 3))).shape, layer(np.zeros((2, 9, 3))).shape
((2, 5, 4), (2, 9, 4))
>>> [w.path for w in layer.weights]
['lstm/lstm_cell/kernel', 'lstm/lstm_cell/recurrent_kernel', 'lstm/lstm_cell/bias']
>>> x, mask = np.ones((1, 3, 3)), np.array([[True, True, False]])  # a padded step
>>> y = layer(x, mask=mask)
>>> bool(np.array_equal(y[0, 2], y[0, 1]))       # repeats the last real output
True
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from glassnet import activations, initializers
from glassnet._typing import Array
from glassnet._validation import check_bool, check_in_range, check_positive_int
from glassnet.activations import ActivationFunction
from glassnet.errors import ShapeError
from glassnet.layers.base import Weight
from glassnet.layers.costs import (
    Cost,
    arrays_kept,
)
from glassnet.layers.im2col import Workspace
from glassnet.layers.penalties import constraint_argument, regularizer_argument
from glassnet.layers.random_layer import RandomLayer
from glassnet.layers.recurrent_arguments import (
    CellWeight,
    Masks,
    draw_dropout_masks,
    recurrent_config,
    recurrent_flops,
    refuse_unsupported,
)
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.recurrent_ops import (
    as_matrix,
    masked_input_grad,
    masked_weight_grad,
)
from glassnet.layers.shapes import show_shape

__all__ = ["Recurrent"]


class Recurrent(RandomLayer):
    """Base class of the recurrent layers (see the module docstring).

    A subclass sets ``gates`` (blocks of ``units`` columns in the kernels) and
    ``cell_name`` (Keras' name of its cell), and implements ``_run`` and
    ``_run_backward``.
    """

    gates: ClassVar[int] = 1
    cell_name: ClassVar[str] = "cell"
    penalized_weights = ("kernel", "recurrent_kernel", "bias")
    supports_masking = True
    takes_mask = True

    def __init__(
        self,
        units: int,
        *,
        activation: Any,
        use_bias: bool,
        kernel_initializer: Any,
        recurrent_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        recurrent_regularizer: Any,
        bias_regularizer: Any,
        activity_regularizer: Any,
        kernel_constraint: Any,
        recurrent_constraint: Any,
        bias_constraint: Any,
        dropout: float,
        recurrent_dropout: float,
        seed: int | None,
        return_sequences: bool,
        return_state: bool,
        go_backwards: bool,
        stateful: bool,
        unroll: bool,
        zero_output_for_mask: bool,
        use_cudnn: Any,
        input_dim: Any,
        input_shape: Any,
        name: str | None,
        trainable: bool,
    ) -> None:
        super().__init__(
            seed=seed,
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
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizer_argument(
            kernel_regularizer, "kernel_regularizer"
        )
        self.recurrent_regularizer = regularizer_argument(
            recurrent_regularizer, "recurrent_regularizer"
        )
        self.bias_regularizer = regularizer_argument(
            bias_regularizer, "bias_regularizer"
        )
        self.kernel_constraint = constraint_argument(
            kernel_constraint, "kernel_constraint"
        )
        self.recurrent_constraint = constraint_argument(
            recurrent_constraint, "recurrent_constraint"
        )
        self.bias_constraint = constraint_argument(bias_constraint, "bias_constraint")
        self.dropout = check_in_range(dropout, "dropout", 0.0, 1.0)
        self.recurrent_dropout = check_in_range(
            recurrent_dropout, "recurrent_dropout", 0.0, 1.0
        )
        self.return_sequences = check_bool(return_sequences, "return_sequences")
        self.go_backwards = check_bool(go_backwards, "go_backwards")
        self.unroll = check_bool(unroll, "unroll")
        self.zero_output_for_mask = check_bool(
            zero_output_for_mask, "zero_output_for_mask"
        )
        refuse_unsupported(self, stateful, return_state, use_cudnn)
        self.return_state = False
        self.stateful = False
        #: backward's scratch arrays (dG and its matrix form), reused from one
        #: step to the next: never kept in a cache or returned (see _scratch_like)
        self._scratch = Workspace()

    # -- shapes and weights ---------------------------------------------------------
    def _input_width(self, input_shape: Any) -> int:
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[1] is None:
            raise ShapeError(
                f"{type(self).__name__} layer '{self.name}' takes sequences shaped "
                "(batch, time, features), the number of features known (time may be "
                f"None). Received: input_shape={show_shape(shape)} per sample"
            )
        return int(shape[1])

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """``W`` (D, gates*U), ``recurrent_kernel`` (U, gates*U), ``b``."""
        width = self.gates * self.units
        shapes: dict[str, tuple[int, ...]] = {
            "W": (self._input_width(input_shape), width),
            "recurrent_kernel": (self.units, width),
        }
        if self.use_bias:
            shapes["b"] = self._bias_shape()
        return shapes

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Draw the kernel, the recurrent kernel and the bias from ``rng``, in order."""
        shapes = self.weight_shapes(input_shape)
        self.params = {
            "W": self.kernel_initializer(shapes["W"], rng, dtype),
            "recurrent_kernel": self.recurrent_initializer(
                shapes["recurrent_kernel"], rng, dtype
            ),
        }
        if self.use_bias:
            self.params["b"] = self._initial_bias(shapes["b"], rng, dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        # the weights fit sequences of any length: built for (None, features)
        any_length: Any = (None, shapes["W"][0])
        super().build(any_length, rng, dtype)

    def _initial_bias(
        self, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any
    ) -> Array:
        return self.bias_initializer(shape, rng, dtype)

    @property
    def weights(self) -> list[Weight]:
        """Kernel, recurrent kernel, bias, at Keras' paths inside the cell."""
        return [CellWeight(self, key, "param") for key in self.params]

    def output_shape(self, input_shape: Any) -> Any:
        """``(time, units)`` with ``return_sequences``, else ``(units,)``."""
        self._input_width(input_shape)
        if self.return_sequences:
            return (input_shape[0], self.units)
        return (self.units,)

    def kept_activations(self, input_shape: Any) -> Cost:
        """The time-major input copy and the per-step arrays the subclass keeps."""
        width = self._input_width(input_shape)
        steps = input_shape[0]
        arrays = [("x (time-major)", width), *self._kept_per_step()]
        return arrays_kept(
            *((name, None if steps is None else steps * size) for name, size in arrays)
        )

    def _kept_per_step(self) -> list[tuple[str, int]]:
        raise NotImplementedError

    def flops(self, input_shape: Any) -> Cost:
        """Per step: both products (multiply-adds), their sum, the bias, then the
        gates' activations and arithmetic (``_step_flops``); times the steps."""
        width = self._input_width(input_shape)
        return recurrent_flops(self, width, input_shape[0], self._step_flops())

    def _step_flops(self) -> tuple[int, str] | None:
        """The gate activations and arithmetic of one step, and what they are."""
        raise NotImplementedError

    # -- forward and backward ---------------------------------------------------------
    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The input's mask with ``return_sequences``, else None (as Keras)."""
        return mask if self.return_sequences else None

    def forward(
        self,
        x: Array,
        *,
        training: bool = False,
        keep_cache: bool = False,
        mask: Any = None,
    ) -> Array:
        """Run the steps over ``x`` (batch, time, features), skipping the steps
        ``mask`` marks False; see the module docstring."""
        xs = self._time_major(x)
        steps = None
        if mask is not None:
            steps = StepMask.of(mask, len(x), len(xs), self.go_backwards, xs.dtype)
        masks = draw_dropout_masks(self, xs, training)
        outputs, kept = self._run(xs, masks, steps)  # (time, units, batch)
        self._cache = (xs, masks, kept, steps) if training or keep_cache else None
        zeroed = steps if self.zero_output_for_mask else None  # masked steps give 0
        if self.return_sequences:
            if zeroed is not None:
                outputs = zeroed.zero_masked(outputs)
            return np.ascontiguousarray(outputs.transpose(2, 0, 1))
        if zeroed is not None:
            return (outputs[-1] * zeroed.weights[-1]).T.copy()
        return outputs[-1].T.copy()

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Back-propagate through time; fills the weight gradients.

        The output gradient reaches every step (``return_sequences``) or the last
        one; the subclass walks the steps backwards, carrying the state gradient.
        """
        # y = outputs (time-major, reversed for go_backwards), transposed  =>
        #   d(outputs) = dy transposed back; dx = d(xs) transposed (and reversed) back;
        #   y = outputs * real (zero_output_for_mask)  =>  d(outputs) = dy * real
        xs, masks, kept, steps = self.cached()
        zeroed = steps if self.zero_output_for_mask else None
        if self.return_sequences:
            grad_seq = np.ascontiguousarray(grad_output.transpose(1, 2, 0))
            if zeroed is not None:  # not in place: grad_seq may be a view of dy
                grad_seq = grad_seq * zeroed.weights
            grad_last = None
        else:
            grad_seq, grad_last = None, np.ascontiguousarray(grad_output.T)
            if zeroed is not None:
                grad_last = grad_last * zeroed.weights[-1]
        grad_xs = self._run_backward(
            xs, masks, kept, grad_seq, grad_last, input_grad, steps
        )
        if grad_xs is None:
            return None
        grad_x = grad_xs.transpose(2, 0, 1)
        return grad_x[:, ::-1] if self.go_backwards else grad_x

    def _run(
        self, xs: Array, masks: Masks, steps: StepMask | None
    ) -> tuple[Array, Any]:
        """The outputs ``(time, units, batch)`` and what backward needs; ``steps``
        (a padding mask, or None) says where the state is carried over."""
        raise NotImplementedError

    def _run_backward(
        self,
        xs: Array,
        masks: Masks,
        kept: Any,
        grad_seq: Array | None,
        grad_last: Array | None,
        input_grad: bool,
        steps: StepMask | None,
    ) -> Array | None:
        """``d(xs)`` (time-major) or None; fills ``grads`` when trainable."""
        raise NotImplementedError

    def _scratch_like(self, name: str, like: Array) -> Array:
        """A reused array shaped as ``like`` (values left over: write all of it).

        Backward's gradient buffers are as big as the gate cache; drawing fresh
        ones each training step made glibc return and re-fault about 200 pages
        per LSTM(64) step here (32 x 20 x 16), a third of the step's time.
        """
        return self._scratch.empty(name, like.shape, like.dtype)

    def _matrix(self, name: str, a: Array) -> Array:
        """``as_matrix(a)`` in a reused scratch array."""
        shape = (a.shape[1], a.shape[0] * a.shape[2])
        return as_matrix(a, self._scratch.empty(name, shape, a.dtype))

    def _time_major(self, x: Array) -> Array:
        """``x`` as a contiguous ``(time, features, batch)`` copy, reversed for
        go_backwards; a ShapeError for anything but a non-empty sequence batch."""
        width = self.params["W"].shape[0] if self.built else None
        if x.ndim != 3 or (width is not None and x.shape[2] != width) or not x.shape[1]:
            raise ShapeError(
                f"{type(self).__name__} layer '{self.name}' takes sequences shaped "
                f"(batch, time >= 1, {width if width is not None else 'features'}). "
                f"Received: an array of shape {x.shape}"
            )
        if self.go_backwards:
            x = x[:, ::-1]
        return np.ascontiguousarray(x.transpose(1, 2, 0))

    def _input_side_grads(
        self,
        xs: Array,
        grad_gates: Array,
        masks: Masks,
        input_grad: bool,
        grad_matrix: Array | None = None,
    ) -> Array | None:
        """From ``dG`` (time, gates*U, batch), the gradients of the input projection
        ``G = (x * m) @ W + b`` at every step: fill ``dW`` and ``db`` (when
        trainable), and return ``dx`` (when asked). ``grad_matrix`` is
        ``as_matrix(dG)``, if the caller has it already."""
        # G = (x * m) @ W + b  =>  dW = (x * m).T @ dG,  db = sum over time and
        #                          batch of dG,  dx = (dG @ W.T) * m
        if self.trainable:
            if grad_matrix is None:
                grad_matrix = self._matrix("grad_matrix", grad_gates)
            masked_weight_grad(xs, grad_matrix, masks.inputs, self.grads["W"])
            if self.use_bias and self.grads["b"].ndim == 1:
                grad_matrix.sum(axis=1, out=self.grads["b"])
        if not input_grad:
            return None
        return masked_input_grad(self.params["W"], grad_gates, masks.inputs)

    # -- regularizers and constraints ------------------------------------------------
    # layers/penalties.py finds a weight's options as ``<weight name>_regularizer``;
    # Keras calls the recurrent kernel's ``recurrent_regularizer``: both names work.
    @property
    def recurrent_kernel_regularizer(self) -> Any:
        """The ``recurrent_regularizer``, under the recurrent kernel's weight name."""
        return self.recurrent_regularizer

    @property
    def recurrent_kernel_constraint(self) -> Any:
        """The ``recurrent_constraint``, under the recurrent kernel's weight name."""
        return self.recurrent_constraint

    # -- config -------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Keras' recurrent arguments, then the cell's."""
        return {**super().get_config(), **recurrent_config(self)}
