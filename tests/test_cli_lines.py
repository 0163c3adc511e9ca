"""Bad cells and ragged rows are reported with the line an editor shows them on.

The line of each data row is known by construction: the tests write the files line
by line (blank lines, whitespace-only lines, quoted cells holding newlines, CRLF
endings, lines skipped before the header) and record where every row starts.
pandas, which reads the table, is the independent check that row ``r`` of the
table is the row the tests wrote as row ``r``.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import glassnet, ok, one_error

from glassnet.cli.app import main
from glassnet.cli.lines import data_rows, say_lines
from glassnet.cli.tables import ReadOptions, read_table


def messy_table(
    n: int, seed: int, sep: str = ",", newline: str = "\n", skip: int = 0
) -> tuple[str, list[int], list[list[str]]]:
    """``(text, first line of each data row, the rows' cells)`` of a messy CSV."""
    rng = np.random.default_rng(seed)
    lines: list[str] = [f"# note {i}" for i in range(skip)]
    lines.append(sep.join(["a", "b", "y"]))
    starts, cells = [], []
    for i in range(n):
        kind = rng.integers(5)
        if kind == 0:
            lines.append("")  # a blank line: pandas skips it
        elif kind == 1:
            lines.append("   ")  # so is a whitespace-only one
        a, b = f"{rng.normal():.3f}", f"{rng.normal():.3f}"
        label = "pq"[i % 2]
        starts.append(len(lines) + 1)
        if kind == 2:  # a label cell with newlines inside its quotes
            label = "p\nsecond line\nthird" if i % 2 == 0 else "q\nmore"
            record = sep.join([a, b, f'"{label}"'])
        else:
            record = sep.join([a, b, label])
        lines.extend(record.split("\n"))
        cells.append([a, b, label])
    return newline.join(lines) + newline, starts, cells


@pytest.mark.parametrize(
    ("sep", "newline", "skip"), [(",", "\n", 0), (";", "\r\n", 2), ("\t", "\n", 1)]
)
def test_data_rows_find_the_lines_written_and_agree_with_pandas(
    sep: str, newline: str, skip: int
) -> None:
    text, starts, cells = messy_table(
        60, seed=skip, sep=sep, newline=newline, skip=skip
    )
    found = list(
        data_rows(io.StringIO(text, newline=""), sep, skip_rows=skip, header=True)
    )
    assert [line for line, _ in found] == starts
    assert {width for _, width in found} == {3}
    frame = pd.read_csv(
        io.StringIO(text), sep=sep, skiprows=skip, skipinitialspace=True, dtype=str
    )
    assert len(frame) == len(starts)
    assert frame["a"].tolist() == [row[0] for row in cells]
    assert [label.replace("\r", "") for label in frame["y"]] == [r[2] for r in cells]


def test_data_rows_without_a_header_count_the_first_line() -> None:
    text = "\n1,2\n\n3,4\n"
    found = list(data_rows(io.StringIO(text), ",", skip_rows=0, header=False))
    assert found == [(2, 2), (4, 2)]


def test_say_lines() -> None:
    assert say_lines([7]) == "line 7"
    assert say_lines([3, 7, 9]) == "lines 3, 7 and 9"
    assert say_lines([3, 7, 9, 11], total=10) == "lines 3, 7, 9, 11 and 6 more"


def with_bad_cells(text: str, starts: list[int], rows: list[int], cell: str) -> str:
    """``text`` with the first cell of each data row in ``rows`` replaced by ``cell``."""
    lines = text.split("\n")
    for row in rows:
        at = starts[row] - 1
        lines[at] = cell + lines[at][lines[at].index(",") :]
    return "\n".join(lines)


# -- cells that are not numbers --------------------------------------------------------
def test_not_numbers_name_their_lines(tmp_path: Path) -> None:
    text, starts, _ = messy_table(80, seed=5)
    bad = [7, 30, 31, 62]
    (tmp_path / "t.csv").write_text(with_bad_cells(text, starts, bad, "heavy"))
    expected = say_lines([starts[row] for row in bad])
    line = one_error(
        glassnet("train t.csv --target y", cwd=tmp_path),
        "t.csv: 'a' has 4 cells that are not numbers ('heavy' x4)",
        f"on {expected}.",
        "--na-values",
    )
    assert expected.startswith("lines ") and str(starts[62]) in line
    # more bad cells than are listed: the first four and a count of the rest
    many = list(range(2, 70, 6))
    (tmp_path / "many.csv").write_text(with_bad_cells(text, starts, many, "?x"))
    one_error(
        glassnet("train many.csv --target y", cwd=tmp_path),
        "on " + say_lines([starts[row] for row in many[:4]], total=len(many)),
    )


def test_not_numbers_in_two_columns_with_skipped_lines_and_gzip(tmp_path: Path) -> None:
    text, starts, _ = messy_table(40, seed=6, skip=2)
    lines = text.split("\n")
    lines[starts[3] - 1] = "tall," + lines[starts[3] - 1].split(",", 1)[1]
    first, rest = lines[starts[20] - 1].split(",", 1)
    lines[starts[20] - 1] = first + ",n/k," + rest.split(",", 1)[1]
    with gzip.open(tmp_path / "t.csv.gz", "wt") as handle:
        handle.write("\n".join(lines))
    one_error(
        glassnet("train t.csv.gz --target y --skip-rows 2", cwd=tmp_path),
        f"'a' has 1 cell that is not a number ('tall' x1) on line {starts[3]};",
        f"'b' has 1 cell that is not a number ('n/k' x1) on line {starts[20]}.",
    )


def test_not_numbers_at_predict_time_name_their_lines(tmp_path: Path) -> None:
    text, starts, _ = messy_table(60, seed=8)
    (tmp_path / "train.csv").write_text(text)
    ok(glassnet("train train.csv --target y --epochs 1 -q --seed 0", cwd=tmp_path))
    (tmp_path / "new.csv").write_text(with_bad_cells(text, starts, [11], "oops"))
    one_error(
        glassnet("predict model.keras new.csv", cwd=tmp_path),
        f"new.csv: 'a' has 1 cell that is not a number ('oops' x1) on line {starts[11]}.",
    )
    # a JSON-lines file: one record per line, blank lines counted
    records = [f'{{"a": {v}, "b": 1.5, "y": "p"}}' for v in ("1", "2", '"x"', "4")]
    (tmp_path / "new.jsonl").write_text(
        "\n".join([records[0], "", *records[1:]]) + "\n"
    )
    one_error(
        glassnet("predict model.keras new.jsonl", cwd=tmp_path),
        "'a' has 1 cell that is not a number ('x' x1) on line 4.",
    )


def test_without_lines_the_error_names_rows(tmp_path: Path) -> None:
    records = [
        {"a": v, "b": 1.5, "y": "pq"[i % 2]}
        for i, v in enumerate([1, 2, "x", 4, 5, 6, "z", 8, 9, 10])
    ]
    pd.DataFrame(records).astype({"a": str}).to_json(
        tmp_path / "t.json", orient="records"
    )
    one_error(
        glassnet("train t.json --target y", cwd=tmp_path),
        "'a' has 2 cells that are not numbers ('x' x1, 'z' x1) in rows 2 and 6.",
    )


def test_in_process_errors_name_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, starts, _ = messy_table(30, seed=9)
    path = tmp_path / "t.csv"
    path.write_text(with_bad_cells(text, starts, [12], "N.A."))
    assert (
        main(["train", str(path), "--target", "y", "-o", str(tmp_path / "m.keras")])
        == 2
    )
    err = capsys.readouterr().err
    assert f"('N.A.' x1) on line {starts[12]}." in err
    table = read_table(str(path), ReadOptions(progress=False))
    kept = table.take(np.arange(table.n_rows) >= 10)  # row 2 of ``kept`` is file row 12
    assert kept.lines([2, 0]) == {2: starts[12], 0: starts[10]}
    assert kept.where(2) == f"{path}, row 2 (line {starts[12]})"


# -- rows with too many values, quotes never closed ------------------------------------
@pytest.mark.parametrize("first_row_wide", [False, True])
def test_too_many_values_name_every_such_line(
    tmp_path: Path, first_row_wide: bool
) -> None:
    text, starts, _ = messy_table(50, seed=10)
    lines = text.split("\n")
    wide = [0, 33, 34] if first_row_wide else [17, 33, 34]
    for row in wide:
        lines[starts[row] - 1] += ",9"
    (tmp_path / "t.csv").write_text("\n".join(lines))
    one_error(
        glassnet("train t.csv --target y", cwd=tmp_path),
        f"t.csv, line {starts[wide[0]]}: 4 values, but the header has 3 columns",
        f"(3 rows have too many values: {say_lines([starts[r] for r in wide])})",
        "--sep",
    )


def test_too_many_values_without_a_header(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("1,2,p\n\n3,4,q\n5,6,p,7\n")
    one_error(
        glassnet("train t.csv --target @2 --no-header", cwd=tmp_path),
        "t.csv, line 4: 4 values, but the first row has 3 columns; fix it",
    )


def test_a_quote_never_closed_names_its_line(tmp_path: Path) -> None:
    text, _, _ = messy_table(30, seed=11)
    # plain rows after the quoted cells, so that no later quote closes the stray one
    text += '1.0,2.0,p\n3.0,"4.0,q\n5.0,6.0,p\n7.0,8.0,q\n'
    (tmp_path / "t.csv").write_text(text)
    line = text.count("\n") - 2
    one_error(
        glassnet("train t.csv --target y", cwd=tmp_path),
        f't.csv, line {line}: a quote (") opened in this row is never closed',
    )


@pytest.mark.parametrize("task", ["auto", "regression"])
def test_a_numeric_target_with_typos_names_their_lines(
    tmp_path: Path, task: str
) -> None:
    rng = np.random.default_rng(12)
    lines, starts = ["a,b,weight"], []
    for row in range(80):
        if row % 9 == 4:
            lines.append("")
        weight = "heavy" if row in (9, 50) else f"{rng.uniform(1500, 5000):.0f}"
        starts.append(len(lines) + 1)
        lines.append(f"{rng.normal():.3f},{rng.normal():.3f},{weight}")
    (tmp_path / "w.csv").write_text("\n".join(lines) + "\n")
    one_error(
        glassnet(f"train w.csv --target weight --task {task}", cwd=tmp_path),
        "the target 'weight' has 2 cells that are not numbers ('heavy' x2) on "
        f"lines {starts[9]} and {starts[50]}.",
        "pick another --target",
    )


def test_semicolons_decimal_commas_and_latin_1_name_lines(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    lines, starts = ["größe;gewicht;art"], []
    for row in range(40):
        if row == 20:
            lines += ["", "  "]  # a blank and a whitespace-only line
        height = f"{1.5 + rng.normal() / 5:.2f}" if row != 31 else "n.v."
        kind = "äö"[row % 2] if row != 25 else '"ä\r\nzweite Zeile"'
        starts.append(len(lines) + 1)
        record = f"{height};{60 + rng.normal() * 8:.1f};{kind}".replace(".", ",")
        lines += record.replace("n,v,", "n.v.").split("\r\n")
    (tmp_path / "t.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    one_error(
        glassnet("train t.csv --target art --encoding latin-1", cwd=tmp_path),
        f"'größe' has 1 cell that is not a number ('n.v.' x1) on line {starts[31]}.",
    )
