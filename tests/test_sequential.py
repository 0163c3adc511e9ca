"""Sequential: building, summary, weights, seeds, dtypes, the seeds/002 XOR example."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest

from glassnet.layers import Activation, Dense, Dropout
from glassnet.models import Sequential
from glassnet.optimizers import SGD

SEED_002_SUMMARY = """\
Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
dense (Dense)                (None, 10)                30
_________________________________________________________________
activation (Activation)      (None, 10)                0
_________________________________________________________________
dense_1 (Dense)              (None, 1)                 11
_________________________________________________________________
activation_1 (Activation)    (None, 1)                 0
=================================================================
Total params: 41
Trainable params: 41
Non-trainable params: 0
_________________________________________________________________"""


def xor_model(seed: int | None = 0, dtype: str = "float32") -> Sequential:
    model = Sequential(seed=seed, dtype=dtype)
    model.add(Dense(10, input_dim=2))
    model.add(Activation("tanh"))
    model.add(Dense(1))
    model.add(Activation("sigmoid"))
    return model


def test_summary_matches_the_seed_tutorial_layout() -> None:
    lines: list[str] = []
    xor_model().summary(print_fn=lines.append)
    assert lines[0] == SEED_002_SUMMARY


def test_summary_prints_to_stdout() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        xor_model().summary()
    assert "Total params: 41" in out.getvalue()


def test_layer_parameter_counts_and_shapes() -> None:
    model = xor_model()
    assert [layer.count_params() for layer in model.layers] == [30, 0, 11, 0]
    assert model.count_params() == 41
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(2, 10), (10,), (10, 1), (1,)]  # Keras order: kernel, bias


def test_the_seed_002_xor_example_runs_as_written(xor) -> None:
    x, y = xor
    x_int, y_int = x.astype(int), y.astype(int)  # the seed uses integer arrays
    model = xor_model(seed=7)
    model.compile(
        loss="binary_crossentropy", optimizer=SGD(lr=0.1), metrics=["accuracy"]
    )
    before = model.predict(x_int, verbose=0)
    assert np.all(np.abs(before - 0.5) < 0.3)  # "about 0.5 everywhere" before training
    out = io.StringIO()
    with redirect_stdout(out):
        history = model.fit(x_int, y_int, epochs=100)
    text = out.getvalue()
    assert "Epoch 1/100" in text and "Epoch 100/100" in text
    assert "loss: " in text and "accuracy: " in text
    assert len(history.history["loss"]) == 100
    assert model.predict_classes(x_int).shape == (4, 1)
    assert model.predict_classes(x_int).dtype == np.int32


def test_xor_reaches_accuracy_one_with_a_fixed_seed(xor) -> None:
    # Documented in examples/seed_002_keras_xor.py: seed 1, SGD(learning_rate=0.1),
    # batch 4 reaches accuracy 1.0 well within 1500 epochs.
    x, y = xor
    model = xor_model(seed=1)
    model.compile(
        loss="binary_crossentropy",
        optimizer=SGD(learning_rate=0.1),
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=1500, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    np.testing.assert_array_equal(model.predict_classes(x), [[0], [1], [1], [0]])


def test_same_seed_gives_identical_weights_and_training(xor) -> None:
    x, y = xor
    runs = []
    for _ in range(2):
        model = xor_model(seed=42)
        model.add(Dropout(0.2))
        model.compile(loss="mse", optimizer="adam")
        model.fit(x, y, epochs=20, batch_size=2, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_weights() -> None:
    a, b = xor_model(seed=1).get_weights()[0], xor_model(seed=2).get_weights()[0]
    assert not np.array_equal(a, b)


def test_float32_by_default_and_float64_on_request(xor) -> None:
    x, y = xor
    for dtype in ("float32", "float64"):
        model = xor_model(dtype=dtype)
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=2, verbose=0)
        assert all(w.dtype == np.dtype(dtype) for w in model.get_weights())
        assert model.predict(x, verbose=0).dtype == np.dtype(dtype)


def test_an_input_without_a_dtype_takes_the_models_and_one_with_a_dtype_sets_it(xor) -> None:
    from glassnet.layers import Input

    x, y = xor
    cases = [
        (Sequential([Input((2,)), Dense(1)], dtype="float64"), "float64"),
        (Sequential([Input((2,), dtype="float64"), Dense(1)]), "float64"),
        (Sequential([Input((2,)), Dense(1)]), "float32"),
    ]
    for model, dtype in cases:
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, verbose=0)
        assert model.dtype == np.dtype(dtype)
        assert all(w.dtype == np.dtype(dtype) for w in model.get_weights())
        assert model.predict(x, verbose=0).dtype == np.dtype(dtype)
        copy = Sequential.from_config(model.get_config())
        assert copy.dtype == np.dtype(dtype)


def test_deferred_build_on_fit(xor) -> None:
    x, y = xor
    model = Sequential([Dense(4, activation="relu"), Dense(1)], seed=0)
    assert not model.built
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model.input_shape == (2,)
    assert model.count_params() == 2 * 4 + 4 + 4 + 1


def test_build_with_batch_axis_and_rebuild_is_a_noop() -> None:
    model = Sequential([Dense(3)], seed=0)
    model.build((None, 5))
    weights = model.get_weights()
    model.build((None, 5))
    model.build((5,))
    for a, b in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_weights_round_trip() -> None:
    model = xor_model()
    new = [np.full_like(w, 0.5) for w in model.get_weights()]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new, strict=True):
        np.testing.assert_array_equal(a, b)


def test_get_weights_returns_copies() -> None:
    model = xor_model()
    weights = model.get_weights()
    weights[0][...] = 99.0
    assert not np.any(model.get_weights()[0] == 99.0)


def test_layer_names_are_unique_per_model() -> None:
    model = Sequential([Dense(2, input_dim=2), Dense(2), Activation("relu"), Dense(1)])
    assert [layer.name for layer in model.layers] == [
        "dense",
        "dense_1",
        "activation",
        "dense_2",
    ]


def test_config_round_trip_is_json() -> None:
    model = xor_model(seed=5)
    config = json.loads(json.dumps(model.get_config()))
    clone = Sequential.from_config(config)
    assert [type(layer) for layer in clone.layers] == [
        type(layer) for layer in model.layers
    ]
    assert clone.count_params() == 41
    for a, b in zip(clone.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # same seed, same initial weights


def test_evaluate_returns_loss_and_metrics(xor) -> None:
    x, y = xor
    model = xor_model()
    model.compile(
        loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy", "mse"]
    )
    loss, accuracy, mse = model.evaluate(x, y, verbose=0)
    p = model.predict(x, verbose=0).astype(np.float64)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert loss == pytest.approx(expected, rel=1e-5)
    assert accuracy == pytest.approx(np.mean((p > 0.5) == y))
    assert mse == pytest.approx(np.mean((p - y) ** 2), rel=1e-5)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "accuracy", "mse"]


def test_evaluate_without_metrics_returns_a_float(xor) -> None:
    x, y = xor
    model = xor_model()
    model.compile(loss="mse", optimizer="sgd")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_predict_classes_multiclass_uses_argmax() -> None:
    model = Sequential([Dense(3, input_dim=2, activation="softmax")], seed=0)
    x = np.random.default_rng(0).normal(size=(5, 2))
    classes = model.predict_classes(x)
    np.testing.assert_array_equal(classes, model.predict(x, verbose=0).argmax(axis=1))


def test_dropout_is_inactive_at_inference(xor) -> None:
    x, _ = xor
    model = Sequential([Dense(8, input_dim=2), Dropout(0.5), Dense(1)], seed=0)
    np.testing.assert_array_equal(
        model.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_pop_removes_the_last_layer() -> None:
    model = xor_model()
    layer = model.pop()
    assert isinstance(layer, Activation) and len(model.layers) == 3


def test_multi_dimensional_input_shape_keeps_every_axis() -> None:
    model = Sequential([Activation("relu", input_shape=(3, 4))])
    assert model.input_shape == (3, 4)
    unbuilt = Sequential([Activation("tanh")])
    unbuilt.compile(loss="mse", optimizer="sgd")
    unbuilt.fit(np.ones((2, 3, 4)), np.zeros((2, 3, 4)), verbose=0)
    assert unbuilt.input_shape == (3, 4)


@pytest.mark.parametrize("activation", ["sigmoid", "silu", "softmax"])
def test_extreme_inputs_run_warning_free_through_every_entry_point(activation) -> None:
    # Activations leave exp's harmless overflow to their callers (it costs ~1 us per
    # layer per batch to silence it there); every entry point must silence it.
    import warnings

    from glassnet.explain import backprop

    model = Sequential(
        [Dense(4, activation="linear", input_dim=2), Dense(3, activation=activation)],
        seed=0,
    )
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 1.0]], dtype=np.float32)
    y = np.zeros((3, 3), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(x, verbose=0)
        model.predict(x, batch_size=1, verbose=0)
        model.evaluate(x, y, verbose=0)
        model.fit(x, y, epochs=1, verbose=0)
        backprop(model, x[:1], y[:1], detail=True)
        backprop(model, x, y, detail=False)


def test_predict_silences_overflow_only_for_models_that_need_it() -> None:
    # np.errstate costs ~1 us per predict call; only sigmoid and silu overflow
    # harmlessly, so the model keeps track of whether any layer uses them.
    from glassnet.layers import Activation

    model = Sequential([Dense(4, activation="relu", input_dim=2)], seed=0)
    model.add(Dense(3, activation="softmax"))
    assert not model.overflow_guard
    model.add(Activation("sigmoid"))
    assert model.overflow_guard
    model.pop()
    assert not model.overflow_guard
    model.add(Dense(1, activation="silu"))
    assert model.overflow_guard
    unbuilt = Sequential([Dense(2, activation="sigmoid")])
    unbuilt.build((None, 3))
    assert unbuilt.overflow_guard
