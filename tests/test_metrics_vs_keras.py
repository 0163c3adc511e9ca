"""Every metric gives Keras 3's values (torch backend) on the same data.

Each case feeds the same three batches (7, 13 and 5 samples) to a glassnet metric and
to its Keras twin, with and without sample weights, and compares ``result()`` after
every call: float32 tolerance, and AUC's confusion counts exactly (same thresholds,
same side of each). Then scikit-learn, where it has the metric, and training: the
epoch values of ``fit`` and ``evaluate`` equal Keras' from the same initial weights.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from glassnet_as_keras import GlassnetAsKeras, two_outputs  # noqa: E402

from glassnet import metrics as gm  # noqa: E402
from glassnet.models import load_model  # noqa: E402
from glassnet.optimizers import SGD  # noqa: E402

km = keras.metrics
SIZES = (7, 13, 5)


def _batches(kind: str, seed: int = 0) -> list[tuple[Any, Any]]:
    """Three (y_true, y_pred) batches of one kind of data, float32 predictions."""
    rng = np.random.default_rng([seed, len(kind)])
    out = []
    for n in SIZES:
        if kind == "binary":  # (n, 1) labels and probabilities, with exact 0.5s
            y = rng.integers(0, 2, (n, 1)).astype("float32")
            p = rng.random((n, 1)).astype("float32")
            p[0] = 0.5
        elif kind == "multilabel":  # (n, 3) 0/1 labels, probabilities
            y = rng.integers(0, 2, (n, 3)).astype("float32")
            p = rng.random((n, 3)).astype("float32")
        elif kind == "logits":
            y = rng.integers(0, 2, (n, 1)).astype("float32")
            p = rng.normal(scale=3.0, size=(n, 1)).astype("float32")
        elif kind in ("onehot", "onehot_tie"):  # 5 classes (tie: in the first row)
            y = np.eye(5, dtype="float32")[rng.integers(0, 5, n)]
            p = rng.random((n, 5)).astype("float32")
            if kind == "onehot_tie":  # which of two tied entries is in a top k is
                p[0, :2] = 0.9  # up to the library; a tie with the k-th counts in
        elif kind in ("sparse", "sparse_column"):
            labels = rng.integers(0, 5, n)
            y = labels if kind == "sparse" else labels[:, None]
            p = rng.random((n, 5)).astype("float32")
        elif kind == "sorted_ids":
            y = rng.integers(0, 5, n)
            p = np.argsort(-rng.random((n, 5)), axis=1).astype("float32")
        elif kind == "exact":  # small integers, so predictions sometimes equal labels
            y = rng.integers(0, 3, (n, 2)).astype("float32")
            p = rng.integers(0, 3, (n, 2)).astype("float32")
        elif kind == "regression":
            y = rng.normal(size=(n, 3)).astype("float32")
            p = (y + rng.normal(scale=0.5, size=(n, 3))).astype("float32")
        elif kind == "regression_1d":  # Keras: one value per call, not per entry
            y = rng.normal(size=n).astype("float32")
            p = (y + rng.normal(scale=0.5, size=n)).astype("float32")
        elif kind == "values":
            y, p = rng.normal(size=(n, 2)).astype("float32"), None
        else:
            raise AssertionError(kind)
        out.append((y, p))
    return out


# id -> (glassnet factory, keras factory, data kind)
CASES: dict[str, tuple[Callable[[], Any], Callable[[], Any], str]] = {
    "accuracy": (gm.Accuracy, km.Accuracy, "exact"),
    "binary_accuracy": (gm.BinaryAccuracy, km.BinaryAccuracy, "binary"),
    "binary_accuracy_0.7_multilabel": (
        lambda: gm.BinaryAccuracy(threshold=0.7),
        lambda: km.BinaryAccuracy(threshold=0.7),
        "multilabel",
    ),
    "categorical_accuracy": (
        gm.CategoricalAccuracy,
        km.CategoricalAccuracy,
        "onehot_tie",
    ),
    "sparse_categorical_accuracy": (
        gm.SparseCategoricalAccuracy,
        km.SparseCategoricalAccuracy,
        "sparse",
    ),
    "sparse_categorical_accuracy_column": (
        gm.SparseCategoricalAccuracy,
        km.SparseCategoricalAccuracy,
        "sparse_column",
    ),
    "top_2": (
        lambda: gm.TopKCategoricalAccuracy(k=2),
        lambda: km.TopKCategoricalAccuracy(k=2),
        "onehot",
    ),
    "top_1_tie": (
        lambda: gm.TopKCategoricalAccuracy(k=1),
        lambda: km.TopKCategoricalAccuracy(k=1),
        "onehot_tie",
    ),
    "sparse_top_3": (
        lambda: gm.SparseTopKCategoricalAccuracy(k=3),
        lambda: km.SparseTopKCategoricalAccuracy(k=3),
        "sparse",
    ),
    "sparse_top_2_sorted_ids": (
        lambda: gm.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True),
        lambda: km.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True),
        "sorted_ids",
    ),
    "precision": (gm.Precision, km.Precision, "binary"),
    "precision_thresholds": (
        lambda: gm.Precision(thresholds=[0.8, 0.2, 0.5]),
        lambda: km.Precision(thresholds=[0.8, 0.2, 0.5]),
        "multilabel",
    ),
    "precision_even_thresholds": (
        lambda: gm.Precision(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]),
        lambda: km.Precision(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]),
        "binary",
    ),
    "precision_top_2": (
        lambda: gm.Precision(top_k=2),
        lambda: km.Precision(top_k=2),
        "onehot",
    ),
    "precision_class_1": (
        lambda: gm.Precision(class_id=1),
        lambda: km.Precision(class_id=1),
        "multilabel",
    ),
    "precision_top_2_class_0": (
        lambda: gm.Precision(top_k=2, class_id=0),
        lambda: km.Precision(top_k=2, class_id=0),
        "onehot",
    ),
    "recall": (gm.Recall, km.Recall, "binary"),
    "recall_thresholds": (
        lambda: gm.Recall(thresholds=[0.3, 0.6]),
        lambda: km.Recall(thresholds=[0.3, 0.6]),
        "multilabel",
    ),
    "recall_top_1_class_2": (
        lambda: gm.Recall(top_k=1, class_id=2),
        lambda: km.Recall(top_k=1, class_id=2),
        "onehot",
    ),
    "auc": (gm.AUC, km.AUC, "binary"),
    "auc_pr": (lambda: gm.AUC(curve="PR"), lambda: km.AUC(curve="PR"), "binary"),
    "auc_7_thresholds": (
        lambda: gm.AUC(num_thresholds=7),
        lambda: km.AUC(num_thresholds=7),
        "multilabel",
    ),
    "auc_uneven_thresholds_pr": (
        lambda: gm.AUC(curve="PR", thresholds=[0.9, 0.1, 0.35, 0.5]),
        lambda: km.AUC(curve="PR", thresholds=[0.9, 0.1, 0.35, 0.5]),
        "binary",
    ),
    "auc_minoring": (
        lambda: gm.AUC(summation_method="minoring", num_thresholds=20),
        lambda: km.AUC(summation_method="minoring", num_thresholds=20),
        "binary",
    ),
    "auc_pr_majoring": (
        lambda: gm.AUC(curve="PR", summation_method="majoring", num_thresholds=20),
        lambda: km.AUC(curve="PR", summation_method="majoring", num_thresholds=20),
        "binary",
    ),
    "auc_prgain": (
        lambda: gm.AUC(curve="PRGAIN", num_thresholds=50),
        lambda: km.AUC(curve="PRGAIN", num_thresholds=50),
        "binary",
    ),
    "auc_from_logits": (
        lambda: gm.AUC(from_logits=True),
        lambda: km.AUC(from_logits=True),
        "logits",
    ),
    "auc_multi_label": (
        lambda: gm.AUC(multi_label=True),
        lambda: km.AUC(multi_label=True),
        "multilabel",
    ),
    "auc_multi_label_pr_weights": (
        lambda: gm.AUC(curve="PR", multi_label=True, label_weights=[1.0, 0.5, 2.0]),
        lambda: km.AUC(curve="PR", multi_label=True, label_weights=[1.0, 0.5, 2.0]),
        "multilabel",
    ),
    "auc_label_weights": (
        lambda: gm.AUC(label_weights=[1.0, 0.0, 3.0]),
        lambda: km.AUC(label_weights=[1.0, 0.0, 3.0]),
        "multilabel",
    ),
    "f1_none": (gm.F1Score, km.F1Score, "onehot"),
    "f1_micro": (
        lambda: gm.F1Score(average="micro"),
        lambda: km.F1Score(average="micro"),
        "onehot",
    ),
    "f1_macro_threshold": (
        lambda: gm.F1Score(average="macro", threshold=0.5),
        lambda: km.F1Score(average="macro", threshold=0.5),
        "multilabel",
    ),
    "f1_weighted": (
        lambda: gm.F1Score(average="weighted"),
        lambda: km.F1Score(average="weighted"),
        "onehot",
    ),
    "fbeta_2_none": (
        lambda: gm.FBetaScore(beta=2.0, threshold=0.4),
        lambda: km.FBetaScore(beta=2.0, threshold=0.4),
        "multilabel",
    ),
    "fbeta_0.5_weighted": (
        lambda: gm.FBetaScore(average="weighted", beta=0.5),
        lambda: km.FBetaScore(average="weighted", beta=0.5),
        "onehot",
    ),
    "mse": (gm.MeanSquaredError, km.MeanSquaredError, "regression"),
    "mse_1d": (gm.MeanSquaredError, km.MeanSquaredError, "regression_1d"),
    "rmse": (gm.RootMeanSquaredError, km.RootMeanSquaredError, "regression"),
    "mae": (gm.MeanAbsoluteError, km.MeanAbsoluteError, "regression"),
    "mape": (
        gm.MeanAbsolutePercentageError,
        km.MeanAbsolutePercentageError,
        "regression",
    ),
    "r2": (gm.R2Score, km.R2Score, "regression"),
    "r2_variance_weighted": (
        lambda: gm.R2Score(class_aggregation="variance_weighted_average"),
        lambda: km.R2Score(class_aggregation="variance_weighted_average"),
        "regression",
    ),
    "r2_per_column": (
        lambda: gm.R2Score(class_aggregation=None),
        lambda: km.R2Score(class_aggregation=None),
        "regression",
    ),
    "r2_adjusted": (
        lambda: gm.R2Score(num_regressors=2),
        lambda: km.R2Score(num_regressors=2),
        "regression",
    ),
    "mean": (gm.Mean, km.Mean, "values"),
}

# Sample weights Keras cannot take for these (it broadcasts (n,) against a scalar).
NO_WEIGHTS = {"mse_1d"}


def _weights(n: int) -> Any:
    weights = np.random.default_rng(n).uniform(0.0, 2.0, n).astype("float32")
    weights[1] = 0.0
    return weights


def _numpy(value: Any) -> Any:
    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_metric_equals_keras_over_several_updates(case: str, weighted: bool) -> None:
    if weighted and case in NO_WEIGHTS:
        pytest.skip("Keras cannot weigh a metric that makes one value per call")
    ours_factory, keras_factory, kind = CASES[case]
    ours, theirs = ours_factory(), keras_factory()
    for y, p in _batches(kind, seed=len(case)):
        weights = _weights(len(y)) if weighted else None
        args = (y,) if p is None else (y, p)
        ours.update_state(*args, sample_weight=weights)
        theirs.update_state(*args, sample_weight=weights)
        np.testing.assert_allclose(
            ours.result(), _numpy(theirs.result()), rtol=2e-5, atol=2e-6
        )
    if isinstance(ours, gm.AUC):  # same thresholds: the same counts, exactly
        for name in ("true_positives", "false_positives", "true_negatives"):
            np.testing.assert_allclose(
                getattr(ours, name), _numpy(getattr(theirs, name)), rtol=1e-6, atol=1e-5
            )
    ours.reset_state()
    theirs.reset_state()
    y, p = _batches(kind)[0]
    args = (y,) if p is None else (y, p)
    np.testing.assert_allclose(ours(*args), _numpy(theirs(*args)), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("case", sorted(set(CASES) - {"mean"}))
def test_config_matches_keras_and_keras_reads_it(case: str) -> None:
    ours_factory, keras_factory, _ = CASES[case]
    ours, theirs = ours_factory(), keras_factory()
    config = ours.get_config()
    keras_config = {**theirs.get_config(), "dtype": None}
    if keras_config.get("label_weights") is not None:  # a tensor in Keras' config
        keras_config["label_weights"] = _numpy(keras_config["label_weights"]).tolist()
    assert config == {**keras_config, "name": config["name"]}
    keras_copy = type(theirs).from_config(config)  # Keras reads glassnet's config
    assert keras_copy.name == config["name"]
    assert type(ours).from_config(keras_config).get_config() == {
        **config,
        "name": keras_config["name"],
    }


# -- scikit-learn ----------------------------------------------------------------------

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def _binary_data(n: int = 400) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + rng.random(n) * 0.7, 0, 1).astype("float32")
    return y, p, rng.uniform(0.1, 2.0, n)


@pytest.mark.parametrize("weighted", [False, True])
def test_precision_recall_f1_equal_scikit_learn(weighted: bool) -> None:
    y, p, w = _binary_data()
    w = w if weighted else None
    hard = (p > 0.5).astype(int)
    for ours, theirs in (
        (gm.Precision(), sklearn_metrics.precision_score),
        (gm.Recall(), sklearn_metrics.recall_score),
    ):
        ours.update_state(y, p, sample_weight=w)
        assert ours.result() == pytest.approx(
            theirs(y, hard, sample_weight=w), rel=1e-9
        )
    classes = np.random.default_rng(3).random((300, 4))
    labels = np.random.default_rng(4).integers(0, 4, 300)
    onehot = np.eye(4)[labels]
    for average in ("micro", "macro", "weighted"):
        f1 = gm.F1Score(average=average)
        f1.update_state(onehot, classes)
        expected = sklearn_metrics.f1_score(labels, classes.argmax(1), average=average)
        assert f1.result() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_approaches_scikit_learn_with_many_thresholds(weighted: bool) -> None:
    y, p, w = _binary_data()
    w = w if weighted else None
    exact = sklearn_metrics.roc_auc_score(y, p, sample_weight=w)
    errors = []
    for num_thresholds in (50, 200, 10_000):
        auc = gm.AUC(num_thresholds=num_thresholds)
        auc.update_state(y, p, sample_weight=w)
        errors.append(abs(auc.result() - exact))
    assert errors[-1] < 1e-3  # the bucket approximation, nearly gone
    assert errors[-1] <= errors[0]
    # thresholds at every distinct prediction: the trapezoids are scikit-learn's
    at_scores = gm.AUC(thresholds=sorted(set(np.nextafter(p, -1).tolist()) - {-1.0}))
    at_scores.update_state(y, p, sample_weight=w)
    assert at_scores.result() == pytest.approx(exact, abs=1e-9)


# -- fit and evaluate ---------------------------------------------------------------


def _binary_model(lib: Any) -> Any:
    return lib.Sequential(
        [
            lib.Input((4,)),
            lib.layers.Dense(6, activation="tanh"),
            lib.layers.Dense(1, activation="sigmoid"),
        ]
    )


def test_fit_epoch_metrics_equal_keras_from_the_same_weights() -> None:
    # AUC and precision over an epoch are not the mean of their batch values: the
    # epoch's counts decide them, as in Keras (batches of 8 out of 60 rows).
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype("float32")
    x_val, y_val = x[:20] * 0.9, y[:20]
    ours, theirs = _binary_model(GlassnetAsKeras), _binary_model(keras)
    theirs.set_weights(ours.get_weights())

    def metrics(lib: Any) -> list[Any]:
        return [
            "accuracy",
            "auc",
            "precision",
            lib.metrics.Recall(name="recall"),
            lib.metrics.AUC(curve="PR", name="pr_auc"),
            "mse",
        ]

    ours.compile(
        optimizer=SGD(0.3), loss="binary_crossentropy", metrics=metrics(GlassnetAsKeras)
    )
    theirs.compile(
        optimizer=keras.optimizers.SGD(0.3),
        loss="binary_crossentropy",
        metrics=metrics(keras),
    )
    fit = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}
    history = ours.fit(x, y, validation_data=(x_val, y_val), **fit).history
    keras_history = theirs.fit(x, y, validation_data=(x_val, y_val), **fit).history
    assert sorted(history) == sorted(keras_history)  # Keras sorts its log keys
    assert "val_auc" in history and "pr_auc" in history
    for key in keras_history:
        np.testing.assert_allclose(
            history[key], keras_history[key], rtol=1e-4, atol=1e-5, err_msg=key
        )
    logs = ours.evaluate(x_val, y_val, verbose=0, return_dict=True)
    keras_logs = theirs.evaluate(x_val, y_val, verbose=0, return_dict=True)
    assert sorted(logs) == sorted(keras_logs)
    for key, value in keras_logs.items():
        assert logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
    plain = ours.evaluate(x_val, y_val, verbose=0)
    np.testing.assert_allclose(
        plain, theirs.evaluate(x_val, y_val, verbose=0), rtol=1e-4
    )


def test_several_outputs_log_output_metric_keys_as_keras() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4)).astype("float32")
    price = x[:, :1].astype("float32")
    kind = rng.integers(0, 3, 30)
    ours, theirs = two_outputs(GlassnetAsKeras), two_outputs(keras)
    theirs.set_weights(ours.get_weights())
    loss = {"price": "mse", "kind": "sparse_categorical_crossentropy"}

    def metrics(lib: Any) -> dict[str, Any]:
        top_2 = lib.metrics.SparseTopKCategoricalAccuracy(k=2, name="top_2")
        return {"price": ["mae", "r2_score"], "kind": ["accuracy", top_2]}

    ours.compile(optimizer=SGD(0.05), loss=loss, metrics=metrics(GlassnetAsKeras))
    theirs.compile(
        optimizer=keras.optimizers.SGD(0.05), loss=loss, metrics=metrics(keras)
    )
    fit = {"epochs": 2, "batch_size": 10, "shuffle": False, "verbose": 0}
    history = ours.fit(x, {"price": price, "kind": kind}, **fit).history
    keras_history = theirs.fit(x, {"price": price, "kind": kind}, **fit).history
    assert sorted(history) == sorted(keras_history)
    assert "kind_top_2" in history and "price_r2_score" in history
    for key in keras_history:
        np.testing.assert_allclose(
            history[key], keras_history[key], rtol=1e-4, atol=1e-5, err_msg=key
        )
    logs = ours.evaluate(x, {"price": price, "kind": kind}, verbose=0, return_dict=True)
    keras_logs = theirs.evaluate(
        x, {"price": price, "kind": kind}, verbose=0, return_dict=True
    )
    assert sorted(logs) == sorted(keras_logs)
    for key, value in keras_logs.items():
        assert logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key


def test_metric_objects_survive_model_files_both_ways(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")

    def metrics(lib: Any) -> list[Any]:
        return [
            "accuracy",
            lib.metrics.AUC(curve="PR", num_thresholds=50, name="pr"),
            lib.metrics.Precision(thresholds=0.7, name="p70"),
            lib.metrics.F1Score(average="macro", threshold=0.5, name="f1"),
        ]

    ours = _binary_model(GlassnetAsKeras)
    ours.compile(
        optimizer="adam", loss="binary_crossentropy", metrics=metrics(GlassnetAsKeras)
    )
    ours.save(tmp_path / "g.keras")
    theirs = keras.models.load_model(tmp_path / "g.keras")
    logs = ours.evaluate(x, y, verbose=0, return_dict=True)
    keras_logs = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(logs) == sorted(keras_logs)
    for key, value in keras_logs.items():
        assert logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key

    keras_made = _binary_model(keras)
    keras_made.compile(
        optimizer="adam", loss="binary_crossentropy", metrics=metrics(keras)
    )
    keras_made.save(tmp_path / "k.keras")
    loaded = load_model(tmp_path / "k.keras")
    assert [type(m).__name__ for m in loaded.metrics] == [
        "BinaryAccuracy",
        "AUC",
        "Precision",
        "F1Score",
    ]
    assert loaded.metrics[1].get_config()["num_thresholds"] == 50
    loaded_logs = loaded.evaluate(x, y, verbose=0, return_dict=True)
    keras_logs = keras_made.evaluate(x, y, verbose=0, return_dict=True)
    for key, value in keras_logs.items():
        assert loaded_logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
