"""Character-level text without a download: CPython's own ``pydoc_data.topics``.

Every Python installation ships the text of ``help()``'s topics (the language
reference's chapters on statements, operators, data types...) in
``pydoc_data.topics``: about 465,000 characters of English technical prose with
code in it (465,048 in Python 3.11). :func:`pydoc_text` joins them;
:class:`Vocabulary` maps characters to integer ids and back; :func:`text_windows`
cuts the ids into training windows.

>>> text = pydoc_text()
>>> vocabulary = Vocabulary.from_text(text)
>>> ids = vocabulary.encode("assert")
>>> ids.dtype, vocabulary.decode(ids)
(dtype('int64'), 'assert')
>>> x, y = text_windows(vocabulary.encode(text[:1000]), 64)
>>> x.shape, y.shape, bool((x[0, 1:] == y[0, :-1]).all())
((15, 64), (15, 64), True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from glassnet._typing import Array
from glassnet._validation import check_one_of, check_positive_int
from glassnet.datasets._common import Dataset
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)

__all__ = ["Vocabulary", "pydoc_characters", "pydoc_text", "text_windows"]


def pydoc_text() -> str:
    """The text of every ``help()`` topic shipped with this Python, in one string.

    ``pydoc_data.topics.topics`` maps each topic ("assert", "assignment",
    "atom-identifiers", ...) to its text; they are joined in the order of their
    names, one newline between two. The text depends on the Python version
    (465,048 characters and 103 distinct ones in Python 3.11).

    >>> text = pydoc_text()
    >>> text.startswith('The "assert" statement'), len(text) > 300_000
    (True, True)
    """
    from pydoc_data.topics import topics

    return "\n".join(topics[name] for name in sorted(topics))


class Vocabulary:
    """The characters of a text, each with an integer id: encode and decode.

    The ids are the positions of the characters in sorted order (``chars``), so
    a vocabulary is fixed by its characters alone: save ``vocabulary.chars`` to
    rebuild it. ``size`` is the ``input_dim`` of an ``Embedding`` and the
    ``units`` of the output layer of a character model.

    Parameters
    ----------
    chars : iterable of str
        The characters (each a string of length 1; duplicates are merged).

    Examples
    --------
    >>> vocabulary = Vocabulary.from_text("hello world")
    >>> vocabulary.chars, vocabulary.size
    (' dehlorw', 8)
    >>> vocabulary.encode("hold")
    array([3, 5, 4, 1])
    >>> vocabulary.decode([3, 2, 4, 4, 5])
    'hello'
    """

    def __init__(self, chars: Iterable[str]) -> None:
        if isinstance(chars, (bytes, bytearray)) or not isinstance(chars, Iterable):
            raise GlassnetTypeError(
                "Argument `chars` must be a string or an iterable of characters. "
                f"Received: {type(chars).__name__}"
            )
        unique = set()
        for char in chars:
            if not isinstance(char, str) or len(char) != 1:
                raise GlassnetTypeError(
                    f"Argument `chars` must hold single characters. Received: {char!r}"
                )
            unique.add(char)
        if not unique:
            raise InvalidArgumentError("A vocabulary needs at least one character.")
        self.chars = "".join(sorted(unique))
        self._ids = {char: i for i, char in enumerate(self.chars)}
        self._table = np.array(list(self.chars))

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The vocabulary of every character in ``text``."""
        if not isinstance(text, str):
            raise GlassnetTypeError(
                f"Argument `text` must be a str. Received: {type(text).__name__}"
            )
        return cls(text)

    @property
    def size(self) -> int:
        """The number of characters (ids run from 0 to ``size - 1``)."""
        return len(self.chars)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"Vocabulary({self.size} characters)"

    def encode(self, text: str) -> Array:
        """``text`` as an int64 array of ids; a character outside the vocabulary is
        a DataError naming it and its position."""
        if not isinstance(text, str):
            raise GlassnetTypeError(
                f"Argument `text` must be a str. Received: {type(text).__name__}"
            )
        ids = self._ids
        try:
            return np.fromiter((ids[char] for char in text), np.int64, len(text))
        except KeyError:
            position = next(i for i, char in enumerate(text) if char not in ids)
            raise DataError(
                f"Character {text[position]!r} at position {position} is not in the "
                f"vocabulary ({self.size} characters). Build the vocabulary from a "
                "text that holds it, or remove it."
            ) from None

    def decode(self, ids: Any) -> str:
        """The text of a sequence of ids (integers from 0 to ``size - 1``)."""
        array = np.asarray(ids)
        if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
            raise DataError(
                "Argument `ids` must be a 1-D sequence of integer ids. Received: an "
                f"array of shape {array.shape} and dtype {array.dtype}"
            )
        outside = (array < 0) | (array >= self.size)
        if outside.any():
            index = int(np.argmax(outside))
            raise DataError(
                f"Argument `ids` holds {int(array[index])} at position {index}; ids "
                f"run from 0 to {self.size - 1}."
            )
        return "".join(self._table[array]) if array.size else ""


def text_windows(
    ids: Any, length: int, *, step: int | None = None, targets: str = "sequence"
) -> Dataset:
    """Cut a sequence of ids into windows of ``length`` ids, with their targets.

    Window k starts at id ``k * step``. With ``targets="sequence"`` its target is
    the window shifted by one, the id that follows every position (a model with
    ``return_sequences=True`` learns from every step); with ``targets="next"``,
    the one id after the window.

    Parameters
    ----------
    ids : 1-D array-like of int
        The encoded text (:meth:`Vocabulary.encode`).
    length : int
        Ids per window (the time steps).
    step : int, optional
        Distance between the starts of two windows; by default ``length``
        (windows side by side, every id seen once).
    targets : {"sequence", "next"}
        What to predict, as above.

    Returns
    -------
    x : ndarray, int64, shape (n_windows, length)
    y : ndarray, int64, shape (n_windows, length) or (n_windows,)
        ``n_windows = (len(ids) - length - 1) // step + 1``: every window that has
        its targets inside ``ids``.

    Examples
    --------
    >>> x, y = text_windows(np.arange(10), 4, step=3, targets="next")
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2, 3], [3, 4, 5, 6]], [4, 7])
    >>> text_windows(np.arange(10), 4)[1].tolist()
    [[1, 2, 3, 4], [5, 6, 7, 8]]
    """
    array = np.asarray(ids)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise DataError(
            "Argument `ids` must be a 1-D sequence of integer ids. Received: an "
            f"array of shape {array.shape} and dtype {array.dtype}"
        )
    length = check_positive_int(length, "length")
    step = length if step is None else check_positive_int(step, "step")
    targets = check_one_of(targets, "targets", ("sequence", "next"))
    if len(array) < length + 1:
        raise ShapeError(
            f"A window of {length} ids and its target need {length + 1} ids. "
            f"Received: {len(array)} ids"
        )
    array = array.astype(np.int64, copy=False)
    count = (len(array) - length - 1) // step + 1
    windows = sliding_window_view(array, length)
    x = np.array(windows[: count * step : step])
    if targets == "next":
        y = array[length : length + count * step : step].copy()
    else:
        y = np.array(windows[1 : 1 + count * step : step])
    return x, y


def pydoc_characters(
    length: int = 64, *, step: int | None = None, targets: str = "sequence"
) -> tuple[Array, Array, Vocabulary]:
    """The pydoc topics as character windows: ``(x, y, vocabulary)``.

    :func:`pydoc_text`, encoded with its own :class:`Vocabulary`, cut by
    :func:`text_windows` (same ``length``, ``step`` and ``targets``).

    >>> x, y, vocabulary = pydoc_characters(100)
    >>> x.shape[1], y.shape == x.shape, vocabulary.decode(x[0])[:22]
    (100, True, 'The "assert" statement')
    """
    text = pydoc_text()
    vocabulary = Vocabulary.from_text(text)
    x, y = text_windows(vocabulary.encode(text), length, step=step, targets=targets)
    return x, y, vocabulary
