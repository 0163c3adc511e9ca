"""The LSTM's steps, forward and back, with one buffer per step and few NumPy calls.

:class:`~glassnet.layers.LSTM` states the math; this module runs it. A step of
LSTM(64) on a batch of 32 is about 0.1 ms of arithmetic, so the number of NumPy
calls per step counts as much as their size (about 1 microsecond each, plus the
Python around them). Three layout choices make the calls few:

**One block per step.** The forward pass keeps ``B`` ``(time + 1, 5U, batch)``
with ``B[t] = [c_{t-1}, g, i, f, o]``: the cell state before step t, then the
four gates (pre-activations first, overwritten by their values). The cell state
of step t is written into ``B[t + 1][:U]``, and the input projection of every step
goes straight into the gate rows ``B[:T, U:]`` (one GEMM).

**Gate order g, i, f, o.** Keras' kernels hold i, f, c, o; here their columns are
permuted once per pass (:func:`step_kernels`, a copy of a few thousand numbers) so
that the three sigmoid gates are one contiguous block and the candidate comes
first. Then, with the default activations, the i, f, o columns are also halved
(exact in floating point): ``sigmoid(z) = 0.5 tanh(z / 2) + 0.5``, so ONE tanh over
the whole ``(4U, batch)`` block and two passes over i, f, o give every gate
(``layers/recurrent_ops.py`` says why tanh). Backward, ``c = f c_prev + i g`` gives
``[dg, di, df] = dc * [i, g, c_prev]``: one multiply with the block-reversed view
of ``B[t][:3U]``; the sigmoid's derivative covers i, f, o in one block too. ``dG``
stays in this order, and the weight gradients go back to Keras' order at the end
(``keras_order``).

**Scratch arrays** for the per-step temporaries, allocated once per pass.

Measured here (``benchmarks/rnn_profile.py``, thread CPU time, a busy machine):
from about 33 NumPy calls and 9 Python helper calls per step (forward and back)
to 25 and one; LSTM(64)'s forward + backward on 32 x 50 x 16 went from 5.4 to
5.0-5.2 ms with the one-product weight gradients (``stacked_kernel_grads``), R1's
training step 1.05-1.13x faster.

>>> import numpy as np
>>> step_kernels(np.arange(4.0)[None], np.eye(1, 4), None, 1, halve=False)[0]
array([[2., 0., 1., 3.]])
>>> keras_order(1)          # dG's row for each of Keras' columns i, f, c, o
array([1, 2, 0, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.layers.recurrent_arguments import Masks
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.recurrent_ops import (
    GateActivation,
    masked_input_grad,
    masked_matmul,
)

__all__ = [
    "backward_steps",
    "final_states",
    "forward_steps",
    "keras_layout",
    "keras_order",
    "step_kernels",
    "step_masks",
]

#: block k of the step buffer's gates holds Keras' block GATE_BLOCKS[k] (i=0, f=1,
#: c=2, o=3): the order g, i, f, o
GATE_BLOCKS = (2, 0, 1, 3)


def _columns(units: int, blocks: tuple[int, ...]) -> Array:
    return np.concatenate([np.arange(units) + b * units for b in blocks])


def keras_order(units: int) -> Array:
    """For each of Keras' ``4U`` columns (i, f, c, o), its row in ``dG`` (g, i, f,
    o): ``dW = dW_steps[:, keras_order(U)]``."""
    return _columns(units, tuple(GATE_BLOCKS.index(b) for b in range(4)))


def step_kernels(
    kernel: Array, recurrent: Array, bias: Array | None, units: int, halve: bool
) -> tuple[Array, Array, Array | None]:
    """Copies of ``W``, ``U`` and ``b`` with the gate columns in the order g, i, f,
    o, and with ``halve`` the i, f, o columns halved (``G`` then holds ``z / 2``
    for the sigmoid gates: one tanh gives all four, see the module docstring).

    >>> W, U = np.ones((1, 4)), np.ones((1, 4))
    >>> step_kernels(W, U, np.arange(4.0), 1, halve=True)[2]    # b: c, i/2, f/2, o/2
    array([2. , 0. , 0.5, 1.5])
    """
    columns = _columns(units, GATE_BLOCKS)
    copies = [kernel[:, columns], recurrent[:, columns]]
    if bias is not None:
        copies.append(bias[columns])
    if halve:
        for copy in copies:
            copy[..., units:] *= 0.5
    return copies[0], copies[1], None if bias is None else copies[2]


def step_masks(masks: Masks) -> Masks:
    """The dropout masks with one mask per gate put in the order g, i, f, o."""
    blocks = list(GATE_BLOCKS)
    return Masks(*(m if m is None or len(m) == 1 else m[blocks] for m in masks))


def forward_steps(
    xs: Array,
    weights: tuple[Array, Array, Array | None],
    masks: Masks,
    steps: StepMask | None,
    start: list[Array] | None,
    activations: tuple[GateActivation, GateActivation],
) -> tuple[Array, tuple[Array, Array | None, Array, Array]]:
    """Every step of the recurrence; ``weights`` from :func:`step_kernels` (halved
    when both activations are the defaults), ``masks`` from :func:`step_masks`,
    ``activations`` the gates' ``s`` and the ``a``. Returns the outputs h ``(time,
    U, batch)`` and ``(B, gate inputs or None, a(c), h)`` for backward."""
    gate, squash = activations
    kernel, recurrent, bias = weights
    length, _, batch = xs.shape
    units = recurrent.shape[0]
    fast = gate.kind == "sigmoid" and squash.kind == "tanh"  # halved: one tanh
    blocks = np.empty((length + 1, 5 * units, batch), dtype=xs.dtype)
    if masks.inputs is None:  # every step's W.T x at once, into the gate rows
        np.matmul(kernel.T, xs, out=blocks[:length, units:])
    else:
        blocks[:length, units:] = masked_matmul(kernel, xs, masks.inputs)
    if bias is not None:
        blocks[:length, units:] += bias[:, None]
    keep_inputs = gate.needs_input or squash.needs_input
    gate_inputs = np.empty_like(blocks[:length, units:]) if keep_inputs else None
    squashed = np.empty((length, units, batch), dtype=xs.dtype)
    outputs = np.empty_like(squashed)
    h = np.zeros((units, batch), dtype=xs.dtype) if start is None else start[0]
    blocks[0, :units] = 0 if start is None else start[1]
    product, i_g = np.empty((4 * units, batch), xs.dtype), np.empty_like(h)
    for t in range(length):
        c_prev, g = blocks[t, :units], blocks[t, units:]
        c = blocks[t + 1, :units]
        if masks.recurrent is None:  # G += h_{t-1} @ U
            np.matmul(recurrent.T, h, out=product)
            g += product
        else:
            g += masked_matmul(recurrent, h, masks.recurrent)
        if gate_inputs is not None:
            gate_inputs[t] = g
        if fast:  # g holds z / 2 for i, f, o: tanh, then 0.5 t + 0.5 on i, f, o
            np.tanh(g, out=g)
            g[units:] *= 0.5
            g[units:] += 0.5
        else:
            squash.apply(g[:units])
            gate.apply(g[units:])
        candidate, i = g[:units], g[units : 2 * units]
        f, o = g[2 * units : 3 * units], g[3 * units :]
        np.multiply(f, c_prev, out=c)  # c_t = f * c_{t-1} + i * g
        np.multiply(i, candidate, out=i_g)
        c += i_g
        if fast:  # h_t = o * a(c_t)
            np.tanh(c, out=squashed[t])
        else:
            squash.apply(c, out=squashed[t])
        np.multiply(o, squashed[t], out=outputs[t])
        if steps is not None:  # c_t, h_t = where(real_t, new, before)
            steps.carry(t, c, c_prev)
            steps.carry(t, outputs[t], h)
        h = outputs[t]
    return outputs, (blocks, gate_inputs, squashed, outputs)


def backward_steps(
    kept: tuple[Array, Array | None, Array, Array],
    grad_seq: Array | None,
    grad_last: Array | None,
    grad_cell: Array | None,
    recurrent: Array,
    masks: Masks,
    steps: StepMask | None,
    want_start: bool,
    activations: tuple[GateActivation, GateActivation],
    grad_gates: Array,
) -> list[Array] | None:
    """Backpropagation through time (the recurrences in LSTM's docstring): fills
    ``grad_gates`` (``dG``, time-major, rows g, i, f, o) and returns ``[dh0, dc0]``
    when ``want_start``. ``recurrent`` is ``U`` in that column order, NOT halved."""
    # h_t = o * a(c_t), c_t = f * c_{t-1} + i * g, gates = s or a of
    # G = x W + h_{t-1} U + b  =>  per step (t = T-1 .. 0):
    #   dh = dL/dh_t + dh_next,  do = dh * a(c_t),  dc = dc_next + dh * o * a'(c_t)
    #   [dg, di, df] = dc * [i, g, c_{t-1}],  dG[t] = [a', s', s', s'] * [dg, di, df, do]
    #   dh_next = dG[t] @ U.T,  dc_next = dc * f
    # A padding mask: h_t = r h_new + (1 - r) h_{t-1} (c_t likewise)  =>
    #   dh_new = r dh, dc_new = r dc;  dh_next += (1 - r) dh, dc_next += (1 - r) dc
    blocks, gate_inputs, squashed, _ = kept
    gate, squash = activations
    fast = gate.kind == "sigmoid" and squash.kind == "tanh"
    length, units, batch = squashed.shape
    zeros = np.zeros((units, batch), dtype=squashed.dtype)
    dh_next = zeros if grad_last is None else grad_last
    dc_next = zeros if grad_cell is None else grad_cell
    through, dc, carry_c = (np.empty_like(zeros) for _ in range(3))
    slope = np.empty((3 * units, batch), dtype=zeros.dtype)
    carried_h = carried_c = None
    for t in range(length - 1, -1, -1):
        dh = dh_next if grad_seq is None else dh_next + grad_seq[t]
        if steps is not None:
            dh, carried_h = steps.split(t, dh)
            dc_next, carried_c = steps.split(t, dc_next)
        block, dg, a_c = blocks[t], grad_gates[t], squashed[t]
        o, gates = block[4 * units :], block[units:]
        # h = o * a(c)  =>  do = dh * a(c),  dc = dc_next + a'(c) * (dh * o)
        np.multiply(dh, a_c, out=dg[3 * units :])
        np.multiply(dh, o, out=through)
        if fast:  # tanh' = 1 - a(c)^2
            np.multiply(a_c, a_c, out=slope[:units])
            np.subtract(1, slope[:units], out=slope[:units])
            through *= slope[:units]
        else:
            squash.grad_in_place(blocks[t + 1, :units], a_c, through)
        np.add(dc_next, through, out=dc)
        # c = f * c_prev + i * g  =>  [dg, di, df] = dc * [i, g, c_prev]: B[t][:3U]
        # holds [c_prev, g, i], so its block-reversed view is [i, g, c_prev]
        np.multiply(
            dc,
            block[: 3 * units].reshape(3, units, batch)[::-1],
            out=dg[: 3 * units].reshape(3, units, batch),
        )
        # gates = [a(G_g), s(G_i), s(G_f), s(G_o)]  =>  dG = [a', s', s', s'] * d(gates)
        if fast:  # tanh' = 1 - g^2 on the candidate, sigmoid' = y - y^2 on i, f, o
            np.multiply(gates[:units], gates[:units], out=slope[:units])
            np.subtract(1, slope[:units], out=slope[:units])
            dg[:units] *= slope[:units]
            np.multiply(gates[units:], gates[units:], out=slope)
            np.subtract(gates[units:], slope, out=slope)
            dg[units:] *= slope
        else:
            pre = None if gate_inputs is None else gate_inputs[t]
            z_g, z_ifo = (None, None) if pre is None else (pre[:units], pre[units:])
            squash.grad_in_place(z_g, gates[:units], dg[:units])
            gate.grad_in_place(z_ifo, gates[units:], dg[units:])
        np.multiply(dc, block[3 * units : 4 * units], out=carry_c)  # dc_next = dc * f
        dc_next = carry_c
        if t or want_start:  # the zero start needs no gradient
            dh_next = masked_input_grad(recurrent, dg, masks.recurrent)
            if carried_h is not None:
                dh_next += carried_h
                dc_next += carried_c
    return [dh_next, dc_next] if want_start else None


def final_states(kept: Any) -> list[Array]:
    """``[h, c]`` after the last step, from what :func:`forward_steps` kept."""
    blocks, outputs = kept[0], kept[3]
    return [outputs[-1], blocks[-1, : outputs.shape[1]]]


def keras_layout(kept: Any) -> tuple[Array, Array | None, Array, Array, Array]:
    """What :func:`forward_steps` kept, in Keras' gate order and as separate
    arrays, for reading (glassnet.explain's tests use it as their oracle): ``(gates
    i, f, c, o (time, 4U, batch), their inputs (None with the default activations),
    c, a(c), h)``, each ``(time, U, batch)`` but the first two.

    >>> from glassnet.layers import LSTM
    >>> layer = LSTM(2)
    >>> _ = layer(np.ones((1, 3, 1)))
    >>> _ = layer.forward(np.ones((1, 3, 1)), keep_cache=True)
    >>> gates, _, cells, squashed, outputs = keras_layout(layer._cache.kept)
    >>> gates.shape, cells.shape, bool(np.allclose(np.tanh(cells), squashed))
    ((3, 8, 1), (3, 2, 1), True)
    """
    blocks, gate_inputs, squashed, outputs = kept
    units = outputs.shape[1]
    rows = keras_order(units) + units  # B[t]'s gate rows start after c_{t-1}
    gates = blocks[:-1, rows]
    inputs = None if gate_inputs is None else gate_inputs[:, rows - units]
    return gates, inputs, blocks[1:, :units], squashed, outputs
