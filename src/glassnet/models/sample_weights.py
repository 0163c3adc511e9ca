"""``sample_weight`` and ``class_weight``: checked at the boundary, as Keras 3 uses them.

A sample's weight multiplies its loss. Keras 3 reduces a batch's weighted losses
by the batch *size* ("sum_over_batch_size"), not by the sum of the weights, and
averages the batch losses weighted by batch size, so over an epoch of ``n``
samples::

    loss = sum_i w_i * loss_i / n

Weights of 2 double the loss, and weights that are all 0 give a loss of 0. The
gradient of that loss is each sample's gradient times its weight, still divided
by the batch size. The metrics given to ``compile(metrics=...)`` are *not*
weighted, as in Keras 3; those given to ``compile(weighted_metrics=...)`` are
(``models/compiled_metrics.py``): ``sum_i w_i * m_i / sum_i w_i`` for a mean.

``class_weight`` maps class indices to weights; each sample gets its class's
weight (1 for classes not named), as Keras computes it: the label itself for
sparse labels, the arg-max of a one-hot row, the rounded value of a single-unit
output.

Stricter than Keras: a weight that is negative, NaN or inf, a ``sample_weight``
without exactly one weight per sample, and a ``class_weight`` that names a class
the targets do not have (or that is not a class index) are refused, naming the
argument.

>>> import numpy as np
>>> check_sample_weight([1, 2, 0], 3, np.float32)
array([1., 2., 0.], dtype=float32)
>>> class_weight_to_sample_weight({0: 1.0, 1: 3.0}, np.array([[0], [1], [1]]), 1)
array([1., 3., 3.])
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import DataError, GlassnetTypeError, InvalidArgumentError

__all__ = [
    "check_class_weight",
    "check_sample_weight",
    "class_labels",
    "class_weight_to_sample_weight",
]


def check_sample_weight(
    sample_weight: Any, n: int, dtype: Any, name: str = "sample_weight"
) -> Array | None:
    """One finite, non-negative weight per sample, shape ``(n,)``; None stays None.

    ``(n, 1)`` is accepted and flattened.

    >>> check_sample_weight([[1.0], [0.5]], 2, np.float32)
    array([1. , 0.5], dtype=float32)
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, (str, bytes, dict)):
        raise GlassnetTypeError(
            f"Argument `{name}` must be an array with one weight per sample. "
            f"Received: {type(sample_weight).__name__}"
        )
    try:
        w = np.asarray(sample_weight)
    except ValueError as error:
        raise DataError(
            f"Argument `{name}` is not a rectangular array ({error})."
        ) from None
    if w.dtype.kind not in "biuf":
        raise GlassnetTypeError(
            f"Argument `{name}` must hold numbers. Received: dtype {w.dtype}"
        )
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise DataError(
            f"Argument `{name}` must have one weight per sample: shape ({n},). "
            f"Received: {name}.shape={w.shape}"
        )
    w = w.astype(dtype, copy=True)
    bad = np.flatnonzero(~np.isfinite(w))
    if len(bad):
        raise DataError(
            f"Argument `{name}` must be finite. Received: {name}[{bad[0]}]={w[bad[0]]} "
            f"({len(bad)} non-finite weight{'s' if len(bad) > 1 else ''})"
        )
    negative = np.flatnonzero(w < 0)
    if len(negative):
        raise DataError(
            f"Argument `{name}` must not be negative. Received: "
            f"{name}[{negative[0]}]={w[negative[0]]} ({len(negative)} negative)"
        )
    return w


def check_class_weight(class_weight: Any) -> dict[int, float] | None:
    """``{class index: weight}`` with int keys and finite, non-negative weights.

    >>> check_class_weight({np.int64(1): 2})
    {1: 2.0}
    """
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise GlassnetTypeError(
            "Argument `class_weight` must be a dict {class index: weight}, e.g. "
            f"{{0: 1.0, 1: 5.0}}. Received: {type(class_weight).__name__}"
        )
    checked: dict[int, float] = {}
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
            raise InvalidArgumentError(
                "Argument `class_weight` must be keyed by class indices (0, 1, ...). "
                f"Received: key {key!r}"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise GlassnetTypeError(
                f"Argument `class_weight` must map classes to numbers. Received: "
                f"class_weight[{key!r}]={value!r}"
            )
        if not np.isfinite(float(value)) or value < 0:
            raise DataError(
                "Argument `class_weight` must hold finite, non-negative weights. "
                f"Received: class_weight[{key!r}]={value!r}"
            )
        checked[int(key)] = float(value)
    return checked


def class_labels(y: Array, name: str = "y") -> Array:
    """The class index of each target row, as Keras reads it for ``class_weight``.

    Sparse labels ``(n,)`` are themselves; ``(n, 1)`` rows are rounded (a binary
    label); wider rows give their arg-max (one-hot). Targets that are not labels
    (values that round away from themselves) are refused.

    >>> class_labels(np.array([[0.0, 1.0], [1.0, 0.0]])).tolist()
    [1, 0]
    """
    if y.ndim > 2:
        raise DataError(
            f"Argument `class_weight` needs one class label per sample; `{name}` has "
            f"shape {y.shape}."
        )
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    flat = y.reshape(len(y))
    rounded = np.round(flat)
    if not np.allclose(flat, rounded, rtol=0.0, atol=1e-6) or rounded.min() < 0:
        raise DataError(
            f"Argument `class_weight` needs class labels in `{name}` (0, 1, ...); "
            f"these targets are not. Received: {name}[:3]={flat[:3].tolist()}"
        )
    return rounded.astype(np.int64)


def class_weight_to_sample_weight(
    class_weight: dict[int, float], y: Array, units: int | None, name: str = "y"
) -> Array:
    """Each sample's class weight (1.0 for classes not in ``class_weight``).

    ``units`` is the width of the model's output: with it, a class that no output
    could mean (index >= units, or above 1 for a single unit) is refused.

    >>> class_weight_to_sample_weight({2: 4.0}, np.array([0, 2, 1]), 3).tolist()
    [1.0, 4.0, 1.0]
    """
    labels = class_labels(y, name)
    if units is not None:
        classes = 2 if units == 1 else units
        impossible = sorted(k for k in class_weight if k >= classes)
        if impossible:
            raise InvalidArgumentError(
                f"Argument `class_weight` names classes {impossible} that a model with "
                f"{units} output unit{'s' if units > 1 else ''} cannot predict "
                f"(classes 0..{classes - 1})."
            )
    table = np.ones(max([*class_weight, int(labels.max(initial=0))]) + 1)
    for key, value in class_weight.items():
        table[key] = value
    return table[labels]


def check_classes_present(
    class_weight: dict[int, float], y: Array, name: str = "y"
) -> None:
    """Refuse ``class_weight`` keys that are not among the classes of ``y``.

    >>> check_classes_present({3: 2.0}, np.array([0, 1]))
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Argument `class_weight` names classes ...
    """
    present = set(np.unique(class_labels(y, name)).tolist())
    missing = sorted(k for k in class_weight if k not in present)
    if missing:
        shown = sorted(present)
        raise InvalidArgumentError(
            f"Argument `class_weight` names classes the data does not have: {missing}. "
            f"Classes in `{name}`: {shown[:20]}{' ...' if len(shown) > 20 else ''}"
        )
