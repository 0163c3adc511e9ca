"""Small datasets to learn on: the seed tutorials' tables, toy shapes, classic sets.

Every function returns ``(x, y)``: ``x`` float64 shaped ``(n_samples, n_features)``
and ``y`` int64 class labels shaped ``(n_samples,)`` (glassnet's losses take labels
shaped ``(n,)`` for a single output unit, and ``sparse_categorical_crossentropy``
takes them as they are).

- :func:`xor`, :func:`people`, :func:`people_second_table`: the fixed tables of the
  seed tutorials.
- :func:`two_moons`, :func:`circles`, :func:`spirals`, :func:`blobs`: generated, any
  size, with Gaussian ``noise``. Every random number comes from
  ``numpy.random.default_rng(seed)`` (or the ``Generator`` you pass), so the same
  seed gives the same data. Rows are shuffled, because Keras' ``validation_split``
  holds out the *last* rows and must see every class.
- :func:`iris`, :func:`digits`, :func:`breast_cancer`: scikit-learn's bundled sets,
  when scikit-learn is installed (``pip install glassnet[sklearn]``).

>>> from glassnet.datasets import two_moons
>>> x, y = two_moons(200, noise=0.1, seed=0)
>>> x.shape, x.dtype, y.shape, y.dtype
((200, 2), dtype('float64'), (200,), dtype('int64'))
>>> np.bincount(y)
array([100, 100])
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import (
    as_float_array,
    check_bool,
    check_in_range,
    check_nonnegative_float,
    check_positive_int,
    check_seed,
)
from glassnet.errors import GlassnetTypeError, ShapeError

__all__ = [
    "blobs",
    "breast_cancer",
    "circles",
    "digits",
    "iris",
    "people",
    "people_second_table",
    "spirals",
    "two_moons",
    "xor",
]

Dataset = tuple[Array, Array]

# seeds/000: (weight - 135 lb, height - 66 in) -> 1 if female.
_PEOPLE = (
    ("Alice", (-2, -1), 1),  # 133 lb, 65 in
    ("Bob", (25, 6), 0),  # 160 lb, 72 in
    ("Charlie", (17, 4), 0),  # 152 lb, 70 in
    ("Diana", (-15, -6), 1),  # 120 lb, 60 in
)
# seeds/001: the same shifts, four other people.
_PEOPLE_SECOND = (
    ("youge", (-2, 5), 1),  # 133 lb, 71 in
    ("share", (-5, -2), 1),  # 130 lb, 64 in
    ("naive", (-23, -11), 0),  # 112 lb, 55 in
    ("beyes", (30, 8), 0),  # 165 lb, 74 in
)


def _table(rows: tuple[tuple[str, tuple[int, int], int], ...], names: Any) -> Any:
    x = np.array([features for _, features, _ in rows], dtype=np.float64)
    y = np.array([label for _, _, label in rows], dtype=np.int64)
    if check_bool(names, "return_names"):
        return x, y, [name for name, _, _ in rows]
    return x, y


def xor() -> Dataset:
    """The XOR truth table of seeds/002: the label is 1 when exactly one input is 1.

    >>> x, y = xor()
    >>> x
    array([[0., 0.],
           [0., 1.],
           [1., 0.],
           [1., 1.]])
    >>> y
    array([0, 1, 1, 0])
    """
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return x, np.array([0, 1, 1, 0], dtype=np.int64)


def people(return_names: bool = False) -> Any:
    """The four people of seeds/000; the label is 1 for female, 0 for male.

    The features are shifted to be near zero, as the tutorial does:
    ``weight - 135`` (pounds) and ``height - 66`` (inches).

    ========  ===========  ===========  ===========  =====
    name      weight (lb)  height (in)  x            y
    ========  ===========  ===========  ===========  =====
    Alice     133          65           [-2, -1]     1
    Bob       160          72           [25, 6]      0
    Charlie   152          70           [17, 4]      0
    Diana     120          60           [-15, -6]    1
    ========  ===========  ===========  ===========  =====

    The tutorial then asks about Emily ``[-7, -3]`` (128 lb, 63 in; female) and
    Frank ``[20, 2]`` (155 lb, 68 in; male). ``return_names=True`` also returns the
    names, as ``(x, y, names)``.

    >>> x, y, names = people(return_names=True)
    >>> x[0], y[0], names[0]
    (array([-2., -1.]), np.int64(1), 'Alice')
    """
    return _table(_PEOPLE, return_names)


def people_second_table(return_names: bool = False) -> Any:
    """The second four-person table of seeds/001 (same shifts as :func:`people`).

    ========  ===========  ===========  ===========  =====
    name      weight (lb)  height (in)  x            y
    ========  ===========  ===========  ===========  =====
    youge     133          71           [-2, 5]      1
    share     130          64           [-5, -2]     1
    naive     112          55           [-23, -11]   0
    beyes     165          74           [30, 8]      0
    ========  ===========  ===========  ===========  =====

    >>> x, y = people_second_table()
    >>> x.tolist(), y.tolist()
    ([[-2.0, 5.0], [-5.0, -2.0], [-23.0, -11.0], [30.0, 8.0]], [1, 1, 0, 0])
    """
    return _table(_PEOPLE_SECOND, return_names)


def _generator(seed: Any) -> np.random.Generator:
    """The Generator for ``seed``: a Generator as is, else ``default_rng(seed)``."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed))


def _shuffled(x: Array, y: Array, rng: np.random.Generator) -> Dataset:
    """The rows of ``(x, y)`` in a random order, ``y`` as int64."""
    order = rng.permutation(len(x))
    return x[order], y[order].astype(np.int64)


def _noisy(x: Array, noise: float, rng: np.random.Generator) -> Array:
    """``x`` plus Gaussian noise of standard deviation ``noise``."""
    return x + noise * rng.standard_normal(x.shape)


def _split(n_samples: int, parts: int) -> list[int]:
    """``n_samples`` split into ``parts`` counts that differ by at most one."""
    return [n_samples // parts + (i < n_samples % parts) for i in range(parts)]


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


def _sklearn_loader(name: str) -> Callable[..., Any]:
    try:
        from sklearn import datasets
    except ImportError:
        raise ModuleNotFoundError(
            f"glassnet.datasets.{name}() loads scikit-learn's bundled copy, and "
            "scikit-learn is not installed. Install it with: "
            "pip install glassnet[sklearn]"
        ) from None
    loader: Callable[..., Any] = getattr(datasets, f"load_{name}")
    return loader


def _bundled(name: str) -> Dataset:
    x, y = _sklearn_loader(name)(return_X_y=True)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)


def iris() -> Dataset:
    """Fisher's iris flowers: 150 x 4 measurements in cm, 3 species (labels 0-2).

    Needs scikit-learn (``pip install glassnet[sklearn]``), whose bundled copy it
    returns. Standardize the features before training.

    >>> x, y = iris()
    >>> x.shape, np.bincount(y)
    ((150, 4), array([50, 50, 50]))
    """
    return _bundled("iris")


def digits(*, images: bool = False) -> Dataset:
    """Handwritten digits: 1797 images of 8 x 8 pixels, flattened to 64 features.

    Pixel values run from 0 to 16 (divide by 16 before training); labels 0-9.
    With ``images=True`` the pixels keep their grid, shaped (1797, 8, 8, 1):
    height, width and one channel, the layout ``Conv2D`` takes (channels last, as in
    Keras). Needs scikit-learn (``pip install glassnet[sklearn]``).

    >>> x, y = digits()
    >>> x.shape, x.max(), len(np.unique(y))
    ((1797, 64), np.float64(16.0), 10)
    >>> images, _ = digits(images=True)
    >>> images.shape, bool((images[5, :, :, 0].ravel() == x[5]).all())
    ((1797, 8, 8, 1), True)
    """
    images = check_bool(images, "images")
    x, y = _bundled("digits")
    return (x.reshape(-1, 8, 8, 1), y) if images else (x, y)


def breast_cancer() -> Dataset:
    """Wisconsin breast-cancer diagnoses: 569 x 30 features, 1 = benign, 0 = malignant.

    The features have very different scales: standardize them before training.
    Needs scikit-learn (``pip install glassnet[sklearn]``).

    >>> x, y = breast_cancer()
    >>> x.shape, np.bincount(y)
    ((569, 30), array([212, 357]))
    """
    return _bundled("breast_cancer")
