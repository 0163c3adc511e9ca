"""Schedules that decay by a formula: exponential, piecewise, polynomial, inverse time."""

from __future__ import annotations

import itertools
import math
import numbers
from typing import Any

from glassnet._validation import check_bool, check_nonnegative_float
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.optimizers.schedules.base import (
    LearningRateSchedule,
    _name,
    _steps,
    registry,
)

__all__ = [
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]


@registry.register("exponential_decay")
class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``, so the
    rate drops every ``decay_steps`` steps.

    >>> schedule = ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
    >>> [schedule(step) for step in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        self.initial_learning_rate = check_nonnegative_float(
            initial_learning_rate, "initial_learning_rate"
        )
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.decay_rate = check_nonnegative_float(decay_rate, "decay_rate")
        self.staircase = check_bool(staircase, "staircase")
        self.name = _name(name)

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@registry.register("piecewise_constant_decay")
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``.

    ``values[0]`` up to and including ``boundaries[0]``, ``values[-1]`` after
    ``boundaries[-1]``; the boundaries increase strictly and there is one more
    value than boundaries.

    >>> schedule = PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    >>> [schedule(step) for step in range(6)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.1]
    """

    def __init__(
        self,
        boundaries: list[float],
        values: list[float],
        name: str = "PiecewiseConstant",
    ) -> None:
        if not isinstance(boundaries, (list, tuple)) or not boundaries:
            raise InvalidArgumentError(
                "Argument `boundaries` must be a non-empty list of step numbers. "
                f"Received: boundaries={boundaries!r}"
            )
        if not isinstance(values, (list, tuple)) or len(values) != len(boundaries) + 1:
            raise InvalidArgumentError(
                "Argument `values` must be a list one longer than `boundaries` "
                f"({len(boundaries)} boundaries, so {len(boundaries) + 1} values). "
                f"Received: values={values!r}"
            )
        for b in boundaries:
            if (
                isinstance(b, bool)
                or not isinstance(b, numbers.Real)
                or not math.isfinite(b)
            ):
                raise GlassnetTypeError(
                    "Argument `boundaries` must hold finite numbers. "
                    f"Received: boundaries={boundaries!r}"
                )
        if any(b >= c for b, c in itertools.pairwise(boundaries)):
            raise InvalidArgumentError(
                "Argument `boundaries` must increase strictly. "
                f"Received: boundaries={boundaries!r}"
            )
        self.boundaries = list(boundaries)
        self.values = [check_nonnegative_float(v, "values") for v in values]
        self.name = _name(name)

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values[:-1], strict=True):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the constructor arguments."""
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


@registry.register("polynomial_decay")
class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` in ``decay_steps``.

    ``(initial - end) * (1 - step / decay_steps) ** power + end``, with ``step``
    capped at ``decay_steps``; with ``cycle=True`` the decay restarts instead,
    ``decay_steps`` growing to the first multiple of it at or past ``step``.

    >>> schedule = PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
    >>> [schedule(step) for step in (0, 1, 4, 8)]
    [1.0, 0.75, 0.0, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        self.initial_learning_rate = check_nonnegative_float(
            initial_learning_rate, "initial_learning_rate"
        )
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.end_learning_rate = check_nonnegative_float(
            end_learning_rate, "end_learning_rate"
        )
        self.power = check_nonnegative_float(power, "power")
        self.cycle = check_bool(cycle, "cycle")
        self.name = _name(name)

    def __call__(self, step: int) -> float:
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= math.ceil(step / decay_steps) if step else 1
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        start, end = self.initial_learning_rate, self.end_learning_rate
        return (start - end) * (1 - p) ** self.power + end

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


@registry.register("inverse_time_decay")
class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True``, ``step / decay_steps`` is rounded down.

    >>> schedule = InverseTimeDecay(1.0, decay_steps=1, decay_rate=0.5)
    >>> [schedule(step) for step in range(3)]
    [1.0, 0.6666666666666666, 0.5]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        self.initial_learning_rate = check_nonnegative_float(
            initial_learning_rate, "initial_learning_rate"
        )
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.decay_rate = check_nonnegative_float(decay_rate, "decay_rate")
        self.staircase = check_bool(staircase, "staircase")
        self.name = _name(name)

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }
