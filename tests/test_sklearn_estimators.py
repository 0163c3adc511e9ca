"""glassnet.sklearn: GlassClassifier and GlassRegressor as scikit-learn estimators.

They are checked by scikit-learn's own estimator checks, compared with
MLPClassifier / MLPRegressor on the same data, and their loss is compared with
scikit-learn's definition computed by hand.
"""

from __future__ import annotations

import copy
import importlib
import math
import pickle
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import scipy.sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.estimator_checks import parametrize_with_checks

import glassnet
from glassnet import datasets
from glassnet.errors import (
    ConvergenceWarning as GlassnetConvergenceWarning,
)
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    UnknownNameError,
)
from glassnet.gradient_check import relative_error
from glassnet.layers import Dropout
from glassnet.optimizers import SGD, Adagrad, AdamW, RMSprop
from glassnet.sklearn import (
    ConvergenceWarning,
    GlassClassifier,
    GlassRegressor,
)
from glassnet.sklearn._losses import (
    BinaryLogLoss,
    HalfSquaredError,
    MultinomialLogLoss,
)
from glassnet.sklearn._network import loss_and_gradients

SMALL = {"hidden_layer_sizes": (8,), "random_state": 0}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Tiny networks and SciPy's L-BFGS-B only lose time to BLAS threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(1):
        yield


# -- scikit-learn's estimator checks ---------------------------------------------------

CHECKED = [
    GlassClassifier(learning_rate_init=0.02, max_iter=40, **SMALL),
    GlassRegressor(learning_rate_init=0.02, max_iter=40, **SMALL),
    GlassClassifier(solver="lbfgs", max_iter=100, dtype="float64", **SMALL),
    GlassRegressor(solver="lbfgs", max_iter=100, dtype="float64", **SMALL),
    # glassnet's additions: per-layer activations, dropout, another optimizer
    GlassClassifier(
        hidden_layer_sizes=(8, 6),
        activation=["tanh", "gelu"],
        dropout=[0.1, 0.0],
        solver="rmsprop",
        learning_rate_init=0.01,
        max_iter=40,
        random_state=0,
    ),
]

MINI_BATCH_WEIGHTS = (
    "Mini-batch training: a sample repeated k times lands in different batches "
    "and adds steps per epoch, so it does not train the same weights as one sample "
    "of weight k. scikit-learn runs this check on its MLP only with solver='lbfgs' "
    "(or sgd with tol=1e-2); our float64 lbfgs configurations pass it."
)


def expected_failed_checks(estimator):
    if estimator.solver == "lbfgs" and estimator.dtype == "float64":
        return {}
    return {
        "check_sample_weight_equivalence_on_dense_data": MINI_BATCH_WEIGHTS,
        "check_sample_weight_equivalence_on_sparse_data": MINI_BATCH_WEIGHTS,
    }


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        check(estimator)


# -- against scikit-learn's MLP ----------------------------------------------------------


def _test_score(estimator, x, y):
    x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0)
    model = make_pipeline(StandardScaler(), estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        return model.fit(x_train, y_train).score(x_test, y_test)


@pytest.mark.parametrize(
    ("load", "params"),
    [
        (datasets.iris, {"hidden_layer_sizes": (32,), "max_iter": 300}),
        (datasets.breast_cancer, {"hidden_layer_sizes": (32,), "max_iter": 100}),
        (datasets.breast_cancer, {"solver": "lbfgs", "max_iter": 100}),
    ],
)
def test_classifier_scores_like_mlp_classifier(load, params):
    x, y = load()
    ours = _test_score(GlassClassifier(random_state=0, **params), x, y)
    theirs = _test_score(MLPClassifier(random_state=0, **params), x, y)
    assert ours > 0.9
    assert abs(ours - theirs) < 0.04


def test_regressor_scores_like_mlp_regressor():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(600, 4))
    y = np.sin(x[:, 0]) + x[:, 1] * x[:, 2] + 0.1 * rng.standard_normal(600)
    params = {"hidden_layer_sizes": (32,), "learning_rate_init": 0.01, "max_iter": 200}
    ours = _test_score(GlassRegressor(random_state=0, **params), x, y)
    theirs = _test_score(MLPRegressor(random_state=0, **params), x, y)
    assert ours > 0.9
    assert abs(ours - theirs) < 0.04


def test_the_parameters_and_defaults_are_scikit_learns():
    for ours, theirs in [
        (GlassClassifier(), MLPClassifier()),
        (GlassRegressor(), MLPRegressor()),
    ]:
        extra = {"dropout", "class_weight", "early_stopping_monitor", "dtype"}
        mine = {k: v for k, v in ours.get_params().items() if k not in extra}
        assert mine == theirs.get_params()


# -- the loss is scikit-learn's -------------------------------------------------------------


def _forward(estimator, x):
    """The network by hand, from coefs_ and intercepts_ (float64)."""
    a = x
    for i, (w, b) in enumerate(
        zip(estimator.coefs_, estimator.intercepts_, strict=True)
    ):
        a = a @ w.astype(np.float64) + b
        if i < len(estimator.coefs_) - 1:
            a = np.maximum(a, 0)
    return a


def _penalty(estimator, n):
    return (
        0.5
        * estimator.alpha
        * sum(np.sum(w.astype(np.float64) ** 2) for w in estimator.coefs_)
        / n
    )


def _loss_at_current_weights(estimator, x, y):
    """Train one more full-batch epoch: its loss_ is the loss before that step."""
    before = copy.deepcopy(estimator)
    estimator.set_params(batch_size=len(x), shuffle=False)
    estimator.partial_fit(x, y)
    return before, estimator.loss_


def test_classifier_loss_is_log_loss_plus_the_l2_term():
    x, y = datasets.blobs(60, centers=3, seed=0)
    clf = GlassClassifier((5,), alpha=0.5, max_iter=3, dtype="float64", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf.fit(x, y)
    before, loss = _loss_at_current_weights(clf, x, y)
    z = _forward(before, x)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = log_loss(y, p) + _penalty(before, len(x))
    assert loss == pytest.approx(expected, rel=1e-10)


def test_regressor_loss_is_half_the_squared_error_plus_the_l2_term():
    x, _ = datasets.blobs(50, centers=2, seed=1)
    targets = np.column_stack([x.sum(1), x[:, 0] - x[:, 1]])
    reg = GlassRegressor(
        hidden_layer_sizes=(4,), alpha=0.1, max_iter=2, dtype="float64"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        reg.fit(x, targets)
    before, loss = _loss_at_current_weights(reg, x, targets)
    # scikit-learn's squared_error: 0.5 * mean over samples and outputs (half of mse)
    expected = 0.5 * np.mean((_forward(before, x) - targets) ** 2)
    assert loss == pytest.approx(expected + _penalty(before, len(x)), rel=1e-10)


def _numeric_gradient(estimator, x, y, w, epsilon=1e-6):
    params = estimator.model_.flat.params
    grad = np.zeros_like(params)
    for i in range(params.size):
        original = params[i]
        params[i] = original + epsilon
        plus = loss_and_gradients(estimator, x, y, w, training=False)
        params[i] = original - epsilon
        minus = loss_and_gradients(estimator, x, y, w, training=False)
        params[i] = original
        grad[i] = (plus - minus) / (2 * epsilon)
    return grad


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression"])
def test_weighted_l2_gradients_match_central_differences(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 3))
    raw = {
        "binary": rng.integers(0, 2, 12),
        "multiclass": rng.integers(0, 3, 12),
        "multilabel": rng.integers(0, 2, (12, 3)),
        "regression": rng.standard_normal((12, 2)),
    }[kind]
    make = GlassRegressor if kind == "regression" else GlassClassifier
    est = make(
        hidden_layer_sizes=(4,),
        activation="tanh",
        alpha=0.3,
        max_iter=1,
        dtype="float64",
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        est.fit(x, raw)
    y = (raw.reshape(12, -1) if kind != "multiclass" else np.eye(3)[raw]).astype(
        np.float64
    )
    w = rng.uniform(0.1, 3.0, 12)
    loss_and_gradients(est, x, y, w, training=False)
    analytic = est.model_.flat.grads.copy()
    assert relative_error(analytic, _numeric_gradient(est, x, y, w)) < 1e-7


@pytest.mark.parametrize(
    ("loss", "y_true", "y_pred"),
    [
        (HalfSquaredError(), [[0.5, -1.0], [2.0, 0.0]], [[0.1, 0.3], [1.0, -2.0]]),
        (BinaryLogLoss(), [[1.0, 0.0], [0.0, 1.0]], [[0.7, 0.2], [0.4, 0.9]]),
        (MultinomialLogLoss(), [[0.0, 1.0, 0.0]], [[0.2, 0.5, 0.3]]),
    ],
)
def test_the_sklearn_losses_pass_glassnets_gradient_check(loss, y_true, y_pred):
    assert glassnet.gradcheck(loss, y_pred, y_true).passed


# -- what sklearn's MLP lacks ------------------------------------------------------------


def test_class_weight_balanced_equals_the_matching_sample_weights():
    x, y = datasets.blobs(90, centers=3, seed=2)
    y = np.where(y == 2, 1, y)  # 30 / 60 imbalance
    weighted = GlassClassifier(class_weight="balanced", max_iter=20, **SMALL)
    sampled = GlassClassifier(max_iter=20, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        weighted.fit(x, y)
        sampled.fit(x, y, sample_weight=compute_sample_weight("balanced", y))
    for a, b in zip(weighted.coefs_, sampled.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_class_weight_moves_the_decision_towards_the_heavy_class():
    x, y = datasets.blobs(200, centers=[[0, 0], [1.5, 0]], cluster_std=1.0, seed=3)
    plain = GlassClassifier(max_iter=100, learning_rate_init=0.01, **SMALL)
    heavy = clone(plain).set_params(class_weight={0: 1.0, 1: 10.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        plain.fit(x, y)
        heavy.fit(x, y)
    assert (heavy.predict(x) == 1).sum() > (plain.predict(x) == 1).sum() + 20


def test_class_weight_errors():
    x, y = datasets.blobs(30, centers=2, seed=0)
    with pytest.raises(InvalidArgumentError, match="partial_fit"):
        GlassClassifier(class_weight="balanced").partial_fit(x, y, classes=[0, 1])
    with pytest.raises(InvalidArgumentError, match="multilabel"):
        GlassClassifier(class_weight="balanced").fit(x, np.column_stack([y, 1 - y]))
    with pytest.raises(InvalidArgumentError, match="class_weight"):
        GlassClassifier(class_weight="heavy").fit(x, y)


def test_dropout_and_per_layer_activations_build_the_network():
    x, y = datasets.two_moons(100, seed=0)
    clf = GlassClassifier(
        hidden_layer_sizes=(6, 5),
        activation=["logistic", "gelu"],
        dropout=[0.5, 0.0],
        max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf.fit(x, y)
    layers = clf.model_.layers
    assert [type(layer).__name__ for layer in layers] == [
        "Dense",
        "Dropout",
        "Dense",
        "Dense",
    ]
    assert [layers[i].activation.name for i in (0, 2, 3)] == [
        "sigmoid",
        "gelu",
        "sigmoid",
    ]
    assert isinstance(layers[1], Dropout) and layers[1].rate == 0.5
    # Dropout is off at inference: predictions are deterministic.
    np.testing.assert_array_equal(clf.predict_proba(x), clf.predict_proba(x))
    no_dropout = clone(clf).set_params(dropout=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        no_dropout.fit(x, y)
    assert not np.array_equal(no_dropout.coefs_[0], clf.coefs_[0])


@pytest.mark.parametrize(
    ("solver", "kind", "expected"),
    [
        ("sgd", SGD, {"learning_rate": 0.05, "momentum": 0.8, "nesterov": False}),
        ("rmsprop", RMSprop, {"learning_rate": 0.05, "momentum": 0.8, "epsilon": 1e-6}),
        ("adagrad", Adagrad, {"learning_rate": 0.05, "epsilon": 1e-6}),
        ("adamw", AdamW, {"learning_rate": 0.05, "beta_1": 0.8, "epsilon": 1e-6}),
    ],
)
def test_any_glassnet_optimizer_gets_the_matching_parameters(solver, kind, expected):
    x, y = datasets.two_moons(60, seed=0)
    clf = GlassClassifier(
        solver=solver,
        learning_rate_init=0.05,
        momentum=0.8,
        nesterovs_momentum=False,
        beta_1=0.8,
        epsilon=1e-6,
        max_iter=3,
        **SMALL,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf.fit(x, y)
    optimizer = clf.model_.optimizer
    assert type(optimizer) is kind
    for key, value in expected.items():
        assert getattr(optimizer, key) == pytest.approx(value)


def test_an_optimizer_instance_is_copied_not_trained():
    x, y = datasets.two_moons(60, seed=0)
    mine = RMSprop(learning_rate=0.01)
    clf = GlassClassifier(solver=mine, max_iter=3, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf.fit(x, y)
    assert mine.iterations == 0 and not mine.state
    assert clf.model_.optimizer is not mine
    assert (
        clf.model_.optimizer.learning_rate == 0.01
    )  # its own rate, not learning_rate_init
    assert clf.model_.optimizer.iterations == 3  # 60 samples: one batch per epoch


def test_a_misspelt_solver_gets_a_suggestion():
    with pytest.raises(UnknownNameError, match="Did you mean 'adam'"):
        GlassClassifier(solver="adma").fit([[0.0], [1.0]], [0, 1])


def test_early_stopping_on_the_validation_loss_restores_the_best_weights():
    x, y = datasets.two_moons(300, noise=0.3, seed=0)
    clf = GlassClassifier(
        hidden_layer_sizes=(64,),
        learning_rate_init=0.05,
        early_stopping=True,
        early_stopping_monitor="val_loss",
        n_iter_no_change=5,
        max_iter=300,
        random_state=0,
    ).fit(x, y)
    assert clf.n_iter_ < 300
    assert len(clf.validation_loss_curve_) == len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_loss_ == min(clf.validation_loss_curve_)
    best = int(np.argmin(clf.validation_loss_curve_))
    assert clf.best_validation_score_ == clf.validation_scores_[best]
    assert clf.best_loss_ is None
    # The last epochs got no better than the best one, by at least tol.
    assert min(clf.validation_loss_curve_[-5:]) > clf.best_validation_loss_ - clf.tol


def test_early_stopping_on_the_score_is_scikit_learns():
    x, y = datasets.two_moons(300, noise=0.3, seed=0)
    clf = GlassClassifier(
        early_stopping=True, n_iter_no_change=3, learning_rate_init=0.01, **SMALL
    ).fit(x, y)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert len(clf.validation_loss_curve_) == clf.n_iter_


def test_without_early_stopping_there_are_no_validation_curves():
    x, y = datasets.two_moons(100, seed=0)
    clf = GlassClassifier(max_iter=300, tol=1e-2, learning_rate_init=0.01, **SMALL).fit(
        x, y
    )
    assert clf.validation_scores_ is None and clf.validation_loss_curve_ is None
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert len(clf.loss_curve_) == clf.n_iter_ < 300  # stopped on the training loss


def test_partial_fit_needs_classes_first_then_adds_one_epoch_per_call():
    x, y = datasets.blobs(90, centers=3, seed=0)
    clf = GlassClassifier(**SMALL)
    with pytest.raises(InvalidArgumentError, match="classes must be passed"):
        clf.partial_fit(x, y)
    clf.partial_fit(x[:30], y[:30], classes=[0, 1, 2])
    clf.partial_fit(x[30:], y[30:])
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 2 and clf.t_ == 90
    with pytest.raises(DataError, match=r"classes \[7\]"):
        clf.partial_fit(x[:3], [0, 1, 7])
    with pytest.raises(InvalidArgumentError, match="early_stopping"):
        GlassClassifier(early_stopping=True).partial_fit(x, y, classes=[0, 1, 2])
    assert not hasattr(GlassClassifier(solver="lbfgs"), "partial_fit")


def test_warm_start_continues_and_refuses_a_new_architecture():
    x, y = datasets.two_moons(100, seed=0)
    clf = GlassClassifier(warm_start=True, max_iter=5, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf.fit(x, y)
        first = clf.coefs_[0].copy()
        clf.fit(x, y)
    assert len(clf.loss_curve_) == 10 and not np.array_equal(first, clf.coefs_[0])
    with pytest.raises(InvalidArgumentError, match="warm_start"):
        clf.set_params(hidden_layer_sizes=(4,)).fit(x, y)


def test_same_random_state_gives_bit_identical_weights():
    x, y = datasets.spirals(120, n_classes=3, seed=0)
    fits = [GlassClassifier(max_iter=10, dropout=0.2, **SMALL) for _ in range(3)]
    fits[2].set_params(random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        for clf in fits:
            clf.fit(x, y)
    for a, b in zip(fits[0].coefs_, fits[1].coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(fits[0].coefs_[0], fits[2].coefs_[0])


def test_fitted_attributes_are_scikit_learns():
    x, y = datasets.blobs(120, centers=4, n_features=3, seed=0)
    clf = GlassClassifier(hidden_layer_sizes=(7, 5), max_iter=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf.fit(x, y)
    assert [c.shape for c in clf.coefs_] == [(3, 7), (7, 5), (5, 4)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (4,)]
    assert (clf.n_layers_, clf.n_outputs_, clf.out_activation_) == (4, 4, "softmax")
    assert (clf.n_iter_, clf.t_, clf.n_features_in_) == (4, 480, 3)
    assert len(clf.loss_curve_) == 4 and clf.loss_ == clf.loss_curve_[-1]
    assert clf.coefs_[0].dtype == np.float32
    # coefs_ are the arrays the glassnet model trains.
    assert np.shares_memory(clf.coefs_[0], clf.model_.flat.params)
    np.testing.assert_allclose(clf.predict_proba(x).sum(1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(x)), clf.predict_proba(x))


def test_binary_multilabel_and_multi_output_shapes():
    x, y = datasets.blobs(80, centers=3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        binary = GlassClassifier(max_iter=2, **SMALL).fit(
            x, np.array(["no", "yes"])[y % 2]
        )
        labels = np.column_stack([y == 0, y == 1, y == 2]).astype(int)
        multilabel = GlassClassifier(max_iter=2, **SMALL).fit(x, labels)
        multi = GlassRegressor(max_iter=2, **SMALL).fit(x, np.column_stack([y, 2 * y]))
    assert (binary.n_outputs_, binary.out_activation_) == (1, "logistic")
    assert binary.predict_proba(x).shape == (80, 2)
    assert set(binary.predict(x)) <= {"no", "yes"}
    assert (multilabel.n_outputs_, multilabel.out_activation_) == (3, "logistic")
    assert multilabel.predict(x).shape == (80, 3) and multilabel.classes_.tolist() == [
        0,
        1,
        2,
    ]
    assert (multi.n_outputs_, multi.out_activation_) == (2, "identity")
    assert multi.predict(x).shape == (80, 2) and multi.predict(x).dtype == np.float64


def test_float64_networks():
    x, y = datasets.two_moons(50, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf = GlassClassifier(dtype="float64", max_iter=2, **SMALL).fit(x, y)
    assert clf.coefs_[0].dtype == np.float64 and clf.model_.dtype == np.float64


def test_the_model_is_a_glassnet_model_you_can_keep_using():
    x, y = datasets.two_moons(80, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf = GlassClassifier(max_iter=3, **SMALL).fit(x, y)
    model = clf.model_
    assert model.loss.name == "binary_crossentropy"
    np.testing.assert_allclose(
        model.predict(x, verbose=0)[:, 0], clf.predict_proba(x)[:, 1], rtol=1e-5
    )
    assert glassnet.gradcheck(model, x[:5], y[:5]).passed
    model.fit(x, y, epochs=1, verbose=0)  # Keras-style training goes on


def test_lbfgs_trains_and_reports():
    x, y = datasets.two_moons(200, noise=0.1, seed=0)
    clf = GlassClassifier(
        solver="lbfgs", hidden_layer_sizes=(16,), max_iter=500, random_state=0
    )
    clf.fit(x, y)
    assert clf.score(x, y) > 0.97
    assert 0 < clf.n_iter_ == len(clf.loss_curve_) <= 500
    assert clf.loss_ == pytest.approx(clf.loss_curve_[-1])
    with pytest.raises(InvalidArgumentError, match="dropout"):
        clf.set_params(dropout=0.5).fit(x, y)


def test_works_in_pipeline_and_grid_search():
    x, y = datasets.iris()
    pipe = make_pipeline(StandardScaler(), GlassClassifier(max_iter=50, **SMALL))
    search = GridSearchCV(
        pipe,
        {
            "glassclassifier__activation": ["relu", ["tanh"]],
            "glassclassifier__solver": ["adam", "rmsprop"],
        },
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        search.fit(x, y)
    assert search.best_score_ > 0.8
    assert set(search.best_params_) == {
        "glassclassifier__activation",
        "glassclassifier__solver",
    }


def test_pickle_and_deepcopy_keep_training_working():
    x, y = datasets.two_moons(100, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        clf = GlassClassifier(max_iter=3, **SMALL).fit(x, y)
    for other in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        np.testing.assert_array_equal(other.predict_proba(x), clf.predict_proba(x))
        before = other.predict_proba(x)
        other.partial_fit(x, y)
        # The update reached the layers (their weights are views of the flat buffer).
        assert not np.array_equal(other.predict_proba(x), before)
        assert np.shares_memory(other.coefs_[0], other.model_.flat.params)
        assert other.coefs_[0] is other.model_.layers[0].params["W"]


def test_sparse_input_trains_the_same_weights_as_dense():
    x, y = datasets.blobs(60, centers=2, n_features=6, seed=0)
    x[x < 0] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        dense = GlassClassifier(max_iter=3, **SMALL).fit(x, y)
        sparse = GlassClassifier(max_iter=3, **SMALL).fit(scipy.sparse.csr_matrix(x), y)
    np.testing.assert_array_equal(dense.coefs_[0], sparse.coefs_[0])
    np.testing.assert_array_equal(
        dense.predict_proba(x), sparse.predict_proba(scipy.sparse.csc_matrix(x))
    )


def test_verbose_prints_the_loss_per_iteration(capsys):
    x, y = datasets.two_moons(40, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        GlassRegressor(max_iter=2, verbose=True, **SMALL).fit(x, y.astype(float))
    assert "Iteration 2, loss = " in capsys.readouterr().out


def test_the_convergence_warning_is_both_glassnets_and_scikit_learns():
    assert issubclass(ConvergenceWarning, SklearnConvergenceWarning)
    assert issubclass(ConvergenceWarning, GlassnetConvergenceWarning)
    x, y = datasets.two_moons(40, seed=0)
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        GlassClassifier(max_iter=2, **SMALL).fit(x, y)


def test_divergence_is_reported_with_advice():
    x, y = datasets.two_moons(40, seed=0)
    reg = GlassRegressor(solver="sgd", learning_rate_init=1e6, max_iter=20, **SMALL)
    with pytest.raises(InvalidArgumentError, match="smaller learning_rate_init"):
        reg.fit(x * 1000, y * 1e6)


# scikit-learn's test_mlp_diverging_loss (sklearn/neural_network/tests/test_mlp.py)
DIVERGING = {
    "hidden_layer_sizes": 100,
    "activation": "identity",
    "solver": "sgd",
    "alpha": 0.0001,
    "learning_rate": "constant",
    "learning_rate_init": 1,
    "shuffle": True,
    "max_iter": 20,
    "early_stopping": True,
    "n_iter_no_change": 10,
    "random_state": 0,
}


def test_a_diverging_loss_with_early_stopping_keeps_the_best_weights():
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        reference = MLPRegressor(**DIVERGING).fit(x, y)
    with pytest.warns(ConvergenceWarning, match="best validation epoch"):
        reg = GlassRegressor(**DIVERGING).fit(x, y)
    # what scikit-learn's test asserts, for both
    for model in (reference, reg):
        assert str(model.validation_scores_[-1]) == str(np.nan)
        assert isinstance(model.validation_scores_[-1], float)
    # a fitted model with the best epoch's weights, which predict finitely
    assert not math.isfinite(reg.loss_curve_[-1])
    best = int(np.nanargmax(reg.validation_scores_))
    assert reg.best_validation_score_ == reg.validation_scores_[best]
    assert all(np.isfinite(c).all() for c in reg.coefs_ + reg.intercepts_)
    assert np.isfinite(reg.predict(x)).all()


def test_a_diverging_loss_with_early_stopping_returns_a_fitted_classifier():
    x, y = datasets.two_moons(60, seed=0)
    clf = GlassClassifier(
        **{**DIVERGING, "activation": "relu", "learning_rate_init": 1e8}
    )
    with pytest.warns(ConvergenceWarning, match="became NaN or inf"):
        clf.fit(x * 1e3, y)
    assert not math.isfinite(clf.loss_curve_[-1])
    # the validation accuracy of labels is a number even for a diverged network
    assert len(clf.validation_scores_) == clf.n_iter_
    assert set(clf.predict(x)) <= {0, 1}
    assert np.isfinite(clf.predict_proba(x)).all()


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"hidden_layer_sizes": 0}, InvalidArgumentError, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": "100"}, GlassnetTypeError, "hidden_layer_sizes"),
        ({"activation": "rleu"}, UnknownNameError, "Did you mean 'relu'"),
        (
            {"activation": ["relu", "tanh"]},
            InvalidArgumentError,
            "one entry per hidden",
        ),
        ({"alpha": -1.0}, InvalidArgumentError, "alpha"),
        ({"batch_size": 0}, InvalidArgumentError, "batch_size"),
        ({"learning_rate": "fast"}, InvalidArgumentError, "learning_rate"),
        ({"learning_rate_init": 0.0}, InvalidArgumentError, "learning_rate_init"),
        ({"max_iter": 0}, InvalidArgumentError, "max_iter"),
        ({"shuffle": "yes"}, GlassnetTypeError, "shuffle"),
        ({"momentum": 1.5}, InvalidArgumentError, "momentum"),
        ({"validation_fraction": 1.0}, InvalidArgumentError, "validation_fraction"),
        ({"beta_2": 1.0}, InvalidArgumentError, "beta_2"),
        ({"n_iter_no_change": 0}, InvalidArgumentError, "n_iter_no_change"),
        ({"dropout": 1.0}, InvalidArgumentError, "dropout"),
        (
            {"early_stopping_monitor": "loss"},
            InvalidArgumentError,
            "early_stopping_monitor",
        ),
        ({"dtype": "float16"}, InvalidArgumentError, "dtype"),
        ({"solver": 3}, GlassnetTypeError, "solver"),
    ],
)
def test_bad_parameters_are_named_and_leave_the_estimator_unfitted(
    params, error, match
):
    clf = GlassClassifier(**params)
    with pytest.raises(error, match=match):
        clf.fit([[0.0], [1.0]], [0, 1])
    assert not hasattr(clf, "model_")


def test_the_regressor_refuses_other_losses():
    with pytest.raises(InvalidArgumentError, match="squared_error"):
        GlassRegressor(loss="poisson").fit([[0.0], [1.0]], [0.0, 1.0])


def test_one_class_is_refused_with_a_clear_message():
    with pytest.raises(DataError, match="at least 2 classes"):
        GlassClassifier().fit([[0.0], [1.0]], [1, 1])


def test_importing_without_scikit_learn_says_how_to_install(monkeypatch):
    for name in [m for m in sys.modules if m.startswith("glassnet.sklearn")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install glassnet\[sklearn\]"):
        importlib.import_module("glassnet.sklearn")


def test_old_scikit_learn_is_refused():
    from glassnet.sklearn import _check_version

    _check_version("1.9.1")
    with pytest.raises(ImportError, match=r"1\.6 or newer"):
        _check_version("1.5.2")
