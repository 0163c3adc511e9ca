"""Callbacks: code that runs at fixed moments of training.

A callback overrides any of ``on_train_begin/end``, ``on_epoch_begin/end`` and
``on_train_batch_begin/end``. The training loop hands each callback the model
(``callback.model``) and the run's parameters (``callback.params``) first.

>>> from glassnet.callbacks import EarlyStopping
>>> EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
EarlyStopping(monitor='val_loss', patience=3)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from glassnet._validation import (
    check_bool,
    check_nonnegative_float,
    check_one_of,
)
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

if TYPE_CHECKING:
    from glassnet.models.sequential import Sequential

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ProgressBar",
    "format_logs",
]

Logs = dict[str, float]

#: Keras' look: ``Epoch 3/100: 4/4 [==============================] - 00:00``
_BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} [{bar:30}] - {elapsed}"


def format_logs(logs: Logs) -> str:
    """Keras-style ``loss: 0.6917 - accuracy: 0.7500``.

    A metric with one value per class (``F1Score(average=None)``) shows their
    mean, as Keras' progress bar does.

    >>> format_logs({"loss": 0.69172, "accuracy": 0.75})
    'loss: 0.6917 - accuracy: 0.7500'
    >>> format_logs({"f1_score": np.array([0.5, 1.0])})
    'f1_score: 0.7500'
    """
    return " - ".join(f"{key}: {float(np.mean(value)):.4f}" for key, value in logs.items())


class Callback:
    """Base class: every hook does nothing until overridden."""

    model: Sequential
    params: dict[str, Any]

    def set_model(self, model: Sequential) -> None:
        """Called once before training with the model being trained."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Called once before training with epochs, steps, samples, verbose."""
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """After the last epoch (or after an early stop)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Before each epoch; ``epoch`` counts from 0."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """After each epoch, with the epoch's loss and metrics in ``logs``."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Before each training step."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each training step; ``logs["size"]`` is the batch size."""


class CallbackList:
    """Calls a list of callbacks in order; skips batch hooks nobody overrides."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)
        # Batch hooks run once per step; calling empty methods there costs real time
        # for tiny networks, so only the callbacks that override them are called.
        self._batch_begin = [
            c for c in self.callbacks if _overrides(c, "on_train_batch_begin")
        ]
        self._batch_end = [
            c for c in self.callbacks if _overrides(c, "on_train_batch_end")
        ]

    def set_model(self, model: Sequential) -> None:
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.set_params(params)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        for callback in self._batch_begin:
            callback.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        for callback in self._batch_end:
            callback.on_train_batch_end(batch, logs)

    @property
    def wants_batch_hooks(self) -> bool:
        """Whether any callback overrides a batch hook."""
        return bool(self._batch_begin or self._batch_end)


def _overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class History(Callback):
    """Records each epoch's logs; ``model.fit`` returns it.

    ``history.history["loss"]`` is the list of epoch losses; ``history.epoch`` the
    epoch numbers (from 0).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class ProgressBar(Callback):
    """Keras-style progress: one line per epoch with its loss and metrics.

    ``verbose=1`` draws a tqdm bar per epoch (``Epoch 3/100: 4/4 [====] - loss: ...``);
    ``verbose=2`` prints one plain line per epoch, for logs and CI.
    """

    def __init__(self, verbose: int = 1, file: TextIO | None = None) -> None:
        self.verbose = verbose
        self.file = file
        self._bar: Any = None

    def _out(self) -> TextIO:
        return self.file if self.file is not None else sys.stdout

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch_label = f"Epoch {epoch + 1}/{self.params['epochs']}"
        self._start = time.perf_counter()
        if self.verbose == 1:
            # Imported here: tqdm costs tens of milliseconds at `import glassnet`.
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.params["samples"],
                desc=self._epoch_label,
                file=self._out(),
                ascii=".=",
                leave=True,
                # Draw only epochs that take a while: a fast epoch prints just its
                # final line, so logs and notebooks are not flooded with 0% bars.
                delay=0.5,
                bar_format=_BAR_FORMAT,
            )

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._bar is not None and logs is not None:
            self._bar.update(logs["size"])

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        text = format_logs(logs or {})
        if self._bar is not None:
            # The final line carries the epoch's logs (braces escaped for format()).
            safe = text.replace("{", "{{").replace("}", "}}")
            bar, self._bar = self._bar, None
            bar.bar_format = f"{_BAR_FORMAT} - {safe}"
            if bar.last_print_t < bar.start_t + bar.delay:
                # A fast epoch never drew its bar (see `delay`): print its last line.
                print(str(bar), file=self._out())
                bar.disable = True
            bar.close()
        elif self.verbose == 2:
            seconds = time.perf_counter() - self._start
            print(f"{self._epoch_label} - {seconds:.2f}s - {text}", file=self._out())

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    As in Keras: ``mode="auto"`` maximises monitors named like accuracy and minimises
    the rest; an improvement must beat the best value by more than ``min_delta``;
    with ``restore_best_weights=True`` the model ends with the weights of its best
    epoch.

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
        if not isinstance(monitor, str) or not monitor:
            raise GlassnetTypeError(
                f"Argument `monitor` must be a log name such as 'val_loss'. "
                f"Received: monitor={monitor!r}"
            )
        self.monitor = monitor
        self.min_delta = abs(check_nonnegative_float(min_delta, "min_delta"))
        self.patience = _check_count(patience, "patience")
        self.verbose = verbose
        self.mode = check_one_of(mode, "mode", ("auto", "min", "max"))
        self.baseline = baseline
        self.restore_best_weights = check_bool(
            restore_best_weights, "restore_best_weights"
        )
        self.start_from_epoch = _check_count(start_from_epoch, "start_from_epoch")
        if mode == "auto":
            mode = "max" if "acc" in monitor or "auc" in monitor else "min"
        self._sign = 1.0 if mode == "min" else -1.0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf
        self.best_weights: list[Any] | None = None
        self.best_epoch = 0

    def _improved(self, current: float, reference: float) -> bool:
        return self._sign * (current - reference) < -self.min_delta

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise InvalidArgumentError(
                f"EarlyStopping monitors '{self.monitor}', which is not in the logs. "
                f"Available: {', '.join(logs)}. (val_* logs need validation data.)"
            )
        current = self._sign * logs[self.monitor]
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if current - self.best < -self.min_delta:
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(
                logs[self.monitor], float(self.baseline)
            ):
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
                    f"Restoring model weights from the end of epoch {self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def __repr__(self) -> str:
        return f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience})"


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate before each epoch: ``schedule(epoch, lr)``.

    Examples
    --------
    >>> halve = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    """

    def __init__(
        self, schedule: Callable[[int, float], float], verbose: int = 0
    ) -> None:
        if not callable(schedule):
            raise GlassnetTypeError(
                "Argument `schedule` must be a function (epoch, lr) -> new lr. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer, _ = self.model.require_compiled("fit")
        new_lr = self.schedule(epoch, float(optimizer.learning_rate))
        if isinstance(new_lr, bool) or not isinstance(
            new_lr, (int, float, np.floating)
        ):
            raise GlassnetTypeError(
                "The schedule must return a number (the new learning rate). "
                f"Received: {new_lr!r} at epoch {epoch}"
            )
        optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            print(
                f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new_lr}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            optimizer, _ = self.model.require_compiled("fit")
            logs["learning_rate"] = float(optimizer.learning_rate)


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidArgumentError(
            f"Argument `{name}` must be a non-negative integer. Received: {name}={value!r}"
        )
    return int(value)
