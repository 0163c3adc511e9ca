"""The fixed tables of the seed tutorials: XOR and the people of seeds/000 and 001.

>>> from glassnet.datasets import xor
>>> xor()[1]
array([0, 1, 1, 0])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._validation import check_bool
from glassnet.datasets._common import Dataset

__all__ = ["people", "people_second_table", "xor"]

# seeds/000: (weight - 135 lb, height - 66 in) -> 1 if female.
_PEOPLE = (
    ("Alice", (-2, -1), 1),  # 133 lb, 65 in
    ("Bob", (25, 6), 0),  # 160 lb, 72 in
    ("Charlie", (17, 4), 0),  # 152 lb, 70 in
    ("Diana", (-15, -6), 1),  # 120 lb, 60 in
)
# seeds/001: the same shifts, four other people.
_PEOPLE_SECOND = (
    ("youge", (-2, 5), 1),  # 133 lb, 71 in
    ("share", (-5, -2), 1),  # 130 lb, 64 in
    ("naive", (-23, -11), 0),  # 112 lb, 55 in
    ("beyes", (30, 8), 0),  # 165 lb, 74 in
)


def _table(rows: tuple[tuple[str, tuple[int, int], int], ...], names: Any) -> Any:
    x = np.array([features for _, features, _ in rows], dtype=np.float64)
    y = np.array([label for _, _, label in rows], dtype=np.int64)
    if check_bool(names, "return_names"):
        return x, y, [name for name, _, _ in rows]
    return x, y


def xor() -> Dataset:
    """The XOR truth table of seeds/002: the label is 1 when exactly one input is 1.

    >>> x, y = xor()
    >>> x
    array([[0., 0.],
           [0., 1.],
           [1., 0.],
           [1., 1.]])
    >>> y
    array([0, 1, 1, 0])
    """
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return x, np.array([0, 1, 1, 0], dtype=np.int64)


def people(return_names: bool = False) -> Any:
    """The four people of seeds/000; the label is 1 for female, 0 for male.

    The features are shifted to be near zero, as the tutorial does:
    ``weight - 135`` (pounds) and ``height - 66`` (inches).

    ========  ===========  ===========  ===========  =====
    name      weight (lb)  height (in)  x            y
    ========  ===========  ===========  ===========  =====
    Alice     133          65           [-2, -1]     1
    Bob       160          72           [25, 6]      0
    Charlie   152          70           [17, 4]      0
    Diana     120          60           [-15, -6]    1
    ========  ===========  ===========  ===========  =====

    The tutorial then asks about Emily ``[-7, -3]`` (128 lb, 63 in; female) and
    Frank ``[20, 2]`` (155 lb, 68 in; male). ``return_names=True`` also returns the
    names, as ``(x, y, names)``.

    >>> x, y, names = people(return_names=True)
    >>> x[0], y[0], names[0]
    (array([-2., -1.]), np.int64(1), 'Alice')
    """
    return _table(_PEOPLE, return_names)


def people_second_table(return_names: bool = False) -> Any:
    """The second four-person table of seeds/001 (same shifts as :func:`people`).

    ========  ===========  ===========  ===========  =====
    name      weight (lb)  height (in)  x            y
    ========  ===========  ===========  ===========  =====
    youge     133          71           [-2, 5]      1
    share     130          64           [-5, -2]     1
    naive     112          55           [-23, -11]   0
    beyes     165          74           [30, 8]      0
    ========  ===========  ===========  ===========  =====

    >>> x, y = people_second_table()
    >>> x.tolist(), y.tolist()
    ([[-2.0, 5.0], [-5.0, -2.0], [-23.0, -11.0], [30.0, 8.0]], [1, 1, 0, 0])
    """
    return _table(_PEOPLE_SECOND, return_names)
