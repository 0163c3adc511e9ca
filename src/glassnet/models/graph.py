"""A model's graph: which layer calls run, in what order, on which tensors.

:class:`Graph` follows the nodes recorded by the functional API (layers/symbolic.py)
back from the outputs to the inputs and sorts them so every call comes after the
calls it depends on. A ``Sequential`` model is the same graph, a chain. The walk
that runs it forward and backward is in ``models/walk.py``.

>>> from glassnet.layers import Input, Dense, Concatenate
>>> a, b = Input((2,), name="a"), Input((3,), name="b")
>>> merged = Concatenate(name="both")([Dense(4, name="da")(a), b])
>>> graph = Graph([a, b], [Dense(1, name="out")(merged)])
>>> [layer.name for layer in graph.layers]  # Keras' order: deepest first
['a', 'da', 'b', 'both', 'out']
>>> graph.is_chain
False
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers.base import Layer
from glassnet.layers.input_layer import InputLayer
from glassnet.layers.symbolic import Node, SymbolicTensor

__all__ = ["Graph", "Step"]


class Step:
    """One layer call of the graph, with the slots its tensors live in during a pass.

    ``outputs`` holds a slot per output of the call (several for a recurrent layer
    with ``return_state``), ``output`` the first. The last ``state_inputs`` of
    ``inputs`` are the call's ``initial_state=`` tensors: :meth:`arguments` hands
    them to the layer as a keyword, and its backward returns their gradients after
    ``dx``.

    >>> from glassnet.layers import Input, LSTM
    >>> x = Input((5, 2))
    >>> _, h, c = LSTM(3, return_state=True)(x)
    >>> out = LSTM(3)(x, initial_state=[h, c])
    >>> graph = Graph([x], [out])
    >>> [(s.inputs, s.outputs, s.state_inputs) for s in graph.steps]
    [([0], [1, 2, 3], 0), ([0, 2, 3], [4], 2)]
    """

    __slots__ = (
        "inputs",
        "layer",
        "list_call",
        "node",
        "output",
        "outputs",
        "shared",
        "state_inputs",
        "training",
    )

    def __init__(self, node: Node, inputs: list[int], outputs: list[int], shared: bool):
        self.node = node
        self.layer = node.layer
        self.inputs = inputs
        self.outputs = outputs
        self.output = outputs[0]
        self.list_call = node.list_call
        self.state_inputs = node.state_inputs
        #: the layer is called more than once in this graph (its weights are shared)
        self.shared = shared
        #: the call's own training mode, when it was given one
        self.training = node.training

    def arguments(self, values: list[Any]) -> tuple[Any, dict[str, Any]]:
        """What the layer is called on, from the tensors in ``values`` (by slot):
        one array or a list (merge layers), and ``{"initial_state": [...]}`` for a
        call given initial states (else no keywords)."""
        if self.list_call:
            return [values[slot] for slot in self.inputs], {}
        x = values[self.inputs[0]]
        if not self.state_inputs:
            return x, {}
        return x, {"initial_state": [values[slot] for slot in self.inputs[1:]]}

    def store(self, values: list[Any], result: Any) -> None:
        """Put what the call gave (one value, or one per output) in its slots."""
        if len(self.outputs) == 1:
            values[self.output] = result
            return
        for slot, value in zip(self.outputs, result, strict=True):
            values[slot] = value


class Graph:
    """The directed acyclic graph from ``inputs`` to ``outputs`` (symbolic tensors).

    Raises a clear error for an output that needs a tensor the inputs do not give,
    an input no output uses, an input given twice, and two layers with one name.
    """

    def __init__(self, inputs: list[SymbolicTensor], outputs: list[SymbolicTensor]):
        for argument, tensors in (("inputs", inputs), ("outputs", outputs)):
            for tensor in tensors:
                if not isinstance(tensor, SymbolicTensor):
                    raise GlassnetTypeError(
                        f"Argument `{argument}` must hold symbolic tensors (from "
                        "glassnet.Input(...) and layer calls on them). "
                        f"Received: {tensor!r:.100} ({type(tensor).__name__})"
                    )
        for tensor in inputs:
            if not isinstance(tensor.node.layer, InputLayer):
                raise InvalidArgumentError(
                    "Every model input must come from glassnet.Input(...). Received: "
                    f"a tensor made by layer '{tensor.node.layer.name}'"
                )
        if len({id(t) for t in inputs}) != len(inputs):
            raise InvalidArgumentError("The same Input is given twice in `inputs`.")
        self.inputs, self.outputs = list(inputs), list(outputs)
        input_nodes = [t.node for t in inputs]
        ordered = _topological_nodes(outputs, input_nodes)
        used = {id(node) for node in ordered}
        unused = [t.name for t in inputs if id(t.node) not in used]
        if unused:
            raise InvalidArgumentError(
                f"Input(s) {unused} are not used to compute any output. Remove them "
                "from `inputs`, or connect them to the outputs."
            )
        self.nodes = [*input_nodes, *(n for n in ordered if n not in input_nodes)]
        #: Keras' order (deepest first; see _keras_layer_order): weights and files
        #: follow it, so get_weights lines up with Keras' for the same graph
        self.layers: list[Layer] = _keras_layer_order(inputs, outputs)
        names = Counter(layer.name for layer in self.layers)  # O(n), not list.count
        duplicates = sorted(name for name, count in names.items() if count > 1)
        if duplicates:
            raise InvalidArgumentError(
                f"All layers in a model need unique names; {duplicates} are used by "
                "more than one layer. Give each layer its own name=."
            )
        self.slots: dict[int, int] = {}
        for node in self.nodes:
            for tensor in node.outputs:
                self.slots[id(tensor)] = len(self.slots)
        calls: dict[int, int] = {}
        for node in self.nodes:
            calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
        self.input_slots = [self.slots[id(t)] for t in inputs]
        self.output_slots = [self.slots[id(t)] for t in outputs]
        self.steps = [
            Step(
                node,
                [self.slots[id(t)] for t in node.inputs],
                [self.slots[id(t)] for t in node.outputs],
                calls[id(node.layer)] > 1,
            )
            for node in self.nodes[len(inputs) :]
        ]
        self.is_chain = (
            len(inputs) == 1
            and len(outputs) == 1
            and all(
                not s.shared
                and not s.list_call
                and s.training is None
                and len(s.inputs) == len(s.outputs) == 1
                for s in self.steps
            )
            and all(
                s.inputs == [prev]
                for s, prev in zip(
                    self.steps,
                    [self.input_slots[0], *(s.output for s in self.steps)],
                    strict=False,
                )
            )
            and (not self.steps or self.steps[-1].output == self.output_slots[0])
        )
        #: whether a layer makes a padding mask, so the walk carries masks
        #: (``models/walk.py``); then the masks of the outputs of the last forward
        #: pass (None for an output without one) are kept in ``output_masks``
        self.masking = any(
            getattr(step.layer, "creates_mask", False) for step in self.steps
        )
        self.output_masks: list[Any] = [None] * len(outputs)

    @property
    def input_layers(self) -> list[InputLayer]:
        """The InputLayer of each input, in order."""
        return [t.node.layer for t in self.inputs]  # type: ignore[misc]

    def consumers(self, tensor: SymbolicTensor) -> list[Node]:
        """The layer calls that take ``tensor`` as an input."""
        return [node for node in self.nodes if any(t is tensor for t in node.inputs)]

    def inbound_layer_names(self, node: Node) -> list[str]:
        """Names of the layers feeding ``node`` (summary's "Connected to")."""
        return [t.node.layer.name for t in node.inputs]


def _topological_nodes(outputs: list[SymbolicTensor], inputs: list[Node]) -> list[Node]:
    """Every node the outputs depend on, each after the nodes it depends on.

    A depth-first walk with an explicit stack (a deep model, thousands of layers in
    a chain, must not hit Python's recursion limit): a node is emitted once all the
    nodes of its inputs are.
    """
    order: list[Node] = []
    done: set[int] = set()
    given = {id(node) for node in inputs}
    for tensor in outputs:
        stack: list[tuple[Node, bool]] = [(tensor.node, False)]
        active: set[int] = set()
        while stack:
            node, expanded = stack.pop()
            key = id(node)
            if expanded:
                active.discard(key)
                if key not in done:
                    done.add(key)
                    order.append(node)
                continue
            if key in done:
                continue
            if key in active:  # cannot happen with symbolic calls; never loop forever
                raise InvalidArgumentError("The layer graph has a cycle.")
            if not node.inputs and key not in given:
                raise InvalidArgumentError(
                    f"The outputs depend on Input '{node.layer.name}', which is not in "
                    "`inputs`. Add it to the model's inputs."
                )
            active.add(key)
            stack.append((node, True))
            if key not in given:
                for parent in reversed(node.inputs):
                    stack.append((parent.node, False))
    return order


def _keras_layer_order(
    inputs: list[SymbolicTensor], outputs: list[SymbolicTensor]
) -> list[Layer]:
    """The layers in the order Keras 3 lists them (``keras/src/ops/function.py``).

    A depth-first walk from the outputs numbers the layers in the order it meets
    them; each node's depth is its longest distance to an output (a layer takes the
    largest depth of its calls). Layers are listed deepest first, ties in the order
    met, so the inputs usually come first.
    """
    given = {id(t) for t in inputs}
    finished: set[int] = set()
    post_order: list[Node] = []
    met: dict[int, int] = {}
    # Keras' recursive walk, with an explicit stack: (tensor, children pushed yet)
    for output in outputs:
        stack: list[tuple[SymbolicTensor, bool]] = [(output, False)]
        while stack:
            tensor, expanded = stack.pop()
            node = tensor.node
            if expanded:
                if id(node) not in finished:
                    finished.add(id(node))
                    post_order.append(node)
                continue
            if id(node) in finished:
                continue
            met.setdefault(id(node.layer), len(met))
            stack.append((tensor, True))
            if node.inputs and id(tensor) not in given:
                for parent in reversed(node.inputs):
                    stack.append((parent, False))
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, Layer] = {}
    for node in reversed(post_order):
        depth = max(
            node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0)
        )
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        layers[id(node.layer)] = node.layer
        for parent in node.inputs:
            key = id(parent.node)
            node_depth[key] = max(depth + 1, node_depth.get(key, 0))
    return sorted(
        layers.values(), key=lambda lay: (-layer_depth[id(lay)], met[id(lay)])
    )


def flatten_io(value: Any, argument: str) -> tuple[list[Any], list[str] | None]:
    """A tensor, list or dict of tensors as a list, with the dict's keys (or None)."""
    if isinstance(value, dict):
        return list(value.values()), [str(k) for k in value]
    if isinstance(value, (list, tuple)):
        if not value:
            raise InvalidArgumentError(f"Argument `{argument}` is empty.")
        return list(value), None
    return [value], None
