"""MaxPooling1D/2D, AveragePooling1D/2D and the global pools.

- float64 gradient checks of every layer, in training and inference mode;
- PyTorch autograd in float64 for the outputs and the input gradients, to 1e-10
  relative: pool sizes, strides (overlapping 3x3 windows with stride 2 too), valid
  and 'same' padding (asymmetric 'same' padded by hand, as TensorFlow pads), ties
  (integer images and ReLU zeros: the gradient goes to the first maximum), 1-D and
  2-D;
- a NumPy reference (``sliding_window_view`` and ``nanmax``/``nanmean`` over the
  real cells) for every geometry;
- Keras 3 (torch backend) in float32: forward outputs, output shapes and config
  keys;
- a small model with pooling trains in Sequential and functional form.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import json
import re

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

import glassnet
from glassnet import gradcheck
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    ShapeError,
)
from glassnet.layers import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
    ZeroPadding2D,
)
from glassnet.layers import get as get_layer
from glassnet.layers.pool_windows import same_padding

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(7)
POOLS = {
    "max1": MaxPooling1D,
    "max2": MaxPooling2D,
    "avg1": AveragePooling1D,
    "avg2": AveragePooling2D,
}


def relative(actual: np.ndarray, expected: np.ndarray) -> float:
    scale = max(float(np.linalg.norm(expected)), 1e-300)
    return float(np.linalg.norm(actual - expected)) / scale


def built(layer, shape, dtype=np.float64):
    layer.build(shape, np.random.default_rng(0), dtype)
    return layer


# -- the oracles -------------------------------------------------------------------
def numpy_pool(x, pool, strides, padding, mode):
    """Pooling by the definition: NaN padding, windows by sliding_window_view,
    ``nanmax``/``nanmean`` over each window's real cells. ``x``: (N, H, W, C)."""
    pads = [
        same_padding(n, k, s) if padding == "same" else (0, 0)
        for n, k, s in zip(x.shape[1:3], pool, strides, strict=True)
    ]
    xp = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=np.nan)
    windows = sliding_window_view(xp, pool, axis=(1, 2))[
        :, :: strides[0], :: strides[1]
    ]
    reduce = np.nanmax if mode == "max" else np.nanmean
    return reduce(windows, axis=(-2, -1))


def torch_pool(x, dy, pool, strides, padding, mode):
    """PyTorch's output and input gradient (float64); ``x`` (N, H, W, C).

    'same' is padded by hand as TensorFlow pads (-inf for max, zeros for the
    average, whose divisor is the count of real cells: a pool of ones over the
    padded mask), so asymmetric padding is covered too.
    """
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    if padding == "same":
        (top, bottom), (left, right) = (
            same_padding(n, k, s)
            for n, k, s in zip(x.shape[1:3], pool, strides, strict=True)
        )
        pads = (left, right, top, bottom)
    else:
        pads = (0, 0, 0, 0)
    if mode == "max":
        y = F.max_pool2d(F.pad(xt, pads, value=-np.inf), pool, strides)
    else:
        total = F.avg_pool2d(F.pad(xt, pads), pool, strides, divisor_override=1)
        real = F.avg_pool2d(
            F.pad(torch.ones_like(xt), pads), pool, strides, divisor_override=1
        )
        y = total / real
    y.backward(torch.tensor(dy.transpose(0, 3, 1, 2)))
    return (
        y.detach().numpy().transpose(0, 2, 3, 1),
        xt.grad.numpy().transpose(0, 2, 3, 1),
    )


def as_image(x):
    return x if x.ndim == 4 else x[:, np.newaxis]


# -- PyTorch parity (float64) ------------------------------------------------------
GEOMETRIES_2D = [
    # (input (H, W, C), pool_size, strides, padding)
    ((8, 8, 3), (2, 2), None, "valid"),  # the usual 2x2/2: windows tile the input
    ((7, 9, 2), (2, 2), None, "valid"),  # a row and a column left over
    ((7, 7, 2), (3, 3), (2, 2), "valid"),  # overlapping windows
    ((7, 7, 2), (3, 3), (2, 2), "same"),  # overlapping, padding 1 on each side
    ((6, 6, 2), (3, 3), (2, 2), "same"),  # asymmetric: 0 before, 1 after
    ((5, 8, 2), (2, 3), (1, 2), "same"),  # different per axis, asymmetric
    ((8, 8, 1), (2, 2), None, "same"),  # 'same' that pads nothing
    ((5, 5, 2), (2, 2), None, "same"),  # padded after only
    ((6, 5, 2), (2, 1), (3, 2), "valid"),  # strides larger than the pool
    ((4, 4, 2), (1, 1), (1, 1), "valid"),  # one-cell windows
    ((4, 5, 3), (4, 5), None, "valid"),  # one window over everything
    ((5, 5, 2), (4, 4), (3, 3), "same"),  # pads 1 before, 2 after
]
GEOMETRIES_1D = [
    ((10, 3), (2,), None, "valid"),
    ((11, 2), (3,), (2,), "valid"),
    ((11, 2), (3,), (2,), "same"),
    ((10, 2), (3,), (3,), "same"),
    ((9, 1), (4,), (1,), "same"),
]


def geometry_cases():
    for mode in ("max", "avg"):
        for shape, pool, strides, padding in GEOMETRIES_2D + GEOMETRIES_1D:
            yield mode, shape, pool, strides, padding


@pytest.mark.parametrize(
    ("mode", "shape", "pool", "strides", "padding"), list(geometry_cases())
)
@pytest.mark.parametrize("values", ["normal", "integers", "relu"])
def test_matches_torch_and_numpy(mode, shape, pool, strides, padding, values) -> None:
    rank = len(shape) - 1
    layer = POOLS[f"{mode}{rank}"](pool, strides, padding)
    built(layer, shape)
    if values == "normal":
        x = RNG.normal(size=(3, *shape))
    elif values == "integers":  # ties everywhere: a small-integer image
        x = RNG.integers(0, 3, size=(3, *shape)).astype(np.float64)
    else:  # ReLU outputs: whole windows of zeros
        x = np.maximum(RNG.normal(size=(3, *shape)), 0.0)
    y = layer.forward(x, training=True)
    assert y.shape == (3, *layer.output_shape(shape))
    dy = RNG.normal(size=y.shape)
    dx = layer.backward(dy)

    pool2 = (1, *pool) if rank == 1 else pool
    strides2 = pool2 if strides is None else ((1, *strides) if rank == 1 else strides)
    ty, tdx = torch_pool(as_image(x), as_image(dy), pool2, strides2, padding, mode)
    assert relative(as_image(y), ty) < 1e-10
    assert relative(as_image(dx), tdx) < 1e-10
    expected = numpy_pool(as_image(x), pool2, strides2, padding, mode)
    np.testing.assert_allclose(as_image(y), expected, rtol=1e-12, atol=1e-12)


def test_ties_send_the_gradient_to_the_first_maximum_only() -> None:
    # every window holds four equal values: an equality mask would pass dy to all
    # four (4x the gradient); PyTorch and TensorFlow pass it to the first (top left)
    x = np.ones((1, 4, 4, 1))
    layer = built(MaxPooling2D(), (4, 4, 1))
    layer.forward(x, training=True)
    dx = layer.backward(np.array([[[[1.0], [2.0]], [[3.0], [4.0]]]]))
    np.testing.assert_array_equal(
        dx[0, :, :, 0],
        [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]],
    )
    # overlapping windows: a cell that is the first maximum of two windows adds up
    layer = built(MaxPooling1D(3, 1), (5, 1))
    layer.forward(np.array([[[1.0], [5.0], [5.0], [0.0], [5.0]]]), training=True)
    # windows (1,5,5) (5,5,0) (5,0,5): first maxima at steps 1, 1, 2
    dx = layer.backward(np.array([[[1.0], [10.0], [100.0]]]))
    np.testing.assert_array_equal(dx[0, :, 0], [0, 11, 100, 0, 0])


def test_average_backward_by_hand() -> None:
    # 3 steps, pool 2, 'same': total = (2 - 1) * 2 + 2 - 3 = 1 cell, after:
    # windows (x0, x1) / 2 and (x2) / 1, the padding not counted
    layer = built(AveragePooling1D(2, padding="same"), (3, 1))
    y = layer.forward(np.array([[[2.0], [4.0], [9.0]]]), training=True)
    np.testing.assert_array_equal(y[0, :, 0], [3.0, 9.0])
    dx = layer.backward(np.array([[[1.0], [10.0]]]))
    np.testing.assert_array_equal(dx[0, :, 0], [0.5, 0.5, 10.0])


# -- gradient checks ----------------------------------------------------------------
GRAD_CASES = [
    (MaxPooling2D(), (2, 4, 4, 2)),
    (MaxPooling2D((3, 3), (2, 2), "same"), (2, 6, 5, 2)),
    (MaxPooling2D((2, 3), (1, 2), "valid"), (2, 5, 7, 1)),
    (MaxPooling1D(), (2, 7, 3)),
    (MaxPooling1D(3, 2, "same"), (2, 6, 2)),
    (AveragePooling2D(2), (2, 4, 4, 2)),
    (AveragePooling2D((3, 3), (2, 2), "same"), (2, 6, 5, 2)),
    (AveragePooling2D((2, 3), (1, 2), "valid"), (2, 5, 7, 1)),
    (AveragePooling1D(2), (2, 7, 3)),
    (AveragePooling1D(3, 2, "same"), (2, 6, 2)),
    (GlobalAveragePooling2D(), (3, 4, 5, 2)),
    (GlobalAveragePooling2D(keepdims=True), (3, 4, 5, 2)),
    (GlobalAveragePooling1D(), (3, 6, 2)),
    (GlobalMaxPooling2D(), (3, 4, 5, 2)),
    (GlobalMaxPooling1D(keepdims=True), (3, 6, 2)),
]


@pytest.mark.parametrize(("layer", "shape"), GRAD_CASES, ids=lambda v: repr(v)[:50])
@pytest.mark.parametrize("training", [False, True])
def test_gradcheck(layer, shape, training) -> None:
    # distinct values a step apart: no tie and no near-tie within epsilon
    x = RNG.permutation(np.prod(shape)).reshape(shape) * 0.01
    report = gradcheck(layer, x, training=training)
    assert report.passed, str(report)
    assert sorted(report.errors) == ["x"]


# -- global pools against PyTorch ----------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 4, 5, 2), (2, 6, 3)])
@pytest.mark.parametrize("values", ["normal", "integers"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pools_match_torch(shape, values, keepdims) -> None:
    if values == "normal":
        x = RNG.normal(size=shape)
    else:
        x = RNG.integers(0, 2, size=shape).astype(np.float64)
    rank = len(shape) - 2
    spatial = tuple(range(2, rank + 2))
    for layer, reduce in [
        (GlobalAveragePooling2D if rank == 2 else GlobalAveragePooling1D, "mean"),
        (GlobalMaxPooling2D if rank == 2 else GlobalMaxPooling1D, "max"),
    ]:
        ours = built(layer(keepdims=keepdims), shape[1:])
        y = ours.forward(x, training=True)
        dy = RNG.normal(size=y.shape)
        dx = ours.backward(dy)
        xt = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
        if reduce == "mean":
            yt = xt.mean(dim=spatial)
        else:  # a max pool as large as the input: the first maximum takes dy
            pool = F.max_pool2d if rank == 2 else F.max_pool1d
            yt = pool(xt, shape[1:-1]).reshape(shape[0], shape[-1])
        yt.backward(torch.tensor(dy.reshape(shape[0], shape[-1])))
        expected_dx = np.moveaxis(xt.grad.numpy(), 1, -1)
        assert relative(y.reshape(shape[0], -1), yt.detach().numpy()) < 1e-12
        assert relative(dx, expected_dx) < 1e-12


# -- Keras 3 (torch backend, float32) ---------------------------------------------
KERAS_CASES = [
    (MaxPooling2D, {}, (2, 8, 8, 3)),
    (MaxPooling2D, {"pool_size": 3, "strides": 2}, (2, 9, 7, 2)),
    (
        MaxPooling2D,
        {"pool_size": (3, 3), "strides": (2, 2), "padding": "same"},
        (2, 6, 6, 2),
    ),
    (
        MaxPooling2D,
        {"pool_size": (2, 3), "strides": 1, "padding": "same"},
        (2, 5, 6, 2),
    ),
    (MaxPooling2D, {"pool_size": 4, "strides": 3, "padding": "same"}, (1, 5, 5, 1)),
    (MaxPooling1D, {}, (2, 9, 3)),
    (MaxPooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 10, 2)),
    (AveragePooling2D, {"pool_size": 2}, (2, 8, 8, 3)),
    (AveragePooling2D, {"pool_size": 3, "strides": 2}, (2, 9, 7, 2)),
    (AveragePooling2D, {"pool_size": (2, 3), "strides": (1, 2)}, (2, 5, 7, 2)),
    (AveragePooling1D, {"pool_size": 3, "strides": 2}, (2, 11, 2)),
    # 'same' with symmetric padding (Keras pads through torch's count_include_pad=
    # False), or with 2-cell windows (where Keras' edge replication is harmless)
    (AveragePooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 7, 2)),
    (AveragePooling2D, {"pool_size": 2, "padding": "same"}, (2, 5, 7, 2)),
    (AveragePooling1D, {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 6, 2)),
    (GlobalAveragePooling2D, {}, (2, 5, 4, 3)),
    (GlobalAveragePooling2D, {"keepdims": True}, (2, 5, 4, 3)),
    (GlobalAveragePooling1D, {}, (2, 6, 3)),
    (GlobalMaxPooling2D, {"keepdims": True}, (2, 5, 4, 3)),
    (GlobalMaxPooling1D, {}, (2, 6, 3)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), KERAS_CASES, ids=str)
def test_forward_matches_keras(cls, kwargs, shape) -> None:
    x = RNG.normal(size=shape).astype(np.float32)
    theirs = getattr(keras.layers, cls.__name__)(**kwargs)
    expected = keras.ops.convert_to_numpy(theirs(x))
    ours = cls(**kwargs)
    y = ours(x)
    assert y.dtype == np.float32 and y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert ours.output_shape(shape[1:]) == expected.shape[1:]
    assert ours.output_shape((None,) * (len(shape) - 2) + shape[-1:]) == tuple(
        theirs.compute_output_shape((None,) * (len(shape) - 1) + shape[-1:])[1:]
    )


@pytest.mark.parametrize(
    ("cls", "pool", "strides", "shape"),
    [
        (AveragePooling2D, 3, 3, (2, 5, 5, 2)),
        (AveragePooling2D, (4, 3), 2, (2, 5, 7, 1)),
        (AveragePooling1D, 3, 3, (2, 5, 2)),
    ],
)
def test_average_same_with_asymmetric_padding_follows_tensorflow(
    cls, pool, strides, shape
) -> None:
    # Keras' torch backend pads asymmetric 'same' by replicating the edge pixels,
    # so a window of 3+ cells that touches the padding averages copies of the edge
    # (a Keras quirk: TensorFlow, JAX and ONNX average the real cells). Keras
    # differs here; the NumPy reference of the definition is the oracle.
    x = RNG.normal(size=shape).astype(np.float32)
    y = cls(pool, strides, "same")(x)
    rank = len(shape) - 2
    pool2 = (pool,) * rank if isinstance(pool, int) else pool
    strides2 = (strides,) * rank
    if rank == 1:
        pool2, strides2 = (1, *pool2), (1, *strides2)
    expected = numpy_pool(
        as_image(x.astype(np.float64)), pool2, strides2, "same", "avg"
    )
    np.testing.assert_allclose(as_image(y), expected, rtol=1e-6, atol=1e-6)
    keras_y = keras.layers.__dict__[cls.__name__](pool, strides, "same")(x)
    assert not np.allclose(keras.ops.convert_to_numpy(keras_y), y, atol=1e-4)


CONFIG_CASES = [
    (MaxPooling2D, {"pool_size": (3, 2), "strides": 1, "padding": "same"}),
    (MaxPooling1D, {"pool_size": 4}),
    (AveragePooling2D, {"pool_size": 2}),
    (AveragePooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}),
    (GlobalAveragePooling2D, {"keepdims": True}),
    (GlobalAveragePooling1D, {}),
    (GlobalMaxPooling2D, {}),
    (GlobalMaxPooling1D, {"keepdims": True}),
]
#: Keras writes these; glassnet layers take no dtype (the model's), and write
#: ``trainable`` only when False (the model files add both, as Keras spells them).
NOT_IN_OUR_CONFIGS = {"dtype", "trainable"}


@pytest.mark.parametrize(("cls", "kwargs"), CONFIG_CASES, ids=str)
def test_config_matches_keras_and_round_trips(cls, kwargs) -> None:
    layer = cls(**kwargs, name="pool")
    ours = layer.get_config()
    theirs = getattr(keras.layers, cls.__name__)(**kwargs, name="pool").get_config()
    assert set(ours) == set(theirs) - NOT_IN_OUR_CONFIGS
    for key in ours:
        assert json.dumps(ours[key]) == json.dumps(theirs[key]), key
    again = get_layer(
        {"class_name": cls.__name__, "config": json.loads(json.dumps(ours))}
    )
    assert type(again) is cls and again.get_config() == ours
    # and Keras reads our config back
    assert (
        getattr(keras.layers, cls.__name__).from_config(ours).get_config()["name"]
        == "pool"
    )


def test_keras_names_and_aliases() -> None:
    assert MaxPooling2D().name == "max_pooling2d"
    assert GlobalAveragePooling1D().name == "global_average_pooling1d"
    assert AveragePooling2D(2).name == "average_pooling2d"
    assert (MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D) == (
        MaxPooling1D,
        MaxPooling2D,
        AveragePooling1D,
        AveragePooling2D,
    )
    assert (GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D) == (
        GlobalAveragePooling1D,
        GlobalAveragePooling2D,
        GlobalMaxPooling1D,
        GlobalMaxPooling2D,
    )
    every = [*POOLS.values(), GlobalAveragePooling1D, GlobalAveragePooling2D]
    for cls in [*every, GlobalMaxPooling1D, GlobalMaxPooling2D]:
        args = [2] if cls in (AveragePooling1D, AveragePooling2D) else []
        keras_name = getattr(keras.layers, cls.__name__)(*args).name
        assert re.sub(r"_\d+$", "", keras_name) == re.sub(r"_\d+$", "", cls(*args).name)


def test_defaults_are_keras() -> None:
    assert MaxPooling2D().pool_size == (2, 2) and MaxPooling2D().strides == (2, 2)
    assert MaxPooling1D().pool_size == (2,) and MaxPooling1D(3).strides == (3,)
    assert MaxPooling2D(3, 1).strides == (1, 1)
    with pytest.raises(TypeError):
        AveragePooling2D()  # pool_size is required, as in Keras 3
    assert AveragePooling2D(2, padding="SAME").padding == "same"  # case-insensitive


# -- the protocol: caches, shapes, costs, errors --------------------------------------
EVERY_LAYER = [
    (lambda: MaxPooling2D(), (4, 4, 2)),
    (lambda: MaxPooling2D(3, 2, "same"), (5, 5, 1)),
    (lambda: MaxPooling1D(), (6, 2)),
    (lambda: AveragePooling2D(2, 1, "same"), (3, 4, 2)),
    (lambda: AveragePooling1D(2), (6, 2)),
    (lambda: GlobalAveragePooling2D(), (3, 3, 2)),
    (lambda: GlobalMaxPooling1D(), (4, 2)),
]


@pytest.mark.parametrize(("make", "shape"), EVERY_LAYER)
def test_inference_keeps_no_cache_and_backward_needs_forward(make, shape) -> None:
    layer = built(make(), shape)
    x = RNG.normal(size=(2, *shape))
    dy = np.ones((2, *layer.output_shape(shape)))
    with pytest.raises(MissingForwardError, match="forward"):
        layer.backward(dy)
    layer.forward(x)
    assert layer._cache is None
    with pytest.raises(MissingForwardError):
        layer.backward(dy)
    layer.forward(x, keep_cache=True)
    assert layer.backward(dy).shape == x.shape
    assert layer.backward(dy, input_grad=False) is None
    assert layer.params == {} and layer.param_count(shape) == 0


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (MaxPooling2D(name="p"), (4, 4), r"MaxPooling2D layer 'p' takes 4-D inputs"),
        (MaxPooling2D(name="p"), (4, 4, 1, 1), r"'p' takes 4-D.*\(4, 4, 1, 1\)"),
        (MaxPooling1D(name="p"), (4, 4, 1), r"MaxPooling1D layer 'p' takes 3-D"),
        (
            AveragePooling2D(3, name="p"),
            (2, 5, 1),
            r"'p'.*at least as long.*\(2, 5, 1\)",
        ),
        (MaxPooling1D(4, name="p"), (3, 1), r"'p'.*pool_size=\(4,\).*\(3, 1\)"),
        (
            GlobalMaxPooling2D(name="g"),
            (4, 1),
            r"GlobalMaxPooling2D layer 'g' takes 4-D",
        ),
        (GlobalAveragePooling1D(name="g"), (4,), r"'g' takes 3-D"),
    ],
)
def test_shapes_the_layer_cannot_take(layer, shape, message) -> None:
    with pytest.raises(ShapeError, match=message):
        layer.output_shape(shape)
    with pytest.raises(ShapeError, match=message):
        layer(np.ones((1, *shape)))


def test_too_short_is_fine_with_same_padding() -> None:
    layer = MaxPooling2D(3, padding="same")
    assert layer.output_shape((2, 1, 4)) == (1, 1, 4)
    np.testing.assert_array_equal(
        layer(np.arange(2.0).reshape(1, 2, 1, 1)), [[[[1.0]]]]
    )


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: MaxPooling2D(0), InvalidArgumentError, r"`pool_size`.*pool_size=0"),
        (lambda: MaxPooling2D((2, -1)), InvalidArgumentError, r"pool_size=\(2, -1\)"),
        (lambda: MaxPooling2D((2, 2, 2)), GlassnetTypeError, r"tuple of 2 integers"),
        (lambda: MaxPooling1D(2.0), GlassnetTypeError, r"`pool_size`.*2\.0"),
        (lambda: MaxPooling1D(True), GlassnetTypeError, r"pool_size=True"),
        (lambda: MaxPooling2D(2, 0), InvalidArgumentError, r"`strides`.*strides=0"),
        (lambda: AveragePooling1D(2, (1, 1)), GlassnetTypeError, r"strides=\(1, 1\)"),
        (
            lambda: MaxPooling2D(padding="full"),
            InvalidArgumentError,
            r"one of 'valid', 'same'.*'full'",
        ),
        (
            lambda: AveragePooling2D(2, padding=None),
            InvalidArgumentError,
            r"padding=None",
        ),
        (
            lambda: MaxPooling2D(data_format="channels_first"),
            InvalidArgumentError,
            r"channels_first.*not supported yet",
        ),
        (
            lambda: AveragePooling1D(2, data_format="channels_first"),
            InvalidArgumentError,
            r"not supported yet",
        ),
        (
            lambda: GlobalMaxPooling2D(data_format="channels_first"),
            InvalidArgumentError,
            r"not supported yet",
        ),
        (
            lambda: GlobalAveragePooling1D(data_format="NHWC"),
            InvalidArgumentError,
            r"'NHWC'",
        ),
        (lambda: GlobalAveragePooling2D(keepdims=1), GlassnetTypeError, r"keepdims=1"),
    ],
)
def test_bad_arguments(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


def test_flops_and_kept_activations() -> None:
    # 2x2 max pool on 28x28x6: 14*14*6 = 1,176 outputs, 3 comparisons each
    assert MaxPooling2D().flops((28, 28, 6)).count == 1176 * 3
    # average: 3 additions and a scaling by 1/4 per output
    assert AveragePooling2D(2).flops((28, 28, 6)).count == 1176 * 4
    assert MaxPooling1D(3, 1).flops((10, 2)).count == 8 * 2 * 2
    assert MaxPooling2D().flops((None, 28, 6)).count is None
    assert GlobalAveragePooling2D().flops((4, 5, 3)).count == 3 * 20
    assert GlobalMaxPooling1D().flops((7, 3)).count == 3 * 6
    # a valid max pool keeps its output; a padded one keeps the padded input too:
    # 5x5 pool 3 stride 2 'same' pads to 7x7; a 2x2 pool keeps its first-maximum
    # mask over the 28x28x6 input instead
    assert MaxPooling2D().kept_activations((28, 28, 6)).count == 1176 + 4704
    kept = MaxPooling2D(3, 2, "same").kept_activations((5, 5, 2))
    assert kept.count == 7 * 7 * 2 + 3 * 3 * 2 and "padded x" in kept.what
    assert AveragePooling2D(3, 2, "same").kept_activations((5, 5, 2)).count == 18
    assert GlobalMaxPooling2D().kept_activations((4, 4, 3)).count == 3


def test_float32_stays_float32_and_returns_input_shaped_gradients() -> None:
    x = RNG.normal(size=(4, 7, 6, 3)).astype(np.float32)
    for layer in (
        MaxPooling2D(3, 2, "same"),
        AveragePooling2D(2),
        GlobalMaxPooling2D(),
    ):
        built(layer, (7, 6, 3), np.float32)
        y = layer.forward(x, training=True)
        dx = layer.backward(np.ones_like(y))
        assert y.dtype == dx.dtype == np.float32 and dx.shape == x.shape


def test_other_lengths_than_built_for_are_refused() -> None:
    layer = MaxPooling2D()
    layer(np.ones((1, 4, 4, 1)))
    with pytest.raises(ShapeError, match="built for"):
        layer(np.ones((1, 6, 6, 1)))


# -- models --------------------------------------------------------------------------
def pooling_model(kind: str) -> glassnet.Model:
    layers = [
        ZeroPadding2D(1),
        MaxPooling2D(2),
        AveragePooling2D(2, padding="same"),
        Flatten(),
        Dense(3, activation="softmax"),
    ]
    if kind == "sequential":
        return glassnet.Sequential([glassnet.Input((8, 8, 1)), *layers], seed=0)
    inputs = glassnet.Input((8, 8, 1))
    hidden = inputs
    for layer in layers[:3]:
        hidden = layer(hidden)
    branch = GlobalMaxPooling2D()(inputs)
    outputs = Dense(3, activation="softmax")(
        glassnet.layers.concatenate([Flatten()(hidden), branch])
    )
    return glassnet.Model(inputs, outputs, seed=0)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_small_model_with_pooling_learns(kind) -> None:
    # three classes: a bright 3x3 blob in the top left, top right or bottom left
    # corner of a noisy 8x8 image
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=120)
    x = rng.normal(0.0, 0.3, size=(120, 8, 8, 1))
    for i, label in enumerate(labels):
        top, left = ((0, 0), (0, 5), (5, 0))[label]
        x[i, top : top + 3, left : left + 3, 0] += 2.0
    y = np.eye(3)[labels]
    model = pooling_model(kind)
    model.compile(
        optimizer=glassnet.optimizers.Adam(0.02),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    assert model.predict(x[:2], verbose=0).shape == (2, 3)
    report = gradcheck(model, x[:3].astype(np.float64), y[:3])
    assert report.passed, str(report)
