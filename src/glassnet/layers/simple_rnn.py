"""The SimpleRNN layer: a fully connected recurrence, with Keras 3's arguments."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.layers.base import registry
from glassnet.layers.recurrent import Recurrent
from glassnet.layers.recurrent_arguments import Masks, gate_flops
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.recurrent_ops import (
    GateActivation,
    masked_input_grad,
    masked_matmul,
)
from glassnet.layers.recurrent_states import Run

__all__ = ["SimpleRNN"]


@registry.register("simple_rnn")
class SimpleRNN(Recurrent):
    """The Elman recurrence, as Keras' SimpleRNN: ``h_t = a(x_t @ W + h_{t-1} @ U + b)``.

    ``W`` is ``(D, U)``, ``U`` (``recurrent_kernel``) ``(U, U)``, ``b`` ``(U,)``; the
    state starts at zero (or ``initial_state=h0``, whose gradient is ``dh_next``
    after t = 0). Backpropagation through time walks t = T-1 .. 0::

        dh = dL/dh_t (from the output, where it reaches step t) + dh_next
        dZ[t] = a'(Z[t]) * dh                       Z[t] = x_t W + h_{t-1} U + b
        dh_next = dZ[t] @ U.T

    then ``dW = X.T @ dZ``, ``dU = H_prev.T @ dZ``, ``db = sum of dZ`` and
    ``dX = dZ @ W.T`` over every step at once. With a padding mask a masked step
    keeps ``h_{t-1}`` (``layers/recurrent_masks.py``): its ``dZ[t]`` is 0 and ``dh``
    passes straight to ``h_{t-1}``.

    Parameters
    ----------
    units, activation, use_bias, kernel_initializer, recurrent_initializer,
    bias_initializer, regularizers, constraints, dropout, recurrent_dropout,
    return_sequences, return_state, go_backwards, stateful, unroll, seed,
    zero_output_for_mask
        As in :class:`~glassnet.layers.LSTM` (SimpleRNN has one gate: its dropout
        masks are one for ``x`` and one for ``h``, as in Keras;
        ``return_state=True`` gives ``(output, h)``).

    Examples
    --------
    >>> import numpy as np
    >>> layer = SimpleRNN(2, activation="linear", use_bias=False,
    ...                   kernel_initializer="ones", recurrent_initializer="ones")
    >>> layer.build((3, 1), np.random.default_rng(0), np.float64)
    >>> layer.forward(np.array([[[1.0], [1.0], [1.0]]]))  # h: 1, 1 + 2, 1 + 2 * 3
    array([[7., 7.]])
    """

    gates = 1
    cell_name = "simple_rnn_cell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
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
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
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
            use_cudnn="auto",
            input_dim=input_dim,
            input_shape=input_shape,
            name=name,
            trainable=trainable,
        )
        self._squash = GateActivation(self.activation, self.units)

    def _kept_per_step(self) -> list[tuple[str, int]]:
        if self._squash.needs_input:
            return [("Z", self.units), ("h", self.units)]
        return [("h", self.units)]

    def _step_flops(self) -> tuple[int, str] | None:
        """The activation of the new state."""
        return gate_flops(self.units, (1, self.activation))

    def _run(
        self,
        xs: Array,
        masks: Masks,
        steps: StepMask | None,
        start: list[Array] | None,
    ) -> tuple[Array, Any]:
        """``h_t = a(Z[t])``, ``Z[t] = x_t W + b`` (all steps at once) ``+ h_{t-1} U``,
        or ``h_{t-1}`` on a masked step.

        ``Z`` is overwritten by ``h`` step by step: the outputs are that array.
        """
        kernel = self.params["recurrent_kernel"]
        outputs = masked_matmul(self.params["W"], xs, masks.inputs)
        if self.use_bias:
            outputs += self.params["b"][:, None]
        inputs = np.empty_like(outputs) if self._squash.needs_input else None
        h = np.zeros(outputs.shape[1:], dtype=outputs.dtype)
        if start is not None:
            h = start[0]
        for t in range(len(outputs)):
            z = outputs[t]
            z += masked_matmul(kernel, h, masks.recurrent)
            if inputs is not None:
                inputs[t] = z
            self._squash.apply(z)
            if steps is not None:  # h_t = where(real_t, a(Z[t]), h_{t-1})
                steps.carry(t, z, h)
            h = z
        return outputs, (inputs, outputs)

    def _final_states(self, kept: Any) -> list[Array]:
        """``[h]`` after the last step."""
        return [kept[1][-1]]

    def _run_backward(
        self,
        run: Run,
        grad_seq: Array | None,
        grad_last: Array | None,
        grad_cell: Array | None,
        input_grad: bool,
    ) -> tuple[Array | None, list[Array] | None]:
        """Backpropagation through time (the recurrence in the class docstring)."""
        # h_t = a(Z[t]), Z[t] = x_t W + h_{t-1} U + b  =>  dZ[t] = a'(Z[t]) dh,
        # dh_next = dZ[t] @ U.T; then dW = X.T dZ, dU = H_prev.T dZ, db = sum dZ,
        # dX = dZ @ W.T (one GEMM each, over every step). A padding mask:
        # h_t = r h_new + (1 - r) h_{t-1}  =>  dh_new = r dh, dh_next += (1 - r) dh.
        # The initial state is h_{-1}: dh0 = dh_next after t = 0
        _, masks, (inputs, outputs), steps, start = run
        kernel = self.params["recurrent_kernel"]
        grad_z = self._scratch_like("grad_z", outputs)
        want_start = start is not None and input_grad
        dh_next = np.zeros_like(outputs[0]) if grad_last is None else grad_last
        carried = None
        for t in range(len(outputs) - 1, -1, -1):
            dh = dh_next if grad_seq is None else dh_next + grad_seq[t]
            if steps is not None:
                dh, carried = steps.split(t, dh)
            z = None if inputs is None else inputs[t]
            grad_z[t] = dh
            self._squash.grad_in_place(z, outputs[t], grad_z[t])
            if t or want_start:  # the zero start needs no gradient
                dh_next = masked_input_grad(kernel, grad_z[t], masks.recurrent)
                if carried is not None:
                    dh_next += carried
        grad_start = [dh_next] if want_start else None
        kernel = self.params["W"]
        grad_xs = self._shared_grads(run, outputs, grad_z, input_grad, kernel)
        return grad_xs, grad_start

    def get_config(self) -> dict[str, Any]:
        """Keras' SimpleRNN config: Keras leaves ``seed`` out; glassnet writes it only
        when one is set."""
        config = super().get_config()
        if self.seed is None:
            del config["seed"]
        return config
