"""What the dataset generators share: the seed, the shuffle, the noise, the split."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_seed

__all__ = ["Dataset", "generator", "noisy", "shuffled", "split_counts"]

Dataset = tuple[Array, Array]


def generator(seed: Any) -> np.random.Generator:
    """The Generator for ``seed``: a Generator as is, else ``default_rng(seed)``."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed))


def shuffled(x: Array, y: Array, rng: np.random.Generator) -> Dataset:
    """The rows of ``(x, y)`` in a random order, ``y`` as int64."""
    order = rng.permutation(len(x))
    return x[order], y[order].astype(np.int64)


def noisy(x: Array, noise: float, rng: np.random.Generator) -> Array:
    """``x`` plus Gaussian noise of standard deviation ``noise``."""
    return x + noise * rng.standard_normal(x.shape)


def split_counts(n_samples: int, parts: int) -> list[int]:
    """``n_samples`` split into ``parts`` counts that differ by at most one."""
    return [n_samples // parts + (i < n_samples % parts) for i in range(parts)]
