"""EarlyStopping and ReduceLROnPlateau against Keras 3, on the same monitored values.

A first callback writes a fixed sequence into the logs (``score``), so both
libraries' callbacks see exactly the same values; their decisions (the epochs run,
the learning rate each epoch) must agree.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

import glassnet
from glassnet.callbacks import EarlyStopping, ReduceLROnPlateau
from glassnet.callbacks.monitor import monitor_direction
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD, schedules

X = np.linspace(-1, 1, 16, dtype="float32").reshape(-1, 2)
Y = X.sum(axis=1, keepdims=True)
SCORES = [5.0, 4.0, 4.0, 3.99, 3.995, 4.5, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0]


def scored_fit(library: Any, callback: Any, epochs: int = len(SCORES)) -> Any:
    class Score(library.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = SCORES[epoch]

    model = library.Sequential([library.Input((2,)), library.layers.Dense(1)])
    model.compile(optimizer=library.optimizers.SGD(0.01), loss="mse")
    history = model.fit(
        X, Y, epochs=epochs, callbacks=[Score(), callback], verbose=0, shuffle=False
    )
    return history, model


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 1},
        {"patience": 2, "min_delta": 0.01},
        {"patience": 1, "cooldown": 2},
        {"patience": 1, "factor": 0.5, "min_lr": 0.004},
        {"patience": 0, "mode": "max"},
    ],
)
def test_reduce_lr_on_plateau_decides_as_keras(kwargs: dict[str, Any]) -> None:
    keras = pytest.importorskip("keras")
    mode = kwargs.pop("mode", "min")
    ours, _ = scored_fit(glassnet, ReduceLROnPlateau("score", mode=mode, **kwargs))
    theirs, _ = scored_fit(
        keras, keras.callbacks.ReduceLROnPlateau("score", mode=mode, **kwargs)
    )
    np.testing.assert_allclose(
        ours.history["learning_rate"], theirs.history["learning_rate"], rtol=1e-6
    )
    assert len(set(ours.history["learning_rate"])) > 1  # it did reduce


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 1},
        {"patience": 2, "min_delta": 0.5},
        {"patience": 1, "baseline": 3.0},
        {"patience": 0, "start_from_epoch": 4},
    ],
)
def test_early_stopping_stops_where_keras_does(kwargs: dict[str, Any]) -> None:
    keras = pytest.importorskip("keras")
    ours, _ = scored_fit(glassnet, EarlyStopping("score", mode="min", **kwargs))
    theirs, _ = scored_fit(
        keras, keras.callbacks.EarlyStopping("score", mode="min", **kwargs)
    )
    assert ours.epoch == theirs.epoch


def test_early_stopping_restores_the_best_epoch_as_keras(capsys) -> None:
    stop = EarlyStopping("score", patience=2, restore_best_weights=True, verbose=1)
    history, _ = scored_fit(glassnet, stop)
    assert stop.best_epoch == 3 and history.epoch[-1] == 5
    assert "Restoring model weights from the end of the best epoch: 4." in (
        capsys.readouterr().out
    )


def test_auto_mode_reads_the_direction_from_the_metric() -> None:
    model = Sequential([Dense(2, input_dim=2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy", "mae"])
    assert monitor_direction(model, "val_accuracy") == "max"
    assert monitor_direction(model, "mae") == "min"
    assert monitor_direction(model, "val_loss") == "min"
    assert monitor_direction(model, "my_auc_score") == "max"  # by its name


def test_reduce_lr_on_plateau_refuses_a_schedule_before_training() -> None:
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    rate = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model.compile(optimizer=SGD(rate), loss="mse")
    before = model.get_weights()
    with pytest.raises(InvalidArgumentError, match="schedule"):
        model.fit(X, Y, callbacks=[ReduceLROnPlateau("loss")], verbose=0)
    assert model.optimizer.iterations == 0
    np.testing.assert_array_equal(before[0], model.get_weights()[0])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"factor": 1.0}, InvalidArgumentError, r"factor.*\(0, 1\)"),
        ({"factor": 0.0}, InvalidArgumentError, r"factor.*\(0, 1\)"),
        ({"patience": -1}, InvalidArgumentError, "patience"),
        ({"cooldown": 1.5}, InvalidArgumentError, "cooldown"),
        ({"mode": "maximum"}, InvalidArgumentError, "mode"),
        ({"monitor": 3}, GlassnetTypeError, "monitor"),
    ],
)
def test_bad_reduce_lr_arguments(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        ReduceLROnPlateau(**kwargs)


def test_a_monitor_missing_from_the_logs_is_explained() -> None:
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(InvalidArgumentError, match=r"'val_loss'.*Available: loss"):
        model.fit(X, Y, callbacks=[ReduceLROnPlateau()], verbose=0)
