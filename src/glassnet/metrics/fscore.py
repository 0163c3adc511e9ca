"""The F-beta and F1 scores: harmonic means of precision and recall, per class.

>>> m = F1Score(average="macro", threshold=0.5)
>>> m.update_state([[1, 0], [0, 1], [1, 0]], [[0.9, 0.2], [0.6, 0.7], [0.3, 0.1]])
>>> round(m.result(), 4)  # class 0: TP 1, FP 1, FN 1 -> F1 0.5; class 1: F1 1
0.75
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.metrics.base import EPSILON, Metric, registry
from glassnet.metrics.inputs import check_same_shape, read_pair, read_sample_weight

__all__ = ["F1Score", "FBetaScore"]

_AVERAGES = (None, "micro", "macro", "weighted")


@registry.register("f_beta_score")
class FBetaScore(Metric):
    """``(1 + beta**2) * P * R / (beta**2 * P + R)`` per class, then averaged.

    Per class c over the samples seen (weighted): ``P = TP / (TP + FP + 1e-7)``,
    ``R = TP / (TP + FN + 1e-7)``, and 1e-7 is added to the F denominator too, as in
    Keras. A prediction is positive where ``y_pred > threshold``, or, with
    ``threshold=None``, where it is its row's maximum (and not 0). ``average``:
    None (one score per class), ``"micro"`` (counts pooled over classes first),
    ``"macro"`` (mean of the class scores) or ``"weighted"`` (mean weighted by each
    class's number of true labels). Inputs are 2-D: (samples, classes).

    >>> m = FBetaScore(beta=2.0, threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> np.round(m.result(), 4)  # class 0: P 1, R 1/3 -> 5 * (1/3) / (4 + 1/3)
    array([0.3846, 0.9091, 0.8333])
    """

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        if average not in _AVERAGES:
            raise InvalidArgumentError(
                f"Argument `average` must be one of {_AVERAGES}. "
                f"Received: average={average!r}"
            )
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
            raise GlassnetTypeError(
                f"Argument `beta` must be a number > 0. Received: beta={beta!r}"
            )
        if not 0.0 < float(beta) < float("inf"):
            raise InvalidArgumentError(
                f"Argument `beta` must be a number > 0. Received: beta={beta!r}"
            )
        if threshold is not None:
            if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
                raise GlassnetTypeError(
                    "Argument `threshold` must be None or a number in (0, 1]. "
                    f"Received: threshold={threshold!r}"
                )
            if not 0.0 < float(threshold) <= 1.0:
                raise InvalidArgumentError(
                    "Argument `threshold` must be None or a number in (0, 1]. "
                    f"Received: threshold={threshold!r}"
                )
        self.average: str | None = average
        self.beta: float = float(beta)
        self.threshold: float | None = None if threshold is None else float(threshold)
        self._classes: int | None = None
        empty = np.zeros(0)  # until the first batch shows the number of classes
        self.true_positives: Array = empty
        self.false_positives: Array = empty
        self.false_negatives: Array = empty
        self.intermediate_weights: Array = empty

    def _build(self, classes: int) -> None:
        shape = () if self.average == "micro" else (classes,)
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(
            shape, name="intermediate_weights"
        )
        self._classes = classes

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch's weighted TP, FP, FN and true-label counts per class."""
        y_true_arr, y_pred_arr = read_pair(y_true, y_pred)
        weight = read_sample_weight(sample_weight, len(y_pred_arr))
        dtype = self.compute_dtype(y_pred_arr)
        y_true_arr, y_pred_arr = y_true_arr.astype(dtype), y_pred_arr.astype(dtype)
        if y_pred_arr.ndim != 2:
            raise ShapeError(
                f"{type(self).__name__} '{self.name}' takes 2-D inputs shaped "
                f"(samples, classes). Received: y_true.shape={y_true_arr.shape}, "
                f"y_pred.shape={y_pred_arr.shape}"
            )
        check_same_shape(self, y_true_arr, y_pred_arr)
        if self._classes is None:
            self._build(y_pred_arr.shape[1])
        if y_pred_arr.shape[1] != self._classes:
            raise ShapeError(
                f"{type(self).__name__} '{self.name}' was first given {self._classes} "
                f"classes. Received: y_pred.shape={y_pred_arr.shape}"
            )
        if self.threshold is None:
            row_max = y_pred_arr.max(axis=-1, keepdims=True)
            predicted = (y_pred_arr >= row_max) & (np.abs(y_pred_arr) > 1e-9)
        else:
            predicted = y_pred_arr > np.asarray(self.threshold, dtype=dtype)
        p = predicted.astype(dtype)
        w = None if weight is None else weight.astype(dtype)
        if w is not None and w.ndim == 1:
            w = w[:, None]
        axis = None if self.average == "micro" else 0

        def weighted_sum(values: Array) -> Array:
            values = values if w is None else values * w
            total: Array = values.sum(axis=axis, dtype=np.float64)
            return total

        self.true_positives += weighted_sum(p * y_true_arr)
        self.false_positives += weighted_sum(p * (1 - y_true_arr))
        self.false_negatives += weighted_sum((1 - p) * y_true_arr)
        self.intermediate_weights += weighted_sum(y_true_arr)

    def result(self) -> Any:
        """The score: a float, or one per class with ``average=None``."""
        if self._classes is None:
            return 0.0
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        b2 = self.beta**2
        score = precision * recall / (b2 * precision + recall + EPSILON) * (1 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights
            return float(np.sum(score * weights / (np.sum(weights) + EPSILON)))
        if self.average is not None:
            return float(np.mean(score))
        return score

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, average, beta and threshold."""
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


@registry.register("f1_score")
class F1Score(FBetaScore):
    """``2 * P * R / (P + R)`` per class: :class:`FBetaScore` with ``beta=1``.

    >>> m = F1Score(threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> np.round(m.result(), 4)
    array([0.5   , 0.8   , 0.6667])
    """

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype
        )

    def get_config(self) -> dict[str, Any]:
        """As FBetaScore's, without beta."""
        config = super().get_config()
        del config["beta"]
        return config
