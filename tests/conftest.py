"""Shared fixtures for the glassnet tests."""

from __future__ import annotations

import numpy as np
import pytest

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)


@pytest.fixture
def xor() -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table of seeds/002."""
    return XOR_X.copy(), XOR_Y.copy()


@pytest.fixture
def fused_on():
    """glassnet's Numba-compiled loops on, restored afterwards (glassnet/fused.py).

    Numba is in the ``test`` extra: a machine without it fails here, not skips."""
    from glassnet import fused

    was = fused.use_fused_kernels()
    assert fused.use_fused_kernels(True), "Numba is in the test extra: install it"
    yield
    fused.use_fused_kernels(was)
