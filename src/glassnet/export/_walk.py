"""The walk over a model's graph that writes its ONNX nodes.

It follows ``model.graph`` as glassnet's own forward walk does (``models/walk.py``):
each step in order, reading the tensors in its input slots and writing its output
slot. The model's InputLayers become the graph inputs; each layer call appends its
nodes; the tensors in the output slots become the graph outputs. A Sequential model
is the same walk over a chain. A layer called twice (shared weights) appends its
nodes twice, and its weights, named after the layer, are stored once.

Each tensor is kept channels-last (glassnet's order), channels-first (for ONNX's
convolutions and pools), or both, and transposed at most once each way
(``_layout.py``); the graph's inputs and outputs are in glassnet's order.

>>> import numpy as np
>>> from glassnet import Input, Model
>>> from glassnet.layers import Add, Dense
>>> x = Input((3,), name="x")
>>> shared = Dense(3, name="shared")
>>> model = Model(x, Add(name="sum")([shared(x), shared(shared(x))]))
>>> g = GraphBuilder(np.float32, ["x"])
>>> ports = export_graph(model, g, ["x"], ["sum"], "batch")
>>> sorted(g.initializers), [node.output for node in g.nodes if node.op_type == "MatMul"]
(['shared.W', 'shared.b'], ['shared/MatMul', 'shared/MatMul_1', 'shared/MatMul_2'])
>>> ports
([('x', ['batch', 3])], [('sum', ['batch', 3])])
"""

from __future__ import annotations

from typing import Any

from glassnet.errors import InvalidArgumentError
from glassnet.export._errors import ExportError
from glassnet.export._graph import Dims, GraphBuilder, LayerCall
from glassnet.export._layers import export_layer, layout_of
from glassnet.export._layout import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    ELEMENTWISE,
    POINTWISE,
    TIME_MAJOR,
    Value,
    in_layout,
)
from glassnet.layers import Embedding

__all__ = ["Dims", "default_names", "export_graph"]


def default_names(model: Any) -> tuple[list[str], list[str]]:
    """Graph input and output names: the Input layers' and output layers' names.

    A Sequential model keeps glassnet's historical ``"input"`` and ``"output"``.
    Two outputs made by one layer (or an output that is an input) get a suffix.
    """
    from glassnet.models import Sequential

    if isinstance(model, Sequential):
        return ["input"], ["output"]
    graph = model.graph
    inputs = [layer.name for layer in graph.input_layers]
    outputs: list[str] = []
    for tensor in graph.outputs:
        name, n = tensor.node.layer.name, 1
        while name in outputs or name in inputs:
            name, n = f"{tensor.node.layer.name}_{n}", n + 1
        outputs.append(name)
    return inputs, outputs


def export_graph(
    model: Any,
    g: GraphBuilder,
    input_names: list[str],
    output_names: list[str],
    batch: int | str,
) -> tuple[list[tuple[str, Dims]], list[tuple[str, Dims]]]:
    """Append the model's nodes to ``g``; returns its inputs and outputs with dims.

    The batch axis is ``batch`` (a name makes it dynamic); an input axis of any
    length (``None`` in ``Input(shape)``) is dynamic too, named
    ``"{input}_dim{axis}"``. Output axes of unknown length are left unnamed.
    """
    graph = model.graph
    _refuse_masking(graph)
    for step in graph.steps:  # ONNX's LSTM has initial_h/Y_h; not written here yet
        if step.state_inputs or len(step.outputs) > 1:
            raise ExportError(
                f"Layer '{step.layer.name}' is called with initial_state= or returns "
                "its states (return_state=True), which glassnet.export does not "
                "write to ONNX yet. Export the parts of the model that start from "
                "zero states and return one output. Received: layer="
                f"{type(step.layer).__name__}(name={step.layer.name!r})"
            )
    values: dict[int, Value] = {}
    inputs: list[tuple[str, Dims]] = []
    for slot, tensor, name in zip(
        graph.input_slots, graph.inputs, input_names, strict=True
    ):
        if _holds_token_ids(graph, slot):
            g.id_inputs.add(name)
        elif tensor.dtype.kind != "f":
            raise ExportError(
                f"Input '{tensor.name}' holds {tensor.dtype.name} values (token ids); "
                "in an exported graph only Embedding layers may read token ids, "
                "and this input goes elsewhere too. Give the other layers a float "
                f"Input. Received: an Input with dtype={tensor.dtype.name!r}"
            )
        values[slot] = Value.of(name, len(tensor.shape))
        dims: Dims = [batch]
        for axis, size in enumerate(tensor.shape[1:], start=1):
            dims.append(f"{name}_dim{axis}" if size is None else int(size))
        inputs.append((name, dims))
    for step in graph.steps:
        sources = [values[slot] for slot in step.inputs]
        layout = _layout_for(layout_of(step.layer, g.dtype), sources)
        call = LayerCall(
            step.layer,
            [in_layout(g, value, layout, str(step.layer.name)) for value in sources],
            [tuple(t.shape) for t in step.node.inputs],
            layout,
        )
        rank = len(step.node.outputs[0].shape)
        values[step.output] = Value.of(export_layer(g, call), rank, layout)
    for name in output_names:
        if g.is_taken(name):
            raise InvalidArgumentError(
                f"The output name {name!r} is already the name of a weight or an "
                "intermediate tensor in this graph; choose another name with "
                f"output_name=. Received: output_name={name!r}"
            )
    outputs: list[tuple[str, Dims]] = []
    for slot, tensor, name in zip(
        graph.output_slots, graph.outputs, output_names, strict=True
    ):
        g.name_output(in_layout(g, values[slot], CHANNELS_LAST, name), name)
        tail: Dims = [None if size is None else int(size) for size in tensor.shape[1:]]
        outputs.append((name, [batch, *tail]))
    return inputs, outputs


def _holds_token_ids(graph: Any, slot: int) -> bool:
    """Whether the graph input in ``slot`` is read by Embedding layers only (and
    is no graph output): the ONNX graph then takes it as int64 token ids, even
    where glassnet's model holds them as floats (a Sequential's input)."""
    readers = [step.layer for step in graph.steps if slot in step.inputs]
    return (
        bool(readers)
        and all(type(layer) is Embedding for layer in readers)
        and slot not in graph.output_slots
    )


def _refuse_masking(graph: Any) -> None:
    """An ExportError for a model with a layer that makes a padding mask: the
    recurrent layers after it skip masked steps wherever they are, while ONNX's
    recurrent ops can only stop early (``sequence_lens``, padding at the end)."""
    for step in graph.steps:
        layer = step.layer
        masking = getattr(layer, "creates_mask", False) or (
            type(layer) is Embedding and layer.mask_zero
        )
        if not masking:
            continue
        what = (
            "an Embedding with mask_zero=True"
            if type(layer) is Embedding
            else f"a {type(layer).__name__} layer"
        )
        raise ExportError(
            f"Layer '{layer.name}' is {what}: it makes a padding mask, and the "
            "layers after it skip the masked steps, which glassnet.export cannot "
            "express exactly in ONNX yet. Export a copy of the model without the "
            "mask (mask_zero=False, no Masking layer) if your sequences hold no "
            "padding. Received: layer="
            f"{type(layer).__name__}(name={layer.name!r})"
        )


def _layout_for(kind: str, sources: list[Value]) -> str:
    """The layout a layer's inputs are given in: its own, or, for an elementwise
    or pointwise layer, the one of its choices that needs the fewest transposes
    (channels-last on a tie)."""
    if kind == ELEMENTWISE:
        choices = [CHANNELS_LAST, CHANNELS_FIRST]
    elif kind == POINTWISE:
        choices = [CHANNELS_LAST, CHANNELS_FIRST, TIME_MAJOR]
    else:
        return kind
    return min(
        choices, key=lambda layout: sum(not value.has(layout) for value in sources)
    )
