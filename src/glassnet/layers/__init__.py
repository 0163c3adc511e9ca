"""Layers: the building blocks of models, Sequential or functional.

>>> from glassnet.layers import Dense, Activation, Dropout
>>> Dense(10, input_dim=2)
Dense(input_shape=[2], units=10, activation='linear', ...)
"""

from glassnet.layers.activation import Activation
from glassnet.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from glassnet.layers.base import Layer, Weight, registry
from glassnet.layers.dense import Dense
from glassnet.layers.dropout import Dropout
from glassnet.layers.input_layer import Input, InputLayer
from glassnet.layers.layer_normalization import LayerNormalization
from glassnet.layers.merge import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)
from glassnet.layers.merge_functions import (
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from glassnet.layers.noise import GaussianNoise
from glassnet.layers.normalization import BatchNormalization
from glassnet.layers.prelu import PReLU
from glassnet.layers.reshaping import Flatten, Permute, RepeatVector, Reshape

__all__ = [
    "ELU",
    "Activation",
    "Add",
    "Average",
    "BatchNormalization",
    "Concatenate",
    "Dense",
    "Dropout",
    "Flatten",
    "GaussianNoise",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "Maximum",
    "Minimum",
    "Multiply",
    "PReLU",
    "Permute",
    "ReLU",
    "RepeatVector",
    "Reshape",
    "Softmax",
    "Subtract",
    "Weight",
    "add",
    "average",
    "concatenate",
    "get",
    "maximum",
    "minimum",
    "multiply",
    "registry",
    "subtract",
]


def get(identifier: object) -> Layer:
    """Resolve a layer instance or a ``{"class_name", "config"}`` dict.

    >>> get({"class_name": "Dense", "config": {"units": 3}}).units
    3
    """
    return registry.get(identifier, base=Layer)
