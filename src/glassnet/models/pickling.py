"""What a pickle or a copy of a model holds: its weights and state, not its scratch.

A model sent to another process (joblib, Dask or Ray workers) or copied with
``copy.deepcopy`` keeps what its next prediction and its next training step need:
each layer's weights and non-trainable state, the optimizer's settings, iteration
count and per-parameter state (so training continues exactly where it stopped),
the generator that shuffles the batches, the compiled loss and metrics, and the
history. It leaves behind what the model makes again on first use:

- each layer's cache of the last training batch (``_cache``) and its gradients
  (``grads``, views into the flat gradient buffer);
- the flat buffers themselves and the walks over the graph: the copy makes them
  again from the layers' weights (``Network.__setstate__``);
- scratch arrays (a layer's ``Workspace``), the masks of the last batch, and the
  penalties of the last train step (the next ``fit`` collects them again).

The optimizer leaves its own scratch behind (``Optimizer.__getstate__``).

How: :func:`lean_state` copies the model's attributes with ``copy.deepcopy``, whose
memo is seeded first: each layer, each model used as a layer and each graph maps to
a new object of the same class holding its lean attributes, and every weight and
optimizer state array maps to itself (a reference, not a copy: the pickler that
asked writes it once). Every other reference (graph nodes, tensors, callbacks)
reaches the lean objects through that memo, so one layer stays one object.

>>> import pickle
>>> import numpy as np
>>> from glassnet.layers import Dense
>>> from glassnet.models import Sequential
>>> model = Sequential([Dense(2, input_dim=3)], seed=0)
>>> model.compile(optimizer="adam", loss="mse")
>>> x = np.ones((4, 3), np.float32)
>>> _ = model.fit(x, np.zeros((4, 2), np.float32), epochs=1, verbose=0)
>>> copy = pickle.loads(pickle.dumps(model))
>>> np.array_equal(copy.predict(x, verbose=0), model.predict(x, verbose=0))
True
>>> copy.optimizer.iterations, copy.layers[0]._cache is None
(1, True)
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from glassnet.layers import Layer
from glassnet.layers.im2col import Workspace
from glassnet.models.graph import Graph

if TYPE_CHECKING:
    from glassnet.models.network import Network

__all__ = ["LEAN_MARK", "lean_state", "state_bytes"]

#: set in the attributes of a model already made lean (a model used as a layer,
#: inside an outer model's pickle), so its own ``__getstate__`` keeps them as they are
LEAN_MARK = "_lean_copy"


def _inner_networks(network: Network) -> list[Network]:
    """Every model used as a layer inside ``network``, at any depth (a model is
    the layer that has layers of its own: ``leaf_layers``)."""
    found: list[Network] = []
    stack = [network]
    while stack:
        for layer in stack.pop().layers:
            inner: Any = layer
            if hasattr(inner, "leaf_layers") and not any(inner is n for n in found):
                found.append(inner)
                stack.append(inner)
    return found


def _own_state(obj: Any) -> dict[str, Any]:
    """The attributes ``obj`` would pickle (its own ``__getstate__``), as a new dict."""
    getstate = getattr(obj, "__getstate__", None)  # object has one from Python 3.11
    state = getstate() if getstate is not None else vars(obj)
    return dict(state if isinstance(state, dict) else vars(obj))


def _lean_network(network: Network) -> dict[str, Any]:
    state = dict(vars(network))
    state.pop(LEAN_MARK, None)
    state.update(
        flat=None, _forward_walk=None, _backward_walks={}, train_penalties=None
    )
    return state


def _lean_layer(layer: Layer, refilled: bool) -> dict[str, Any]:
    state = _own_state(layer)
    state["_cache"] = None
    if refilled:  # the copy's flat buffer gives it new gradient views
        state["grads"] = {}
    for key, value in state.items():
        if isinstance(value, Workspace):
            state[key] = Workspace()
    return state


def _lean_graph(graph: Graph) -> dict[str, Any]:
    state = dict(vars(graph))
    masks = state.get("output_masks")
    if isinstance(masks, list):
        state["output_masks"] = [None] * len(masks)
    return state


def lean_state(network: Network) -> dict[str, Any]:
    """The attributes ``network`` pickles and copies (see the module docstring)."""
    networks = [network, *_inner_networks(network)]
    layers = network.leaf_layers()
    refilled = network.built and network.flat is not None
    graphs = [n.graph for n in networks if n.graph is not None]
    memo: dict[int, Any] = {id(network): network}
    for array in _arrays(networks, layers):
        memo[id(array)] = array
    lean: list[tuple[Any, dict[str, Any]]] = []
    for inner in networks[1:]:
        lean.append((inner, {**_lean_network(inner), LEAN_MARK: True}))
    lean += [(layer, _lean_layer(layer, refilled)) for layer in layers]
    lean += [(graph, _lean_graph(graph)) for graph in graphs]
    shells = []
    for obj, state in lean:
        cls: Any = type(obj)
        shell = cls.__new__(cls)  # what unpickling does before it sets the state
        memo[id(obj)] = shell
        shells.append((shell, state))
    for shell, state in shells:
        shell.__dict__.update(copy.deepcopy(state, memo))
    return copy.deepcopy(_lean_network(network), memo)


def _arrays(networks: list[Network], layers: list[Layer]) -> list[Any]:
    """The weight and optimizer-state arrays: referenced by a lean state, not copied."""
    arrays = [a for layer in layers for a in (*layer.params.values(), *_state(layer))]
    for network in networks:
        optimizer = getattr(network, "optimizer", None)
        for slots in getattr(optimizer, "state", {}).values():
            arrays += list(slots.values())
    return arrays


def _state(layer: Layer) -> list[Any]:
    return list(getattr(layer, "state", {}).values())


def state_bytes(network: Network) -> int:
    """Bytes of the weights, layer state and optimizer state that a pickle carries."""
    seen: set[int] = set()
    total = 0
    for array in _arrays([network, *_inner_networks(network)], network.leaf_layers()):
        if id(array) not in seen:
            seen.add(id(array))
            total += int(getattr(array, "nbytes", 0))
    return total
