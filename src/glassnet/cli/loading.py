"""The reading flags every data command shares, and picking the target and inputs.

``train``, ``predict``, ``evaluate`` and ``explain`` take the same flags:
``--sep``, ``--decimal``, ``--no-header``, ``--encoding``, ``--na-values``,
``--format`` and ``--x-array`` (see :mod:`.tables`).
"""

from __future__ import annotations

import argparse
import sys

from glassnet.cli.app import CliError
from glassnet.cli.columns import listing, resolve_column, resolve_columns
from glassnet.cli.tables import ReadOptions, Table, read_table

__all__ = ["block_line", "choose_inputs", "load_table", "read_options", "say"]


def read_options(args: argparse.Namespace) -> ReadOptions:
    """The reading flags of ``args`` as :class:`~.tables.ReadOptions`."""
    return ReadOptions(
        sep=args.sep,
        decimal=args.decimal,
        header=not args.no_header,
        encoding=args.encoding,
        na_values=tuple(args.na_values or ()),
        format=args.format,
        skip_rows=args.skip_rows,
        x_array=args.x_array,
        progress=getattr(args, "verbose", 1) != 0,
    )


def load_table(args: argparse.Namespace) -> Table:
    """Read ``args.data`` with the reading flags."""
    return read_table(args.data, read_options(args))


def say(text: str, quiet: bool = False) -> None:
    """A notice on standard error (results keep standard output to themselves)."""
    if not quiet:
        print(f"glassnet: {text}", file=sys.stderr)


def choose_inputs(
    table: Table, args: argparse.Namespace
) -> tuple[str, list[str], list[str]]:
    """``(target, input columns, columns named by --features)`` for ``train``."""
    if args.target is None:
        if table.name.lower().endswith(".npz") and "y" in table.columns:
            target = "y"
        else:
            raise CliError(
                f"{table.name}: which column should be predicted? Pass --target COLUMN "
                f"(a name, or @N for the column at position N). Columns: "
                f"{listing(table.names)}."
            )
    else:
        target = resolve_column(args.target, table.names, "--target", table.name)
    excluded = resolve_columns(args.exclude or [], table.names, "--exclude", table.name)
    if target in excluded:
        raise CliError(f"--exclude names the target column {target!r}")
    if args.features is not None:
        named = resolve_columns(args.features, table.names, "--features", table.name)
        if target in named:
            raise CliError(f"column {target!r} cannot be both the target and an input")
        clash = [name for name in named if name in excluded]
        if clash:
            raise CliError(f"--features and --exclude both name {clash[0]!r}")
        return target, named, named
    if table.name.lower().endswith(".npz"):
        inputs = [name for name in table.names if name.startswith("x")]
        inputs = [
            name for name in inputs if name[1:].isdigit() and name not in excluded
        ]
    else:
        inputs = [name for name in table.names if name not in (target, *excluded)]
    if not inputs:
        raise CliError(
            f"{table.name}: there is no input column besides the target {target!r}"
        )
    return target, inputs, []


def block_line(label: str, text: str, width: int = 80) -> str:
    """``Task      ...``: a labelled line, wrapped to ``width`` columns under the label.

    >>> print(block_line("Inputs", "word " * 20, width=40))
    Inputs    word word word word word word
              word word word word word word
              word word word word word word
              word word
    """
    import textwrap

    return textwrap.fill(
        " ".join(text.split()),
        width=width,
        initial_indent=f"{label:<10}",
        subsequent_indent=" " * 10,
        break_on_hyphens=False,
        break_long_words=False,
    )
