"""Callback hooks: which run, in what order, with which logs and params (as Keras 3).

A recording callback runs in glassnet and in Keras (PyTorch backend) on the same
model and data; the sequences of hooks, the log keys and the running values must
agree. Batch logs cost time, so glassnet computes them only for a callback that
reads them; the tests check that too.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

import glassnet
from glassnet.callbacks import (
    Callback,
    CallbackList,
    History,
    LambdaCallback,
    ProgressBar,
    TerminateOnNaN,
)
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD

RNG = np.random.default_rng(3)
X = RNG.normal(size=(40, 3)).astype("float32")
Y = (X.sum(axis=1, keepdims=True) > 0).astype("float32")
HOOKS = [
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
    "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
]  # fmt: skip


def recorder(library: Any) -> Any:
    """A callback of ``library`` that records every hook: (name, index, logs)."""

    class Record(library.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[tuple[Any, ...]] = []

    def hook(name: str) -> Any:
        def method(self: Any, *args: Any, logs: Any = None) -> None:
            if len(args) == 2 or (len(args) == 1 and not isinstance(args[0], int)):
                logs = args[-1]  # passed by position (glassnet passes both so)
            assert isinstance(logs, dict), f"{name} got {logs!r}"
            index = args[0] if args and isinstance(args[0], int) else None
            self.calls.append((name, index, dict(logs)))

        return method

    for name in HOOKS:
        setattr(Record, name, hook(name))
    return Record()


def model_of(library: Any, weights: Any = None) -> Any:
    model = library.Sequential(
        [
            library.Input((3,)),
            library.layers.Dense(4, activation="tanh"),
            library.layers.Dense(1, activation="sigmoid"),
        ]
    )
    if weights is not None:
        model.set_weights(weights)
    model.compile(
        optimizer=library.optimizers.SGD(0.1),
        loss="binary_crossentropy",
        metrics=["accuracy", library.metrics.AUC(name="auc")],
    )
    return model


def run_everything(library: Any, weights: Any) -> Any:
    model = model_of(library, weights)
    record = recorder(library)
    model.fit(
        X, Y, batch_size=16, epochs=2, validation_data=(X[:24], Y[:24]),
        callbacks=[record], shuffle=False, verbose=0,
    )  # fmt: skip
    model.evaluate(X, Y, batch_size=16, callbacks=[record], verbose=0)
    model.predict(X, batch_size=16, callbacks=[record], verbose=0)
    return record


def test_every_hook_runs_in_keras_order_with_keras_logs() -> None:
    keras = pytest.importorskip("keras")
    weights = model_of(glassnet).get_weights()
    ours = run_everything(glassnet, weights)
    theirs = run_everything(keras, weights)
    assert [c[:2] for c in ours.calls] == [c[:2] for c in theirs.calls]
    for (name, index, logs), (_, _, their_logs) in zip(
        ours.calls, theirs.calls, strict=True
    ):
        if name == "on_predict_batch_end":
            assert list(logs) == ["outputs"]
            np.testing.assert_allclose(
                logs["outputs"], keras.ops.convert_to_numpy(their_logs["outputs"]),
                rtol=1e-5, atol=1e-6,
            )  # fmt: skip
            continue
        assert sorted(logs) == sorted(their_logs), (name, index)
        for key in their_logs:  # running means, AUC accumulated so far
            assert logs[key] == pytest.approx(float(their_logs[key]), rel=1e-5), (
                name,
                index,
                key,
            )


def test_params_are_keras_epochs_steps_verbose() -> None:
    record = recorder(glassnet)
    model = model_of(glassnet)
    model.fit(X, Y, batch_size=16, epochs=3, callbacks=[record], verbose=0)
    assert {"epochs": 3, "steps": 3, "verbose": 0}.items() <= record.params.items()
    assert record.model is model
    model.fit(
        (b for b in [(X[:20], Y[:20]), (X[20:], Y[20:])]), callbacks=[record], verbose=0
    )
    assert record.params["steps"] is None  # a generator's length is unknown
    model.evaluate(X, Y, batch_size=8, callbacks=[record], verbose=0)
    assert record.params == {"verbose": 0, "epochs": 1, "steps": 5}


def test_batch_logs_are_computed_only_for_a_callback_that_reads_them() -> None:
    class Quiet(Callback):
        uses_batch_logs = False

        def on_train_batch_end(self, batch, logs=None):
            self.seen = logs

    assert not CallbackList([History(), ProgressBar(1)]).wants_batch_logs
    assert CallbackList([Quiet()]).wants_batch_hooks
    assert not CallbackList([Quiet()]).wants_batch_logs
    quiet = Quiet()
    model_of(glassnet).fit(X, Y, callbacks=[quiet], verbose=0)
    assert quiet.seen == {}
    assert CallbackList([recorder(glassnet)]).wants_batch_logs


def test_keras_2_batch_hook_names_are_the_train_hooks() -> None:
    class Old(Callback):
        def __init__(self) -> None:
            super().__init__()
            self.losses: list[float] = []

        def on_batch_end(self, batch, logs=None):
            self.losses.append(logs["loss"])

    old = Old()
    history = model_of(glassnet).fit(X, Y, batch_size=10, callbacks=[old], verbose=0)
    assert len(old.losses) == 4 and old.losses[-1] == history.history["loss"][0]


def test_lambda_callback_takes_any_hook_as_a_function() -> None:
    seen: list[Any] = []
    callback = LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(("epoch", epoch)),
        on_train_batch_end=lambda batch, logs: seen.append(("batch", batch)),
        on_test_end=lambda logs: seen.append(("test", sorted(logs))),
    )
    model = model_of(glassnet)
    model.fit(X, Y, batch_size=20, epochs=1, callbacks=[callback], verbose=0)
    model.evaluate(X, Y, callbacks=[callback], verbose=0)
    assert seen == [
        ("batch", 0),
        ("batch", 1),
        ("epoch", 0),
        ("test", ["accuracy", "auc", "loss"]),
    ]
    with pytest.raises(InvalidArgumentError, match="on_epoch_ended"):
        LambdaCallback(on_epoch_ended=print)
    with pytest.raises(GlassnetTypeError, match="on_train_end"):
        LambdaCallback(on_train_end="print")


@pytest.mark.filterwarnings("ignore:The loss became NaN")
def test_terminate_on_nan_stops_at_the_first_nan_batch(capsys) -> None:
    model = Sequential([Dense(1, input_dim=3)], seed=0)
    model.compile(optimizer=SGD(1e20), loss="mse")
    history = model.fit(
        X * 1e10, Y, batch_size=4, epochs=5, callbacks=[TerminateOnNaN()], verbose=0
    )
    steps = model.optimizer.iterations
    assert steps < 10 and len(history.epoch) == 1
    assert (
        f"Batch {steps - 1}: Invalid loss, terminating training"
        in capsys.readouterr().out
    )
    model = Sequential([Dense(1, input_dim=3)], seed=0)
    model.compile(optimizer=SGD(1e20), loss="mse")
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch"):
        model.fit(
            X * 1e10, Y, batch_size=4, callbacks=[TerminateOnNaN(True)], verbose=0
        )


def test_test_batch_hooks_see_every_evaluation_batch() -> None:
    class Count(Callback):
        def on_test_batch_begin(self, batch, logs=None):
            self.batches = batch + 1

    count = Count()
    model_of(glassnet).evaluate(X, Y, batch_size=7, callbacks=[count], verbose=0)
    assert count.batches == 6


def test_callbacks_must_be_callbacks() -> None:
    with pytest.raises(GlassnetTypeError, match="glassnet Callback"):
        model_of(glassnet).fit(X, Y, callbacks=[print], verbose=0)
    with pytest.raises(GlassnetTypeError, match="glassnet Callback"):
        model_of(glassnet).predict(X, callbacks=[object()], verbose=0)
