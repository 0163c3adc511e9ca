"""What Keras' base optimizer adds around every update rule.

- The **learning rate**, a fixed number or a
  :class:`~glassnet.optimizers.schedules.LearningRateSchedule` evaluated at the
  optimizer's step count before each step (:func:`scheduled_rate`).
- The **exponential moving average** of the weights (``use_ema``), kept in the
  optimizer's state as ``state[name]["average"]`` and updated after every step::

      average = ema_momentum * average + (1 - ema_momentum) * w   # average = w at first

  (:func:`ema_step`); every ``ema_overwrite_frequency`` steps, or when training
  ends (:meth:`~glassnet.optimizers.Optimizer.finalize_variable_values`), the
  weights are overwritten by it.
- **Gradient accumulation** (``gradient_accumulation_steps=n``): gradients are
  summed in ``state[name]["gradient_accumulator"]`` and applied, averaged, every
  ``n``-th call, the others changing nothing but the sum.

Each is checked here once, at construction (:func:`check_ema`,
:func:`check_accumulation_steps`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_bool, check_in_range, check_positive_int
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.optimizers.schedules import LearningRateSchedule

Entry = tuple[Any, Any, dict[str, Array]]  # (param, grad, its state) within one step

__all__ = [
    "accumulate",
    "check_accumulation_steps",
    "check_ema",
    "ema_step",
    "scheduled_rate",
]


def check_ema(
    use_ema: Any, ema_momentum: Any, ema_overwrite_frequency: Any
) -> tuple[bool, float, int | None]:
    """Validated ``(use_ema, ema_momentum, ema_overwrite_frequency)``.

    >>> check_ema(True, 0.9, None)
    (True, 0.9, None)
    >>> check_ema(True, 1.5, None)
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Argument `ema_momentum` must be a number in [0.0, 1.0]...
    """
    use_ema = check_bool(use_ema, "use_ema")
    momentum = check_in_range(
        ema_momentum, "ema_momentum", 0.0, 1.0, high_inclusive=True
    )
    if ema_overwrite_frequency is not None:
        ema_overwrite_frequency = check_positive_int(
            ema_overwrite_frequency, "ema_overwrite_frequency"
        )
    return use_ema, momentum, ema_overwrite_frequency


def check_accumulation_steps(value: Any) -> int | None:
    """``gradient_accumulation_steps``: None, or an integer >= 2 (as Keras requires).

    >>> check_accumulation_steps(4), check_accumulation_steps(None)
    (4, None)
    >>> check_accumulation_steps(2.5)
    Traceback (most recent call last):
    ...
    glassnet.errors.GlassnetTypeError: Argument `gradient_accumulation_steps` must be ...
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise GlassnetTypeError(
            "Argument `gradient_accumulation_steps` must be an integer >= 2 or None. "
            f"Received: gradient_accumulation_steps={value!r}"
        )
    if value < 2:
        raise InvalidArgumentError(
            "Argument `gradient_accumulation_steps` must be an integer >= 2 or None "
            "(1 would update at every step: pass None). "
            f"Received: gradient_accumulation_steps={value!r}"
        )
    return int(value)


def scheduled_rate(
    schedule: LearningRateSchedule, step: int, *, positive: bool = False
) -> float:
    """The rate ``schedule`` gives at ``step``, checked: finite and >= 0 (> 0 if asked).

    >>> from glassnet.optimizers.schedules import PolynomialDecay
    >>> scheduled_rate(PolynomialDecay(0.5, 10, end_learning_rate=0.0), 6)
    0.2
    >>> scheduled_rate(PolynomialDecay(0.5, 10, end_learning_rate=0.0), 10,
    ...                positive=True)
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: The learning rate schedule ... gave 0.0 at step 10; ...
    """
    value = schedule(step)
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise GlassnetTypeError(
            f"The learning rate schedule {schedule!r} must return a number; at step "
            f"{step} it returned {value!r}."
        ) from None
    if not math.isfinite(rate) or rate < 0 or (positive and rate == 0):
        need = "> 0" if positive else ">= 0"
        raise InvalidArgumentError(
            f"The learning rate schedule {_short(schedule)} gave {rate!r} at step "
            f"{step}; a learning rate must be a finite number {need}. Check the "
            "schedule's arguments (a decay that goes below zero, a rate that "
            "overflows)."
        )
    return rate


def _short(schedule: LearningRateSchedule) -> str:
    text = repr(schedule)
    return text if len(text) <= 160 else text[:157] + "..."


def ema_step(
    param: Array,
    average: Array,
    momentum: float,
    work: Array,
) -> None:
    """``average = momentum * average + (1 - momentum) * param``, in place.

    ``momentum`` 0 (the first step) copies ``param`` exactly; ``work`` is a
    scratch array shaped like ``param``.

    >>> w, avg = np.array([1.0, 3.0]), np.array([0.0, 1.0])
    >>> ema_step(w, avg, 0.5, np.empty(2))
    >>> avg
    array([0.5, 2. ])
    """
    if momentum == 0.0:
        np.copyto(average, param)
        return
    average *= momentum
    np.multiply(param, 1.0 - momentum, out=work)
    average += work


def accumulate(entries: list[Entry], phase: int, n: int) -> list[Entry] | None:
    """Gradient accumulation: add each gradient to its ``gradient_accumulator``.

    ``phase`` is the call's count modulo ``n``. Unless it is 0 the call only adds,
    and there is nothing to update (None). At 0 each sum becomes the mean of the
    ``n`` gradients, ``(sum + g) / n`` as Keras computes it, and stands in for the
    gradient; the caller zeroes it after the update.

    >>> slots = {"gradient_accumulator": np.zeros(1)}
    >>> accumulate([(None, np.array([0.5]), slots)], 1, 2) is None
    True
    >>> accumulate([(None, np.array([1.5]), slots)], 0, 2)[0][1]  # (0.5 + 1.5) / 2
    array([1.])
    """
    for _, grad, slots in entries:
        slots["gradient_accumulator"] += grad
    if phase:
        return None
    for _, _, slots in entries:
        slots["gradient_accumulator"] /= n
    return [
        (param, slots["gradient_accumulator"], slots) for param, _, slots in entries
    ]
