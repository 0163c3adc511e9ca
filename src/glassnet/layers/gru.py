"""The GRU layer: gated recurrent units, with Keras 3's arguments and weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import activations
from glassnet._typing import Array
from glassnet._validation import check_bool
from glassnet.activations import ActivationFunction
from glassnet.layers.base import registry
from glassnet.layers.gru_steps import backward_reset_after, forward_reset_after
from glassnet.layers.recurrent import Recurrent
from glassnet.layers.recurrent_arguments import Masks, gate_flops
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.recurrent_ops import (
    GateActivation,
    masked_input_grad,
    masked_matmul,
    masked_weight_grad,
    recurrent_kernel_grad,
)
from glassnet.layers.recurrent_states import Run

__all__ = ["GRU"]


@registry.register("gru")
class GRU(Recurrent):
    """Gated Recurrent Unit (Cho et al., 2014), as Keras' GRU.

    The kernels hold three column blocks in Keras' order **z, r, h** (update,
    reset, candidate): ``W`` is ``(D, 3U)``, ``U`` (``recurrent_kernel``)
    ``(U, 3U)``. With ``reset_after=True`` (Keras' default, and PyTorch's form) the
    bias is ``(2, 3U)``: a row for the input side ``b_x`` and one for the recurrent
    side ``b_h``, and the reset gate multiplies the recurrent product::

        X = x_t @ W + b_x        R = h_{t-1} @ U + b_h                   (batch, 3U)
        z = s(X_z + R_z)         r = s(X_r + R_r)                 s: recurrent_activation
        n = a(X_h + r * R_h)                                     a: activation
        h_t = z * h_{t-1} + (1 - z) * n

    With ``reset_after=False`` the bias is ``(3U,)`` (input side only) and the reset
    gate multiplies the state before its product: ``n = a(X_h + (r * h_{t-1}) @ U_h)``.

    Backpropagation through time walks t = T-1 .. 0 carrying ``dh_next``::

        dh = dL/dh_t (from the output, where it reaches step t) + dh_next
        dz = dh * (h_{t-1} - n)     dn = dh * (1 - z)     dN = dn * a'(.)
        reset_after:   dr = dN * R_h;  dR = [dZ, dR_r, dN * r];  dh_next = dh * z + dR @ U.T
        reset_before:  d(r h) = dN @ U_h.T;  dr = d(r h) * h_{t-1};
                       dh_next = dh * z + d(r h) * r + [dZ, dR_r] @ U_zr.T

    (``dZ = dz * s'(.)`` and ``dR_r = dr * s'(.)``); then ``dW``, ``dU``, the biases and
    ``dX`` are one GEMM or sum each over every step. The state starts at zero, or
    at ``initial_state=h0`` (whose gradient is ``dh_next`` after t = 0). With a
    padding mask a masked step keeps ``h_{t-1}`` (``layers/recurrent_masks.py``):
    its gate gradients are 0 and ``dh`` passes straight to ``h_{t-1}``.

    Parameters
    ----------
    units, activation, recurrent_activation, use_bias, kernel_initializer,
    recurrent_initializer, bias_initializer, regularizers, constraints, dropout,
    recurrent_dropout, seed, return_sequences, return_state, go_backwards, stateful,
    unroll, zero_output_for_mask, use_cudnn
        As in :class:`~glassnet.layers.LSTM` (``return_state=True`` gives
        ``(output, h)``).
    reset_after : bool
        Apply the reset gate after the recurrent product (True, Keras' default and
        the cuDNN/PyTorch form) or before it (False, the original GRU).

    Examples
    --------
    >>> import numpy as np
    >>> layer = GRU(3, return_sequences=True)
    >>> layer.build((None, 2), np.random.default_rng(0), np.float64)
    >>> {key: value.shape for key, value in layer.params.items()}
    {'W': (2, 9), 'recurrent_kernel': (3, 9), 'b': (2, 9)}
    >>> layer.forward(np.ones((4, 7, 2))).shape
    (4, 7, 3)
    >>> GRU(3, reset_after=False).weight_shapes((None, 2))["b"]
    (9,)
    """

    gates = 3
    cell_name = "gru_cell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        reset_after: bool = True,
        use_cudnn: Any = "auto",
        *,
        zero_output_for_mask: bool = False,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            use_cudnn=use_cudnn,
            input_dim=input_dim,
            input_shape=input_shape,
            name=name,
            trainable=trainable,
        )
        self.recurrent_activation: ActivationFunction = activations.get(
            recurrent_activation
        )
        self.reset_after = check_bool(reset_after, "reset_after")
        self._gate = GateActivation(self.recurrent_activation, self.units)
        self._squash = GateActivation(self.activation, self.units)

    def _bias_shape(self) -> tuple[int, ...]:
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def _kept_per_step(self) -> list[tuple[str, int]]:
        recurrent = "R_h" if self.reset_after else "r * h"
        kept = [("gates", 3 * self.units), (recurrent, self.units)]
        if self._gate.needs_input or self._squash.needs_input:
            kept.append(("gate inputs", 3 * self.units))
        return [*kept, ("h", self.units)]

    def _step_flops(self) -> tuple[int, str] | None:
        """s on z, r; a on the candidate; ``r * R_h`` (or ``r * h``) and
        ``h = n + z * (h_prev - n)``."""
        return gate_flops(
            self.units, (2, self.recurrent_activation), (1, self.activation), (4, None)
        )

    # -- the recurrence ----------------------------------------------------------------
    def _run(
        self,
        xs: Array,
        masks: Masks,
        steps: StepMask | None,
        start: list[Array] | None,
    ) -> tuple[Array, Any]:
        """Every step of the recurrence (see the class docstring); time-major. A
        masked step keeps the state before it (``steps.carry``). With
        ``reset_after`` the steps are in ``layers/gru_steps.py``."""
        if self.reset_after:
            return forward_reset_after(self, xs, masks, steps, start)
        length, _, batch = xs.shape
        units = self.units
        gates = masked_matmul(self.params["W"], xs, masks.inputs)  # all steps at once
        if self.use_bias:
            gates += self.params["b"][:, None]
        keep_inputs = self._gate.needs_input or self._squash.needs_input
        gate_inputs = np.empty_like(gates) if keep_inputs else None
        recurrent = np.empty((length, units, batch), dtype=gates.dtype)
        outputs = np.empty_like(recurrent)
        h = np.zeros((units, batch), dtype=gates.dtype) if start is None else start[0]
        for t in range(length):
            g, pre = gates[t], None if gate_inputs is None else gate_inputs[t]
            self._gates_reset_before(g, h, masks, recurrent[t], pre)
            z, n = g[:units], g[2 * units :]
            np.subtract(h, n, out=outputs[t])  # h_t = n + z * (h_{t-1} - n)
            outputs[t] *= z
            outputs[t] += n
            if steps is not None:  # h_t = where(real_t, h_new, h_{t-1})
                steps.carry(t, outputs[t], h)
            h = outputs[t]
        return outputs, (gates, gate_inputs, recurrent, outputs)

    def _final_states(self, kept: Any) -> list[Array]:
        """``[h]`` after the last step."""
        return [kept[3][-1]]

    def _gates_reset_before(
        self, g: Array, h: Array, masks: Masks, r_h: Array, pre: Array | None
    ) -> None:
        """z, r, n into ``g`` (in place) with ``n = a(X_h + (r * h) @ U_h)``; keeps
        ``r * h`` (``h`` times its dropout mask, if any)."""
        units, kernel = self.units, self.params["recurrent_kernel"]
        both = slice(0, 2 * units)
        zr_masks = None if masks.recurrent is None else masks.recurrent[:2]
        g[both] += masked_matmul(kernel[:, both], h, zr_masks)
        if pre is not None:
            pre[both] = g[both]
        self._gate.apply(g[both])
        h_seen = h if masks.recurrent is None else h * masks.recurrent[2]
        np.multiply(g[units : 2 * units], h_seen, out=r_h)
        candidate = g[2 * units :]
        candidate += kernel[:, 2 * units :].T @ r_h
        if pre is not None:
            pre[2 * units :] = candidate
        self._squash.apply(candidate)

    def _run_backward(
        self,
        run: Run,
        grad_seq: Array | None,
        grad_last: Array | None,
        grad_cell: Array | None,
        input_grad: bool,
    ) -> tuple[Array | None, list[Array] | None]:
        """Backpropagation through time (the recurrences in the class docstring);
        with ``reset_after`` in ``layers/gru_steps.py``."""
        # h_t = z * h_{t-1} + (1 - z) * n, with z, r, n gates of X = x W + b and of
        # the state  =>  per step (t = T-1 .. 0): dX[t] from dh, then dh_next;
        # then dW = X.T dX, dU = H_prev.T dX blockwise, db = sum dX,
        # dx = dX @ W.T (one GEMM each, over every step).
        # A padding mask: h_t = r h_new + (1 - r) h_{t-1}  =>  dh_new = r dh,
        #   dh_next += (1 - r) dh.  The initial state is h_{-1}: dh0 = dh_next after t = 0
        if self.reset_after:
            return backward_reset_after(self, run, grad_seq, grad_last, input_grad)
        xs, masks, (gates, gate_inputs, recurrent, outputs), steps, start = run
        units = self.units
        grad_gates = self._scratch_like("grad_gates", gates)
        zeros = np.zeros(outputs.shape[1:], dtype=gates.dtype)
        h0 = zeros if start is None else start[0]
        want_start = start is not None and input_grad
        dh_next = zeros if grad_last is None else grad_last
        carried = None
        for t in range(len(outputs) - 1, -1, -1):
            dh = dh_next if grad_seq is None else dh_next + grad_seq[t]
            if steps is not None:
                dh, carried = steps.split(t, dh)
            h_prev = outputs[t - 1] if t else h0
            g, dg = gates[t], grad_gates[t]
            pre = None if gate_inputs is None else gate_inputs[t]
            z, r, n = g[:units], g[units : 2 * units], g[2 * units :]
            # h = z * h_prev + (1 - z) * n  =>  dz = dh * (h_prev - n),
            #     dn = dh * (1 - z),  dh_prev gets dh * z
            np.subtract(h_prev, n, out=dg[:units])
            dg[:units] *= dh
            np.subtract(dh, dh * z, out=dg[2 * units :])
            z_in = None if pre is None else pre[2 * units :]
            self._squash.grad_in_place(z_in, n, dg[2 * units :])
            dh_next = dh * z
            dh_next += self._reset_before_back(dg, r, h_prev, masks)
            z_in = None if pre is None else pre[: 2 * units]
            self._gate.grad_in_place(z_in, g[: 2 * units], dg[: 2 * units])
            if t or want_start:  # the zero start needs no gradient
                dh_next += self._state_grad(dg, masks)
                if carried is not None:
                    dh_next += carried
        grad_start = [dh_next] if want_start else None
        if not self.trainable:
            return self._input_side_grads(xs, grad_gates, masks, input_grad), grad_start
        grad_matrix = self._matrix("grad_matrix", grad_gates)  # for the GEMMs
        self._fill_recurrent_grads(grad_matrix, recurrent, outputs, masks, start)
        grad_xs = self._input_side_grads(xs, grad_gates, masks, input_grad, grad_matrix)
        return grad_xs, grad_start

    def _state_grad(self, dg: Array, masks: Masks) -> Array:
        """The gradient of ``h_{t-1}`` through the z and r products of step t."""
        kernel, both = self.params["recurrent_kernel"], slice(0, 2 * self.units)
        # z, r: h_prev @ U_zr  =>  dh_prev = [dZ, dR_r] @ U_zr.T
        zr_masks = None if masks.recurrent is None else masks.recurrent[:2]
        return masked_input_grad(kernel[:, both], dg[both], zr_masks)

    def _reset_before_back(
        self, dg: Array, r: Array, h_prev: Array, masks: Masks
    ) -> Array:
        """Through ``n = a(X_h + (r * h_seen) @ U_h)``: ``dr`` into ``dg``; returns the
        state's gradient through this product."""
        units, kernel = self.units, self.params["recurrent_kernel"]
        # (r * h_seen) @ U_h  =>  d(r h) = dN @ U_h.T,  dr = d(r h) * h_seen,
        #                         dh_seen = d(r h) * r  (times the mask: dh)
        d_rh = kernel[:, 2 * units :] @ dg[2 * units :]
        mask = None if masks.recurrent is None else masks.recurrent[2]
        h_seen = h_prev if mask is None else h_prev * mask
        np.multiply(d_rh, h_seen, out=dg[units : 2 * units])
        d_h = d_rh * r
        return d_h if mask is None else d_h * mask

    def _fill_recurrent_grads(
        self,
        grad_matrix: Array,
        recurrent: Array,
        outputs: Array,
        masks: Masks,
        start: list[Array] | None,
    ) -> None:
        """``dU`` with ``reset_after=False`` (``grad_matrix`` is ``as_matrix(dX)``);
        ``start`` holds ``h0`` (None: the zero start)."""
        units, d_kernel = self.units, self.grads["recurrent_kernel"]
        h0 = None if start is None else start[0]
        # z, r: h_prev @ U_zr  =>  dU_zr = H_prev.T @ [dZ, dR_r];
        # n: (r * h_seen) @ U_h  =>  dU_h = (r * h_seen).T @ dN  (h0 at t = 0)
        both = slice(0, 2 * units)
        zr_masks = None if masks.recurrent is None else masks.recurrent[:2]
        recurrent_kernel_grad(
            outputs, grad_matrix[both], zr_masks, d_kernel[:, both], h0
        )
        masked_weight_grad(
            recurrent, grad_matrix[2 * units :], None, d_kernel[:, 2 * units :]
        )

    def get_config(self) -> dict[str, Any]:
        """Keras' GRU config."""
        config = super().get_config()
        config.update(
            recurrent_activation=activations.serialize(self.recurrent_activation),
            reset_after=self.reset_after,
        )
        return config
