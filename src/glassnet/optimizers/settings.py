"""An optimizer's settings: the arguments every Keras 3 optimizer takes, and configs.

:class:`OptimizerSettings` checks and keeps what :class:`~glassnet.optimizers.Optimizer`
(its subclass, in :mod:`~glassnet.optimizers.base`) reads while stepping: the
learning rate or its schedule, weight decay, clipping, the moving average of the
weights (``use_ema``) and gradient accumulation; it counts the calls
(``iterations`` as Keras counts them) and writes and reads configs in Keras 3's
form. The stepping itself is in :mod:`~glassnet.optimizers.base`.
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any, ClassVar

from glassnet._registry import check_config_keys
from glassnet._validation import check_nonnegative_float, check_positive_float
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.optimizers import schedules
from glassnet.optimizers.extras import (
    check_accumulation_steps,
    check_ema,
    scheduled_rate,
)
from glassnet.optimizers.schedules import LearningRateSchedule
from glassnet.optimizers.schedules.base import RateFunction

__all__ = ["OptimizerSettings"]

CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")


class _Default(float):
    """A default ``learning_rate``: ``SGD(lr=0.1, learning_rate=0.01)`` passes the
    learning rate twice although 0.01 is SGD's default, and must be refused."""

    __slots__ = ()


def _positive_or_none(value: Any, name: str) -> float | None:
    return None if value is None else check_positive_float(value, name)


class OptimizerSettings:
    """The arguments of :class:`~glassnet.optimizers.Optimizer`, checked; its config.

    >>> settings = OptimizerSettings(0.1, gradient_accumulation_steps=4)
    >>> settings.learning_rate, settings.iterations
    (0.1, 0)
    """

    _config_keys: ClassVar[tuple[str, ...]] = ()
    #: True for a rule that divides by the rate (Ftrl): a schedule must stay > 0.
    _rate_must_be_positive: ClassVar[bool] = False

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        lr: float | None = None,
    ) -> None:
        self._schedule: LearningRateSchedule | None = None
        self._learning_rate = math.nan  # with a schedule: the rate of the last step
        if lr is None:
            self._set_rate(learning_rate, "learning_rate")
        elif isinstance(learning_rate, _Default):
            self._set_rate(lr, "lr")
        else:
            raise InvalidArgumentError(
                "Pass the learning rate once, as `learning_rate` (or its Keras 2 "
                "spelling `lr`), not both. "
                f"Received: learning_rate={learning_rate!r}, lr={lr!r}"
            )
        if weight_decay is not None:
            weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self.weight_decay = weight_decay
        clips = zip(CLIP_KEYS, (clipnorm, clipvalue, global_clipnorm), strict=True)
        given = [f"{key}={value!r}" for key, value in clips if value is not None]
        if len(given) > 1:
            raise InvalidArgumentError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                f"set. Received: {', '.join(given)}"
            )
        self.clipnorm = _positive_or_none(clipnorm, "clipnorm")
        self.clipvalue = _positive_or_none(clipvalue, "clipvalue")
        self.global_clipnorm = _positive_or_none(global_clipnorm, "global_clipnorm")
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = check_ema(
            use_ema, ema_momentum, ema_overwrite_frequency
        )
        self.gradient_accumulation_steps = check_accumulation_steps(
            gradient_accumulation_steps
        )
        if name is not None and not isinstance(name, str):
            raise GlassnetTypeError(
                f"Argument `name` must be a string or None. Received: name={name!r}"
            )
        self.name = type(self).__name__.lower() if name is None else name
        self._iterations = 0  # every call of apply: Keras' optimizer._iterations

    @property
    def iterations(self) -> int:
        """Updates made so far, as Keras counts them (``reset()`` sets it to 0).

        Each ``apply`` is one; with ``gradient_accumulation_steps=n``, each
        ``n``-th call (Keras' ``_iterations // n``).
        """
        n = self.gradient_accumulation_steps
        return self._iterations // n if n else self._iterations

    @property
    def learning_rate(self) -> float:
        """The step size of the next step; assign a number (> 0) to change it.

        With a schedule: its value at the current step count, as in Keras 3, and
        only another schedule can be assigned.
        """
        if self._schedule is not None:
            return float(self._schedule(self._iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        value = _as_schedule(value)
        if self._schedule is not None and not isinstance(value, LearningRateSchedule):
            raise GlassnetTypeError(
                f"This optimizer's learning rate is a schedule ({self._schedule!r}) "
                "and cannot be set to a number; to change the rate during training "
                "(LearningRateScheduler, ReduceLROnPlateau), give the optimizer a "
                f"number as `learning_rate`. Received: learning_rate={value!r}"
            )
        self._set_rate(value, "learning_rate")

    lr = learning_rate  # the Keras 2 spelling

    @property
    def schedule(self) -> LearningRateSchedule | None:
        """The learning-rate schedule, or None for a fixed (settable) rate."""
        return self._schedule

    def _set_rate(self, value: Any, name: str) -> None:
        value = _as_schedule(value)
        if isinstance(value, LearningRateSchedule):
            self._schedule = value
        else:
            # Kept a Python float: a NumPy float64 scalar would upcast float32 updates.
            self._learning_rate = check_positive_float(value, name)

    def _start(self) -> None:
        """Read this step's rate, then count the step (a bad rate changes nothing).

        Keras evaluates the schedule at its step count before the step: 0 first.
        """
        if self._schedule is not None:
            self._learning_rate = scheduled_rate(
                self._schedule, self._iterations, positive=self._rate_must_be_positive
            )
        self._iterations += 1

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments, with Keras 3 names.

        A schedule is written as Keras writes it (``{"module":
        "keras.optimizers.schedules", "class_name": ..., "config": ...}``); the EMA
        and accumulation settings only when they are used.
        """
        config: dict[str, Any] = {"name": self.name}
        if isinstance(self._schedule, RateFunction):
            rate = float(self._schedule(self._iterations))
            warnings.warn(
                f"{type(self).__name__}'s learning rate is a function, which a config "
                f"cannot hold: its current value {rate:g} is written instead. Give a "
                "glassnet.optimizers.schedules schedule to save the rule itself.",
                UserWarning,
                stacklevel=2,
            )
            config["learning_rate"] = rate
        elif self._schedule is not None:
            config["learning_rate"] = schedules.serialize(self._schedule)
        else:
            config["learning_rate"] = self._learning_rate
        config.update({key: getattr(self, key) for key in self._config_keys})
        for key in ("weight_decay", *CLIP_KEYS):
            config.setdefault(key, getattr(self, key))
        if self.use_ema:
            for key in ("use_ema", "ema_momentum", "ema_overwrite_frequency"):
                config[key] = getattr(self, key)
        if self.gradient_accumulation_steps is not None:
            config["gradient_accumulation_steps"] = self.gradient_accumulation_steps
        return config

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None
    ) -> Any:
        """Rebuild an optimizer (without its state) from :meth:`get_config` output.

        A learning rate given as a schedule's config is rebuilt too, from the
        schedules glassnet has (or ``custom_objects``).
        """
        own = [key for key in inspect.signature(cls).parameters if key != "kwargs"]
        check_config_keys("optimizer", cls, config, own + _BASE_ARGUMENTS)
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.get(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)

    def __repr__(self) -> str:
        with warnings.catch_warnings():  # a rate function: shown as itself below
            warnings.simplefilter("ignore", UserWarning)
            config = self.get_config()
        del config["name"]
        if self._schedule is not None:
            config["learning_rate"] = self._schedule
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if v is not None)
        return f"{type(self).__name__}({args})"


def _as_schedule(value: Any) -> Any:
    """A function of no arguments (Keras' callable learning rate) as a schedule."""
    if callable(value) and not isinstance(value, (LearningRateSchedule, type)):
        return RateFunction(value)
    return value


_BASE_ARGUMENTS = list(inspect.signature(OptimizerSettings).parameters)
