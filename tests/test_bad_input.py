"""Bad input gets a clear error naming the argument, and leaves the model unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.errors import (
    DataError,
    GlassnetError,
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
    NotCompiledError,
    ShapeError,
    UnknownNameError,
)
from glassnet.layers import Activation, Dense, Dropout
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adam


@pytest.fixture
def model() -> Sequential:
    model = Sequential(seed=0)
    model.add(Dense(4, activation="tanh", input_dim=2))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(
        loss="binary_crossentropy",
        optimizer=SGD(learning_rate=0.1),
        metrics=["accuracy"],
    )
    return model


X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([[0], [1], [1], [0]], dtype=float)


def assert_unchanged(model: Sequential, before: list[np.ndarray]) -> None:
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_error_types_subclass_the_builtins() -> None:
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, GlassnetError)
    assert issubclass(DataError, ValueError)
    assert issubclass(InvalidArgumentError, ValueError)
    assert issubclass(UnknownNameError, ValueError)
    assert issubclass(GlassnetTypeError, TypeError)
    assert issubclass(NotCompiledError, RuntimeError)
    assert issubclass(NotBuiltError, RuntimeError)


@pytest.mark.parametrize(
    ("x", "y", "error", "match"),
    [
        (X[:, :1], Y, ShapeError, r"`x` has \(1,\) features .* built for \(2,\)"),
        (np.ones((4, 3)), Y, ShapeError, r"Received: x.shape=\(4, 3\)"),
        (
            X[0],
            Y[:1],
            ShapeError,
            r"must be 2-D \(samples, features\).*reshape\(1, -1\)",
        ),
        (np.where(X == 1, np.nan, X), Y, DataError, r"`x` contains NaN or inf"),
        (np.where(X == 1, np.inf, X), Y, DataError, r"`x` contains NaN or inf"),
        (X, np.where(Y == 1, np.nan, Y), DataError, r"`y` contains NaN or inf"),
        (X[:3], Y, DataError, r"same number of samples. Received: 3 and 4"),
        (np.empty((0, 2)), np.empty((0, 1)), DataError, r"`x` is empty"),
        (
            [["a", "b"], ["c", "d"]],
            Y[:2],
            GlassnetTypeError,
            r"`x` must contain numbers",
        ),
        ("x.csv", Y, GlassnetTypeError, r"`x` must be numeric"),
        ([[0, 1], [1]], Y[:2], DataError, r"rectangular"),
        (X, Y * 2, DataError, r"\[0, 1\]"),
        (X, np.ones((4, 2)), ShapeError, r"y"),
    ],
)
def test_fit_rejects_bad_data_and_leaves_the_model_unchanged(
    model, x, y, error, match
) -> None:
    before = model.get_weights()
    iterations = model.optimizer.iterations
    with pytest.raises(error, match=match):
        model.fit(x, y, epochs=1, verbose=0)
    assert_unchanged(model, before)
    assert model.optimizer.iterations == iterations


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"epochs": 0},
            InvalidArgumentError,
            r"`epochs` must be a positive integer. Received: epochs=0",
        ),
        ({"epochs": -3}, InvalidArgumentError, r"epochs=-3"),
        ({"epochs": 2.5}, GlassnetTypeError, r"epochs=2.5"),
        ({"epochs": True}, GlassnetTypeError, r"epochs=True"),
        (
            {"batch_size": 0},
            InvalidArgumentError,
            r"`batch_size` must be a positive integer",
        ),
        ({"batch_size": "32"}, GlassnetTypeError, r"batch_size='32'"),
        ({"verbose": 3}, InvalidArgumentError, r"`verbose` must be 0, 1, 2 or 'auto'"),
        ({"validation_split": 1.0}, InvalidArgumentError, r"validation_split"),
        ({"validation_split": 0.8}, DataError, r"leaves no training or no validation"),
        ({"shuffle": "yes"}, GlassnetTypeError, r"`shuffle` must be True or False"),
        ({"callbacks": ["early"]}, GlassnetTypeError, r"glassnet Callback"),
        ({"validation_data": (X,)}, GlassnetTypeError, r"validation_data"),
        ({"validation_data": (X[:, :1], Y)}, ShapeError, r"`x_val`"),
    ],
)
def test_fit_rejects_bad_arguments(model, kwargs, error, match) -> None:
    before = model.get_weights()
    with pytest.raises(error, match=match):
        model.fit(X, Y, **{"verbose": 0, **kwargs})
    assert_unchanged(model, before)


def test_fit_before_compile() -> None:
    model = Sequential([Dense(1, input_dim=2)])
    with pytest.raises(NotCompiledError, match=r"compile the model before calling fit"):
        model.fit(X, Y)
    with pytest.raises(NotCompiledError, match="evaluate"):
        model.evaluate(X, Y)


def test_predict_builds_an_unbuilt_model_as_fit_does() -> None:
    model = Sequential([Dense(1)])
    with pytest.raises(NotBuiltError):
        model.summary()
    with pytest.raises(NotBuiltError):
        model.count_params()
    assert not model.built
    assert model.predict(X, verbose=0).shape == (len(X), 1)
    assert model.built and model.input_shape == X.shape[1:]


def test_predict_checks_the_feature_count(model) -> None:
    with pytest.raises(
        ShapeError, match=r"built for \(2,\). Received: x.shape=\(2, 5\)"
    ):
        model.predict(np.ones((2, 5)))


def test_rebuilding_with_another_shape_is_refused(model) -> None:
    before = model.get_weights()
    model.build((None, 2))  # same shape: nothing happens
    assert_unchanged(model, before)
    with pytest.raises(ShapeError, match=r"already built for input shape \(2,\)"):
        model.build((None, 3))
    assert_unchanged(model, before)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: Dense(0),
            InvalidArgumentError,
            r"`units` must be a positive integer. Received: units=0",
        ),
        (lambda: Dense(-1), InvalidArgumentError, r"units=-1"),
        (lambda: Dense(True), GlassnetTypeError, r"units=True \(bool\)"),
        (lambda: Dense(2.0), GlassnetTypeError, r"units=2.0"),
        (lambda: Dense("10"), GlassnetTypeError, r"units='10'"),
        (lambda: Dense(3, activation="rleu"), UnknownNameError, r"Did you mean 'relu'"),
        (
            lambda: Dense(3, kernel_initializer="glorot_unifrom"),
            UnknownNameError,
            r"glorot_uniform",
        ),
        (lambda: Dense(3, input_dim=0), InvalidArgumentError, r"input_dim"),
        (
            lambda: Dense(3, input_dim=2, input_shape=(2,)),
            InvalidArgumentError,
            r"not both",
        ),
        (lambda: Activation("sigmiod"), UnknownNameError, r"Did you mean 'sigmoid'"),
        (
            lambda: Dropout(1.0),
            InvalidArgumentError,
            r"`rate` must be a number in \[0.0, 1.0\)",
        ),
        (lambda: Dropout(-0.1), InvalidArgumentError, r"rate=-0.1"),
        (lambda: SGD(learning_rate=0), InvalidArgumentError, r"learning_rate"),
        (lambda: SGD(learning_rate=-0.1), InvalidArgumentError, r"learning_rate"),
        (
            lambda: Adam(learning_rate=float("nan")),
            InvalidArgumentError,
            r"learning_rate",
        ),
        (
            lambda: Sequential(dtype="float16"),
            InvalidArgumentError,
            r"'float32' or 'float64'",
        ),
        (lambda: Sequential(seed=-1), GlassnetTypeError, r"seed"),
        (lambda: Sequential(layers="dense"), GlassnetTypeError, r"layers"),
    ],
)
def test_constructors_reject_bad_arguments(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


def test_compile_rejects_unknown_names_with_suggestions() -> None:
    model = Sequential([Dense(1, input_dim=2)])
    with pytest.raises(
        UnknownNameError,
        match=r"Unknown loss 'binary_crossentropyy'.*Did you mean 'binary_crossentropy'",
    ):
        model.compile(loss="binary_crossentropyy", optimizer="sgd")
    with pytest.raises(UnknownNameError, match=r"Did you mean 'adam'"):
        model.compile(loss="mse", optimizer="adma")
    with pytest.raises(UnknownNameError, match=r"Unknown metric"):
        model.compile(loss="mse", optimizer="sgd", metrics=["acuracy"])
    with pytest.raises(GlassnetTypeError, match=r"metrics"):
        model.compile(loss="mse", optimizer="sgd", metrics="accuracy")
    with pytest.raises(InvalidArgumentError, match=r"needs a loss"):
        model.compile(optimizer="sgd")
    assert not model.compiled


def test_labels_that_do_not_fit_the_loss() -> None:
    model = Sequential([Dense(3, activation="softmax", input_dim=2)], seed=0)
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    with pytest.raises(DataError, match=r"sparse_categorical_crossentropy"):
        model.fit(np.ones((3, 2)), np.array([0, 1, 2]), verbose=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    with pytest.raises(DataError, match=r"\[0, 3\)"):
        model.fit(np.ones((3, 2)), np.array([0, 1, 3]), verbose=0)
    with pytest.raises(DataError):
        model.fit(np.ones((3, 2)), np.array([0, 1.5, 2]), verbose=0)


def test_set_weights_is_all_or_nothing(model) -> None:
    before = model.get_weights()
    bad = [w.copy() for w in before]
    bad[0] = bad[0] + 1.0
    bad[2] = np.ones((5, 5))
    with pytest.raises(ShapeError, match=r"dense_1/kernel' has shape \(4, 1\)"):
        model.set_weights(bad)
    assert_unchanged(model, before)
    with pytest.raises(ShapeError, match=r"list of 4 arrays"):
        model.set_weights(before[:2])
    nan = [w.copy() for w in before]
    nan[1][0] = np.nan
    with pytest.raises(DataError, match=r"NaN"):
        model.set_weights(nan)
    assert_unchanged(model, before)


def test_add_rejects_non_layers_and_duplicates() -> None:
    model = Sequential()
    with pytest.raises(GlassnetTypeError, match=r"expects a glassnet Layer"):
        model.add("dense")
    layer = Dense(2, input_dim=2)
    model.add(layer)
    with pytest.raises(InvalidArgumentError, match=r"already in this model"):
        model.add(layer)
    with pytest.raises(InvalidArgumentError, match=r"unique names"):
        model.add(Dense(2, name="dense"))
    with pytest.raises(InvalidArgumentError, match=r"Only the first layer"):
        model.add(Dense(2, input_dim=2))
    assert len(model.layers) == 1


def test_gradient_check_arguments() -> None:
    from glassnet import gradcheck

    with pytest.raises(GlassnetTypeError, match=r"gradcheck checks"):
        gradcheck("relu", np.ones((1, 2)))
    with pytest.raises(InvalidArgumentError, match=r"needs a loss"):
        gradcheck(Sequential([Dense(1, input_dim=2)]), np.ones((1, 2)), np.ones((1, 1)))


def test_unknown_config_keys_are_named_with_a_suggestion() -> None:
    from glassnet.errors import InvalidArgumentError
    from glassnet.initializers import GlorotUniform, RandomNormal
    from glassnet.optimizers import Adam

    with pytest.raises(InvalidArgumentError, match=r"'stdev'.*Did you mean 'stddev'"):
        RandomNormal.from_config({"stdev": 1.0})
    with pytest.raises(InvalidArgumentError, match=r"'seed'.*Accepted: none\."):
        GlorotUniform.from_config({"seed": 1})
    with pytest.raises(InvalidArgumentError, match=r"'beta1' in a Adam.*'beta_1'"):
        Adam.from_config({"beta1": 0.9})
    assert Adam.from_config({"beta_1": 0.8}).beta_1 == 0.8
