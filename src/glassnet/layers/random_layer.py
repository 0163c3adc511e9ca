"""``RandomLayer``: what a layer that draws random numbers while training needs.

Dropout's masks and GaussianNoise's noise come from the generator the model hands
to ``build`` (so a model's seed fixes them), or from ``numpy.random.default_rng(seed)``
when the layer is given its own ``seed``.

>>> import numpy as np
>>> from glassnet.layers import Dropout
>>> layer = Dropout(0.5, seed=3)
>>> layer.build((2,), np.random.default_rng(0))
>>> layer.generator().random() == np.random.default_rng(3).random()
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Shape
from glassnet._validation import check_seed
from glassnet.errors import NotBuiltError
from glassnet.layers.base import Layer

__all__ = ["RandomLayer"]


class RandomLayer(Layer):
    """A layer with a ``seed`` argument and the generator it draws from once built."""

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self._rng: np.random.Generator | None = None

    def build(
        self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Keep the generator to draw from: the model's, or the layer's own seed's."""
        self._rng = rng if self.seed is None else np.random.default_rng(self.seed)
        super().build(input_shape, rng, dtype)

    def generator(self) -> np.random.Generator:
        """The generator, or a NotBuiltError for a layer that was never built."""
        if self._rng is None:
            raise NotBuiltError(
                f"{type(self).__name__} layer '{self.name}' must be built before "
                "forward(training=True): build(input_shape, rng) hands it its generator."
            )
        return self._rng
