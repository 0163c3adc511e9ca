"""Outputs compiled without a loss: they train nothing and still report their metrics.

Keras 3 takes ``loss=[None, ...]`` (and a dict that leaves an output out): the loss
is the sum over the other outputs, ``<output>_loss`` is logged only when more than
one output has a loss, and the metrics of every output are reported. The numbers
are compared with Keras from the same initial weights (torch backend); the guide's
snippet is in ``test_keras_training_guides.py``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from glassnet_as_keras import GlassnetAsKeras  # noqa: E402

from glassnet import gradcheck  # noqa: E402
from glassnet.errors import InvalidArgumentError  # noqa: E402
from glassnet.optimizers import SGD  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Gradients do not exist for variables"),
]

CLOSE = {"rtol": 1e-4, "atol": 1e-5}


def _three_outputs(lib: Any) -> Any:
    x = lib.Input((4,), name="x")
    hidden = lib.layers.Dense(5, activation="tanh", name="hidden")(x)
    price = lib.layers.Dense(1, name="price")(hidden)
    kind = lib.layers.Dense(3, activation="softmax", name="kind")(hidden)
    flag = lib.layers.Dense(1, activation="sigmoid", name="flag")(x)
    return lib.Model(x, [price, kind, flag])


def _data() -> tuple[Any, list[Any]]:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 4)).astype("float32")
    price = (x[:, :1] - x[:, 1:2]).astype("float32")
    kind = np.eye(3, dtype="float32")[rng.integers(0, 3, 30)]
    flag = (x[:, 2:3] > 0).astype("float32")
    return x, [price, kind, flag]


def _pair() -> tuple[Any, Any]:
    ours, theirs = _three_outputs(GlassnetAsKeras), _three_outputs(keras)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _numbers(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers(v) for v in value]
    return float(np.asarray(keras.ops.convert_to_numpy(value)))


LOSSES = {
    "one_loss": [None, "categorical_crossentropy", None],
    "two_losses": ["mse", None, "binary_crossentropy"],
}


@pytest.mark.parametrize("case", sorted(LOSSES))
def test_fit_and_evaluate_equal_keras(case: str) -> None:
    x, y = _data()
    ours, theirs = _pair()
    metrics = [["mae"], ["categorical_accuracy"], ["accuracy", "auc"]]
    ours.compile(optimizer=SGD(0.1), loss=LOSSES[case], metrics=metrics)
    theirs.compile(
        optimizer=keras.optimizers.SGD(0.1), loss=LOSSES[case], metrics=metrics
    )
    fit = {"epochs": 2, "batch_size": 8, "shuffle": False, "verbose": 0}
    val = (x[:10], [part[:10] for part in y])
    history = ours.fit(x, y, validation_data=val, **fit).history
    keras_history = theirs.fit(x, y, validation_data=val, **fit).history
    assert sorted(history) == sorted(keras_history)
    assert "price_mae" in history and "flag_auc" in history
    assert ("price_loss" in history) == (case == "two_losses")
    for key in keras_history:
        np.testing.assert_allclose(
            history[key], keras_history[key], err_msg=key, **CLOSE
        )
    np.testing.assert_allclose(
        ours.evaluate(x, y, verbose=0), _numbers(theirs.evaluate(x, y, verbose=0)),
        **CLOSE,
    )  # fmt: skip
    for ours_w, theirs_w in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(ours_w, np.asarray(theirs_w), **CLOSE)


def test_layers_only_a_lossless_output_reaches_keep_their_weights() -> None:
    x, y = _data()
    model = _three_outputs(GlassnetAsKeras)
    # first trained with a loss on every output, so every gradient is non-zero ...
    model.compile(optimizer=SGD(0.1), loss=["mse", "categorical_crossentropy", "bce"])
    model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    before = {w.path: np.array(w.value) for w in model.weights}
    # ... then `flag` has none: its layer must not move on a stale gradient
    model.compile(optimizer=SGD(0.1), loss=["mse", "categorical_crossentropy", None])
    model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    after = {w.path: np.array(w.value) for w in model.weights}
    for path in before:
        if path.startswith("flag/"):
            np.testing.assert_array_equal(after[path], before[path], err_msg=path)
        else:
            assert not np.array_equal(after[path], before[path]), path


def test_train_and_test_on_batch_equal_keras() -> None:
    x, y = _data()
    ours, theirs = _pair()
    metrics = {"price": ["mae"], "flag": ["accuracy"]}
    loss = {"price": None, "kind": "categorical_crossentropy", "flag": None}
    ours.compile(optimizer=SGD(0.1), loss=loss, metrics=metrics)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, metrics=metrics)
    for _ in range(2):
        ours_logs = ours.train_on_batch(x, y, return_dict=True)
        keras_logs = _numbers(theirs.train_on_batch(x, y, return_dict=True))
        assert sorted(ours_logs) == sorted(keras_logs)
        for key, value in keras_logs.items():
            assert ours_logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
    ours_logs = ours.test_on_batch(x, y, return_dict=True)
    keras_logs = _numbers(theirs.test_on_batch(x, y, return_dict=True))
    for key, value in keras_logs.items():
        assert ours_logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key


def test_gradcheck_skips_the_lossless_output() -> None:
    x, y = _data()
    model = _three_outputs(GlassnetAsKeras)
    model.compile(optimizer="sgd", loss=[None, "categorical_crossentropy", "bce"])
    result = gradcheck(model, x[:6], [part[:6] for part in y])
    assert result.passed, result


def test_every_loss_none_is_refused() -> None:
    model = _three_outputs(GlassnetAsKeras)
    with pytest.raises(InvalidArgumentError, match="at least one output"):
        model.compile(optimizer="sgd", loss=[None, None, None])
    with pytest.raises(InvalidArgumentError, match="needs a loss"):
        model.compile(optimizer="sgd", loss=None)
    assert not model.compiled


def test_a_dict_naming_an_unknown_output_is_still_refused() -> None:
    model = _three_outputs(GlassnetAsKeras)
    with pytest.raises(InvalidArgumentError, match=r"outputs \['prices'\]"):
        model.compile(optimizer="sgd", loss={"prices": "mse"})


def test_accuracy_of_a_lossless_output_follows_the_targets_shapes() -> None:
    # With no loss to say which, "accuracy" is chosen from the data as in Keras:
    # sparse labels for `kind`, one column (binary) for `flag`.
    x, (price, kind, flag) = _data()
    labels = kind.argmax(axis=1)
    ours, theirs = _pair()
    metrics = [[], ["accuracy"], ["acc"]]
    for model, optimizer in ((ours, SGD(0.1)), (theirs, keras.optimizers.SGD(0.1))):
        model.compile(optimizer=optimizer, loss=["mse", None, None], metrics=metrics)
    y = [price, labels, flag]
    fit = {"epochs": 2, "batch_size": 10, "shuffle": False, "verbose": 0}
    history = ours.fit(x, y, **fit).history
    keras_history = theirs.fit(x, y, **fit).history
    assert (
        sorted(history)
        == sorted(keras_history)
        == ["flag_acc", "kind_accuracy", "loss"]
    )
    for key in keras_history:
        np.testing.assert_allclose(
            history[key], keras_history[key], err_msg=key, **CLOSE
        )
