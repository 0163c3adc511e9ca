"""ONNX export of functional graphs and of every layer of the new core.

The oracle is glassnet's own ``predict`` (itself compared with Keras 3 and PyTorch in
the layer tests): ONNX Runtime must agree within float32 rounding (rtol 1e-5, atol
1e-6 times the output's scale) or 1e-12 in float64, for each layer in a small model
(functional and Sequential), for branches and merges, several inputs and outputs,
shared layers and inputs with axes of any length. Every graph also passes
``onnx.checker`` (full check) on the file written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from glassnet import Input, Model  # noqa: E402
from glassnet.errors import GlassnetError, NotBuiltError  # noqa: E402
from glassnet.export import MIN_OPSET, ExportError, to_onnx  # noqa: E402
from glassnet.layers import (  # noqa: E402
    ELU,
    Activation,
    Add,
    Average,
    BatchNormalization,
    Concatenate,
    Dense,
    Dropout,
    Flatten,
    GaussianNoise,
    Layer,
    LayerNormalization,
    LeakyReLU,
    Maximum,
    Minimum,
    Multiply,
    Permute,
    PReLU,
    ReLU,
    RepeatVector,
    Reshape,
    Softmax,
    Subtract,
)
from glassnet.models import Sequential  # noqa: E402
from glassnet.utils import set_random_seed  # noqa: E402

DTYPES = [np.float32, np.float64]


# -- helpers -------------------------------------------------------------------------
def session(model_file: Path | bytes) -> Any:
    source = str(model_file) if isinstance(model_file, Path) else model_file
    return ort.InferenceSession(source, providers=["CPUExecutionProvider"])


def export(model: Model, tmp_path: Path, **kwargs: Any) -> Any:
    """Write the file, check it with onnx.checker, open an ONNX Runtime session."""
    path = to_onnx(model, tmp_path / "model.onnx", **kwargs)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    return session(path)


def feed(sess: Any, xs: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {i.name: x for i, x in zip(sess.get_inputs(), xs, strict=True)}


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """float32: rtol 1e-5, atol 1e-6 x the output's scale; float64: 1e-12."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    tol = 1e-5 if expected.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol / 10 * scale)


def randomize_weights(model: Model, seed: int) -> None:
    """Random weights everywhere (positive variances), so no default hides a bug."""
    rng = np.random.default_rng(seed)
    arrays = []
    for weight in model.weights:
        value = rng.normal(size=weight.shape)
        if weight.name == "moving_variance":
            value = rng.uniform(0.2, 3.0, size=weight.shape)
        arrays.append(value)
    model.set_weights(arrays)


def sample(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=2.0, size=shape).astype(dtype)


def check_model(
    model: Model, tmp_path: Path, xs: list[np.ndarray], **kwargs: Any
) -> Any:
    """Export, run every output, compare with predict; returns the session."""
    sess = export(model, tmp_path, **kwargs)
    expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    got = sess.run(None, feed(sess, xs))
    assert len(got) == len(expected)
    for actual, wanted in zip(got, expected, strict=True):
        assert_close(np.asarray(actual), wanted)
    return sess


# -- every layer alone ---------------------------------------------------------------
#: (id, layer factory, per-sample input shape)
LAYERS: list[tuple[str, Any, tuple[int, ...]]] = [
    ("batchnorm-last", lambda: BatchNormalization(), (5,)),
    ("batchnorm-axis1-4d", lambda: BatchNormalization(axis=1), (3, 4, 2)),
    ("batchnorm-axis2-4d", lambda: BatchNormalization(axis=2), (3, 4, 2)),
    ("batchnorm-last-4d", lambda: BatchNormalization(axis=-1), (3, 4, 2)),
    (
        "batchnorm-no-center-scale",
        lambda: BatchNormalization(axis=-2, center=False, scale=False, epsilon=0.1),
        (3, 4),
    ),
    ("layernorm-last", lambda: LayerNormalization(), (6,)),
    ("layernorm-last-3d", lambda: LayerNormalization(epsilon=1e-5), (3, 4)),
    ("layernorm-axes-1-3", lambda: LayerNormalization(axis=[1, 3]), (3, 4, 2)),
    ("layernorm-axes-2-3", lambda: LayerNormalization(axis=[-2, -1]), (3, 4, 2)),
    (
        "layernorm-no-center",
        lambda: LayerNormalization(axis=1, center=False),
        (3, 4),
    ),
    ("layernorm-bare", lambda: LayerNormalization(scale=False, center=False), (4,)),
    ("flatten", lambda: Flatten(), (3, 4, 2)),
    ("reshape-infer", lambda: Reshape((-1, 2)), (3, 4)),
    ("reshape-3d", lambda: Reshape((2, 6, 2)), (4, 3, 2)),
    ("permute-2d", lambda: Permute((2, 1)), (3, 4)),
    ("permute-3d", lambda: Permute((3, 1, 2)), (2, 3, 4)),
    ("repeat-vector", lambda: RepeatVector(3), (5,)),
    ("gaussian-noise", lambda: GaussianNoise(0.5), (5,)),
    ("dropout-nd", lambda: Dropout(0.5), (3, 4)),
    ("relu", lambda: ReLU(), (6,)),
    ("relu-max-value", lambda: ReLU(max_value=1.5), (6,)),
    ("relu-negative-slope", lambda: ReLU(negative_slope=0.1), (6,)),
    ("relu-threshold", lambda: ReLU(threshold=0.5), (6,)),
    (
        "relu-all",
        lambda: ReLU(max_value=2.0, negative_slope=0.2, threshold=0.3),
        (6,),
    ),
    ("leaky-relu", lambda: LeakyReLU(), (6,)),
    ("leaky-relu-0.01", lambda: LeakyReLU(negative_slope=0.01), (3, 4)),
    ("prelu", lambda: PReLU(), (6,)),
    ("prelu-shared-1", lambda: PReLU(shared_axes=[1]), (3, 4)),
    ("prelu-shared-1-2", lambda: PReLU(shared_axes=[1, 2]), (3, 4, 2)),
    ("softmax", lambda: Softmax(), (6,)),
    ("softmax-axis1", lambda: Softmax(axis=1), (3, 4)),
    ("elu", lambda: ELU(), (6,)),
    ("elu-0.5", lambda: ELU(alpha=0.5), (3, 4)),
    ("dense-3d", lambda: Dense(5, activation="tanh"), (3, 4)),
    ("dense-4d", lambda: Dense(2, use_bias=False), (2, 3, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["functional", "sequential"])
@pytest.mark.parametrize(
    ("make", "shape"), [c[1:] for c in LAYERS], ids=[c[0] for c in LAYERS]
)
def test_each_layer_matches_predict(make, shape, kind, dtype, tmp_path):
    set_random_seed(0)
    x_in = Input(shape, dtype=np.dtype(dtype).name, name="x")
    if kind == "functional":
        model: Model = Model(x_in, make()(x_in))
    else:
        model = Sequential([x_in, make()], dtype=dtype)
    randomize_weights(model, seed=1)
    x = sample((17, *shape), dtype)
    sess = check_model(model, tmp_path, [x])
    # one file for any batch size, including a single sample
    (one,) = sess.run(None, feed(sess, [x[5:6]]))
    assert_close(one, model.predict(x[5:6], verbose=0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_variants_at_their_kinks(dtype, tmp_path):
    # The threshold, the cap and the points on either side of them, where a
    # comparison in another type or order would flip the result.
    layer = ReLU(max_value=2.0, negative_slope=0.2, threshold=0.3)
    x_in = Input((1,), dtype=np.dtype(dtype).name)
    model = Model(x_in, layer(x_in))
    points = [0.3, 2.0, 0.0, -0.0, 1e4, -1e4]
    edges = [np.nextafter(np.array(p, dtype), s) for p in (0.3, 2.0) for s in (-9, 9)]
    x = np.array(points + edges, dtype=dtype).reshape(-1, 1)
    sess = export(model, tmp_path)
    (got,) = sess.run(None, feed(sess, [x]))
    np.testing.assert_array_equal(got, model.predict(x, verbose=0))


def test_ops_of_the_new_layers():
    """The op each layer is written with (docs/onnx.md's table)."""
    expected = {
        "Flatten": lambda: Flatten(),
        "Transpose": lambda: Permute((2, 1)),
        "Reshape": lambda: Reshape((4, 3)),
        "Identity": lambda: GaussianNoise(0.1),
        "PRelu": lambda: PReLU(),
        "Elu": lambda: ELU(),
        "LeakyRelu": lambda: LeakyReLU(),
        "Softmax": lambda: Softmax(),
        "Relu": lambda: ReLU(),
    }
    for op, make in expected.items():
        x = Input((3, 4))
        ops = [n.op_type for n in to_onnx(Model(x, make()(x)), None).graph.node]
        assert ops == [op], (op, ops)
    x = Input((4,))
    ops = [n.op_type for n in to_onnx(Model(x, RepeatVector(2)(x)), None).graph.node]
    assert ops == ["Unsqueeze", "Tile"]


def test_batch_normalization_stores_keras_named_weights_shaped_to_broadcast():
    x = Input((3, 4, 2))
    layer = BatchNormalization(axis=1, name="bn")
    model = Model(x, layer(x))
    randomize_weights(model, seed=0)
    weights = {
        w.name: onnx.numpy_helper.to_array(w)
        for w in to_onnx(model, None).graph.initializer
    }
    for key in ("gamma", "beta", "moving_mean", "moving_variance"):
        stored = weights[f"bn.{key}"]
        assert stored.shape == (3, 1, 1)
        source = layer.params.get(key, layer.state.get(key))
        np.testing.assert_array_equal(stored.ravel(), source)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opset", [MIN_OPSET, 17, 18, 20])
def test_layer_normalization_every_opset(opset, dtype, tmp_path):
    # float32, opset >= 17, trailing axes: the LayerNormalization op; otherwise
    # ReduceMean, whose axes are an attribute before opset 18 and an input after.
    x = Input((3, 4), name="x", dtype=np.dtype(dtype).name)
    h = Dense(4)(x)
    model = Model(
        x, [LayerNormalization(axis=[1, 2])(h), LayerNormalization(axis=1)(h)]
    )
    randomize_weights(model, seed=2)
    proto = to_onnx(model, None, opset=opset)
    ops = [n.op_type for n in proto.graph.node]
    fused = opset >= 17 and dtype == np.float32
    assert ops.count("LayerNormalization") == (1 if fused else 0)
    assert ops.count("ReduceMean") == (2 if fused else 4)
    check_model(model, tmp_path, [sample((9, 3, 4), dtype)], opset=opset)


def test_layer_normalization_op_without_scale_or_offset(tmp_path):
    x = Input((3, 4), name="x")
    outputs = [
        LayerNormalization(axis=-1, scale=False)(x),
        LayerNormalization(axis=-1, center=False)(x),
        LayerNormalization(axis=[-2, -1], scale=False, center=False)(x),
    ]
    model = Model(x, outputs)
    randomize_weights(model, seed=3)
    proto = to_onnx(model, None)
    assert [n.op_type for n in proto.graph.node] == ["LayerNormalization"] * 3
    check_model(model, tmp_path, [sample((5, 3, 4), np.float32)])


def test_batch_normalization_far_from_zero(tmp_path):
    # Features offset by 100 with a spread of 0.01: ONNX's fused BatchNormalization
    # loses about 3e-4 here; x - moving_mean first, as glassnet computes, does not.
    rng = np.random.default_rng(3)
    x_in = Input((32,), name="x")
    bn = BatchNormalization(name="bn")
    model = Model(x_in, bn(x_in))
    x = (100 + 0.01 * rng.normal(size=(64, 32))).astype(np.float32)
    bn.set_weights([np.full(32, 1.5), np.full(32, 0.2), x.mean(axis=0), x.var(axis=0)])
    check_model(model, tmp_path, [x])


def test_trained_batch_normalization(tmp_path):
    set_random_seed(4)
    x_in = Input((4,))
    h = BatchNormalization(momentum=0.5)(Dense(8, activation="relu")(x_in))
    model = Model(x_in, Dense(1)(h))
    rng = np.random.default_rng(5)
    x = rng.normal(loc=3.0, size=(64, 4))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x.sum(axis=1, keepdims=True), epochs=3, verbose=0)
    assert not np.allclose(model.get_layer(index=2).state["moving_mean"], 0.0)
    check_model(model, tmp_path, [x.astype(np.float32)])


# -- graphs --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_branch_and_merge(dtype, tmp_path):
    set_random_seed(6)
    x = Input((6,), dtype=np.dtype(dtype).name, name="features")
    h = Dense(8, activation="relu", name="trunk")(x)
    wide = ReLU(max_value=3.0)(BatchNormalization()(h))
    deep = Dense(8, activation="gelu")(LayerNormalization()(Dense(5)(h)))
    joined = Concatenate()([wide, deep, x])
    mixed = Add()([Dense(4)(joined), Dense(4)(wide)])
    out = Dense(3, activation="softmax", name="proba")(mixed)
    model = Model(x, out)
    randomize_weights(model, seed=7)
    sess = check_model(model, tmp_path, [sample((33, 6), dtype)])
    assert [i.name for i in sess.get_inputs()] == ["features"]
    assert [o.name for o in sess.get_outputs()] == ["proba"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_merge_in_one_graph(dtype, tmp_path):
    set_random_seed(8)
    x = Input((3, 4), name="x", dtype=np.dtype(dtype).name)
    a, b, c = (Dense(4)(x) for _ in range(3))
    merged = [
        Add()([a, b, c]),
        Subtract()([a, b]),
        Multiply()([a, b, c]),
        Average()([a, b, c]),
        Maximum()([a, b, c]),
        Minimum()([a, x]),
    ]
    out = Concatenate(axis=1)([Concatenate()(merged), Concatenate()(merged)])
    model = Model(x, out)
    check_model(model, tmp_path, [sample((7, 3, 4), dtype)])
    assert model.output_shape == (None, 6, 24)


@pytest.mark.parametrize("dtype", DTYPES)
def test_two_inputs_by_name(dtype, tmp_path):
    set_random_seed(9)
    name = np.dtype(dtype).name
    a, b = (
        Input((4,), dtype=name, name="numbers"),
        Input((3, 2), dtype=name, name="grid"),
    )
    joined = Concatenate()([Dense(5)(a), Flatten()(b)])
    model = Model([a, b], Dense(2, name="score")(joined))
    xs = [sample((11, 4), dtype, 1), sample((11, 3, 2), dtype, 2)]
    sess = check_model(model, tmp_path, xs)
    ins = sess.get_inputs()
    assert [(i.name, i.shape) for i in ins] == [
        ("numbers", ["batch", 4]),
        ("grid", ["batch", 3, 2]),
    ]
    # the inputs are matched by name, not by position
    (y,) = sess.run(None, {"grid": xs[1], "numbers": xs[0]})
    assert_close(y, model.predict(xs, verbose=0))


def test_two_outputs_named_after_their_layers(tmp_path):
    set_random_seed(10)
    x = Input((5,), name="x")
    h = Dense(6, activation="tanh")(x)
    price = Dense(1, name="price")(h)
    kind = Dense(3, activation="softmax", name="kind")(Dense(4)(h))
    model = Model(x, [price, kind])
    sess = check_model(model, tmp_path, [sample((13, 5), np.float32)])
    assert [(o.name, o.shape) for o in sess.get_outputs()] == [
        ("price", ["batch", 1]),
        ("kind", ["batch", 3]),
    ]


def test_output_that_also_feeds_another_layer_and_an_input_as_output(tmp_path):
    # h is an output and the input of the next layer; x is an input and an output
    set_random_seed(11)
    x = Input((4,), name="x")
    h = Dense(3, name="hidden")(x)
    model = Model(x, [h, Dense(2, name="head")(h), x])
    sess = check_model(model, tmp_path, [sample((5, 4), np.float32)])
    assert [o.name for o in sess.get_outputs()] == ["hidden", "head", "x_1"]


def test_shared_layer_weights_are_stored_once(tmp_path):
    set_random_seed(12)
    left, right = Input((4,), name="left"), Input((4,), name="right")
    shared = Dense(3, activation="relu", name="shared")
    norm = LayerNormalization(name="norm")
    # one layer called three times, on two inputs and on its own output
    distance = Subtract()([norm(shared(left)), norm(shared(right))])
    again = shared(Dense(4)(distance))
    model = Model([left, right], [distance, again])
    randomize_weights(model, seed=13)
    proto = to_onnx(model, None)
    names = [w.name for w in proto.graph.initializer]
    assert names.count("shared.W") == names.count("shared.b") == 1
    assert sum(name.startswith("shared.") for name in names) == 2
    assert sum(name.startswith("norm.") for name in names) == 2
    readers = [n for n in proto.graph.node if "shared.W" in n.input]
    assert [n.op_type for n in readers] == ["MatMul"] * 3
    check_model(model, tmp_path, [sample((6, 4), np.float32, s) for s in (1, 2)])
    # the shared layer's two output calls get distinct output names
    assert [o.name for o in session(proto.SerializeToString()).get_outputs()] == [
        "subtract",
        "shared",
    ]


def test_same_layer_twice_as_output_gets_a_suffix():
    shared = Dense(2, name="head")
    a, b = Input((3,), name="a"), Input((3,), name="b")
    proto = to_onnx(Model([a, b], [shared(a), shared(b)]), None)
    assert [o.name for o in proto.graph.output] == ["head", "head_1"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequences_of_any_length(dtype, tmp_path):
    set_random_seed(14)
    x = Input((None, 4), dtype=np.dtype(dtype).name, name="steps")
    h = LayerNormalization()(Dense(6, activation="relu")(x))
    h = PReLU(shared_axes=[1])(BatchNormalization()(h))
    y = Softmax()(Dense(3)(Add()([h, Dense(6)(x)])))
    model = Model(x, y)
    randomize_weights(model, seed=15)
    path = to_onnx(model, tmp_path / "seq.onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    sess = session(path)
    assert sess.get_inputs()[0].shape == ["batch", "steps_dim1", 4]
    assert sess.get_outputs()[0].shape[0] == "batch"
    assert sess.get_outputs()[0].shape[2] == 3
    for length in (1, 2, 7):
        xs = sample((5, length, 4), dtype, seed=length)
        (got,) = sess.run(None, {"steps": xs})
        assert_close(got, model.predict(xs, verbose=0))


def test_reshape_and_flatten_of_sequences(tmp_path):
    # A Reshape with -1 and a Flatten on an axis of any length resolve it per batch.
    x = Input((None, 2), name="x")
    y = Flatten()(Reshape((-1, 4))(x))
    sess = export(Model(x, y), tmp_path)
    for length in (2, 6):
        xs = sample((3, length, 2), np.float32)
        (got,) = sess.run(None, {"x": xs})
        np.testing.assert_array_equal(got, xs.reshape(3, -1))


def test_sequential_is_the_same_chain(tmp_path):
    # The same layers as a Sequential and as a functional chain give one graph.
    set_random_seed(16)
    layers = [Dense(5, activation="elu"), BatchNormalization(), Dense(2)]
    x = Input((3,), name="input")
    y = x
    for layer in layers:
        y = layer(y)
    functional = Model(x, y)
    randomize_weights(functional, seed=17)
    sequential = Sequential(
        [Input((3,)), Dense(5, activation="elu"), BatchNormalization(), Dense(2)]
    )
    sequential.set_weights(functional.get_weights())
    a = to_onnx(functional, None, output_name="output")
    b = to_onnx(sequential, None)
    assert [n.op_type for n in a.graph.node] == [n.op_type for n in b.graph.node]
    xs = sample((4, 3), np.float32)
    run_a = session(a.SerializeToString()).run(None, {"input": xs})[0]
    run_b = session(b.SerializeToString()).run(None, {"input": xs})[0]
    np.testing.assert_array_equal(run_a, run_b)


def test_fixed_batch_size_and_custom_names(tmp_path):
    a, b = Input((2,), name="a"), Input((2,), name="b")
    model = Model([a, b], [Add()([a, b]), Multiply()([a, b])])
    sess = export(
        model,
        tmp_path,
        input_name=["p", "q"],
        output_name=["sum", "prod"],
        batch_size=3,
    )
    assert [(i.name, i.shape) for i in sess.get_inputs()] == [
        ("p", [3, 2]),
        ("q", [3, 2]),
    ]
    assert [o.name for o in sess.get_outputs()] == ["sum", "prod"]
    p, q = sample((3, 2), np.float32, 1), sample((3, 2), np.float32, 2)
    got_sum, got_prod = sess.run(None, {"p": p, "q": q})
    np.testing.assert_array_equal(got_sum, p + q)
    np.testing.assert_array_equal(got_prod, p * q)


# -- errors --------------------------------------------------------------------------
class Doubler(Layer):
    """A user layer the exporter cannot know."""

    def forward(self, x, *, training=False, keep_cache=False):
        return 2 * x


class MyBatchNormalization(BatchNormalization):
    """A subclass may compute something else."""


@pytest.mark.parametrize(
    "make", [lambda: Doubler(name="twice"), lambda: MyBatchNormalization(name="twice")]
)
def test_unknown_layer_in_a_graph_is_named_with_the_supported_ones(make, tmp_path):
    x = Input((3,))
    model = Model(x, Add()([Dense(3)(x), make()(x)]))
    cls = type(model.get_layer("twice")).__name__
    with pytest.raises(ExportError, match=rf"'twice' is a {cls}") as error:
        to_onnx(model, tmp_path / "m.onnx")
    message = str(error.value)
    for supported in (
        "BatchNormalization",
        "Concatenate",
        "PReLU",
        "Permute",
        "InputLayer",
    ):
        assert supported in message
    assert list(tmp_path.iterdir()) == []


def test_integer_inputs_are_refused():
    tokens = Input((5,), dtype="int32", name="tokens")
    model = Model(tokens, Dense(2)(tokens))
    with pytest.raises(ExportError, match="Input 'tokens' holds int32"):
        to_onnx(model, None)


def test_softmax_layer_over_the_batch_axis_is_refused():
    x = Input((3,))
    with pytest.raises(ExportError, match="batch axis"):
        to_onnx(Model(x, Softmax(axis=0)(x)), None)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_name": "a"}, "list of 2 non-empty strings, one per input"),
        ({"input_name": ["a"]}, "list of 2"),
        ({"input_name": ["a", "a"]}, "its own name"),
        ({"input_name": ["a", ""]}, "non-empty"),
        ({"output_name": ["y", "z"]}, "a non-empty string"),
        ({"output_name": "a"}, "different names"),
        ({"output_name": "dense.W"}, "already the name"),
    ],
)
def test_bad_names(kwargs, match):
    a, b = Input((2,), name="a"), Input((2,), name="b")
    model = Model([a, b], Dense(1)(Add()([a, b])))
    with pytest.raises(GlassnetError, match=match):
        to_onnx(model, None, **kwargs)


def test_unbuilt_sequential_is_refused(tmp_path):
    with pytest.raises(NotBuiltError, match="not been built"):
        to_onnx(Sequential([Dense(2), Activation("relu")]), tmp_path / "m.onnx")
