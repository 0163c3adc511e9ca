"""SimpleRNN, LSTM and GRU against gradcheck, PyTorch autograd and Keras 3.

- float64 gradient checks of every tensor (kernel, recurrent kernel, bias, x) for
  every layer with return_sequences on and off, go_backwards, GRU's reset_after both
  ways, no bias, other activations (whose derivatives need the gate inputs), one
  step, and dropout / recurrent_dropout while training;
- PyTorch autograd in float64 (output, dx and every weight gradient, 1e-10 relative
  per tensor): LSTM (torch's gates i, f, g, o are Keras' i, f, c, o), GRU (torch's
  r, z, n are Keras' z, r, h reordered; torch's GRU is reset_after=True),
  SimpleRNN (torch.nn.RNN with tanh), go_backwards as torch on the reversed input;
- Keras 3 (torch backend) in float32 from the same weights, within 1e-5: each layer
  and option, and an Embedding -> SimpleRNN -> LSTM -> GRU -> Dense stack; configs;
- models that train (Sequential and functional), any sequence length for a model
  built with a None time axis, Keras' weight paths, and the bad inputs a user will
  try;
- kernel, recurrent, bias and activity regularizers in model.losses (closed form,
  Keras 3) and in the training step's gradient (central differences).
Padding masks are tested in ``test_masking.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest
import torch

import glassnet
from glassnet import gradcheck
from glassnet._naming import to_snake_case as snake_case
from glassnet.activations import ActivationFunction
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    ShapeError,
)
from glassnet.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Conv1D,
    Dense,
    Embedding,
    Layer,
    SimpleRNN,
    TimeDistributed,
    registry,
)
from glassnet.models import Model, Sequential
from glassnet.optimizers import Adam

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(12)


def relative(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


def built(layer: Layer, shape: tuple[int, ...], dtype=np.float64) -> Layer:
    """``layer`` built for ``shape`` (batch first), with random weights (bias too)."""
    layer.build(shape[1:], np.random.default_rng(0), dtype)
    for value in layer.params.values():
        value[...] = RNG.normal(scale=0.5, size=value.shape)
    return layer


# -- gradient checks ----------------------------------------------------------------
LAYER_CASES = [
    (SimpleRNN, {}),
    (LSTM, {}),
    (GRU, {}),
    (GRU, {"reset_after": False}),
]
OPTIONS = [
    {"return_sequences": False},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
]


@pytest.mark.parametrize(("cls", "kwargs"), LAYER_CASES)
@pytest.mark.parametrize("options", OPTIONS)
def test_gradcheck_every_layer_and_option(cls, kwargs, options):
    layer = built(cls(4, **kwargs, **options), (3, 5, 2))
    report = gradcheck(layer, RNG.normal(size=(3, 5, 2)))
    assert list(report.errors) == [*layer.params, "x"]
    assert report.passed, str(report)


MORE_CASES = [
    (SimpleRNN, {"activation": "relu", "use_bias": False}),
    (SimpleRNN, {"activation": "softplus", "return_sequences": True}),
    (LSTM, {"activation": "softplus", "recurrent_activation": "silu"}),
    (LSTM, {"activation": "linear", "recurrent_activation": "tanh", "use_bias": False}),
    (GRU, {"activation": "elu", "recurrent_activation": "softplus"}),
    (GRU, {"reset_after": False, "use_bias": False, "return_sequences": True}),
    (GRU, {"use_bias": False, "go_backwards": True}),
]


@pytest.mark.parametrize(("cls", "kwargs"), MORE_CASES)
def test_gradcheck_other_activations_and_no_bias(cls, kwargs):
    layer = built(cls(3, **kwargs), (2, 4, 3))
    report = gradcheck(layer, RNG.normal(size=(2, 4, 3)))
    assert report.passed, str(report)


@pytest.mark.parametrize(("cls", "kwargs"), LAYER_CASES)
@pytest.mark.parametrize(
    "rates", [(0.3, 0.0), (0.0, 0.4), (0.3, 0.4)], ids=["x", "h", "both"]
)
def test_gradcheck_with_dropout_masks_while_training(cls, kwargs, rates):
    dropout, recurrent_dropout = rates
    layer = cls(
        3,
        **kwargs,
        dropout=dropout,
        recurrent_dropout=recurrent_dropout,
        return_sequences=True,
        seed=5,
    )
    layer = built(layer, (4, 5, 3))
    report = gradcheck(layer, RNG.normal(size=(4, 5, 3)), training=True)
    assert report.passed, str(report)


@pytest.mark.parametrize(("cls", "kwargs"), LAYER_CASES)
def test_gradcheck_on_a_single_step(cls, kwargs):
    layer = built(cls(3, **kwargs), (2, 1, 2))
    report = gradcheck(layer, RNG.normal(size=(2, 1, 2)))
    assert report.passed, str(report)
    assert np.all(layer.grads["recurrent_kernel"] == 0)  # h_{-1} = 0: no product


# -- PyTorch autograd in float64 ----------------------------------------------------
def torch_twin(layer: Layer) -> torch.nn.Module:
    """The torch module computing ``layer``, with its weights (Keras -> torch order)."""
    d, units = layer.params["W"].shape[0], layer.units
    kernel, recurrent = layer.params["W"], layer.params["recurrent_kernel"]
    bias = layer.params["b"]
    if isinstance(layer, GRU):
        module = torch.nn.GRU(d, units, batch_first=True)
        # Keras' blocks z, r, h -> torch's r, z, n
        order = np.r_[units : 2 * units, 0:units, 2 * units : 3 * units]
        kernel, recurrent = kernel[:, order], recurrent[:, order]
        bias_ih, bias_hh = bias[0][order], bias[1][order]
    else:
        # LSTM: Keras' i, f, c, o are torch's i, f, g, o: the same order
        cls = torch.nn.LSTM if isinstance(layer, LSTM) else torch.nn.RNN
        module = cls(d, units, batch_first=True)
        bias_ih, bias_hh = bias, np.zeros_like(bias)
    module = module.double()
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor(kernel.T))
        module.weight_hh_l0.copy_(torch.tensor(recurrent.T))
        module.bias_ih_l0.copy_(torch.tensor(bias_ih))
        module.bias_hh_l0.copy_(torch.tensor(bias_hh))
    return module


def torch_results(layer: Layer, x: np.ndarray, dy: np.ndarray) -> dict:
    """torch's output and gradients of ``sum(y * dy)``, in Keras' layouts."""
    module = torch_twin(layer)
    x_t = torch.tensor(x, requires_grad=True)
    outputs, _ = module(x_t.flip(1) if layer.go_backwards else x_t)
    y = outputs if layer.return_sequences else outputs[:, -1]
    (y * torch.tensor(dy)).sum().backward()
    units = layer.units
    grads = {
        "W": module.weight_ih_l0.grad.numpy().T,
        "recurrent_kernel": module.weight_hh_l0.grad.numpy().T,
        "b": module.bias_ih_l0.grad.numpy(),
    }
    if isinstance(layer, GRU):  # torch's r, z, n -> Keras' z, r, h
        back = np.r_[units : 2 * units, 0:units, 2 * units : 3 * units]
        grads = {key: value[..., back] for key, value in grads.items()}
        grads["b"] = np.stack([grads["b"], module.bias_hh_l0.grad.numpy()[back]])
    return {"y": y.detach().numpy(), "x": x_t.grad.numpy(), **grads}


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("options", OPTIONS)
def test_matches_torch_autograd(cls, options):
    layer = built(cls(5, **options), (4, 6, 3))
    x = RNG.normal(size=(4, 6, 3))
    y = layer.forward(x, keep_cache=True)
    dy = RNG.normal(size=y.shape)
    found = {"y": y, "x": layer.backward(dy), **layer.grads}
    expected = torch_results(layer, x, dy)
    assert found.keys() == expected.keys()
    for key in expected:
        assert found[key].shape == expected[key].shape, key
        assert relative(found[key], expected[key]) < 1e-10, key


def test_lstm_forget_bias_starts_at_one_and_torch_sees_the_same_gates():
    layer = LSTM(3)
    layer.build((None, 2), np.random.default_rng(0), np.float64)
    np.testing.assert_array_equal(
        layer.params["b"], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    )
    assert not LSTM(3, unit_forget_bias=False).get_config()["unit_forget_bias"]
    x = RNG.normal(size=(2, 4, 2))
    expected = torch_results(layer, x, np.ones((2, 3)))["y"]
    assert relative(layer.forward(x), expected) < 1e-12


# -- what the layers keep, need and report ------------------------------------------
@pytest.mark.parametrize(("cls", "kwargs"), LAYER_CASES)
def test_inference_keeps_nothing_and_frozen_layers_fill_no_grads(cls, kwargs):
    layer = built(cls(3, **kwargs), (2, 4, 2))
    layer.forward(RNG.normal(size=(2, 4, 2)))
    with pytest.raises(MissingForwardError):
        layer.backward(np.ones((2, 3)))
    x = RNG.normal(size=(2, 4, 2))
    layer.forward(x, training=True)
    dx = layer.backward(np.ones((2, 3)))
    assert layer.backward(np.ones((2, 3)), input_grad=False) is None
    layer.trainable = False
    for grad in layer.grads.values():
        grad[...] = 7.0
    layer.forward(x, training=True)
    np.testing.assert_allclose(layer.backward(np.ones((2, 3))), dx)
    assert all(np.all(grad == 7.0) for grad in layer.grads.values())


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_unroll_computes_the_same_and_dropout_is_off_at_inference(cls):
    x = RNG.normal(size=(3, 5, 2)).astype(np.float32)
    plain = built(cls(4), (3, 5, 2), np.float32)
    others = [cls(4, unroll=True), cls(4, dropout=0.5, recurrent_dropout=0.5)]
    for other in others:
        other.build((5, 2), np.random.default_rng(1), np.float32)
        other.set_weights(plain.get_weights())
        np.testing.assert_array_equal(other.forward(x), plain.forward(x))
    dropping = others[1]
    assert not np.allclose(dropping.forward(x, training=True), plain.forward(x))


def test_dropout_masks_follow_keras():
    # One mask per sequence (the same at every step); with recurrent_dropout, one
    # per gate for x and for h, as Keras' implementation 1.
    x = np.ones((2, 6, 3))
    for cls, gates in ((SimpleRNN, 1), (LSTM, 4), (GRU, 3)):
        layer = built(cls(4, dropout=0.5, seed=1), (2, 6, 3))
        layer.forward(x, training=True)
        masks = layer.cached().masks
        assert masks.inputs.shape == (1, 3, 2) and masks.recurrent is None
        assert set(np.unique(masks.inputs)) <= {0.0, 2.0}
        layer = built(cls(4, dropout=0.5, recurrent_dropout=0.25, seed=1), (2, 6, 3))
        layer.forward(x, training=True)
        masks = layer.cached().masks
        assert masks.inputs.shape == (gates, 3, 2)
        assert masks.recurrent.shape == (gates, 4, 2)
        assert set(np.unique(masks.recurrent)) <= {0.0, 4.0 / 3.0}
    # the masks come from the seed: the same seed, the same training output
    a, b = (built(LSTM(4, dropout=0.5, seed=3), (2, 6, 3)) for _ in range(2))
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(
        a.forward(x, training=True), b.forward(x, training=True)
    )


def test_weights_paths_shapes_and_counts_follow_keras():
    shapes = {
        SimpleRNN(4): [(3, 4), (4, 4), (4,)],
        LSTM(4): [(3, 16), (4, 16), (16,)],
        GRU(4): [(3, 12), (4, 12), (2, 12)],
        GRU(4, reset_after=False): [(3, 12), (4, 12), (12,)],
        LSTM(4, use_bias=False): [(3, 16), (4, 16)],
    }
    for layer, expected in shapes.items():
        layer.build((None, 3), np.random.default_rng(0))
        keras_layer = getattr(keras.layers, type(layer).__name__)(
            **{k: v for k, v in layer.get_config().items() if k != "name"}
        )
        keras_layer.build((None, 7, 3))
        assert [w.shape for w in layer.weights] == expected
        assert [tuple(w.shape) for w in keras_layer.weights] == expected
        assert layer.count_params() == keras_layer.count_params()
        assert layer.param_count((None, 3)) == keras_layer.count_params()
    model = Sequential(
        [glassnet.Input((5, 3)), LSTM(2, name="lstm")], name="sequential"
    )
    assert [w.path for w in model.weights] == [
        "sequential/lstm/lstm_cell/kernel",
        "sequential/lstm/lstm_cell/recurrent_kernel",
        "sequential/lstm/lstm_cell/bias",
    ]
    assert [w.name for w in model.weights] == ["kernel", "recurrent_kernel", "bias"]
    gru = GRU(2, name="g")
    gru.build((4, 1), np.random.default_rng(0))
    assert gru.weights[0].path == "g/gru_cell/kernel"


def test_the_orthogonal_recurrent_kernel():
    layer = LSTM(8)
    layer.build((None, 3), np.random.default_rng(0), np.float64)
    kernel = layer.params["recurrent_kernel"]  # (8, 32): orthonormal rows
    np.testing.assert_allclose(kernel @ kernel.T, np.eye(8), atol=1e-12)
    assert layer.get_config()["recurrent_initializer"] == "orthogonal"


def test_regularizers_and_constraints_take_keras_names():
    layer = LSTM(
        2,
        kernel_regularizer="l2",
        recurrent_regularizer="l1",
        bias_constraint="non_neg",
        recurrent_constraint="max_norm",
    )
    layer.build((None, 3), np.random.default_rng(0))
    assert set(layer.weight_regularizers()) == {"W", "recurrent_kernel"}
    assert set(layer.weight_constraints()) == {"b", "recurrent_kernel"}
    config = layer.get_config()
    assert {"recurrent_regularizer", "recurrent_constraint"} <= set(config)
    assert "recurrent_kernel_regularizer" not in config
    again = LSTM.from_config(config)
    assert again.get_config() == config


def regularized(cls, L=glassnet.layers, dtype="float32"):
    """A stack whose recurrent layers carry every kind of regularizer."""
    options = {
        "kernel_regularizer": "l2",
        "recurrent_regularizer": "l1",
        "bias_regularizer": "l2",
        "activity_regularizer": "l2",
    }
    return [
        L.Input((5, 3), dtype=dtype),
        L.Bidirectional(getattr(L, cls)(3, return_sequences=True, **options)),
        getattr(L, cls)(2, **options),
        L.Dense(1),
    ]


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
def test_regularizers_reach_model_losses_as_keras(cls):
    ours = Sequential(regularized(cls), seed=0)
    weights = [RNG.normal(size=w.shape) for w in ours.get_weights()]
    ours.set_weights(weights)
    x = RNG.normal(size=(4, 5, 3)).astype("float32")
    y = ours(x)
    # closed form for the last recurrent layer: R(y) / n, 0.01 sum(W^2),
    # 0.01 sum |U|, 0.01 sum(b^2)
    layer = ours.layers[1]
    kernel, recurrent, bias = (layer.params[k] for k in ("W", "recurrent_kernel", "b"))
    hidden = layer.forward(ours.layers[0](x))
    expected = [
        0.01 * float((hidden.astype(float) ** 2).sum()) / 4,
        0.01 * float((kernel.astype(float) ** 2).sum()),
        0.01 * float(np.abs(recurrent.astype(float)).sum()),
        0.01 * float((bias.astype(float) ** 2).sum()),
    ]
    np.testing.assert_allclose(layer.losses, expected, rtol=1e-5)
    assert y.shape == (4, 1) and len(ours.losses) == 3 * 4  # 3 recurrent layers
    theirs = keras.Sequential(regularized(cls, keras.layers))
    theirs.set_weights(weights)
    theirs(x)
    found = sorted(ours.losses)
    if cls == "SimpleRNN":
        # Keras 3.15's SimpleRNN drops its activity_regularizer (it never hands it to
        # the base layer); glassnet applies it, as Keras documents: compare the rest
        recurrent = [*ours.layers[0].inner_layers(), ours.layers[1]]
        activity = [v for each in recurrent for v in each.losses[:1]]
        found = sorted(v for v in found if v not in activity)
    keras_losses = sorted(float(keras.ops.convert_to_numpy(v)) for v in theirs.losses)
    np.testing.assert_allclose(found, keras_losses, rtol=1e-5)


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
def test_regularizers_reach_the_gradient(cls):
    # One SGD step (lr 1) moves each weight by -(dL/dw + dR/dw): against central
    # differences of the data loss plus every penalty (model.losses).
    model = Sequential(regularized(cls, dtype="float64"), seed=0)
    model.compile(optimizer=glassnet.optimizers.SGD(learning_rate=1.0), loss="mse")
    x, y = RNG.normal(size=(4, 5, 3)), RNG.normal(size=(4, 1))
    before = model.get_weights()
    params = [w.value for w in model.weights]

    def total() -> float:
        out = model.forward(x, training=True)
        return float(((out - y) ** 2).mean()) + sum(model.losses)

    expected = []
    for param in params:
        grad = np.zeros_like(param)
        for i in np.ndindex(param.shape):
            saved = param[i]
            param[i] = saved + 1e-6
            up = total()
            param[i] = saved - 1e-6
            down = total()
            param[i] = saved
            grad[i] = (up - down) / 2e-6
        expected.append(grad)
    model.train_on_batch(x, y)
    for old, new, grad in zip(before, model.get_weights(), expected, strict=True):
        assert relative(old - new, grad) < 1e-6


def test_kept_activations_count_the_cached_arrays():
    cost = LSTM(4).kept_activations((10, 3))
    assert cost.count == 10 * (3 + 4 * 4 + 4 + 4 + 4)
    assert LSTM(4).kept_activations((None, 3)).count is None
    assert GRU(4).kept_activations((10, 3)).count == 10 * (3 + 12 + 4 + 4)
    assert SimpleRNN(4).kept_activations((10, 3)).count == 10 * (3 + 4)


# -- Keras 3 ---------------------------------------------------------------------------
KERAS_CASES = [
    (SimpleRNN, {}),
    (SimpleRNN, {"return_sequences": True, "go_backwards": True}),
    (SimpleRNN, {"activation": "relu", "use_bias": False}),
    (LSTM, {}),
    (LSTM, {"return_sequences": True}),
    (LSTM, {"go_backwards": True}),
    (LSTM, {"activation": "softplus", "recurrent_activation": "tanh"}),
    (GRU, {}),
    (GRU, {"return_sequences": True, "go_backwards": True}),
    (GRU, {"reset_after": False}),
    (GRU, {"reset_after": False, "return_sequences": True, "use_bias": False}),
]


def keras_twin(layer: Layer, shape: tuple[int, ...]):
    config = {k: v for k, v in layer.get_config().items() if k != "name"}
    twin = getattr(keras.layers, type(layer).__name__)(**config)
    twin.build(shape)
    twin.set_weights(layer.get_weights())
    return twin


@pytest.mark.parametrize(("cls", "kwargs"), KERAS_CASES)
def test_forward_matches_keras(cls, kwargs):
    ours = built(cls(5, **kwargs), (3, 7, 4), np.float32)
    theirs = keras_twin(ours, (3, 7, 4))
    x = RNG.normal(size=(3, 7, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(theirs(x))
    assert expected.shape == (3, *ours.output_shape((7, 4)))
    np.testing.assert_allclose(ours.forward(x), expected, rtol=1e-5, atol=1e-5)


#: Keras config keys glassnet cannot have: the dtype policy; ``trainable`` (written
#: only when False) and the regularizers and constraints (written only when set).
NOT_OURS = {
    "dtype",
    "trainable",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
}
INITIALIZERS = {"kernel_initializer", "recurrent_initializer", "bias_initializer"}


@pytest.mark.parametrize(("cls", "kwargs"), KERAS_CASES)
def test_configs_match_keras_and_round_trip(cls, kwargs):
    ours = cls(5, **kwargs, name="rnn").get_config()
    theirs = getattr(keras.layers, cls.__name__)(5, **kwargs, name="rnn").get_config()
    assert set(ours) == set(theirs) - NOT_OURS
    assert {k: v for k, v in ours.items() if k not in INITIALIZERS} == {
        k: theirs[k] for k in ours if k not in INITIALIZERS
    }
    for key in INITIALIZERS:  # Keras writes the full dict, glassnet the short name
        assert ours[key] == snake_case(theirs[key]["class_name"])
    again = registry.get({"class_name": cls.__name__, "config": ours}, base=Layer)
    assert type(again) is cls and again.get_config() == ours


def test_a_stack_matches_keras_with_the_same_weights():
    def stack(lib):
        layers = lib.layers
        return lib.Sequential(
            [
                lib.Input((9,), dtype="int32"),
                layers.Embedding(12, 4, name="embedding"),
                layers.SimpleRNN(5, return_sequences=True, name="simple_rnn"),
                layers.LSTM(6, return_sequences=True, go_backwards=True, name="lstm"),
                layers.GRU(3, name="gru"),
                layers.Dense(2, name="dense"),
            ],
            name="stack",
        )

    ours, theirs = stack(glassnet), stack(keras)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    weights = [
        RNG.normal(scale=0.5, size=w.shape).astype("float32") for w in ours.weights
    ]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    ids = RNG.integers(0, 12, size=(8, 9)).astype("int32")
    expected = keras.ops.convert_to_numpy(theirs(ids))
    np.testing.assert_allclose(ours(ids), expected, rtol=1e-5, atol=1e-5)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]


# -- models ---------------------------------------------------------------------------
def test_a_model_built_for_any_length_takes_any_length():
    model = Sequential([glassnet.Input((None, 8)), LSTM(4, return_sequences=True)])
    assert model.compute_output_shape((None, 8)) == (None, 4)  # per sample
    for steps in (1, 3, 11):
        assert model(RNG.normal(size=(2, steps, 8))).shape == (2, steps, 4)
    inputs = glassnet.Input((None, 8))
    functional = Model(
        inputs, Dense(1)(GRU(3)(SimpleRNN(2, return_sequences=True)(inputs)))
    )
    for steps in (2, 7):
        assert functional(RNG.normal(size=(5, steps, 8))).shape == (5, 1)
    layer = LSTM(3)  # built on a first call of 4 steps, then given 9
    assert layer(np.zeros((1, 4, 2))).shape == (1, 3)
    assert layer(np.zeros((2, 9, 2))).shape == (2, 3)


def sign_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of 8 steps of 2 features; label 1 where the sum over time of the
    first feature minus the second is positive."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8, 2)).astype("float32")
    return x, (x[:, :, 0].sum(1) > x[:, :, 1].sum(1)).astype("float32")[:, None]


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_a_sequential_recurrent_classifier_trains(cls):
    x, y = sign_data(256)
    model = Sequential(
        [glassnet.Input((None, 2)), cls(8), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile(
        optimizer=Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["accuracy"][-1] > 0.9


def test_a_functional_sequence_regression_trains():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(256, 10, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] / 5  # the sum of the sequence
    inputs = glassnet.Input((None, 3))
    hidden = GRU(8, return_sequences=True)(inputs)
    hidden = LSTM(8, go_backwards=True)(hidden)
    model = Model(inputs, Dense(1)(hidden))
    model.compile(optimizer=Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.3 * losses[0]


def test_a_whole_model_gradcheck_through_a_stack():
    model = Sequential(
        [
            glassnet.Input((5,), dtype="int32"),
            Embedding(7, 3),
            SimpleRNN(3, return_sequences=True),
            LSTM(3, return_sequences=True, go_backwards=True),
            GRU(2),
            Dense(1),
        ],
        seed=0,
    )
    model.compile(optimizer="sgd", loss="mse")
    ids = RNG.integers(1, 7, size=(4, 5))
    report = gradcheck(model, ids, RNG.normal(size=(4, 1)))
    assert report.passed, str(report)
    assert len(report.errors) == 1 + 3 + 3 + 3 + 2


# -- bad arguments and inputs -----------------------------------------------------------
BAD_ARGUMENTS = [
    (lambda: LSTM(4, stateful=True), InvalidArgumentError, "stateful=True.*whole"),
    (lambda: LSTM(4, use_cudnn=True), InvalidArgumentError, "use_cudnn"),
    (lambda: SimpleRNN(0), InvalidArgumentError, "units"),
    (lambda: SimpleRNN(2.5), GlassnetTypeError, "units"),
    (lambda: LSTM(4, dropout=1.0), InvalidArgumentError, "dropout"),
    (lambda: GRU(4, recurrent_dropout=-0.1), InvalidArgumentError, "recurrent_dropout"),
    (lambda: GRU(4, reset_after="yes"), GlassnetTypeError, "reset_after"),
    (lambda: LSTM(4, go_backwards=1), GlassnetTypeError, "go_backwards"),
    (lambda: LSTM(4, recurrent_activation="sigmoyd"), ValueError, "sigmoid"),
    (lambda: LSTM(4, recurrent_regularizer="l3"), ValueError, "recurrent_regularizer"),
]


@pytest.mark.parametrize(("make", "error", "match"), BAD_ARGUMENTS)
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_input_shapes_raise_shape_errors():
    with pytest.raises(ShapeError, match=r"\(batch, time, features\)"):
        LSTM(3).output_shape((5,))
    with pytest.raises(ShapeError, match="features known"):
        GRU(3).weight_shapes((5, None))
    with pytest.raises(ShapeError, match="features"):
        Sequential([glassnet.Input((4,)), LSTM(3)])
    layer = built(SimpleRNN(3), (2, 4, 2))
    with pytest.raises(ShapeError, match=r"\(2, 4\)"):
        layer.forward(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match="time >= 1"):
        layer.forward(np.zeros((2, 0, 2)))
    with pytest.raises(ShapeError, match="shape"):
        layer(np.zeros((2, 4, 5)))


def test_flops_count_both_products_and_the_gates():
    # LSTM(4) on 3 features, per step: x W 2 x 3 x 16, h U 2 x 4 x 16, their sum
    # 16, the bias 16, sigmoid on i, f, o (3 x 4 x 4), tanh on g and c (2 x 4),
    # f * c + i * g and o * a(c) (4 x 4)
    assert LSTM(4).flops((10, 3)).count == 10 * (96 + 128 + 16 + 16 + 48 + 8 + 16)
    assert GRU(4).flops((10, 3)).count == 10 * (72 + 96 + 12 + 24 + 32 + 4 + 16)
    assert SimpleRNN(4, use_bias=False).flops((2, 3)).count == 2 * (24 + 32 + 4 + 4)
    assert LSTM(4).flops((None, 3)).count is None
    assert LSTM(4, activation=Cube()).flops((3, 3)).count is None


class Cube(ActivationFunction):
    """A custom activation: glassnet does not know its cost."""

    name = "cube"

    def forward(self, x):
        return x**3

    def backward(self, x, y, grad_y):
        return 3 * x * x * grad_y


# -- Bidirectional and TimeDistributed -------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gradcheck_and_keras(merge_mode, return_sequences):
    layer = Bidirectional(
        GRU(3, return_sequences=return_sequences, name="gru"),
        merge_mode=merge_mode,
        name="bi",
    )
    layer = built(layer, (3, 5, 4))
    x = RNG.normal(size=(3, 5, 4))
    report = gradcheck(layer, x)
    assert report.passed, str(report)
    assert list(report.errors) == [*layer.params, "x"]
    theirs = keras.layers.Bidirectional(
        keras.layers.GRU(3, return_sequences=return_sequences, name="gru"),
        merge_mode=merge_mode,
        name="bi",
    )
    theirs.build((None, 5, 4))
    theirs.set_weights([w.astype("float32") for w in layer.get_weights()])
    expected = keras.ops.convert_to_numpy(theirs(x.astype("float32")))
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-5, atol=1e-5)
    assert [w.path for w in layer.weights] == [w.path for w in theirs.weights]


def test_bidirectional_matches_torch_bidirectional_lstm():
    layer = built(Bidirectional(LSTM(4, return_sequences=True)), (3, 6, 2))
    x = RNG.normal(size=(3, 6, 2))
    y = layer.forward(x, keep_cache=True)
    dy = RNG.normal(size=y.shape)
    dx = layer.backward(dy)
    module = torch.nn.LSTM(2, 4, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for suffix, inner in (
            ("", layer.forward_layer),
            ("_reverse", layer.backward_layer),
        ):
            getattr(module, f"weight_ih_l0{suffix}").copy_(
                torch.tensor(inner.params["W"].T)
            )
            getattr(module, f"weight_hh_l0{suffix}").copy_(
                torch.tensor(inner.params["recurrent_kernel"].T)
            )
            getattr(module, f"bias_ih_l0{suffix}").copy_(
                torch.tensor(inner.params["b"])
            )
            getattr(module, f"bias_hh_l0{suffix}").zero_()
    x_t = torch.tensor(x, requires_grad=True)
    out, _ = module(x_t)
    (out * torch.tensor(dy)).sum().backward()
    assert relative(y, out.detach().numpy()) < 1e-10
    assert relative(dx, x_t.grad.numpy()) < 1e-10
    expected = {
        "forward.W": module.weight_ih_l0.grad.numpy().T,
        "backward.recurrent_kernel": module.weight_hh_l0_reverse.grad.numpy().T,
        "backward.b": module.bias_ih_l0_reverse.grad.numpy(),
    }
    for key, value in expected.items():
        assert relative(layer.grads[key], value) < 1e-10, key


def test_time_distributed_gradcheck_and_keras():
    dense = built(TimeDistributed(Dense(3, activation="tanh")), (2, 5, 4))
    report = gradcheck(dense, RNG.normal(size=(2, 5, 4)))
    assert report.passed, str(report)
    conv = built(TimeDistributed(Conv1D(2, 3, padding="same")), (2, 4, 6, 3))
    report = gradcheck(conv, RNG.normal(size=(2, 4, 6, 3)))
    assert report.passed, str(report)
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="tanh"))
    theirs.build((None, 5, 4))
    theirs.set_weights([w.astype("float32") for w in dense.get_weights()])
    x = RNG.normal(size=(2, 5, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(dense.forward(x), expected, rtol=1e-5, atol=1e-6)
    assert dense.output_shape((None, 4)) == (None, 3)


def test_wrapper_configs_match_keras_and_round_trip():
    for ours, theirs in (
        (
            Bidirectional(LSTM(3, return_sequences=True), name="bi"),
            keras.layers.Bidirectional(
                keras.layers.LSTM(3, return_sequences=True), name="bi"
            ),
        ),
        (
            TimeDistributed(Dense(2), name="td"),
            keras.layers.TimeDistributed(keras.layers.Dense(2), name="td"),
        ),
    ):
        config = ours.get_config()
        assert set(config) == set(theirs.get_config()) - {"dtype", "trainable"}
        again = registry.get(
            {"class_name": type(ours).__name__, "config": config}, base=Layer
        )
        assert again.get_config() == config
    config = Bidirectional(LSTM(3, name="lstm")).get_config()
    assert config["layer"]["config"]["name"] == "forward_lstm"
    assert config["backward_layer"]["config"]["go_backwards"] is True
    assert config["layer"]["config"]["zero_output_for_mask"] is False  # as Keras


def test_a_model_with_wrappers_trains_and_orders_weights_as_keras():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(128, 6, 2)).astype("float32")
    y = np.cumsum(x[:, :, :1], axis=1) - np.cumsum(x[:, ::-1, 1:], axis=1)[:, ::-1]
    model = Sequential(
        [
            glassnet.Input((None, 2)),
            Bidirectional(GRU(6, return_sequences=True)),
            TimeDistributed(Dense(1)),
        ],
        seed=0,
    )
    model.compile(optimizer=Adam(0.02), loss="mse")
    losses = model.fit(x, y, epochs=20, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.3 * losses[0]
    keras_model = keras.Sequential(
        [
            keras.Input((6, 2)),
            keras.layers.Bidirectional(keras.layers.GRU(6, return_sequences=True)),
            keras.layers.TimeDistributed(keras.layers.Dense(1)),
        ]
    )
    keras_model.set_weights(model.get_weights())
    expected = keras.ops.convert_to_numpy(keras_model(x[:8]))
    np.testing.assert_allclose(model.predict(x[:8], verbose=0), expected, atol=1e-5)
    report = gradcheck(model, x[:3], y[:3])
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Bidirectional(LSTM(2), merge_mode=None), InvalidArgumentError, "None"),
        (
            lambda: Bidirectional(LSTM(2), merge_mode="max"),
            InvalidArgumentError,
            "merge",
        ),
        (lambda: Bidirectional(Dense(2)), GlassnetTypeError, "LSTM or GRU"),
        (
            lambda: Bidirectional(LSTM(2), backward_layer=LSTM(2)),
            InvalidArgumentError,
            "opposite directions",
        ),
        (
            lambda: Bidirectional(
                LSTM(2),
                backward_layer=LSTM(2, go_backwards=True, return_sequences=True),
            ),
            InvalidArgumentError,
            "return_sequences",
        ),
        (lambda: TimeDistributed("dense"), GlassnetTypeError, "layer"),
        (lambda: TimeDistributed(Dense(2)).output_shape((4,)), ShapeError, "time axis"),
    ],
)
def test_bad_wrapper_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()
