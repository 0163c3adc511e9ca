"""Softmax + sparse cross-entropy's compiled gradient (losses/fused.py) equals
NumPy's, bit for bit.

``SparseCategoricalCrossentropy.logits_gradient``'s NumPy code (the one-hot rows,
a subtraction, a division) is the reference; each test runs it with fused kernels
on and off and compares the bytes. Numba is in the ``test`` extra: the fused path
must really run here.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_fused_dense import awkward, same_bits

from glassnet import fused
from glassnet.losses import SparseCategoricalCrossentropy
from glassnet.losses import fused as loss_kernels


def gradient(fused_kernels: bool, labels, p) -> np.ndarray:
    fused.use_fused_kernels(fused_kernels)
    with np.errstate(all="ignore"):
        return SparseCategoricalCrossentropy().logits_gradient(labels, p, p)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 10), (1, 1), (3, 7), (300, 2), (4, 5, 3)])
def test_fused_gradient_equals_numpy_bit_for_bit(shape, dtype, fused_on) -> None:
    rng = np.random.default_rng(sum(shape))
    p = awkward(rng, shape, dtype)  # not probabilities: any number, NaN and inf too
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    for y in (labels, labels[..., None], labels.astype(np.float32)):
        assert same_bits(gradient(True, y, p), gradient(False, y, p))


def test_the_kernel_really_runs(fused_on) -> None:
    p = np.array([[0.25, 0.75], [0.5, 0.5]], np.float32)
    grad = loss_kernels.sparse_softmax_gradient(p, np.array([1, 0]))
    assert grad is not None
    assert same_bits(grad, np.array([[0.125, -0.125], [-0.25, 0.25]], np.float32))


def test_labels_and_arrays_it_does_not_take_fall_back_to_numpy(fused_on) -> None:
    p = np.full((2, 3), 1 / 3)
    kernel = loss_kernels.sparse_softmax_gradient
    assert kernel(p, np.array([0, 3])) is None  # not a column: NumPy raises
    assert kernel(p, np.array([-1, 0])) is None  # NumPy's index wraps around
    assert kernel(p, np.array([0.0, 1.0])) is None  # float labels
    assert kernel(p, np.array([0, 1, 2])) is None  # one label per row
    assert kernel(np.full((4, 3), 1 / 3)[::2], np.array([0, 1])) is None  # strided
    assert kernel(p.astype(np.float16), np.array([0, 1])) is None
    assert kernel(np.ones((0, 3)), np.zeros(0, np.int64)) is None
    with pytest.raises(IndexError):
        gradient(True, np.array([0, 3]), p)
    # a negative label: the NumPy code's answer (row -1 of the identity), either way
    assert same_bits(gradient(True, np.array([-1, 0]), p), gradient(False, [-1, 0], p))
    fused.use_fused_kernels(False)
    assert kernel(p, np.array([0, 1])) is None
