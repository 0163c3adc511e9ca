"""``Recurrent``: what SimpleRNN, LSTM and GRU share around their recurrence.

Sequences are batch-major ``(batch, time, features)`` at the API, as in Keras, and
the time axis may have any length (``Input((None, 8))``). Inside, a layer works
time-major and feature-major: the input is transposed once to ``(time, features,
batch)`` (reversed in time for ``go_backwards``), so each step reads one contiguous
block and each gate is a contiguous row block of the step's ``(gates*U, batch)``
pre-activations (``layers/recurrent_ops.py`` says why); the input projection of
every step is computed before the loop, ``W.T @ x`` for all steps at once. A
subclass runs the steps (``_run``) and back-propagates through them
(``_run_backward``); the passes around them are in ``layers/recurrent_passes.py``.
Docstrings and chain-rule comments write the math with row vectors, as Keras does
(``x @ W``); the code computes the same products transposed (``W.T @ x``). Together
they handle everything else:

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
- ``return_state=True`` gives ``(output, *states)`` and ``initial_state=`` starts
  from given states, in functional models and on arrays, as Keras 3
  (``layers/recurrent_states.py``).
- ``stateful=True`` is refused by name; ``unroll=True`` is accepted and computes
  the same thing (glassnet always loops over the steps).

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
>>> output, h, c = LSTM(4, return_state=True)(x, initial_state=[y[:, -1], y[:, -1]])
>>> output.shape, h.shape, c.shape
((1, 4), (1, 4), (1, 4))
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
from glassnet.layers.recurrent_arguments import (
    CellWeight,
    recurrent_config,
    recurrent_flops,
    refuse_unsupported,
)
from glassnet.layers.recurrent_passes import RecurrentPasses
from glassnet.layers.recurrent_states import with_states
from glassnet.layers.shapes import show_shape

__all__ = ["Recurrent"]


class Recurrent(RecurrentPasses):
    """Base class of the recurrent layers (see the module docstring).

    A subclass sets ``gates`` (blocks of ``units`` columns in the kernels),
    ``cell_name`` (Keras' name of its cell) and ``state_names`` (its states, in
    Keras' order), and implements ``_run``, ``_final_states`` and ``_run_backward``.
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
        self.return_state = check_bool(return_state, "return_state")
        refuse_unsupported(self, stateful, use_cudnn)
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

    @property
    def state_sizes(self) -> list[int]:
        """The width of each state (``units``), in ``state_names``' order."""
        return [self.units] * len(self.state_names)

    @property
    def multiple_outputs(self) -> bool:
        """True with ``return_state``: a call gives ``(output, *states)``."""
        return self.return_state

    def output_shape(self, input_shape: Any) -> Any:
        """``(time, units)`` with ``return_sequences``, else ``(units,)``; with
        ``return_state`` a list, then ``(units,)`` for each state."""
        self._input_width(input_shape)
        if self.return_sequences:
            return with_states(self, (input_shape[0], self.units))
        return with_states(self, (self.units,))

    def kept_activations(self, input_shape: Any) -> Cost:
        """The time-major input copy and the per-step arrays the subclass keeps
        (and the returned states' copies, with ``return_state``)."""
        width = self._input_width(input_shape)
        steps = input_shape[0]
        arrays = [("x (time-major)", width), *self._kept_per_step()]
        kept = [
            (name, None if steps is None else steps * size) for name, size in arrays
        ]
        if self.return_state:
            kept += [(f"returned {name}", self.units) for name in self.state_names]
        return arrays_kept(*kept)

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
