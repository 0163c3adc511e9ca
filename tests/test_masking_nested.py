"""Padding masks through a model used as a layer, against Keras 3 (torch backend).

As Keras does, a Sequential or functional model called inside another model takes
the mask of its input (an outer Embedding(mask_zero=True) or Masking) for the layers
inside, and gives the masks of its outputs (an inner Embedding or recurrent layer
with ``return_sequences``) to the layers after it and to the loss.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest

import glassnet
from glassnet import gradcheck
from glassnet.layers import (
    GRU,
    LSTM,
    Add,
    Dense,
    Embedding,
    Input,
    Masking,
    TimeDistributed,
)
from glassnet.models import Model, Sequential

# Keras warns that a model "does not support masking" and destroys the mask, but
# on the torch backend the mask goes in and comes out (the results below)
pytestmark = pytest.mark.filterwarnings("ignore:Layer .* does not support masking")

RNG = np.random.default_rng(12)
IDS = RNG.integers(1, 6, size=(6, 7))
IDS[0, 3:] = 0
IDS[1, 5:] = 0
IDS[2, 1:] = 0
IDS[3, :] = 0  # a sequence of padding only: the states stay at zero


def mask_outside(L, inner_maker):
    """Outer Embedding(mask_zero) -> inner model (LSTM seq, GRU) -> Dense."""
    inner = inner_maker(L, [L.Input((None, 4)), L.LSTM(3, return_sequences=True)])
    x = L.Input((None,), dtype="int64")
    hidden = L.Embedding(6, 4, mask_zero=True)(x)
    return L.Model(x, L.Dense(2)(L.GRU(2)(inner(hidden))))


def mask_inside(L, inner_maker):
    """Inner model (Embedding(mask_zero), LSTM seq) -> outer GRU -> Dense."""
    inner = inner_maker(
        L,
        [
            L.Input((None,), dtype="int64"),
            L.Embedding(6, 4, mask_zero=True),
            L.LSTM(3, return_sequences=True),
        ],
    )
    x = L.Input((None,), dtype="int64")
    return L.Model(x, L.Dense(2)(L.GRU(2)(inner(x))))


def sequential(L, layers):
    return L.Sequential(layers)


def functional(L, layers):
    x = layers[0]
    y = x
    for layer in layers[1:]:
        y = layer(y)
    return L.Model(x, y)


class KerasNames:
    """Keras' classes under the names the builders use."""

    Input = staticmethod(keras.Input)
    Model = keras.Model
    Sequential = keras.Sequential
    Embedding = keras.layers.Embedding
    LSTM = keras.layers.LSTM
    GRU = keras.layers.GRU
    Dense = keras.layers.Dense
    TimeDistributed = keras.layers.TimeDistributed
    Add = keras.layers.Add
    Masking = keras.layers.Masking


class OurNames:
    Input = staticmethod(Input)
    Model = Model
    Sequential = Sequential
    Embedding = Embedding
    LSTM = LSTM
    GRU = GRU
    Dense = Dense
    TimeDistributed = TimeDistributed
    Add = Add
    Masking = Masking


def twins(build, inner_maker):
    glassnet.utils.set_random_seed(3)
    ours = build(OurNames, inner_maker)
    theirs = build(KerasNames, inner_maker)
    assert [w.shape for w in ours.get_weights()] == [
        tuple(w.shape) for w in theirs.get_weights()
    ]
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize("build", [mask_outside, mask_inside])
@pytest.mark.parametrize("inner_maker", [sequential, functional])
def test_a_model_inside_a_model_passes_and_receives_masks_as_keras(build, inner_maker):
    ours, theirs = twins(build, inner_maker)
    assert ours.graph.masking
    got = ours.predict(IDS, verbose=0)
    np.testing.assert_allclose(got, theirs.predict(IDS, verbose=0), atol=1e-6)
    # the masked answer is the answer on the sequence cut to its real steps
    for row, length in ((0, 3), (1, 5), (2, 1)):
        alone = ours.predict(IDS[row : row + 1, :length], verbose=0)
        np.testing.assert_allclose(got[row], alone[0], atol=1e-6)
    np.testing.assert_allclose(got[3], ours.layers[-1].params["b"], atol=1e-7)


def test_without_the_mask_the_same_weights_give_other_answers():
    # the check above can fail: the inner model ignoring the mask answers otherwise
    ours, _ = twins(mask_outside, sequential)
    inner = next(layer for layer in ours.layers if isinstance(layer, Sequential))
    x = Input((None,), dtype="int64")
    embedding = ours.layers[1]
    blind = Model(
        x,
        ours.layers[-1](ours.layers[-2](inner(Embedding(6, 4, name="plain")(x)))),
    )
    blind.layers[1].set_weights(embedding.get_weights())
    assert not np.allclose(
        blind.predict(IDS, verbose=0), ours.predict(IDS, verbose=0), atol=1e-3
    )


def sequence_model(L, inner_maker):
    """The inner model's output mask reaches the outer loss."""
    inner = inner_maker(
        L,
        [
            L.Input((None,), dtype="int64"),
            L.Embedding(6, 4, mask_zero=True),
            L.LSTM(4, return_sequences=True),
        ],
    )
    x = L.Input((None,), dtype="int64")
    head = L.TimeDistributed(L.Dense(3, activation="softmax"))
    return L.Model(x, head(L.GRU(3, return_sequences=True)(inner(x))))


@pytest.mark.parametrize("inner_maker", [sequential, functional])
def test_the_inner_output_mask_weighs_the_loss_and_trains_as_keras(inner_maker):
    ours, theirs = twins(sequence_model, inner_maker)
    ids = RNG.integers(1, 6, size=(12, 7)) * (
        np.arange(7) < RNG.integers(1, 8, size=12)[:, None]
    )
    labels = RNG.integers(0, 3, size=(12, 7))
    for model in (ours, theirs):
        model.compile(
            optimizer=keras.optimizers.SGD(0.5) if model is theirs else "sgd",
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    ours.optimizer.learning_rate = 0.5
    logs = ours.evaluate(ids, labels, batch_size=5, verbose=0, return_dict=True)
    keras_logs = theirs.evaluate(ids, labels, batch_size=5, verbose=0, return_dict=True)
    for key in ("loss", "accuracy"):
        assert logs[key] == pytest.approx(keras_logs[key], abs=1e-6)
    history = ours.fit(ids, labels, epochs=2, batch_size=4, shuffle=False, verbose=0)
    keras_history = theirs.fit(
        ids, labels, epochs=2, batch_size=4, shuffle=False, verbose=0
    )
    np.testing.assert_allclose(
        history.history["loss"], keras_history.history["loss"], atol=1e-5
    )
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_nested_masked_gradients_pass_the_gradient_check():
    glassnet.utils.set_random_seed(5)
    model = mask_outside(OurNames, sequential)
    model.compile(optimizer="sgd", loss="mse")
    y = RNG.normal(size=(6, 2))
    for training in (False, True):
        report = gradcheck(model, IDS, y, training=training, epsilon=1e-5)
        assert report.passed, str(report)
    inside = sequence_model(OurNames, functional)
    inside.compile(optimizer="sgd", loss="mse")
    # small gradients deep down: a larger step (1e-5 gives 1e-7, rounding)
    report = gradcheck(inside, IDS, RNG.normal(size=(6, 7, 3)), epsilon=1e-4)
    assert report.passed, str(report)


def two_inputs(L):
    """An inner functional model of two inputs whose masks merge in an Add."""
    a, b = L.Input((None, 4)), L.Input((None, 4))
    inner = L.Model([a, b], L.LSTM(3, return_sequences=True)(L.Add()([a, b])))
    ids = L.Input((None,), dtype="int64")
    values = L.Input((None, 4))
    embedded = L.Embedding(6, 4, mask_zero=True)(ids)
    masked = L.Masking(0.0)(values)
    return L.Model([ids, values], L.Dense(2)(L.GRU(2)(inner([embedded, masked]))))


def test_a_model_of_two_inputs_inside_a_model_gets_both_masks_as_keras():
    glassnet.utils.set_random_seed(8)
    ours = two_inputs(OurNames)
    theirs = two_inputs(KerasNames)
    theirs.set_weights(ours.get_weights())
    values = RNG.normal(size=(6, 7, 4)).astype("float32")
    values[:, 5:] = 0.0  # the last two steps padded here, others where IDS is 0
    xs = [IDS, values]
    np.testing.assert_allclose(
        ours.predict(xs, verbose=0), theirs.predict(xs, verbose=0), atol=1e-6
    )
