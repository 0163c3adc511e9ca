"""The preparation a model keeps: from a table's columns to the network's input matrix.

A :class:`Plan` is the list of input encoders (:mod:`.encoders`) in the order their
blocks fill the matrix, plus the columns dropped in training and why. It is fitted
once by ``glassnet train`` (:func:`fit_plan`) and saved as JSON with the model;
``predict``, ``evaluate`` and ``explain`` apply the same plan to new files, which
may hold the columns in any order, among others.

>>> import numpy as np
>>> from glassnet.cli.tables import Table
>>> table = Table("t.csv", {"size": np.array([1.0, 2.0, 3.0, np.nan]),
...                         "color": np.array(["red", "blue", "red", None], dtype=object)}, 4)
>>> plan, notices = fit_plan(table, ["size", "color"], named=(), standardize=False)
>>> plan.input_names
['size', 'size (missing)', 'color=blue', 'color=red', 'color (missing)']
>>> x, report = plan.transform(table)
>>> x.tolist()[3], report.imputed
([2.0, 1.0, 0.0, 1.0, 1.0], {'size': 1, 'color': 1})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import CliError
from glassnet.cli.lines import say_lines
from glassnet.cli.prep.encoders import Encoder, Report, encoder_from_json
from glassnet.cli.prep.fit import fit_encoder
from glassnet.cli.tables import Table

__all__ = ["MISSING_MODES", "Plan", "fit_plan", "not_numbers_message", "report_notices"]

MISSING_MODES = ("impute", "error")
_BLOCK_ROWS = 1 << 15


@dataclass
class Plan:
    """Input encoders in matrix order and the columns dropped in training."""

    encoders: list[Encoder]
    dropped: list[tuple[str, str]] = field(default_factory=list)
    missing: str = "impute"

    @property
    def columns(self) -> list[str]:
        """The table columns the plan reads."""
        return [encoder.name for encoder in self.encoders]

    @property
    def input_names(self) -> list[str]:
        """One name per network input (``color=red``, ``date.month``...)."""
        return [name for encoder in self.encoders for name in encoder.outputs]

    def transform(self, table: Table, dtype: Any = np.float32) -> tuple[Array, Report]:
        """The input matrix for ``table`` and what was filled or ignored on the way."""
        missing = [name for name in self.columns if name not in table.columns]
        if missing:
            raise CliError(
                f"{table.name}: the model reads the column"
                f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing[:20]))}, "
                f"which {'are' if len(missing) > 1 else 'is'} not in the file "
                f"(its columns: {', '.join(table.names[:30])})"
            )
        x = np.empty((table.n_rows, len(self.input_names)), dtype=dtype)
        report = Report()
        # Row blocks that stay in the cache: each encoder writes a strided column
        # block of x, which for whole columns of a million rows took 4x longer.
        for top in range(0, table.n_rows, _BLOCK_ROWS):
            rows = slice(top, min(top + _BLOCK_ROWS, table.n_rows))
            part = Report()
            start = 0
            for encoder in self.encoders:
                width = len(encoder.outputs)
                encoder.transform(
                    table.columns[encoder.name][rows],
                    x[rows, start : start + width],
                    part,
                )
                start += width
            report.add(part, top)
        _refuse(report, table)
        return x, report

    def describe(self) -> list[str]:
        """A few lines naming what each kind of column became."""
        kinds: dict[str, list[Encoder]] = {}
        for encoder in self.encoders:
            kinds.setdefault(encoder.kind, []).append(encoder)
        lines = []
        numbers = kinds.get("number", [])
        if numbers:
            standardized = getattr(numbers[0], "mean", None) is not None
            scaled = "standardized" if standardized else "as they are"
            lines.append(f"{_count(len(numbers), 'numeric column')} {scaled}")
        for encoder in kinds.get("category", []):
            assert hasattr(encoder, "categories")
            lines.append(
                f"{encoder.name!r} one-hot: {len(encoder.categories)} categories"
            )
        for encoder in kinds.get("date", []):
            lines.append(f"{encoder.name!r} as {', '.join(encoder.outputs)}")
        filled = [e.name for e in self.encoders if e.indicator]
        if filled:
            lines.append(
                "missing cells filled (median, most frequent) with an indicator "
                f"column: {', '.join(filled)}"
            )
        for name, why in self.dropped:
            lines.append(f"{name!r} dropped: {why}")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "missing": self.missing,
            "inputs": [encoder.to_json() for encoder in self.encoders],
            "dropped": [[name, why] for name, why in self.dropped],
        }

    @classmethod
    def from_json(cls, value: Any, refuse: Callable[[str], Exception]) -> Plan:
        if not isinstance(value, dict) or set(value) != {
            "missing",
            "inputs",
            "dropped",
        }:
            raise refuse("must describe the inputs as {missing, inputs, dropped}")
        if value["missing"] not in MISSING_MODES:
            raise refuse("names an unknown way of handling missing values")
        inputs = value["inputs"]
        if not isinstance(inputs, list) or not inputs:
            raise refuse("must list the inputs")
        encoders = [encoder_from_json(item, refuse) for item in inputs]
        names = [encoder.name for encoder in encoders]
        if len(set(names)) != len(names):
            raise refuse("lists an input column twice")
        dropped = value["dropped"]
        if not isinstance(dropped, list) or not all(
            isinstance(d, list) and len(d) == 2 and all(isinstance(s, str) for s in d)
            for d in dropped
        ):
            raise refuse("must list the dropped columns as [name, reason] pairs")
        return cls(encoders, [(d[0], d[1]) for d in dropped], value["missing"])


def fit_plan(
    table: Table,
    features: Sequence[str],
    *,
    named: Sequence[str],
    standardize: bool = True,
    missing: str = "impute",
) -> tuple[Plan, list[str]]:
    """Fit an encoder per column of ``features`` on ``table``; ``(plan, notices)``.

    Columns in ``named`` (the ones ``--features`` asked for) are never dropped.
    Cells that should be numbers and are not are refused for all columns at once;
    with ``missing="error"`` so are missing cells, counted per column.
    """
    encoders: list[Encoder] = []
    dropped: list[tuple[str, str]] = []
    notices: list[str] = []
    not_numbers: dict[str, dict[str, int]] = {}
    bad_rows: dict[str, list[int]] = {}
    for name in features:
        fitted = fit_encoder(
            name,
            table.columns[name],
            named=name in named,
            standardize=standardize,
            missing=missing,
        )
        if fitted.not_numbers:
            not_numbers[name] = fitted.not_numbers
            bad_rows[name] = fitted.bad_rows
        elif fitted.encoder is None:
            dropped.append((name, str(fitted.dropped)))
        else:
            encoders.append(fitted.encoder)
        if fitted.notice:
            notices.append(fitted.notice)
    if not_numbers:
        raise CliError(not_numbers_message(table, not_numbers, bad_rows))
    if missing == "error":
        _refuse_missing(table, features)
    if not encoders:
        why = "; ".join(f"{name!r} {reason}" for name, reason in dropped[:5])
        raise CliError(
            f"{table.name}: no input column is left to learn from"
            + (f" ({why})" if why else "")
            + "; name the inputs with --features"
        )
    return Plan(encoders, dropped, missing), notices


def _refuse_missing(table: Table, features: Sequence[str]) -> None:
    counts = {}
    for name in features:
        values = table.columns[name]
        if values.dtype == np.float64:
            count = int(np.isnan(values).sum())
        else:
            count = sum(value is None for value in values)
        if count:
            counts[name] = count
    if counts:
        raise CliError(_missing_message(table.name, counts))


def _refuse(report: Report, table: Table) -> None:
    if report.not_numbers:
        raise CliError(not_numbers_message(table, report.not_numbers, report.bad_rows))
    if report.refused_missing:
        raise CliError(_missing_message(table.name, report.refused_missing))


def _missing_message(where: str, counts: dict[str, int]) -> str:
    shown = ", ".join(f"{name} {count}" for name, count in list(counts.items())[:20])
    return (
        f"{where}: missing values (cells per column: {shown}); fill them in, or "
        "train with --missing impute (the default) to fill them with the median or "
        "most frequent value"
    )


def not_numbers_message(
    table: Table,
    found: dict[str, dict[str, int]],
    bad_rows: dict[str, list[int]],
    advice: str = "otherwise fix them or --exclude the column",
) -> str:
    """Per column: how many cells are not numbers, which, and on which lines.

    ``found`` counts the cells by value, ``bad_rows`` holds the first rows of each
    column's (:func:`~.encoders.first_rows`).

    >>> table = Table("t.json", {}, 10)  # no lines in the file: rows are named
    >>> not_numbers_message(table, {"w": {"x": 2, "?!": 1}}, {"w": [2, 5, 6]})[:72]
    "t.json: 'w' has 3 cells that are not numbers ('x' x2, '?!' x1) in rows 2"
    """
    columns = list(found.items())[:10]
    rows = sorted({row for name, _ in columns for row in bad_rows.get(name, [])})
    lines = table.lines(rows)  # one pass over the file for every column
    parts = []
    for name, values in columns:
        total = sum(values.values())
        common = sorted(values.items(), key=lambda item: -item[1])[:3]
        shown = ", ".join(f"{value!r} x{count}" for value, count in common)
        verb = "is not a number" if total == 1 else "are not numbers"
        where = bad_rows.get(name, [])
        if where and all(row in lines for row in where):
            place = " on " + say_lines([lines[row] for row in where], total)
        elif where:
            place = " in " + say_lines(where, total, word="row")
        else:
            place = ""
        parts.append(
            f"{name!r} has {_count(total, 'cell')} that {verb} ({shown}){place}"
        )
    return (
        f"{table.name}: " + "; ".join(parts) + ". If they mean 'missing', add them to "
        f"--na-values; {advice}"
    )


def report_notices(report: Report) -> list[str]:
    """Notices about what a transform filled in or ignored (for standard error)."""
    notices = []
    if report.imputed:
        shown = ", ".join(f"{name} {count}" for name, count in report.imputed.items())
        notices.append(f"filled missing cells as in training ({shown})")
    for name, values in report.unknown.items():
        common = sorted(values.items(), key=lambda item: -item[1])
        shown = ", ".join(f"{value!r} x{count}" for value, count in common[:5])
        if len(common) > 5:
            shown += f" and {len(common) - 5} more"
        notices.append(
            f"{name!r} holds categories unseen in training ({shown}): encoded as all "
            "zeros, as scikit-learn's handle_unknown='ignore'"
        )
    for name, count in report.not_dates.items():
        notices.append(
            f"{name!r}: {_count(count, 'cell')} not dates, filled as missing"
        )
    return notices


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
