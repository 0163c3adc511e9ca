"""ONNX translations of glassnet's layers (inference mode, as ``model.predict``).

:data:`CONVERTERS` maps each layer class to the function that appends its nodes; a
new layer needs one entry here (its converter may live in a module of its family:
``_normalization``, ``_reshaping``, ``_merge``, ``_conv``, ``_pooling``,
``_recurrent``), and :func:`layout_of` says in which layout it computes:
channels-first for ONNX's convolutions and pools, time-major for its recurrent
ops, either layout for the elementwise layers, channels-last (glassnet's) for the
rest (``_layout.py``). This module holds the layers that compute ``y = f(x)``
elementwise, with a matrix or with a table:

- ``Dense``: ``MatMul`` (x @ W, on the last axis of N-D inputs too), ``Add`` (+ b,
  when ``use_bias``), then its activation (nothing for ``linear``).
- ``TimeDistributed(Dense)``: the same nodes on the whole sequence (``MatMul``
  works on the last axis), with the weights the wrapper holds.
- ``Embedding``: ``Gather`` of the table's rows at int64 token ids (see
  :func:`_embedding` for ids out of range).
- ``Activation``, ``LeakyReLU``, ``ELU``, ``Softmax``: the activation function.
- ``ReLU``: ``Relu`` or ``LeakyRelu``; with ``max_value`` or ``threshold``,
  Keras' formula in ``Where``, ``Min``, ``Sub`` and ``Mul``.
- ``PReLU``: ``PRelu`` with the learned slopes (shaped to broadcast).
- ``Dropout``, ``GaussianNoise``: ``Identity``, since inference adds no noise.

Converters are looked up by the layer's exact class: a user subclass may compute
something else, so it gets an :class:`~glassnet.export.ExportError` rather than its
parent's translation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import activations as act
from glassnet.export._activations import export_activation
from glassnet.export._conv import CONV_CONVERTERS
from glassnet.export._errors import ExportError
from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.export._layout import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    ELEMENTWISE,
    POINTWISE,
    TIME_MAJOR,
    move_activation,
)
from glassnet.export._merge import MERGE_CONVERTERS
from glassnet.export._normalization import NORMALIZATION_CONVERTERS
from glassnet.export._pooling import POOLING_CONVERTERS, SPATIAL_LAYERS
from glassnet.export._recurrent import RECURRENT_CONVERTERS, RECURRENT_LAYERS
from glassnet.export._reshaping import RESHAPING_CONVERTERS
from glassnet.layers import (
    ELU,
    Activation,
    Add,
    Average,
    BatchNormalization,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    GaussianNoise,
    Layer,
    LeakyReLU,
    Maximum,
    Minimum,
    Multiply,
    PReLU,
    ReLU,
    Softmax,
    SpatialDropout1D,
    SpatialDropout2D,
    Subtract,
    TimeDistributed,
)

__all__ = ["CONVERTERS", "Converter", "export_layer", "layout_of"]

#: ``(graph, call) -> y``: append the call's nodes, return its output tensor's name.
Converter = Callable[[GraphBuilder, LayerCall], str]


def _dense(g: GraphBuilder, call: LayerCall) -> str:
    layer: Dense = call.layer
    bias = layer.params["b"] if layer.use_bias else None
    return _dense_nodes(g, call, layer.params["W"], bias, layer.activation, call.scope)


def _dense_nodes(
    g: GraphBuilder,
    call: LayerCall,
    kernel: Any,
    bias: Any,
    activation: Any,
    scope: str,
) -> str:
    # z = x @ W + b, then y = activation(z); MatMul of an N-D x with a 2-D W
    # multiplies along x's last axis, as x @ W does in NumPy
    z = g.node("MatMul", [call.x, g.weight(f"{scope}.W", kernel)], scope=scope)
    if bias is not None:
        z = g.node("Add", [z, g.weight(f"{scope}.b", bias)], scope=scope)
    if type(activation) is act.Linear:
        return z
    return export_activation(g, activation, z, scope=scope, rank=call.rank)


def _time_distributed(g: GraphBuilder, call: LayerCall) -> str:
    # y[:, t] = dense(x[:, t]) for every t: the Dense's MatMul on the whole
    # sequence, whose last axis holds the features
    layer: TimeDistributed = call.layer
    inner = layer.layer
    if type(inner) is not Dense:
        raise ExportError(
            f"Layer '{call.scope}' is a TimeDistributed around a "
            f"{type(inner).__name__}; glassnet.export translates TimeDistributed "
            "around a Dense layer only. A Dense on a sequence computes the same as "
            "TimeDistributed(Dense) does. Received: layer="
            f"{type(inner).__name__}(name={inner.name!r})"
        )
    bias = layer.params["b"] if inner.use_bias else None
    return _dense_nodes(g, call, layer.params["W"], bias, inner.activation, call.scope)


def _embedding(g: GraphBuilder, call: LayerCall) -> str:
    # y[..., :] = E[ids[...]]. ONNX's Gather refuses ids >= input_dim, as
    # glassnet does, but takes a negative id -k as row input_dim - k, which
    # glassnet refuses: negative ids are sent to row input_dim, out of range,
    # so the runtime refuses them too.
    layer: Embedding = call.layer
    scope, ids = call.scope, call.x
    if ids not in g.id_inputs:
        # float ids, as a layer before passes them: the nearest whole number
        # (ties to even, as np.rint in glassnet)
        rounded = g.node("Round", [ids], scope=scope)
        ids = g.node("Cast", [rounded], scope=scope, to=np.dtype(np.int64))
    zero = g.constant(0, f"{scope}/zero", dtype=np.int64)
    past_end = g.constant(layer.input_dim, f"{scope}/input_dim", dtype=np.int64)
    negative = g.node("Less", [ids, zero], scope=scope)
    ids = g.node("Where", [negative, past_end, ids], scope=scope)
    table = g.weight(f"{scope}.embeddings", layer.params["embeddings"])
    return g.node("Gather", [table, ids], scope=scope, axis=0)


def _activation(g: GraphBuilder, call: LayerCall) -> str:
    """The layers that hold an activation function: Activation, LeakyReLU, ELU..."""
    activation = move_activation(call.layer.activation, call.layout, call.rank)
    return export_activation(g, activation, call.x, scope=call.scope, rank=call.rank)


def _identity(g: GraphBuilder, call: LayerCall) -> str:
    return g.node("Identity", [call.x], scope=call.scope)


def _relu(g: GraphBuilder, call: LayerCall) -> str:
    layer: ReLU = call.layer
    if layer.max_value is None and layer.threshold == 0.0:
        return _activation(g, call)  # plain relu, or leaky_relu(negative_slope)
    # Keras' relu, in the order CappedReLU computes it (same float rounding):
    # y = min(where(x > threshold, x, 0), max_value)
    #     - negative_slope * max(threshold - x, 0)
    scope, x = call.scope, call.x
    threshold = g.constant(layer.threshold, f"{scope}/threshold")
    zero = g.constant(0.0, f"{scope}/zero")
    above = g.node("Greater", [x, threshold], scope=scope)
    y = g.node("Where", [above, x, zero], scope=scope)
    if layer.max_value is not None:
        cap = g.constant(layer.max_value, f"{scope}/max_value")
        y = g.node("Min", [y, cap], scope=scope)
    if layer.negative_slope:
        below = g.node(
            "Relu", [g.node("Sub", [threshold, x], scope=scope)], scope=scope
        )
        slope = g.constant(layer.negative_slope, f"{scope}/negative_slope")
        y = g.node("Sub", [y, g.node("Mul", [slope, below], scope=scope)], scope=scope)
    return y


def _prelu(g: GraphBuilder, call: LayerCall) -> str:
    # y = x where x >= 0, alpha * x elsewhere; alpha has the sample's shape (1 on
    # the shared axes), which broadcasts against (batch, *sample) from the right;
    # on channels-first data its channel axis moves to the front as well
    layer: PReLU = call.layer
    alpha = layer.params["alpha"]
    if call.layout == CHANNELS_FIRST:
        alpha = np.moveaxis(alpha, -1, 0)
    name = g.weight(f"{call.scope}.alpha", alpha)
    return g.node("PRelu", [call.x, name], scope=call.scope)


CORE_CONVERTERS: dict[type[Layer], Converter] = {
    Activation: _activation,
    Dense: _dense,
    Dropout: _identity,
    ELU: _activation,
    GaussianNoise: _identity,
    LeakyReLU: _activation,
    PReLU: _prelu,
    ReLU: _relu,
    Softmax: _activation,
}

#: The layers around the recurrent ones that have no family module of their own.
SEQUENCE_CONVERTERS: dict[type[Layer], Converter] = {
    Embedding: _embedding,
    TimeDistributed: _time_distributed,
}

#: Each family's converters, in the order error messages list them.
FAMILIES: dict[str, dict[type[Layer], Converter]] = {
    "core": CORE_CONVERTERS,
    "normalization": NORMALIZATION_CONVERTERS,
    "reshaping": RESHAPING_CONVERTERS,
    "merging": MERGE_CONVERTERS,
    "convolution": CONV_CONVERTERS,
    "pooling": POOLING_CONVERTERS,
    "recurrent": {**SEQUENCE_CONVERTERS, **RECURRENT_CONVERTERS},
}

#: The layers whose converters compute in either layout, the one their inputs have:
#: elementwise ops, and the axis of BatchNormalization and Concatenate moved.
ELEMENTWISE_LAYERS: frozenset[type[Layer]] = frozenset(
    {Activation, Dropout, ELU, GaussianNoise, LeakyReLU, PReLU, ReLU, Softmax}
    | {BatchNormalization, SpatialDropout1D, SpatialDropout2D}
    | {Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract}
)

#: The one-input layers that never read an axis, so they compute in any layout,
#: time-major too (an Activation only when its function is not a softmax).
POINTWISE_LAYERS: frozenset[type[Layer]] = frozenset(
    {Activation, Dropout, ELU, GaussianNoise, LeakyReLU, ReLU}
    | {SpatialDropout1D, SpatialDropout2D}
)


def layout_of(layer: Layer, dtype: Any) -> str:
    """How ``layer``'s converter takes its inputs: channels-first, time-major,
    channels-last (glassnet's order), ``ELEMENTWISE`` (channels last or first) or
    ``POINTWISE`` (any of the three).

    The convolutions and pools are channels-first in float32 graphs (ONNX's ops);
    in float64 graphs, which compute them with slices as glassnet does, they are
    channels-last. The recurrent layers are time-major.
    """
    cls = type(layer)
    if cls in CONV_CONVERTERS or cls in SPATIAL_LAYERS:
        return CHANNELS_LAST if np.dtype(dtype) == np.float64 else CHANNELS_FIRST
    if cls in RECURRENT_LAYERS:
        return TIME_MAJOR
    if cls in POINTWISE_LAYERS and not (
        isinstance(layer, Activation) and type(layer.activation) is act.Softmax
    ):
        return POINTWISE
    if cls in ELEMENTWISE_LAYERS:
        return ELEMENTWISE
    return CHANNELS_LAST


#: The layer classes glassnet.export translates, and how.
CONVERTERS: dict[type[Layer], Converter] = {
    cls: convert for family in FAMILIES.values() for cls, convert in family.items()
}


def supported_layers() -> str:
    """The supported layer classes by family, for error messages.

    >>> supported_layers().split("; ")[0]
    'Activation, Dense, Dropout, ELU, GaussianNoise, LeakyReLU, PReLU, ReLU, Softmax'
    """
    return "; ".join(
        ", ".join(sorted(cls.__name__ for cls in family))
        for family in FAMILIES.values()
    )


def export_layer(g: GraphBuilder, call: LayerCall) -> str:
    """Append ``call.layer``'s inference forward pass; returns its output's name."""
    convert = CONVERTERS.get(type(call.layer))
    if convert is None:
        raise ExportError(
            f"Layer '{call.layer.name}' is a {type(call.layer).__name__}, which has no "
            f"ONNX translation. glassnet.export supports the built-in layers "
            f"{supported_layers()} (and InputLayer, which becomes a graph input); "
            "subclasses are refused because they may compute something else."
        )
    return convert(g, call)
