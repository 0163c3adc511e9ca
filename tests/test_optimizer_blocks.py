"""A model larger than one block is updated block by block: the same step, exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import optimizers
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
