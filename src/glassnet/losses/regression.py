"""Regression losses: mean squared error and mean absolute error.

Both compare ``y_pred`` with ``y_true`` entry by entry, average over the output units
and then over the batch; ``backward`` is already divided by the batch size.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from glassnet._typing import Array
from glassnet.losses.base import Loss, _as_pair, _per_sample_mean, registry

__all__ = ["MeanAbsoluteError", "MeanSquaredError"]


@registry.register("mean_squared_error", "mse")
class MeanSquaredError(Loss):
    """Mean squared error ``L = mean_batch( mean_units( (y_pred - y_true)^2 ) )``.

    The mean over output units, then over the batch, equals the mean over all N
    entries, so ``backward`` is ``2 (y_pred - y_true) / N`` (already divided by the
    batch size).

    Examples
    --------
    >>> # ((1 - 0)^2 + (1 - 1)^2) / 2 = 0.5 per sample, both samples alike
    >>> MeanSquaredError()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]])
    0.5
    """

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _as_pair(y_true, y_pred)
        return _per_sample_mean(np.square(p - t))

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        # L = (1/N) sum (p - t)^2 over all N entries  =>  dL/dp = 2 (p - t) / N
        t, p = _as_pair(y_true, y_pred)
        return (2.0 / p.size) * (p - t)


@registry.register("mean_absolute_error", "mae")
class MeanAbsoluteError(Loss):
    """Mean absolute error ``L = mean_batch( mean_units( |y_pred - y_true| ) )``.

    ``backward`` is ``sign(y_pred - y_true) / N`` (already divided by the batch size;
    0 where the prediction is exact).

    Examples
    --------
    >>> # (|0.5 - 0| + |1 - 2|) / 2 = 0.75
    >>> MeanAbsoluteError()([[0.0, 2.0]], [[0.5, 1.0]])
    0.75
    """

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _as_pair(y_true, y_pred)
        return _per_sample_mean(np.abs(p - t))

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        # L = (1/N) sum |p - t|  =>  dL/dp = sign(p - t) / N
        t, p = _as_pair(y_true, y_pred)
        return np.sign(p - t) / p.size
