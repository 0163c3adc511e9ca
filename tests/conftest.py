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
