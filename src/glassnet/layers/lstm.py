"""The LSTM layer: long short-term memory, with Keras 3's arguments and weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import activations
from glassnet._typing import Array
from glassnet._validation import check_bool
from glassnet.activations import ActivationFunction
from glassnet.layers.base import registry
from glassnet.layers.lstm_steps import (
    backward_steps,
    final_states,
    forward_steps,
    keras_order,
    step_kernels,
    step_masks,
)
from glassnet.layers.recurrent import Recurrent
from glassnet.layers.recurrent_arguments import Masks, gate_flops
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.recurrent_ops import GateActivation
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
    arrays (feature-major, see ``layers/recurrent_ops.py``; each step's cell state
    and gates in one block, gates in the order g, i, f, o: ``layers/lstm_steps.py``).

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
    # The steps themselves are in layers/lstm_steps.py: one (5U, batch) block per
    # step, gates in the order g, i, f, o, few NumPy calls (its docstring says why).
    def _one_tanh(self) -> bool:
        """Whether all four gates can go through one tanh (sigmoid gates, tanh
        activation: the defaults); see ``layers/lstm_steps.py``."""
        return self._gate.kind == "sigmoid" and self._squash.kind == "tanh"

    def _run(
        self,
        xs: Array,
        masks: Masks,
        steps: StepMask | None,
        start: list[Array] | None,
    ) -> tuple[Array, Any]:
        """Every step of the recurrence (see the class docstring); time-major. A
        masked step keeps the states before it (``steps.carry``)."""
        weights = step_kernels(
            self.params["W"],
            self.params["recurrent_kernel"],
            self.params.get("b"),
            self.units,
            halve=self._one_tanh(),
        )
        activations = (self._gate, self._squash)
        return forward_steps(xs, weights, step_masks(masks), steps, start, activations)

    def _final_states(self, kept: Any) -> list[Array]:
        """``[h, c]`` after the last step."""
        return final_states(kept)

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
        # dh_next = dG[t] @ U.T, dc_next = dc * f (lstm_steps.backward_steps);
        # then dW = X.T dG, dU = H_prev.T dG, db = sum dG, dX = dG @ W.T (one GEMM
        # each, all steps: _shared_grads). dG's rows are in the order g, i, f, o:
        # the gradients go back to Keras' i, f, c, o columns (keras_order).
        # The initial states are h_{-1}, c_{-1}: dh0, dc0 are dh_next, dc_next after t = 0
        kernel, recurrent, _ = step_kernels(
            self.params["W"], self.params["recurrent_kernel"], None, self.units, False
        )
        masks = step_masks(run.masks)
        outputs = run.kept[3]
        grad_gates = self._scratch_like("grad_gates", run.kept[0][:-1, self.units :])
        grad_start = backward_steps(
            run.kept,
            grad_seq,
            grad_last,
            grad_cell,
            recurrent,
            masks,
            run.steps,
            run.start is not None and input_grad,
            (self._gate, self._squash),
            grad_gates,
        )
        grad_xs = self._shared_grads(
            run._replace(masks=masks),
            outputs,
            grad_gates,
            input_grad,
            kernel,
            keras_order(self.units),
        )
        return grad_xs, grad_start

    def get_config(self) -> dict[str, Any]:
        """Keras' LSTM config."""
        config = super().get_config()
        config.update(
            recurrent_activation=activations.serialize(self.recurrent_activation),
            unit_forget_bias=self.unit_forget_bias,
        )
        return config
