"""ONNX translations of the pooling, padding and spatial dropout layers (inference).

float32 graphs work on channels-first data (``_layout.py``):

- ``MaxPooling1D/2D``: ``MaxPool`` (padding never wins, as glassnet's ``-inf``);
- ``AveragePooling1D/2D``: ``AveragePool`` with ``count_include_pad=0``, so a window
  that overlaps a 'same' padding averages its real cells only (TensorFlow, JAX and
  glassnet);
- pads as the layer pads them: none for 'valid', TensorFlow's 'same' split with the
  odd cell after (``auto_pad="SAME_UPPER"`` where an axis has any length);
- ``GlobalAveragePooling1D/2D``, ``GlobalMaxPooling1D/2D``: ``GlobalAveragePool`` /
  ``GlobalMaxPool``, ``(N, C, 1, 1)``, then ``Flatten`` to ``(N, C)`` unless
  ``keepdims``;
- ``ZeroPadding1D/2D``: ``Pad`` (constant zeros) on the spatial axes.

float64 graphs (ONNX Runtime has no float64 ``AveragePool`` or global pools) work
channels last, as glassnet computes: a pool is one strided ``Slice`` per window cell
(:func:`~glassnet.export._windows.window_views`) combined with ``Max``, or added up
and multiplied by ``1 / (real cells in the window)``; a global pool is
``ReduceMean`` / ``ReduceMax`` over the spatial axes; ``ZeroPadding`` is ``Pad``.

``SpatialDropout1D/2D`` is ``Identity``: inference drops nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.export._layout import CHANNELS_FIRST
from glassnet.export._windows import (
    Pads,
    fixed_sizes,
    pad,
    pad_attributes,
    spatial_sizes,
    window_pads,
    window_views,
)
from glassnet.layers import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    Layer,
    MaxPooling1D,
    MaxPooling2D,
    SpatialDropout1D,
    SpatialDropout2D,
    ZeroPadding1D,
    ZeroPadding2D,
)

__all__ = ["POOLING_CONVERTERS", "SPATIAL_LAYERS"]

#: The first opset in which the reductions take their axes as an input.
REDUCE_AXES_INPUT_OPSET = 18


def _pads(call: LayerCall) -> Pads | None:
    layer = call.layer
    ones = (1,) * len(layer.pool_size)
    return window_pads(
        layer.padding, spatial_sizes(call), layer.pool_size, layer.strides, ones
    )


def _pool_op(g: GraphBuilder, call: LayerCall, op_type: str, **extra: int) -> str:
    layer = call.layer
    return g.node(
        op_type,
        [call.x],
        scope=call.scope,
        kernel_shape=list(layer.pool_size),
        strides=list(layer.strides),
        **pad_attributes(_pads(call)),
        **extra,
    )


def _views(
    g: GraphBuilder, call: LayerCall, fill: float
) -> tuple[list[str], tuple[int, ...], Pads]:
    layer = call.layer
    ones = (1,) * len(layer.pool_size)
    return window_views(
        g, call, layer.pool_size, layer.strides, ones, _pads(call), fill
    )


def _max_pool(g: GraphBuilder, call: LayerCall) -> str:
    # y[p] = max over the window W(p) of x (padding never the max)
    if call.layout == CHANNELS_FIRST:
        return _pool_op(g, call, "MaxPool")
    views, _, _ = _views(g, call, -np.inf)
    return views[0] if len(views) == 1 else g.node("Max", views, scope=call.scope)


def _average_pool(g: GraphBuilder, call: LayerCall) -> str:
    # y[p] = sum over the real cells of the window W(p) of x / their number
    if call.layout == CHANNELS_FIRST:
        return _pool_op(g, call, "AveragePool", count_include_pad=0)
    views, out, pads = _views(g, call, 0.0)
    total = views[0]
    for view in views[1:]:
        total = g.node("Add", [total, view], scope=call.scope)
    scale = g.constant(_inverse_counts(call, out, pads), f"{call.scope}/inverse_count")
    return g.node("Mul", [total, scale], scope=call.scope)


def _inverse_counts(call: LayerCall, out: tuple[int, ...], pads: Pads) -> np.ndarray:
    """``1 / (real cells in each window)``, shaped ``(1, *out, 1)`` to broadcast."""
    counts = np.ones((1,), dtype=np.int64)
    for n, k, s, o, (before, _) in zip(
        fixed_sizes(call),
        call.layer.pool_size,
        call.layer.strides,
        out,
        pads,
        strict=True,
    ):
        start = np.arange(o) * s - before
        real = np.minimum(start + k, n) - np.maximum(start, 0)
        counts = np.multiply.outer(counts, real)
    return (1.0 / counts).reshape(1, *out, 1)


def _global_pool(
    op_type: str, reduce_type: str
) -> Callable[[GraphBuilder, LayerCall], str]:
    def convert(g: GraphBuilder, call: LayerCall) -> str:
        # y[n, c] = mean (max) over every position of x[n, ..., c]
        layer, scope = call.layer, call.scope
        if call.layout == CHANNELS_FIRST:
            y = g.node(op_type, [call.x], scope=scope)  # (N, C, 1, ...)
            return y if layer.keepdims else g.node("Flatten", [y], scope=scope, axis=1)
        axes = list(range(1, call.rank - 1))
        keep = int(layer.keepdims)
        if g.opset >= REDUCE_AXES_INPUT_OPSET:
            inputs = [call.x, g.int64s(axes, f"{scope}/axes")]
            return g.node(reduce_type, inputs, scope=scope, keepdims=keep)
        return g.node(reduce_type, [call.x], scope=scope, axes=axes, keepdims=keep)

    return convert


def _zero_padding(g: GraphBuilder, call: LayerCall) -> str:
    # y = x in the middle of zeros
    layer = call.layer
    pads = [layer.padding] if layer.rank == 1 else list(layer.padding)
    first = call.layout == CHANNELS_FIRST
    y = pad(g, call.x, pads, 0.0, call.scope, first=first)
    return y if y != call.x else g.node("Identity", [call.x], scope=call.scope)


def _identity(g: GraphBuilder, call: LayerCall) -> str:
    return g.node("Identity", [call.x], scope=call.scope)


POOLING_CONVERTERS: dict[type[Layer], Callable[[GraphBuilder, LayerCall], str]] = {
    AveragePooling1D: _average_pool,
    AveragePooling2D: _average_pool,
    GlobalAveragePooling1D: _global_pool("GlobalAveragePool", "ReduceMean"),
    GlobalAveragePooling2D: _global_pool("GlobalAveragePool", "ReduceMean"),
    GlobalMaxPooling1D: _global_pool("GlobalMaxPool", "ReduceMax"),
    GlobalMaxPooling2D: _global_pool("GlobalMaxPool", "ReduceMax"),
    MaxPooling1D: _max_pool,
    MaxPooling2D: _max_pool,
    SpatialDropout1D: _identity,
    SpatialDropout2D: _identity,
    ZeroPadding1D: _zero_padding,
    ZeroPadding2D: _zero_padding,
}

#: The layers that compute channels-first in float32 graphs (ONNX's NCHW ops).
SPATIAL_LAYERS = frozenset(POOLING_CONVERTERS) - {SpatialDropout1D, SpatialDropout2D}
