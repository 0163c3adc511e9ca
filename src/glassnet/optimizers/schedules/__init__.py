"""Learning-rate schedules: the step size as a function of the optimizer's step.

Pass a schedule wherever a learning rate goes (``Adam(learning_rate=
ExponentialDecay(0.1, 1000, 0.9))``). As in Keras 3, the optimizer calls it with its
step count *before* the step (0 for the first update), counting every ``apply``
(with gradient accumulation too), and ``optimizer.learning_rate`` reads the rate
the next step will use. A schedule is saved with the model as Keras writes it,
``{"module": "keras.optimizers.schedules", "class_name": ..., "config": ...}``,
so ``.keras`` files carry it to and from Keras 3.

A rate must be a finite number >= 0: a schedule that gives anything else stops
the step with an error naming the schedule and the step, before anything changes.
Zero is allowed, as Keras' own warmup example starts from 0 and ``CosineDecay``'s
default ``alpha=0`` ends there; only :class:`~glassnet.optimizers.Ftrl`, which
divides by the rate, needs it > 0.

The package: :mod:`~glassnet.optimizers.schedules.base` (the protocol and the
registry), :mod:`~glassnet.optimizers.schedules.decay` (exponential, piecewise
constant, polynomial, inverse time) and :mod:`~glassnet.optimizers.schedules.cosine`.

>>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> schedule(0), schedule(10), schedule(20)
(0.1, 0.05, 0.025)
"""

from __future__ import annotations

from typing import Any

from glassnet._registry import canonical_name, did_you_mean
from glassnet.errors import GlassnetTypeError, UnknownNameError
from glassnet.optimizers.schedules.base import LearningRateSchedule, registry

# isort: split
# The schedules register in this order.
from glassnet.optimizers.schedules.decay import (
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

# isort: split
from glassnet.optimizers.schedules.cosine import CosineDecay, CosineDecayRestarts

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "get",
    "registry",
    "serialize",
]

_MODULE = "keras.optimizers.schedules"


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """The schedule as Keras 3 writes it inside an optimizer's config.

    >>> serialize(InverseTimeDecay(0.1, 5, 0.5))["class_name"]
    'InverseTimeDecay'
    """
    return {
        "module": _MODULE,
        "class_name": type(schedule).__name__,
        "config": schedule.get_config(),
        "registered_name": None,
    }


def get(identifier: Any, custom_objects: dict[str, type] | None = None) -> Any:
    """Resolve a schedule instance, a ``{"class_name", "config"}`` dict or None.

    An unknown class name lists the known ones and suggests the nearest.

    >>> get({"class_name": "ExponentialDecay",
    ...      "config": {"initial_learning_rate": 0.1, "decay_steps": 2,
    ...                 "decay_rate": 0.5}})(2)
    0.05
    >>> get({"class_name": "ExponentialDecy", "config": {}})
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown learning rate schedule ... 'ExponentialDecay'?
    """
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, str):
        raise GlassnetTypeError(
            "A learning rate schedule needs its arguments: pass an instance such as "
            "ExponentialDecay(0.01, 1000, 0.9) or a config dict, not a name. "
            f"Received: {identifier!r}"
        )
    if isinstance(identifier, dict):
        class_name = identifier.get("class_name")
        known = [cls.__name__ for cls in registry.classes()]
        if isinstance(class_name, str) and not (
            (custom_objects and class_name in custom_objects)
            or class_name in known
            or class_name in registry
        ):
            suggestion = did_you_mean(class_name, known) or did_you_mean(
                canonical_name(class_name), registry.names()
            )
            raise UnknownNameError(
                f"Unknown learning rate schedule '{class_name}'. Available: "
                f"{', '.join(sorted(known))}.{suggestion}"
            )
    return registry.get(
        identifier, base=LearningRateSchedule, custom_objects=custom_objects
    )


deserialize = get
