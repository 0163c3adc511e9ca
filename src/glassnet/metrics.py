"""Metrics reported during training: accuracy (binary, categorical, sparse), mse, mae.

A metric turns ``(y_true, y_pred)`` into one value per sample; the reported number is
their mean, so a metric over an epoch equals the sample-weighted mean of its batches.

>>> import numpy as np
>>> BinaryAccuracy().per_sample(np.array([[1.0], [0.0]]), np.array([[0.9], [0.7]]))
array([1., 0.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._registry import Registry
from glassnet._typing import Array
from glassnet.losses import Loss

__all__ = [
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "SparseCategoricalAccuracy",
    "get",
    "registry",
]

registry = Registry("metric")


class Metric:
    """Base class: ``per_sample(y_true, y_pred)`` returns shape (n,)."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or registry.name_of(type(self))

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        """The metric's value for each sample."""
        raise NotImplementedError

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        """The mean over the batch."""
        return float(np.mean(self.per_sample(y_true, y_pred)))

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


@registry.register("binary_accuracy")
class BinaryAccuracy(Metric):
    """Share of outputs on the right side of ``threshold`` (0.5 for probabilities).

    >>> BinaryAccuracy()(np.array([[1], [0]]), np.array([[0.6], [0.2]]))
    1.0
    """

    def __init__(self, name: str | None = None, threshold: float = 0.5) -> None:
        super().__init__(name)
        self.threshold = float(threshold)

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        """Mean over the output units of ``(y_pred > threshold) == y_true``."""
        hits = (y_pred > self.threshold) == (y_true > 0.5)
        return hits.reshape(len(hits), -1).mean(axis=1)

    def get_config(self) -> dict[str, Any]:
        """Name and threshold."""
        return {"name": self.name, "threshold": self.threshold}


@registry.register("categorical_accuracy")
class CategoricalAccuracy(Metric):
    """1 where the arg-max of the prediction is the arg-max of the one-hot target.

    >>> CategoricalAccuracy()(np.eye(2), np.array([[0.8, 0.2], [0.9, 0.1]]))
    0.5
    """

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        """``argmax(y_pred) == argmax(y_true)`` per row."""
        return (y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).astype(np.float64)


@registry.register("sparse_categorical_accuracy")
class SparseCategoricalAccuracy(Metric):
    """1 where the arg-max of the prediction equals the integer label.

    >>> SparseCategoricalAccuracy()(np.array([1, 0]), np.array([[0.2, 0.8], [0.3, 0.7]]))
    0.5
    """

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        """``argmax(y_pred) == y_true`` per row."""
        labels = np.asarray(y_true).reshape(len(y_pred))
        return (y_pred.argmax(axis=-1) == labels).astype(np.float64)


@registry.register("mean_squared_error", "mse")
class MeanSquaredError(Metric):
    """Mean over output units of ``(y_true - y_pred)**2``.

    >>> MeanSquaredError()(np.array([[1.0]]), np.array([[0.5]]))
    0.25
    """

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        """Per-sample squared error, averaged over output units."""
        diff = (y_true - y_pred).reshape(len(y_pred), -1)
        return np.mean(diff * diff, axis=1)


@registry.register("mean_absolute_error", "mae")
class MeanAbsoluteError(Metric):
    """Mean over output units of ``|y_true - y_pred|``.

    >>> MeanAbsoluteError()(np.array([[1.0]]), np.array([[0.5]]))
    0.5
    """

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        """Per-sample absolute error, averaged over output units."""
        diff = (y_true - y_pred).reshape(len(y_pred), -1)
        return np.mean(np.abs(diff), axis=1)


def get(identifier: Any, loss: Loss | None = None, output_units: int = 1) -> Metric:
    """Resolve a metric; ``"accuracy"``/``"acc"`` picks the variant Keras would.

    With sparse categorical cross-entropy it is sparse accuracy; with binary
    cross-entropy or a single output unit it is binary accuracy (threshold 0 when the
    loss takes logits, 0.5 on probabilities); otherwise categorical accuracy. The
    metric keeps the name the user gave, so logs read ``accuracy`` or ``acc``.

    >>> from glassnet.losses import get as get_loss
    >>> get("accuracy", get_loss("binary_crossentropy"))
    BinaryAccuracy(name='accuracy')
    >>> get("acc", get_loss("sparse_categorical_crossentropy"), 3)
    SparseCategoricalAccuracy(name='acc')
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
    if isinstance(identifier, str):
        return registry.lookup(identifier)(name=identifier)
    metric: Metric = registry.get(identifier, base=Metric)
    return metric
