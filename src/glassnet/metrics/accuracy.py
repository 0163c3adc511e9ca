"""Accuracy metrics: exact match, thresholded, arg-max (one-hot and sparse), top-k.

Each is the (weighted) mean of a per-sample 1 or 0, as Keras 3 computes it; a sample
with several outputs counts the mean of its entries.

>>> m = CategoricalAccuracy()
>>> m.update_state(np.eye(3), np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0, 0, 1]]))
>>> round(m.result(), 4)
0.6667
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_bool, check_positive_int
from glassnet.errors import DataError, GlassnetTypeError, ShapeError
from glassnet.metrics.base import PerSampleMean, registry
from glassnet.metrics.inputs import check_same_shape, same_rank

__all__ = [
    "Accuracy",
    "AccuracyByShape",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
]


@registry.register("accuracy")
class Accuracy(PerSampleMean):
    """How often predictions equal labels exactly: ``mean(y_true == y_pred)``.

    >>> Accuracy()([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    0.75
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """True where the entries are equal."""
        y_true, y_pred = same_rank(y_true.astype(y_pred.dtype), y_pred)
        check_same_shape(self, y_true, y_pred)
        hits: Array = y_true == y_pred
        return hits


@registry.register("binary_accuracy")
class BinaryAccuracy(PerSampleMean):
    """How often thresholded predictions match 0/1 labels.

    ``mean(y_true == (y_pred > threshold))``; a label that is neither 0 nor 1 never
    matches (as in Keras).

    >>> m = BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> m.result()
    0.75
    >>> m.reset_state()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]],
    ...                sample_weight=[1, 0, 0, 1])
    >>> m.result()
    0.5
    """

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        super().__init__(name, dtype)
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise GlassnetTypeError(
                f"Argument `threshold` must be a number. Received: threshold={threshold!r}"
            )
        if not np.isfinite(threshold):
            raise DataError(
                f"Argument `threshold` must be finite. Received: threshold={threshold!r}"
            )
        self.threshold: float = float(threshold)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """True where ``(y_pred > threshold) == y_true``, per entry."""
        y_true, y_pred = same_rank(y_true, y_pred)
        check_same_shape(self, y_true, y_pred)
        predicted = y_pred > np.asarray(self.threshold, dtype=y_pred.dtype)
        hits: Array = y_true == predicted.astype(y_true.dtype)
        return hits

    def get_config(self) -> dict[str, Any]:
        """Name, dtype and threshold."""
        return {**super().get_config(), "threshold": self.threshold}


def _check_classes(metric: PerSampleMean, y_pred: Array) -> None:
    if y_pred.ndim < 2:
        raise ShapeError(
            f"{type(metric).__name__} '{metric.name}' needs `y_pred` with one column "
            f"per class. Received: y_pred.shape={y_pred.shape}"
        )


@registry.register("categorical_accuracy")
class CategoricalAccuracy(PerSampleMean):
    """How often the arg-max of the prediction is the arg-max of the one-hot label.

    ``mean(argmax(y_true, -1) == argmax(y_pred, -1))``; logits work as well as
    probabilities. Ties go to the first class.

    >>> CategoricalAccuracy()([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    0.5
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """True where the two arg-maxes agree, per sample."""
        _check_classes(self, y_pred)
        check_same_shape(self, y_true, y_pred)
        hits: Array = y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)
        return hits


def _sparse_labels(metric: PerSampleMean, y_true: Array, y_pred: Array) -> Array:
    """Integer labels shaped like ``y_pred`` without its class axis."""
    _check_classes(metric, y_pred)
    outer = y_pred.shape[:-1]
    if y_true.shape not in (outer, (*outer, 1)):
        raise ShapeError(
            f"{type(metric).__name__} '{metric.name}' takes one integer label per "
            f"row of `y_pred`, shaped {outer} or {(*outer, 1)}. Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}. For one-hot "
            "labels, use the categorical (not sparse) metric."
        )
    return y_true.reshape(outer)


@registry.register("sparse_categorical_accuracy")
class SparseCategoricalAccuracy(PerSampleMean):
    """How often the arg-max of the prediction equals the integer label.

    ``mean(y_true == argmax(y_pred, -1))``.

    >>> SparseCategoricalAccuracy()([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    0.5
    """

    def __init__(
        self, name: str = "sparse_categorical_accuracy", dtype: Any = None
    ) -> None:
        super().__init__(name, dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """True where the arg-max is the label, per sample."""
        labels = _sparse_labels(self, y_true, y_pred)
        if labels.dtype.kind == "f":  # Keras compares as floats: 1.5 is no class
            labels = labels.astype(y_pred.dtype)
        hits: Array = labels == y_pred.argmax(axis=-1)
        return hits


class AccuracyByShape(PerSampleMean):
    """``"accuracy"`` where no loss says which: the variant the data's shapes call for.

    What ``compile(metrics=["accuracy"])`` gives an output compiled without a loss,
    deciding as Keras 3's ``get_metric`` does from ``y_true`` and ``y_pred``: binary
    (``y_pred > 0.5``) when ``y_pred`` has one column; sparse categorical when
    ``y_true`` has fewer axes than ``y_pred``, or one column against several;
    categorical (arg-max against arg-max) otherwise.

    >>> m = AccuracyByShape()
    >>> m([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])  # labels: sparse
    0.5
    >>> m.reset_state(); m([[1], [0]], [[0.7], [0.6]])        # one column: binary
    0.5
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)
        self._binary = BinaryAccuracy(name=name, dtype=dtype)
        self._sparse = SparseCategoricalAccuracy(name=name, dtype=dtype)
        self._categorical = CategoricalAccuracy(name=name, dtype=dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """The hits of the variant these shapes call for, per sample."""
        if y_pred.ndim and y_pred.shape[-1] == 1:
            return self._binary.values(y_true, y_pred)
        if y_true.ndim < y_pred.ndim or (y_true.ndim and y_true.shape[-1] == 1):
            return self._sparse.values(y_true, y_pred)
        return self._categorical.values(y_true, y_pred)


def _in_top_k(labels: Array, y_pred: Array, k: int, metric: PerSampleMean) -> Array:
    """Whether ``y_pred[label]`` is among the ``k`` largest of its row (ties count)."""
    classes = y_pred.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(
            f"{type(metric).__name__} '{metric.name}': labels must be class indices "
            f"in [0, {classes}). Received: y_true from {labels.min()} to {labels.max()}"
        )
    if k >= classes:
        return np.ones(labels.shape, dtype=bool)
    kth = np.partition(y_pred, classes - k, axis=-1)[..., classes - k]
    picked = np.take_along_axis(y_pred, labels[..., None], axis=-1)[..., 0]
    hits: Array = picked >= kth
    return hits


@registry.register("top_k_categorical_accuracy")
class TopKCategoricalAccuracy(PerSampleMean):
    """How often the one-hot label's class is among the ``k`` highest predictions.

    ``mean(y_pred[argmax(y_true)] >= k-th largest of y_pred)``: a tie with the k-th
    value counts as a hit, as in Keras; with ``k`` at least the number of classes
    every sample is a hit.

    >>> TopKCategoricalAccuracy(k=1)([[0, 0, 1], [0, 1, 0]],
    ...                              [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    0.5
    >>> TopKCategoricalAccuracy(k=2)([[0, 0, 1]], [[0.1, 0.9, 0.8]])
    1.0
    """

    def __init__(
        self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None
    ) -> None:
        super().__init__(name, dtype)
        self.k = check_positive_int(k, "k")

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """True where the label's class is in the top ``k``, per sample."""
        _check_classes(self, y_pred)
        check_same_shape(self, y_true, y_pred)
        labels = y_true.argmax(axis=-1)
        return _in_top_k(labels, y_pred, self.k, self)

    def get_config(self) -> dict[str, Any]:
        """Name, dtype and k."""
        return {**super().get_config(), "k": self.k}


@registry.register("sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(PerSampleMean):
    """How often the integer label is among the ``k`` highest predictions.

    ``mean(y_pred[y_true] >= k-th largest of y_pred)``. With
    ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score and a hit
    is ``y_true in y_pred[:k]``.

    >>> SparseTopKCategoricalAccuracy(k=1)([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    0.5
    >>> SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)([2, 1], [[1, 2], [0, 2]])
    0.5
    """

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype: Any = None,
        from_sorted_ids: bool = False,
    ) -> None:
        super().__init__(name, dtype)
        self.k = check_positive_int(k, "k")
        self.from_sorted_ids = check_bool(from_sorted_ids, "from_sorted_ids")

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """True where the label is in the top ``k``, per sample."""
        labels = _sparse_labels(self, y_true, y_pred)
        if self.from_sorted_ids:
            ids = y_pred[..., : self.k]
            hits = (labels.astype(y_pred.dtype)[..., None] == ids).any(axis=-1)
        else:
            hits = _in_top_k(labels.astype(np.int64), y_pred, self.k, self)
        return hits

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, k, and ``from_sorted_ids`` when set (as Keras writes it)."""
        config = {**super().get_config(), "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
