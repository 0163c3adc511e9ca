"""A model larger than one block is updated block by block: the same step, exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import fused, optimizers
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop, base
from glassnet.utils import clear_session

OPTIMIZERS = [
    lambda: SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    lambda: Adagrad(learning_rate=0.1),
    lambda: RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
    lambda: Adam(learning_rate=0.01, amsgrad=True),
    lambda: AdamW(learning_rate=0.01, weight_decay=0.1),
]


def big_model() -> Sequential:
    # 300 * 500 + 500 + 500 * 2 + 2 = 151,502 weights: three blocks, the last partial
    clear_session()  # both copies get the same names: optimizer state is by name
    return Sequential([Dense(500, input_dim=300), Dense(2)], seed=0, dtype="float64")


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_blocked_flat_step_equals_the_per_tensor_step(make, monkeypatch) -> None:
    # apply_flat reads the constants from glassnet.optimizers.base, so patch them there
    monkeypatch.setattr(base, "_BLOCK_ABOVE", 0)  # block this smaller model too
    # Blocks are for the NumPy passes; a compiled one-pass update (optimizers/fused.py)
    # needs none and is tested in test_fused_updates.py.
    monkeypatch.setattr(fused, "_enabled", False)
    blocked, tensors = big_model(), big_model()
    size = blocked.flat.params.size
    assert size > 2 * base._BLOCK
    blocked_opt, tensor_opt = make(), make()
    # Record the size of each _update call, to see that the step really was blocked
    # (the results alone would match an unblocked step too).
    sizes: list[int] = []
    update = blocked_opt._update

    def spy(param, grad, state) -> None:
        sizes.append(param.size)
        update(param, grad, state)

    monkeypatch.setattr(blocked_opt, "_update", spy)
    rng = np.random.default_rng(0)
    for step in range(1, 4):
        grads = rng.normal(size=blocked.flat.grads.shape)
        blocked.flat.grads[...] = grads
        tensors.flat.grads[...] = grads
        blocked_opt.apply_flat(
            blocked.flat.params, blocked.flat.grads, blocked.flat.layout
        )
        tensor_opt.apply(tensors.parameter_triples())
        assert len(sizes) == step * math.ceil(size / base._BLOCK)
    assert max(sizes) == base._BLOCK and sum(sizes) == 3 * size
    np.testing.assert_allclose(blocked.flat.params, tensors.flat.params, rtol=1e-12)
    for name in tensor_opt.state:
        for slot, value in tensor_opt.state[name].items():
            np.testing.assert_allclose(blocked_opt.state[name][slot], value, rtol=1e-12)


def test_the_block_constants_are_still_importable_from_the_package() -> None:
    # benchmarks/README.md names them as glassnet.optimizers._BLOCK and _BLOCK_ABOVE
    assert (optimizers._BLOCK, optimizers._BLOCK_ABOVE) == (
        base._BLOCK,
        base._BLOCK_ABOVE,
    )


@pytest.mark.parametrize("flat", [True, False], ids=["apply_flat", "apply"])
def test_subnormal_state_is_flushed_every_few_steps(flat: bool) -> None:
    # A weight whose gradient stays 0 sees Adam's m shrink by beta_1 per step into the
    # subnormal range, where x86 arithmetic is slow; every _FLUSH_EVERY steps those
    # entries become 0 while every normal number in the state is left as it was.
    tiny = np.finfo(np.float32).tiny
    param = np.ones(4, np.float32)
    grad = np.array([0.0, 0.0, 1e-3, 0.0], np.float32)
    opt = Adam()
    layout = [("w", 0, 4, (4,))]

    def step() -> None:
        if flat:
            opt.apply_flat(param, grad, layout)
        else:
            opt.apply([("w", param, grad)])

    step()
    m = opt.state["w"]["m"]
    m[:2] = [tiny / 4, -tiny / 8]  # subnormal
    m[3] = 1e-30  # normal: kept (decayed by beta_1 only)
    for _ in range(base._FLUSH_EVERY - 2):
        step()
    m = opt.state["w"]["m"]
    assert m[0] != 0 and m[1] != 0  # not yet flushed: still subnormal
    step()  # iterations == _FLUSH_EVERY
    m = opt.state["w"]["m"]
    assert m[0] == 0 and m[1] == 0
    assert m[2] > 1e-5  # a live gradient's momentum is untouched
    assert m[3] == pytest.approx(1e-30 * 0.9 ** (base._FLUSH_EVERY - 1), rel=1e-5)
