"""The activation layers (ReLU, LeakyReLU, PReLU, Softmax, ELU) and the merge layers.

Forward passes are compared with Keras 3 on the PyTorch backend (same inputs, same
weights); backward passes with float64 central differences (``gradcheck``) on inputs
kept away from kinks and ties, and with torch autograd for PReLU's slopes.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import re
from typing import Any

import keras
import numpy as np
import pytest
import torch

from glassnet import gradcheck
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    ShapeError,
)
from glassnet.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from glassnet.layers.base import Layer, registry
from glassnet.layers.input_layer import Input
from glassnet.layers.merge import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)
from glassnet.layers.prelu import PReLU

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

GAP = 1e-3  # distance kept from kinks and ties: far beyond gradcheck's epsilon 1e-6


def away_from(
    shape: tuple[int, ...], kinks: list[float], seed: int = 0, scale: float = 3.0
) -> np.ndarray:
    """Uniform draws in (-scale, scale), redrawn until none lies near a kink."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-scale, scale, shape)
    while True:
        near = np.zeros(shape, dtype=bool)
        for kink in kinks:
            near |= np.abs(x - kink) < GAP
        if not near.any():
            return x
        x[near] = rng.uniform(-scale, scale, int(near.sum()))


def untied(count: int, shape: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    """``count`` arrays that differ pairwise by more than GAP at every position."""
    rng = np.random.default_rng(seed)
    stack = rng.normal(size=(count, *shape))
    while True:
        ordered = np.sort(stack, axis=0)
        tied = (np.diff(ordered, axis=0) < GAP).any(axis=0)
        if not tied.any():
            return list(stack)
        stack[:, tied] = rng.normal(size=(count, int(tied.sum())))


def keras_numpy(value: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def built(layer: Layer, shape: Any, dtype: Any = np.float64) -> Layer:
    layer.build(shape, np.random.default_rng(0), dtype)
    return layer


def call64(layer: Layer, x: Any) -> np.ndarray:
    """Call ``layer`` in float64 (a layer built by its first call takes float32)."""
    if not layer.built:
        shape = [a.shape[1:] for a in x] if layer.takes_list else x.shape[1:]
        built(layer, shape)
    y = layer(x)
    assert y.dtype == np.float64
    return y


# -- the activation layers ---------------------------------------------------------
RELU_CONFIGS = [
    {},
    {"negative_slope": 0.1},
    {"max_value": 2.0},
    {"max_value": 6.0},  # Keras takes its relu6 path here
    {"threshold": 0.5},
    {"threshold": 0.5, "negative_slope": 0.2},
    {"max_value": 2.0, "negative_slope": 0.2},
    {"max_value": 2.0, "negative_slope": 0.2, "threshold": 0.5},
    {"max_value": 0.3, "negative_slope": 0.5, "threshold": 1.0},  # cap below threshold
    {"max_value": 0.0, "negative_slope": 0.3},
]


def relu_kinks(config: dict[str, float]) -> list[float]:
    return [0.0, config.get("threshold", 0.0), config.get("max_value") or 0.0]


@pytest.mark.parametrize("config", RELU_CONFIGS, ids=str)
def test_relu_equals_keras(config: dict[str, float]) -> None:
    x = away_from((6, 5), [], seed=1, scale=8.0)
    x[0, :3] = relu_kinks(config)  # the kinks themselves: the forward is defined there
    ours = ReLU(**config)
    theirs = keras.layers.ReLU(**config, dtype="float64")
    np.testing.assert_allclose(
        call64(ours, x), keras_numpy(theirs(x)), rtol=1e-13, atol=0
    )
    x32 = x.astype(np.float32)
    y32 = ReLU(**config)(x32)
    assert y32.dtype == np.float32
    expected = keras_numpy(keras.layers.ReLU(**config)(x32))
    np.testing.assert_allclose(y32, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("config", RELU_CONFIGS, ids=str)
def test_relu_gradcheck(config: dict[str, float], training: bool) -> None:
    x = away_from((4, 6), relu_kinks(config), seed=2)
    report = gradcheck(ReLU(**config), x, training=training)
    assert report.passed, str(report)


def test_relu_hand_worked() -> None:
    x = np.array([[-10.0, -5.0, 0.0, 5.0, 10.0]])
    # Keras' docstring: max_value=10, negative_slope=0.5 -> 0.5 * -10 = -5,
    # 0.5 * -5 = -2.5, then 0, 5, and 10 = the cap.
    layer = ReLU(max_value=10, negative_slope=0.5)
    np.testing.assert_array_equal(layer(x), [[-5.0, -2.5, 0.0, 5.0, 10.0]])
    # threshold=5: inputs <= 5 are damped to 0 (no slope), 10 > 5 passes.
    np.testing.assert_array_equal(ReLU(threshold=5.0)(x), [[0, 0, 0, 0, 10.0]])
    # threshold=1, slope 0.5, cap 4: 0.5 * (0.5 - 1) = -0.25; 1.5 passes;
    # 9 is capped to 4.  Gradients: slope 0.5, 1, then 0 on the cap.
    layer = ReLU(max_value=4.0, negative_slope=0.5, threshold=1.0)
    z = np.array([[0.5, 1.5, 9.0]])
    np.testing.assert_allclose(layer.forward(z, training=True), [[-0.25, 1.5, 4.0]])
    np.testing.assert_allclose(layer.backward(np.ones((1, 3))), [[0.5, 1.0, 0.0]])


def test_relu_default_configs_reuse_glassnet_activations() -> None:
    from glassnet import activations

    assert type(ReLU().activation) is activations.ReLU
    assert ReLU(negative_slope=0.1).activation == activations.LeakyReLU(0.1)
    assert ReLU(max_value=6.0).activation.name == "relu"


@pytest.mark.parametrize("slope", [None, 0.0, 0.01, 0.3, 2.5])
def test_leaky_relu_equals_keras(slope: float | None) -> None:
    kwargs = {} if slope is None else {"negative_slope": slope}
    x = away_from((5, 4), [], seed=3)
    x[0, 0] = 0.0
    ours, theirs = (
        LeakyReLU(**kwargs),
        keras.layers.LeakyReLU(**kwargs, dtype="float64"),
    )
    np.testing.assert_allclose(
        call64(ours, x), keras_numpy(theirs(x)), rtol=1e-13, atol=0
    )


def test_leaky_relu_layer_default_differs_from_the_function() -> None:
    from glassnet import activations

    # Keras 3: keras.layers.LeakyReLU() slopes 0.3, keras.activations.leaky_relu 0.2
    assert LeakyReLU().negative_slope == keras.layers.LeakyReLU().negative_slope == 0.3
    assert activations.get("leaky_relu").negative_slope == 0.2
    # -2 * 0.3 = -0.6
    np.testing.assert_allclose(LeakyReLU()(np.array([[-2.0, 2.0]])), [[-0.6, 2.0]])


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_equals_keras(alpha: float) -> None:
    x = away_from((5, 4), [], seed=4)
    ours, theirs = ELU(alpha), keras.layers.ELU(alpha, dtype="float64")
    np.testing.assert_allclose(
        call64(ours, x), keras_numpy(theirs(x)), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("axis", [-1, 1, 2, -2])
def test_softmax_equals_keras(axis: int) -> None:
    x = away_from((3, 4, 5), [], seed=5, scale=10.0)
    ours, theirs = Softmax(axis), keras.layers.Softmax(axis, dtype="float64")
    np.testing.assert_allclose(
        call64(ours, x), keras_numpy(theirs(x)), rtol=1e-12, atol=1e-16
    )
    np.testing.assert_allclose(ours(x).sum(axis=axis), 1.0, rtol=1e-12)


PRELU_CASES = [((5,), None), ((3, 4), None), ((3, 4), [1]), ((2, 3, 4), [1, 2])]


@pytest.mark.parametrize(("shape", "shared"), PRELU_CASES, ids=str)
def test_prelu_equals_keras_with_the_same_alpha(shape: tuple, shared: Any) -> None:
    x = away_from((6, *shape), [], seed=6)
    x[0].flat[0] = 0.0
    ours = PReLU(shared_axes=shared)
    theirs = keras.layers.PReLU(shared_axes=shared, dtype="float64")
    theirs.build((None, *shape))
    alpha = np.random.default_rng(7).uniform(-0.5, 1.5, theirs.alpha.shape)
    theirs.set_weights([alpha])
    built(ours, shape).set_weights([alpha])
    assert ours.weight_shapes(shape)["alpha"] == tuple(theirs.alpha.shape)
    assert ours.weights[0].name == theirs.weights[0].name == "alpha"
    np.testing.assert_allclose(
        call64(ours, x), keras_numpy(theirs(x)), rtol=1e-13, atol=0
    )


@pytest.mark.parametrize(("shape", "shared"), PRELU_CASES, ids=str)
def test_prelu_gradients_equal_torch_autograd(shape: tuple, shared: Any) -> None:
    rng = np.random.default_rng(8)
    layer = built(PReLU(shared_axes=shared), shape)
    alpha = rng.uniform(0.1, 0.9, layer.params["alpha"].shape)
    layer.set_weights([alpha])
    x, dy = away_from((4, *shape), [0.0], seed=9), rng.normal(size=(4, *shape))
    layer.forward(x, training=True)
    dx = layer.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    at = torch.tensor(alpha, requires_grad=True)
    y = torch.relu(xt) - at * torch.relu(-xt)  # Keras' PReLU.call
    (y * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.grads["alpha"], at.grad.numpy(), rtol=1e-12)


def test_prelu_hand_worked() -> None:
    layer = built(PReLU(shared_axes=1), (2, 2))
    layer.set_weights([np.array([[0.5, 0.25]])])  # one slope per column
    x = np.array([[[-2.0, 4.0], [3.0, -8.0]]])
    # column 0: -2 * 0.5 = -1, 3 passes; column 1: 4 passes, -8 * 0.25 = -2
    np.testing.assert_array_equal(layer.forward(x, training=True), [[[-1, 4], [3, -2]]])
    dx = layer.backward(np.ones_like(x))
    # dalpha_j = sum over the shared axis of dy * min(x, 0): (-2 + 0), (0 - 8)
    np.testing.assert_array_equal(layer.grads["alpha"], [[-2.0, -8.0]])
    # dx = dy where x > 0, alpha * dy elsewhere
    np.testing.assert_array_equal(dx, [[[0.5, 1.0], [1.0, 0.25]]])


def prelu(shape: tuple[int, ...], shared: Any = None) -> PReLU:
    layer = built(PReLU(shared_axes=shared), shape)
    rng = np.random.default_rng(10)
    layer.set_weights([rng.uniform(0.1, 0.6, layer.params["alpha"].shape)])
    return layer


ACTIVATION_LAYERS = {
    "leaky_relu": (lambda: LeakyReLU(), (4, 5)),
    "leaky_relu_0": (lambda: LeakyReLU(0.0), (4, 5)),
    "elu": (lambda: ELU(), (4, 5)),
    "elu_2": (lambda: ELU(2.0), (4, 5)),
    "softmax": (lambda: Softmax(), (3, 5)),
    "softmax_axis1": (lambda: Softmax(axis=1), (3, 4, 2)),
    "prelu": (lambda: prelu((5,)), (4, 5)),
    "prelu_shared": (lambda: prelu((3, 4), [1]), (2, 3, 4)),
    "prelu_all_shared": (lambda: prelu((3, 4), [1, 2]), (2, 3, 4)),
}


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name", list(ACTIVATION_LAYERS))
def test_activation_layer_gradcheck(name: str, training: bool) -> None:
    make, shape = ACTIVATION_LAYERS[name]
    report = gradcheck(make(), away_from(shape, [0.0], seed=11), training=training)
    assert report.passed, str(report)
    if name.startswith("prelu"):
        assert "alpha" in report.errors


def test_automatic_names_are_keras() -> None:
    layers = [ReLU(), LeakyReLU(), PReLU(), Softmax(), ELU()]
    prefixes = ["re_lu", "leaky_re_lu", "p_re_lu", "softmax", "elu"]
    for layer, prefix in zip(layers, prefixes, strict=True):
        assert re.fullmatch(rf"{prefix}(_\d+)?", layer.name), layer.name
    merges = [Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum()]
    for layer in [*merges, Concatenate()]:
        assert re.fullmatch(rf"{type(layer).__name__.lower()}(_\d+)?", layer.name)


ACTIVATION_CONFIGS = [
    (ReLU, {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}),
    (ReLU, {}),
    (LeakyReLU, {"negative_slope": 0.05}),
    (ELU, {"alpha": 0.7}),
    (Softmax, {"axis": 1}),
]


@pytest.mark.parametrize(("cls", "config"), ACTIVATION_CONFIGS, ids=str)
def test_configs_match_keras_and_round_trip(cls: type, config: dict) -> None:
    layer = cls(**config, name="act")
    ours = layer.get_config()
    theirs = getattr(keras.layers, cls.__name__)(**config).get_config()
    assert {k: v for k, v in ours.items() if k != "name"} == {
        k: theirs[k] for k in ours if k != "name"
    }
    again = registry.get({"class_name": cls.__name__, "config": ours}, base=Layer)
    assert type(again) is cls and again.get_config() == ours


def test_prelu_config_round_trip() -> None:
    layer = PReLU(alpha_initializer="ones", shared_axes=2, trainable=False)
    config = layer.get_config()
    assert config["shared_axes"] == [2] and config["trainable"] is False
    again = PReLU.from_config(config)
    again.build((3, 4), np.random.default_rng(0))
    np.testing.assert_array_equal(again.params["alpha"], np.ones((3, 1)))
    assert registry.get("p_re_lu").shared_axes is None
    assert PReLU(shared_axes=(2, 1, 2)).get_config()["shared_axes"] == [2, 1]


def test_prelu_writes_grads_in_place_and_only_when_trainable() -> None:
    layer = prelu((3,))
    grad = layer.grads["alpha"]
    x = np.array([[-1.0, 2.0, -3.0]])
    layer.forward(x, training=True)
    assert layer.backward(np.ones((1, 3)), input_grad=False) is None
    assert layer.grads["alpha"] is grad
    np.testing.assert_array_equal(grad, [-1.0, 0.0, -3.0])  # dy * min(x, 0)
    layer.trainable = False
    grad[...] = 7.0
    assert layer.backward(np.ones((1, 3))) is not None
    np.testing.assert_array_equal(layer.grads["alpha"], 7.0)  # untouched


def test_dtype_is_kept() -> None:
    x = away_from((2, 3), [0.0], seed=12).astype(np.float32)
    for layer in [ReLU(max_value=1.0, threshold=0.2), ELU(), Softmax(), PReLU()]:
        assert layer(x).dtype == np.float32
    assert Maximum()([x, x + 1]).dtype == np.float32


def test_softmax_exposes_its_function_for_loss_fusion() -> None:
    layer = Softmax()
    assert layer.output_activation.name == "softmax"
    x = np.array([[1.0, 2.0]])
    layer.forward(x, training=True)
    np.testing.assert_array_equal(layer.logits, x)
    grad = np.array([[0.1, -0.1]])
    assert layer.backward_from_logits(grad) is grad


# -- the merge layers ---------------------------------------------------------------
MERGES = {
    "add": (Add, 3),
    "subtract": (Subtract, 2),
    "multiply": (Multiply, 3),
    "average": (Average, 3),
    "maximum": (Maximum, 3),
    "minimum": (Minimum, 3),
}


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("name", list(MERGES))
def test_merge_equals_keras(name: str, count: int) -> None:
    cls, most = MERGES[name]
    count = min(count, most)
    xs = untied(count, (4, 2, 3), seed=13)
    xs[0][0, 0, 0] = xs[1][0, 0, 0]  # a tie: both give the same value
    ours = call64(cls(), xs)
    expected = keras_numpy(getattr(keras.layers, cls.__name__)(dtype="float64")(xs))
    # Keras 3.15's Maximum and Minimum on torch return float32 even for float64
    # inputs (its ops.maximum promotes through float32): compare at its precision.
    np.testing.assert_allclose(ours.astype(expected.dtype), expected, rtol=1e-14)
    xs32 = [x.astype(np.float32) for x in xs]
    expected = keras_numpy(getattr(keras.layers, cls.__name__)()(xs32))
    np.testing.assert_allclose(cls()(xs32), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("axis", [-1, 1, 2, -2, 3])
def test_concatenate_equals_keras(axis: int) -> None:
    rng = np.random.default_rng(14)
    shapes = [[2, 3, 4], [2, 3, 4]]
    # axis counts the batch axis: on a sample it is axis - 1, or axis from the end
    joined = axis - 1 if axis > 0 else 3 + axis
    shapes[1][joined] = 5
    xs = [rng.normal(size=(4, *s)) for s in shapes]
    ours = Concatenate(axis)
    theirs = keras.layers.Concatenate(axis, dtype="float64")(xs)
    np.testing.assert_array_equal(call64(ours, xs), keras_numpy(theirs))
    expected = list(shapes[0])
    expected[joined] += 5
    assert ours.output_shape([tuple(s) for s in shapes]) == tuple(expected)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name", list(MERGES))
def test_merge_gradcheck(name: str, training: bool) -> None:
    cls, count = MERGES[name]
    report = gradcheck(cls(), untied(count, (3, 4), seed=15), training=training)
    assert report.passed, str(report)
    assert sorted(report.errors) == [f"x{i}" for i in range(count)]


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate_gradcheck(axis: int, training: bool) -> None:
    rng = np.random.default_rng(16)
    # batch 3, samples (2, 4) joined with samples 5 or 1 long on the joined axis
    shapes = [[3, 2, 4], [3, 2, 4], [3, 2, 4]]
    shapes[1][axis], shapes[2][axis] = 5, 1
    xs = [rng.normal(size=s) for s in shapes]
    report = gradcheck(Concatenate(axis), xs, training=training)
    assert report.passed, str(report)


def test_maximum_and_minimum_send_tied_gradients_to_the_first_input() -> None:
    a = np.array([[1.0, 5.0, 2.0, 3.0]])
    b = np.array([[4.0, 2.0, 2.0, 3.0]])
    c = np.array([[0.0, 1.0, 2.0, 3.0]])
    dy = np.array([[10.0, 20.0, 30.0, 40.0]])
    layer = Maximum()
    # max: 4 (from b), 5 (a), 2 (a, b and c tie: a takes it), 3 (all tie: a)
    np.testing.assert_array_equal(
        layer.forward([a, b, c], training=True), [[4, 5, 2, 3]]
    )
    da, db, dc = layer.backward(dy)
    np.testing.assert_array_equal(da, [[0, 20, 30, 40]])
    np.testing.assert_array_equal(db, [[10, 0, 0, 0]])
    np.testing.assert_array_equal(dc, [[0, 0, 0, 0]])
    layer = Minimum()
    # min: 0 (c), 1 (c), 2 (all tie: a), 3 (all tie: a)
    np.testing.assert_array_equal(
        layer.forward([a, b, c], training=True), [[0, 1, 2, 3]]
    )
    da, db, dc = layer.backward(dy)
    np.testing.assert_array_equal(da, [[0, 0, 30, 40]])
    np.testing.assert_array_equal(db, [[0, 0, 0, 0]])
    np.testing.assert_array_equal(dc, [[10, 20, 0, 0]])


def test_multiply_gradient_is_the_product_of_the_others() -> None:
    a, b, c = np.array([[2.0, 0.0]]), np.array([[3.0, 5.0]]), np.array([[4.0, 7.0]])
    layer = Multiply()
    np.testing.assert_array_equal(layer.forward([a, b, c], training=True), [[24, 0]])
    da, db, dc = layer.backward(np.ones((1, 2)))
    # da = b * c = [12, 35] (still right where a = 0); db = a * c = [8, 0];
    # dc = a * b = [6, 0]
    np.testing.assert_array_equal(da, [[12, 35]])
    np.testing.assert_array_equal(db, [[8, 0]])
    np.testing.assert_array_equal(dc, [[6, 0]])


def test_add_subtract_average_hand_worked() -> None:
    a, b = np.array([[1.0, 6.0]]), np.array([[3.0, 2.0]])
    dy = np.array([[2.0, -4.0]])
    layer = Add()
    np.testing.assert_array_equal(layer.forward([a, b], training=True), [[4, 8]])
    da, db = layer.backward(dy)
    assert da is not db and da is not dy  # each input gets its own array
    np.testing.assert_array_equal(da, dy)
    np.testing.assert_array_equal(db, dy)
    layer = Subtract()
    np.testing.assert_array_equal(layer.forward([a, b], training=True), [[-2, 4]])
    da, db = layer.backward(dy)
    np.testing.assert_array_equal(da, dy)
    np.testing.assert_array_equal(db, -dy)
    layer = Average()
    # (1 + 3) / 2 = 2, (6 + 2) / 2 = 4; dx_i = dy / 2
    np.testing.assert_array_equal(layer.forward([a, b], training=True), [[2, 4]])
    for grad in layer.backward(dy):
        np.testing.assert_array_equal(grad, [[1.0, -2.0]])


def test_merge_output_shapes_and_unknown_axes() -> None:
    assert Add().output_shape([(None, 3), (4, 3)]) == (4, 3)
    assert Add().output_shape([(None, 3), (None, 3)]) == (None, 3)
    assert Concatenate().output_shape([(None, 3), (4, 2)]) == (4, 5)
    assert Concatenate(axis=1).output_shape([(None, 3), (4, 3)]) == (None, 3)


def test_merge_layers_in_a_functional_graph() -> None:
    a, b = Input((2,)), Input((3,))
    assert Concatenate()([a, b]).shape == (None, 5)
    c = Input((2,))
    assert Maximum()([a, c]).shape == (None, 2)
    with pytest.raises(ShapeError, match=r"\(2,\), \(3,\)"):
        Add(name="sum_ab")([a, b])


# -- bad arguments and bad shapes --------------------------------------------------
@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: ReLU(negative_slope=-0.1),
            InvalidArgumentError,
            "negative_slope=-0.1",
        ),
        (lambda: ReLU(max_value=-1.0), InvalidArgumentError, "max_value=-1.0"),
        (lambda: ReLU(threshold=-0.5), InvalidArgumentError, "threshold=-0.5"),
        (lambda: ReLU(negative_slope=None), GlassnetTypeError, "negative_slope=None"),
        (lambda: ReLU(max_value="6"), GlassnetTypeError, "max_value='6'"),
        (lambda: ReLU(threshold=float("nan")), InvalidArgumentError, "threshold=nan"),
        (lambda: LeakyReLU(-0.3), InvalidArgumentError, "negative_slope=-0.3"),
        (lambda: ELU(alpha="one"), GlassnetTypeError, "alpha='one'"),
        (lambda: ELU(alpha=-1.0), InvalidArgumentError, "alpha=-1.0"),
        (lambda: Softmax(axis=1.5), GlassnetTypeError, "axis=1.5"),
        (lambda: PReLU(shared_axes=0), InvalidArgumentError, "shared_axes=0"),
        (lambda: PReLU(shared_axes=[1, -1]), InvalidArgumentError, "shared_axes=-1"),
        (lambda: PReLU(shared_axes="1"), GlassnetTypeError, "shared_axes='1'"),
        (lambda: PReLU(alpha_initializer="zeroes"), ValueError, "zeros"),
        (lambda: Concatenate(axis=0), InvalidArgumentError, "batch axis"),
        (lambda: Concatenate(axis="1"), GlassnetTypeError, "axis='1'"),
        (lambda: Concatenate(axis=True), GlassnetTypeError, "axis=True"),
        (lambda: Add(name="a/b"), InvalidArgumentError, "name"),
    ],
)
def test_bad_arguments(make: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_one_input_to_add_is_refused() -> None:
    with pytest.raises(ShapeError, match=r"'add_one' \(Add\).*at least 2 inputs"):
        Add(name="add_one")([np.ones((2, 3))])
    with pytest.raises(GlassnetTypeError, match="list of arrays"):
        Add()(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="at least 2"):
        Add().output_shape((3,))


def test_three_inputs_to_subtract_are_refused() -> None:
    xs = [np.ones((2, 3))] * 3
    with pytest.raises(ShapeError, match=r"'sub' \(Subtract\).*exactly 2 inputs"):
        Subtract(name="sub")(xs)


def test_elementwise_merges_refuse_shapes_that_differ() -> None:
    for cls, _ in MERGES.values():
        layer = cls(name=f"{cls.__name__.lower()}_bad")
        with pytest.raises(ShapeError, match=rf"'{layer.name}'.*\(3,\), \(4,\)"):
            layer([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ShapeError, match=r"\[\(3,\), \(3, 1\)\]"):
        Add()([np.ones((2, 3)), np.ones((2, 3, 1))])  # no broadcasting
    with pytest.raises(ShapeError, match=r"\(3,\), \(3,\), \(2,\)"):
        Add().output_shape([(3,), (3,), (2,)])


def test_concatenate_refuses_shapes_that_differ_off_the_axis() -> None:
    # per-sample shapes (3, 4) and (5, 5) along -1: the first axis differs (3 vs 5)
    layer = Concatenate(name="join")
    with pytest.raises(ShapeError, match=r"'join'.*\[\(3, 4\), \(5, 5\)\]"):
        layer([np.ones((2, 3, 4)), np.ones((2, 5, 5))])
    # arrays (3, 4) and (5, 5): samples (4,) and (5,) join, but 3 != 5 samples
    with pytest.raises(ShapeError, match=r"batches.*\(3, 4\), \(5, 5\)"):
        Concatenate()([np.ones((3, 4)), np.ones((5, 5))])
    with pytest.raises(ShapeError, match=r"rank.*\[\(3,\), \(3, 1\)\]"):
        Concatenate().output_shape([(3,), (3, 1)])
    with pytest.raises(ShapeError, match=r"axis 3"):
        Concatenate(axis=3).output_shape([(3, 4), (3, 4)])
    with pytest.raises(ShapeError, match=r"axis -3"):
        Concatenate(axis=-3).output_shape([(3, 4), (3, 4)])


def test_built_merge_refuses_other_shapes() -> None:
    layer = Add(name="built_add")
    layer([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ShapeError, match="built_add"):
        layer([np.ones((2, 4)), np.ones((2, 4))])


def test_bad_shapes_for_activation_layers() -> None:
    with pytest.raises(ShapeError, match=r"'sm'.*axis 2.*input_shape=\(4,\)"):
        Softmax(axis=2, name="sm")(np.ones((3, 4)))
    with pytest.raises(ShapeError, match=r"'pr'.*axis 3.*input_shape=\(2, 3\)"):
        PReLU(shared_axes=[3], name="pr")(np.ones((1, 2, 3)))
    with pytest.raises(ShapeError, match=r"known size.*input_shape=\(None, 3\)"):
        PReLU().weight_shapes((None, 3))
    assert PReLU(shared_axes=1).weight_shapes((None, 3)) == {"alpha": (1, 3)}
    layer = PReLU(name="pr_built")
    layer(np.ones((1, 3)))
    with pytest.raises(ShapeError, match="pr_built"):
        layer(np.ones((1, 4)))


# -- the cache ----------------------------------------------------------------------
def every_layer() -> list[tuple[Layer, Any]]:
    x = away_from((2, 3), [0.0], seed=17)
    two = untied(2, (2, 3), seed=18)
    return [
        (built(ReLU(), (3,)), x),
        (built(ReLU(max_value=1.0, threshold=0.5), (3,)), x),
        (built(LeakyReLU(), (3,)), x),
        (built(ELU(), (3,)), x),
        (built(Softmax(), (3,)), x),
        (prelu((3,)), x),
        *((built(cls(), [(3,), (3,)]), two) for cls, _ in MERGES.values()),
        (built(Concatenate(), [(3,), (3,)]), two),
    ]


@pytest.mark.parametrize("index", range(13))
def test_backward_without_forward_raises(index: int) -> None:
    layer, x = every_layer()[index]
    dy = np.ones_like(layer.forward(x, training=False))
    layer._cache = None
    with pytest.raises(MissingForwardError, match=layer.name):
        layer.backward(dy)
    fresh = type(layer).from_config(layer.get_config())
    with pytest.raises(MissingForwardError):
        fresh.backward(dy)


@pytest.mark.parametrize("index", range(13))
def test_inference_keeps_no_cache(index: int) -> None:
    layer, x = every_layer()[index]
    layer.forward(x, training=True)
    assert layer._cache is not None
    y = layer.forward(x, training=False)
    assert layer._cache is None
    with pytest.raises(MissingForwardError):
        layer.backward(np.ones_like(y))
    layer.forward(x, keep_cache=True)
    assert layer._cache is not None
    assert layer.backward(np.ones_like(y), input_grad=False) is None


def test_every_layer_is_covered() -> None:
    # 6 activation layers (ReLU twice), 6 elementwise merges, Concatenate
    assert len(every_layer()) == 13
