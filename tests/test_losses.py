"""Tests for glassnet.losses."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glassnet import losses
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
    UnknownNameError,
)
from glassnet.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

RNG = np.random.default_rng(0)


def numeric_grad(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central differences of the scalar f with respect to each entry of x."""
    h = 1e-6
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))


def probabilities(shape: tuple[int, ...]) -> np.ndarray:
    """Positive unnormalised rows; normalised, they stay inside the clip range."""
    return RNG.uniform(0.1, 1.0, size=shape)


# (loss, y_true, y_pred) with y_pred away from kinks and clip boundaries.
GRADCHECK_CASES = [
    (MeanSquaredError(), RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))),
    (MeanSquaredError(), RNG.normal(size=(3, 2, 2)), RNG.normal(size=(3, 2, 2))),
    (MeanAbsoluteError(), RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))),
    (BinaryCrossentropy(), RNG.uniform(size=(5, 2)), RNG.uniform(0.05, 0.95, (5, 2))),
    (BinaryCrossentropy(True), RNG.uniform(size=(5, 2)), 3 * RNG.normal(size=(5, 2))),
    # Targets that are not normalised check the true derivative, not the textbook one.
    (CategoricalCrossentropy(), RNG.uniform(size=(4, 3)), probabilities((4, 3))),
    (
        CategoricalCrossentropy(True),
        RNG.uniform(size=(4, 3)),
        3 * RNG.normal(size=(4, 3)),
    ),
    (
        CategoricalCrossentropy(True),
        RNG.uniform(size=(2, 3, 4)),
        RNG.normal(size=(2, 3, 4)),
    ),
    (SparseCategoricalCrossentropy(), np.array([0, 2, 1, 2]), probabilities((4, 3))),
    (
        SparseCategoricalCrossentropy(True),
        np.array([[0], [2], [1]]),
        RNG.normal(size=(3, 3)),
    ),
]


@pytest.mark.parametrize(
    "loss, y_true, y_pred", GRADCHECK_CASES, ids=[repr(c[0]) for c in GRADCHECK_CASES]
)
def test_backward_matches_central_differences(loss: Loss, y_true, y_pred) -> None:
    analytic = loss.backward(y_true, y_pred)
    numeric = numeric_grad(lambda p: loss.forward(y_true, p), y_pred.copy())
    assert analytic.shape == y_pred.shape
    assert rel_error(analytic, numeric) <= 1e-7


@pytest.mark.parametrize(
    "loss, y_true, y_pred", GRADCHECK_CASES, ids=[repr(c[0]) for c in GRADCHECK_CASES]
)
def test_forward_is_the_mean_of_per_sample(loss: Loss, y_true, y_pred) -> None:
    per_sample = loss.per_sample(y_true, y_pred)
    assert per_sample.shape == (len(y_pred),)
    value = loss(y_true, y_pred)
    assert isinstance(value, float)
    assert value == pytest.approx(per_sample.mean(), rel=1e-15)


# --- against PyTorch -------------------------------------------------------------


def torch_value_and_grad(fn, y_pred: np.ndarray) -> tuple[float, np.ndarray]:
    p = torch.tensor(y_pred, requires_grad=True)
    value = fn(p)
    value.backward()
    return float(value.detach()), p.grad.numpy()


def check_against_torch(loss: Loss, y_true, y_pred, torch_fn) -> None:
    expected_value, expected_grad = torch_value_and_grad(torch_fn, y_pred)
    assert loss(y_true, y_pred) == pytest.approx(expected_value, rel=1e-13)
    np.testing.assert_allclose(loss.backward(y_true, y_pred), expected_grad, rtol=1e-12)


def test_mse_and_mae_match_torch() -> None:
    # Keras' mean over units then over the batch is torch's mean over all elements.
    t, p = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3))
    tt = torch.tensor(t)
    check_against_torch(MeanSquaredError(), t, p, lambda q: torch.nn.MSELoss()(q, tt))
    check_against_torch(MeanAbsoluteError(), t, p, lambda q: torch.nn.L1Loss()(q, tt))


def test_binary_crossentropy_matches_torch() -> None:
    # Inside [1e-7, 1 - 1e-7] Keras' clipping does nothing, so BCELoss agrees.
    t = RNG.integers(0, 2, size=(6, 2)).astype(float)
    tt = torch.tensor(t)
    p = RNG.uniform(0.01, 0.99, size=(6, 2))
    check_against_torch(BinaryCrossentropy(), t, p, lambda q: torch.nn.BCELoss()(q, tt))
    z = 4 * RNG.normal(size=(6, 2))
    check_against_torch(
        BinaryCrossentropy(from_logits=True),
        t,
        z,
        lambda q: torch.nn.BCEWithLogitsLoss()(q, tt),
    )


def test_categorical_crossentropies_match_torch() -> None:
    labels = np.array([0, 2, 1, 1, 2])
    one_hot = np.eye(3)[labels]
    soft = RNG.dirichlet(np.ones(3), size=5)
    z = 3 * RNG.normal(size=(5, 3))
    lt = torch.tensor(labels)
    cross_entropy = torch.nn.CrossEntropyLoss()
    for targets in (one_hot, soft):
        tt = torch.tensor(targets)
        check_against_torch(
            CategoricalCrossentropy(True),
            targets,
            z,
            lambda q, tt=tt: cross_entropy(q, tt),
        )
    check_against_torch(
        SparseCategoricalCrossentropy(True), labels, z, lambda q: cross_entropy(q, lt)
    )

    # Probabilities: Keras normalises rows to sum 1 before taking the log.
    p = probabilities((5, 3))
    for targets in (one_hot, soft):
        tt = torch.tensor(targets)
        check_against_torch(
            CategoricalCrossentropy(),
            targets,
            p,
            lambda q, tt=tt: (
                -(tt * torch.log(q / q.sum(-1, keepdim=True))).sum(-1).mean()
            ),
        )
    check_against_torch(
        SparseCategoricalCrossentropy(),
        labels,
        p,
        lambda q: torch.nn.NLLLoss()(torch.log(q / q.sum(-1, keepdim=True)), lt),
    )


# --- hand-checked values ---------------------------------------------------------


def test_hand_worked_mse() -> None:
    # sample 1: ((0.5 - 0)^2 + (2 - 1)^2) / 2 = (0.25 + 1) / 2 = 0.625
    # sample 2: ((1 - 1)^2 + (3 - 1)^2) / 2 = 4 / 2 = 2.0
    # batch mean: (0.625 + 2.0) / 2 = 1.3125; gradient 2 (p - t) / 4 = (p - t) / 2
    t = np.array([[0.0, 1.0], [1.0, 1.0]])
    p = np.array([[0.5, 2.0], [1.0, 3.0]])
    np.testing.assert_array_equal(MeanSquaredError().per_sample(t, p), [0.625, 2.0])
    assert MeanSquaredError()(t, p) == 1.3125
    np.testing.assert_array_equal(
        MeanSquaredError().backward(t, p), [[0.25, 0.5], [0.0, 1.0]]
    )


def test_hand_worked_cross_entropies() -> None:
    # -log(0.8) = 0.2231435513142097; the gradient w.r.t. the logits is p - t
    assert BinaryCrossentropy()([[1.0]], [[0.8]]) == pytest.approx(
        -math.log(0.8), rel=1e-15
    )
    z = np.array([[0.0, 0.0]])  # softmax = [1/2, 1/2], loss = log 2
    assert CategoricalCrossentropy(True)([[1.0, 0.0]], z) == pytest.approx(math.log(2))
    np.testing.assert_allclose(
        CategoricalCrossentropy(True).backward([[1.0, 0.0]], z), [[-0.5, 0.5]]
    )
    np.testing.assert_allclose(
        SparseCategoricalCrossentropy(True).backward([0], z), [[-0.5, 0.5]]
    )


def test_probabilities_are_clipped_like_keras() -> None:
    # A confident wrong answer costs -log(1e-7) = 16.118..., not infinity, and the clip
    # makes its gradient zero.
    bce = BinaryCrossentropy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bce([[1.0], [0.0]], [[0.0], [1.0]]) == pytest.approx(
            -math.log(1e-7), rel=1e-9
        )
        assert not bce.backward([[1.0]], [[0.0]]).any()
        assert CategoricalCrossentropy()([[1.0, 0.0]], [[0.0, 1.0]]) == pytest.approx(
            -math.log(1e-7), rel=1e-9
        )


def test_gradients_with_logits_have_the_documented_form() -> None:
    t = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    z = RNG.normal(size=t.shape)
    sigmoid = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(
        BinaryCrossentropy(True).backward(t, z), (sigmoid - t) / t.size
    )
    one_hot = np.eye(2)[[0, 1, 1]]
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        CategoricalCrossentropy(True).backward(one_hot, z), (softmax - one_hot) / 3
    )


# --- numerics and dtypes -----------------------------------------------------------

EXTREME_CASES = [
    (BinaryCrossentropy(True), np.array([[1.0, 0.0, 1.0, 0.0]])),
    (CategoricalCrossentropy(True), np.array([[0.0, 1.0, 0.0, 0.0]])),
    (SparseCategoricalCrossentropy(True), np.array([1])),
    (MeanSquaredError(), np.array([[1.0, 0.0, 1.0, 0.0]])),
    (MeanAbsoluteError(), np.array([[1.0, 0.0, 1.0, 0.0]])),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "loss, y_true", EXTREME_CASES, ids=[repr(c[0]) for c in EXTREME_CASES]
)
def test_extreme_logits_are_finite_warning_free_and_keep_dtype(
    loss, y_true, dtype
) -> None:
    z = np.array([[1e4, -1e4, -1e4, 1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss(y_true, z)
        grad = loss.backward(y_true, z)
    assert math.isfinite(value)
    assert grad.dtype == dtype and np.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", [BinaryCrossentropy(), CategoricalCrossentropy()])
def test_probabilities_of_zero_and_one_are_finite(loss, dtype) -> None:
    p = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isfinite(loss(np.eye(2), p))
        grad = loss.backward(np.eye(2), p)
    assert grad.dtype == dtype and np.isfinite(grad).all()


def test_float32_predictions_give_float32_gradients_for_every_loss() -> None:
    p = RNG.uniform(0.1, 0.9, size=(3, 2)).astype(np.float32)
    t = np.eye(2)[[0, 1, 1]]  # float64 targets must not upcast the gradient
    for loss in (
        MeanSquaredError(),
        MeanAbsoluteError(),
        BinaryCrossentropy(),
        CategoricalCrossentropy(),
    ):
        assert loss.backward(t, p).dtype == np.float32
    assert SparseCategoricalCrossentropy().backward([0, 1, 1], p).dtype == np.float32


def test_targets_shaped_n_are_not_broadcast_against_n_by_1() -> None:
    # (n,) against (n, 1) must mean one target per sample, never an (n, n) grid.
    t, p = np.array([0.0, 1.0, 2.0]), np.array([[0.0], [1.0], [4.0]])
    assert MeanSquaredError()(t, p) == pytest.approx(4 / 3)
    assert MeanSquaredError().backward(t, p).shape == (3, 1)
    with pytest.raises(ShapeError, match=r"y_true.shape=\(3,\), y_pred.shape=\(3, 2\)"):
        MeanSquaredError()(t, np.zeros((3, 2)))


logits = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5),
    elements=st.floats(-1e4, 1e4),
)


@given(logits, st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_bce_with_logits_is_finite_and_bounded(z: np.ndarray, random) -> None:
    t = np.array([[random.randint(0, 1) for _ in row] for row in z], dtype=float)
    loss = BinaryCrossentropy(from_logits=True)
    per_sample = loss.per_sample(t, z)
    assert np.isfinite(per_sample).all() and (per_sample >= 0).all()
    grad = loss.backward(t, z)
    assert (np.abs(grad) <= 1 / z.size).all()


@given(logits, st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_cce_with_logits_is_nonnegative_and_gradient_rows_sum_to_zero(
    z, random
) -> None:
    labels = np.array([random.randrange(z.shape[1]) for _ in range(len(z))])
    loss = SparseCategoricalCrossentropy(from_logits=True)
    assert (loss.per_sample(labels, z) >= 0).all()
    grad = loss.backward(labels, z)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)
    dense = CategoricalCrossentropy(from_logits=True)
    assert dense(np.eye(z.shape[1])[labels], z) == loss(labels, z)


# --- validate_targets ------------------------------------------------------------


def test_validate_targets_accepts_and_reshapes() -> None:
    y = MeanSquaredError().validate_targets([1, 2, 3], (1,))
    assert y.shape == (3, 1) and y.dtype == np.float64
    y32 = BinaryCrossentropy().validate_targets(
        np.array([[0], [1]]), (1,), dtype="float32"
    )
    assert y32.dtype == np.float32
    one_hot = CategoricalCrossentropy().validate_targets(np.eye(3), [3])
    np.testing.assert_array_equal(one_hot, np.eye(3))
    labels = SparseCategoricalCrossentropy().validate_targets([[0], [2.0], [1]], (3,))
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [0, 2, 1])


def test_validate_targets_shape_mismatch() -> None:
    with pytest.raises(
        ShapeError,
        match=r"`y_val` must have shape \(n, 3\)\. Received: y_val.shape=\(4,\)",
    ):
        MeanSquaredError().validate_targets(np.zeros(4), (3,), name="y_val")
    with pytest.raises(ShapeError, match=r"Received: y.shape=\(4, 2\)"):
        BinaryCrossentropy().validate_targets(np.zeros((4, 2)), (1,))


def test_validate_targets_refuses_bad_values() -> None:
    with pytest.raises(DataError, match="contains NaN or inf"):
        MeanSquaredError().validate_targets([1.0, float("nan")], (1,))
    with pytest.raises(GlassnetTypeError, match="must contain numbers"):
        MeanSquaredError().validate_targets(["a", "b"], (1,))
    with pytest.raises(DataError, match=r"needs targets in \[0, 1\].*from -1 to 1"):
        BinaryCrossentropy().validate_targets([-1, 1, 1], (1,))


@pytest.mark.parametrize("labels", [[0, 2, 1], [[0], [2], [1]]])
def test_categorical_with_integer_labels_suggests_sparse(labels) -> None:
    with pytest.raises(
        DataError, match=r"sparse_categorical_crossentropy.*one-hot encode"
    ):
        CategoricalCrossentropy().validate_targets(labels, (3,))


def test_categorical_refuses_negative_targets() -> None:
    with pytest.raises(DataError, match=r"non-negative.*minimum -0\.5"):
        CategoricalCrossentropy().validate_targets([[1.5, -0.5]], (2,))


def test_sparse_label_errors() -> None:
    scce = SparseCategoricalCrossentropy()
    with pytest.raises(DataError, match=r"integer class labels in 0\.\.2.*0\.5"):
        scce.validate_targets([0, 0.5], (3,))
    with pytest.raises(DataError, match=r"valid range \[0, 3\).*labels from 0 to 3"):
        scce.validate_targets([0, 3], (3,))
    with pytest.raises(DataError, match=r"valid range \[0, 3\).*from -1"):
        scce.validate_targets([-1, 2], (3,))
    with pytest.raises(ShapeError, match="look like one-hot rows"):
        scce.validate_targets(np.eye(3), (3,))


# --- registry, configs -------------------------------------------------------------


def test_get_names_aliases_and_dicts() -> None:
    assert losses.get(None) is None
    assert isinstance(losses.get("mse"), MeanSquaredError)
    assert isinstance(losses.get("MSE"), MeanSquaredError)
    assert isinstance(losses.get("mae"), MeanAbsoluteError)
    assert isinstance(losses.get("bce"), BinaryCrossentropy)
    assert isinstance(losses.get("cce"), CategoricalCrossentropy)
    assert isinstance(
        losses.get("sparse_categorical_crossentropy"), SparseCategoricalCrossentropy
    )
    bce = BinaryCrossentropy(from_logits=True)
    assert losses.get(bce) is bce
    assert (
        losses.get(
            {"class_name": "BinaryCrossentropy", "config": {"from_logits": True}}
        )
        == bce
    )


def test_registration_order_and_package_names() -> None:
    # glassnet.losses is a package of modules; importing it registers the losses in
    # the order the single module did, and the helpers stay importable from it.
    assert [losses.registry.name_of(cls) for cls in losses.registry._primary] == [
        "mean_squared_error",
        "mean_absolute_error",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
    ]
    from glassnet.losses import EPSILON, _as_pair, _clip, _one_hot, _softmax_gradient

    assert EPSILON == 1e-7 and _clip(np.array([0.0]))[0] == EPSILON
    t, p = _as_pair([1.0, 0.0], [[0.5], [0.5]])
    assert t.shape == p.shape == (2, 1)
    assert _one_hot([2], np.zeros((1, 3))).tolist() == [[0.0, 0.0, 1.0]]
    assert _softmax_gradient(np.eye(2), np.full((2, 2), 0.5)).shape == (2, 2)


def test_unknown_loss_suggests_the_nearest() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'mean_squared_error'"):
        losses.get("mean_squared_eror")
    with pytest.raises(UnknownNameError, match="Available: bce, binary_crossentropy"):
        losses.get("hinge_loss_xyz")


ALL_LOSSES = [cls() for cls in losses.registry.classes()] + [
    cls(from_logits=True)
    for cls in (
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_config_round_trip(loss: Loss) -> None:
    rebuilt = type(loss).from_config(json.loads(json.dumps(loss.get_config())))
    assert rebuilt == loss and hash(rebuilt) == hash(loss)
    assert losses.get(json.loads(json.dumps(losses.serialize(loss)))) == loss


def test_attributes_and_repr() -> None:
    assert MeanSquaredError().fused_activation is None
    assert BinaryCrossentropy().fused_activation == "sigmoid"
    assert CategoricalCrossentropy().fused_activation == "softmax"
    assert SparseCategoricalCrossentropy().fused_activation == "softmax"
    assert BinaryCrossentropy(from_logits=True).from_logits is True
    assert (
        repr(CategoricalCrossentropy()) == "CategoricalCrossentropy(from_logits=False)"
    )
    assert losses.get("cce").name == "categorical_crossentropy"
    assert losses.serialize(MeanAbsoluteError()) == "mean_absolute_error"
    assert BinaryCrossentropy() != BinaryCrossentropy(True)


def test_constructor_and_config_errors() -> None:
    with pytest.raises(GlassnetTypeError, match="`from_logits` must be True or False"):
        BinaryCrossentropy(from_logits="yes")  # type: ignore[arg-type]
    with pytest.raises(
        InvalidArgumentError, match="Invalid config for MeanSquaredError"
    ):
        MeanSquaredError.from_config({"reduction": "sum"})
