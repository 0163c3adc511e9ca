"""A model with several outputs: a loss, metrics and a weight per output, as Keras has.

``compile(loss=..., metrics=..., loss_weights=...)`` on a model with several outputs
takes, for each argument, one value for every output, a list in ``model.outputs``
order, or a dict keyed by the output layers' names. The model's loss is then::

    L = sum_i  w_i * L_i(y_i, y_pred_i)

so dL/d(y_pred_i) = w_i * dL_i/d(y_pred_i): each output's gradient enters the one
backward walk scaled by its weight, and where the branches meet, the walk adds them.
Logs name each part after its output layer, as Keras 3 does: ``loss`` (the weighted
sum), ``<output>_loss``, ``<output>_<metric>`` (and ``weighted_metrics``' keys:
``models/compiled_metrics.py``).

An output may have no loss (``loss=[None, "mse"]``, or a dict that leaves it out):
it is no term of ``L``, so nothing trains the layers only it reaches, and its
metrics are still reported. Keras then logs ``<output>_loss`` only when more than
one output has a loss.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import losses
from glassnet._typing import Array
from glassnet._validation import as_float_array
from glassnet.errors import GlassnetError, InvalidArgumentError
from glassnet.losses import Loss
from glassnet.losses.masked import (
    mask_weights,
    masked_gradient,
    masked_logits_gradient,
    masked_loss,
)
from glassnet.metrics import Metric
from glassnet.metrics.base import PerSampleMean
from glassnet.metrics.inputs import log_value
from glassnet.models.compiled_metrics import check_metric_keys, logged_metrics
from glassnet.models.compiling import fused_logits_loss, metric_list, output_units
from glassnet.models.data_checks import rows

if TYPE_CHECKING:
    from glassnet.models.model import Model
    from glassnet.models.walk import Walk

__all__ = [
    "OutputHead",
    "check_metric_targets",
    "masked_gradients",
    "masked_loss_sum",
    "metric_value",
    "resolve_heads",
    "update_masked_metrics",
]


@dataclass
class OutputHead:
    """One output of the model: its name, loss, metrics and weight in the total.

    ``loss`` is None for an output compiled without one (Keras' ``loss=[None, ...]``
    or a loss dict that leaves it out): it adds nothing to the loss, no gradient
    starts there, and its metrics are still reported.
    """

    name: str
    loss: Loss | None
    metrics: list[Metric]
    weight: float
    #: the loss in its logits form when the output activation fuses with it
    fused: Loss | None = None
    #: the metrics given each sample's weight (``compile(weighted_metrics=...)``)
    weighted_metrics: list[Metric] = field(default_factory=list)

    def validate_targets(
        self, y: Any, output_shape: tuple[int, ...], name: str, *, dtype: Any
    ) -> Array:
        """The output's targets as its loss checks them; for an output without a
        loss, any numbers, one row per sample (its metrics check them later).

        >>> import numpy as np
        >>> OutputHead("kind", None, [], 1.0).validate_targets(
        ...     [0, 2], (3,), "y['kind']", dtype=np.float32)
        array([0., 2.], dtype=float32)
        """
        if self.loss is not None:
            return self.loss.validate_targets(y, output_shape, name, dtype=dtype)
        return as_float_array(y, name, np.dtype(dtype))  # at least 1-D, finite


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


def _metrics_per_output(metrics: Any, names: list[str], argument: str) -> list[Any]:
    """``metrics`` or ``weighted_metrics`` per output: one flat list is every
    output's, else as :func:`_per_output`. A metric object in a flat list watches
    the first output; the others get copies, so that no state is shared."""
    if isinstance(metrics, (list, tuple)) and not any(
        isinstance(m, (list, tuple, dict)) for m in metrics
    ):
        fresh = [
            [copy.deepcopy(m) if isinstance(m, Metric) else m for m in metrics]
            for _ in names[1:]
        ]
        return [list(metrics), *fresh]
    return _per_output(metrics, names, argument)


def resolve_heads(
    model: Model,
    loss: Any,
    metrics: Any,
    loss_weights: Any,
    weighted_metrics: Any = None,
) -> list[OutputHead]:
    """The checked loss, metrics and weight of every output (compile's arguments).

    An output whose loss is None (or that a loss dict leaves out) trains nothing;
    at least one output needs a loss.
    """
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
    if all(out_loss is None for out_loss in output_losses):
        raise InvalidArgumentError(
            f"compile() needs a loss for at least one output. Outputs: {names}; "
            f"received: loss={loss!r}"
        )
    output_metrics = _metrics_per_output(metrics, names, "metrics")
    output_weighted = _metrics_per_output(weighted_metrics, names, "weighted_metrics")
    weights = _per_output(
        1.0 if loss_weights is None else loss_weights, names, "loss_weights"
    )
    heads = []
    for tensor, name, out_loss, out_metrics, out_weighted, weight in zip(
        graph.outputs,
        names,
        output_losses,
        output_metrics,
        output_weighted,
        weights,
        strict=True,
    ):
        resolved = None if out_loss is None else losses.get(out_loss)
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not (math.isfinite(weight) and weight >= 0)
        ):
            raise InvalidArgumentError(
                f"Argument `loss_weights` must hold non-negative numbers. Received: "
                f"{weight!r} for output '{name}'"
            )
        layer = tensor.node.layer
        width = tensor.shape[-1]
        units = width if isinstance(width, int) else output_units([layer])
        alone = (
            not graph.consumers(tensor)
            and sum(node.layer is layer for node in graph.nodes) == 1
        )
        fused = fused_logits_loss(resolved, [layer]) if alone else None
        heads.append(
            OutputHead(
                name,
                resolved,
                metric_list(out_metrics, resolved, units, "metrics", name),
                float(weight),
                fused,
                metric_list(out_weighted, resolved, units, "weighted_metrics", name),
            )
        )
    check_metric_keys(heads, [], [])
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
    pairs = [(entry.metric, entry.output) for entry in logged_metrics(model)]
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


# -- outputs that carry a padding mask (losses/masked.py) -------------------------------
def masked_gradients(walk: Walk, model: Model, loss: Loss) -> Any:
    """The training step's ``gradients(x, y, w=None) -> predictions`` for a model
    whose walk carries padding masks (``walk.masking``).

    Each output's gradient is its loss's (or its fused logits form's, as the plain
    step), scaled by each sample's weight; an output that carries a mask weighs its
    steps as Keras does (:func:`~glassnet.losses.masked.mask_weights`: the mean over
    the real steps). A model with several outputs adds them by ``loss_weights``.

    >>> import numpy as np
    >>> from glassnet import Input
    >>> from glassnet.layers import Embedding, LSTM
    >>> from glassnet.models import Sequential
    >>> from glassnet.models.walk import Walk
    >>> model = Sequential([Input((3,), dtype="int32"), Embedding(5, 2, mask_zero=True),
    ...                     LSTM(1, return_sequences=True)], seed=0)
    >>> model.compile(loss="mse")
    >>> step = masked_gradients(Walk(model.graph), model, model.loss)
    >>> out = step(np.array([[4, 0, 0]]), np.zeros((1, 3, 1)))
    >>> model.graph.output_masks[0]         # steps 1 and 2 weigh nothing in the loss
    array([[ True, False, False]])
    """
    graph, heads = walk.graph, model.heads
    layers = [tensor.node.layer for tensor in graph.outputs]
    parts: list[tuple[Loss | None, Loss | None, float]]
    if heads is None:
        parts = [(loss, model.fused_loss(loss), 1.0)]
    else:
        parts = [(head.loss, head.fused, head.weight) for head in heads]
    flags = tuple(fused is not None for _, fused, _ in parts)

    def gradients(x: Any, y: Any, w: Array | None = None) -> Any:
        outs = walk.forward(x if isinstance(x, list) else [x], training=True)
        ys = y if heads is not None else [y]
        grads = []
        for (out_loss, fused, weight), layer, y_i, out, mask in zip(
            parts, layers, ys, outs, graph.output_masks, strict=True
        ):
            if out_loss is None:  # an output without a loss: no gradient from it
                grads.append(np.zeros_like(out))
                continue
            grad = _output_gradient(out_loss, fused, layer, y_i, out, mask, w)
            grads.append(grad if weight == 1.0 else weight * grad)
        walk.backward(grads, logits=flags)
        return outs if heads is not None else outs[0]

    return gradients


def _output_gradient(
    loss: Loss,
    fused: Loss | None,
    layer: Any,
    y: Any,
    out: Array,
    mask: Array | None,
    w: Array | None,
) -> Array:
    """dL/d(out), or dL/dz at the logits of a fused output, for one output."""
    if mask is not None:
        weights = mask_weights(mask, w, out.dtype)
        if fused is not None:
            return masked_logits_gradient(fused, y, layer.logits, out, weights)
        return masked_gradient(loss, y, out, weights)
    # L = sum_i w_i l_i / n  =>  dL/dy_i = w_i dl_i/dy_i / n
    if fused is not None:
        grad = fused.logits_gradient(y, layer.logits, out)
    else:
        grad = loss.backward(y, out)
    return grad if w is None else grad * w.reshape((-1,) + (1,) * (grad.ndim - 1))


def masked_loss_sum(
    loss: Loss, y: Any, out: Array, mask: Array | None, w: Array | None
) -> float:
    """A batch's loss times its size: what a running mean over batches adds, as
    Keras' loss tracker does (the batch loss is the mean over its real steps).

    >>> import numpy as np
    >>> from glassnet.losses import MeanAbsoluteError
    >>> out = np.array([[[1.0], [9.0]], [[3.0], [5.0]]])       # 2 samples, 2 steps
    >>> mask = np.array([[True, False], [True, True]])
    >>> masked_loss_sum(MeanAbsoluteError(), np.zeros((2, 2, 1)), out, mask, None)
    6.0
    """
    if mask is None:
        per_sample = loss.per_sample(y, out)
        if w is not None:
            per_sample = per_sample * w.astype(per_sample.dtype, copy=False)
        return float(per_sample.sum())
    return len(out) * masked_loss(loss, y, out, mask_weights(mask, w, out.dtype))


def update_masked_metrics(
    metrics: list[Metric],
    y: Any,
    out: Array,
    mask: Array | None,
    w: Array | None = None,
) -> None:
    """Add a batch to the metrics; those that average one value per entry (Keras'
    ``MeanMetricWrapper``: accuracy, MAE...) count the real steps only, as Keras
    weighs them by the mask; the others see every step, as in Keras. ``w``: the
    sample weights of weighted metrics (times the mask for the mean-style ones).

    >>> import numpy as np
    >>> from glassnet.metrics import MeanAbsoluteError
    >>> metric = MeanAbsoluteError()
    >>> out = np.array([[[1.0], [9.0]]])
    >>> update_masked_metrics([metric], np.zeros((1, 2, 1)), out, np.array([[1, 0]]))
    >>> metric.result()
    1.0
    """
    for metric in metrics:
        if mask is not None and isinstance(metric, PerSampleMean):
            weight = np.asarray(mask, np.float64)
            if w is not None:
                weight = weight * w.reshape((-1,) + (1,) * (weight.ndim - 1))
            metric.update_state(y, out, sample_weight=weight)
        else:
            metric.update_state(y, out, sample_weight=w)
