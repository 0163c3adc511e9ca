"""Layers: the building blocks of a :class:`glassnet.models.Sequential` model.

>>> from glassnet.layers import Dense, Activation, Dropout
>>> Dense(10, input_dim=2)
Dense(input_shape=[2], units=10, activation='linear', ...)
"""

from glassnet.layers.activation import Activation
from glassnet.layers.base import Layer, registry
from glassnet.layers.dense import Dense
from glassnet.layers.dropout import Dropout

__all__ = ["Activation", "Dense", "Dropout", "Layer", "get", "registry"]


def get(identifier: object) -> Layer:
    """Resolve a layer instance or a ``{"class_name", "config"}`` dict.

    >>> get({"class_name": "Dense", "config": {"units": 3}}).units
    3
    """
    return registry.get(identifier, base=Layer)
