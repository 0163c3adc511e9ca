"""A small recorder of ONNX nodes and weights, in plain Python and NumPy.

The layer and activation converters describe the graph through :class:`GraphBuilder`;
only :func:`glassnet.export.onnx_export.to_onnx` turns the records into ONNX protobuf
objects, so this module (and ``import glassnet.export``) never imports ``onnx``.

>>> import numpy as np
>>> g = GraphBuilder(np.float32, ["input"])
>>> half = g.constant(0.5, "half")
>>> y = g.node("Mul", ["input", half], scope="scale")
>>> y, [node.op_type for node in g.nodes], g.initializers["half"].dtype
('scale/Mul', ['Mul'], dtype('float32'))
>>> g.constant(0.5, "half")  # the same value under the same name is stored once
'half'

A subgraph (the body of a ``Scan``) is recorded by a builder of its own that
shares the names and weights of the graph around it:

>>> body = g.body()
>>> h = body.input("step/h")
>>> y = body.node("Tanh", [body.node("Mul", [h, half], scope="step")], scope="step")
>>> loop = Subgraph(body, [(h, [None, 2])], [(y, [None, 2])])
>>> [node.op_type for node in body.nodes], len(g.nodes), body.initializers is g.initializers
(['Mul', 'Tanh'], 1, True)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet._typing import Array

__all__ = ["Dims", "GraphBuilder", "LayerCall", "Node", "Subgraph"]

#: A tensor's declared dims: an int, a named dynamic axis, or None (unknown length).
Dims = list[int | str | None]


@dataclass
class Node:
    """One ONNX node: ``outputs = op_type(*inputs, **attributes)``.

    A node has one output the graph uses, ``output``, at position
    ``output_index`` among the op's outputs. The others before it are left
    unnamed, as ONNX allows for optional outputs (an ``LSTM``'s last state
    ``Y_h`` is its output 1), or, for ops whose outputs are not optional (a
    ``Scan``'s), named in ``spare_outputs`` (position -> name) and left unused.
    """

    op_type: str
    inputs: list[str]
    output: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    output_index: int = 0
    spare_outputs: dict[int, str] = field(default_factory=dict)

    @property
    def outputs(self) -> list[str]:
        """Every output's name, in the op's order ("" for an unnamed one)."""
        count = max([self.output_index, *self.spare_outputs]) + 1
        return [
            self.output
            if index == self.output_index
            else self.spare_outputs.get(index, "")
            for index in range(count)
        ]


@dataclass
class Subgraph:
    """A graph held by a node attribute, such as a ``Scan``'s ``body``: the
    nodes ``builder`` recorded, its inputs and its outputs with their dims. It
    reads the weights of the graph around it by name, as ONNX allows."""

    builder: GraphBuilder
    inputs: list[tuple[str, Dims]]
    outputs: list[tuple[str, Dims]]


@dataclass
class LayerCall:
    """One call of a layer in the model's graph, as a converter sees it.

    ``inputs`` are the names of the tensors the layer is called on (one, or several
    for a merge layer) and ``shapes`` their full shapes in glassnet's order (channels
    last), batch axis first, ``None`` for an axis of any length (the batch axis
    always). ``layout`` says how the ``inputs`` are laid out: ``"channels_last"``
    as in glassnet, or ``"channels_first"`` (``(N, C, H, W)``) where the walk moved
    the channels for ONNX's convolutions and pools (``_layout.py``).
    """

    layer: Any
    inputs: list[str]
    shapes: list[tuple[int | None, ...]]
    layout: str = "channels_last"

    @property
    def x(self) -> str:
        """The (first) input tensor."""
        return self.inputs[0]

    @property
    def rank(self) -> int:
        """Number of axes of the (first) input, the batch axis included."""
        return len(self.shapes[0])

    @property
    def scope(self) -> str:
        """The layer's name, which prefixes its nodes' names."""
        return str(self.layer.name)


class GraphBuilder:
    """Collects nodes and initializers for a graph computing in ``dtype``.

    Parameters
    ----------
    dtype : float32 or float64
        The type of the graph's inputs, weights, constants and outputs.
    inputs : sequence of str
        The names of the graph inputs (no node or weight takes these names).
    opset : int
        The ONNX opset the graph targets (some translations depend on it).
    """

    def __init__(self, dtype: Any, inputs: Sequence[str], opset: int = 17) -> None:
        self.dtype = np.dtype(dtype)
        self.inputs = list(inputs)
        self.opset = opset
        self.nodes: list[Node] = []
        self.initializers: dict[str, Array] = {}
        self._taken = set(self.inputs)
        #: requested name -> stored names, so a repeated request is stored once
        self._stored: dict[str, list[str]] = {}
        #: tensor -> graph output name, for the outputs named so far
        self._renamed: dict[str, str] = {}
        #: the graph inputs that hold int64 token ids (not the graph's float type)
        self.id_inputs: set[str] = set()

    def _unique(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self._taken:
            candidate, n = f"{name}_{n}", n + 1
        self._taken.add(candidate)
        return candidate

    def _store(self, name: str, array: Array) -> str:
        """Store ``array`` as an initializer, or reuse an identical one of that name.

        Weights are named after their layer (``dense_1.W``), so a layer called twice
        (shared weights) asks twice for the same name and array: the graph holds
        them once and both calls' nodes read them.
        """
        for stored in self._stored.get(name, []):
            earlier = self.initializers[stored]
            if earlier.shape == array.shape and np.array_equal(earlier, array):
                return stored
        unique = self._unique(name)
        self._stored.setdefault(name, []).append(unique)
        self.initializers[unique] = array
        return unique

    def weight(
        self, name: str, array: Array, shape: Sequence[int] | None = None
    ) -> str:
        """Store a copy of ``array`` (graph dtype, reshaped to ``shape`` if given)."""
        value = np.array(array, dtype=self.dtype)
        if shape is not None:
            value = value.reshape(tuple(shape))
        return self._store(name, value)

    def constant(self, value: Any, name: str, dtype: Any = None) -> str:
        """A constant initializer (graph dtype unless ``dtype`` is given).

        Constants are typed like the data they meet, so ``x >= 0.1`` compares a
        float32 ``x`` with ``float32(0.1)``, as NumPy does.
        """
        return self._store(name, np.array(value, dtype=dtype or self.dtype))

    def int64s(self, values: Sequence[int], name: str) -> str:
        """A 1-D int64 constant: the shapes, axes and repeats that ops take as inputs."""
        return self.constant(list(values), name, dtype=np.int64)

    def node(
        self,
        op_type: str,
        inputs: list[str],
        *,
        scope: str,
        output_index: int = 0,
        outputs: int = 0,
        **attributes: Any,
    ) -> str:
        """Append a node and return the name of its output tensor.

        The node and its output share the name ``"{scope}/{op_type}"`` (made unique
        with a suffix), so a viewer such as Netron shows which layer a node is from.
        ``output_index`` picks which of the op's outputs that is (see :class:`Node`);
        ``outputs`` names that many outputs in all, the others unused.
        """
        name = self._unique(f"{scope}/{op_type}")
        spare = {
            index: self._unique(f"{name}:{index}")
            for index in range(outputs)
            if index != output_index
        }
        self.nodes.append(
            Node(op_type, list(inputs), name, name, attributes, output_index, spare)
        )
        return name

    def body(self) -> GraphBuilder:
        """A builder for a subgraph: nodes of its own, the names, weights and
        constants shared with this graph (so none clashes, and the subgraph reads
        the weights by name)."""
        body = copy.copy(self)
        body.nodes = []
        return body

    def input(self, name: str) -> str:
        """Reserve a unique name for an input of a subgraph."""
        return self._unique(name)

    def is_taken(self, name: str) -> bool:
        """Whether a graph input, weight, constant or node output has this name."""
        return name in self._taken

    def name_output(self, tensor: str, name: str) -> None:
        """Make the graph output ``name`` hold ``tensor``.

        The node computing ``tensor`` is renamed when it can be; a graph input, or
        a tensor already renamed for another output, is passed on by an
        ``Identity`` node instead.
        """
        self._taken.add(name)
        tensor = self._renamed.get(tensor, tensor)
        producer = next((n for n in self.nodes if n.output == tensor), None)
        if producer is None or tensor in self._renamed.values():
            node_name = self._unique(f"{name}/Identity")
            self.nodes.append(Node("Identity", [tensor], name, node_name))
            return
        for node in self.nodes:
            node.inputs = [name if i == tensor else i for i in node.inputs]
        producer.output = name
        self._renamed[tensor] = name
