"""Regression metrics: mean squared, root mean squared, absolute and percentage error, R².

The error metrics are (weighted) means over samples of a per-sample value that is
itself a mean over the last axis, exactly as Keras 3 computes them (so, as in Keras,
1-D ``y_true`` and ``y_pred`` make one value per call, not one per entry).

>>> m = MeanSquaredError()
>>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
>>> m.result()
0.25
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import is_integer
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.metrics.base import EPSILON, Metric, PerSampleMean, registry
from glassnet.metrics.inputs import (
    check_same_shape,
    read_pair,
    read_sample_weight,
    same_rank,
)

__all__ = [
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "R2Score",
    "RootMeanSquaredError",
]


def _pair(metric: Metric, y_true: Array, y_pred: Array) -> tuple[Array, Array]:
    y_true, y_pred = same_rank(y_true.astype(y_pred.dtype), y_pred)
    check_same_shape(metric, y_true, y_pred)
    return y_true, y_pred


@registry.register("mean_squared_error", "mse")
class MeanSquaredError(PerSampleMean):
    """``mean((y_true - y_pred) ** 2)``, each sample's squares averaged over the last axis.

    >>> MeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    0.25
    """

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """``mean((y_true - y_pred) ** 2, axis=-1)``."""
        y_true, y_pred = _pair(self, y_true, y_pred)
        diff = y_true - y_pred
        return np.mean(diff * diff, axis=-1)


@registry.register("mean_absolute_error", "mae")
class MeanAbsoluteError(PerSampleMean):
    """``mean(abs(y_true - y_pred))``, each sample's averaged over the last axis.

    >>> MeanAbsoluteError()([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    0.25
    """

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """``mean(abs(y_true - y_pred), axis=-1)``."""
        y_true, y_pred = _pair(self, y_true, y_pred)
        return np.mean(np.abs(y_true - y_pred), axis=-1)


@registry.register("mean_absolute_percentage_error", "mape")
class MeanAbsolutePercentageError(PerSampleMean):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)))``.

    A target of 0 divides by 1e-7 (Keras' epsilon), hence huge values there.

    >>> MeanAbsolutePercentageError()([[2.0], [4.0]], [[1.0], [5.0]])  # 50% and 25%
    37.5
    """

    def __init__(
        self, name: str = "mean_absolute_percentage_error", dtype: Any = None
    ) -> None:
        super().__init__(name, dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)), axis=-1)``."""
        y_true, y_pred = _pair(self, y_true, y_pred)
        eps = np.asarray(EPSILON, dtype=y_pred.dtype)
        diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), eps))
        return 100.0 * np.mean(diff, axis=-1)


@registry.register("root_mean_squared_error")
class RootMeanSquaredError(PerSampleMean):
    """``sqrt(mean((y_pred - y_true) ** 2))`` over every entry seen (weighted).

    >>> RootMeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    0.5
    """

    def __init__(
        self, name: str = "root_mean_squared_error", dtype: Any = None
    ) -> None:
        super().__init__(name, dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """``(y_pred - y_true) ** 2`` per entry."""
        y_true, y_pred = _pair(self, y_true, y_pred)
        diff = y_pred - y_true
        return diff * diff

    def result(self) -> Any:
        """The square root of the mean squared error so far."""
        return float(np.sqrt(super().result()))


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


@registry.register("r2_score")
class R2Score(Metric):
    """The coefficient of determination, per output column, then aggregated.

    For each column: ``1 - sum(w * (y - y_pred)**2) / sum(w * (y - mean_w(y))**2)``
    (a constant column scores 0 where its residual is not 0). ``class_aggregation``:
    ``"uniform_average"`` (mean over columns), ``"variance_weighted_average"``
    (weighted by each column's variance) or None (one score per column).
    ``num_regressors`` p > 0 gives the adjusted score ``1 - (1 - R²)(n - 1)/(n - p - 1)``
    where, as in Keras, n counts every entry seen.

    >>> round(R2Score()([[1], [4], [3]], [[2], [4], [4]]), 4)  # 1 - 2 / (14/3)
    0.5714
    """

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        if class_aggregation not in _AGGREGATIONS:
            raise InvalidArgumentError(
                f"Argument `class_aggregation` must be one of {_AGGREGATIONS}. "
                f"Received: class_aggregation={class_aggregation!r}"
            )
        if not is_integer(num_regressors):
            raise GlassnetTypeError(
                "Argument `num_regressors` must be an integer >= 0. "
                f"Received: num_regressors={num_regressors!r}"
            )
        if num_regressors < 0:
            raise InvalidArgumentError(
                "Argument `num_regressors` must be an integer >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        self.num_samples = self.add_variable(name="num_samples")
        self._columns: int | None = None
        self._sum = self._squared_sum = self._residual = self._count = np.zeros(0)

    def _build(self, columns: int) -> None:
        """Per-column sums: of w y, of w y², of w (y - y_pred)², and of w."""
        self._squared_sum = self.add_variable((columns,), name="squared_sum")
        self._sum = self.add_variable((columns,), name="sum")
        self._residual = self.add_variable((columns,), name="residual")
        self._count = self.add_variable((columns,), name="count")
        self._columns = columns

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch of 2-D ``(samples, outputs)`` targets and predictions."""
        y_true_arr, y_pred_arr = read_pair(y_true, y_pred)
        weight = read_sample_weight(sample_weight, len(y_pred_arr))
        dtype = self.compute_dtype(y_pred_arr)
        y, p = same_rank(y_true_arr.astype(dtype), y_pred_arr.astype(dtype))
        if y.ndim != 2 or p.ndim != 2:
            raise ShapeError(
                f"R2Score '{self.name}' takes 2-D inputs shaped (samples, outputs). "
                f"Received: y_true.shape={y_true_arr.shape}, "
                f"y_pred.shape={y_pred_arr.shape}"
            )
        check_same_shape(self, y, p)
        if self._columns is None:
            self._build(p.shape[1])
        if p.shape[1] != self._columns:
            raise ShapeError(
                f"R2Score '{self.name}' was first given {self._columns} output "
                f"column(s). Received: y_pred.shape={p.shape}"
            )
        w = np.ones((), dtype) if weight is None else weight.astype(dtype)
        w = np.broadcast_to(w[:, None] if w.ndim == 1 else w, y.shape)
        self._sum += (w * y).sum(axis=0, dtype=np.float64)
        self._squared_sum += (y * w * y).sum(axis=0, dtype=np.float64)
        self._residual += ((y - p) ** 2 * w).sum(axis=0, dtype=np.float64)
        self._count += w.sum(axis=0, dtype=np.float64)
        self.num_samples += y.size

    def result(self) -> Any:
        """The aggregated score (an array per column with ``class_aggregation=None``)."""
        if self._columns is None:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self._sum / self._count
            total = self._squared_sum - self._sum * mean
            raw = 1.0 - self._residual / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score: Any = float(np.mean(raw))
        elif self.class_aggregation == "variance_weighted_average":
            score = float(np.sum(total * raw) / np.sum(total))
        else:
            score = raw
        return self._adjusted(score)

    def _adjusted(self, score: Any) -> Any:
        p, n = self.num_regressors, float(self.num_samples)
        if p == 0:
            return score
        if p >= n - 1:
            warnings.warn(
                "More independent predictors than data points (or as many as n - 1) "
                "in the adjusted R2 score; reporting the standard R2 score.",
                stacklevel=3,
            )
            return score
        return 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, class_aggregation and num_regressors."""
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
