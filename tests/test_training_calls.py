"""fit/evaluate with sample and class weights, the *_on_batch calls, generators.

Keras 3 is the reference: its numbers come from the same data and initial weights
(PyTorch backend). The rules checked: a batch's loss is ``sum(w * loss_i) / n``
(divided by the batch size, not by the weights), the compiled metrics are not
weighted, ``class_weight`` is a per-sample weight looked up by class, and data from
a generator or PyDataset trains exactly as the same batches from arrays.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

import glassnet
from glassnet.data_adapters import PyDataset
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
    TrainingWarning,
)
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD

RNG = np.random.default_rng(11)
X = RNG.normal(size=(60, 4)).astype("float32")
LABELS = RNG.integers(0, 3, 60)
W = (RNG.random(60) * 2).astype("float32")
TOL = {"rtol": 1e-5, "atol": 1e-6}


def classifier(seed: int = 1, lr: float = 0.1) -> Sequential:
    model = Sequential(
        [Dense(6, activation="relu", input_dim=4), Dense(3, activation="softmax")],
        seed=seed,
    )
    model.compile(
        optimizer=SGD(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def keras_twin(model: Sequential) -> Any:
    keras = pytest.importorskip("keras")
    twin = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    twin.set_weights(model.get_weights())
    twin.compile(
        optimizer=keras.optimizers.SGD(float(model.optimizer.learning_rate)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return twin


def close(history: dict[str, list[float]], keras_history: dict[str, Any]) -> None:
    assert sorted(history) == sorted(keras_history)
    for key, values in keras_history.items():
        np.testing.assert_allclose(history[key], values, err_msg=key, **TOL)


# -- Keras' weighted mean -------------------------------------------------------------
def test_sample_weight_divides_by_the_batch_size_and_leaves_metrics_unweighted() -> (
    None
):
    model = classifier()
    p = model.predict(X, verbose=0).astype(np.float64)
    per_sample = -np.log(p[np.arange(60), LABELS])
    loss, accuracy = model.evaluate(X, LABELS, sample_weight=W, verbose=0)
    # sum(w * loss_i) / n, not / sum(w); the accuracy counts every sample once
    assert loss == pytest.approx(np.sum(W * per_sample) / 60, rel=1e-6)
    assert accuracy == pytest.approx(np.mean(p.argmax(1) == LABELS))


def test_weighted_fit_and_evaluate_give_keras_numbers() -> None:
    model = classifier()
    twin = keras_twin(model)
    fit = {"batch_size": 8, "epochs": 3, "shuffle": False, "verbose": 0}
    validation = (X[:20], LABELS[:20], W[:20])
    ours = model.fit(X, LABELS, sample_weight=W, validation_data=validation, **fit)
    theirs = twin.fit(X, LABELS, sample_weight=W, validation_data=validation, **fit)
    close(ours.history, theirs.history)
    for mine, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        model.evaluate(X, LABELS, sample_weight=W, verbose=0),
        twin.evaluate(X, LABELS, sample_weight=W, verbose=0),
        **TOL,
    )


def test_class_weight_gives_keras_numbers_and_equals_its_sample_weights() -> None:
    class_weight = {0: 0.5, 1: 3.0}  # class 2 keeps weight 1
    model, by_hand = classifier(), classifier()
    twin = keras_twin(model)
    fit = {"batch_size": 16, "epochs": 2, "shuffle": False, "verbose": 0}
    ours = model.fit(X, LABELS, class_weight=class_weight, **fit)
    theirs = twin.fit(X, LABELS, class_weight=class_weight, **fit)
    close(ours.history, theirs.history)
    weights = np.array([0.5, 3.0, 1.0])[LABELS]
    assert by_hand.fit(X, LABELS, sample_weight=weights, **fit).history == ours.history


def test_a_weight_of_two_is_twice_the_step() -> None:
    # L = sum(w l) / n: w = 2 everywhere doubles the gradient, as does 2 * lr for SGD.
    weighted, faster = classifier(lr=0.05), classifier(lr=0.1)
    fit = {"batch_size": 12, "epochs": 2, "shuffle": False, "verbose": 0}
    weighted.fit(X, LABELS, sample_weight=np.full(60, 2.0), **fit)
    faster.fit(X, LABELS, **fit)
    for a, b in zip(weighted.get_weights(), faster.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_validation_split_holds_out_the_last_weights_too() -> None:
    model = classifier()
    history = model.fit(
        X, LABELS, sample_weight=W, validation_split=0.25, epochs=1, verbose=0
    )
    expected = model.evaluate(X[45:], LABELS[45:], sample_weight=W[45:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(expected[0], rel=1e-6)


def test_several_outputs_share_one_sample_weight_as_in_keras() -> None:
    keras = pytest.importorskip("keras")
    outputs: list[Any] = []
    start: list[np.ndarray] = []
    for library in (glassnet, keras):
        inputs = library.Input((4,))
        hidden = library.layers.Dense(5, activation="tanh")(inputs)
        model = library.Model(
            inputs,
            [
                library.layers.Dense(1, name="price")(hidden),
                library.layers.Dense(3, activation="softmax", name="kind")(hidden),
            ],
        )
        if start:
            model.set_weights(start)
        else:
            start = model.get_weights()
        model.compile(
            optimizer=library.optimizers.SGD(0.05),
            loss=["mse", "sparse_categorical_crossentropy"],
            loss_weights=[0.5, 1.0],
        )
        history = model.fit(
            X, [X[:, :1], LABELS], sample_weight=W, batch_size=10, epochs=2,
            shuffle=False, verbose=0,
        )  # fmt: skip
        outputs.append((model, history.history))
    close(outputs[0][1], outputs[1][1])


# -- one batch at a time --------------------------------------------------------------
def test_train_test_predict_on_batch_give_keras_values() -> None:
    model = classifier()
    twin = keras_twin(model)
    for call in ("train_on_batch", "test_on_batch"):
        ours = getattr(model, call)(X[:8], LABELS[:8], sample_weight=W[:8])
        theirs = getattr(twin, call)(X[:8], LABELS[:8], sample_weight=W[:8])
        np.testing.assert_allclose(ours, theirs, **TOL)
    logs = model.train_on_batch(X[8:16], LABELS[8:16], return_dict=True)
    theirs = twin.train_on_batch(X[8:16], LABELS[8:16], return_dict=True)
    assert list(logs) == ["loss", "accuracy"]
    np.testing.assert_allclose(
        [logs[k] for k in logs], [theirs[k] for k in logs], **TOL
    )
    np.testing.assert_allclose(
        model.predict_on_batch(X[:5]),
        np.asarray(twin.predict_on_batch(X[:5])),
        rtol=1e-5,
        atol=1e-7,
    )


def test_train_on_batch_is_one_fit_step_and_reports_that_batch_alone() -> None:
    stepped, fitted = classifier(), classifier()
    first = stepped.train_on_batch(X[:10], LABELS[:10], return_dict=True)
    second = stepped.train_on_batch(X[10:20], LABELS[10:20], return_dict=True)
    history = fitted.fit(X[:20], LABELS[:20], batch_size=10, shuffle=False, verbose=0)
    for a, b in zip(stepped.get_weights(), fitted.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # fit reports the epoch's running mean; train_on_batch each batch on its own
    expected = (first["loss"] + second["loss"]) / 2
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-6)
    assert stepped.optimizer.iterations == 2


def test_test_on_batch_changes_nothing() -> None:
    model = classifier()
    before = model.get_weights()
    model.test_on_batch(X, LABELS)
    assert model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# -- batches from generators and PyDatasets ------------------------------------------
class Batches(PyDataset):
    def __init__(self, x: Any, y: Any, size: int, w: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.x, self.y, self.w, self.size = x, y, w, size
        self.epochs_ended = 0

    def __len__(self) -> int:
        return int(np.ceil(len(self.x) / self.size))

    def __getitem__(self, index: int) -> Any:
        rows = slice(index * self.size, (index + 1) * self.size)
        if self.w is None:
            return self.x[rows], self.y[rows]
        return self.x[rows], self.y[rows], self.w[rows]

    def on_epoch_end(self) -> None:
        self.epochs_ended += 1


def same_training(a: Sequential, b: Sequential) -> None:
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_py_dataset_trains_as_its_batches_from_arrays(workers: int) -> None:
    streamed, arrays = classifier(), classifier()
    data = Batches(X, LABELS, 8, W, workers=workers)
    history = streamed.fit(data, epochs=3, shuffle=False, verbose=0)
    expected = arrays.fit(
        X, LABELS, sample_weight=W, batch_size=8, epochs=3, shuffle=False, verbose=0
    )
    same_training(streamed, arrays)
    np.testing.assert_allclose(
        history.history["loss"], expected.history["loss"], rtol=1e-6
    )
    assert data.epochs_ended == 3


def test_a_shuffled_py_dataset_is_reproducible_from_the_model_seed() -> None:
    runs = []
    for _ in range(2):
        model = classifier(seed=5)
        model.fit(Batches(X, LABELS, 8), epochs=2, verbose=0)  # shuffle=True
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
    unshuffled = classifier(seed=5)
    unshuffled.fit(Batches(X, LABELS, 8), epochs=2, shuffle=False, verbose=0)
    assert not np.array_equal(runs[0][0], unshuffled.get_weights()[0])


def test_a_generator_with_steps_per_epoch_continues_across_epochs() -> None:
    def batches():
        for start in range(0, 60, 10):
            yield X[start : start + 10], LABELS[start : start + 10]

    streamed, arrays = classifier(), classifier()
    streamed.fit(batches(), steps_per_epoch=2, epochs=3, verbose=0)
    arrays.fit(X, LABELS, batch_size=10, epochs=1, shuffle=False, verbose=0)
    same_training(streamed, arrays)  # the six batches once, two per epoch
    assert streamed.optimizer.iterations == 6


@pytest.mark.filterwarnings("ignore:Your input ran out of data")
def test_arrays_with_steps_per_epoch_match_keras() -> None:
    model = classifier()
    twin = keras_twin(model)
    fit = {"batch_size": 8, "steps_per_epoch": 3, "epochs": 4, "shuffle": False}
    ours = model.fit(X, LABELS, verbose=0, **fit)
    theirs = twin.fit(X, LABELS, verbose=0, **fit)
    close(ours.history, theirs.history)
    # 8 batches a pass, 3 an epoch: the third epoch ends with the pass (a warning)
    assert model.optimizer.iterations == 3 + 3 + 2 + 3


def test_an_exhausted_generator_stops_training_with_a_warning() -> None:
    def batches():
        for start in range(0, 60, 20):
            yield X[start : start + 20], LABELS[start : start + 20]

    model = classifier()
    with pytest.warns(TrainingWarning, match="ran out of data at the start of epoch 2"):
        history = model.fit(batches(), epochs=5, verbose=0)
    assert history.epoch == [0] and model.optimizer.iterations == 3


@pytest.mark.filterwarnings("ignore:Your input ran out of data")
def test_a_pass_shorter_than_steps_per_epoch_ends_the_epoch_early() -> None:
    model = classifier()
    with pytest.warns(TrainingWarning, match="epoch 1 after 8 batches"):
        model.fit(Batches(X, LABELS, 8), steps_per_epoch=10, epochs=2, verbose=0)
    assert model.optimizer.iterations == 16  # each epoch is one pass of 8 batches


def test_validation_steps_limits_the_validation_batches() -> None:
    model = classifier()
    history = model.fit(
        X, LABELS, epochs=1, verbose=0, validation_data=Batches(X, LABELS, 10),
        validation_steps=2, shuffle=False,
    )  # fmt: skip
    expected = classifier()
    expected.fit(X, LABELS, epochs=1, verbose=0, shuffle=False)
    assert history.history["val_loss"][0] == pytest.approx(
        expected.evaluate(X[:20], LABELS[:20], verbose=0)[0], rel=1e-6
    )


def test_an_iterable_that_is_not_an_iterator_is_read_again_each_epoch() -> None:
    class Twice:
        def __iter__(self):
            for start in range(0, 60, 15):
                yield X[start : start + 15], LABELS[start : start + 15]

    streamed, arrays = classifier(), classifier()
    streamed.fit(Twice(), epochs=2, verbose=0)
    arrays.fit(X, LABELS, batch_size=15, epochs=2, shuffle=False, verbose=0)
    same_training(streamed, arrays)
    np.testing.assert_allclose(
        streamed.predict(Twice(), verbose=0), arrays.predict(X, verbose=0), rtol=1e-6
    )
    assert streamed.evaluate(Twice(), verbose=0) == pytest.approx(
        arrays.evaluate(X, LABELS, verbose=0), rel=1e-6
    )


def test_a_generator_builds_an_unbuilt_model_from_its_first_batch() -> None:
    model = Sequential([Dense(3, activation="softmax")], seed=0)
    model.compile(loss="sparse_categorical_crossentropy")
    model.fit((b for b in [(X[:30], LABELS[:30]), (X[30:], LABELS[30:])]), verbose=0)
    assert model.input_shape == (4,) and model.optimizer.iterations == 2


# -- bad input: clear errors, nothing changed -----------------------------------------
def unchanged(model: Sequential, weights: list[np.ndarray]) -> bool:
    return model.optimizer.iterations == 0 and all(
        np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True)
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"sample_weight": np.ones(59)},
            DataError,
            r"one weight per sample: shape \(60,\)",
        ),
        ({"sample_weight": np.ones((60, 2))}, DataError, r"shape=\(60, 2\)"),
        ({"sample_weight": -W}, DataError, r"must not be negative.*sample_weight\[0\]"),
        ({"sample_weight": np.r_[W[:59], np.nan]}, DataError, r"finite.*\[59\]=nan"),
        ({"sample_weight": "heavy"}, GlassnetTypeError, "one weight per sample"),
        (
            {"class_weight": {0: 1.0, 7: 2.0}},
            InvalidArgumentError,
            r"does not have: \[7\]",
        ),
        ({"class_weight": {"a": 1.0}}, InvalidArgumentError, "class indices"),
        ({"class_weight": {0: -1.0}}, DataError, "non-negative"),
        ({"class_weight": [1.0, 2.0]}, GlassnetTypeError, "must be a dict"),
        (
            {"class_weight": {0: 1.0}, "sample_weight": W},
            InvalidArgumentError,
            "not both",
        ),
        ({"steps_per_epoch": 0}, InvalidArgumentError, "steps_per_epoch"),
        ({"validation_data": (X, LABELS, W[:5])}, DataError, "sample_weight_val"),
    ],
)
def test_bad_weights_are_refused_naming_the_argument(kwargs, error, match) -> None:
    model = classifier()
    before = model.get_weights()
    with pytest.raises(error, match=match):
        model.fit(X, LABELS, epochs=1, verbose=0, **kwargs)
    assert unchanged(model, before)


def test_class_weight_naming_a_class_no_output_could_mean_is_refused() -> None:
    def batches():
        yield X[:20], LABELS[:20]

    model = classifier()
    with pytest.raises(InvalidArgumentError, match=r"classes \[5\].*3 output units"):
        model.fit(batches(), class_weight={5: 2.0}, verbose=0)
    assert model.optimizer.iterations == 0


def test_class_weight_needs_class_labels() -> None:
    model = Sequential([Dense(1, input_dim=4)], seed=0)
    model.compile(loss="mse")
    with pytest.raises(DataError, match="needs class labels"):
        model.fit(X, X[:, 0], class_weight={0: 1.0}, verbose=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": LABELS}, "`y` must be None"),
        ({"sample_weight": W}, "`sample_weight` must be None"),
        ({"validation_split": 0.2}, "needs arrays"),
    ],
)
def test_a_generator_carries_its_own_targets_and_weights(kwargs, match) -> None:
    model = classifier()
    with pytest.raises(InvalidArgumentError, match=match):
        model.fit(Batches(X, LABELS, 10), verbose=0, **kwargs)
    assert model.optimizer.iterations == 0


def test_a_generator_whose_batches_change_shape_fails_naming_the_batch() -> None:
    def batches():
        yield X[:10], LABELS[:10]
        yield X[10:20], LABELS[10:20]
        yield X[20:30, :3], LABELS[20:30]

    model = classifier()
    with pytest.raises(ShapeError, match=r"batch 2 \(from 0\) of epoch 1.*\(3,\)"):
        model.fit(batches(), verbose=0)
    assert model.optimizer.iterations == 2  # the two good batches trained


def test_a_batch_that_is_not_x_y_weights_is_explained() -> None:
    def batches():
        yield X[:10], LABELS[:10], W[:10], W[:10]

    with pytest.raises(GlassnetTypeError, match="4 items"):
        classifier().fit(batches(), verbose=0)
    with pytest.raises(DataError, match="no targets"):
        classifier().fit(iter([X[:10]]), verbose=0)


def test_py_dataset_refuses_processes_and_needs_a_length_or_steps() -> None:
    with pytest.raises(InvalidArgumentError, match="threads"):
        Batches(X, LABELS, 8, use_multiprocessing=True)

    class Endless(PyDataset):
        def __getitem__(self, index):
            return X[:8], LABELS[:8]

    model = classifier()
    with pytest.raises(InvalidArgumentError, match="steps_per_epoch"):
        model.fit(Endless(), verbose=0)
    model.fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert model.optimizer.iterations == 6


def test_predict_on_a_generator_of_x_alone() -> None:
    model = classifier()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = model.predict((X[i : i + 7] for i in range(0, 60, 7)), verbose=0)
    np.testing.assert_allclose(out, model.predict(X, verbose=0), rtol=1e-6)


@pytest.mark.parametrize(
    ("activation", "loss", "targets"),
    [
        ("softmax", "sparse_categorical_crossentropy", LABELS[:12]),  # fused logits
        ("tanh", "mse", X[:12, :3]),  # the plain loss gradient
    ],
)
def test_weighted_gradients_match_central_differences(
    activation, loss, targets
) -> None:
    from glassnet.training import make_gradient_step
    from glassnet.training_logs import weighted_loss_sum

    model = Sequential(
        [Dense(5, activation="tanh", input_dim=4), Dense(3, activation=activation)],
        seed=2,
        dtype="float64",
    )
    model.compile(loss=loss)
    x, w = X[:12].astype("float64"), W[:12].astype("float64")
    y = model.loss.validate_targets(targets, (3,), dtype="float64")

    def weighted_loss() -> float:
        out = model.forward(x, training=False)
        return weighted_loss_sum(model.loss, y, out, w) / len(x)

    make_gradient_step(model, model.loss)(x, y, w)
    for name, param, grad in model.parameter_triples():
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + 1e-6
            up = weighted_loss()
            param[index] = saved - 1e-6
            down = weighted_loss()
            param[index] = saved
            numeric[index] = (up - down) / 2e-6
        error = np.linalg.norm(grad - numeric) / np.linalg.norm(grad + numeric)
        assert error < 1e-7, name


def test_class_weight_applies_to_every_batch_of_a_py_dataset() -> None:
    class_weight = {0: 2.0, 2: 0.5}
    streamed, arrays = classifier(), classifier()
    streamed.fit(
        Batches(X, LABELS, 12), class_weight=class_weight, shuffle=False, verbose=0
    )
    arrays.fit(
        X, LABELS, class_weight=class_weight, batch_size=12, shuffle=False, verbose=0
    )
    same_training(streamed, arrays)
    with pytest.raises(InvalidArgumentError, match="one or the other"):
        classifier().fit(
            Batches(X, LABELS, 12, W), class_weight=class_weight, verbose=0
        )
