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
from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.export._layers import export_layer, layout_of
from glassnet.export._layout import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    ELEMENTWISE,
    Value,
    in_layout,
)

__all__ = ["Dims", "default_names", "export_graph"]

#: A tensor's declared dims: an int, a named dynamic axis, or None (unknown length).
Dims = list[int | str | None]


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
    inputs: list[tuple[str, Dims]] = []
    for slot, tensor, name in zip(
        graph.input_slots, graph.inputs, input_names, strict=True
    ):
        if tensor.dtype.kind != "f":
            raise ExportError(
                f"Input '{tensor.name}' holds {tensor.dtype.name} values (token ids); "
                "glassnet.export has no ONNX translation yet for layers that read "
                "integer inputs. Received: an Input with dtype="
                f"{tensor.dtype.name!r}"
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


def _layout_for(kind: str, sources: list[Value]) -> str:
    """The layout a layer's inputs are given in: its own, or, for an elementwise
    layer, the one that needs the fewer transposes (channels-last on a tie)."""
    if kind != ELEMENTWISE:
        return kind
    missing = {
        layout: sum(not value.has(layout) for value in sources)
        for layout in (CHANNELS_LAST, CHANNELS_FIRST)
    }
    if missing[CHANNELS_FIRST] < missing[CHANNELS_LAST]:
        return CHANNELS_FIRST
    return CHANNELS_LAST
