"""``glassnet train DATA --target COLUMN``: prepare the table, build a network, train, save.

The steps, each reported in one short block before training starts:

1. read the table (:mod:`.tables`) and pick the target and inputs (:mod:`.loading`);
2. drop rows whose target is missing; choose the task and classes (:mod:`.targets`);
3. fit the preparation (:mod:`.prep`): standardized numbers, one-hot text, dates,
   missing cells filled with indicator columns, constant and row-number columns
   dropped;
4. build the network (:mod:`.network`) and train it until the validation loss
   stops improving (:mod:`.fitting`), printing 80-column epoch lines
   (:mod:`.progress`);
5. save the model with the preparation and the training record in its metadata.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np

from glassnet.cli.app import CliError
from glassnet.cli.fitting import plan_schedule
from glassnet.cli.info import ModelInfo
from glassnet.cli.loading import block_line, choose_inputs, load_table
from glassnet.cli.network import (
    build_network,
    check_activations,
    layer_sizes,
    loss_name,
    make_optimizer,
)
from glassnet.cli.prep import fit_plan
from glassnet.cli.prep.encoders import as_numbers, as_texts, count_cells, first_rows
from glassnet.cli.prep.fit import NUMERIC_SHARE
from glassnet.cli.prep.plan import not_numbers_message
from glassnet.cli.tables import Table
from glassnet.cli.targets import (
    class_indices,
    encode,
    infer_task,
    make_classes,
    target_column,
)

__all__ = ["check_output", "run_train"]

_NETWORK_FLAGS = ("layers", "activation", "output_activation", "dropout")


def run_train(args: argparse.Namespace) -> int:
    _check_flags(args)  # names and flags first: no waiting for data to learn of a typo
    loss = loss_name(args.loss)
    optimizer = make_optimizer(args.optimizer, args.lr)
    check_activations(args.activation, args.output_activation)
    table = load_table(args)
    target, inputs, named = choose_inputs(table, args)
    y, present = target_column(table.columns[target])
    notices = list(table.notices)
    if not present.any():
        raise CliError(f"{table.name}: every row's target {target!r} is missing")
    plan, plan_notices = fit_plan(
        table,
        inputs,
        named=named,
        standardize=args.standardize,
        missing=args.missing,
    )
    notices += plan_notices
    dropped_rows = int((~present).sum())
    if dropped_rows:
        if args.missing == "error":
            raise CliError(
                f"{table.name}: {dropped_rows} rows have no target {target!r}; fill them "
                "in, or drop --missing error to leave those rows out"
            )
        notices.append(f"{dropped_rows} rows without a target {target!r} left out")
        table, y = table.take(present), y[present]
    info = _target_info(args, table, target, y, plan)
    x, _ = plan.transform(table, np.float64 if args.dtype == "float64" else np.float32)
    table.columns.clear()  # the inputs live on in x: free the table before training
    table.finder = None  # and standard input's bytes, which it keeps to find lines
    schedule = plan_schedule(args, len(x))
    verbose = args.verbose
    if verbose:
        _print_block(info, notices)
    model, loss, output_activation = build_network(args, info, loss)
    units = model.compute_output_shape(model.built_input_shape())[-1]
    if info.classes is None:
        targets = info.scale_target(y.astype(np.float64)).reshape(-1, 1)
        metrics = ["mae"]
    else:
        indices = class_indices(y, info.classes, table.name, target)
        targets = encode(indices, units, loss)
        metrics = ["accuracy"]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    if verbose:
        sizes = "-".join(str(n) for n in layer_sizes(model))
        rate = getattr(model.optimizer, "learning_rate", None)
        rate_text = f" (learning rate {rate:g})" if isinstance(rate, float) else ""
        network = f"{sizes}, {output_activation} output, loss {loss}, {args.optimizer}"
        print(block_line("Network", network + rate_text))
        print(block_line("Training", schedule.describe()))
    if schedule.validation_rows:
        # Keras holds out the *last* rows: shuffle first so that a file sorted by
        # class still validates on every class.
        order = np.random.default_rng(args.seed).permutation(len(x))
        x, targets = x[order], targets[order]
    from glassnet.cli.training_run import fit_and_save

    return fit_and_save(model, x, targets, info, args, schedule)


def check_output(path: str, overwrite: bool, flag: str = "--output") -> None:
    """Refuse to replace an existing file without ``--overwrite``."""
    if os.path.lexists(path) and not overwrite:
        raise CliError(
            f"{flag} {path!r} already exists; pass --overwrite to replace it "
            "(it is left as it is)"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"{flag} {path!r}: the folder {folder} does not exist")


def _check_flags(args: argparse.Namespace) -> None:
    if args.model is not None:
        for flag in _NETWORK_FLAGS:
            if getattr(args, flag) is not None:
                raise CliError(
                    f"--{flag.replace('_', '-')} describes the network, which --model "
                    "gives; use one or the other"
                )
    output = args.output
    if not output.lower().endswith((".keras", ".h5", ".hdf5")):
        raise CliError(
            f"--output must end in .keras or .h5 (a whole model); got {output!r}"
        )
    check_output(output, args.overwrite)
    if args.data != "-" and os.path.abspath(args.data) == os.path.abspath(output):
        raise CliError(f"--output {output!r} would overwrite the data file")


def _target_info(
    args: argparse.Namespace, table: Table, target: str, y: Any, plan: Any
) -> ModelInfo:
    where = table.name
    try:
        task = infer_task(y, args.task)
    except CliError:  # --task regression on a text target: typos in numbers?
        _refuse_stray_text(table, target)
        raise
    if task == "regression":
        values = y.astype(np.float64)
        if not np.isfinite(values).all():
            raise CliError(f"{where}: the target {target!r} holds inf")
        scale = float(values.std())
        return ModelInfo(task, target, plan, None, float(values.mean()), scale or 1.0)
    classes = make_classes(y)
    if len(classes) < 2:
        raise CliError(
            f"{where}: the target {target!r} has a single value, {classes[0]!r}, in "
            f"every row; classification needs 2 or more"
        )
    if len(classes) > max(20, len(y) // 2):
        _refuse_stray_text(table, target)  # numbers with a typo, as a regression?
        raise CliError(
            f"{where}: the target {target!r} has {len(classes)} different labels in "
            f"{len(y)} rows, too few rows per class to learn; is it the right column? "
            "(--task regression for numbers)"
        )
    return ModelInfo(task, target, plan, classes)


def _refuse_stray_text(table: Table, target: str) -> None:
    """A target of numbers but for a few cells: an error naming those cells' lines."""
    values = table.columns[target]
    if values.dtype == np.float64:
        return
    _, bad = as_numbers(values)
    present = int(sum(value is not None for value in values))
    if bad.any() and bad.sum() <= (1 - NUMERIC_SHARE) * present:
        counts = count_cells(as_texts(values), bad)
        raise CliError(
            not_numbers_message(
                table,
                {target: counts},
                {target: first_rows(bad)},
                advice="otherwise fix them, or pick another --target",
            ).replace(f"{target!r} has", f"the target {target!r} has", 1)
        )


def _print_block(info: ModelInfo, notices: list[str]) -> None:
    for notice in notices:
        print(block_line("Note", notice))
    print(block_line("Task", info.describe_task()))
    lines = info.plan.describe()
    inputs = len(info.plan.input_names)
    print(
        block_line("Inputs", f"{inputs} from {len(info.features)} columns: {lines[0]}")
    )
    for line in lines[1:]:
        print(block_line("", line))
    sys.stdout.flush()
