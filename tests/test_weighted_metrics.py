"""``compile(weighted_metrics=...)`` gives Keras 3's numbers (torch backend).

Every test trains or evaluates the same model from the same initial weights in
glassnet and Keras and compares every log: ``fit``'s epoch logs and validation logs,
the running logs batch hooks see, ``evaluate``, the ``*_on_batch`` methods, data
from a generator, models with several outputs, ``class_weight``; then files both
ways, and the bad arguments glassnet refuses.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from glassnet_as_keras import GlassnetAsKeras, two_outputs  # noqa: E402

from glassnet import Input  # noqa: E402
from glassnet import callbacks as gc  # noqa: E402
from glassnet import layers as gl  # noqa: E402
from glassnet import metrics as gm  # noqa: E402
from glassnet.callbacks.monitor import monitor_direction  # noqa: E402
from glassnet.errors import (  # noqa: E402
    GlassnetTypeError,
    InvalidArgumentError,
    UnknownNameError,
)
from glassnet.models import Sequential, load_model  # noqa: E402
from glassnet.optimizers import SGD  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CLOSE = {"rtol": 1e-4, "atol": 1e-5}


def _binary_model(lib: Any) -> Any:
    return lib.Sequential(
        [
            lib.Input((4,)),
            lib.layers.Dense(6, activation="tanh"),
            lib.layers.Dense(1, activation="sigmoid"),
        ]
    )


def _pair(build: Any) -> tuple[Any, Any]:
    ours, theirs = build(GlassnetAsKeras), build(keras)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def _data(n: int = 60, seed: int = 0) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype("float32")
    w = rng.uniform(0.0, 3.0, n).astype("float32")
    w[::7] = 0.0  # some samples weigh nothing
    return x, y, w


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _numbers(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers(v) for v in value]
    return float(np.asarray(keras.ops.convert_to_numpy(value)))


def _same_logs(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        np.testing.assert_allclose(ours[key], _numbers(value), err_msg=key, **CLOSE)


def _binary_metrics(lib: Any, weighted: bool) -> list[Any]:
    made = ["accuracy", "mae", "auc", lib.metrics.Precision(name="precision")]
    if weighted:
        made += ["mse", lib.metrics.AUC(curve="PR", name="pr_auc")]
    return made


def _compile_binary(model: Any, lib: Any) -> None:
    optimizer = SGD(0.3) if lib is GlassnetAsKeras else keras.optimizers.SGD(0.3)
    model.compile(
        optimizer=optimizer,
        loss="binary_crossentropy",
        metrics=_binary_metrics(lib, weighted=False),
        weighted_metrics=_binary_metrics(lib, weighted=True),
    )


def test_fit_evaluate_and_validation_logs_equal_keras() -> None:
    x, y, w = _data()
    x_val, y_val, w_val = x[:25] * 0.9, y[:25], w[::-1][:25].copy()
    ours, theirs = _pair(_binary_model)
    _compile_binary(ours, GlassnetAsKeras)
    _compile_binary(theirs, keras)
    fit = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}
    history = ours.fit(
        x, y, sample_weight=w, validation_data=(x_val, y_val, w_val), **fit
    ).history
    keras_history = theirs.fit(
        x, y, sample_weight=w, validation_data=(x_val, y_val, w_val), **fit
    ).history
    assert {"weighted_accuracy", "weighted_auc", "mse", "val_pr_auc"} <= set(history)
    assert sorted(history) == sorted(keras_history)
    for key in keras_history:
        np.testing.assert_allclose(
            history[key], keras_history[key], err_msg=key, **CLOSE
        )
    # the weights matter: the weighted values differ from the unweighted ones
    assert abs(history["weighted_mae"][0] - history["mae"][0]) > 1e-3
    logs = ours.evaluate(x_val, y_val, sample_weight=w_val, verbose=0, return_dict=True)
    _same_logs(
        logs,
        theirs.evaluate(x_val, y_val, sample_weight=w_val, verbose=0, return_dict=True),
    )
    # without weights, a weighted metric is its unweighted twin
    plain = ours.evaluate(x_val, y_val, verbose=0, return_dict=True)
    for name in ("accuracy", "mae", "auc", "precision"):
        assert plain[f"weighted_{name}"] == pytest.approx(plain[name], rel=1e-12)
    _same_logs(plain, theirs.evaluate(x_val, y_val, verbose=0, return_dict=True))


def test_weighted_value_is_the_weighted_mean_worked_by_hand() -> None:
    # predictions 0.5 +- 0.1 against labels: errors |y - p| are 0.4, 0.6, 0.4, 0.6
    # y = x: one unit, weight 1, bias 0
    identity = gl.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
    model = Sequential([Input((1,)), identity], seed=0)
    model.compile(
        optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=["mae"]
    )
    x = np.array([[0.4], [0.6], [0.6], [0.4]], "float32")
    y = np.array([[0.0], [0.0], [1.0], [1.0]], "float32")
    logs = model.evaluate(
        x, y, sample_weight=[1.0, 3.0, 0.0, 2.0], verbose=0, return_dict=True
    )
    # unweighted mean (0.4 + 0.6 + 0.4 + 0.6) / 4 = 0.5
    assert logs["mae"] == pytest.approx(0.5)
    # weighted (1*0.4 + 3*0.6 + 0*0.4 + 2*0.6) / (1 + 3 + 0 + 2) = 3.4 / 6
    assert logs["weighted_mae"] == pytest.approx(3.4 / 6)
    # the loss stays sum(w * l) / n: (1*.16 + 3*.36 + 0 + 2*.36) / 4
    assert logs["loss"] == pytest.approx((0.16 + 1.08 + 0.72) / 4)


def test_class_weight_weighs_the_weighted_metrics_not_validation() -> None:
    x, y, _ = _data(48, seed=3)
    ours, theirs = _pair(_binary_model)
    for model, lib in ((ours, GlassnetAsKeras), (theirs, keras)):
        _compile_binary(model, lib)
    fit = {"epochs": 2, "batch_size": 16, "shuffle": False, "verbose": 0}
    weights = {0: 0.5, 1: 4.0}
    history = ours.fit(
        x, y, class_weight=weights, validation_data=(x[:20], y[:20]), **fit
    ).history
    keras_history = theirs.fit(
        x, y, class_weight=weights, validation_data=(x[:20], y[:20]), **fit
    ).history
    assert sorted(history) == sorted(keras_history)
    for key in keras_history:
        np.testing.assert_allclose(
            history[key], keras_history[key], err_msg=key, **CLOSE
        )
    assert history["val_weighted_mae"] == pytest.approx(history["val_mae"])
    assert abs(history["weighted_mae"][0] - history["mae"][0]) > 1e-3


class _BatchLogs:
    """A callback (in both libraries) keeping the logs of every train and test batch."""

    def __init__(self, lib: Any) -> None:
        base = lib.callbacks.Callback
        seen: list[tuple[str, dict[str, float]]] = []

        class Record(base):  # type: ignore[misc, valid-type]
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                seen.append(("train", _numbers(dict(logs))))

            def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
                seen.append(("test", _numbers(dict(logs))))

        self.callback, self.seen = Record(), seen


def test_batch_hooks_see_keras_running_weighted_values() -> None:
    x, y, w = _data(40, seed=5)
    ours, theirs = _pair(_binary_model)
    records = []
    for model, lib in ((ours, GlassnetAsKeras), (theirs, keras)):
        _compile_binary(model, lib)
        record = _BatchLogs(lib)
        model.fit(
            x, y, sample_weight=w, validation_data=(x[:12], y[:12], w[:12]),
            batch_size=8, epochs=1, shuffle=False, verbose=0,
            callbacks=[record.callback],
        )  # fmt: skip
        records.append(record.seen)
    assert [kind for kind, _ in records[0]] == [kind for kind, _ in records[1]]
    for (_, logs), (_, keras_logs) in zip(*records, strict=True):
        _same_logs(logs, keras_logs)


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
@pytest.mark.filterwarnings("ignore:Your input ran out of data")
def test_generator_batches_with_weights_equal_keras() -> None:
    x, y, w = _data(36, seed=6)

    def batches() -> Any:
        for start in range(0, 36, 12):
            part = slice(start, start + 12)
            yield x[part], y[part], w[part]

    ours, theirs = _pair(_binary_model)
    for model, lib in ((ours, GlassnetAsKeras), (theirs, keras)):
        _compile_binary(model, lib)
    history = ours.fit(batches(), epochs=1, verbose=0).history
    keras_history = theirs.fit(batches(), epochs=1, verbose=0).history
    assert sorted(history) == sorted(keras_history)
    for key in keras_history:
        np.testing.assert_allclose(
            history[key], keras_history[key], err_msg=key, **CLOSE
        )
    logs = ours.evaluate(batches(), verbose=0, return_dict=True)
    _same_logs(logs, theirs.evaluate(batches(), verbose=0, return_dict=True))


def test_train_and_test_on_batch_equal_keras() -> None:
    x, y, w = _data(16, seed=7)
    ours, theirs = _pair(_binary_model)
    for model, lib in ((ours, GlassnetAsKeras), (theirs, keras)):
        _compile_binary(model, lib)
    for _ in range(2):
        _same_logs(
            ours.train_on_batch(x, y, sample_weight=w, return_dict=True),
            theirs.train_on_batch(x, y, sample_weight=w, return_dict=True),
        )
    _same_logs(
        ours.test_on_batch(x, y, sample_weight=w, return_dict=True),
        theirs.test_on_batch(x, y, sample_weight=w, return_dict=True),
    )


def test_evaluate_list_in_keras_order() -> None:
    # Keras 3 orders evaluate's list as `loss`, the logs named as a compiled
    # metric, then the rest sorted.
    x, y, w = _data(30, seed=8)
    ours, theirs = _pair(_binary_model)
    for model in (ours, theirs):
        model.compile(
            optimizer="sgd",
            loss="binary_crossentropy",
            metrics=["mae", "accuracy"],
            weighted_metrics=["mse", "auc"],
        )
    values = ours.evaluate(x, y, sample_weight=w, verbose=0)
    np.testing.assert_allclose(
        values, _numbers(theirs.evaluate(x, y, sample_weight=w, verbose=0)), **CLOSE
    )
    # With a name in both lists, Keras repeats values in the list ([loss, mae,
    # mae, weighted_mae]); glassnet gives each once, in the order Keras sorts.
    ours.compile(
        optimizer="sgd", loss="binary_crossentropy", metrics=["mae"],
        weighted_metrics=["mae"],
    )  # fmt: skip
    logs = ours.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert ours.evaluate(x, y, sample_weight=w, verbose=0) == [
        logs["loss"],
        logs["mae"],
        logs["weighted_mae"],
    ]


def _two_output_data() -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4)).astype("float32")
    price = (x[:, :1] + 0.1).astype("float32")
    kind = rng.integers(0, 3, 30)
    w = rng.uniform(0.0, 2.0, 30).astype("float32")
    return x, price, kind, w


@pytest.mark.parametrize("form", ["dict", "lists", "one_output_only"])
def test_several_outputs_weighted_metrics_equal_keras(form: str) -> None:
    x, price, kind, w = _two_output_data()
    ours, theirs = _pair(two_outputs)
    loss = {"price": "mse", "kind": "sparse_categorical_crossentropy"}
    metrics = {"price": ["mae"], "kind": ["accuracy"]}

    def weighted(lib: Any) -> Any:
        top_2 = lib.metrics.SparseTopKCategoricalAccuracy(k=2, name="top_2")
        if form == "dict":
            return {"price": ["mae", "mse"], "kind": ["accuracy", top_2]}
        if form == "lists":
            return [["mae", "r2_score"], ["accuracy"]]
        return {"kind": ["accuracy"]}

    ours.compile(
        optimizer=SGD(0.05), loss=loss, metrics=metrics,
        weighted_metrics=weighted(GlassnetAsKeras), loss_weights={"price": 1.0, "kind": 0.5},
    )  # fmt: skip
    theirs.compile(
        optimizer=keras.optimizers.SGD(0.05), loss=loss, metrics=metrics,
        weighted_metrics=weighted(keras), loss_weights={"price": 1.0, "kind": 0.5},
    )  # fmt: skip
    # targets as a list: Keras 3.15 fails on dict targets with sample weights
    # (it packs the weights as a dict, then reads them by position)
    y = [price, kind]
    val = (x[:10], [price[:10], kind[:10]], w[:10])
    fit = {"epochs": 2, "batch_size": 10, "shuffle": False, "verbose": 0}
    history = ours.fit(x, y, sample_weight=w, validation_data=val, **fit).history
    keras_history = theirs.fit(
        x, y, sample_weight=w, validation_data=val, **fit
    ).history
    assert "kind_weighted_accuracy" in history
    assert sorted(history) == sorted(keras_history)
    for key in keras_history:
        np.testing.assert_allclose(
            history[key], keras_history[key], err_msg=key, **CLOSE
        )
    logs = ours.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    _same_logs(
        logs, theirs.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    )
    np.testing.assert_allclose(
        ours.evaluate(x, y, sample_weight=w, verbose=0),
        _numbers(theirs.evaluate(x, y, sample_weight=w, verbose=0)),
        **CLOSE,
    )


def test_callbacks_watch_weighted_metrics_in_the_right_direction(
    tmp_path: Any,
) -> None:
    x, y, w = _data(40, seed=9)
    model = _binary_model(GlassnetAsKeras)
    model.compile(
        optimizer=SGD(0.3), loss="binary_crossentropy", metrics=["accuracy"],
        weighted_metrics=["accuracy", "r2_score", "mae"],
    )  # fmt: skip
    # R2 rises as the model improves: mode="auto" must not take it for an error
    assert monitor_direction(model, "val_r2_score") == "max"
    assert monitor_direction(model, "val_weighted_accuracy") == "max"
    assert monitor_direction(model, "val_mae") == "min"
    stop = gc.EarlyStopping(monitor="val_weighted_accuracy", patience=0)
    # ModelCheckpoint checks its file-name template against the weighted keys too
    template = str(tmp_path / "ckpt-{epoch}-{val_weighted_accuracy:.3f}.keras")
    checkpoint = gc.ModelCheckpoint(template)
    history = model.fit(
        x, y, sample_weight=w, validation_data=(x[:10], y[:10], w[:10]),
        epochs=3, batch_size=8, verbose=0, callbacks=[stop, checkpoint],
    )  # fmt: skip
    values = history.history["val_weighted_accuracy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"ckpt-{epoch + 1}-{value:.3f}.keras" for epoch, value in enumerate(values)
    ]
    with pytest.raises(InvalidArgumentError, match="val_weighted_acuracy"):
        model.fit(
            x, y, sample_weight=w, validation_data=(x[:10], y[:10], w[:10]),
            epochs=1, verbose=0,
            callbacks=[gc.ModelCheckpoint(str(tmp_path / "{val_weighted_acuracy}"))],
        )  # fmt: skip


def test_weighted_metrics_survive_model_files_both_ways(tmp_path: Any) -> None:
    x, y, w = _data(30, seed=10)

    def weighted(lib: Any) -> list[Any]:
        return ["accuracy", lib.metrics.AUC(num_thresholds=50, name="auc50"), "mae"]

    ours = _binary_model(GlassnetAsKeras)
    ours.compile(
        optimizer="adam", loss="binary_crossentropy", metrics=["mae"],
        weighted_metrics=weighted(GlassnetAsKeras),
    )  # fmt: skip
    ours.save(tmp_path / "g.keras")
    again = load_model(tmp_path / "g.keras")
    assert [m.name for m in again.weighted_metrics] == ["accuracy", "auc50", "mae"]
    theirs = keras.models.load_model(tmp_path / "g.keras")
    logs = ours.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert again.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True) == logs
    _same_logs(
        logs, theirs.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    )

    made = _binary_model(keras)
    made.compile(
        optimizer="adam", loss="binary_crossentropy", metrics=["mae"],
        weighted_metrics=weighted(keras),
    )  # fmt: skip
    made.save(tmp_path / "k.keras")
    loaded = load_model(tmp_path / "k.keras")
    assert [type(m).__name__ for m in loaded.weighted_metrics] == [
        "BinaryAccuracy",
        "AUC",
        "MeanAbsoluteError",
    ]
    _same_logs(
        loaded.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True),
        made.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True),
    )


def test_several_outputs_files_keep_weighted_metrics_and_missing_losses(
    tmp_path: Any,
) -> None:
    x, price, kind, w = _two_output_data()
    ours = two_outputs(GlassnetAsKeras)
    ours.compile(
        optimizer="adam", loss=[None, "sparse_categorical_crossentropy"],
        metrics=[["mae"], ["accuracy"]], weighted_metrics={"price": ["mae"]},
    )  # fmt: skip
    ours.save(tmp_path / "g.keras")
    again = load_model(tmp_path / "g.keras")
    assert again.heads is not None
    assert [h.loss is None for h in again.heads] == [True, False]
    assert [m.name for m in again.heads[0].weighted_metrics] == ["mae"]
    y = [price, kind]
    logs = ours.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert again.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True) == logs
    theirs = keras.models.load_model(tmp_path / "g.keras")
    _same_logs(
        logs, theirs.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    )

    made = two_outputs(keras)
    made.compile(
        optimizer="adam", loss=[None, "sparse_categorical_crossentropy"],
        metrics=[["mae"], ["accuracy"]], weighted_metrics=[["mse"], ["accuracy"]],
    )  # fmt: skip
    made.save(tmp_path / "k.keras")
    loaded = load_model(tmp_path / "k.keras")
    assert loaded.heads is not None and loaded.heads[0].loss is None
    _same_logs(
        loaded.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True),
        made.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True),
    )


# -- refused -----------------------------------------------------------------------
def _model() -> Any:
    return Sequential([gl.Dense(1, input_dim=2)])


def test_weighted_metrics_must_be_a_list() -> None:
    with pytest.raises(GlassnetTypeError, match="`weighted_metrics` must be a list"):
        _model().compile(loss="mse", weighted_metrics="mae")


def test_unknown_weighted_metric_suggests_a_name() -> None:
    with pytest.raises(UnknownNameError, match=r"Did you mean 'mae'"):
        _model().compile(loss="mse", weighted_metrics=["maee"])


def test_duplicate_names_in_one_list_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="must be unique"):
        _model().compile(loss="mse", weighted_metrics=["mae", "mae"])


def test_one_metric_object_in_both_lists_is_refused() -> None:
    mae = gm.MeanAbsoluteError()
    model = _model()
    with pytest.raises(InvalidArgumentError, match="compiled twice"):
        model.compile(loss="mse", metrics=[mae], weighted_metrics=[mae])
    assert not model.compiled  # refused before anything changed


def test_weighted_metric_for_an_unknown_output_is_refused() -> None:
    model = two_outputs(GlassnetAsKeras)
    with pytest.raises(InvalidArgumentError, match=r"outputs \['prize'\]"):
        model.compile(loss="mse", weighted_metrics={"prize": ["mae"]})


def test_masked_steps_weigh_nothing_in_a_weighted_mean() -> None:
    # A padded sequence output: the weighted MAE is sum(w_i * m_it * |e_it|) /
    # sum(w_i * m_it) over samples i and steps t, m the padding mask (Keras'
    # MeanMetricWrapper multiplies the weights by the mask).
    ids = np.array([[3, 1, 0, 0], [2, 2, 4, 0], [1, 0, 0, 0]])
    y = np.random.default_rng(11).normal(size=(3, 4, 1)).astype("float32")
    w = np.array([2.0, 0.5, 1.0], "float32")
    model = Sequential(
        [
            Input((4,), dtype="int32"),
            gl.Embedding(5, 3, mask_zero=True),
            gl.LSTM(2, return_sequences=True),
            gl.Dense(1),
        ],
        seed=0,
    )
    model.compile(loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    logs = model.evaluate(ids, y, sample_weight=w, verbose=0, return_dict=True)
    error = np.abs(model.predict(ids, verbose=0) - y)[..., 0]
    real = (ids != 0).astype("float64")
    assert logs["mae"] == pytest.approx((error * real).sum() / real.sum(), rel=1e-6)
    weighted = real * w[:, None]
    assert logs["weighted_mae"] == pytest.approx(
        (error * weighted).sum() / weighted.sum(), rel=1e-6
    )


def test_one_metric_object_for_every_output_keeps_a_state_per_output() -> None:
    # A flat list applies to every output; an object in it is copied for the
    # outputs after the first, so batch-by-batch logs (a test-batch hook) equal the
    # whole-data ones.
    x, price, kind, w = _two_output_data()
    model = two_outputs(GlassnetAsKeras)
    auc = gm.AUC(name="auc")
    model.compile(
        optimizer="sgd", loss=["mse", "categorical_crossentropy"],
        metrics=[gm.MeanAbsoluteError(name="mae")], weighted_metrics=[auc],
    )  # fmt: skip
    assert model.heads is not None
    assert model.heads[0].weighted_metrics[0] is auc
    assert model.heads[1].weighted_metrics[0] is not auc
    y = [(price > 0).astype("float32"), np.eye(3, dtype="float32")[kind]]
    whole = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)

    class EveryBatch(gc.Callback):
        def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
            pass

    batched = model.evaluate(
        x, y, sample_weight=w, batch_size=7, verbose=0, return_dict=True,
        callbacks=[EveryBatch()],
    )  # fmt: skip
    assert set(batched) >= {"price_auc", "kind_auc", "price_mae", "kind_mae"}
    for key, value in whole.items():
        assert batched[key] == pytest.approx(value, rel=1e-6), key
