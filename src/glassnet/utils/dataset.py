"""``split_dataset``: cut in-memory arrays into a left and a right part (train / test).

As ``keras.utils.split_dataset`` for NumPy data: one array, or a tuple or list of
arrays with one row per sample (``(x, y)``), split at the same samples.

>>> left, right = split_dataset(np.arange(10), left_size=0.8)
>>> left, right
(array([0, 1, 2, 3, 4, 5, 6, 7]), array([8, 9]))
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet import _random
from glassnet._typing import Array
from glassnet._validation import check_bool, check_seed
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)

__all__ = ["split_dataset"]


def split_dataset(
    dataset: Any,
    left_size: float | None = None,
    right_size: float | None = None,
    shuffle: bool = False,
    seed: int | None = None,
) -> tuple[Any, Any]:
    """Split arrays into a left and a right part, as ``keras.utils.split_dataset``.

    A size is a fraction of the samples (a float strictly between 0 and 1, rounded
    with Python's ``round``: 0.25 of 10 samples is 2) or a number of samples (an
    int from 1 to one less than the total); ``None`` takes the complement of the
    other side. The left part is the first ``left_size`` samples and the right part
    the last ``right_size``; when the two add up to less than the whole, the samples
    between them belong to neither, as in Keras' TensorFlow path.

    ``shuffle=False`` keeps the samples in order. Keras 3.15 on its torch backend
    ignores it (its ``random_split`` always shuffles, and it refuses sizes that do
    not add up to the whole); glassnet does what the argument says on every input.
    With ``shuffle=True`` the samples are permuted first, by
    ``numpy.random.default_rng(seed)``, or, with ``seed=None``, by the session
    generator that :func:`glassnet.utils.set_random_seed` seeds.

    Parameters
    ----------
    dataset : ndarray, or tuple or list of arrays
        Arrays share their first axis (one row per sample), e.g. ``(x, y)``.
    left_size, right_size : float, int or None
        The size of each part; at least one must be given.
    shuffle : bool, default False
        Permute the samples before splitting.
    seed : int, optional
        Seed of the permutation (ignored without ``shuffle``).

    Returns
    -------
    (left, right)
        Two new datasets of the input's kind: arrays, or tuples (lists) of arrays.

    Examples
    --------
    >>> x, y = np.arange(12).reshape(6, 2), np.array([0, 1, 0, 1, 1, 0])
    >>> (x_train, y_train), (x_test, y_test) = split_dataset((x, y), right_size=2)
    >>> x_train.shape, y_test
    ((4, 2), array([1, 0]))
    >>> split_dataset(np.arange(4), left_size=3, right_size=2)
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: left_size + right_size = 5 samples, more ...
    """
    arrays = _arrays(dataset)
    total = len(arrays[0])
    left, right = _split_sizes(left_size, right_size, total)
    if check_bool(shuffle, "shuffle"):
        seed = check_seed(seed)
        rng = _random.generator() if seed is None else np.random.default_rng(seed)
        order = rng.permutation(total)
    else:
        check_seed(seed)
        order = np.arange(total)
    left_parts = [array[order[:left]] for array in arrays]
    right_parts = [array[order[total - right :]] for array in arrays]
    if isinstance(dataset, (tuple, list)):
        return type(dataset)(left_parts), type(dataset)(right_parts)
    return left_parts[0], right_parts[0]


def _arrays(dataset: Any) -> list[Array]:
    """The arrays of ``dataset``, checked to hold the same number of samples."""
    if isinstance(dataset, (tuple, list)):
        if not dataset:
            raise DataError(
                f"Argument `dataset` is an empty {type(dataset).__name__}: give "
                "arrays with one row per sample, e.g. (x, y)."
            )
        items = list(enumerate(dataset))
        names = [f"dataset[{i}]" for i in range(len(dataset))]
    elif isinstance(dataset, np.ndarray):
        items, names = [(0, dataset)], ["dataset"]
    else:
        raise GlassnetTypeError(
            "Argument `dataset` must be a NumPy array, or a tuple or list of arrays "
            f"with one row per sample, e.g. (x, y). Received: {type(dataset).__name__}"
        )
    arrays = []
    for (_, value), name in zip(items, names, strict=True):
        try:
            array = np.asarray(value)
        except ValueError as error:  # ragged nested lists
            raise DataError(
                f"`{name}` could not be read as a rectangular array ({error})."
            ) from None
        if array.ndim == 0:
            raise ShapeError(
                f"`{name}` must be an array with one row per sample. Received: a "
                f"scalar {value!r}. To split one list of numbers, pass "
                "np.asarray(...) as the dataset."
            )
        arrays.append(array)
    lengths = [len(array) for array in arrays]
    if lengths[0] == 0:
        raise DataError(
            f"Argument `{names[0]}` holds no samples: there is nothing to split."
        )
    for name, length in zip(names, lengths, strict=True):
        if length != lengths[0]:
            raise ShapeError(
                "The arrays of `dataset` must hold the same number of samples. "
                f"Received: {names[0]} has {lengths[0]}, {name} has {length} "
                f"(shapes {[a.shape for a in arrays]})."
            )
    return arrays


def _split_sizes(left_size: Any, right_size: Any, total: int) -> tuple[int, int]:
    """Keras' rules: fractions rounded, ``None`` the complement, neither part empty."""
    if left_size is None and right_size is None:
        raise InvalidArgumentError(
            "At least one of `left_size` and `right_size` must be given. Received: "
            "left_size=None, right_size=None"
        )
    left_n = _size(left_size, "left_size", total)
    right_n = _size(right_size, "right_size", total)
    both_fractions = not isinstance(left_size, numbers.Integral) and not isinstance(
        right_size, numbers.Integral
    )
    if left_n is not None and right_n is not None and both_fractions:
        if float(left_size) + float(right_size) > 1:
            raise InvalidArgumentError(
                "The fractions `left_size` and `right_size` add up to more than 1. "
                f"Received: left_size={left_size}, right_size={right_size}"
            )
    # None is the complement of the other side (at least one side was given)
    left = total - (right_n or 0) if left_n is None else left_n
    right = total - left if right_n is None else right_n
    if left + right > total:
        raise InvalidArgumentError(
            f"left_size + right_size = {left + right} samples, more than the "
            f"{total} the dataset holds. Received: left_size={left_size}, "
            f"right_size={right_size}"
        )
    for side, size in (("left", left), ("right", right)):
        if size <= 0:
            raise InvalidArgumentError(
                f"The {side} part would be empty: {total} samples with "
                f"left_size={left_size}, right_size={right_size} give {left} left "
                f"and {right} right. Adjust the sizes."
            )
    return left, right


def _size(value: Any, name: str, total: int) -> int | None:
    """One size as a number of samples (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise GlassnetTypeError(
            f"Argument `{name}` must be a fraction (float), a number of samples (int) "
            f"or None. Received: {name}={value!r} ({type(value).__name__})"
        )
    if isinstance(value, numbers.Integral):
        if not 0 < int(value) < total:
            raise InvalidArgumentError(
                f"Argument `{name}` as a number of samples must be from 1 to "
                f"{total - 1} (the dataset holds {total}). Received: {name}={value}"
            )
        return int(value)
    if not 0 < float(value) < 1:  # NaN fails too
        raise InvalidArgumentError(
            f"Argument `{name}` as a fraction must lie strictly between 0 and 1. "
            f"Received: {name}={value}"
        )
    return round(float(value) * total)
