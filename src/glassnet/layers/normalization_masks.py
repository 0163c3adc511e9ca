"""Batch statistics over the real steps only: BatchNormalization under a padding mask.

Given a mask (``(batch, time)`` beside ``(batch, time, features)``: True where a
step is real), Keras 3's BatchNormalization takes its training statistics over the
real steps alone, with the weights ``w`` (the mask, broadcast over the features)::

    W    = sum(w) + 1e-7                 (Keras' backend.epsilon(), as Keras adds it)
    mean = sum(w * x) / W
    var  = sum(w * (x - mean)**2) / W

over every axis but the feature axis. Every step, padding included, is then
normalized with them, ``xhat = (x - mean) / sqrt(var + epsilon)``; only the
statistics ignore the padding, and the moving averages are updated with them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import ShapeError

__all__ = [
    "check_mask_shape",
    "mask_weights",
    "masked_moments",
    "masked_standardize_backward",
]

#: what Keras adds to the sum of the weights (``keras.backend.epsilon()``)
WEIGHT_EPSILON = 1e-7


def check_mask_shape(layer: Any, x: Array, mask: Any) -> None:
    """A ShapeError unless the mask has one axis fewer than ``x`` (Keras' check),
    i.e. ``x``'s shape without the last axis."""
    shape = np.shape(mask)
    if shape != x.shape[:-1]:
        raise ShapeError(
            f"Layer '{layer.name}' (BatchNormalization) takes a mask with one axis "
            f"fewer than its input, the input's shape without the last axis "
            f"({x.shape[:-1]} here), as Keras does. Received: mask.shape={shape}, "
            f"inputs.shape={x.shape}"
        )


def mask_weights(mask: Any, x: Array) -> Array:
    """The mask as 0/1 weights shaped like ``x`` (the mask has one axis fewer).

    >>> mask_weights(np.array([[True, False]]), np.zeros((1, 2, 3)))[0]
    array([[1., 1., 1.],
           [0., 0., 0.]])
    """
    return np.broadcast_to(np.asarray(mask)[..., None], x.shape).astype(x.dtype)


def masked_moments(
    x: Array, weights: Array, axes: tuple[int, ...]
) -> tuple[Array, Array, Array]:
    """Weighted mean and variance of ``x`` over ``axes`` (see the module docstring),
    and ``W``; all three keep the reduced axes.

    >>> x = np.array([[[1.0], [3.0], [100.0]]])  # the third step is padding
    >>> w = np.array([[[1.0], [1.0], [0.0]]])
    >>> mean, var, total = masked_moments(x, w, (0, 1))
    >>> float(mean.ravel()[0].round(6)), float(var.ravel()[0].round(6))
    (2.0, 1.0)
    """
    total = weights.sum(axis=axes, keepdims=True) + WEIGHT_EPSILON
    mean = np.sum(weights * x, axis=axes, keepdims=True) / total
    centered = weights * (x - mean)
    return mean, np.sum(centered * centered, axis=axes, keepdims=True) / total, total


def masked_standardize_backward(
    grad_xhat: Array,
    xhat: Array,
    inv_std: Array,
    weights: Array,
    total: Array,
    axes: tuple[int, ...],
) -> Array:
    """dL/dx of ``xhat = (x - mean) * inv_std`` with the weighted statistics.

    Every x reaches xhat directly; a real one (``w = 1``) also through the mean and
    the variance. With ``dxhat`` = dL/dxhat, sums over ``axes`` and ``x - mean =
    xhat / inv_std``::

        dvar  = -1/2 * inv_std**2 * sum(dxhat * xhat)
        dmean = -inv_std * sum(dxhat) - 2 * dvar * sum(w * (x - mean)) / W
        dx    = dxhat * inv_std + w * (dmean + 2 * dvar * (x - mean)) / W

    (``sum(w * (x - mean))`` is not quite 0, because Keras' ``W`` has 1e-7 added.)
    """
    # xhat = (x - mean) * inv_std, mean = sum(w x) / W, var = sum(w (x - mean)^2) / W
    #   =>  dx = dxhat * inv_std + w * dmean / W + w * dvar * 2 (x - mean) / W
    centered = xhat / inv_std
    grad_var = (
        -0.5 * inv_std * inv_std * np.sum(grad_xhat * xhat, axis=axes, keepdims=True)
    )
    grad_mean = -inv_std * grad_xhat.sum(axis=axes, keepdims=True) - 2.0 * grad_var * (
        np.sum(weights * centered, axis=axes, keepdims=True) / total
    )
    return (
        grad_xhat * inv_std + weights * (grad_mean + 2.0 * grad_var * centered) / total
    )
