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
over ``n`` samples is ``sum(w * loss_i) / n``; of the compiled metrics, only those
of ``weighted_metrics`` are given the weights, as in Keras 3
(:mod:`glassnet.models.compiled_metrics`).

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
from glassnet.metrics.inputs import log_value
from glassnet.models.compiled_metrics import logged_metrics
from glassnet.models.outputs import (
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
    the weighted total and each output's parts (``models/outputs.py``); the
    metrics of ``weighted_metrics`` get ``sample_weight``
    (``models/compiled_metrics.py``).

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)])
    >>> model.compile(loss="mse", weighted_metrics=["mae"])
    >>> y, p = np.zeros((2, 1)), np.array([[1.0], [3.0]])
    >>> data_logs(model, y, p), data_logs(model, y, p, np.array([1.0, 0.0]))
    ({'loss': 5.0, 'mae': 2.0}, {'loss': 0.5, 'mae': 1.0})
    """
    model.require_compiled("evaluate")
    if sample_weight is None:
        ys = y_true if model.heads is not None else [y_true]
        ps = y_pred if model.heads is not None else [y_pred]
        parts = [
            None if loss is None else float(loss.forward(y, p))
            for (_, loss, _), y, p in zip(_losses(model), ys, ps, strict=True)
        ]
        logs = _loss_logs(model, parts)
        for entry in logged_metrics(model):
            o = entry.output
            logs[entry.key] = metric_value(entry.metric, ys[o], ps[o])
        return logs
    running = RunningLogs(model, training=False)
    running.reset()
    running.update(y_true, y_pred, sample_weight)
    return running.result(penalties=False)


def _losses(model: Model) -> list[tuple[str | None, Loss | None, float]]:
    """(output name, loss, weight) per output; one ``(None, loss, 1.0)`` for one."""
    if model.heads is None:
        return [(None, model.require_compiled("fit")[1], 1.0)]
    return [(h.name, h.loss, h.weight) for h in model.heads]


def _loss_logs(model: Model, parts: list[float | None]) -> dict[str, Any]:
    """``loss`` (the weighted sum over the outputs with a loss), then
    ``<output>_loss`` when several outputs have one, as Keras 3 logs them."""
    if model.heads is None:
        return {"loss": parts[0]}
    named = [
        (name, weight, value)
        for (name, _, weight), value in zip(_losses(model), parts, strict=True)
        if value is not None
    ]
    logs: dict[str, Any] = {"loss": sum(weight * value for _, weight, value in named)}
    if len(named) > 1:
        logs.update({f"{name}_loss": value for name, _, value in named})
    return logs


class RunningLogs:
    """The epoch's loss and metrics so far, updated one batch at a time.

    ``reset()`` at the start of an epoch (it resets the compiled metrics, as Keras
    does), ``update(y, y_pred, w)`` after each batch, ``result()`` for the logs:
    the loss is the sum of the (weighted) sample losses over the samples seen plus
    the regularization penalties (``models/penalties.py``: ``training`` says
    whether those of the train steps or of the prediction),
    each metric its ``result()``; the weighted metrics are given ``w``.

    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=1)])
    >>> model.compile(loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    >>> model.build((None, 1))
    >>> running = RunningLogs(model, training=False)
    >>> running.reset()
    >>> running.update(np.array([[0.0]]), np.array([[2.0]]), np.array([3.0]))
    >>> running.update(np.array([[0.0]]), np.array([[1.0]]), np.array([1.0]))
    >>> running.result()      # loss (3*4 + 1*1) / 2; weighted mae (3*2 + 1*1) / 4
    {'loss': 6.5, 'mae': 1.5, 'weighted_mae': 1.75}
    """

    def __init__(self, model: Model, training: bool = True) -> None:
        model.require_compiled("fit")
        self.model, self.training = model, training
        self.heads = model.heads
        self.parts = _losses(model)
        self.entries = logged_metrics(model)
        self.sums = [0.0] * len(self.parts)
        self.count = 0

    def reset(self) -> None:
        """Forget the epoch so far; every compiled metric starts again."""
        self.sums = [0.0] * len(self.parts)
        self.count = 0
        for entry in self.entries:
            entry.metric.reset_state()

    def update(self, y_true: Any, y_pred: Any, w: Array | None) -> None:
        """Add one batch (lists of arrays for a model with several outputs), right
        after the forward pass that made ``y_pred``: an output's padding mask is
        that pass's (``models/outputs.py``)."""
        ys = y_true if self.heads is not None else [y_true]
        ps = y_pred if self.heads is not None else [y_pred]
        self.count += len(ps[0])
        graph = self.model.graph
        masks = (
            graph.output_masks
            if graph is not None and graph.masking
            else [None] * len(self.parts)
        )
        for i, ((_, loss, _), y, p, mask) in enumerate(
            zip(self.parts, ys, ps, masks, strict=True)
        ):
            if loss is None:
                continue
            if mask is None:
                self.sums[i] += weighted_loss_sum(loss, y, p, w)
            else:
                self.sums[i] += masked_loss_sum(loss, y, p, mask, w)
        for entry in self.entries:  # Keras weighs only `weighted_metrics`
            o, weight = entry.output, w if entry.weighted else None
            if masks[o] is None:
                entry.metric.update_state(ys[o], ps[o], sample_weight=weight)
            else:
                update_masked_metrics([entry.metric], ys[o], ps[o], masks[o], weight)

    def result(self, penalties: bool = True) -> dict[str, Any]:
        """The logs so far: ``loss``, then the metrics (or each output's parts)."""
        count = self.count or 1
        logs = _loss_logs(
            self.model,
            [
                None if loss is None else total / count
                for (_, loss, _), total in zip(self.parts, self.sums, strict=True)
            ],
        )
        for entry in self.entries:
            logs[entry.key] = log_value(entry.metric.result())
        if penalties:
            add_penalty(self.model, logs, self.count, training=self.training)
        return logs
