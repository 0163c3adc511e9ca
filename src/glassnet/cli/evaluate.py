"""``glassnet evaluate MODEL DATA``: how well a saved model does on a labelled table.

The first line is the headline number and the loss; then a classification report
and confusion matrix, or regression metrics in the target's units (:mod:`.report`).
Rows whose target is missing are left out, with a notice; a label the model has
never seen is an error that counts such rows per label.
"""

from __future__ import annotations

import argparse

import numpy as np

from glassnet.cli.app import EXIT_OK, CliError
from glassnet.cli.predict import prepare, true_targets
from glassnet.cli.report import classification_report, regression_report
from glassnet.cli.targets import class_indices, decode, encode, format_label

__all__ = ["run_evaluate"]


def run_evaluate(args: argparse.Namespace) -> int:
    prepared = prepare(args, compile=True, target_required=True)
    model, info, table = prepared.model, prepared.info, prepared.table
    if not model.compiled:
        raise CliError(
            f"{args.model} was saved without a loss (uncompiled); evaluate needs one"
        )
    y, present = true_targets(prepared)
    target = str(prepared.target)
    if not present.any():
        raise CliError(f"{table.name}: every row's target {target!r} is missing")
    if not present.all():
        prepared.notices.append(
            f"left out {int((~present).sum())} rows without a target {target!r}"
        )
    x, y = prepared.x[present], y[present]
    rows = f"{len(y)} row{'s' if len(y) != 1 else ''} of {table.name}"
    outputs = model.predict(x, batch_size=args.batch_size, verbose=0)
    loss_name = str(getattr(model.loss, "name", "loss"))
    if info is None:
        if y.dtype != np.float64:
            raise CliError(
                f"{table.name}: the target {target!r} holds text, and the model has no "
                "label mapping (it was not saved by 'glassnet train')"
            )
        logs = model.evaluate(
            x, y, batch_size=args.batch_size, verbose=0, return_dict=True
        )
        prepared.say_notices()
        shown = "  ".join(f"{key} {float(np.mean(v)):.4g}" for key, v in logs.items())
        print(f"{shown} ({rows})")
        return EXIT_OK
    if info.classes is None:
        values = y.astype(np.float64)
        loss = model.evaluate(
            x,
            info.scale_target(values).reshape(-1, 1),
            batch_size=args.batch_size,
            verbose=0,
            return_dict=True,
        )["loss"]
        predicted = info.unscale(outputs[:, 0])
        prepared.say_notices()
        print(f"Regression of {target!r} on {rows}:")
        print(regression_report(values, predicted, target))
        print(f"loss {loss:.4g} ({loss_name} on the standardized target)")
        return EXIT_OK
    indices = class_indices(y, info.classes, table.name, target)
    units = outputs.shape[1]
    loss = model.evaluate(
        x,
        encode(indices, units, loss_name),
        batch_size=args.batch_size,
        verbose=0,
        return_dict=True,
    )["loss"]
    predicted, _ = decode(outputs, info.classes)
    prepared.say_notices()
    accuracy = float((predicted == indices).mean())
    print(f"accuracy {accuracy:.4f} on {rows} (loss {loss:.4g}, {loss_name})")
    print()
    labels = [format_label(label) for label in info.classes]
    print(classification_report(indices, predicted, labels))
    return EXIT_OK
