"""The optimizer base class: the ``apply`` loops, per-name state, clipping, configs.

:class:`Optimizer` holds what every update rule shares: the learning rate, decoupled
weight decay, gradient clipping, the per-name ``state`` dict and the two loops that
drive a rule's ``_update``, :meth:`Optimizer.apply` over ``(name, param, grad)``
triples and :meth:`Optimizer.apply_flat` over a model's flat buffer (in blocks of
``_BLOCK`` weights for a large one). The update rules themselves live in
:mod:`glassnet.optimizers.sgd` and :mod:`glassnet.optimizers.adaptive`, and
register themselves in :data:`registry` here.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from glassnet._registry import Registry, check_config_keys
from glassnet._typing import Array
from glassnet._validation import check_nonnegative_float, check_positive_float
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["Optimizer", "Slot", "State", "Triple", "registry"]

registry = Registry("optimizer")

State = dict[str, Array]
_CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")
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
_FLUSH_EVERY = 16


class _Default(float):
    """A default ``learning_rate``: ``SGD(lr=0.1, learning_rate=0.01)`` passes the
    learning rate twice although 0.01 is SGD's default, and must be refused."""

    __slots__ = ()


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
        out = None if work is None else work.reshape(-1)[: array.size].reshape(array.shape)
        magnitude = np.abs(array, out=out)
        np.copyto(array, 0, where=magnitude < np.finfo(array.dtype).tiny)


def _positive_or_none(value: Any, name: str) -> float | None:
    return None if value is None else check_positive_float(value, name)


class Optimizer:
    """Base class: clipping, weight decay, per-name state and the ``apply`` loop.

    A subclass implements ``_update(param, grad, state)`` for one parameter, and
    ``_new_state(param)`` if it keeps state; ``_begin_step()`` runs once per
    ``apply`` for what all parameters share (Adam's bias-corrected step size).
    ``_config_keys`` names its own constructor arguments for :meth:`get_config`.

    Parameters
    ----------
    learning_rate : float > 0
        May be reassigned between steps (learning-rate schedules).
    weight_decay : float >= 0 or None
        Decoupled decay ``w -= learning_rate * weight_decay * w`` before each update.
    clipnorm, clipvalue, global_clipnorm : float > 0 or None
        At most one: rescale each gradient tensor to L2 norm <= clipnorm, clip each
        element to [-clipvalue, clipvalue], or rescale all gradients together to a
        joint norm <= global_clipnorm. The caller's gradient arrays are never changed.
    name : str or None
        Defaults to the class name in lower case.
    lr : float or None
        Keras 2 spelling of ``learning_rate``; pass one or the other.
    """

    _config_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        learning_rate: float,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        lr: float | None = None,
    ) -> None:
        if lr is None:
            self._learning_rate = check_positive_float(learning_rate, "learning_rate")
        elif isinstance(learning_rate, _Default):
            self._learning_rate = check_positive_float(lr, "lr")
        else:
            raise InvalidArgumentError(
                "Pass the learning rate once, as `learning_rate` (or its Keras 2 "
                "spelling `lr`), not both. "
                f"Received: learning_rate={learning_rate!r}, lr={lr!r}"
            )
        if weight_decay is not None:
            weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self.weight_decay = weight_decay
        clips = zip(_CLIP_KEYS, (clipnorm, clipvalue, global_clipnorm), strict=True)
        given = [f"{key}={value!r}" for key, value in clips if value is not None]
        if len(given) > 1:
            raise InvalidArgumentError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                f"set. Received: {', '.join(given)}"
            )
        self.clipnorm = _positive_or_none(clipnorm, "clipnorm")
        self.clipvalue = _positive_or_none(clipvalue, "clipvalue")
        self.global_clipnorm = _positive_or_none(global_clipnorm, "global_clipnorm")
        if name is not None and not isinstance(name, str):
            raise GlassnetTypeError(
                f"Argument `name` must be a string or None. Received: name={name!r}"
            )
        self.name = type(self).__name__.lower() if name is None else name
        self.iterations = 0
        self.state: dict[str, State] = {}
        # (flat param buffer, flat state slots, [(name, per-name views)]): apply_flat
        self._flat: tuple[Array, State, list[tuple[str, State]]] | None = None
        self._work: Array | None = None  # see _scratch

    @property
    def learning_rate(self) -> float:
        """The step size (finite, > 0); assign to change it between steps."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        # Kept a Python float: a NumPy float64 scalar would upcast float32 updates.
        self._learning_rate = check_positive_float(value, "learning_rate")

    lr = learning_rate  # the Keras 2 spelling

    def apply(self, triples: Iterable[Triple]) -> None:
        """Update each ``param`` in place from ``grad``; state is kept under ``name``.

        Called once per batch, so it validates nothing: the model checks shapes and
        dtypes when it is built.
        """
        self.iterations += 1
        self._begin_step()
        if self.global_clipnorm is not None:
            triples = _clip_global(list(triples), self.global_clipnorm)
        clip = self.clipnorm is not None or self.clipvalue is not None
        decay = self._learning_rate * self.weight_decay if self.weight_decay else 0.0
        state = self.state
        for name, param, grad in triples:
            slots = state.get(name)
            if slots is None:
                slots = state[name] = self._new_state(param)
            if clip:
                grad = self._clip(grad)
            if decay:
                param -= decay * param
            self._update(param, grad, slots)
        if self.iterations % _FLUSH_EVERY == 0:
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
        slots = self._flat_state(param, layout)
        self.iterations += 1
        self._begin_step()
        if self.global_clipnorm is not None:
            grad = _clip_global([("", param, grad)], self.global_clipnorm)[0][2]
        elif self.clipvalue is not None:
            grad = np.clip(grad, -self.clipvalue, self.clipvalue)
        if self.weight_decay:
            param -= (self._learning_rate * self.weight_decay) * param
        if param.size <= _BLOCK_ABOVE:
            self._update(param, grad, slots)
        else:
            # A large model is updated in blocks: the arrays an update rule walks a
            # dozen times (weights, gradients, state, work array) then stay in the
            # core's cache between passes instead of streaming through memory for
            # each one. About 10% faster for Adam on two million weights.
            for a in range(0, param.size, _BLOCK):
                b = a + _BLOCK
                block = {slot: array[a:b] for slot, array in slots.items()}
                self._update(param[a:b], grad[a:b], block)
        if self.iterations % _FLUSH_EVERY == 0:
            _flush_subnormals(slots.values(), self._scratch(param))

    def _flat_state(self, param: Array, layout: list[Slot]) -> State:
        """The flat state for ``param``, made (from any per-name state) when needed.

        It is remade when the model's buffer changes, or when someone replaced a
        per-name state dict (e.g. a loaded checkpoint), whose values it copies.
        """
        flat = self._flat
        if flat is not None and flat[0] is param:
            if all(self.state.get(name) is views for name, views in flat[2]):
                return flat[1]
        slots = self._new_state(param)
        named = []
        for name, a, b, shape in layout:
            views = {slot: array[a:b].reshape(shape) for slot, array in slots.items()}
            for slot, old in self.state.get(name, {}).items():
                if slot in views:
                    views[slot][...] = old
            self.state[name] = views
            named.append((name, views))
        self._flat = (param, slots, named)
        return slots

    def reset(self) -> None:
        """Forget all per-parameter state and set ``iterations`` back to 0."""
        self.state.clear()
        self._flat = None
        self.iterations = 0

    def _begin_step(self) -> None:
        """Compute what all parameters' updates share in this step (default: none)."""

    def _new_state(self, param: Array) -> State:
        """Fresh state for ``param``, same shape and dtype (default: none)."""
        return {}

    def _update(self, param: Array, grad: Array, state: State) -> None:
        raise NotImplementedError

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
        if work is None or work.size < param.size or work.dtype != param.dtype:
            work = self._work = np.empty(param.size, param.dtype)
        return work[: param.size].reshape(param.shape)

    def _clip(self, grad: Array) -> Array:
        # Returns a new array or grad itself, never grad modified: the caller's
        # gradient must survive the step (a gradient check may read it afterwards).
        if self.clipnorm is not None:
            norm = math.sqrt(float(np.vdot(grad, grad)))
            return grad if norm <= self.clipnorm else grad * (self.clipnorm / norm)
        if self.clipvalue is not None:
            return np.clip(grad, -self.clipvalue, self.clipvalue)
        return grad

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments, with Keras 3 names."""
        config: dict[str, Any] = {"name": self.name}
        config["learning_rate"] = self._learning_rate
        config.update({key: getattr(self, key) for key in self._config_keys})
        for key in ("weight_decay", *_CLIP_KEYS):
            config.setdefault(key, getattr(self, key))
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """Rebuild an optimizer (without its state) from :meth:`get_config` output."""
        own = [key for key in inspect.signature(cls).parameters if key != "kwargs"]
        check_config_keys("optimizer", cls, config, own + _BASE_ARGUMENTS)
        return cls(**config)

    def __repr__(self) -> str:
        config = self.get_config()
        del config["name"]
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if v is not None)
        return f"{type(self).__name__}({args})"


_BASE_ARGUMENTS = list(inspect.signature(Optimizer).parameters)


def _clip_global(triples: list[Triple], clipnorm: float) -> list[Triple]:
    norm = math.sqrt(sum(float(np.vdot(grad, grad)) for _, _, grad in triples))
    if norm <= clipnorm:
        return triples
    return [(name, param, grad * (clipnorm / norm)) for name, param, grad in triples]
