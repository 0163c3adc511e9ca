"""Keras-style models pickle as the scikit-learn estimators do (models/pickling.py).

joblib, Dask and Ray workers receive a ``Sequential`` or functional ``Model`` by
pickle. The pickle holds the weights, the layers' state and the optimizer state
(within their bytes + 8 kB), none of the caches, gradients or scratch arrays; the
copy predicts identically and keeps training bitwise as the original does, with
shared layers and models used as layers still shared.
"""

from __future__ import annotations

import copy
import pickle
import sys

import numpy as np
import pytest

from glassnet.layers import (
    LSTM,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
)
from glassnet.models import Model, Sequential
from glassnet.optimizers import SGD, Adam

OVERHEAD = 8 * 1024


def _carried_bytes(model) -> int:
    """Weights and layer state, plus the optimizer's per-parameter state."""
    weights = sum(w.nbytes for w in model.get_weights())
    state = model.optimizer.state if model.optimizer is not None else {}
    return weights + sum(a.nbytes for s in state.values() for a in s.values())


def _assert_same_weights(a, b) -> None:
    for p, q in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(p, q)


def _dense_model(optimizer="adam"):
    model = Sequential(
        [
            Dense(64, activation="relu", input_dim=20),
            BatchNormalization(),
            Dropout(0.2),
            Dense(3, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def _classes(n=512, features=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)


@pytest.mark.parametrize(
    "optimizer",
    [Adam(), SGD(0.05, momentum=0.9), Adam(use_ema=True, ema_momentum=0.9)],
    ids=["adam", "sgd-momentum", "adam-ema"],
)
def test_a_fitted_sequential_pickles_lean_and_keeps_training_bitwise(optimizer):
    x, y = _classes()
    model = _dense_model(copy.deepcopy(optimizer))
    model.fit(x, y, epochs=1, batch_size=512, verbose=0)  # one big cached batch
    data = pickle.dumps(model)
    assert _carried_bytes(model) < len(data) <= _carried_bytes(model) + OVERHEAD
    other = pickle.loads(data)
    np.testing.assert_array_equal(
        other.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert all(layer._cache is None for layer in other.layers)
    assert other.optimizer.iterations == model.optimizer.iterations == 1
    # The generator that shuffles the batches travelled too: same next epochs.
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    other.fit(x, y, epochs=2, batch_size=64, verbose=0)
    _assert_same_weights(model, other)
    assert other.history.history["loss"] == model.history.history["loss"]


def test_the_copy_trains_its_own_flat_buffer_not_the_originals():
    x, y = _classes()
    model = _dense_model()
    model.fit(x, y, epochs=1, verbose=0)
    before = model.get_weights()
    other = copy.deepcopy(model)
    other.fit(x, y, epochs=1, verbose=0)
    for p, q in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(p, q)  # the original did not move
    first = other.layers[0]
    assert np.shares_memory(first.params["W"], other.flat.params)
    assert not np.shares_memory(first.params["W"], model.flat.params)


def test_a_functional_model_keeps_its_shared_layer_and_inner_model():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 6)).astype(np.float32)
    y = x[:, :1] * 2 - x[:, 1:2]
    shared = Dense(6, activation="tanh")
    inner_input = Input((6,))
    inner = Model(inner_input, Dense(4, activation="relu")(inner_input), name="inner")
    inputs = Input((6,))
    outputs = Dense(1)(inner(shared(shared(inputs))))  # shared: called twice
    model = Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(x, y, epochs=1, batch_size=96, verbose=0)
    data = pickle.dumps(model)
    assert len(data) <= _carried_bytes(model) + OVERHEAD
    other = pickle.loads(data)
    np.testing.assert_array_equal(
        other.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    copied_inner = other.get_layer("inner")
    # one object per layer: the inner model's Dense is the outer model's leaf
    assert any(leaf is copied_inner.layers[-1] for leaf in other.leaf_layers())
    assert not any(leaf is copied_inner.layers[-1] for leaf in model.leaf_layers())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    other.fit(x, y, epochs=2, batch_size=16, verbose=0)
    _assert_same_weights(model, other)


def test_convolution_and_recurrent_scratch_arrays_stay_behind():
    rng = np.random.default_rng(2)
    images = rng.normal(size=(64, 10, 10, 3)).astype(np.float32)
    labels = rng.integers(0, 2, 64)
    conv = Sequential(
        [
            Conv2D(8, 3, padding="same", activation="relu", input_shape=(10, 10, 3)),
            Flatten(),
            Dense(2, activation="softmax"),
        ],
        seed=0,
    )
    conv.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    conv.fit(images, labels, epochs=1, batch_size=64, verbose=0)
    sequences = rng.normal(size=(64, 12, 5)).astype(np.float32)
    rnn = Sequential([LSTM(16, input_shape=(12, 5)), Dense(1)], seed=0)
    rnn.compile(optimizer="adam", loss="mse")
    rnn.fit(sequences, labels[:, None].astype(np.float32), epochs=1, verbose=0)
    for model, x in ((conv, images), (rnn, sequences)):
        # the padded images / gate gradients of the last batch are scratch
        assert len(pickle.dumps(model)) <= _carried_bytes(model) + OVERHEAD
        other = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(
            other.predict(x, verbose=0), model.predict(x, verbose=0)
        )


def test_sizeof_is_the_bytes_a_pickle_carries():
    x, y = _classes()
    model = _dense_model()
    model.fit(x, y, epochs=1, verbose=0)
    assert _carried_bytes(model) <= sys.getsizeof(model) <= _carried_bytes(model) + 512
    unbuilt = Sequential([Dense(4), Dense(1)])
    assert sys.getsizeof(unbuilt) < 512


def test_an_unbuilt_model_pickles_and_builds_later():
    model = Sequential([Dense(4, activation="relu"), Dense(1)], seed=5)
    twin = Sequential([Dense(4, activation="relu"), Dense(1)], seed=5)
    other = pickle.loads(pickle.dumps(model))
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        other.predict(x, verbose=0), twin.predict(x, verbose=0)
    )
