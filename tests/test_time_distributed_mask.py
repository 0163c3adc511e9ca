"""TimeDistributed around a layer that couples the rows of its batch, and masks.

In training, ``TimeDistributed(BatchNormalization())`` runs the inner layer once
per step, on ``x[:, t]`` with ``mask[:, t]``, as Keras 3's TimeDistributed does:
each step takes its own batch statistics (over its real samples under a mask) and
moves the moving averages once, in step order. Checked here against a float64
torch formula (forward, moving statistics, autograd gradients), against Keras 3's
TimeDistributed(BatchNormalization) in float64 on the torch backend (outputs,
moving statistics over several steps, dx, dgamma, dbeta; masked and unmasked) and
in a fitted model, and with the float64 finite-difference gradient check. Inputs
hold a sample whose every step is padding (and, in places, a step whose every
sample is). Inference, a frozen BatchNormalization and per-row layers give the
folded inner layer's results; the output mask is the input's, as in Keras.
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
    layer = TimeDistributed(BatchNormalization(momentum=0.75, **options))
    layer.build((6, 3), np.random.default_rng(0), dtype)
    weights = [RNG.normal(size=w.shape) for w in layer.get_weights()]
    weights[-1] = np.abs(weights[-1]) + 0.5  # a variance
    layer.set_weights(weights)
    return layer


EMPTY_STEP_MASK = MASK.copy()
EMPTY_STEP_MASK[:, 3] = False  # a step whose every sample is padding
MASKS = {"masked": MASK, "empty_step": EMPTY_STEP_MASK, "unmasked": None}


def torch_per_step_reference(x, mask, gamma, beta, moving, epsilon, momentum):
    """Keras 3's TimeDistributed(BatchNormalization) in training, float64 torch:
    step t normalized with its own moments (over its real samples, ``W = sum(m) +
    1e-7``, under a mask), the moving statistics updated once per step, in order."""
    moving_mean, moving_variance = moving
    outputs = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        if mask is None:
            mean, variance = xt.mean(dim=0), xt.var(dim=0, unbiased=False)
        else:
            weights = mask[:, t, None].to(x.dtype)
            total = weights.sum(dim=0) + 1e-7
            mean = (weights * xt).sum(dim=0) / total
            variance = (weights * (xt - mean) ** 2).sum(dim=0) / total
        outputs.append(gamma * (xt - mean) / torch.sqrt(variance + epsilon) + beta)
        moving_mean = moving_mean * momentum + mean.detach() * (1 - momentum)
        moving_variance = moving_variance * momentum + variance.detach() * (
            1 - momentum
        )
    return torch.stack(outputs, dim=1), moving_mean, moving_variance


@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("frozen", [False, True], ids=["trainable", "frozen"])
def test_per_step_statistics_match_a_float64_torch_reference(frozen, mask_name):
    mask = MASKS[mask_name]
    layer = wrapped_batch_norm()
    layer.trainable = not frozen  # frozen: Keras runs it in inference mode
    x, r = padded_batch(1), RNG.normal(size=(5, 6, 3))
    gamma, beta, moving_mean, moving_variance = [w.copy() for w in layer.get_weights()]
    y = layer.forward(x, training=True, mask=mask)
    grad_x = layer.backward(r)

    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    bt = torch.tensor(beta, requires_grad=True)
    moving = torch.tensor(moving_mean), torch.tensor(moving_variance)
    if frozen:
        yt = gt * (xt - moving[0]) / torch.sqrt(moving[1] + 1e-3) + bt
        expected_mean, expected_variance = moving_mean, moving_variance
    else:
        mt = None if mask is None else torch.tensor(mask)
        yt, expected_mean, expected_variance = torch_per_step_reference(
            xt, mt, gt, bt, moving, 1e-3, 0.75
        )
    (yt * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    if not frozen:
        np.testing.assert_allclose(layer.grads["gamma"], gt.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(layer.grads["beta"], bt.grad.numpy(), rtol=1e-10)
    _, _, new_mean, new_variance = layer.get_weights()
    np.testing.assert_allclose(new_mean, expected_mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(new_variance, expected_variance, rtol=1e-12)
    if not frozen and mask is not None:
        # each step's real samples are centred at beta (up to W's 1e-7); the padding
        # (40 times wider, centred at -25) is in none of the statistics
        for t in range(6):
            if mask[:, t].any():
                np.testing.assert_allclose(y[mask[:, t], t].mean(0), beta, atol=1e-4)
    if not frozen and mask is None:
        # the steps' statistics are not the folded ones: each step is centred
        np.testing.assert_allclose(y.mean(0), np.broadcast_to(beta, (6, 3)), atol=1e-9)


@pytest.fixture
def keras_float64():
    """Keras builds float64 layers and metrics (floatx), restored afterwards."""
    floatx = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(floatx)


def keras_time_distributed(momentum: float = 0.75):
    """Keras 3's TimeDistributed(BatchNormalization), float64 variables under the
    fixture. Keras' BatchNormalization computes in float32 even then (its
    ``result_type(inputs.dtype, "float32")`` gives float32 for float64 tensors),
    so the comparisons with it hold to float32 precision; the float64 torch
    reference above is the tight one."""
    return keras.layers.TimeDistributed(
        keras.layers.BatchNormalization(momentum=momentum)
    )


def keras_pair(training_steps: int, mask):
    """Ours and Keras' TimeDistributed(BatchNormalization), float64, with the same
    weights, after ``training_steps`` training passes on the same batches."""
    ours = wrapped_batch_norm()
    theirs = keras_time_distributed()
    theirs.build((None, 6, 3))
    theirs.set_weights(ours.get_weights())
    keras_mask = None if mask is None else torch.tensor(mask)
    for step in range(training_steps):
        x = padded_batch(10 + step)
        ours.forward(x, training=True, mask=mask)
        theirs(torch.tensor(x), training=True, mask=keras_mask)
    return ours, theirs


@pytest.mark.parametrize("mask_name", list(MASKS))
def test_moving_statistics_after_training_steps_match_keras(mask_name, keras_float64):
    ours, theirs = keras_pair(training_steps=4, mask=MASKS[mask_name])
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)
    # 4 batches x 6 steps = 24 updates of momentum 0.75: the start is forgotten
    start = wrapped_batch_norm().get_weights()[2]
    assert not np.allclose(ours.get_weights()[2], start, atol=1e-2)


@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_outputs_and_gradients_match_keras(training, mask_name, keras_float64):
    mask = MASKS[mask_name]
    ours, theirs = keras_pair(training_steps=2, mask=mask)
    x, r = padded_batch(3), RNG.normal(size=(5, 6, 3))
    y = ours.forward(x, training=training, keep_cache=True, mask=mask)
    grad_x = ours.backward(r)
    xt = torch.tensor(x, requires_grad=True)
    keras_mask = None if mask is None else torch.tensor(mask)
    yt = theirs(xt, training=training, mask=keras_mask)
    (yt * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    keras_grads = {
        v.path.split("/")[-1]: v.value.grad for v in theirs.trainable_variables
    }
    for key in ("gamma", "beta"):
        np.testing.assert_allclose(
            ours.grads[key], keras_grads[key].numpy(), rtol=1e-4, atol=1e-5
        )
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)


def test_inference_matches_keras_time_distributed():
    ours = wrapped_batch_norm(np.float32)
    theirs = keras.layers.TimeDistributed(
        keras.layers.BatchNormalization(momentum=0.75)
    )
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


@pytest.mark.parametrize("mask_name", list(MASKS))
def test_the_layer_passes_the_gradient_check(mask_name):
    # dL/dx and the weights' gradients of sum(TimeDistributed(BN)(x, mask) * r),
    # by central differences (the mask held fixed, as it is given)
    mask = MASKS[mask_name]
    layer = wrapped_batch_norm()
    x, r = padded_batch(7), RNG.normal(size=(5, 6, 3))

    def loss() -> float:
        return float(np.sum(layer.forward(x, training=True, mask=mask) * r))

    def central_differences(array: np.ndarray) -> np.ndarray:
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            kept = array[index]
            array[index] = kept + 1e-6
            plus = loss()
            array[index] = kept - 1e-6
            minus = loss()
            array[index] = kept
            numeric[index] = (plus - minus) / 2e-6
        return numeric

    layer.forward(x, training=True, mask=mask)
    grad_x = layer.backward(r)
    analytic = {key: layer.grads[key].copy() for key in ("gamma", "beta")}
    # (steps with one real sample have variance 0: strongly curved, so atol 1e-5)
    np.testing.assert_allclose(grad_x, central_differences(x), rtol=1e-6, atol=1e-5)
    for key, value in analytic.items():
        numeric = central_differences(layer.params[key])
        np.testing.assert_allclose(value, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mask_zero", [True, False], ids=["masked", "unmasked"])
def test_a_model_with_time_distributed_batch_norm_trains_as_keras(
    mask_zero, keras_float64
):
    # both run BatchNormalization once per step in training (Keras' loop)
    def make(L):
        return [
            L.Input((7,), dtype="int32"),
            L.Embedding(6, 4, mask_zero=mask_zero),
            L.TimeDistributed(L.BatchNormalization(momentum=0.75)),
            L.LSTM(5),
            L.Dense(2, activation="softmax"),
        ]

    ours = Sequential(make(glassnet.layers), seed=4, dtype="float64")
    theirs = keras.Sequential(make(keras.layers))
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
        history.history["loss"], keras_history.history["loss"], rtol=1e-6
    )
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # moving stats too
    np.testing.assert_allclose(
        ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0), atol=1e-6
    )


def test_inference_and_row_wise_layers_run_folded():
    # inference, a frozen BatchNormalization and a Dense: the inner layer once, on
    # (batch x time, features); a trainable one in training: once per step
    wrapped = wrapped_batch_norm()
    plain = BatchNormalization(momentum=0.75)
    plain.build((3,), np.random.default_rng(0), np.float64)
    plain.set_weights(wrapped.get_weights())
    x, r = padded_batch(8), RNG.normal(size=(5, 6, 3))
    for trainable, training in ((True, False), (False, True)):
        wrapped.trainable = plain.trainable = trainable
        y = wrapped.forward(x, training=training, keep_cache=True)
        grad_x = wrapped.backward(r)
        y_plain = plain.forward(x.reshape(30, 3), training=training, keep_cache=True)
        grad_plain = plain.backward(r.reshape(30, 3))
        np.testing.assert_array_equal(y, y_plain.reshape(5, 6, 3))
        np.testing.assert_array_equal(grad_x, grad_plain.reshape(5, 6, 3))
        for a, b in zip(wrapped.get_weights(), plain.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    wrapped.trainable = plain.trainable = True
    y = wrapped.forward(x, training=True)
    grad_x = wrapped.backward(r)
    sums = {"gamma": 0.0, "beta": 0.0}
    for t in range(6):
        np.testing.assert_array_equal(y[:, t], plain.forward(x[:, t], training=True))
        np.testing.assert_array_equal(grad_x[:, t], plain.backward(r[:, t]))
        sums = {key: total + plain.grads[key] for key, total in sums.items()}
    for key, total in sums.items():
        np.testing.assert_allclose(wrapped.grads[key], total, rtol=1e-14)
    for a, b in zip(wrapped.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    dense = TimeDistributed(Dense(2))
    dense.build((6, 3), np.random.default_rng(0), np.float64)
    dense.forward(x, training=True)
    assert dense._cache[1] is None  # folded


def test_the_summed_gradients_are_written_into_the_model_buffer():
    # a fitted model's TimeDistributed(BatchNormalization) hands its gradients to
    # the optimizer through the model's flat buffer (views), not new arrays
    glassnet.utils.set_random_seed(5)
    model = Sequential(
        [
            Input((6, 3)),
            TimeDistributed(BatchNormalization()),
            TimeDistributed(Dense(1)),
        ],
        dtype="float64",
    )
    model.compile(optimizer="sgd", loss="mse")
    layer = model.layers[0]
    before = [w.copy() for w in model.get_weights()]
    model.fit(padded_batch(13), RNG.normal(size=(5, 6, 1)), epochs=1, verbose=0)
    for key in ("gamma", "beta"):
        assert np.shares_memory(layer.grads[key], model.flat.grads)
        assert np.shares_memory(layer.layer.grads[key], model.flat.grads)
        assert np.any(layer.grads[key] != 0)
    assert not np.allclose(before[0], model.get_weights()[0])  # gamma moved


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
    # on arrays, layer(x, mask=m) hands the mask over: each step's real rows are
    # centred (up to W's 1e-7)
    y = layer(x, training=True, mask=MASK)
    beta = layer.get_weights()[1]
    for t in range(6):
        np.testing.assert_allclose(y[MASK[:, t], t].mean(0), beta, atol=1e-4)


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
