"""Every registered activation, loss and layer passes the float64 gradient check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import activations, gradcheck, losses
from glassnet.activations import ActivationFunction
from glassnet.layers import (
    ELU,
    GRU,
    LSTM,
    Activation,
    Add,
    Average,
    AveragePooling1D,
    AveragePooling2D,
    BatchNormalization,
    Bidirectional,
    Concatenate,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    Layer,
    LayerNormalization,
    LeakyReLU,
    Masking,
    Maximum,
    MaxPooling1D,
    MaxPooling2D,
    Minimum,
    Multiply,
    Permute,
    PReLU,
    ReLU,
    RepeatVector,
    Reshape,
    SimpleRNN,
    Softmax,
    SpatialDropout1D,
    SpatialDropout2D,
    Subtract,
    TimeDistributed,
    ZeroPadding1D,
    ZeroPadding2D,
)
from glassnet.layers import registry as layer_registry
from glassnet.models import Sequential

RNG = np.random.default_rng(1234)


def away_from_kinks(shape: tuple[int, ...]) -> np.ndarray:
    """Random inputs kept 0.1 away from 0, where relu/step/leaky_relu have kinks."""
    x = RNG.normal(size=shape)
    return np.where(np.abs(x) < 0.1, x + np.sign(x + 1e-12) * 0.2, x)


@pytest.mark.parametrize("name", activations.registry.primary_names())
def test_every_activation(name: str) -> None:
    report = gradcheck(activations.get(name), away_from_kinks((4, 5)))
    assert report.passed, str(report)


def loss_case(name: str, from_logits: bool) -> tuple[np.ndarray, np.ndarray]:
    n, k = 4, 3
    if name == "sparse_categorical_crossentropy":
        y_true = RNG.integers(0, k, n).astype(float)
    elif name == "categorical_crossentropy":
        y_true = np.eye(k)[RNG.integers(0, k, n)]
    else:
        y_true = RNG.uniform(0.1, 0.9, (n, k)).round()
    if from_logits:
        return RNG.normal(size=(n, k)), y_true
    p = RNG.uniform(0.1, 0.9, (n, k))
    if "categorical" in name:
        p = p / p.sum(axis=1, keepdims=True)
    return p, y_true


@pytest.mark.parametrize("name", losses.registry.primary_names())
@pytest.mark.parametrize("from_logits", [False, True])
def test_every_loss(name: str, from_logits: bool) -> None:
    loss = losses.get(name)
    if from_logits:
        if not hasattr(loss, "from_logits"):
            pytest.skip(f"{name} takes no logits")
        loss = type(loss).from_config({**loss.get_config(), "from_logits": True})
    y_pred, y_true = loss_case(name, from_logits)
    report = gradcheck(loss, y_pred, y_true)
    assert report.passed, str(report)


LAYERS: dict[str, Layer] = {
    "dense": Dense(3, activation="tanh"),
    "activation": Activation("softmax"),
    "dropout": Dropout(0.3),
    "batch_normalization": BatchNormalization(),
    "layer_normalization": LayerNormalization(),
    "flatten": Flatten(),
    "reshape": Reshape((2, 2)),
    "permute": Permute((1,)),
    "repeat_vector": RepeatVector(3),
    "gaussian_noise": GaussianNoise(0.3),
    "re_lu": ReLU(max_value=1.5, threshold=0.05),
    "leaky_re_lu": LeakyReLU(),
    "p_re_lu": PReLU(alpha_initializer="glorot_uniform"),
    "softmax": Softmax(),
    "elu": ELU(),
}

#: layers that take a list of tensors, checked on two (5, 4) inputs
MERGE_LAYERS: dict[str, Layer] = {
    "add": Add(),
    "subtract": Subtract(),
    "multiply": Multiply(),
    "average": Average(),
    "maximum": Maximum(),
    "minimum": Minimum(),
    "concatenate": Concatenate(),
}

#: layers that take images or sequences, with the input shape (batch first) each is
#: checked on
SHAPED_LAYERS: dict[str, tuple[Layer, tuple[int, ...]]] = {
    "conv1d": (Conv1D(2, 3, padding="causal", activation="tanh"), (3, 6, 2)),
    "conv2d": (Conv2D(2, (2, 3), strides=2, padding="same", activation="tanh"), (2, 5, 6, 2)),
    "max_pooling1d": (MaxPooling1D(3, 2, "same"), (3, 6, 2)),
    "max_pooling2d": (MaxPooling2D(), (3, 4, 4, 2)),
    "average_pooling1d": (AveragePooling1D(2), (3, 6, 2)),
    "average_pooling2d": (AveragePooling2D(3, 2, "same"), (3, 5, 5, 2)),
    "global_average_pooling1d": (GlobalAveragePooling1D(), (3, 4, 2)),
    "global_average_pooling2d": (GlobalAveragePooling2D(), (3, 3, 3, 2)),
    "global_max_pooling1d": (GlobalMaxPooling1D(), (3, 4, 2)),
    "global_max_pooling2d": (GlobalMaxPooling2D(), (3, 3, 3, 2)),
    "zero_padding1d": (ZeroPadding1D((1, 2)), (3, 4, 2)),
    "zero_padding2d": (ZeroPadding2D(((1, 0), (2, 1))), (3, 3, 3, 2)),
    "spatial_dropout1d": (SpatialDropout1D(0.3), (3, 4, 5)),
    "spatial_dropout2d": (SpatialDropout2D(0.3), (3, 3, 3, 5)),
    "simple_rnn": (SimpleRNN(3, go_backwards=True), (2, 4, 3)),
    "lstm": (LSTM(3, return_sequences=True), (2, 4, 3)),
    "gru": (GRU(3, reset_after=False), (2, 4, 3)),
    "bidirectional": (Bidirectional(LSTM(2), merge_mode="mul"), (2, 4, 3)),
    "time_distributed": (TimeDistributed(Dense(2, activation="tanh")), (2, 4, 3)),
    # no step is all 0.0 here (a padded step's inputs get no gradient)
    "masking": (Masking(0.0), (2, 4, 3)),
    # x is 0.0 here, a valid id (the other entries would not be whole numbers);
    # test_layers_embedding.py checks real id batches
    "embedding": (Embedding(4, 3), (1, 1)),
}


def test_the_layer_cases_cover_the_registry() -> None:
    # InputLayer passes data through and is made by Input(), not by gradcheck cases
    registered = set(layer_registry.primary_names())
    cases = set(LAYERS) | set(MERGE_LAYERS) | set(SHAPED_LAYERS)
    assert cases | {"input_layer"} == registered


@pytest.mark.parametrize("name", sorted(SHAPED_LAYERS))
@pytest.mark.parametrize("training", [False, True])
def test_every_shaped_layer(name: str, training: bool) -> None:
    layer, shape = SHAPED_LAYERS[name]
    x = RNG.permutation(math.prod(shape)).reshape(shape) * 0.01  # no ties for max
    report = gradcheck(layer, x, training=training)
    assert report.passed, str(report)


@pytest.mark.parametrize("name", sorted(MERGE_LAYERS))
@pytest.mark.parametrize("training", [False, True])
def test_every_merge_layer(name: str, training: bool) -> None:
    xs = [away_from_kinks((5, 4)), away_from_kinks((5, 4)) + 0.5]  # no ties
    report = gradcheck(MERGE_LAYERS[name], xs, training=training)
    assert report.passed, str(report)


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("training", [False, True])
def test_every_layer(name: str, training: bool) -> None:
    report = gradcheck(LAYERS[name], away_from_kinks((5, 4)), training=training)
    assert report.passed, str(report)


def test_dense_without_bias_and_with_every_activation() -> None:
    for activation in activations.registry.primary_names():
        layer = Dense(2, activation=activation, use_bias=False)
        report = gradcheck(layer, away_from_kinks((3, 4)))
        assert report.passed, (activation, str(report))
        assert set(report.errors) == {"W", "x"}


@pytest.mark.parametrize(
    ("output", "loss", "y"),
    [
        ("sigmoid", "binary_crossentropy", np.array([[0.0], [1.0], [1.0]])),
        ("linear", "mse", np.array([[0.5], [-1.0], [2.0]])),
        ("linear", "mae", np.array([[0.5], [-1.0], [2.0]])),
        ("softmax", "sparse_categorical_crossentropy", np.array([0, 1, 1])),
    ],
)
def test_whole_models_every_tensor(output: str, loss: str, y: np.ndarray) -> None:
    units = 2 if loss.startswith("sparse") else 1
    model = Sequential(
        [
            Dense(4, activation="tanh", input_dim=3),
            Dropout(0.25),
            Dense(units, activation=output),
        ],
        seed=0,
    )
    model.compile(loss=loss, optimizer="sgd")
    for training in (False, True):
        report = gradcheck(model, RNG.normal(size=(3, 3)), y, training=training)
        assert report.passed, str(report)
        assert set(report.errors) == {"dense.W", "dense.b", "dense_1.W", "dense_1.b"}


def test_a_wrong_backward_is_caught() -> None:
    class WrongSigmoid(ActivationFunction):
        name = "wrong_sigmoid"

        def forward(self, x):
            return 1 / (1 + np.exp(-x))

        def backward(self, x, y, grad_y):
            return grad_y * y * (y - 1)  # seeds/004's sign bug

    report = gradcheck(WrongSigmoid(), RNG.normal(size=(3, 3)))
    assert not report.passed
    assert report.max_error > 0.5
    assert "FAILED" in str(report)


def test_a_sign_error_in_one_layer_is_pinned_to_that_tensor() -> None:
    # The check drives Layer.backward (a linear Dense's; the fused logits path is
    # only taken under a loss), so that is where the bug goes.
    class FlippedDense(Dense):
        def backward(self, grad_output, *, input_grad=True):
            grad_x = super().backward(grad_output, input_grad=input_grad)
            self.grads["W"] = -self.grads["W"]
            return grad_x

    report = gradcheck(FlippedDense(2), RNG.normal(size=(3, 2)))
    assert not report.passed and report.errors["W"] > 0.5
    assert report.worst == "W" and report.errors["b"] < 1e-7
