"""The model core: Input, functional graphs, the one walk, freezing, names, layer calls."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import Input, Model, gradcheck
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    ShapeError,
)
from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential
from glassnet.utils import clear_session, set_random_seed

RNG = np.random.default_rng(7)
X = RNG.normal(size=(32, 4)).astype(np.float32)
Y = (X[:, :1] + X[:, 1:2] > 0).astype(np.float32)


def test_import_glassnet_reaches_submodules_lazily() -> None:
    assert glassnet.layers.Dense is Dense
    assert glassnet.models.Sequential is Sequential
    assert glassnet.Model is Model and glassnet.Input is Input


def test_keras_automatic_names_and_clear_session() -> None:
    names = [Dense(1).name, Dense(1).name, Sequential().name, Sequential().name]
    assert names == ["dense", "dense_1", "sequential", "sequential_1"]
    inputs = Input((2,))
    model = Model(inputs, Dense(1)(inputs))
    assert model.name == "functional" and model.layers[0].name == "input_layer"
    clear_session()
    assert Dense(1).name == "dense"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty"),
        ("a/b", "'/'"),
        ("x\x00", "NUL"),
        ("\ud800", "surrogate"),
        ("n" * 300, "256"),
    ],
)
def test_user_names_must_be_saveable(name: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Dense(1, name=name)


def test_a_chain_as_functional_model_trains_like_the_same_sequential() -> None:
    sequential = Sequential(
        [Dense(5, activation="tanh", input_dim=4), Dense(1)], seed=3
    )
    inputs = Input((4,))
    hidden = Dense(5, activation="tanh")(inputs)
    functional = Model(inputs, Dense(1)(hidden), seed=3)
    functional.set_weights(sequential.get_weights())
    for model in (sequential, functional):
        model.compile(optimizer="adam", loss="mse")
        model.fit(X, Y, epochs=3, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(sequential.get_weights(), functional.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [w.path for w in functional.weights] == [
        "dense_2/kernel",
        "dense_2/bias",
        "dense_3/kernel",
        "dense_3/bias",
    ]
    assert sequential.weights[0].path == "sequential/dense/kernel"


def test_a_branch_gets_the_sum_of_both_paths_gradients() -> None:
    # y = d2(d1(x)) + d3(d1(x)) needs dL/dh = dL/dh via d2 + dL/dh via d3
    class Sum2(glassnet.layers.Layer):
        takes_list = True

        def forward(self, xs, *, training=False, keep_cache=False):
            self._cache = True if training or keep_cache else None
            return xs[0] + xs[1]

        def backward(self, grad_output, *, input_grad=True):
            # y = a + b  =>  da = dy, db = dy
            self.cached()
            return [grad_output, grad_output] if input_grad else None

        def output_shape(self, input_shape):
            return input_shape[0]

    inputs = Input((4,))
    h = Dense(3, activation="tanh")(inputs)
    out = Sum2()([Dense(2)(h), Dense(2)(h)])
    model = Model(inputs, out)
    model.compile(loss="mse", optimizer="sgd")
    report = gradcheck(model, X[:5], RNG.normal(size=(5, 2)))
    assert report.passed, str(report)
    assert len(report.errors) == 6


def test_a_shared_layer_has_one_set_of_weights_and_summed_gradients() -> None:
    shared = Dense(4, activation="tanh", name="shared")
    inputs = Input((4,))
    model = Model(inputs, Dense(1)(shared(shared(inputs))))
    assert [layer.name for layer in model.layers].count("shared") == 1
    assert model.count_params() == 2 * (4 * 4 + 4) - (4 * 4 + 4) + 5
    model.compile(loss="mse", optimizer="sgd")
    for training in (False, True):
        report = gradcheck(model, X[:6], Y[:6], training=training)
        assert report.passed, str(report)


def test_two_inputs_train_predict_and_take_a_dict() -> None:
    class Concat(glassnet.layers.Layer):
        takes_list = True

        def forward(self, xs, *, training=False, keep_cache=False):
            self._cache = [x.shape[-1] for x in xs] if training or keep_cache else None
            return np.concatenate(xs, axis=-1)

        def backward(self, grad_output, *, input_grad=True):
            # y = [a, b]  =>  da = dy[:, :n_a], db = dy[:, n_a:]
            n_a, _ = self.cached()
            return [grad_output[:, :n_a], grad_output[:, n_a:]] if input_grad else None

        def output_shape(self, input_shape):
            return (sum(s[-1] for s in input_shape),)

    a, b = Input((4,), name="a"), Input((2,), name="b")
    model = Model([a, b], Dense(1, activation="sigmoid")(Concat()([a, Dense(3)(b)])))
    xb = RNG.normal(size=(32, 2)).astype(np.float32)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit([X, xb], Y, epochs=2, batch_size=8, verbose=0, validation_split=0.25)
    by_list = model.predict([X, xb], verbose=0)
    np.testing.assert_array_equal(by_list, model.predict({"b": xb, "a": X}, verbose=0))
    np.testing.assert_array_equal(by_list, model([X, xb]))
    with pytest.raises(GlassnetTypeError, match="2 inputs"):
        model.predict(X)
    with pytest.raises(InvalidArgumentError, match="Missing"):
        model.predict({"a": X})


def test_graph_errors_name_what_is_wrong() -> None:
    a, b = Input((2,), name="a"), Input((2,), name="b")
    out = Dense(1)(a)
    with pytest.raises(InvalidArgumentError, match=r"\['b'\] are not used"):
        Model([a, b], out)
    with pytest.raises(InvalidArgumentError, match="Input 'a', which is not in"):
        Model(b, out)
    with pytest.raises(ShapeError, match="cannot take inputs shaped"):
        shared = Dense(1)
        shared(a)
        shared(Input((3,)))
    with pytest.raises(InvalidArgumentError, match="unique names"):
        Model(a, Dense(1, name="same")(Dense(1, name="same")(a)))
    with pytest.raises(GlassnetTypeError, match="symbolic tensors"):
        Model(a, np.zeros(3))


def test_get_layer_by_name_and_index() -> None:
    inputs = Input((2,))
    model = Model(inputs, Dense(1, name="scores")(inputs))
    assert model.get_layer(index=0).name == "input_layer"
    assert model.get_layer("scores").units == 1
    with pytest.raises(InvalidArgumentError, match="Did you mean 'scores'"):
        model.get_layer("score")


def test_a_frozen_layer_keeps_its_weights_and_unfreezing_after_compile_counts() -> None:
    model = Sequential([Dense(6, activation="relu", input_dim=4), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    first = model.layers[0]
    first.trainable = False
    frozen = first.get_weights()
    last = model.layers[1].get_weights()
    model.fit(X, Y, epochs=2, verbose=0)
    for a, b in zip(frozen, first.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(last[0], model.layers[1].get_weights()[0])
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    first.trainable = True  # after compile: takes effect at the next fit (Keras 3)
    model.fit(X, Y, epochs=1, verbose=0)
    assert not np.array_equal(frozen[0], first.get_weights()[0])


def test_model_trainable_false_freezes_every_layer() -> None:
    model = Sequential([Dense(3, input_dim=4), Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    model.trainable = False
    model.fit(X, Y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.trainable_weights == [] and all(
        not layer.trainable for layer in model.layers
    )


def test_frozen_bottom_layers_run_no_backward() -> None:
    model = Sequential([Dense(3, input_dim=4), Dense(3), Dense(1)], seed=0)
    calls = []
    for layer in model.layers:
        original = layer.backward

        def spy(grad, *, input_grad=True, _layer=layer, _original=original):
            calls.append((_layer.name, input_grad))
            return _original(grad, input_grad=input_grad)

        layer.backward = spy  # type: ignore[method-assign]
    model.layers[0].trainable = False
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X[:4], Y[:4], epochs=1, batch_size=4, verbose=0)
    # the top layer passes dx down; the middle one is the lowest trainable: no dx
    assert calls == [("dense_2", True), ("dense_1", False)]


def test_trainable_must_be_a_boolean() -> None:
    with pytest.raises(GlassnetTypeError, match="trainable"):
        Dense(1).trainable = "no"
    with pytest.raises(GlassnetTypeError, match="trainable"):
        Sequential().trainable = 0


def test_layer_call_on_arrays_builds_and_runs() -> None:
    set_random_seed(1)
    layer = Dense(2)
    out = layer(np.ones((3, 5)))
    assert out.shape == (3, 2) and layer.built
    assert layer._cache is None  # inference keeps nothing
    with pytest.raises(MissingForwardError, match="forward pass"):
        layer.backward(np.ones((3, 2)))
    set_random_seed(1)
    np.testing.assert_array_equal(Dense(2)(np.ones((3, 5))), out)


def test_dense_on_sequences_acts_on_the_last_axis() -> None:
    inputs = Input((None, 3))
    model = Model(inputs, Dense(2)(inputs))
    assert model.output_shape == (None, None, 2)
    x = RNG.normal(size=(4, 7, 3)).astype(np.float32)
    kernel, bias = model.get_weights()[:2]
    np.testing.assert_allclose(
        model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-6
    )
    model.compile(loss="mse", optimizer="sgd")
    report = gradcheck(model, x[:2], RNG.normal(size=(2, 7, 2)))
    assert report.passed, str(report)


def test_sequential_takes_an_input_first() -> None:
    model = Sequential([Input((4,)), Dense(2)])
    assert model.built and model.input_shape == (4,)
    assert [layer.name for layer in model.layers] == ["dense"]
    with pytest.raises(InvalidArgumentError, match="first entry"):
        model.add(Input((2,)))


def test_set_weights_is_checked_before_anything_changes() -> None:
    model = Sequential([Dense(2, input_dim=3), Dropout(0.5), Dense(1)])
    before = model.get_weights()
    with pytest.raises(ShapeError, match="expects a list of 4"):
        model.set_weights(before[:3])
    bad = [w + 1 for w in before]
    bad[3] = np.ones(2)
    with pytest.raises(ShapeError, match=r"dense_1/bias' has shape \(1,\)"):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_non_trainable_state_is_kept_out_of_the_optimizer_and_gradcheck() -> None:
    from glassnet.callbacks import EarlyStopping
    from glassnet.layers import BatchNormalization
    from glassnet.optimizers import AdamW

    # no bias before BatchNormalization: the batch mean would cancel it exactly (a zero
    # gradient, whose relative error against finite-difference noise means nothing)
    model = Sequential(
        [
            Dense(6, input_dim=4, use_bias=False),
            BatchNormalization(momentum=0.5),
            Dense(1),
        ],
        seed=0,
    )
    norm = model.layers[1]
    model.compile(optimizer=AdamW(weight_decay=0.5), loss="mse")
    assert [w.name for w in norm.weights] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
    ]
    assert [w.trainable for w in norm.weights] == [True, True, False, False]
    assert model.count_params() == 4 * 6 + 4 * 6 + 7
    start = norm.state["moving_mean"].copy()
    model.fit(X, Y, epochs=1, verbose=0)
    assert not np.array_equal(start, norm.state["moving_mean"])  # moved by training
    assert not any("moving" in name for name in model.optimizer.state)  # not optimized
    report = gradcheck(model, X[:5], Y[:5], training=True)
    assert report.passed and not any("moving" in name for name in report.errors)
    # EarlyStopping restores state with the weights: the best epoch is the first
    stop = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    model.compile(optimizer="sgd", loss="mse")
    before = [w.numpy() for w in model.weights]
    stop.on_train_begin()
    stop.set_model(model)
    stop.on_epoch_end(0, {"loss": 0.1})
    model.fit(X, Y, epochs=1, verbose=0)  # moves weights and moving statistics
    stop.on_epoch_end(1, {"loss": 0.2})
    stop.on_train_end()  # restores the weights of the best epoch, the first
    for a, w in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(a, w.numpy())


def test_feature_extraction_from_a_sequential_as_in_the_keras_guide() -> None:
    initial = Sequential([Input((6,)), Dense(5, activation="relu"), Dense(3), Dense(2)])
    extractor = Model(
        inputs=initial.inputs, outputs=[layer.output for layer in initial.layers]
    )
    x = RNG.normal(size=(4, 6)).astype(np.float32)
    features = extractor(x)
    assert [f.shape for f in features] == [(4, 5), (4, 3), (4, 2)]
    np.testing.assert_array_equal(features[-1], initial.predict(x, verbose=0))
    middle = Model(initial.inputs, initial.get_layer(name="dense_1").output)
    np.testing.assert_array_equal(middle(x), features[1])
    initial.pop()  # a rebuilt chain replaces its recorded calls
    assert len(initial.layers[0].inbound_nodes) == 1  # the new chain's, none stale
    with pytest.raises(InvalidArgumentError, match="never been called"):
        _ = Dense(1).output


def test_a_deep_chain_does_not_hit_the_recursion_limit() -> None:
    import sys

    depth = sys.getrecursionlimit() + 500
    inputs = Input((2,))
    x = inputs
    for _ in range(depth):
        x = Dense(2)(x)
    model = Model(inputs, x)
    assert len(model.layers) == depth + 1
    assert model.predict(np.ones((1, 2)), verbose=0).shape == (1, 2)
