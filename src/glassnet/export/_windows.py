"""Window arithmetic for the convolution and pooling converters.

:func:`window_pads` turns Keras' ``padding`` ('valid', 'same', 'causal') into the
cells added before and after each spatial axis, as glassnet's layers pad (the odd
cell of a 'same' padding goes after, TensorFlow's rule); :func:`pad_attributes`
writes them as ONNX's ``pads`` attribute, or as ``auto_pad="SAME_UPPER"`` (the
same rule, worked out by the runtime) when a strided axis has no fixed length.

ONNX Runtime has no float64 kernel for ``Conv``, ``AveragePool`` and the global
pools, so float64 graphs compute windows as glassnet does, channels last, with
ops it has in float64 (:func:`window_views`): ``Pad``, then one strided ``Slice``
per cell of the window, each picking that cell of every window, which a
convolution concatenates along the channels and multiplies by the kernel
(glassnet's im2col, one ``MatMul``) and a pool combines with ``Max`` or ``Add``.
These need every spatial length fixed.

>>> window_pads("same", (7, 7), (4, 4), (2, 2), (1, 1))
[(1, 2), (1, 2)]
>>> pad_attributes([(1, 2), (0, 0)]), pad_attributes(None)
({'pads': [1, 0, 2, 0]}, {'auto_pad': 'SAME_UPPER'})
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.export._errors import ExportError
from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.layers.spatial_arguments import same_padding

__all__ = [
    "Pads",
    "fixed_sizes",
    "pad",
    "pad_attributes",
    "spatial_sizes",
    "window_pads",
    "window_views",
]

Pads = list[tuple[int, int]]


def window_pads(
    padding: str,
    sizes: Sequence[int | None],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> Pads | None:
    """``(before, after)`` per spatial axis.

    None for 'same' with a stride over an axis of any length (the runtime works
    the pads out, ``SAME_UPPER``).
    """
    if padding == "valid":
        return [(0, 0)] * len(kernel)
    if padding == "causal":  # Conv1D: the whole dilated window before, nothing after
        return [((k - 1) * d, 0) for k, d in zip(kernel, dilation, strict=True)]
    if any(n is None and s > 1 for n, s in zip(sizes, strides, strict=True)):
        return None  # ONNX Runtime refuses SAME_UPPER with dilations: never needed,
        # since a stride > 1 comes with dilation 1 (as in Keras)
    # with stride 1 the 'same' padding is (k - 1) * d whatever the length
    return [
        same_padding(k if n is None else n, k, s, d)
        for n, k, s, d in zip(sizes, kernel, strides, dilation, strict=True)
    ]


def pad_attributes(pads: Pads | None) -> dict[str, Any]:
    """ONNX's ``pads`` (all the befores, then all the afters), or SAME_UPPER."""
    if pads is None:
        return {"auto_pad": "SAME_UPPER"}
    return {"pads": [before for before, _ in pads] + [after for _, after in pads]}


def spatial_sizes(call: LayerCall) -> tuple[int | None, ...]:
    """The lengths of the input's spatial axes (glassnet's order: (N, ..., C))."""
    return tuple(call.shapes[0][1:-1])


def fixed_sizes(call: LayerCall) -> tuple[int, ...]:
    """The spatial lengths, for float64 graphs' slices: each must be fixed."""
    sizes = spatial_sizes(call)
    known = tuple(n for n in sizes if n is not None)
    if len(known) != len(sizes):
        raise ExportError(
            f"Layer '{call.scope}' ({type(call.layer).__name__}) on inputs of "
            f"spatial shape {sizes}: a float64 graph computes convolutions and pools "
            "with Slice ops (ONNX Runtime has no float64 Conv or AveragePool), which "
            "need every spatial length fixed. Give the Input a fixed shape, or "
            "export a float32 model. Received: an axis of any length (None)."
        )
    return known


def pad(
    g: GraphBuilder, x: str, pads: Pads, value: float, scope: str, first: bool = False
) -> str:
    """``Pad`` the spatial axes of ``x`` by ``pads`` with the constant ``value``.

    ``x`` is channels-last (N, ..., C), or channels-first (N, C, ...) if ``first``.
    Nothing is added (and ``x`` returned) when every pad is 0.
    """
    if not any(before or after for before, after in pads):
        return x
    befores = [before for before, _ in pads]
    afters = [after for _, after in pads]
    if first:
        amounts = [0, 0, *befores, 0, 0, *afters]
    else:
        amounts = [0, *befores, 0, 0, *afters, 0]
    inputs = [x, g.int64s(amounts, f"{scope}/pads")]
    if value != 0.0:
        inputs.append(g.constant(value, f"{scope}/pad_value"))
    return g.node("Pad", inputs, scope=scope, mode="constant")


def window_views(
    g: GraphBuilder,
    call: LayerCall,
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
    pads: Pads | None,
    fill: float,
) -> tuple[list[str], tuple[int, ...], Pads]:
    """One strided ``Slice`` of the padded channels-last input per window cell.

    Slice ``(i, j)`` holds cell ``(i, j)`` of every window, shaped ``(N, *out, C)``;
    the slices come in row-major order of the cells, as glassnet's im2col columns
    and the kernel's rows do. Returns them, the output's spatial lengths and the
    pads (``pads`` is None, and refused, only for an axis of any length).
    """
    sizes = fixed_sizes(call)
    if pads is None:  # only 'same' on an axis of any length, refused just above
        raise ExportError(f"Layer '{call.scope}': no pads for inputs of size {sizes}.")
    scope = call.scope
    xp = pad(g, call.x, pads, fill, scope)
    lengths = [
        n + before + after for n, (before, after) in zip(sizes, pads, strict=True)
    ]
    out = tuple(
        (n - (k - 1) * d - 1) // s + 1
        for n, k, s, d in zip(lengths, kernel, strides, dilation, strict=True)
    )
    axes = g.int64s(list(range(1, len(kernel) + 1)), f"{scope}/axes")
    steps = g.int64s(list(strides), f"{scope}/steps")
    views = []
    for cell in np.ndindex(*kernel):
        starts = [i * d for i, d in zip(cell, dilation, strict=True)]
        ends = [
            a + (o - 1) * s + 1 for a, o, s in zip(starts, out, strides, strict=True)
        ]
        views.append(
            g.node(
                "Slice",
                [
                    xp,
                    g.int64s(starts, f"{scope}/starts"),
                    g.int64s(ends, f"{scope}/ends"),
                    axes,
                    steps,
                ],
                scope=scope,
            )
        )
    return views, out, pads
