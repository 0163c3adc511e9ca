"""``ModelCheckpoint``: save the model (or its weights) while it trains, as Keras does.

The file name is a template filled at each save: ``{epoch}`` (from 1), ``{batch}``
(from 1, with an integer ``save_freq``) and any log of the epoch, with Python's
format specs: ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"`` gives
``ckpt-03-0.41.keras``. ``fit`` checks the template before the first epoch: a key
it will not log (a typo, ``val_loss`` without validation data) or a spec that does
not fit its value is an error naming the keys there are, raised before any weight
changes or any file is written. Every write is atomic (:mod:`glassnet.io.atomic`):
a crash mid-save leaves the previous checkpoint whole.

>>> ModelCheckpoint("ckpt-{epoch:02d}-{val_loss:.2f}.keras").filepath
'ckpt-{epoch:02d}-{val_loss:.2f}.keras'
"""

from __future__ import annotations

import difflib
import os
import string
from typing import Any

from glassnet._validation import check_bool, is_integer
from glassnet.callbacks.base import Logs
from glassnet.callbacks.monitor import MonitorCallback, validation_skipped
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["ModelCheckpoint", "check_save_freq"]


def check_save_freq(save_freq: Any) -> str | int:
    """``"epoch"`` or a positive number of batches.

    >>> check_save_freq("epoch"), check_save_freq(100)
    ('epoch', 100)
    """
    if save_freq == "epoch":
        return "epoch"
    if not is_integer(save_freq) or save_freq < 1:
        raise InvalidArgumentError(
            "Argument `save_freq` must be 'epoch' or a positive number of batches. "
            f"Received: save_freq={save_freq!r}"
        )
    return int(save_freq)


def template_keys(template: str, name: str = "filepath") -> list[str]:
    """The named fields of a format template; positional ``{}`` fields are refused.

    >>> template_keys("m-{epoch:02d}-{val_loss:.2f}.keras")
    ['epoch', 'val_loss']
    """
    try:
        fields = [
            f for _, f, _, _ in string.Formatter().parse(template) if f is not None
        ]
    except ValueError as error:
        raise InvalidArgumentError(
            f"Argument `{name}` is not a valid template ({error}). Received: "
            f"{name}={template!r}"
        ) from None
    keys = []
    for field in fields:
        key = field.split(".")[0].split("[")[0]
        if not key or key.isdigit():
            raise InvalidArgumentError(
                f"Argument `{name}` may only use named fields such as {{epoch}} or "
                f"{{val_loss}}. Received: {name}={template!r}"
            )
        keys.append(key)
    return keys


class ModelCheckpoint(MonitorCallback):
    """Save the model or its weights at the end of epochs (or every ``save_freq`` batches).

    Parameters
    ----------
    filepath : str or os.PathLike
        A template (see the module docstring) ending in ``.keras`` or ``.h5`` (the
        whole model), or ``.weights.h5`` with ``save_weights_only=True``.
    monitor : str, default="val_loss"
        The log compared when ``save_best_only``.
    verbose : int, default=0
        1 prints a line per save (and per skipped save).
    save_best_only : bool, default=False
        Save only when ``monitor`` beats the best value seen (``mode`` as in
        :class:`EarlyStopping`); the best carries over to the next ``fit``.
    save_weights_only : bool, default=False
        ``model.save_weights`` instead of ``model.save``.
    mode : {"auto", "min", "max"}
    save_freq : "epoch" or int, default="epoch"
        With an int, save after every that many batches (counted across epochs),
        with the batch's running logs.
    initial_value_threshold : float, optional
        The value ``monitor`` must beat for the first save with ``save_best_only``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> folder = tempfile.mkdtemp()
    >>> save = ModelCheckpoint(os.path.join(folder, "m-{epoch:02d}-{loss:.2f}.keras"))
    >>> _ = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=2, callbacks=[save],
    ...               verbose=0)
    >>> sorted(os.listdir(folder))
    ['m-01-0.28.keras', 'm-02-0.25.keras']
    """

    def __init__(
        self,
        filepath: Any,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, initial_value_threshold, 0.0)
        if isinstance(filepath, os.PathLike):
            filepath = os.fspath(filepath)
        if not isinstance(filepath, str) or not filepath:
            raise GlassnetTypeError(
                "Argument `filepath` must be a file path (str or pathlib.Path). "
                f"Received: filepath={filepath!r}"
            )
        self.filepath = filepath
        self.verbose = verbose
        self.save_best_only = check_bool(save_best_only, "save_best_only")
        self.save_weights_only = check_bool(save_weights_only, "save_weights_only")
        self.save_freq = check_save_freq(save_freq)
        if self.save_weights_only and not filepath.endswith(".weights.h5"):
            raise InvalidArgumentError(
                "With save_weights_only=True the filepath must end in `.weights.h5` "
                f"(Keras' weights format). Received: filepath={filepath!r}"
            )
        if not self.save_weights_only and (
            not filepath.endswith((".keras", ".h5")) or filepath.endswith(".weights.h5")
        ):
            raise InvalidArgumentError(
                "The filepath must end in `.keras` (or `.h5`), or in `.weights.h5` "
                f"with save_weights_only=True. Received: filepath={filepath!r}"
            )
        self.keys = template_keys(filepath)
        self._batches_since_save = 0
        self._epoch = 0
        if self.save_freq != "epoch":
            # Only then is there a batch hook: an epoch-wise checkpoint costs nothing
            # per batch and never makes fit compute batch logs.
            self.on_train_batch_end = self._on_batch_end  # type: ignore[method-assign]

    def check_log_names(self, names: set[str]) -> None:
        """Refuse a template key or monitor ``fit`` will not log, before any epoch.

        ``names`` are the epoch logs ``fit`` will produce (the loss, the metrics,
        their ``val_`` versions with validation data, what callbacks add).
        """
        super().check_log_names(names)
        allowed = (
            names | {"epoch"} | ({"batch"} if self.save_freq != "epoch" else set())
        )
        for key in self.keys:
            if key not in allowed:
                raise InvalidArgumentError(
                    f"ModelCheckpoint's filepath uses {{{key}}}, which fit will not "
                    f"log{_did_you_mean(key, allowed)}. Keys: "
                    f"{', '.join(sorted(allowed))}. Received: filepath={self.filepath!r}"
                )
        sample = dict.fromkeys(allowed, 0.5) | {"epoch": 1, "batch": 1}
        try:
            self.filepath.format(**sample)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            raise InvalidArgumentError(
                f"ModelCheckpoint's filepath cannot be filled in ({error}): {{epoch}} "
                "and {batch} are integers, logs are floats (e.g. {val_loss:.2f}). "
                f"Received: filepath={self.filepath!r}"
            ) from None
        if self.save_best_only and self.monitor not in names:
            raise InvalidArgumentError(
                f"ModelCheckpoint(save_best_only=True) monitors '{self.monitor}', which "
                f"fit will not log{_did_you_mean(self.monitor, names)}. Logs: "
                f"{', '.join(sorted(names))}. (val_* logs need validation data.)"
            )

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._batches_since_save += 1
        if self._batches_since_save >= int(self.save_freq):
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs or {})

    def path_for(self, epoch: int, batch: int | None, logs: Logs) -> str:
        """The file name for a save at ``epoch`` (from 0) and ``batch``."""
        values: dict[str, Any] = {key: _number(value) for key, value in logs.items()}
        values["epoch"] = epoch + 1
        if batch is not None:
            values["batch"] = batch + 1
        try:
            return self.filepath.format(**values)
        except KeyError as error:
            raise InvalidArgumentError(
                f"ModelCheckpoint's filepath uses {{{error.args[0]}}}, which is not in "
                f"the logs: {', '.join(sorted(values))}. Received: "
                f"filepath={self.filepath!r}"
            ) from None

    def _save(self, epoch: int, batch: int | None, logs: Logs) -> None:
        needs = [*self.keys, *([self.monitor] if self.save_best_only else [])]
        if batch is None and any(
            key not in logs and validation_skipped(key, logs) for key in needs
        ):
            if self.verbose > 0:  # fit(validation_freq=...) skipped this epoch
                print(f"\nEpoch {epoch + 1}: not validated, no checkpoint")
            return
        path = self.path_for(epoch, batch, logs)
        if self.save_best_only:
            if self.monitor not in logs:
                raise InvalidArgumentError(
                    f"ModelCheckpoint monitors '{self.monitor}', which is not in the "
                    f"logs. Available: {', '.join(logs) or 'none'}."
                )
            current = _number(logs[self.monitor])
            best = "None" if self.best is None else f"{self.best:.5f}"
            if not self.is_improvement(current, self.best):
                if self.verbose > 0:
                    print(
                        f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}"
                    )
                return
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                    f"{current:.5f}, saving model to {path}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if os.path.isdir(path):
            raise IsADirectoryError(
                f"ModelCheckpoint's filepath names an existing folder: {path}"
            )
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")

    def __repr__(self) -> str:
        return f"ModelCheckpoint({self.filepath!r}, monitor={self.monitor!r})"


def _number(value: Any) -> Any:
    """A log value as a plain float for format specs (a per-class array: its mean)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        import numpy as np

        return float(np.mean(value))


def _did_you_mean(key: str, names: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(names), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
