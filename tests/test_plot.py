"""glassnet.plot: every picture renders headless, has its panels and saves a PNG."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from glassnet.callbacks import History  # noqa: E402
from glassnet.errors import (  # noqa: E402
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)
from glassnet.layers import Activation, Dense, Dropout  # noqa: E402
from glassnet.models import Sequential  # noqa: E402
from glassnet.plot import (  # noqa: E402
    DecisionBoundaryFrames,
    plot_decision_boundary,
    plot_history,
    plot_network,
)
from glassnet.plot._mpl import NEGATIVE, POSITIVE  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_png(path: Path) -> None:
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000


def xor_model(seed: int = 0) -> Sequential:
    model = Sequential(
        [Dense(3, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")],
        seed=seed,
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


# -- history --------------------------------------------------------------------------
def test_history_one_axis_per_metric_training_and_validation(tmp_path, xor) -> None:
    x, y = xor
    model = xor_model()
    history = model.fit(x, y, epochs=4, validation_data=(x, y), verbose=0)
    figure = plot_history(history, path=tmp_path / "history.png")
    assert isinstance(figure, Figure)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    loss_ax = figure.axes[0]
    train, val = loss_ax.lines[0], loss_ax.lines[1]
    np.testing.assert_allclose(train.get_ydata(), history.history["loss"])
    np.testing.assert_allclose(val.get_ydata(), history.history["val_loss"])
    assert list(train.get_xdata()) == [1, 2, 3, 4]
    assert_png(tmp_path / "history.png")


def test_history_from_a_dict_and_bad_input() -> None:
    figure = plot_history({"loss": [1.0, 0.5], "mae": [2.0, 1.0], "lr": [0.1, 0.1]})
    assert len(figure.axes) == 3
    with pytest.raises(DataError, match="empty"):
        plot_history(History())
    with pytest.raises(GlassnetTypeError, match="History"):
        plot_history([0.5, 0.4])


# -- decision boundary ------------------------------------------------------------------
def test_decision_boundary_output_only(tmp_path, xor) -> None:
    x, y = xor
    figure = plot_decision_boundary(
        xor_model(), x, y, resolution=20, path=tmp_path / "boundary.png"
    )
    assert len(figure.axes) == 1
    assert "o1 = 0.5" in figure.axes[0].get_title()
    assert_png(tmp_path / "boundary.png")


def test_decision_boundary_with_every_hidden_neuron(xor) -> None:
    x, y = xor
    model = Sequential(
        [
            Dense(3, input_dim=2),
            Activation("relu"),
            Dropout(0.2),
            Dense(2, activation="tanh"),
            Dense(1, activation="sigmoid"),
        ],
        seed=1,
    )
    before = model.get_weights()
    figure = plot_decision_boundary(model, x, y, neurons=True, resolution=16)
    assert len(figure.axes) == 3 + 2 + 1
    labels = [text.get_text() for ax in figure.axes for text in ax.texts]
    assert labels == ["h1", "h2", "h3", "h4", "h5"]
    assert figure.axes[0].get_title() == "dense + activation\nrelu"
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_decision_boundary_truncates_wide_layers_and_handles_classes() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    labels = rng.integers(0, 3, 30)
    model = Sequential(
        [Dense(12, activation="relu", input_dim=2), Dense(3, activation="softmax")]
    )
    figure = plot_decision_boundary(
        model, x, labels, neurons=True, max_neurons=4, resolution=12
    )
    assert len(figure.axes) == 4 + 1
    assert "8 more" in figure.axes[3].get_xlabel()
    one_hot = np.eye(3)[labels]
    assert len(plot_decision_boundary(model, x, one_hot, resolution=12).axes) == 1


def test_decision_boundary_needs_two_inputs() -> None:
    model = Sequential([Dense(1, input_dim=3)])
    with pytest.raises(ShapeError, match="two input features"):
        plot_decision_boundary(model, np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"\(n, 2\)"):
        plot_decision_boundary(xor_model(), np.zeros((4, 3)))


def test_frames_are_saved_during_fit(tmp_path, xor) -> None:
    x, y = xor
    model = xor_model()
    open_figures = plt.get_fignums()
    frames = DecisionBoundaryFrames(
        x, y, every=2, folder=tmp_path / "frames", neurons=True, resolution=10
    )
    model.fit(x, y, epochs=5, callbacks=[frames], verbose=0)
    names = [path.name for path in frames.paths]
    assert names == ["frame_00002.png", "frame_00004.png", "frame_00005.png"]
    for path in frames.paths:
        assert_png(path)
    assert plt.get_fignums() == open_figures  # frames never go through pyplot


def test_frames_check_their_arguments(tmp_path, xor) -> None:
    x, y = xor
    with pytest.raises(InvalidArgumentError, match="every"):
        DecisionBoundaryFrames(x, y, every=0, folder=tmp_path)
    with pytest.raises(InvalidArgumentError, match="prefix"):
        DecisionBoundaryFrames(x, y, folder=tmp_path, prefix="a/b")
    frames = DecisionBoundaryFrames(np.zeros((4, 2)), folder=tmp_path)
    wide = Sequential([Dense(1, input_dim=3)])
    wide.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ShapeError):
        wide.fit(np.zeros((4, 3)), np.zeros(4), callbacks=[frames], verbose=0)


# -- network --------------------------------------------------------------------------
def test_network_of_the_seed_tutorial(tmp_path) -> None:
    model = Sequential(
        [Dense(2, activation="sigmoid", input_dim=2), Dense(1, activation="sigmoid")]
    )
    model.set_weights(
        [np.array([[1.0, -2.0], [0.5, 1.0]]), np.zeros(2), np.ones((2, 1)), np.zeros(1)]
    )
    figure = plot_network(model, path=tmp_path / "network.png")
    (ax,) = figure.axes
    assert sum(isinstance(p, Circle) for p in ax.patches) == 5
    texts = {t.get_text() for t in ax.texts}
    assert {"x1", "x2", "h1", "h2", "o1"} <= texts
    assert {f"w{i}" for i in range(1, 7)} <= texts
    edges = [line for line in ax.lines if len(line.get_xdata()) == 2]
    assert len(edges) == 6
    colours = [to_hex(line.get_color()) for line in edges]
    # W[0, 1] = -2 is w3 (x1 -> h2), the only negative weight, and the widest edge
    assert colours.count(NEGATIVE) == 1 and colours.count(POSITIVE) == 5
    widths = [line.get_linewidth() for line in edges]
    assert colours[widths.index(max(widths))] == NEGATIVE
    assert_png(tmp_path / "network.png")


def test_network_truncates_wide_layers() -> None:
    model = Sequential(
        [Dense(64, activation="relu", input_dim=20), Dense(3, activation="softmax")]
    )
    (ax,) = plot_network(model, max_neurons=8).axes
    assert sum(isinstance(p, Circle) for p in ax.patches) == 7 + 7 + 3
    texts = {t.get_text() for t in ax.texts}
    assert {"x20", "h64", "o3"} <= texts and "w1" not in texts


def test_plot_network_rejects_other_layers() -> None:
    with pytest.raises(InvalidArgumentError, match="Dense layer first"):
        plot_network(Sequential([Activation("relu", input_dim=2)]))


# -- matplotlib is optional ---------------------------------------------------------
def test_without_matplotlib_the_error_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install glassnet\[plot\]"):
        plot_history({"loss": [1.0]})
