"""A recurrent layer's states at both ends: ``initial_state=`` and ``return_state``.

As in Keras 3:

- ``return_state=True``: a call gives ``(output, *states)``, the states after the
  last step read: ``(output, h)`` for SimpleRNN and GRU, ``(output, h, c)`` for the
  LSTM (with ``go_backwards`` the last step read is the first of the sequence;
  with a padding mask a padded step carries the state over, so the states are
  those of each sample's last real step). ``Bidirectional`` gives ``(output,
  *forward states, *backward states)``. The states carry no padding mask.
- ``initial_state=[h0, c0]`` (``h0`` alone, or ``[h0]``, for SimpleRNN and GRU):
  the state before the first step, instead of zeros, each ``(batch, units)``.
  In a functional model the states are tensors (an ``Input``, or another layer's
  returned states: the encoder-decoder pattern), inputs of the layer's node that
  get gradients like any other input; on arrays they are arrays.
  ``Bidirectional`` takes the forward layer's states, then the backward layer's.

One detail of Keras' masked loop matters with an initial state: the *output* at a
padded step repeats the previous output, and the output before the first real
step is zero, while the *state* carried there is the initial state. So with a
padding mask and an initial state, the output is ``h_t`` times "a real step has
been read" (:meth:`~glassnet.layers.recurrent_masks.StepMask.started`); without an
initial state that changes nothing (the carried state is zero there).

Backward, the gradient of a returned state joins the BPTT recurrence where it
is made, at the last step read (``dh`` with the output's, ``dc`` for the LSTM's
cell), and the recurrence carries on through step 0 to the initial states::

    dh_{-1} = dG[0] @ U.T (+ the part a padded step 0 passes straight through)
    dc_{-1} = dc_0 * f_0                                     (the LSTM's cell)

>>> import numpy as np
>>> from glassnet.layers import GRU
>>> layer = GRU(2, return_state=True)
>>> x, h0 = np.ones((3, 4, 5)), np.zeros((3, 2))
>>> output, h = layer(x, initial_state=h0)     # one state: h0 alone, or [h0]
>>> bool(np.array_equal(output, h)), layer.output_shape((4, 5))
(True, [(2,), (2,)])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_bool
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.layers.recurrent_arguments import Masks
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.symbolic import SymbolicTensor, is_symbolic

__all__ = [
    "Run",
    "call_with_states",
    "output_grads",
    "output_weights",
    "start_states",
    "with_states",
]


class Run(NamedTuple):
    """What a training forward pass of a recurrent layer keeps for backward."""

    #: the input, time-major and feature-major ``(time, features, batch)``, reversed
    #: for go_backwards
    xs: Array
    #: the dropout masks (``layers/recurrent_ops.py``)
    masks: Masks
    #: the subclass's per-step arrays (gates, cells, outputs...)
    kept: Any
    #: the padding mask, time-major (None: every step is real)
    steps: StepMask | None
    #: the initial states, ``(units, batch)`` each (None: zeros)
    start: list[Array] | None


def _kind(layer: Any) -> str:
    return f"{type(layer).__name__} layer '{layer.name}'"


def _state_list(layer: Any, initial_state: Any) -> list[Any]:
    """``initial_state`` as a list of the right length (one state may come alone)."""
    states = (
        list(initial_state)
        if isinstance(initial_state, (list, tuple))
        else [initial_state]
    )
    names: list[str] = layer.state_names
    if len(states) != len(names):
        raise InvalidArgumentError(
            f"{_kind(layer)} starts from {len(names)} state(s), "
            f"initial_state=[{', '.join(names)}], each (batch, units). "
            f"Received: {len(states)} state(s)"
        )
    return states


def call_with_states(
    layer: Any, inputs: Any, training: Any, mask: Any, initial_state: Any
) -> Any:
    """``layer(inputs, initial_state=...)`` on symbolic tensors or on arrays: the
    states are checked (count, width), then become inputs of the recorded node or
    arrays handed to ``forward``."""
    states = _state_list(layer, initial_state)
    sizes: list[int] = layer.state_sizes
    names: list[str] = layer.state_names
    symbolic = is_symbolic(inputs)
    for index, (state, size, name) in enumerate(zip(states, sizes, names, strict=True)):
        if isinstance(state, SymbolicTensor) != symbolic:
            wanted = "symbolic tensors" if symbolic else "arrays"
            raise GlassnetTypeError(
                f"{_kind(layer)} was called on {wanted}, so initial_state must hold "
                f"{wanted} too (in a model, make a start state an Input((units,)) or "
                f"another layer's returned state). Received: initial_state[{index}] "
                f"({name}) of type {type(state).__name__}"
            )
        shape = state.shape if symbolic else np.shape(state)
        if len(shape) != 2 or shape[1] != size:
            raise ShapeError(
                f"{_kind(layer)}: initial_state[{index}] ({name}) must be shaped "
                f"(batch, {size}). Received: shape {tuple(shape)}"
            )
    if not symbolic:
        flag = False if training is None else check_bool(training, "training")
        return layer._call_eager(inputs, flag, mask, states)
    if mask is not None:
        raise InvalidArgumentError(
            f"Layer '{layer.name}': a model makes its masks with layers (Masking, or "
            "Embedding(mask_zero=True)) and carries them itself; mask= is taken on "
            "arrays only. Received: mask on a symbolic call"
        )
    return layer._call_symbolic(inputs, states)


def start_states(layer: Any, initial_state: Any, batch: int, dtype: Any) -> list[Array]:
    """The initial states as the steps use them, ``(units, batch)`` each, after
    checking each is ``(batch, units)``."""
    states = _state_list(layer, initial_state)
    sizes: list[int] = layer.state_sizes
    found = []
    for index, (state, size) in enumerate(zip(states, sizes, strict=True)):
        array = np.asarray(state)
        if array.shape != (batch, size):
            raise ShapeError(
                f"{_kind(layer)}: initial_state[{index}] must be shaped (batch, "
                f"units) = ({batch}, {size}) for this batch. Received: shape "
                f"{array.shape}"
            )
        found.append(np.ascontiguousarray(array.T, dtype=dtype))
    return found


def with_states(layer: Any, shape: Any) -> Any:
    """The output shape(s): ``shape``, or ``[shape, *state shapes]`` with
    ``return_state``."""
    if not layer.return_state:
        return shape
    return [shape, *((size,) for size in layer.state_sizes)]


def output_weights(layer: Any, steps: StepMask | None, start: Any) -> Array | None:
    """What multiplies the steps' states to give the output (None: nothing): 0 on
    padded steps with ``zero_output_for_mask``, else 0 before a sample's first
    real step when an initial state is carried there (see the module docstring)."""
    if steps is None:
        return None
    if layer.zero_output_for_mask:
        return steps.weights
    return None if start is None else steps.started


def output_grads(layer: Any, grad_output: Any) -> tuple[Any, list[Any]]:
    """``(dy, [d state, ...])`` from backward's argument: with ``return_state`` a
    list, one gradient per output (None for an output nothing used)."""
    if not layer.return_state:
        return grad_output, []
    grads = list(grad_output) if isinstance(grad_output, (list, tuple)) else []
    if len(grads) != 1 + len(layer.state_sizes):
        raise ShapeError(
            f"{_kind(layer)} returns its output and {len(layer.state_sizes)} "
            "state(s); backward takes one gradient for each (None for an output "
            f"nothing used). Received: {type(grad_output).__name__} "
            f"of {len(grads) or 'no'} entries"
        )
    return grads[0], grads[1:]
