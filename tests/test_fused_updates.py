"""The Numba-compiled update rules (optimizers/fused.py) equal the NumPy ones, bit for bit.

The NumPy passes in each rule's ``_update`` are the reference; every test here runs
the same steps with fused updates on and off and compares weights and state exactly.
Numba is in the ``test`` extra, so the fused path must really run here (no skip).
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import fused
from glassnet.errors import GlassnetTypeError
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from glassnet.optimizers import fused as update_kernels
from glassnet.optimizers.schedules import ExponentialDecay
from glassnet.utils import clear_session

RULES = {
    "sgd": lambda: SGD(learning_rate=0.1),
    "sgd_momentum": lambda: SGD(learning_rate=0.1, momentum=0.9),
    "sgd_nesterov": lambda: SGD(learning_rate=0.05, momentum=0.8, nesterov=True),
    "adam": lambda: Adam(learning_rate=0.01),
    "adam_schedule": lambda: Adam(ExponentialDecay(0.01, 2, 0.5)),
    "adamw": lambda: AdamW(learning_rate=0.01, weight_decay=0.1),
    "rmsprop": lambda: RMSprop(learning_rate=0.01),
    "rmsprop_momentum": lambda: RMSprop(learning_rate=0.01, momentum=0.5),
    "adagrad": lambda: Adagrad(learning_rate=0.1),
}


def gradients(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Normal gradients with the awkward values mixed in: zeros, huge, tiny, subnormal."""
    g = rng.normal(size=shape).astype(dtype)
    flat = g.reshape(-1)
    specials = np.array([0.0, 0.0, 1e30, -1e-30, 1e-40, -3.5], dtype)
    flat[: min(flat.size, specials.size)] = specials[: flat.size]
    return g


def run_steps(make, fused_updates: bool, shapes, dtype, steps: int = 4):
    """Weights and optimizer state after ``steps`` apply() calls from a fixed start."""
    fused.use_fused_kernels(fused_updates)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=shape).astype(dtype) for shape in shapes]
    optimizer = make()
    for _ in range(steps):
        triples = [
            (f"w{i}", w, gradients(rng, w.shape, dtype)) for i, w in enumerate(weights)
        ]
        with np.errstate(all="ignore"):  # 1e30 squared overflows float32, as it should
            optimizer.apply(triples)
    return weights, optimizer.state


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule", sorted(RULES))
def test_fused_step_equals_the_numpy_step_bit_for_bit(rule, dtype, fused_on) -> None:
    shapes = [(7,), (3, 5), (40_001,)]
    fused_weights, fused_state = run_steps(RULES[rule], True, shapes, dtype)
    numpy_weights, numpy_state = run_steps(RULES[rule], False, shapes, dtype)
    for a, b in zip(fused_weights, numpy_weights, strict=True):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b, strict=True)
    assert fused_state.keys() == numpy_state.keys()
    for name, slots in fused_state.items():
        assert slots.keys() == numpy_state[name].keys()
        for slot, value in slots.items():
            np.testing.assert_array_equal(value, numpy_state[name][slot], strict=True)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_steps_on_the_same_arrays_equal_numpy_bit_for_bit(rule, fused_on) -> None:
    # As in fit: the same weight and gradient arrays at every step, so every step
    # after the first finds them checked already (run_fused's memo) and only casts
    # the scalars again when they changed (a schedule's learning rate).
    def train(fused_updates: bool):
        fused.use_fused_kernels(fused_updates)
        rng = np.random.default_rng(0)
        w, g = rng.normal(size=1_001).astype(np.float32), np.empty(1_001, np.float32)
        optimizer = RULES[rule]()
        for _ in range(6):
            g[...] = gradients(rng, g.shape, np.float32)
            with np.errstate(all="ignore"):
                optimizer.apply([("w", w, g)])
        return w, optimizer.state["w"]

    (fused_w, fused_state), (numpy_w, numpy_state) = train(True), train(False)
    np.testing.assert_array_equal(fused_w, numpy_w, strict=True)
    for slot, value in fused_state.items():
        np.testing.assert_array_equal(value, numpy_state[slot], strict=True)


def test_the_memo_of_checked_arrays_keeps_nothing_alive(fused_on) -> None:
    import gc
    import weakref

    w, g, v = np.ones(5), np.ones(5), np.zeros(5)
    assert update_kernels.run_fused("sgd_momentum", [w, g, v], [0.5, 0.9])
    watched = weakref.ref(w)
    del w, g, v
    gc.collect()
    assert watched() is None
    # and new arrays are checked again: these do not suit the kernel
    w32, g64, v64 = np.ones(5, np.float32), np.ones(5), np.zeros(5)
    assert not update_kernels.run_fused("sgd_momentum", [w32, g64, v64], [0.5, 0.9])


def test_a_checked_array_that_shrank_in_place_is_refused_not_overrun(fused_on) -> None:
    # run_fused trusts arrays it checked before; an array whose dtype was set in
    # place (four float32 read as float64 are two) must not
    # send the loop past its end: the kernel's own size check stops it.
    w, g, v = np.ones(4, np.float32), np.ones(4, np.float32), np.zeros(4, np.float32)
    assert update_kernels.run_fused("sgd_momentum", [w, g, v], [0.5, 0.9])
    v.dtype = np.float64  # now 2 elements
    with pytest.raises(ValueError, match="differ in size"):
        update_kernels.run_fused("sgd_momentum", [w, g, v], [0.5, 0.9])


@pytest.mark.parametrize("rule", ["sgd_momentum", "adam", "rmsprop", "adagrad"])
def test_the_kernel_really_runs_and_moves_the_weights(
    rule, fused_on, monkeypatch
) -> None:
    # The equality above would also hold if the kernels never ran: check they do,
    # and that the step they make is not nothing.
    optimizer = RULES[rule]()
    w = np.ones((4, 3), np.float32)
    calls = []
    real = update_kernels.run_fused

    def spy(name, arrays, scalars):
        ran = real(name, arrays, scalars)
        calls.append((name, ran))
        return ran

    optimizer_module = __import__(type(optimizer).__module__, fromlist=["run_fused"])
    monkeypatch.setattr(optimizer_module, "run_fused", spy)
    optimizer.apply([("w", w, np.full((4, 3), 0.5, np.float32))])
    assert calls and all(ran for _, ran in calls)
    assert (w < 1.0).all()


def test_a_model_trains_the_same_with_and_without_fused_updates(fused_on) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = np.stack([x[:, :2].sum(axis=1), x[:, 2] * x[:, 3]], axis=1)

    def train(fused_updates: bool) -> list[np.ndarray]:
        fused.use_fused_kernels(fused_updates)
        clear_session()
        model = Sequential(
            [Dense(16, activation="relu", input_dim=6), Dense(2)], seed=3
        )
        model.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False)
        return model.get_weights()

    for a, b in zip(train(True), train(False), strict=True):
        np.testing.assert_array_equal(a, b, strict=True)


def test_arrays_the_kernels_do_not_handle_fall_back_to_numpy(fused_on) -> None:
    w64, g64, v64 = np.ones(6), np.ones(6), np.zeros(6)
    w32 = np.ones(6, np.float32)
    assert update_kernels.run_fused("sgd_momentum", [w64, g64, v64], [0.5, 0.9])
    assert not update_kernels.run_fused("sgd_momentum", [w32, g64, v64], [0.5, 0.9])
    w16 = np.ones(6, np.float16)
    assert not update_kernels.run_fused(
        "sgd_momentum", [w16, w16.copy(), w16.copy()], [0.5, 0.9]
    )
    strided = np.ones((6, 2))[:, 0]  # one axis, strided: updated where it lies
    assert update_kernels.run_fused("sgd_momentum", [strided, g64, v64 * 0], [0.5, 0.9])
    np.testing.assert_array_equal(strided, np.full(6, 0.5))
    tensor = np.ones((6, 4))[:, ::2]  # two axes, strided: not flattened, NumPy's
    assert not update_kernels.run_fused(
        "sgd_momentum", [tensor, np.ones((6, 2)), np.zeros((6, 2))], [0.5, 0.9]
    )
    assert not update_kernels.run_fused(
        "sgd_momentum", [w64, np.ones(5), v64], [0.5, 0.9]
    )
    # A rule still steps correctly on such arrays, through NumPy:
    optimizer = SGD(learning_rate=0.5, momentum=0.9)
    optimizer.apply([("w", tensor, np.ones((6, 2)))])
    np.testing.assert_array_equal(tensor, np.full((6, 2), 0.5))


def test_turned_off_the_kernels_do_not_run(fused_on) -> None:
    assert fused.use_fused_kernels(False) is False
    w, g, v = np.ones(3), np.ones(3), np.zeros(3)
    assert not update_kernels.run_fused("sgd_momentum", [w, g, v], [0.5, 0.9])
    np.testing.assert_array_equal(w, np.ones(3))


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_use_fused_kernels_names_a_bad_argument(value) -> None:
    with pytest.raises(GlassnetTypeError, match=r"`enabled` must be True, False"):
        fused.use_fused_kernels(value)


def test_without_numba_every_step_runs_its_numpy_code(monkeypatch) -> None:
    # As on a machine without the fast extra: the import found nothing.
    monkeypatch.setattr(fused, "_numba", False)
    monkeypatch.setattr(fused, "_compiled", {})
    monkeypatch.setattr(fused, "_enabled", True)
    assert fused.use_fused_kernels() is False
    assert fused.use_fused_kernels(True) is False
    w, g, v = np.ones(3), np.ones(3), np.zeros(3)
    assert not update_kernels.run_fused("sgd_momentum", [w, g, v], [0.5, 0.9])
    optimizer = SGD(learning_rate=0.5, momentum=0.9)
    optimizer.apply([("w", w, g)])
    np.testing.assert_array_equal(w, np.full(3, 0.5))
