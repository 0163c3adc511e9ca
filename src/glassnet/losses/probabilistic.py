"""Probabilistic losses: the binary, categorical and sparse categorical cross-entropies.

Each takes probabilities by default and logits with ``from_logits=True``, the fused,
numerically stable path (log-sigmoid for binary, log-softmax for categorical). Each
also gives training the gradient at the logits of its fused output activation
(``logits_gradient``), reusing the sigmoid or softmax the forward pass computed. Every
loss is the mean over the batch and ``backward`` is already divided by the batch size.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from glassnet._typing import Array, Shape
from glassnet._validation import check_bool
from glassnet.errors import DataError, ShapeError
from glassnet.losses.base import (
    Loss,
    _as_float,
    _as_pair,
    _check_shape,
    _clip,
    _per_sample_mean,
    registry,
)
from glassnet.losses.fused import sparse_softmax_gradient

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
]


class _Crossentropy(Loss):
    """Shared constructor of the cross-entropies: the ``from_logits`` switch."""

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = check_bool(from_logits, "from_logits")

    def get_config(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits}


@registry.register("binary_crossentropy", "bce")
class BinaryCrossentropy(_Crossentropy):
    """Binary cross-entropy, averaged over output units and then over the batch.

    Elementwise ``-(t log p + (1 - t) log(1 - p))`` with ``p`` clipped to
    ``[1e-7, 1 - 1e-7]`` as Keras does. With ``from_logits=True``, ``y_pred`` holds
    logits ``z`` and the loss is ``max(z, 0) - z t + log(1 + exp(-|z|))``, which is
    exact and finite for any ``z``; its gradient is ``(sigmoid(z) - t) / N``.
    ``backward`` is already divided by the batch size (N = all entries).

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.

    Examples
    --------
    >>> # -(1 * log 0.5) = log 2
    >>> round(BinaryCrossentropy()([[1.0]], [[0.5]]), 6)
    0.693147
    >>> round(BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]]), 6)
    0.693147
    """

    fused_activation = "sigmoid"

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _as_pair(y_true, y_pred)
        if self.from_logits:
            z = p
            # -log sigmoid(z) and -log(1 - sigmoid(z)) rewritten so exp never overflows
            losses = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
        else:
            q = _clip(p)
            losses = -(t * np.log(q) + (1 - t) * np.log1p(-q))
        return _per_sample_mean(losses)

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _as_pair(y_true, y_pred)
        if self.from_logits:
            with np.errstate(over="ignore"):  # exp(-z) -> inf gives sigmoid 0, exactly
                s = 1 / (1 + np.exp(-p))
            return self.logits_gradient(t, p, s)
        # L = (1/N) sum -(t log q + (1 - t) log(1 - q)), q = clip(p)
        #   =>  dL/dp = (q - t) / (q (1 - q)) / N inside the clip range, 0 outside
        q = _clip(p)
        return (q - t) / (q * (1 - q) * p.size) * (q == p)

    def logits_gradient(
        self, y_true: npt.ArrayLike, logits: Array, output: Array
    ) -> Array:
        """``(sigmoid(z) - t) / N``, with ``output = sigmoid(z)``."""
        # L = (1/N) sum BCE(t, sigmoid(z))  =>  dL/dz = (sigmoid(z) - t) / N
        t, s = _as_pair(y_true, output)
        grad = s - t  # the one new array; the division is done in place
        grad /= s.size
        return grad

    def _check_targets(self, y: Array, output_shape: Shape, name: str) -> Array:
        y = _check_shape(y, output_shape, name)
        low, high = float(y.min()), float(y.max())
        if low < 0 or high > 1:
            raise DataError(
                f"binary_crossentropy needs targets in [0, 1] (0/1 labels or "
                f"probabilities). Received: `{name}` with values from {low:g} to "
                f"{high:g}. Map labels such as -1/+1 to 0/1; for more than two classes "
                f"use categorical_crossentropy or sparse_categorical_crossentropy."
            )
        return y


def _categorical_per_sample(t: Array, p: Array, from_logits: bool) -> Array:
    if from_logits:
        # log softmax(z) = (z - max) - log(sum(exp(z - max))): exp <= 1, no overflow
        shifted = p - p.max(axis=-1, keepdims=True)
        log_q = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        log_q = np.log(_clip(p / p.sum(axis=-1, keepdims=True)))
    rows = -(t * log_q).sum(axis=-1)
    return rows if rows.ndim == 1 else _per_sample_mean(rows)


def _softmax_gradient(t: Array, s: Array) -> Array:
    """dL/dz of the categorical cross-entropy, given ``s = softmax(z)``."""
    # L = (1/n) sum_rows -sum_i t_i log softmax(z)_i
    #   =>  dL/dz = (softmax(z) * sum_i t_i - t) / n  (= (softmax(z) - t) / n
    #       for one-hot or probability targets)
    n = s.size // s.shape[-1]  # rows: the batch size for (n, k) outputs
    grad = s * t.sum(axis=-1, keepdims=True)  # one new array, then in place
    grad -= t
    grad /= n
    return grad


def _categorical_backward(t: Array, p: Array, from_logits: bool) -> Array:
    if from_logits:
        e = np.exp(p - p.max(axis=-1, keepdims=True))
        return _softmax_gradient(t, e / e.sum(axis=-1, keepdims=True))
    n = p.size // p.shape[-1]
    # r = p / sum(p), q = clip(r), L = (1/n) sum_rows -sum_i t_i log q_i
    #   =>  g = dL/dr = -t / q (0 where clipped),
    #       dL/dp_j = (g_j - sum_i g_i r_i) / (n sum(p))
    total = p.sum(axis=-1, keepdims=True)
    r = p / total
    q = _clip(r)
    g = -(t / q) * (q == r)
    return (g - (g * r).sum(axis=-1, keepdims=True)) / (total * n)


@registry.register("categorical_crossentropy", "cce")
class CategoricalCrossentropy(_Crossentropy):
    """Categorical cross-entropy for one-hot (or probability) targets.

    Per sample ``-sum_classes t * log q``, then the mean over the batch. Without
    logits, ``q`` is ``y_pred`` normalised to sum to 1 and clipped to
    ``[1e-7, 1 - 1e-7]`` (Keras' definition); with ``from_logits=True``,
    ``log q = log_softmax(z)`` by log-sum-exp and the gradient is
    ``(softmax(z) - t) / n``. ``backward`` is already divided by the batch size n.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.

    Examples
    --------
    >>> # sample 1: -log 0.95 = 0.0513, sample 2: -log 0.1 = 2.3026; mean 1.1769
    >>> y_true = [[0, 1, 0], [0, 0, 1]]
    >>> y_pred = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
    >>> round(CategoricalCrossentropy()(y_true, y_pred), 4)
    1.1769
    """

    fused_activation = "softmax"

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _as_pair(y_true, y_pred)
        return _categorical_per_sample(t, p, self.from_logits)

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _as_pair(y_true, y_pred)
        return _categorical_backward(t, p, self.from_logits)

    def logits_gradient(
        self, y_true: npt.ArrayLike, logits: Array, output: Array
    ) -> Array:
        """``(softmax(z) * sum(t) - t) / n``, with ``output = softmax(z)``."""
        t, s = _as_pair(y_true, output)
        return _softmax_gradient(t, s)

    def _check_targets(self, y: Array, output_shape: Shape, name: str) -> Array:
        k = output_shape[-1]
        label_shapes = (output_shape[:-1], (*output_shape[:-1], 1))
        if k > 1 and y.shape[1:] in label_shapes and np.all(y == np.round(y)):
            raise DataError(
                f"categorical_crossentropy needs one-hot targets of shape (n, {k}), "
                f"but `{name}` holds integer class labels. Use "
                f"loss='sparse_categorical_crossentropy' with these labels, or "
                f"one-hot encode them (np.eye({k})[labels]). "
                f"Received: {name}.shape={y.shape}"
            )
        y = _check_shape(y, output_shape, name)
        if y.min() < 0:
            raise DataError(
                f"categorical_crossentropy needs non-negative targets (one-hot rows "
                f"or class probabilities). Received: `{name}` with minimum "
                f"{float(y.min()):g}."
            )
        return y


def _labels_like(labels: npt.ArrayLike, p: Array) -> Array:
    """Sparse labels as integer indices shaped ``p.shape[:-1]`` (a trailing 1 is
    dropped); a ShapeError for any other shape."""
    labels = np.asarray(labels)
    if labels.ndim == p.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != p.shape[:-1]:
        raise ShapeError(
            f"Sparse labels must have shape {p.shape[:-1]} (or with a trailing 1) "
            f"for y_pred of shape {p.shape}. Received: y_true.shape={labels.shape}"
        )
    return labels.astype(np.intp, copy=False)


def _one_hot(labels: npt.ArrayLike, p: Array) -> Array:
    """The one-hot rows of ``labels``, shaped and typed like ``p`` (any batch shape)."""
    indices = _labels_like(labels, p)
    return _one_hot_rows(indices.reshape(-1), p.shape[-1], p.dtype).reshape(p.shape)


# The most classes whose identity matrix _one_hot_rows keeps (4 MiB in float32).
_IDENTITY_MAX = 1024


@lru_cache(maxsize=8)
def _identity(k: int, dtype: np.dtype[Any]) -> Array:
    eye = np.eye(k, dtype=dtype)
    eye.flags.writeable = False  # shared by every call: only ever read
    return eye


def _one_hot_rows(indices: Array, k: int, dtype: np.dtype[Any]) -> Array:
    """``(len(indices), k)`` rows of zeros with a 1 at each row's index.

    Why the identity matrix: a one-hot row is row ``i`` of it, so one fancy-indexed
    read (``eye[indices]``) makes them all, in half the time of zeros plus a
    fancy-indexed write of the ones (on a training batch of 32 labels in 10
    classes, where this sits in every step of softmax + sparse cross-entropy).
    The identity is kept for up to ``_IDENTITY_MAX`` classes; above, zeros and a write.
    """
    if k <= _IDENTITY_MAX:
        return _identity(k, dtype)[indices]
    t = np.zeros((len(indices), k), dtype)
    t[np.arange(len(indices)), indices] = 1
    return t


def _sparse_per_sample(labels: npt.ArrayLike, p: Array, from_logits: bool) -> Array:
    """``-log q[label]`` per row (then averaged per sample, as the categorical loss).

    The same numbers as ``_categorical_per_sample(_one_hot(labels, p), p)``, since
    ``-sum_i onehot_i log q_i = -log q[label]``, but only each row's label entry is
    logged: no one-hot of p's size. fit's epoch-end loss over a char-LSTM's
    (1024, 64, 103) predictions took 42.8 ms with the one-hot, 5.4 ms this way.
    """
    picked = np.take_along_axis(p, _labels_like(labels, p)[..., None], axis=-1)
    if from_logits:
        # log softmax(z)[label] = (z[label] - max) - log(sum(exp(z - max)))
        top = p.max(axis=-1, keepdims=True)
        total = np.exp(p - top).sum(axis=-1, keepdims=True)
        log_q = (picked - top) - np.log(total)
    else:
        log_q = np.log(_clip(picked / p.sum(axis=-1, keepdims=True)))
    rows = -log_q[..., 0]
    return rows if rows.ndim == 1 else _per_sample_mean(rows)


@registry.register("sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(_Crossentropy):
    """Categorical cross-entropy with integer class labels instead of one-hot rows.

    ``y_true`` holds labels in ``[0, k)`` shaped ``(n,)`` or ``(n, 1)``; the loss is
    that of :class:`CategoricalCrossentropy` with the one-hot encoding of the labels,
    i.e. ``-log q[label]`` per sample, then the mean over the batch. ``backward`` is
    already divided by the batch size n.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.

    Examples
    --------
    >>> # -log 0.95 and -log 0.1, mean 1.1769 (the categorical example, as labels)
    >>> y_pred = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
    >>> round(SparseCategoricalCrossentropy()([1, 2], y_pred), 4)
    1.1769
    """

    fused_activation = "softmax"

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        p = _as_float(y_pred)
        return _sparse_per_sample(y_true, p, self.from_logits)

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        p = _as_float(y_pred)
        return _categorical_backward(_one_hot(y_true, p), p, self.from_logits)

    def logits_gradient(
        self, y_true: npt.ArrayLike, logits: Array, output: Array
    ) -> Array:
        """``(softmax(z) - onehot(labels)) / n``, with ``output = softmax(z)``."""
        # One-hot rows sum to 1, so _softmax_gradient's factor sum(t) drops out.
        p = _as_float(output)
        rows = p.reshape(-1, p.shape[-1])
        labels = np.asarray(y_true).reshape(-1).astype(np.intp, copy=False)
        if labels.shape != rows.shape[:1]:
            return (p - _one_hot(y_true, p)) / len(rows)  # explains the shape
        grad = sparse_softmax_gradient(rows, labels)  # one loop, with Numba
        if grad is None:  # (losses/fused.py; this is its reference)
            grad = rows - _one_hot_rows(labels, rows.shape[1], rows.dtype)
            grad /= len(rows)
        return grad.reshape(p.shape)

    def _check_targets(self, y: Array, output_shape: Shape, name: str) -> Array:
        k = output_shape[-1]
        if y.shape[1:] == (*output_shape[:-1], 1):
            y = y[..., 0]
        elif y.shape[1:] != output_shape[:-1]:
            hint = (
                " These look like one-hot rows: use "
                "loss='categorical_crossentropy', or pass np.argmax(y, axis=-1)."
                if k > 1 and y.shape[1:] == output_shape
                else ""
            )
            raise ShapeError(
                f"sparse_categorical_crossentropy needs integer class labels with one "
                f"label per sample. Received: {name}.shape={y.shape} for a model "
                f"output of shape {output_shape}.{hint}"
            )
        if not np.all(y == np.floor(y)):
            raise DataError(
                f"sparse_categorical_crossentropy needs integer class labels in "
                f"0..{k - 1}. Received: `{name}` with non-integer values such as "
                f"{float(y[y != np.floor(y)][0])!r}."
            )
        low, high = float(y.min()), float(y.max())
        if low < 0 or high >= k:
            raise DataError(
                f"Class labels must lie in the valid range [0, {k}) (0..{k - 1}) for "
                f"a model with {k} output units. Received: `{name}` with labels from "
                f"{low:g} to {high:g}."
            )
        return y.astype(np.int64)
