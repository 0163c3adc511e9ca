"""The training loop: a hand-worked step, gradient-descent modes, callbacks."""

from __future__ import annotations

import io
import math
from contextlib import redirect_stdout

import numpy as np
import pytest

from glassnet.callbacks import Callback, EarlyStopping, LearningRateScheduler
from glassnet.errors import TrainingWarning
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adam


def seed_001_network() -> Sequential:
    """seeds/001: a 2-2-1 sigmoid network with every weight 1 and every bias 0."""
    model = Sequential(dtype="float64")
    model.add(Dense(2, activation="sigmoid", input_dim=2))
    model.add(Dense(1, activation="sigmoid"))
    model.set_weights([np.ones((2, 2)), np.zeros(2), np.ones((2, 1)), np.zeros(1)])
    return model


def test_hand_worked_chain_rule_of_seed_001() -> None:
    # x = [-2, -1], y = 1, all weights 1, biases 0:
    #   h1 = h2 = sigmoid(-2 - 1) = sigmoid(-3) = 0.0474259
    #   o1 = sigmoid(h1 + h2)     = sigmoid(0.0948517) = 0.5236951
    #   dL/do1   = -2 (1 - o1)                 = -0.9526097
    #   do1/dh1  = w5 * o1 (1 - o1)            =  0.2494394
    #   dh1/dw1  = x1 * h1 (1 - h1) = -2 * 0.0451767 = -0.0903533
    #   dL/dw1   = product                     =  0.0214695...
    model = seed_001_network()
    x, y = np.array([[-2.0, -1.0]]), np.array([[1.0]])
    model.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
    out = model.forward(x, keep_cache=True)
    assert out[0, 0] == pytest.approx(0.5236951, abs=1e-7)
    model.backward(model.loss.backward(y, out))
    h1 = 1 / (1 + math.exp(3))
    o1 = 1 / (1 + math.exp(-2 * h1))
    expected = -2 * (1 - o1) * (o1 * (1 - o1)) * (-2 * h1 * (1 - h1))
    d_w1 = model.layers[0].grads["W"][0, 0]
    assert d_w1 == pytest.approx(expected, rel=1e-12)
    assert d_w1 == pytest.approx(0.0214695, abs=1e-7)


def test_one_sgd_step_moves_each_weight_by_learning_rate_times_gradient() -> None:
    model = seed_001_network()
    model.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
    x, y = np.array([[-2.0, -1.0]]), np.array([[1.0]])
    before = model.get_weights()
    out = model.forward(x, keep_cache=True)
    model.backward(model.loss.backward(y, out))
    grads = [g.copy() for _, _, g in model.parameter_triples()]
    model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
    for w0, w1, g in zip(before, model.get_weights(), grads, strict=True):
        np.testing.assert_allclose(w1, w0 - 0.1 * g, rtol=0, atol=1e-15)


def test_loss_is_a_batch_mean_so_batch_size_does_not_scale_the_step() -> None:
    # The same sample repeated 4 times gives the same gradient as the sample alone.
    x, y = np.array([[-2.0, -1.0]]), np.array([[1.0]])
    single, repeated = seed_001_network(), seed_001_network()
    for model in (single, repeated):
        model.compile(loss="mse", optimizer=SGD(learning_rate=0.5))
    single.fit(x, y, epochs=1, batch_size=1, verbose=0)
    repeated.fit(
        np.repeat(x, 4, 0), np.repeat(y, 4, 0), epochs=1, batch_size=4, verbose=0
    )
    for a, b in zip(single.get_weights(), repeated.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


class CountSteps(Callback):
    def __init__(self, batches: list[int]) -> None:
        self.batches = batches

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)  # Keras 3's batch logs hold no "size"


def test_batch_minibatch_and_stochastic_are_one_loop(xor) -> None:
    x, y = xor
    counts = {}
    for batch_size in (4, 2, 1):
        model = Sequential([Dense(3, activation="tanh", input_dim=2), Dense(1)], seed=0)
        model.compile(loss="mse", optimizer="sgd")
        steps: list[int] = []
        model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=3,
            verbose=0,
            callbacks=[CountSteps(steps)],
        )
        counts[batch_size] = steps
        assert model.optimizer.iterations == len(steps)
    assert counts == {4: [0] * 3, 2: [0, 1] * 3, 1: [0, 1, 2, 3] * 3}


def test_epoch_loss_equals_the_weighted_mean_of_batch_losses(xor) -> None:
    x, y = xor
    model = Sequential(
        [Dense(1, activation="sigmoid", input_dim=2)], seed=0, dtype="float64"
    )
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=0.0001))
    batch_losses = []
    for xb, yb in ((x[:3], y[:3]), (x[3:], y[3:])):
        batch_losses.append(
            model.loss.forward(yb, model.predict(xb, verbose=0)) * len(xb)
        )
    model.optimizer.learning_rate = 1e-300  # leaves weights unchanged in float64
    history = model.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False)
    assert history.history["loss"][0] == pytest.approx(sum(batch_losses) / 4, rel=1e-12)


def test_shuffle_is_seeded(xor) -> None:
    x, y = xor
    results = []
    for seed in (3, 3, 4):
        model = Sequential([Dense(1, input_dim=2)], seed=seed)
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, batch_size=1, epochs=2, verbose=0)
        results.append(model.get_weights()[0])
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], results[2])


def test_validation_split_holds_out_the_last_samples() -> None:
    x = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10, dtype=float).reshape(10, 1)
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer=SGD(learning_rate=1e-4), metrics=["mae"])
    seen = []

    class Record(Callback):
        def on_train_begin(self, logs=None):
            seen.append(self.params["samples"])

    history = model.fit(
        x, y, validation_split=0.2, epochs=2, verbose=0, callbacks=[Record()]
    )
    assert seen == [8]
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    expected = model.evaluate(x[8:], y[8:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(expected[0], rel=1e-5)


def test_validation_data(xor) -> None:
    x, y = xor
    model = Sequential([Dense(1, input_dim=2, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0)
    assert "val_accuracy" in history.history


def test_early_stopping_restores_the_best_weights(xor) -> None:
    x, y = xor
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer=SGD(learning_rate=0.05))
    scores = [5.0, 3.0, 1.0, 2.0, 4.0, 6.0, 7.0, 8.0]  # best at epoch 2
    weights_at_end_of = []

    class InjectScore(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = scores[epoch]
            weights_at_end_of.append(self.model.get_weights())

    stop = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=8, verbose=0, callbacks=[InjectScore(), stop])
    assert history.epoch == [0, 1, 2, 3, 4]  # two epochs without improvement after 2
    assert stop.best_epoch == 2 and stop.stopped_epoch == 4
    for restored, best in zip(model.get_weights(), weights_at_end_of[2], strict=True):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(model.get_weights()[0], weights_at_end_of[4][0])


def test_early_stopping_patience_counts_epochs_without_improvement(xor) -> None:
    x, y = xor
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer=SGD(learning_rate=1e-3))
    stop = EarlyStopping(monitor="loss", patience=3, min_delta=1.0)
    history = model.fit(x, y, epochs=50, verbose=0, callbacks=[stop])
    assert len(history.epoch) == 4  # epoch 0 sets the best, then 3 without improvement


def test_early_stopping_unknown_monitor_is_explained(xor) -> None:
    x, y = xor
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="val_loss"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[EarlyStopping()])


def test_learning_rate_scheduler_sets_the_rate_each_epoch(xor) -> None:
    x, y = xor
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
    scheduler = LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[scheduler])
    assert history.history["learning_rate"] == pytest.approx(
        [0.1, 0.05, 0.1 / 3, 0.025]
    )
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_nan_loss_stops_training_with_advice(xor) -> None:
    x, y = xor
    model = Sequential([Dense(8, input_dim=2), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=SGD(learning_rate=1e6))
    with pytest.warns(TrainingWarning, match="smaller learning_rate"):
        history = model.fit(x * 1e3, y, epochs=50, verbose=0)
    assert len(history.epoch) < 50
    assert not math.isfinite(history.history["loss"][-1])


def test_verbose_2_prints_one_line_per_epoch(xor) -> None:
    x, y = xor
    model = Sequential([Dense(1, input_dim=2, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
    out = io.StringIO()
    with redirect_stdout(out):
        model.fit(x, y, epochs=3, verbose=2)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert len(lines) == 3
    assert (
        lines[0].startswith("Epoch 1/3")
        and "loss: " in lines[0]
        and "accuracy: " in lines[0]
    )


def test_verbose_0_prints_nothing(xor, capsys) -> None:
    x, y = xor
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, y, epochs=3, verbose=0)
    model.predict(x, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_fused_sigmoid_cross_entropy_stays_finite_for_saturated_outputs() -> None:
    # A huge logit makes p(1 - p) underflow to 0 in float32; the fused gradient
    # (p - y) still pushes the weight the right way.
    model = Sequential([Dense(1, activation="sigmoid", input_dim=1)], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=0.1))
    model.set_weights([np.array([[100.0]]), np.array([0.0])])
    x, y = np.array([[1.0]]), np.array([[0.0]])
    model.fit(x, y, epochs=1, verbose=0)
    assert model.get_weights()[0][0, 0] < 100.0


def test_softmax_cross_entropy_learns_three_classes() -> None:
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [4, 0], [0, 4]], dtype=float)
    labels = rng.integers(0, 3, 150)
    x = centers[labels] + rng.normal(scale=0.5, size=(150, 2))
    model = Sequential(
        [Dense(8, activation="relu", input_dim=2), Dense(3, activation="softmax")],
        seed=0,
    )
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=Adam(learning_rate=0.01),
        metrics=["accuracy"],
    )
    history = model.fit(x, labels, epochs=60, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    onehot = np.eye(3)[labels]
    model.compile(
        loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
    )
    assert model.evaluate(x, onehot, verbose=0)[1] > 0.95


def test_stop_training_set_by_a_batch_callback_ends_the_epoch_there() -> None:
    # As in Keras: fit checks model.stop_training after every batch; the epoch's
    # logs then cover only the rows trained, and on_epoch_end still runs.
    class StopAfterThirdBatch(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x.sum(axis=1, keepdims=True)
    model = Sequential([Dense(1, input_dim=3)], seed=0, dtype="float64")
    model.compile(optimizer=SGD(0.01), loss="mse")
    reference = Sequential.from_config(model.get_config(), dtype="float64")
    reference.set_weights(model.get_weights())
    reference.compile(optimizer=SGD(0.01), loss="mse")
    history = model.fit(
        x, y, batch_size=4, epochs=5, shuffle=False, verbose=0,
        callbacks=[StopAfterThirdBatch()],
    )  # fmt: skip
    assert model.optimizer.iterations == 3 and len(history.history["loss"]) == 1
    # The same three batches, trained by hand, give the same weights and loss.
    losses = []
    for start in (0, 4, 8):
        losses.append(reference.evaluate(x[start : start + 4], y[start : start + 4]))
        reference.fit(x[start : start + 4], y[start : start + 4], batch_size=4,
                      epochs=1, shuffle=False, verbose=0)  # fmt: skip
    for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert history.history["loss"][0] == pytest.approx(np.mean(losses), rel=1e-12)
