"""Flatten, Reshape, Permute, RepeatVector and GaussianNoise.

Forward outputs and output shapes are compared with Keras 3 (PyTorch backend) on the
same inputs; backward passes with the float64 gradient check, in training and in
inference mode, on several shapes.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import json

import keras
import numpy as np
import pytest

from glassnet import gradcheck
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    NotBuiltError,
    ShapeError,
)
from glassnet.layers import Dense
from glassnet.layers import get as get_layer
from glassnet.layers.base import Layer
from glassnet.layers.noise import GaussianNoise
from glassnet.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from glassnet.models import Sequential

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(2024)


def normal(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape)


def keras_forward(layer: keras.layers.Layer, x: np.ndarray, **kwargs: object):
    return keras.ops.convert_to_numpy(layer(x, **kwargs))


# -- the same outputs as Keras 3 ---------------------------------------------------
# (glassnet layer, Keras layer, input shape with the batch axis)
KERAS_CASES = [
    (lambda: Flatten(), lambda: keras.layers.Flatten(), (2, 3, 4, 5)),
    (lambda: Flatten(), lambda: keras.layers.Flatten(), (3, 7)),
    (lambda: Flatten(), lambda: keras.layers.Flatten(), (4,)),
    (lambda: Reshape((3, 4)), lambda: keras.layers.Reshape((3, 4)), (2, 12)),
    (lambda: Reshape((-1, 2, 2)), lambda: keras.layers.Reshape((-1, 2, 2)), (3, 12)),
    (lambda: Reshape((4, -1)), lambda: keras.layers.Reshape((4, -1)), (2, 3, 4)),
    (lambda: Reshape((-1,)), lambda: keras.layers.Reshape((-1,)), (2, 3, 4, 5)),
    (lambda: Permute((2, 1)), lambda: keras.layers.Permute((2, 1)), (2, 3, 4)),
    (lambda: Permute((3, 1, 2)), lambda: keras.layers.Permute((3, 1, 2)), (2, 3, 4, 5)),
    (lambda: Permute((2, 3, 1)), lambda: keras.layers.Permute((2, 3, 1)), (2, 3, 4, 5)),
    (lambda: Permute((1,)), lambda: keras.layers.Permute((1,)), (3, 4)),
    (lambda: RepeatVector(3), lambda: keras.layers.RepeatVector(3), (2, 5)),
    (lambda: RepeatVector(1), lambda: keras.layers.RepeatVector(1), (4, 2)),
    (lambda: GaussianNoise(0.5), lambda: keras.layers.GaussianNoise(0.5), (3, 4)),
]


@pytest.mark.parametrize(("ours", "theirs", "shape"), KERAS_CASES)
def test_forward_equals_keras(ours, theirs, shape) -> None:
    x = normal(*shape).astype(np.float32)
    layer = ours()
    y = layer(x)  # inference
    expected = keras_forward(theirs(), x)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)
    assert layer.output_shape(x.shape[1:]) == expected.shape[1:]


def test_flatten_element_order_is_keras_order() -> None:
    # distinct values show where every element goes, not only the output shape
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    y = Flatten()(x)
    np.testing.assert_array_equal(y, keras_forward(keras.layers.Flatten(), x))
    # hand-worked: C order, the last axis fastest: x[0, 0, 1, 2] = 1*5 + 2 = 7 sits
    # at position 7, and x[1, 2, 3, 4] = 60 + 2*20 + 3*5 + 4 = 119 at 2*20 + 3*5 + 4
    assert y[0, 7] == x[0, 0, 1, 2] == 7
    assert y[1, 59] == x[1, 2, 3, 4] == 119


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (Flatten(), keras.layers.Flatten(), (3, None)),
        (Flatten(), keras.layers.Flatten(), (None, 4, 5)),
        (Reshape((-1, 2)), keras.layers.Reshape((-1, 2)), (None, 4)),
        (Reshape((2, 5)), keras.layers.Reshape((2, 5)), (None,)),
        (Permute((2, 1)), keras.layers.Permute((2, 1)), (None, 4)),
        (Permute((3, 1, 2)), keras.layers.Permute((3, 1, 2)), (2, None, 4)),
        (RepeatVector(3), keras.layers.RepeatVector(3), (None,)),
        (GaussianNoise(0.1), keras.layers.GaussianNoise(0.1), (None, 3)),
    ],
)
def test_output_shape_with_unknown_axes_equals_keras(ours, theirs, shape) -> None:
    expected = theirs.compute_output_shape((None, *shape))
    assert ours.output_shape(shape) == tuple(expected[1:])


def test_gaussian_noise_statistics_match_keras() -> None:
    x = np.zeros((400, 250), dtype=np.float32)
    layer = GaussianNoise(0.3, seed=5)
    ours = layer(x, training=True)
    theirs = keras_forward(keras.layers.GaussianNoise(0.3, seed=5), x, training=True)
    # 100,000 draws: the sample std is within 1% of 0.3 with overwhelming odds
    for noise in (ours, theirs):
        assert abs(float(noise.mean())) < 0.01
        assert float(noise.std()) == pytest.approx(0.3, rel=0.01)
    assert ours.dtype == np.float32


# -- gradients ---------------------------------------------------------------------
GRAD_CASES = [
    (Flatten(), (3, 4)),
    (Flatten(), (2, 3, 4)),
    (Flatten(), (2, 2, 3, 2)),
    (Reshape((2, 3)), (3, 6)),
    (Reshape((-1, 2)), (2, 3, 4)),
    (Reshape((4, -1, 1)), (2, 2, 2, 3)),
    (Permute((2, 1)), (3, 2, 4)),
    (Permute((3, 1, 2)), (2, 3, 4, 2)),
    (Permute((2, 3, 1)), (2, 2, 3, 4)),
    (RepeatVector(1), (3, 4)),
    (RepeatVector(4), (2, 3)),
    (GaussianNoise(0.2), (5, 4)),
    (GaussianNoise(1.0), (2, 3, 4)),
    (GaussianNoise(0.0), (3, 2)),
]


@pytest.mark.parametrize(("layer", "shape"), GRAD_CASES)
@pytest.mark.parametrize("training", [False, True])
def test_gradcheck(layer: Layer, shape: tuple[int, ...], training: bool) -> None:
    report = gradcheck(layer, normal(*shape), training=training)
    assert report.passed, str(report)
    assert sorted(report.errors) == ["x"]  # no weights to check


def test_repeat_vector_backward_by_hand() -> None:
    layer = RepeatVector(3)
    layer.forward(np.array([[1.0, 2.0]]), training=True)
    dy = np.array([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]])
    # x feeds all three rows, so dx adds them: [1 + 2 + 3, 10 + 20 + 30]
    np.testing.assert_array_equal(layer.backward(dy), [[6.0, 60.0]])


def test_permute_backward_by_hand() -> None:
    layer = Permute((2, 1))
    y = layer.forward(np.arange(6.0).reshape(1, 2, 3), training=True)
    assert y.shape == (1, 3, 2)
    # dy[0, j, i] flows back to x[0, i, j]: the gradient is transposed back
    dy = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    np.testing.assert_array_equal(
        layer.backward(dy), [[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]]
    )


def test_gaussian_noise_passes_the_gradient_unchanged() -> None:
    layer = GaussianNoise(0.5, seed=0)
    layer.build((3,), np.random.default_rng(0))
    x = normal(4, 3)
    y = layer.forward(x, training=True)
    assert not np.array_equal(y, x)
    dy = normal(4, 3)
    np.testing.assert_array_equal(layer.backward(dy), dy)  # y = x + noise => dx = dy


# -- the cache and the backward protocol -------------------------------------------
def built(layer: Layer, shape: tuple[int | None, ...]) -> Layer:
    layer.build(shape, np.random.default_rng(0), np.float64)
    return layer


EVERY_LAYER = [
    (lambda: Flatten(), (2, 3)),
    (lambda: Reshape((3, 2)), (6,)),
    (lambda: Permute((2, 1)), (2, 3)),
    (lambda: RepeatVector(2), (3,)),
    (lambda: GaussianNoise(0.1), (3,)),
]


@pytest.mark.parametrize(("make", "shape"), EVERY_LAYER)
def test_backward_without_forward_raises(make, shape) -> None:
    layer = built(make(), shape)
    out = (2, *layer.output_shape(shape))
    with pytest.raises(MissingForwardError, match="forward"):
        layer.backward(np.ones(out))
    layer.forward(normal(2, *shape), training=False)  # inference keeps nothing
    assert layer._cache is None
    with pytest.raises(MissingForwardError):
        layer.backward(np.ones(out))


@pytest.mark.parametrize(("make", "shape"), EVERY_LAYER)
def test_keep_cache_and_input_grad(make, shape) -> None:
    layer = built(make(), shape)
    x = normal(2, *shape)
    layer.forward(x, training=False, keep_cache=True)
    dy = normal(2, *layer.output_shape(shape))
    assert layer.backward(dy).shape == x.shape
    assert layer.backward(dy, input_grad=False) is None
    layer.forward(x, training=True)
    assert layer.backward(dy, input_grad=False) is None
    assert layer.params == {} and layer.grads == {} and layer.state == {}
    assert layer.weight_shapes(shape) == {} and layer.param_count(shape) == 0


@pytest.mark.parametrize(("make", "shape"), EVERY_LAYER)
def test_config_round_trip(make, shape) -> None:
    layer = make()
    config = json.loads(json.dumps(layer.get_config()))
    copy = get_layer({"class_name": type(layer).__name__, "config": config})
    assert type(copy) is type(layer)
    assert copy.get_config() == layer.get_config()
    x = normal(2, *shape).astype(np.float32)  # a layer called on arrays is float32
    np.testing.assert_array_equal(built(copy, shape).forward(x), layer(x))


# -- unknown axis lengths ----------------------------------------------------------
def test_flatten_with_an_unknown_axis_flattens_any_length() -> None:
    layer = built(Flatten(), (None, 4))
    assert layer.output_shape((None, 4)) == (None,)
    for steps in (1, 3, 6):
        x = normal(2, steps, 4).astype(np.float32)
        y = layer(x)
        assert y.shape == (2, steps * 4)
        np.testing.assert_array_equal(y, keras_forward(keras.layers.Flatten(), x))


def test_reshape_with_an_unknown_axis_is_checked_at_forward() -> None:
    layer = built(Reshape((-1, 2)), (None, 4))
    assert layer.output_shape((None, 4)) == (None, 2)
    assert layer(normal(2, 3, 4)).shape == (2, 6, 2)
    fixed = built(Reshape((3, 4)), (None, 4))
    assert fixed.output_shape((None, 4)) == (3, 4)
    assert fixed(normal(2, 3, 4)).shape == (2, 3, 4)
    with pytest.raises(ShapeError, match=r"reshape.*\(5, 4\).*20 elements.*\(3, 4\)"):
        fixed(normal(2, 5, 4))


def test_reshape_of_an_empty_batch() -> None:
    y = Reshape((-1, 2)).forward(np.zeros((0, 6)))
    assert y.shape == (0, 3, 2)
    assert Flatten().forward(np.zeros((0, 2, 3))).shape == (0, 6)


# -- bad arguments and bad inputs --------------------------------------------------
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Flatten("channels_first"), InvalidArgumentError, "channels_last"),
        (lambda: Flatten("nchw"), InvalidArgumentError, "data_format='nchw'"),
        (lambda: Reshape((-1, -1)), InvalidArgumentError, "at most one -1"),
        (lambda: Reshape((2, 0)), InvalidArgumentError, r"target_shape=\(2, 0\)"),
        (lambda: Reshape((2, -3)), InvalidArgumentError, "positive lengths"),
        (lambda: Reshape(6), GlassnetTypeError, "target_shape=6"),
        (lambda: Reshape(()), GlassnetTypeError, "non-empty"),
        (lambda: Reshape((2.0, 3)), GlassnetTypeError, "integers"),
        (lambda: Permute((1, 1)), InvalidArgumentError, r"permutation of 1\.\.2"),
        (lambda: Permute((0, 1)), InvalidArgumentError, r"dims=\(0, 1\)"),
        (lambda: Permute((1, 3)), InvalidArgumentError, "1-indexed"),
        (lambda: Permute((True, 2)), GlassnetTypeError, "dims"),
        (lambda: RepeatVector(0), InvalidArgumentError, "n=0"),
        (lambda: RepeatVector(-2), InvalidArgumentError, "positive integer"),
        (lambda: RepeatVector(2.5), GlassnetTypeError, "n=2.5"),
        (lambda: GaussianNoise(-0.1), InvalidArgumentError, "stddev=-0.1"),
        (lambda: GaussianNoise(1.5), InvalidArgumentError, r"\[0.0, 1.0\]"),
        (lambda: GaussianNoise("0.1"), GlassnetTypeError, "stddev"),
        (lambda: GaussianNoise(0.1, seed=-1), GlassnetTypeError, "seed=-1"),
    ],
)
def test_bad_arguments(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


def test_reshape_sizes_that_disagree() -> None:
    with pytest.raises(ShapeError, match=r"'resh'.*\(12,\).*12 elements.*\(5, 2\)"):
        Reshape((5, 2), name="resh").output_shape((12,))
    with pytest.raises(ShapeError, match=r"\(7,\).*\(-1, 2\)"):
        Reshape((-1, 2)).output_shape((7,))  # 7 is not a multiple of 2
    with pytest.raises(ShapeError, match="number of elements"):
        Reshape((5, 2))(np.zeros((3, 12)))  # refused before it is built
    with pytest.raises(ShapeError, match="number of elements"):
        Reshape((5, 2)).forward(np.zeros((3, 12)))


@pytest.mark.parametrize(
    ("layer", "shape", "match"),
    [
        (Permute((2, 1), name="perm"), (3,), r"'perm'.*2 axes.*input_shape=\(3,\)"),
        (Permute((2, 1)), (3, 4, 5), r"rank 3.*input_shape=\(3, 4, 5\)"),
        (RepeatVector(2, name="rep"), (3, 4), r"'rep'.*2-D.*input_shape=\(3, 4\)"),
        (RepeatVector(2), (), r"input_shape=\(\)"),
    ],
)
def test_inputs_of_the_wrong_rank(layer: Layer, shape, match) -> None:
    with pytest.raises(ShapeError, match=match):
        layer.output_shape(shape)
    with pytest.raises(ShapeError, match=match):
        layer.forward(np.zeros((2, *shape)))
    with pytest.raises(ShapeError, match=match):
        layer(np.zeros((2, *shape)))
    assert not layer.built  # a rejected call builds nothing


def test_a_built_layer_refuses_another_rank() -> None:
    layer = Flatten()
    layer(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match=r"\(3, 4\).*\(3, 4, 5\)"):
        layer(np.zeros((2, 3, 4, 5)))


# -- GaussianNoise's generator ---------------------------------------------------
def test_gaussian_noise_is_identity_at_inference() -> None:
    layer = built(GaussianNoise(1.0), (3,))
    x = normal(4, 3)
    assert layer.forward(x) is x
    np.testing.assert_array_equal(layer(x, training=False), x)


def test_gaussian_noise_draws_from_the_build_generator() -> None:
    x = np.zeros((3, 4))
    first = GaussianNoise(0.5)
    first.build((4,), np.random.default_rng(7), np.float64)
    second = GaussianNoise(0.5)
    second.build((4,), np.random.default_rng(7), np.float64)
    noise = first.forward(x, training=True)
    np.testing.assert_array_equal(noise, second.forward(x, training=True))
    np.testing.assert_array_equal(
        noise, np.random.default_rng(7).normal(0.0, 0.5, size=(3, 4))
    )
    # the generator moves on: the next batch gets new noise
    assert not np.array_equal(first.forward(x, training=True), noise)


def test_gaussian_noise_seed_overrides_the_build_generator() -> None:
    x = np.zeros((3, 4))
    expected = np.random.default_rng(3).normal(0.0, 0.5, size=(3, 4))
    for build_seed in (1, 2):  # whatever generator build hands it
        layer = GaussianNoise(0.5, seed=3)
        layer.build((4,), np.random.default_rng(build_seed), np.float64)
        np.testing.assert_array_equal(layer.forward(x, training=True), expected)


def test_gaussian_noise_zero_stddev_and_unbuilt() -> None:
    x = normal(2, 3)
    layer = GaussianNoise(0.0)
    assert layer.forward(x, training=True) is x  # no generator needed for no noise
    with pytest.raises(NotBuiltError, match="build"):
        GaussianNoise(0.1).forward(x, training=True)


# -- inside a model ----------------------------------------------------------------
def test_in_a_sequential_model_against_keras() -> None:
    x = normal(5, 12).astype(np.float32)
    y = normal(5, 2).astype(np.float32)
    model = Sequential(
        [
            Reshape((4, 3), input_shape=(12,)),
            Permute((2, 1)),
            GaussianNoise(0.1),
            Flatten(),
            Dense(3, activation="tanh"),
            RepeatVector(2),
            Flatten(),
            Dense(2),
        ],
        seed=0,
    )
    model.compile(loss="mse", optimizer="sgd")
    for training in (False, True):
        report = gradcheck(model, x, y, training=training)
        assert report.passed, str(report)
    theirs = keras.Sequential(
        [
            keras.Input((12,)),
            keras.layers.Reshape((4, 3)),
            keras.layers.Permute((2, 1)),
            keras.layers.GaussianNoise(0.1),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="tanh"),
            keras.layers.RepeatVector(2),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    theirs.set_weights(model.get_weights())
    np.testing.assert_allclose(
        model.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
