"""``RecurrentPasses``: the forward and backward passes every recurrent layer shares.

:class:`~glassnet.layers.recurrent.Recurrent` (its arguments, weights and config)
builds on this class; SimpleRNN, LSTM and GRU add their steps. Here is what
happens around the steps, forward and back:

- the input ``(batch, time, features)`` becomes time-major and feature-major once,
  ``(time, features, batch)``, reversed in time for ``go_backwards``
  (``layers/recurrent_ops.py`` says why), and the outputs come back batch-major;
- the padding mask becomes a :class:`~glassnet.layers.recurrent_masks.StepMask`,
  the dropout masks are drawn (only while training), and the initial states
  (``initial_state=``) are checked and laid out like a step's state;
- the subclass runs the steps (``_run``) and back-propagates through them
  (``_run_backward``), and the weight and input gradients of every step's
  products finish with one GEMM each (:meth:`RecurrentPasses._shared_grads` when
  both kernels see the same dG, :meth:`RecurrentPasses._input_side_grads`);
- ``return_sequences`` and ``return_state`` pick what comes out, and backward
  routes each output's gradient to the steps that made it
  (``layers/recurrent_states.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from glassnet._typing import Array
from glassnet.errors import ShapeError
from glassnet.layers.im2col import Workspace
from glassnet.layers.random_layer import RandomLayer
from glassnet.layers.recurrent_arguments import Masks, draw_dropout_masks
from glassnet.layers.recurrent_masks import StepMask
from glassnet.layers.recurrent_ops import (
    as_matrix,
    masked_input_grad,
    masked_weight_grad,
    recurrent_kernel_grad,
    stacked_kernel_grads,
)
from glassnet.layers.recurrent_states import (
    Run,
    call_with_states,
    output_grads,
    output_weights,
    start_states,
)

__all__ = ["RecurrentPasses"]


class RecurrentPasses(RandomLayer):
    """The passes of a recurrent layer (see the module docstring); the arguments
    they read are set by :class:`~glassnet.layers.recurrent.Recurrent`."""

    gates: ClassVar[int] = 1
    units: int
    dropout: float
    recurrent_dropout: float
    return_sequences: bool
    return_state: bool
    go_backwards: bool
    zero_output_for_mask: bool
    use_bias: bool
    state_names: ClassVar[tuple[str, ...]] = ("h",)
    #: backward's scratch arrays (dG and its matrix form), reused from one step to
    #: the next: never kept in a cache or returned (see _scratch_like)
    _scratch: Workspace

    def __call__(
        self,
        inputs: Any,
        training: Any = None,
        mask: Any = None,
        initial_state: Any = None,
    ) -> Any:
        """As :meth:`Layer.__call__`, and ``initial_state``: the states to start
        from (``layers/recurrent_states.py``), tensors or arrays as ``inputs`` are."""
        if initial_state is None:
            return super().__call__(inputs, training, mask)
        return call_with_states(self, inputs, training, mask, initial_state)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The input's mask with ``return_sequences``, else None (as Keras); the
        returned states have none."""
        output_mask = mask if self.return_sequences else None
        if not self.return_state:
            return output_mask
        return [output_mask, *(None for _ in self.state_names)]

    def forward(
        self,
        x: Array,
        *,
        training: bool = False,
        keep_cache: bool = False,
        mask: Any = None,
        initial_state: Any = None,
    ) -> Any:
        """Run the steps over ``x`` (batch, time, features) from ``initial_state``
        (zeros when None), skipping the steps ``mask`` marks False; with
        ``return_state``, ``(output, *states)``. See the module docstring."""
        xs = self._time_major(x)
        steps = start = None
        if mask is not None:
            steps = StepMask.of(mask, len(x), len(xs), self.go_backwards, xs.dtype)
        if initial_state is not None:
            start = start_states(self, initial_state, len(x), xs.dtype)
        masks = draw_dropout_masks(self, xs, training)
        outputs, kept = self._run(xs, masks, steps, start)  # (time, units, batch)
        keep = training or keep_cache
        self._cache = Run(xs, masks, kept, steps, start) if keep else None
        weights = output_weights(self, steps, start)  # masked steps give 0, or none
        if self.return_sequences:
            shown = outputs if weights is None else outputs * weights
            y = np.ascontiguousarray(shown.transpose(2, 0, 1))
        else:
            last = outputs[-1] if weights is None else outputs[-1] * weights[-1]
            y = last.T.copy()
        if not self.return_state:
            return y
        return (y, *(state.T.copy() for state in self._final_states(kept)))

    def backward(self, grad_output: Any, *, input_grad: bool = True) -> Any:
        """Back-propagate through time; fills the weight gradients.

        The output gradient reaches every step (``return_sequences``) or the last
        one, and a returned state's the last step; the subclass walks the steps
        backwards, carrying the state gradient. With ``return_state``,
        ``grad_output`` is a list (None for an output nothing used); after a
        forward pass from ``initial_state``, the result is ``[dx, *d states]``.
        """
        # y = outputs (time-major, reversed for go_backwards), transposed  =>
        #   d(outputs) = dy transposed back; dx = d(xs) transposed (and reversed) back;
        #   y = outputs * w (zero_output_for_mask, or an initial state with a mask)
        #   =>  d(outputs) = dy * w;  the returned states are the last step's, so
        #   dh_last += d(returned h), dc_last = d(returned c)
        run = self.cached()
        grad_y, grad_states = output_grads(self, grad_output)
        weights = output_weights(self, run.steps, run.start)
        grad_seq = grad_last = None
        if grad_y is not None and self.return_sequences:
            grad_seq = np.ascontiguousarray(grad_y.transpose(1, 2, 0))
            if weights is not None:  # not in place: grad_seq may be a view of dy
                grad_seq = grad_seq * weights
        elif grad_y is not None:
            grad_last = np.ascontiguousarray(grad_y.T)
            if weights is not None:
                grad_last = grad_last * weights[-1]
        grad_h, grad_cell = [*grad_states, None, None][:2]
        if grad_h is not None:
            grad_h = np.ascontiguousarray(grad_h.T)
            grad_last = grad_h if grad_last is None else grad_last + grad_h
        if grad_cell is not None:
            grad_cell = np.ascontiguousarray(grad_cell.T)
        grad_xs, grad_start = self._run_backward(
            run, grad_seq, grad_last, grad_cell, input_grad
        )
        grad_x = None
        if grad_xs is not None:
            grad_x = grad_xs.transpose(2, 0, 1)
            grad_x = grad_x[:, ::-1] if self.go_backwards else grad_x
        if run.start is None or not input_grad or grad_start is None:
            return grad_x
        return [grad_x, *(np.ascontiguousarray(g.T) for g in grad_start)]

    def _run(
        self,
        xs: Array,
        masks: Masks,
        steps: StepMask | None,
        start: list[Array] | None,
    ) -> tuple[Array, Any]:
        """The outputs ``(time, units, batch)`` and what backward needs; ``steps``
        (a padding mask, or None) says where the state is carried over, ``start``
        the states before the first step (None: zeros)."""
        raise NotImplementedError

    def _final_states(self, kept: Any) -> list[Array]:
        """The states after the last step, ``(units, batch)`` each, from ``kept``."""
        raise NotImplementedError

    def _run_backward(
        self,
        run: Run,
        grad_seq: Array | None,
        grad_last: Array | None,
        grad_cell: Array | None,
        input_grad: bool,
    ) -> tuple[Array | None, list[Array] | None]:
        """``(d(xs), d(start states))``, time-major and feature-major, or None
        where not asked (``input_grad``) or not there (no initial state); fills
        ``grads`` when trainable. ``grad_last`` and ``grad_cell`` are the
        gradients of the last step's h and c (None: zero)."""
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

    def _shared_grads(
        self,
        run: Run,
        states: Array,
        grad_gates: Array,
        input_grad: bool,
        kernel: Array,
        order: Array | None = None,
    ) -> Array | None:
        """From ``dG`` (time, gates*U, batch), the gradients of ``G[t] = (x_t * m)
        @ W + (h_{t-1} * m') @ U + b`` when both products feed the same ``dG``
        (SimpleRNN, LSTM): fill ``dW``, ``dU`` and ``db`` (when trainable) and
        return ``dx`` (when asked). ``states`` are the h ``(time, U, batch)``,
        ``kernel`` is ``W`` with its columns in dG's row order and ``run.masks``
        in that order too; ``order`` maps Keras' columns to dG's rows (None: the
        same order), so that ``dW[:, j] = (gradient in dG's order)[:, order[j]]``."""
        # G[t] = (x_t * m) @ W + (h_{t-1} * m') @ U + b  =>
        #   dW = sum over t of (x_t * m).T @ dG[t],  dU = sum of (h_{t-1} * m').T @ dG[t]
        #   (h_{-1} the initial state, or 0),  db = sum over time and batch of dG,
        #   dx_t = (dG[t] @ W.T) * m
        xs, masks, start = run.xs, run.masks, run.start
        h0 = None if start is None else start[0]
        if self.trainable:
            grad_w, grad_u = self.grads["W"], self.grads["recurrent_kernel"]
            grad_matrix = self._matrix("grad_matrix", grad_gates)
            if masks.inputs is None and masks.recurrent is None:
                width, columns = xs.shape[1], grad_matrix.shape[1]
                stacked = self._scratch.empty(
                    "stacked", (width + states.shape[1], columns), xs.dtype
                )
                both = stacked_kernel_grads(xs, states, h0, grad_matrix, stacked)
                both = both if order is None else both[order]
                grad_w[...] = both[:, :width].T
                grad_u[...] = both[:, width:].T
            else:
                masked_weight_grad(xs, grad_matrix, masks.inputs, grad_w)
                recurrent_kernel_grad(states, grad_matrix, masks.recurrent, grad_u, h0)
                if order is not None:  # the right side is a copy: safe in place
                    grad_w[...] = grad_w[:, order]
                    grad_u[...] = grad_u[:, order]
            if self.use_bias:
                grad_b = self.grads["b"]
                grad_matrix.sum(axis=1, out=grad_b)
                if order is not None:
                    grad_b[...] = grad_b[order]
        if not input_grad:
            return None
        return masked_input_grad(kernel, grad_gates, masks.inputs)
