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
from glassnet.export._masks import (
    MASKED_RECURRENT,
    check_masked_call,
    embedding_mask,
    masked_average,
    masking_layer,
    output_mask,
    time_major_mask,
)
from glassnet.export._recurrent import _refuse_softmax as refuse_softmax
from glassnet.export._recurrent_states import recurrent_with_states
from glassnet.export._scan import scan_with_states
from glassnet.layers import Embedding, GlobalAveragePooling1D, Masking

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
    values: dict[int, Value] = {}
    #: each tensor's padding mask in the ONNX graph, or None (``_masks.py``)
    masks: dict[int, str | None] = {}
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
        names, out_mask = _write_call(
            g, step, call, [masks.get(i) for i in step.inputs]
        )
        for slot, name, tensor in zip(
            step.outputs, names, step.node.outputs, strict=False
        ):
            values[slot] = Value.of(name, len(tensor.shape), layout)
        masks[step.output] = out_mask  # returned states carry no mask
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


def _write_call(
    g: GraphBuilder, step: Any, call: LayerCall, given: list[str | None]
) -> tuple[list[str], str | None]:
    """Append one layer call: the names of its outputs (one, or a recurrent
    layer's output and states) and its output's padding mask (``_masks.py``)."""
    layer, scope = step.layer, call.scope
    mask = given[0] if not step.list_call else None
    if any(m is not None for m in given):
        check_masked_call(layer, bool(step.state_inputs))
    if type(layer) is Masking:
        y, made = masking_layer(g, scope, call.x, layer.mask_value)
        return [y], made
    if type(layer) is GlobalAveragePooling1D and mask is not None:
        first = call.layout == CHANNELS_FIRST
        y = masked_average(
            g, scope, call.x, mask, channels_first=first, keepdims=layer.keepdims
        )
        return [y], None
    if type(layer) in MASKED_RECURRENT and mask is not None:
        refuse_softmax(layer)
        names = scan_with_states(
            g,
            scope,
            call.x,
            layer,
            layer.params,
            flip=layer.go_backwards,
            mask=time_major_mask(g, scope, mask),
        )
        return names, output_mask(layer, mask)
    if step.state_inputs or len(step.outputs) > 1:  # initial or returned states
        names = recurrent_with_states(g, call, step.state_inputs)
        return names, output_mask(layer, mask) if mask is not None else None
    y = export_layer(g, call)
    if type(layer) is Embedding:  # makes its own mask, or none (a mask ends)
        if not layer.mask_zero:
            return [y], None
        ids_are_int = call.x in g.id_inputs
        return [y], embedding_mask(g, scope, call.x, ids_are_int=ids_are_int)
    return [y], None if mask is None else output_mask(layer, mask)


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
