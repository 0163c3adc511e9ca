"""The loss and metrics ``fit`` and ``evaluate`` report, whole-epoch or batch by batch.

Keras 3 accumulates them batch by batch: the loss as the mean of the batch losses
weighted by batch size, each metric in its running state. Two ways give its
numbers here:

- :func:`data_logs`, once over all of an epoch's samples at its end: every
  loss is a mean over samples and every metric's state a set of sums, so one
  vectorized pass equals the batch-by-batch accumulation. This is what a plain
  ``fit`` does: no per-batch bookkeeping at all.
- :class:`RunningLogs`, updated after every batch, for callbacks whose batch hooks
  read ``logs`` (Keras gives them the values *so far* in the epoch) and for data
  that arrives batch by batch (generators), where there is no epoch array.

With sample weights ``w`` (see :mod:`glassnet.models.sample_weights`), the loss
over ``n`` samples is ``sum(w * loss_i) / n``; the compiled metrics are not
weighted, as Keras 3 weighs only its ``weighted_metrics``.

>>> import numpy as np
>>> from glassnet.losses import MeanSquaredError
>>> weighted_loss_sum(MeanSquaredError(), np.array([[0.0], [0.0]]),
...                   np.array([[1.0], [2.0]]), np.array([1.0, 0.5]))
3.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glassnet._typing import Array
from glassnet.losses import Loss
from glassnet.metrics import Metric
from glassnet.metrics.inputs import log_value
from glassnet.models.outputs import (
    compute_head_logs,
    masked_loss_sum,
    metric_value,
    update_masked_metrics,
)
from glassnet.models.penalties import add_penalty

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = ["RunningLogs", "data_logs", "weighted_loss_sum"]


def weighted_loss_sum(loss: Loss, y_true: Any, y_pred: Any, w: Array | None) -> float:
    """``sum_i w_i * loss_i`` over the samples (``w`` None: every weight 1).

    >>> import numpy as np
    >>> from glassnet.losses import MeanAbsoluteError
    >>> weighted_loss_sum(MeanAbsoluteError(), np.zeros((2, 1)), np.ones((2, 1)), None)
    2.0
    """
    per_sample = loss.per_sample(y_true, y_pred)
    if w is None:
        return float(per_sample.sum())
    return float(per_sample @ w.astype(per_sample.dtype, copy=False))


def data_logs(
    model: Model, y_true: Any, y_pred: Any, sample_weight: Array | None = None
) -> dict[str, Any]:
    """The data loss and every compiled metric over all samples (no penalties).

    Each metric is reset, then given every sample at once: its state is a set of
    sums, so this is the value Keras accumulates batch by batch over an epoch (for
    AUC or precision, not a mean of batch values). A model with several outputs logs
    the weighted total and each output's parts (``models/outputs.py``).

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)])
    >>> model.compile(loss="mse")
    >>> y, p = np.zeros((2, 1)), np.array([[1.0], [3.0]])
    >>> data_logs(model, y, p), data_logs(model, y, p, np.array([1.0, 0.0]))
    ({'loss': 5.0}, {'loss': 0.5})
    """
    _, loss = model.require_compiled("evaluate")
    if sample_weight is None:
        if model.heads is not None:
            return compute_head_logs(model.heads, y_true, y_pred)
        logs: dict[str, Any] = {"loss": float(loss.forward(y_true, y_pred))}
        for metric in model.metrics:
            logs[metric.name] = metric_value(metric, y_true, y_pred)
        return logs
    running = RunningLogs(model, training=False)
    running.reset()
    running.update(y_true, y_pred, sample_weight)
    return running.result(penalties=False)


class RunningLogs:
    """The epoch's loss and metrics so far, updated one batch at a time.

    ``reset()`` at the start of an epoch (it resets the compiled metrics, as Keras
    does), ``update(y, y_pred, w)`` after each batch, ``result()`` for the logs:
    the loss is the sum of the (weighted) sample losses over the samples seen plus
    the regularization penalties (``models/penalties.py``: ``training`` says
    whether those of the train steps or of the prediction),
    each metric its ``result()``.

    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=1)])
    >>> model.compile(loss="mse", metrics=["mae"])
    >>> model.build((None, 1))
    >>> running = RunningLogs(model, training=False)
    >>> running.reset()
    >>> running.update(np.array([[0.0]]), np.array([[2.0]]), None)
    >>> running.update(np.array([[0.0]]), np.array([[1.0]]), None)
    >>> running.result()
    {'loss': 2.5, 'mae': 1.5}
    """

    def __init__(self, model: Model, training: bool = True) -> None:
        _, loss = model.require_compiled("fit")
        self.model, self.training = model, training
        self.heads = model.heads
        if self.heads is None:
            self.parts: list[tuple[str | None, Loss, list[Metric], float]] = [
                (None, loss, list(model.metrics), 1.0)
            ]
        else:
            self.parts = [
                (h.name, h.loss, list(h.metrics), h.weight) for h in self.heads
            ]
        self.sums = [0.0] * len(self.parts)
        self.count = 0

    def reset(self) -> None:
        """Forget the epoch so far; every compiled metric starts again."""
        self.sums = [0.0] * len(self.parts)
        self.count = 0
        for _, _, metrics, _ in self.parts:
            for metric in metrics:
                metric.reset_state()

    def update(self, y_true: Any, y_pred: Any, w: Array | None) -> None:
        """Add one batch (lists of arrays for a model with several outputs), right
        after the forward pass that made ``y_pred``: an output's padding mask is
        that pass's (``models/outputs.py``)."""
        ys = y_true if self.heads is not None else [y_true]
        ps = y_pred if self.heads is not None else [y_pred]
        self.count += len(ps[0])
        graph = self.model.graph
        if graph is not None and graph.masking:
            for i, ((_, loss, metrics, _), y, p, mask) in enumerate(
                zip(self.parts, ys, ps, graph.output_masks, strict=True)
            ):
                self.sums[i] += masked_loss_sum(loss, y, p, mask, w)
                update_masked_metrics(metrics, y, p, mask)
            return
        for i, ((_, loss, metrics, _), y, p) in enumerate(
            zip(self.parts, ys, ps, strict=True)
        ):
            self.sums[i] += weighted_loss_sum(loss, y, p, w)
            for metric in metrics:
                metric.update_state(y, p)  # Keras weighs only `weighted_metrics`

    def result(self, penalties: bool = True) -> dict[str, Any]:
        """The logs so far: ``loss``, then the metrics (or each output's parts)."""
        logs = self._data_logs()
        if penalties:
            add_penalty(self.model, logs, self.count, training=self.training)
        return logs

    def _data_logs(self) -> dict[str, Any]:
        count = self.count or 1
        if self.heads is None:
            _, _, metrics, _ = self.parts[0]
            logs: dict[str, Any] = {"loss": self.sums[0] / count}
            for metric in metrics:
                logs[metric.name] = log_value(metric.result())
            return logs
        losses = [total / count for total in self.sums]
        total = sum(
            weight * value
            for (_, _, _, weight), value in zip(self.parts, losses, strict=True)
        )
        logs = {"loss": total}
        for (name, _, _, _), value in zip(self.parts, losses, strict=True):
            logs[f"{name}_loss"] = value
        for name, _, metrics, _ in self.parts:
            for metric in metrics:
                logs[f"{name}_{metric.name}"] = log_value(metric.result())
        return logs
