"""What every metric reads its inputs with: checks, Keras' rank rule and reductions.

``update_state`` validates at the boundary: numeric ``y_true`` and ``y_pred`` with as
many samples, one finite non-negative weight per sample. :func:`same_rank` is Keras'
``squeeze_or_expand_to_same_rank``; :func:`weighted_sums` is its ``Mean`` reduction.

>>> y_true, y_pred = read_pair([[1], [0]], [0.8, 0.3])
>>> [a.shape for a in same_rank(y_true, y_pred)]
[(2, 1), (2, 1)]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)

__all__ = [
    "check_same_shape",
    "divide_no_nan",
    "log_value",
    "read_array",
    "read_pair",
    "read_sample_weight",
    "same_rank",
    "weighted_sums",
]


def read_array(value: Any, name: str) -> Array:
    """``value`` as a numeric array of at least one dimension, or an error naming it.

    >>> read_array(3, "y_true")
    array([3])
    >>> read_array(["a"], "y_true")
    Traceback (most recent call last):
    ...
    glassnet.errors.GlassnetTypeError: Argument `y_true` must contain numbers ...
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise GlassnetTypeError(
            f"Argument `{name}` must be numeric array-like data. "
            f"Received: {name}={value!r}"
        )
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        raise DataError(
            f"Argument `{name}` could not be read as a rectangular array ({error})."
        ) from None
    if array.dtype.kind not in "biuf":
        raise GlassnetTypeError(
            f"Argument `{name}` must contain numbers (bool, int or float). "
            f"Received: an array of dtype {array.dtype}"
        )
    return array if array.ndim else array.reshape(1)


def read_sample_weight(sample_weight: Any, n: int) -> Array | None:
    """One finite, non-negative weight per sample (or one for all), or None.

    >>> read_sample_weight([1, 0.5], 2)
    array([1. , 0.5])
    >>> read_sample_weight([1, -1], 2)
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Argument `sample_weight` must hold finite ...
    """
    if sample_weight is None:
        return None
    weight = np.asarray(read_array(sample_weight, "sample_weight"), dtype=np.float64)
    if np.ndim(sample_weight) and len(weight) != n:
        raise ShapeError(
            f"Argument `sample_weight` must have one weight per sample ({n}). "
            f"Received: sample_weight.shape={weight.shape}"
        )
    if not np.isfinite(weight).all() or (weight < 0).any():
        raise InvalidArgumentError(
            "Argument `sample_weight` must hold finite numbers >= 0. "
            f"Received: min={weight.min()}, max={weight.max()}"
        )
    return weight if np.ndim(sample_weight) else weight.reshape(())


def same_rank(a: Array, b: Array, expand_rank_1: bool = True) -> tuple[Array, Array]:
    """Keras' rule for ranks that differ by one: squeeze (or expand) a last axis of 1.

    >>> [x.shape for x in same_rank(np.zeros((4, 1)), np.zeros(4))]
    [(4, 1), (4, 1)]
    """
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        if b.ndim == 1 and expand_rank_1:
            b = b[:, None]
        else:
            a = a[..., 0]
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        if a.ndim == 1 and expand_rank_1:
            a = a[:, None]
        else:
            b = b[..., 0]
    return a, b


def _mean_over(values: Array, first_axis: int) -> Array:
    axes = tuple(range(first_axis, values.ndim))
    return values.mean(axis=axes) if axes else values


def weighted_sums(values: Array, sample_weight: Array | None) -> tuple[float, float]:
    """``(sum of w * value, sum of w)`` over samples, as Keras' ``Mean`` reduces them.

    Each sample's value is first averaged over its own axes (those past the weight's
    rank); without weights every sample weighs 1 (a 0-d ``values`` is one sample).

    >>> weighted_sums(np.array([[1.0, 3.0], [5.0, 7.0]]), np.array([1.0, 0.5]))
    (5.0, 1.5)
    """
    if sample_weight is None:  # the fit loop's path: one reduction, no temporaries
        if values.dtype == bool:  # hits of an accuracy: count them
            total = float(np.count_nonzero(values))
        else:
            total = float(np.add.reduce(values, axis=None, dtype=np.float64))
        if values.ndim < 2:
            return total, float(len(values) if values.ndim else 1)
        n = len(values)
        return (total * n / values.size if values.size else 0.0), float(n)
    if values.dtype == bool:
        values = values.astype(np.float64)
    weight = sample_weight.astype(values.dtype)
    values, weight = same_rank(values, weight)
    values = _mean_over(values, weight.ndim)
    try:
        weight = np.broadcast_to(weight, values.shape)
    except ValueError:
        hint = (
            " (1-D y_true and y_pred make one value per call, as in Keras: pass "
            "them as columns, shaped (n, 1))"
            if values.ndim == 0
            else ""
        )
        raise ShapeError(
            "Argument `sample_weight` does not fit the metric's values. "
            f"Received: sample_weight.shape={sample_weight.shape} for values of "
            f"shape {values.shape}{hint}"
        ) from None
    values = _mean_over(values * weight, 1)
    return float(values.sum(dtype=np.float64)), float(
        _mean_over(weight, 1).sum(dtype=np.float64)
    )


def divide_no_nan(a: Any, b: Any) -> Any:
    """``a / b`` where ``b != 0``, else 0 (Keras' ``divide_no_nan``).

    >>> divide_no_nan(np.array([1.0, 2.0]), np.array([2.0, 0.0]))
    array([0.5, 0. ])
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    safe = np.where(b == 0, 1.0, b)
    return np.where(b == 0, 0.0, a / safe)


def log_value(value: Any) -> Any:
    """A result as logs hold it: a float, or an array for per-class results.

    >>> log_value(np.float32(0.5)), log_value(np.array([0.5, 1.0]))
    (0.5, array([0.5, 1. ]))
    """
    if isinstance(value, float):
        return value
    array = np.asarray(value)
    return float(array) if array.ndim == 0 else array


def read_pair(y_true: Any, y_pred: Any) -> tuple[Array, Array]:
    """``y_true`` and ``y_pred`` as arrays with the same number of samples.

    >>> [a.shape for a in read_pair([[1], [0]], [[0.3], [0.6]])]
    [(2, 1), (2, 1)]
    """
    y_true_arr, y_pred_arr = read_array(y_true, "y_true"), read_array(y_pred, "y_pred")
    if len(y_true_arr) != len(y_pred_arr):
        raise ShapeError(
            "Arguments `y_true` and `y_pred` must hold the same number of samples. "
            f"Received: y_true.shape={y_true_arr.shape}, y_pred.shape={y_pred_arr.shape}"
        )
    return y_true_arr, y_pred_arr


def check_same_shape(metric: Any, y_true: Array, y_pred: Array) -> None:
    """Refuse targets and predictions that are not entry-for-entry alike.

    >>> from glassnet.metrics import Mean
    >>> check_same_shape(Mean(), np.zeros((2, 1)), np.zeros((2, 3)))
    Traceback (most recent call last):
    ...
    glassnet.errors.ShapeError: Mean 'mean' compares `y_true` and `y_pred` entry ...
    """
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"{type(metric).__name__} '{metric.name}' compares `y_true` and `y_pred` "
            f"entry by entry, so their shapes must match. Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
