"""Tests for glassnet.perceptron.Perceptron (the Rosenblatt perceptron rule)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.errors import (
    ConvergenceWarning,
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    NotFittedError,
    ShapeError,
)
from glassnet.perceptron import Perceptron

GATE_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
AND_Y = np.array([0, 0, 0, 1])
OR_Y = np.array([0, 1, 1, 1])
XOR_Y = np.array([0, 1, 1, 0])


def separable_data(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Random 2-D points labelled by a random line, keeping a margin of 0.2."""
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal(2), rng.standard_normal()
    X = rng.standard_normal((4 * n, 2)) * 3
    margin = (X @ w + b) / np.linalg.norm(w)
    X = X[np.abs(margin) > 0.2][:n]
    return X, (X @ w + b > 0).astype(int)


# ----------------------------------------------------------------- learning


@pytest.mark.parametrize("y", [AND_Y, OR_Y], ids=["AND", "OR"])
@pytest.mark.parametrize("seed", [None, 0, 1, 2, 3])
def test_learns_and_or_with_defaults(y, seed):
    p = Perceptron(seed=seed).fit(GATE_X, y)
    assert p.score(GATE_X, y) == 1.0
    assert p.converged_ is True
    assert p.updates_per_epoch_[-1] == 0
    assert p.errors_[-1] == 0
    assert p.n_epochs_ == len(p.updates_per_epoch_) == len(p.errors_) <= 100
    np.testing.assert_array_equal(p.predict(GATE_X), y)


def test_fitted_attributes_types():
    p = Perceptron(seed=0)
    assert p.fit(GATE_X, AND_Y) is p
    assert p.weights_.shape == (2,) and p.weights_.dtype == np.float64
    assert type(p.bias_) is float
    assert p.n_features_in_ == 2
    assert all(type(k) is int for k in p.updates_per_epoch_ + p.errors_)
    np.testing.assert_array_equal(p.classes_, [0, 1])
    z = p.decision_function(GATE_X)
    np.testing.assert_allclose(z, GATE_X @ p.weights_ + p.bias_)
    assert z.shape == (4,)


def test_hand_worked_epochs():
    # Two points, learning rate 0.5, threshold 0, no shuffling, zero start:
    #   A = [1, 2] -> target 1,   B = [2, -1] -> target 0.
    X = [[1.0, 2.0], [2.0, -1.0]]
    y = [1, 0]
    # Epoch 1, w = [0, 0], b = 0:
    #   A: z = 0*1 + 0*2 + 0 = 0, not > 0 -> predicts 0, target 1, error +1
    #      w = [0, 0] + 0.5*(+1)*[1, 2] = [0.5, 1.0];  b = 0 + 0.5*(+1) = 0.5
    #   B: z = 0.5*2 + 1.0*(-1) + 0.5 = 0.5 > 0 -> predicts 1, target 0, error -1
    #      w = [0.5, 1.0] + 0.5*(-1)*[2, -1] = [-0.5, 1.5];  b = 0.5 - 0.5 = 0.0
    p = Perceptron(learning_rate=0.5, epochs=1, shuffle=False).fit(X, y)
    np.testing.assert_array_equal(p.weights_, [-0.5, 1.5])
    assert p.bias_ == 0.0
    assert p.updates_per_epoch_ == [2]
    # The epoch-1 weights already classify both points (see epoch 2), so even this
    # one-epoch fit counts as converged and does not warn.
    assert p.errors_ == [0]
    assert p.converged_ is True
    # Epoch 2, w = [-0.5, 1.5], b = 0:
    #   A: z = -0.5*1 + 1.5*2 + 0 = 2.5 > 0   -> predicts 1, correct, no update
    #   B: z = -0.5*2 + 1.5*(-1) + 0 = -2.5   -> predicts 0, correct, no update
    # No update in epoch 2: converged, and training stops there.
    p = Perceptron(learning_rate=0.5, shuffle=False).fit(X, y)
    assert p.updates_per_epoch_ == [2, 0]
    assert p.converged_ is True
    np.testing.assert_array_equal(p.weights_, [-0.5, 1.5])
    np.testing.assert_array_equal(p.decision_function(X), [2.5, -2.5])


def test_threshold_shifts_the_step():
    # Weighted sum z = w @ x + b must exceed the threshold to fire.
    X = [[1.0], [3.0]]
    y = [0, 1]
    p = Perceptron(threshold=2.0, shuffle=False).fit(X, y)
    np.testing.assert_array_equal(p.predict(X), y)
    z = p.decision_function(X)
    assert z[0] <= 2.0 < z[1]


@pytest.mark.parametrize(
    "y",
    [
        [-1, -1, -1, 1],
        ["no", "no", "no", "yes"],
        [False, False, False, True],
        [0.0, 0.0, 0.0, 2.5],
    ],
    ids=["pm1", "strings", "bools", "floats"],
)
def test_predicts_in_the_given_labels(y):
    p = Perceptron(seed=0).fit(GATE_X, y)
    np.testing.assert_array_equal(p.classes_, sorted(set(y)))
    predictions = p.predict(GATE_X)
    assert predictions.tolist() == y
    assert predictions.dtype == np.asarray(y).dtype
    assert p.score(GATE_X, y) == 1.0


def test_second_sorted_label_is_the_firing_class():
    # "yes" > "no", so "yes" is classes_[1]: the class predicted when z > threshold.
    p = Perceptron(seed=0).fit(GATE_X, ["yes", "yes", "yes", "no"])
    assert p.classes_.tolist() == ["no", "yes"]
    assert p.predict([[1, 1]]).tolist() == ["no"]
    assert p.decision_function([[1, 1]])[0] <= 0 < p.decision_function([[0, 0]])[0]


def test_score_accepts_a_column_of_labels_and_counts_mistakes():
    p = Perceptron(seed=0).fit(GATE_X, AND_Y)
    assert p.score(GATE_X, AND_Y.reshape(-1, 1)) == 1.0
    assert p.score(GATE_X, [1, 0, 0, 1]) == 0.75


def test_xor_does_not_converge_and_warns():
    with pytest.warns(ConvergenceWarning, match="did not converge after 100 epochs"):
        p = Perceptron(seed=0).fit(GATE_X, XOR_Y)
    assert p.converged_ is False
    assert p.n_epochs_ == 100
    assert all(k > 0 for k in p.updates_per_epoch_)
    assert p.score(GATE_X, XOR_Y) < 1.0


def test_warning_message_explains_why():
    with pytest.warns(ConvergenceWarning) as record:
        p = Perceptron(epochs=7, seed=0).fit(GATE_X, XOR_Y)
    message = str(record[0].message)
    assert "did not converge after 7 epochs" in message
    assert f"{p.errors_[-1]} of 4 training points are still misclassified" in message
    assert "not be linearly separable" in message
    assert "XOR" in message


def test_same_seed_same_weights():
    X, y = separable_data(5, n=60)
    a = Perceptron(seed=42).fit(X, y)
    b = Perceptron(seed=42).fit(X, y)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    assert a.bias_ == b.bias_
    assert a.updates_per_epoch_ == b.updates_per_epoch_
    # Refitting the same object restarts from zeros and the same shuffles.
    first = a.weights_.copy()
    np.testing.assert_array_equal(a.fit(X, y).weights_, first)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_separable_data_always_converges(seed):
    # Perceptron convergence theorem: at most (R / margin)^2 mistakes in total.
    X, y = separable_data(seed)
    if len(set(y)) < 2:
        return
    p = Perceptron(epochs=1000, seed=seed).fit(X, y)
    assert p.converged_ and p.score(X, y) == 1.0


def test_matches_scikit_learn_epoch_by_epoch():
    # sklearn's Perceptron is SGD on the hinge loss max(0, -y*z) with y in {-1, +1}:
    # it updates w += eta0*y*x, b += eta0*y whenever y*z <= 0. That is our rule with
    # learning_rate = eta0, except at z == 0 exactly: sklearn counts it as a mistake
    # for both classes, the step function predicts class 0 there. With zero initial
    # weights the first sample has z == 0, so we start the data with a positive
    # sample (both update the same way); afterwards the random real-valued data never
    # lands exactly on z == 0, and the update order (shuffle=False) is identical, so
    # the weights must coincide after every epoch.
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X, y = separable_data(2, n=50)  # needs 7 epochs and 21 updates
    first_positive = int(np.argmax(y == 1))
    order = np.r_[first_positive, np.delete(np.arange(len(y)), first_positive)]
    X, y = X[order], y[order]

    ours = Perceptron(learning_rate=1.0, shuffle=False, epochs=100).fit(X, y)
    assert ours.converged_ and ours.n_epochs_ == 7

    theirs = sklearn_linear.Perceptron(
        eta0=1, shuffle=False, fit_intercept=True, alpha=0, penalty=None, tol=None
    )
    for epoch in range(1, ours.n_epochs_ + 1):
        theirs.partial_fit(X, y, classes=[0, 1])  # exactly one epoch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            partial = Perceptron(shuffle=False, epochs=epoch).fit(X, y)
        np.testing.assert_array_equal(partial.weights_, theirs.coef_[0])
        assert partial.bias_ == theirs.intercept_[0]
    assert theirs.score(X, y) == ours.score(X, y) == 1.0


# ------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"learning_rate": 0}, InvalidArgumentError, r"learning_rate.*> 0.*=0"),
        ({"learning_rate": -0.1}, InvalidArgumentError, r"learning_rate=-0.1"),
        ({"learning_rate": "1"}, GlassnetTypeError, r"learning_rate='1'"),
        ({"learning_rate": float("nan")}, InvalidArgumentError, r"learning_rate=nan"),
        ({"epochs": 0}, InvalidArgumentError, r"`epochs`.*positive integer.*=0"),
        ({"epochs": 2.5}, GlassnetTypeError, r"`epochs`.*epochs=2.5"),
        ({"epochs": True}, GlassnetTypeError, r"epochs=True \(bool\)"),
        ({"shuffle": "yes"}, GlassnetTypeError, r"`shuffle`.*True or False"),
        ({"seed": -1}, GlassnetTypeError, r"`seed`.*non-negative.*seed=-1"),
        ({"seed": 1.5}, GlassnetTypeError, r"seed=1.5"),
        ({"threshold": float("inf")}, InvalidArgumentError, r"threshold=inf"),
        ({"threshold": None}, GlassnetTypeError, r"`threshold`.*threshold=None"),
    ],
)
def test_bad_hyper_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        Perceptron(**kwargs)


def test_valid_hyper_parameters_are_kept():
    p = Perceptron(learning_rate=2, epochs=np.int64(5), seed=3, threshold=-1)
    assert (p.learning_rate, p.epochs, p.seed, p.threshold) == (2.0, 5, 3, -1.0)
    assert repr(p) == (
        "Perceptron(learning_rate=2.0, epochs=5, shuffle=True, seed=3, threshold=-1.0)"
    )


def test_hyper_parameters_edited_after_construction_are_checked_by_fit():
    p = Perceptron()
    p.epochs = 0
    with pytest.raises(InvalidArgumentError, match="epochs=0"):
        p.fit(GATE_X, AND_Y)


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (GATE_X, [0, 0, 0, 0], DataError, r"`y`.*exactly two classes.*contains 1"),
        (GATE_X, [0, 1, 2, 1], DataError, r"`y`.*exactly two classes.*contains 3"),
        ([[0, np.nan], [1, 1]], [0, 1], DataError, r"`X` contains NaN or inf"),
        ([[0, np.inf], [1, 1]], [0, 1], DataError, r"`X` contains NaN or inf"),
        ([["a", "b"], ["c", "d"]], [0, 1], GlassnetTypeError, r"`X` must contain"),
        ("0 1 1 0", [0, 1], GlassnetTypeError, r"`X` must be numeric"),
        (GATE_X, [0, 1, 1], ShapeError, r"len\(X\)=4, len\(y\)=3"),
        (GATE_X[:3], AND_Y, ShapeError, r"len\(X\)=3, len\(y\)=4"),
        ([], [], DataError, r"`X` is empty"),
        (np.zeros((0, 2)), [], DataError, r"`X` is empty"),
        (GATE_X, [], DataError, r"`y` is empty"),
        ([0, 1, 1, 0], XOR_Y, ShapeError, r"`X` must be 2-D.*X.shape=\(4,\)"),
        (np.zeros((2, 2, 2)), [0, 1], ShapeError, r"`X` must be 2-D"),
        ([[0, 1], [1]], [0, 1], DataError, r"`X`.*rectangular"),
        (GATE_X, [0.0, 1.0, np.nan, 1.0], DataError, r"`y` contains NaN"),
        (GATE_X, np.zeros((4, 2)), ShapeError, r"`y` must be a 1-D.*\(4, 2\)"),
        (GATE_X, ["a", None, "a", None], GlassnetTypeError, r"`y` mixes labels"),
    ],
)
def test_bad_fit_inputs(X, y, error, match):
    with pytest.raises(error, match=match):
        Perceptron().fit(X, y)


def test_use_before_fit():
    p = Perceptron()
    for method in (p.predict, p.decision_function):
        with pytest.raises(NotFittedError, match=r"not fitted yet.*fit\(X, y\)"):
            method(GATE_X)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        p.score(GATE_X, AND_Y)


def test_wrong_feature_count_after_fit():
    p = Perceptron(seed=0).fit(GATE_X, AND_Y)
    with pytest.raises(ShapeError, match=r"`X` has 3 features.*fitted with 2"):
        p.predict(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"Expected: X.shape=\(n, 2\).*\(1, 1\)"):
        p.decision_function([[1]])
    with pytest.raises(ShapeError, match=r"`X` must be 2-D"):
        p.predict([0, 1])
    with pytest.raises(ShapeError, match=r"len\(X\)=4, len\(y\)=2"):
        p.score(GATE_X, [0, 1])


def test_failed_fit_keeps_the_fitted_model():
    p = Perceptron(seed=0).fit(GATE_X, AND_Y)
    before = {k: v for k, v in vars(p).items()}
    saved = (p.weights_.copy(), p.bias_, list(p.updates_per_epoch_), p.classes_.copy())
    bad_calls = [
        ([[0, 0], [np.nan, 1]], [0, 1]),  # NaN in X
        (GATE_X, [5, 5, 5, 5]),  # one class
        ([[1, 2, 3]], ["x"]),  # other feature count, one class
        (GATE_X, [0, 1]),  # mismatched lengths
    ]
    for X, y in bad_calls:
        with pytest.raises(ValueError):
            p.fit(X, y)
    assert vars(p).keys() == before.keys()
    np.testing.assert_array_equal(p.weights_, saved[0])
    assert p.bias_ == saved[1]
    assert p.updates_per_epoch_ == saved[2]
    np.testing.assert_array_equal(p.classes_, saved[3])
    np.testing.assert_array_equal(p.predict(GATE_X), AND_Y)
