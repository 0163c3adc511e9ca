"""Optimizers: turn each gradient into an in-place update of its parameter.

One optimizer serves one model. ``apply`` walks ``(name, param, grad)`` triples and
updates every ``param`` **in place** (the layer owns the array; it is never rebound).
Per-parameter state, such as Adam's moments, lives in ``optimizer.state[name]`` under
the stable name the model hands in (``state["dense.W"]["m"]``), is created on first
use with the parameter's shape and dtype, and can be saved and restored by name.
``iterations`` counts ``apply`` calls. Arguments follow Keras 3; the Keras 2 spelling
``lr=`` still works.

>>> import numpy as np
>>> opt, w = get("sgd"), np.array([1.0, -1.0])
>>> opt.apply([("w", w, np.array([10.0, -10.0]))])
>>> w
array([ 0.9, -0.9])
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from glassnet._registry import Registry, did_you_mean
from glassnet._typing import Array
from glassnet._validation import (
    check_bool,
    check_in_range,
    check_nonnegative_float,
    check_positive_float,
)
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get", "registry"]

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


class _Default(float):
    """A default ``learning_rate``: ``SGD(lr=0.1, learning_rate=0.01)`` passes the
    learning rate twice although 0.01 is SGD's default, and must be refused."""

    __slots__ = ()


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
            return
        # A large model is updated in blocks: the arrays an update rule walks a dozen
        # times (weights, gradients, state, work array) then stay in the core's
        # cache between passes instead of streaming through memory for each one.
        # About 10% faster for Adam on two million weights.
        for a in range(0, param.size, _BLOCK):
            b = a + _BLOCK
            block = {slot: array[a:b] for slot, array in slots.items()}
            self._update(param[a:b], grad[a:b], block)

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

        Why: the update rules below are written as in-place passes through this one
        array (``np.multiply(g, g, out=t); v += t``) rather than as expressions that
        allocate a parameter-sized temporary per operation. On a model with a million
        weights Adam's expression form makes eight such temporaries per step, which
        cost more than its arithmetic (benchmarks/README.md has the profile).
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
        if not isinstance(config, dict):
            raise GlassnetTypeError(
                f"An optimizer config must be a dict. Received: {config!r}"
            )
        own = [key for key in inspect.signature(cls).parameters if key != "kwargs"]
        accepted = own + _BASE_ARGUMENTS
        for key in config:
            if key not in accepted:
                raise InvalidArgumentError(
                    f"Unknown argument '{key}' in a {cls.__name__} config. Accepted: "
                    f"{', '.join(sorted(set(accepted)))}." + did_you_mean(key, accepted)
                )
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


@registry.register("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Update rule for a weight ``w`` with gradient ``g`` (velocity ``v`` starts at 0)::

        w = w - learning_rate * g                     # momentum == 0
        v = momentum * v - learning_rate * g          # state["v"], momentum > 0
        w = w + v                                     # nesterov=False
        w = w + momentum * v - learning_rate * g      # nesterov=True

    Parameters: ``learning_rate=0.01``, ``momentum=0.0`` in [0, 1), ``nesterov=False``
    (look ahead along the velocity); the rest as in :class:`Optimizer`.

    >>> import numpy as np
    >>> opt = SGD(learning_rate=0.1, momentum=0.9)
    >>> w = np.array([1.0])
    >>> for _ in range(2):
    ...     opt.apply([("w", w, np.array([2.0]))])
    >>> w  # v = -0.2, w = 0.8; then v = 0.9 * -0.2 - 0.2 = -0.38, w = 0.42
    array([0.42])
    """

    _config_keys = ("momentum", "nesterov")

    def __init__(
        self,
        learning_rate: float = _Default(0.01),
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
        self.nesterov = check_bool(nesterov, "nesterov")

    def _new_state(self, param: Array) -> State:
        return {"v": np.zeros(param.shape, param.dtype)} if self.momentum else {}

    def _update(self, param: Array, grad: Array, state: State) -> None:
        step = np.multiply(grad, self._learning_rate, out=self._scratch(param))
        if not self.momentum:
            param -= step  # w = w - learning_rate * g
            return
        v = state["v"]
        v *= self.momentum
        v -= step  # v = momentum * v - learning_rate * g
        if self.nesterov:
            param += self.momentum * v - step
        else:
            param += v


@registry.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad: each weight's step shrinks with the sum of its squared gradients.

    Update rule (the accumulator starts at ``initial_accumulator_value``)::

        acc = acc + g * g                                  # state["acc"]
        w = w - learning_rate * g / sqrt(acc + epsilon)

    Parameters: ``learning_rate=0.001``, ``initial_accumulator_value=0.1`` (>= 0),
    ``epsilon=1e-7`` (> 0, inside the square root as in Keras 3); the rest as in
    :class:`Optimizer`.

    >>> import numpy as np
    >>> opt = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0)
    >>> w = np.array([1.0])
    >>> opt.apply([("w", w, np.array([3.0]))])  # acc = 9, w = 1 - 0.1 * 3 / 3
    >>> opt.apply([("w", w, np.array([4.0]))])  # acc = 25, w = 0.9 - 0.1 * 4 / 5
    >>> w.round(6)
    array([0.82])
    """

    _config_keys = ("initial_accumulator_value", "epsilon")

    def __init__(
        self,
        learning_rate: float = _Default(0.001),
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_nonnegative_float(
            initial_accumulator_value, "initial_accumulator_value"
        )
        self.epsilon = check_positive_float(epsilon, "epsilon")

    def _new_state(self, param: Array) -> State:
        return {
            "acc": np.full(param.shape, self.initial_accumulator_value, param.dtype)
        }

    def _update(self, param: Array, grad: Array, state: State) -> None:
        # In place through one work array t (see Optimizer._scratch).
        acc, t = state["acc"], self._scratch(param)
        acc += np.multiply(grad, grad, out=t)  # acc = acc + g * g
        np.add(acc, self.epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(grad, t, out=t)
        t *= self._learning_rate
        param -= t  # w = w - learning_rate * g / sqrt(acc + epsilon)


@registry.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of past gradients.

    Update rule (``v``, ``mg`` and ``m`` start at 0)::

        v = rho * v + (1 - rho) * g * g                          # state["v"]
        mg = rho * mg + (1 - rho) * g                            # state["mg"]
        step = learning_rate * g / sqrt(v - mg * mg + epsilon)   # centered=True
        step = learning_rate * g / sqrt(v + epsilon)             # centered=False
        m = momentum * m + step; w = w - m     # state["m"]; w = w - step if momentum=0

    Parameters: ``learning_rate=0.001``, ``rho=0.9`` and ``momentum=0.0`` in [0, 1),
    ``epsilon=1e-7`` (> 0, inside the square root as in Keras 3), ``centered=False``
    (divide by the gradient's running variance); the rest as in :class:`Optimizer`.

    >>> import numpy as np
    >>> opt = RMSprop(learning_rate=0.1)
    >>> w = np.array([1.0])
    >>> opt.apply([("w", w, np.array([2.0]))])  # v = 0.4, w = 1 - 0.1 * 2 / sqrt(0.4)
    >>> w.round(6)
    array([0.683772])
    """

    _config_keys = ("rho", "momentum", "epsilon", "centered")

    def __init__(
        self,
        learning_rate: float = _Default(0.001),
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_in_range(rho, "rho", 0.0, 1.0)
        self.momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.centered = check_bool(centered, "centered")

    def _new_state(self, param: Array) -> State:
        names = ["v"] + ["mg"] * self.centered + ["m"] * (self.momentum > 0)
        return {name: np.zeros(param.shape, param.dtype) for name in names}

    def _update(self, param: Array, grad: Array, state: State) -> None:
        # In place through one work array t (see Optimizer._scratch).
        v, t = state["v"], self._scratch(param)
        v *= self.rho
        np.multiply(grad, grad, out=t)
        t *= 1.0 - self.rho
        v += t  # v = rho * v + (1 - rho) * g * g
        if self.centered:
            mg = state["mg"]
            mg *= self.rho
            mg += np.multiply(grad, 1.0 - self.rho, out=t)
            np.multiply(mg, mg, out=t)
            np.subtract(v, t, out=t)  # v - mg * mg
            t += self.epsilon
        else:
            np.add(v, self.epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(grad, t, out=t)
        t *= self._learning_rate  # step = learning_rate * g / sqrt(...)
        if self.momentum:
            m = state["m"]
            m *= self.momentum
            m += t
            t = m
        param -= t


@registry.register("adam")
class Adam(Optimizer):
    """Adam: momentum on the gradient, divided by a running RMS, bias-corrected.

    Update rule at step ``t = iterations`` (1 on the first ``apply``)::

        m = m + (g - m) * (1 - beta_1)                       # state["m"]
        v = v + (g * g - v) * (1 - beta_2)                   # state["v"]
        lr_t = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = w - lr_t * m / (sqrt(v) + epsilon)

    ``lr_t`` folds in the bias corrections ``m / (1 - beta_1**t)`` and
    ``v / (1 - beta_2**t)``; as in Keras 3, ``epsilon`` is added to the uncorrected
    ``sqrt(v)`` ("epsilon hat" in Kingma and Ba). ``amsgrad=True`` divides by
    ``sqrt(v_max)`` with ``v_max = maximum(v_max, v)`` (``state["v_max"]``) instead.

    Parameters: ``learning_rate=0.001``, ``beta_1=0.9`` and ``beta_2=0.999`` in
    [0, 1), ``epsilon=1e-7`` (> 0), ``amsgrad=False``; the rest as in
    :class:`Optimizer`. The first step moves each weight by about ``learning_rate``:

    >>> import numpy as np
    >>> opt = Adam(learning_rate=0.1)
    >>> w = np.array([1.0, 1.0])
    >>> opt.apply([("w", w, np.array([50.0, -0.5]))])
    >>> w.round(4)
    array([0.9, 1.1])
    """

    _config_keys = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(
        self,
        learning_rate: float = _Default(0.001),
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_in_range(beta_1, "beta_1", 0.0, 1.0)
        self.beta_2 = check_in_range(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.amsgrad = check_bool(amsgrad, "amsgrad")
        self._lr_t = self._learning_rate

    def _begin_step(self) -> None:
        t = self.iterations
        correction = math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        self._lr_t = self._learning_rate * correction

    def _new_state(self, param: Array) -> State:
        names = ["m", "v"] + ["v_max"] * self.amsgrad
        return {name: np.zeros(param.shape, param.dtype) for name in names}

    def _update(self, param: Array, grad: Array, state: State) -> None:
        # Twelve in-place passes through one work array t (see Optimizer._scratch);
        # the expression form would allocate eight parameter-sized temporaries.
        m, v, t = state["m"], state["v"], self._scratch(param)
        np.subtract(grad, m, out=t)
        t *= 1.0 - self.beta_1
        m += t  # m = m + (g - m) * (1 - beta_1)
        np.multiply(grad, grad, out=t)
        t -= v
        t *= 1.0 - self.beta_2
        v += t  # v = v + (g * g - v) * (1 - beta_2)
        if self.amsgrad:
            v = np.maximum(state["v_max"], v, out=state["v_max"])
        np.sqrt(v, out=t)
        t += self.epsilon
        np.divide(m, t, out=t)
        t *= self._lr_t
        param -= t  # w = w - lr_t * m / (sqrt(v) + epsilon)


@registry.register("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    Before each Adam step the weights shrink toward zero by a fixed fraction,
    independently of the gradient (Adam's state and ``lr_t`` as in :class:`Adam`)::

        w = w - learning_rate * weight_decay * w
        m = m + (g - m) * (1 - beta_1);  v = v + (g * g - v) * (1 - beta_2)
        w = w - lr_t * m / (sqrt(v) + epsilon)

    Parameters: ``learning_rate=0.001``, ``weight_decay=0.004`` (>= 0), then
    ``beta_1``, ``beta_2``, ``epsilon``, ``amsgrad`` as in :class:`Adam`.

    >>> import numpy as np
    >>> opt = AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> w = np.array([1.0])
    >>> opt.apply([("w", w, np.array([3.0]))])  # decay: 1 - 0.1 * 0.5; Adam: - 0.1
    >>> w.round(4)
    array([0.85])
    """

    def __init__(
        self,
        learning_rate: float = _Default(0.001),
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )


def get(identifier: Any, custom_objects: dict[str, type] | None = None) -> Any:
    """Resolve a name, a ``{"class_name", "config"}`` dict or an instance.

    A name gives a fresh optimizer with Keras' defaults, an instance is returned as
    is and ``None`` gives ``None``.

    >>> get("adam").learning_rate
    0.001
    >>> get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    SGD(learning_rate=0.5, momentum=0.0, nesterov=False)
    >>> get("adma")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown optimizer 'adma'. ... Did you mean 'adam'?
    """
    return registry.get(identifier, base=Optimizer, custom_objects=custom_objects)
