"""The epoch line of ``glassnet train``: short enough for an 80-column terminal.

::

    epoch   57/5000  loss 0.0545  acc 0.975  val_loss 0.0885  val_acc 0.9667 *

Names are shortened (``accuracy`` -> ``acc``), numbers keep 4 significant digits,
and ``*`` marks an epoch that improved the monitored loss by more than early
stopping's ``min_delta`` (the weights it would keep). A regression's ``mae`` is
shown in the target's own units (the network learns the standardized target; its
``loss`` is on that scale).

``--verbose 2`` prints every epoch; ``--verbose 1`` (the default) prints the
first epoch and then at most one line a second, plus the last epoch, so that a
thousand fast epochs make a few lines, not a thousand. On a terminal, a long
epoch also shows its steps so far (``epoch 3/20  12,000/25,000 steps``), in place.

>>> line = epoch_line(56, 5000, {"loss": 0.05448, "accuracy": 0.975,
...                              "val_loss": 0.08851, "val_accuracy": 0.96667}, True)
>>> line
'epoch   57/5000  loss 0.05448  acc 0.975  val_loss 0.08851  val_acc 0.9667 *'
>>> len(line) <= 80
True
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import numpy as np

from glassnet.callbacks import Callback, Logs

__all__ = ["EpochLines", "epoch_line", "short_logs", "unscaled_logs"]

_SHORT = {"accuracy": "acc", "binary_accuracy": "acc", "mean_absolute_error": "mae"}
#: how each regression metric scales with the target: value * scale ** power
_POWER = {
    "mae": 1,
    "mean_absolute_error": 1,
    "rmse": 1,
    "mse": 2,
    "mean_squared_error": 2,
}


def unscaled_logs(logs: Logs, scale: float | None) -> dict[str, float]:
    """The logs with regression metrics (not the loss) in the target's units."""
    result = {}
    for key, value in logs.items():
        number = float(np.mean(value))
        base = key.removeprefix("val_")
        if scale is not None and base in _POWER:
            number *= scale ** _POWER[base]
        result[key] = number
    return result


def short_logs(logs: dict[str, float]) -> str:
    """``loss 0.05448  acc 0.975``: short names, 4 significant digits."""
    parts = []
    for key, value in logs.items():
        prefix = "val_" if key.startswith("val_") else ""
        name = key.removeprefix("val_")
        parts.append(f"{prefix}{_SHORT.get(name, name)} {value:.4g}")
    return "  ".join(parts)


def epoch_line(epoch: int, epochs: int, logs: dict[str, float], improved: bool) -> str:
    """One epoch's line (see the module docstring)."""
    width = len(str(epochs))
    mark = " *" if improved else ""
    return f"epoch {epoch + 1:>{width}}/{epochs}  {short_logs(logs)}{mark}"


class EpochLines(Callback):
    """Prints :func:`epoch_line` as described in the module docstring."""

    uses_batch_logs = False

    def __init__(
        self,
        verbose: int,
        monitor: str,
        target_scale: float | None = None,
        min_delta: float = 0.0,
        stream: TextIO | None = None,
    ) -> None:
        super().__init__()
        self.verbose = verbose
        self.monitor = monitor
        self.target_scale = target_scale
        self.min_delta = min_delta
        self.stream = stream
        self.best: float | None = None
        self.best_logs: dict[str, float] = {}
        self.terminal = False
        self.last_shown = -1.0
        self.pending: str | None = None
        self.epoch = 0
        self.last_step = 0.0
        self.stepping = False

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best = None
        self.last_shown = -1.0
        out = self.stream or sys.stdout
        self.terminal = bool(getattr(out, "isatty", lambda: False)())
        self.last_step = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self.terminal:
            return
        now = time.perf_counter()
        if now - self.last_step < 0.5:
            return
        self.last_step = now
        epochs, steps = (
            int(self.params.get("epochs", 0)),
            int(self.params.get("steps", 0)),
        )
        text = f"epoch {self.epoch + 1}/{epochs}  {batch + 1:,}/{steps:,} steps"
        print(f"\r{text}", end="", file=self.stream or sys.stdout, flush=True)
        self.stepping = True

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        values = unscaled_logs(logs or {}, self.target_scale)
        current = values.get(self.monitor)
        improved = current is not None and (
            self.best is None or current < self.best - self.min_delta
        )
        if improved:
            self.best = current
            self.best_logs = values
        line = epoch_line(epoch, int(self.params.get("epochs", 0)), values, improved)
        now = time.perf_counter()
        if self.verbose >= 2 or self.last_shown < 0 or now - self.last_shown >= 1.0:
            self._print(line)
            self.last_shown = now
            self.pending = None
        else:
            self.pending = line

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.pending is not None:
            self._print(self.pending)
            self.pending = None

    def _print(self, text: str) -> None:
        if self.stepping:  # replace the steps line
            text = "\r" + text.ljust(40)
            self.stepping = False
        print(text, file=self.stream or sys.stdout)

    def __repr__(self) -> str:
        return f"EpochLines(verbose={self.verbose})"
