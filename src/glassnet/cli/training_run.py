"""Running ``glassnet train``'s loop: progress, early stopping, Ctrl-C, saving.

The model is saved with its :class:`~glassnet.cli.info.ModelInfo` and a training
record (loss, optimizer, epochs, the best epoch and its metrics, in the target's
units) that ``glassnet summary`` shows. Weights that became NaN or inf are never
saved.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from glassnet.cli.app import EXIT_INTERRUPTED, EXIT_OK, CliError
from glassnet.cli.fitting import (
    MIN_DELTA,
    Schedule,
    early_stopping,
    warn_if_unconverged,
)
from glassnet.cli.info import ModelInfo
from glassnet.cli.interrupt import StopAtBatchEnd, TrainingInterrupted, catch_ctrl_c
from glassnet.cli.progress import EpochLines, short_logs, unscaled_logs

__all__ = ["fit_and_save"]


def fit_and_save(
    model: Any,
    x: Any,
    y: Any,
    info: ModelInfo,
    args: argparse.Namespace,
    schedule: Schedule,
) -> int:
    """Train ``model`` on ``(x, y)`` as ``schedule`` says and save it to ``args.output``."""
    from glassnet.cli.modelfile import save_model

    lines = (
        EpochLines(args.verbose, schedule.monitor, info.target_scale, MIN_DELTA)
        if args.verbose
        else None
    )
    early = early_stopping(schedule)
    stopped: TrainingInterrupted | None = None
    history: dict[str, list[float]] = {}
    with catch_ctrl_c() as ctrl_c:
        callbacks = [c for c in (lines, early) if c is not None]
        try:
            result = model.fit(
                x,
                y,
                batch_size=schedule.batch_size,
                epochs=schedule.epochs,
                verbose=0,
                callbacks=[*callbacks, StopAtBatchEnd(ctrl_c)],
                validation_split=schedule.validation_split,
            )
            history = result.history
        except TrainingInterrupted as stop:
            stopped = stop
            history = dict(getattr(model.history, "history", {}) or {})
            if lines is not None:
                lines.on_train_end()
        losses = np.asarray(history.get("loss", []), dtype=np.float64)
        if not all(np.isfinite(w).all() for w in model.get_weights()) or not (
            np.isfinite(losses).all()
        ):
            raise CliError(
                f"training diverged (the loss or the weights became NaN or inf), so "
                f"{args.output} was not written; try a smaller --lr"
            )
        stopped_early = bool(early is not None and early.stopped_epoch)
        kept = None if early is None or stopped is not None else early.best_epoch
        info.training = _record(model, args, schedule, info, history, stopped, kept)
        save_model(model, args.output, info)
        if stopped is None and ctrl_c.pressed:  # Ctrl-C after the last batch
            stopped = TrainingInterrupted(schedule.epochs - 1, -1, 0)
    if stopped is not None:
        where = f"in epoch {stopped.epoch + 1}/{schedule.epochs}"
        if stopped.batch >= 0:
            where += f" after batch {stopped.batch + 1}/{stopped.steps}"
        print(
            f"glassnet: interrupted {where}: saved the model trained so far to "
            f"{args.output}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if args.verbose:
        _print_result(args.output, info.training)
    warn_if_unconverged(schedule, history, stopped_early)
    return EXIT_OK


def _record(
    model: Any,
    args: argparse.Namespace,
    schedule: Schedule,
    info: ModelInfo,
    history: dict[str, list[float]],
    stopped: TrainingInterrupted | None,
    best: int | None,
) -> dict[str, Any]:
    epochs = len(next(iter(history.values()), []))
    kept = epochs - 1 if best is None else best  # early stopping restored its best
    stopped_early = bool(epochs < schedule.epochs and stopped is None)
    final: dict[str, float] = {}
    if epochs and kept >= 0:
        at_best = {key: values[kept] for key, values in history.items()}
        final = {
            key: value
            for key, value in unscaled_logs(at_best, info.target_scale).items()
            if np.isfinite(value)
        }
    rate = getattr(model.optimizer, "learning_rate", None)
    how = (
        "interrupted"
        if stopped
        else "early stopping"
        if stopped_early
        else "epoch limit"
    )
    return {
        "loss": str(getattr(model.loss, "name", model.loss)),
        "optimizer": str(args.optimizer),
        "learning_rate": float(rate) if isinstance(rate, (int, float)) else None,
        "batch_size": schedule.batch_size,
        "rows": schedule.train_rows,
        "validation_rows": schedule.validation_rows,
        "epochs": epochs,
        "epoch_limit": schedule.epochs,
        "kept_epoch": kept + 1,
        "ended_by": how,
        "final": final,
    }


def _print_result(output: str, record: dict[str, Any] | None) -> None:
    assert record is not None
    epochs = record["epochs"]
    note = f"{epochs} epoch{'s' if epochs != 1 else ''}"
    if record["ended_by"] == "early stopping":
        note += f", stopped early; weights of epoch {record['kept_epoch']} kept"
    elif record["kept_epoch"] != epochs:
        note += f"; weights of epoch {record['kept_epoch']} kept"
    print(f"Saved {output} after {note}:")
    print(f"          {short_logs(record['final'])}")
