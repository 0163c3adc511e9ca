"""ZeroPadding1D/2D and SpatialDropout1D/2D.

Zero padding: forward outputs, output shapes and config keys against Keras 3 (torch
backend), float64 gradient checks, the backward by hand. Spatial dropout: whole
channels are zeroed (the mask is (batch, 1, channels) or (batch, 1, 1, channels)),
kept channels are scaled by 1 / (1 - rate), the share dropped is ``rate``, a seed
repeats its masks, and inference is the identity.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import json

import keras
import numpy as np
import pytest

import glassnet
from glassnet import gradcheck
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    NotBuiltError,
    ShapeError,
)
from glassnet.layers import (
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    SpatialDropout1D,
    SpatialDropout2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from glassnet.layers import get as get_layer

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(11)


def built(layer, shape, dtype=np.float64, seed=0):
    layer.build(shape, np.random.default_rng(seed), dtype)
    return layer


# -- zero padding ------------------------------------------------------------------
PADDING_CASES = [
    (ZeroPadding2D, {}, (2, 3, 4, 2)),
    (ZeroPadding2D, {"padding": 2}, (2, 3, 4, 2)),
    (ZeroPadding2D, {"padding": (1, 3)}, (2, 3, 4, 1)),
    (ZeroPadding2D, {"padding": ((0, 2), (3, 1))}, (2, 3, 4, 2)),
    (ZeroPadding2D, {"padding": ((0, 0), (0, 0))}, (1, 2, 2, 1)),
    (ZeroPadding1D, {}, (2, 5, 3)),
    (ZeroPadding1D, {"padding": 3}, (2, 5, 3)),
    (ZeroPadding1D, {"padding": (0, 2)}, (2, 5, 1)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), PADDING_CASES, ids=str)
def test_zero_padding_matches_keras(cls, kwargs, shape) -> None:
    x = RNG.normal(size=shape).astype(np.float32)
    theirs = getattr(keras.layers, cls.__name__)(**kwargs)
    expected = keras.ops.convert_to_numpy(theirs(x))
    ours = cls(**kwargs)
    y = ours(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, expected)
    assert ours.output_shape(shape[1:]) == expected.shape[1:]
    unknown = (None,) * (len(shape) - 2) + shape[-1:]
    assert ours.output_shape(unknown) == tuple(
        theirs.compute_output_shape((None, *unknown))[1:]
    )


@pytest.mark.parametrize(("cls", "kwargs", "shape"), PADDING_CASES, ids=str)
@pytest.mark.parametrize("training", [False, True])
def test_zero_padding_gradcheck(cls, kwargs, shape, training) -> None:
    report = gradcheck(cls(**kwargs), RNG.normal(size=shape), training=training)
    assert report.passed, str(report)
    assert sorted(report.errors) == ["x"]


def test_zero_padding_backward_by_hand() -> None:
    layer = built(ZeroPadding1D((1, 2)), (2, 1))
    y = layer.forward(np.array([[[3.0], [4.0]]]), training=True)
    np.testing.assert_array_equal(y[0, :, 0], [0, 3, 4, 0, 0])
    # y[1:3] = x: the gradient of the padded steps (10, 40, 50) goes nowhere
    dx = layer.backward(np.array([[[10.0], [20.0], [30.0], [40.0], [50.0]]]))
    np.testing.assert_array_equal(dx[0, :, 0], [20.0, 30.0])


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (ZeroPadding2D, {"padding": ((1, 2), (3, 4))}),
        (ZeroPadding2D, {"padding": 2}),
        (ZeroPadding1D, {"padding": (2, 0)}),
    ],
)
def test_zero_padding_config_matches_keras(cls, kwargs) -> None:
    ours = cls(**kwargs, name="pad").get_config()
    theirs = getattr(keras.layers, cls.__name__)(**kwargs, name="pad").get_config()
    # Keras writes dtype and trainable too; glassnet writes trainable only when
    # False, and model files add both
    assert set(ours) == set(theirs) - {"dtype", "trainable"}
    for key in ours:
        assert json.dumps(ours[key]) == json.dumps(theirs[key]), key
    again = get_layer(
        {"class_name": cls.__name__, "config": json.loads(json.dumps(ours))}
    )
    assert type(again) is cls and again.get_config() == ours


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: ZeroPadding2D(-1), InvalidArgumentError, r"`padding`.*>= 0"),
        (lambda: ZeroPadding2D(((1, 2), (3, -4))), InvalidArgumentError, r"-4"),
        (lambda: ZeroPadding2D((1, 2, 3)), GlassnetTypeError, r"padding=\(1, 2, 3\)"),
        (lambda: ZeroPadding2D(1.5), GlassnetTypeError, r"padding=1\.5"),
        (lambda: ZeroPadding1D((1, 2, 3)), GlassnetTypeError, r"tuple of 2 integers"),
        (lambda: ZeroPadding1D("same"), GlassnetTypeError, r"padding='same'"),
        (
            lambda: ZeroPadding2D(data_format="channels_first"),
            InvalidArgumentError,
            r"channels_first.*not supported yet",
        ),
        (
            lambda: ZeroPadding1D(data_format="channels_first"),
            InvalidArgumentError,
            r"not supported yet",
        ),
    ],
)
def test_zero_padding_bad_arguments(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


# -- spatial dropout ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "shape"),
    [(SpatialDropout1D, (400, 6, 50)), (SpatialDropout2D, (400, 3, 4, 50))],
)
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_spatial_dropout_drops_whole_channels(cls, shape, rate) -> None:
    layer = built(cls(rate), shape[1:])
    x = 2.0 ** RNG.integers(-3, 4, size=shape)  # no zeros; y / x is exact
    y = layer.forward(x, training=True)
    ratio = y / x
    spatial = tuple(range(1, len(shape) - 1))
    # one value per sample and channel: 0 (dropped) or 1 / (1 - rate) (kept)
    per_channel = ratio.max(axis=spatial)
    np.testing.assert_array_equal(ratio.min(axis=spatial), per_channel)
    assert set(np.round(np.unique(per_channel), 5)) == {0.0, round(1 / (1 - rate), 5)}
    # 20,000 channels: the share dropped is within 0.015 of rate, with odds of a
    # miss below 1e-5 even at rate 0.5 (standard error 0.0035)
    assert abs(float(np.mean(per_channel == 0)) - rate) < 0.015
    # the backward pass uses the same mask
    dy = RNG.normal(size=shape)
    np.testing.assert_allclose(layer.backward(dy), dy * ratio, rtol=1e-12)


def test_spatial_dropout_matches_keras_statistics() -> None:
    x = np.ones((500, 2, 2, 40), dtype=np.float32)
    ours = SpatialDropout2D(0.3, seed=1)(x, training=True)
    theirs = keras.ops.convert_to_numpy(
        keras.layers.SpatialDropout2D(0.3, seed=1)(x, training=True)
    )
    assert ours.dtype == np.float32
    for y in (ours, theirs):
        dropped = y[:, 0, 0, :] == 0
        assert np.array_equal(dropped, np.all(y == 0, axis=(1, 2)))  # whole channels
        assert abs(float(dropped.mean()) - 0.3) < 0.02
        assert np.allclose(y[y != 0], 1 / 0.7)


def test_spatial_dropout_seed_repeats_its_masks() -> None:
    x = np.ones((8, 5, 6))
    first = built(SpatialDropout1D(0.5, seed=42), (5, 6), seed=1)
    second = built(SpatialDropout1D(0.5, seed=42), (5, 6), seed=2)
    a, b = first.forward(x, training=True), second.forward(x, training=True)
    np.testing.assert_array_equal(a, b)  # the layer's seed, not the model's generator
    assert not np.array_equal(first.forward(x, training=True), a)  # the next draw
    # unseeded: the generator build hands over decides
    c = built(SpatialDropout1D(0.5), (5, 6), seed=3).forward(x, training=True)
    d = built(SpatialDropout1D(0.5), (5, 6), seed=3).forward(x, training=True)
    np.testing.assert_array_equal(c, d)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [(SpatialDropout1D(0.4), (3, 4)), (SpatialDropout2D(0.4), (2, 3, 4))],
)
def test_spatial_dropout_is_the_identity_at_inference(layer, shape) -> None:
    built(layer, shape)
    x = RNG.normal(size=(5, *shape))
    assert layer.forward(x) is x
    assert layer._cache is None
    with pytest.raises(MissingForwardError):
        layer.backward(x)
    assert built(SpatialDropout2D(0.0), (2, 2, 2)).forward(
        np.ones((1, 2, 2, 2)), training=True
    ).sum() == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (SpatialDropout1D(0.3, seed=0), (4, 6, 5)),
        (SpatialDropout2D(0.6), (3, 3, 4, 5)),
        (SpatialDropout2D(0.0), (2, 2, 2, 3)),
    ],
)
@pytest.mark.parametrize("training", [False, True])
def test_spatial_dropout_gradcheck(layer, shape, training) -> None:
    report = gradcheck(layer, RNG.normal(size=shape), training=training)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (SpatialDropout1D, {"rate": 0.3, "seed": 4}),
        (SpatialDropout2D, {"rate": 0.1}),
    ],
)
def test_spatial_dropout_config_matches_keras(cls, kwargs) -> None:
    ours = cls(**kwargs, name="drop").get_config()
    theirs = getattr(keras.layers, cls.__name__)(**kwargs, name="drop").get_config()
    # Keras writes dtype; glassnet layers take the model's
    assert set(ours) == set(theirs) - {"dtype"}
    for key in ours:
        assert ours[key] == theirs[key], key
    again = get_layer({"class_name": cls.__name__, "config": ours})
    assert type(again) is cls and again.get_config() == ours


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: SpatialDropout1D(1.0),
            InvalidArgumentError,
            r"`rate`.*\[0\.0, 1\.0\)",
        ),
        (lambda: SpatialDropout2D(-0.1), InvalidArgumentError, r"rate=-0\.1"),
        (lambda: SpatialDropout2D("0.5"), GlassnetTypeError, r"rate='0\.5'"),
        (lambda: SpatialDropout1D(0.5, seed=-1), GlassnetTypeError, r"seed=-1"),
        (
            lambda: SpatialDropout2D(0.5, "channels_first"),
            InvalidArgumentError,
            r"channels_first.*not supported yet",
        ),
    ],
)
def test_spatial_dropout_bad_arguments(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (
            SpatialDropout1D(0.5, name="d"),
            (4,),
            r"SpatialDropout1D layer 'd' takes 3-D",
        ),
        (
            SpatialDropout2D(0.5, name="d"),
            (4, 4),
            r"SpatialDropout2D layer 'd' takes 4-D",
        ),
        (
            ZeroPadding2D(name="z"),
            (4, 4),
            r"ZeroPadding2D layer 'z' takes 4-D.*\(4, 4\)",
        ),
        (ZeroPadding1D(name="z"), (4, 4, 1), r"ZeroPadding1D layer 'z' takes 3-D"),
    ],
)
def test_shapes_the_layer_cannot_take(layer, shape, message) -> None:
    with pytest.raises(ShapeError, match=message):
        layer.output_shape(shape)
    with pytest.raises(ShapeError, match=message):
        layer(np.ones((1, *shape)))


def test_unbuilt_spatial_dropout_says_so() -> None:
    with pytest.raises(NotBuiltError, match="built"):
        SpatialDropout1D(0.5).forward(np.ones((1, 2, 3)), training=True)


def test_costs() -> None:
    assert ZeroPadding2D(1).flops((4, 4, 3)).count == 0
    assert ZeroPadding2D(1).kept_activations((4, 4, 3)).count == 6 * 6 * 3
    assert SpatialDropout2D(0.5).flops((4, 4, 3)).count == 0
    kept = SpatialDropout2D(0.5).kept_activations((4, 4, 3))
    assert kept.count == 3 + 48 and kept.what == "mask and y"
    assert SpatialDropout1D(0.0).kept_activations((4, 3)).count == 0


def test_a_model_with_padding_and_spatial_dropout_learns() -> None:
    # the class is the sign of the mean of channel 0 over the steps
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6, 4))
    y = (x[:, :, 0].mean(axis=1) > 0).astype(np.float64)[:, None]
    model = glassnet.Sequential(
        [
            glassnet.Input((6, 4)),
            ZeroPadding1D(2),
            SpatialDropout1D(0.2),
            GlobalAveragePooling1D(),
            Dense(1, activation="sigmoid"),
        ],
        seed=0,
    )
    model.compile(
        optimizer=glassnet.optimizers.Adam(0.05),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=20, batch_size=20, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0)[1] > 0.9  # inference: no channel dropped
    flat = glassnet.Sequential(
        [glassnet.Input((6, 4)), ZeroPadding1D(1), Flatten(), Dense(1)]
    )
    assert flat.predict(x[:3], verbose=0).shape == (3, 1)
