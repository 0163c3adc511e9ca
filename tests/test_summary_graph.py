"""model.summary() against Keras 3's, and what layers report about their own cost.

Each architecture is written once and built in both libraries (the same code, with
``lib`` standing for ``keras`` or glassnet). Both tables are parsed into rows of
cells (a cell wrapped over several lines is joined back), and the rows (names,
classes, output shapes, parameter counts, "Connected to"), the columns and the
three totals must be equal. Only the drawing differs: Keras draws boxes, glassnet
the plain text of the Keras 2 tutorials, and Keras adds each total's size in bytes.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from glassnet_as_keras import GlassnetAsKeras  # noqa: E402

from glassnet import Input, Model  # noqa: E402
from glassnet import layers as gl  # noqa: E402
from glassnet.errors import (  # noqa: E402
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
)
from glassnet.layers.costs import Cost  # noqa: E402
from glassnet.models import Sequential  # noqa: E402
from glassnet.models.summary import format_summary, layer_costs  # noqa: E402
from glassnet.utils import clear_session  # noqa: E402

# -- the two tables, as rows of cells --------------------------------------------------
_TOTALS = re.compile(r"(Total|Trainable|Non-trainable) params: ([\d,]+)")


def keras_table(model: Any, **kwargs: Any) -> tuple[list[str], list[list[str]], dict]:
    """Keras' header, rows and totals (its box-drawing table parsed)."""
    out: list[str] = []
    wide = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "300"  # rich crops its tables to the console's width
    try:
        model.summary(
            line_length=250, print_fn=lambda text, line_break=False: out.append(text),
            **kwargs,
        )  # fmt: skip
    finally:
        if wide is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = wide
    text = "\n".join(out)
    header: list[str] = []
    rows: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("┃"):
            header = [cell.strip() for cell in line.strip("┃").split("┃")]
        elif line.startswith("│"):
            cells = [cell.strip() for cell in line.strip("│").split("│")]
            current = cells if current is None else _joined(current, cells)
        elif current is not None:
            rows.append(current)
            current = None
    return header, rows, _totals(text)


def glassnet_table(
    model: Any, **kwargs: Any
) -> tuple[list[str], list[list[str]], dict]:
    """glassnet's header, rows and totals (its plain-text table parsed)."""
    out: list[str] = []
    model.summary(print_fn=out.append, **kwargs)
    lines = out[0].splitlines()
    titles = ["Layer (type)", "Output Shape", "Param #", "Connected to", "Trainable"]
    header = [t for t in titles if t in lines[2]]
    starts = [lines[2].index(t) for t in header]
    rows: list[list[str]] = []
    current: list[str] | None = None
    for line in lines[4:]:
        if line.startswith(("_", "=")):
            if current is not None:
                rows.append(current)
            current = None
            if line.startswith("="):
                break
            continue
        ends = [*starts[1:], None]
        cells = [line[s:e].strip() for s, e in zip(starts, ends, strict=True)]
        current = cells if current is None else _joined(current, cells)
    return header, rows, _totals(out[0])


def _joined(cells: list[str], more: list[str]) -> list[str]:
    return [f"{a} {b}".strip() for a, b in zip(cells, more, strict=True)]


def _totals(text: str) -> dict:
    return {kind: int(n.replace(",", "")) for kind, n in _TOTALS.findall(text)}


def assert_same_summary(build: Any, **kwargs: Any) -> list[list[str]]:
    """Build with both libraries from fresh name counters; the tables must agree."""
    keras.utils.clear_session()
    theirs = keras_table(build(keras), **kwargs)
    clear_session()
    ours = glassnet_table(build(GlassnetAsKeras), **kwargs)
    assert ours[0] == theirs[0]  # the columns
    assert ours[1] == theirs[1]  # every row, cell by cell
    assert ours[2] == theirs[2]  # total, trainable, non-trainable
    return ours[1]


# -- the architectures ---------------------------------------------------------------
def xor_sequential(lib: Any) -> Any:
    layers = lib.layers
    return lib.Sequential(
        [
            lib.Input((2,)),
            layers.Dense(10),
            layers.Activation("tanh"),
            layers.Dense(1),
            layers.Activation("sigmoid"),
        ]
    )


def sequential_with_state_and_frozen(lib: Any) -> Any:
    """BatchNormalization's moving statistics and a frozen Dense: non-trainable."""
    layers = lib.layers
    return lib.Sequential(
        [
            lib.Input((6, 4)),
            layers.Dense(8, activation="relu"),
            layers.BatchNormalization(),
            layers.LayerNormalization(),
            layers.PReLU(shared_axes=[1]),
            layers.Dropout(0.2),
            layers.Flatten(),
            layers.Dense(300, trainable=False),
            layers.GaussianNoise(0.1),
            layers.Reshape((20, 15)),
            layers.Permute((2, 1)),
            layers.Dense(2),
            layers.Flatten(),
            layers.RepeatVector(2),
            layers.LeakyReLU(),
            layers.Softmax(),
        ],
        name="stack",
    )


def branched_two_inputs(lib: Any) -> Any:
    """Two inputs, a merge of three tensors, a shared layer, Add, two outputs."""
    layers = lib.layers
    a = lib.Input((4,), name="a")
    b = lib.Input((3,))
    x = layers.Dense(8)(a)
    y = layers.BatchNormalization()(x)
    z = layers.Concatenate()([y, b, x])
    shared = layers.Dense(5)
    first = shared(z)
    second = shared(layers.Dense(19)(z))
    added = layers.Add()([second, first])
    out = layers.Dense(1, trainable=False)(added)
    return lib.Model([a, b], [out, added])


def functional_chain(lib: Any) -> Any:
    """A chain: Keras lists the InputLayer but prints no "Connected to" column."""
    layers = lib.layers
    x = lib.Input((None, 4), name="steps")
    h = layers.Dense(3, activation="relu")(x)
    h = layers.BatchNormalization()(h)
    return lib.Model(x, layers.Dense(1)(h), name="chain")


def unknown_lengths(lib: Any) -> Any:
    """None axes besides the batch: (None, None, 4) sequences, merged."""
    layers = lib.layers
    x = lib.Input((None, 4))
    left = layers.Dense(6)(x)
    right = layers.ReLU()(layers.Dense(6)(x))
    merged = layers.Concatenate(axis=1)([left, right])
    return lib.Model(x, layers.Maximum()([merged, layers.ELU()(merged)]))


def toy_resnet(lib: Any) -> Any:
    """The Functional API guide's toy ResNet (Dense in place of its convolutions)."""
    layers = lib.layers
    inputs = lib.Input(shape=(32,), name="img")
    x = layers.Dense(64, activation="relu")(inputs)
    block_1_output = layers.Dense(64)(x)
    x = layers.Dense(64, activation="relu")(block_1_output)
    block_2_output = layers.Add()([layers.Dense(64)(x), block_1_output])
    x = layers.Dense(64, activation="relu")(block_2_output)
    block_3_output = layers.Add()([layers.Dense(64)(x), block_2_output])
    x = layers.Dropout(0.5)(layers.Dense(256, activation="relu")(block_3_output))
    return lib.Model(inputs, layers.Dense(10)(x), name="toy_resnet")


# -- summary() against Keras ---------------------------------------------------------------
def test_sequential_summary_matches_keras() -> None:
    rows = assert_same_summary(xor_sequential)
    assert rows[0] == ["dense (Dense)", "(None, 10)", "30"]


def test_state_and_frozen_layers_are_non_trainable_as_in_keras() -> None:
    rows = assert_same_summary(sequential_with_state_and_frozen)
    assert rows[1] == ["batch_normalization (BatchNormalization)", "(None, 6, 8)", "32"]
    clear_session()
    model = sequential_with_state_and_frozen(GlassnetAsKeras)
    # 8 moving statistics of BatchNormalization + the frozen Dense(300) on 48 inputs
    assert glassnet_table(model)[2]["Non-trainable"] == 2 * 8 + 48 * 300 + 300


def test_functional_summary_has_keras_connected_to_column() -> None:
    rows = assert_same_summary(branched_two_inputs)
    by_name = {row[0].split()[0]: row for row in rows}
    assert by_name["a"] == ["a (InputLayer)", "(None, 4)", "0", "-"]
    # a merge of three tensors, and the shared Dense listing both its calls
    assert by_name["concatenate"][3] == (
        "batch_normalization[0][0], input_layer[0][0], dense[0][0]"
    )
    assert by_name["dense_1"][3] == "concatenate[0][0], dense_2[0][0]"
    assert by_name["add"][3] == "dense_1[1][0], dense_1[0][0]"


def test_the_functional_guides_toy_resnet() -> None:
    rows = assert_same_summary(toy_resnet)
    assert rows[5] == ["add (Add)", "(None, 64)", "0", "dense_3[0][0], dense_1[0][0]"]


def test_a_functional_chain_has_an_input_row_and_no_connected_to() -> None:
    rows = assert_same_summary(functional_chain)
    assert rows[0] == ["steps (InputLayer)", "(None, None, 4)", "0"]


def test_unknown_axes_show_as_none() -> None:
    rows = assert_same_summary(unknown_lengths)
    assert ["concatenate (Concatenate)", "(None, None, 6)", "0"] == rows[4][:3]


def test_show_trainable_and_a_frozen_model_match_keras() -> None:
    assert_same_summary(branched_two_inputs, show_trainable=True)

    def frozen(lib: Any) -> Any:
        model = xor_sequential(lib)
        model.trainable = False
        return model

    rows = assert_same_summary(frozen, show_trainable=True)
    assert [row[-1] for row in rows] == ["N", "-", "N", "-"]


def test_layers_called_in_an_earlier_model_count_their_calls_as_keras() -> None:
    def reused(lib: Any) -> Any:
        x = lib.Input((3,), name="x")
        dense = lib.layers.Dense(3, name="reused")
        lib.Model(x, dense(x))  # the first call, in another model
        y = lib.Input((3,), name="y")
        h = dense(y)
        return lib.Model(y, lib.layers.Add(name="sum")([dense(h), h]))

    rows = assert_same_summary(reused)
    assert rows[-1][3] == "reused[2][0], reused[1][0]"


def test_long_cells_wrap_instead_of_being_cut() -> None:
    clear_session()
    model = branched_two_inputs(GlassnetAsKeras)
    lines: list[str] = []
    model.summary(print_fn=lines.append, line_length=70)
    text = lines[0]
    assert max(len(line) for line in text.splitlines()) <= 70
    assert "(BatchNormalization)" in text  # on its own line, not cut off
    # the same cells (a name longer than its column is folded, as rich folds it)
    narrow = glassnet_table(model, line_length=70)[1]
    squeezed = [[cell.replace(" ", "") for cell in row] for row in narrow]
    wide = [[cell.replace(" ", "") for cell in row] for row in glassnet_table(model)[1]]
    assert squeezed == wide


def test_unbuilt_models_and_bad_arguments() -> None:
    with pytest.raises(NotBuiltError, match="not been built"):
        Sequential([gl.Dense(1)]).summary()
    model = xor_sequential(GlassnetAsKeras)
    with pytest.raises(GlassnetTypeError, match="explain"):
        model.summary(explain="yes")
    with pytest.raises(GlassnetTypeError, match="show_trainable"):
        model.summary(show_trainable=1)
    with pytest.raises(InvalidArgumentError, match="Received: line_length=0"):
        model.summary(line_length=0)


# -- what each layer reports about itself --------------------------------------------
def _arrays(value: Any) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for item in value for a in _arrays(item)]
    return []


def _kept_bytes(layer: Any, x: Any) -> int:
    """Bytes of the new arrays a training forward leaves alive: output and cache."""
    y = layer.forward(x, training=True)
    inputs = _arrays(x)
    seen: list[np.ndarray] = []
    for array in [*_arrays(y), *_arrays(layer._cache)]:
        if any(np.shares_memory(array, other) for other in [*inputs, *seen]):
            continue  # the input, or an array already counted (z is y for linear)
        seen.append(array)
    return sum(array.nbytes for array in seen)


LAYERS = [
    (lambda: gl.Dense(5, activation="tanh"), (4,)),
    (lambda: gl.Dense(5), (3, 4)),
    (lambda: gl.Activation("softmax"), (4,)),
    (lambda: gl.Dropout(0.5, seed=0), (4,)),
    (lambda: gl.BatchNormalization(), (3, 4)),
    (lambda: gl.BatchNormalization(center=False, scale=False), (4,)),
    (lambda: gl.LayerNormalization(), (3, 4)),
    (lambda: gl.LayerNormalization(axis=[-2, -1], scale=False), (3, 4)),
    (lambda: gl.ReLU(max_value=6.0, negative_slope=0.1), (4,)),
    (lambda: gl.LeakyReLU(), (4,)),
    (lambda: gl.PReLU(), (2, 4)),
    (lambda: gl.ELU(), (4,)),
    (lambda: gl.Softmax(), (4,)),
    (lambda: gl.GaussianNoise(0.5, seed=0), (4,)),
    (lambda: gl.Flatten(), (3, 4)),
    (lambda: gl.Reshape((2, 6)), (3, 4)),
    (lambda: gl.Permute((2, 1)), (3, 4)),
    (lambda: gl.RepeatVector(3), (4,)),
    (lambda: gl.Add(), [(4,), (4,), (4,)]),
    (lambda: gl.Subtract(), [(4,), (4,)]),
    (lambda: gl.Multiply(), [(4,), (4,)]),
    (lambda: gl.Average(), [(4,), (4,)]),
    (lambda: gl.Maximum(), [(4,), (4,)]),
    (lambda: gl.Minimum(), [(4,), (4,)]),
    (lambda: gl.Concatenate(), [(4,), (2,)]),
]


@pytest.mark.parametrize(("make", "shape"), LAYERS)
def test_kept_activations_are_what_a_training_forward_keeps(
    make: Any, shape: Any
) -> None:
    layer = make()
    layer.build(shape, np.random.default_rng(0), np.float32)
    rng = np.random.default_rng(1)

    def batch(n: int) -> Any:
        if isinstance(shape, list):
            return [rng.normal(size=(n, *s)).astype(np.float32) for s in shape]
        return rng.normal(size=(n, *shape)).astype(np.float32)

    # the difference of two batch sizes leaves what is kept per sample (arrays kept
    # once per batch, such as BatchNormalization's inv_std, cancel out)
    per_sample = (_kept_bytes(layer, batch(3)) - _kept_bytes(layer, batch(1))) / 2
    cost = layer.kept_activations(shape)
    assert isinstance(cost, Cost) and cost.what
    assert cost.count * 4 == per_sample


def test_flops_hand_worked() -> None:
    # x @ W on 4 inputs into 5 units: 20 multiply-adds = 40, bias 5, tanh 5 x 1
    assert gl.Dense(5, activation="tanh").flops((4,)).count == 40 + 5 + 5
    # on 3 positions of 4 features: 3 x 5 outputs, each 2 x 4 operations, + bias
    assert gl.Dense(5).flops((3, 4)).formula == "2 x 4 x 15 + 15 = 135"
    # inference: (x - mean) * inv_std * gamma + beta, 4 per element
    assert gl.BatchNormalization().flops((3, 4)).count == 12 * 4
    # per element: mean 1, variance 3 (subtract, square, sum), standardize 2,
    # gamma 1, beta 1 = 8; per sample (one group over the last axis of 4, three
    # groups): two divisions, + epsilon, sqrt, reciprocal = 5
    assert gl.LayerNormalization().flops((3, 4)).count == 12 * 8 + 3 * 5
    assert gl.Add().flops([(4,), (4,), (4,)]).count == 4 * 2  # two additions
    assert gl.Average().flops([(4,), (4,)]).count == 4 * 2  # one addition, one division
    assert gl.ReLU(max_value=6.0).flops((4,)).count == 4 * 2  # compare, cap
    assert gl.Softmax().flops((4,)).count == 4 * 5
    for free in (
        gl.Dropout(0.5),
        gl.Flatten(),
        gl.Concatenate(),
        gl.GaussianNoise(0.1),
    ):
        shape = [(4,), (4,)] if free.takes_list else (4,)
        assert free.flops(shape).count == 0
    unknown = gl.Dense(2).flops((None, 4))
    assert unknown.count is None and "unknown" in unknown.formula


def test_a_new_layer_needs_no_summary_edit() -> None:
    class Scale(gl.Layer):
        def forward(self, x: Any, *, training: bool = False, keep_cache: bool = False):
            self._cache = True if training or keep_cache else None
            return 2 * x

    clear_session()
    x = Input((3,))
    model = Model(x, Scale(name="twice")(gl.Dense(3)(x)))
    lines: list[str] = []
    model.summary(print_fn=lines.append, explain=True)
    text = lines[0]
    assert "twice (Scale)" in text and "unknown for a Scale layer" in text
    assert "Forward FLOPs per sample: unknown" in text


# -- summary(explain=True) on the new layers ----------------------------------------
def test_explain_covers_functional_models_and_new_layers() -> None:
    clear_session()
    model = branched_two_inputs(GlassnetAsKeras)
    lines: list[str] = []
    model.summary(print_fn=lines.append, explain=True)
    text = lines[0]
    # BatchNormalization's weights: gamma, beta, and two non-trainable statistics
    assert "8 + 8 + 8 + 8 = 32 (16 non-trainable: moving_mean, moving_variance)" in text
    # the frozen Dense: all its weights are non-trainable
    assert "5 x 1 + 1 = 6 (6 non-trainable: kernel, bias)" in text
    # the shared Dense(5) costs two calls: 2 x 19 x 5 + 5 = 195 each
    costs = {cost.name: cost for cost in layer_costs(model)}
    assert costs["dense_1"].flops == 2 * 195
    assert "call 1: 2 x 19 x 5 + 5 = 195; call 2:" in costs["dense_1"].flops_formula
    assert costs["dense_1"].activation_bytes == 2 * 5 * 4  # z = y of both calls
    assert costs["a"].flops == 0 and costs["a"].activation_bytes == 0
    total = sum(cost.flops or 0 for cost in costs.values())
    assert f"Forward FLOPs per sample: {total:,}" in text
    explained = re.compile(r"    (params|FLOPs|weights|activations) ")
    plain = [line for line in text.splitlines() if not explained.match(line)]
    assert "\n".join(plain).startswith(format_summary(model))


def test_explain_memory_of_a_whole_model_is_what_its_training_pass_keeps() -> None:
    clear_session()
    model = sequential_with_state_and_frozen(GlassnetAsKeras)
    costs = layer_costs(model)
    kept = []
    for n in (1, 3):
        x = np.random.default_rng(0).normal(size=(n, 6, 4)).astype(np.float32)
        sizes = []
        for layer in model.layers:
            sizes.append(_kept_bytes(layer, x))
            x = layer.forward(x, training=True)
        kept.append(sizes)
    per_sample = [(b - a) / 2 for a, b in zip(*kept, strict=True)]
    assert [cost.activation_bytes for cost in costs] == per_sample
