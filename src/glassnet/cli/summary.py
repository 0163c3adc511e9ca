"""``glassnet summary MODEL`` and ``glassnet explain MODEL DATA --row N``."""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

from glassnet.cli.app import EXIT_OK, CliError
from glassnet.cli.info import ModelInfo
from glassnet.cli.loading import block_line
from glassnet.cli.predict import prepare, true_targets
from glassnet.cli.progress import short_logs
from glassnet.cli.targets import class_indices, decode, encode, format_label

__all__ = ["run_explain", "run_summary"]


def run_summary(args: argparse.Namespace) -> int:
    """The layer table (``--explain``: how each number is formed), then what
    ``glassnet train`` saved: the task, the inputs and the training record."""
    from glassnet.cli.modelfile import load, read_info

    path = args.model
    if path.lower().endswith(".json"):
        from glassnet.io import limits
        from glassnet.models import model_from_json

        if not os.path.isfile(path):
            raise CliError(f"{path}: no such file")
        with open(path, "rb") as handle:
            model = model_from_json(handle.read(limits.MAX_JSON_BYTES + 1))
        info = read_info(path)
    else:
        model, info = load(path, compile=False)
    model.summary(explain=args.explain)
    if info is not None:
        print()
        for line in describe_info(info):
            print(line)
    return EXIT_OK


def describe_info(info: ModelInfo) -> list[str]:
    """The summary's block about what ``glassnet train`` saved."""
    lines = [block_line("Task", info.describe_task())]
    plan = info.plan.describe()
    inputs = len(info.plan.input_names)
    lines.append(
        block_line("Inputs", f"{inputs} from {len(info.features)} columns: {plan[0]}")
    )
    lines += [block_line("", line) for line in plan[1:]]
    lines.append(block_line("Columns", ", ".join(info.features)))
    record = info.training
    if record:
        rate = record.get("learning_rate")
        rate_text = f" (learning rate {rate:g})" if isinstance(rate, float) else ""
        lines.append(
            block_line(
                "Training",
                f"loss {record.get('loss')}, {record.get('optimizer')}{rate_text}, "
                f"batches of {record.get('batch_size')}, {record.get('rows'):,} rows, "
                f"validating on {record.get('validation_rows'):,}",
            )
        )
        lines.append(
            block_line(
                "Epochs",
                f"{record.get('epochs')} of at most {record.get('epoch_limit')}, ended "
                f"by {record.get('ended_by')}; weights of epoch "
                f"{record.get('kept_epoch')}",
            )
        )
        final = record.get("final") or {}
        if final:
            lines.append(block_line("Final", short_logs(final)))
    return lines


def run_explain(args: argparse.Namespace) -> int:
    """The prediction for one row, its inputs by name, then
    :func:`glassnet.explain.backprop`'s chain-rule table."""
    from glassnet.explain import backprop

    prepared = prepare(args, compile=True, target_required=True)
    model, info, table = prepared.model, prepared.info, prepared.table
    if args.loss is None and not model.compiled:
        raise CliError(
            f"{args.model} was saved without a loss (uncompiled); pass --loss NAME"
        )
    loss_name = None
    if args.loss is not None:
        from glassnet import losses

        loss_name = getattr(losses.get(args.loss), "name", None)
    rows = len(prepared.x)
    if args.row >= rows:
        raise CliError(
            f"--row {args.row} is past the end: {table.name} has {rows} data rows "
            f"(0 to {rows - 1})"
        )
    y, present = true_targets(prepared)
    if not present[args.row]:
        raise CliError(
            f"{table.where(args.row)}: the target {prepared.target!r} is missing"
        )
    row_y = y[args.row : args.row + 1]
    x = prepared.x[args.row]
    outputs = model.predict(x.reshape(1, -1), verbose=0)
    loss = loss_name or str(getattr(model.loss, "name", ""))
    truth = _label_text(row_y[0])
    if info is not None:
        target = _target_for_loss(info, row_y, outputs.shape[1], loss, table.name)
    else:
        target = row_y.astype(np.float64)
    prepared.say_notices()
    print(
        f"Row {args.row} of {table.name}: {_prediction(info, outputs)}; "
        f"true {prepared.target} = {truth}"
    )
    if info is not None:
        _print_inputs(info, table, args.row, x)
    print()
    print(backprop(model, x, target[0], loss=args.loss))
    return EXIT_OK


def _label_text(value: Any) -> str:
    return value if isinstance(value, str) else f"{float(value):g}"


def _prediction(info: ModelInfo | None, outputs: Any) -> str:
    if info is None:
        return "output " + ", ".join(f"{v:.4g}" for v in outputs[0])
    if info.classes is None:
        return f"predicted {info.target} = {info.unscale(outputs[:, 0])[0]:.4g}"
    index, proba = decode(outputs, info.classes)
    label = format_label(info.classes[int(index[0])])
    return f"predicted {label} (probability {proba[0, index[0]]:.3f})"


def _print_inputs(info: ModelInfo, table: Any, row: int, x: Any) -> None:
    columns = [encoder.name for encoder in info.plan.encoders for _ in encoder.outputs]
    print("Inputs as the network sees them:")
    for i, (name, column) in enumerate(
        zip(info.plan.input_names, columns, strict=True)
    ):
        cell = table.columns[column][row]
        shown = " (cell: missing)" if cell is None else f" (cell: {_label_text(cell)})"
        if isinstance(cell, float) and np.isnan(cell):
            shown = " (cell: missing)"
        print(f"  x{i + 1} = {name} = {float(x[i]):.4g}{shown}")
    if info.classes is not None:
        if len(info.classes) == 2 and info.n_classes == 2:
            print(f"  y_pred = probability of {format_label(info.classes[1])}")
        labels = ", ".join(
            f"{i + 1}: {format_label(label)}" for i, label in enumerate(info.classes)
        )
        print(f"  classes ({labels})")


def _target_for_loss(
    info: ModelInfo, row_y: Any, units: int, loss: str, where: str
) -> Any:
    if info.classes is None:
        return info.scale_target(row_y.astype(np.float64)).reshape(-1, 1)
    indices = class_indices(row_y, info.classes, where, str(info.target))
    return encode(indices, units, loss)
