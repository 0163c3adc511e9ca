"""The command line's grammar: every subcommand, flag, default and value check.

Only :mod:`argparse` is imported here, so ``glassnet --help`` is instant. Bad flag
values are refused by argparse with exit code 2 and one line,
``glassnet: error: argument --epochs: must be a positive integer, got '0'``; names
(activations, losses, optimizers) are checked by glassnet's registries when the
subcommand runs, with the same one-line form and a did-you-mean.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from glassnet import __version__
from glassnet.cli.values import (
    column_list,
    fraction,
    layer_sizes,
    nonnegative_int,
    positive_float,
    positive_int,
)

__all__ = ["Parser", "build_parser"]


class Parser(argparse.ArgumentParser):
    """argparse, with errors on one line: ``glassnet: error: ... (see ...)``."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(2, f"glassnet: error: {text} (see '{self.prog} --help')\n")


def build_parser() -> Parser:
    """The ``glassnet`` parser with its seven subcommands."""
    parser = Parser(
        prog="glassnet",
        description="Train, run and inspect glassnet neural networks on CSV and .npz data.",
        epilog="Run 'glassnet COMMAND --help' for a command's flags; docs/cli.md has examples.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--version", action="version", version=f"glassnet {__version__}"
    )
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = Parser(add_help=False, allow_abbrev=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
    )

    def command(name: str, summary: str) -> Parser:
        sub: Parser = commands.add_parser(
            name,
            help=summary,
            description=summary,
            parents=[common],
            allow_abbrev=False,
        )
        return sub

    _add_train(command("train", "Train a network on a CSV or .npz file and save it."))
    evaluate = command("evaluate", "Print a saved model's loss and metrics on data.")
    _add_model_data(evaluate, target=True)
    predict = command("predict", "Write a saved model's predictions as CSV.")
    _add_model_data(predict, target=False)
    predict.add_argument(
        "--output",
        "-o",
        default="-",
        metavar="FILE",
        help="CSV file to write (default '-': standard output)",
    )
    predict.add_argument(
        "--proba",
        action="store_true",
        help="add one probability column per class (classification models)",
    )
    summary = command("summary", "Print a model's layers and parameter counts.")
    summary.add_argument("model", metavar="MODEL", help=".keras, .h5 or .json file")
    summary.add_argument(
        "--explain",
        action="store_true",
        help="show how each layer's parameters, FLOPs and memory are formed",
    )
    inspect = command("inspect", "List the tensors of a weights or model file.")
    inspect.add_argument(
        "weights",
        metavar="WEIGHTS",
        help=".weights.h5, .h5, .safetensors or .keras file",
    )
    convert = command("convert", "Convert a model or weights file to another format.")
    convert.add_argument("source", metavar="IN", help="file to read")
    convert.add_argument(
        "target",
        metavar="OUT",
        help="file to write: .keras, .h5, .weights.h5, .safetensors, .json or .onnx",
    )
    convert.add_argument(
        "--model",
        metavar="ARCH",
        help="architecture (.json, .keras or .h5) for a weights-only IN",
    )
    convert.add_argument(
        "--weights-only",
        action="store_true",
        help="write only the weights (for OUT ending in .h5: the Keras 2 weights layout)",
    )
    explain = command("explain", "Show the chain rule of backpropagation for one row.")
    _add_model_data(explain, target=True)
    explain.add_argument(
        "--row",
        type=nonnegative_int,
        required=True,
        metavar="N",
        help="data row to explain, counting from 0 (the first row after the header)",
    )
    explain.add_argument(
        "--loss", metavar="NAME", help="loss to differentiate (default: the model's)"
    )
    return parser


_DEBUG_HELP = "show Python tracebacks instead of one-line errors"


def _add_model_data(sub: Parser, *, target: bool) -> None:
    sub.add_argument("model", metavar="MODEL", help=".keras or .h5 model file")
    sub.add_argument("data", metavar="DATA", help="CSV file with a header row, or .npz")
    sub.add_argument(
        "--target",
        metavar="COLUMN",
        help=(
            "target column (default: the one the model was trained on; "
            "for .npz the label array, default 'y')"
            if target
            else "a column to leave out of the inputs (default: the model's target)"
        ),
    )
    sub.add_argument(
        "--x-array",
        default="x",
        metavar="NAME",
        help="for .npz data: the array of inputs (default 'x')",
    )
    sub.add_argument(
        "--batch-size",
        type=positive_int,
        default=256,
        metavar="N",
        help="rows per forward pass (default 256)",
    )


def _add_train(sub: Parser) -> None:
    sub.add_argument("data", metavar="DATA", help="CSV file with a header row, or .npz")
    data = sub.add_argument_group("data")
    data.add_argument(
        "--target",
        metavar="COLUMN",
        help="column to predict (required for CSV; for .npz the label array, default 'y')",
    )
    data.add_argument(
        "--features",
        type=column_list,
        metavar="COLS",
        help="input columns, comma-separated (default: every other column)",
    )
    data.add_argument(
        "--x-array",
        default="x",
        metavar="NAME",
        help="for .npz data: the array of inputs (default 'x')",
    )
    data.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="default auto: classification for text labels or a few whole numbers",
    )
    data.add_argument(
        "--standardize",
        action="store_true",
        help="scale each input to mean 0, std 1 (the scaling is saved with the model)",
    )
    net = sub.add_argument_group("network (or --model)")
    net.add_argument(
        "--model",
        metavar="ARCH.json",
        help="architecture written by model.to_json(), instead of the flags below",
    )
    net.add_argument(
        "--layers",
        type=layer_sizes,
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (default 16)",
    )
    net.add_argument(
        "--activation", metavar="NAME", help="hidden activation (default relu)"
    )
    net.add_argument(
        "--output-activation",
        metavar="NAME",
        help="default: sigmoid (2 classes), softmax (more), linear (regression)",
    )
    net.add_argument(
        "--dropout",
        type=fraction,
        metavar="RATE",
        help="Dropout after each hidden layer",
    )
    net.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        help="precision of weights and training (default float32)",
    )
    fit = sub.add_argument_group("training")
    fit.add_argument(
        "--loss",
        metavar="NAME",
        help="default: binary_crossentropy (2 classes), sparse_categorical_crossentropy "
        "(more), mse (regression)",
    )
    fit.add_argument("--optimizer", default="adam", metavar="NAME", help="default adam")
    fit.add_argument(
        "--lr",
        "--learning-rate",
        dest="lr",
        type=positive_float,
        metavar="RATE",
        help="learning rate (default: the optimizer's, 0.001 for adam)",
    )
    fit.add_argument(
        "--epochs", type=positive_int, default=10, metavar="N", help="default 10"
    )
    fit.add_argument(
        "--batch-size", type=positive_int, default=32, metavar="N", help="default 32"
    )
    fit.add_argument(
        "--validation-split",
        type=fraction,
        default=0.0,
        metavar="F",
        help="share of rows held out (shuffled with --seed first) to report val_loss",
    )
    fit.add_argument(
        "--patience",
        type=nonnegative_int,
        metavar="N",
        help="stop when val_loss (or loss without a validation split) has not improved "
        "for N epochs, keeping the best weights",
    )
    fit.add_argument("--seed", type=nonnegative_int, metavar="N", help="random seed")
    out = sub.add_argument_group("output")
    out.add_argument(
        "--output",
        "-o",
        default="model.keras",
        metavar="FILE",
        help="where to save the trained model: .keras (default model.keras) or .h5",
    )
    verbosity = out.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="1: a progress bar per epoch (default); 2: one plain line per epoch",
    )
    verbosity.add_argument(
        "--quiet",
        "-q",
        dest="verbose",
        action="store_const",
        const=0,
        help="print nothing but errors",
    )
