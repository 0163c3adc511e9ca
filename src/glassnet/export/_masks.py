"""Padding masks in an exported graph: Masking, Embedding(mask_zero=True) and the
recurrent layers that skip the masked steps.

The walk (``_walk.py``) keeps, beside each tensor, the name of its padding mask in
the ONNX graph (a bool ``(N, steps)`` tensor, True where a step is real) or None,
following glassnet's own rules (``models/walk.py``, ``layers/base.py``):

- ``Embedding(mask_zero=True)``: ``Not(Equal(ids, 0))``;
- ``Masking(mask_value)``: ``ReduceSum(Cast(Not(Equal(x, v))), -1) > 0`` (some
  feature differs), and its output ``Where(mask, x, 0)``;
- a SimpleRNN, LSTM or GRU given a mask runs as a ``Scan`` (``_scan.py``) that
  reads the mask beside each step and carries its states over the masked ones;
  it passes the mask on with ``return_sequences``;
- ``GlobalAveragePooling1D`` given a mask averages over the real steps,
  ``ReduceSum(x * m) / ReduceSum(m)`` (NaN for a row of padding only, as in
  glassnet and Keras), and ends the mask;
- a layer that ``supports_masking`` with Keras' default rule passes it on
  unchanged (Dense, TimeDistributed, Dropout, activations, BatchNormalization,
  which uses no mask at inference); any other layer ends it.

A layer that would *use* or *combine* masks otherwise (Bidirectional, the merge
layers, a model used as a layer) is refused by name, as is a masked recurrent
layer given ``initial_state=``.

>>> import numpy as np
>>> from glassnet.export._graph import GraphBuilder
>>> g = GraphBuilder(np.float32, ["ids"])
>>> mask = embedding_mask(g, "embedding", "ids", ids_are_int=True)
>>> [node.op_type for node in g.nodes]
['Equal', 'Not']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.export._errors import ExportError
from glassnet.export._graph import GraphBuilder
from glassnet.layers import (
    GRU,
    LSTM,
    BatchNormalization,
    Embedding,
    GlobalAveragePooling1D,
    Layer,
    Masking,
    SimpleRNN,
)

__all__ = [
    "MASKED_RECURRENT",
    "check_masked_call",
    "embedding_mask",
    "masked_average",
    "masking_layer",
    "output_mask",
    "time_major_mask",
]

#: the recurrent layers whose masked steps the export writes (in a Scan)
MASKED_RECURRENT = (SimpleRNN, LSTM, GRU)


def embedding_mask(g: GraphBuilder, scope: str, ids: str, *, ids_are_int: bool) -> str:
    """``ids != 0`` as a bool tensor (float ids are rounded first, as glassnet's
    ``np.rint``)."""
    if not ids_are_int:
        rounded = g.node("Round", [ids], scope=scope)
        ids = g.node("Cast", [rounded], scope=scope, to=np.dtype(np.int64))
    zero = g.constant(0, f"{scope}/padding_id", dtype=np.int64)
    return g.node("Not", [g.node("Equal", [ids, zero], scope=scope)], scope=scope)


def masking_layer(
    g: GraphBuilder, scope: str, x: str, mask_value: float
) -> tuple[str, str]:
    """Masking's output ``where(mask, x, 0)`` and its mask ``any(x != v, -1)``."""
    value = g.constant(mask_value, f"{scope}/mask_value")
    differs = g.node("Not", [g.node("Equal", [x, value], scope=scope)], scope=scope)
    count = g.node(
        "ReduceSum",
        [
            g.node("Cast", [differs], scope=scope, to=g.dtype),
            g.int64s([-1], f"{scope}/last_axis"),
        ],
        scope=scope,
        keepdims=0,
    )
    zero = g.constant(0.0, f"{scope}/zero")
    mask = g.node("Greater", [count, zero], scope=scope)
    keep = g.node("Unsqueeze", [mask, g.int64s([-1], f"{scope}/features")], scope=scope)
    return g.node("Where", [keep, x, zero], scope=scope), mask


def time_major_mask(g: GraphBuilder, scope: str, mask: str) -> str:
    """The (N, steps) bool mask as the Scan reads it: (steps, N, 1), 1.0 or 0.0."""
    steps_first = g.node("Transpose", [mask], scope=scope, perm=[1, 0])
    column = g.node(
        "Unsqueeze", [steps_first, g.int64s([2], f"{scope}/mask_axis")], scope=scope
    )
    return g.node("Cast", [column], scope=scope, to=g.dtype)


def masked_average(
    g: GraphBuilder,
    scope: str,
    x: str,
    mask: str,
    *,
    channels_first: bool,
    keepdims: bool,
) -> str:
    """GlobalAveragePooling1D over the real steps of ``x`` ((N, T, C), or (N, C, T)
    when ``channels_first``): ``sum(x * m) / sum(m)`` over the steps."""
    axis = 2 if channels_first else 1
    column = g.int64s([1 if channels_first else 2], f"{scope}/mask_axis")
    weights = g.node(
        "Cast",
        [g.node("Unsqueeze", [mask, column], scope=scope)],
        scope=scope,
        to=g.dtype,
    )
    steps = g.int64s([axis], f"{scope}/steps_axis")
    keep = int(keepdims)
    total = g.node(
        "ReduceSum",
        [g.node("Mul", [x, weights], scope=scope), steps],
        scope=scope,
        keepdims=keep,
    )
    count = g.node("ReduceSum", [weights, steps], scope=scope, keepdims=keep)
    return g.node("Div", [total, count], scope=scope)


def _default_rule(layer: Any) -> bool:
    """Whether the layer's output mask follows Keras' default rule (its input's
    mask when ``supports_masking``, else none) without the layer using it."""
    uses = getattr(layer, "takes_mask", False) and type(layer) is not BatchNormalization
    default = getattr(type(layer), "compute_mask", None) is Layer.compute_mask
    return default and not uses and not getattr(layer, "takes_list", False)


def check_masked_call(layer: Any, has_states: bool) -> None:
    """Refuse, by name, a layer given a padding mask that the export cannot follow."""
    if type(layer) in MASKED_RECURRENT:
        if has_states:
            raise ExportError(
                f"Layer '{layer.name}' skips padded steps and starts from "
                "initial_state=, which glassnet.export does not write to ONNX: its "
                "outputs before a sample's first real step are zeros, not the "
                "initial state. Export a model without one of the two. Received: "
                f"{type(layer).__name__}(name={layer.name!r})"
            )
        return
    if type(layer) in (Embedding, Masking, GlobalAveragePooling1D):
        return
    if _default_rule(layer):
        return
    raise ExportError(
        f"Layer '{layer.name}' ({type(layer).__name__}) is given a padding mask, "
        "which it uses or combines in a way glassnet.export does not write to ONNX "
        "yet (the export follows masks through Masking, Embedding(mask_zero=True), "
        "SimpleRNN, LSTM, GRU, GlobalAveragePooling1D and the layers that pass a "
        "mask on unchanged). "
        "Export a copy of the model without the mask (mask_zero=False, no Masking "
        "layer) if your sequences hold no padding. Received: layer="
        f"{type(layer).__name__}(name={layer.name!r})"
    )


def output_mask(layer: Any, mask: str | None) -> str | None:
    """The mask of the output of a layer given ``mask`` (not one making masks)."""
    if type(layer) in MASKED_RECURRENT:
        return mask if layer.return_sequences else None
    return mask if getattr(layer, "supports_masking", False) else None
