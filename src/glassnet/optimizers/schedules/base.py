"""The schedule protocol (:class:`LearningRateSchedule`) and the schedules' registry."""

from __future__ import annotations

import inspect
import numbers
from typing import Any

from glassnet._registry import Registry, check_config_keys
from glassnet._validation import check_nonnegative_float, check_positive_float
from glassnet.errors import GlassnetTypeError

__all__ = ["LearningRateSchedule", "RateFunction", "registry"]

registry = Registry("learning rate schedule")


def _steps(value: Any, name: str, low: float | None = 0.0) -> Any:
    """A number of steps, > 0 (>= 0 when ``low`` is None), kept an int if given one.

    Keras documents integers but takes floats (its own example passes 1.0).
    """
    if low is None:
        number = check_nonnegative_float(value, name)
    else:
        number = check_positive_float(value, name)
    return int(value) if isinstance(value, numbers.Integral) else number


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise GlassnetTypeError(
            f"Argument `name` must be a string. Received: name={value!r}"
        )
    return value


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float`` and a JSON-able config.

    A subclass implements ``__call__(step)`` and ``get_config()``; ``from_config``
    rebuilds it from that config. Custom schedules work in training as they are;
    to load one from a file, pass its class in ``custom_objects=``.

    >>> class Halving(LearningRateSchedule):
    ...     def __init__(self, rate):
    ...         self.rate = rate
    ...     def __call__(self, step):
    ...         return self.rate / 2 ** step
    ...     def get_config(self):
    ...         return {"rate": self.rate}
    >>> Halving(1.0)(3)
    0.125
    >>> Halving.from_config({"rate": 0.5})
    Halving(rate=0.5)
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-able (Keras' names)."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`get_config()` to be saved."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Rebuild a schedule from :meth:`get_config` output; unknown keys are refused."""
        accepted = [k for k in inspect.signature(cls).parameters if k != "kwargs"]
        check_config_keys("learning rate schedule", cls, config, accepted)
        return cls(**config)

    def __repr__(self) -> str:
        try:
            config = self.get_config()
        except NotImplementedError:
            return f"{type(self).__name__}()"
        args = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LearningRateSchedule):
            return NotImplemented
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


class RateFunction(LearningRateSchedule):
    """A learning rate given as a function of nothing: ``learning_rate=lambda: 0.01``.

    Keras 3 accepts "a callable that takes no arguments and returns the actual value
    to use"; the optimizer calls it before every step (so the function may read a
    variable the user changes while training). A file cannot hold a function, so a
    saved optimizer keeps the rate the function gives at saving time (with a
    warning; use a :class:`LearningRateSchedule` to save the rule itself).

    >>> rate = {"now": 0.5}
    >>> schedule = RateFunction(lambda: rate["now"])
    >>> schedule(0), schedule(7)
    (0.5, 0.5)
    """

    def __init__(self, function: Any) -> None:
        self.function = function

    def __call__(self, step: int) -> float:
        return self.function()

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            "A learning rate given as a function cannot be saved: the optimizer saves "
            "the function's current value instead."
        )

    def __repr__(self) -> str:
        return f"RateFunction({self.function!r})"
