"""``glassnet export-html MODEL OUT`` and ``glassnet playground``: glassnet in a browser.

``export-html`` writes a saved model as one offline HTML page
(:func:`glassnet.web.export_html`); the feature and class names come from the
column data ``glassnet train`` saved with the model, unless given as flags.
``playground`` starts the local training playground (:mod:`glassnet.web.playground`),
which needs ``pip install "glassnet[playground]"``; without it, the command says
so and exits 2.

Each ``add_*_arguments(parser)`` adds a command's flags to its subparser; each
``run_*(args)`` runs it and returns the exit code.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="glassnet playground")
>>> add_playground_arguments(parser)
>>> args = parser.parse_args(["--port", "0", "--no-browser"])
>>> args.port, args.host, args.browser, args.seed
(0, '127.0.0.1', False, None)
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = [
    "add_export_html_arguments",
    "add_playground_arguments",
    "run_export_html",
    "run_playground",
]

PLAYGROUND_PACKAGES = ("starlette", "uvicorn", "websockets")


def add_export_html_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``glassnet export-html``."""
    parser.add_argument("model", metavar="MODEL", help=".keras or .h5 model file")
    parser.add_argument("output", metavar="OUT", help="the .html file to write")
    parser.add_argument(
        "--feature-names", metavar="A,B,...", help="one name per input, comma-separated"
    )
    parser.add_argument(
        "--class-names", metavar="A,B,...", help="one name per class, comma-separated"
    )
    parser.add_argument(
        "--task",
        choices=("binary", "multiclass", "regression"),
        help="how to read the output (default: from the model's last activation)",
    )
    parser.add_argument("--title", help="the page's title (default: the model's name)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace OUT if it exists"
    )


def add_playground_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``glassnet playground``."""
    parser.add_argument(
        "--port",
        type=_port,
        default=8765,
        help="TCP port (default 8765; 0 picks a free one)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; another one warns)",
    )
    parser.add_argument(
        "--no-browser",
        dest="browser",
        action="store_false",
        help="print the page's address instead of opening a browser",
    )
    parser.add_argument(
        "--seed", type=_seed, default=None, help="random seed of the first setup"
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a port number, got {text!r}"
        ) from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer seed, got {text!r}"
        ) from None
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(f"a seed is 0 to 2**31 - 1, got {value}")
    return value


def _split(names: str | None) -> list[str] | None:
    return None if names is None else [name.strip() for name in names.split(",")]


def run_export_html(args: Any) -> int:
    """Write ``args.model`` as the HTML page ``args.output``."""
    from glassnet.cli.app import EXIT_OK, CliError
    from glassnet.cli.modelfile import read_info
    from glassnet.models import load_model
    from glassnet.web import export_html

    if os.path.exists(args.output) and not args.overwrite:
        raise CliError(f"{args.output} already exists; pass --overwrite to replace it.")
    model = load_model(args.model, compile=True)
    info = read_info(args.model)
    features = _split(args.feature_names)
    classes = _split(args.class_names)
    if info is not None:
        if features is None:
            features = list(info.plan.input_names)
        if classes is None and info.classes is not None:
            classes = [str(label) for label in info.classes]
    task = args.task
    if task is None and info is not None and info.classes is not None:
        task = (
            "binary" if len(info.classes) == 2 and _units(model) == 1 else "multiclass"
        )
    export_html(
        model,
        args.output,
        feature_names=features,
        class_names=classes,
        task=task,
        title=args.title,
        overwrite=True,
    )
    print(f"wrote {args.output}: open it in a browser (it needs no network)")
    return EXIT_OK


def _units(model: Any) -> int:
    shape = model.compute_output_shape(model.built_input_shape())
    return int(shape[-1])


def missing_playground_packages() -> list[str]:
    """The packages of the ``playground`` extra that cannot be imported."""
    import importlib.util

    return [
        name for name in PLAYGROUND_PACKAGES if importlib.util.find_spec(name) is None
    ]


def run_playground(args: Any) -> int:
    """Serve the playground until Ctrl-C; exit 2 when its packages are missing."""
    from glassnet.cli.app import EXIT_ERROR, EXIT_OK

    missing = missing_playground_packages()
    if missing:
        print(
            f"glassnet: error: the playground needs {', '.join(missing)}: "
            'pip install "glassnet[playground]"',
            file=sys.stderr,
        )
        return EXIT_ERROR
    from glassnet.web.playground.server import serve

    serve(host=args.host, port=args.port, open_browser=args.browser, seed=args.seed)
    return EXIT_OK
