"""Where a table's rows are in its file: the line numbers that errors name.

pandas reads a file fast but says little about where a problem is: a cell that is
not a number just makes its column text, and its tokenizer counts lines its own
way (a newline inside a quoted cell is not counted). So, on an error path only,
the file is read again with Python's :mod:`csv` module, which counts the lines an
editor shows (from 1): the ``--skip-rows`` lines, the header, the blank lines that
pandas skips and the newlines inside quoted cells all count.

A table row ``r`` (counting from 0, as ``--row`` does) is the ``r``-th row pandas
made: the ``r``-th record after the header that is not blank.

>>> import io
>>> text = 'a,b\\n1,2\\n\\n"two\\nlines",3\\n4,5,6\\n'
>>> list(data_rows(io.StringIO(text, newline=""), ",", skip_rows=0, header=True))
[(2, 2), (4, 2), (6, 3)]
>>> say_lines([5, 9, 12, 40], total=6)
'lines 5, 9, 12, 40 and 2 more'
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from glassnet.cli.dialect import Source

__all__ = [
    "LineFinder",
    "data_rows",
    "parser_problem",
    "say_lines",
    "too_many_values",
]


def data_rows(
    stream: IO[str], sep: str, *, skip_rows: int, header: bool
) -> Iterator[tuple[int, int]]:
    """``(first line, number of values)`` of each data row of CSV text, in order."""
    for _ in itertools.islice(stream, skip_rows):
        pass
    reader = csv.reader(stream, delimiter=sep, skipinitialspace=True)
    done = skip_rows  # lines read so far
    header_seen = not header
    for values in reader:
        line = done + 1
        done = skip_rows + reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # a blank line: pandas skips it
        if not header_seen:
            header_seen = True
            continue
        yield line, len(values)


def _json_rows(stream: IO[str]) -> Iterator[tuple[int, int]]:
    """``(line, 1)`` per non-blank line of a JSON-lines file."""
    for number, text in enumerate(stream, start=1):
        if text.strip():
            yield number, 1


def say_lines(
    lines: list[int], total: int | None = None, shown: int = 4, word: str = "line"
) -> str:
    """``line 5``, ``lines 5 and 9``, ``lines 5, 9, 12 and 3 more`` (or ``rows ...``).

    >>> say_lines([5]), say_lines([5, 9]), say_lines([2, 6], word="row")
    ('line 5', 'lines 5 and 9', 'rows 2 and 6')
    """
    total = len(lines) if total is None else total
    listed = [str(line) for line in lines[:shown]]
    if total == 1:
        return f"{word} {listed[0]}"
    if total > len(listed):
        return f"{word}s {', '.join(listed)} and {total - len(listed)} more"
    return f"{word}s {', '.join(listed[:-1])} and {listed[-1]}"


@dataclass
class LineFinder:
    """Reads a CSV or JSON-lines :class:`~.dialect.Source` again to find lines.

    >>> from glassnet.cli.dialect import Source
    >>> data = b'a,b\\n1,2\\n\\n3,4,5\\n"x\\ny",6\\n7,8,9\\n'
    >>> finder = LineFinder(Source("-", "stdin", "csv", None, None, data), ",", "utf-8")
    >>> finder.lines([0, 2, 9]), finder.wide_rows(2)
    ({0: 2, 2: 5}, ([(4, 3), (7, 3)], 2))
    """

    source: Source
    sep: str
    encoding: str
    skip_rows: int = 0
    header: bool = True
    json_lines: bool = False

    def _rows(self) -> Iterator[tuple[int, int]]:
        with (
            self.source.raw() as raw,
            self.source.decompressed(raw) as stream,
            io.TextIOWrapper(
                stream, encoding=self.encoding, errors="replace", newline=""
            ) as text,
        ):
            if self.json_lines:
                yield from _json_rows(text)
            else:
                yield from data_rows(
                    text, self.sep, skip_rows=self.skip_rows, header=self.header
                )

    def lines(self, rows: Iterable[int]) -> dict[int, int]:
        """The first line of each table row in ``rows`` (rows past the end: absent)."""
        wanted = set(rows)
        found: dict[int, int] = {}
        if not wanted:
            return found
        last = max(wanted)
        for row, (line, _) in enumerate(self._rows()):
            if row in wanted:
                found[row] = line
            if row >= last:
                break
        return found

    def wide_rows(
        self, n_columns: int, shown: int = 4
    ) -> tuple[list[tuple[int, int]], int]:
        """``([(line, values), ...] for the first rows with more than n_columns, count)``."""
        first: list[tuple[int, int]] = []
        count = 0
        for line, width in self._rows():
            if width > n_columns:
                count += 1
                if len(first) < shown:
                    first.append((line, width))
        return first, count

    def last_row_line(self) -> int | None:
        """The first line of the last row (where an unclosed quote swallows the rest)."""
        lines = [line for line, _ in self._rows()]
        return lines[-1] if lines else None


def parser_problem(
    finder: LineFinder, error: BaseException, n_columns: int, header: bool
) -> str:
    """The error for pandas' tokenizer stopping, naming the line by reading it again.

    >>> from glassnet.cli.dialect import Source
    >>> source = Source("-", "t.csv", "csv", None, None, b"a,b\\n1,2\\n3,4,5\\n")
    >>> error = ValueError("C error: Expected 2 fields in line 3, saw 3")
    >>> parser_problem(LineFinder(source, ",", "utf-8"), error, 2, True)[:48]
    't.csv, line 3: 3 values, but the header has 2 co'
    """
    name = finder.source.name
    message = " ".join(str(error).split())
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if fields:
        return too_many_values(finder, n_columns, header, fields.groups()[1:])
    if "EOF inside string" in message:
        line = finder.last_row_line()
        where = f"{name}, line {line}" if line is not None else name
        return (
            f'{where}: a quote (") opened in this row is never closed, so the rest of '
            "the file reads as one cell; close it, or remove the stray quote"
        )
    return f"{name}: unreadable as a table ({message[:200]})"


def too_many_values(
    finder: LineFinder,
    n_columns: int,
    header: bool,
    pandas_says: Sequence[str] | None = None,
) -> str:
    """``data.csv, line 5: 4 values, but the header has 3 columns`` and the count."""
    name = finder.source.name
    first, count = finder.wide_rows(n_columns)
    has = "the header has" if header else "the first row has"
    if not first:  # the csv module splits differently: say what pandas saw
        if pandas_says is None:
            return (
                f"{name}: a row has more values than {has} {n_columns} columns; "
                "fix it, or pass the separator with --sep"
            )
        return (
            f"{name}, line {pandas_says[0]}: {pandas_says[1]} values, but {has} "
            f"{n_columns} columns"
        )
    line, width = first[0]
    text = f"{name}, line {line}: {width} values, but {has} {n_columns} columns"
    if count > 1:
        lines = say_lines([at for at, _ in first], count)
        text += f" ({count} rows have too many values: {lines})"
    return (
        text
        + f"; fix {'it' if count == 1 else 'them'}, or pass the separator with --sep"
    )
