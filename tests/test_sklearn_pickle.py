"""What GlassClassifier and GlassRegressor promise to the engines that move them.

Dask, Ray, Spark and joblib pickle an estimator to send it to a worker, read its
size to place it (``sys.getsizeof``, which Dask's ``sizeof`` calls), hand
``partial_fit`` the same ``classes`` on every block and predict on empty or
one-row partitions. These tests check each promise without any engine (the
cluster tests, ``test_cluster_*.py``, run the same code on real workers):

- a pickle carries the weights and the optimizer state and little else
  (``len(pickle.dumps(est)) <= weight bytes + optimizer state bytes + 8 kB``),
  never the last batch, and unpickles to identical predictions;
- training continues **bitwise** where it stopped, on a copy made between any two
  blocks, as if it had never moved;
- ``clone`` gives an unfitted copy, ``sys.getsizeof`` the bytes a pickle carries;
- ``partial_fit(classes=...)`` takes the same labels on every call and refuses
  others clearly, leaving the estimator unchanged;
- ``predict``/``predict_proba`` on 0 rows and on one row;
- ``import glassnet`` (and glassnet.sklearn, glassnet.callbacks) imports no engine.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

from glassnet.errors import InvalidArgumentError
from glassnet.sklearn import GlassClassifier, GlassRegressor

#: what a pickle may carry besides the weights and the optimizer state
OVERHEAD = 8 * 1024


def _data(n: int = 600, features: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 0.5)
    target = x @ rng.normal(size=features) + 0.1 * rng.normal(size=n)
    return x, labels, target


def _weight_bytes(est) -> int:
    return sum(a.nbytes for a in [*est.coefs_, *est.intercepts_])


def _optimizer_bytes(est) -> int:
    state = est.model_.optimizer.state
    return sum(a.nbytes for slots in state.values() for a in slots.values())


def _fitted(kind: str, **params):
    x, labels, target = _data()
    est = (GlassClassifier if kind == "classifier" else GlassRegressor)(
        hidden_layer_sizes=params.pop("hidden_layer_sizes", (64, 32)),
        random_state=0,
        **params,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(x, labels if kind == "classifier" else target)
    return est, x


def _same_weights(a, b) -> bool:
    arrays = zip([*a.coefs_, *a.intercepts_], [*b.coefs_, *b.intercepts_], strict=True)
    return all(np.array_equal(p, q) for p, q in arrays)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize(
    "params",
    [
        {"max_iter": 3},
        {"max_iter": 3, "solver": "sgd", "batch_size": 600},  # one 600-row batch
        {"max_iter": 2, "solver": "rmsprop", "dtype": "float64"},
        {"max_iter": 3, "early_stopping": True},
    ],
    ids=["adam", "sgd-whole-batch", "rmsprop-float64", "early-stopping"],
)
def test_a_pickle_carries_the_weights_and_optimizer_state_and_8kB_at_most(kind, params):
    est, x = _fitted(kind, **params)
    weights, state = _weight_bytes(est), _optimizer_bytes(est)
    assert state > 0  # the optimizer state travels...
    data = pickle.dumps(est)
    # ...and nothing of the size of a batch: the last batch's activations
    # (600 rows x 96 units here) would alone break the bound.
    assert weights + state < len(data) <= weights + state + OVERHEAD
    copy_ = pickle.loads(data)
    predict = copy_.predict_proba if kind == "classifier" else copy_.predict
    original = est.predict_proba if kind == "classifier" else est.predict
    np.testing.assert_array_equal(predict(x), original(x))
    assert copy_.loss_curve_ == est.loss_curve_ and copy_.n_iter_ == est.n_iter_
    for layer in copy_.model_.layers:
        assert layer._cache is None  # nothing cached from the last training batch


def test_the_pickle_does_not_grow_with_the_batch_it_trained_on():
    small, _ = _fitted("classifier", max_iter=2, batch_size=50)
    large, _ = _fitted("classifier", max_iter=2, batch_size=600)
    # Same architecture, same optimizer: the sizes differ only by the loss curve.
    assert abs(len(pickle.dumps(small)) - len(pickle.dumps(large))) < 200


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_training_continues_bitwise_on_a_copy_made_between_blocks(kind):
    x, labels, target = _data(900)
    y = labels if kind == "classifier" else target
    extra = {"classes": [0, 1, 2]} if kind == "classifier" else {}
    make = GlassClassifier if kind == "classifier" else GlassRegressor
    here = make(hidden_layer_sizes=(16,), random_state=3)
    moved = make(hidden_layer_sizes=(16,), random_state=3)
    for start in range(0, 900, 300):
        block = slice(start, start + 300)
        here.partial_fit(x[block], y[block], **extra)
        # each block is trained on a fresh copy, as each Dask task unpickles one
        moved = pickle.loads(pickle.dumps(moved)).partial_fit(
            x[block], y[block], **extra
        )
    assert _same_weights(here, moved)
    assert here.loss_curve_ == moved.loss_curve_ and here.t_ == moved.t_ == 900
    a, b = here.model_.optimizer, moved.model_.optimizer
    assert a.iterations == b.iterations
    # the two models were named apart (dense, dense_2...): compare in layer order
    for ours, theirs in zip(a.state.values(), b.state.values(), strict=True):
        assert ours.keys() == theirs.keys()
        for slot, value in ours.items():
            np.testing.assert_array_equal(value, theirs[slot])


def test_fit_with_warm_start_and_early_stopping_continues_bitwise_after_a_copy():
    x, labels, _ = _data(400)
    params = {
        "hidden_layer_sizes": (8,),
        "early_stopping": True,
        "warm_start": True,
        "max_iter": 4,
        "n_iter_no_change": 1,
        "random_state": 0,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        here = GlassClassifier(**params).fit(x, labels)
        moved = copy.deepcopy(here)
        here.fit(x, labels)
        moved.fit(x, labels)
    assert _same_weights(here, moved)
    assert here.validation_scores_ == moved.validation_scores_


def test_clone_gives_an_unfitted_copy_with_the_same_parameters():
    est, _ = _fitted("classifier", max_iter=2, alpha=0.01)
    fresh = clone(est)
    assert fresh.get_params() == est.get_params()
    assert not hasattr(fresh, "model_") and not hasattr(fresh, "coefs_")
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh)
    check_is_fitted(est)  # the original is untouched


def test_sizeof_reports_the_weight_and_optimizer_bytes():
    est, _ = _fitted("classifier", max_iter=2)
    carried = _weight_bytes(est) + _optimizer_bytes(est)
    assert carried <= sys.getsizeof(est) <= carried + 1024
    assert sys.getsizeof(GlassClassifier()) < 1024  # unfitted: no weights
    # after unpickling, the same bytes
    assert sys.getsizeof(pickle.loads(pickle.dumps(est))) == sys.getsizeof(est)


def test_partial_fit_takes_the_same_classes_on_every_call():
    x, labels, _ = _data(300)
    clf = GlassClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(x[:100], labels[:100], classes=np.array([0, 1, 2]))
    clf.partial_fit(x[100:200], labels[100:200], classes=[2, 0, 1])  # any order
    clf.partial_fit(x[200:], labels[200:], classes=(0, 1, 2))
    assert clf.n_iter_ == 1 and clf.t_ == 300 and len(clf.loss_curve_) == 3


def test_partial_fit_refuses_other_classes_and_leaves_the_estimator_unchanged():
    x, labels, _ = _data(200)
    clf = GlassClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(x[:100], labels[:100], classes=[0, 1, 2])
    before = pickle.dumps(clf)
    with pytest.raises(
        InvalidArgumentError,
        match=r"same labels on every call.*\[0, 1, 2\].*Received: classes=\[0, 1, 2, 3\]",
    ):
        clf.partial_fit(x[100:], labels[100:], classes=[0, 1, 2, 3])
    with pytest.raises(InvalidArgumentError, match=r"Received: classes=\[0, 1\]"):
        clf.partial_fit(x[100:], labels[100:], classes=[0, 1])
    assert pickle.dumps(clf) == before


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("classifier", {}),  # three classes: softmax
        ("binary", {}),
        ("regressor", {}),
        ("multi-output", {}),
    ],
)
def test_predict_on_zero_rows_and_on_one_row(kind, params):
    x, labels, target = _data(200)
    if kind == "classifier":
        est, y = GlassClassifier(hidden_layer_sizes=(8,), max_iter=2), labels
    elif kind == "binary":
        est, y = GlassClassifier(hidden_layer_sizes=(8,), max_iter=2), labels > 0
    elif kind == "regressor":
        est, y = GlassRegressor(hidden_layer_sizes=(8,), max_iter=2), target
    else:
        est = GlassRegressor(hidden_layer_sizes=(8,), max_iter=2)
        y = np.column_stack([target, -target])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(random_state=0, **params).fit(x, y)
    full = est.predict(x)
    empty = est.predict(x[:0])
    assert empty.shape == (0, *full.shape[1:]) and empty.dtype == full.dtype
    one = est.predict(x[5:6])
    assert one.shape == (1, *full.shape[1:])
    # BLAS multiplies one row by a matrix-vector kernel, whose sums may differ
    # from the matrix-matrix kernel's in the last bit
    np.testing.assert_allclose(one[0], full[5], rtol=1e-12, atol=1e-15)
    if kind in ("classifier", "binary"):
        proba = est.predict_proba(x)
        assert est.predict_proba(x[:0]).shape == (0, proba.shape[1])
        assert est.predict_log_proba(x[:0]).shape == (0, proba.shape[1])
        np.testing.assert_allclose(est.predict_proba(x[7:8])[0], proba[7], rtol=1e-12)
    with pytest.raises(ValueError, match="features"):
        est.predict(np.empty((0, 3)))  # still checks the number of features


def test_importing_glassnet_imports_no_engine():
    engines = ("dask", "distributed", "dask_ml", "ray", "pyspark")
    code = (
        "import sys, glassnet, glassnet.sklearn, glassnet.callbacks\n"
        f"print([m for m in {engines!r} if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
