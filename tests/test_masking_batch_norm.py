"""BatchNormalization under a padding mask, against Keras 3 (torch backend).

Keras 3 takes BatchNormalization's training statistics over the real steps only
(``_moments(inputs, mask)``) and normalizes every step with them; inference uses
the moving statistics, mask or not. Forward, the moving averages and dL/dx, dgamma,
dbeta are compared with Keras' layer differentiated by torch autograd in float64.
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
from glassnet.layers.normalization_masks import masked_moments
from glassnet.models import Sequential

RNG = np.random.default_rng(7)
MASK = np.ones((5, 6), bool)
MASK[0, 2:] = False
MASK[1, 4:] = False
MASK[3, 1:] = False


def pair(axis=-1, **options):
    ours = BatchNormalization(axis=axis, momentum=0.8, **options)
    theirs = keras.layers.BatchNormalization(
        axis=axis, momentum=0.8, dtype="float64", **options
    )
    shape = (6, 3)
    ours.build(shape, np.random.default_rng(0), np.float64)
    theirs.build((None, *shape))
    weights = [RNG.normal(size=w.shape) for w in ours.get_weights()]
    weights[-1] = np.abs(weights[-1]) + 0.5  # a variance
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def torch_masked_batch_norm(x, mask, gamma, beta, epsilon):
    """Keras 3's masked ``_moments`` and ``batch_normalization``, written out in
    float64 torch (Keras itself computes them in float32, whatever the input)."""
    weights = mask[..., None].expand(x.shape).to(x.dtype)
    total = weights.sum(dim=(0, 1), keepdim=True) + 1e-7
    mean = (torch.where(weights > 0, x, 0.0)).sum(dim=(0, 1), keepdim=True) / total
    difference = torch.where(weights > 0, x - mean, 0.0)
    variance = (difference**2).sum(dim=(0, 1), keepdim=True) / total
    y = (x - mean) * torch.rsqrt(variance + epsilon)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y, mean.flatten(), variance.flatten()


OPTIONS = [{}, {"center": False}, {"scale": False}]


@pytest.mark.parametrize("options", OPTIONS, ids=["both", "no_beta", "no_gamma"])
def test_masked_batch_norm_matches_keras_formula_in_float64(options):
    ours, _ = pair(**options)
    x = RNG.normal(size=(5, 6, 3)) * 2 + 1
    x[~MASK] = RNG.normal(size=(int((~MASK).sum()), 3)) * 50  # padding far off
    r = RNG.normal(size=x.shape)
    moving = [ours.state[k].copy() for k in ("moving_mean", "moving_variance")]
    y = ours.forward(x, training=True, mask=MASK)
    grad_x = ours.backward(r)
    xt = torch.tensor(x, requires_grad=True)
    gamma = beta = None
    if "gamma" in ours.params:
        gamma = torch.tensor(ours.params["gamma"], requires_grad=True)
    if "beta" in ours.params:
        beta = torch.tensor(ours.params["beta"], requires_grad=True)
    yt, mean, variance = torch_masked_batch_norm(
        xt, torch.tensor(MASK), gamma, beta, ours.epsilon
    )
    (yt * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for key, tensor in (("gamma", gamma), ("beta", beta)):
        if tensor is not None:
            np.testing.assert_allclose(ours.grads[key], tensor.grad.numpy(), rtol=1e-10)
    for key, old, batch in zip(
        ("moving_mean", "moving_variance"), moving, (mean, variance), strict=True
    ):
        expected = old * 0.8 + batch.detach().numpy() * 0.2
        np.testing.assert_allclose(ours.state[key], expected, rtol=1e-12)


@pytest.mark.parametrize("options", OPTIONS, ids=["both", "no_beta", "no_gamma"])
@pytest.mark.parametrize("training", [True, False])
def test_masked_batch_norm_matches_keras_layer(options, training):
    # Keras computes the statistics in float32: agreement to float32's precision
    ours, theirs = pair(**options)
    x = RNG.normal(size=(5, 6, 3)) * 2 + 1
    x[~MASK] = RNG.normal(size=(int((~MASK).sum()), 3)) * 50
    r = RNG.normal(size=x.shape)
    y = ours.forward(x, training=training, keep_cache=True, mask=MASK)
    grad_x = ours.backward(r)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt, training=training, mask=torch.tensor(MASK))
    (yt * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=2e-4, atol=2e-5)
    for ours_w, theirs_w in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(ours_w, np.asarray(theirs_w), rtol=1e-5, atol=1e-7)
    keras_vars = {v.path.split("/")[-1]: v.value for v in theirs.trainable_variables}
    for key in ours.params:
        np.testing.assert_allclose(
            ours.grads[key], keras_vars[key].grad.numpy(), rtol=2e-4, atol=2e-5
        )


def test_statistics_are_the_real_steps_alone():
    layer = BatchNormalization(momentum=0.0)
    layer.build((6, 3), np.random.default_rng(0), np.float64)
    x = RNG.normal(size=(5, 6, 3))
    real = x[MASK]  # (steps, 3): the real steps, by hand
    layer.forward(x, training=True, mask=MASK)
    # momentum 0: the moving statistics are the batch's (W carries Keras' 1e-7)
    n = len(real)
    np.testing.assert_allclose(
        layer.state["moving_mean"], real.sum(0) / (n + 1e-7), rtol=1e-12
    )
    mean = real.sum(0) / (n + 1e-7)
    np.testing.assert_allclose(
        layer.state["moving_variance"],
        ((real - mean) ** 2).sum(0) / (n + 1e-7),
        rtol=1e-12,
    )
    mean2, _, _ = masked_moments(
        x, np.broadcast_to(MASK[..., None], x.shape).astype(float), (0, 1)
    )
    np.testing.assert_allclose(mean2.ravel(), mean, rtol=1e-12)
    assert not np.allclose(mean, x.reshape(-1, 3).mean(0))  # the padding would count


def test_masked_batch_norm_passes_the_gradient_check():
    layer = BatchNormalization()
    layer.build((6, 3), np.random.default_rng(1), np.float64)
    layer.set_weights([RNG.normal(size=3), RNG.normal(size=3), np.zeros(3), np.ones(3)])
    x = RNG.normal(size=(5, 6, 3))
    report = gradcheck(layer, x * np.where(MASK, 1.0, 3.0)[..., None], training=True)
    assert report.passed, str(report)  # unmasked: the existing path
    glassnet.utils.set_random_seed(2)
    model = Sequential(
        [
            Input((6, 3)),
            Masking(0.0),
            BatchNormalization(),
            LSTM(4, return_sequences=True),
            TimeDistributed(Dense(2)),
        ],
        dtype="float64",
    )
    model.compile(optimizer="sgd", loss="mse")
    x = RNG.normal(size=(5, 6, 3)) * MASK[..., None]
    report = gradcheck(
        model, x, RNG.normal(size=(5, 6, 2)), training=True, epsilon=1e-5
    )
    assert report.passed, str(report)


def test_a_masked_model_with_batch_norm_trains_as_keras():
    def make(L):
        return [
            L.Input((8,), dtype="int32"),
            L.Embedding(6, 4, mask_zero=True),
            L.BatchNormalization(momentum=0.9),
            L.LSTM(5),
            L.Dense(2, activation="softmax"),
        ]

    ours = Sequential(make(glassnet.layers), seed=4)
    theirs = keras.Sequential(make(keras.layers))
    theirs.set_weights(ours.get_weights())
    lengths = RNG.integers(1, 9, size=24)
    ids = RNG.integers(1, 6, size=(24, 8)) * (np.arange(8) < lengths[:, None])
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


def test_a_mask_of_the_wrong_shape_is_refused_as_keras_does():
    layer = BatchNormalization()
    layer.build((6, 3), np.random.default_rng(0), np.float64)
    x = RNG.normal(size=(5, 6, 3))
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ShapeError, match=r"one axis fewer.*mask.shape=\(5, 6, 3\)"):
        layer.forward(x, training=True, mask=np.ones((5, 6, 3), bool))
    for a, b in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # on arrays, layer(x, mask=m) hands the mask over
    y = layer(x, training=True, mask=MASK)
    np.testing.assert_allclose(y[MASK].mean(0), 0.0, atol=1e-6)
