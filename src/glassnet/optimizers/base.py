"""The optimizer base class: the ``apply`` loops, per-name state, clipping.

:class:`Optimizer` holds what every update rule shares: its settings (the learning
rate or schedule, weight decay, clipping, ``use_ema``, gradient accumulation; see
:mod:`~glassnet.optimizers.settings`), the per-name ``state`` dict and the two
loops that drive a rule's ``_update``, :meth:`Optimizer.apply` over ``(name,
param, grad)`` triples and :meth:`Optimizer.apply_flat` over a model's flat buffer
(in blocks of ``_BLOCK`` weights for a large one). The update rules live in
:mod:`~glassnet.optimizers.sgd`, :mod:`~glassnet.optimizers.adaptive` and
:mod:`~glassnet.optimizers.more_adaptive`, and register in :data:`registry` here.

One step, in Keras 3's order: the rate is read (a schedule's at the step count
before this step); with gradient accumulation, a call that is not the ``n``-th
only adds its gradient to the sum; otherwise the gradient is clipped, the weights
decay and the rule updates them; then the weights' moving average follows (and
may overwrite them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from operator import is_
from typing import Any

import numpy as np

from glassnet._registry import Registry
from glassnet._typing import Array
from glassnet.optimizers.extras import Entry, accumulate, ema_step
from glassnet.optimizers.settings import OptimizerSettings
from glassnet.optimizers.settings import _Default as _Default

__all__ = ["Optimizer", "Slot", "State", "Triple", "registry"]

registry = Registry("optimizer")

State = dict[str, Array]
Triple = tuple[str, Array, Array]
Slot = tuple[
    str, int, int, tuple[int, ...]
]  # (name, start, stop, shape) in a flat buffer


# apply_flat updates a buffer of more than _BLOCK_ABOVE weights in blocks of _BLOCK:
# 256 KiB of float32 per array, so an Adam step's five arrays fit in a core's L2
# cache together. Smaller buffers stay cached between passes anyway, and there the
# extra calls cost more than blocking saves (benchmarks/README.md).
_BLOCK = 65536
_BLOCK_ABOVE = 1 << 20

# Every _FLUSH_EVERY steps the optimizer state's subnormal numbers are set to 0.
# Why: a weight whose gradient is exactly 0 for a while (a dead ReLU unit) sees its
# momentum m shrink by beta_1 each step, through the subnormal range (below
# numpy.finfo(float32).tiny, 1.2e-38) for about 150 steps. x86 processors do
# arithmetic on subnormals in microcode: with 5% of Adam's m subnormal its update ran
# 25% slower (300 -> 375 us on 235k weights), which is what made two otherwise
# identical trainings of the medium benchmark differ by 10% (benchmarks/README.md).
# Numerically they are zeros already: the update they make, lr * m / (sqrt(v) + eps),
# is below 1e-30, under the last bit of any weight. XLA (so JAX) flushes them too, in
# every operation. Every 16 steps keeps a flush to about 1% of an update's time.
# (Every slot is flushed: a rule's, the weights' average, the gradient sum.)
_FLUSH_EVERY = 16


def _flush_subnormals(arrays: Iterable[Array], work: Array | None) -> None:
    """Set the subnormal entries of each array to 0 (see ``_FLUSH_EVERY``).

    ``work``, when given, is a scratch array at least as large as each array.

    >>> a = np.array([1e-39, -1e-40, 1e-30, 0.5], dtype=np.float32)
    >>> _flush_subnormals([a], None)
    >>> a
    array([0.e+00, 0.e+00, 1.e-30, 5.e-01], dtype=float32)
    """
    for array in arrays:
        if array.dtype.kind != "f":
            continue
        out = (
            None
            if work is None
            else work.reshape(-1)[: array.size].reshape(array.shape)
        )
        magnitude = np.abs(array, out=out)
        np.copyto(array, 0, where=magnitude < np.finfo(array.dtype).tiny)


class Optimizer(OptimizerSettings):
    """Base class: clipping, weight decay, per-name state and the ``apply`` loops.

    A subclass implements ``_update(param, grad, state)`` for one parameter, and
    ``_new_state(param)`` if it keeps state; ``_begin_step()`` runs once per update
    for what all parameters share (Adam's bias-corrected step size), reading the
    update's number ``t = self.iterations`` (1 at the first). ``_config_keys``
    names its own constructor arguments for :meth:`get_config`.

    Parameters
    ----------
    learning_rate : float > 0, LearningRateSchedule or function
        A number may be reassigned between steps; a schedule
        (:mod:`glassnet.optimizers.schedules`) is called with the step count before
        each step, and ``learning_rate`` then reads its current value; a function of
        no arguments (as Keras accepts) is called before each step.
    weight_decay : float >= 0 or None
        Decoupled decay ``w -= learning_rate * weight_decay * w`` before each update.
    clipnorm, clipvalue, global_clipnorm : float > 0 or None
        At most one: rescale each gradient tensor to L2 norm <= clipnorm, clip each
        element to [-clipvalue, clipvalue], or rescale all gradients together to a
        joint norm <= global_clipnorm. The caller's gradient arrays are never changed.
    use_ema : bool
        Keep the exponential moving average of the weights, after each step
        ``average = ema_momentum * average + (1 - ema_momentum) * w``
        (``state[name]["average"]``, set to ``w`` by the first step).
    ema_momentum : float in [0, 1]
        Default 0.99.
    ema_overwrite_frequency : int >= 1 or None
        Overwrite the weights with their average every this many steps; with None,
        only when :meth:`finalize_variable_values` is called (``fit`` does, at the end).
    gradient_accumulation_steps : int >= 2 or None
        Sum the gradients of ``n`` calls (``state[name]["gradient_accumulator"]``)
        and update once every ``n``-th call, with their mean; ``iterations`` counts
        the updates, a schedule sees every call.
    name : str or None
        Defaults to the class name in lower case.
    lr : float or None
        Keras 2 spelling of ``learning_rate``; pass one or the other.

    >>> from glassnet.optimizers import SGD
    >>> opt, w = SGD(1.0, gradient_accumulation_steps=2), np.array([1.0])
    >>> opt.apply([("w", w, np.array([0.2]))])  # only summed: w stays 1
    >>> opt.apply([("w", w, np.array([0.4]))])  # w = 1 - 1.0 * (0.2 + 0.4) / 2
    >>> w, opt.iterations
    (array([0.7]), 1)
    """

    def __init__(self, learning_rate: Any, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.state: dict[str, State] = {}
        # (flat param buffer, flat state slots, ([name], [per-name views])): apply_flat
        self._flat: tuple[Array, State, tuple[list[str], list[State]]] | None = None
        self._work: Array | None = None  # see _scratch
        self._work2: Array | None = None
        self._averaged: list[tuple[Array, Array]] = []  # the last step's (w, average)

    def apply(self, triples: Iterable[Triple]) -> None:
        """Update each ``param`` in place from ``grad``; state is kept under ``name``.

        Called once per batch, so it validates nothing: the model checks shapes and
        dtypes when it is built.
        """
        self._start()
        state = self.state
        entries: list[Entry] = []
        for name, param, grad in triples:
            slots = state.get(name)
            if slots is None:
                slots = state[name] = self._slots_for(param)
            entries.append((param, grad, slots))
        n = self.gradient_accumulation_steps
        steps: list[Entry] | None = entries
        if n is not None:
            steps = accumulate(entries, self._iterations % n, n)
        if steps is not None:
            self._begin_step()
            if self.global_clipnorm is not None:
                scale = _global_scale([g for _, g, _ in steps], self.global_clipnorm)
                if scale != 1.0:
                    steps = [(param, grad * scale, s) for param, grad, s in steps]
            clip = self.clipnorm is not None or self.clipvalue is not None
            decay = (
                self._learning_rate * self.weight_decay if self.weight_decay else 0.0
            )
            for param, grad, slots in steps:
                if clip:
                    grad = self._clip(grad)
                if decay:
                    param -= decay * param
                if not self._update_fused(param, grad, slots):
                    self._update(param, grad, slots)
            if n is not None:
                for _, _, slots in steps:
                    slots["gradient_accumulator"].fill(0)
        if self.use_ema:
            self._averaged = [(param, slots["average"]) for param, _, slots in entries]
            self._follow_average()
        if self._iterations % _FLUSH_EVERY == 0:
            for slots in state.values():
                _flush_subnormals(slots.values(), None)

    def apply_flat(self, param: Array, grad: Array, layout: list[Slot]) -> None:
        """Update a whole model at once: the same step as :meth:`apply`, elementwise.

        ``param`` and ``grad`` are flat buffers; ``layout`` lists each named
        parameter as ``(name, start, stop, shape)``, a slice of them. The state is
        one flat buffer per slot too, and ``state[name][slot]`` are views into it,
        so it stays keyed by name (for saving and inspection) while each step is a
        handful of NumPy calls over one contiguous array, whatever the number of
        tensors: per-call overhead, not arithmetic, dominates small networks.
        """
        if self.clipnorm is not None:  # per-tensor norms need the tensors
            self.apply(
                (name, param[a:b].reshape(shape), grad[a:b].reshape(shape))
                for name, a, b, shape in layout
            )
            return
        if self._schedule is not None:
            self._start()
        else:  # _start, inline: this runs once per batch
            self._iterations += 1
        slots = self._flat_state(param, layout)
        n = self.gradient_accumulation_steps
        update = True
        if n is not None:
            mean = accumulate([(param, grad, slots)], self._iterations % n, n)
            update = mean is not None
            grad = slots["gradient_accumulator"]
        if update:
            self._begin_step()
            if self.global_clipnorm is not None:
                grad = _clip_global([("", param, grad)], self.global_clipnorm)[0][2]
            elif self.clipvalue is not None:
                grad = np.clip(grad, -self.clipvalue, self.clipvalue)
            if self.weight_decay:
                param -= (self._learning_rate * self.weight_decay) * param
            if self._update_fused(param, grad, slots):
                pass  # one compiled loop over the whole buffer: nothing to block
            elif param.size <= _BLOCK_ABOVE:
                self._update(param, grad, slots)
            else:
                # A large model is updated in blocks: the arrays an update rule walks
                # a dozen times (weights, gradients, state, work array) then stay in
                # the core's cache between passes instead of streaming through memory
                # for each one. About 10% faster for Adam on two million weights.
                for a in range(0, param.size, _BLOCK):
                    b = a + _BLOCK
                    block = {slot: array[a:b] for slot, array in slots.items()}
                    self._update(param[a:b], grad[a:b], block)
            if n is not None:
                slots["gradient_accumulator"].fill(0)
        if self.use_ema:
            self._averaged = [(param, slots["average"])]
            self._follow_average()
        if self._iterations % _FLUSH_EVERY == 0:
            _flush_subnormals(slots.values(), self._scratch(param))

    def _follow_average(self) -> None:
        """Move the weights' average (``use_ema``) and maybe overwrite the weights.

        As in Keras: the momentum is 0 while ``iterations`` (counted before this
        step) is 0, so the average starts at the weights; the weights take the
        average when ``iterations + 1`` is a multiple of ``ema_overwrite_frequency``.
        """
        before = self._iterations - 1
        if self.gradient_accumulation_steps:
            before //= self.gradient_accumulation_steps
        momentum = self.ema_momentum if before else 0.0
        every = self.ema_overwrite_frequency
        for param, average in self._averaged:
            ema_step(param, average, momentum, self._scratch(param))
            if every is not None and (before + 1) % every == 0:
                np.copyto(param, average)

    def finalize_variable_values(
        self, var_list: Iterable[tuple[str, Array]] | None = None
    ) -> None:
        """With ``use_ema``, overwrite the weights with their moving average.

        Keras' ``fit`` calls it after the last epoch, and so does glassnet's.
        ``var_list`` holds ``(name, weight)`` pairs; by default, the weights of the
        last step. Without ``use_ema`` (or before any step) nothing changes.

        >>> opt, w = Optimizer(0.1, use_ema=True, ema_momentum=0.5), np.array([2.0])
        >>> opt._update = lambda param, grad, state: None  # a rule that changes nothing
        >>> opt.apply([("w", w, np.zeros(1))])  # average = w = 2
        >>> w[...] = 4.0
        >>> opt.apply([("w", w, np.zeros(1))])  # average = 0.5 * 2 + 0.5 * 4
        >>> opt.finalize_variable_values()
        >>> w
        array([3.])
        """
        if not self.use_ema:
            return
        pairs = self._averaged
        if var_list is not None:
            pairs = [
                (param, self.state[name]["average"])
                for name, param in var_list
                if "average" in self.state.get(name, {})
            ]
        for param, average in pairs:
            np.copyto(param, average)

    def _flat_state(self, param: Array, layout: list[Slot]) -> State:
        """The flat state for ``param``, made (from any per-name state) when needed.

        It is remade when the model's buffer changes, or when someone replaced a
        per-name state dict (e.g. a loaded checkpoint), whose values it copies.
        """
        flat = self._flat
        if flat is not None and flat[0] is param:
            names, views = flat[2]  # (C loops: a generator took 1 us of a tiny step)
            if all(map(is_, map(self.state.get, names), views)):
                return flat[1]
        slots = self._slots_for(param)
        named = []
        for name, a, b, shape in layout:
            per_name = {slot: array[a:b].reshape(shape) for slot, array in slots.items()}
            for slot, old in self.state.get(name, {}).items():
                if slot in per_name:
                    per_name[slot][...] = old
            self.state[name] = per_name
            named.append(per_name)
        self._flat = (param, slots, ([name for name, *_ in layout], named))
        return slots

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles keep the settings, ``iterations`` and the per-name
        ``state`` (training continues exactly), not the scratch: the flat state is
        made again from ``state`` by the next ``apply_flat``, work arrays on demand."""
        state = self.__dict__.copy()
        state.update(_flat=None, _work=None, _work2=None, _averaged=[])
        return state

    def reset(self) -> None:
        """Forget all per-parameter state and set ``iterations`` back to 0."""
        self.state.clear()
        self._flat = None
        self._averaged = []
        self._iterations = 0

    def _begin_step(self) -> None:
        """Compute what all parameters' updates share in this step (default: none)."""

    def _slots_for(self, param: Array) -> State:
        """All of ``param``'s fresh state: the base's slots, then the rule's."""
        slots = {}
        if self.use_ema:
            slots["average"] = np.zeros(param.shape, param.dtype)
        if self.gradient_accumulation_steps:
            slots["gradient_accumulator"] = np.zeros(param.shape, param.dtype)
        slots.update(self._new_state(param))
        return slots

    def _new_state(self, param: Array) -> State:
        """Fresh state for ``param``, same shape and dtype (default: none)."""
        return {}

    def _update(self, param: Array, grad: Array, state: State) -> None:
        raise NotImplementedError

    def _update_fused(self, param: Array, grad: Array, state: State) -> bool:
        """The same step as ``_update``, compiled into one loop, if this rule has one.

        Returns whether it ran: a rule with a kernel in optimizers/fused.py calls
        ``run_fused``, which runs it when Numba is installed and the arrays suit it;
        otherwise (and by default) the caller runs ``_update``, the NumPy reference.
        """
        return False

    def _scratch(self, param: Array) -> Array:
        """A work array shaped like ``param``, the same memory at every step.

        Why: the update rules (sgd.py, adaptive.py) are written as in-place passes
        through this one array (``np.multiply(g, g, out=t); v += t``) rather than as
        expressions that allocate a parameter-sized temporary per operation. On a
        model with a million weights Adam's expression form makes eight such
        temporaries per step, which cost more than its arithmetic
        (benchmarks/README.md has the profile).
        """
        work = self._work
        if work is not None and work.shape == param.shape and work.dtype == param.dtype:
            return work  # the usual case: the model's whole flat buffer
        self._work, view = _work_for(work, param)
        return view

    def _scratch2(self, param: Array) -> Array:
        """A second work array, for the rules that need two (Nadam, Adadelta, Ftrl)."""
        self._work2, view = _work_for(self._work2, param)
        return view

    def _scalars(self) -> dict[str, float]:
        """Optimizer-wide numbers Keras keeps after the slots (Nadam's ``u_product``)."""
        return {}

    def _set_scalars(self, values: dict[str, float]) -> None:
        """Restore what :meth:`_scalars` gave (from a file)."""

    def _clip(self, grad: Array) -> Array:
        # Returns a new array or grad itself, never grad modified: the caller's
        # gradient must survive the step (a gradient check may read it afterwards).
        if self.clipnorm is not None:
            norm = math.sqrt(float(np.vdot(grad, grad)))
            return grad if norm <= self.clipnorm else grad * (self.clipnorm / norm)
        if self.clipvalue is not None:
            return np.clip(grad, -self.clipvalue, self.clipvalue)
        return grad


def _work_for(work: Array | None, param: Array) -> tuple[Array, Array]:
    """``(work, view)``: ``work`` grown if needed, and a view of it shaped like ``param``."""
    if work is None or work.size < param.size or work.dtype != param.dtype:
        work = np.empty(param.size, param.dtype)
    return work, work[: param.size].reshape(param.shape)


def _global_scale(grads: list[Array], clipnorm: float) -> float:
    """The factor that brings the joint L2 norm of ``grads`` down to ``clipnorm``."""
    norm = math.sqrt(sum(float(np.vdot(grad, grad)) for grad in grads))
    return 1.0 if norm <= clipnorm else clipnorm / norm


def _clip_global(triples: list[Triple], clipnorm: float) -> list[Triple]:
    scale = _global_scale([grad for _, _, grad in triples], clipnorm)
    if scale == 1.0:
        return triples
    return [(name, param, grad * scale) for name, param, grad in triples]
