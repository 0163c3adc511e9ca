"""BatchNormalization and LayerNormalization against gradcheck, PyTorch and Keras 3.

- float64 gradient checks in training and inference mode, 2-D and N-D inputs, the
  last axis and another one, with and without gamma/beta;
- PyTorch autograd in float64 (``F.batch_norm`` / ``F.layer_norm``, which normalize
  with the biased variance) for the output, dx, dgamma and dbeta, to 1e-10;
- Keras 3 on the torch backend in float32: the moving statistics after several
  training steps, and the inference output given the same weights;
- the rules: a frozen BatchNormalization runs in inference mode, inference keeps
  no cache, backward without forward fails, bad arguments are named.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import glassnet
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    ShapeError,
    UnknownNameError,
)
from glassnet.layers.base import registry
from glassnet.layers.layer_normalization import LayerNormalization
from glassnet.layers.normalization import BatchNormalization

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

EPSILON = 1e-3


def random_input(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Inputs away from mean 0 and variance 1, so the statistics matter."""
    return np.random.default_rng(seed).normal(1.5, 2.0, size=shape)


def built(layer, shape: tuple[int, ...], dtype=np.float64, seed: int = 1):
    """``layer`` built for ``shape`` (batch first), every weight set to random values.

    Random gamma, beta and moving statistics make every term of the forward and
    backward passes count (the defaults 1, 0, 0, 1 would hide a missing factor).
    """
    layer.build(shape[1:], np.random.default_rng(0), dtype)
    rng = np.random.default_rng(seed)
    for key, value in [*layer.params.items(), *layer.state.items()]:
        if key == "moving_variance":
            value[...] = rng.uniform(0.5, 3.0, size=value.shape)
        else:
            value[...] = rng.normal(0.5, 1.0, size=value.shape)
    return layer


def relative(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


# -- gradient checks ----------------------------------------------------------------
BN_CASES = [
    ((8, 4), {}),
    ((8, 4), {"center": False}),
    ((8, 4), {"scale": False}),
    ((8, 4), {"center": False, "scale": False}),
    ((3, 4, 5, 3), {}),
    ((3, 4, 5, 3), {"axis": 1}),
    ((3, 4, 5, 3), {"axis": -2, "scale": False}),
    ((2, 3, 4), {"axis": 2, "center": False}),
]
LN_CASES = [
    ((5, 6), {}),
    ((5, 6), {"center": False}),
    ((5, 6), {"scale": False}),
    ((5, 6), {"center": False, "scale": False}),
    ((3, 4, 5, 3), {}),
    ((3, 4, 5, 3), {"axis": 1}),
    ((3, 4, 5, 3), {"axis": [1, 3]}),
    ((3, 4, 5, 3), {"axis": [-3, -2, -1], "center": False}),
    ((2, 3, 4), {"axis": -2, "scale": False}),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("shape", "kwargs"), BN_CASES)
def test_batch_normalization_gradcheck(shape, kwargs, training):
    layer = built(BatchNormalization(**kwargs), shape)
    report = glassnet.gradcheck(layer, random_input(shape), training=training)
    assert list(report.errors) == [*layer.params, "x"]
    assert report.passed, str(report)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("shape", "kwargs"), LN_CASES)
def test_layer_normalization_gradcheck(shape, kwargs, training):
    layer = built(LayerNormalization(**kwargs), shape)
    report = glassnet.gradcheck(layer, random_input(shape), training=training)
    assert report.passed, str(report)


# -- PyTorch in float64 -------------------------------------------------------------
def torch_grads(forward, x: np.ndarray, layer, dy: np.ndarray) -> dict[str, np.ndarray]:
    """torch's output and the gradients of sum(output * dy) w.r.t. x and the params."""
    x_t = torch.tensor(x, requires_grad=True)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in layer.params.items()}
    y = forward(x_t, params.get("gamma"), params.get("beta"))
    (y * torch.tensor(dy)).sum().backward()
    found = {"y": y.detach().numpy(), "x": x_t.grad.numpy()}
    found.update({k: v.grad.numpy() for k, v in params.items()})
    return found


def glassnet_grads(layer, x: np.ndarray, dy: np.ndarray) -> dict[str, np.ndarray]:
    y = layer.forward(x, training=True)
    dx = layer.backward(dy)
    return {"y": y, "x": dx, **{k: v.copy() for k, v in layer.grads.items()}}


@pytest.mark.parametrize(("shape", "kwargs"), BN_CASES)
def test_batch_normalization_matches_torch_in_training(shape, kwargs):
    layer = built(BatchNormalization(**kwargs), shape)
    axis = layer.axis % len(shape)
    x, dy = random_input(shape), random_input(shape, seed=7)

    def forward(x_t, gamma, beta):
        # torch normalizes dimension 1 of (N, C, ...): move the feature axis there
        y = F.batch_norm(
            x_t.movedim(axis, 1), None, None, gamma, beta, training=True, eps=EPSILON
        )
        return y.movedim(1, axis)

    expected = torch_grads(forward, x, layer, dy)
    found = glassnet_grads(layer, x, dy)
    assert found.keys() == expected.keys()
    for key in expected:
        assert relative(found[key], expected[key]) < 1e-10, key


@pytest.mark.parametrize(("shape", "kwargs"), LN_CASES)
def test_layer_normalization_matches_torch(shape, kwargs):
    layer = built(LayerNormalization(**kwargs), shape)
    axis = kwargs.get("axis", -1)
    axes = sorted(a % len(shape) for a in (axis if isinstance(axis, list) else [axis]))
    ends = list(range(len(shape) - len(axes), len(shape)))
    x, dy = random_input(shape), random_input(shape, seed=7)

    def forward(x_t, gamma, beta):
        # torch normalizes the trailing axes: move the normalized ones there, in order
        moved = x_t.movedim(axes, ends)
        y = F.layer_norm(moved, moved.shape[-len(axes) :], gamma, beta, eps=EPSILON)
        return y.movedim(ends, axes)

    expected = torch_grads(forward, x, layer, dy)
    found = glassnet_grads(layer, x, dy)
    assert found.keys() == expected.keys()
    for key in expected:
        assert relative(found[key], expected[key]) < 1e-10, key


def test_batch_normalization_backward_by_hand():
    # One feature, two samples x = 1, 3: mean 2, variance ((1-2)^2 + (3-2)^2) / 2 = 1,
    # inv_std = 1/sqrt(1 + 0.001) = a, xhat = (-a, a); gamma = 1, beta = 0.
    layer = BatchNormalization()
    layer.build((1,), np.random.default_rng(0), np.float64)
    a = 1 / np.sqrt(1.001)
    y = layer.forward(np.array([[1.0], [3.0]]), training=True)
    np.testing.assert_allclose(y, [[-a], [a]], rtol=1e-15)
    dx = layer.backward(np.array([[1.0], [0.0]]))
    # dbeta = sum(dy) = 1;  dgamma = sum(dy * xhat) = -a
    np.testing.assert_allclose(layer.grads["beta"], [1.0], rtol=1e-15)
    np.testing.assert_allclose(layer.grads["gamma"], [-a], rtol=1e-15)
    # N = 2, sum(dy) = 1, sum(dy * xhat) = -a:
    #   dx0 = a/2 * (2*1 - 1 - (-a)(-a)) = a/2 * (1 - a^2) = a/2 * 0.001/1.001
    #   dx1 = a/2 * (2*0 - 1 - (a)(-a))  = -dx0
    # Two samples always normalize to about -1 and +1, so dx is nearly 0.
    dx0 = a / 2 * (0.001 / 1.001)
    np.testing.assert_allclose(dx, [[dx0], [-dx0]], rtol=1e-9)


# -- Keras 3 (torch backend, float32) -----------------------------------------------
def to_numpy(value) -> np.ndarray:
    return keras.ops.convert_to_numpy(value)


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((16, 5), {"momentum": 0.9}),
        ((16, 5), {"momentum": 0.5, "center": False, "epsilon": 0.01}),
        ((6, 4, 5, 3), {"momentum": 0.8}),
        ((6, 4, 5, 3), {"axis": 1, "momentum": 0.7, "scale": False}),
    ],
)
def test_batch_normalization_moving_statistics_match_keras(shape, kwargs):
    ours = built(BatchNormalization(**kwargs), shape, dtype=np.float32)
    theirs = keras.layers.BatchNormalization(**kwargs)
    theirs.build((None, *shape[1:]))
    theirs.set_weights(ours.get_weights())
    for step in range(5):
        x = random_input(shape, seed=10 + step).astype(np.float32)
        y = ours(x, training=True)
        assert y.dtype == np.float32
        assert ours.backward(x).dtype == np.float32
        expected = to_numpy(theirs(x, training=True))
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    keras_weights = [to_numpy(w) for w in theirs.weights]
    for ours_weight, keras_weight in zip(ours.weights, keras_weights, strict=True):
        assert ours_weight.value.dtype == np.float32
        np.testing.assert_allclose(
            ours_weight.value,
            keras_weight,
            rtol=1e-6,
            atol=1e-6,
            err_msg=ours_weight.name,
        )
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_batch_normalization_inference_matches_keras(axis):
    shape = (7, 4, 5, 3)
    ours = built(BatchNormalization(axis=axis), shape, dtype=np.float32)
    theirs = keras.layers.BatchNormalization(axis=axis)
    theirs.build((None, *shape[1:]))
    theirs.set_weights(ours.get_weights())
    x = random_input(shape).astype(np.float32)
    y = ours(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(
        y, to_numpy(theirs(x, training=False)), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((6, 5), {}),
        ((3, 4, 5, 3), {"axis": [1, 3]}),
        ((3, 4, 5, 3), {"axis": [1, 2, 3], "scale": False}),
        ((3, 4, 5, 3), {"axis": [-2, -1], "center": False, "epsilon": 0.1}),
    ],
)
def test_layer_normalization_matches_keras(shape, kwargs):
    # Not a lone axis short of the last one (axis=1 on 4-D inputs): Keras' torch
    # backend hands any contiguous run of axes to F.layer_norm, which takes trailing
    # axes only, and fails. torch above checks those cases.
    ours = built(LayerNormalization(**kwargs), shape, dtype=np.float32)
    theirs = keras.layers.LayerNormalization(**kwargs)
    theirs.build((None, *shape[1:]))
    theirs.set_weights(ours.get_weights())
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    x = random_input(shape).astype(np.float32)
    np.testing.assert_allclose(ours(x), to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)


def test_frozen_batch_normalization_runs_in_inference_mode_like_keras():
    shape = (8, 3)
    ours = built(BatchNormalization(trainable=False), shape, dtype=np.float32)
    theirs = keras.layers.BatchNormalization()
    theirs.build((None, 3))
    theirs.set_weights(ours.get_weights())
    theirs.trainable = False
    before = ours.get_weights()
    x = random_input(shape).astype(np.float32)

    y = ours(x, training=True)
    np.testing.assert_allclose(y, ours(x, training=False), rtol=0, atol=0)
    np.testing.assert_allclose(y, to_numpy(theirs(x, training=True)), rtol=1e-5)
    for kept, now in zip(before, ours.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, now)  # moving statistics untouched
    np.testing.assert_array_equal(to_numpy(theirs.weights[2]), before[2])

    # backward is the inference-mode affine map, and a frozen layer fills no grads
    ours.forward(x, training=True)
    dy = random_input(shape, seed=3).astype(np.float32)
    dx = ours.backward(dy)
    gamma, _, _, variance = before
    np.testing.assert_allclose(dx, dy * gamma / np.sqrt(variance + EPSILON), rtol=1e-6)
    assert not ours.grads["gamma"].any() and not ours.grads["beta"].any()


# -- the protocol -------------------------------------------------------------------
@pytest.mark.parametrize("make", [BatchNormalization, LayerNormalization])
def test_inference_keeps_no_cache_and_backward_needs_forward(make):
    layer = built(make(), (4, 3))
    with pytest.raises(MissingForwardError, match="forward"):
        layer.backward(np.ones((4, 3)))
    layer.forward(np.ones((4, 3)), training=True)
    assert layer._cache is not None
    layer.forward(np.ones((4, 3)), training=False)
    assert layer._cache is None
    with pytest.raises(MissingForwardError):
        layer.backward(np.ones((4, 3)))
    layer.forward(np.ones((4, 3)), keep_cache=True)
    assert layer.backward(np.ones((4, 3))).shape == (4, 3)


@pytest.mark.parametrize("make", [BatchNormalization, LayerNormalization])
def test_backward_writes_grads_in_place_and_can_skip_dx(make):
    layer = built(make(), (5, 3))
    gamma_grad, beta_grad = layer.grads["gamma"], layer.grads["beta"]
    layer.forward(random_input((5, 3)), training=True)
    assert layer.backward(random_input((5, 3), seed=2), input_grad=False) is None
    assert layer.grads["gamma"] is gamma_grad and layer.grads["beta"] is beta_grad
    assert gamma_grad.any() and beta_grad.any()


def test_moving_statistics_update_in_place_with_keras_formula():
    layer = built(BatchNormalization(momentum=0.75), (6, 2))
    moving_mean, moving_variance = (
        layer.state["moving_mean"],
        layer.state["moving_variance"],
    )
    old_mean, old_variance = moving_mean.copy(), moving_variance.copy()
    x = random_input((6, 2))
    layer.forward(x, training=True)
    assert layer.state["moving_mean"] is moving_mean  # a model may hold views
    np.testing.assert_allclose(
        moving_mean, old_mean * 0.75 + x.mean(axis=0) * 0.25, rtol=1e-14
    )
    np.testing.assert_allclose(  # the biased variance, as Keras
        moving_variance, old_variance * 0.75 + x.var(axis=0) * 0.25, rtol=1e-14
    )


def test_weight_shapes_in_keras_order():
    assert BatchNormalization(axis=1).weight_shapes((4, 5, 3)) == {
        "gamma": (4,),
        "beta": (4,),
        "moving_mean": (4,),
        "moving_variance": (4,),
    }
    assert BatchNormalization(center=False, scale=False).weight_shapes((3,)) == {
        "moving_mean": (3,),
        "moving_variance": (3,),
    }
    assert LayerNormalization(axis=[-1, 1]).weight_shapes((4, 5, 3)) == {
        "gamma": (4, 3),
        "beta": (4, 3),
    }
    layer = BatchNormalization(scale=False)
    layer.build((3,), np.random.default_rng(0))
    assert [w.trainable for w in layer.weights] == [True, False, False]
    assert [w.name for w in layer.weights] == ["beta", "moving_mean", "moving_variance"]
    assert layer.weights[0].path == f"{layer.name}/beta"


@pytest.mark.parametrize(
    "layer",
    [
        BatchNormalization(axis=2, momentum=0.5, epsilon=0.01, center=False),
        LayerNormalization(axis=[1, -1], scale=False, gamma_initializer="zeros"),
    ],
)
def test_config_round_trip(layer):
    config = layer.get_config()
    name = type(layer).__name__
    rebuilt = registry.get({"class_name": name, "config": config})
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == config


# -- bad arguments ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"momentum": -0.1}, InvalidArgumentError, "momentum"),
        ({"momentum": 1.5}, InvalidArgumentError, "momentum"),
        ({"momentum": "high"}, GlassnetTypeError, "momentum"),
        ({"epsilon": -1e-3}, InvalidArgumentError, "epsilon"),
        ({"epsilon": 0.0}, InvalidArgumentError, "epsilon"),
        ({"axis": 0}, InvalidArgumentError, "axis"),
        ({"axis": 1.0}, GlassnetTypeError, "axis"),
        ({"axis": True}, GlassnetTypeError, "axis"),
        ({"axis": [1, 2]}, GlassnetTypeError, "axis"),
        ({"axis": "channels"}, GlassnetTypeError, "axis"),
        ({"center": 1}, GlassnetTypeError, "center"),
        ({"gamma_initializer": "onez"}, UnknownNameError, "onez"),
    ],
)
def test_batch_normalization_refuses_bad_arguments(kwargs, error, argument):
    with pytest.raises(error, match=argument):
        BatchNormalization(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"epsilon": -1.0}, InvalidArgumentError, "epsilon"),
        ({"axis": 0}, InvalidArgumentError, "axis"),
        ({"axis": [1, 0]}, InvalidArgumentError, "axis"),
        ({"axis": []}, InvalidArgumentError, "axis"),
        ({"axis": [2, 2]}, InvalidArgumentError, "axis"),
        ({"axis": [1, 2.0]}, GlassnetTypeError, "axis"),
        ({"axis": None}, GlassnetTypeError, "axis"),
        ({"scale": "no"}, GlassnetTypeError, "scale"),
    ],
)
def test_layer_normalization_refuses_bad_arguments(kwargs, error, argument):
    with pytest.raises(error, match=argument):
        LayerNormalization(**kwargs)


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (BatchNormalization(axis=3), (4,), "out of bounds"),
        (BatchNormalization(axis=-2), (4,), "the batch axis"),
        (BatchNormalization(axis=-3), (4,), "out of bounds"),
        (BatchNormalization(axis=1), (None, 3), "known"),
        (LayerNormalization(axis=[1, 4]), (2, 3), "out of bounds"),
        (LayerNormalization(axis=[1, -1]), (4,), "same axis twice"),
    ],
)
def test_shapes_the_layer_cannot_take(layer, shape, message):
    with pytest.raises(ShapeError, match=message) as caught:
        layer.output_shape(shape)
    assert layer.name in str(caught.value) and str(tuple(shape)) in str(caught.value)
    with pytest.raises(ShapeError):
        layer.weight_shapes(shape)
