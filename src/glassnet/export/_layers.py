"""ONNX translations of glassnet's layers (inference mode, as ``model.predict``).

- ``Dense``: ``MatMul`` (x @ W), ``Add`` (+ b, when ``use_bias``), then its activation
  (nothing for ``linear``).
- ``Activation``: the activation (``Identity`` for ``linear``).
- ``Dropout``: ``Identity``, since inference never drops anything.

As for activations, converters are looked up by the layer's exact class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet.activations import Linear
from glassnet.export._activations import export_activation
from glassnet.export._errors import ExportError
from glassnet.export._graph import GraphBuilder
from glassnet.layers import Activation, Dense, Dropout, Layer

__all__ = ["CONVERTERS", "export_layer"]

#: ``(graph, layer, x, rank) -> y``; rank counts the batch axis.
Converter = Callable[[GraphBuilder, Any, str, int], str]


def _dense(g: GraphBuilder, layer: Dense, x: str, rank: int) -> str:
    scope = str(layer.name)
    # z = x @ W + b, then y = activation(z)
    z = g.node("MatMul", [x, g.weight(f"{scope}.W", layer.params["W"])], scope=scope)
    if layer.use_bias:
        z = g.node("Add", [z, g.weight(f"{scope}.b", layer.params["b"])], scope=scope)
    if type(layer.activation) is Linear:
        return z
    return export_activation(g, layer.activation, z, scope=scope, rank=rank)


def _activation(g: GraphBuilder, layer: Activation, x: str, rank: int) -> str:
    return export_activation(g, layer.activation, x, scope=str(layer.name), rank=rank)


def _dropout(g: GraphBuilder, layer: Dropout, x: str, rank: int) -> str:
    return g.node("Identity", [x], scope=str(layer.name))


CONVERTERS: dict[type[Layer], Converter] = {
    Dense: _dense,
    Activation: _activation,
    Dropout: _dropout,
}


def export_layer(g: GraphBuilder, layer: Layer, x: str, *, rank: int) -> str:
    """Append ``layer``'s inference forward pass; returns the output tensor's name."""
    convert = CONVERTERS.get(type(layer))
    if convert is None:
        known = ", ".join(sorted(cls.__name__ for cls in CONVERTERS))
        raise ExportError(
            f"Layer '{layer.name}' is a {type(layer).__name__}, which has no ONNX "
            f"translation. glassnet.export supports the built-in layers {known} "
            "(subclasses are refused because they may compute something else)."
        )
    return convert(g, layer, x, rank)
