"""``glassnet summary MODEL`` and ``glassnet explain MODEL DATA --row N``."""

from __future__ import annotations

import argparse
import os

from glassnet.cli.app import EXIT_OK, CliError
from glassnet.cli.modelfile import load, read_info
from glassnet.cli.predict import prepare, targets_for

__all__ = ["run_explain", "run_summary"]


def run_summary(args: argparse.Namespace) -> int:
    """The layer table (``--explain``: how each number is formed) and the column data."""
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
        print(f"Trained by 'glassnet train': {info.describe()}.")
        print(f"Inputs: {', '.join(info.features)}")
    return EXIT_OK


def run_explain(args: argparse.Namespace) -> int:
    """Print :func:`glassnet.explain.backprop`'s chain-rule table for one data row."""
    from glassnet.explain import backprop

    prepared = prepare(args, compile=True, target_required=True)
    model, data = prepared.model, prepared.data
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
            f"--row {args.row} is past the end: {data.path} has {rows} data rows "
            f"(0 to {rows - 1})"
        )
    y = targets_for(prepared, loss_name)
    table = backprop(model, prepared.x[args.row], y[args.row], loss=args.loss)
    assert data.y is not None
    label = data.y[args.row]
    shown = str(label) if data.y.dtype.kind == "U" else f"{float(label):g}"
    scaled = ""
    if prepared.info is not None and prepared.info.mean is not None:
        scaled = " (inputs standardized as at training)"
    print(f"Row {args.row} ({data.where(args.row)}): {data.target} = {shown}{scaled}")
    print()
    print(table)
    return EXIT_OK
