"""Adamax, Nadam, Adadelta, Ftrl, Lion and the optimizer extras (clipping, use_ema,
gradient accumulation): closed-form steps, Keras 3 and PyTorch parity, state.

Parity with Keras runs Keras 3's own optimizers (PyTorch backend) on the same
float32 weights and gradients, through glassnet's ``apply`` and ``apply_flat``.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

from glassnet import optimizers
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.optimizers import (
    SGD,
    Adadelta,
    Adam,
    Adamax,
    Ftrl,
    Lion,
    Nadam,
    Optimizer,
    base,
)

EPS = 1e-7  # Keras' default epsilon, written into the expected values below
NEW = ["Adamax", "Nadam", "Adadelta", "Ftrl", "Lion"]

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def steps(opt: Optimizer, w0: list[float], grads: list[list[float]]) -> np.ndarray:
    """Apply ``grads`` one step at a time to a float64 copy of ``w0``."""
    w = np.array(w0, dtype=np.float64)
    for g in grads:
        opt.apply([("w", w, np.array(g, dtype=np.float64))])
    return w


# --- closed-form steps --------------------------------------------------------------


def test_adamax_two_steps() -> None:
    # m = m + (g - m) * 0.1; u = max(0.999 * u, |g|); w -= lr * m / ((1 - 0.9**t) * (u + eps))
    lr = 0.1
    m1, u1 = 0.2, 2.0  # g = 2
    w1 = 1.0 - lr * m1 / ((1 - 0.9) * (u1 + EPS))
    m2, u2 = m1 + (-1.0 - m1) * 0.1, max(0.999 * u1, 1.0)  # g = -1: 0.08, 1.998
    w2 = w1 - lr * m2 / ((1 - 0.9**2) * (u2 + EPS))
    opt = Adamax(learning_rate=lr)
    np.testing.assert_allclose(steps(opt, [1.0], [[2.0], [-1.0]]), [w2], rtol=1e-14)
    np.testing.assert_allclose(opt.state["w"]["u"], [1.998], rtol=1e-14)


def test_nadam_two_steps() -> None:
    # mu(t) = 0.9 * (1 - 0.5 * 0.96**t); P(t) = mu(1) * ... * mu(t)
    # m_hat = mu(t+1) * m / (1 - P(t) * mu(t+1)) + (1 - mu(t)) * g / (1 - P(t))
    # w -= lr * m_hat / (sqrt(v / (1 - 0.999**t)) + eps)
    def mu(t: int) -> float:
        return 0.9 * (1 - 0.5 * 0.96**t)

    lr, w = 0.1, 1.0
    m = v = 0.0
    product = 1.0
    for t, g in ((1, 2.0), (2, -1.0)):
        m = m + (g - m) * 0.1
        v = v + (g * g - v) * 0.001
        product *= mu(t)
        m_hat = mu(t + 1) * m / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (
            1 - product
        )
        w -= lr * m_hat / (math.sqrt(v / (1 - 0.999**t)) + EPS)
    opt = Nadam(learning_rate=lr)
    np.testing.assert_allclose(steps(opt, [1.0], [[2.0], [-1.0]]), [w], rtol=1e-13)
    assert opt.u_product == pytest.approx(mu(1) * mu(2), rel=1e-15)


def test_adadelta_two_steps() -> None:
    # acc_g = rho * acc_g + (1 - rho) g^2; delta = sqrt(acc_d + eps) / sqrt(acc_g + eps) * g
    # acc_d = rho * acc_d + (1 - rho) delta^2; w -= lr * delta   (rho = 0.5, eps = 1e-4)
    rho, eps, lr = 0.5, 1e-4, 1.0
    acc_g1 = 0.5 * 1.0**2  # g = 1
    d1 = math.sqrt(0 + eps) / math.sqrt(acc_g1 + eps) * 1.0
    acc_d1 = 0.5 * d1**2
    acc_g2 = 0.5 * acc_g1 + 0.5 * 3.0**2  # g = 3
    d2 = math.sqrt(acc_d1 + eps) / math.sqrt(acc_g2 + eps) * 3.0
    w = steps(Adadelta(lr, rho=rho, epsilon=eps), [1.0], [[1.0], [3.0]])
    np.testing.assert_allclose(w, [1.0 - d1 - d2], rtol=1e-14)


def test_ftrl_three_steps_l1_zeroes_and_l2_shrinks() -> None:
    # lr = 0.5, p = 0.5, acc0 = 0, l1 = 0.5, l2 = 0.25; q = new_acc**p / lr + 2 * l2
    # step 1 (g = 2):  new_acc = 4, linear = 2 - (2 - 0) / 0.5 * 0 = 2, q = 4.5
    #                  w = (clip(2) - 2) / 4.5 = (0.5 - 2) / 4.5 = -1/3
    # step 2 (g = -1): new_acc = 5, linear = 2 - 1 - (sqrt5 - 2) / 0.5 * (-1/3)
    # step 3 (g = -1): |linear| <= l1 after it, so w is exactly 0
    opt = Ftrl(
        learning_rate=0.5,
        initial_accumulator_value=0.0,
        l1_regularization_strength=0.5,
        l2_regularization_strength=0.25,
    )
    w = steps(opt, [0.0], [[2.0]])
    np.testing.assert_allclose(w, [-1 / 3], rtol=1e-15)
    linear = 2 - 1 - (math.sqrt(5) - 2) / 0.5 * (-1 / 3)
    w = np.array([-1 / 3])
    opt.apply([("w", w, np.array([-1.0]))])
    np.testing.assert_allclose(w, [(0.5 - linear) / (math.sqrt(5) / 0.5 + 0.5)])
    np.testing.assert_allclose(opt.state["w"]["linear"], [linear], rtol=1e-15)
    opt.apply([("w", w, np.array([-1.0]))])
    assert abs(opt.state["w"]["linear"][0]) <= 0.5 and w[0] == 0.0


def test_lion_three_steps_move_by_the_sign() -> None:
    # c = 0.9 m + 0.1 g; w -= 0.1 sign(c); m = 0.99 m + 0.01 g
    # g = 1:     c = 0.1      -> w = 0.9;  m = 0.01
    # g = -0.05: c = 0.004    -> w = 0.8;  m = 0.0099 - 0.0005 = 0.0094
    # g = -0.2:  c = -0.01154 -> w = 0.9;  m = 0.009306 - 0.002 = 0.007306
    opt = Lion(learning_rate=0.1)
    w = steps(opt, [1.0], [[1.0], [-0.05], [-0.2]])
    np.testing.assert_allclose(w, [0.9], rtol=1e-15)
    np.testing.assert_allclose(opt.state["w"]["m"], [0.007306], rtol=1e-12)


# --- the extras ---------------------------------------------------------------------


def test_ema_follows_the_weights_and_finalize_overwrites_them() -> None:
    # SGD(0.1), g = 1: w = 0.9, 0.8, 0.7; average = w1 at first, then
    # 0.5 * 0.9 + 0.5 * 0.8 = 0.85, then 0.5 * 0.85 + 0.5 * 0.7 = 0.775
    opt = SGD(0.1, use_ema=True, ema_momentum=0.5)
    w = steps(opt, [1.0], [[1.0]] * 3)
    np.testing.assert_allclose(w, [0.7])
    np.testing.assert_allclose(opt.state["w"]["average"], [0.775])
    opt.finalize_variable_values([("w", w)])
    np.testing.assert_allclose(w, [0.775])


def test_ema_overwrite_frequency_overwrites_every_n_steps() -> None:
    # as above, but at step 2 ((1 + 1) % 2 == 0) w becomes the average 0.85;
    # step 3: w = 0.75, average = 0.5 * 0.85 + 0.5 * 0.75 = 0.8 (no overwrite)
    opt = SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    w = np.array([1.0])
    for expected in (0.9, 0.85, 0.75):
        opt.apply([("w", w, np.array([1.0]))])
        np.testing.assert_allclose(w, [expected])
    np.testing.assert_allclose(opt.state["w"]["average"], [0.8])


def test_finalize_without_ema_changes_nothing() -> None:
    opt = SGD(0.1)
    w = steps(opt, [1.0], [[1.0]])
    opt.finalize_variable_values()
    np.testing.assert_allclose(w, [0.9])


def test_gradient_accumulation_updates_every_n_calls_with_the_mean() -> None:
    # SGD(0.1), n = 2, g = 1, 3, 2, 4: w = 1, 1 - 0.1 * 2 = 0.8, 0.8, 0.8 - 0.1 * 3
    opt = SGD(0.1, gradient_accumulation_steps=2)
    w = np.array([1.0])
    for g, expected, count in ((1, 1.0, 0), (3, 0.8, 1), (2, 0.8, 1), (4, 0.5, 2)):
        opt.apply([("w", w, np.array([float(g)]))])
        np.testing.assert_allclose(w, [expected], rtol=1e-15)
        assert opt.iterations == count
    np.testing.assert_array_equal(opt.state["w"]["gradient_accumulator"], [0.0])


def test_gradient_accumulation_counts_adam_steps_by_updates() -> None:
    # The bias correction uses t = updates: the first update moves w by about lr.
    opt = Adam(0.1, gradient_accumulation_steps=3)
    w = steps(opt, [1.0], [[2.0], [4.0], [6.0]])  # mean 4
    m, v = 0.1 * 4.0, 0.001 * 16.0
    expected = 1.0 - 0.1 * math.sqrt(1 - 0.999) / (1 - 0.9) * m / (math.sqrt(v) + EPS)
    np.testing.assert_allclose(w, [expected], rtol=1e-14)
    assert opt.iterations == 1


def test_gradient_accumulation_then_clipping_and_decay_on_the_update_only() -> None:
    # n = 2, clipvalue = 1, weight_decay = 0.5, lr = 0.1, g = 3, 1: mean 2 -> clipped 1
    # w = 1 - 0.1 * 0.5 * 1 = 0.95 (decay once), then 0.95 - 0.1 * 1 = 0.85
    opt = SGD(0.1, clipvalue=1.0, weight_decay=0.5, gradient_accumulation_steps=2)
    w = steps(opt, [1.0], [[3.0]])
    np.testing.assert_allclose(w, [1.0])
    opt.apply([("w", w, np.array([1.0]))])
    np.testing.assert_allclose(w, [0.85], rtol=1e-15)


def test_the_caller_gradient_survives_accumulation_and_ema() -> None:
    opt = Adam(0.1, gradient_accumulation_steps=2, use_ema=True)
    g = np.array([1.0, 2.0])
    for _ in range(4):
        opt.apply([("w", np.ones(2), g)])
    np.testing.assert_array_equal(g, [1.0, 2.0])


# --- parity with Keras 3 (PyTorch backend) ------------------------------------------

SHAPES = [(3, 2), (2,)]

KERAS_CASES = {
    "adamax": ("Adamax", {"learning_rate": 0.01}),
    "adamax_betas": ("Adamax", {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.9}),
    "nadam": ("Nadam", {"learning_rate": 0.01}),
    "nadam_betas": ("Nadam", {"learning_rate": 0.01, "beta_1": 0.5, "epsilon": 1e-4}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
    "adadelta_rho": ("Adadelta", {"learning_rate": 0.5, "rho": 0.8}),
    "ftrl": ("Ftrl", {"learning_rate": 0.1}),
    "ftrl_all": (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "learning_rate_power": -0.7,
            "initial_accumulator_value": 0.3,
            "l1_regularization_strength": 0.05,
            "l2_regularization_strength": 0.1,
            "l2_shrinkage_regularization_strength": 0.02,
            "beta": 0.3,
        },
    ),
    "lion": ("Lion", {"learning_rate": 0.01}),
    "lion_weight_decay": ("Lion", {"learning_rate": 0.01, "weight_decay": 0.1}),
    "adam_clipvalue": ("Adam", {"learning_rate": 0.01, "clipvalue": 0.5}),
    "sgd_global_clipnorm": (
        "SGD",
        {"learning_rate": 0.1, "momentum": 0.9, "global_clipnorm": 0.7},
    ),
    "adam_ema": (
        "Adam",
        {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.9},
    ),
    "rmsprop_ema_overwrite": (
        "RMSprop",
        {"learning_rate": 0.01, "use_ema": True, "ema_overwrite_frequency": 3},
    ),
    "adam_accumulation": (
        "Adam",
        {"learning_rate": 0.01, "gradient_accumulation_steps": 3},
    ),
    "nadam_accumulation_ema": (
        "Nadam",
        {
            "learning_rate": 0.01,
            "gradient_accumulation_steps": 2,
            "use_ema": True,
            "ema_overwrite_frequency": 2,
        },
    ),
    "ftrl_accumulation_clipvalue": (
        "Ftrl",
        {"learning_rate": 0.1, "gradient_accumulation_steps": 2, "clipvalue": 0.3},
    ),
}


def flat_buffers(params: list[np.ndarray]):
    """One flat buffer, its gradient buffer, its layout and the per-tensor views."""
    flat = np.concatenate([p.ravel() for p in params])
    layout, start = [], 0
    for i, p in enumerate(params):
        layout.append((f"p{i}", start, start + p.size, p.shape))
        start += p.size
    views = [flat[a:b].reshape(shape) for _, a, b, shape in layout]
    return flat, np.zeros_like(flat), layout, views


@pytest.mark.parametrize("path", ["apply", "apply_flat"])
@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_matches_keras_over_seven_steps(case: str, path: str) -> None:
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    name, kwargs = KERAS_CASES[case]
    rng = np.random.default_rng(3)
    params = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    theirs = [keras.Variable(p.copy()) for p in params]
    flat, flat_grad, layout, ours = flat_buffers(params)
    opt = getattr(optimizers, name)(**kwargs)
    keras_opt = getattr(keras.optimizers, name)(**kwargs)
    for _ in range(7):
        grads = [rng.standard_normal(s).astype("float32") for s in SHAPES]
        if path == "apply":
            opt.apply(
                [
                    (f"p{i}", w, g)
                    for i, (w, g) in enumerate(zip(ours, grads, strict=True))
                ]
            )
        else:
            flat_grad[...] = np.concatenate([g.ravel() for g in grads])
            opt.apply_flat(flat, flat_grad, layout)
        keras_opt.apply([torch.tensor(g) for g in grads], theirs)
        for w, k in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(w, k.numpy(), rtol=1e-5, atol=2e-6)
    assert opt.iterations == int(keras_opt.iterations)
    assert ours[0].dtype == np.float32
    if opt.use_ema:
        opt.finalize_variable_values()
        keras_opt.finalize_variable_values(theirs)
        for w, k in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(w, k.numpy(), rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("name", NEW)
def test_defaults_and_config_match_keras(name: str) -> None:
    keras = pytest.importorskip("keras")
    theirs = getattr(keras.optimizers, name)(name="opt").get_config()
    ours = getattr(optimizers, name)(name="opt").get_config()
    # Keras keeps its rate in float32; glassnet writes the EMA and accumulation
    # settings only when they are used, and has no loss scaling.
    assert ours.pop("learning_rate") == pytest.approx(theirs.pop("learning_rate"))
    unused = {"use_ema", "ema_momentum", "ema_overwrite_frequency"}
    unused |= {"gradient_accumulation_steps", "loss_scale_factor"}
    assert ours == {k: v for k, v in theirs.items() if k not in unused}
    # and Keras rebuilds the same optimizer from glassnet's full config
    full = getattr(optimizers, name)(0.5, use_ema=True, gradient_accumulation_steps=4)
    again = getattr(keras.optimizers, name).from_config(full.get_config())
    assert again.use_ema and again.gradient_accumulation_steps == 4
    assert float(again.learning_rate) == 0.5


# --- parity with PyTorch where it has the same rule ---------------------------------
#
# - Adamax: PyTorch adds eps inside the max, u = max(beta_2 * u, |g| + eps), and
#   divides by u; Keras (so glassnet) divides by u + eps. With eps = 0 in PyTorch and
#   a negligible epsilon here they coincide.
# - NAdam: PyTorch's momentum schedule is mu(t) = beta_1 * (1 - 0.5 * 0.96**(t *
#   momentum_decay)) with momentum_decay=0.004 by default; Keras' is momentum_decay 1.
#   PyTorch keeps the product of the mu in float32, hence the looser tolerance.
# - Adadelta: the same rule; PyTorch's defaults are lr=1.0, rho=0.9, eps=1e-6 (Keras:
#   0.001, 0.95, 1e-7).
TORCH_CASES = [
    (
        Adamax,
        {"learning_rate": 0.01, "epsilon": 1e-30},
        "Adamax",
        {"lr": 0.01, "eps": 0.0},
        1e-12,
    ),
    (
        Adamax,
        {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-30},
        "Adamax",
        {"lr": 0.01, "betas": (0.8, 0.95), "eps": 0.0},
        1e-12,
    ),
    (
        Nadam,
        {"learning_rate": 0.01, "epsilon": 1e-8},
        "NAdam",
        {"lr": 0.01, "eps": 1e-8, "momentum_decay": 1.0},
        1e-8,
    ),
    (
        Adadelta,
        {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6},
        "Adadelta",
        {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
        1e-12,
    ),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "torch_cls", "torch_kwargs", "rtol"), TORCH_CASES
)
def test_matches_torch_over_20_steps(
    cls, kwargs, torch_cls, torch_kwargs, rtol
) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    params = [rng.standard_normal(shape) for shape in SHAPES]
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = cls(**kwargs)
    torch_opt = getattr(torch.optim, torch_cls)(tensors, **torch_kwargs)
    for _ in range(20):
        grads = [rng.standard_normal(shape) for shape in SHAPES]
        opt.apply(
            (f"p{i}", p, g) for i, (p, g) in enumerate(zip(params, grads, strict=True))
        )
        for tensor, g in zip(tensors, grads, strict=True):
            tensor.grad = torch.tensor(g)
        torch_opt.step()
    for p, tensor in zip(params, tensors, strict=True):
        np.testing.assert_allclose(p, tensor.detach().numpy(), rtol=rtol, atol=1e-14)


# --- state: names, dtypes, the flat path, checkpoints -------------------------------


def test_state_names_per_optimizer() -> None:
    def names(opt: Optimizer) -> list[str]:
        opt.apply([("w", np.ones(2), np.ones(2))])
        return list(opt.state["w"])

    assert names(Adamax()) == ["m", "u"]
    assert names(Nadam()) == ["m", "v"]
    assert names(Adadelta()) == ["acc_grad", "acc_delta"]
    assert names(Ftrl()) == ["acc", "linear"]
    assert names(Lion()) == ["m"]
    assert names(Adam(use_ema=True, gradient_accumulation_steps=2)) == [
        "average",
        "gradient_accumulator",
        "m",
        "v",
    ]


def test_ftrl_accumulator_starts_at_its_initial_value() -> None:
    opt = Ftrl(initial_accumulator_value=0.25)
    opt.apply([("w", np.zeros(2, np.float32), np.zeros(2, np.float32))])
    np.testing.assert_array_equal(opt.state["w"]["acc"], [0.25, 0.25])


ALL_VARIANTS = [
    lambda: Adamax(0.01, weight_decay=0.01),
    lambda: Nadam(0.01, clipvalue=0.5),
    lambda: Adadelta(1.0, global_clipnorm=1.0),
    lambda: Ftrl(0.1, l1_regularization_strength=0.01, l2_regularization_strength=0.1),
    lambda: Lion(0.001, use_ema=True, ema_overwrite_frequency=2),
    lambda: Adam(0.01, gradient_accumulation_steps=2, use_ema=True),
]


@pytest.mark.parametrize("make", ALL_VARIANTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_flat_step_equals_the_per_tensor_step(make, dtype) -> None:
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    flat, flat_grad, layout, views = flat_buffers(params)
    tensors = [p.copy() for p in params]
    flat_opt, tensor_opt = make(), make()
    for _ in range(5):
        grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        flat_grad[...] = np.concatenate([g.ravel() for g in grads])
        kept = flat_grad.copy()
        flat_opt.apply_flat(flat, flat_grad, layout)
        tensor_opt.apply(
            (f"p{i}", w, g) for i, (w, g) in enumerate(zip(tensors, grads, strict=True))
        )
        np.testing.assert_array_equal(flat_grad, kept)  # the gradients survive
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(views, tensors, strict=True):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    for name, slots in tensor_opt.state.items():
        assert list(flat_opt.state[name]) == list(slots)
        for slot, value in slots.items():
            assert flat_opt.state[name][slot].dtype == np.dtype(dtype)
            np.testing.assert_allclose(
                flat_opt.state[name][slot], value, rtol=rtol, atol=rtol
            )


def test_the_new_state_is_flushed_too() -> None:
    # As Adam's m (test_optimizer_blocks.py): subnormal entries of every slot become
    # 0 every _FLUSH_EVERY calls; the EMA and accumulator slots are flushed as well.
    tiny = np.finfo(np.float32).tiny
    opt = Nadam(use_ema=True, gradient_accumulation_steps=2)
    param, grad = np.ones(2, np.float32), np.zeros(2, np.float32)
    layout = [("w", 0, 2, (2,))]
    opt.apply_flat(param, grad, layout)
    m, v = opt.state["w"]["m"], opt.state["w"]["v"]
    m[0], v[0] = tiny / 4, tiny / 8  # subnormal, and decayed only by the updates
    for _ in range(base._FLUSH_EVERY - 2):
        opt.apply_flat(param, grad, layout)
    assert m[0] != 0 and v[0] != 0
    opt.apply_flat(param, grad, layout)  # call number _FLUSH_EVERY
    assert m[0] == 0 and v[0] == 0
    assert list(opt.state["w"]) == ["average", "gradient_accumulator", "m", "v"]


# --- checkpoints: .keras files, in glassnet and across to Keras ---------------------

X = np.random.default_rng(11).normal(size=(24, 3)).astype("float32")
Y = np.random.default_rng(12).normal(size=(24, 2)).astype("float32")

CHECKPOINTED = {
    "adamax": lambda lib: lib.optimizers.Adamax(0.01),
    "nadam": lambda lib: lib.optimizers.Nadam(0.01),
    "adadelta": lambda lib: lib.optimizers.Adadelta(1.0),
    "ftrl": lambda lib: lib.optimizers.Ftrl(0.1, l1_regularization_strength=0.001),
    "lion": lambda lib: lib.optimizers.Lion(0.001),
    "nadam_ema_accumulation": lambda lib: lib.optimizers.Nadam(
        0.01, use_ema=True, ema_overwrite_frequency=3, gradient_accumulation_steps=2
    ),
    "sgd_accumulation": lambda lib: lib.optimizers.SGD(
        0.1, momentum=0.9, gradient_accumulation_steps=3
    ),
}


def glassnet_model(make):
    import glassnet
    from glassnet.layers import Dense
    from glassnet.models import Sequential

    model = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(2)], seed=4)
    model.compile(optimizer=make(glassnet), loss="mse")
    return model


@pytest.mark.parametrize("case", sorted(CHECKPOINTED))
def test_training_resumes_exactly_after_save_and_load(tmp_path, case) -> None:
    from glassnet.models import load_model
    from glassnet.utils import clear_session

    def fresh():
        clear_session()
        return glassnet_model(CHECKPOINTED[case])

    # Two fits of 2 epochs, not one of 4: with use_ema each fit ends by setting the
    # weights to their average (as Keras' does), so a save in between must be the
    # only difference.
    straight = fresh()
    straight.fit(X, Y, epochs=2, batch_size=5, verbose=0)
    straight.fit(X, Y, epochs=2, batch_size=5, verbose=0)
    first = fresh()
    first.fit(X, Y, epochs=2, batch_size=5, verbose=0)
    first.save(tmp_path / "half.keras")
    second = load_model(tmp_path / "half.keras")
    assert type(second.optimizer) is type(straight.optimizer)
    assert second.optimizer.get_config() == first.optimizer.get_config()
    second.fit(X, Y, epochs=2, batch_size=5, verbose=0)
    for ours, theirs in zip(second.get_weights(), straight.get_weights(), strict=True):
        assert np.array_equal(ours, theirs)
    assert second.optimizer.iterations == straight.optimizer.iterations
    if isinstance(straight.optimizer, Nadam):
        assert second.optimizer.u_product == straight.optimizer.u_product


@pytest.mark.parametrize("direction", ["glassnet->keras", "keras->glassnet"])
@pytest.mark.parametrize("case", sorted(CHECKPOINTED))
def test_optimizer_state_crosses_to_and_from_keras(tmp_path, case, direction) -> None:
    keras = pytest.importorskip("keras")
    from glassnet.models import load_model

    source_model = glassnet_model(CHECKPOINTED[case])
    if direction == "keras->glassnet":
        model = keras.models.model_from_json(source_model.to_json())
        model.set_weights(source_model.get_weights())
        model.compile(optimizer=CHECKPOINTED[case](keras), loss="mse")
        load = load_model
    else:
        model, load = source_model, keras.models.load_model
    fit_as_keras(model)
    model.save(tmp_path / "m.keras")
    loaded = load(tmp_path / "m.keras")
    assert type(loaded.optimizer).__name__ == type(model.optimizer).__name__
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
    # Both libraries train on from the same state: the same weights after.
    fit_as_keras(model)
    fit_as_keras(loaded)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


def fit_as_keras(model) -> None:
    """Two epochs; both libraries' fit end on the weights' average (``use_ema``)."""
    model.fit(X, Y, epochs=2, batch_size=5, shuffle=False, verbose=0)


def test_fit_with_ema_ends_on_the_average_as_in_keras() -> None:
    # Keras' fit overwrites the weights with their average after the last epoch
    # (optimizer.finalize_variable_values); glassnet's fit must end the same way.
    keras = pytest.importorskip("keras")
    ours = glassnet_model(lambda lib: lib.optimizers.Adam(0.05, use_ema=True))
    theirs = keras.models.model_from_json(ours.to_json())
    theirs.set_weights(ours.get_weights())
    theirs.compile(optimizer=keras.optimizers.Adam(0.05, use_ema=True), loss="mse")
    ours.fit(X, Y, epochs=3, batch_size=6, shuffle=False, verbose=0)
    theirs.fit(X, Y, epochs=3, batch_size=6, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-5)


# --- arguments and configs ----------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: Adamax(beta_1=1.0), InvalidArgumentError, r"`beta_1`.*beta_1=1.0"),
        (lambda: Adamax(epsilon=0), InvalidArgumentError, "epsilon=0"),
        (lambda: Nadam(beta_2=-0.1), InvalidArgumentError, "beta_2=-0.1"),
        (lambda: Nadam(learning_rate=-1e-3), InvalidArgumentError, "learning_rate"),
        (lambda: Adadelta(rho=1.5), InvalidArgumentError, r"`rho`.*\[0.0, 1.0\)"),
        (lambda: Adadelta(rho="0.9"), GlassnetTypeError, "rho"),
        (lambda: Ftrl(learning_rate_power=0.5), InvalidArgumentError, "power=0.5"),
        (lambda: Ftrl(learning_rate_power="x"), GlassnetTypeError, "power"),
        (lambda: Ftrl(initial_accumulator_value=-1), InvalidArgumentError, "initial"),
        (lambda: Ftrl(l1_regularization_strength=-0.1), InvalidArgumentError, "l1_"),
        (lambda: Ftrl(beta=-1.0), InvalidArgumentError, "beta=-1.0"),
        (lambda: Lion(beta_1=0.0), InvalidArgumentError, r"`beta_1`.*\(0.0, 1.0\]"),
        (lambda: Lion(beta_2=1.0), InvalidArgumentError, "beta_2"),
        (lambda: Adam(use_ema=1), GlassnetTypeError, "use_ema"),
        (lambda: Adam(ema_momentum=1.5), InvalidArgumentError, "ema_momentum=1.5"),
        (
            lambda: Adam(ema_overwrite_frequency=0),
            InvalidArgumentError,
            "ema_overwrite_frequency=0",
        ),
        (
            lambda: Adam(ema_overwrite_frequency=2.0),
            GlassnetTypeError,
            "ema_overwrite_frequency",
        ),
        (
            lambda: SGD(gradient_accumulation_steps=1),
            InvalidArgumentError,
            r"`gradient_accumulation_steps`.*>= 2.*=1",
        ),
        (
            lambda: SGD(gradient_accumulation_steps=2.5),
            GlassnetTypeError,
            "gradient_accumulation_steps=2.5",
        ),
        (
            lambda: SGD(gradient_accumulation_steps=True),
            GlassnetTypeError,
            "gradient_accumulation_steps=True",
        ),
        (lambda: SGD(clipvalue=-1.0), InvalidArgumentError, "clipvalue=-1.0"),
        (lambda: SGD(global_clipnorm=0), InvalidArgumentError, "global_clipnorm=0"),
    ],
)
def test_bad_arguments_name_the_argument(make, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize(
    "opt",
    [
        Adamax(0.002, beta_1=0.8, clipnorm=1.0),
        Nadam(epsilon=1e-6, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=5),
        Adadelta(rho=0.9, gradient_accumulation_steps=4),
        Ftrl(learning_rate_power=-0.25, beta=0.1, l2_regularization_strength=0.5),
        Lion(beta_1=0.95, beta_2=0.98, weight_decay=0.01, name="my_lion"),
    ],
    ids=lambda opt: type(opt).__name__,
)
def test_config_round_trip(opt: Optimizer) -> None:
    import json

    config = json.loads(json.dumps(opt.get_config()))
    clone = type(opt).from_config(config)
    assert clone.get_config() == opt.get_config()
    assert repr(clone) == repr(opt)
    identifier = {"class_name": type(opt).__name__, "config": config}
    assert optimizers.get(identifier).get_config() == opt.get_config()


@pytest.mark.parametrize("name", ["adamax", "Nadam", "adadelta", "FTRL", "lion"])
def test_get_by_keras_name(name: str) -> None:
    opt = optimizers.get(name)
    assert type(opt).__name__.lower() == name.lower()
    assert opt.learning_rate == 0.001


def test_a_float64_model_with_every_slot_saves_and_loads(tmp_path) -> None:
    # Adam with amsgrad, use_ema and accumulation keeps five slots per weight: the
    # archive's size bound (io/limits.py) must allow them, or glassnet could not
    # read its own file (90,902 float64 weights: 4.4 MB of weights and slots).
    from glassnet.layers import Dense
    from glassnet.models import Sequential, load_model

    model = Sequential([Dense(300, input_dim=300), Dense(2)], seed=0, dtype="float64")
    opt = Adam(amsgrad=True, use_ema=True, gradient_accumulation_steps=2)
    model.compile(optimizer=opt, loss="mse")
    model.fit(np.ones((4, 300)), np.ones((4, 2)), batch_size=2, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert list(loaded.optimizer.state["dense.W"]) == [
        "average",
        "gradient_accumulator",
        "m",
        "v",
        "v_max",
    ]
    for name, slots in model.optimizer.state.items():
        for slot, value in slots.items():
            assert np.array_equal(loaded.optimizer.state[name][slot], value)
