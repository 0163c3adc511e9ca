"""Generated toy shapes in the plane: moons, circles, spirals, Gaussian blobs.

Every random number comes from ``numpy.random.default_rng(seed)`` (or the
``Generator`` passed as ``seed``); rows are shuffled, because Keras'
``validation_split`` holds out the *last* rows and must see every class.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import (
    as_float_array,
    check_in_range,
    check_nonnegative_float,
    check_positive_int,
)
from glassnet.datasets._common import Dataset
from glassnet.datasets._common import generator as _generator
from glassnet.datasets._common import noisy as _noisy
from glassnet.datasets._common import shuffled as _shuffled
from glassnet.datasets._common import split_counts as _split
from glassnet.errors import GlassnetTypeError, ShapeError

__all__ = ["blobs", "circles", "spirals", "two_moons"]


def two_moons(n_samples: int = 100, noise: float = 0.1, seed: Any = None) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``), labels 0 and 1.

    The upper moon (label 0) is the unit half circle over ``[-1, 1]``; the lower
    one (label 1) is the same arc flipped and shifted by ``(1, 0.5)``. Each point
    then gets Gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the moons.
    noise : float >= 0
        Standard deviation of the noise added to every coordinate.
    seed : int, numpy.random.Generator or None
        Seeds the generator; None draws fresh entropy.

    >>> x, y = two_moons(5, noise=0.0, seed=0)
    >>> np.bincount(y)
    array([2, 3])
    >>> bool(np.all(x[y == 0, 1] >= 0))  # the upper moon, before noise
    True
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    rng = _generator(seed)
    n_upper, n_lower = _split(n_samples, 2)[::-1]
    upper = np.linspace(0.0, np.pi, n_upper)
    lower = np.linspace(0.0, np.pi, n_lower)
    x = np.concatenate(
        [
            np.column_stack([np.cos(upper), np.sin(upper)]),
            np.column_stack([1.0 - np.cos(lower), 0.5 - np.sin(lower)]),
        ]
    )
    y = np.repeat([0, 1], [n_upper, n_lower])
    return _shuffled(_noisy(x, noise, rng), y, rng)


def circles(
    n_samples: int = 100, noise: float = 0.1, factor: float = 0.5, seed: Any = None
) -> Dataset:
    """A circle (label 0) around a smaller one (label 1), as ``make_circles``.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the circles.
    noise : float >= 0
        Standard deviation of the Gaussian noise added to every coordinate.
    factor : float in [0, 1)
        Radius of the inner circle; the outer circle has radius 1.
    seed : int, numpy.random.Generator or None
        Seeds the generator; None draws fresh entropy.

    >>> x, y = circles(100, noise=0.0, factor=0.3, seed=0)
    >>> radius = np.hypot(x[:, 0], x[:, 1])
    >>> radius[y == 0].round(6).max(), radius[y == 1].round(6).max()
    (np.float64(1.0), np.float64(0.3))
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    factor = check_in_range(factor, "factor", 0.0, 1.0)
    rng = _generator(seed)
    n_outer, n_inner = _split(n_samples, 2)[::-1]
    outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    inner = np.linspace(0.0, 2 * np.pi, n_inner, endpoint=False)
    x = np.concatenate(
        [
            np.column_stack([np.cos(outer), np.sin(outer)]),
            factor * np.column_stack([np.cos(inner), np.sin(inner)]),
        ]
    )
    y = np.repeat([0, 1], [n_outer, n_inner])
    return _shuffled(_noisy(x, noise, rng), y, rng)


def spirals(
    n_samples: int = 100, noise: float = 0.1, n_classes: int = 2, seed: Any = None
) -> Dataset:
    """Interleaved spiral arms, one per class (TensorFlow Playground's spiral).

    Arm ``k`` of ``K`` has points at radius ``r`` in ``(0, 1]`` and angle
    ``1.75 * 2 pi * r + 2 pi k / K``: one and three quarter turns, the arms evenly
    rotated. Gaussian noise of standard deviation ``noise`` is then added.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the arms.
    noise : float >= 0
        Standard deviation of the noise added to every coordinate.
    n_classes : int
        Number of arms (classes).
    seed : int, numpy.random.Generator or None
        Seeds the generator; None draws fresh entropy.

    >>> x, y = spirals(300, noise=0.05, n_classes=3, seed=1)
    >>> x.shape, np.bincount(y)
    ((300, 2), array([100, 100, 100]))
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    noise = check_nonnegative_float(noise, "noise")
    n_classes = check_positive_int(n_classes, "n_classes")
    rng = _generator(seed)
    counts = _split(n_samples, n_classes)
    arms = []
    for k, count in enumerate(counts):
        r = np.arange(1, count + 1) / max(count, 1)
        angle = 1.75 * 2 * np.pi * r + 2 * np.pi * k / n_classes
        arms.append(np.column_stack([r * np.cos(angle), r * np.sin(angle)]))
    x = np.concatenate(arms)
    y = np.repeat(np.arange(n_classes), counts)
    return _shuffled(_noisy(x, noise, rng), y, rng)


def blobs(
    n_samples: int = 100,
    centers: Any = 3,
    cluster_std: Any = 1.0,
    n_features: int = 2,
    seed: Any = None,
) -> Dataset:
    """Gaussian clusters, one class per center (scikit-learn's ``make_blobs``).

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the centers.
    centers : int or array-like of shape (n_centers, n_features)
        How many centers to draw uniformly in ``[-10, 10)`` per coordinate, or the
        centers themselves (then their number of columns sets ``n_features``).
    cluster_std : float >= 0 or sequence of them
        Standard deviation of each cluster (one value for all, or one per center).
    n_features : int
        Dimension of the points when ``centers`` is a number.
    seed : int, numpy.random.Generator or None
        Seeds the generator; None draws fresh entropy.

    >>> x, y = blobs(7, centers=[[0, 0], [10, 10]], cluster_std=0.0, seed=0)
    >>> np.bincount(y), bool(np.all(x[y == 1] == 10))
    (array([4, 3]), True)
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    rng = _generator(seed)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        n_centers = check_positive_int(centers, "centers")
        n_features = check_positive_int(n_features, "n_features")
        points = rng.uniform(-10.0, 10.0, size=(n_centers, n_features))
    else:
        points = _as_centers(centers)
        n_centers = len(points)
    spread = _as_stds(cluster_std, n_centers)
    y = np.repeat(np.arange(n_centers), _split(n_samples, n_centers))
    x = points[y] + spread[y, None] * rng.standard_normal((n_samples, points.shape[1]))
    return _shuffled(x, y, rng)


def _as_centers(centers: Any) -> Array:
    points = as_float_array(centers, "centers", np.float64, min_ndim=2)
    if points.ndim != 2:
        raise ShapeError(
            "Argument `centers` must be a number of centers or an array of shape "
            f"(n_centers, n_features). Received: centers.shape={points.shape}"
        )
    return points


def _as_stds(cluster_std: Any, n_centers: int) -> Array:
    if isinstance(cluster_std, numbers.Real):
        return np.full(n_centers, check_nonnegative_float(cluster_std, "cluster_std"))
    if isinstance(cluster_std, (str, bytes)) or not hasattr(cluster_std, "__len__"):
        raise GlassnetTypeError(
            "Argument `cluster_std` must be a number >= 0 or one per center. "
            f"Received: cluster_std={cluster_std!r}"
        )
    if len(cluster_std) != n_centers:
        raise ShapeError(
            f"Argument `cluster_std` needs one value per center ({n_centers}). "
            f"Received: {len(cluster_std)} values"
        )
    return np.array([check_nonnegative_float(s, "cluster_std") for s in cluster_std])
