"""Choosing columns by name or by position, so that the two can never be confused.

``--target species`` names a column; ``--target @4`` is the column at position 4,
counting from 0 (``@-1`` is the last one). A column whose name starts with ``@``
is written with the ``@`` doubled: ``--target @@id`` picks the column named
``@id``. A name that matches no column is an error with the columns listed by
position and, when one is close, a did-you-mean.

>>> resolve_column("@1", ["a", "4", "b"], "--target", "t.csv")
'4'
>>> resolve_column("4", ["a", "4", "b"], "--target", "t.csv")
'4'
>>> resolve_column("@-1", ["a", "4", "b"], "--target", "t.csv")
'b'
>>> resolve_column("@@x", ["@x"], "--target", "t.csv")
'@x'
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from glassnet.cli.app import CliError

__all__ = ["listing", "resolve_column", "resolve_columns"]


def listing(names: Sequence[str], limit: int = 30) -> str:
    """``@0 a, @1 b, ...``: the columns with the positions ``@N`` picks.

    >>> listing(["height", "kind"])
    '@0 height, @1 kind'
    """
    shown = ", ".join(f"@{i} {name}" for i, name in enumerate(names[:limit]))
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def resolve_column(spec: str, names: Sequence[str], flag: str, where: str) -> str:
    """The column name ``spec`` picks among ``names`` (see the module docstring)."""
    if spec.startswith("@@"):
        spec = spec[1:]
    elif spec.startswith("@"):
        text = spec[1:]
        try:
            index = int(text)
        except ValueError:
            raise CliError(
                f"{flag} {spec!r}: '@' picks a column by its position, such as @0 or "
                f"@-1; write @{spec} for a column named {spec!r}"
            ) from None
        if not -len(names) <= index < len(names):
            raise CliError(
                f"{flag} {spec}: {where} has {len(names)} columns, @0 to "
                f"@{len(names) - 1} (or @-1 for the last)"
            )
        return names[index]
    if spec in names:
        return spec
    lowered = {name.lower(): name for name in names}
    close = difflib.get_close_matches(spec.lower(), list(lowered), n=1, cutoff=0.5)
    hint = f" Did you mean {lowered[close[0]]!r}?" if close else ""
    if spec.lstrip("-").isdigit():
        hint += f" (@{spec} picks the column at position {spec})"
    if len(names) == 1 and any(sep in names[0] for sep in ";\t|,"):
        hint += " (the header is one column: pass the separator with --sep)"
    return _raise(
        f"{where}: no column {spec!r} ({flag}). Columns: {listing(names)}.{hint}"
    )


def _raise(message: str) -> str:
    raise CliError(message)


def resolve_columns(
    specs: Sequence[str], names: Sequence[str], flag: str, where: str
) -> list[str]:
    """Each spec's column, refusing a column picked twice.

    >>> resolve_columns(["a", "@2"], ["a", "b", "c"], "--features", "t.csv")
    ['a', 'c']
    """
    chosen: list[str] = []
    for spec in specs:
        name = resolve_column(spec, names, flag, where)
        if name in chosen:
            raise CliError(f"{flag} names the column {name!r} twice")
        chosen.append(name)
    return chosen
