"""Metrics as Keras 3 defines them: objects with running state, by name or by class.

A metric accumulates over batches (``update_state(y_true, y_pred,
sample_weight=None)``), reports with ``result()`` and starts again with
``reset_state()``. ``compile(metrics=[...])`` takes Keras' names (``"accuracy"`` /
``"acc"``, ``"mse"``, ``"mae"``, ``"mape"``, ``"auc"``, ``"precision"``, ``"recall"``,
``"f1_score"``, ``"r2_score"``, the snake-case or class name of any metric here),
classes (``AUC``) and instances (``AUC(curve="PR")``); training resets each metric
at the start of every epoch, so the epoch's value covers the whole epoch.

The package holds one concept per module: :mod:`~glassnet.metrics.base` (the
:class:`Metric` protocol, the registry, :class:`Mean`),
:mod:`~glassnet.metrics.accuracy`, :mod:`~glassnet.metrics.regression`,
:mod:`~glassnet.metrics.confusion` (precision, recall and the confusion counts),
:mod:`~glassnet.metrics.auc` and :mod:`~glassnet.metrics.fscore`;
:mod:`~glassnet.metrics.inputs` holds the input checks and Keras' reductions.

>>> import numpy as np
>>> m = BinaryAccuracy()
>>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
>>> m.result()
0.75
>>> BinaryAccuracy().per_sample(np.array([[1.0], [0.0]]), np.array([[0.9], [0.7]]))
array([1., 0.])
"""

from __future__ import annotations

from typing import Any

from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.losses import Loss
from glassnet.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from glassnet.metrics.auc import AUC
from glassnet.metrics.base import Mean, Metric, PerSampleMean, registry
from glassnet.metrics.confusion import Precision, Recall
from glassnet.metrics.fscore import F1Score, FBetaScore
from glassnet.metrics.regression import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    R2Score,
    RootMeanSquaredError,
)

__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "F1Score",
    "FBetaScore",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "Metric",
    "PerSampleMean",
    "Precision",
    "R2Score",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "get",
    "registry",
]


def get(identifier: Any, loss: Loss | None = None, output_units: int = 1) -> Metric:
    """Resolve one entry of ``compile(metrics=...)``: a name, a class or an instance.

    A name makes a fresh metric called by that name (``"mse"`` logs as ``mse``); a
    class is instantiated with its default name; an instance (or a
    ``{"class_name", "config"}`` dict) is used as is. ``"accuracy"``/``"acc"`` picks
    the variant Keras would: sparse with sparse categorical cross-entropy; binary
    with binary cross-entropy or a single output unit (threshold 0 when the loss
    takes logits, 0.5 on probabilities); categorical otherwise.

    >>> from glassnet.losses import get as get_loss
    >>> get("accuracy", get_loss("binary_crossentropy"))
    <BinaryAccuracy name=accuracy>
    >>> get("acc", get_loss("sparse_categorical_crossentropy"), 3)
    <SparseCategoricalAccuracy name=acc>
    >>> get("AUC"), get(Precision), get(Recall(thresholds=0.7, name="r70"))
    (<AUC name=AUC>, <Precision name=precision>, <Recall name=r70>)
    >>> get("acuracy")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown metric 'acuracy'. ...Did you mean 'accuracy'?
    """
    if isinstance(identifier, str) and identifier.strip().lower() in (
        "accuracy",
        "acc",
    ):
        loss_name = loss.name if loss is not None else ""
        from_logits = bool(getattr(loss, "from_logits", False))
        if loss_name == "sparse_categorical_crossentropy":
            return SparseCategoricalAccuracy(name=identifier)
        if loss_name == "binary_crossentropy" or output_units == 1:
            threshold = 0.0 if from_logits else 0.5
            return BinaryAccuracy(name=identifier, threshold=threshold)
        return CategoricalAccuracy(name=identifier)
    if identifier is None:
        raise GlassnetTypeError(
            "A metric must be a name, a Metric class or a Metric instance. "
            "Received: None"
        )
    if isinstance(identifier, str):
        by_class_name = {cls.__name__: cls for cls in registry.classes()}
        cls = by_class_name.get(identifier) or registry.lookup(identifier)
        metric: Metric = cls()  # takes an automatic name first, as in Keras
        metric.name = identifier
    elif isinstance(identifier, type) and issubclass(identifier, Metric):
        metric = identifier()
    else:
        metric = registry.get(identifier, base=Metric)
    if type(metric) is Mean:
        raise InvalidArgumentError(
            "Mean averages values passed to it, not (y_true, y_pred): it cannot be "
            f"a compiled metric. Received: {identifier!r}. Use it on its own, or a "
            "metric such as 'mae'."
        )
    return metric
