"""summary(explain=True) on convolutional networks: every number against hand work.

The parameter formulas, the output-size arithmetic (printed per axis, then
evaluated here and compared with the shape a forward pass really makes) and the
FLOPs (compared with the size of the column matrix the layer multiplies).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

import glassnet.layers as gl
from glassnet import Input, Model
from glassnet.models import Sequential
from glassnet.models.layer_costs import output_arithmetic
from glassnet.models.summary import format_summary, layer_costs
from glassnet.utils import clear_session


def small_cnn() -> Sequential:
    """The digits CNN: (8, 8, 1) -> conv 8 -> pool -> conv 16 -> pool -> Dense 10."""
    clear_session()
    return Sequential(
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
    )


def test_small_cnn_numbers_by_hand() -> None:
    costs = {cost.name: cost for cost in layer_costs(small_cnn())}
    conv, pool, conv_1 = costs["conv2d"], costs["max_pooling2d"], costs["conv2d_1"]
    # a 3 x 3 kernel on 1 channel, 8 filters, and 8 biases
    assert conv.params_formula == "3 x 3 x 1 x 8 + 8 = 80"
    assert conv.params == 3 * 3 * 1 * 8 + 8
    # 'same' adds one zero on each side: (8 + 2 - 3) / 1 + 1 = 8 per axis
    assert conv.output_lines == [
        "height, width: (8 + 2 x 1 - 3) / 1 + 1 = 8 (padding 'same')",
        "8 x 8 x 8 = 512 outputs, each a sum over 3 x 3 x 1 = 9 inputs",
    ]
    # 512 outputs x 9 multiply-adds (2 each), + 512 biases, + 512 relu
    assert conv.flops == 2 * 9 * 512 + 512 + 512 == 10_240
    assert conv.flops_formula == "2 x 9 x 512 + 512 + 512 x 1 (relu) = 10,240"
    # 2 x 2 windows, stride 2: (8 - 2) / 2 + 1 = 4; 3 comparisons per window
    assert pool.output_lines == [
        "height, width: (8 - 2) / 2 + 1 = 4",
        "4 x 4 x 8 = 128 outputs, each the max of 2 x 2 = 4 inputs",
    ]
    assert pool.flops == 128 * 3
    assert conv_1.params_formula == "3 x 3 x 8 x 16 + 16 = 1,168"
    assert conv_1.output_lines[0] == (
        "height, width: (4 + 2 x 1 - 3) / 1 + 1 = 4 (padding 'same')"
    )
    assert conv_1.output_lines[1].endswith("each a sum over 3 x 3 x 8 = 72 inputs")
    assert conv_1.flops == 2 * 72 * 256 + 256 + 256
    assert costs["flatten"].output_lines == ["2 x 2 x 16 = 64"]
    assert costs["dense"].params_formula == "64 x 10 + 10 = 650"
    assert costs["dense"].output_lines == []  # Dense explains as before
    total = 10_240 + 384 + 37_376 + 192 + 0 + (2 * 64 * 10 + 10 + 10 * 5)
    assert sum(c.flops or 0 for c in costs.values()) == total == 49_532


def test_printed_summary_shows_the_lines_in_order() -> None:
    model = small_cnn()
    lines: list[str] = []
    model.summary(print_fn=lines.append, explain=True)
    text = lines[0]
    assert (
        "    params       3 x 3 x 1 x 8 + 8 = 80\n"
        "    output       height, width: (8 + 2 x 1 - 3) / 1 + 1 = 8 (padding 'same')\n"
        "                 8 x 8 x 8 = 512 outputs, each a sum over 3 x 3 x 1 = 9 inputs\n"
        "    FLOPs        2 x 9 x 512 + 512 + 512 x 1 (relu) = 10,240\n"
    ) in text
    assert "    output       2 x 2 x 16 = 64\n" in text
    assert "Forward FLOPs per sample: 49,532" in text
    # without the explanation lines (and the footer) it is the plain summary
    plain = [line for line in text.splitlines() if not line.startswith("    ")]
    assert "\n".join(plain).startswith(format_summary(model))


def test_dense_models_explain_as_before() -> None:
    clear_session()
    model = Sequential([gl.Dense(10, input_dim=2), gl.Activation("tanh")], seed=0)
    lines: list[str] = []
    model.summary(print_fn=lines.append, explain=True)
    explained = [line for line in lines[0].splitlines() if line.startswith("    ")]
    labels = [line.split()[0] for line in explained]
    assert labels == ["params", "FLOPs", "weights", "activations"] * 2
    assert all(cost.output_lines == [] for cost in layer_costs(model))


# -- the printed arithmetic, evaluated, is the shape the layer really makes --------------
def _evaluate(formula: str) -> tuple[int, int]:
    """``(8 + 2 x 1 - 3) / 1 + 1 = 8`` -> (value of the left side, the printed result)."""
    left, right = formula.rsplit(" = ", 1)
    expression = (
        left.replace(" x ", " * ").replace("floor(", "(").replace(" / ", " // ")
    )
    assert re.fullmatch(r"[\d\s()+\-*/]+", expression), formula
    return eval(expression), int(right)  # digits and operators only, checked above


def _tf_same(n: int, k: int, s: int, d: int) -> int:
    """TensorFlow's 'same' output length, written independently: ceil(n / s)."""
    return math.ceil(n / s)


def _axis_formulas(lines: list[str], rank: int) -> list[str]:
    names = ["steps"] if rank == 1 else ["height", "width"]
    formulas = []
    first = lines[0].split(" (padding")[0]
    if first.startswith(", ".join(names) + ": "):
        formulas = [first.split(": ", 1)[1]] * rank
    else:
        for name, line in zip(names, lines[:rank], strict=True):
            assert line.startswith(f"{name}: ")
            formulas.append(line.split(": ", 1)[1].split(" (padding")[0])
    return formulas


CONVS = [
    (lambda: gl.Conv2D(3, 3), (8, 8, 1)),
    (lambda: gl.Conv2D(3, 3, padding="same"), (8, 8, 2)),
    (lambda: gl.Conv2D(2, 3, strides=2), (8, 8, 1)),  # floor((8 - 3) / 2) + 1 = 3
    (lambda: gl.Conv2D(2, (2, 3), strides=(2, 1), padding="same"), (7, 6, 1)),
    (lambda: gl.Conv2D(2, 4, padding="same"), (6, 6, 1)),  # pads (1, 2)
    (lambda: gl.Conv2D(2, 3, dilation_rate=2), (9, 10, 1)),
    (lambda: gl.Conv2D(2, 3, dilation_rate=(2, 1), padding="same"), (9, 10, 1)),
    (lambda: gl.Conv1D(2, 5, strides=3), (20, 2)),
    (lambda: gl.Conv1D(2, 3, padding="causal", dilation_rate=2), (11, 1)),
    (lambda: gl.Conv1D(2, 4, strides=2, padding="same"), (9, 1)),
    (lambda: gl.MaxPooling2D(), (7, 7, 2)),
    (lambda: gl.MaxPooling2D(3, 2, padding="same"), (5, 8, 1)),
    (lambda: gl.AveragePooling2D((2, 3), (1, 2)), (6, 7, 1)),
    (lambda: gl.AveragePooling1D(3, padding="same"), (10, 2)),
    (lambda: gl.MaxPooling1D(4, 3), (13, 1)),
]


@pytest.mark.parametrize(("make", "shape"), CONVS)
def test_output_arithmetic_evaluates_to_the_real_output_shape(
    make: Any, shape: tuple[int, ...]
) -> None:
    layer = make()
    rng = np.random.default_rng(0)
    if layer.weight_shapes(shape):
        layer.build(shape, rng, np.float64)
    y = layer.forward(rng.normal(size=(2, *shape)))
    lines = output_arithmetic(layer, shape)
    rank = len(shape) - 1
    for axis, formula in enumerate(_axis_formulas(lines, rank)):
        value, printed = _evaluate(formula)
        assert value == printed == y.shape[1 + axis], formula
        padding = getattr(layer, "padding", "valid")
        if padding == "same":
            k = (
                layer.kernel_size if hasattr(layer, "kernel_size") else layer.pool_size
            )[axis]
            assert printed == _tf_same(shape[axis], k, layer.strides[axis], 1)
    # the outputs line: their number, and the inputs each one reads
    count = re.search(r"= ([\d,]+) outputs", lines[rank if len(lines) > 2 else 1])
    assert count is not None and int(count.group(1).replace(",", "")) == y[0].size
    if isinstance(layer, (gl.Conv1D, gl.Conv2D)):
        # FLOPs: 2 per multiply-add of the column matrix times the kernel matrix
        col = layer.column_matrix(np.ones((1, *shape)))
        macs = col.shape[0] * col.shape[1] * layer.filters
        assert layer.flops(shape).count == 2 * macs + y[0].size  # + the bias
        fan_in = re.search(r"over [\d x]+ = (\d+) inputs", lines[-1])
        assert fan_in is not None and int(fan_in.group(1)) == col.shape[1]


def test_dilated_and_strided_formulas_read_as_the_rule() -> None:
    dilated = gl.Conv2D(2, 3, dilation_rate=2).output_arithmetic((9, 9, 1))
    assert dilated[0] == "height, width: (9 - 2 x (3 - 1) - 1) / 1 + 1 = 5"
    strided = gl.Conv2D(2, 3, strides=2).output_arithmetic((8, 7, 1))
    assert strided[:2] == [
        "height: floor((8 - 3) / 2) + 1 = 3",
        "width: (7 - 3) / 2 + 1 = 3",
    ]
    causal = gl.Conv1D(2, 3, padding="causal").output_arithmetic((10, 4))
    assert causal == [
        "steps: (10 + 2 + 0 - 3) / 1 + 1 = 10 (padding 'causal')",
        "10 x 2 = 20 outputs, each a sum over 3 x 4 = 12 inputs",
    ]
    same_avg = output_arithmetic(gl.AveragePooling2D(3, 2, padding="same"), (5, 5, 1))
    assert same_avg == [
        "height, width: (5 + 2 x 1 - 3) / 2 + 1 = 3 (padding 'same')",
        "3 x 3 x 1 = 9 outputs, each the mean of the real cells of a 3 x 3 window "
        "(up to 9)",
    ]
    unknown = gl.Conv1D(4, 3).output_arithmetic((None, 2))
    assert unknown == [
        "steps: any length (None)",
        "None x 4 outputs, each a sum over 3 x 2 = 6 inputs",
    ]


def test_padding_flatten_and_global_pools() -> None:
    assert output_arithmetic(gl.ZeroPadding1D((1, 2)), (5, 3)) == [
        "steps: 5 + 1 + 2 = 8"
    ]
    assert output_arithmetic(gl.ZeroPadding2D(2), (28, 28, 1)) == [
        "height, width: 28 + 2 + 2 = 32"
    ]
    assert output_arithmetic(gl.Flatten(), (5, 5, 16)) == ["5 x 5 x 16 = 400"]
    assert output_arithmetic(gl.GlobalAveragePooling2D(), (4, 5, 3)) == [
        "3 outputs, each the mean of a channel over 4 x 5 = 20 positions"
    ]
    assert output_arithmetic(gl.GlobalMaxPooling1D(), (7, 2)) == [
        "2 outputs, each the max of a channel over 7 positions"
    ]
    assert output_arithmetic(gl.Dense(3), (4,)) == []


def test_a_conv_layer_called_on_two_sizes_explains_both_calls() -> None:
    clear_session()
    big, small = Input((8, 8, 1), name="big"), Input((6, 6, 1), name="small")
    conv = gl.Conv2D(2, 3, name="shared")
    pooled = [gl.GlobalAveragePooling2D()(conv(t)) for t in (big, small)]
    model = Model([big, small], gl.Concatenate()(pooled))
    costs = {cost.name: cost for cost in layer_costs(model)}
    lines = costs["shared"].output_lines
    assert lines[0] == "call 1: height, width: (8 - 3) / 1 + 1 = 6"
    assert "call 2: height, width: (6 - 3) / 1 + 1 = 4" in lines
    # FLOPs of both calls: 2 x 9 x 72 + 72 and 2 x 9 x 32 + 32
    assert costs["shared"].flops == (2 * 9 * 72 + 72) + (2 * 9 * 32 + 32)
