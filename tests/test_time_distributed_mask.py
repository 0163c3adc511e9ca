"""TimeDistributed hands a padding mask to an inner layer that takes one.

glassnet folds the steps into the batch, ``(batch, time, ...) -> (batch x time,
...)``, and folds the mask the same way, so ``TimeDistributed(BatchNormalization)``
takes its training statistics over the real (sample, step) rows only: what Keras'
BatchNormalization computes on the masked sequence itself. Checked here against a
float64 torch formula (forward, moving statistics, dL/dx by autograd), against
Keras 3's BatchNormalization (torch backend) over several training steps and in a
fitted model, against Keras 3's TimeDistributed in inference and for the output
mask, and with the float64 finite-difference gradient check. Inputs hold a
sample whose every step is padding. Without a mask, or around a layer that takes
none, the results are those of the inner layer on the folded input, as before.
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
from glassnet.errors import ShapeError
from glassnet.layers import (
    LSTM,
    BatchNormalization,
    Dense,
    Input,
    Masking,
    TimeDistributed,
)
from glassnet.models import Sequential

RNG = np.random.default_rng(11)
MASK = np.ones((5, 6), bool)
MASK[0, 2:] = False
MASK[1, 4:] = False
MASK[2, :] = False  # a whole sample of padding
MASK[4, 1:] = False


def padded_batch(seed: int = 0) -> np.ndarray:
    """A (5, 6, 3) batch whose padded steps lie far from the real ones."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, 6, 3)) * 2 + 1
    x[~MASK] = rng.normal(size=(int((~MASK).sum()), 3)) * 40 - 25
    return x


def wrapped_batch_norm(dtype=np.float64, **options) -> TimeDistributed:
    layer = TimeDistributed(BatchNormalization(momentum=0.7, **options))
    layer.build((6, 3), np.random.default_rng(0), dtype)
    weights = [RNG.normal(size=w.shape) for w in layer.get_weights()]
    weights[-1] = np.abs(weights[-1]) + 0.5  # a variance
    layer.set_weights(weights)
    return layer


def torch_masked_statistics_reference(x, mask, gamma, beta, epsilon):
    """Keras 3's masked moments over the real rows (``W = sum(m) + 1e-7``), and the
    normalization of every row with them, in float64 torch."""
    weights = mask[..., None].to(x.dtype)
    total = weights.sum(dim=(0, 1)) + 1e-7
    mean = (weights * x).sum(dim=(0, 1)) / total
    variance = (weights * (x - mean) ** 2).sum(dim=(0, 1)) / total
    return gamma * (x - mean) / torch.sqrt(variance + epsilon) + beta, mean, variance


@pytest.mark.parametrize("frozen", [False, True], ids=["trainable", "frozen"])
def test_masked_statistics_match_a_float64_torch_reference(frozen):
    layer = wrapped_batch_norm()
    layer.trainable = not frozen  # frozen: Keras runs it in inference mode
    x, r = padded_batch(1), RNG.normal(size=(5, 6, 3))
    gamma, beta, moving_mean, moving_variance = [w.copy() for w in layer.get_weights()]
    y = layer.forward(x, training=True, mask=MASK)
    grad_x = layer.backward(r)

    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    bt = torch.tensor(beta, requires_grad=True)
    if frozen:
        mean, variance = torch.tensor(moving_mean), torch.tensor(moving_variance)
        yt = gt * (xt - mean) / torch.sqrt(variance + 1e-3) + bt
    else:
        yt, mean, variance = torch_masked_statistics_reference(
            xt, torch.tensor(MASK), gt, bt, 1e-3
        )
    (yt * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    if not frozen:
        np.testing.assert_allclose(layer.grads["gamma"], gt.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(layer.grads["beta"], bt.grad.numpy(), rtol=1e-10)
    expected_mean = moving_mean
    expected_variance = moving_variance
    if not frozen:
        expected_mean = moving_mean * 0.7 + mean.detach().numpy() * 0.3
        expected_variance = moving_variance * 0.7 + variance.detach().numpy() * 0.3
    _, _, new_mean, new_variance = layer.get_weights()
    np.testing.assert_allclose(new_mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(new_variance, expected_variance, rtol=1e-12)
    # the padding (40 times wider, centred at -25) is in none of the statistics
    real = x[MASK]
    unmasked = x.reshape(-1, 3)
    if not frozen:
        np.testing.assert_allclose(mean.detach().numpy(), real.mean(0), rtol=1e-6)
        assert not np.allclose(real.mean(0), unmasked.mean(0), atol=1.0)


def keras_pair(training_steps: int):
    """Ours, TimeDistributed(BatchNormalization), and Keras' BatchNormalization on
    the sequence, with the same weights: the statistics over the real rows."""
    ours = wrapped_batch_norm(np.float32)
    theirs = keras.layers.BatchNormalization(momentum=0.7)
    theirs.build((None, 6, 3))
    theirs.set_weights(ours.get_weights())
    for step in range(training_steps):
        x = padded_batch(10 + step).astype(np.float32)
        ours.forward(x, training=True, mask=MASK)
        theirs(torch.tensor(x), training=True, mask=torch.tensor(MASK))
    return ours, theirs


def test_moving_statistics_after_training_steps_match_keras():
    ours, theirs = keras_pair(training_steps=4)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the moving statistics came from the real rows alone: with the padding they
    # would be far off (the padding is centred at -25)
    assert np.all(ours.get_weights()[2] > -5)


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_outputs_and_gradients_match_keras(training):
    ours, theirs = keras_pair(training_steps=2)
    x, r = padded_batch(3).astype(np.float32), RNG.normal(size=(5, 6, 3))
    y = ours.forward(x, training=training, keep_cache=True, mask=MASK)
    grad_x = ours.backward(r.astype(np.float32))
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt, training=training, mask=torch.tensor(MASK))
    (yt * torch.tensor(r, dtype=torch.float32)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=2e-4, atol=2e-5)
    keras_grads = {
        v.path.split("/")[-1]: v.value.grad for v in theirs.trainable_variables
    }
    for key in ("gamma", "beta"):
        np.testing.assert_allclose(
            ours.grads[key], keras_grads[key].numpy(), rtol=2e-4, atol=2e-4
        )
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_inference_matches_keras_time_distributed():
    ours = wrapped_batch_norm(np.float32)
    theirs = keras.layers.TimeDistributed(keras.layers.BatchNormalization(momentum=0.7))
    theirs.build((None, 6, 3))
    theirs.set_weights(ours.get_weights())
    x = padded_batch(4).astype(np.float32)
    y = ours.forward(x, mask=MASK)
    yt = theirs(torch.tensor(x), training=False, mask=torch.tensor(MASK))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    # inference ignores the mask, as Keras' does
    np.testing.assert_array_equal(y, ours.forward(x))


@pytest.mark.parametrize("inner", ["batch_norm", "dense"])
def test_the_output_mask_is_the_input_mask_as_in_keras(inner):
    x = padded_batch(5).astype(np.float32) * MASK[..., None]
    masked = keras.layers.Masking(0.0)(torch.tensor(x))
    make = {
        "batch_norm": lambda L: L.BatchNormalization(),
        "dense": lambda L: L.Dense(2),
    }
    keras_mask = keras.layers.TimeDistributed(make[inner](keras.layers))(masked)
    keras_mask = keras_mask._keras_mask.numpy()
    glassnet.utils.set_random_seed(0)
    model = Sequential(
        [Input((6, 3)), Masking(0.0), TimeDistributed(make[inner](glassnet.layers))]
    )
    model.predict(x, verbose=0)
    [ours_mask] = model.graph.output_masks
    np.testing.assert_array_equal(ours_mask, keras_mask)
    np.testing.assert_array_equal(ours_mask, MASK)


def test_a_masked_model_passes_the_gradient_check():
    glassnet.utils.set_random_seed(3)
    model = Sequential(
        [
            Input((6, 3)),
            Masking(0.0),
            TimeDistributed(BatchNormalization()),
            LSTM(4, return_sequences=True),
            TimeDistributed(Dense(2)),
        ],
        dtype="float64",
    )
    model.compile(optimizer="sgd", loss="mse")
    x = padded_batch(6) * MASK[..., None]
    report = gradcheck(
        model, x, RNG.normal(size=(5, 6, 2)), training=True, epsilon=1e-5
    )
    assert report.passed, str(report)


def test_the_masked_layer_passes_the_gradient_check_in_x():
    # dL/dx and the weights' gradients of sum(TimeDistributed(BN)(x, mask) * r),
    # by central differences (the mask held fixed, as it is given)
    layer = wrapped_batch_norm()
    x, r = padded_batch(7), RNG.normal(size=(5, 6, 3))

    def loss(values: np.ndarray) -> float:
        return float(np.sum(layer.forward(values, training=True, mask=MASK) * r))

    layer.forward(x, training=True, mask=MASK)
    grad_x = layer.backward(r)
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = 1e-6
        numeric[index] = (loss(x + step) - loss(x - step)) / 2e-6
    np.testing.assert_allclose(grad_x, numeric, rtol=1e-6, atol=1e-7)


def test_a_masked_model_with_time_distributed_batch_norm_trains_as_keras():
    # Keras' BatchNormalization on the sequence takes the statistics that glassnet's
    # TimeDistributed(BatchNormalization) does (over the real (sample, step) rows)
    def make(L, wrap):
        norm = L.BatchNormalization(momentum=0.8)
        return [
            L.Input((7,), dtype="int32"),
            L.Embedding(6, 4, mask_zero=True),
            L.TimeDistributed(norm) if wrap else norm,
            L.LSTM(5),
            L.Dense(2, activation="softmax"),
        ]

    ours = Sequential(make(glassnet.layers, wrap=True), seed=4)
    theirs = keras.Sequential(make(keras.layers, wrap=False))
    theirs.set_weights(ours.get_weights())
    lengths = RNG.integers(1, 8, size=24)
    lengths[[3, 17]] = 0  # samples of padding alone
    ids = RNG.integers(1, 6, size=(24, 7)) * (np.arange(7) < lengths[:, None])
    labels = RNG.integers(0, 2, size=24)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = ours.fit(ids, labels, epochs=2, batch_size=6, shuffle=False, verbose=0)
    keras_history = theirs.fit(
        ids, labels, epochs=2, batch_size=6, shuffle=False, verbose=0
    )
    np.testing.assert_allclose(
        history.history["loss"], keras_history.history["loss"], atol=1e-5
    )
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)  # moving statistics included
    np.testing.assert_allclose(
        ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0), atol=1e-5
    )


def test_without_a_mask_the_results_are_the_folded_inner_layers():
    # what TimeDistributed computed before masks reached the inner layer: the
    # inner layer, unmasked, on (batch x time, features)
    wrapped = wrapped_batch_norm()
    plain = BatchNormalization(momentum=0.7)
    plain.build((3,), np.random.default_rng(0), np.float64)
    plain.set_weights(wrapped.get_weights())
    x, r = padded_batch(8), RNG.normal(size=(5, 6, 3))
    for training in (True, False):
        y = wrapped.forward(x, training=training, keep_cache=True)
        grad_x = wrapped.backward(r)
        y_plain = plain.forward(x.reshape(30, 3), training=training, keep_cache=True)
        grad_plain = plain.backward(r.reshape(30, 3))
        np.testing.assert_array_equal(y, y_plain.reshape(5, 6, 3))
        np.testing.assert_array_equal(grad_x, grad_plain.reshape(5, 6, 3))
        for key in ("gamma", "beta"):
            np.testing.assert_array_equal(wrapped.grads[key], plain.grads[key])
        for a, b in zip(wrapped.get_weights(), plain.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_an_inner_layer_without_masks_never_sees_one():
    layer = TimeDistributed(Dense(2, activation="tanh"))
    layer.build((6, 3), np.random.default_rng(0), np.float64)
    assert not layer.takes_mask
    assert TimeDistributed(BatchNormalization()).takes_mask
    x = padded_batch(9)
    np.testing.assert_array_equal(layer(x, mask=MASK), layer(x))
    np.testing.assert_array_equal(layer.compute_mask(x, MASK), MASK)


def test_a_mask_of_the_wrong_shape_is_refused_and_changes_nothing():
    layer = wrapped_batch_norm()
    x = padded_batch(2)
    before = [w.copy() for w in layer.get_weights()]
    for bad in (np.ones((5,), bool), np.ones((5, 5), bool), np.ones((6, 6), bool)):
        with pytest.raises(ShapeError, match=r"first two axes.*mask.shape=\("):
            layer.forward(x, training=True, mask=bad)
    for a, b in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # on arrays, layer(x, mask=m) hands the mask over: the real rows are centred
    y = layer(x, training=True, mask=MASK)
    beta = layer.get_weights()[1]
    np.testing.assert_allclose(y[MASK].mean(0), beta, atol=1e-6)


def test_the_moving_statistics_are_weights_as_in_keras(tmp_path):
    # Keras lists gamma, beta, moving_mean, moving_variance under the wrapper; a
    # Keras file of TimeDistributed(BatchNormalization) loads with all four
    def make(L):
        return [
            L.Input((6, 3)),
            L.Masking(0.0),
            L.TimeDistributed(L.BatchNormalization(name="norm"), name="steps"),
            L.TimeDistributed(L.Dense(2)),
        ]

    theirs = keras.Sequential(make(keras.layers))
    ours = Sequential(make(glassnet.layers), seed=0)
    assert [w.shape for w in ours.get_weights()] == [
        tuple(w.shape) for w in theirs.get_weights()
    ]
    # the paths below the model's name (Keras numbers its Sequential models)
    paths = [w.path.split("/", 1)[1] for w in ours.layers[1].weights]
    assert paths == [w.path.split("/", 1)[1] for w in theirs.layers[1].weights]
    assert paths[2:] == ["steps/norm/moving_mean", "steps/norm/moving_variance"]
    weights = [RNG.normal(size=w.shape) for w in ours.get_weights()]
    weights[3] = np.abs(weights[3]) + 0.5  # a variance
    theirs.set_weights(weights)
    theirs.save(tmp_path / "model.keras")
    loaded = glassnet.models.load_model(tmp_path / "model.keras")
    for a, b in zip(loaded.get_weights(), weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    x = padded_batch(12).astype(np.float32) * MASK[..., None]
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-5
    )
