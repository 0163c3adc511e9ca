"""Tests for glassnet.optimizers: closed-form steps, PyTorch parity, dtypes, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glassnet import optimizers
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, UnknownNameError
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

EPS = 1e-7  # Keras' default epsilon, written into the expected values below


def steps(opt: Optimizer, w0: list[float], grads: list[list[float]]) -> np.ndarray:
    """Apply ``grads`` one step at a time to a float64 copy of ``w0``."""
    w = np.array(w0, dtype=np.float64)
    for g in grads:
        opt.apply([("w", w, np.array(g, dtype=np.float64))])
    return w


# --- closed-form steps --------------------------------------------------------------


def test_sgd_plain_two_steps() -> None:
    # w = w - lr * g, lr = 0.1
    # step 1: [1 - 0.1 * 0.5, -2 - 0.1 * -1] = [0.95, -1.9]
    # step 2: [0.95 - 0.1 * 1, -1.9 - 0.1 * 2] = [0.85, -2.1]
    w = steps(SGD(learning_rate=0.1), [1.0, -2.0], [[0.5, -1.0], [1.0, 2.0]])
    np.testing.assert_allclose(w, [0.85, -2.1], rtol=0, atol=1e-15)


def test_sgd_momentum_three_steps() -> None:
    # v = 0.9 * v - 0.1 * g; w = w + v, with g = 1 each step
    # v1 = -0.1                     w1 = 1 - 0.1   = 0.9
    # v2 = 0.9 * -0.1 - 0.1 = -0.19  w2 = 0.9 - 0.19 = 0.71
    # v3 = 0.9 * -0.19 - 0.1 = -0.271 w3 = 0.71 - 0.271 = 0.439
    opt = SGD(learning_rate=0.1, momentum=0.9)
    w = steps(opt, [1.0], [[1.0]] * 3)
    np.testing.assert_allclose(w, [0.439], atol=1e-15)
    np.testing.assert_allclose(opt.state["w"]["v"], [-0.271], atol=1e-15)


def test_sgd_nesterov_two_steps() -> None:
    # v = 0.9 * v - 0.1 * g; w = w + 0.9 * v - 0.1 * g, with g = 1
    # v1 = -0.1;  w1 = 1 + 0.9 * -0.1 - 0.1 = 0.81
    # v2 = -0.19; w2 = 0.81 + 0.9 * -0.19 - 0.1 = 0.81 - 0.271 = 0.539
    w = steps(SGD(learning_rate=0.1, momentum=0.9, nesterov=True), [1.0], [[1.0]] * 2)
    np.testing.assert_allclose(w, [0.539], atol=1e-15)


def test_sgd_weight_decay_is_decoupled() -> None:
    # w = w - lr * wd * w, then w = w - lr * g: 1 - 0.1 * 0.5 * 1 - 0.1 * 2 = 0.75
    w = steps(SGD(learning_rate=0.1, weight_decay=0.5), [1.0], [[2.0]])
    np.testing.assert_allclose(w, [0.75], atol=1e-15)


def test_adagrad_three_steps() -> None:
    # acc starts at 0.1; acc = acc + g * g; w = w - 0.1 * g / sqrt(acc + eps)
    # step 1: g = 1  -> acc = 1.1,  w = 1 - 0.1 * 1 / sqrt(1.1 + eps)
    # step 2: g = -2 -> acc = 5.1,  w = w + 0.2 / sqrt(5.1 + eps)
    # step 3: g = 0  -> acc = 5.1,  w unchanged
    w = steps(Adagrad(learning_rate=0.1), [1.0], [[1.0], [-2.0], [0.0]])
    expected = 1 - 0.1 / math.sqrt(1.1 + EPS) + 0.2 / math.sqrt(5.1 + EPS)
    np.testing.assert_allclose(w, [expected], rtol=1e-14)


def test_adagrad_zero_initial_accumulator() -> None:
    # acc = 9 then 25, so the steps are 0.1 * 3 / 3 = 0.1 and 0.1 * 4 / 5 = 0.08
    opt = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0)
    w = steps(opt, [1.0], [[3.0], [4.0]])
    expected = 1 - 0.3 / math.sqrt(9 + EPS) - 0.4 / math.sqrt(25 + EPS)
    np.testing.assert_allclose(w, [expected], rtol=1e-14)
    np.testing.assert_allclose(opt.state["w"]["acc"], [25.0])


def test_rmsprop_two_steps() -> None:
    # v = 0.9 * v + 0.1 * g * g; w = w - 0.01 * g / sqrt(v + eps)
    # step 1: g = 2 -> v = 0.4;                    w = 1 - 0.02 / sqrt(0.4 + eps)
    # step 2: g = 1 -> v = 0.36 + 0.1 = 0.46;      w = w - 0.01 / sqrt(0.46 + eps)
    opt = RMSprop(learning_rate=0.01)
    w = steps(opt, [1.0], [[2.0], [1.0]])
    expected = 1 - 0.02 / math.sqrt(0.4 + EPS) - 0.01 / math.sqrt(0.46 + EPS)
    np.testing.assert_allclose(w, [expected], rtol=1e-14)
    np.testing.assert_allclose(opt.state["w"]["v"], [0.46], rtol=1e-14)


def test_rmsprop_centered_two_steps() -> None:
    # mg = 0.9 * mg + 0.1 * g; step = lr * g / sqrt(v - mg * mg + eps)
    # step 1: v = 0.4,  mg = 0.2  -> denominator 0.4 - 0.04 = 0.36
    # step 2: v = 0.46, mg = 0.18 + 0.1 = 0.28 -> denominator 0.46 - 0.0784 = 0.3816
    opt = RMSprop(learning_rate=0.01, centered=True)
    w = steps(opt, [1.0], [[2.0], [1.0]])
    expected = 1 - 0.02 / math.sqrt(0.36 + EPS) - 0.01 / math.sqrt(0.3816 + EPS)
    np.testing.assert_allclose(w, [expected], rtol=1e-14)
    np.testing.assert_allclose(opt.state["w"]["mg"], [0.28], rtol=1e-14)


def test_rmsprop_momentum_two_steps() -> None:
    # m = 0.5 * m + step; w = w - m
    # step 1: m1 = 0.02 / sqrt(0.4 + eps)                     w1 = 1 - m1
    # step 2: m2 = 0.5 * m1 + 0.01 / sqrt(0.46 + eps)         w2 = w1 - m2
    w = steps(RMSprop(learning_rate=0.01, momentum=0.5), [1.0], [[2.0], [1.0]])
    m1 = 0.02 / math.sqrt(0.4 + EPS)
    m2 = 0.5 * m1 + 0.01 / math.sqrt(0.46 + EPS)
    np.testing.assert_allclose(w, [1 - m1 - m2], rtol=1e-14)


def test_adam_two_steps() -> None:
    # m = m + (g - m) * 0.1; v = v + (g * g - v) * 0.001
    # lr_t = lr * sqrt(1 - 0.999**t) / (1 - 0.9**t); w = w - lr_t * m / (sqrt(v) + eps)
    # step 1: g = 2 -> m = 0.2,  v = 0.004, lr_t = 0.1 * sqrt(0.001) / 0.1
    # step 2: g = 1 -> m = 0.2 + (1 - 0.2) * 0.1 = 0.28,
    #                  v = 0.004 + (1 - 0.004) * 0.001 = 0.004996,
    #                  lr_t = 0.1 * sqrt(1 - 0.998001) / (1 - 0.81)
    opt = Adam(learning_rate=0.1)
    w = steps(opt, [1.0], [[2.0], [1.0]])
    step1 = 0.1 * math.sqrt(0.001) / 0.1 * 0.2 / (math.sqrt(0.004) + EPS)
    step2 = 0.1 * math.sqrt(0.001999) / 0.19 * 0.28 / (math.sqrt(0.004996) + EPS)
    np.testing.assert_allclose(w, [1 - step1 - step2], rtol=1e-13)
    np.testing.assert_allclose(opt.state["w"]["m"], [0.28], rtol=1e-14)
    np.testing.assert_allclose(opt.state["w"]["v"], [0.004996], rtol=1e-14)
    assert step1 == pytest.approx(0.1, rel=1e-5)  # Adam's first step is ~ lr


def test_adam_amsgrad_uses_the_running_max() -> None:
    # g = 2 then 0: v = 0.004 then 0.004 * 0.999 = 0.003996; v_max stays 0.004.
    # m = 0.2 then 0.18; step 2 = 0.1 * sqrt(0.001999) / 0.19 * 0.18 / (sqrt(v) + eps)
    lr_t2 = 0.1 * math.sqrt(0.001999) / 0.19
    step1 = math.sqrt(0.001) * 0.2 / (math.sqrt(0.004) + EPS)
    ams = steps(Adam(learning_rate=0.1, amsgrad=True), [1.0], [[2.0], [0.0]])
    plain = steps(Adam(learning_rate=0.1), [1.0], [[2.0], [0.0]])
    np.testing.assert_allclose(
        ams, [1 - step1 - lr_t2 * 0.18 / (math.sqrt(0.004) + EPS)], rtol=1e-13
    )
    np.testing.assert_allclose(
        plain, [1 - step1 - lr_t2 * 0.18 / (math.sqrt(0.003996) + EPS)], rtol=1e-13
    )


def test_adamw_two_steps() -> None:
    # Decay first: w = w - lr * wd * w = w * (1 - 0.1 * 0.5), then the Adam step.
    # step 1: w = 2 * 0.95 = 1.9; m = 0.1, v = 0.001, lr_t = sqrt(0.001)
    # step 2: w = w1 * 0.95;      m = 0.19, v = 0.001999, lr_t = 0.1*sqrt(0.001999)/0.19
    w = steps(AdamW(learning_rate=0.1, weight_decay=0.5), [2.0], [[1.0], [1.0]])
    w1 = 1.9 - math.sqrt(0.001) * 0.1 / (math.sqrt(0.001) + EPS)
    lr_t2 = 0.1 * math.sqrt(0.001999) / 0.19
    w2 = w1 * 0.95 - lr_t2 * 0.19 / (math.sqrt(0.001999) + EPS)
    np.testing.assert_allclose(w, [w2], rtol=1e-13)


def test_clipnorm_rescales_each_tensor_on_a_copy() -> None:
    # [3, 4] has norm 5 > 1 -> [0.6, 0.8]; [0.3, 0.4] has norm 0.5 <= 1 -> unchanged.
    opt = SGD(learning_rate=1.0, clipnorm=1.0)
    a, b = np.zeros(2), np.zeros(2)
    ga, gb = np.array([3.0, 4.0]), np.array([0.3, 0.4])
    opt.apply([("a", a, ga), ("b", b, gb)])
    np.testing.assert_allclose(a, [-0.6, -0.8], atol=1e-15)
    np.testing.assert_allclose(b, [-0.3, -0.4], atol=1e-15)
    np.testing.assert_array_equal(ga, [3.0, 4.0])


def test_clipvalue_clips_elements_on_a_copy() -> None:
    opt = SGD(learning_rate=1.0, clipvalue=0.5)
    w, g = np.zeros(3), np.array([-2.0, 0.1, 3.0])
    opt.apply([("w", w, g)])
    np.testing.assert_allclose(w, [0.5, -0.1, -0.5])
    np.testing.assert_array_equal(g, [-2.0, 0.1, 3.0])


def test_global_clipnorm_rescales_all_tensors_together() -> None:
    # Joint norm of [3] and [4] is 5 -> both scaled by 1/5.
    opt = SGD(learning_rate=1.0, global_clipnorm=1.0)
    a, b = np.zeros(1), np.zeros(1)
    ga, gb = np.array([3.0]), np.array([4.0])
    opt.apply(iter([("a", a, ga), ("b", b, gb)]))
    np.testing.assert_allclose([a[0], b[0]], [-0.6, -0.8], atol=1e-15)
    assert ga[0] == 3.0 and gb[0] == 4.0


@settings(max_examples=50, deadline=None)
@given(
    g=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
        elements=st.floats(-1e3, 1e3),
    ),
    limit=st.floats(0.01, 10.0),
)
def test_clipping_bounds_the_step_and_keeps_the_gradient(
    g: np.ndarray, limit: float
) -> None:
    original = g.copy()
    for kind in ("clipnorm", "clipvalue"):
        w = np.zeros_like(g)
        SGD(learning_rate=1.0, **{kind: limit}).apply([("w", w, g)])
        np.testing.assert_array_equal(g, original)
        size = np.linalg.norm(w) if kind == "clipnorm" else np.abs(w).max()
        assert size <= limit * (1 + 1e-12)


# --- against PyTorch (float64) ------------------------------------------------------
#
# Where Keras 3 and torch.optim formulate an update differently, the comparison
# chooses settings under which the two coincide:
# - SGD momentum: torch keeps b = m * b + g and steps w -= lr * b; Keras keeps
#   v = m * v - lr * g and steps w += v. With a constant lr, v = -lr * b exactly.
#   Nesterov: torch steps w -= lr * (g + m * b) = w + m * v - lr * g, as Keras does.
# - Adagrad, RMSprop: torch adds eps outside the square root (sqrt(acc) + eps),
#   Keras inside (sqrt(acc + eps)); torch also applies lr to RMSprop's momentum
#   buffer at the step rather than at accumulation (equal for a constant lr).
# - Adam, AdamW: torch divides by sqrt(v) / sqrt(1 - beta_2**t) + eps, Keras by
#   (sqrt(v) + eps) / sqrt(1 - beta_2**t): Keras' epsilon is torch's scaled by
#   1 / sqrt(1 - beta_2**t), which changes every step. AdamW decays by
#   lr * weight_decay before the step in both.
# So the epsilons are compared at torch eps = 0 against glassnet eps = 1e-30 (it
# must be > 0), which cannot move sqrt(v) for any v these gradients produce.

SHAPES = [(3, 2), (2,)]
TORCH_CASES = [
    (SGD, {"learning_rate": 0.05}, "SGD", {"lr": 0.05}),
    (
        SGD,
        {"learning_rate": 0.05, "momentum": 0.9},
        "SGD",
        {"lr": 0.05, "momentum": 0.9},
    ),
    (
        SGD,
        {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    ),
    (
        Adagrad,
        {"learning_rate": 0.1, "epsilon": 1e-30},
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.1, "eps": 0.0},
    ),
    (
        RMSprop,
        {"learning_rate": 0.01, "epsilon": 1e-30},
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "eps": 0.0},
    ),
    (
        RMSprop,
        {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.7, "epsilon": 1e-30},
        "RMSprop",
        {"lr": 0.01, "alpha": 0.8, "momentum": 0.7, "eps": 0.0},
    ),
    (
        RMSprop,
        {"learning_rate": 0.01, "momentum": 0.5, "centered": True, "epsilon": 1e-30},
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "eps": 0.0},
    ),
    (
        Adam,
        {"learning_rate": 0.01, "epsilon": 1e-30},
        "Adam",
        {"lr": 0.01, "eps": 0.0},
    ),
    (
        Adam,
        {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-30},
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 0.0},
    ),
    (
        Adam,
        {"learning_rate": 0.01, "amsgrad": True, "epsilon": 1e-30},
        "Adam",
        {"lr": 0.01, "amsgrad": True, "eps": 0.0},
    ),
    (
        AdamW,
        {"learning_rate": 0.01, "weight_decay": 0.1, "epsilon": 1e-30},
        "AdamW",
        {"lr": 0.01, "weight_decay": 0.1, "eps": 0.0},
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "torch_cls", "torch_kwargs"), TORCH_CASES)
def test_matches_torch_over_20_steps(cls, kwargs, torch_cls, torch_kwargs) -> None:
    torch = pytest.importorskip("torch")
    torch_opt_cls = getattr(torch.optim, torch_cls)
    rng = np.random.default_rng(7)
    params = [rng.standard_normal(shape) for shape in SHAPES]
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = cls(**kwargs)
    torch_opt = torch_opt_cls(tensors, **torch_kwargs)
    for _ in range(20):
        grads = [rng.standard_normal(shape) for shape in SHAPES]
        opt.apply(
            (f"p{i}", p, g) for i, (p, g) in enumerate(zip(params, grads, strict=True))
        )
        for tensor, g in zip(tensors, grads, strict=True):
            tensor.grad = torch.tensor(g)
        torch_opt.step()
    for p, tensor in zip(params, tensors, strict=True):
        np.testing.assert_allclose(p, tensor.detach().numpy(), rtol=1e-12, atol=1e-14)


# --- dtypes, in-place updates and state ---------------------------------------------

VARIANTS = [
    SGD(),
    SGD(momentum=0.9),
    SGD(momentum=0.9, nesterov=True, weight_decay=0.01),
    Adagrad(clipnorm=1.0),
    RMSprop(),
    RMSprop(momentum=0.9, centered=True, clipvalue=0.1),
    Adam(),
    Adam(amsgrad=True, global_clipnorm=1.0),
    AdamW(),
]


@pytest.mark.parametrize("opt", VARIANTS, ids=repr)
def test_float32_stays_float32_and_updates_in_place(opt: Optimizer) -> None:
    opt.reset()
    opt.learning_rate = np.float64(0.01)  # a NumPy scalar must not upcast updates
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2)).astype(np.float32)
    buffer = np.zeros(4, np.float32)
    b = buffer[1:3]  # a view: the update must write through it
    before = w.copy(), b.copy()
    for _ in range(3):
        grads = [rng.standard_normal(p.shape).astype(np.float32) for p in (w, b)]
        kept = [g.copy() for g in grads]
        opt.apply([("d.W", w, grads[0]), ("d.b", b, grads[1])])
        for g, k in zip(grads, kept, strict=True):
            np.testing.assert_array_equal(g, k)  # the caller's gradients survive
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert not np.array_equal(w, before[0]) and not np.array_equal(b, before[1])
    np.testing.assert_array_equal(buffer[1:3], b)
    for slots in opt.state.values():
        for array in slots.values():
            assert array.dtype == np.float32


def test_state_is_keyed_by_name_and_reset_clears_it() -> None:
    opt = Adam()
    a, b = np.ones((2, 3)), np.ones(3)
    opt.apply([("dense.W", a, np.ones((2, 3))), ("dense.b", b, -np.ones(3))])
    opt.apply([("dense.W", a, np.ones((2, 3))), ("dense.b", b, -np.ones(3))])
    assert opt.iterations == 2
    assert set(opt.state) == {"dense.W", "dense.b"}
    assert opt.state["dense.W"]["m"].shape == (2, 3)
    assert opt.state["dense.b"]["v"].shape == (3,)
    assert opt.state["dense.W"]["m"] is not opt.state["dense.b"]["m"]
    np.testing.assert_allclose(opt.state["dense.b"]["m"], -opt.state["dense.W"]["m"][0])
    opt.reset()
    assert opt.iterations == 0 and opt.state == {}


def test_state_names_per_optimizer() -> None:
    def names(opt: Optimizer) -> set[str]:
        opt.apply([("w", np.ones(2), np.ones(2))])
        return set(opt.state["w"])

    assert names(SGD()) == set()
    assert names(SGD(momentum=0.5)) == {"v"}
    assert names(Adagrad()) == {"acc"}
    assert names(RMSprop(momentum=0.5, centered=True)) == {"v", "mg", "m"}
    assert names(Adam(amsgrad=True)) == {"m", "v", "v_max"}


def test_state_starts_where_keras_starts_it() -> None:
    opt = Adagrad(initial_accumulator_value=0.25)
    opt.apply([("w", np.zeros(2, np.float32), np.zeros(2, np.float32))])
    np.testing.assert_array_equal(opt.state["w"]["acc"], [0.25, 0.25])


# --- constructor, learning rate, config ---------------------------------------------


def test_lr_is_the_keras_2_spelling() -> None:
    opt = SGD(lr=0.1)
    assert opt.learning_rate == 0.1 and opt.lr == 0.1
    opt.lr = 0.2
    assert opt.learning_rate == 0.2
    assert Adam(lr=0.5).get_config()["learning_rate"] == 0.5


@pytest.mark.parametrize("learning_rate", [0.1, 0.01])
def test_lr_and_learning_rate_together_is_an_error(learning_rate: float) -> None:
    # 0.01 is SGD's default: passing it explicitly still counts as passing it.
    with pytest.raises(InvalidArgumentError, match=r"`learning_rate`.*`lr`.*lr=0\.1"):
        SGD(lr=0.1, learning_rate=learning_rate)


def test_learning_rate_setter_validates_and_keeps_the_old_value() -> None:
    opt = SGD(learning_rate=0.1)
    with pytest.raises(InvalidArgumentError, match=r"learning_rate=-1"):
        opt.learning_rate = -1
    assert opt.learning_rate == 0.1
    opt.learning_rate = np.float32(0.5)
    assert type(opt.learning_rate) is float and opt.learning_rate == 0.5


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "pattern"),
    [
        (SGD, {"learning_rate": 0}, InvalidArgumentError, r"`learning_rate`.*=0\b"),
        (Adam, {"learning_rate": -0.1}, InvalidArgumentError, r"learning_rate=-0.1"),
        (SGD, {"learning_rate": math.inf}, InvalidArgumentError, "learning_rate"),
        (SGD, {"learning_rate": "0.1"}, GlassnetTypeError, "learning_rate"),
        (SGD, {"lr": 0}, InvalidArgumentError, r"`lr`.*lr=0"),
        (SGD, {"momentum": 1.0}, InvalidArgumentError, r"`momentum`.*\[0.0, 1.0\)"),
        (SGD, {"momentum": -0.5}, InvalidArgumentError, "momentum=-0.5"),
        (SGD, {"nesterov": 1}, GlassnetTypeError, "nesterov"),
        (Adagrad, {"initial_accumulator_value": -1}, InvalidArgumentError, "initial"),
        (Adagrad, {"epsilon": 0}, InvalidArgumentError, "epsilon=0"),
        (RMSprop, {"rho": 1.5}, InvalidArgumentError, "rho=1.5"),
        (RMSprop, {"momentum": 1}, InvalidArgumentError, "momentum"),
        (RMSprop, {"centered": None}, GlassnetTypeError, "centered"),
        (Adam, {"beta_1": 1.0}, InvalidArgumentError, "beta_1=1.0"),
        (Adam, {"beta_2": -0.1}, InvalidArgumentError, "beta_2"),
        (Adam, {"epsilon": -1e-7}, InvalidArgumentError, "epsilon"),
        (Adam, {"amsgrad": "yes"}, GlassnetTypeError, "amsgrad"),
        (AdamW, {"weight_decay": -0.1}, InvalidArgumentError, "weight_decay=-0.1"),
        (AdamW, {"weight_decay": None}, GlassnetTypeError, "weight_decay=None"),
        (SGD, {"clipnorm": 0}, InvalidArgumentError, "clipnorm=0"),
        (SGD, {"clipvalue": -1.0}, InvalidArgumentError, "clipvalue"),
        (SGD, {"global_clipnorm": "1"}, GlassnetTypeError, "global_clipnorm"),
        (
            SGD,
            {"clipnorm": 1.0, "clipvalue": 1.0},
            InvalidArgumentError,
            r"Only one of.*clipnorm=1.0, clipvalue=1.0",
        ),
        (SGD, {"name": 3}, GlassnetTypeError, "name"),
    ],
)
def test_bad_arguments_name_the_argument(cls, kwargs, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        cls(**kwargs)


def test_keras_defaults() -> None:
    base = {"weight_decay": None, "clipnorm": None, "clipvalue": None}
    base["global_clipnorm"] = None
    assert SGD().get_config() == {
        "name": "sgd",
        "learning_rate": 0.01,
        "momentum": 0.0,
        "nesterov": False,
        **base,
    }
    assert Adagrad().get_config() == {
        "name": "adagrad",
        "learning_rate": 0.001,
        "initial_accumulator_value": 0.1,
        "epsilon": 1e-7,
        **base,
    }
    assert RMSprop().get_config() == {
        "name": "rmsprop",
        "learning_rate": 0.001,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-7,
        "centered": False,
        **base,
    }
    adam = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    assert Adam().get_config() == {"name": "adam", **adam, "amsgrad": False, **base}
    assert AdamW().get_config() == {
        "name": "adamw",
        **adam,
        "amsgrad": False,
        **base,
        "weight_decay": 0.004,
    }


@pytest.mark.parametrize(
    "opt",
    [
        SGD(0.3, momentum=0.5, nesterov=True, clipnorm=2.0, name="my_sgd"),
        Adagrad(lr=0.2, initial_accumulator_value=0.0, epsilon=1e-6),
        RMSprop(rho=0.8, momentum=0.1, centered=True, clipvalue=0.5),
        Adam(beta_1=0.5, beta_2=0.9, amsgrad=True, global_clipnorm=3.0),
        AdamW(learning_rate=0.002, weight_decay=0.1, epsilon=1e-8),
    ],
    ids=lambda opt: type(opt).__name__,
)
def test_config_round_trip(opt: Optimizer) -> None:
    config = json.loads(json.dumps(opt.get_config()))
    clone = type(opt).from_config(config)
    assert clone.get_config() == opt.get_config()
    assert repr(clone) == repr(opt)
    identifier = {"class_name": type(opt).__name__, "config": config}
    assert optimizers.get(identifier).get_config() == opt.get_config()


def test_from_config_rejects_unknown_keys_with_a_suggestion() -> None:
    with pytest.raises(InvalidArgumentError, match=r"'beta1'.*Did you mean 'beta_1'"):
        Adam.from_config({"beta1": 0.5})
    with pytest.raises(GlassnetTypeError, match="must be a dict"):
        Adam.from_config([("beta_1", 0.5)])  # type: ignore[arg-type]


# --- registry ----------------------------------------------------------------------


def test_registry_names() -> None:
    assert optimizers.registry.primary_names() == [
        "adadelta",
        "adagrad",
        "adam",
        "adamax",
        "adamw",
        "ftrl",
        "lion",
        "nadam",
        "rmsprop",
        "sgd",
    ]


def test_registry_keeps_the_registration_order() -> None:
    # glassnet.optimizers imports sgd before adaptive: the order optimizers.py had
    assert list(optimizers.registry._classes) == [
        "sgd",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
        "adamax",
        "nadam",
        "adadelta",
        "ftrl",
        "lion",
    ]


@pytest.mark.parametrize(
    ("identifier", "cls"),
    [
        ("sgd", SGD),
        ("SGD", SGD),
        ("Adam", Adam),
        ("RMSProp", RMSprop),
        ("adamw", AdamW),
    ],
)
def test_get_by_name_gives_a_fresh_default_instance(identifier: str, cls) -> None:
    first, second = optimizers.get(identifier), optimizers.get(identifier)
    assert type(first) is cls and first is not second
    assert first.get_config() == cls().get_config()


def test_get_passes_instances_and_none_through() -> None:
    opt = Adam(learning_rate=0.1)
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None


def test_get_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(
        UnknownNameError, match=r"Available: .*sgd.*Did you mean 'adam'"
    ):
        optimizers.get("adamm")  # ("adma" is nearer "adamax" since that exists)
    with pytest.raises(GlassnetTypeError, match="optimizer"):
        optimizers.get(0.1)


def test_get_accepts_custom_objects() -> None:
    class Halve(SGD):
        pass

    opt = optimizers.get(
        {"class_name": "Halve", "config": {"learning_rate": 0.5}},
        custom_objects={"Halve": Halve},
    )
    assert type(opt) is Halve and opt.learning_rate == 0.5
