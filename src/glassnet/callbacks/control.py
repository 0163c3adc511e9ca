"""Small callbacks that steer or record training.

``LearningRateScheduler`` (the rate per epoch), ``TerminateOnNaN`` (stop at the
first batch whose loss is NaN or inf), ``LambdaCallback`` (hooks from plain
functions) and ``CSVLogger`` (one row of logs per epoch).

>>> LambdaCallback(on_epoch_end=lambda epoch, logs: None).uses_batch_logs
True
"""

from __future__ import annotations

import csv
import inspect
import math
import os
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from glassnet._validation import check_bool
from glassnet.callbacks.base import Callback, Logs
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["CSVLogger", "LambdaCallback", "LearningRateScheduler", "TerminateOnNaN"]


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate before each epoch: ``schedule(epoch, lr)``.

    ``schedule`` may also take the epoch alone (Keras' older form). The logs gain
    ``learning_rate``.

    Examples
    --------
    >>> halve = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise GlassnetTypeError(
                "Argument `schedule` must be a function (epoch, lr) -> new lr. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose
        self._takes_rate = _positional_count(schedule) != 1

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer, _ = self.model.require_compiled("fit")
        if self._takes_rate:
            new_lr = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            new_lr = self.schedule(epoch)
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
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{new_lr}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            optimizer, _ = self.model.require_compiled("fit")
            logs["learning_rate"] = float(optimizer.learning_rate)


def _positional_count(function: Callable[..., Any]) -> int:
    """How many positional arguments ``function`` takes (2 when it cannot tell)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 2
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(p.kind in kinds for p in parameters)


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or inf, as Keras does.

    The batch's update has happened; ``fit`` ends after that batch. With
    ``raise_error=True`` it raises instead (a RuntimeError naming the batch).

    >>> TerminateOnNaN().raise_error
    False
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = check_bool(raise_error, "raise_error")

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


#: the hooks LambdaCallback takes, and how many arguments each function gets
_LAMBDA_HOOKS = {
    "on_epoch_begin": 2,
    "on_epoch_end": 2,
    "on_train_begin": 1,
    "on_train_end": 1,
    "on_train_batch_begin": 2,
    "on_train_batch_end": 2,
    "on_test_begin": 1,
    "on_test_end": 1,
    "on_test_batch_begin": 2,
    "on_test_batch_end": 2,
    "on_predict_begin": 1,
    "on_predict_end": 1,
    "on_predict_batch_begin": 2,
    "on_predict_batch_end": 2,
}


class LambdaCallback(Callback):
    """A callback made of plain functions, one per hook, as Keras' ``LambdaCallback``.

    ``on_epoch_begin`` / ``on_epoch_end`` get ``(epoch, logs)``, the batch hooks
    ``(batch, logs)``, the begin/end hooks ``(logs)``. Keras' six are named
    arguments; the test and predict hooks can be given by name too.

    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> seen = []
    >>> log = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> _ = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=3, callbacks=[log],
    ...               verbose=0)
    >>> seen
    [0, 1, 2]
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        unknown = sorted(set(kwargs) - set(_LAMBDA_HOOKS))
        if unknown:
            raise InvalidArgumentError(
                f"LambdaCallback takes hooks named {', '.join(_LAMBDA_HOOKS)}. "
                f"Received: {', '.join(unknown)}"
            )
        given = dict(
            kwargs,
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
        )
        for hook, function in given.items():
            if function is None:
                continue
            if not callable(function):
                raise GlassnetTypeError(
                    f"Argument `{hook}` must be a function. Received: {function!r}"
                )
            setattr(self, hook, function)


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row: ``epoch`` (from 0), then the logs sorted.

    As Keras: the columns are fixed at the first epoch (with ``val_`` columns even
    without validation data, filled with ``NA``); ``append=True`` adds to an
    existing file (a header only if it is empty), e.g. when training resumes;
    the file is flushed after every row.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> _ = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=2,
    ...               callbacks=[CSVLogger(path, separator=";")], verbose=0)
    >>> open(path).read().splitlines()[0]
    'epoch;loss;val_loss'
    """

    def __init__(
        self, filename: Any, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        if isinstance(filename, os.PathLike):
            filename = os.fspath(filename)
        if not isinstance(filename, str) or not filename:
            raise GlassnetTypeError(
                f"Argument `filename` must be a file path. Received: filename={filename!r}"
            )
        if not isinstance(separator, str) or len(separator) != 1:
            raise InvalidArgumentError(
                "Argument `separator` must be one character. "
                f"Received: separator={separator!r}"
            )
        self.filename = filename
        self.sep = separator
        self.append = check_bool(append, "append")
        self.keys: list[str] | None = None
        self._file: IO[str] | None = None
        self._writer: Any = None
        self._header = True

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as existing:
                self._header = not existing.readline()
        if self._file is not None and not self._file.closed:
            self._file.close()
        mode = "a" if self.append else "w"
        self._file = open(self.filename, mode, newline="", encoding="utf-8")
        self._writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if self._writer is None:
            assert self._file is not None, "on_train_begin opened the file"
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if self._header:
                self._writer.writeheader()
        row: dict[str, Any] = {"epoch": epoch}
        row.update((key, _cell(logs.get(key, "NA"))) for key in self.keys)
        self._writer.writerow(row)
        assert self._file is not None
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._writer = None


def _cell(value: Any) -> Any:
    """A per-class array as ``"[0.5, 1.0]"``, as Keras writes it; anything else as is."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"[{', '.join(map(str, value.tolist()))}]"
    return value
