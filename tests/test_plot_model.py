"""glassnet.plot.plot_model: every layer a box, every connection an arrow, files saved."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from glassnet import Input, Model  # noqa: E402
from glassnet import layers as gl  # noqa: E402
from glassnet.errors import (  # noqa: E402
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
)
from glassnet.models import Sequential  # noqa: E402
from glassnet.plot import plot_model  # noqa: E402
from glassnet.plot._layered import layered_layout  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def two_inputs() -> Model:
    """Two inputs, a branch, a skip connection, a three-way merge, a shared layer."""
    a = Input((4,), name="a")
    b = Input((3,), name="b")
    x = gl.Dense(8, activation="relu", name="lift")(a)
    y = gl.BatchNormalization(name="norm")(x)
    z = gl.Concatenate(name="join")([y, b, x])
    shared = gl.Dense(5, name="shared")
    added = gl.Add(name="sum")([shared(gl.Dense(19, name="deep")(z)), shared(z)])
    return Model([a, b], gl.Dense(1, name="out")(added), name="two_inputs")


EDGES = {
    ("a", "lift"),
    ("lift", "norm"),
    ("norm", "join"),
    ("b", "join"),
    ("lift", "join"),
    ("join", "deep"),
    ("join", "shared"),
    ("deep", "shared"),
    ("shared", "sum"),
    ("sum", "out"),
}


def boxes(figure: Figure) -> dict[str, tuple[float, float, float, float]]:
    """Each layer's box as (left, bottom, right, top) in inches."""
    found = {}
    for patch in figure.axes[0].patches:
        gid = patch.get_gid() or ""
        if gid.startswith("layer:"):
            x, y = patch.get_x(), patch.get_y()
            found[gid[6:]] = (x, y, x + patch.get_width(), y + patch.get_height())
    return found


def arrows(figure: Figure) -> dict[tuple[str, str], object]:
    found = {}
    for patch in figure.axes[0].patches:
        gid = patch.get_gid() or ""
        if gid.startswith("edge:"):
            source, target = gid[5:].split("->")
            found[(source, target)] = patch
    return found


def line_ends(arrow: object) -> tuple[np.ndarray, np.ndarray]:
    """Where an arrow's line starts and where it ends (at the tip of its head)."""
    path = arrow.get_path()  # type: ignore[attr-defined]
    # the line, then the head (MOVETO one side, LINETO the tip, LINETO the other)
    head = np.flatnonzero(path.codes == path.MOVETO)[1]
    return path.vertices[0], path.vertices[head + 1]


def texts(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].texts]


def test_every_layer_and_every_edge_of_a_branched_model_is_drawn(tmp_path) -> None:
    model = two_inputs()
    figure = plot_model(model, tmp_path / "model.png")
    assert isinstance(figure, Figure)
    drawn = boxes(figure)
    assert set(drawn) == {layer.name for layer in model.layers}  # shared: one box
    assert set(arrows(figure)) == EDGES
    shown = texts(figure)
    for layer in model.layers:
        assert f"{layer.name} ({type(layer).__name__})" in shown
    assert "Output shape: (None, 19)" in shown  # the three-way join: 8 + 3 + 8
    assert "Input shape: [(None, 8), (None, 3)," in shown  # its list, wrapped
    assert "Input shape: (None, 19)" in shown and "Output shape: (None, 1)" in shown
    data = (tmp_path / "model.png").read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 5000


def test_layout_ranks_branches_side_by_side_and_arrows_along_the_edges() -> None:
    figure = plot_model(two_inputs())
    drawn = boxes(figure)
    # no two boxes overlap
    for (_, p), (_, q) in itertools.combinations(drawn.items(), 2):
        assert p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1]
    # the two inputs share the top rank; a layer sits below everything feeding it
    assert drawn["a"][3] == pytest.approx(drawn["b"][3])
    for source, target in EDGES:
        assert drawn[source][1] > drawn[target][3]
    # the branch and the skip connection from `lift` run side by side into `join`
    assert drawn["norm"][1] > drawn["join"][3]
    # each arrow leaves its source's bottom edge and ends on its target's top edge
    for (source, target), arrow in arrows(figure).items():
        start, end = line_ends(arrow)
        left, bottom, right, _ = drawn[source]
        assert start[1] == pytest.approx(bottom) and left <= start[0] <= right
        left, _, right, top = drawn[target]
        # (matplotlib pulls the tip back by half the line width: under 0.02 inch)
        assert end[1] == pytest.approx(top, abs=0.02) and left <= end[0] <= right


def test_sequential_left_to_right_and_svg(tmp_path) -> None:
    model = Sequential(
        [gl.Dense(10, input_dim=2), gl.Activation("tanh"), gl.Dense(1)], name="seq"
    )
    figure = plot_model(model, str(tmp_path / "seq.svg"), rankdir="LR")
    drawn = boxes(figure)
    assert list(drawn) == ["dense", "activation", "dense_1"]  # no InputLayer box
    assert drawn["dense"][2] < drawn["activation"][0] < drawn["dense_1"][0]
    assert set(arrows(figure)) == {("dense", "activation"), ("activation", "dense_1")}
    assert "Input shape: (None, 2)" in texts(figure)
    assert (tmp_path / "seq.svg").read_text().lstrip().startswith("<?xml")


def test_what_each_box_shows() -> None:
    model = two_inputs()
    model.get_layer("out").trainable = False
    plain = texts(plot_model(model, show_shapes=False, show_layer_names=False))
    assert "Dense" in plain and "InputLayer" in plain
    assert not any("shape" in line for line in plain)
    rich = texts(
        plot_model(
            model, show_dtype=True, show_layer_activations=True, show_trainable=True
        )
    )
    assert "Activation: relu" in rich and "dtype: float32" in rich
    assert "Trainable: N" in rich and "Trainable: -" in rich


def test_a_layer_fed_its_own_output_is_drawn_with_a_loop() -> None:
    x = Input((4,), name="x")
    again = gl.Dense(4, name="again")
    model = Model(x, gl.Add(name="sum")([again(again(x)), x]))
    figure = plot_model(model)
    assert set(arrows(figure)) == {
        ("x", "again"),
        ("again", "again"),
        ("again", "sum"),
        ("x", "sum"),
    }


def test_the_layout_alone() -> None:
    # a diamond: one rank per step, the two middle boxes side by side
    layout = layered_layout(
        [(1.0, 0.5)] * 4, [(0, 1), (0, 2), (1, 3), (2, 3)], [0, 1, 1, 2]
    )
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = layout.centers
    assert y0 > y1 == y2 > y3 and abs(x1 - x2) >= 1.0
    assert x0 == pytest.approx((x1 + x2) / 2) and x3 == pytest.approx(x0)
    # an arrow skipping a rank passes beside the box there, not through it
    skip = layered_layout([(1.0, 0.5)] * 3, [(0, 1), (1, 2), (0, 2)], [0, 1, 2])
    middle = skip.centers[1][0]
    path = np.array(skip.paths[2])
    assert len(path) == 4 and np.all(np.abs(path[1:3, 0] - middle) >= 0.5)


def test_bad_arguments() -> None:
    with pytest.raises(NotBuiltError, match="not been built"):
        plot_model(Sequential([gl.Dense(1)]))
    model = two_inputs()
    with pytest.raises(InvalidArgumentError, match="to_file"):
        plot_model(model, "model.gif")
    with pytest.raises(GlassnetTypeError, match="to_file"):
        plot_model(model, 3)
    with pytest.raises(InvalidArgumentError, match="Received: rankdir='BT'"):
        plot_model(model, rankdir="BT")
    with pytest.raises(GlassnetTypeError, match="Received: model="):
        plot_model("model")


def test_keras_guide_call(tmp_path) -> None:
    # keras.utils.plot_model(model, "my_first_model_with_shape_info.png", show_shapes=True)
    path = Path(tmp_path) / "my_first_model_with_shape_info.png"
    plot_model(two_inputs(), str(path), show_shapes=True)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
