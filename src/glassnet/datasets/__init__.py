"""Small datasets to learn on: the seed tutorials' tables, toy shapes, classic sets,
sequences and text.

The tabular sets return ``(x, y)``: ``x`` float64 shaped ``(n_samples,
n_features)`` and ``y`` int64 class labels shaped ``(n_samples,)`` (glassnet's
losses take labels shaped ``(n,)`` for a single output unit, and
``sparse_categorical_crossentropy`` takes them as they are). Sequences are
``(n_samples, steps, n_features)``, the layout the recurrent layers take.

- :func:`xor`, :func:`people`, :func:`people_second_table`: the fixed tables of the
  seed tutorials (``datasets/tables.py``).
- :func:`two_moons`, :func:`circles`, :func:`spirals`, :func:`blobs`: generated, any
  size, with Gaussian ``noise`` (``shapes.py``). Every random number comes from
  ``numpy.random.default_rng(seed)`` (or the ``Generator`` you pass), so the same
  seed gives the same data. Rows are shuffled, because Keras' ``validation_split``
  holds out the *last* rows and must see every class.
- :func:`iris`, :func:`digits`, :func:`breast_cancer`: scikit-learn's bundled sets,
  when scikit-learn is installed (``pip install glassnet[sklearn]``);
  ``digits(sequences=True)`` reads each image row by row, 8 steps of 8 pixels
  (``bundled.py``).
- :func:`sine_classification`, :func:`sine_forecasting`: generated, seeded sine
  wave sequences to classify by frequency or to continue (``sequences.py``).
- :func:`pydoc_text`, :class:`Vocabulary`, :func:`text_windows`,
  :func:`pydoc_characters`: character-level text from CPython's own
  ``pydoc_data.topics``, ids and training windows, no download (``text.py``).

>>> import numpy as np
>>> from glassnet.datasets import two_moons
>>> x, y = two_moons(200, noise=0.1, seed=0)
>>> x.shape, x.dtype, y.shape, y.dtype
((200, 2), dtype('float64'), (200,), dtype('int64'))
>>> np.bincount(y)
array([100, 100])
"""

from __future__ import annotations

from glassnet.datasets.bundled import breast_cancer, digits, iris
from glassnet.datasets.sequences import sine_classification, sine_forecasting
from glassnet.datasets.shapes import blobs, circles, spirals, two_moons
from glassnet.datasets.tables import people, people_second_table, xor
from glassnet.datasets.text import (
    Vocabulary,
    pydoc_characters,
    pydoc_text,
    text_windows,
)

__all__ = [
    "Vocabulary",
    "blobs",
    "breast_cancer",
    "circles",
    "digits",
    "iris",
    "people",
    "people_second_table",
    "pydoc_characters",
    "pydoc_text",
    "sine_classification",
    "sine_forecasting",
    "spirals",
    "text_windows",
    "two_moons",
    "xor",
]
