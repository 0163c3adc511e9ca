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
    FORMATS,
    column_list,
    decimal_mark,
    fraction,
    layer_sizes,
    nonnegative_int,
    patience,
    positive_float,
    positive_int,
    separator,
    text_list,
)
from glassnet.cli.web_commands import (
    add_export_html_arguments,
    add_playground_arguments,
)

#: the tables ``glassnet datasets`` writes
DATASETS = ("iris", "wine", "breast_cancer", "diabetes")

__all__ = ["Parser", "build_parser"]


class Parser(argparse.ArgumentParser):
    """argparse, with errors on one line: ``glassnet: error: ... (see ...)``."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(2, f"glassnet: error: {text} (see '{self.prog} --help')\n")


def build_parser() -> Parser:
    """The ``glassnet`` parser with its ten subcommands."""
    parser = Parser(
        prog="glassnet",
        description="Train, run and inspect glassnet neural networks on tables.",
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

    _add_train(
        command("train", "Train a network on a table (CSV, JSON, Parquet, .npz).")
    )
    evaluate = command(
        "evaluate",
        "Print a saved model's metrics on a table (a classification report).",
    )
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
        "--overwrite", action="store_true", help="replace --output if it exists"
    )
    predict.add_argument(
        "--proba",
        action="store_true",
        help="add one probability column per class (classification models)",
    )
    predict.add_argument(
        "--keep",
        type=column_list,
        metavar="COLS",
        help="copy these input columns (an ID, a name) before the predictions",
    )
    summary = command(
        "summary", "Print a model's layers, preparation and training record."
    )
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
    convert.add_argument(
        "--overwrite", action="store_true", help="replace OUT if it exists"
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
    datasets = command(
        "datasets", "Write one of scikit-learn's bundled tables as a CSV file."
    )
    datasets.add_argument(
        "name", metavar="NAME", choices=DATASETS, help=", ".join(DATASETS)
    )
    datasets.add_argument("file", metavar="FILE", help="CSV file to write")
    datasets.add_argument(
        "--overwrite", action="store_true", help="replace FILE if it exists"
    )
    add_export_html_arguments(
        command(
            "export-html", "Write a saved model as one offline, interactive HTML page."
        )
    )
    add_playground_arguments(
        command(
            "playground",
            "Train networks live in the browser (needs glassnet[playground]).",
        )
    )
    return parser


_DEBUG_HELP = "show Python tracebacks instead of one-line errors"


def _add_reading(sub: Parser) -> None:
    read = sub.add_argument_group("reading the table")
    read.add_argument(
        "--sep",
        type=separator,
        metavar="CHAR",
        help="column separator (default: sniffed from ',', ';', tab, '|'; 'tab' for tab)",
    )
    read.add_argument(
        "--decimal",
        type=decimal_mark,
        metavar="MARK",
        help="decimal mark, '.' or ',' (default: sniffed)",
    )
    read.add_argument(
        "--no-header",
        action="store_true",
        help="the first row is data; columns are named 0, 1, 2, ...",
    )
    read.add_argument(
        "--skip-rows",
        type=nonnegative_int,
        default=0,
        metavar="N",
        help="lines to skip before the header (or the first row, with --no-header)",
    )
    read.add_argument(
        "--encoding", default="utf-8-sig", metavar="NAME", help="default utf-8"
    )
    read.add_argument(
        "--na-values",
        type=text_list,
        metavar="LIST",
        help="more markers of a missing cell, comma-separated (besides empty, NA, "
        "N/A, NaN, null, None, ?)",
    )
    read.add_argument(
        "--format",
        choices=FORMATS,
        help="the table's format (default: from the extension; '-' reads CSV)",
    )
    read.add_argument(
        "--x-array",
        default="x",
        metavar="NAME",
        help="for .npz data: the array of inputs (default 'x')",
    )


def _add_model_data(sub: Parser, *, target: bool) -> None:
    sub.add_argument("model", metavar="MODEL", help=".keras or .h5 model file")
    sub.add_argument("data", metavar="DATA", help=_DATA_HELP)
    sub.add_argument(
        "--target",
        metavar="COLUMN",
        help=(
            "target column, a name or @N (default: the one the model was trained on)"
            if target
            else "a column to leave out of the inputs of a model without column data"
        ),
    )
    sub.add_argument(
        "--batch-size",
        type=positive_int,
        default=256,
        metavar="N",
        help="rows per forward pass (default 256)",
    )
    _add_reading(sub)


_DATA_HELP = (
    "table: .csv/.tsv/.txt (separator sniffed), .json, .jsonl, .parquet or .npz, "
    "optionally .gz/.bz2/.zip/.xz; '-' for standard input"
)


def _add_train(sub: Parser) -> None:
    sub.add_argument("data", metavar="DATA", help=_DATA_HELP)
    columns = sub.add_argument_group("columns (a name, or @N for position N from 0)")
    columns.add_argument(
        "--target",
        metavar="COLUMN",
        help="column to predict (required; for .npz the label array, default 'y')",
    )
    columns.add_argument(
        "--features",
        type=column_list,
        metavar="COLS",
        help="input columns, comma-separated (default: every other column)",
    )
    columns.add_argument(
        "--exclude",
        type=column_list,
        metavar="COLS",
        help="columns to leave out of the inputs",
    )
    _add_reading(sub)
    prep = sub.add_argument_group("preparing (saved with the model)")
    prep.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="default auto: classification for text labels or a few whole numbers",
    )
    prep.add_argument(
        "--no-standardize",
        dest="standardize",
        action="store_false",
        help="use numeric inputs as they are (default: mean 0, std 1)",
    )
    prep.add_argument(
        "--standardize",
        dest="standardize",
        action="store_true",
        help=argparse.SUPPRESS,  # the default now; kept so old commands still run
    )
    prep.add_argument(
        "--missing",
        choices=("impute", "error"),
        default="impute",
        help="impute (default): fill with the median or most frequent value and add an "
        "indicator column; error: refuse, counting per column",
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
        help="hidden layer sizes, comma-separated (default 32; '' for none)",
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
        "--epochs",
        type=positive_int,
        metavar="N",
        help="at most N epochs (default: about 20,000 steps' worth, at least 20)",
    )
    fit.add_argument(
        "--batch-size", type=positive_int, default=32, metavar="N", help="default 32"
    )
    fit.add_argument(
        "--validation-split",
        type=fraction,
        metavar="F",
        help="share of rows held out, shuffled with --seed (default 0.2 when that is "
        "10 rows or more, else 0)",
    )
    fit.add_argument(
        "--patience",
        type=patience,
        metavar="N|off",
        help="stop when val_loss (loss without validation) has not improved for N "
        "epochs, keeping the best weights (default: 10 epochs or 250 steps, the "
        "longer); off: train all --epochs",
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
    out.add_argument(
        "--overwrite", action="store_true", help="replace --output if it exists"
    )
    verbosity = out.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="1: the first epoch, then a line a second (default); 2: every epoch",
    )
    verbosity.add_argument(
        "--quiet",
        "-q",
        dest="verbose",
        action="store_const",
        const=0,
        help="print nothing but warnings and errors",
    )
