"""Label and vector utilities, as in Keras' ``keras.utils``: one-hot labels, unit norms.

:func:`to_categorical` turns class ids into one-hot rows (what
``categorical_crossentropy`` takes); :func:`normalize` scales vectors to unit norm.
Both work on NumPy arrays and return new ones.

>>> to_categorical([0, 2, 1])
array([[1., 0., 0.],
       [0., 0., 1.],
       [0., 1., 0.]])
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array, ArrayLike
from glassnet._validation import check_positive_int
from glassnet.errors import DataError, GlassnetTypeError, InvalidArgumentError

__all__ = ["normalize", "to_categorical"]


def to_categorical(x: ArrayLike, num_classes: int | None = None) -> Array:
    """One-hot encode class ids: label ``k`` becomes a row with a 1 at position ``k``.

    As ``keras.utils.to_categorical``: the class axis is added last, a trailing axis
    of length 1 is replaced by it (labels shaped ``(n, 1)`` give ``(n, num_classes)``),
    and the result is float64. Where Keras silently truncates ``1.7`` to class 1 and
    wraps ``-1`` to the last class, glassnet refuses labels that are negative, not
    whole numbers, or ``>= num_classes``, naming the first one.

    Parameters
    ----------
    x : array-like of int
        Class ids from 0 to ``num_classes - 1``, any shape. Floats with whole
        values (``2.0``) and booleans are accepted.
    num_classes : int, optional
        The number of classes; ``None`` infers ``max(x) + 1``.

    Returns
    -------
    ndarray of float64, shape ``x.shape + (num_classes,)`` (after the squeeze above)

    Examples
    --------
    >>> to_categorical(np.array([[1], [0]]), num_classes=3)
    array([[0., 1., 0.],
           [1., 0., 0.]])
    >>> to_categorical([0, 3], num_classes=3)
    Traceback (most recent call last):
    ...
    glassnet.errors.DataError: Argument `x` holds the class id 3 (at x[1]), but ...
    """
    labels = _class_ids(x)
    if num_classes is None:
        if labels.size == 0:
            raise DataError(
                "Argument `x` holds no labels, so `num_classes` cannot be inferred: "
                f"give num_classes. Received: x.shape={labels.shape}"
            )
        depth = int(labels.max()) + 1
    else:
        depth = check_positive_int(num_classes, "num_classes")
        too_big = labels >= depth
        if too_big.any():
            where = _first(too_big)
            raise DataError(
                f"Argument `x` holds the class id {int(labels[where])} (at "
                f"{_index('x', where)}), but num_classes={depth} allows ids 0 to "
                f"{depth - 1}. Received: num_classes={num_classes!r}"
            )
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1).astype(np.int64)
    one_hot = np.zeros((flat.size, depth))
    one_hot[np.arange(flat.size), flat] = 1.0
    return one_hot.reshape(*shape, depth)


def normalize(x: ArrayLike, axis: int = -1, order: float = 2) -> Array:
    """Scale each vector along ``axis`` to unit ``order``-norm, as ``keras.utils.normalize``.

    ``y = x / ||x||_order`` with ``||x||_p = (sum |x_i|^p)^(1/p)`` and
    ``||x||_inf = max |x_i|``; all-zero vectors stay zero. Float arrays keep their
    dtype, other numbers become float64. Any ``axis`` works (Keras' NumPy path
    breaks for ``axis=0`` on a matrix: it reshapes the norms along the last axis).

    Parameters
    ----------
    x : array-like
        At least one axis.
    axis : int, default -1
        The axis holding each vector.
    order : float, default 2
        The norm: any number >= 1 (1 for L1, 2 for Euclidean), or ``numpy.inf``
        (the largest magnitude). Orders below 1 are not norms and are refused.

    Examples
    --------
    >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    >>> normalize(np.array([[1.0, -3.0]]), order=1)
    array([[ 0.25, -0.75]])
    >>> normalize(np.array([[1.0, -4.0]]), order=np.inf)
    array([[ 0.25, -1.  ]])
    """
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise GlassnetTypeError(
            "Argument `x` must hold numbers (bool, int or float). Received: x of "
            f"dtype {array.dtype}"
        )
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    if array.ndim == 0:
        raise DataError(
            "Argument `x` must have at least one axis (a vector). Received: "
            f"x.shape={array.shape}"
        )
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise GlassnetTypeError(
            f"Argument `axis` must be an integer. Received: axis={axis!r} "
            f"({type(axis).__name__})"
        )
    if not -array.ndim <= axis < array.ndim:
        raise InvalidArgumentError(
            f"Argument `axis` must name an axis of the {array.ndim}-D input, from "
            f"{-array.ndim} to {array.ndim - 1}. Received: axis={axis} for "
            f"x.shape={array.shape}"
        )
    p = _check_order(order)
    norm = np.linalg.norm(array, ord=p, axis=int(axis), keepdims=True)
    norm[norm == 0] = 1
    result: Array = array / norm
    return result


def _check_order(order: Any) -> float:
    """The norm order as a float, >= 1 or inf."""
    what = "a number >= 1 or numpy.inf (the p of the p-norm)"
    if isinstance(order, bool) or not isinstance(order, numbers.Real):
        raise GlassnetTypeError(
            f"Argument `order` must be {what}. Received: order={order!r} "
            f"({type(order).__name__})"
        )
    p = float(order)
    if math.isnan(p) or p < 1:
        raise InvalidArgumentError(
            f"Argument `order` must be {what}; orders below 1 do not define a norm. "
            f"Received: order={order!r}"
        )
    return p


def _class_ids(x: Any) -> Array:
    """``x`` as an array of class ids: whole, finite, non-negative numbers."""
    if isinstance(x, (str, bytes)):
        raise GlassnetTypeError(
            f"Argument `x` must hold integer class ids. Received: x={x!r}"
        )
    try:
        labels = np.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise DataError(
            f"Argument `x` could not be read as a rectangular array ({error})."
        ) from None
    if labels.dtype.kind not in "biuf":
        raise GlassnetTypeError(
            "Argument `x` must hold integer class ids (int, bool, or floats with "
            f"whole values). Received: x of dtype {labels.dtype}"
        )
    if labels.dtype.kind == "f":
        fractional = ~np.isfinite(labels) | (labels != np.floor(labels))
        if fractional.any():
            where = _first(fractional)
            raise DataError(
                f"Argument `x` must hold integer class ids; {_index('x', where)} = "
                f"{labels[where].item()!r} is not a whole number."
            )
    negative = labels < 0
    if negative.any():
        where = _first(negative)
        raise DataError(
            f"Argument `x` must hold class ids >= 0; {_index('x', where)} = "
            f"{labels[where].item()!r}."
        )
    return labels


def _first(mask: Array) -> tuple[int, ...]:
    """The index of the first True entry of ``mask``."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _index(name: str, where: tuple[int, ...]) -> str:
    """``x[1, 0]`` for the entry ``where`` of ``x`` (``x`` itself when 0-d)."""
    return f"{name}[{', '.join(map(str, where))}]" if where else name
