"""Precision and recall at thresholds, and the confusion counts they (and AUC) share.

A prediction counts as positive at threshold t when ``y_pred > t``; a label is
positive when it is not 0. Over the samples seen, at each threshold::

    TP = sum(w  where label and predicted)     FP = sum(w  where predicted, not label)
    FN = sum(w  where label, not predicted)    TN = sum(w  where neither)

:func:`confusion_counts` computes all four for many thresholds at once: each entry
gets the index of the last threshold below it, a weighted ``bincount`` of those
indices gives how many entries stop at each threshold, and a reversed cumulative sum
gives how many pass each one, in O(entries + thresholds) rather than their product.
For evenly spaced thresholds (AUC's default), the index is Keras' bucket
``ceil(y_pred * (T - 1)) - 1`` on predictions clipped to [0, 1], so every entry
lands on the side of each threshold where Keras puts it.

>>> m = Precision()
>>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])  # TP = 2, FP = 1
>>> round(m.result(), 4)
0.6667
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_positive_int
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.metrics.base import EPSILON, Metric, registry
from glassnet.metrics.inputs import (
    check_same_shape,
    divide_no_nan,
    read_pair,
    read_sample_weight,
    same_rank,
)

__all__ = [
    "NEG_INF",
    "Precision",
    "Recall",
    "check_thresholds",
    "confusion_counts",
    "evenly_spaced",
]

#: The threshold Keras uses with ``top_k``: everything kept in the top k is positive.
NEG_INF = -1e10


def check_thresholds(thresholds: Any, name: str = "thresholds") -> list[float]:
    """A number or a list of numbers, each in [0, 1], as a list of floats.

    >>> check_thresholds(0.5), check_thresholds((0, 1))
    ([0.5], [0.0, 1.0])
    >>> check_thresholds([0.5, 1.2])
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Argument `thresholds` must hold numbers ...
    """
    values = (
        thresholds
        if isinstance(thresholds, (list, tuple, np.ndarray))
        else [thresholds]
    )
    checked = []
    for value in list(np.asarray(values, dtype=object).ravel()):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise GlassnetTypeError(
                f"Argument `{name}` must hold numbers in [0, 1]. "
                f"Received: {name}={thresholds!r}"
            )
        if not 0.0 <= float(value) <= 1.0:
            raise InvalidArgumentError(
                f"Argument `{name}` must hold numbers in [0, 1]. "
                f"Received: {name}={thresholds!r}"
            )
        checked.append(float(value))
    if not checked:
        raise InvalidArgumentError(
            f"Argument `{name}` must hold at least one threshold. Received: {name}=[]"
        )
    return checked


def evenly_spaced(thresholds: list[float]) -> bool:
    """Whether there are at least 3 thresholds and they are ``i / (T - 1)`` (Keras).

    >>> evenly_spaced([0.0, 0.5, 1.0]), evenly_spaced([0.5])
    (True, False)
    """
    count = len(thresholds)
    if count < 3:
        return False
    even = np.arange(count, dtype=np.float32) / (count - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _stop_index(y_pred: Array, thresholds: list[float], evenly: bool) -> Array:
    """For each entry, the index of the last threshold it is above (-1: none)."""
    count = len(thresholds)
    if evenly:  # Keras' bucket formula, in the predictions' dtype
        clipped = np.clip(y_pred, 0.0, 1.0)
        index = np.ceil(clipped * np.asarray(count - 1, y_pred.dtype)) - 1
        if thresholds[0] < 0.0 or thresholds[-1] > 1.0:  # AUC's -eps, 1 + eps ends
            index = np.maximum(index, 0)
    else:
        ordered = np.sort(np.asarray(thresholds, dtype=y_pred.dtype))
        index = np.searchsorted(ordered, y_pred, side="left") - 1
    index = np.where(np.isnan(y_pred), -1, index)
    return index.astype(np.intp)


def _passing(index: Array, weight: Array, count: int) -> Array:
    """Weighted number of entries above each threshold, per label column if 2-D."""
    if index.ndim == 1:
        stops = np.bincount(index + 1, weights=weight, minlength=count + 1)
    else:  # one row of counts per label: offset each column's indices
        labels = index.shape[1]
        offsets = (index + 1) + np.arange(labels) * (count + 1)
        stops = (
            np.bincount(
                offsets.ravel(), weights=weight.ravel(), minlength=labels * (count + 1)
            )
            .reshape(labels, count + 1)
            .T
        )
    above: Array = np.cumsum(stops[::-1], axis=0)[::-1][1:]
    return above


def confusion_counts(
    metric: Metric,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    thresholds: list[float],
    *,
    evenly: bool = False,
    top_k: int | None = None,
    class_id: int | None = None,
    multi_label: bool = False,
    label_weights: Array | None = None,
    from_logits: bool = False,
) -> tuple[Array, Array, Array, Array]:
    """TP, FP, TN, FN (float64) at each threshold, shape (T,) or (T, labels).

    ``thresholds`` in the caller's order unless ``evenly``, which means sorted and
    ``i / (T - 1)`` apart (possibly with AUC's ends just outside [0, 1]).

    >>> counts = confusion_counts(Precision(), [0, 1, 1], [0.6, 0.4, 0.9], None,
    ...                           [0.5, 0.3])
    >>> [c.tolist() for c in counts]  # TP, FP, TN, FN at 0.5 and at 0.3
    [[1.0, 2.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
    """
    y_true_arr, y_pred_arr = read_pair(y_true, y_pred)
    weight = read_sample_weight(sample_weight, len(y_pred_arr))
    dtype = metric.compute_dtype(y_pred_arr)
    pred, label = same_rank(y_pred_arr.astype(dtype), y_true_arr.astype(dtype))
    check_same_shape(metric, label, pred)
    if from_logits:  # sigmoid, split by sign so exp never overflows
        e = np.exp(-np.abs(pred))
        pred = np.where(pred >= 0, 1 / (1 + e), e / (1 + e)).astype(dtype)
    w = np.ones((), dtype)
    if weight is not None:  # Keras' rule: (n,) weights one row, however wide
        _, w = same_rank(label, weight.astype(dtype)[..., None], expand_rank_1=False)
    if top_k is not None:
        pred = _keep_top_k(pred, top_k)
    if class_id is not None:
        if pred.ndim < 2 or class_id >= pred.shape[-1]:
            raise InvalidArgumentError(
                "Argument `class_id` must index a column of a 2-D `y_pred` "
                f"(samples, classes). Received: class_id={class_id}, "
                f"y_pred.shape={pred.shape}"
            )
        pred, label = pred[..., class_id, None], label[..., class_id, None]
    try:
        w = np.broadcast_to(w, pred.shape)
    except ValueError:
        raise ShapeError(
            "Argument `sample_weight` does not fit `y_pred`. Received: "
            f"sample_weight.shape={np.shape(sample_weight)}, y_pred.shape={pred.shape}"
        ) from None
    if label_weights is not None:
        w = w * np.broadcast_to(label_weights.astype(dtype), pred.shape)
    if not multi_label:
        pred, label, w = pred.ravel(), label.ravel(), w.ravel()
    index = _stop_index(pred, thresholds, evenly)
    positive = label != 0
    true_w = np.where(positive, w, 0).astype(np.float64)
    false_w = np.where(positive, 0, w).astype(np.float64)
    tp = _passing(index, true_w, len(thresholds))
    fp = _passing(index, false_w, len(thresholds))
    if not evenly:  # back from sorted order to the caller's
        rank = np.argsort(
            np.argsort(np.asarray(thresholds, dtype=dtype), kind="stable")
        )
        tp, fp = tp[rank], fp[rank]
    fn = true_w.sum(axis=0) - tp
    tn = false_w.sum(axis=0) - fp
    return tp, fp, tn, fn


def _keep_top_k(y_pred: Array, k: int) -> Array:
    """``y_pred`` with all but each row's ``k`` largest entries set to -1e10."""
    if k >= y_pred.shape[-1]:
        return y_pred
    top = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(y_pred.shape, dtype=bool)
    np.put_along_axis(keep, top, True, axis=-1)
    return np.where(keep, y_pred, np.asarray(NEG_INF, y_pred.dtype))


class _AtThresholds(Metric):
    """Precision and recall: thresholds, ``top_k`` and ``class_id``, two counts."""

    #: the count next to TP in the denominator: "false_positives" or "false_negatives"
    _other: str

    def __init__(
        self,
        thresholds: Any,
        top_k: int | None,
        class_id: int | None,
        name: str | None,
        dtype: Any,
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        self.top_k = None if top_k is None else check_positive_int(top_k, "top_k")
        if class_id is not None and (
            isinstance(class_id, bool)
            or not isinstance(class_id, numbers.Integral)
            or class_id < 0
        ):
            raise InvalidArgumentError(
                "Argument `class_id` must be None or an integer >= 0. "
                f"Received: class_id={class_id!r}"
            )
        self.class_id = None if class_id is None else int(class_id)
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = (
            [default] if thresholds is None else check_thresholds(thresholds)
        )
        #: the thresholds as given (None, one number or a list), for get_config
        self.init_thresholds: Any = thresholds
        if isinstance(thresholds, (list, tuple, np.ndarray)):
            self.init_thresholds = list(self.thresholds)
        elif thresholds is not None:
            self.init_thresholds = self.thresholds[0]
        self._evenly = evenly_spaced(self.thresholds)
        count = len(self.thresholds)
        self.true_positives = self.add_variable((count,), name="true_positives")
        self.other = self.add_variable((count,), name=self._other)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch's confusion counts at every threshold."""
        tp, fp, _, fn = confusion_counts(
            self, y_true, y_pred, sample_weight, self.thresholds,
            evenly=self._evenly, top_k=self.top_k, class_id=self.class_id,
        )  # fmt: skip
        self.true_positives += tp
        self.other += fp if self._other == "false_positives" else fn

    def result(self) -> Any:
        """``TP / (TP + other)`` (0 where nothing counted): one per threshold."""
        value = divide_no_nan(self.true_positives, self.true_positives + self.other)
        return float(value[0]) if len(self.thresholds) == 1 else value

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, thresholds (as given), top_k and class_id."""
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


@registry.register("precision")
class Precision(_AtThresholds):
    """``TP / (TP + FP)``: the share of predicted positives that are positive.

    ``thresholds`` (default 0.5; use 0 for logits) may be a list, giving one value
    per threshold. ``top_k`` counts only each row's k highest predictions as
    positive; ``class_id`` looks only at that column.

    >>> m = Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    >>> m.result()
    1.0
    >>> m = Precision(top_k=2)
    >>> m.update_state([0, 0, 1, 1], [1, 1, 1, 1])  # the first two kept: TP 0, FP 2
    >>> m.result()
    0.0
    >>> Precision(thresholds=[0.3, 0.8])([1, 0], [0.5, 0.5])
    array([0.5, 0. ])
    """

    _other = "false_positives"

    @property
    def false_positives(self) -> Array:
        """FP at each threshold so far."""
        return self.other

    def __init__(
        self,
        thresholds: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(thresholds, top_k, class_id, name, dtype)


@registry.register("recall")
class Recall(_AtThresholds):
    """``TP / (TP + FN)``: the share of positives predicted positive.

    Arguments as :class:`Precision`.

    >>> m = Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])  # TP = 2, FN = 1
    >>> round(m.result(), 4)
    0.6667
    >>> Recall(class_id=1)([[0, 1], [0, 1], [1, 0]], [[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    0.5
    """

    _other = "false_negatives"

    @property
    def false_negatives(self) -> Array:
        """FN at each threshold so far."""
        return self.other

    def __init__(
        self,
        thresholds: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(thresholds, top_k, class_id, name, dtype)
