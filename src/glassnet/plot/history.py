"""The training history: loss and every metric, training against validation."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet.callbacks import History
from glassnet.errors import DataError, GlassnetTypeError
from glassnet.plot._mpl import NEGATIVE, POSITIVE, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_history"]


def _logs(history: Any) -> tuple[dict[str, list[float]], list[int]]:
    """The logs as ``{name: values}`` and the epoch numbers (from 1)."""
    if isinstance(history, History):
        logs, epochs = history.history, [e + 1 for e in history.epoch]
    elif isinstance(history, Mapping):
        logs, epochs = dict(history), []
    else:
        raise GlassnetTypeError(
            "plot_history expects what fit() returns (a History) or its .history "
            f"dict. Received: {type(history).__name__}"
        )
    if not logs or not any(len(values) for values in logs.values()):
        raise DataError("The history is empty: train the model with fit() first.")
    length = max(len(values) for values in logs.values())
    if len(epochs) != length:
        epochs = list(range(1, length + 1))
    # a metric with one value per class (F1Score(average=None)) is drawn as their mean
    means = {key: [float(np.mean(v)) for v in values] for key, values in logs.items()}
    return means, epochs


def plot_history(history: Any, *, path: str | os.PathLike[str] | None = None) -> Figure:
    """Plot the loss and every metric per epoch, one axis each.

    Training values are solid blue; validation values (the ``val_*`` logs) dashed
    orange, with their best epoch marked (lowest, or highest for accuracy and AUC).

    Parameters
    ----------
    history : History or dict
        What ``model.fit`` returns, or its ``.history`` dict.
    path : str or PathLike, optional
        Also save the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> figure = plot_history({"loss": [0.7, 0.5, 0.4], "val_loss": [0.8, 0.6, 0.65]})
    >>> type(figure).__name__, len(figure.axes)
    ('Figure', 1)
    """
    logs, epochs = _logs(history)
    names = [k for k in logs if not k.startswith("val_")]
    names += [k for k in logs if k.startswith("val_") and k[4:] not in logs]
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    figure = new_figure((4.2 * cols, 3.0 * rows))
    for index, name in enumerate(names):
        ax = figure.add_subplot(rows, cols, index + 1)
        if name in logs:
            values = logs[name]
            label = "training" if not name.startswith("val_") else "validation"
            ax.plot(epochs[: len(values)], values, color=POSITIVE, label=label)
        val = logs.get(f"val_{name}")
        if val:
            ax.plot(
                epochs[: len(val)], val, color=NEGATIVE, ls="--", label="validation"
            )
            maximize = "acc" in name or "auc" in name
            best = max(range(len(val)), key=lambda i: val[i] if maximize else -val[i])
            ax.plot(epochs[best], val[best], "o", color=NEGATIVE, ms=5)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if val or name.startswith("val_"):
            ax.legend(frameon=False)
    figure.tight_layout()
    return finish(figure, path)
