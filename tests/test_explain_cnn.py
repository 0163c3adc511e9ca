"""glassnet.explain.convolution: one convolution as col @ W + b, equal to the layer.

The column matrix is checked against an independent oracle (NumPy's
``sliding_window_view`` on a padded input, equal), the product against the layer's
own forward pass (equal to rounding: the layer folds ``b`` into its one matrix
product as a column of ones, which rounds the last bit differently from adding
``b`` after ``col @ W``), and the printed table against the numbers it shows.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import glassnet.layers as gl
from glassnet import Input, Model
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
    ShapeError,
)
from glassnet.explain import ConvolutionTable, convolution, layer_values
from glassnet.models import Sequential
from glassnet.utils import clear_session


def digit_image() -> np.ndarray:
    """A handwritten-looking 8 x 8 image with values in [0, 1] (no sklearn needed)."""
    rng = np.random.default_rng(7)
    image = np.zeros((8, 8, 1), np.float32)
    image[1:7, 2:6, 0] = rng.integers(0, 17, (6, 4)) / 16
    return image


def digits_cnn(dtype: str = "float32") -> Sequential:
    clear_session()
    model = Sequential(
        [
            Input((8, 8, 1)),
            gl.Conv2D(8, 3, padding="same", activation="relu"),
            gl.MaxPooling2D(),
            gl.Conv2D(16, 3, padding="same", activation="relu"),
            gl.MaxPooling2D(),
            gl.Flatten(),
            gl.Dense(10, activation="softmax"),
        ],
        seed=0,
        dtype=dtype,
    )
    bias = np.random.default_rng(1).normal(size=8) * 0.1  # nonzero biases
    model.layers[0].params["b"][...] = bias
    return model


def assert_same(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal to the last bits of the dtype (see the module docstring)."""
    assert got.dtype == expected.dtype and got.shape == expected.shape
    tight = 1e-6 if got.dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, expected, rtol=tight, atol=tight)


def oracle_columns(x: np.ndarray, layer: Any) -> np.ndarray:
    """im2col written independently: padded input, every dilated window, strided."""
    rank = layer.rank
    pads = []
    for n, k, s, d in zip(
        x.shape[:-1], layer.kernel_size, layer.strides, layer.dilation_rate, strict=True
    ):
        span = (k - 1) * d + 1
        if layer.padding == "same":
            total = max((-(-n // s) - 1) * s + span - n, 0)
            pads.append((total // 2, total - total // 2))
        elif layer.padding == "causal":
            pads.append((span - 1, 0))
        else:
            pads.append((0, 0))
    padded = np.pad(x, [*pads, (0, 0)])
    spans = [
        (k - 1) * d + 1
        for k, d in zip(layer.kernel_size, layer.dilation_rate, strict=True)
    ]
    windows = sliding_window_view(padded, spans, axis=tuple(range(rank)))
    # windows: (*positions, C, *spans): take every stride-th position, every d-th tap
    index = tuple(slice(None, None, s) for s in layer.strides)
    windows = windows[index]
    taps = tuple(slice(None, None, d) for d in layer.dilation_rate)
    windows = windows[(..., *taps)]
    # -> (*positions, *kernel, C), rows in position order, columns (i, j, c)
    order = [*range(rank), *range(rank + 1, 2 * rank + 1), rank]
    windows = windows.transpose(order)
    positions = int(np.prod(windows.shape[:rank]))
    return windows.reshape(positions, -1)


def test_the_product_is_the_layers_forward_on_a_real_input() -> None:
    model = digits_cnn()
    image = digit_image()
    table = convolution(model, image)
    assert isinstance(table, ConvolutionTable) and table.layer == "conv2d"
    assert table.columns.shape == (64, 9)  # 8 x 8 positions, 3 x 3 x 1 offsets
    assert table.kernel_matrix.shape == (9, 8)
    assert table.z.shape == (64, 8) and table.output.shape == (8, 8, 8)
    conv = model.layers[0]
    y = conv.forward(image[None], keep_cache=True)[0]
    assert_same(table.y, y)
    assert_same(table.output, conv.logits[0])
    np.testing.assert_array_equal(table.columns, oracle_columns(image, conv))
    np.testing.assert_array_equal(table.kernel_matrix, conv.params["W"].reshape(9, 8))
    np.testing.assert_array_equal(table.bias, conv.params["b"])
    # z reshaped row-major: row p = (oh, ow) is output position divmod(p, 8)
    np.testing.assert_array_equal(table.z[8 * 3 + 5], table.output[3, 5])
    assert table.padded.shape == (10, 10, 1) and table.pads == ((1, 1), (1, 1))


def test_a_deeper_layer_gets_its_input_from_the_model() -> None:
    model = digits_cnn()
    image = digit_image()
    table = convolution(model, image[None], "conv2d_1", position=(1, 2), filter_index=5)
    assert table.columns.shape == (16, 72) and table.kernel_matrix.shape == (72, 16)
    h = image[None]
    for layer in model.layers[:3]:
        h = layer.forward(h)
    np.testing.assert_array_equal(
        table.x, model.layers[1].forward(model.layers[0].forward(image[None]))[0]
    )
    assert_same(table.y, h[0])
    np.testing.assert_array_equal(
        table.columns, oracle_columns(table.x, model.layers[2])
    )
    assert table.row == 1 * 4 + 2
    # the worked output: the row of col times column 5 of W, plus b[5]
    expected = table.columns[6] @ table.kernel_matrix[:, 5] + table.bias[5]
    assert table.z[6, 5] == pytest.approx(expected, rel=1e-6)
    same = convolution(model, image, model.layers[2])
    np.testing.assert_array_equal(same.y, table.y)
    assert convolution(model, image, 2).layer == "conv2d_1"


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: gl.Conv2D(3, 3, strides=2), (9, 8, 2)),
        (lambda: gl.Conv2D(2, (2, 3), padding="same", strides=(2, 1)), (7, 6, 3)),
        (lambda: gl.Conv2D(2, 3, dilation_rate=2, padding="same"), (9, 9, 1)),
        (lambda: gl.Conv2D(4, 4, padding="same", use_bias=False), (6, 6, 2)),
        (lambda: gl.Conv1D(3, 3, padding="causal", dilation_rate=2), (12, 2)),
        (lambda: gl.Conv1D(2, 5, strides=3, activation="tanh"), (20, 1)),
        (lambda: gl.Conv1D(2, 4, padding="same"), (9, 3)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_geometry_equals_the_forward(make: Any, shape: Any, dtype: Any) -> None:
    layer = make()
    layer.build(shape, np.random.default_rng(0), dtype)
    if layer.use_bias:
        layer.params["b"][...] = np.arange(layer.filters) * 0.1
    x = np.random.default_rng(1).normal(size=shape).astype(dtype)
    table = convolution(layer, x)
    assert_same(table.y, layer.forward(x[None])[0])
    np.testing.assert_array_equal(table.columns, oracle_columns(x, layer))
    assert table.columns.dtype == dtype
    # the column entry of offset (i, j, c) at output (oh, ow) is x_padded there
    rank = layer.rank
    for p, position in enumerate(np.ndindex(*table.output.shape[:-1])):
        if p % 3:
            continue
        for q, offset in enumerate(np.ndindex(*layer.kernel_size, shape[-1])):
            where = tuple(
                o * s + k * d
                for o, k, s, d in zip(
                    position,
                    offset[:rank],
                    layer.strides,
                    layer.dilation_rate,
                    strict=True,
                )
            )
            assert table.columns[p, q] == table.padded[(*where, offset[-1])]
    assert table.row_labels[0] == ",".join(["0"] * rank)
    assert table.column_labels[-1] == ",".join(
        str(n - 1) for n in (*layer.kernel_size, shape[-1])
    )


def test_printed_table_shows_the_shapes_and_the_worked_output() -> None:
    model = digits_cnn()
    table = convolution(model, digit_image(), position=(4, 3), filter_index=2)
    text = str(table)
    assert text.startswith(
        "Convolution as one matrix product (im2col): layer 'conv2d' (Conv2D), "
        "one sample, float32"
    )
    assert "  x    (8, 8, 1)    the layer's input" in text
    assert "x_padded (10, 10, 1): zeros added ((1, 1) rows and (1, 1) columns)" in text
    assert "  col  (64, 9)      row (oh,ow)" in text
    assert "x_padded[oh + i, ow + j, c]" in text
    assert "  W    (9, 8)       the kernel (3, 3, 1, 8) reshaped" in text
    assert "  z    (64, 8)      col @ W + b, reshaped to the output (8, 8, 8)" in text
    assert "The column matrix col 64 x 9, the rows around output (4,3):" in text
    marked = [line for line in text.splitlines() if "<-" in line]
    assert len(marked) == 2 and all(
        line.lstrip().startswith("4,3 <-") for line in marked
    )
    # the marked row of col prints the window's 9 numbers
    cells = marked[0].split("<-")[1].split()
    assert [float(c) for c in cells] == pytest.approx(table.columns[35], abs=5e-4)
    # the worked output: 9 products and the bias, and the value of z[4,3, f2]
    worked = text[text.index("Output (4,3) of filter f2") :]
    products = re.findall(r"(-?[\d.e-]+) \* (-?[\d.e-]+)", worked)
    assert len(products) == 9
    assert [float(a) for a, _ in products] == pytest.approx(table.columns[35], abs=5e-4)
    assert [float(w) for _, w in products] == pytest.approx(
        table.kernel_matrix[:, 2], rel=1e-3, abs=1e-6
    )
    value = float(re.search(r"= (-?[\d.e-]+)\n  y = relu", worked).group(1))
    assert value == pytest.approx(table.z[35, 2], rel=1e-3, abs=1e-6)
    assert f"  y = relu({value:.4g}) = " in worked
    grid = text[text.index("Column f2 of z reshaped to the output's 8 x 8") :]
    assert "oh\\ow" in grid.splitlines()[1]


def test_large_layers_print_a_window_of_rows_and_columns() -> None:
    model = digits_cnn()
    text = str(convolution(model, digit_image(), "conv2d_1"))
    assert "... (66 more products)" in text  # 72 products: 4 shown, ..., 2 shown
    header = next(line for line in text.splitlines() if line.startswith("  oh,ow  "))
    assert "..." in header and len(header) < 100
    assert max(len(line) for line in text.splitlines()) < 110


def test_to_dict_is_json() -> None:
    table = convolution(digits_cnn(), digit_image())
    data = json.loads(json.dumps(table.to_dict()))
    assert np.array(data["columns"]).shape == (64, 9)
    assert data["padding"] == "same" and data["position"] == [4, 4]


def test_the_model_is_left_as_it_was() -> None:
    model = digits_cnn()
    before = [w.copy() for w in model.get_weights()]
    table = convolution(model, digit_image())
    table.kernel_matrix[...] = 0  # the table holds copies
    for got, expected in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_layer_values_follow_functional_graphs() -> None:
    clear_session()
    x = Input((6, 6, 1))
    a = gl.Conv2D(2, 3, padding="same", name="a")(x)
    b = gl.Conv2D(2, 1, name="b")(x)
    merged = gl.Add(name="add")([a, b])
    out = gl.Dense(3, name="out")(gl.Flatten()(merged))
    model = Model(x, out)
    sample = np.random.default_rng(0).normal(size=(6, 6, 1)).astype(np.float32)
    given, made = layer_values(model, sample, "add")
    assert isinstance(given, list) and len(given) == 2
    np.testing.assert_array_equal(made, given[0] + given[1])
    _, last = layer_values(model, sample, "out")
    np.testing.assert_allclose(
        last, model.predict(sample[None], verbose=0)[0], rtol=1e-6
    )
    first_in, _ = layer_values(model, sample, 0)  # the InputLayer
    np.testing.assert_array_equal(first_in, sample)
    table = convolution(model, sample, "b")
    assert_same(table.y, layer_values(model, sample, "b")[1])
    assert table.columns.shape == (36, 1)


def test_bad_arguments_are_refused_clearly() -> None:
    model = digits_cnn()
    image = digit_image()
    with pytest.raises(InvalidArgumentError, match="must name a Conv1D or Conv2D"):
        convolution(model, image, "dense")
    with pytest.raises(
        InvalidArgumentError, match=r"no such layer.*Received: layer='nope'"
    ):
        convolution(model, image, "nope")
    with pytest.raises(
        InvalidArgumentError, match=r"position.*Received: position=\(8, 0\)"
    ):
        convolution(model, image, position=(8, 0))
    with pytest.raises(InvalidArgumentError, match="position"):
        convolution(model, image, position=3)
    with pytest.raises(InvalidArgumentError, match="filter_index=8"):
        convolution(model, image, filter_index=8)
    with pytest.raises(
        ShapeError, match=r"one sample.*\(8, 8, 1\).*x.shape=\(2, 8, 8, 1\)"
    ):
        convolution(model, np.stack([image, image]))
    with pytest.raises(ShapeError, match=r"x.shape=\(8, 8\)"):
        convolution(model, image[..., 0])
    with pytest.raises(GlassnetTypeError, match="Received: str"):
        convolution("model", image)
    with pytest.raises(GlassnetTypeError, match="layer"):
        convolution(model, image, 1.5)
    with pytest.raises(NotBuiltError, match="not built"):
        convolution(gl.Conv2D(2, 3), image)
    dense_only = Sequential([Input((4,)), gl.Dense(2)])
    with pytest.raises(InvalidArgumentError, match="has no Conv1D or Conv2D layer"):
        convolution(dense_only, np.ones(4))
    clear_session()
    a, b = Input((4, 4, 1)), Input((4, 4, 1))
    two = Model([a, b], gl.Add()([gl.Conv2D(1, 3, padding="same")(a), b]))
    with pytest.raises(InvalidArgumentError, match="2 inputs"):
        convolution(two, np.ones((4, 4, 1)))
