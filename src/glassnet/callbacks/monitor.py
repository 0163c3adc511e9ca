"""Callbacks that watch one log value: ``EarlyStopping`` and ``ReduceLROnPlateau``.

Both follow Keras 3's ``MonitorCallback``: ``mode="min"`` wants the value to fall,
``"max"`` to rise, and ``"auto"`` decides from the name: a loss (``loss``,
``val_loss``, ``<output>_loss``) falls; a compiled metric falls if it is an error
(MSE, MAE, MAPE, RMSE) and rises otherwise (accuracies, precision, recall, AUC,
F-scores, R^2); any other name (your own metric, a value another callback adds)
rises if it contains ``acc`` or ``auc`` and falls otherwise, as glassnet always
did (Keras refuses to guess). An improvement must beat the best value so far by
more than ``min_delta``. A monitor missing from an epoch's logs is an error naming
the keys there are (Keras warns and skips the epoch).

>>> EarlyStopping(monitor="val_accuracy", patience=3).mode
'auto'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet import metrics
from glassnet._validation import check_bool, check_nonnegative_float, check_one_of
from glassnet.callbacks.base import Callback, Logs
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["EarlyStopping", "MonitorCallback", "ReduceLROnPlateau", "validation_skipped"]

#: metrics that fall as the model improves; every other built-in metric rises
_FALLING = (
    metrics.MeanSquaredError,
    metrics.MeanAbsoluteError,
    metrics.MeanAbsolutePercentageError,
    metrics.RootMeanSquaredError,
)
_UNDIRECTED = (metrics.Mean,)


def check_count(value: Any, name: str) -> int:
    """``value`` as a non-negative int (patience, cooldown, epochs to wait).

    >>> check_count(3, "patience")
    3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidArgumentError(
            f"Argument `{name}` must be a non-negative integer. Received: {name}={value!r}"
        )
    return int(value)


def check_monitor(monitor: Any) -> str:
    """``monitor`` as a non-empty log name.

    >>> check_monitor("val_loss")
    'val_loss'
    """
    if not isinstance(monitor, str) or not monitor:
        raise GlassnetTypeError(
            f"Argument `monitor` must be a log name such as 'val_loss'. "
            f"Received: monitor={monitor!r}"
        )
    return monitor


def _compiled_metrics(model: Any) -> dict[str, Any]:
    """Every compiled metric by the name it logs under (``<output>_<name>`` too)."""
    found = {metric.name: metric for metric in getattr(model, "metrics", None) or []}
    for metric in getattr(model, "weighted_metrics", None) or []:  # either key
        found.setdefault(metric.name, metric)
        found[f"weighted_{metric.name}"] = metric
    for head in getattr(model, "heads", None) or []:
        for metric in [*head.metrics, *head.weighted_metrics]:
            found.setdefault(f"{head.name}_{metric.name}", metric)
        for metric in head.weighted_metrics:
            found[f"{head.name}_weighted_{metric.name}"] = metric
    return found


def monitor_direction(model: Any, monitor: str) -> str:
    """``"min"`` or ``"max"``: what ``mode="auto"`` wants of ``monitor``.

    >>> monitor_direction(None, "val_loss"), monitor_direction(None, "val_acc")
    ('min', 'max')
    """
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "min"
    metric = _compiled_metrics(model).get(name)
    if isinstance(metric, _FALLING):
        return "min"
    if metric is not None and type(metric).__module__.startswith("glassnet.metrics"):
        if not isinstance(metric, _UNDIRECTED):
            return "max"
    return "max" if "acc" in name or "auc" in name else "min"


class MonitorCallback(Callback):
    """Shared by the callbacks that watch ``monitor``: its direction and the best value.

    ``best`` starts at ``baseline`` (None: the first value is an improvement).

    >>> watch = MonitorCallback("val_accuracy", min_delta=0.01)
    >>> watch.is_improvement(0.90, None), watch.is_improvement(0.905, 0.90)
    (True, False)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        baseline: float | None = None,
        min_delta: float = 0.0,
    ) -> None:
        super().__init__()
        self.monitor = check_monitor(monitor)
        self.mode = check_one_of(mode, "mode", ("auto", "min", "max"))
        if baseline is not None:
            baseline = _check_number(baseline, "baseline")
        self.baseline = baseline
        self.best: float | None = baseline
        self.min_delta = abs(check_nonnegative_float(abs(min_delta), "min_delta"))
        self._sign: float | None = None
        self._validates = False  # whether fit has validation data (check_log_names)

    def check_log_names(self, names: set[str]) -> None:
        """Note, before the first epoch, whether ``fit`` validates (``val_`` logs).

        The monitored key itself is checked at each epoch's end, not here: a
        custom callback may add it to the logs.
        """
        self._validates = any(name.startswith("val_") for name in names)

    def _direction(self) -> float:
        """+1 when lower is better, -1 when higher is (found once, at the first epoch)."""
        if self._sign is None:
            mode = self.mode
            if mode == "auto":
                mode = monitor_direction(self.model, self.monitor)
            self._sign = 1.0 if mode == "min" else -1.0
        return self._sign

    def is_improvement(self, current: float, reference: float | None) -> bool:
        """Whether ``current`` beats ``reference`` by more than ``min_delta``."""
        if reference is None:
            return True
        return self._direction() * (current - reference) < -self.min_delta

    def current_value(self, logs: Logs | None) -> float | None:
        """The monitored value in ``logs``; an error naming the keys if it is missing.

        None when it is a ``val_`` value and this epoch was not validated
        (``fit(validation_freq=...)``): the callback skips the epoch, as Keras does.
        """
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None and self._validates and validation_skipped(self.monitor, logs):
            return None
        if value is None:
            raise InvalidArgumentError(
                f"{type(self).__name__} monitors '{self.monitor}', which is not in the "
                f"logs. Available: {', '.join(logs) or 'none'}. (val_* logs need "
                "validation data.)"
            )
        self._direction()
        return float(np.mean(value))


def validation_skipped(key: str, logs: Logs) -> bool:
    """Whether ``key`` is missing from epoch ``logs`` only because ``fit`` did not
    validate this epoch (``validation_freq``): a ``val_`` key, and no ``val_`` logs.

    (``fit`` refuses a ``val_`` monitor without validation data before any epoch.)

    >>> validation_skipped("val_loss", {"loss": 0.5})
    True
    >>> validation_skipped("val_auc", {"loss": 0.5, "val_loss": 0.7})
    False
    """
    return key.startswith("val_") and not any(k.startswith("val_") for k in logs)


def _check_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise GlassnetTypeError(
            f"Argument `{name}` must be a number. Received: {name}={value!r}"
        )
    if not math.isfinite(float(value)):
        raise InvalidArgumentError(
            f"Argument `{name}` must be finite. Received: {name}={value!r}"
        )
    return float(value)


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    As in Keras: an improvement must beat the best value by more than ``min_delta``;
    with a ``baseline`` the wait restarts only on values that beat it too; epochs
    before ``start_from_epoch`` are not watched; with ``restore_best_weights=True``
    the model ends with the weights of its best epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> stop = EarlyStopping(monitor="loss", patience=2, min_delta=10.0)
    >>> history = model.fit(np.ones((8, 1)), np.ones((8, 1)), epochs=50,
    ...                     callbacks=[stop], verbose=0)
    >>> len(history.epoch)  # no epoch improves by 10, so it stops after 3
    3
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, baseline, min_delta)
        self.patience = check_count(patience, "patience")
        self.verbose = verbose
        self.restore_best_weights = check_bool(
            restore_best_weights, "restore_best_weights"
        )
        self.start_from_epoch = check_count(start_from_epoch, "start_from_epoch")

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights: list[Any] | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = self.current_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def __repr__(self) -> str:
        return f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience})"


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    Keras' rule, at the end of each epoch: a value that beats the best by more
    than ``min_delta`` resets the wait; otherwise, outside the ``cooldown`` epochs
    that follow a reduction, the wait grows, and at ``patience`` the rate becomes
    ``max(rate * factor, min_lr)`` (unless it is already at ``min_lr``). The logs
    gain ``learning_rate``. An optimizer whose rate is a schedule is refused: the
    schedule owns the rate.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> reduce = ReduceLROnPlateau("loss", factor=0.5, patience=1, min_delta=10.0)
    >>> history = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=3,
    ...                     callbacks=[reduce], verbose=0)
    >>> history.history["learning_rate"]  # the rate each epoch trained with
    [0.01, 0.01, 0.005]
    >>> model.optimizer.learning_rate  # epochs 2 and 3 did not improve by 10
    0.0025
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, None, min_delta)
        factor = _check_number(factor, "factor")
        if not 0.0 < factor < 1.0:
            raise InvalidArgumentError(
                "Argument `factor` must be in (0, 1): the rate is multiplied by it. "
                f"Received: factor={factor!r}"
            )
        self.factor = factor
        self.patience = check_count(patience, "patience")
        self.verbose = verbose
        self.cooldown = check_count(cooldown, "cooldown")
        self.min_lr = check_nonnegative_float(min_lr, "min_lr")
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        optimizer, _ = self.model.require_compiled("fit")
        if optimizer.schedule is not None:
            raise InvalidArgumentError(
                "ReduceLROnPlateau sets the learning rate, but this optimizer's rate "
                f"is a schedule ({optimizer.schedule!r}), which sets it every step. "
                "Use a fixed learning_rate with ReduceLROnPlateau, or the schedule "
                "alone."
            )
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        """Whether the epochs right after a reduction are still being skipped."""
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer, _ = self.model.require_compiled("fit")
        if logs is not None:
            logs["learning_rate"] = float(optimizer.learning_rate)
        current = self.current_value(logs)
        if current is None:  # not validated this epoch
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                # Keras compares with the float32 value of min_lr
                if old_lr > float(np.float32(self.min_lr)):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing "
                            f"learning rate to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor}, "
            f"patience={self.patience})"
        )
