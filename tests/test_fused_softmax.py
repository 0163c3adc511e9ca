"""Softmax's compiled row maximum and division (activations/softmax_fused.py) equal
NumPy's, bit for bit.

The NumPy softmax (``exp(x - max)``, divided by its row sums) is the reference;
each test runs it with fused kernels on and off and compares the bytes. Numba is
in the ``test`` extra: the fused path must really run here.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from test_fused_dense import awkward, same_bits

from glassnet import fused
from glassnet.activations import Softmax, softmax_fused
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import Adam
from glassnet.utils import clear_session


def softmax(fused_kernels: bool, x: np.ndarray, axis: int = -1) -> np.ndarray:
    fused.use_fused_kernels(fused_kernels)
    with np.errstate(all="ignore"):  # inf - inf and NaN are part of the test
        return Softmax(axis=axis).forward(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 10), (1, 1), (3, 1), (7, 300), (2, 3, 5)])
def test_fused_softmax_equals_numpy_bit_for_bit(shape, dtype, fused_on) -> None:
    rng = np.random.default_rng(sum(shape))
    x = awkward(rng, shape, dtype) * 30  # large logits: exp underflows to 0 too
    x.reshape(-1, shape[-1])[0] = -np.inf  # a row of -inf only: NaN, as NumPy gives
    assert same_bits(softmax(True, x), softmax(False, x))


def test_the_kernels_really_run(fused_on, monkeypatch) -> None:
    calls = []
    for name in ("shift_by_row_max", "divide_rows"):
        real = getattr(softmax_fused, name)

        def spy(*args, real=real, name=name):
            out = real(*args)
            calls.append((name, out is not None and out is not False))
            return out

        # (glassnet.activations.softmax is also the function's name: the module)
        monkeypatch.setattr(sys.modules["glassnet.activations.softmax"], name, spy)
    y = Softmax().forward(np.array([[1.0, 2.0], [0.0, 0.0]], np.float32))
    assert calls == [("shift_by_row_max", True), ("divide_rows", True)]
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-6)


def test_other_axes_and_arrays_fall_back_to_numpy(fused_on) -> None:
    x = np.random.default_rng(0).normal(size=(4, 6, 3))
    for axis in (0, 1):  # not the last axis: NumPy along it
        expected = np.exp(x - x.max(axis=axis, keepdims=True))
        expected /= expected.sum(axis=axis, keepdims=True)
        assert same_bits(softmax(True, x, axis), expected)
    fused.use_fused_kernels(True)
    assert softmax_fused.shift_by_row_max(x[:, ::2]) is None  # strided
    assert softmax_fused.shift_by_row_max(np.ones(3)) is None  # one axis
    assert softmax_fused.shift_by_row_max(np.ones((2, 3), np.float16)) is None
    assert softmax_fused.shift_by_row_max(np.ones((2, 0))) is None  # empty rows
    e = np.ones((2, 3))
    assert not softmax_fused.divide_rows(e, np.ones((2, 1), np.float32))  # dtypes
    assert not softmax_fused.divide_rows(e, np.ones((1, 1)))  # broadcast sums
    assert not softmax_fused.divide_rows(np.ones((4, 3))[::2], np.ones((2, 1)))
    assert (e == 1.0).all()  # untouched when it does not run
    fused.use_fused_kernels(False)
    assert softmax_fused.shift_by_row_max(np.ones((2, 3))) is None
    # integer logits: NumPy's answer, in float64
    assert same_bits(
        softmax(True, np.array([[1, 2]])), softmax(False, np.array([[1, 2]]))
    )


def test_a_softmax_classifier_trains_the_same_with_and_without_kernels(
    fused_on,
) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(80, 5)).astype(np.float32)
    y = np.argmax(x[:, :3], axis=1)

    def train(fused_kernels: bool) -> list[np.ndarray]:
        fused.use_fused_kernels(fused_kernels)
        clear_session()
        model = Sequential(
            [Dense(12, activation="tanh", input_dim=5), Dense(3, activation="softmax")],
            seed=1,
        )
        model.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        return [*model.get_weights(), model.predict(x, verbose=0)]

    for a, b in zip(train(True), train(False), strict=True):
        assert same_bits(a, b)
