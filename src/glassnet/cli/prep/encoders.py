"""One encoder per input column: how its cells become the network's input numbers.

Each encoder is plain JSON-able data (saved in the model file) and a ``transform``
that fills its block of the input matrix:

- :class:`NumberInput`: the value, missing cells filled with the training median,
  standardized ``(v - mean) / scale`` unless ``--no-standardize``.
- :class:`CategoryInput`: one 0/1 column per category seen in training (one-hot);
  a category never seen gives all zeros, as scikit-learn's
  ``OneHotEncoder(handle_unknown="ignore")``; missing cells get the most frequent.
- :class:`DateInput`: the date's year, month, day, weekday (Monday 0) and, when the
  times vary, hour, as numbers (filled and standardized as numbers are).

With ``indicator`` (the column had missing cells in training) one more 0/1 column
says which rows were missing, as scikit-learn's ``SimpleImputer(add_indicator=
True)``. An encoder without a ``fill`` (``--missing error``) refuses missing cells.

>>> import numpy as np
>>> size = NumberInput("size", fill=2.0, mean=2.0, scale=0.5, indicator=True)
>>> block, report = np.zeros((3, 2)), Report()
>>> size.transform(np.array([1.0, np.nan, 3.0]), block, report)
>>> block.tolist(), report.imputed
([[-2.0, 0.0], [0.0, 1.0], [2.0, 0.0]], {'size': 1})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet._typing import Array

__all__ = [
    "DATE_PARTS",
    "CategoryInput",
    "DateInput",
    "Encoder",
    "NumberInput",
    "Report",
    "as_numbers",
    "as_texts",
    "count_cells",
    "encoder_from_json",
    "first_rows",
]

#: what a date column can become, in this order
DATE_PARTS = ("year", "month", "day", "weekday", "hour")
_PANDAS_PART = {"weekday": "day_of_week"}


@dataclass
class Report:
    """What a transform noticed, counted per column."""

    imputed: dict[str, int] = field(default_factory=dict)
    refused_missing: dict[str, int] = field(default_factory=dict)
    not_numbers: dict[str, dict[str, int]] = field(default_factory=dict)
    #: the first rows of each column's cells in ``not_numbers``
    bad_rows: dict[str, list[int]] = field(default_factory=dict)
    unknown: dict[str, dict[str, int]] = field(default_factory=dict)
    not_dates: dict[str, int] = field(default_factory=dict)

    def add(self, part: Report, offset: int) -> None:
        """Count ``part``, the report on the rows from ``offset`` on, into this one.

        >>> total, part = Report(imputed={"a": 2}), Report(imputed={"a": 1})
        >>> part.bad_rows["b"] = [0, 3]
        >>> total.add(part, offset=100)
        >>> total.imputed, total.bad_rows
        ({'a': 3}, {'b': [100, 103]})
        """
        for counts, more in (
            (self.imputed, part.imputed),
            (self.refused_missing, part.refused_missing),
            (self.not_dates, part.not_dates),
        ):
            for name, count in more.items():
                counts[name] = counts.get(name, 0) + count
        for by_value, more_by_value in (
            (self.not_numbers, part.not_numbers),
            (self.unknown, part.unknown),
        ):
            for name, values in more_by_value.items():
                into = by_value.setdefault(name, {})
                for value, count in values.items():
                    into[value] = into.get(value, 0) + count
        for name, rows in part.bad_rows.items():
            known = self.bad_rows.setdefault(name, [])
            known.extend(offset + row for row in rows[: max(0, 4 - len(known))])


def as_numbers(values: Array) -> tuple[Array, Array]:
    """``(floats, bad)``: NaN for missing and unreadable cells; ``bad`` marks the latter."""
    if values.dtype == np.float64:
        return values, np.zeros(len(values), dtype=bool)
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    floats = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    present = np.array([v is not None for v in values], dtype=bool)
    return floats, present & np.isnan(floats)


def as_texts(values: Array) -> Array:
    """Cells as text (None for missing); numbers as written (``3``, not ``3.0``)."""
    if values.dtype == np.float64:
        return np.array(
            [None if v != v else _number_text(v) for v in values], dtype=object
        )
    if all(v is None or isinstance(v, str) for v in values):
        return values
    return np.array(
        [v if v is None or isinstance(v, str) else _number_text(v) for v in values],
        dtype=object,
    )


def _number_text(value: Any) -> str:
    number = float(value)
    return (
        str(int(number))
        if number.is_integer() and abs(number) < 2**53
        else repr(number)
    )


def first_rows(mask: Array, limit: int = 4) -> list[int]:
    """The first ``limit`` rows where ``mask`` is true (to name their lines).

    >>> first_rows(np.array([False, True, True, False, True]), limit=2)
    [1, 2]
    """
    return [int(row) for row in np.flatnonzero(mask)[:limit]]


def count_cells(texts: Array, mask: Array, limit: int | None = None) -> dict[str, int]:
    """The ``limit`` most frequent cells where ``mask`` is true (None: all), counted.

    >>> count_cells(np.array(["a", "b", "b", "c"]), np.array([True, True, True, False]))
    {'b': 2, 'a': 1}
    """
    found, counts = np.unique(np.asarray(texts[mask], dtype=str), return_counts=True)
    order = np.argsort(-counts, kind="stable")[:limit]
    return {str(found[i])[:40]: int(counts[i]) for i in order}


@dataclass
class NumberInput:
    """A numeric column: filled, then standardized (see the module docstring)."""

    name: str
    fill: float | None
    mean: float | None
    scale: float | None
    indicator: bool = False
    kind = "number"

    @property
    def outputs(self) -> list[str]:
        return [self.name] + ([f"{self.name} (missing)"] if self.indicator else [])

    def transform(self, values: Array, block: Array, report: Report) -> None:
        numbers, bad = as_numbers(values)
        if bad.any():
            report.not_numbers[self.name] = count_cells(values, bad)
            report.bad_rows[self.name] = first_rows(bad)
        _fill_scaled(self, numbers.reshape(-1, 1), block, report, [self.fill])

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "fill": self.fill,
            "mean": self.mean,
            "scale": self.scale,
            "indicator": self.indicator,
        }


@dataclass
class DateInput:
    """A date column as numbers: its ``parts`` (a subset of :data:`DATE_PARTS`)."""

    name: str
    format: str
    parts: list[str]
    fill: list[float] | None
    mean: list[float] | None
    scale: list[float] | None
    indicator: bool = False
    kind = "date"

    @property
    def outputs(self) -> list[str]:
        names = [f"{self.name}.{part}" for part in self.parts]
        return names + ([f"{self.name} (missing)"] if self.indicator else [])

    def transform(self, values: Array, block: Array, report: Report) -> None:
        parts, bad = date_parts(values, self.format, self.parts)
        if bad.any():
            report.not_dates[self.name] = int(bad.sum())
        fill: list[float | None] = (
            list(self.fill) if self.fill is not None else [None] * len(self.parts)
        )
        _fill_scaled(self, parts, block, report, fill)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "format": self.format,
            "parts": list(self.parts),
            "fill": self.fill,
            "mean": self.mean,
            "scale": self.scale,
            "indicator": self.indicator,
        }


def date_parts(values: Array, fmt: str, parts: list[str]) -> tuple[Array, Array]:
    """``(numbers (n, len(parts)) with NaN where missing, cells that are not dates)``."""
    import pandas as pd

    texts = as_texts(values)
    stamps = pd.to_datetime(pd.Series(texts, dtype=object), format=fmt, errors="coerce")
    present = np.array([v is not None for v in texts], dtype=bool)
    missing = stamps.isna().to_numpy()
    columns = []
    for part in parts:
        field_values = getattr(stamps.dt, _PANDAS_PART.get(part, part))
        columns.append(field_values.to_numpy(dtype=np.float64, na_value=np.nan))
    numbers = np.column_stack(columns) if columns else np.empty((len(values), 0))
    return numbers, present & missing


def _fill_scaled(
    encoder: NumberInput | DateInput,
    numbers: Array,
    block: Array,
    report: Report,
    fill: list[float | None],
) -> None:
    missing = np.isnan(numbers).any(axis=1)
    count = int(missing.sum())
    if count:
        if any(value is None for value in fill):
            report.refused_missing[encoder.name] = count
            return
        numbers = numbers.copy()
        rows = np.flatnonzero(missing)
        for j, value in enumerate(fill):
            numbers[rows, j] = value
        report.imputed[encoder.name] = count
    width = numbers.shape[1]
    if encoder.mean is not None and encoder.scale is not None:
        mean = np.asarray(encoder.mean, dtype=np.float64).reshape(-1)
        scale = np.asarray(encoder.scale, dtype=np.float64).reshape(-1)
        numbers = numbers - mean
        numbers *= 1.0 / scale
    block[:, :width] = numbers
    if encoder.indicator:
        block[:, width] = missing


@dataclass
class CategoryInput:
    """A text column, one-hot encoded (see the module docstring)."""

    name: str
    categories: list[str]
    fill: str | None
    indicator: bool = False
    kind = "category"

    @property
    def outputs(self) -> list[str]:
        names = [f"{self.name}={category}" for category in self.categories]
        return names + ([f"{self.name} (missing)"] if self.indicator else [])

    def transform(self, values: Array, block: Array, report: Report) -> None:
        import pandas as pd

        texts = as_texts(values)
        missing = np.array([v is None for v in texts], dtype=bool)
        count = int(missing.sum())
        if count:
            if self.fill is None:
                report.refused_missing[self.name] = count
                return
            texts = texts.copy()
            texts[missing] = self.fill
            report.imputed[self.name] = count
        codes = pd.Index(self.categories).get_indexer(texts)
        unknown = codes < 0
        if unknown.any():
            report.unknown[self.name] = count_cells(texts, unknown)
        rows = np.flatnonzero(~unknown)
        block[:, : len(self.categories)] = 0
        block[rows, codes[rows]] = 1
        if self.indicator:
            block[:, len(self.categories)] = missing

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "categories": list(self.categories),
            "fill": self.fill,
            "indicator": self.indicator,
        }


Encoder = NumberInput | CategoryInput | DateInput


def encoder_from_json(value: Any, refuse: Any) -> Encoder:
    """Rebuild an encoder from :meth:`to_json`'s data; ``refuse(problem)`` makes the
    error to raise for anything malformed."""
    if not isinstance(value, dict) or not _text(value.get("name")):
        raise refuse("lists an input without a name")
    kind, name = value.get("kind"), value["name"]
    if not isinstance(value.get("indicator"), bool):
        raise refuse(f"input {name[:40]!r} lacks its 'indicator' flag")
    if kind == "number" and set(value) == {*_NUMBER_KEYS}:
        fill, mean, scale = value["fill"], value["mean"], value["scale"]
        if not (
            _number_or_none(fill) and _number_or_none(mean) and _number_or_none(scale)
        ):
            raise refuse(
                f"input {name[:40]!r} has a fill, mean or scale that is no number"
            )
        if (mean is None) != (scale is None) or (scale is not None and scale <= 0):
            raise refuse(
                f"input {name[:40]!r} needs a mean and a positive scale, or neither"
            )
        return NumberInput(name, fill, mean, scale, value["indicator"])
    if kind == "category" and set(value) == {*_CATEGORY_KEYS}:
        categories, fill = value["categories"], value["fill"]
        if (
            not isinstance(categories, list)
            or not categories
            or not all(isinstance(c, str) for c in categories)
            or len(set(categories)) != len(categories)
        ):
            raise refuse(f"input {name[:40]!r} must list distinct text categories")
        if fill is not None and fill not in categories:
            raise refuse(f"input {name[:40]!r} fills with a category it does not list")
        return CategoryInput(name, list(categories), fill, value["indicator"])
    if kind == "date" and set(value) == {*_DATE_KEYS}:
        parts = value["parts"]
        if (
            not _text(value["format"])
            or not isinstance(parts, list)
            or not parts
            or not all(part in DATE_PARTS for part in parts)
            or len(set(parts)) != len(parts)
        ):
            raise refuse(f"input {name[:40]!r} has a bad date format or parts")
        lists = [value[key] for key in ("fill", "mean", "scale")]
        for numbers in lists:
            if numbers is not None and not (
                isinstance(numbers, list)
                and len(numbers) == len(parts)
                and all(_number_or_none(v) and v is not None for v in numbers)
            ):
                raise refuse(f"input {name[:40]!r} needs one number per date part")
        fill, mean, scale = lists
        if (mean is None) != (scale is None) or (scale and min(scale) <= 0):
            raise refuse(
                f"input {name[:40]!r} needs means and positive scales, or neither"
            )
        return DateInput(
            name, value["format"], list(parts), fill, mean, scale, value["indicator"]
        )
    raise refuse(f"input {name[:40]!r} has an unknown kind or keys")


_NUMBER_KEYS = ("kind", "name", "fill", "mean", "scale", "indicator")
_CATEGORY_KEYS = ("kind", "name", "categories", "fill", "indicator")
_DATE_KEYS = ("kind", "name", "format", "parts", "fill", "mean", "scale", "indicator")


def _text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 1024


def _number_or_none(value: Any) -> bool:
    if value is None:
        return True
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )
