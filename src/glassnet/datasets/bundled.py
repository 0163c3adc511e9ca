"""scikit-learn's bundled sets: iris, the handwritten digits, breast cancer.

They need scikit-learn (``pip install glassnet[sklearn]``), imported only when one
is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet._validation import check_bool
from glassnet.datasets._common import Dataset
from glassnet.errors import InvalidArgumentError

__all__ = ["breast_cancer", "digits", "iris"]


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


def digits(*, images: bool = False, sequences: bool = False) -> Dataset:
    """Handwritten digits: 1797 images of 8 x 8 pixels, flattened to 64 features.

    Pixel values run from 0 to 16 (divide by 16 before training); labels 0-9.
    With ``images=True`` the pixels keep their grid, shaped (1797, 8, 8, 1):
    height, width and one channel, the layout ``Conv2D`` takes (channels last, as in
    Keras). With ``sequences=True`` each image is read row by row, top to bottom:
    (1797, 8, 8), 8 time steps of 8 features (the pixels of one row), the layout
    the recurrent layers take, ``(batch, time, features)``. Needs scikit-learn
    (``pip install glassnet[sklearn]``).

    >>> x, y = digits()
    >>> x.shape, x.max(), len(np.unique(y))
    ((1797, 64), np.float64(16.0), 10)
    >>> images, _ = digits(images=True)
    >>> images.shape, bool((images[5, :, :, 0].ravel() == x[5]).all())
    ((1797, 8, 8, 1), True)
    >>> rows, _ = digits(sequences=True)
    >>> rows.shape, bool((rows[5, 2] == x[5, 16:24]).all())   # step 2 = pixel row 2
    ((1797, 8, 8), True)
    """
    images = check_bool(images, "images")
    sequences = check_bool(sequences, "sequences")
    if images and sequences:
        raise InvalidArgumentError(
            "digits() gives images (1797, 8, 8, 1) or row sequences (1797, 8, 8), "
            "not both. Received: images=True, sequences=True"
        )
    x, y = _bundled("digits")
    if images:
        return x.reshape(-1, 8, 8, 1), y
    if sequences:
        return x.reshape(-1, 8, 8), y
    return x, y


def breast_cancer() -> Dataset:
    """Wisconsin breast-cancer diagnoses: 569 x 30 features, 1 = benign, 0 = malignant.

    The features have very different scales: standardize them before training.
    Needs scikit-learn (``pip install glassnet[sklearn]``).

    >>> x, y = breast_cancer()
    >>> x.shape, np.bincount(y)
    ((569, 30), array([212, 357]))
    """
    return _bundled("breast_cancer")
