"""Choosing each input column's encoder from the training data.

For every input column, in this order:

1. **Numbers** (pandas read numbers): a :class:`~.encoders.NumberInput`. Dropped
   with a notice when every cell is missing, when it holds one value (constant),
   or when it is a row number: whole numbers, all different, forming a run
   ``a, a+1, ..., a+n-1`` in some order (a car's weight is whole and mostly
   unique, but its values spread far wider than the row count, so it stays).
2. **Text that is numbers** but for some cells (``12``, ``7``, ``tall``): an error
   counting the cells that are not numbers, per column: they are missing values
   to name with ``--na-values``, or typos.
3. **Dates** (95% of the cells read with one date format, such as ``2012/01/31``
   or ISO ``1970-01-01T12:00``): a :class:`~.encoders.DateInput` of the parts that
   vary in training.
4. **Text**: a :class:`~.encoders.CategoryInput`, one-hot; dropped with a notice
   when it is constant or looks like free text or an identifier (more than
   :data:`MAX_CATEGORIES` distinct values, more than half of 20 or more rows
   distinct, or every one of 10 or more rows different).

Columns named in ``--features`` are never dropped: a column you ask for is used
(a constant one as a constant, free text one-hot up to :data:`HARD_MAX_CATEGORIES`).

Missing cells: with ``missing="impute"`` (default) every column gets a fill value
(median, most frequent category; for columns over :data:`MEDIAN_SAMPLE` rows the
median of that many evenly spaced rows), used for any missing cell then or later,
and a column with missing cells in training an indicator column too; with
``"error"`` they are refused, counted per column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import CliError
from glassnet.cli.prep.encoders import (
    DATE_PARTS,
    CategoryInput,
    DateInput,
    Encoder,
    NumberInput,
    as_numbers,
    as_texts,
    date_parts,
    first_rows,
)

__all__ = [
    "HARD_MAX_CATEGORIES",
    "MAX_CATEGORIES",
    "NUMERIC_SHARE",
    "Fitted",
    "fit_encoder",
]

#: text columns with more distinct values are dropped as free text (unless named)
MAX_CATEGORIES = 100
#: and refused even when named in --features
HARD_MAX_CATEGORIES = 2000
NUMERIC_SHARE = 0.8
_DATE_SHARE = 0.95
_MIN_ROWS_FOR_ROW_NUMBER = 10
#: columns longer than this take the median of as many evenly spaced rows
MEDIAN_SAMPLE = 100_000


@dataclass
class Fitted:
    """The result for one column: an encoder, or why it was dropped."""

    encoder: Encoder | None = None
    dropped: str | None = None
    #: cells that should be numbers but are not, by value (an error for the caller)
    not_numbers: dict[str, int] = field(default_factory=dict)
    #: the first rows holding such cells, to name their lines
    bad_rows: list[int] = field(default_factory=list)
    notice: str | None = None


def fit_encoder(
    name: str, values: Array, *, named: bool, standardize: bool, missing: str
) -> Fitted:
    """The encoder for column ``name`` (see the module docstring)."""
    n = len(values)
    if values.dtype == np.float64:
        return _fit_numbers(name, values, named, standardize, missing)
    numbers, bad = as_numbers(values)
    present = np.array([v is not None for v in values], dtype=bool)
    if not present.any():
        return _all_missing(name, named, n)
    readable = int(present.sum() - bad.sum())
    if not bad.any():
        return _fit_numbers(name, numbers, named, standardize, missing)
    if readable >= NUMERIC_SHARE * present.sum():
        texts = as_texts(values)
        found, counts = np.unique(np.asarray(texts[bad], dtype=str), return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return Fitted(
            not_numbers={str(found[i])[:40]: int(counts[i]) for i in order},
            bad_rows=first_rows(bad),
        )
    date = _try_dates(name, values, present, standardize, missing)
    if date is not None:
        return date
    return _fit_categories(name, values, present, named, missing)


def _all_missing(name: str, named: bool, n: int) -> Fitted:
    if named:
        raise CliError(
            f"column {name!r} (in --features) has no values: all {n} are missing"
        )
    return Fitted(dropped="every cell is missing")


def _fit_numbers(
    name: str, values: Array, named: bool, standardize: bool, missing: str
) -> Fitted:
    nan = np.isnan(values)
    count = int(nan.sum())
    if count == len(values):
        return _all_missing(name, named, len(values))
    present = values[~nan] if count else values
    low, high = float(present.min()), float(present.max())
    if not named and not count and low == high:
        return Fitted(dropped=f"constant ({_short(low)} in every row)")
    if not named and not count and _row_number(present, low, high):
        return Fitted(
            dropped=f"a row number ({_short(low)} to {_short(high)}, each once)"
        )
    if not (np.isfinite(low) and np.isfinite(high)):
        raise CliError(f"column {name!r} holds inf; replace it or --exclude the column")
    fill = _median(present) if missing == "impute" else None
    mean = scale = None
    if standardize:
        mean = float(present.mean())
        std = float(present.std())
        scale = std if std > 0 else 1.0  # a constant stays constant (0)
    return Fitted(
        NumberInput(name, fill, mean, scale, indicator=bool(count and fill is not None))
    )


def _median(values: Array) -> float:
    """The median; of :data:`MEDIAN_SAMPLE` evenly spaced rows for longer columns
    (a fill value does not need the exact median of millions, and it costs more
    than reading the column)."""
    step = max(1, len(values) // MEDIAN_SAMPLE)
    return float(np.median(values[::step]))


def _row_number(values: Array, low: float, high: float) -> bool:
    n = len(values)
    if n < _MIN_ROWS_FOR_ROW_NUMBER or high - low != n - 1 or low != round(low):
        return False
    whole = values == np.round(values)
    return bool(whole.all()) and len(np.unique(values)) == n


def _try_dates(
    name: str, values: Array, present: Array, standardize: bool, missing: str
) -> Fitted | None:
    from pandas.tseries.api import guess_datetime_format

    texts = as_texts(values)
    first = next(str(v) for v in texts if v is not None)
    if not any(c in first for c in "-/:.") or first.replace(".", "").isdigit():
        return None
    fmt = guess_datetime_format(first)
    if fmt is None:
        return None
    numbers, bad = date_parts(values, fmt, list(DATE_PARTS))
    if bad.sum() > (1 - _DATE_SHARE) * present.sum():
        return None
    varies = {
        part: bool(np.nanmin(numbers[:, j]) != np.nanmax(numbers[:, j]))
        for j, part in enumerate(DATE_PARTS)
    }
    varies["weekday"] &= varies["day"]  # yearly or monthly dates: no real weekday
    kept = [j for j, part in enumerate(DATE_PARTS) if varies[part]]
    if not kept:
        return Fitted(dropped="a date, the same in every row")
    numbers = numbers[:, kept]
    parts = [DATE_PARTS[j] for j in kept]
    nan = np.isnan(numbers).any(axis=1)
    fill = None
    if missing == "impute":
        fill = [float(v) for v in np.median(numbers[~nan], axis=0)]
    mean = scale = None
    if standardize:
        mean = [float(v) for v in numbers[~nan].mean(axis=0)]
        scale = [float(v) if v > 0 else 1.0 for v in numbers[~nan].std(axis=0)]
    encoder = DateInput(name, fmt, parts, fill, mean, scale, bool(nan.any() and fill))
    notice = f"{name!r}: dates ({fmt}), used as {', '.join(encoder.outputs)}"
    unread = int(bad.sum())
    if unread:
        notice += f"; {unread} cells that are not dates count as missing"
    return Fitted(encoder, notice=notice)


def _fit_categories(
    name: str, values: Array, present: Array, named: bool, missing: str
) -> Fitted:
    texts = as_texts(values)
    found, counts = np.unique(np.asarray(texts[present], dtype=str), return_counts=True)
    distinct, rows = len(found), int(present.sum())
    if not named:
        if distinct == 1 and rows == len(values):
            return Fitted(dropped=f"constant ({found[0][:40]!r} in every row)")
        unique = distinct == rows and rows >= _MIN_ROWS_FOR_ROW_NUMBER
        if unique or distinct > MAX_CATEGORIES or (rows >= 20 and distinct > rows / 2):
            return Fitted(
                dropped=f"{distinct} different texts in {rows} rows: free text or an "
                "identifier (name it in --features to one-hot encode it anyway)"
            )
    if distinct > HARD_MAX_CATEGORIES:
        raise CliError(
            f"column {name!r} has {distinct} different texts; one-hot encoding takes at "
            f"most {HARD_MAX_CATEGORIES} (--exclude it)"
        )
    fill = str(found[int(np.argmax(counts))]) if missing == "impute" else None
    indicator = bool(rows < len(values) and fill is not None)
    return Fitted(CategoryInput(name, [str(c) for c in found], fill, indicator))


def _short(value: float) -> str:
    return f"{value:g}"
