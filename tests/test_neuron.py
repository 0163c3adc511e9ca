"""Tests for glassnet.neuron.Neuron (seeds/000 and seeds/003)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glassnet import activations
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
    UnknownNameError,
)
from glassnet.neuron import Neuron


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ----------------------------------------------------------- seeds/000 values


def test_seed000_single_neuron_is_exact():
    # z = 0*2 + 1*3 + 4 = 7;  sigmoid(7) = 1 / (1 + e^-7)
    n = Neuron([0, 1], 4)
    out = n.feedforward([2, 3])
    assert out == 0.9990889488055994
    assert type(out) is float


def test_forward_is_an_alias_of_feedforward():
    n = Neuron(np.array([0, 1]), 4)
    assert n.forward(np.array([2, 3])) == 0.9990889488055994


def test_seed000_two_two_one_network_is_exact():
    # h1 = h2 = sigmoid(0*2 + 1*3 + 0) = sigmoid(3) = 0.9525741268224334
    # o1 = sigmoid(0*h1 + 1*h2 + 0) = sigmoid(0.9525741268224334)
    h1, h2, o1 = (Neuron([0, 1], 0) for _ in range(3))
    x = [2, 3]
    out_h1, out_h2 = h1.feedforward(x), h2.feedforward(x)
    assert out_h1 == out_h2 == 0.9525741268224334
    assert o1.feedforward([out_h1, out_h2]) == 0.7216325609518421


def test_batch_input_gives_one_output_per_row():
    n = Neuron([0, 1], 4)
    X = np.array([[2, 3], [0, 0], [1, -4]])
    out = n.feedforward(X)
    assert isinstance(out, np.ndarray)
    assert out.shape == (3,) and out.dtype == np.float64
    # rows: z = 3 + 4 = 7,  z = 0 + 4 = 4,  z = -4 + 4 = 0
    np.testing.assert_allclose(out, sigmoid(np.array([7.0, 4.0, 0.0])), rtol=1e-15)
    assert out[0] == 0.9990889488055994
    assert out[2] == 0.5


def test_single_row_batch_stays_a_batch():
    out = Neuron([0, 1], 4).feedforward([[2, 3]])
    assert out.shape == (1,)


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(
            hnp.arrays(np.float64, k, elements=st.floats(-5, 5)),
            st.floats(-5, 5),
            hnp.arrays(np.float64, (4, k), elements=st.floats(-5, 5)),
        )
    )
)
def test_batch_rows_match_single_calls(case):
    weights, bias, X = case
    n = Neuron(weights, bias)
    batch = n.feedforward(X)
    singles = [n.feedforward(row) for row in X]
    np.testing.assert_allclose(batch, singles, rtol=1e-12)
    np.testing.assert_allclose(batch, sigmoid(X @ weights + bias), rtol=1e-12)


# ---------------------------------------------------------------- activations


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("linear", -1.5),  # z = 1*1 + (-1)*3 + 0.5 = -1.5
        ("relu", 0.0),
        ("tanh", float(np.tanh(-1.5))),
        ("sigmoid", float(sigmoid(-1.5))),
    ],
)
def test_other_activations(activation, expected):
    n = Neuron([1, -1], 0.5, activation=activation)
    assert n.feedforward([1, 3]) == pytest.approx(expected, rel=1e-12)
    assert n.activation.name == activation


def test_activation_instance_is_accepted():
    tanh = activations.get("tanh")
    n = Neuron([1.0], 0.0, activation=tanh)
    assert n.activation is tanh
    assert n.feedforward([0.5]) == pytest.approx(np.tanh(0.5), rel=1e-12)


def test_softmax_of_one_neuron_normalises_per_sample():
    # One unit: softmax over a single value is 1 for every sample (never across rows).
    out = Neuron([1, 2], 0, activation="softmax").feedforward([[1, 2], [3, -4]])
    np.testing.assert_allclose(out, [1.0, 1.0])


def test_unknown_activation_suggests_a_name():
    with pytest.raises(UnknownNameError, match=r"'sigmiod'.*Did you mean 'sigmoid'"):
        Neuron([0, 1], 0, activation="sigmiod")


# ----------------------------------------------------------- Neuron.random


def test_random_is_seeded_standard_normal_with_zero_bias():
    n = Neuron.random(3, seed=7)
    expected = np.random.default_rng(7).standard_normal(3)
    np.testing.assert_array_equal(n.weights, expected)
    assert n.bias == 0.0
    assert n.activation.name == "sigmoid"
    np.testing.assert_array_equal(Neuron.random(3, seed=7).weights, n.weights)
    assert not np.array_equal(Neuron.random(3, seed=8).weights, n.weights)


def test_random_forward_matches_seed003_formula():
    n = Neuron.random(3, activation="tanh", seed=0)
    x = np.array([0.5, -1.0, 2.0])
    assert n.forward(x) == pytest.approx(np.tanh(np.dot(x, n.weights)), rel=1e-12)
    assert Neuron.random(4).weights.shape == (4,)  # seed=None: fresh entropy


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((0,), {}, InvalidArgumentError, r"`num_inputs`.*num_inputs=0"),
        ((True,), {}, GlassnetTypeError, r"num_inputs=True \(bool\)"),
        ((2.0,), {}, GlassnetTypeError, r"num_inputs=2.0"),
        ((2,), {"seed": -1}, GlassnetTypeError, r"`seed`.*seed=-1"),
        ((2,), {"activation": "rleu"}, UnknownNameError, r"Did you mean 'relu'"),
    ],
)
def test_random_rejects_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        Neuron.random(*args, **kwargs)


# ------------------------------------------------------------ attributes


def test_attributes_and_repr():
    n = Neuron([0, 1], 4)
    assert n.weights.dtype == np.float64
    np.testing.assert_array_equal(n.weights, [0.0, 1.0])
    assert n.bias == 4.0 and type(n.bias) is float
    assert repr(n) == "Neuron(weights=[0., 1.], bias=4.0, activation='sigmoid')"
    long_repr = repr(Neuron(np.arange(100), 0))
    assert "..." in long_repr and len(long_repr) < 120


def test_weights_are_copied():
    weights = np.array([0.0, 1.0])
    n = Neuron(weights, 4)
    weights[1] = 100.0
    assert n.feedforward([2, 3]) == 0.9990889488055994


def test_assigning_attributes_validates_them():
    n = Neuron([0, 1], 4)
    n.weights = [1, 1, 1]
    n.bias = -3
    n.activation = "linear"
    assert n.feedforward([1, 2, 3]) == 3.0  # 1 + 2 + 3 - 3
    with pytest.raises(DataError, match="`weights` contains NaN"):
        n.weights = [np.nan, 1, 1]
    with pytest.raises(InvalidArgumentError, match="bias=nan"):
        n.bias = float("nan")
    assert n.feedforward([1, 2, 3]) == 3.0  # unchanged by the rejected assignments


# ------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    ("weights", "bias", "error", "match"),
    [
        ([], 0, DataError, r"`weights` is empty"),
        (3.0, 0, ShapeError, r"`weights` must be a 1-D vector.*shape=\(\)"),
        ([[0, 1]], 0, ShapeError, r"`weights` must be a 1-D.*shape=\(1, 2\)"),
        (["a", "b"], 0, GlassnetTypeError, r"`weights` must contain numbers"),
        ("01", 0, GlassnetTypeError, r"`weights` must be numeric"),
        ([0, np.nan], 0, DataError, r"`weights` contains NaN or inf"),
        ([0, np.inf], 0, DataError, r"`weights` contains NaN or inf"),
        ([0, 1], "4", GlassnetTypeError, r"`bias` must be a finite number.*bias='4'"),
        ([0, 1], None, GlassnetTypeError, r"bias=None"),
        ([0, 1], [4], GlassnetTypeError, r"bias=\[4\]"),
        ([0, 1], float("nan"), InvalidArgumentError, r"`bias`.*bias=nan"),
        ([0, 1], float("-inf"), InvalidArgumentError, r"bias=-inf"),
    ],
)
def test_bad_weights_and_bias(weights, bias, error, match):
    with pytest.raises(error, match=match):
        Neuron(weights, bias)


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        ([2, 3, 4], ShapeError, r"`x` must have 2 values.*but has 3.*shape=\(3,\)"),
        ([2], ShapeError, r"`x` must have 2 values.*but has 1"),
        ([[2, 3, 4]], ShapeError, r"`x` must have 2 values.*shape=\(1, 3\)"),
        (np.zeros((2, 2, 2)), ShapeError, r"`x` must be one sample.*\(2, 2, 2\)"),
        (5.0, DataError, r"`x` must have at least 1 dimension"),
        ([], DataError, r"`x` is empty"),
        (["2", "3"], GlassnetTypeError, r"`x` must contain numbers"),
        ([2, np.nan], DataError, r"`x` contains NaN or inf"),
        ([[2, 3], [4]], DataError, r"`x`.*rectangular"),
    ],
)
def test_bad_inputs(x, error, match):
    with pytest.raises(error, match=match):
        Neuron([0, 1], 4).feedforward(x)
