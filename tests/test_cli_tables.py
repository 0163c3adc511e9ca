"""``glassnet`` reading real tables: dialects, formats, columns by name or position.

Every test runs the command in a subprocess on files it writes, and checks what a
user sees: the exit code, one error line, the columns a model ended up reading.
The same table written in each dialect must train the same preparation.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_cli import CLI, glassnet, ok, one_error, write_csv

from glassnet.io import read_metadata

HEADER = ["height", "weight", "kind"]


def rows(n: int = 40) -> list[list[object]]:
    rng = np.random.default_rng(3)
    return [
        [f"{1.5 + 0.3 * rng.normal():.3f}", f"{60 + 8 * rng.normal():.2f}", "ab"[i % 2]]
        for i in range(n)
    ]


def text_table(sep: str = ",", decimal: str = ".", header: bool = True) -> str:
    lines = [sep.join(HEADER)] if header else []
    for row in rows():
        cells = [str(v).replace(".", decimal) for v in row]
        lines.append(sep.join(cells))
    return "\n".join(lines) + "\n"


def inputs_of(model: Path) -> list[dict[str, object]]:
    return read_metadata(model)["data"]["preparation"]["inputs"]


def train(command: str, cwd: Path) -> str:
    return ok(glassnet(f"{command} --epochs 2 -q -o m.keras --overwrite", cwd=cwd))


def trained_means(tmp_path: Path, name: str, flags: str = "") -> list[float]:
    train(f"train {name} --target kind {flags}", tmp_path)
    return [column["mean"] for column in inputs_of(tmp_path / "m.keras")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[float]:
    folder = tmp_path_factory.mktemp("reference")
    (folder / "plain.csv").write_text(text_table())
    means = trained_means(folder, "plain.csv")
    table = np.array([[float(v) for v in row[:2]] for row in rows()])
    assert np.allclose(means, table.mean(axis=0))
    return means


# -- dialects ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "flags", "notice"),
    [
        ("semi.csv", text_table(";", ","), "", "separator ';' (sniffed"),
        ("tabs.tsv", text_table("\t"), "", ""),
        ("tabs.txt", text_table("\t"), "", "separator tab (sniffed"),
        ("pipes.csv", text_table("|"), "--sep '|'", ""),
        ("comma_dec.csv", text_table(";", ","), "--sep ';' --decimal ,", ""),
    ],
)
def test_every_dialect_reads_the_same_table(
    tmp_path: Path,
    reference: list[float],
    name: str,
    text: str,
    flags: str,
    notice: str,
) -> None:
    (tmp_path / name).write_text(text)
    out = ok(
        glassnet(
            f"train {name} --target kind {flags} --epochs 1 -o m.keras", cwd=tmp_path
        )
    )
    assert notice in out
    means = [column["mean"] for column in inputs_of(tmp_path / "m.keras")]
    assert np.allclose(means, reference)


def test_decimal_commas_are_sniffed_and_reported(tmp_path: Path) -> None:
    (tmp_path / "semi.csv").write_text(text_table(";", ","))
    out = ok(
        glassnet("train semi.csv --target kind --epochs 1 -o n.keras", cwd=tmp_path)
    )
    assert "decimal commas (sniffed" in out


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip"])
def test_compressed_files_by_extension(
    tmp_path: Path, reference: list[float], kind: str
) -> None:
    data = text_table().encode()
    path = tmp_path / f"t.csv.{kind}"
    if kind == "gz":
        path.write_bytes(gzip.compress(data))
    elif kind == "bz2":
        path.write_bytes(bz2.compress(data))
    elif kind == "xz":
        path.write_bytes(lzma.compress(data))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("t.csv", data)
    assert np.allclose(trained_means(tmp_path, path.name), reference)


def test_gzip_found_by_its_bytes_whatever_the_name(
    tmp_path: Path, reference: list[float]
) -> None:
    (tmp_path / "secretly.csv").write_bytes(gzip.compress(text_table().encode()))
    assert np.allclose(trained_means(tmp_path, "secretly.csv"), reference)


def test_no_header_columns_by_position(tmp_path: Path, reference: list[float]) -> None:
    (tmp_path / "bare.csv").write_text(text_table(header=False))
    train("train bare.csv --no-header --target @2", tmp_path)
    inputs = inputs_of(tmp_path / "m.keras")
    assert [c["name"] for c in inputs] == ["0", "1"]
    assert np.allclose([c["mean"] for c in inputs], reference)
    assert read_metadata(tmp_path / "m.keras")["data"]["target"] == "2"
    out = ok(glassnet("predict m.keras bare.csv --no-header", cwd=tmp_path))
    assert out.splitlines()[0] == "predicted_2" and len(out.splitlines()) == 41


@pytest.mark.parametrize(
    ("name", "classes"),
    [
        ("iris.csv", "3 classes (0, 1, 2)"),
        ("wine_data.csv", "3 classes (0, 1, 2)"),
        ("breast_cancer.csv", "2 classes (0, 1)"),
    ],
)
def test_scikit_learns_raw_bundled_files(
    tmp_path: Path, name: str, classes: str
) -> None:
    # Their first line is "150,4,setosa,versicolor,virginica": counts and names, not
    # a header. Skip it, read the rest without a header, predict the last column.
    sklearn = pytest.importorskip("sklearn")
    raw = Path(sklearn.__file__).parent / "datasets" / "data" / name
    out = ok(
        glassnet(
            f"train {raw} --skip-rows 1 --no-header --target @-1 --seed 0 -o m.keras",
            cwd=tmp_path,
        )
    )
    last = raw.read_text().splitlines()[1].count(",")  # the target's column name
    assert f"classification of '{last}' into {classes}" in " ".join(out.split())
    report = ok(
        glassnet(f"evaluate m.keras {raw} --skip-rows 1 --no-header", cwd=tmp_path)
    )
    assert float(report.split()[1]) > 0.9


def test_encodings(tmp_path: Path) -> None:
    text = "größe,kind\n" + "".join(f"{i % 5}.5,{'äb'[i % 2]}\n" for i in range(30))
    (tmp_path / "latin.csv").write_bytes(text.encode("latin-1"))
    one_error(
        glassnet("train latin.csv --target kind", cwd=tmp_path),
        "latin.csv: not utf-8-sig text",
        "--encoding latin-1",
    )
    train("train latin.csv --target kind --encoding latin-1", tmp_path)
    data = read_metadata(tmp_path / "m.keras")["data"]
    assert data["classes"] == ["b", "ä"]
    assert data["preparation"]["inputs"][0]["name"] == "größe"


def test_json_records_jsonl_and_parquet(tmp_path: Path, reference: list[float]) -> None:
    records = [
        dict(zip(HEADER, (float(r[0]), float(r[1]), r[2]), strict=True)) for r in rows()
    ]
    (tmp_path / "t.json").write_text(json.dumps(records))
    assert np.allclose(trained_means(tmp_path, "t.json"), reference)
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    assert np.allclose(trained_means(tmp_path, "t.jsonl"), reference)
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pd.DataFrame(records).to_parquet(tmp_path / "t.parquet")
    assert np.allclose(trained_means(tmp_path, "t.parquet"), reference)


def test_standard_input(tmp_path: Path, reference: list[float]) -> None:
    result = subprocess.run(
        [
            *CLI,
            "train",
            "-",
            "--target",
            "kind",
            "--epochs",
            "1",
            "-q",
            "-o",
            "m.keras",
        ],
        input=text_table(";", ","),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    means = [c["mean"] for c in inputs_of(tmp_path / "m.keras")]
    assert np.allclose(means, reference)
    predicted = subprocess.run(
        [*CLI, "predict", "m.keras", "-"],
        input=text_table(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert predicted.returncode == 0, predicted.stderr
    assert len(predicted.stdout.splitlines()) == 41


# -- choosing columns ----------------------------------------------------------------
def test_a_column_named_4_and_position_4_are_never_confused(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = [
        [f"{a:.3f}", f"{b:.3f}", f"{c:.3f}", int(a > 0), f"{10 + 3 * b:.3f}"]
        for a, b, c in rng.normal(size=(60, 3))
    ]
    write_csv(tmp_path / "t.csv", ["a", "b", "c", "4", "size"], table)
    out = ok(glassnet("train t.csv --target 4 --epochs 1 -o n.keras", cwd=tmp_path))
    assert "classification of '4' into 2 classes" in out
    out = ok(glassnet("train t.csv --target @4 --epochs 1 -o p.keras", cwd=tmp_path))
    assert "regression of 'size'" in out
    one_error(
        glassnet("train t.csv --target @5", cwd=tmp_path),
        "--target @5",
        "5 columns, @0 to @4",
    )
    one_error(glassnet("train t.csv --target @x", cwd=tmp_path), "'@x'", "@@x")
    one_error(
        glassnet("train t.csv --target 3", cwd=tmp_path),
        "no column '3'",
        "@3 picks the column at position 3",
    )


def test_features_and_exclude(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    table = [
        [f"{v:.3f}" for v in row] + ["xy"[i % 2]]
        for i, row in enumerate(rng.normal(size=(30, 3)))
    ]
    write_csv(tmp_path / "t.csv", ["a", "b", "c", "y"], table)
    train("train t.csv --target y --exclude b", tmp_path)
    assert [c["name"] for c in inputs_of(tmp_path / "m.keras")] == ["a", "c"]
    train("train t.csv --target @3 --features @2,a", tmp_path)
    assert [c["name"] for c in inputs_of(tmp_path / "m.keras")] == ["c", "a"]
    one_error(
        glassnet("train t.csv --target y --features a,@0", cwd=tmp_path),
        "--features names the column 'a' twice",
    )
    one_error(
        glassnet("train t.csv --target y --exclude y", cwd=tmp_path),
        "--exclude names the target column 'y'",
    )
    one_error(
        glassnet("train t.csv --target y --exclude d", cwd=tmp_path),
        "no column 'd' (--exclude)",
    )


# -- files that cannot be read: one line, exit code 2 ----------------------------------
@pytest.mark.parametrize(
    ("name", "content", "command", "fragments"),
    [
        (
            "book.xlsx",
            b"PK\x03\x04junk",
            "train book.xlsx --target y",
            ["unsupported format", "Excel"],
        ),
        (
            "twice.csv",
            b"a,b,a,y\n1,2,3,p\n",
            "train twice.csv --target y",
            ["'a' appears twice", "@0 and @2"],
        ),
        (
            "surplus.csv",
            b"a,b,y\n1,2,p,9\n3,4,q,8\n",
            "train surplus.csv --target y",
            ["surplus.csv, line 2: 4 values, but the header has 3 columns", "2 and 3"],
        ),
        (
            "nul.csv",
            b"a,b\x00,y\n1,2,3\n",
            "train nul.csv --target y",
            ["not a text file"],
        ),
        (
            "broken.csv.gz",
            b"\x1f\x8b\x08garbage",
            "train broken.csv.gz --target y",
            ["not a readable gzip file"],
        ),
        (
            "one_class.csv",
            b"a,y\n" + b"".join(b"%d,same\n" % (i % 5) for i in range(20)),
            "train one_class.csv --target y",
            ["single value, 'same'"],
        ),
        (
            "no_target.csv",
            b"a,y\n1,\n2,NA\n3,?\n",
            "train no_target.csv --target y",
            ["every row's target 'y' is missing"],
        ),
        (
            "bad.json",
            b"{not json",
            "train bad.json --target y",
            ["unreadable as a JSON"],
        ),
        ("folder.csv", None, "train folder.csv --target y", ["a folder"]),
        ("x.csv", b"a,y\n1,2\n", "train x.csv --target y --sep ab", ["--sep"]),
    ],
)
def test_unreadable_tables(
    tmp_path: Path, name: str, content: bytes | None, command: str, fragments: list[str]
) -> None:
    if content is None:
        (tmp_path / name).mkdir()
    else:
        (tmp_path / name).write_bytes(content)
    one_error(glassnet(command, cwd=tmp_path), *fragments)


# -- a table handed to fit column-major, as DataFrame.to_numpy() returns it -----------
def test_fit_on_a_column_major_table_is_fit_on_the_same_rows() -> None:
    import pandas as pd

    from glassnet.layers import Dense
    from glassnet.models import Sequential
    from glassnet.models.data_checks import check_inputs

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 5)), columns=list("abcde"))
    x_f = frame.to_numpy(dtype=np.float32)
    assert x_f.flags.f_contiguous and not x_f.flags.c_contiguous
    y = (frame["a"] + frame["b"] > 0).to_numpy(dtype=np.float32)

    def trained(x: np.ndarray) -> list[np.ndarray]:
        model = Sequential([Dense(8, activation="relu", input_dim=5), Dense(1)], seed=1)
        model.compile(optimizer="adam", loss="mse")
        assert check_inputs(model, x).flags.c_contiguous  # batches are rows
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return model.get_weights()

    for got, want in zip(trained(x_f), trained(np.ascontiguousarray(x_f)), strict=True):
        np.testing.assert_array_equal(got, want)
