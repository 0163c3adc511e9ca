"""``glassnet predict``: run a saved model on a table and write its predictions as CSV.

The model's column data (:mod:`.info`) says which columns are its inputs (in any
order in the file; other columns are ignored), how to prepare them (the saved
:class:`~glassnet.cli.prep.Plan`) and how to turn outputs back into labels or the
target's units. A model saved by other means has no column data: then every column
but ``--target`` is a numeric input, in file order, and ``predict`` writes the raw
outputs.

Output columns: the ``--keep`` columns copied from the input, then
``predicted_<target>`` and, with ``--proba``, ``probability_<label>`` per class.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import EXIT_OK, CliError
from glassnet.cli.columns import resolve_column, resolve_columns
from glassnet.cli.info import ModelInfo
from glassnet.cli.loading import load_table, say
from glassnet.cli.prep import NumberInput, Plan, report_notices
from glassnet.cli.prep.encoders import as_texts
from glassnet.cli.tables import Table
from glassnet.cli.targets import decode, format_label, target_column

if TYPE_CHECKING:
    from glassnet.models import Sequential

__all__ = ["Prepared", "prepare", "run_predict"]


@dataclass
class Prepared:
    """A loaded model, its column data, the table and the inputs it takes."""

    model: Sequential
    info: ModelInfo | None
    table: Table
    x: Array
    #: the target column's name, if the table has it
    target: str | None
    #: what preparing filled in or ignored, said once the command cannot fail
    notices: list[str]

    def say_notices(self) -> None:
        for notice in self.notices:
            say(notice)


def prepare(
    args: argparse.Namespace, *, compile: bool, target_required: bool
) -> Prepared:
    """Load ``args.model`` and ``args.data``; prepare the inputs as in training."""
    from glassnet.cli.modelfile import load

    model, info = load(args.model, compile=compile)
    table = load_table(args)
    target = _target(args, info, table, target_required)
    plan = info.plan if info is not None else _bare_plan(table, target)
    x, report = plan.transform(table, np.dtype(getattr(model, "dtype", "float32")))
    shape = model.built_input_shape()
    if shape != x.shape[1:]:
        hint = ""
        if info is None and target is None:
            hint = "; pass --target COLUMN to leave the target column out"
        raise CliError(
            f"{args.model} takes inputs shaped {shape}; {table.name} has "
            f"{x.shape[1]} input columns ({', '.join(plan.columns[:10])}"
            f"{', ...' if len(plan.columns) > 10 else ''}){hint}"
        )
    return Prepared(model, info, table, x, target, report_notices(report))


def _target(
    args: argparse.Namespace, info: ModelInfo | None, table: Table, required: bool
) -> str | None:
    if args.target is not None:
        return resolve_column(args.target, table.names, "--target", table.name)
    name = info.target if info is not None else None
    if name is not None and name in table.columns:
        return name
    if required:
        raise CliError(
            f"{table.name}: no target column "
            f"{'' if name is None else repr(name) + ' '}to compare with; pass --target "
            "COLUMN"
        )
    return None


def _bare_plan(table: Table, target: str | None) -> Plan:
    """Every column but the target, as numbers as they are (a model without column data)."""
    return Plan(
        [NumberInput(name, None, None, None) for name in table.names if name != target],
        missing="error",
    )


def true_targets(prepared: Prepared) -> tuple[Array, Array]:
    """``(target values, rows that have one)`` of the prepared table."""
    assert prepared.target is not None
    return target_column(prepared.table.columns[prepared.target])


def run_predict(args: argparse.Namespace) -> int:
    out = args.output
    if out != "-":
        from glassnet.cli.train import check_output

        for path in (args.model, args.data):
            if os.path.abspath(out) == os.path.abspath(path):
                raise CliError(
                    f"--output {out!r} would overwrite the input file {path}"
                )
        check_output(out, args.overwrite)
    prepared = prepare(args, compile=False, target_required=False)
    info = prepared.info
    if args.proba and (info is None or info.classes is None):
        raise CliError(
            f"--proba needs a classification model saved by 'glassnet train'; "
            f"{args.model} {'predicts numbers' if info else 'has no class labels'}"
        )
    keep = resolve_columns(args.keep or [], prepared.table.names, "--keep", args.data)
    outputs = prepared.model.predict(prepared.x, batch_size=args.batch_size, verbose=0)
    header, columns = _columns(outputs, info, args.proba)
    prepared.say_notices()
    kept = [as_texts(prepared.table.columns[name]) for name in keep]
    clash = set(keep) & set(header)
    if clash:
        raise CliError(
            f"--keep {sorted(clash)[0]!r} would name two output columns alike"
        )
    rows = [
        [("" if value is None else str(value)) for value in cells]
        for cells in zip(*kept, *columns, strict=True)
    ]
    if out == "-":
        _write(sys.stdout, [*keep, *header], rows)
        return EXIT_OK
    from glassnet.io import atomic_write

    text = io.StringIO()
    _write(text, [*keep, *header], rows)
    with atomic_write(out) as handle:
        handle.write(text.getvalue().encode("utf-8"))
    print(f"Wrote {len(rows)} predictions to {out}.")
    return EXIT_OK


def _formatter(dtype: np.dtype) -> Callable[[Any], str]:
    if dtype == np.float32:
        return lambda value: f"{float(value):.9g}"  # 9 digits round-trip a float32
    return lambda value: repr(float(value))


def _columns(
    outputs: Array, info: ModelInfo | None, proba: bool
) -> tuple[list[str], list[list[str]]]:
    fmt = _formatter(outputs.dtype)
    if info is None:
        if outputs.shape[1] == 1:
            return ["prediction"], [[fmt(v) for v in outputs[:, 0]]]
        names = [f"output_{i}" for i in range(outputs.shape[1])]
        return names, [[fmt(v) for v in outputs[:, i]] for i in range(outputs.shape[1])]
    name = f"predicted_{info.target or 'target'}"
    if info.classes is None:
        values = info.unscale(outputs[:, 0])
        return [name], [[_number(v) for v in values]]
    index, probabilities = decode(outputs, info.classes)
    labels = [format_label(label) for label in info.classes]
    header, columns = [name], [[labels[i] for i in index]]
    if proba:
        header += [f"probability_{label}" for label in labels]
        columns += [[fmt(v) for v in probabilities[:, j]] for j in range(len(labels))]
    return header, columns


def _number(value: float) -> str:
    return f"{value:.9g}"


def _write(stream: IO[str], header: list[str], rows: list[list[str]]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
