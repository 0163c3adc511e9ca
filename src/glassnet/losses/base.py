"""The loss protocol: the :class:`Loss` base class, its registry and shared helpers.

Every loss is the **mean over the batch** of a per-sample loss, and every ``backward``
returns ``dL/dy_pred`` **already divided by the batch size**. The helpers here turn
targets and predictions into arrays of one float dtype (:func:`_as_pair`), clip
probabilities away from 0 and 1 (:func:`_clip`), average per sample
(:func:`_per_sample_mean`) and check targets against the model's output
(:func:`_check_shape`). The losses themselves live in
:mod:`glassnet.losses.regression` and :mod:`glassnet.losses.probabilistic`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from glassnet._registry import Configurable, Registry
from glassnet._typing import Array, Shape
from glassnet._validation import as_float_array
from glassnet.errors import ShapeError

__all__ = ["EPSILON", "Loss", "registry"]

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
    if values.shape[1] == 1:  # one value per sample (one output unit): it is the mean
        return values.reshape(-1)
    # sum / count is what ndarray.mean computes, without its Python-level overhead
    # (np.add.reduce is what .sum() calls, without its Python wrapper)
    return np.add.reduce(values, axis=1) / values.shape[1]


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
    >>> from glassnet.losses import get
    >>> loss = get("bce")
    >>> loss.name, loss.get_config(), loss.fused_activation
    ('binary_crossentropy', {'from_logits': False}, 'sigmoid')
    """

    registry = registry

    fused_activation: str | None = None

    def forward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
        """The loss, averaged over the batch: ``per_sample(y_true, y_pred).mean()``."""
        per_sample = self.per_sample(y_true, y_pred)
        return float(np.add.reduce(per_sample, axis=None) / per_sample.size)

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
