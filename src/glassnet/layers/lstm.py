"""The LSTM layer: long short-term memory, with Keras 3's arguments and weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import activations
from glassnet._typing import Array
from glassnet._validation import check_bool
from glassnet.activations import ActivationFunction
from glassnet.layers.base import registry
from glassnet.layers.recurrent import Recurrent
from glassnet.layers.recurrent_arguments import Masks, gate_flops
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.recurrent_ops import (
    GateActivation,
    halved_sigmoid_columns,
    masked_input_grad,
    masked_matmul,
    one_tanh_gates,
    recurrent_kernel_grad,
)
from glassnet.layers.recurrent_states import Run

__all__ = ["LSTM"]


@registry.register("lstm")
class LSTM(Recurrent):
    """Long Short-Term Memory (Hochreiter and Schmidhuber, 1997), as Keras' LSTM.

    One step reads ``x_t`` and the previous hidden and cell states ``h, c`` (zeros
    at the first step, or ``initial_state=[h0, c0]``). The kernels hold the four
    gates as column blocks in Keras' order **i, f, c, o** (input, forget,
    candidate, output): ``W`` is ``(D, 4U)``, ``U`` (``recurrent_kernel``)
    ``(U, 4U)``, ``b`` ``(4U,)``::

        G = x_t @ W + h_{t-1} @ U + b                            (batch, 4U)
        i = s(G_i)   f = s(G_f)   g = a(G_c)   o = s(G_o)      s: recurrent_activation
        c_t = f * c_{t-1} + i * g                                a: activation
        h_t = o * a(c_t)

    **Backpropagation through time** walks t = T-1 .. 0, carrying the gradients of
    the two states into the step before (``dh_next``, ``dc_next``, zero at T-1)::

        dh = dL/dh_t (from the output, where it reaches step t) + dh_next
        do = dh * a(c_t)
        dc = dc_next + dh * o * a'(c_t)
        di = dc * g        df = dc * c_{t-1}        dg = dc * i
        dG[t] = [di * s'(G_i), df * s'(G_f), dg * a'(G_c), do * s'(G_o)]
        dh_next = dG[t] @ U.T        dc_next = dc * f

    (at t = T-1, ``dh_next`` and ``dc_next`` are the gradients of the returned
    states with ``return_state``; after t = 0 they are those of ``h0`` and ``c0``)
    and then, over every step at once, ``dW = X.T @ dG``, ``dU = H_prev.T @ dG``
    (``H_prev`` the states h_{t-1}), ``db = sum of dG`` and ``dX = dG @ W.T``: one GEMM
    each. The forward pass keeps the gates (overwritten in place by their values),
    the cell states, ``a(c)`` and the outputs in preallocated ``(time, ..., batch)``
    arrays (feature-major, see ``layers/recurrent_ops.py``).

    With a padding mask a masked step keeps ``h_{t-1}`` and ``c_{t-1}``
    (``layers/recurrent_masks.py``): its ``dG[t]`` is 0, and ``dh``, ``dc`` pass
    straight to the step before.

    Parameters
    ----------
    units : int
        Size of the hidden state (and of the output).
    activation : str or ActivationFunction
        ``a`` above, for the candidate and the cell output (default tanh).
    recurrent_activation : str or ActivationFunction
        ``s`` above, for the three gates (default sigmoid).
    use_bias : bool
        Whether the gates add ``b``.
    kernel_initializer, recurrent_initializer, bias_initializer
        Keras' defaults: glorot_uniform, orthogonal, zeros.
    unit_forget_bias : bool
        Start the forget gate's bias at 1 (Keras' default, True).
    kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer
        Penalties added to the loss (:mod:`glassnet.regularizers`).
    kernel_constraint, recurrent_constraint, bias_constraint
        Projections after every update (:mod:`glassnet.constraints`).
    dropout, recurrent_dropout : float in [0, 1)
        While training, the share of the inputs (of the state) zeroed in the
        products with ``W`` (with ``U``), with masks drawn once per sequence as
        Keras does: one mask for ``x``, or one per gate when ``recurrent_dropout``
        is set.
    seed : int, optional
        Seed of the dropout masks (else the model's generator).
    return_sequences : bool
        Output every step's ``h`` ``(batch, time, units)``, or the last ``(batch,
        units)``.
    return_state : bool
        Also return the last states: a call gives ``(output, h, c)``
        (``layers/recurrent_states.py``; ``initial_state=[h0, c0]`` starts from
        given states).
    go_backwards : bool
        Read the sequence from its end; the output sequence comes out reversed.
    stateful : bool
        Only False for now: every batch starts from zero states.
    unroll : bool
        Accepted; glassnet always loops over the steps (the same computation).
    zero_output_for_mask : bool
        With a padding mask (``Masking``, ``Embedding(mask_zero=True)``), whether a
        masked step outputs zeros (True; ``Bidirectional`` sets it when it returns
        sequences) or repeats the previous output (False, Keras' default). The state
        is carried over a masked step either way.
    use_cudnn : {"auto", False}
        Accepted for Keras code; glassnet has no cuDNN.

    Examples
    --------
    >>> import numpy as np
    >>> layer = LSTM(3)
    >>> layer.build((5, 2), np.random.default_rng(0), np.float64)
    >>> {key: value.shape for key, value in layer.params.items()}
    {'W': (2, 12), 'recurrent_kernel': (3, 12), 'b': (12,)}
    >>> layer.params["b"].reshape(4, 3)[1]            # unit_forget_bias
    array([1., 1., 1.])
    >>> layer.forward(np.ones((4, 5, 2))).shape
    (4, 3)
    """

    gates = 4
    cell_name = "lstm_cell"
    state_names = ("h", "c")

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
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
        self.unit_forget_bias = check_bool(unit_forget_bias, "unit_forget_bias")
        self._gate = GateActivation(self.recurrent_activation, self.units)
        self._squash = GateActivation(self.activation, self.units)

    def _initial_bias(
        self, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any
    ) -> Array:
        """Keras' draw: the forget block is ones when ``unit_forget_bias``."""
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, rng, dtype)
        units = self.units
        return np.concatenate(
            [
                self.bias_initializer((units,), rng, dtype),
                np.ones(units, dtype=dtype),
                self.bias_initializer((2 * units,), rng, dtype),
            ]
        )

    def _kept_per_step(self) -> list[tuple[str, int]]:
        kept = [("gates", 4 * self.units), ("c", self.units), ("a(c)", self.units)]
        if self._gate.needs_input or self._squash.needs_input:
            kept.append(("gate inputs", 4 * self.units))
        return [*kept, ("h", self.units)]

    def _step_flops(self) -> tuple[int, str] | None:
        """s on i, f, o; a on the candidate and on c; ``f * c + i * g``, ``o * a(c)``."""
        return gate_flops(
            self.units,
            (3, self.recurrent_activation),
            (2, self.activation),
            (4, None),
        )

    # -- the recurrence ----------------------------------------------------------------
    def _run(
        self,
        xs: Array,
        masks: Masks,
        steps: StepMask | None,
        start: list[Array] | None,
    ) -> tuple[Array, Any]:
        """Every step of the recurrence (see the class docstring); time-major, with
        each step's gates as row blocks ``i, f, c, o`` of a ``(4U, batch)`` array.
        A masked step keeps the states before it (``steps.carry``)."""
        length, _, batch = xs.shape
        units = self.units
        kernel, recurrent, bias = self._kernels()
        gates = masked_matmul(kernel, xs, masks.inputs)  # every step's W.T x at once
        if bias is not None:
            gates += bias[:, None]
        keep_inputs = self._gate.needs_input or self._squash.needs_input
        gate_inputs = np.empty_like(gates) if keep_inputs else None
        cells = np.empty((length, units, batch), dtype=gates.dtype)
        squashed, outputs = np.empty_like(cells), np.empty_like(cells)
        h = c = np.zeros((units, batch), dtype=gates.dtype)
        if start is not None:
            h, c = start
        for t in range(length):
            g = gates[t]
            g += masked_matmul(recurrent, h, masks.recurrent)
            if gate_inputs is not None:
                gate_inputs[t] = g
            self._activate(g)
            c_prev, h_prev = c, h
            c, h = self._step(g, c, cells[t], squashed[t], outputs[t])
            if steps is not None:  # c_t, h_t = where(real_t, new, before)
                steps.carry(t, c, c_prev)
                steps.carry(t, h, h_prev)
        return outputs, (gates, gate_inputs, cells, squashed, outputs)

    def _final_states(self, kept: Any) -> list[Array]:
        """``[h, c]`` after the last step."""
        cells, outputs = kept[2], kept[4]
        return [outputs[-1], cells[-1]]

    def _one_tanh(self) -> bool:
        """Whether all four gates can go through one tanh (sigmoid gates, tanh
        activation: the defaults); see :meth:`_kernels`."""
        return self._gate.kind == "sigmoid" and self._squash.kind == "tanh"

    def _kernels(self) -> tuple[Array, Array, Array | None]:
        """``W``, ``U`` and ``b`` for the forward pass: with the default
        activations, copies made for one tanh over all gates
        (:func:`~glassnet.layers.recurrent_ops.halved_sigmoid_columns`)."""
        kernel, recurrent = self.params["W"], self.params["recurrent_kernel"]
        bias = self.params.get("b")
        if not self._one_tanh():
            return kernel, recurrent, bias
        return halved_sigmoid_columns(kernel, recurrent, bias, self.units)

    def _activate(self, g: Array) -> None:
        """The gate values, in place: s on i and f (one block), a on c, s on o."""
        units = self.units
        if self._one_tanh():  # g holds z / 2 for i, f, o: see _kernels
            one_tanh_gates(g, units)
            return
        self._gate.apply(g[: 2 * units])
        self._squash.apply(g[2 * units : 3 * units])
        self._gate.apply(g[3 * units :])

    def _step(
        self, g: Array, c_prev: Array, c: Array, a_c: Array, h: Array
    ) -> tuple[Array, Array]:
        """``c = f * c_prev + i * g`` and ``h = o * a(c)``, into the step's rows."""
        units = self.units
        i, f = g[:units], g[units : 2 * units]
        candidate, o = g[2 * units : 3 * units], g[3 * units :]
        np.multiply(f, c_prev, out=c)
        c += i * candidate
        self._squash.apply(c, out=a_c)
        np.multiply(o, a_c, out=h)
        return c, h

    def _run_backward(
        self,
        run: Run,
        grad_seq: Array | None,
        grad_last: Array | None,
        grad_cell: Array | None,
        input_grad: bool,
    ) -> tuple[Array | None, list[Array] | None]:
        """Backpropagation through time (the recurrences in the class docstring)."""
        # h_t = o * a(c_t), c_t = f * c_{t-1} + i * g, gates = s or a of
        # G = x W + h_{t-1} U + b  =>  per step (t = T-1 .. 0): dG[t] from dh, dc;
        # dh_next = dG[t] @ U.T, dc_next = dc * f; then dW = X.T dG,
        # dU = H_prev.T dG, db = sum dG, dX = dG @ W.T (one GEMM each, all steps).
        # A padding mask: h_t = r h_new + (1 - r) h_{t-1} (c_t likewise)  =>
        #   dh_new = r dh, dc_new = r dc;  dh_next += (1 - r) dh, dc_next += (1 - r) dc
        # The initial states are h_{-1}, c_{-1}: dh0, dc0 are dh_next, dc_next after t = 0
        xs, masks, (gates, gate_inputs, cells, squashed, outputs), steps, start = run
        kernel = self.params["recurrent_kernel"]
        grad_gates = self._scratch_like("grad_gates", gates)
        zeros = np.zeros(cells.shape[1:], dtype=gates.dtype)
        h0, c0 = (zeros, zeros) if start is None else start
        want_start = start is not None and input_grad
        dh_next = zeros if grad_last is None else grad_last
        dc_next = zeros if grad_cell is None else grad_cell
        carried_h = carried_c = None
        for t in range(len(cells) - 1, -1, -1):
            dh = dh_next if grad_seq is None else dh_next + grad_seq[t]
            if steps is not None:
                dh, carried_h = steps.split(t, dh)
                dc_next, carried_c = steps.split(t, dc_next)
            c_prev = cells[t - 1] if t else c0
            pre = None if gate_inputs is None else gate_inputs[t]
            dc_next = self._step_backward(
                gates[t], pre, cells[t], squashed[t], c_prev, dh, dc_next, grad_gates[t]
            )
            if t or want_start:  # the zero start needs no gradient
                dh_next = masked_input_grad(kernel, grad_gates[t], masks.recurrent)
                if carried_h is not None:
                    dh_next += carried_h
                    dc_next += carried_c
        grad_start = [dh_next, dc_next] if want_start else None
        if not self.trainable:
            return self._input_side_grads(xs, grad_gates, masks, input_grad), grad_start
        grad_matrix = self._matrix("grad_matrix", grad_gates)  # for the GEMMs
        recurrent_kernel_grad(
            outputs,
            grad_matrix,
            masks.recurrent,
            self.grads["recurrent_kernel"],
            None if start is None else h0,
        )
        grad_xs = self._input_side_grads(xs, grad_gates, masks, input_grad, grad_matrix)
        return grad_xs, grad_start

    def _step_backward(
        self,
        g: Array,
        pre: Array | None,
        c: Array,
        a_c: Array,
        c_prev: Array,
        dh: Array,
        dc: Array,
        dg: Array,
    ) -> Array:
        """One step back: fills ``dg`` (the step's dG) and returns ``dc_next``."""
        units = self.units
        i, f = g[:units], g[units : 2 * units]
        candidate, o = g[2 * units : 3 * units], g[3 * units :]
        # h = o * a(c)  =>  do = dh * a(c),  dc += a'(c) * (dh * o)
        np.multiply(dh, a_c, out=dg[3 * units :])
        through_h = dh * o
        self._squash.grad_in_place(c, a_c, through_h)
        dc = dc + through_h
        # c = f * c_prev + i * g  =>  di = dc * g,  df = dc * c_prev,  dg = dc * i
        np.multiply(dc, candidate, out=dg[:units])
        np.multiply(dc, c_prev, out=dg[units : 2 * units])
        np.multiply(dc, i, out=dg[2 * units : 3 * units])
        # gate = s(G) or a(G)  =>  dG = s'(G) * d(gate)
        for function, block in (
            (self._gate, slice(0, 2 * units)),
            (self._squash, slice(2 * units, 3 * units)),
            (self._gate, slice(3 * units, 4 * units)),
        ):
            z = None if pre is None else pre[block]
            function.grad_in_place(z, g[block], dg[block])
        return dc * f

    def get_config(self) -> dict[str, Any]:
        """Keras' LSTM config."""
        config = super().get_config()
        config.update(
            recurrent_activation=activations.serialize(self.recurrent_activation),
            unit_forget_bias=self.unit_forget_bias,
        )
        return config
