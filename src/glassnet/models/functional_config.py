"""A functional model's config in Keras 3's layout, and Keras' order of its layers.

Keras 3 describes a functional model by its layers, each listing the calls made on
it (its *inbound nodes*), and by the tensors that are the model's inputs and
outputs. A tensor is named by its ``keras_history``: the layer that made it, which
of that layer's calls made it (the node index, counting only the calls inside this
model) and which output of the call (0, or a recurrent layer's state with
``return_state``: ``["encoder", 0, 1]`` is its h)::

    {"name": "functional", "trainable": true, "seed": null,
     "layers": [
       {"class_name": "InputLayer", "config": {"batch_shape": [null, 3], ...},
        "name": "x", "inbound_nodes": []},
       {"class_name": "Dense", "config": {"units": 2, ...}, "name": "d",
        "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                     "config": {"shape": [null, 3], "dtype": "float32",
                                                "keras_history": ["x", 0, 0]}}],
                           "kwargs": {}}]}],
     "input_layers": ["x", 0, 0], "output_layers": ["d", 0, 0]}

A merge layer's call has a list of tensors as its one argument; a shared layer has
one node per call; a call given its own mode (``layer(x, training=False)``) keeps it
in ``kwargs``, and so does a recurrent call given initial states
(``"kwargs": {"initial_state": [tensor, ...]}``). Keras 2 wrote a node as
``[[name, node, tensor, {}], ...]``, which is read too (its initial states are
not). Several inputs or outputs are lists of ``[name, node, tensor]``
(or dicts of them).

:func:`graph_config` writes this with each layer's own ``get_config()``
(:mod:`glassnet.io` turns those into Keras' spelling); :mod:`glassnet.models.graph_plan`
reads it back. :func:`keras_layer_order` lists the layers as Keras 3's
``model.layers`` does (by depth in the graph): Keras' weights files follow it.

>>> from glassnet import Input, Model
>>> from glassnet.layers import Dense
>>> x = Input((3,), name="x")
>>> model = Model(x, Dense(2, name="d")(x), name="tiny")
>>> config = graph_config(model)
>>> [entry["name"] for entry in config["layers"]], config["output_layers"]
(['x', 'd'], ['d', 0, 0])
>>> config["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
['x', 0, 0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glassnet.errors import InvalidArgumentError
from glassnet.models.network import Network

if TYPE_CHECKING:
    from glassnet.layers.base import Layer
    from glassnet.layers.symbolic import Node, SymbolicTensor
    from glassnet.models.graph import Graph
    from glassnet.models.model import Model

__all__ = ["graph_config", "keras_layer_order", "node_indices"]


# -- writing ----------------------------------------------------------------------------
def graph_config(model: Model) -> dict[str, Any]:
    """``model``'s config in Keras 3's functional layout (see the module docstring)."""
    graph = model._require_graph("get_config")
    for layer in graph.layers:
        if isinstance(layer, Network):
            raise InvalidArgumentError(
                f"Model '{model.name}' uses model '{layer.name}' as a layer; configs "
                "(and files) of nested models are not supported yet. Build the outer "
                "model from the inner model's layers instead."
            )
    index = node_indices(graph)
    calls: dict[int, list[Node]] = {}
    for node in sorted(graph.nodes, key=lambda n: index[id(n)]):
        if node.inputs:  # an InputLayer's node is not a call
            calls.setdefault(id(node.layer), []).append(node)
    layers = []
    for layer in keras_layer_order(graph):
        nodes = calls.get(id(layer), [])
        layers.append(
            {
                "class_name": type(layer).__name__,
                "config": layer.get_config(),
                "name": layer.name,
                "inbound_nodes": [_node_config(node, index) for node in nodes],
            }
        )
    return {
        "name": model.name,
        "trainable": model.trainable,
        "seed": model.seed,
        "layers": layers,
        "input_layers": _tensor_refs(graph.inputs, index),
        "output_layers": _tensor_refs(graph.outputs, index),
    }


def node_indices(graph: Graph) -> dict[int, int]:
    """Each node's index among its layer's calls *in this graph*, by ``id(node)``.

    A layer called in several models keeps all its calls in ``inbound_nodes``; as
    in Keras, a model's config counts only its own, in the order they were made.
    """
    by_layer: dict[int, list[Node]] = {}
    for node in graph.nodes:
        by_layer.setdefault(id(node.layer), []).append(node)
    index = {}
    for nodes in by_layer.values():
        made = {id(n): i for i, n in enumerate(nodes[0].layer.inbound_nodes)}
        nodes.sort(key=lambda n: made.get(id(n), len(made)))
        for position, node in enumerate(nodes):
            index[id(node)] = position
    return index


def _history(tensor: SymbolicTensor, index: dict[int, int]) -> list[Any]:
    return [tensor.node.layer.name, index[id(tensor.node)], tensor.index]


def _node_config(node: Node, index: dict[int, int]) -> dict[str, Any]:
    tensors = [
        {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(t.shape),
                "dtype": t.dtype.name,
                "keras_history": _history(t, index),
            },
        }
        for t in node.inputs
    ]
    given = len(tensors) - node.state_inputs
    kwargs: dict[str, Any] = {}
    if node.training is not None:
        kwargs["training"] = node.training
    if node.state_inputs:
        kwargs["initial_state"] = tensors[given:]
    args = tensors[:given] if node.list_call else tensors[0]
    return {"args": [args], "kwargs": kwargs}


def _tensor_refs(tensors: list[SymbolicTensor], index: dict[int, int]) -> Any:
    refs = [_history(t, index) for t in tensors]
    return refs[0] if len(refs) == 1 else refs


def keras_layer_order(graph: Graph) -> list[Layer]:
    """The layers in the order of Keras 3's ``model.layers`` for the same graph.

    Keras walks the graph depth-first from the outputs, gives every node a depth
    (its distance from the outputs; a layer takes the largest of its nodes'), and
    lists layers from the deepest (the inputs) to depth 0, ties in the order the
    walk first met them. Keras' weights files name their groups by this order.
    """
    finished: set[int] = set()
    first_met: dict[int, int] = {}
    post_order: list[Node] = []
    for output in graph.outputs:
        stack: list[tuple[Node, Any]] = []
        _enter(output.node, stack, finished, first_met)
        while stack:
            node, pending = stack[-1]
            tensor = next(pending, None)
            if tensor is None:
                stack.pop()
                finished.add(id(node))
                post_order.append(node)
            else:
                _enter(tensor.node, stack, finished, first_met)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, Layer] = {}
    for node in reversed(post_order):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        layers[id(node.layer)] = node.layer
        for tensor in node.inputs:
            parent = id(tensor.node)
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    return sorted(
        layers.values(), key=lambda x: (-layer_depth[id(x)], first_met[id(x)])
    )


def _enter(
    node: Node, stack: list[Any], finished: set[int], met: dict[int, int]
) -> None:
    if id(node) in finished:
        return
    met.setdefault(id(node.layer), len(met))
    stack.append((node, iter(node.inputs)))
