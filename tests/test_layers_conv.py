"""Conv1D and Conv2D against gradcheck, PyTorch, a NumPy oracle and Keras 3.

- float64 gradient checks of every tensor (W, b, x), several geometries;
- PyTorch autograd in float64 for the output, dx, dW and db, to 1e-10 relative per
  tensor, over every padding / stride / dilation combination: the asymmetric 'same'
  padding of even kernels and strides 2 and 3 (torch gets the zeros explicitly, by
  Keras' rule written out below), non-square inputs and kernels, causal Conv1D,
  one and several input channels, with and without a bias, linear and tanh;
- a ``sliding_window_view`` + ``einsum`` oracle for the forward pass;
- Keras 3 (torch backend) in float32 with the same weights: layer outputs, configs,
  whole models (get_weights order and predictions), files both ways;
- models that train (Sequential and functional), shared layers, fused softmax,
  summary and parameter counts, and the bad inputs a user will try.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import itertools
from copy import deepcopy

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

import glassnet
from glassnet import gradcheck
from glassnet._naming import to_snake_case as snake_case
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    ShapeError,
)
from glassnet.layers import (
    Conv1D,
    Conv2D,
    Convolution1D,
    Convolution2D,
    Dense,
    Flatten,
    Layer,
    registry,
)
from glassnet.models import Model, Sequential, clone_model, load_model
from glassnet.optimizers import Adam

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(31)


def relative(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


def keras_same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple:
    """TensorFlow's rule, written out independently of glassnet's im2col module."""
    out = -(-size // stride)  # ceil
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def built(layer: Layer, shape: tuple[int, ...], dtype=np.float64) -> Layer:
    """``layer`` built for ``shape`` (batch first), with random weights (bias too)."""
    layer.build(shape[1:], np.random.default_rng(0), dtype)
    for value in layer.params.values():
        value[...] = RNG.normal(size=value.shape)
    return layer


# -- gradient checks ----------------------------------------------------------------
GRADCHECK_CASES = [
    (Conv2D, (2, 5, 6, 2), {"filters": 3, "kernel_size": 3}),
    (Conv2D, (2, 5, 6, 1), {"filters": 2, "kernel_size": (2, 3), "padding": "same"}),
    (
        Conv2D,
        (2, 6, 5, 2),
        {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same"},
    ),
    (Conv2D, (2, 7, 7, 2), {"filters": 2, "kernel_size": 3, "dilation_rate": 2}),
    (
        Conv2D,
        (2, 5, 5, 3),
        {"filters": 2, "kernel_size": 3, "strides": (2, 1), "activation": "tanh"},
    ),
    (Conv2D, (1, 4, 4, 2), {"filters": 3, "kernel_size": 1, "use_bias": False}),
    (Conv1D, (2, 7, 2), {"filters": 3, "kernel_size": 3}),
    (Conv1D, (2, 7, 1), {"filters": 2, "kernel_size": 4, "padding": "same"}),
    (Conv1D, (2, 8, 2), {"filters": 2, "kernel_size": 3, "padding": "causal"}),
    (
        Conv1D,
        (2, 9, 2),
        {"filters": 2, "kernel_size": 2, "padding": "causal", "dilation_rate": 3},
    ),
    (
        Conv1D,
        (3, 8, 2),
        {"filters": 2, "kernel_size": 3, "strides": 3, "padding": "same"},
    ),
    (Conv1D, (2, 6, 3), {"filters": 1, "kernel_size": 2, "activation": "sigmoid"}),
]


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize(("cls", "shape", "kwargs"), GRADCHECK_CASES)
def test_gradcheck(cls, shape, kwargs, training):
    layer = built(cls(**kwargs), shape)
    report = gradcheck(layer, RNG.normal(size=shape), training=training)
    assert list(report.errors) == [*layer.params, "x"]
    assert report.passed, str(report)


# -- PyTorch autograd in float64 ----------------------------------------------------
def torch_conv(x, params, dy, *, rank, strides, dilation, pads, activation):
    """torch's output and gradients of sum(y * dy), with explicit zero padding."""
    x_t = torch.tensor(x, requires_grad=True)
    w_t = torch.tensor(params["W"], requires_grad=True)
    b_t = torch.tensor(params["b"], requires_grad=True) if "b" in params else None
    if rank == 2:
        (top, bottom), (left, right) = pads
        padded = F.pad(x_t.permute(0, 3, 1, 2), (left, right, top, bottom))
        z = F.conv2d(
            padded, w_t.permute(3, 2, 0, 1), b_t, stride=strides, dilation=dilation
        ).permute(0, 2, 3, 1)
    else:
        padded = F.pad(x_t.permute(0, 2, 1), pads[0])
        z = F.conv1d(
            padded, w_t.permute(2, 1, 0), b_t, stride=strides, dilation=dilation
        ).permute(0, 2, 1)
    y = torch.tanh(z) if activation == "tanh" else z
    (y * torch.tensor(dy)).sum().backward()
    found = {"y": y.detach().numpy(), "x": x_t.grad.numpy(), "W": w_t.grad.numpy()}
    if b_t is not None:
        found["b"] = b_t.grad.numpy()
    return found


def glassnet_conv(layer, x, dy):
    y = layer.forward(x, training=True)
    dx = layer.backward(dy)
    return {"y": y, "x": dx, **{k: v.copy() for k, v in layer.grads.items()}}


def expected_pads(padding, sizes, kernel, strides, dilation):
    pads = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation, strict=True):
        if padding == "same":
            pads.append(keras_same_pads(n, k, s, d))
        elif padding == "causal":
            pads.append(((k - 1) * d, 0))
        else:
            pads.append((0, 0))
    return pads


def compare_with_torch(layer, shape, *, rank):
    x = RNG.normal(size=shape)
    sizes = shape[1:-1]
    pads = expected_pads(
        layer.padding, sizes, layer.kernel_size, layer.strides, layer.dilation_rate
    )
    out = layer.output_shape(shape[1:])
    if layer.padding != "valid":  # 'same' and 'causal' give ceil(size / stride)
        assert out[:-1] == tuple(
            -(-n // s) for n, s in zip(sizes, layer.strides, strict=True)
        )
    dy = RNG.normal(size=(shape[0], *out))
    expected = torch_conv(
        x,
        layer.params,
        dy,
        rank=rank,
        strides=layer.strides,
        dilation=layer.dilation_rate,
        pads=pads,
        activation=layer.activation.name,
    )
    found = glassnet_conv(layer, x, dy)
    assert found.keys() == expected.keys()
    for key in expected:
        assert found[key].shape == expected[key].shape, key
        assert relative(found[key], expected[key]) < 1e-10, (key, layer.get_config())


# strides / dilation pairs: Keras refuses strides > 1 together with dilation > 1
STEPS_2D = [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((3, 3), (1, 1)), ((2, 3), (1, 1)),
            ((1, 1), (2, 2)), ((1, 1), (1, 3))]  # fmt: skip
KERNELS_2D = [(3, 3), (2, 2), (4, 3), (1, 2)]
SIZES_2D = [(7, 9), (8, 5), (6, 6)]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("strides", "dilation"), STEPS_2D)
def test_conv2d_matches_torch(padding, strides, dilation):
    cases = itertools.product(KERNELS_2D, SIZES_2D, [1, 3])
    checked = 0
    for index, (kernel, size, channels) in enumerate(cases):
        spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
        if padding == "valid" and any(s > n for s, n in zip(spans, size, strict=True)):
            continue
        layer = Conv2D(
            2,
            kernel,
            strides=strides,
            padding=padding,
            dilation_rate=dilation,
            use_bias=index % 3 != 2,
            activation="tanh" if index % 2 else None,
        )
        shape = (2, *size, channels)
        compare_with_torch(built(layer, shape), shape, rank=2)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize(
    ("strides", "dilation"), [(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)]
)
def test_conv1d_matches_torch(padding, strides, dilation):
    checked = 0
    for index, (kernel, steps, channels) in enumerate(
        itertools.product([1, 2, 3, 4], [7, 10], [1, 2])
    ):
        if padding == "valid" and (kernel - 1) * dilation + 1 > steps:
            continue
        layer = Conv1D(
            3,
            kernel,
            strides=strides,
            padding=padding,
            dilation_rate=dilation,
            use_bias=index % 3 != 1,
            activation="tanh" if index % 2 else None,
        )
        shape = (3, steps, channels)
        compare_with_torch(built(layer, shape), shape, rank=1)
        checked += 1
    assert checked >= 12


def test_asymmetric_same_padding_puts_the_extra_zero_after():
    # Kernel 2, stride 1 on 3 pixels: total padding 1, all of it after (bottom,
    # right). With a kernel of ones, the last output row and column see one zero.
    layer = Conv2D(1, 2, padding="same", use_bias=False)
    layer.build((3, 3, 1), np.random.default_rng(0), np.float64)
    layer.set_weights([np.ones((2, 2, 1, 1))])
    y = layer.forward(np.ones((1, 3, 3, 1)))[0, :, :, 0]
    np.testing.assert_array_equal(y, [[4, 4, 2], [4, 4, 2], [2, 2, 1]])


# -- a NumPy oracle: sliding_window_view + einsum -----------------------------------
def oracle_conv2d(x, kernel, bias, strides, dilation, pads):
    (top, bottom), (left, right) = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw = kernel.shape[:2]
    dh, dw = dilation
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    windows = sliding_window_view(xp, span, axis=(1, 2))  # (N, OH', OW', C, sh, sw)
    windows = windows[:, :: strides[0], :: strides[1], :, ::dh, ::dw]
    return np.einsum("nhwcij,ijcf->nhwf", windows, kernel) + bias


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((2, 9, 7, 3), {"kernel_size": (4, 2), "strides": (3, 2), "padding": "same"}),
        ((2, 9, 7, 1), {"kernel_size": 3, "dilation_rate": (2, 1)}),
        ((1, 5, 8, 2), {"kernel_size": (5, 1), "padding": "same"}),
    ],
)
def test_conv2d_forward_matches_the_numpy_oracle(shape, kwargs):
    layer = built(Conv2D(3, **kwargs), shape)
    x = RNG.normal(size=shape)
    pads = expected_pads(
        layer.padding, shape[1:3], layer.kernel_size, layer.strides, layer.dilation_rate
    )
    expected = oracle_conv2d(
        x,
        layer.params["W"],
        layer.params["b"],
        layer.strides,
        layer.dilation_rate,
        pads,
    )
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


# -- the backward protocol ----------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "shape", "kwargs"),
    [
        (Conv2D, (3, 6, 6, 1), {"kernel_size": 3, "padding": "same"}),
        (Conv2D, (3, 6, 5, 2), {"kernel_size": 2, "strides": 2}),
        (Conv1D, (3, 8, 2), {"kernel_size": 3, "padding": "causal"}),
    ],
)
def test_without_input_grad_returns_none_and_fills_the_weight_grads(cls, shape, kwargs):
    layer = built(cls(4, **kwargs), shape)
    x = RNG.normal(size=shape)
    dy = RNG.normal(size=(shape[0], *layer.output_shape(shape[1:])))
    layer.forward(x, training=True)
    assert layer.backward(dy) is not None
    expected = {k: v.copy() for k, v in layer.grads.items()}
    grads = {k: v for k, v in layer.grads.items()}
    for value in layer.grads.values():
        value[...] = 0.0
    layer.forward(x, training=True)
    assert layer.backward(dy, input_grad=False) is None
    for key, value in layer.grads.items():
        assert value is grads[key]  # written in place
        np.testing.assert_array_equal(value, expected[key])


def test_inference_keeps_no_cache_and_a_frozen_layer_fills_no_grads():
    layer = built(Conv2D(2, 3), (2, 5, 5, 2))
    x = RNG.normal(size=(2, 5, 5, 2))
    layer.forward(x)
    with pytest.raises(MissingForwardError, match="conv2d"):
        layer.backward(np.ones((2, 3, 3, 2)))
    layer.trainable = False
    layer.forward(x, training=True)
    for value in layer.grads.values():
        value[...] = 7.0
    dx = layer.backward(np.ones((2, 3, 3, 2)))
    assert dx.shape == x.shape
    assert all((value == 7.0).all() for value in layer.grads.values())


def test_the_scratch_buffers_never_hold_a_cache():
    # What backward reads is never a buffer reused from call to call: a cache set
    # aside while other calls run (as the walk does for a shared layer) stays valid.
    for channels in (1, 3):
        layer = built(Conv2D(3, 3, padding="same"), (2, 6, 6, channels))
        x, other = RNG.normal(size=(2, 2, 6, 6, channels))
        dy = RNG.normal(size=(2, 6, 6, 3))
        layer.forward(x, training=True)
        dx = layer.backward(dy).copy()
        expected = layer.grads["W"].copy()
        layer.forward(x, training=True)
        kept = layer._cache
        layer.forward(other)  # inference
        layer.forward(other, training=True)
        layer._cache = kept
        np.testing.assert_array_equal(layer.backward(dy), dx)
        np.testing.assert_array_equal(layer.grads["W"], expected)


# -- models ---------------------------------------------------------------------------
def bars(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """8x8 images with one vertical (class 0) or horizontal (class 1) bar, and noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, size=(n, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 2, n)
    where = rng.integers(0, 8, n)
    for i in range(n):
        if y[i]:
            x[i, where[i], :, 0] += 1
        else:
            x[i, :, where[i], 0] += 1
    return x, y


def test_a_sequential_conv_model_trains():
    x, y = bars(64)
    model = Sequential(
        [
            Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
            Flatten(),
            Dense(2, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_a_functional_conv1d_model_trains():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 12, 2)).astype("float32")
    # a sum over time of a function of two neighbouring steps
    y = np.tanh(x[:, 1:, 0] - 0.5 * x[:, :-1, 1]).sum(axis=1, keepdims=True)
    inputs = glassnet.Input((12, 2))
    hidden = Conv1D(8, 2, activation="tanh", padding="causal")(inputs)
    hidden = Conv1D(4, 3, strides=2, padding="same")(hidden)
    outputs = Dense(1)(Flatten()(hidden))
    model = Model(inputs, outputs)
    model.compile(optimizer=Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_a_whole_model_gradcheck_with_a_shared_conv_layer():
    # One Conv2D called on two inputs: the walk swaps its caches, and its weight
    # gradients are the sum over both calls.
    shared = Conv2D(2, 2, activation="tanh", padding="same")
    a, b = glassnet.Input((4, 4, 1)), glassnet.Input((4, 4, 1))
    merged = glassnet.layers.Add()([shared(a), shared(b)])
    model = Model([a, b], Dense(1)(Flatten()(merged)))
    model.compile(optimizer="sgd", loss="mse")
    xs = [RNG.normal(size=(3, 4, 4, 1)), RNG.normal(size=(3, 4, 4, 1))]
    report = gradcheck(model, xs, RNG.normal(size=(3, 1)))
    assert report.passed, str(report)
    assert {"conv2d.W", "conv2d.b"} <= set(report.errors)


def test_a_conv_output_layer_fuses_softmax_with_the_loss():
    # Per-step classification: Conv1D(softmax) is the output layer, and the loss
    # starts from its logits.
    model = Sequential(
        [Conv1D(3, 2, padding="causal", activation="softmax", input_shape=(5, 2))]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    y = np.eye(3)[RNG.integers(0, 3, (4, 5))]
    report = gradcheck(model, RNG.normal(size=(4, 5, 2)), y)
    assert report.passed, str(report)


def lenet_pair():
    keras.backend.clear_session()  # Keras' automatic names start again, as ours do
    ours = Sequential(
        [
            Conv2D(3, 3, activation="relu", padding="same", input_shape=(8, 8, 2)),
            Conv2D(4, (2, 3), strides=2),
            Flatten(),
            Dense(2),
        ],
        seed=3,
    )
    theirs = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(3, 3, activation="relu", padding="same"),
            keras.layers.Conv2D(4, (2, 3), strides=2),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    return ours, theirs


def test_get_weights_order_and_predictions_match_keras():
    ours, theirs = lenet_pair()
    assert [w.shape for w in ours.get_weights()] == [
        tuple(w.shape) for w in theirs.get_weights()
    ]
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    x = RNG.normal(size=(5, 8, 8, 2)).astype("float32")
    expected = keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5
    )


def test_files_go_both_ways_with_keras(tmp_path):
    ours, theirs = lenet_pair()
    x = RNG.normal(size=(5, 8, 8, 2)).astype("float32")
    ours.save(tmp_path / "ours.keras")
    loaded = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)),
        ours.predict(x, verbose=0),
        rtol=1e-5,
        atol=1e-5,
    )
    theirs.save(tmp_path / "theirs.keras")
    again = load_model(tmp_path / "theirs.keras")
    assert [type(layer).__name__ for layer in again.layers][:2] == ["Conv2D", "Conv2D"]
    np.testing.assert_allclose(
        again.predict(x, verbose=0),
        keras.ops.convert_to_numpy(theirs(x)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_summary_and_parameter_counts(capsys):
    model, _ = lenet_pair()
    model.summary()
    text = capsys.readouterr().out
    # conv2d: 3*3*2*3 + 3 = 57; conv2d_1: 2*3*3*4 + 4 = 76 on (8, 8, 3) -> (4, 3, 4)
    assert "conv2d (Conv2D)" in text and "(None, 8, 8, 3)" in text and "57" in text
    assert "conv2d_1 (Conv2D)" in text and "(None, 4, 3, 4)" in text and "76" in text
    assert model.count_params() == 57 + 76 + (48 * 2 + 2)
    layer = model.layers[1]
    assert layer.param_count((8, 8, 3)) == 76
    assert Conv1D(5, 3, use_bias=False).param_count((None, 4)) == 60
    model.summary(explain=True)
    assert "2 x 18 x 192" in capsys.readouterr().out  # conv2d's FLOPs: fan-in 3*3*2


def test_flops_and_kept_activations():
    layer = Conv2D(4, 3, padding="same", activation="relu")
    # 5x5x4 outputs, each 2 x (3*3*2) operations, plus the bias and the relu
    assert layer.flops((5, 5, 2)).count == 2 * 18 * 100 + 100 + 100
    kept = layer.kept_activations((5, 5, 2))
    assert kept.count == 25 * 18 + 100 + 100 and kept.what == "col, z and y"
    assert Conv1D(2, 3).kept_activations((6, 1)).what == "col and z = y"
    assert Conv1D(2, 3).flops((None, 1)).count is None


# -- Keras 3: layer outputs and configs ----------------------------------------------
KERAS_CASES = [
    (
        Conv2D,
        (2, 7, 6, 3),
        {"filters": 4, "kernel_size": 2, "strides": 2, "padding": "same"},
    ),
    (Conv2D, (2, 9, 8, 1), {"filters": 3, "kernel_size": (3, 2), "dilation_rate": 2}),
    (
        Conv2D,
        (2, 8, 8, 2),
        {
            "filters": 2,
            "kernel_size": 4,
            "strides": 3,
            "padding": "same",
            "activation": "relu",
        },
    ),
    (
        Conv1D,
        (2, 11, 3),
        {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
    ),
    (
        Conv1D,
        (2, 10, 2),
        {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same"},
    ),
    (Conv1D, (2, 10, 1), {"filters": 3, "kernel_size": 5, "use_bias": False}),
]


@pytest.mark.parametrize(("cls", "shape", "kwargs"), KERAS_CASES)
def test_forward_matches_keras(cls, shape, kwargs):
    ours = built(cls(**kwargs), shape, np.float32)
    theirs = getattr(keras.layers, cls.__name__)(**kwargs)
    x = RNG.normal(size=shape).astype("float32")
    theirs.build(shape)
    theirs.set_weights(ours.get_weights())
    expected = keras.ops.convert_to_numpy(theirs(x))
    assert tuple(theirs.compute_output_shape(shape)) == (
        shape[0],
        *ours.output_shape(shape[1:]),
    )
    np.testing.assert_allclose(ours.forward(x), expected, rtol=1e-5, atol=1e-5)


#: Keras config keys glassnet leaves out: the dtype policy; the regularizers and
#: constraints, written only when set; ``trainable``, written only when False.
NOT_OURS = {
    "dtype",
    "trainable",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
}


@pytest.mark.parametrize(("cls", "shape", "kwargs"), KERAS_CASES)
def test_configs_match_keras_and_round_trip(cls, shape, kwargs):
    ours = cls(**kwargs, name="conv").get_config()
    theirs = getattr(keras.layers, cls.__name__)(**kwargs, name="conv").get_config()
    assert set(ours) == set(theirs) - NOT_OURS
    initializers = {"kernel_initializer", "bias_initializer"}
    assert {k: v for k, v in ours.items() if k not in initializers} == {
        k: theirs[k] for k in ours if k not in initializers
    }
    for key in initializers:  # Keras writes the full dict, glassnet the short name
        assert ours[key] == snake_case(theirs[key]["class_name"])
    again = registry.get({"class_name": cls.__name__, "config": ours}, base=Layer)
    assert type(again) is cls and again.get_config() == ours
    as_lists = {k: list(v) if isinstance(v, tuple) else v for k, v in ours.items()}
    assert cls.from_config(as_lists).get_config() == ours  # JSON turns tuples to lists


def test_names_aliases_and_weight_paths():
    assert Convolution2D is Conv2D and Convolution1D is Conv1D
    assert [Conv2D(1, 1).name, Conv2D(1, 1).name, Conv1D(1, 1).name] == [
        "conv2d",
        "conv2d_1",
        "conv1d",
    ]
    assert registry.lookup("conv2d") is Conv2D and registry.lookup("conv1d") is Conv1D
    layer = built(Conv1D(2, 3), (1, 5, 4))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("conv1d_1/kernel", (3, 4, 2)),
        ("conv1d_1/bias", (2,)),
    ]


def test_unknown_spatial_sizes_stay_unknown():
    assert Conv2D(4, 3).output_shape((None, 10, 2)) == (None, 8, 4)
    assert Conv2D(4, 3, strides=2, padding="same").output_shape((None, None, 2)) == (
        None,
        None,
        4,
    )
    assert Conv1D(2, 5, padding="causal").output_shape((None, 3)) == (None, 2)
    layer = Conv1D(2, 3)
    layer.build((None, 3), np.random.default_rng(0), np.float64)
    assert layer.forward(np.ones((2, 7, 3))).shape == (2, 5, 2)
    assert layer.forward(np.ones((1, 4, 3))).shape == (1, 2, 2)  # another length


# -- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: Conv2D(4, 3, groups=2),
            InvalidArgumentError,
            "groups.*not supported yet",
        ),
        (lambda: Conv2D(4, 3, groups=0), InvalidArgumentError, "groups=0"),
        (
            lambda: Conv2D(4, 3, data_format="channels_first"),
            InvalidArgumentError,
            "data_format.*not supported yet",
        ),
        (
            lambda: Conv1D(4, 3, data_format="nhwc"),
            InvalidArgumentError,
            "data_format='nhwc'",
        ),
        (
            lambda: Conv2D(4, 3, strides=2, dilation_rate=2),
            InvalidArgumentError,
            r"strides=\(2, 2\) and dilation_rate=\(2, 2\)",
        ),
        (lambda: Conv2D(4, 0), InvalidArgumentError, "kernel_size=0"),
        (lambda: Conv2D(4, (3, -1)), InvalidArgumentError, r"kernel_size=\(3, -1\)"),
        (
            lambda: Conv2D(4, 3, strides=(0, 1)),
            InvalidArgumentError,
            r"strides=\(0, 1\)",
        ),
        (
            lambda: Conv1D(4, 3, dilation_rate=-2),
            InvalidArgumentError,
            "dilation_rate=-2",
        ),
        (lambda: Conv2D(4, (3, 3, 3)), GlassnetTypeError, "tuple of 2"),
        (lambda: Conv2D(4, 2.5), GlassnetTypeError, "kernel_size=2.5"),
        (lambda: Conv2D(0, 3), InvalidArgumentError, "filters"),
        (lambda: Conv2D(4, 3, padding="full"), InvalidArgumentError, "padding='full'"),
        (
            lambda: Conv2D(4, 3, padding="causal"),
            InvalidArgumentError,
            "padding='causal'",
        ),
        (lambda: Conv1D(4, 3, use_bias="yes"), GlassnetTypeError, "use_bias"),
    ],
)
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_padding_is_case_insensitive_like_keras():
    assert Conv1D(1, 2, padding="Causal").padding == "causal"


def test_inputs_too_small_or_of_the_wrong_rank_raise_shape_errors():
    layer = Conv2D(4, 5, name="small")
    with pytest.raises(ShapeError, match=r"'small'.*\(4, 9, 1\)"):
        layer.output_shape((4, 9, 1))
    with pytest.raises(ShapeError, match=r"'small'.*\(4, 9, 1\)"):
        layer.build((4, 9, 1), np.random.default_rng(0))
    with pytest.raises(ShapeError, match="small"):
        layer.param_count((4, 9, 1))
    with pytest.raises(ShapeError, match="spans 7"):
        Conv1D(1, 4, dilation_rate=2).output_shape((6, 1))
    assert Conv1D(1, 4, dilation_rate=2, padding="same").output_shape((3, 1)) == (3, 1)
    with pytest.raises(ShapeError, match=r"\(batch, height, width, channels\)"):
        Conv2D(4, 3).output_shape((8, 8))
    with pytest.raises(ShapeError, match=r"\(batch, steps, channels\)"):
        Conv1D(4, 3).output_shape((8, 8, 1))
    with pytest.raises(ShapeError, match="channels"):
        Conv2D(4, 3).output_shape((8, 8, None))
    with pytest.raises(ShapeError, match="small"):
        Sequential([Conv2D(4, 5, name="small", input_shape=(4, 4, 1))]).build()


def test_a_built_layer_refuses_other_channels():
    layer = Conv2D(2, 3)
    layer(np.zeros((1, 5, 5, 3)))
    with pytest.raises(ShapeError, match="conv2d"):
        layer(np.zeros((1, 5, 5, 2)))
    assert layer(np.zeros((1, 7, 6, 3))).shape == (1, 5, 4, 2)  # other sizes are fine
    assert math.prod(layer.params["W"].shape) == 3 * 3 * 3 * 2


def test_the_first_layer_of_a_model_skips_dx():
    x, y = bars(8)
    first, second = Conv2D(2, 3, input_shape=(8, 8, 1)), Conv2D(2, 3)
    model = Sequential([first, second, Flatten(), Dense(2)], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    asked = {}
    for layer in (first, second):
        original = layer.backward

        def spy(grad, *, input_grad=True, layer=layer, original=original):
            asked[layer.name] = input_grad
            return original(grad, input_grad=input_grad)

        layer.backward = spy
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert asked == {first.name: False, second.name: True}


def test_copies_and_clones_compute_the_same():
    model, _ = lenet_pair()
    x = RNG.normal(size=(3, 8, 8, 2)).astype("float32")
    expected = model.predict(x, verbose=0)
    copy = deepcopy(model)
    np.testing.assert_array_equal(copy.predict(x, verbose=0), expected)
    clone = clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), expected)
