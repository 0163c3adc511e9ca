"""Hostile arguments to fit, evaluate and predict (issue 15, the Python API).

A masked array is refused (glassnet would otherwise train on the values under the
mask), flags must be booleans, every integer argument takes NumPy's integers, and a
float64 value beyond float32's range is reported as an overflow. A refused call
leaves the model as it was.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import glassnet
from glassnet import callbacks, metrics
from glassnet.errors import DataError, GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Dense
from glassnet.models import Sequential

X = np.random.default_rng(0).normal(size=(16, 3))
Y = X @ np.array([[1.0], [-2.0], [0.5]])


def _model(seed: int = 0) -> Sequential:
    model = Sequential([glassnet.Input((3,)), Dense(4), Dense(1)], seed=seed)
    model.compile(optimizer="sgd", loss="mse")
    return model


def _masked(array: np.ndarray, first: bool = True) -> np.ma.MaskedArray:
    mask = np.zeros(array.shape, dtype=bool)
    mask.flat[0] = first
    data = array.copy()
    data.flat[0] = 1e20  # what a masked entry often holds
    return np.ma.masked_array(data, mask=mask)


# -- masked arrays -------------------------------------------------------------------
W = np.ones(16)
CALLS = {
    "fit x": (lambda m: m.fit(_masked(X), Y, verbose=0), "x"),
    "fit y": (lambda m: m.fit(X, _masked(Y), verbose=0), "y"),
    "fit sample_weight": (
        lambda m: m.fit(X, Y, sample_weight=_masked(W), verbose=0),
        "sample_weight",
    ),
    "fit validation_data": (
        lambda m: m.fit(X, Y, validation_data=(X, _masked(Y)), verbose=0),
        r"validation_data\[1\]",
    ),
    "evaluate y": (lambda m: m.evaluate(X, _masked(Y), verbose=0), "y"),
    "evaluate sample_weight": (
        lambda m: m.evaluate(X, Y, sample_weight=_masked(W), verbose=0),
        "sample_weight",
    ),
    "predict": (lambda m: m.predict(_masked(X), verbose=0), "x"),
    "call": (lambda m: m(_masked(X)), "x"),
    "train_on_batch": (lambda m: m.train_on_batch(X, _masked(Y)), "y"),
    "train_on_batch weights": (
        lambda m: m.train_on_batch(X, Y, sample_weight=_masked(W)),
        "sample_weight",
    ),
    "test_on_batch": (lambda m: m.test_on_batch(_masked(X), Y), "x"),
    "predict_on_batch": (lambda m: m.predict_on_batch(_masked(X)), "x"),
    "generator": (
        lambda m: m.fit(((X, _masked(Y)) for _ in range(2)), epochs=1, verbose=0),
        r"batch 0.*y",
    ),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_masked_array_is_refused_and_the_model_is_unchanged(call):
    run, argument = call
    model = _model()
    before = model.get_weights()
    with pytest.raises(DataError, match=f"(?s){argument}.*masked array.*filled"):
        run(model)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_masked_array_with_nothing_masked_is_its_data():
    plain, masked = _model(), _model()
    plain.fit(X, Y, epochs=2, verbose=0)
    masked.fit(np.ma.masked_array(X), np.ma.masked_array(Y), epochs=2, verbose=0)
    for a, b in zip(plain.get_weights(), masked.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_masked_refusal_is_documented():
    root = os.path.join(os.path.dirname(__file__), "..")
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        assert "masked array" in f.read()


# -- flags ---------------------------------------------------------------------------
FLAGS = {
    "fit shuffle": lambda m: m.fit(X, Y, shuffle="False", verbose=0),
    "evaluate return_dict": lambda m: m.evaluate(X, Y, return_dict="no", verbose=0),
    "train_on_batch return_dict": lambda m: m.train_on_batch(X, Y, return_dict=1),
    "test_on_batch return_dict": lambda m: m.test_on_batch(X, Y, return_dict=None),
    "call training": lambda m: m(X, training="yes"),
    "summary show_trainable": lambda m: m.summary(show_trainable="yes"),
    "trainable": lambda m: setattr(m, "trainable", 0),
}


@pytest.mark.parametrize("call", FLAGS.values(), ids=FLAGS.keys())
def test_a_flag_must_be_a_boolean(call):
    model = _model()
    before = model.get_weights()
    with pytest.raises(
        (GlassnetTypeError, InvalidArgumentError), match="True or False"
    ):
        call(model)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_file_flags_must_be_booleans(tmp_path):
    model = _model()
    path = os.fspath(tmp_path / "m.keras")
    model.save(path)
    weights = os.fspath(tmp_path / "m.weights.h5")
    model.save_weights(weights)
    for call in (
        lambda: model.save(path, overwrite="False"),
        lambda: model.save_weights(weights, overwrite="no"),
        lambda: model.load_weights(weights, allow_nonfinite="no"),
        lambda: glassnet.models.load_model(path, compile="yes"),
        lambda: glassnet.models.load_model(path, allow_nonfinite=1),
    ):
        with pytest.raises(
            (GlassnetTypeError, InvalidArgumentError), match="True or False"
        ):
            call()


def test_numpy_booleans_are_booleans():
    model = _model()
    logs = model.evaluate(X, Y, return_dict=np.bool_(True), verbose=0)
    assert set(logs) == {"loss"}
    model.fit(X, Y, shuffle=np.bool_(False), verbose=0)


# -- NumPy integers ------------------------------------------------------------------
I64 = np.int64


def test_fit_takes_numpy_integers_as_python_ints():
    python, numpy = _model(), _model()
    kwargs = {"validation_data": (X, Y), "verbose": 0}
    a = python.fit(
        X, Y, batch_size=4, epochs=4, initial_epoch=1, validation_freq=2, **kwargs
    )
    b = numpy.fit(
        X,
        Y,
        batch_size=I64(4),
        epochs=I64(4),
        initial_epoch=I64(1),
        validation_freq=I64(2),
        **kwargs,
    )
    assert a.epoch == b.epoch == [1, 2, 3]
    assert a.history == b.history
    for p, q in zip(python.get_weights(), numpy.get_weights(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_validation_freq_takes_a_list_of_numpy_integers():
    history = _model().fit(
        X,
        Y,
        epochs=3,
        validation_data=(X, Y),
        validation_freq=[I64(1), np.int32(3)],
        verbose=0,
    )
    assert len(history.history["val_loss"]) == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: _model().evaluate(
            X, Y, batch_size=np.int32(4), steps=I64(2), verbose=0
        ),
        lambda: _model().predict(X, batch_size=np.uint8(4), verbose=I64(0)),
        lambda: callbacks.ModelCheckpoint("m.keras", save_freq=I64(2)),
        lambda: callbacks.EarlyStopping(patience=I64(2), start_from_epoch=I64(1)),
        lambda: metrics.R2Score(num_regressors=I64(1)),
        lambda: metrics.BinaryAccuracy(threshold=np.float32(0.5)),
        lambda: Dense(I64(3), input_dim=np.int16(2)),
        lambda: Sequential(seed=I64(3)),
        lambda: _model().get_layer(index=I64(0)),
        lambda: glassnet.utils.to_categorical([0, 1], num_classes=I64(3)),
    ],
)
def test_numpy_integers_are_accepted_wherever_ints_are(make):
    make()


def test_numpy_integers_give_what_python_ints_give():
    a = metrics.R2Score(num_regressors=1)
    b = metrics.R2Score(num_regressors=I64(1))
    y_true, y_pred = (
        np.array([[1.0], [2.0], [4.0], [3.0]]),
        np.array([[1.5], [2.0], [3.0], [3.5]]),
    )
    a.update_state(y_true, y_pred)
    b.update_state(y_true, y_pred)
    assert a.result() == b.result()
    assert type(b.get_config()["num_regressors"]) is int


@pytest.mark.parametrize("value", [True, 1.0, "1", I64(5), I64(-1)])
def test_initial_epoch_still_refuses_what_is_not_an_epoch(value):
    with pytest.raises(InvalidArgumentError, match="initial_epoch"):
        _model().fit(X, Y, epochs=5, initial_epoch=value, verbose=0)


# -- values beyond float32 -----------------------------------------------------------
def test_a_float64_value_beyond_float32_is_reported_as_an_overflow():
    x = X.copy()
    x[3, 1] = 1e39
    model = _model()
    with pytest.raises(
        DataError, match=r"too large for float32.*1e\+39 at index \(3, 1\)"
    ):
        model.predict(x, verbose=0)
    with pytest.raises(DataError, match="`y` holds values too large for float32"):
        model.fit(X, np.full((16, 1), -1e39), verbose=0)


def test_nan_and_inf_are_still_reported_as_such():
    x = X.copy()
    x[0, 0] = np.inf
    with pytest.raises(DataError, match="NaN or inf"):
        _model().predict(x, verbose=0)


def test_a_float64_model_takes_what_float32_cannot_hold():
    model = Sequential(
        [glassnet.Input((1,), dtype="float64"), Dense(1, kernel_initializer="ones")]
    )
    assert model.predict(np.array([[1e39]]), verbose=0)[0, 0] == 1e39
