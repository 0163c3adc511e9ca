"""The GRU's steps with ``reset_after=True`` (Keras' default), forward and back.

:class:`~glassnet.layers.GRU` states the math; this module runs it with few NumPy
calls per step (a GRU(64) step on a batch of 32 is about 0.1 ms of arithmetic, so
each call's microsecond counts). The tricks, each once:

**Folded bias.** ``R = h @ U + b_h`` feeds z and r only through ``X + R``, so
``b_h``'s z and r rows join ``b_x`` once per pass; per step only the candidate's
``R_h = (h @ U)_h + b_h[h]`` adds a bias (one add that also stores ``R_h``).

**Sigmoid as a tanh** (``layers/recurrent_ops.py``): with sigmoid gates the z and r
columns of ``W``, ``U`` and the folded bias are halved (exact in floating point),
so ``sigmoid(z) = 0.5 tanh(z / 2) + 0.5`` is one tanh and two passes.

**One backward buffer.** Each step's gradients are one ``(4U, batch)`` block
``E[t] = [dN, dZ, dR_r, dN * r]``: its first three rows are ``dX[t]`` (the input
side's gate gradient, in the order h, z, r) and its last three ``dR[t]`` (the
recurrent side's, in Keras' order z, r, h). So the state's gradient ``U @ dR[t]``
reads the buffer as it is, one ``as_matrix`` copy and one sum serve both weight
gradients and both bias rows, and only ``dW`` (and ``dx``'s kernel) is permuted
between the orders h, z, r and z, r, h, once per pass (``INPUT_SIDE``).

Measured here (``benchmarks/rnn_profile.py``, thread CPU time, a busy machine):
GRU(64)'s forward + backward on 32 x 50 x 16 went from 4.5-4.8 to 4.0-4.2 ms,
R2's training step 1.12-1.21x faster (with the long-side-inside weight products
of ``layers/recurrent_ops.py``).

>>> import numpy as np
>>> input_side_columns(1)     # dX's rows h, z, r hold Keras' columns 2, 0, 1
array([2, 0, 1])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from glassnet._typing import Array
from glassnet.layers.recurrent_arguments import Masks
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.recurrent_ops import (
    GateActivation,
    as_matrix,
    long_side_product,
    masked_input_grad,
    masked_matmul,
    masked_weight_grad,
    recurrent_kernel_grad,
)
from glassnet.layers.recurrent_states import Run

if TYPE_CHECKING:
    from glassnet.layers.gru import GRU

__all__ = ["backward_reset_after", "forward_reset_after", "input_side_columns"]

#: dX's gate blocks (the first three of E[t]) in Keras' block numbers z=0, r=1, h=2
INPUT_SIDE = (2, 0, 1)


def input_side_columns(units: int) -> Array:
    """For each of dX's rows (gates h, z, r), its column in Keras' ``W``."""
    return np.concatenate([np.arange(units) + b * units for b in INPUT_SIDE])


def _step_weights(layer: GRU, halve: bool) -> tuple[Array, Array, Array | None, Array]:
    """``W``, ``U``, the folded input-side bias ``b_x + [b_h(z, r), 0]`` (None
    without bias) and ``b_h``'s candidate row (zeros without bias); with ``halve``
    the z and r columns of the first three are halved (copies)."""
    units = layer.units
    kernel, recurrent = layer.params["W"], layer.params["recurrent_kernel"]
    folded = candidate_bias = None
    if layer.use_bias:
        b_x, b_h = layer.params["b"]
        folded = b_x.copy()
        folded[: 2 * units] += b_h[: 2 * units]
        candidate_bias = b_h[2 * units :]
    if halve:
        scale = np.ones(3 * units, dtype=kernel.dtype)
        scale[: 2 * units] = 0.5
        kernel, recurrent = kernel * scale, recurrent * scale
        folded = None if folded is None else folded * scale
    if candidate_bias is None:
        candidate_bias = np.zeros(units, dtype=kernel.dtype)
    return kernel, recurrent, folded, candidate_bias


def forward_reset_after(
    layer: GRU,
    xs: Array,
    masks: Masks,
    steps: StepMask | None,
    start: list[Array] | None,
) -> tuple[Array, tuple[Array, Array | None, Array, Array]]:
    """Every step of the recurrence (GRU's docstring, ``reset_after=True``). Returns
    the outputs h ``(time, U, batch)`` and ``(gates, gate inputs or None, R_h, h)``:
    the gates z, r, n as values, ``R_h`` each step's recurrent candidate term."""
    gate, squash = layer._gate, layer._squash
    units = layer.units
    halve = gate.kind == "sigmoid"
    kernel, recurrent, folded, candidate_bias = _step_weights(layer, halve)
    length, _, batch = xs.shape
    both = slice(0, 2 * units)
    gates = masked_matmul(kernel, xs, masks.inputs)  # every step's x W at once
    if folded is not None:
        gates += folded[:, None]
    keep_inputs = gate.needs_input or squash.needs_input
    gate_inputs = np.empty_like(gates) if keep_inputs else None
    r_hs = np.empty((length, units, batch), dtype=gates.dtype)
    outputs = np.empty_like(r_hs)
    h = np.zeros((units, batch), dtype=gates.dtype) if start is None else start[0]
    product, r_r_h = np.empty((3 * units, batch), gates.dtype), np.empty_like(h)
    for t in range(length):
        g = gates[t]
        if masks.recurrent is None:  # R = h @ U (+ b_h: folded, and below)
            np.matmul(recurrent.T, h, out=product)
        else:
            product = masked_matmul(recurrent, h, masks.recurrent)
        g[both] += product[both]
        if gate_inputs is not None:
            gate_inputs[t, both] = g[both]
        if halve:  # z, r = sigmoid: g holds half their inputs
            np.tanh(g[both], out=g[both])
            g[both] *= 0.5
            g[both] += 0.5
        else:
            gate.apply(g[both])
        # n = a(X_h + r * R_h), R_h = (h @ U)_h + b_h[h]
        np.add(product[2 * units :], candidate_bias[:, None], out=r_hs[t])
        np.multiply(g[units : 2 * units], r_hs[t], out=r_r_h)
        candidate = g[2 * units :]
        candidate += r_r_h
        if gate_inputs is not None:
            gate_inputs[t, 2 * units :] = candidate
        squash.apply(candidate)
        out = outputs[t]  # h_t = n + z * (h_{t-1} - n)
        np.subtract(h, candidate, out=out)
        out *= g[:units]
        out += candidate
        if steps is not None:  # h_t = where(real_t, h_new, h_{t-1})
            steps.carry(t, out, h)
        h = out
    return outputs, (gates, gate_inputs, r_hs, outputs)


def _grad_in_place(
    function: GateActivation, z: Array | None, y: Array, grad: Array, slope: Array
) -> None:
    """``grad *= f'(z)`` for a gate's values ``y = f(z)``; sigmoid and tanh inline
    (``y - y^2``, ``1 - y^2``) into the scratch ``slope``, others by the function."""
    if function.kind == "sigmoid":
        np.multiply(y, y, out=slope)
        np.subtract(y, slope, out=slope)
        grad *= slope
    elif function.kind == "tanh":
        np.multiply(y, y, out=slope)
        np.subtract(1, slope, out=slope)
        grad *= slope
    else:
        function.grad_in_place(z, y, grad)


def backward_reset_after(
    layer: GRU,
    run: Run,
    grad_seq: Array | None,
    grad_last: Array | None,
    input_grad: bool,
) -> tuple[Array | None, list[Array] | None]:
    """Backpropagation through time (GRU's docstring, ``reset_after=True``): fills
    ``grads`` (when trainable); returns ``(dxs, [dh0] or None)``."""
    # h_t = z * h_{t-1} + (1 - z) * n,  n = a(X_h + r * R_h),  z, r = s(X + R),
    # X = x W + b_x,  R = h_{t-1} U + b_h  =>  per step (t = T-1 .. 0):
    #   dh = dL/dh_t + dh_next,  dz = dh * (h_{t-1} - n),  dn = dh * (1 - z),
    #   dN = a'(.) dn,  dr = dN * R_h,  [dZ, dR_r] = s'(.) [dz, dr],
    #   dX[t] = [dN, dZ, dR_r] (h, z, r),  dR[t] = [dZ, dR_r, dN * r] (z, r, h),
    #   dh_next = dh * z + dR[t] @ U.T;
    # then dW = X.T dX, dU = H_prev.T dR, db_x = sum dX, db_h = sum dR, dx = dX @ W.T
    # (one GEMM or sum each, every step). A padding mask: h_t = r h_new + (1 - r)
    # h_{t-1}  =>  dh_new = r dh, dh_next += (1 - r) dh. dh0 = dh_next after t = 0
    xs, masks, (gates, gate_inputs, r_hs, outputs), steps, start = run
    gate, squash, units = layer._gate, layer._squash, layer.units
    recurrent = layer.params["recurrent_kernel"]
    length, _, batch = outputs.shape
    grad_steps = layer._scratch.empty(
        "grad_steps", (length, 4 * units, batch), xs.dtype
    )
    zeros = np.zeros((units, batch), dtype=xs.dtype)
    h0 = zeros if start is None else start[0]
    want_start = start is not None and input_grad
    dh_next = zeros if grad_last is None else grad_last
    slope = np.empty((2 * units, batch), dtype=xs.dtype)
    carried = None
    for t in range(length - 1, -1, -1):
        dh = dh_next if grad_seq is None else dh_next + grad_seq[t]
        if steps is not None:
            dh, carried = steps.split(t, dh)
        h_prev = outputs[t - 1] if t else h0
        g, e = gates[t], grad_steps[t]
        pre = None if gate_inputs is None else gate_inputs[t]
        z, r, n = g[:units], g[units : 2 * units], g[2 * units :]
        d_n, d_z, d_r = e[:units], e[units : 2 * units], e[2 * units : 3 * units]
        # h = z * h_prev + (1 - z) * n  =>  dz = dh * (h_prev - n),
        #     dn = dh - dh * z,  dh_prev gets dh * z
        through = dh * z
        np.subtract(h_prev, n, out=d_z)
        d_z *= dh
        np.subtract(dh, through, out=d_n)
        _grad_in_place(
            squash, None if pre is None else pre[2 * units :], n, d_n, slope[:units]
        )
        # X_h + r * R_h  =>  dr = dN * R_h,  d(R_h) = dN * r
        np.multiply(d_n, r_hs[t], out=d_r)
        np.multiply(d_n, r, out=e[3 * units :])
        # z, r = s(X + R)  =>  [dZ, dR_r] = s'(.) * [dz, dr]  (z, r: one block)
        _grad_in_place(
            gate,
            None if pre is None else pre[: 2 * units],
            g[: 2 * units],
            e[units : 3 * units],
            slope,
        )
        if t or want_start:  # the zero start needs no gradient
            # R = h_prev @ U + b_h  =>  dh_prev = dh * z + dR @ U.T
            through += masked_input_grad(recurrent, e[units:], masks.recurrent)
            if carried is not None:
                through += carried
        dh_next = through
    grad_start = [dh_next] if want_start else None
    columns = input_side_columns(units)
    if layer.trainable:
        _fill_grads(layer, run, grad_steps, h0 if start is not None else None, columns)
    if not input_grad:
        return None, grad_start
    kernel = layer.params["W"][:, columns]  # dX's order h, z, r
    return masked_input_grad(
        kernel, grad_steps[:, : 3 * units], _input_masks(masks)
    ), grad_start


def _input_masks(masks: Masks) -> Array | None:
    """The input dropout masks, one per gate put in dX's order h, z, r."""
    inputs = masks.inputs
    return inputs if inputs is None or len(inputs) == 1 else inputs[list(INPUT_SIDE)]


def _fill_grads(
    layer: GRU, run: Run, grad_steps: Array, h0: Array | None, columns: Array
) -> None:
    """``dW``, ``dU``, ``db_x`` and ``db_h`` from the steps' ``E`` blocks."""
    # X = x W + b_x  =>  dW = X.T dX, db_x = sum dX;  R = h_prev U + b_h  =>
    # dU = H_prev.T dR, db_h = sum dR  (dX = E[:, :3U] in the order h, z, r; dR = E[:, U:])
    units, grads = layer.units, layer.grads
    xs, masks, (_, _, _, outputs) = run.xs, run.masks, run.kept
    matrix = layer._matrix("grad_matrix", grad_steps)  # (4U, time x batch): one copy
    grad_x, grad_r = matrix[: 3 * units], matrix[units:]
    keras = np.argsort(columns)  # Keras' column j is dX's row keras[j]
    if masks.inputs is None:
        grads["W"][...] = long_side_product(as_matrix(xs), grad_x)[keras].T
    else:
        masked_weight_grad(xs, grad_x, _input_masks(masks), grads["W"])
        grads["W"][...] = grads["W"][:, keras]  # the right side is a copy
    recurrent_kernel_grad(
        outputs, grad_r, masks.recurrent, grads["recurrent_kernel"], h0
    )
    if layer.use_bias:
        sums = matrix.sum(axis=1)
        grads["b"][0] = sums[: 3 * units][keras]
        grads["b"][1] = sums[units:]
