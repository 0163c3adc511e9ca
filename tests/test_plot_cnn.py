"""glassnet.plot: a convolution layer's filters and any layer's feature maps.

Each picture has one axis per image, and each image holds exactly the weights or
the activations it claims to show.
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
    NotBuiltError,
)
from glassnet.models import Sequential  # noqa: E402
from glassnet.plot import plot_feature_maps, plot_filters  # noqa: E402
from glassnet.utils import clear_session  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def cnn() -> Sequential:
    clear_session()
    return Sequential(
        [
            gl.Input((8, 8, 1)),
            gl.Conv2D(8, 3, padding="same", activation="relu"),
            gl.MaxPooling2D(),
            gl.Conv2D(4, 3, padding="same", activation="relu"),
            gl.Flatten(),
            gl.Dense(10, activation="softmax"),
        ],
        seed=0,
    )


def image() -> np.ndarray:
    return np.random.default_rng(3).random((8, 8, 1)).astype(np.float32)


def shown(ax) -> np.ndarray:
    return np.asarray(ax.images[0].get_array())


def test_first_layer_filters_one_image_each() -> None:
    model = cnn()
    figure = plot_filters(model)
    assert isinstance(figure, Figure)
    kernel = model.layers[0].params["W"]  # (3, 3, 1, 8)
    assert len(figure.axes) == 8
    for f, ax in enumerate(figure.axes):
        np.testing.assert_array_equal(shown(ax), kernel[:, :, 0, f])
        assert ax.get_title() == f"f{f}"
    # one colour scale for the layer, symmetric about 0
    scale = np.abs(kernel).max()
    for ax in figure.axes:
        low, high = ax.images[0].get_clim()
        assert low == pytest.approx(-scale) and high == pytest.approx(scale)


def test_filters_per_input_channel() -> None:
    model = cnn()
    figure = plot_filters(model, "conv2d_1")
    kernel = model.layers[2].params["W"]  # (3, 3, 8, 4): 4 filters x 8 channels
    assert len(figure.axes) == 4 * 8
    for f in range(4):
        for c in range(8):
            np.testing.assert_array_equal(
                shown(figure.axes[f * 8 + c]), kernel[:, :, c, f]
            )
    assert figure.axes[0].get_title() == "c0" and figure.axes[0].get_ylabel() == "f0"
    smaller = plot_filters(model, 2, max_filters=3, max_channels=2)
    assert len(smaller.axes) == 6
    np.testing.assert_array_equal(shown(smaller.axes[5]), kernel[:, :, 1, 2])
    assert "first 3 of 4 filters, 2 of 8 channels" in smaller._suptitle.get_text()


def test_filters_of_a_lone_layer_and_of_conv1d(tmp_path: Path) -> None:
    layer = gl.Conv1D(3, 5)
    layer.build((20, 2), np.random.default_rng(0), np.float32)
    path = tmp_path / "filters.png"
    figure = plot_filters(layer, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(figure.axes) == 3 * 2
    np.testing.assert_array_equal(
        shown(figure.axes[1]), layer.params["W"][:, 1, 0][None]
    )


def test_feature_maps_of_a_convolution_are_its_activations() -> None:
    model = cnn()
    x = image()
    figure = plot_feature_maps(model, x)  # the first convolution by default
    expected = model.layers[0].forward(x[None])[0]  # (8, 8, 8)
    assert len(figure.axes) == 8
    for c, ax in enumerate(figure.axes):
        np.testing.assert_array_equal(shown(ax), expected[:, :, c])
        assert ax.images[0].get_clim() == pytest.approx(
            (expected.min(), expected.max())
        )


def test_feature_maps_of_any_layer() -> None:
    model = cnn()
    x = image()
    pooled = plot_feature_maps(model, x[None], "max_pooling2d")
    h = model.layers[1].forward(model.layers[0].forward(x[None]))[0]  # (4, 4, 8)
    assert len(pooled.axes) == 8
    np.testing.assert_array_equal(shown(pooled.axes[3]), h[:, :, 3])
    few = plot_feature_maps(model, x, "conv2d_1", max_channels=2)
    assert len(few.axes) == 2
    dense = plot_feature_maps(model, x, "dense")
    probabilities = model.predict(x[None], verbose=0)[0]
    assert len(dense.axes) == 1
    heights = [bar.get_height() for bar in dense.axes[0].patches]
    np.testing.assert_allclose(heights, probabilities, rtol=1e-6)


def test_feature_maps_of_a_conv1d_are_curves() -> None:
    clear_session()
    model = Sequential([gl.Input((30, 1)), gl.Conv1D(3, 5, activation="relu")], seed=0)
    x = np.sin(np.arange(30) / 4)[:, None]
    figure = plot_feature_maps(model, x)
    expected = model.predict(x[None], verbose=0)[0]  # (26, 3)
    assert len(figure.axes) == 3
    for c, ax in enumerate(figure.axes):
        np.testing.assert_allclose(ax.lines[0].get_ydata(), expected[:, c], rtol=1e-6)


def test_bad_arguments() -> None:
    model = cnn()
    with pytest.raises(InvalidArgumentError, match="Conv1D or Conv2D"):
        plot_filters(model, "dense")
    with pytest.raises(NotBuiltError, match="not built"):
        plot_filters(gl.Conv2D(2, 3))
    with pytest.raises(GlassnetTypeError, match="Received: list"):
        plot_filters([1, 2])
    with pytest.raises(InvalidArgumentError, match="max_filters"):
        plot_filters(model, max_filters=0)
    with pytest.raises(InvalidArgumentError, match="no such layer"):
        plot_feature_maps(model, image(), "conv9")
