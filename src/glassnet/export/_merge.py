"""ONNX translations of the merge layers, called on a list of tensors.

The sums and products are chains of binary ``Add`` and ``Mul`` nodes, left to
right, the order NumPy computes them in (float addition is not associative, so a
variadic ``Sum`` could round differently); ``Average`` divides that sum by the
number of inputs. ``Maximum`` and ``Minimum`` are exact in any order and use one
variadic ``Max`` or ``Min`` node; ``Concatenate`` is ``Concat`` along its axis (moved
where the walk keeps images channels-first, ``_layout.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.export._layout import CHANNELS_FIRST, moved_axis
from glassnet.layers import (
    Add,
    Average,
    Concatenate,
    Layer,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

__all__ = ["MERGE_CONVERTERS"]


def _fold(g: GraphBuilder, call: LayerCall, op_type: str) -> str:
    """``((x_1 op x_2) op x_3) ...``."""
    y = call.inputs[0]
    for x in call.inputs[1:]:
        y = g.node(op_type, [y, x], scope=call.scope)
    return y


def _add(g: GraphBuilder, call: LayerCall) -> str:
    return _fold(g, call, "Add")


def _subtract(g: GraphBuilder, call: LayerCall) -> str:
    return _fold(g, call, "Sub")  # exactly two inputs: x_1 - x_2


def _multiply(g: GraphBuilder, call: LayerCall) -> str:
    return _fold(g, call, "Mul")


def _average(g: GraphBuilder, call: LayerCall) -> str:
    count = g.constant(len(call.inputs), f"{call.scope}/count")
    return g.node("Div", [_fold(g, call, "Add"), count], scope=call.scope)


def _maximum(g: GraphBuilder, call: LayerCall) -> str:
    return g.node("Max", call.inputs, scope=call.scope)


def _minimum(g: GraphBuilder, call: LayerCall) -> str:
    return g.node("Min", call.inputs, scope=call.scope)


def _concatenate(g: GraphBuilder, call: LayerCall) -> str:
    layer: Concatenate = call.layer
    axis = layer.axis
    if call.layout == CHANNELS_FIRST:  # images side by side, channels on axis 1
        axis = moved_axis(axis, call.rank)
    return g.node("Concat", call.inputs, scope=call.scope, axis=axis)


MERGE_CONVERTERS: dict[type[Layer], Callable[[GraphBuilder, LayerCall], str]] = {
    Add: _add,
    Average: _average,
    Concatenate: _concatenate,
    Maximum: _maximum,
    Minimum: _minimum,
    Multiply: _multiply,
    Subtract: _subtract,
}
