"""The ``glassnet`` command, run as a user runs it: in a subprocess, on files.

Every test starts ``python -m glassnet.cli`` (one also the installed ``glassnet``
script) and checks exit codes, what is printed and the files written. Training
runs are a few epochs on tens of rows, shared through module-scoped fixtures.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from glassnet.io import read_metadata

CLI = [sys.executable, "-m", "glassnet.cli"]
CLASSES = ["cat", "dog", "emu"]


def glassnet(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``glassnet COMMAND`` (split as a shell would) in the folder ``cwd``."""
    return subprocess.run(
        [*CLI, *shlex.split(command)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def one_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit code 2 and exactly one line on stderr, naming each fragment."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("glassnet: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- data and trained models, shared by the tests ----------------------------------
@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [3.0, 3.0], [0.0, 3.0]])
    rows = []
    for label, center in zip(CLASSES, centers, strict=True):  # sorted by class
        for point in center + 0.5 * rng.normal(size=(30, 2)):
            rows.append(
                [f"{point[0]:.4f}", f"{point[1]:.4f}", f"{rng.uniform():.3f}", label]
            )
    write_csv(folder / "animals.csv", ["height", "weight", "noise", "kind"], rows)
    x = rng.normal(size=(80, 2))
    price = 2 * x[:, 0] - x[:, 1] + 0.5 + 0.05 * rng.normal(size=80)
    write_csv(
        folder / "houses.csv",
        ["rooms", "age", "price"],
        [
            [f"{a:.4f}", f"{b:.4f}", f"{p:.4f}"]
            for (a, b), p in zip(x, price, strict=True)
        ],
    )
    return folder


@pytest.fixture(scope="module")
def animals(work: Path) -> Path:
    """A 3-class model trained on text labels, standardized, with validation."""
    result = glassnet(
        "train animals.csv --target kind --features height,weight --layers 8 "
        "--epochs 40 --patience off --lr 0.05 --seed 1 --validation-split 0.2 "
        "--verbose 2 --output animals.keras",
        cwd=work,
    )
    out = ok(result)
    assert "epoch 40/40  loss " in out
    assert "classification of 'kind' into 3 classes (cat, dog, emu)" in out
    assert "Saved animals.keras after 40 epochs" in out
    return work / "animals.keras"


# -- help, version, the installed script --------------------------------------------
def test_help_lists_every_command(tmp_path: Path) -> None:
    out = ok(glassnet("--help", cwd=tmp_path))
    for command in "train evaluate predict summary inspect convert explain".split():
        assert command in out
    assert "--patience" in ok(glassnet("train --help", cwd=tmp_path))


def test_installed_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "glassnet"
    if not script.exists():
        pytest.skip("the glassnet script is not installed next to this Python")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("glassnet ")
    bad = subprocess.run(
        [str(script), "train", "missing.csv", "--target", "y"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    one_error(bad, "missing.csv", "no such file")


# -- the round trip: train -> predict -> evaluate -> summary -> inspect -> ... ----------
def test_label_mapping_is_stored_inside_the_keras_file(animals: Path) -> None:
    with zipfile.ZipFile(animals) as archive:
        assert sorted(archive.namelist()) == [
            "config.json",
            "metadata.json",
            "model.weights.h5",
        ]
        metadata = json.loads(archive.read("metadata.json"))
    data = metadata["glassnet"]["user"]["data"]
    assert read_metadata(animals) == {"data": data}
    assert data["version"] == 2
    assert data["task"] == "classification"
    assert data["target"] == "kind"
    assert data["classes"] == CLASSES
    inputs = data["preparation"]["inputs"]
    assert [column["name"] for column in inputs] == ["height", "weight"]
    assert all(column["kind"] == "number" for column in inputs)
    # the standardization is the training file's own mean and (population) std
    table = np.loadtxt(
        animals.parent / "animals.csv", delimiter=",", skiprows=1, usecols=(0, 1)
    )
    assert np.allclose([c["mean"] for c in inputs], table.mean(axis=0))
    assert np.allclose([c["scale"] for c in inputs], table.std(axis=0))
    assert data["training"]["epochs"] == 40
    assert data["training"]["optimizer"] == "adam"
    assert not Path(f"{animals}.labels.json").exists()


def test_predict_writes_labels_and_probabilities(animals: Path, work: Path) -> None:
    out = ok(
        glassnet("predict animals.keras animals.csv --proba -o pred.csv", cwd=work)
    )
    assert "Wrote 90 predictions to pred.csv" in out
    lines = (work / "pred.csv").read_text().splitlines()
    assert lines[0] == "predicted_kind,probability_cat,probability_dog,probability_emu"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 90
    truth = [
        line.split(",")[-1]
        for line in (work / "animals.csv").read_text().splitlines()[1:]
    ]
    assert sum(row[0] == label for row, label in zip(rows, truth, strict=True)) >= 80
    for row in rows:
        probabilities = [float(v) for v in row[1:]]
        assert abs(sum(probabilities) - 1) < 1e-5
        assert row[0] == CLASSES[int(np.argmax(probabilities))]
    # to standard output, without probabilities, from columns in another order
    write_csv(work / "shuffled.csv", ["weight", "height"], [[3.0, 3.0], [3.0, 0.0]])
    out = ok(glassnet("predict animals.keras shuffled.csv", cwd=work))
    assert out.splitlines() == ["predicted_kind", "dog", "emu"]


def test_evaluate_reports_loss_and_accuracy(animals: Path, work: Path) -> None:
    out = ok(glassnet("evaluate animals.keras animals.csv", cwd=work))
    assert out.startswith("accuracy ")
    accuracy = float(out.split()[1])
    assert accuracy > 0.85
    assert "on 90 rows of animals.csv (loss " in out
    assert "Confusion matrix" in out


def test_summary_shows_layers_and_column_data(animals: Path, work: Path) -> None:
    out = ok(glassnet("summary animals.keras", cwd=work))
    assert "Total params: 51" in out  # 2 x 8 + 8 = 24, 8 x 3 + 3 = 27
    assert "Task      classification of 'kind' into 3 classes (cat, dog, emu)" in out
    assert "Inputs    2 from 2 columns: 2 numeric columns standardized" in out
    assert "Columns   height, weight" in out
    assert "Epochs    40 of at most 40, ended by epoch limit" in out
    explained = ok(glassnet("summary animals.keras --explain", cwd=work))
    assert "2 x 8 + 8 = 24" in explained


def test_inspect_lists_tensors_with_statistics(animals: Path, work: Path) -> None:
    out = ok(glassnet("inspect animals.keras", cwd=work))
    header = out.splitlines()[1].split()
    assert header == ["tensor", "shape", "dtype", "mean", "std", "min", "max", "zeros"]
    kernel = next(
        line for line in out.splitlines() if line.startswith("layers/dense/vars/0")
    )
    assert "(2, 8)" in kernel and "float32" in kernel and kernel.endswith("%")
    assert "optimizer/vars/0" in out  # the iteration count, kept for resuming


def test_inspect_bounds_the_weights_member_by_the_architecture(
    animals: Path, work: Path
) -> None:
    with zipfile.ZipFile(animals) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model.weights.h5"] = os.urandom(3 * 2**20)  # 51 parameters can't need it
    with zipfile.ZipFile(work / "bloated.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    one_error(
        glassnet("inspect bloated.keras", cwd=work), "bloated.keras", "parameters"
    )
    # the column data sits in metadata.json alone, so it is still readable
    assert read_metadata(work / "bloated.keras")["data"]["classes"] == CLASSES


def test_explain_prints_the_chain_rule_for_one_row(animals: Path, work: Path) -> None:
    out = ok(glassnet("explain animals.keras animals.csv --row 31", cwd=work))
    assert out.startswith("Row 31 of animals.csv: predicted dog (probability ")
    assert "true kind = dog" in out.splitlines()[0]
    assert "  x1 = height = " in out and "  x2 = weight = " in out
    assert "Backpropagation of one sample through a 2-8-3 network" in out
    assert re.search(r"d_L_d_w1 += d_L_d_h1 \* d_h1_d_w1 = ", out)


def test_convert_between_every_format(animals: Path, work: Path) -> None:
    expected = ok(glassnet("predict animals.keras animals.csv --proba", cwd=work))
    for name in ("m.h5", "m.weights.h5", "m.safetensors", "m.json", "copy.keras"):
        out = ok(glassnet(f"convert animals.keras {name}", cwd=work))
        assert f"Wrote {name}" in out
        assert (work / name).exists()
    ok(glassnet("convert animals.keras w.h5 --weights-only", cwd=work))
    assert json.loads((work / "m.h5.labels.json").read_text())["classes"] == CLASSES
    one_error(glassnet("convert animals.keras m.h5", cwd=work), "exists", "--overwrite")
    ok(glassnet("convert animals.keras m.h5 --overwrite", cwd=work))
    # whole models predict the same; weights come back with an architecture
    for name in ("m.h5", "copy.keras"):
        assert ok(glassnet(f"predict {name} animals.csv --proba", cwd=work)) == expected
    for weights in ("m.weights.h5", "m.safetensors", "w.h5"):
        one_error(glassnet(f"convert {weights} x.keras", cwd=work), "--model")
        ok(
            glassnet(
                f"convert {weights} back.keras --model m.json --overwrite", cwd=work
            )
        )
        assert (
            ok(glassnet("predict back.keras animals.csv --proba", cwd=work)) == expected
        )
    out = ok(glassnet("inspect m.safetensors", cwd=work))
    assert "dense.W" in out and "dense_1.b" in out
    one_error(glassnet("convert m.json x.keras", cwd=work), "without weights")


def test_convert_to_onnx(animals: Path, work: Path) -> None:
    pytest.importorskip("onnx")
    ok(glassnet("convert animals.keras m.onnx", cwd=work))
    assert (work / "m.onnx").stat().st_size > 0


def test_regression_on_a_numeric_target(work: Path) -> None:
    out = ok(
        glassnet(
            "train houses.csv --target price --layers '' --epochs 60 --lr 0.1 "
            "--seed 0 -o houses.h5 --verbose 2",
            cwd=work,
        )
    )
    assert "Task      regression of 'price' (mean " in out
    assert "  mae " in out
    info = json.loads((work / "houses.h5.labels.json").read_text())
    assert info["task"] == "regression" and info["classes"] is None
    predictions = ok(glassnet("predict houses.h5 houses.csv", cwd=work)).splitlines()
    assert predictions[0] == "predicted_price"
    truth = np.loadtxt(work / "houses.csv", delimiter=",", skiprows=1)[:, 2]
    assert np.abs(np.array(predictions[1:], dtype=float) - truth).mean() < 0.3
    assert "MAE " in ok(glassnet("evaluate houses.h5 houses.csv", cwd=work))
    one_error(glassnet("predict houses.h5 houses.csv --proba", cwd=work), "--proba")


def test_two_text_classes_train_one_sigmoid_unit(tmp_path: Path) -> None:
    rows = [[f"{np.sin(i):.3f}", "yes" if i % 2 else "no"] for i in range(20)]
    write_csv(tmp_path / "odd.csv", ["n", "odd"], rows)
    ok(glassnet("train odd.csv --target odd --epochs 2 -q", cwd=tmp_path))
    summary = ok(glassnet("summary model.keras", cwd=tmp_path))
    assert "(None, 1)" in summary and "into 2 classes (no, yes)" in summary
    proba = ok(glassnet("predict model.keras odd.csv --proba", cwd=tmp_path))
    assert proba.splitlines()[0] == "predicted_odd,probability_no,probability_yes"


def test_task_rule_and_override(tmp_path: Path) -> None:
    rows = [[f"{np.cos(i):.3f}", i % 3] for i in range(30)]  # 3 whole numbers: classes
    write_csv(tmp_path / "few.csv", ["n", "k"], rows)
    out = ok(glassnet("train few.csv --target k --epochs 1", cwd=tmp_path))
    assert "into 3 classes (0, 1, 2)" in out
    out = ok(
        glassnet(
            "train few.csv --target k --task regression --epochs 1 -o r.keras",
            cwd=tmp_path,
        )
    )
    assert "regression of 'k'" in out


def test_npz_data_and_architecture_file(tmp_path: Path) -> None:
    from glassnet.layers import Dense
    from glassnet.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    np.savez(tmp_path / "data.npz", x=x, y=(x[:, 0] > 0).astype(np.int64))
    arch = Sequential([Dense(4, activation="tanh"), Dense(1, activation="sigmoid")])
    (tmp_path / "arch.json").write_text(arch.to_json())
    out = ok(
        glassnet(
            "train data.npz --model arch.json --epochs 3 --seed 2 --patience 1 "
            "--validation-split 0.25",
            cwd=tmp_path,
        )
    )
    assert "Task      classification of 'y' into 2 classes (0, 1)" in out
    assert "Network   3-4-1, sigmoid output" in out
    assert "val_loss" in out
    predictions = ok(glassnet("predict model.keras data.npz", cwd=tmp_path))
    assert predictions.splitlines()[0] == "predicted_y"
    assert len(predictions.splitlines()) == 61
    one_error(
        glassnet("train data.npz --model arch.json --layers 3", cwd=tmp_path),
        "--layers",
        "--model",
    )


# -- errors: one line, exit code 2, never a traceback ----------------------------------
BAD_FILES = {
    "ragged.csv": "a,b,y\n1,2,p\n3,4,q,5\n",
    "cell.csv": "a,b,y\n"
    + "".join(f"{i},{i % 7},{'pq'[i % 2]}\n" for i in range(20))
    + "3,tall,q\n",
    "empty_cell.csv": "a,b,y\n1,,p\n1,,q\n",
    "empty.csv": "",
    "binary.csv": "\udcff\udcfe\x00\x01",
}


@pytest.mark.parametrize(
    ("command", "fragments"),
    [
        ("train nope.csv --target y", ["nope.csv", "no such file"]),
        (
            "train ragged.csv --target y",
            ["ragged.csv, line 3", "4 values", "3 columns"],
        ),
        (
            "train cell.csv --target y",
            [
                "cell.csv",
                "'b' has 1 cell that is not a number",
                "'tall' x1",
                "--na-values",
            ],
        ),
        ("train empty_cell.csv --target y", ["no input column", "'b' every cell"]),
        ("train empty.csv --target y", ["empty.csv", "header"]),
        ("train binary.csv --target y", ["binary.csv", "not a text file"]),
        (
            "train cell.csv --target Y",
            [
                "no column 'Y' (--target)",
                "Columns: @0 a, @1 b, @2 y",
                "Did you mean 'y'?",
            ],
        ),
        ("train cell.csv", ["--target", "Columns: @0 a, @1 b, @2 y"]),
        (
            "train cell.csv --target y --epochs 0",
            ["--epochs", "positive integer"],
        ),
        ("train cell.csv --target y --lr fast", ["--lr", "'fast'"]),
        (
            "train cell.csv --target y --validation-split 1",
            ["--validation-split"],
        ),
        ("train cell.csv --target y --layers 8,x", ["--layers"]),
        (
            "train cell.csv --target y --activation rleu",
            ["Unknown activation 'rleu'", "Did you mean 'relu'?"],
        ),
        (
            "train cell.csv --target y --output model.txt",
            ["--output", ".keras"],
        ),
        ("train cell.csv --target y --frobnicate", ["--frobnicate"]),
        ("frobnicate", ["invalid choice"]),
        ("predict hostile.keras cell.csv", ["hostile.keras", "refused"]),
        ("summary garbage.keras", ["garbage.keras", "not a zip archive"]),
        ("inspect garbage.safetensors", ["garbage.safetensors"]),
        ("inspect cell.csv", ["inspect reads"]),
    ],
)
def test_errors_are_one_line_with_exit_code_2(
    tmp_path: Path, command: str, fragments: list[str]
) -> None:
    for name, text in BAD_FILES.items():
        (tmp_path / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    (tmp_path / "garbage.keras").write_bytes(b"not a zip")
    (tmp_path / "garbage.safetensors").write_bytes(b"\xff" * 16)
    with zipfile.ZipFile(tmp_path / "hostile.keras", "w") as archive:
        for member in ("config.json", "metadata.json", "model.weights.h5", "../escape"):
            archive.writestr(member, "{}")
    one_error(glassnet(command, cwd=tmp_path), *fragments)


def test_unknown_label_and_missing_column(animals: Path, work: Path) -> None:
    write_csv(
        work / "zoo.csv", ["height", "weight", "kind"], [[0, 0, "cat"], [1, 1, "gnu"]]
    )
    one_error(
        glassnet("evaluate animals.keras zoo.csv", cwd=work),
        "zoo.csv: 1 rows of 'kind'",
        "'gnu' x1",
        "cat, dog, emu",
    )
    write_csv(work / "half.csv", ["height", "kind"], [[0, "cat"]])
    one_error(
        glassnet("predict animals.keras half.csv", cwd=work),
        "'weight'",
        "its columns: height, kind",
    )
    one_error(
        glassnet("explain animals.keras animals.csv --row 90", cwd=work), "--row 90"
    )
    one_error(
        glassnet("predict animals.keras animals.csv -o animals.csv", cwd=work),
        "overwrite",
    )


def test_diverged_training_saves_nothing(work: Path) -> None:
    (work / "keep.keras").write_bytes(b"the previous model")
    one_error(
        glassnet("train houses.csv --target price -q -o keep.keras", cwd=work),
        "keep.keras",
        "already exists",
        "--overwrite",
    )
    result = glassnet(
        "train houses.csv --target price --optimizer sgd --lr 1e6 -q -o keep.keras "
        "--overwrite",
        cwd=work,
    )
    assert result.returncode == 2
    warning, error = result.stderr.strip().splitlines()
    assert warning.startswith("glassnet: warning: The loss became NaN")
    assert error.startswith("glassnet: error: training diverged")
    assert (work / "keep.keras").read_bytes() == b"the previous model"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    for command in ("train nope.csv --target y --debug", "--debug summary nope.keras"):
        result = glassnet(command, cwd=tmp_path)
        assert result.returncode != 0
        assert "Traceback" in result.stderr and "nope" in result.stderr


# -- Ctrl-C ----------------------------------------------------------------------------
class Running:
    """A ``glassnet`` subprocess whose merged output is read line by line."""

    def __init__(self, command: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [*CLI, *shlex.split(command)],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line is None:
                pytest.fail(f"ended before {text!r}: {''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return

    def finish(self) -> tuple[int, str]:
        code = self.process.wait(timeout=60)
        while (line := self.lines.get(timeout=10)) is not None:
            self.seen.append(line)
        return code, "".join(self.seen)


needs_sigint = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@needs_sigint
def test_ctrl_c_saves_what_was_trained_and_exits_130(work: Path) -> None:
    output = work / "interrupted.keras"
    run = Running(
        "train animals.csv --target kind --epochs 100000 --batch-size 1 "
        f"--verbose 2 -o {output.name}",
        cwd=work,
    )
    run.wait_for("epoch      2/100000")
    run.process.send_signal(signal.SIGINT)
    code, text = run.finish()
    assert code == 130, text
    assert "stopping after the current batch" in text
    assert f"saved the model trained so far to {output.name}" in text
    assert "Traceback" not in text
    out = ok(glassnet(f"evaluate {output.name} animals.csv", cwd=work))
    assert "accuracy" in out


@needs_sigint
def test_second_ctrl_c_exits_at_once_without_saving(tmp_path: Path) -> None:
    # Batches of about a second: the second Ctrl-C lands inside the batch in which
    # the first one was noticed, before anything can be saved.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 20)).astype(np.float32)
    np.savez(tmp_path / "big.npz", x=x, y=(x[:, 0] > 0).astype(np.int64))
    output = tmp_path / "never.keras"
    run = Running(
        "train big.npz --layers 1024,1024,1024 --batch-size 4000 --epochs 1000 "
        f"--verbose 2 -o {output.name}",
        cwd=tmp_path,
    )
    run.wait_for("epoch    1/1000")
    run.process.send_signal(signal.SIGINT)
    run.wait_for("stopping after the current batch")
    run.process.send_signal(signal.SIGINT)
    code, text = run.finish()
    assert code == 130, text
    assert "glassnet: interrupted" in text and "saved" not in text
    assert "Traceback" not in text
    assert not output.exists()
    assert os.listdir(tmp_path) == ["big.npz"]  # no temporary file left either
