"""glassnet under Keras' module names, so one model-building function serves both.

The tests that compare glassnet with Keras write each model once, as a function of
``lib``, and call it with ``keras`` and with :class:`GlassnetAsKeras`:

>>> def tiny(lib):
...     return lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
>>> tiny(GlassnetAsKeras).count_params()
8
"""

from __future__ import annotations

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
