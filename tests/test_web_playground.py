"""The playground's Python side: configuration, data, sessions, code, downloads."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from glassnet.web.playground import session as session_module
from glassnet.web.playground.building import Plan
from glassnet.web.playground.codegen import DATA_FILE, glassnet_code
from glassnet.web.playground.config import (
    ACTIVATIONS,
    CLASSIFICATION_DATASETS,
    DATASETS,
    clean_config,
    default_config,
)
from glassnet.web.playground.datasets import (
    UploadError,
    feature_labels,
    feature_matrix,
    generate,
    parse_csv,
    to_csv,
)
from glassnet.web.playground.downloads import download
from glassnet.web.playground.session import Session


def test_defaults_are_the_playgrounds() -> None:
    config = default_config(seed=5)
    assert (config["dataset"], config["activation"], config["learning_rate"]) == (
        "circle",
        "tanh",
        0.03,
    )
    assert config["hidden"] == [4, 2] and config["batch_size"] == 10
    assert config["train_percent"] == 50 and config["features"] == ["x", "y"]


def test_every_value_is_validated_and_clamped() -> None:
    current = default_config(seed=1)
    patch = {
        "learning_rate": "1e9", "regularization_rate": -3, "batch_size": "0.2",
        "train_percent": 99, "noise": "-5", "dropout": 2, "hidden": [100, 0, "3"],
        "speed": 7, "seed": -1, "show_test": "true", "features": "sin_y,x",
    }  # fmt: skip
    config, problems = clean_config(patch, current)
    assert problems == []
    assert config["learning_rate"] == 10.0 and config["regularization_rate"] == 0.0
    assert (
        config["batch_size"] == 1
        and config["train_percent"] == 90
        and config["noise"] == 0
    )
    assert (
        config["dropout"] == 0.9
        and config["hidden"] == [32, 1, 3]
        and config["speed"] == 5
    )
    assert config["seed"] == 0 and config["show_test"] is True
    assert config["features"] == ["x", "sin_y"]  # the Playground's order
    assert config["layer_activations"] == ["", "", ""]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"activation": "<script>"}, "activation: '<script>' is not one of"),
        ({"learning_rate": "fast"}, "learning_rate: 'fast' is not a number"),
        ({"learning_rate": "nan"}, "not a finite number"),
        ({"features": []}, "at least one input feature"),
        ({"features": ["z"]}, "'z' is not one of x, y"),
        ({"hidden": {"a": 1}}, "is not a list"),
        ({"show_test": "maybe"}, "is not true or false"),
        ({"admin": True}, "admin: not a setting of the playground"),
        ({"dataset": "upload"}, "no CSV was uploaded"),
        ({"problem": "ranking"}, "not classification or regression"),
        ({"layer_activations": ["relu", "bogus"]}, "'bogus' is not one of"),
    ],
)
def test_bad_values_keep_the_current_setting_and_say_why(patch, message) -> None:
    current = default_config(seed=1)
    config, problems = clean_config(patch, current)
    assert len(problems) == 1 and message in problems[0]
    assert config == current


def test_the_problem_follows_the_data_set() -> None:
    current = default_config(seed=1)
    config, _ = clean_config({"problem": "regression"}, current)
    assert (config["dataset"], config["problem"]) == ("reg-plane", "regression")
    config, _ = clean_config({"dataset": "reg-gauss", "loss": "cross_entropy"}, current)
    assert config["problem"] == "regression" and config["loss"] == "mse"


@pytest.mark.parametrize("name", DATASETS)
def test_each_data_set_is_seeded_and_labelled(name: str) -> None:
    points, labels = generate(name, 400, 0.1, np.random.default_rng(3))
    again, _ = generate(name, 400, 0.1, np.random.default_rng(3))
    np.testing.assert_array_equal(points, again)
    assert points.shape == (400, 2) and np.isfinite(points).all()
    assert np.abs(points).max() < 9
    if name in CLASSIFICATION_DATASETS:
        classes = {"blobs": 4, "spiral3": 3}.get(name, 2)
        assert sorted(set(labels.tolist())) == list(range(classes))
    else:
        assert labels.dtype == np.float64 and np.abs(labels).max() <= 1.3


def test_circle_labels_are_inside_the_circle() -> None:
    points, labels = generate("circle", 500, 0.0, np.random.default_rng(0))
    radius = np.hypot(points[:, 0], points[:, 1])
    assert (labels == (radius < 2.5)).all() and labels.sum() == 250


def test_features_are_the_playgrounds_seven() -> None:
    point = np.array([[0.5, -2.0]])
    columns = feature_matrix(point, ["x", "y", "x_squared", "y_squared", "x_times_y",
                                     "sin_x", "sin_y"])  # fmt: skip
    np.testing.assert_allclose(
        columns, [[0.5, -2, 0.25, 4, -1, np.sin(0.5), np.sin(-2)]]
    )


def test_csv_round_trip_and_refusals() -> None:
    points, labels = generate("xor", 40, 0.0, np.random.default_rng(1))
    split = np.arange(40) % 2 == 0
    text = to_csv(points, labels, split, ["0", "1"])
    back, back_labels, kind, classes, names = parse_csv(text.encode(), with_names=True)
    np.testing.assert_array_equal(back, points)
    assert kind == "classification" and classes == ["0", "1"] and names == ["x", "y"]
    np.testing.assert_array_equal(back_labels, labels)
    regression = parse_csv(b"1,2,0.5\n2,3,1.25\n3,1,-2\n0,0,7.5\n", with_names=True)
    assert regression[2] == "regression" and regression[3] is None
    assert regression[4] is None  # no header, no names: X1 and X2
    for data, message in [
        (
            b"x,y,label\n1,2,a\n" + b"1,nan,b\n" * 3,
            "column 2: 'nan' is not a finite number",
        ),
        (b"1\n2\n3\n4\n", "Line 1 has 1 column"),
        (b"\xff\xfe\x00garbage" * 10, "not UTF-8"),
        (b"x" * 1_000_001, "1,000,001 bytes"),
        (b"1,2,a\n1,2,a\n1,2,a\n1,2,a\n", "same label"),
        (b"1,2,a\n", "needs 4 or more"),
        (b"1,2,inf\n1,2,a\n1,2,b\n1,2,c\n", "NaN or infinite"),
        ("".join(f"{i},{i},c{i}\n" for i in range(9)).encode(), "9 classes"),
    ]:
        with pytest.raises(UploadError, match=message):
            parse_csv(data)


ROWS = "1,2,a\n2,1,b\n3,3,a\n4,0,b\n"


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("weight,height,sex", ["weight", "height"]),
        ("  body  weight ,\theight\t,sex", ["body weight", "height"]),
        (",height,sex", ["X1", "height"]),
        ("weight, ,sex", ["weight", "X2"]),
        ("weight,weight,sex", ["weight", "X2"]),
        ("X2,X2,sex", None),  # both unusable: X1 and X2, as without a header
        (",,sex", None),
        ("weight", ["weight", "X2"]),  # a short header
        ("w," + "h" * 100 + ",sex", ["w", "h" * 40]),
        ("a" * 50 + "1," + "a" * 40 + "2,sex", ["a" * 40, "X2"]),  # equal once cut
        ("w,1e3,sex", ["w", "X2"]),  # a number is no name
        ("w," + "1" * 40 + "x,sex", ["w", "X2"]),  # nor one once cut
        ('"two\nlines",b,sex', ["two lines", "b"]),
        ("\u202eevil\x07,b\u2028c,sex", ["evil", "b c"]),  # no bidi or control chars
        ("<b>x</b>,<img src=x onerror=alert(1)>,sex",
         ["<b>x</b>", "<img src=x onerror=alert(1)>"]),  # kept as text
    ],
)  # fmt: skip
def test_a_header_names_the_two_columns(header: str, names: list[str] | None) -> None:
    points, _, kind, _, found = parse_csv(f"{header}\n{ROWS}".encode(), with_names=True)
    assert found == names and kind == "classification" and len(points) == 4
    assert parse_csv(ROWS.encode(), with_names=True)[4] is None  # headerless
    assert len(parse_csv(ROWS.encode())) == 4  # the scripts generated before names


def test_feature_labels_follow_the_column_names() -> None:
    every = ["x", "y", "x_squared", "y_squared", "x_times_y", "sin_x", "sin_y"]
    assert feature_labels(every) == ["X1", "X2", "X1²", "X2²", "X1X2", "sin(X1)",
                                     "sin(X2)"]  # fmt: skip
    assert feature_labels(every, ["weight", "height"]) == [
        "weight", "height", "weight²", "height²", "weight·height", "sin(weight)",
        "sin(height)",
    ]  # fmt: skip
    braces = ["{0}", "{1}{"]  # names, not format strings
    assert feature_labels(["x_times_y"], braces) == ["{0}·{1}{"]
    with pytest.raises(ValueError, match=r"two columns' names.*received 'ab'"):
        feature_labels(["x"], "ab")


def test_an_uploads_names_reach_the_page_the_downloads_and_the_code() -> None:
    session = Session(seed=8)
    assert session.setup()["features"] == ["X1", "X2"]
    hostile = "<b>x</b>"
    session.use_upload(f"weight,{hostile},sex\n{ROWS}".encode())
    session.apply({"features": ["x", "y", "x_squared", "x_times_y", "sin_y"]})
    setup = session.setup()
    shown = ["weight", hostile, "weight²", f"weight·{hostile}", f"sin({hostile})"]
    assert setup["features"] == shown
    assert setup["feature_labels"]["sin_x"] == "sin(weight)"
    assert json.loads(json.dumps(setup))["features"] == shown  # plain text in JSON
    html = base64.b64decode(download(session, "html")["base64"]).decode()
    assert hostile not in html  # the page's JSON escapes markup
    block = re.search(r'id="glassnet-page">(.*?)</script>', html, re.S)
    assert block is not None
    assert json.loads(block.group(1))["feature_names"] == shown
    data = base64.b64decode(download(session, "data")["base64"]).decode()
    assert data.startswith(f"weight,{hostile},label,split\n")
    assert f"# the inputs: {', '.join(shown)}\n" in glassnet_code(session)
    session.apply({"dataset": "circle", "features": ["x", "y", "x_times_y"]})
    assert session.setup()["features"] == ["X1", "X2", "X1X2"]  # generated: X1, X2
    assert "# the inputs: X1, X2, X1X2\n" in glassnet_code(session)
    assert download(session, "data")["base64"].startswith(
        base64.b64encode(b"x,y,label,split\n")[:20].decode()
    )


def test_an_uploads_model_page_shows_the_uploads_range() -> None:
    session = Session(seed=3)
    rows = "".join(f"{150 + 10 * k},{60 + k},{k % 2}\n" for k in range(8))
    session.use_upload(f"weight,height,sex\n{rows}".encode())
    session.apply({"features": ["x", "y"]})
    html = base64.b64decode(download(session, "html")["base64"]).decode()
    block = re.search(r'id="glassnet-page">(.*?)</script>', html, re.S)
    assert block is not None
    domain = json.loads(block.group(1))["ranges"]
    assert domain == session.domain  # the data's range, not the Playground's [-6, 6]
    assert domain[0][0] < 150 and domain[0][1] > 220 and domain[1][0] < 60


def test_same_seed_same_initial_loss_and_same_training() -> None:
    first, second = Session(seed=11), Session(seed=11)
    assert first.loss_train == second.loss_train
    first.train(3)
    for _ in range(3):
        second.train(1)  # chunks of any size train the same
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    other = Session(seed=12)
    assert other.loss_train != Session(seed=11).loss_train


def test_a_circle_is_learned() -> None:
    session = Session(seed=0)
    session.train(150)
    assert session.accuracy_train >= 0.95 and session.accuracy_test >= 0.95


def test_live_settings_keep_training_others_start_again() -> None:
    session = Session(seed=1)
    session.train(2)
    restarted, _ = session.apply({"learning_rate": 0.3, "discretize": True})
    assert not restarted and session.epoch == 2
    assert session.model.optimizer.learning_rate == 0.3
    generation = session.generation
    restarted, _ = session.apply({"activation": "relu"})
    assert restarted and session.epoch == 0 and session.generation == generation + 1


@pytest.mark.parametrize(
    ("patch", "output", "loss"),
    [
        ({}, "tanh", "mse"),
        ({"loss": "cross_entropy"}, "sigmoid", "binary_crossentropy"),
        (
            {"dataset": "blobs", "loss": "cross_entropy"},
            "softmax",
            "sparse_categorical_crossentropy",
        ),
        ({"dataset": "spiral3"}, "softmax", "mse"),
        ({"dataset": "reg-gauss"}, "linear", "mse"),
    ],
)
def test_outputs_and_losses_follow_the_problem(patch, output, loss) -> None:
    session = Session(seed=2)
    session.apply(patch)
    assert (session.plan.output_activation, session.plan.loss) == (output, loss)
    before = session.loss_train
    session.apply({"optimizer": "adam", "learning_rate": 0.03})
    session.train(30)
    assert session.loss_train < before


def test_every_activation_dropout_and_regularization_train() -> None:
    session = Session(seed=3)
    for activation in ACTIVATIONS:
        session.apply(
            {
                "activation": activation,
                "dropout": 0.2,
                "regularization": "L1",
                "regularization_rate": 0.001,
                "layer_activations": ["", "relu"],
            }
        )
        assert session.plan.hidden_activations() == [activation, "relu"]
        session.train(1)
        assert np.isfinite(session.loss_train)


def test_the_loss_history_stays_bounded(monkeypatch) -> None:
    monkeypatch.setattr(session_module, "HISTORY_LIMIT", 16)
    session = Session(seed=4)
    for _ in range(100):
        session.train(1)
    assert len(session.history) <= 16 and session.history[-1][0] == 100
    epochs = [point[0] for point in session.history]
    assert epochs == sorted(epochs) and epochs[0] == 0


def test_editing_a_weight_changes_the_model() -> None:
    session = Session(seed=5)
    session.set_weight({"stage": 1, "kind": "weight", "from": 3, "to": 1, "value": 2.5})
    session.set_weight({"stage": 2, "kind": "bias", "to": 0, "value": -1e9})
    dense = [layer for layer in session.model.layers if type(layer).__name__ == "Dense"]
    assert dense[1].params["W"][3, 1] == 2.5 and dense[2].params["b"][0] == -1000.0
    for bad in (
        {"stage": 9, "to": 0, "value": 1},
        {"stage": 0, "from": 0, "to": 0, "value": "x"},
        {"stage": 0, "from": 0, "to": 0, "value": float("nan")},
        [],
    ):
        with pytest.raises(ValueError):
            session.set_weight(bad)


def test_frames_carry_the_weights_exactly() -> None:
    session = Session(seed=6)
    frame = session.frame()
    dense = [layer for layer in session.model.layers if type(layer).__name__ == "Dense"]
    for layer, sent in zip(dense, frame["weights"], strict=True):
        W = np.frombuffer(base64.b64decode(sent["W"]), "<f4").reshape(
            layer.params["W"].shape
        )
        np.testing.assert_array_equal(W, layer.params["W"])
    json.dumps(session.setup())  # plain JSON


def test_the_generated_code_rebuilds_this_exact_training(tmp_path: Path) -> None:
    session = Session(seed=7)
    session.apply(
        {
            "features": ["x", "y", "x_squared"],
            "hidden": [5, 3],
            "optimizer": "momentum",
            "regularization": "L2",
            "regularization_rate": 0.001,
            "batch_size": 7,
            "layer_activations": ["relu", ""],
            "dropout": 0.1,
        }
    )
    session.train(4)
    script = tmp_path / "playground.py"
    script.write_text(glassnet_code(session) + "\nmodel.save_weights('w.weights.h5')\n")
    subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        check=True,
        timeout=120,
        capture_output=True,
    )
    from glassnet.models import clone_model

    rebuilt = clone_model(session.model)
    rebuilt.load_weights(str(tmp_path / "w.weights.h5"))
    for a, b in zip(rebuilt.get_weights(), session.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_code_of_an_upload_reads_the_downloaded_data(tmp_path: Path) -> None:
    session = Session(seed=8)
    rows = "".join(
        f"{x},{-x / 2},{'a' if x > 0 else 'b'}\n" for x in np.linspace(-3, 3, 40)
    )
    session.use_upload(("length,width,label\n" + rows).encode())
    session.train(2)
    (tmp_path / DATA_FILE).write_bytes(
        base64.b64decode(download(session, "data")["base64"])
    )
    code = glassnet_code(session)
    assert "# the inputs: length, width\n" in code
    (tmp_path / "playground.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "playground.py"],
        cwd=tmp_path,
        timeout=120,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    assert f"train loss: {session.loss_train:.4f}" in result.stdout


def test_downloads_are_a_keras_model_and_its_page(tmp_path: Path) -> None:
    from glassnet.models import load_model

    session = Session(seed=9)
    session.train(3)
    keras = base64.b64decode(download(session, "keras")["base64"])
    assert "config.json" in zipfile.ZipFile(io.BytesIO(keras)).namelist()
    (tmp_path / "playground.keras").write_bytes(keras)
    loaded = load_model(str(tmp_path / "playground.keras"))
    np.testing.assert_array_equal(
        loaded.predict(session.x_test, verbose=0),
        session.model.predict(session.x_test, verbose=0),
    )
    html = base64.b64decode(download(session, "html")["base64"]).decode()
    assert "default-src 'none'" in html and '"task": "binary"' in html
    with pytest.raises(ValueError, match="download takes one of"):
        download(session, "secrets")
    assert Plan(session.config, 2, 2).task == "binary"
