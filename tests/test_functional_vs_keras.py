"""Functional models train like Keras 3 from the same initial weights (torch backend).

Each case builds one architecture in glassnet and in Keras, copies glassnet's initial
weights into Keras (the weights lists must line up: same order and shapes), trains
both with plain SGD on full batches without shuffling, and compares the history and
the final weights.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from glassnet_as_keras import GlassnetAsKeras  # noqa: E402

from glassnet import gradcheck  # noqa: E402

RNG = np.random.default_rng(11)
X = RNG.normal(size=(24, 4)).astype(np.float32)
X2 = RNG.normal(size=(24, 3)).astype(np.float32)
PRICE = (X[:, :1] - X2[:, 1:2]).astype(np.float32)
KIND = (X[:, 0] > X2[:, 0]).astype(np.int64)


def branch_and_merge(lib):
    """Two inputs, a shared layer, a branch, a merge, BatchNormalization, two outputs."""
    a = lib.Input((4,), name="a")
    b = lib.Input((3,), name="b")
    shared = lib.layers.Dense(5, activation="tanh", name="shared")
    wide = shared(lib.layers.Dense(5, name="lift")(b))
    deep = shared(lib.layers.Dense(5, activation="relu", name="deep")(a))
    merged = lib.layers.Concatenate(name="merge")([wide, deep, a])
    normed = lib.layers.BatchNormalization(name="norm")(merged)
    added = lib.layers.Add(name="add")([lib.layers.Dense(5, name="skip")(normed), deep])
    price = lib.layers.Dense(1, name="price")(added)
    kind = lib.layers.Dense(2, activation="softmax", name="kind")(added)
    return lib.Model([a, b], [price, kind])


def test_branches_merges_shared_layers_and_two_outputs_train_like_keras() -> None:
    ours = branch_and_merge(GlassnetAsKeras)
    theirs = branch_and_merge(keras)
    assert [layer.name for layer in ours.layers] == [k.name for k in theirs.layers]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    theirs.set_weights(ours.get_weights())
    kwargs = {
        "loss": {"price": "mse", "kind": "sparse_categorical_crossentropy"},
        "loss_weights": {"price": 1.0, "kind": 0.5},
    }
    ours.compile(optimizer=gl_sgd(), **kwargs)
    theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), **kwargs)
    fit = {"epochs": 4, "batch_size": len(X), "shuffle": False, "verbose": 0}
    h_ours = ours.fit([X, X2], {"price": PRICE, "kind": KIND}, **fit)
    h_theirs = theirs.fit([X, X2], {"price": PRICE, "kind": KIND}, **fit)
    for key in ("loss", "price_loss", "kind_loss"):
        np.testing.assert_allclose(
            h_ours.history[key], h_theirs.history[key], rtol=2e-5, err_msg=key
        )
    for mine, keras_weight in zip(
        ours.get_weights(), theirs.get_weights(), strict=True
    ):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-4, atol=1e-6)
    out_ours = ours.predict([X, X2], verbose=0)
    out_theirs = theirs.predict([X, X2], verbose=0)
    for mine, keras_out in zip(out_ours, out_theirs, strict=True):
        np.testing.assert_allclose(mine, keras_out, rtol=1e-4, atol=1e-5)


def gl_sgd():
    from glassnet.optimizers import SGD

    return SGD(learning_rate=0.05)


def test_the_whole_graph_passes_the_gradient_check() -> None:
    model = branch_and_merge(GlassnetAsKeras)
    model.compile(
        optimizer="sgd",
        loss=["mse", "sparse_categorical_crossentropy"],
        loss_weights=[1.0, 0.5],
    )
    for training in (False, True):
        report = gradcheck(
            model, [X[:6], X2[:6]], [PRICE[:6], KIND[:6]], training=training
        )
        assert report.passed, str(report)
        assert len(report.errors) == len(model.trainable_weights)


def test_a_frozen_branch_is_not_updated_in_keras_or_glassnet() -> None:
    ours = branch_and_merge(GlassnetAsKeras)
    theirs = branch_and_merge(keras)
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.get_layer("deep").trainable = False
        model.get_layer("norm").trainable = False
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights)
    loss = ["mse", "sparse_categorical_crossentropy"]
    ours.compile(optimizer=gl_sgd(), loss=loss)
    theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss=loss)
    fit = {"epochs": 2, "batch_size": len(X), "shuffle": False, "verbose": 0}
    before = ours.get_layer("deep").get_weights()
    ours.fit([X, X2], [PRICE, KIND], **fit)
    theirs.fit([X, X2], [PRICE, KIND], **fit)
    for a, b in zip(before, ours.get_layer("deep").get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for mine, keras_weight in zip(
        ours.get_weights(), theirs.get_weights(), strict=True
    ):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-4, atol=1e-6)


def nested(lib):
    """An ensemble of two small models and a frozen base called with training=False."""
    base_in = lib.Input((4,))
    base = lib.Model(
        base_in,
        lib.layers.BatchNormalization(name="base_norm")(
            lib.layers.Dense(6, activation="relu", name="base_dense")(base_in)
        ),
        name="base",
    )

    def member(name):
        x = lib.Input((6,))
        return lib.Model(x, lib.layers.Dense(1, name=f"{name}_dense")(x), name=name)

    first, second = member("first"), member("second")
    inputs = lib.Input((4,), name="features")
    features = base(inputs, training=False)
    outputs = lib.layers.Average(name="mean")([first(features), second(features)])
    return base, lib.Model(inputs, outputs)


def test_models_inside_models_train_like_keras() -> None:
    base_ours, ours = nested(GlassnetAsKeras)
    base_theirs, theirs = nested(keras)
    assert [layer.name for layer in ours.layers] == [k.name for k in theirs.layers]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    for base in (base_ours, base_theirs):
        base.trainable = False  # transfer learning: the base keeps its weights
    ours.compile(optimizer=gl_sgd(), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 4
    frozen = base_ours.get_weights()
    fit = {"epochs": 3, "batch_size": len(X), "shuffle": False, "verbose": 0}
    h_ours = ours.fit(X, PRICE, **fit)
    h_theirs = theirs.fit(X, PRICE, **fit)
    np.testing.assert_allclose(
        h_ours.history["loss"], h_theirs.history["loss"], rtol=2e-5
    )
    for mine, keras_weight in zip(
        ours.get_weights(), theirs.get_weights(), strict=True
    ):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-4, atol=1e-6)
    for a, b in zip(frozen, base_ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # moving statistics too (training=False)
    base_ours.trainable = True  # fine-tuning: the base trains from the next fit on
    ours.compile(optimizer=gl_sgd(), loss="mse")
    ours.fit(X, PRICE, epochs=1, verbose=0)
    assert not np.array_equal(frozen[0], base_ours.get_weights()[0])
    report = gradcheck(ours, X[:6], PRICE[:6], training=True)
    assert report.passed, str(report)
