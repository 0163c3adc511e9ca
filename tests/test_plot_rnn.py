"""glassnet.plot.plot_hidden_states: the pictures hold the layer's own states.

Every heatmap is compared with what the layer computes: ``h`` with the outputs of
a twin layer that returns every step, an LSTM's ``c`` with the cell states its
forward pass keeps for backward, the input panel with the layer's input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import glassnet.layers as gl  # noqa: E402
from glassnet.errors import (  # noqa: E402
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)
from glassnet.layers.lstm_steps import keras_layout  # noqa: E402
from glassnet.models import Sequential  # noqa: E402
from glassnet.plot import plot_hidden_states  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def every_step(layer, x: np.ndarray) -> np.ndarray:
    """The layer's h at every step (a twin with return_sequences and its weights)."""
    config = {**layer.get_config(), "return_sequences": True}
    twin = type(layer).from_config(config)
    twin.build((None, x.shape[-1]), np.random.default_rng(0), layer.params["W"].dtype)
    twin.set_weights(layer.get_weights())
    return twin.forward(x[None])[0]


def titled(figure: Figure) -> list:
    return [ax for ax in figure.axes if ax.get_title()]


def shown(ax) -> np.ndarray:
    return np.asarray(ax.images[0].get_array())


def digits_lstm() -> Sequential:
    return Sequential(
        [
            gl.Input((8, 8)),
            gl.LSTM(16, name="lstm"),
            gl.Dense(10, activation="softmax"),
        ],
        seed=0,
    )


def test_an_lstm_on_a_digit_read_row_by_row() -> None:
    model = digits_lstm()
    x = np.random.default_rng(1).random((8, 8)).astype(np.float32)
    figure = plot_hidden_states(model, x)
    panels = titled(figure)
    assert [ax.get_title() for ax in panels] == [
        "input x_t",
        "hidden state h_t",
        "cell state c_t",
    ]
    lstm = model.layers[0]
    np.testing.assert_array_equal(shown(panels[0]), x.T.astype(np.float64))
    h = every_step(lstm, x)  # (8 steps, 16 units) in float32
    np.testing.assert_allclose(shown(panels[1]), h.T, rtol=1e-5, atol=1e-6)
    lstm.forward(x[None], keep_cache=True)
    cells = keras_layout(lstm._cache[2])[2][..., 0]  # (steps, units): its cells
    np.testing.assert_allclose(shown(panels[2]), cells.T, rtol=1e-5, atol=1e-6)
    # a tanh layer's h on -1 .. 1; the cell state up to its largest magnitude
    assert panels[1].images[0].get_clim() == (-1.0, 1.0)
    scale = np.abs(cells).max()
    assert panels[2].images[0].get_clim() == pytest.approx((-scale, scale), rel=1e-6)
    # steps 1 .. 8 along x, units down y, a colour bar next to every heatmap
    assert panels[1].images[0].get_extent() == [0.5, 8.5, 15.5, -0.5]
    assert len(figure.axes) == 6
    assert panels[-1].get_xlabel() == "step t"
    assert "lstm (LSTM, 16 units) over 8 steps" in figure._suptitle.get_text()


def test_a_gru_after_an_embedding_with_character_labels(tmp_path: Path) -> None:
    model = Sequential(
        [gl.Input((5,)), gl.Embedding(10, 3), gl.GRU(6, name="gru")], seed=0
    )
    ids = np.array([1, 2, 3, 3, 4])
    path = tmp_path / "states.png"
    figure = plot_hidden_states(model, ids, labels="hello", path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    panels = titled(figure)
    assert [ax.get_title() for ax in panels] == ["input x_t", "hidden state h_t"]
    embedded = model.layers[0].params["embeddings"][ids]
    np.testing.assert_allclose(shown(panels[0]), embedded.T, rtol=1e-6)
    expected = model.predict(ids[None], verbose=0)[0]  # the GRU's last h
    np.testing.assert_allclose(shown(panels[1])[:, -1], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        shown(panels[1]), every_step(model.layers[1], embedded).T, rtol=1e-5, atol=1e-6
    )
    ticks = [t.get_text() for t in panels[1].get_xticklabels()]
    assert ticks == list("hello")


def test_one_feature_is_a_curve_and_options() -> None:
    layer = gl.SimpleRNN(5, activation="relu", go_backwards=True, name="rnn")
    layer.build((None, 1), np.random.default_rng(0), np.float64)
    x = np.sin(np.arange(10.0) / 2)[:, None]
    figure = plot_hidden_states(layer, x, max_units=3)
    panels = titled(figure)
    # go_backwards: the steps in the order the layer reads them, the input reversed
    curve = panels[0].lines[0]
    np.testing.assert_array_equal(curve.get_xdata(), np.arange(1, 11))
    np.testing.assert_array_equal(curve.get_ydata(), x[::-1, 0])
    h = every_step(layer, x)  # go_backwards: outputs come in reading order
    np.testing.assert_allclose(shown(panels[1]), h[:, :3].T, rtol=1e-12)
    scale = np.abs(h[:, :3]).max()  # relu is not bounded: the largest magnitude
    assert panels[1].images[0].get_clim() == pytest.approx((-scale, scale))
    assert panels[-1].get_xlabel() == "step t (read from the end)"
    assert "(first 3 of 5 units)" in figure._suptitle.get_text()
    lstm = gl.LSTM(2)
    lstm.build((None, 1), np.random.default_rng(0), np.float64)
    only_h = plot_hidden_states(lstm, x, cell_state=False, show_input=False)
    assert [ax.get_title() for ax in titled(only_h)] == ["hidden state h_t"]


def test_bad_arguments() -> None:
    model = digits_lstm()
    x = np.zeros((8, 8))
    with pytest.raises(ShapeError, match="one label per step"):
        plot_hidden_states(model, x, labels="abc")
    with pytest.raises(GlassnetTypeError, match="labels"):
        plot_hidden_states(model, x, labels=3)
    with pytest.raises(InvalidArgumentError, match="max_units"):
        plot_hidden_states(model, x, max_units=0)
    with pytest.raises(GlassnetTypeError, match="cell_state"):
        plot_hidden_states(model, x, cell_state="yes")
    with pytest.raises(InvalidArgumentError, match="Dense"):
        plot_hidden_states(model, x, layer=-1)
    with pytest.raises(ShapeError, match="one sample"):
        plot_hidden_states(model, np.zeros((2, 8, 8)))
