"""Cosine schedules: a half cosine with an optional warmup, and with warm restarts."""

from __future__ import annotations

import math
from typing import Any

from glassnet._validation import check_nonnegative_float, check_positive_float
from glassnet.optimizers.schedules.base import (
    LearningRateSchedule,
    _name,
    _steps,
    registry,
)

__all__ = ["CosineDecay", "CosineDecayRestarts"]


def _cosine(fraction: float, alpha: float) -> float:
    """``(1 - alpha) * 0.5 * (1 + cos(pi * fraction)) + alpha``: 1 at 0, alpha at 1."""
    return (1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha


@registry.register("cosine_decay")
class CosineDecay(LearningRateSchedule):
    """An optional linear warmup, then a half cosine down to ``alpha`` times the peak.

    Without ``warmup_target`` the peak is ``initial_learning_rate``, and with
    ``s = min(step, decay_steps)``, ``D = decay_steps``::

        rate = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / D)) + alpha)

    With a ``warmup_target``, the rate first rises linearly from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps`` steps, then
    decays from ``warmup_target`` as above, with ``s = min(step - warmup_steps, D)``.

    >>> schedule = CosineDecay(0.0, decay_steps=2, warmup_target=1.0, warmup_steps=2)
    >>> [round(schedule(step), 6) for step in range(6)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: float = 0,
    ) -> None:
        self.initial_learning_rate = check_nonnegative_float(
            initial_learning_rate, "initial_learning_rate"
        )
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.alpha = check_nonnegative_float(alpha, "alpha")
        self.name = _name(name)
        if warmup_target is not None:
            warmup_target = check_nonnegative_float(warmup_target, "warmup_target")
        self.warmup_target = warmup_target
        self.warmup_steps = _steps(warmup_steps, "warmup_steps", low=None)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            fraction = min(step, self.decay_steps) / self.decay_steps
            return self.initial_learning_rate * _cosine(fraction, self.alpha)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            rise = self.warmup_target - self.initial_learning_rate
            return rise * (step / self.warmup_steps) + self.initial_learning_rate
        fraction = (step - self.warmup_steps) / self.decay_steps
        return self.warmup_target * _cosine(fraction, self.alpha)

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


@registry.register("cosine_decay_restarts")
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay that restarts (SGDR); period ``i`` is ``t_mul**i`` times longer.

    ``f = step / first_decay_steps`` counts periods of the first length. The step
    lies in period ``i`` (``floor(f)`` when ``t_mul == 1``, else
    ``floor(log(1 - f * (1 - t_mul)) / log(t_mul))``), a fraction ``c`` into it,
    and the rate is::

        initial_learning_rate * ((1 - alpha) * m_mul**i * 0.5 * (1 + cos(pi * c)) + alpha)

    >>> schedule = CosineDecayRestarts(1.0, first_decay_steps=2, t_mul=1.0, m_mul=0.5)
    >>> [round(schedule(step), 6) for step in range(5)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: float,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        self.initial_learning_rate = check_nonnegative_float(
            initial_learning_rate, "initial_learning_rate"
        )
        self.first_decay_steps = _steps(first_decay_steps, "first_decay_steps")
        self.t_mul = check_positive_float(t_mul, "t_mul")
        self.m_mul = check_nonnegative_float(m_mul, "m_mul")
        self.alpha = check_nonnegative_float(alpha, "alpha")
        self.name = _name(name)

    def __call__(self, step: int) -> float:
        fraction = step / self.first_decay_steps
        t_mul = self.t_mul
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(
                math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul)
            )
            before = (1.0 - t_mul**restart) / (1.0 - t_mul)  # the earlier periods
            fraction = (fraction - before) / t_mul**restart
        cosine = 0.5 * self.m_mul**restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }
