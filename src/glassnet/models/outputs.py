"""A model with several outputs: a loss, metrics and a weight per output, as Keras has.

``compile(loss=..., metrics=..., loss_weights=...)`` on a model with several outputs
takes, for each argument, one value for every output, a list in ``model.outputs``
order, or a dict keyed by the output layers' names. The model's loss is then::

    L = sum_i  w_i * L_i(y_i, y_pred_i)

so dL/d(y_pred_i) = w_i * dL_i/d(y_pred_i): each output's gradient enters the one
backward walk scaled by its weight, and where the branches meet, the walk adds them.
Logs name each part after its output layer, as Keras 3 does: ``loss`` (the weighted
sum), ``<output>_loss``, ``<output>_<metric>``.

>>> from glassnet import Input, Model
>>> from glassnet.layers import Dense
>>> x = Input((3,))
>>> model = Model(x, [Dense(1, name="price")(x), Dense(2, name="kind")(x)])
>>> heads = resolve_heads(model, {"price": "mse", "kind": "sparse_categorical_crossentropy"},
...                       {"kind": ["accuracy"]}, [1.0, 0.5])
>>> [(h.name, h.loss.name, h.weight) for h in heads]
[('price', 'mean_squared_error', 1.0), ('kind', 'sparse_categorical_crossentropy', 0.5)]
>>> [m.name for m in heads[1].metrics]
['accuracy']
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import losses
from glassnet._typing import Array
from glassnet.errors import GlassnetError, GlassnetTypeError, InvalidArgumentError
from glassnet.losses import Loss
from glassnet.metrics import Metric
from glassnet.metrics.inputs import log_value
from glassnet.models.compiling import fused_logits_loss, metrics_get, output_units
from glassnet.models.data_checks import rows

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = [
    "OutputHead",
    "check_metric_targets",
    "compute_head_logs",
    "metric_value",
    "resolve_heads",
]


@dataclass
class OutputHead:
    """One output of the model: its name, loss, metrics and weight in the total."""

    name: str
    loss: Loss
    metrics: list[Metric]
    weight: float
    #: the loss in its logits form when the output activation fuses with it
    fused: Loss | None = None


def _per_output(value: Any, names: list[str], argument: str) -> list[Any]:
    """One entry per output from a single value, a list, or a dict keyed by name."""
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise InvalidArgumentError(
                f"Argument `{argument}` names outputs {unknown} that the model does "
                f"not have. Outputs: {names}"
            )
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise InvalidArgumentError(
                f"Argument `{argument}` must have one entry per output ({len(names)}: "
                f"{names}). Received: {len(value)} entries"
            )
        return list(value)
    return [value] * len(names)


def resolve_heads(
    model: Model, loss: Any, metrics: Any, loss_weights: Any
) -> list[OutputHead]:
    """The checked loss, metrics and weight of every output (compile's arguments)."""
    graph = model._require_graph("compile")
    names = [tensor.node.layer.name for tensor in graph.outputs]
    if len(set(names)) != len(names):
        raise InvalidArgumentError(
            f"Each output must come from its own layer to be named in logs. "
            f"Received outputs from {names}"
        )
    if loss is None:
        raise InvalidArgumentError(
            "compile() needs a loss, e.g. loss='mse', or one per output as a list or "
            "a dict keyed by output name."
        )
    output_losses = _per_output(loss, names, "loss")
    if isinstance(metrics, (list, tuple)) and not any(
        isinstance(m, (list, tuple, dict)) for m in metrics
    ):
        metrics = [list(metrics)] * len(names)  # one flat list: every output
    output_metrics = _per_output(metrics, names, "metrics")
    weights = _per_output(
        1.0 if loss_weights is None else loss_weights, names, "loss_weights"
    )
    heads = []
    for tensor, name, out_loss, out_metrics, weight in zip(
        graph.outputs, names, output_losses, output_metrics, weights, strict=True
    ):
        if out_loss is None:
            raise InvalidArgumentError(f"compile() has no loss for output '{name}'.")
        resolved = losses.get(out_loss)
        assert resolved is not None
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not (math.isfinite(weight) and weight >= 0)
        ):
            raise InvalidArgumentError(
                f"Argument `loss_weights` must hold non-negative numbers. Received: "
                f"{weight!r} for output '{name}'"
            )
        if out_metrics is None:
            out_metrics = []
        if isinstance(out_metrics, str) or not isinstance(out_metrics, (list, tuple)):
            raise GlassnetTypeError(
                f"The metrics of output '{name}' must be a list such as ['accuracy']. "
                f"Received: {out_metrics!r}"
            )
        layer = tensor.node.layer
        width = tensor.shape[-1]
        units = width if isinstance(width, int) else output_units([layer])
        resolved_metrics = [metrics_get(m, resolved, units) for m in out_metrics]
        metric_names = [m.name for m in resolved_metrics]
        if len(set(metric_names)) != len(metric_names):
            raise InvalidArgumentError(
                f"Metric names of output '{name}' must be unique. Received: {metric_names}"
            )
        alone = (
            not graph.consumers(tensor)
            and sum(node.layer is layer for node in graph.nodes) == 1
        )
        fused = fused_logits_loss(resolved, [layer]) if alone else None
        heads.append(OutputHead(name, resolved, resolved_metrics, float(weight), fused))
    return heads


def check_metric_targets(model: Model, x: Any, y: Any) -> None:
    """Try every compiled metric (a copy: its state stays) on the first two targets.

    ``fit`` calls this before training: targets a metric cannot use (one-hot labels
    for a sparse metric, 1-D predictions for F1) then fail before any weight
    changes, instead of at the end of the first epoch. The predictions are zeros of
    the outputs' shapes (a forward pass only when an output's shape depends on the
    input), so no layer runs and no random generator moves.

    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(2, input_dim=1, activation="softmax")])
    >>> model.compile(loss="sparse_categorical_crossentropy", metrics=["f1_score"])
    >>> check_metric_targets(model, np.zeros((4, 1)), np.zeros(4))
    Traceback (most recent call last):
    ...
    glassnet.errors.ShapeError: Metric 'f1_score' cannot use these targets ...
    """
    if model.heads is not None:
        pairs = [
            (metric, i) for i, head in enumerate(model.heads) for metric in head.metrics
        ]
    else:
        pairs = [(metric, 0) for metric in model.metrics]
    if not pairs:
        return
    ys = y if isinstance(y, list) else [y]
    first = rows(x, slice(0, 2))
    count = len(first[0] if isinstance(first, list) else first)
    shapes = [t.sample_shape for t in model._require_graph("fit").outputs]
    if all(isinstance(d, int) for shape in shapes for d in shape):
        outs = [np.zeros((count, *shape), model.dtype) for shape in shapes]
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            out = model.forward(first, training=False)
        outs = out if isinstance(out, list) else [out]
    for metric, i in pairs:
        try:
            copy.deepcopy(metric).update_state(ys[i][:2], outs[i])
        except GlassnetError as error:
            raise type(error)(
                f"Metric '{metric.name}' cannot use these targets (tried on the "
                f"first rows before training): {error}"
            ) from None


def metric_value(metric: Metric, y_true: Any, y_pred: Any) -> Any:
    """The metric over these samples alone: reset, one update, the result for logs.

    A float, or an array for a per-class result (``F1Score(average=None)``).

    >>> from glassnet.metrics import AUC
    >>> metric_value(AUC(), [0, 1, 1], [0.2, 0.6, 0.9])
    1.0
    """
    metric.reset_state()
    metric.update_state(y_true, y_pred)
    return log_value(metric.result())


def compute_head_logs(
    heads: list[OutputHead], y_true: list[Array], y_pred: list[Array]
) -> dict[str, Any]:
    """``loss`` (the weighted sum), then ``<output>_loss`` and ``<output>_<metric>``."""
    parts = {
        head.name: float(head.loss.forward(y, p))
        for head, y, p in zip(heads, y_true, y_pred, strict=True)
    }
    logs: dict[str, Any] = {
        "loss": sum(head.weight * parts[head.name] for head in heads)
    }
    logs.update({f"{name}_loss": value for name, value in parts.items()})
    for head, y, p in zip(heads, y_true, y_pred, strict=True):
        for metric in head.metrics:
            logs[f"{head.name}_{metric.name}"] = metric_value(metric, y, p)
    return logs
