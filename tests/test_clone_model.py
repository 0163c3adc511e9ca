"""clone_model: Keras' semantics, new layers of the same classes and configs, new weights."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from glassnet_as_keras import GlassnetAsKeras

from glassnet import Input, Model
from glassnet import layers as gl
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.models import Sequential, clone_model
from glassnet.utils import clear_session

RNG = np.random.default_rng(5)
XA = RNG.normal(size=(16, 4)).astype(np.float32)
XB = RNG.normal(size=(16, 3)).astype(np.float32)
Y = RNG.normal(size=(16, 1)).astype(np.float32)


def branched(lib: Any) -> Any:
    """Two inputs, a shared layer called twice, a merge, BatchNormalization, a frozen head."""
    layers = lib.layers
    a = lib.Input((4,), name="a")
    b = lib.Input((3,), name="b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    left = shared(layers.Dense(5, name="lift")(b))
    right = shared(layers.Dense(5, activation="relu", name="deep")(a))
    merged = layers.Concatenate(name="merge")([left, right, a])
    normed = layers.BatchNormalization(name="norm")(merged)
    out = layers.Dense(1, name="out", trainable=False)(normed)
    return lib.Model([a, b], out, name="branched")


def configs(model: Any) -> list[tuple[str, dict]]:
    return [(type(layer).__name__, layer.get_config()) for layer in model.layers]


def same_values(first: list[np.ndarray], second: list[np.ndarray]) -> bool:
    return len(first) == len(second) and all(
        a.shape == b.shape and np.array_equal(a, b)
        for a, b in zip(first, second, strict=True)
    )


# -- functional models -----------------------------------------------------------------
def test_functional_clone_has_new_layers_of_the_same_classes_and_configs() -> None:
    model = branched(GlassnetAsKeras)
    model.compile(optimizer="sgd", loss="mse")
    model.fit([XA, XB], Y, epochs=3, verbose=0)
    clone = clone_model(model)
    assert isinstance(clone, Model) and clone.name == "branched"
    assert configs(clone) == configs(model)
    originals = {id(layer) for layer in model.layers}
    assert not any(id(layer) in originals for layer in clone.layers)
    assert [t.shape for t in clone.inputs] == [t.shape for t in model.inputs]
    assert [t.node.layer.name for t in clone.inputs] == ["a", "b"]
    assert clone.output_shape == model.output_shape
    # new weights: the trained values and the moving statistics are not copied
    assert [w.path for w in clone.weights] == [w.path for w in model.weights]
    assert not same_values(clone.get_weights(), model.get_weights())
    norm = clone.get_layer("norm")
    np.testing.assert_array_equal(norm.get_weights()[2], np.zeros(14, np.float32))
    # frozen stays frozen; the clone is compiled with a new optimizer
    assert not clone.get_layer("out").trainable
    assert clone.count_params() == model.count_params()
    assert clone.compiled and clone.optimizer is not model.optimizer


def test_shared_layers_stay_shared_and_predictions_match_with_copied_weights() -> None:
    model = branched(GlassnetAsKeras)
    clone = clone_model(model)
    shared = clone.get_layer("shared")
    calls = [node for node in clone.graph.nodes if node.layer is shared]
    assert len(calls) == 2  # one layer, called twice: one set of weights
    assert len(clone.weights) == len(model.weights)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(
        clone.predict([XA, XB], verbose=0), model.predict([XA, XB], verbose=0)
    )


def test_the_clone_trains_on_its_own() -> None:
    model = branched(GlassnetAsKeras)
    model.compile(optimizer="adam", loss="mse")
    before = model.get_weights()
    clone = clone_model(model)
    clone.fit([XA, XB], Y, epochs=2, verbose=0)
    assert same_values(model.get_weights(), before)
    assert not same_values(clone.get_weights(), before)


def test_names_and_structure_agree_with_keras_clone_model() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    keras.utils.clear_session()
    theirs = keras.models.clone_model(branched(keras))
    clear_session()
    ours = clone_model(branched(GlassnetAsKeras))
    assert [layer.name for layer in ours.layers] == [k.name for k in theirs.layers]
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(k).__name__ for k in theirs.layers
    ]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.name == theirs.name
    assert [layer.trainable for layer in ours.layers] == [
        k.trainable for k in theirs.layers
    ]
    # the same weights give the same predictions in both clones
    theirs.set_weights(ours.get_weights())
    expected = np.asarray(theirs.predict([XA, XB], verbose=0))
    np.testing.assert_allclose(ours.predict([XA, XB], verbose=0), expected, atol=1e-5)


def test_several_outputs_and_their_compile_settings() -> None:
    x = Input((4,))
    hidden = gl.Dense(6, activation="relu", name="hidden")(x)
    model = Model(
        x,
        [
            gl.Dense(1, name="price")(hidden),
            gl.Dense(2, activation="softmax", name="kind")(hidden),
        ],
    )
    model.compile(
        optimizer="adam",
        loss={"price": "mse", "kind": "sparse_categorical_crossentropy"},
        metrics={"kind": ["accuracy"]},
        loss_weights=[1.0, 0.5],
    )
    clone = clone_model(model)
    assert [t.shape for t in clone.outputs] == [(None, 1), (None, 2)]
    assert clone.heads is not None and model.heads is not None
    assert [(h.name, h.loss.name, h.weight) for h in clone.heads] == [
        (h.name, h.loss.name, h.weight) for h in model.heads
    ]
    assert [m.name for m in clone.heads[1].metrics] == ["accuracy"]
    history = clone.fit(XA, [Y, (XA[:, 0] > 0).astype(np.int64)], epochs=1, verbose=0)
    assert "kind_accuracy" in history.history
    assert np.isfinite(history.history["loss"]).all()


def test_float64_inputs_keep_their_dtype() -> None:
    x = Input((3,), dtype="float64", name="wide")
    model = Model(x, gl.Dense(2)(x))
    clone = clone_model(model)
    assert clone.inputs[0].dtype == np.float64
    assert clone.get_weights()[0].dtype == np.float64


# -- Sequential models -------------------------------------------------------------
def test_sequential_clone_from_its_config() -> None:
    model = Sequential(
        [
            gl.Dense(8, activation="relu", input_dim=4),
            gl.BatchNormalization(),
            gl.Dropout(0.25, seed=1),
            gl.Dense(1, trainable=False),
        ],
        name="stack",
        seed=3,
    )
    initial = model.get_weights()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(XA, Y, epochs=2, verbose=0)
    clone = clone_model(model)
    assert isinstance(clone, Sequential) and clone.name == "stack"
    assert configs(clone) == configs(model)
    assert clone.get_config() == model.get_config()
    # same seed, same initial weights; not the trained ones
    assert same_values(clone.get_weights(), initial)
    assert not same_values(clone.get_weights(), model.get_weights())
    assert [m.name for m in clone.metrics] == ["mae"]
    clone.fit(XA, Y, epochs=1, verbose=0)


def test_sequential_input_layer_and_unbuilt_models() -> None:
    model = Sequential([Input((5,), name="features"), gl.Dense(2)])
    clone = clone_model(model)
    assert clone.inputs[0].node.layer.name == "features"
    assert clone.input_shape == (5,) and clone.built
    unbuilt = clone_model(Sequential([gl.Dense(3), gl.Dense(1)]))
    assert not unbuilt.built and len(unbuilt.layers) == 2
    assert unbuilt.predict(XA, verbose=0).shape == (16, 1)
    built_later = Sequential([gl.Dense(3)])
    built_later.build((None, 4))
    assert clone_model(built_later).input_shape == (4,)


def test_a_frozen_model_clones_frozen() -> None:
    model = Sequential([gl.Dense(2, input_dim=3), gl.Dense(1)])
    model.trainable = False
    clone = clone_model(model)
    assert not clone.trainable and not clone.trainable_weights


# -- Keras' clone_function, call_function and input_tensors ----------------------------
def test_clone_function_and_call_function() -> None:
    model = branched(GlassnetAsKeras)

    def seeded(layer: Any) -> Any:
        config = layer.get_config()
        if isinstance(layer, gl.Dense):
            config["kernel_initializer"] = "ones"
        return type(layer).from_config(config)

    ones = clone_model(model, clone_function=seeded)
    assert np.all(ones.get_layer("shared").get_weights()[0] == 1.0)

    def with_dropout(layer: Any, inputs: Any) -> Any:
        out = layer(inputs)
        return gl.Dropout(0.5)(out) if isinstance(layer, gl.Dense) else out

    deeper = clone_model(model, call_function=with_dropout)
    names = [type(layer).__name__ for layer in deeper.layers]
    assert names.count("Dropout") == 5  # after lift, deep, each call of shared, out
    assert deeper.count_params() == model.count_params()


def test_input_tensors() -> None:
    model = branched(GlassnetAsKeras)
    a, b = Input((4,), name="left"), Input((3,), name="right")
    clone = clone_model(model, input_tensors=[a, b])
    assert clone.inputs == [a, b]
    seq = clone_model(
        Sequential([Input((4,)), gl.Dense(2)]), input_tensors=Input((4,), name="in")
    )
    assert seq.inputs[0].node.layer.name == "in"


def test_bad_arguments_say_what_was_received() -> None:
    model = branched(GlassnetAsKeras)
    with pytest.raises(GlassnetTypeError, match="Received: model="):
        clone_model("model")
    with pytest.raises(InvalidArgumentError, match="input_tensors"):
        clone_model(model, input_tensors=[Input((4,))])
    with pytest.raises(GlassnetTypeError, match="clone_function"):
        clone_model(model, clone_function="copy")
    with pytest.raises(GlassnetTypeError, match="must return a glassnet Layer"):
        clone_model(model, clone_function=lambda layer: None)
    with pytest.raises(InvalidArgumentError, match="functional models only"):
        clone_model(Sequential([gl.Dense(1, input_dim=2)]), call_function=print)


def test_the_clone_has_its_own_metric_objects() -> None:
    # A metric holds running sums: shared with the clone, evaluating one model
    # would change what the other's metric objects hold.
    model = Sequential([gl.Dense(2, input_dim=4), gl.Dense(1)], seed=2)
    model.compile(
        optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=["mse"]
    )
    model.evaluate(XA, Y, verbose=0)
    before = [m.result() for m in model.metrics + model.weighted_metrics]
    clone = clone_model(model)
    pairs = zip(
        clone.metrics + clone.weighted_metrics,
        model.metrics + model.weighted_metrics,
        strict=True,
    )
    for twin, metric in pairs:
        assert twin is not metric and type(twin) is type(metric)
        assert twin.get_config() == metric.get_config()
        assert twin.result() == 0.0  # fresh state
    clone.evaluate(XA * 5.0, Y, verbose=0)
    assert [m.result() for m in model.metrics + model.weighted_metrics] == before
    assert clone.metrics[0].result() != before[0]
