"""ONNX export of convolutional networks: every new layer, LeNet-5, a causal Conv1D net.

The oracle is glassnet's own ``predict`` (itself checked against PyTorch and Keras
in the layer tests): ONNX Runtime agrees within float32 rounding (rtol 1e-5, atol
1e-6 times the output's scale) or 1e-12 in float64, for every layer alone in every
padding, stride and dilation, alone and in networks, Sequential and functional, on
fixed and on dynamic image sizes. The graphs are also checked for their shape:
the image is transposed to channels-first once, and back to glassnet's order only
before Flatten (so the Dense after it keeps its kernel), the kernels are stored as
ONNX's (F, C, kh, kw), the pads are Keras' and BatchNormalization keeps its epsilon.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import numpy_helper  # noqa: E402

from glassnet import Input, Model  # noqa: E402
from glassnet.datasets import digits  # noqa: E402
from glassnet.export import MIN_OPSET, ExportError, to_onnx  # noqa: E402
from glassnet.layers import (  # noqa: E402
    ELU,
    Activation,
    Add,
    AveragePooling1D,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv1D,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    PReLU,
    ReLU,
    Softmax,
    SpatialDropout1D,
    SpatialDropout2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from glassnet.models import Sequential  # noqa: E402
from glassnet.utils import set_random_seed  # noqa: E402

DTYPES = [np.float32, np.float64]


# -- helpers -------------------------------------------------------------------------
def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """float32: rtol 1e-5, atol 1e-6 x the output's scale; float64: 1e-12."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    tol = 1e-5 if expected.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol / 10 * scale)


def randomize(model: Model, seed: int = 1) -> None:
    """Random weights everywhere (positive variances), so no default hides a bug."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        [
            rng.uniform(0.2, 3.0, w.shape) if w.name == "moving_variance"
            else rng.normal(size=w.shape)
            for w in model.weights
        ]
    )  # fmt: skip


def sample(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=2.0, size=shape).astype(dtype)


def export(model: Model, tmp_path: Path, **kwargs: Any) -> tuple[Any, Any]:
    """Write the file, check it with onnx.checker, open a session; (session, proto)."""
    path = to_onnx(model, tmp_path / "model.onnx", **kwargs)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess, proto


def check(model: Model, tmp_path: Path, xs: list[np.ndarray], **kwargs: Any) -> Any:
    """Export, run, compare every output with predict; returns the proto."""
    sess, proto = export(model, tmp_path, **kwargs)
    expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    feed = {i.name: x for i, x in zip(sess.get_inputs(), xs, strict=True)}
    got = sess.run(None, feed)
    for actual, wanted in zip(got, expected, strict=True):
        assert_close(np.asarray(actual), wanted)
    return proto


def ops(proto: Any) -> list[str]:
    return [node.op_type for node in proto.graph.node]


def node(proto: Any, op_type: str) -> Any:
    return next(n for n in proto.graph.node if n.op_type == op_type)


def attributes(n: Any) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}


def initializer(proto: Any, name: str) -> np.ndarray:
    found = next(i for i in proto.graph.initializer if i.name == name)
    return numpy_helper.to_array(found)


def alone(make: Any, shape: tuple[int, ...], dtype: Any, functional: bool) -> Model:
    set_random_seed(0)
    x = Input(shape, dtype=np.dtype(dtype).name, name="x")
    if functional:
        model = Model(x, make()(x))
    else:
        model = Sequential([x, make()])
    randomize(model)
    return model


# -- every layer alone ---------------------------------------------------------------
IMAGE, SIGNAL = (7, 8, 3), (11, 3)

#: (id, layer factory, per-sample input shape): every padding, stride and dilation.
LAYERS: list[tuple[str, Any, tuple[int, ...]]] = [
    ("conv2d-valid", lambda: Conv2D(4, 3), IMAGE),
    ("conv2d-same-odd", lambda: Conv2D(4, 3, padding="same"), IMAGE),
    ("conv2d-same-asymmetric", lambda: Conv2D(2, (4, 2), padding="same"), IMAGE),
    ("conv2d-strides-same", lambda: Conv2D(3, 3, strides=2, padding="same"), IMAGE),
    ("conv2d-strides-valid", lambda: Conv2D(3, (3, 2), strides=(2, 3)), IMAGE),
    ("conv2d-dilation-same", lambda: Conv2D(2, 3, dilation_rate=2, padding="same"), IMAGE),
    ("conv2d-dilation-valid", lambda: Conv2D(2, 2, dilation_rate=(1, 3)), IMAGE),
    ("conv2d-1x1-no-bias", lambda: Conv2D(5, 1, use_bias=False), IMAGE),
    ("conv2d-relu", lambda: Conv2D(4, 3, activation="relu"), IMAGE),
    ("conv2d-softmax", lambda: Conv2D(4, 2, activation="softmax"), IMAGE),
    ("conv2d-elu", lambda: Conv2D(2, 2, activation="elu"), IMAGE),
    ("conv1d-valid", lambda: Conv1D(4, 3), SIGNAL),
    ("conv1d-same", lambda: Conv1D(4, 4, padding="same"), SIGNAL),
    ("conv1d-causal", lambda: Conv1D(3, 3, padding="causal"), SIGNAL),
    ("conv1d-causal-dilated", lambda: Conv1D(3, 3, padding="causal", dilation_rate=3), SIGNAL),
    ("conv1d-strides-same", lambda: Conv1D(2, 3, strides=2, padding="same"), SIGNAL),
    ("conv1d-dilation-valid", lambda: Conv1D(2, 2, dilation_rate=4), SIGNAL),
    ("conv1d-sigmoid", lambda: Conv1D(2, 2, activation="sigmoid"), SIGNAL),
    ("max-pool2d", lambda: MaxPooling2D(), IMAGE),
    ("max-pool2d-same-asymmetric", lambda: MaxPooling2D(3, 2, padding="same"), (8, 7, 2)),
    ("max-pool2d-overlapping", lambda: MaxPooling2D((2, 3), strides=1), IMAGE),
    ("max-pool1d", lambda: MaxPooling1D(), SIGNAL),
    ("max-pool1d-same", lambda: MaxPooling1D(3, 2, padding="same"), (10, 2)),
    ("avg-pool2d", lambda: AveragePooling2D(2), IMAGE),
    ("avg-pool2d-same", lambda: AveragePooling2D(3, 2, padding="same"), IMAGE),
    ("avg-pool2d-same-asymmetric", lambda: AveragePooling2D(4, 2, padding="same"), IMAGE),
    ("avg-pool2d-same-stride1", lambda: AveragePooling2D((3, 2), 1, padding="same"), IMAGE),
    ("avg-pool1d", lambda: AveragePooling1D(3), SIGNAL),
    ("avg-pool1d-same", lambda: AveragePooling1D(4, 3, padding="same"), SIGNAL),
    ("global-avg2d", lambda: GlobalAveragePooling2D(), IMAGE),
    ("global-avg2d-keepdims", lambda: GlobalAveragePooling2D(keepdims=True), IMAGE),
    ("global-max2d", lambda: GlobalMaxPooling2D(), IMAGE),
    ("global-max2d-keepdims", lambda: GlobalMaxPooling2D(keepdims=True), IMAGE),
    ("global-avg1d", lambda: GlobalAveragePooling1D(), SIGNAL),
    ("global-avg1d-keepdims", lambda: GlobalAveragePooling1D(keepdims=True), SIGNAL),
    ("global-max1d", lambda: GlobalMaxPooling1D(), SIGNAL),
    ("global-max1d-keepdims", lambda: GlobalMaxPooling1D(keepdims=True), SIGNAL),
    ("zero-padding2d", lambda: ZeroPadding2D(), IMAGE),
    ("zero-padding2d-sides", lambda: ZeroPadding2D(((1, 0), (2, 3))), IMAGE),
    ("zero-padding2d-none", lambda: ZeroPadding2D(0), IMAGE),
    ("zero-padding1d", lambda: ZeroPadding1D((2, 1)), SIGNAL),
    ("spatial-dropout2d", lambda: SpatialDropout2D(0.5), IMAGE),
    ("spatial-dropout1d", lambda: SpatialDropout1D(0.5), SIGNAL),
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("functional", [True, False], ids=["functional", "sequential"])
@pytest.mark.parametrize(
    ("make", "shape"), [c[1:] for c in LAYERS], ids=[c[0] for c in LAYERS]
)
def test_each_layer_alone_matches_predict(make, shape, functional, dtype, tmp_path):
    model = alone(make, shape, dtype, functional)
    x = sample((9, *shape), dtype)
    check(model, tmp_path, [x])


def test_each_layer_uses_its_onnx_op(tmp_path):
    expected = {
        "conv2d-same-odd": "Conv", "conv1d-causal": "Conv", "max-pool2d": "MaxPool",
        "max-pool1d": "MaxPool", "avg-pool2d": "AveragePool",
        "avg-pool1d-same": "AveragePool", "global-avg2d": "GlobalAveragePool",
        "global-max1d": "GlobalMaxPool", "zero-padding2d": "Pad",
        "zero-padding1d": "Pad", "spatial-dropout2d": "Identity",
    }  # fmt: skip
    for case_id, make, shape in LAYERS:
        if case_id in expected:
            proto = to_onnx(alone(make, shape, np.float32, False), None)
            assert expected[case_id] in ops(proto), case_id


# -- what the graph looks like ---------------------------------------------------------
def lenet(dtype: Any = np.float32) -> Sequential:
    """LeNet-5: Conv2D(6, 5, same)-pool-Conv2D(16, 5)-pool-Flatten-Dense x 3."""
    set_random_seed(0)
    model = Sequential(
        [
            Input((28, 28, 1), dtype=np.dtype(dtype).name),
            Conv2D(6, 5, padding="same", activation="relu"),
            MaxPooling2D(),
            Conv2D(16, 5, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(120, activation="relu"),
            Dense(84, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )
    randomize(model)
    for layer in model.layers:  # weights of a trained net's size: outputs not saturated
        layer.set_weights([w * 0.2 for w in layer.get_weights()])
    return model


@pytest.mark.parametrize("dtype", DTYPES)
def test_lenet5_matches_predict(dtype, tmp_path):
    model = lenet(dtype)
    images, _ = digits(images=True)
    x = np.kron(images[:20] / 16.0, np.ones((1, 4, 4, 1)))[:, 2:30, 2:30]  # 28 x 28
    proto = check(model, tmp_path, [x.astype(dtype)])
    if dtype == np.float32:
        assert ops(proto)[:8] == [
            "Transpose", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool",
            "Transpose",
        ]  # fmt: skip
        assert ops(proto)[8] == "Flatten"


def test_lenet5_graph_transposes_once_each_way_and_keeps_keras_weights():
    model = lenet()
    proto = to_onnx(model, None)
    transposes = [n for n in proto.graph.node if n.op_type == "Transpose"]
    assert [attributes(n)["perm"] for n in transposes] == [[0, 3, 1, 2], [0, 2, 3, 1]]
    assert transposes[0].input == ["input"]
    conv = node(proto, "Conv")
    assert attributes(conv) == {
        "kernel_shape": [5, 5], "strides": [1, 1], "dilations": [1, 1],
        "pads": [2, 2, 2, 2],
    }  # fmt: skip
    kernel = model.layers[0].params["W"]  # (5, 5, 1, 6)
    np.testing.assert_array_equal(
        initializer(proto, conv.input[1]), kernel.transpose(3, 2, 0, 1)
    )
    # Flatten sees (h, w, c) again, so the Dense after it keeps Keras' kernel as is
    dense_kernel = model.layers[5].params["W"]
    matmul = node(proto, "MatMul")
    np.testing.assert_array_equal(initializer(proto, matmul.input[1]), dense_kernel)


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_digits_cnn_matches_predict(dtype, tmp_path):
    """The issue's C1: Conv2D(8,3,same)-ReLU-MaxPool-Conv2D(16,3,same)-ReLU-MaxPool-
    Flatten-Dense(10), trained a few steps on the digits."""
    set_random_seed(0)
    model = Sequential(
        [
            Input((8, 8, 1), dtype=np.dtype(dtype).name),
            Conv2D(8, 3, padding="same"),
            ReLU(),
            MaxPooling2D(),
            Conv2D(16, 3, padding="same"),
            ReLU(),
            MaxPooling2D(),
            Flatten(),
            Dense(10, activation="softmax"),
        ]
    )
    images, labels = digits(images=True)
    x = (images / 16.0).astype(dtype)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:256], labels[:256], epochs=2, batch_size=32, verbose=0)
    proto = check(model, tmp_path, [x[:300]])
    if dtype == np.float32:  # a ReLU layer between two convolutions costs no transpose
        assert ops(proto).count("Transpose") == 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_causal_conv1d_net_matches_predict(dtype, tmp_path):
    set_random_seed(0)
    model = Sequential(
        [
            Input((32, 2), dtype=np.dtype(dtype).name),
            Conv1D(8, 3, padding="causal", activation="relu"),
            Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu"),
            Conv1D(8, 3, padding="causal", dilation_rate=4),
            BatchNormalization(),
            GlobalAveragePooling1D(),
            Dense(1, activation="sigmoid"),
        ]
    )
    randomize(model)
    proto = check(model, tmp_path, [sample((7, 32, 2), dtype)])
    if dtype == np.float32:
        pads = [attributes(n)["pads"] for n in proto.graph.node if n.op_type == "Conv"]
        assert pads == [[2, 0], [4, 0], [8, 0]]  # (k - 1) * d before, none after


def test_causal_conv1d_net_on_sequences_of_any_length(tmp_path):
    set_random_seed(0)
    x_in = Input((None, 2), name="steps")
    h = Conv1D(4, 3, padding="causal", dilation_rate=2, activation="tanh")(x_in)
    h = Conv1D(4, 2, strides=2, padding="same")(h)
    h = MaxPooling1D(3, strides=2, padding="same")(h)
    h = AveragePooling1D(2, padding="same")(h)
    model = Model(x_in, [GlobalMaxPooling1D()(h), h])
    randomize(model)
    sess, _ = export(model, tmp_path)
    for length in (5, 16, 33):
        x = sample((3, length, 2), np.float32, seed=length)
        got = sess.run(None, {"steps": x})
        for actual, wanted in zip(got, model.predict(x, verbose=0), strict=True):
            assert_close(actual, wanted)


def test_images_of_any_size_use_same_upper_pads(tmp_path):
    """'same' with a stride on an axis of any length: auto_pad SAME_UPPER (the
    runtime splits the padding as TensorFlow and glassnet do, odd cell after)."""
    set_random_seed(0)
    x_in = Input((None, None, 3), name="image")
    h = Conv2D(4, 3, strides=2, padding="same", activation="relu")(x_in)
    h = Conv2D(4, 3, dilation_rate=2, padding="same")(h)
    h = MaxPooling2D(3, strides=2, padding="same")(h)
    h = AveragePooling2D(4, strides=2, padding="same")(h)
    model = Model(x_in, Dense(2)(GlobalMaxPooling2D()(h)))
    randomize(model)
    sess, proto = export(model, tmp_path)
    same = [n.op_type for n in proto.graph.node if b"SAME_UPPER" in str(n).encode()]
    assert same == ["Conv", "MaxPool", "AveragePool"]
    # a dilated 'same' convolution has stride 1, so its pads need no length
    # (ONNX Runtime refuses dilations with SAME_UPPER)
    assert attributes([n for n in proto.graph.node if n.op_type == "Conv"][1])["pads"] == [
        2, 2, 2, 2,
    ]  # fmt: skip
    for size in [(9, 7), (12, 16), (5, 5)]:
        x = sample((2, *size, 3), np.float32, seed=size[0])
        (got,) = sess.run(None, {"image": x})
        assert_close(got, model.predict(x, verbose=0))


def test_float64_needs_fixed_image_sizes():
    set_random_seed(0)
    x_in = Input((None, 8, 1), dtype="float64", name="image")
    model = Model(x_in, Conv2D(2, 3)(x_in))
    with pytest.raises(ExportError, match=r"'conv2d'.*float64.*fixed shape.*None"):
        to_onnx(model, None)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_normalization_after_a_convolution_keeps_its_epsilon(dtype, tmp_path):
    set_random_seed(0)
    model = Sequential(
        [
            Input((6, 6, 2), dtype=np.dtype(dtype).name),
            Conv2D(3, 3),
            BatchNormalization(),  # Keras' epsilon, 1e-3 (ONNX's op defaults to 1e-5)
            BatchNormalization(epsilon=0.25),
        ]
    )
    randomize(model)
    for bn in model.layers[1:]:  # variances the size of epsilon: a wrong one shows
        bn.state["moving_variance"][...] = [1e-4, 2e-3, 0.3]
    proto = check(model, tmp_path, [sample((5, 6, 6, 2), dtype)])
    assert initializer(proto, "batch_normalization/epsilon") == np.dtype(dtype).type(
        1e-3
    )
    assert initializer(proto, "batch_normalization_1/epsilon") == np.dtype(dtype).type(
        0.25
    )
    if dtype == np.float32:  # channels on axis 1: statistics shaped (C, 1, 1)
        assert initializer(proto, "batch_normalization.moving_mean").shape == (3, 1, 1)
        assert ops(proto).count("Transpose") == 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_on_channels_first_data_move_their_axis(dtype, tmp_path):
    """Concatenate, Softmax, PReLU, Add after convolutions (channels-first in float32),
    and a Dense on a 4-D convolution output (channels-last again)."""
    set_random_seed(0)
    image = Input((6, 7, 2), dtype=np.dtype(dtype).name, name="image")
    a = Conv2D(3, 3, padding="same")(image)
    b = Conv2D(3, 1)(image)
    joined = Concatenate()([PReLU(shared_axes=[1, 2])(a), ELU()(b)])
    summed = Add()([a, b])
    probabilities = Softmax()(joined)
    scores = Activation("softmax")(Conv2D(4, 2, padding="same")(summed))
    projected = Dense(2)(MaxPooling2D()(summed))
    model = Model(image, [probabilities, scores, projected])
    randomize(model)
    proto = check(model, tmp_path, [sample((4, 6, 7, 2), dtype)])
    if dtype == np.float32:
        assert attributes(node(proto, "Concat"))["axis"] == 1
        assert [
            attributes(n)["axis"] for n in proto.graph.node if n.op_type == "Softmax"
        ] == [1, 1]


def test_a_fully_convolutional_output_is_channels_last(tmp_path):
    set_random_seed(0)
    model = Sequential(
        [Input((5, 6, 2)), Conv2D(3, 3, padding="same"), ZeroPadding2D(1)]
    )
    randomize(model)
    proto = check(model, tmp_path, [sample((2, 5, 6, 2), np.float32)])
    (output,) = proto.graph.output
    dims = [d.dim_value or d.dim_param for d in output.type.tensor_type.shape.dim]
    assert dims == ["batch", 7, 8, 3]


def test_a_shared_convolution_stores_its_kernel_once(tmp_path):
    set_random_seed(0)
    x_in = Input((6, 6, 2), name="x")
    shared = Conv2D(2, 3, padding="same", name="shared")
    model = Model(x_in, shared(shared(x_in)))
    randomize(model)
    proto = check(model, tmp_path, [sample((3, 6, 6, 2), np.float32)])
    assert ops(proto).count("Conv") == 2
    assert sorted(i.name for i in proto.graph.initializer) == ["shared.W", "shared.b"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opset", [MIN_OPSET, 17, 18, 20])
def test_every_opset(opset, dtype, tmp_path):
    set_random_seed(0)
    model = Sequential(
        [
            Input((7, 7, 2), dtype=np.dtype(dtype).name),
            Conv2D(3, 3, padding="same"),
            AveragePooling2D(2, padding="same"),
            GlobalMaxPooling2D(keepdims=True),
            Flatten(),
        ]
    )
    randomize(model)
    check(model, tmp_path, [sample((3, 7, 7, 2), dtype)], opset=opset)
