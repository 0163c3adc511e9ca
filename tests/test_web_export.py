"""model.export_html: the file itself (no browser): contents, safety, refusals, CLI."""

from __future__ import annotations

import argparse
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from glassnet import Input, Model
from glassnet.errors import DataError, InvalidArgumentError, ShapeError
from glassnet.layers import Add, Conv1D, Dense, Dropout, LeakyReLU
from glassnet.models import Sequential
from glassnet.utils import clear_session
from glassnet.web import model_to_json, render_html
from glassnet.web.json_text import readable_json

HOSTILE = "</script><script>alert(1)</script>"


def xor_model(**kwargs) -> Sequential:
    model = Sequential(
        [Dense(4, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")],
        seed=0,
        **kwargs,
    )
    return model


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str, str]] = []
        self.blocks: dict[str, str] = {}
        self.tags: list[str] = []
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
        attributes = dict(attrs)
        if tag == "script" and attributes.get("type") == "application/json":
            self._current = attributes["id"]

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.blocks[self._current] = self.blocks.get(self._current, "") + data

    def handle_endtag(self, tag: str) -> None:
        self._current = None


def parse(text: str) -> _Collect:
    collector = _Collect()
    collector.feed(text)
    return collector


def test_the_page_holds_the_weights_as_readable_json(tmp_path: Path) -> None:
    model = xor_model()
    path = tmp_path / "net.html"
    model.export_html(path)
    text = path.read_text("utf-8")
    spec = json.loads(parse(text).blocks["glassnet-model"])
    weights = model.get_weights()
    dense = [layer for layer in spec["layers"] if layer["class_name"] == "Dense"]
    for layer, (W, b) in zip(
        dense, zip(weights[::2], weights[1::2], strict=True), strict=True
    ):
        # each number reads back as exactly the float32 weight
        np.testing.assert_array_equal(np.float32(layer["W"]), W)
        np.testing.assert_array_equal(np.float32(layer["b"]), b)
    # one weight row per line, shortest decimals: "view source and see the numbers"
    first_row = ", ".join(str(v) for v in weights[0][0].tolist())
    assert first_row not in text  # float64 reprs of float32 values are long...
    assert "[" + ", ".join(str(np.float32(v)) for v in weights[0][0]) + "]" in text


def test_self_contained_under_a_strict_policy() -> None:
    text = render_html(xor_model())
    collected = parse(text)
    for tag, name, value in collected.attributes:
        if name in ("src", "href"):
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
    assert "script" in collected.tags and "link" in collected.tags
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert policy is not None
    directives = dict(part.split(" ", 1) for part in policy.group(1).split("; "))
    assert directives["default-src"] == "'none'"
    assert "'unsafe-inline'" not in policy.group(
        1
    ) and "'unsafe-eval'" not in policy.group(1)
    assert all(src.startswith("'sha256-") for src in directives["script-src"].split())
    assert 'type="module"' not in text and "import(" not in text


def test_same_model_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([0, 1, 1, 0])
    model = xor_model()
    model.export_html(a, data=(x, y))
    model.export_html(b, data=(x, y))
    assert a.read_bytes() == b.read_bytes()
    clear_session()  # the same names again
    xor_model().export_html(b, data=(x, y))  # a second model, same seed
    assert a.read_bytes() == b.read_bytes()


def test_hostile_names_are_escaped_as_data() -> None:
    model = xor_model()
    model.layers[0].name = HOSTILE  # layer names are checked at construction only
    model.name = HOSTILE
    text = render_html(
        model,
        feature_names=[HOSTILE, "<img src=x onerror=alert(2)>"],
        class_names=[HOSTILE, "&"],
    )
    assert HOSTILE not in text
    assert "<img src=x" not in text and "onerror=alert(2)>" not in text
    collected = parse(text)
    page = json.loads(collected.blocks["glassnet-page"])
    assert page["feature_names"][0] == HOSTILE and page["class_names"] == [HOSTILE, "&"]
    assert (
        json.loads(collected.blocks["glassnet-model"])["layers"][0]["name"] == HOSTILE
    )
    assert "<title>&lt;/script&gt;" in text


def test_readable_json_escapes_and_refuses_nan() -> None:
    assert readable_json({"a": "<&>"}) == '{\n "a": "\\u003c\\u0026\\u003e"\n}'
    with pytest.raises(ValueError):
        readable_json({"a": float("nan")})


def test_unsupported_layers_are_refused_listing_what_is_supported() -> None:
    model = Sequential([Conv1D(2, 3, input_shape=(8, 1))])
    with pytest.raises(
        InvalidArgumentError, match=r"cannot run layer 'conv1d' \(Conv1D\)"
    ) as e:
        render_html(model)
    assert "Dense, Activation" in str(e.value) and "softmax" in str(e.value)


def test_non_finite_weights_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    model = xor_model()
    model.layers[1].params["W"][0, 0] = np.inf
    path = tmp_path / "net.html"
    with pytest.raises(ValueError, match="NaN or infinite values in its weights 'W'"):
        model.export_html(path)
    assert list(tmp_path.iterdir()) == []


def test_functional_chains_export_and_graphs_are_refused() -> None:
    x = Input((3,))
    h = Dense(4, activation="relu")(x)
    chain = Model(x, Dense(2, activation="softmax")(Dropout(0.1)(LeakyReLU()(h))))
    spec = model_to_json(chain)
    assert [layer["class_name"] for layer in spec["layers"]] == [
        "Dense",
        "Activation",
        "Dropout",
        "Dense",
    ]
    assert spec["output"]["task"] == "multiclass"
    y = Input((3,))
    branches = Model(y, Add()([Dense(2)(y), Dense(2)(y)]))
    with pytest.raises(InvalidArgumentError, match="not a chain"):
        model_to_json(branches)
    with pytest.raises(InvalidArgumentError, match="not built yet"):
        model_to_json(Sequential([Dense(2)]))


@pytest.mark.parametrize(
    ("layers", "loss", "task", "probability"),
    [
        ([Dense(1, activation="sigmoid")], None, "binary", "identity"),
        ([Dense(3, activation="softmax")], None, "multiclass", "identity"),
        ([Dense(1)], "binary_crossentropy", "binary", "sigmoid"),
        ([Dense(3)], "sparse_categorical_crossentropy", "multiclass", "softmax"),
        ([Dense(1)], "mse", "regression", None),
        ([Dense(1, activation="tanh")], None, "regression", None),
    ],
)
def test_the_task_is_read_from_the_model(layers, loss, task, probability) -> None:
    from glassnet.losses import get as get_loss

    model = Sequential([Input((2,)), *layers], seed=0)
    if loss is not None:
        logits = loss != "mse"
        model.compile(
            loss=get_loss({"class_name": loss, "config": {"from_logits": logits}})
            if logits
            else loss,
            optimizer="sgd",
        )
    assert model_to_json(model)["output"]["task"] == task
    assert model_to_json(model)["output"]["probability"] == probability


def test_a_tanh_output_read_as_binary_by_request() -> None:
    model = Sequential([Dense(1, activation="tanh", input_dim=2)], seed=0)
    assert model_to_json(model, task="binary")["output"]["probability"] == "tanh"
    with pytest.raises(InvalidArgumentError, match="binary task needs one output unit"):
        model_to_json(Sequential([Dense(2, input_dim=2)]), task="binary")
    with pytest.raises(InvalidArgumentError, match="Argument `task` must be one of"):
        model_to_json(model, task="ranking")


def test_bad_arguments_say_what_was_expected() -> None:
    model = xor_model()
    with pytest.raises(InvalidArgumentError, match="`feature_names` must hold 2 names"):
        render_html(model, feature_names=["a"])
    with pytest.raises(InvalidArgumentError, match="`class_names` must hold 2 names"):
        render_html(model, class_names=["a", "b", "c"])
    with pytest.raises(ShapeError, match=r"x must be shaped \(n, 2\)"):
        render_html(model, data=(np.zeros((3, 3)), np.zeros(3)))
    with pytest.raises(DataError, match="NaN or infinite"):
        render_html(model, data=(np.array([[0.0, np.nan]]), np.array([1])))
    with pytest.raises(DataError, match="class indices 0 to 1"):
        render_html(model, data=(np.zeros((2, 2)), np.array([0, 2])))
    with pytest.raises(InvalidArgumentError, match="low < high"):
        render_html(model, domain=[[1, 0], [0, 1]])
    with pytest.raises(
        ShapeError, match="a \\(low, high\\) pair for each of the 2 inputs"
    ):
        render_html(model, domain=[0, 1])
    regression = Sequential([Dense(1, input_dim=2)])
    with pytest.raises(InvalidArgumentError, match="`class_names` is for classifiers"):
        render_html(regression, class_names=["a", "b"])


def test_ranges_come_from_the_data_or_the_domain() -> None:
    model = xor_model()
    x = np.array([[0.0, -2.0], [1.0, 3.0]])
    page = json.loads(
        parse(render_html(model, data=(x, [0, 1]))).blocks["glassnet-page"]
    )
    (x0, x1), (y0, y1) = page["ranges"]
    assert x0 <= -0.1 and x1 >= 1.1 and y0 <= -2.5 and y1 >= 3.5  # 10% margins
    assert x1 - x0 < 1.3
    page = json.loads(
        parse(render_html(model, domain=[[-6, 6], [-5, 5]])).blocks["glassnet-page"]
    )
    assert page["ranges"] == [[-6.0, 6.0], [-5.0, 5.0]]
    # -1/1 labels (the Playground's) become classes 0 and 1; one-hot rows their index
    page = json.loads(
        parse(render_html(model, data=(x, np.array([-1, 1])))).blocks["glassnet-page"]
    )
    assert page["data"]["y"] == [0, 1]


def test_many_points_are_thinned_evenly() -> None:
    from glassnet.web import MAX_POINTS

    model = xor_model()
    x = np.random.default_rng(0).uniform(-1, 1, (MAX_POINTS + 500, 2))
    page = json.loads(
        parse(render_html(model, data=(x, x[:, 0] > 0))).blocks["glassnet-page"]
    )
    assert len(page["data"]["x"]) == MAX_POINTS
    assert (
        page["data"]["x"][0] == x[0].tolist()
        and page["data"]["x"][-1] == x[-1].tolist()
    )


def test_overwrite_false_keeps_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "net.html"
    path.write_text("mine")
    with pytest.raises(FileExistsError):
        xor_model().export_html(path, overwrite=False)
    assert path.read_text() == "mine"


def test_the_command_line_exports_a_saved_model(tmp_path: Path, capsys) -> None:
    from glassnet.cli.web_commands import run_export_html

    model = xor_model()
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    saved, out = tmp_path / "xor.keras", tmp_path / "xor.html"
    model.save(saved)
    args = argparse.Namespace(
        model=str(saved),
        output=str(out),
        feature_names="a,b",
        class_names=None,
        title="XOR",
        overwrite=False,
        task=None,
    )
    assert run_export_html(args) == 0
    page = json.loads(parse(out.read_text("utf-8")).blocks["glassnet-page"])
    assert page["feature_names"] == ["a", "b"] and page["title"] == "XOR"
    assert str(out) in capsys.readouterr().out
    from glassnet.cli.app import CliError

    with pytest.raises(CliError, match="already exists"):
        run_export_html(args)


# Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB
_CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def _lab(linear: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of a linear sRGB colour."""
    xyz = (
        np.array(
            [
                [0.4124, 0.3576, 0.1805],
                [0.2126, 0.7152, 0.0722],
                [0.0193, 0.1192, 0.9505],
            ]
        )
        @ linear
        / np.array([0.95047, 1, 1.08883])
    )
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_colours_stay_apart_for_colour_blind_readers() -> None:
    views = (Path(__file__).parents[1] / "src/glassnet/web/assets/views.js").read_text()
    named = dict(re.findall(r"(ORANGE|BLUE|NEUTRAL) = \[(\d+, \d+, \d+)\]", views))
    palette = re.search(r"CLASS_COLOURS = \[ORANGE, BLUE, (.*?)\];", views, re.S).group(
        1
    )
    colours = [
        named["ORANGE"],
        named["BLUE"],
        *re.findall(r"\[(\d+, \d+, \d+)\]", palette),
    ]
    rgb = [np.array([float(v) for v in c.split(",")]) / 255 for c in colours]
    neutral = np.array([float(v) for v in named["NEUTRAL"].split(",")]) / 255
    linear = [np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
              for c in [*rgb, neutral]]  # fmt: skip
    assert len(colours) == 8
    for name, matrix in _CVD.items():
        seen = [_lab(np.clip(np.array(matrix) @ c, 0, 1)) for c in linear]
        for i in range(len(seen)):
            for j in range(i + 1, len(seen) - 1):  # every pair of class colours
                assert np.linalg.norm(seen[i] - seen[j]) > 12, (name, i, j)
        for i in (0, 1):  # orange and blue against the neutral middle of the scales
            assert np.linalg.norm(seen[i] - seen[-1]) > 30, (name, i)


def test_every_asset_is_package_data() -> None:
    import fnmatch

    import tomllib

    root = Path(__file__).parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["glassnet"]  # fmt: skip
    for asset in (root / "src/glassnet/web/assets").iterdir():
        relative = f"web/assets/{asset.name}"
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
