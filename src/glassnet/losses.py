"""Loss functions, defined as Keras 3 defines them.

Every loss is the **mean over the batch** of a per-sample loss, and every ``backward``
returns ``dL/dy_pred`` **already divided by the batch size**, so a layer's gradients
need no further scaling. The cross-entropies take probabilities by default and logits
with ``from_logits=True`` (the fused, numerically stable path: log-sigmoid for binary,
log-softmax for categorical).

>>> import numpy as np
>>> mse = get("mse")
>>> mse(np.array([[1.0], [2.0]]), np.array([[2.0], [2.0]]))
0.5
>>> mse.backward(np.array([[1.0], [2.0]]), np.array([[2.0], [2.0]]))
array([[1.],
       [0.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from glassnet._registry import Configurable, Registry
from glassnet._typing import Array, Shape
from glassnet._validation import as_float_array, check_bool
from glassnet.errors import (
    DataError,
    ShapeError,
)

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "get",
    "registry",
    "serialize",
]

registry = Registry("loss")

# Keras' backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] so that
# log(0) never happens when from_logits=False.
EPSILON = 1e-7


def _clip(p: Array) -> Array:
    """``p`` clipped to [EPSILON, 1 - EPSILON]; on small arrays np.clip is 3x slower."""
    return np.minimum(np.maximum(p, EPSILON), 1 - EPSILON)


def _as_float(y_pred: npt.ArrayLike) -> Array:
    y_pred = np.asarray(y_pred)
    return y_pred if y_pred.dtype.kind == "f" else y_pred.astype(np.float64)


def _as_pair(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> tuple[Array, Array]:
    """Arrays in y_pred's float dtype; y_true shaped (n,) is matched to (n, 1)."""
    y_pred = _as_float(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    if y_true.shape != y_pred.shape:
        if y_pred.shape[-1:] == (1,) and y_true.shape == y_pred.shape[:-1]:
            return y_true.reshape(y_pred.shape), y_pred
        # Broadcasting (n,) against (n, k) would silently build an (n, n) loss.
        raise ShapeError(
            f"y_true and y_pred must have the same shape. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    return y_true, y_pred


def _per_sample_mean(values: Array) -> Array:
    """Mean over every axis but the first: (n, ...) -> (n,)."""
    if values.ndim <= 1:
        return values.reshape(-1)
    values = values.reshape(len(values), -1)
    # sum / count is what ndarray.mean computes, without its Python-level overhead
    return values.sum(axis=1) / values.shape[1]


def _check_shape(y: Array, output_shape: Shape, name: str) -> Array:
    if y.shape[1:] == output_shape:
        return y
    if y.ndim == 1 and output_shape == (1,):
        return y.reshape(-1, 1)
    expected = ", ".join(["n", *map(str, output_shape)])
    raise ShapeError(
        f"Argument `{name}` does not match the model's output: the model gives each "
        f"sample an output of shape {output_shape}, so `{name}` must have shape "
        f"({expected}). Received: {name}.shape={y.shape}. Reshape or encode the "
        f"targets, or change the last layer's units."
    )


class Loss(Configurable):
    """Base class of losses: mean over the batch of a per-sample loss.

    Examples
    --------
    >>> loss = get("bce")
    >>> loss.name, loss.get_config(), loss.fused_activation
    ('binary_crossentropy', {'from_logits': False}, 'sigmoid')
    """

    registry = registry

    fused_activation: str | None = None

    def forward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
        """The loss, averaged over the batch: ``per_sample(y_true, y_pred).mean()``."""
        per_sample = self.per_sample(y_true, y_pred)
        return float(per_sample.sum() / per_sample.size)

    def __call__(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
        return self.forward(y_true, y_pred)

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        """The loss of each sample, shape ``(n,)``."""
        raise NotImplementedError

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        """``dL/dy_pred`` of the batch-mean loss (already divided by the batch size)."""
        raise NotImplementedError

    def logits_gradient(
        self, y_true: npt.ArrayLike, logits: Array, output: Array
    ) -> Array:
        """``dL/dz`` at the logits of the fused output activation (already / n).

        Used by training when the loss is fused with the output activation
        (``fused_activation``): ``output`` is that activation at ``logits``, as the
        forward pass already computed it. This default differentiates from the
        logits with :meth:`backward`; the cross-entropies reuse ``output`` instead of
        computing sigmoid or softmax a second time.
        """
        return self.backward(y_true, logits)

    def validate_targets(
        self,
        y_true: Any,
        output_shape: tuple[int, ...],
        name: str = "y",
        *,
        dtype: npt.DTypeLike = np.float64,
    ) -> Array:
        """Check targets against the model's per-sample ``output_shape``; return them.

        Used by fit/evaluate at the boundary. ``y`` shaped ``(n,)`` is accepted for a
        single output unit and returned as ``(n, 1)`` in ``dtype`` (sparse labels come
        back as int64 shaped ``(n,)``). Raises :class:`~glassnet.errors.ShapeError` or
        :class:`~glassnet.errors.DataError` naming ``name``.
        """
        y = as_float_array(y_true, name, np.dtype(dtype))
        return self._check_targets(y, tuple(int(d) for d in output_shape), name)

    def _check_targets(self, y: Array, output_shape: Shape, name: str) -> Array:
        return _check_shape(y, output_shape, name)


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


def _one_hot(labels: npt.ArrayLike, p: Array) -> Array:
    labels = np.asarray(labels)
    if labels.ndim == p.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != p.shape[:-1]:
        raise ShapeError(
            f"Sparse labels must have shape {p.shape[:-1]} (or with a trailing 1) "
            f"for y_pred of shape {p.shape}. Received: y_true.shape={labels.shape}"
        )
    # Zeros, then a 1 at each row's label; rows are flattened so any batch shape works
    # (one fancy assignment: 2x faster than put_along_axis on training batches).
    t = np.zeros(p.shape, p.dtype)
    rows = t.reshape(-1, p.shape[-1])
    rows[np.arange(len(rows)), labels.reshape(-1).astype(np.intp, copy=False)] = 1
    return t


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
        return _categorical_per_sample(_one_hot(y_true, p), p, self.from_logits)

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        p = _as_float(y_pred)
        return _categorical_backward(_one_hot(y_true, p), p, self.from_logits)

    def logits_gradient(
        self, y_true: npt.ArrayLike, logits: Array, output: Array
    ) -> Array:
        """``(softmax(z) - onehot(labels)) / n``, with ``output = softmax(z)``."""
        # One-hot rows sum to 1, so _softmax_gradient's factor sum(t) drops out:
        # copy softmax(z), subtract 1 at each row's label, divide by n (no one-hot).
        grad = np.array(_as_float(output))
        rows = grad.reshape(-1, grad.shape[-1])
        labels = np.asarray(y_true).reshape(-1).astype(np.intp, copy=False)
        if labels.shape != rows.shape[:1]:
            return (grad - _one_hot(y_true, grad)) / len(rows)  # explains the shape
        rows[np.arange(len(rows)), labels] -= 1
        grad /= len(rows)
        return grad

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


def get(
    identifier: Any, *, custom_objects: dict[str, type] | None = None
) -> Loss | None:
    """Resolve a loss from a name, a config dict, an instance or None (-> None).

    Examples
    --------
    >>> get("MSE")
    MeanSquaredError()
    >>> get({"class_name": "binary_crossentropy", "config": {"from_logits": True}})
    BinaryCrossentropy(from_logits=True)
    >>> get("mean_squared_eror")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown loss ...Did you mean 'mean_squared_error'?
    """
    loss: Loss | None = registry.get(
        identifier, base=Loss, custom_objects=custom_objects
    )
    return loss


def serialize(loss: Loss) -> str | dict[str, Any]:
    """The plain name when ``loss`` has its default config, else a config dict.

    Examples
    --------
    >>> serialize(MeanSquaredError())
    'mean_squared_error'
    >>> serialize(BinaryCrossentropy(from_logits=True))
    {'class_name': 'BinaryCrossentropy', 'config': {'from_logits': True}}
    """
    config = loss.get_config()
    cls = type(loss)
    if cls in registry.classes() and config == cls().get_config():
        return loss.name
    return {"class_name": cls.__name__, "config": config}
