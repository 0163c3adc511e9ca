"""``glassnet predict`` and ``glassnet evaluate``: run a saved model on a data file.

The model's column data (:mod:`.info`) says which columns are its inputs (in any
order in the file; other columns are ignored), how to scale them and how to turn
outputs back into labels. A model saved by other means has no column data: then
every column but ``--target`` is an input, in file order, and ``predict`` writes the
raw outputs.
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
from glassnet.cli.data import Data, load_data
from glassnet.cli.info import ModelInfo
from glassnet.cli.modelfile import load
from glassnet.cli.targets import (
    class_indices,
    decode,
    encode,
    format_label,
    regression_targets,
)

if TYPE_CHECKING:
    from glassnet.models import Sequential

__all__ = ["Prepared", "prepare", "run_evaluate", "run_predict", "targets_for"]


@dataclass
class Prepared:
    """A loaded model, its column data, the data file and the inputs it takes."""

    model: Sequential
    info: ModelInfo | None
    data: Data
    x: Array


def prepare(
    args: argparse.Namespace, *, compile: bool, target_required: bool
) -> Prepared:
    """Load ``args.model`` and ``args.data``; check the inputs fit the model."""
    model, info = load(args.model, compile=compile)
    target = args.target or (info.target if info is not None else None)
    data = load_data(
        args.data,
        target=target,
        target_required=target_required,
        features=info.features if info is not None else None,
        x_array=args.x_array,
    )
    shape = model.built_input_shape()
    if shape != data.x.shape[1:]:
        hint = ""
        if info is None and target is None and not data.path.lower().endswith(".npz"):
            hint = "; pass --target COLUMN to leave the target column out"
        raise CliError(
            f"{args.model} takes inputs shaped {shape}; {data.path} has "
            f"{data.x.shape[1]} input columns ({', '.join(data.features[:10])}"
            f"{', ...' if len(data.features) > 10 else ''}){hint}"
        )
    x = data.x if info is None else info.transform(data.x)
    return Prepared(model, info, data, x)


def targets_for(prepared: Prepared, loss_name: str | None = None) -> Array:
    """The data's targets as the loss (default: the model's) takes them."""
    model, info, data = prepared.model, prepared.info, prepared.data
    if data.y is None:
        raise CliError(f"{data.path} has no target to compare with; pass --target")
    if info is None:
        if data.y.dtype.kind == "U":
            raise CliError(
                f"{prepared.data.path}: the target {data.target!r} holds text, and "
                "the model has no label mapping (it was not saved by 'glassnet train')"
            )
        return data.y
    if info.classes is None:
        return regression_targets(data)
    units = model.compute_output_shape(model.built_input_shape())[-1]
    loss = loss_name or str(getattr(model.loss, "name", ""))
    return encode(class_indices(data, info.classes), units, loss)


def run_evaluate(args: argparse.Namespace) -> int:
    from glassnet.callbacks import format_logs

    prepared = prepare(args, compile=True, target_required=True)
    model = prepared.model
    if not model.compiled:
        raise CliError(
            f"{args.model} was saved without a loss (uncompiled); evaluate needs one"
        )
    y = targets_for(prepared)
    logs = model.evaluate(
        prepared.x, y, batch_size=args.batch_size, verbose=0, return_dict=True
    )
    rows = len(prepared.x)
    print(f"{format_logs(logs)} ({rows} row{'s' if rows != 1 else ''} of {args.data})")
    return EXIT_OK


def run_predict(args: argparse.Namespace) -> int:
    out = args.output
    for path in (args.model, args.data):
        if out != "-" and os.path.abspath(out) == os.path.abspath(path):
            raise CliError(f"--output {out!r} would overwrite the input file {path}")
    prepared = prepare(args, compile=False, target_required=False)
    info = prepared.info
    if args.proba and (info is None or info.classes is None):
        raise CliError(
            f"--proba needs a classification model saved by 'glassnet train'; "
            f"{args.model} {'predicts numbers' if info else 'has no class labels'}"
        )
    outputs = prepared.model.predict(prepared.x, batch_size=args.batch_size, verbose=0)
    header, rows = _table(outputs, info, args.proba, _formatter(outputs.dtype))
    if out == "-":
        _write(sys.stdout, header, rows)
        return EXIT_OK
    from glassnet.io import atomic_write

    text = io.StringIO()
    _write(text, header, rows)
    with atomic_write(out) as handle:
        handle.write(text.getvalue().encode("utf-8"))
    print(f"Wrote {len(rows)} predictions to {out}.")
    return EXIT_OK


def _formatter(dtype: np.dtype) -> Callable[[Any], str]:
    return _float32 if dtype == np.float32 else _float64


def _float32(value: Any) -> str:
    return f"{float(value):.9g}"  # 9 significant digits round-trip a float32


def _float64(value: Any) -> str:
    return repr(float(value))


def _table(
    outputs: Array, info: ModelInfo | None, proba: bool, fmt: Callable[[Any], str]
) -> tuple[list[str], list[list[str]]]:
    name = (info.target if info is not None else None) or "prediction"
    if info is None:
        header = (
            ["prediction"]
            if outputs.shape[1] == 1
            else [f"output_{i}" for i in range(outputs.shape[1])]
        )
        return header, [[fmt(v) for v in row] for row in outputs]
    if info.classes is None:
        return [name], [[fmt(row[0])] for row in outputs]
    labels, probabilities = decode(outputs, info.classes)
    header = [name]
    if proba:
        header += [f"proba_{format_label(label)}" for label in info.classes]
    rows = []
    for label, p in zip(labels, probabilities, strict=True):
        rows.append([format_label(label), *([fmt(v) for v in p] if proba else [])])
    return header, rows


def _write(stream: IO[str], header: list[str], rows: list[list[str]]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
