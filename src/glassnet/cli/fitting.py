"""How long ``glassnet train`` trains: until the validation loss stops improving.

Defaults that work from 100 rows to millions:

- **Validation**: 20% of the rows (shuffled with ``--seed`` first) when that is at
  least :data:`MIN_VALIDATION_ROWS` rows; otherwise none, and the training loss is
  watched instead.
- **Patience** counts epochs, but an epoch of a 100-row table is 3 steps: the
  default waits ``max(MIN_PATIENCE, PATIENCE_STEPS / steps per epoch)`` epochs
  without improvement (``min_delta`` :data:`MIN_DELTA`) before stopping, and keeps
  the best epoch's weights.
- **Epoch limit**: ``max(MIN_EPOCHS, MAX_STEPS / steps per epoch)`` unless
  ``--epochs`` gives one. Ending there while the monitored loss still improved in
  the last ``patience`` epochs warns, as scikit-learn's ``ConvergenceWarning`` does.

>>> patience_for(steps_per_epoch=3), patience_for(steps_per_epoch=25_000)
(84, 10)
>>> epoch_limit(steps_per_epoch=3), epoch_limit(steps_per_epoch=25_000)
(6667, 20)
"""

from __future__ import annotations

import argparse
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MAX_STEPS",
    "MIN_DELTA",
    "MIN_EPOCHS",
    "MIN_PATIENCE",
    "MIN_VALIDATION_ROWS",
    "PATIENCE_STEPS",
    "Schedule",
    "epoch_limit",
    "patience_for",
    "plan_schedule",
]

MIN_VALIDATION_ROWS = 10
VALIDATION_SHARE = 0.2
PATIENCE_STEPS = 250
MIN_PATIENCE = 10
MAX_STEPS = 20_000
MIN_EPOCHS = 20
MIN_DELTA = 1e-4


def patience_for(steps_per_epoch: int) -> int:
    """Epochs to wait for an improvement (see the module docstring)."""
    return max(MIN_PATIENCE, math.ceil(PATIENCE_STEPS / steps_per_epoch))


def epoch_limit(steps_per_epoch: int) -> int:
    """The default upper bound on epochs."""
    return max(MIN_EPOCHS, math.ceil(MAX_STEPS / steps_per_epoch))


@dataclass
class Schedule:
    """The training loop's settings, decided before it starts."""

    validation_split: float
    validation_rows: int
    train_rows: int
    batch_size: int
    steps_per_epoch: int
    epochs: int
    #: None: no early stopping
    patience: int | None
    monitor: str

    def describe(self) -> str:
        rows = f"{self.train_rows:,} rows in batches of {self.batch_size}"
        rows += (
            f", validating on {self.validation_rows:,}" if self.validation_rows else ""
        )
        if self.patience is None:
            return f"{rows}; {self.epochs} epochs"
        return (
            f"{rows}; stops when {self.monitor} has not improved for {self.patience} "
            f"epochs, at most {self.epochs}"
        )


def plan_schedule(args: argparse.Namespace, n_rows: int) -> Schedule:
    """The schedule for ``n_rows`` rows and the flags (``None`` flags: defaults)."""
    split = args.validation_split
    if split is None:
        split = VALIDATION_SHARE
        if n_rows - math.floor(n_rows * (1 - split)) < MIN_VALIDATION_ROWS:
            split = 0.0
    held = int(n_rows - np.floor(n_rows * (1.0 - split))) if split else 0
    train_rows = n_rows - held
    if train_rows < 1:
        from glassnet.cli.app import CliError

        raise CliError(
            f"--validation-split {split} leaves no rows to train on ({n_rows} rows)"
        )
    batch = min(args.batch_size, train_rows)
    steps = math.ceil(train_rows / batch)
    epochs = args.epochs if args.epochs is not None else epoch_limit(steps)
    patience: int | None
    if args.patience == "off":
        patience = None
    elif args.patience is None:
        patience = patience_for(steps)
    else:
        patience = int(args.patience)
    monitor = "val_loss" if held else "loss"
    return Schedule(split, held, train_rows, batch, steps, epochs, patience, monitor)


def early_stopping(schedule: Schedule) -> Any:
    from glassnet.callbacks import EarlyStopping

    if schedule.patience is None:
        return None
    return EarlyStopping(
        schedule.monitor,
        patience=schedule.patience,
        min_delta=MIN_DELTA,
        restore_best_weights=True,
    )


def best_epoch(history: dict[str, list[float]], monitor: str) -> int:
    """The epoch (from 0) with the lowest monitored value."""
    values = np.asarray(history.get(monitor, []), dtype=np.float64)
    if values.size == 0 or not np.isfinite(values).any():
        return max(len(values) - 1, 0)
    return int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))


def warn_if_unconverged(
    schedule: Schedule, history: dict[str, list[float]], stopped_early: bool
) -> bool:
    """Warn when training hit the epoch limit while the monitor still improved."""
    from glassnet.errors import ConvergenceWarning

    values = np.asarray(history.get(schedule.monitor, []), dtype=np.float64)
    epochs = len(values)
    if stopped_early or epochs < schedule.epochs or epochs == 0:
        return False
    window = schedule.patience or patience_for(schedule.steps_per_epoch)
    best = best_epoch(history, schedule.monitor)
    earlier = values[: max(epochs - window, 0)]
    still_improving = best >= epochs - window and (
        earlier.size == 0 or values[best] < np.nanmin(earlier) - MIN_DELTA
    )
    if still_improving:
        warnings.warn(
            f"training reached the limit of {schedule.epochs} "
            f"epoch{'s' if schedule.epochs != 1 else ''} while "
            f"{schedule.monitor} was still improving (best at epoch {best + 1}); the "
            "model may not have converged: raise --epochs or --lr",
            ConvergenceWarning,
            stacklevel=2,
        )
    return still_improving
