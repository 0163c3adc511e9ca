"""Layers: the building blocks of models, Sequential or functional.

>>> from glassnet.layers import Dense, Activation, Dropout
>>> Dense(10, input_dim=2)
Dense(input_shape=[2], units=10, activation='linear', ...)
"""

from glassnet.layers.activation import Activation
from glassnet.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from glassnet.layers.base import Layer, Weight, registry
from glassnet.layers.bidirectional import Bidirectional
from glassnet.layers.convolutional import (
    Conv1D,
    Conv2D,
    Convolution1D,
    Convolution2D,
)
from glassnet.layers.dense import Dense
from glassnet.layers.dropout import Dropout
from glassnet.layers.embedding import Embedding
from glassnet.layers.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
)
from glassnet.layers.gru import GRU
from glassnet.layers.input_layer import Input, InputLayer
from glassnet.layers.layer_normalization import LayerNormalization
from glassnet.layers.lstm import LSTM
from glassnet.layers.masking import Masking
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
from glassnet.layers.padding import ZeroPadding1D, ZeroPadding2D
from glassnet.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from glassnet.layers.prelu import PReLU
from glassnet.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from glassnet.layers.simple_rnn import SimpleRNN
from glassnet.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D
from glassnet.layers.wrappers import TimeDistributed

__all__ = [
    "ELU",
    "GRU",
    "LSTM",
    "Activation",
    "Add",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNormalization",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Convolution1D",
    "Convolution2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "Masking",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "Multiply",
    "PReLU",
    "Permute",
    "ReLU",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "Subtract",
    "TimeDistributed",
    "Weight",
    "ZeroPadding1D",
    "ZeroPadding2D",
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
