"""ONNX translations of the layers that move numbers around.

- ``Flatten``: ``Flatten(axis=1)``, the batch axis kept, C order as in NumPy.
- ``Reshape``: ``Reshape`` to ``(0, *target_shape)``; 0 copies the batch size and a
  -1 in the target is inferred per batch, as ``ndarray.reshape`` does.
- ``Permute``: ``Transpose`` with ``perm = (0, *dims)``: the batch axis stays first.
- ``RepeatVector``: ``Unsqueeze`` a length-1 axis 1, then ``Tile`` it ``n`` times.
"""

from __future__ import annotations

from collections.abc import Callable

from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.layers import Flatten, Layer, Permute, RepeatVector, Reshape

__all__ = ["RESHAPING_CONVERTERS"]


def _flatten(g: GraphBuilder, call: LayerCall) -> str:
    return g.node("Flatten", [call.x], scope=call.scope, axis=1)


def _reshape(g: GraphBuilder, call: LayerCall) -> str:
    layer: Reshape = call.layer
    shape = g.int64s([0, *layer.target_shape], f"{call.scope}/shape")
    return g.node("Reshape", [call.x, shape], scope=call.scope)


def _permute(g: GraphBuilder, call: LayerCall) -> str:
    layer: Permute = call.layer
    return g.node("Transpose", [call.x], scope=call.scope, perm=[0, *layer.dims])


def _repeat_vector(g: GraphBuilder, call: LayerCall) -> str:
    # (batch, features) -> (batch, 1, features) -> (batch, n, features)
    layer: RepeatVector = call.layer
    scope = call.scope
    axis = g.int64s([1], f"{scope}/axes")
    column = g.node("Unsqueeze", [call.x, axis], scope=scope)
    repeats = g.int64s([1, layer.n, 1], f"{scope}/repeats")
    return g.node("Tile", [column, repeats], scope=scope)


RESHAPING_CONVERTERS: dict[type[Layer], Callable[[GraphBuilder, LayerCall], str]] = {
    Flatten: _flatten,
    Permute: _permute,
    RepeatVector: _repeat_vector,
    Reshape: _reshape,
}
