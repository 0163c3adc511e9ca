"""The session's random generator: what layers built outside a model draw from.

A layer called on an array or a symbolic tensor (the functional API) is built at
once, before any model exists, so its initial weights come from this generator.
:func:`glassnet.utils.set_random_seed` seeds it (as ``keras.utils.set_random_seed``
does), making a functional model's initial weights reproducible. Models built from
a list of layers (``Sequential``) draw from their own seeded generator instead.

>>> set_random_seed(0)
>>> first = generator().random()
>>> set_random_seed(0)
>>> generator().random() == first
True
"""

from __future__ import annotations

import numpy as np

from glassnet._validation import check_seed

__all__ = ["generator", "set_random_seed"]

_generator = np.random.default_rng()


def generator() -> np.random.Generator:
    """The generator layers built outside a model draw their weights from."""
    return _generator


def set_random_seed(seed: int) -> None:
    """Seed the session generator (``None`` is refused: give a non-negative integer)."""
    global _generator
    value = check_seed(seed)
    if value is None:
        from glassnet.errors import GlassnetTypeError

        raise GlassnetTypeError(
            "Argument `seed` must be a non-negative integer. Received: seed=None"
        )
    _generator = np.random.default_rng(value)
