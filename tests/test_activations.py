"""Tests for glassnet.activations and the erf behind the exact GELU."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glassnet import activations
from glassnet._special import erf, erfc
from glassnet.activations import (
    ELU,
    GELU,
    ActivationFunction,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, UnknownNameError

# Every registered class in its default form, plus the non-default configurations.
ALL_ACTIVATIONS = [cls() for cls in activations.registry.classes()] + [
    LeakyReLU(negative_slope=0.05),
    ELU(alpha=0.5),
    Softmax(axis=0),
    Step(threshold=0.5),
    GELU(approximate=True),
]
IDS = [repr(a) for a in ALL_ACTIVATIONS]


def numeric_vjp(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, g: np.ndarray):
    """Central differences of sum(f(x) * g) with respect to each entry of x."""
    h = 1e-6
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = np.sum(f(x) * g)
        x[i] = old - h
        down = np.sum(f(x) * g)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Norm-wise relative error, 0 when both are exactly zero."""
    denominator = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def away_from_kinks(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Normal samples kept 0.05 away from 0 and 0.5 (the kinks and step thresholds)."""
    x = np.random.default_rng(seed).normal(scale=2.0, size=shape)
    for kink in (0.0, 0.5):
        near = np.abs(x - kink) < 0.05
        x[near] = kink + np.where(x[near] >= kink, 0.1, -0.1)
    return x


# --- gradients -------------------------------------------------------------------


@pytest.mark.parametrize("act", ALL_ACTIVATIONS, ids=IDS)
def test_backward_matches_central_differences(act: ActivationFunction) -> None:
    x = away_from_kinks((4, 5))
    g = np.random.default_rng(1).normal(size=x.shape)
    analytic = act.backward(x, act.forward(x), g)
    numeric = numeric_vjp(act.forward, x.copy(), g)
    assert analytic.shape == x.shape
    assert rel_error(analytic, numeric) <= 1e-7


def test_softmax_backward_is_not_elementwise() -> None:
    # With an upstream gradient that only touches class 0, the other classes still get
    # a gradient: the Jacobian couples the row.
    x = np.array([[1.0, 2.0, 3.0]])
    y = Softmax()(x)
    dx = Softmax().backward(x, y, np.array([[1.0, 0.0, 0.0]]))
    assert np.all(dx[0, 1:] < 0)
    assert dx.sum() == pytest.approx(0.0, abs=1e-15)


# --- against PyTorch -------------------------------------------------------------

TORCH_PAIRS = [
    (Sigmoid(), torch.sigmoid),
    (Tanh(), torch.tanh),
    (ReLU(), torch.relu),
    (LeakyReLU(), lambda t: F.leaky_relu(t, negative_slope=0.2)),
    (LeakyReLU(0.01), lambda t: F.leaky_relu(t, negative_slope=0.01)),
    (ELU(), F.elu),
    (ELU(alpha=0.7), lambda t: F.elu(t, alpha=0.7)),
    # torch's softplus returns x itself above x = 20; stay below it
    (Softplus(), F.softplus),
    (Softmax(), lambda t: F.softmax(t, dim=-1)),
    (Softmax(axis=0), lambda t: F.softmax(t, dim=0)),
    (GELU(), F.gelu),
    (GELU(approximate=True), lambda t: F.gelu(t, approximate="tanh")),
    (SiLU(), F.silu),
    (Linear(), lambda t: t),
]


@pytest.mark.parametrize(
    "act, torch_fn", TORCH_PAIRS, ids=[repr(a) for a, _ in TORCH_PAIRS]
)
def test_forward_and_backward_match_torch(act: ActivationFunction, torch_fn) -> None:
    x = away_from_kinks((6, 7), seed=2) * 3
    g = np.random.default_rng(3).normal(size=x.shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch_fn(xt)
    (yt * torch.tensor(g)).sum().backward()
    y = act.forward(x)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(
        act.backward(x, y, g), xt.grad.numpy(), rtol=1e-12, atol=1e-14
    )


def test_gelu_far_negative_tail_is_accurate() -> None:
    # torch computes x/2 (1 + erf(x/sqrt2)), which cancels to 0 for x << 0; the erfc
    # form keeps the relative accuracy: GELU(-10) = -10 * erfc(10/sqrt2)/2.
    assert GELU()(np.array(-10.0)) == pytest.approx(
        -10 * math.erfc(10 / math.sqrt(2)) / 2, rel=1e-14
    )


# --- hand-checked values -----------------------------------------------------------


def test_sigmoid_of_seven_is_exact() -> None:
    # 1 / (1 + e^-7) = 1 / 1.000911881965555 = 0.9990889488055994
    assert float(Sigmoid()(np.array(7.0))) == 0.9990889488055994
    assert float(Sigmoid()(7.0)) == 0.9990889488055994


def test_hand_worked_values() -> None:
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ReLU()(x), [[0.0, 0.0, 3.0]])
    # 0.2 * -2 = -0.4
    np.testing.assert_allclose(LeakyReLU()(x), [[-0.4, 0.0, 3.0]])
    # e^-2 - 1 = -0.8646647167633873
    np.testing.assert_allclose(ELU()(x), [[math.expm1(-2.0), 0.0, 3.0]])
    # The perceptron fires when the sum exceeds the threshold: 0 at the threshold.
    np.testing.assert_array_equal(Step()(x), [[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(Step(threshold=-2.0)(x), [[0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(Step(threshold=0.5)(x), [[0.0, 0.0, 1.0]])
    # softmax([0, ln 3]) = [1/4, 3/4]
    np.testing.assert_allclose(
        Softmax()(np.array([[0.0, math.log(3.0)]])), [[0.25, 0.75]]
    )
    # softplus(0) = ln 2; GELU(1) = Phi(1) = 0.8413447460685429
    assert float(Softplus()(0.0)) == pytest.approx(math.log(2.0), rel=1e-15)
    assert float(GELU()(np.array(1.0))) == pytest.approx(0.8413447460685429, rel=1e-15)
    # sigmoid'(0) = 1/4, tanh'(0) = 1
    zero = np.zeros(1)
    assert Sigmoid().backward(zero, Sigmoid()(zero), np.ones(1))[0] == 0.25
    assert Tanh().backward(zero, Tanh()(zero), np.ones(1))[0] == 1.0
    assert not Step().backward(x, Step()(x), np.ones_like(x)).any()


# --- numerics --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ALL_ACTIVATIONS, ids=IDS)
def test_extreme_inputs_are_finite_warning_free_and_keep_dtype(act, dtype) -> None:
    x = np.array([[-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4]], dtype=dtype)
    g = np.ones_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = act(x)  # the public call silences exp's harmless overflow ...
        dx = act.backward(x, y, g)
    with np.errstate(over="ignore"):  # ... as fit and predict do around forward
        np.testing.assert_array_equal(act.forward(x), y)
    assert y.dtype == dtype and dx.dtype == dtype
    assert np.isfinite(y).all() and np.isfinite(dx).all()


def test_saturated_values() -> None:
    x = np.array([-1e4, 1e4])
    np.testing.assert_array_equal(Sigmoid()(x), [0.0, 1.0])
    np.testing.assert_array_equal(Softplus()(x), [0.0, 1e4])
    np.testing.assert_array_equal(GELU()(x), [0.0, 1e4])
    np.testing.assert_array_equal(Softmax()(np.array([[1e4, -1e4]])), [[1.0, 0.0]])


finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
float_arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
    elements=finite_floats,
)


@given(float_arrays)
@settings(max_examples=200, deadline=None)
def test_sigmoid_and_tanh_stay_in_range(x: np.ndarray) -> None:
    s = Sigmoid()(x)
    assert ((s >= 0) & (s <= 1)).all()
    t = Tanh()(x)
    assert ((t >= -1) & (t <= 1)).all()


@given(float_arrays)
@settings(max_examples=200, deadline=None)
def test_softmax_rows_are_distributions(x: np.ndarray) -> None:
    y = Softmax()(x)
    assert (y >= 0).all()
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)


@given(float_arrays)
@settings(max_examples=100, deadline=None)
def test_every_activation_is_finite_for_any_finite_input(x: np.ndarray) -> None:
    for act in ALL_ACTIVATIONS:
        y = act(x)
        dx = act.backward(x, y, np.ones_like(x))
        assert np.isfinite(y).all(), act
        assert np.isfinite(dx).all(), act


# --- erf ---------------------------------------------------------------------------


def test_erf_matches_math_erf_on_a_dense_grid() -> None:
    x = np.concatenate(
        [
            np.linspace(-8, 8, 40001),
            np.geomspace(1e-300, 8, 2001),
            -np.geomspace(1e-300, 8, 2001),
        ]
    )
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), expected, rtol=1e-15, atol=0)


def test_erfc_matches_math_erfc_including_the_tail() -> None:
    x = np.linspace(-6, 26, 32001)  # erfc(26) = 5.7e-296, still a normal float
    expected = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erfc(x), expected, rtol=2e-15, atol=0)
    np.testing.assert_array_equal(
        erfc([30.0, 1e4, 1e300, -1e300]), [0.0, 0.0, 0.0, 2.0]
    )


def test_erf_keeps_shape_and_handles_scalars() -> None:
    assert erf(0.25).shape == ()
    assert float(erf(0.25)) == pytest.approx(math.erf(0.25), rel=1e-16)
    assert erf(np.zeros((2, 3))).shape == (2, 3)


# --- registry, configs, errors -------------------------------------------------------


def test_get_accepts_names_aliases_none_dicts_and_instances() -> None:
    assert isinstance(activations.get(None), Linear)
    assert isinstance(activations.get("identity"), Linear)
    assert isinstance(activations.get("ReLU"), ReLU)
    assert isinstance(activations.get("Leaky-ReLU"), LeakyReLU)
    assert isinstance(activations.get("swish"), SiLU)
    relu = ReLU()
    assert activations.get(relu) is relu
    elu = activations.get({"class_name": "elu", "config": {"alpha": 0.3}})
    assert elu == ELU(alpha=0.3)
    assert activations.get({"class_name": "ELU", "config": {"alpha": 0.3}}) == elu


def test_registered_names() -> None:
    assert activations.registry.primary_names() == [
        "elu", "gelu", "leaky_relu", "linear", "relu", "sigmoid", "silu",
        "softmax", "softplus", "step", "tanh",
    ]  # fmt: skip


def test_registration_order_and_package_names() -> None:
    # glassnet.activations is a package of modules; importing it registers the
    # activations in the order the single module did, and the helpers stay
    # importable from it.
    registry = activations.registry
    assert [registry.name_of(cls) for cls in registry._primary] == [
        "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softmax",
        "linear", "step", "gelu", "silu",
    ]  # fmt: skip
    from glassnet.activations import _check_finite_number, _float_dtype

    assert _float_dtype(np.zeros(2, np.int32)) == np.float64
    assert _check_finite_number(2, "threshold") == 2.0


def test_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'relu'"):
        activations.get("rleu")
    with pytest.raises(UnknownNameError, match="Available: elu, gelu"):
        activations.get("nope")
    with pytest.raises(GlassnetTypeError, match="Could not interpret activation"):
        activations.get(3.5)


@pytest.mark.parametrize("act", ALL_ACTIVATIONS, ids=IDS)
def test_config_round_trip(act: ActivationFunction) -> None:
    config = json.loads(json.dumps(act.get_config()))
    rebuilt = type(act).from_config(config)
    assert rebuilt == act and hash(rebuilt) == hash(act)
    assert activations.get(json.loads(json.dumps(activations.serialize(act)))) == act
    assert act.name in activations.registry


def test_serialize_uses_the_plain_name_for_defaults() -> None:
    assert activations.serialize(LeakyReLU()) == "leaky_relu"
    assert activations.serialize(LeakyReLU(0.1)) == {
        "class_name": "LeakyReLU",
        "config": {"negative_slope": 0.1},
    }
    assert activations.serialize(activations.get("identity")) == "linear"


def test_repr_and_equality() -> None:
    assert repr(LeakyReLU()) == "LeakyReLU(negative_slope=0.2)"
    assert repr(Tanh()) == "Tanh()"
    assert ELU() == ELU(1.0) and ELU() != ELU(0.5) and ELU() != ReLU()
    assert Softmax() != "softmax"


def test_constructor_arguments_are_validated() -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"negative_slope.*Received: negative_slope=-1"
    ):
        LeakyReLU(negative_slope=-1)
    with pytest.raises(GlassnetTypeError, match="`axis` must be an integer"):
        Softmax(axis=1.5)  # type: ignore[arg-type]
    with pytest.raises(GlassnetTypeError, match="approximate"):
        GELU(approximate="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="`threshold` must be finite"):
        Step(threshold=float("inf"))
    with pytest.raises(InvalidArgumentError, match="Invalid config for ELU"):
        ELU.from_config({"alpah": 1.0})


def test_call_is_forward_and_linear_is_identity() -> None:
    x = np.array([[1.0, -2.0]])
    assert np.array_equal(Tanh()(x), Tanh().forward(x))
    g = np.array([[0.5, 0.25]])
    assert Linear().backward(x, x, g) is g
