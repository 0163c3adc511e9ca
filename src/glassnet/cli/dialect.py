"""How a table file is written: its format, compression, encoding, separator, decimals.

The format comes from the extension (``.csv``, ``.tsv``, ``.txt``, ``.json``,
``.jsonl``, ``.parquet``, ``.npz``, each optionally ``.gz``/``.bz2``/``.zip``/``.xz``)
or ``--format``; compression from the file's first bytes (so a gzip file named
``.csv`` still reads) or its extension. For CSV the separator is sniffed from the
first lines unless ``--sep`` gives it: the first of tab, ``;``, ``,`` and ``|``
that splits every sampled line into the same number (2 or more) of fields. A file
that is not ``,``-separated and writes numbers as ``3,5`` and never ``3.5`` is
read with decimal commas. Every guess is reported in the notices, so a wrong
guess is visible.

>>> sniff_separator("a;b;c\\n1,5;2,0;x\\n3,1;4,2;y\\n")
';'
>>> sniff_decimal("a;b\\n1,5;2\\n3,25;4\\n", ";")
','
>>> sniff_separator("height,weight\\n1.5,60\\n")
','
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import os
import re
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from glassnet.cli.app import CliError
from glassnet.cli.values import FORMATS

__all__ = [
    "FORMATS",
    "Source",
    "describe_size",
    "open_source",
    "sniff_decimal",
    "sniff_separator",
]

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".data": "csv",
    ".dat": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npz": "npz",
}
_COMPRESSED = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".zip": "zip",
    ".xz": "xz",
}
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
)
_UNSUPPORTED = {
    ".xlsx": "an Excel workbook: save the sheet as CSV",
    ".xls": "an Excel workbook: save the sheet as CSV",
    ".ods": "a spreadsheet: save the sheet as CSV",
    ".feather": "a Feather file: write it as .parquet or .csv",
    ".arrow": "an Arrow file: write it as .parquet or .csv",
    ".sav": "an SPSS file: export it as CSV",
    ".dta": "a Stata file: export it as CSV",
    ".pkl": "a pickle, which glassnet never opens (it can run code): write .csv",
    ".pickle": "a pickle, which glassnet never opens (it can run code): write .csv",
    ".npy": "a single NumPy array: save inputs and targets with np.savez",
    ".keras": "a model file, not data",
    ".h5": "an HDF5 file: glassnet reads tables from .csv, .tsv, .json, .parquet or .npz",
}
_SEPARATORS = ("\t", ";", ",", "|")
_PEEK_BYTES = 1 << 16
_SAMPLE_LINES = 50
_COMMA_NUMBER = re.compile(r"^[-+]?\d+,\d+$")
_DOT_NUMBER = re.compile(r"^[-+]?\d*\.\d+$")


@dataclass
class Source:
    """A table to read: where it is, its format and compression, and its first bytes."""

    path: str
    #: how messages name it ("standard input" for ``-``)
    name: str
    format: str
    compression: str | None
    #: bytes on disk (None for standard input)
    size: int | None
    #: the whole of standard input, read at once
    data: bytes | None = None
    #: the first decompressed bytes, for sniffing
    head: bytes = b""
    notices: list[str] = field(default_factory=list)

    @contextmanager
    def raw(self) -> Iterator[IO[bytes]]:
        """The bytes as stored (compressed or not), counted for progress."""
        if self.data is not None:
            yield io.BytesIO(self.data)
            return
        with open(self.path, "rb") as handle:
            yield handle

    @contextmanager
    def decompressed(self, raw: IO[bytes]) -> Iterator[Any]:
        """The table's bytes, read through ``raw``."""
        if self.compression is None:
            yield raw
        elif self.compression == "gzip":
            with gzip.GzipFile(fileobj=raw) as stream:
                yield stream
        elif self.compression == "bz2":
            with bz2.BZ2File(raw) as stream:
                yield stream
        elif self.compression == "xz":
            with lzma.LZMAFile(raw) as stream:
                yield stream
        else:
            with zipfile.ZipFile(raw) as archive:
                names = [i.filename for i in archive.infolist() if not i.is_dir()]
                if len(names) != 1:
                    raise CliError(
                        f"{self.name}: a zip archive must hold exactly one table file; "
                        f"this one holds {len(names)}"
                    )
                with archive.open(names[0]) as stream:
                    yield stream


def describe_size(size: int) -> str:
    """``163 MB``, ``12 kB``, ``512 bytes``.

    >>> describe_size(162_679_484), describe_size(2_734)
    ('163 MB', '3 kB')
    """
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.0f} {unit}"
    return f"{size} bytes"


def open_source(path: str, format_flag: str | None) -> Source:
    """Find ``path``'s format and compression and read its first bytes."""
    if path == "-":
        data = sys.stdin.buffer.read()
        source = Source(path, "standard input", format_flag or "csv", None, None, data)
        source.compression = _by_magic(data[:8])
    else:
        if not os.path.exists(path):
            raise CliError(f"{path}: no such file")
        if os.path.isdir(path):
            raise CliError(f"{path}: a folder, not a data file")
        stem, compression = _split_compression(path)
        with open(path, "rb") as handle:
            first = handle.read(8)
        magic = _by_magic(first)
        fmt = format_flag or _format_of(stem, path)
        if fmt == "npz" or first.startswith(b"PAR1"):
            compression = None
            fmt = "parquet" if first.startswith(b"PAR1") and not format_flag else fmt
        elif magic is not None:
            compression = magic
        source = Source(path, path, fmt, compression, os.path.getsize(path))
    if source.format in ("npz", "parquet"):
        return source
    source.head = _peek(source)
    return source


def _split_compression(path: str) -> tuple[str, str | None]:
    stem, ending = os.path.splitext(path)
    compression = _COMPRESSED.get(ending.lower())
    return (stem, compression) if compression else (path, None)


def _format_of(stem: str, path: str) -> str:
    ending = os.path.splitext(stem)[1].lower()
    if ending in _EXTENSIONS:
        return _EXTENSIONS[ending]
    if ending in _UNSUPPORTED:
        raise CliError(
            f"{path}: unsupported format ({_UNSUPPORTED[ending]}); glassnet reads "
            ".csv, .tsv, .txt, .json, .jsonl, .parquet and .npz, optionally .gz, "
            ".bz2, .zip or .xz compressed"
        )
    return "csv"  # no extension or an unknown one: try CSV, and say so if it fails


def _by_magic(first: bytes) -> str | None:
    for magic, name in _MAGIC:
        if first.startswith(magic):
            return name
    return None


def _peek(source: Source) -> bytes:
    try:
        with source.raw() as raw, source.decompressed(raw) as stream:
            return stream.read(_PEEK_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as error:
        kind = source.compression or "compressed"
        raise CliError(f"{source.name}: not a readable {kind} file ({error})") from None


def check_text(source: Source, encoding: str) -> str:
    """The first lines decoded; an error for binary data or a wrong encoding."""
    head = source.head
    if not head.strip():
        raise CliError(f"{source.name}: the file is empty; expected a header row")
    wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    if b"\x00" in head and not wide:
        raise CliError(
            f"{source.name}: not a text file (it holds NUL bytes); glassnet reads "
            "CSV/TSV text, JSON, .parquet and .npz tables"
        )
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        return decoder.decode(head, final=len(head) < _PEEK_BYTES)
    except UnicodeDecodeError as error:
        raise CliError(
            f"{source.name}: not {encoding} text (byte {error.start} is "
            f"{head[error.start : error.start + 1]!r}); pass the file's encoding, such "
            "as --encoding latin-1 or --encoding cp1252"
        ) from None


def sample_lines(text: str) -> list[str]:
    """The first complete non-blank lines of ``text``."""
    lines = text.splitlines()
    if len(text) >= _PEEK_BYTES // 2 and lines:
        lines = lines[:-1]  # the last line may be cut in the middle
    return [line for line in lines if line.strip()][:_SAMPLE_LINES]


def sniff_separator(text: str) -> str:
    """The first separator that splits every sampled line into the same 2+ fields."""
    lines = sample_lines(text)
    for separator in _SEPARATORS:
        counts = {len(row) for row in csv.reader(lines, delimiter=separator)}
        if len(counts) == 1 and counts.pop() >= 2:
            return separator
    header = lines[0] if lines else ""
    return max(_SEPARATORS, key=lambda s: (header.count(s), s == ","))


def sniff_decimal(text: str, separator: str) -> str:
    """``","`` when a non-comma-separated sample writes numbers only as ``3,5``."""
    if separator == ",":
        return "."
    lines = sample_lines(text)[1:]
    commas = dots = 0
    for row in csv.reader(lines, delimiter=separator):
        for cell in row:
            cell = cell.strip()
            commas += bool(_COMMA_NUMBER.match(cell))
            dots += bool(_DOT_NUMBER.match(cell))
    return "," if commas and not dots else "."


def separator_name(separator: str) -> str:
    """``'tab'``, ``"';'"``.

    >>> separator_name("\\t"), separator_name(";")
    ('tab', "';'")
    """
    return "tab" if separator == "\t" else repr(separator)
