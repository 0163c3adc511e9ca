"""A small recorder of ONNX nodes and weights, in plain Python and NumPy.

The layer and activation converters describe the graph through :class:`GraphBuilder`;
only :func:`glassnet.export.onnx_export.to_onnx` turns the records into ONNX protobuf
objects, so this module (and ``import glassnet.export``) never imports ``onnx``.

>>> import numpy as np
>>> g = GraphBuilder(np.float32, "input")
>>> half = g.constant(0.5, "half")
>>> y = g.node("Mul", [g.input, half], scope="scale")
>>> y, [node.op_type for node in g.nodes], g.initializers["half"].dtype
('scale/Mul', ['Mul'], dtype('float32'))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet._typing import Array

__all__ = ["GraphBuilder", "Node"]


@dataclass
class Node:
    """One ONNX node: ``outputs = op_type(*inputs, **attributes)``."""

    op_type: str
    inputs: list[str]
    output: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


class GraphBuilder:
    """Collects nodes and initializers for a graph computing in ``dtype``.

    Parameters
    ----------
    dtype : float32 or float64
        The type of the graph's input, weights, constants and output.
    input_name : str
        The name of the graph input; :attr:`input` holds it.
    opset : int
        The ONNX opset the graph targets (some translations depend on it).
    """

    def __init__(self, dtype: Any, input_name: str, opset: int = 17) -> None:
        self.dtype = np.dtype(dtype)
        self.input = input_name
        self.opset = opset
        self.nodes: list[Node] = []
        self.initializers: dict[str, Array] = {}
        self._taken = {input_name}

    def _unique(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self._taken:
            candidate, n = f"{name}_{n}", n + 1
        self._taken.add(candidate)
        return candidate

    def weight(self, name: str, array: Array) -> str:
        """Store a copy of ``array`` (cast to the graph dtype) as an initializer."""
        name = self._unique(name)
        self.initializers[name] = np.array(array, dtype=self.dtype)
        return name

    def constant(self, value: Any, name: str, dtype: Any = None) -> str:
        """A constant initializer (graph dtype unless ``dtype`` is given).

        Constants are typed like the data they meet, so ``x >= 0.1`` compares a
        float32 ``x`` with ``float32(0.1)``, as NumPy does.
        """
        name = self._unique(name)
        self.initializers[name] = np.array(value, dtype=dtype or self.dtype)
        return name

    def node(
        self, op_type: str, inputs: list[str], *, scope: str, **attributes: Any
    ) -> str:
        """Append a node and return the name of its output tensor.

        The node and its output share the name ``"{scope}/{op_type}"`` (made unique
        with a suffix), so a viewer such as Netron shows which layer a node is from.
        """
        name = self._unique(f"{scope}/{op_type}")
        self.nodes.append(Node(op_type, list(inputs), name, name, attributes))
        return name

    def rename_output(self, old: str, new: str) -> None:
        """Give the tensor ``old`` (the graph's last result) the name ``new``."""
        self._taken.add(new)
        for node in self.nodes:
            node.inputs = [new if name == old else name for name in node.inputs]
            if node.output == old:
                node.output = new
