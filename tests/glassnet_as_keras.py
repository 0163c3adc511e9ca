"""glassnet under Keras' module names, so one model-building function serves both.

The tests that compare glassnet with Keras write each model once, as a function of
``lib``, and call it with ``keras`` and with :class:`GlassnetAsKeras`:

>>> def tiny(lib):
...     return lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
>>> tiny(GlassnetAsKeras).count_params()
8
"""

from __future__ import annotations

from typing import Any

from glassnet import callbacks, layers, metrics
from glassnet.layers import Input
from glassnet.models import Model, Sequential
from glassnet.optimizers import SGD


class GlassnetAsKeras:
    """``keras.Input``, ``keras.Model``, ``keras.Sequential``, ``keras.layers``,
    ``keras.metrics``, ``keras.callbacks`` and ``keras.optimizers.SGD``, from glassnet."""

    Input = staticmethod(Input)
    Model = Model
    Sequential = Sequential
    layers = layers
    metrics = metrics
    callbacks = callbacks

    class optimizers:  # Keras' module name
        SGD = SGD


def two_outputs(lib: Any) -> Any:
    """A functional model of ``lib`` with two outputs: ``price`` (1 unit, linear) and
    ``kind`` (3 classes, softmax) over a shared ReLU layer, from ``x`` of 4 features.

    >>> [output.shape for output in two_outputs(GlassnetAsKeras).outputs]
    [(None, 1), (None, 3)]
    """
    x = lib.Input((4,), name="x")
    hidden = lib.layers.Dense(5, activation="relu", name="hidden")(x)
    price = lib.layers.Dense(1, name="price")(hidden)
    kind = lib.layers.Dense(3, activation="softmax", name="kind")(hidden)
    return lib.Model(x, [price, kind])
