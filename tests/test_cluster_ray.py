"""Ray: joblib's Ray backend around GridSearchCV (issue 16, check (e)), and the
``TuneReport`` callback that reports ``fit``'s epochs to Ray Tune.

The callback's own behaviour is tested without Ray (a reporter of our own takes
Tune's place). With Ray installed (``pip install "glassnet[ray]"``), a local Ray
bound to the loopback interface (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes
every Ray process listen on 127.0.0.1) runs the search and a Tune experiment;
without Ray those tests are skipped with a message, except under CI (which installs
Ray), where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings

import numpy as np
import pytest
from test_cluster_support import (
    check_process_tree_listens_on_loopback,
    classification_data,
    deadline,
    missing_engine,
)

from glassnet.callbacks import TuneReport
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Dense
from glassnet.models import Sequential

_NO_RAY = 'Ray is not installed: pip install "glassnet[ray]" runs these tests'
HAS_RAY = importlib.util.find_spec("ray") is not None


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x @ np.array([1.0, -2.0, 0.5, 0.0], np.float32))[:, None]


def _model(units=8, seed=0):
    model = Sequential(
        [Dense(units, activation="tanh", input_dim=4), Dense(1)], seed=seed
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


# -- TuneReport, with a reporter of our own ----------------------------------------
def test_every_epochs_logs_are_reported_as_fit_records_them():
    x, y = _data()
    received = []
    history = _model().fit(
        x,
        y,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[TuneReport(report=received.append)],
    )
    assert len(received) == 3
    for epoch, values in enumerate(received):
        assert values == {key: history.history[key][epoch] for key in history.history}
        assert all(type(value) is float for value in values.values())


def test_chosen_and_renamed_metrics():
    x, y = _data()
    chosen, renamed = [], []
    history = _model().fit(
        x,
        y,
        epochs=2,
        validation_split=0.25,
        verbose=0,
        callbacks=[
            TuneReport(["val_loss", "mae"], report=chosen.append),
            TuneReport({"error": "val_mae"}, report=renamed.append),
        ],
    )
    assert chosen[1] == {
        "val_loss": history.history["val_loss"][1],
        "mae": history.history["mae"][1],
    }
    assert renamed == [{"error": value} for value in history.history["val_mae"]]


def test_epochs_without_validation_report_nothing_for_a_val_metric():
    x, y = _data()
    received = []
    _model().fit(
        x,
        y,
        epochs=4,
        validation_split=0.25,
        validation_freq=2,
        verbose=0,
        callbacks=[TuneReport("val_loss", report=received.append)],
    )
    assert len(received) == 2  # epochs 2 and 4


def test_a_missing_metric_is_an_error_that_lists_the_logs():
    x, y = _data()
    with pytest.raises(InvalidArgumentError, match=r"no \['accuracy'\].*'loss', 'mae'"):
        _model().fit(
            x, y, epochs=1, verbose=0, callbacks=[TuneReport("accuracy", report=print)]
        )


@pytest.mark.parametrize("metrics", [[], 3, {"a": 1}, [""]])
def test_bad_metrics_are_refused(metrics):
    with pytest.raises(InvalidArgumentError, match="Argument `metrics`"):
        TuneReport(metrics, report=print)


def test_a_report_that_is_not_a_function_is_refused():
    with pytest.raises(GlassnetTypeError, match="Argument `report`"):
        TuneReport(report="ray.tune.report")


def test_without_ray_it_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "ray" else real(name, *args),
    )
    with pytest.raises(ModuleNotFoundError, match=r"glassnet\[ray\]"):
        TuneReport()


# -- on Ray -------------------------------------------------------------------------
def _worker_pid():
    return os.getpid()


def _tune_trial(config):
    """A Ray Tune trial: fit for a few epochs, reporting each one."""
    x, y = _data()
    _model(config["units"]).fit(
        x,
        y,
        epochs=3,
        batch_size=32,
        verbose=0,
        callbacks=[TuneReport(["loss", "mae"])],
    )


@pytest.fixture(scope="module")
def ray_session():
    if not HAS_RAY:
        missing_engine(_NO_RAY)
    # Every Ray process listens on 127.0.0.1 only; read when ray is imported.
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray
    import ray.cloudpickle

    # Ray's workers receive the trial functions of this module by value (a real
    # deployment installs such code on every node).
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with deadline(180, "starting Ray"):
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    yield ray
    with deadline(60, "stopping Ray"):
        ray.shutdown()


@pytest.fixture
def _ray_time_limit(ray_session):
    with deadline(180, "a Ray test"):
        yield


@pytest.mark.cluster
@pytest.mark.usefixtures("_ray_time_limit")
def test_ray_listens_on_loopback_only(ray_session):
    [node] = ray_session.nodes()
    assert node["NodeManagerAddress"] == "127.0.0.1"
    assert ray_session.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    pytest.importorskip("psutil", reason="listing Ray's sockets needs psutil")
    # every process Ray started (GCS, raylet, agents, workers) listens on loopback
    worker_pid = ray_session.remote(_worker_pid)  # start workers: their sockets count
    assert os.getpid() not in ray_session.get([worker_pid.remote() for _ in range(2)])
    listeners = check_process_tree_listens_on_loopback()
    assert any("raylet" in who for who in listeners), listeners


@pytest.mark.cluster
@pytest.mark.usefixtures("_ray_time_limit")
def test_e_grid_search_under_rays_joblib_backend_matches_a_sequential_run(ray_session):
    pytest.importorskip("sklearn")
    from joblib import parallel_config
    from ray.util.joblib import register_ray
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV

    from glassnet.sklearn import GlassClassifier

    x, y = classification_data(600)
    grid = {"alpha": [1e-4, 0.1], "hidden_layer_sizes": [(8,), (16, 8)]}
    register_ray()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(GlassClassifier(max_iter=15, random_state=0), grid, cv=3)
        sequential = search.fit(x, y).cv_results_
        with parallel_config(backend="ray", n_jobs=2):
            on_ray = GridSearchCV(
                GlassClassifier(max_iter=15, random_state=0), grid, cv=3
            ).fit(x, y)
    for key in sequential:
        if key.endswith("test_score"):
            np.testing.assert_array_equal(on_ray.cv_results_[key], sequential[key])


@pytest.mark.cluster
@pytest.mark.usefixtures("_ray_time_limit")
def test_tune_receives_each_epoch_of_each_trial(ray_session, tmp_path):
    from ray import tune

    tuner = tune.Tuner(
        _tune_trial,
        param_space={"units": tune.grid_search([4, 8])},
        tune_config=tune.TuneConfig(metric="loss", mode="min"),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
    )
    results = tuner.fit()
    assert not results.errors
    x, y = _data()
    for result in results:
        units = result.config["units"]
        local = _model(units).fit(x, y, epochs=3, batch_size=32, verbose=0)
        reported = result.metrics_dataframe
        assert list(reported["loss"]) == local.history["loss"]
        assert list(reported["mae"]) == local.history["mae"]
    best = results.get_best_result()
    assert best.metrics["loss"] == min(r.metrics["loss"] for r in results)


def test_a_missing_engine_fails_under_ci_and_is_skipped_elsewhere(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the cluster tests"):
        missing_engine("Ray is not installed")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="Ray is not installed"):
        missing_engine("Ray is not installed")
