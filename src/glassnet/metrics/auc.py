"""AUC: the area under the ROC or precision-recall curve, from confusion counts.

As in Keras 3, the curve is known only at ``num_thresholds`` thresholds: 0 - 1e-7,
``i / (num_thresholds - 1)`` for i = 1 .. num_thresholds - 2, and 1 + 1e-7 (or the
``thresholds`` given, between the same two ends). Each batch adds its TP, FP, TN, FN
at every threshold (:func:`~glassnet.metrics.confusion.confusion_counts`), so the
area over an epoch is the area of the epoch's counts, not a mean of batch areas.

>>> m = AUC(num_thresholds=3)
>>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
>>> m.result()
0.75
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_bool
from glassnet.errors import InvalidArgumentError, ShapeError
from glassnet.metrics.base import EPSILON, Metric, registry
from glassnet.metrics.confusion import check_thresholds, confusion_counts, evenly_spaced
from glassnet.metrics.inputs import divide_no_nan, read_array

__all__ = ["AUC"]

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


@registry.register("auc")
class AUC(Metric):
    """Area under the ROC curve (``curve="ROC"``) or the precision-recall curve ("PR").

    With T thresholds t_0 < ... < t_{T-1}, recall ``R = TP / (TP + FN)``, false
    positive rate ``F = FP / (FP + TN)`` and precision ``P = TP / (TP + FP)``:

    - ROC, ``summation_method="interpolation"`` (trapezoids)::

          AUC = sum_i (F_i - F_{i+1}) * (R_i + R_{i+1}) / 2

    - PR, interpolation (Davis & Goadrich 2006: TP and TP + FP vary linearly
      between thresholds, precision does not)::

          slope_i = (TP_i - TP_{i+1}) / (P_i - P_{i+1}),   with P = TP + FP
          AUC = sum_i slope_i * (TP_i - TP_{i+1}
                                 + (TP_{i+1} - slope_i P_{i+1}) log(P_i / P_{i+1}))
                      / (TP_{i+1} + FN_{i+1})

    - ``"minoring"`` / ``"majoring"``: rectangles of height min / max of the two ends.
    - ``curve="PRGAIN"``: the precision-recall gain curve, as Keras computes it.

    ``from_logits=True`` applies a sigmoid to ``y_pred`` first. ``multi_label=True``
    computes one AUC per label column and averages them (weighted by
    ``label_weights``); otherwise every entry is one prediction. The approximation
    is good when predictions spread over [0, 1]; more thresholds refine it.

    >>> AUC()([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])  # scikit-learn's exact AUC: 0.75
    0.75
    >>> round(AUC(curve="PR")([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.7973
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Any = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(check_thresholds(thresholds))
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_spaced([0.0, *inner, 1.0])
        else:
            if (
                isinstance(num_thresholds, bool)
                or not isinstance(num_thresholds, numbers.Integral)
                or num_thresholds < 2
            ):
                raise InvalidArgumentError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds!r}"
                )
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = [0.0 - EPSILON, *inner, 1.0 + EPSILON]
        self.curve = _choice(curve, "curve", _CURVES)
        self.summation_method = _choice(
            summation_method, "summation_method", {s: s for s in _SUMMATIONS}
        )
        self.multi_label = check_bool(multi_label, "multi_label")
        self.from_logits = check_bool(from_logits, "from_logits")
        self.num_labels = _labels(num_labels, self.multi_label)
        self.label_weights = _label_weights(label_weights)
        self._built_labels: int | None = None
        empty = np.zeros(0)  # multi_label: until the first batch shows the labels
        self.true_positives: Array = empty
        self.false_positives: Array = empty
        self.true_negatives: Array = empty
        self.false_negatives: Array = empty
        if not self.multi_label:
            self._build(None)
        elif self.num_labels is not None:
            self._build(self.num_labels)

    @property
    def thresholds(self) -> list[float]:
        """Every threshold, with the two ends just outside [0, 1]."""
        return list(self._thresholds)

    def _build(self, labels: int | None) -> None:
        shape = (
            (self.num_thresholds,) if labels is None else (self.num_thresholds, labels)
        )
        self._variables.clear()
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.true_negatives = self.add_variable(shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self._built_labels = labels

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch's TP, FP, TN, FN at every threshold."""
        if self.multi_label:
            shape = read_array(y_pred, "y_pred").shape
            if len(shape) != 2 or (
                self._built_labels is not None and shape[1] != self._built_labels
            ):
                raise ShapeError(
                    f"AUC '{self.name}' with multi_label=True takes `y_pred` shaped "
                    f"(samples, {self._built_labels or 'labels'}). "
                    f"Received: y_pred.shape={shape}"
                )
            if self._built_labels is None:
                self._build(shape[1])
        counts = confusion_counts(
            self, y_true, y_pred, sample_weight, self._thresholds,
            evenly=self._evenly, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            from_logits=self.from_logits,
        )  # fmt: skip
        self.true_positives += counts[0]
        self.false_positives += counts[1]
        self.true_negatives += counts[2]
        self.false_negatives += counts[3]

    def result(self) -> Any:
        """The area so far (0.0 before any sample)."""
        if not self.true_positives.size:
            return 0.0
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._average(_interpolated_pr_terms(tp, fp, fn))
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), divide_no_nan(tp, tp + fn)
        elif self.curve == "PR":
            x, y = divide_no_nan(tp, tp + fn), divide_no_nan(tp, tp + fp)
        else:
            x, y = _gains(tp, fp, tn, fn)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def _average(self, terms: Array) -> float:
        """Sum the Riemann terms; with several labels, average their areas."""
        if not self.multi_label:
            return float(np.sum(terms))
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(
            divide_no_nan(
                np.sum(by_label * self.label_weights), np.sum(self.label_weights)
            )
        )

    def get_config(self) -> dict[str, Any]:
        """Keras' AUC config; ``thresholds`` only when they were given."""
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None
            if self.label_weights is None
            else [float(w) for w in self.label_weights],
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self._thresholds[1:-1]
        return config


def _interpolated_pr_terms(tp: Array, fp: Array, fn: Array) -> Array:
    """Each interval's share of the PR area, with TP and TP + FP linear in it."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
    with np.errstate(divide="ignore"):
        log_ratio = np.log(ratio)
    terms: Array = divide_no_nan(
        slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0)
    )
    return terms


def _gains(tp: Array, fp: Array, tn: Array, fn: Array) -> tuple[Array, Array]:
    """Recall gain and precision gain (Flach & Kull), clamped as Keras clamps them."""
    scale = divide_no_nan(tp + fn, tn + fp)
    recall_gain = 1.0 - scale * divide_no_nan(fn, tp)
    precision_gain = 1.0 - scale * divide_no_nan(fp, tp)
    recall_gain = np.maximum(np.where(tp == 0, 0.0, recall_gain), 0.0)
    precision_gain = np.where(tp == 0, 1.0, precision_gain)
    return recall_gain, precision_gain


def _choice(value: Any, name: str, choices: dict[str, str]) -> str:
    key = value.lower() if isinstance(value, str) else None
    if key not in choices:
        raise InvalidArgumentError(
            f"Argument `{name}` must be one of {sorted(set(choices.values()))}. "
            f"Received: {name}={value!r}"
        )
    return choices[key]


def _labels(num_labels: Any, multi_label: bool) -> int | None:
    if num_labels is None:
        return None
    if not multi_label:
        raise InvalidArgumentError(
            "Argument `num_labels` is needed only with multi_label=True. "
            f"Received: num_labels={num_labels!r}"
        )
    if (
        isinstance(num_labels, bool)
        or not isinstance(num_labels, numbers.Integral)
        or num_labels < 1
    ):
        raise InvalidArgumentError(
            f"Argument `num_labels` must be a positive integer. "
            f"Received: num_labels={num_labels!r}"
        )
    return int(num_labels)


def _label_weights(label_weights: Any) -> Array | None:
    if label_weights is None:
        return None
    weights = np.asarray(read_array(label_weights, "label_weights"), dtype=np.float64)
    if weights.ndim != 1 or not np.isfinite(weights).all() or (weights < 0).any():
        raise InvalidArgumentError(
            "Argument `label_weights` must be a list of finite numbers >= 0, one per "
            f"label. Received: label_weights={label_weights!r}"
        )
    return weights
