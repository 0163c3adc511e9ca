"""ONNX translations of BatchNormalization and LayerNormalization (inference).

Both compute ``y = (x - mean) * (1 / sqrt(var + epsilon)) * gamma + beta``.

- **BatchNormalization** takes ``mean`` and ``var`` from its moving statistics and
  is written out in elementary ops (``Sub``, ``Mul``, ``Add``, ``Sqrt``, ``Div``) in
  glassnet's order, for any axis. ONNX's ``BatchNormalization`` op was measured and
  not used: ONNX Runtime folds the statistics into one scale and one offset,
  ``x * s + (beta - mean * s)``, which cancels where features lie far from zero
  (an offset of 100 around a spread of 0.01 cost 3e-4 on outputs of size 1, where
  ``x - mean`` first keeps float32 rounding); the op also needs the channel on axis 1.
- **LayerNormalization** computes mean and variance per sample. A float32 graph of
  opset 17 or later uses the ``LayerNormalization`` op when the axes are the last
  ones (the op normalizes "from ``axis`` to the end"): one kernel, which accumulates
  more precisely than NumPy's float32 mean. Other axes, older opsets and float64
  graphs (the op's ``epsilon`` is a float32 attribute) use ``ReduceMean`` and the
  elementary ops, as glassnet computes it.

The weights are stored shaped to broadcast against the input: ``(C,)`` for the last
axis, ``(C, 1, 1)`` for axis 1 of a 4-D input, like glassnet's own broadcasting.

>>> broadcast_shape((5, 3), (1, 3), 4)  # LayerNormalization(axis=[1, 3])
(5, 1, 3)
>>> broadcast_shape((8,), (3,), 4)  # BatchNormalization(axis=-1)
(8,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.export._layout import CHANNELS_FIRST, moved_axis
from glassnet.layers import BatchNormalization, Layer, LayerNormalization

__all__ = ["NORMALIZATION_CONVERTERS", "broadcast_shape", "reduce_mean"]

#: The opset from which ``ReduceMean`` takes its axes as an input, not an attribute.
REDUCE_AXES_INPUT_OPSET = 18
#: The first opset with a ``LayerNormalization`` op.
LAYER_NORMALIZATION_OPSET = 17


def broadcast_shape(
    sizes: Sequence[int], axes: Sequence[int], rank: int
) -> tuple[int, ...]:
    """The shape that puts ``sizes`` on ``axes`` (sorted full-shape positions) of a
    rank-``rank`` input, with 1 on the other axes after the first of them."""
    shape = [1] * rank
    for axis, size in zip(axes, sizes, strict=True):
        shape[axis] = size
    return tuple(shape[min(axes) :])


def reduce_mean(g: GraphBuilder, x: str, axes: Sequence[int], scope: str) -> str:
    """``x.mean(axis=axes, keepdims=True)``, for the graph's opset."""
    if g.opset >= REDUCE_AXES_INPUT_OPSET:
        axes_name = g.int64s(list(axes), f"{scope}/axes")
        return g.node("ReduceMean", [x, axes_name], scope=scope, keepdims=1)
    return g.node("ReduceMean", [x], scope=scope, axes=list(axes), keepdims=1)


def _scale_and_shift(
    g: GraphBuilder, call: LayerCall, xhat: str, axes: tuple[int, ...]
) -> str:
    """``y = xhat * gamma + beta`` (each only if the layer has it)."""
    layer, scope, y = call.layer, call.scope, xhat
    for key, op in (("gamma", "Mul"), ("beta", "Add")):
        if key in layer.params:
            array = layer.params[key]
            shape = broadcast_shape(array.shape, axes, call.rank)
            y = g.node(op, [y, g.weight(f"{scope}.{key}", array, shape)], scope=scope)
    return y


def _inverse_std(g: GraphBuilder, variance: str, epsilon: float, scope: str) -> str:
    """``1 / sqrt(var + epsilon)``, epsilon in the graph's dtype."""
    eps = g.constant(epsilon, f"{scope}/epsilon")
    root = g.node("Sqrt", [g.node("Add", [variance, eps], scope=scope)], scope=scope)
    return g.node("Div", [g.constant(1.0, f"{scope}/one"), root], scope=scope)


def _batch_normalization(g: GraphBuilder, call: LayerCall) -> str:
    # inference: xhat = (x - moving_mean) / sqrt(moving_variance + epsilon),
    #            y = gamma * xhat + beta
    layer: BatchNormalization = call.layer
    axis = layer.axis % call.rank
    if call.layout == CHANNELS_FIRST:  # after a convolution: the channels are axis 1
        axis = moved_axis(axis, call.rank)
    scope, axes = call.scope, (axis,)
    stats = {}
    for key in ("moving_mean", "moving_variance"):
        array = layer.state[key]
        shape = broadcast_shape(array.shape, axes, call.rank)
        stats[key] = g.weight(f"{scope}.{key}", array, shape)
    inv_std = _inverse_std(g, stats["moving_variance"], layer.epsilon, scope)
    centered = g.node("Sub", [call.x, stats["moving_mean"]], scope=scope)
    xhat = g.node("Mul", [centered, inv_std], scope=scope)
    return _scale_and_shift(g, call, xhat, axes)


def _layer_normalization(g: GraphBuilder, call: LayerCall) -> str:
    # per sample, over axes: mean = mean(x), var = mean((x - mean)^2),
    # xhat = (x - mean) / sqrt(var + epsilon), y = gamma * xhat + beta
    layer: LayerNormalization = call.layer
    scope = call.scope
    listed = layer.axis if isinstance(layer.axis, list) else [layer.axis]
    axes = tuple(sorted(a % call.rank for a in listed))
    trailing = axes == tuple(range(axes[0], call.rank))
    if trailing and g.opset >= LAYER_NORMALIZATION_OPSET and g.dtype != np.float64:
        return _layer_normalization_op(g, call, axes[0])
    centered = g.node("Sub", [call.x, reduce_mean(g, call.x, axes, scope)], scope=scope)
    squares = g.node("Mul", [centered, centered], scope=scope)
    inv_std = _inverse_std(
        g, reduce_mean(g, squares, axes, scope), layer.epsilon, scope
    )
    xhat = g.node("Mul", [centered, inv_std], scope=scope)
    return _scale_and_shift(g, call, xhat, axes)


def _layer_normalization_op(g: GraphBuilder, call: LayerCall, first: int) -> str:
    """The ``LayerNormalization`` op over the axes from ``first`` to the last."""
    layer: LayerNormalization = call.layer
    scope = call.scope
    # known lengths: LayerNormalization refuses an axis of unknown length
    sizes = tuple(int(d) for d in call.shapes[0][first:])  # type: ignore[arg-type]
    if layer.scale:
        scale = g.weight(f"{scope}.gamma", layer.params["gamma"])
    else:  # the op's scale is not optional
        scale = g.constant(np.ones(sizes), f"{scope}/ones")
    inputs = [call.x, scale]
    if layer.center:
        inputs.append(g.weight(f"{scope}.beta", layer.params["beta"]))
    return g.node(
        "LayerNormalization", inputs, scope=scope, axis=first, epsilon=layer.epsilon
    )


NORMALIZATION_CONVERTERS: dict[
    type[Layer], Callable[[GraphBuilder, LayerCall], str]
] = {
    BatchNormalization: _batch_normalization,
    LayerNormalization: _layer_normalization,
}
