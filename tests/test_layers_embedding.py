"""Embedding against gradcheck, torch.nn.Embedding, np.add.at and Keras 3.

- the lookup and its gradient (rows summed where ids repeat), float64 gradcheck,
  torch.nn.Embedding autograd in float64 to 1e-10;
- :func:`add_rows` against ``np.add.at``;
- ids out of range, non-integral floats and other dtypes refused with the value;
- ``mask_zero=True``: saved, Keras' mask ``ids != 0`` (what the models do with it:
  ``test_masking.py``);
- Keras 3 forward and config; Sequential and functional models with ids, which a
  Sequential keeps as integers.
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
from glassnet.errors import DataError, GlassnetTypeError, InvalidArgumentError
from glassnet.layers import GRU, Dense, Embedding, Flatten, Layer, registry
from glassnet.layers.embedding import add_rows
from glassnet.models import Model, Sequential
from glassnet.models.data_checks import check_inputs
from glassnet.optimizers import Adam

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(5)


def built(layer: Embedding, shape=(None,), dtype=np.float64) -> Embedding:
    layer.build(shape, np.random.default_rng(0), dtype)
    return layer


def test_the_lookup_and_its_gradient():
    layer = built(Embedding(5, 2, embeddings_initializer="glorot_uniform"))
    table = layer.params["embeddings"]
    ids = np.array([[1, 4, 1], [0, 1, 3]])
    y = layer.forward(ids, training=True)
    np.testing.assert_array_equal(y, table[ids])
    assert y.shape == (2, 3, 2) and layer.output_shape((3,)) == (3, 2)
    dy = RNG.normal(size=y.shape)
    assert layer.backward(dy, input_grad=False) is None
    expected = np.zeros_like(table)
    expected[1] = dy[0, 0] + dy[0, 2] + dy[1, 1]  # id 1 appears three times
    expected[4], expected[0], expected[3] = dy[0, 1], dy[1, 0], dy[1, 2]
    np.testing.assert_allclose(layer.grads["embeddings"], expected)
    dx = layer.backward(dy)
    assert dx.shape == ids.shape and not dx.any()  # ids get no gradient


@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 3, 2)])
def test_any_input_shape(shape):
    layer = built(Embedding(9, 3))
    ids = RNG.integers(0, 9, size=shape)
    y = layer.forward(ids)
    assert y.shape == (*shape, 3)
    np.testing.assert_array_equal(y, layer.params["embeddings"][ids])


def test_gradcheck_with_repeated_ids():
    layer = built(Embedding(6, 3, embeddings_initializer="random_normal"))
    ids = np.array([[0, 5, 5, 2], [2, 2, 1, 0], [5, 5, 5, 5]])
    for training in (False, True):
        report = gradcheck(layer, ids, training=training)
        assert report.passed, str(report)
        assert report.errors["embeddings"] < 1e-8


def test_matches_torch_embedding():
    layer = built(Embedding(11, 4, embeddings_initializer="random_normal"))
    ids = RNG.integers(0, 11, size=(7, 5))
    y = layer.forward(ids, training=True)
    dy = RNG.normal(size=y.shape)
    layer.backward(dy)
    module = torch.nn.Embedding(11, 4).double()
    with torch.no_grad():
        module.weight.copy_(torch.tensor(layer.params["embeddings"]))
    out = module(torch.tensor(ids))
    (out * torch.tensor(dy)).sum().backward()
    np.testing.assert_array_equal(y, out.detach().numpy())
    expected = module.weight.grad.numpy()
    error = np.linalg.norm(layer.grads["embeddings"] - expected)
    assert error / np.linalg.norm(expected) < 1e-10


@pytest.mark.parametrize("count", [0, 1, 50, 3000])
def test_add_rows_equals_np_add_at(count):
    ids = RNG.integers(0, 40, size=count)
    rows = RNG.normal(size=(count, 3))
    out = np.full((40, 3), np.nan)
    add_rows(out, ids, rows)
    expected = np.zeros((40, 3))
    np.add.at(expected, ids, rows)
    np.testing.assert_allclose(out, expected, atol=1e-12)


# -- ids the layer refuses --------------------------------------------------------------
@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (np.array([[1, 2], [3, 10]]), r"ids in \[0, 10\).*id 10 at index \[1, 1\]"),
        (np.array([[1, -1]]), r"'tokens'.*id -1 at index \[0, 1\]"),
        (np.array([[0.0, 2.5]]), r"integer token ids.*2\.5"),
    ],
)
def test_ids_out_of_range_or_not_whole_are_refused_before_any_lookup(ids, match):
    layer = built(Embedding(10, 2, name="tokens"))
    with pytest.raises(DataError, match=match):
        layer.forward(ids, training=True)
    assert layer._cache is None  # nothing was looked up or kept


def test_whole_floats_are_ids_and_other_dtypes_are_refused():
    layer = built(Embedding(10, 2))
    ints = np.array([[3, 9, 0]])
    np.testing.assert_array_equal(
        layer.forward(ints.astype("float32")), layer.forward(ints)
    )
    with pytest.raises(GlassnetTypeError, match="integer token ids"):
        layer.forward(np.array([["a", "b"]]))
    with pytest.raises(DataError, match="ids in"):
        layer(np.array([[1, 10]]))  # through __call__ too


def test_mask_zero_gives_keras_mask_and_row_zero_is_still_looked_up():
    layer = built(Embedding(10, 2, mask_zero=True))
    plain = built(Embedding(10, 2))
    plain.set_weights(layer.get_weights())
    assert layer.get_config()["mask_zero"] is True
    assert layer.creates_mask and not plain.creates_mask
    ids = np.array([[1, 2, 0], [4, 0, 0]])
    np.testing.assert_array_equal(layer.forward(ids), plain.forward(ids))
    np.testing.assert_array_equal(
        layer.compute_mask(ids, None), [[True, True, False], [True, False, False]]
    )
    np.testing.assert_array_equal(
        layer.compute_mask(ids.astype("float32"), None), ids != 0
    )
    assert plain.compute_mask(ids, None) is None
    theirs = keras.layers.Embedding(10, 2, mask_zero=True)
    theirs.build((None, 3))
    expected = keras.ops.convert_to_numpy(theirs.compute_mask(ids))
    np.testing.assert_array_equal(layer.compute_mask(ids, None), expected)


def test_a_sequential_keeps_ids_as_integers():
    # The first layer reads ids, so the model's input is int64 (float32 holds whole
    # numbers exactly only up to 2**24); whole floats are still accepted, as ids.
    for model in (
        Sequential([Embedding(9, 2, input_shape=(3,))], seed=0),
        Sequential([glassnet.Input((3,)), Embedding(9, 2)], seed=0),
    ):
        assert model.graph.inputs[0].dtype == np.int64
        ids = np.array([[8, 1, 0]])
        assert check_inputs(model, ids).dtype == np.int64
        assert check_inputs(model, ids.astype("float32")).dtype == np.int64
        np.testing.assert_array_equal(
            model.predict(ids, verbose=0),
            model.layers[0].params["embeddings"][ids],
        )
        with pytest.raises(GlassnetTypeError, match="integers"):
            model.predict(np.array([[1.5, 2.0, 0.0]]), verbose=0)
    assert Sequential([Dense(1, input_dim=2)]).graph.inputs[0].dtype == np.float32


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Embedding(0, 3), InvalidArgumentError, "input_dim"),
        (lambda: Embedding(3, 2.0), GlassnetTypeError, "output_dim"),
        (lambda: Embedding(3, 2, mask_zero=1), GlassnetTypeError, "mask_zero"),
        (
            lambda: Embedding(3, 2, embeddings_initializer="unifrom"),
            ValueError,
            "uniform",
        ),
        (
            lambda: Embedding(3, 2, embeddings_regularizer="l3"),
            ValueError,
            "embeddings",
        ),
    ],
)
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


# -- Keras 3 and models -----------------------------------------------------------------
def test_forward_and_config_match_keras():
    ours = built(Embedding(12, 3, name="embedding"), (5,), np.float32)
    theirs = keras.layers.Embedding(12, 3, name="embedding")
    theirs.build((None, 5))
    theirs.set_weights(ours.get_weights())
    ids = RNG.integers(0, 12, size=(4, 5))
    expected = keras.ops.convert_to_numpy(theirs(ids))
    np.testing.assert_array_equal(ours.forward(ids), expected)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    config, keras_config = ours.get_config(), theirs.get_config()
    # Keras' dtype policy and quantization glassnet has not; trainable, the
    # regularizers and the constraint are written only when set
    not_ours = {
        "dtype",
        "trainable",
        "quantization_config",
        "embeddings_regularizer",
        "activity_regularizer",
        "embeddings_constraint",
    }
    assert set(config) == set(keras_config) - not_ours
    assert config["embeddings_initializer"] == "random_uniform"  # +-0.05, as Keras
    assert keras_config["embeddings_initializer"]["config"]["maxval"] == 0.05
    again = registry.get({"class_name": "Embedding", "config": config}, base=Layer)
    assert isinstance(again, Embedding) and again.get_config() == config


def test_the_table_starts_uniform_in_keras_range_and_in_the_model_dtype():
    layer = Embedding(200, 30)
    layer.build((None,), np.random.default_rng(0), np.float64)
    table = layer.params["embeddings"]
    assert table.dtype == np.float64 and np.abs(table).max() < 0.05
    assert layer.forward(np.array([[1]])).dtype == np.float64
    tokens = glassnet.Input((None,), dtype="int32")
    assert Embedding(5, 2)(tokens).dtype == np.float32


def test_models_with_ids_train():
    # The label is whether token 1 appears more often than token 2.
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, size=(256, 8))
    y = ((ids == 1).sum(1) > (ids == 2).sum(1)).astype("float32")[:, None]
    sequential = Sequential(
        [Embedding(6, 4, input_shape=(8,)), Flatten(), Dense(1, activation="sigmoid")],
        seed=0,
    )
    tokens = glassnet.Input((8,), dtype="int32")
    functional = Model(
        tokens, Dense(1, activation="sigmoid")(GRU(6)(Embedding(6, 4)(tokens)))
    )
    for model in (sequential, functional):
        model.compile(optimizer=Adam(0.02), loss="binary_crossentropy")
        losses = model.fit(ids, y, epochs=15, batch_size=32, verbose=0).history["loss"]
        assert losses[-1] < 0.5 * losses[0]


def test_a_frozen_table_stays_and_the_first_layer_skips_dx():
    layer = built(Embedding(4, 2))
    layer.trainable = False
    layer.grads["embeddings"][...] = 3.0
    layer.forward(np.array([[1, 2]]), training=True)
    assert layer.backward(np.ones((1, 2, 2)), input_grad=False) is None
    assert np.all(layer.grads["embeddings"] == 3.0)
    assert layer.flops((5,)).count == 0
