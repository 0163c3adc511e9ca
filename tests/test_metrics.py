"""Metric objects: hand-worked values, state, names in compile and logs, files, errors.

The values of every metric against Keras 3 and scikit-learn are in
tests/test_metrics_vs_keras.py; this file checks what glassnet promises on its own.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from glassnet import Input, Model
from glassnet import metrics as gm
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
    UnknownNameError,
)
from glassnet.io import load_model
from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential
from glassnet.optimizers import SGD

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3)).astype("float32")
Y = (X[:, :1] - X[:, 1:2] > 0).astype("float32")


def binary_model(seed: int = 0, dtype: str = "float32") -> Sequential:
    return Sequential(
        [Dense(4, input_dim=3, activation="tanh"), Dense(1, activation="sigmoid")],
        seed=seed,
        dtype=dtype,
    )


# -- hand-worked values --------------------------------------------------------------


def test_precision_recall_and_auc_by_hand() -> None:
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.7, 0.9])
    # at 0.5: predicted positive = rows 1, 3, 4 -> TP 2 (rows 3, 4), FP 1 (row 1),
    # FN 1 (row 2): precision 2/3, recall 2/3
    assert gm.Precision()(y, p) == pytest.approx(2 / 3)
    assert gm.Recall()(y, p) == pytest.approx(2 / 3)
    # AUC with 3 thresholds (-eps, 0.5, 1 + eps):
    #   TPR = [1, 2/3, 0], FPR = [1, 1/2, 0]
    #   trapezoids: (1 - 1/2) * (1 + 2/3) / 2 + (1/2 - 0) * (2/3 + 0) / 2 = 5/12 + 1/6
    auc = gm.AUC(num_thresholds=3)
    assert auc(y, p) == pytest.approx(5 / 12 + 1 / 6)
    np.testing.assert_array_equal(auc.true_positives, [3, 2, 0])
    np.testing.assert_array_equal(auc.false_positives, [2, 1, 0])


def test_weighted_mean_over_batches_is_keras_weighted_mean() -> None:
    m = gm.BinaryAccuracy()
    m.update_state([[1], [0]], [[0.9], [0.8]], sample_weight=[1.0, 3.0])  # 1 of 4
    m.update_state([[1]], [[0.7]], sample_weight=[4.0])  # 4 of 4
    assert m.result() == pytest.approx((1 + 4) / (4 + 4))
    rmse = gm.RootMeanSquaredError()
    rmse.update_state([[0.0], [0.0]], [[3.0], [4.0]])  # mean of 9 and 16
    assert rmse.result() == pytest.approx(np.sqrt(12.5))


def test_state_accumulates_until_reset_and_call_updates_like_keras() -> None:
    m = gm.MeanAbsoluteError()
    assert m.result() == 0.0  # nothing seen: 0, not NaN
    assert m([[1.0]], [[3.0]]) == 2.0
    assert m([[1.0]], [[1.0]]) == 1.0  # (2 + 0) / 2: __call__ accumulates
    m.reset_state()
    assert m.result() == 0.0
    assert all(not v.any() for v in m.variables)


def test_one_update_over_all_batches_equals_one_update_per_batch() -> None:
    # what the training loop relies on: the state is a set of sums
    y = RNG.integers(0, 2, (50, 2))
    p = RNG.random((50, 2))
    w = RNG.uniform(0, 2, 50)
    factories = [gm.AUC, gm.Precision, gm.Recall, gm.F1Score, gm.R2Score, gm.Mean]
    factories += [lambda: gm.AUC(curve="PR", multi_label=True), gm.BinaryAccuracy]
    for factory in factories:
        whole, parts = factory(), factory()
        args = (y,) if isinstance(whole, gm.Mean) and type(whole) is gm.Mean else (y, p)
        whole.update_state(*args, sample_weight=w)
        for chunk in np.array_split(np.arange(50), 4):
            parts.update_state(*(a[chunk] for a in args), sample_weight=w[chunk])
        np.testing.assert_allclose(whole.result(), parts.result(), rtol=1e-12)


def test_per_class_results_and_float64_predictions() -> None:
    f1 = gm.F1Score()
    result = f1([[1, 0], [0, 1]], [[0.9, 0.1], [0.8, 0.2]])
    assert result.shape == (2,)
    precision = gm.Precision(thresholds=[0.2, 0.9])
    assert precision([1, 0], [0.5, 0.5]).tolist() == [0.5, 0.0]
    mse = gm.MeanSquaredError()
    y, p = np.array([[0.1]]), np.array([[0.1 + 1e-9]])
    assert mse(y, p) == pytest.approx(1e-18, rel=1e-6)  # float64 kept in float64


def test_custom_metric_subclass_trains_with_a_model() -> None:
    class Positives(gm.Metric):
        def __init__(self, name: str = "positives", dtype: object = None) -> None:
            super().__init__(dtype=dtype, name=name)
            self.count = self.add_variable(name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):  # type: ignore[no-untyped-def]
            self.count += float((np.asarray(y_pred) > 0.5).sum())

        def result(self) -> float:
            return float(self.count)

    model = binary_model()
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[Positives()])
    history = model.fit(X, Y, epochs=2, verbose=0, batch_size=8).history
    assert len(history["positives"]) == 2
    predicted = float((model.predict(X, verbose=0) > 0.5).sum())
    assert model.evaluate(X, Y, verbose=0, return_dict=True)["positives"] == predicted


# -- names: compile, logs -------------------------------------------------------------


def test_compile_takes_names_aliases_classes_and_instances() -> None:
    model = binary_model()
    model.compile(
        optimizer="sgd",
        loss="binary_crossentropy",
        metrics=["acc", "mse", "MAE", "auc", gm.Precision, gm.Recall(name="rec"),
                 gm.AUC(curve="PR", name="pr"), "f1_score", "MeanAbsolutePercentageError"],
    )  # fmt: skip
    names = [m.name for m in model.metrics]
    assert names == ["acc", "mse", "MAE", "auc", "precision", "rec", "pr",
                     "f1_score", "MeanAbsolutePercentageError"]  # fmt: skip
    assert [type(m).__name__ for m in model.metrics][:5] == [
        "BinaryAccuracy",
        "MeanSquaredError",
        "MeanAbsoluteError",
        "AUC",
        "Precision",
    ]
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", *names]
    values = model.evaluate(X, Y, verbose=0)
    assert values[0] == logs["loss"] and values[4] == logs["auc"]


def test_automatic_names_follow_keras() -> None:
    assert [gm.Precision().name, gm.Precision().name, gm.AUC().name] == [
        "precision",
        "precision_1",
        "auc",
    ]
    assert gm.BinaryAccuracy().name == gm.BinaryAccuracy().name == "binary_accuracy"
    assert gm.FBetaScore().name == "fbeta_score"
    model = binary_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["auc"])
    assert gm.AUC().name == "auc_2"  # the string took "auc_1", then its own name


def test_fit_logs_the_epoch_value_not_a_mean_of_batches() -> None:
    model = binary_model()
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy", metrics=["auc"])
    model.fit(X, Y, epochs=1, verbose=0)
    # evaluate in batches of 4 accumulates like fit: the AUC of all 40 predictions
    logs = model.evaluate(X, Y, batch_size=4, verbose=0, return_dict=True)
    p = model.predict(X, verbose=0)
    assert logs["auc"] == pytest.approx(gm.AUC()(Y, p), rel=1e-12)
    batch_aucs = [gm.AUC()(Y[i : i + 4], p[i : i + 4]) for i in range(0, 40, 4)]
    assert abs(np.mean(batch_aucs) - logs["auc"]) > 1e-3


def test_metrics_do_not_change_training() -> None:
    weights = []
    for metrics in ([], ["accuracy", "auc", gm.F1Score(threshold=0.5)]):
        model = Sequential(
            [Dense(4, input_dim=3, activation="relu"), Dropout(0.5),
             Dense(1, activation="sigmoid")],
            seed=3,
        )  # fmt: skip
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics)
        model.fit(X, Y, epochs=3, batch_size=8, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_metric_state_after_fit_is_the_last_logged_value() -> None:
    model = binary_model()
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["precision"])
    history = model.fit(X, Y, epochs=2, verbose=0, validation_data=(X[:10], Y[:10]))
    assert model.metrics[0].result() == history.history["val_precision"][-1]


def test_per_class_f1_is_an_array_in_history() -> None:
    model = Sequential([Dense(3, input_dim=3, activation="softmax")], seed=0)
    model.compile(
        optimizer="sgd", loss="categorical_crossentropy", metrics=["f1_score"]
    )
    onehot = np.eye(3)[RNG.integers(0, 3, 40)]
    history = model.fit(X, onehot, epochs=2, verbose=0).history
    assert [np.shape(v) for v in history["f1_score"]] == [(3,), (3,)]


def test_a_float64_model_keeps_float64_metrics() -> None:
    model = binary_model(dtype="float64")
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mse"])
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    p = model.predict(X, verbose=0)
    assert logs["mae"] == pytest.approx(float(np.mean(np.abs(p - Y))), rel=1e-12)


def test_one_metric_list_for_several_outputs_logs_each_output() -> None:
    x = Input((3,))
    hidden = Dense(4, activation="relu", name="hidden")(x)
    model = Model(
        x,
        [Dense(1, activation="sigmoid", name="a")(hidden), Dense(1, name="b")(hidden)],
    )
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "mse"],
                  metrics=[gm.AUC(name="auc"), "mae"])  # fmt: skip
    logs = model.evaluate(X, [Y, X[:, :1]], verbose=0, return_dict=True)
    assert list(logs) == [
        "loss",
        "a_loss",
        "b_loss",
        "a_auc",
        "a_mae",
        "b_auc",
        "b_mae",
    ]
    a, _ = model.predict(X, verbose=0)
    assert logs["a_auc"] == pytest.approx(gm.AUC()(Y, a), rel=1e-12)


# -- configs and files --------------------------------------------------------------


@pytest.mark.parametrize("cls", gm.registry.classes(), ids=lambda c: c.__name__)
def test_every_metric_config_round_trips_as_json(cls: type) -> None:
    metric = cls()
    config = json.loads(json.dumps(metric.get_config()))
    copy_ = cls.from_config(config)
    assert type(copy_) is cls and copy_.get_config() == metric.get_config()
    assert repr(metric) == f"<{cls.__name__} name={metric.name}>"
    assert metric.__doc__ and ">>>" in metric.__doc__


def test_configs_keep_arguments() -> None:
    auc = gm.AUC(curve="pr", thresholds=[0.7, 0.2], from_logits=True, name="pr")
    config = auc.get_config()
    assert config["curve"] == "PR" and config["thresholds"] == [0.2, 0.7]
    assert gm.AUC.from_config(config).thresholds == auc.thresholds
    assert gm.Precision(thresholds=np.float32(0.25)).get_config()["thresholds"] == 0.25
    with pytest.raises(InvalidArgumentError, match="Did you mean 'thresholds'"):
        gm.Precision.from_config({"treshold": 0.5})


def test_saved_model_keeps_its_metric_objects(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = binary_model()
    metrics = ["accuracy", gm.Accuracy(name="exact"), gm.AUC(curve="PR", name="pr"),
               gm.Precision(thresholds=0.7), "mse"]  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert [(type(m), m.get_config()) for m in loaded.metrics] == [
        (type(m), m.get_config()) for m in model.metrics
    ]
    np.testing.assert_allclose(
        list(loaded.evaluate(X, Y, verbose=0, return_dict=True).values()),
        list(model.evaluate(X, Y, verbose=0, return_dict=True).values()),
        rtol=1e-12,
    )


def test_metrics_can_be_copied_without_sharing_state() -> None:
    m = gm.AUC()
    m.update_state([0, 1], [0.2, 0.8])
    twin = copy.deepcopy(m)
    twin.update_state([1, 0], [0.2, 0.8])
    assert m.result() == 1.0 and twin.result() == 0.5


# -- bad input -----------------------------------------------------------------------


def test_unknown_names_suggest_the_nearest() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'precision'"):
        gm.get("precison")
    model = binary_model()
    with pytest.raises(UnknownNameError, match="Did you mean 'auc'"):
        model.compile(optimizer="sgd", loss="mse", metrics=["aux"])
    with pytest.raises(GlassnetTypeError, match="metric"):
        gm.get(None)
    with pytest.raises(InvalidArgumentError, match="Mean averages"):
        model.compile(optimizer="sgd", loss="mse", metrics=["mean"])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: gm.Precision(thresholds=1.5), r"thresholds.*\[0, 1\].*1\.5"),
        (lambda: gm.Recall(thresholds=[0.5, -0.1]), r"thresholds.*\[0, 1\]"),
        (lambda: gm.Recall(thresholds="high"), r"thresholds"),
        (lambda: gm.AUC(thresholds=[0.2, 2.0]), r"thresholds.*\[0, 1\]"),
        (lambda: gm.AUC(num_thresholds=1), r"num_thresholds.*> 1.*1"),
        (lambda: gm.AUC(num_thresholds=2.5), r"num_thresholds"),
        (lambda: gm.AUC(curve="ROCK"), r"curve.*'PR'.*ROCK"),
        (lambda: gm.AUC(summation_method="mid"), r"summation_method"),
        (lambda: gm.AUC(num_labels=3), r"num_labels.*multi_label"),
        (lambda: gm.AUC(label_weights=[1, -1]), r"label_weights"),
        (lambda: gm.Precision(class_id=-1), r"class_id.*-1"),
        (lambda: gm.Precision(top_k=0), r"top_k"),
        (lambda: gm.TopKCategoricalAccuracy(k=0), r"`k`"),
        (lambda: gm.F1Score(average="mean"), r"average.*'mean'"),
        (lambda: gm.FBetaScore(beta=0.0), r"beta.*> 0"),
        (lambda: gm.F1Score(threshold=1.5), r"threshold.*\(0, 1\]"),
        (lambda: gm.BinaryAccuracy(threshold="half"), r"threshold"),
        (lambda: gm.R2Score(class_aggregation="max"), r"class_aggregation"),
        (lambda: gm.R2Score(num_regressors=-1), r"num_regressors"),
        (lambda: gm.Mean(dtype="int8"), r"dtype"),
        (lambda: gm.Mean(name=""), r"name"),
    ],
)
def test_bad_arguments_are_named(make, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((InvalidArgumentError, GlassnetTypeError), match=match):
        make()


@pytest.mark.parametrize(
    ("metric", "y_true", "y_pred", "match"),
    [
        (
            gm.BinaryAccuracy(),
            np.zeros((4, 1)),
            np.zeros((4, 2)),
            r"y_true.shape=\(4, 1\)",
        ),
        (gm.MeanSquaredError(), np.zeros((4, 2)), np.zeros((3, 2)), r"same number"),
        (gm.CategoricalAccuracy(), np.zeros(4), np.zeros((4, 3)), r"y_pred.shape"),
        (
            gm.SparseCategoricalAccuracy(),
            np.zeros((4, 3)),
            np.zeros((4, 3)),
            r"one integer label per row.*one-hot",
        ),
        (gm.SparseCategoricalAccuracy(), np.zeros(4), np.zeros(4), r"one column"),
        (gm.Precision(class_id=3), np.zeros((4, 3)), np.zeros((4, 3)), r"class_id=3"),
        (gm.Recall(class_id=0), np.zeros(4), np.zeros(4), r"class_id.*2-D"),
        (gm.AUC(), np.zeros((4, 1)), np.zeros((4, 3)), r"y_pred.shape=\(4, 3\)"),
        (gm.AUC(multi_label=True), np.zeros(4), np.zeros(4), r"multi_label"),
        (gm.F1Score(), np.zeros(4), np.zeros(4), r"2-D"),
        (gm.R2Score(), np.zeros((4, 2, 1)), np.zeros((4, 2, 1)), r"2-D"),
        (
            gm.SparseTopKCategoricalAccuracy(k=1),
            np.array([0, 3]),
            np.zeros((2, 3)),
            r"\[0, 3\)",
        ),
        (gm.MeanAbsoluteError(), ["a"], [1.0], r"y_true.*numbers"),
    ],
)
def test_bad_targets_are_named(metric, y_true, y_pred, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((ShapeError, InvalidArgumentError, GlassnetTypeError, ValueError),
                       match=match):  # fmt: skip
        metric.update_state(y_true, y_pred)


def test_bad_sample_weights_are_named() -> None:
    m = gm.BinaryAccuracy()
    y, p = np.ones((3, 1)), np.ones((3, 1))
    with pytest.raises(ShapeError, match=r"sample_weight.*3.*\(2,\)"):
        m.update_state(y, p, sample_weight=[1, 1])
    with pytest.raises(InvalidArgumentError, match=r"sample_weight.*>= 0"):
        m.update_state(y, p, sample_weight=[1, -1, 1])
    with pytest.raises(InvalidArgumentError, match=r"sample_weight.*finite"):
        gm.AUC().update_state(y, p, sample_weight=[1, np.nan, 1])
    with pytest.raises(ShapeError, match="one value per call"):
        gm.MeanSquaredError().update_state([1.0, 2.0], [1.0, 1.0], sample_weight=[1, 2])
    assert m.result() == 0.0  # refused batches left the state alone


def test_fit_refuses_targets_a_metric_cannot_use_before_training() -> None:
    model = Sequential([Dense(3, input_dim=3, activation="softmax")], seed=0)
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=["categorical_accuracy"],
    )
    before = model.get_weights()
    with pytest.raises(ShapeError, match=r"categorical_accuracy.*before training"):
        model.fit(X, RNG.integers(0, 3, 40), epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=[gm.Precision(class_id=5)])  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="class_id=5"):
        model.fit(X, np.eye(3)[RNG.integers(0, 3, 40)], verbose=0)


def test_a_per_class_metric_shows_its_mean_in_the_progress_bar_and_plot(capsys):
    # F1Score(average=None) logs one value per class, as Keras' does; the progress
    # line and plot_history show their mean instead of failing on an array
    pytest.importorskip("matplotlib")
    import glassnet
    from glassnet.layers import Dense
    from glassnet.plot import plot_history

    rng = np.random.default_rng(0)
    x = rng.random((20, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 20)]
    model = glassnet.Sequential([glassnet.Input((3,)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=[gm.F1Score()])
    history = model.fit(x, y, epochs=1, verbose=1)
    per_class = history.history["f1_score"][0]
    assert per_class.shape == (3,)
    assert f"f1_score: {per_class.mean():.4f}" in capsys.readouterr().out
    figure = plot_history(history)
    lines = [line for ax in figure.axes for line in ax.get_lines()]
    assert any(np.allclose(line.get_ydata(), [per_class.mean()]) for line in lines)
