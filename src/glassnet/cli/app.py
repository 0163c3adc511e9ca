"""Entry point: parse the arguments, run one subcommand, turn failures into exit codes.

Exit codes: 0 success; 2 a usage, data or model-file error (one line on stderr,
``glassnet: error: ...``); 130 interrupted by Ctrl-C; 141 standard output closed
early (``| head``); 1 an unexpected exception, which is a bug in glassnet
(``--debug`` shows its traceback, and re-raises every other error too).
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from glassnet.cli.parser import build_parser

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_BUG",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "CliError",
    "main",
]

EXIT_OK = 0
EXIT_BUG = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `... | head`

#: subcommand -> module holding its ``run(args) -> int``
_COMMANDS = {
    "train": "glassnet.cli.train",
    "evaluate": "glassnet.cli.evaluate",
    "predict": "glassnet.cli.predict",
    "summary": "glassnet.cli.summary",
    "explain": "glassnet.cli.summary",
    "inspect": "glassnet.cli.tensors",
    "convert": "glassnet.cli.convert",
    "datasets": "glassnet.cli.datasets",
    "export-html": "glassnet.cli.web_commands",
    "playground": "glassnet.cli.web_commands",
}


class CliError(Exception):
    """A problem with the user's data or flags, reported as one line and exit code 2."""


def one_line(error: BaseException) -> str:
    """The error's message on one line (multi-line messages are joined)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``glassnet`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    _line_buffered(sys.stdout)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a bad flag (code 2)
        return done.code if isinstance(done.code, int) else EXIT_ERROR
    debug = bool(getattr(args, "debug", False))
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            module = importlib.import_module(_COMMANDS[args.command])
            code: int = getattr(module, f"run_{args.command.replace('-', '_')}")(args)
            return code
        except KeyboardInterrupt:
            if debug:
                raise
            print("\nglassnet: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # `glassnet predict ... | head`: the reader left; say nothing more.
            _silence_stdout()
            return EXIT_BROKEN_PIPE
        except Exception as error:
            if debug:
                raise
            return _report(error)


def _report(error: Exception) -> int:
    from glassnet.errors import GlassnetError

    if isinstance(error, (CliError, GlassnetError, OSError)):
        print(f"glassnet: error: {one_line(error)}", file=sys.stderr)
        return EXIT_ERROR
    print(
        f"glassnet: internal error: {type(error).__name__}: {one_line(error)} "
        "(a bug in glassnet: run again with --debug for the traceback, and report it)",
        file=sys.stderr,
    )
    return EXIT_BUG


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"glassnet: warning: {one_line(Exception(message))}", file=sys.stderr)


def _line_buffered(stream: Any) -> None:
    """Show progress lines at once even when stdout is a pipe (``| tee log``)."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(line_buffering=True)


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
