"""Matrices as aligned text, for the explanations (numbers to 4 significant digits).

:func:`matrix_lines` prints a matrix with a label per row and per column, leaving
out the middle (``...``) of one too large to show; :func:`shown` picks the rows.

>>> import numpy as np
>>> print("\\n".join(matrix_lines(np.arange(6.0).reshape(2, 3), "r", ["0", "1"],
...                                ["a", "b", "c"], [0, 1], shown(3, 2))))
  r  a  ...  c
  0  0  ...  2
  1  3  ...  5
"""

from __future__ import annotations

from glassnet._typing import Array

__all__ = ["fmt", "label", "matrix_lines", "shown", "wrapped"]

_WIDTH = 88


def fmt(value: float) -> str:
    """Four significant digits, as every matrix here prints its numbers.

    >>> fmt(0.123456), fmt(-0.0), fmt(12345678.0)
    ('0.1235', '0', '1.235e+07')
    """
    return f"{float(value) + 0.0:.4g}"  # + 0.0 turns -0.0 into 0.0


def label(index: tuple[int, ...]) -> str:
    """A position or kernel offset as a row or column label.

    >>> label((4, 2)), label((0, 1, 3))
    ('4,2', '0,1,3')
    """
    return ",".join(str(i) for i in index)


def shown(count: int, limit: int, around: int | None = None) -> list[int | None]:
    """Which of ``count`` rows to print: all, or ``limit`` of them with None for "...".

    Around ``around`` when given (a window centred on it), else the first and last.

    >>> shown(4, 5), shown(10, 4), shown(10, 3, around=6)
    ([0, 1, 2, 3], [0, 1, None, 8, 9], [None, 5, 6, 7, None])
    """
    if count <= limit:
        return list(range(count))
    if around is not None:
        start = min(max(around - limit // 2, 0), count - limit)
        rows: list[int | None] = list(range(start, start + limit))
        return [
            *([None] if start else []),
            *rows,
            *([None] if start + limit < count else []),
        ]
    head = (limit + 1) // 2
    return [*range(head), None, *range(count - (limit - head), count)]


def matrix_lines(
    matrix: Array,
    corner: str,
    row_labels: list[str],
    column_labels: list[str],
    rows: list[int | None],
    columns: list[int | None],
    mark: int | None = None,
) -> list[str]:
    """A matrix as aligned text: a header of column labels, a label per row.

    ``rows`` and ``columns`` are what :func:`shown` picks (None prints ``...``);
    row ``mark`` gets an arrow.

    >>> import numpy as np
    >>> for line in matrix_lines(np.eye(2), "p", ["0", "1"], ["f0", "f1"], [0, 1],
    ...                          [0, 1], mark=1):
    ...     print(line)
      p     f0  f1
      0      1   0
      1 <-   0   1
    """
    header = [corner, *("..." if c is None else column_labels[c] for c in columns)]
    body = []
    for r in rows:
        if r is None:
            body.append(["...", *([""] * len(columns))])
            continue
        label = row_labels[r] + (" <-" if r == mark else "")
        body.append(
            [label, *("..." if c is None else fmt(matrix[r, c]) for c in columns)]
        )
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    return [
        "  "
        + "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in [header, *body]
    ]


def wrapped(head: str, terms: list[str], tail: str) -> list[str]:
    """``head t1 + t2 + ... tail`` over lines of at most 88 characters.

    A continuation line starts with ``+`` under the ``=`` that ends ``head``.

    >>> wrapped("  z = ", ["1 * 2", "3 * 4"], "= 14")
    ['  z = 1 * 2 + 3 * 4 = 14']
    >>> len(wrapped("  z = ", ["0.125 * 0.5"] * 12, "= 0.75"))
    3
    """
    lines = [head + terms[0]]
    indent = " " * (len(head) - 2)
    for term in terms[1:]:
        if len(lines[-1]) + 3 + len(term) > _WIDTH:
            lines.append(f"{indent}+ {term}")
        else:
            lines[-1] += f" + {term}"
    if len(lines[-1]) + 1 + len(tail) > _WIDTH:
        lines.append(indent + tail)
    else:
        lines[-1] += f" {tail}"
    return lines
