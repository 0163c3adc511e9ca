"""A loss on an output that carries a padding mask, as Keras 3's ``Loss.__call__``.

A recurrent model's output ``(batch, time, ...)`` may carry the mask of its padded
steps (``Embedding(mask_zero=True)`` or ``Masking`` upstream, see
``docs/internals.md``). Keras then weighs each step's loss (``apply_mask`` in
``keras/src/losses/loss.py``): a masked step 0, a real one ``total / valid``, so
that the batch mean becomes the mean over the real steps::

    w[n, t] = m[n, t] * (N T) / (number of real steps)      (0 if there is none)
    L = sum over n, t of w[n, t] s[n] l[n, t] / (N T) = sum of s[n] l[n, t] over the
        real steps / (number of real steps)

with ``l[n, t]`` the loss of one step (reduced over its last axis) and ``s[n]`` the
sample weights, if any. The functions here compute ``L`` and ``dL/dy_pred`` with any
glassnet loss, whose ``per_sample`` and ``backward`` see every step as a row of
its own.

>>> import numpy as np
>>> from glassnet.losses import MeanSquaredError
>>> mask = np.array([[True, True, False]])                  # the last step is padding
>>> y_pred, y_true = np.array([[[1.0], [3.0], [50.0]]]), np.zeros((1, 3, 1))
>>> weights = mask_weights(mask, None, np.float64)
>>> weights
array([[1.5, 1.5, 0. ]])
>>> masked_loss(MeanSquaredError(), y_true, y_pred, weights)   # (1 + 9) / 2
5.0
>>> masked_gradient(MeanSquaredError(), y_true, y_pred, weights)[0, :, 0]
array([1., 3., 0.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.losses.base import Loss

__all__ = ["mask_weights", "masked_gradient", "masked_logits_gradient", "masked_loss"]


def mask_weights(mask: Array, sample_weight: Array | None, dtype: Any) -> Array:
    """Keras' ``apply_mask`` for a mean loss: ``m * total / valid`` per step (see
    the module docstring), times each sample's weight; shape of ``mask``."""
    real = np.asarray(mask, bool)
    valid = np.count_nonzero(real)
    scale = real.size / valid if valid else 0.0  # divide_no_nan, as Keras
    weights = real * np.asarray(scale, dtype=dtype)
    if sample_weight is not None:
        weights *= sample_weight.reshape((-1,) + (1,) * (weights.ndim - 1))
    return weights


def _rows(y_true: Any, y_pred: Array, lead: int) -> tuple[Array, Array]:
    """Targets and predictions with their first ``lead`` axes (batch, time) folded
    into rows: every step a sample of its own."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == lead:  # one number per step: columns
        return y_true.reshape(-1, 1), y_pred.reshape(-1, 1)
    return (
        y_true.reshape(-1, *y_true.shape[lead:]),
        y_pred.reshape(-1, *y_pred.shape[lead:]),
    )


def masked_loss(loss: Loss, y_true: Any, y_pred: Array, weights: Array) -> float:
    """``L`` of the module docstring, given ``weights`` from :func:`mask_weights`."""
    per_step = loss.per_sample(*_rows(y_true, y_pred, weights.ndim))
    return float(per_step @ weights.reshape(-1).astype(per_step.dtype) / weights.size)


def masked_gradient(loss: Loss, y_true: Any, y_pred: Array, weights: Array) -> Array:
    """``dL/dy_pred``: the loss's gradient over the steps as rows (already divided
    by their number, N T), times each step's weight."""
    # L = sum over rows k of w_k l_k / (N T)  =>  dL/dy_k = w_k (dl_k/dy_k) / (N T)
    grad = loss.backward(*_rows(y_true, y_pred, weights.ndim))
    return _scaled(grad, weights).reshape(y_pred.shape)


def masked_logits_gradient(
    loss: Loss, y_true: Any, logits: Array, output: Array, weights: Array
) -> Array:
    """``dL/dz`` at the logits of a fused output activation (softmax or sigmoid
    with its cross-entropy), step rows weighted as in :func:`masked_gradient`."""
    # L = sum over rows k of w_k l_k(z_k) / (N T)  =>  dL/dz_k = w_k (dl_k/dz_k) / (N T)
    labels, rows = _rows(y_true, logits, weights.ndim)
    grad = loss.logits_gradient(labels, rows, _rows(y_true, output, weights.ndim)[1])
    return _scaled(grad, weights).reshape(logits.shape)


def _scaled(grad: Array, weights: Array) -> Array:
    flat = weights.reshape((-1,) + (1,) * (grad.ndim - 1))
    return grad * flat.astype(grad.dtype, copy=False)
