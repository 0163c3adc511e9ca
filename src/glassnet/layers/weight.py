"""``Weight``: one of a layer's weights, as Keras' ``model.weights`` lists them.

>>> import numpy as np
>>> from glassnet.layers import Dense
>>> layer = Dense(1, name="out")
>>> layer.build((2,), np.random.default_rng(0))
>>> [(w.path, w.trainable) for w in layer.weights]
[('out/kernel', True), ('out/bias', True)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array

if TYPE_CHECKING:
    from glassnet.layers.base import Layer

__all__ = ["KERAS_WEIGHT_NAMES", "Weight"]

#: Keras' name for each of glassnet's short parameter keys; other keys are Keras'.
KERAS_WEIGHT_NAMES = {"W": "kernel", "b": "bias"}


class Weight:
    """One weight of a layer, as Keras' ``model.weights`` lists it.

    A live handle: :attr:`value` is the layer's current array (which the model may
    have moved into its flat buffer), never a copy taken earlier.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> layer = Dense(1, name="out")
    >>> _ = layer(np.zeros((1, 2)))
    >>> kernel = layer.weights[0]
    >>> kernel.path, kernel.name, kernel.shape, kernel.trainable
    ('out/kernel', 'kernel', (2, 1), True)
    >>> kernel.assign([[1.0], [2.0]])
    >>> layer(np.array([[1.0, 1.0]]))
    array([[3.]], dtype=float32)
    """

    def __init__(self, layer: Layer, key: str, kind: str) -> None:
        self.layer, self.key, self.kind = layer, key, kind

    @property
    def value(self) -> Array:
        """The live array (writes to it change the layer)."""
        store = self.layer.params if self.kind == "param" else self.layer.state
        return store[self.key]

    @property
    def name(self) -> str:
        """Keras' name of the weight: ``kernel``, ``bias``, ``moving_mean``..."""
        return KERAS_WEIGHT_NAMES.get(self.key, self.key)

    @property
    def path(self) -> str:
        """Keras 3's path: ``dense_1/kernel``, or ``sequential/dense_1/kernel``."""
        return f"{self.layer.path_prefix}{self.layer.name}/{self.name}"

    @property
    def shape(self) -> tuple[int, ...]:
        """The weight's shape."""
        return tuple(self.value.shape)

    @property
    def dtype(self) -> np.dtype:
        """The weight's dtype."""
        return self.value.dtype

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates it: a parameter of a trainable layer."""
        return self.kind == "param" and self.layer.trainable

    def numpy(self) -> Array:
        """A copy of the current values."""
        return self.value.copy()

    def assign(self, value: Any) -> None:
        """Overwrite the values in place (same shape, finite numbers)."""
        self.layer.set_weight(self.key, value)

    def __repr__(self) -> str:
        return (
            f"<Weight path={self.path!r}, shape={self.shape}, "
            f"dtype={self.dtype.name}, trainable={self.trainable}>"
        )
