"""Reading a table for the command line, with pandas: CSV/TSV, JSON, Parquet, ``.npz``.

pandas (``pip install 'glassnet[cli]'``) parses the file; this module finds the
dialect (:mod:`.dialect`), reads large files in chunks with a progress line on
standard error, and hands back a :class:`Table`: one NumPy array per column,
``float64`` (NaN for a missing cell) when pandas read numbers, else an object
array of strings (None for a missing cell, text stripped of surrounding spaces).

Missing cells are the empty ones and pandas' missing markers (``NA``, ``N/A``,
``NaN``, ``null``, ``None``, ``#N/A``...) plus ``?``; ``--na-values`` adds more.

Why pandas and not pyarrow's CSV reader: on the 1,000,000 x 20 table of
benchmarks/bench_cli_load.py pandas' C parser read the file into a float32 matrix
in 1.03 s at a 594 MB peak, pyarrow in 1.33 s at 605 MB (2 cores); pandas is half
pyarrow's installed size (85 MB against 170 MB) and reads decimal commas, other
encodings, compressed files and JSON records itself. Parquet files need pyarrow,
which pandas uses when it is installed.

``.npz`` files (``np.savez(path, x=x, y=y)``) are read by :mod:`.npz`.
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import CliError
from glassnet.cli.dialect import (
    Source,
    check_text,
    describe_size,
    open_source,
    sample_lines,
    separator_name,
    sniff_decimal,
    sniff_separator,
)
from glassnet.cli.lines import LineFinder, parser_problem, too_many_values

__all__ = [
    "EXTRA_NA",
    "ReadOptions",
    "Table",
    "import_pandas",
    "read_table",
    "strip_cells",
]

#: missing-value markers glassnet adds to pandas' own
EXTRA_NA = ("?",)
_CHUNK_BYTES = 16 << 20
_PROGRESS_FROM = 8 << 20  # files smaller than this load too fast to need progress


@dataclass
class ReadOptions:
    """The reading flags: ``--sep``, ``--decimal``, ``--no-header`` and the rest."""

    sep: str | None = None
    decimal: str | None = None
    header: bool = True
    encoding: str = "utf-8-sig"
    na_values: Sequence[str] = ()
    format: str | None = None
    skip_rows: int = 0
    x_array: str = "x"
    progress: bool = True


@dataclass
class Table:
    """A table's columns by name, in file order."""

    name: str
    columns: dict[str, Array]
    n_rows: int
    notices: list[str] = field(default_factory=list)
    #: finds the file's line of a row (CSV and JSON lines; None for other formats)
    finder: LineFinder | None = None
    #: after :meth:`take`, the row in the file of each row here
    file_rows: Array | None = None

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def where(self, row: int) -> str:
        """``data.csv, row 7 (line 9)`` (rows count from 0, as ``--row`` does)."""
        line = self.lines([row]).get(row)
        return f"{self.name}, row {row}" + ("" if line is None else f" (line {line})")

    def lines(self, rows: Sequence[int]) -> dict[int, int]:
        """The file's line (from 1) where each of ``rows`` starts, when it has lines."""
        if self.finder is None or not len(rows):
            return {}
        in_file = {
            row: int(row if self.file_rows is None else self.file_rows[row])
            for row in rows
        }
        found = self.finder.lines(in_file.values())
        return {row: found[at] for row, at in in_file.items() if at in found}

    def take(self, rows: Array) -> Table:
        """The rows selected by the boolean mask or indices ``rows``."""
        columns = {name: values[rows] for name, values in self.columns.items()}
        n_rows = len(next(iter(columns.values()))) if columns else 0
        here = np.arange(self.n_rows) if self.file_rows is None else self.file_rows
        return Table(
            self.name, columns, n_rows, list(self.notices), self.finder, here[rows]
        )


def import_pandas() -> Any:
    """pandas, or an error saying how to install it."""
    try:
        import pandas
    except ImportError:
        raise CliError(
            "reading tables needs pandas: pip install 'glassnet[cli]' (or pip "
            "install pandas)"
        ) from None
    return pandas


def read_table(path: str, options: ReadOptions) -> Table:
    """Read ``path`` (``-``: standard input) as described in the module docstring."""
    source = open_source(path, options.format)
    if source.format == "npz":
        from glassnet.cli.npz import read_npz

        return read_npz(source, options)
    progress = _Progress(source, options.progress)
    pd = import_pandas()
    if source.format == "parquet":
        table = _read_parquet(source, pd)
    elif source.format in ("json", "jsonl"):
        table = _read_json(source, pd, options)
    else:
        table = _read_csv(source, pd, options, progress)
    if table.n_rows == 0:
        raise CliError(f"{source.name}: the header is not followed by any data rows")
    progress.finish(table)
    return table


# -- CSV ---------------------------------------------------------------------------
def _read_csv(
    source: Source, pd: Any, options: ReadOptions, progress: _Progress
) -> Table:
    text = check_text(source, options.encoding)
    if options.skip_rows:
        text = "\n".join(text.splitlines()[options.skip_rows :])
    lines = sample_lines(text)
    if not lines:
        raise CliError(f"{source.name}: no rows after the {options.skip_rows} skipped")
    if source.format == "tsv" and options.sep is None:
        sep = "\t"
    else:
        sep = options.sep or sniff_separator(text)
    decimal = options.decimal or sniff_decimal(text, sep)
    if decimal == sep:
        raise CliError(f"--decimal {decimal!r} is also the separator")
    notices = []
    if options.sep is None and source.format == "csv" and sep != ",":
        notices.append(f"separator {separator_name(sep)} (sniffed; --sep sets it)")
    if options.decimal is None and decimal == ",":
        notices.append("decimal commas (sniffed; --decimal sets the mark)")
    first = next(iter(_csv_rows(lines[:1], sep)), [])
    if options.header:
        names = _header(source, first)
    else:
        names = [str(i) for i in range(len(first))]
    reader_args = {
        "sep": sep,
        "decimal": decimal,
        "header": 0 if options.header else None,
        "names": names,
        "index_col": False,  # never turn a surplus first column into an index
        "encoding": options.encoding,
        "na_values": [*EXTRA_NA, *options.na_values],
        "keep_default_na": True,
        "skipinitialspace": True,
        "skip_blank_lines": True,
        "engine": "c",
        "chunksize": _chunk_rows(lines, sep),
        "skiprows": options.skip_rows or None,
        "dtype": None,
    }
    finder = LineFinder(
        source, sep, options.encoding, options.skip_rows, options.header
    )
    parts: dict[str, list[Array]] = {name: [] for name in names}
    with (
        source.raw() as raw,
        source.decompressed(raw) as stream,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            for chunk in pd.read_csv(stream, **reader_args):
                read = _chunk_columns(chunk, decimal)
                for name, values in zip(names, read, strict=True):
                    parts[name].append(values)
                progress.update(raw)
        except pd.errors.ParserWarning:
            raise CliError(
                too_many_values(finder, len(names), options.header)
            ) from None
        except UnicodeDecodeError as error:
            raise CliError(
                f"{source.name}: not {options.encoding} text ({error.reason}); pass "
                "the file's encoding, such as --encoding latin-1"
            ) from None
        except (ValueError, OSError, EOFError) as error:
            raise CliError(
                parser_problem(finder, error, len(names), options.header)
            ) from None
    columns = {name: _merge(values) for name, values in parts.items()}
    n_rows = len(next(iter(columns.values()))) if columns else 0
    return Table(source.name, columns, n_rows, notices, finder)


def _csv_rows(lines: list[str], sep: str) -> list[list[str]]:
    import csv

    return list(csv.reader(lines, delimiter=sep, skipinitialspace=True))


def _header(source: Source, first: list[str]) -> list[str]:
    names = [name.strip() for name in first]
    if not names:
        raise CliError(f"{source.name}: the file is empty; expected a header row")
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            names[index] = name = f"Unnamed: {index}"  # pandas' name for it
        if name in seen:
            raise CliError(
                f"{source.name}: the column name {name!r} appears twice in the header "
                f"(columns @{seen[name]} and @{index}); rename one"
            )
        seen[name] = index
    return names


def _chunk_rows(lines: list[str], sep: str) -> int:
    width = max(float(np.mean([len(line) + 1 for line in lines[1:]] or [64])), 8.0)
    return max(1000, int(_CHUNK_BYTES / width))


# -- columns -----------------------------------------------------------------------
def _chunk_columns(frame: Any, decimal: str = ".") -> list[Array]:
    return [_column(frame.iloc[:, i], decimal) for i in range(frame.shape[1])]


def _column(series: Any, decimal: str = ".") -> Array:
    """float64 for numbers and booleans, else strings and None."""
    from pandas.api import types

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        values = series.to_numpy()  # NaN already marks a missing float
        return values if values.dtype == np.float64 else values.astype(np.float64)
    if types.is_bool_dtype(dtype) or (
        types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype)
    ):  # pandas' nullable types (Int64, Float64, boolean)
        return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
    if types.is_datetime64_any_dtype(dtype):
        series = series.dt.strftime("%Y-%m-%d %H:%M:%S")
    values = strip_cells(series.to_numpy(dtype=object, na_value=None))
    if decimal == ",":
        _point_decimals(values)
    return values


_COMMA_DECIMAL = re.compile(r"[-+]?(\d+,\d*|,\d+)([eE][-+]?\d+)?")


def _point_decimals(values: Array) -> None:
    """``3,5`` -> ``3.5`` in a column pandas left as text (for a cell that is not a
    number), so that its numbers still read as numbers and the odd cell stands out.

    >>> cells = np.array(["1,5", "-2,25e3", "n.v.", None, "a,b"], dtype=object)
    >>> _point_decimals(cells)
    >>> cells.tolist()
    ['1.5', '-2.25e3', 'n.v.', None, 'a,b']
    """
    for i, value in enumerate(values):
        if isinstance(value, str) and _COMMA_DECIMAL.fullmatch(value):
            values[i] = value.replace(",", ".")


def strip_cells(values: Array) -> Array:
    """Text cells stripped of spaces, empty ones and NaN as None."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and value != value):
            out[i] = None
        elif isinstance(value, str):
            text = value.strip()
            out[i] = text if text else None
        elif isinstance(value, (dict, list)):
            raise CliError("a cell holds a nested list or object; expected flat rows")
        else:
            out[i] = value
    return out


def _merge(parts: list[Array]) -> Array:
    """One column from its chunks; text wins over numbers (cells keep their value)."""
    if not parts:
        return np.empty(0)
    if all(part.dtype == np.float64 for part in parts):
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
    cells = []
    for part in parts:
        if part.dtype == np.float64:
            part = part.astype(object)
            part[np.isnan(part.astype(np.float64))] = None
        cells.append(part)
    return np.concatenate(cells)


# -- JSON, Parquet --------------------------------------------------------------------
def _read_json(source: Source, pd: Any, options: ReadOptions) -> Table:
    check_text(source, options.encoding)
    lines = source.format == "jsonl"
    with source.raw() as raw, source.decompressed(raw) as stream:
        try:
            frame = pd.read_json(
                stream,
                orient="records",
                lines=lines,
                encoding=options.encoding,
                convert_dates=False,
                dtype=True,
            )
        except (ValueError, TypeError, OSError, EOFError) as error:
            message = " ".join(str(error).split())[:200]
            shape = "one JSON object per line" if lines else "a JSON array of records"
            raise CliError(
                f"{source.name}: unreadable as {shape} ({message})"
            ) from None
    finder = (
        LineFinder(source, ",", options.encoding, json_lines=True) if lines else None
    )
    return _frame_table(source, frame, [], finder)


def _read_parquet(source: Source, pd: Any) -> Table:
    import io

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise CliError(
            f"{source.name}: reading .parquet needs pyarrow: pip install pyarrow"
        ) from None
    target: Any = io.BytesIO(source.data) if source.data is not None else source.path
    try:
        frame = pd.read_parquet(target)
    except (ValueError, OSError, TypeError) as error:
        message = " ".join(str(error).split())[:200]
        raise CliError(f"{source.name}: unreadable as Parquet ({message})") from None
    return _frame_table(source, frame, [])


def _frame_table(
    source: Source, frame: Any, notices: list[str], finder: LineFinder | None = None
) -> Table:
    names = [str(name).strip() for name in frame.columns]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise CliError(f"{source.name}: the column name {name!r} appears twice")
        seen.add(name)
    try:
        columns = dict(zip(names, _chunk_columns(frame), strict=True))
    except CliError as error:
        raise CliError(f"{source.name}: {error}") from None
    return Table(source.name, columns, len(frame), notices, finder)


# -- progress ----------------------------------------------------------------------
class _Progress:
    """``Reading big.csv (163 MB)...`` at once; on a terminal, the share read so far."""

    def __init__(self, source: Source, enabled: bool, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.source = source
        self.started = time.perf_counter()
        self.shown = False
        self.last = 0.0
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        big = source.size is None or source.size >= _PROGRESS_FROM
        if enabled and big:
            size = "" if source.size is None else f" ({describe_size(source.size)})"
            self._print(
                f"Reading {source.name}{size}...", end="" if self.terminal else "\n"
            )
            self.shown = True

    def _print(self, text: str, end: str = "\n") -> None:
        print(text, end=end, file=self.stream, flush=True)

    def update(self, raw: Any) -> None:
        if not (self.shown and self.terminal and self.source.size):
            return
        now = time.perf_counter()
        if now - self.last < 0.2:
            return
        self.last = now
        share = min(raw.tell() / self.source.size, 1.0)
        self._print(f"\rReading {self.source.name}: {share:4.0%}", end="")

    def finish(self, table: Table) -> None:
        if not self.shown:
            return
        seconds = time.perf_counter() - self.started
        text = (
            f"Read {table.name}: {table.n_rows:,} rows x {len(table.columns)} columns "
            f"in {seconds:.1f} s"
        )
        self._print(
            ("\r" if self.terminal else "") + text.ljust(len(self.source.name) + 16)
        )
