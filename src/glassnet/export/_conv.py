"""ONNX translations of the convolution layers, Conv1D and Conv2D (inference).

float32 graphs use ONNX's ``Conv`` on channels-first data (the walk transposes the
input once, ``_layout.py``):

- the kernel, glassnet's (and Keras') ``(kh, kw, C, F)``, is stored as ONNX's
  ``(F, C, kh, kw)`` (Conv1D: ``(k, C, F)`` as ``(F, C, k)``), the bias as ``B``;
- ``strides`` and ``dilations`` are the layer's; ``pads`` are worked out as the
  layer pads: 'valid' none, 'causal' ``(k - 1) * d`` before only, 'same'
  TensorFlow's split with the odd cell after (``auto_pad="SAME_UPPER"``, the same
  rule, where an axis has no fixed length);
- then the activation, on channels-first data (a softmax over the channels
  becomes ``Softmax(axis=1)``).

float64 graphs (ONNX Runtime has no float64 ``Conv``) compute as glassnet does,
channels last: ``Pad``, one strided ``Slice`` per kernel offset, ``Concat`` of
them along the channels (the im2col columns, ``(N, OH, OW, kh*kw*C)``), ``MatMul``
with the kernel reshaped to ``(kh*kw*C, F)``, ``Add`` of the bias
(:func:`~glassnet.export._windows.window_views`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet import activations as act
from glassnet.export._activations import export_activation
from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.export._layout import CHANNELS_FIRST, move_activation
from glassnet.export._windows import (
    pad_attributes,
    spatial_sizes,
    window_pads,
    window_views,
)
from glassnet.layers import Conv1D, Conv2D, Layer

__all__ = ["CONV_CONVERTERS"]


def _conv(g: GraphBuilder, call: LayerCall) -> str:
    # z = conv(x, W) + b, then y = activation(z)
    layer = call.layer
    pads = window_pads(
        layer.padding,
        spatial_sizes(call),
        layer.kernel_size,
        layer.strides,
        layer.dilation_rate,
    )
    if call.layout == CHANNELS_FIRST:
        z = _conv_op(g, call, pads)
    else:
        z = _conv_by_slices(g, call, pads)
    if type(layer.activation) is act.Linear:
        return z
    activation = move_activation(layer.activation, call.layout, call.rank)
    return export_activation(g, activation, z, scope=call.scope, rank=call.rank)


def _conv_op(
    g: GraphBuilder, call: LayerCall, pads: list[tuple[int, int]] | None
) -> str:
    """ONNX's ``Conv`` on (N, C, ...) data: the kernel moved to (F, C, ...)."""
    layer, scope = call.layer, call.scope
    kernel = layer.params["W"]  # (*k, C, F)
    rank = kernel.ndim - 2
    onnx_kernel = np.transpose(kernel, (rank + 1, rank, *range(rank)))
    inputs = [call.x, g.weight(f"{scope}.W", onnx_kernel)]
    if layer.use_bias:
        inputs.append(g.weight(f"{scope}.b", layer.params["b"]))
    return g.node(
        "Conv",
        inputs,
        scope=scope,
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.strides),
        dilations=list(layer.dilation_rate),
        **pad_attributes(pads),
    )


def _conv_by_slices(
    g: GraphBuilder, call: LayerCall, pads: list[tuple[int, int]] | None
) -> str:
    """glassnet's im2col on (N, ..., C) data: slices, ``Concat``, ``MatMul``, ``Add``."""
    layer, scope = call.layer, call.scope
    views, _, _ = window_views(
        g, call, layer.kernel_size, layer.strides, layer.dilation_rate, pads, 0.0
    )
    # col[n, o, (offset, c)] = xp[n, o * s + offset * d, c]: the im2col matrix
    col = views[0] if len(views) == 1 else g.node("Concat", views, scope=scope, axis=-1)
    kernel = layer.params["W"]
    matrix = g.weight(f"{scope}.W", kernel, (-1, kernel.shape[-1]))  # (K*C, F)
    z = g.node("MatMul", [col, matrix], scope=scope)
    if layer.use_bias:
        z = g.node("Add", [z, g.weight(f"{scope}.b", layer.params["b"])], scope=scope)
    return z


CONV_CONVERTERS: dict[type[Layer], Callable[[GraphBuilder, LayerCall], str]] = {
    Conv1D: _conv,
    Conv2D: _conv,
}
