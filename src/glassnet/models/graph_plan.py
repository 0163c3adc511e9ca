"""Reading a functional model's config: checked as plain data, then replayed.

:func:`read_graph_config` checks a config in Keras 3's functional layout (see
:mod:`glassnet.models.functional_config`; Keras 2's form of the calls too) before
any layer exists: names are unique, every tensor names a layer and a call that
exist, no call depends on itself, InputLayers are not called and every other layer
is. It returns a :class:`GraphPlan` listing the calls so that each comes after the
calls it needs; :func:`call_layers` replays them on symbolic tensors, which builds
the layers. The walks are iterative, so a deep or hostile graph cannot exhaust the
stack; nothing here allocates more than the config's own size.

>>> from glassnet import Input, Model
>>> from glassnet.layers import Dense
>>> x = Input((3,), name="x")
>>> model = Model(x, Dense(2, name="d")(x))
>>> plan = read_graph_config(model.get_config())
>>> [(call.layer, call.index, call.inputs) for call in plan.calls]
[('d', 0, (('x', 0, 0),))]
>>> read_graph_config({"layers": [], "input_layers": [], "output_layers": []})
Traceback (most recent call last):
...
glassnet.errors.InvalidArgumentError: A functional model's config needs a non-empty ...
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glassnet.errors import InvalidArgumentError
from glassnet.layers.input_layer import InputLayer

if TYPE_CHECKING:
    from glassnet.layers.base import Layer
    from glassnet.layers.symbolic import SymbolicTensor

__all__ = ["Call", "GraphPlan", "call_layers", "read_graph_config"]

#: A tensor of the graph: (layer name, node index, tensor index): Keras'
#: ``keras_history``, the tensor index counting a call's outputs (a recurrent
#: layer with ``return_state`` gives several).
Ref = tuple[str, int, int]


@dataclass(frozen=True)
class Call:
    """Node ``index`` of ``layer``: the layer called on the tensors ``inputs``.

    ``training`` is the call's own mode (``layer(x, training=False)``), if it has one.
    The last ``state_inputs`` of ``inputs`` are the call's ``initial_state=``
    tensors (Keras writes them in the call's ``kwargs``).
    """

    layer: str
    index: int
    inputs: tuple[Ref, ...]
    training: bool | None = None
    state_inputs: int = 0


@dataclass
class GraphPlan:
    """A functional config, checked: what to create and which calls to make, in order.

    ``entries`` maps each layer's name to its config entry (file order); ``calls``
    lists every call of a non-input layer after the calls it needs; ``inputs`` and
    ``outputs`` are the model's tensors as refs, in the structure the file gives
    (one ref, a list or a dict of refs).
    """

    entries: dict[str, dict[str, Any]]
    calls: list[Call]
    inputs: Any
    outputs: Any


def read_graph_config(config: Any, max_calls: int | None = None) -> GraphPlan:
    """Check a functional ``config`` as plain data and plan its calls (see module doc).

    Raises :class:`~glassnet.errors.InvalidArgumentError` naming the layer and the
    call for a missing key, a name used twice, a tensor naming a layer or a call
    that does not exist, calls that depend on each other, and (with ``max_calls``)
    more calls than that. Nothing is created.
    """
    if not isinstance(config, dict):
        raise InvalidArgumentError(
            "A functional model's config must be an object. Received: "
            f"{type(config).__name__}"
        )
    missing = [
        k for k in ("layers", "input_layers", "output_layers") if k not in config
    ]
    if missing or not isinstance(config["layers"], list) or not config["layers"]:
        raise InvalidArgumentError(
            "A functional model's config needs a non-empty list 'layers', with "
            f"'input_layers' and 'output_layers'. Missing or empty: {missing or ['layers']}"
        )
    entries: dict[str, dict[str, Any]] = {}
    node_lists: dict[str, list[Any]] = {}
    total = 0
    for position, entry in enumerate(config["layers"]):
        name, nodes = _entry(entry, position)
        if name in entries:
            raise InvalidArgumentError(
                f"Layer entry #{position}: the name {name!r} is used by another layer "
                "too; every layer of a model needs its own name."
            )
        total += len(nodes)
        if max_calls is not None and total > max_calls:
            raise InvalidArgumentError(
                f"The layers are called more than {max_calls} times in all."
            )
        entries[name], node_lists[name] = entry, nodes
    counts = {
        name: 1 if _is_input(entry) else len(node_lists[name])
        for name, entry in entries.items()
    }
    calls = [
        Call(name, i, *_node_refs(node, f"Layer {name!r}, call #{i}", counts))
        for name, nodes in node_lists.items()
        for i, node in enumerate(nodes)
    ]
    inputs = _structure(config["input_layers"], "input_layers", counts)
    for ref in _leaves(inputs):
        if not _is_input(entries[ref[0]]):
            raise InvalidArgumentError(
                f"input_layers names {ref[0]!r}, which is not an InputLayer."
            )
    outputs = _structure(config["output_layers"], "output_layers", counts)
    return GraphPlan(entries, _ordered(calls), inputs, outputs)


def _entry(entry: Any, position: int) -> tuple[str, list[Any]]:
    """The entry's name and its list of nodes, both checked."""
    here = f"Layer entry #{position}"
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise InvalidArgumentError(f"{here} must be an object with a 'class_name'.")
    config = entry.get("config")
    inner = config.get("name") if isinstance(config, dict) else None
    name = entry.get("name", inner)
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"{here} has no 'name' (a non-empty string).")
    if inner is not None and inner != name:
        raise InvalidArgumentError(
            f"{here} is named {name!r} but its config names it {str(inner)[:80]!r}."
        )
    nodes = entry.get("inbound_nodes")
    if not isinstance(nodes, list):
        raise InvalidArgumentError(
            f"{here} ({name!r}) needs 'inbound_nodes', a list of the layer's calls."
        )
    if _is_input(entry) and nodes:
        raise InvalidArgumentError(
            f"{here} ({name!r}) is an InputLayer and cannot be called on tensors."
        )
    if not _is_input(entry) and not nodes:
        raise InvalidArgumentError(
            f"{here} ({name!r}) is never called: a model's config lists only layers "
            "that its graph calls."
        )
    return name, nodes


def _is_input(entry: dict[str, Any]) -> bool:
    return bool(entry["class_name"] == "InputLayer")


def _node_refs(
    node: Any, here: str, counts: dict[str, int]
) -> tuple[tuple[Ref, ...], bool | None, int]:
    """The tensors a node (Keras 3's or Keras 2's form) calls its layer on (its
    ``initial_state`` tensors last), the call's own training mode (None: the pass
    decides) and how many initial states it has."""
    states: list[Any] = []
    if isinstance(node, dict):  # Keras 3: {"args": [tensor or [tensors]], "kwargs": {}}
        args, kwargs = node.get("args"), node.get("kwargs", {})
        if isinstance(kwargs, dict) and kwargs.get("initial_state") is not None:
            kwargs = dict(kwargs)  # a recurrent call's start states: tensors too
            given = kwargs.pop("initial_state")
            states = given if isinstance(given, list) else [given]
        if (
            set(node) - {"args", "kwargs"}
            or not isinstance(args, list)
            or len(args) != 1
        ):
            raise InvalidArgumentError(
                f"{here}: a call has one argument, a tensor or a list of tensors, "
                f"in 'args'. Received: {str(node)[:120]}"
            )
        training = _call_training(kwargs, here)
        tensors = args[0] if isinstance(args[0], list) else [args[0]]
        histories = [_keras_history(t, here) for t in [*tensors, *states]]
    elif isinstance(node, list):  # Keras 2: [[name, node, tensor, kwargs], ...]
        histories, training = [], None
        for item in node:
            if not isinstance(item, list) or len(item) not in (3, 4):
                raise InvalidArgumentError(
                    f"{here}: a Keras 2 call lists [layer, node, tensor, kwargs] for "
                    f"each input. Received: {str(item)[:120]}"
                )
            if len(item) == 4:
                training = _call_training(item[3], here)
            histories.append(item[:3])
    else:
        raise InvalidArgumentError(
            f"{here}: a call must be an object (Keras 3) or a list (Keras 2). "
            f"Received: {str(node)[:120]}"
        )
    if len(histories) == len(states):
        raise InvalidArgumentError(f"{here}: the call has no input tensor.")
    return tuple(_ref(h, here, counts) for h in histories), training, len(states)


def _call_training(kwargs: Any, here: str) -> bool | None:
    """A call's ``training`` keyword; other keywords only unset (``mask=None``).

    Keras records the keyword arguments of a call (BatchNormalization's
    ``mask=None``); glassnet calls layers on tensors, with a fixed mode at most.
    """
    if not isinstance(kwargs, dict):
        raise InvalidArgumentError(f"{here}: 'kwargs' must be an object.")
    training = kwargs.get("training")
    if training is not None and not isinstance(training, bool):
        raise InvalidArgumentError(
            f"{here}: `training` must be true, false or null. Received: "
            f"{str(training)[:40]}"
        )
    for key, value in kwargs.items():
        if key != "training" and value is not None:
            raise InvalidArgumentError(
                f"{here}: the layer is called with `{str(key)[:40]}={str(value)[:60]}`;"
                " glassnet calls layers on their input tensors only (and `training`)."
            )
    return training


def _keras_history(tensor: Any, here: str) -> Any:
    if (
        not isinstance(tensor, dict)
        or tensor.get("class_name") != "__keras_tensor__"
        or not isinstance(tensor.get("config"), dict)
        or "keras_history" not in tensor["config"]
    ):
        raise InvalidArgumentError(
            f"{here}: an argument must be a Keras tensor "
            '({"class_name": "__keras_tensor__", "config": {"keras_history": ...}}). '
            f"Received: {str(tensor)[:120]}"
        )
    return tensor["config"]["keras_history"]


def _ref(history: Any, here: str, counts: dict[str, int]) -> Ref:
    """``[layer, node, tensor]`` checked against the layers and their calls."""
    if not (
        isinstance(history, list)
        and len(history) == 3
        and isinstance(history[0], str)
        and all(_index(i) for i in history[1:])
    ):
        raise InvalidArgumentError(
            f"{here}: a tensor is named [layer name, node index, tensor index]. "
            f"Received: {str(history)[:120]}"
        )
    name, node, tensor = history
    if name not in counts:
        raise InvalidArgumentError(
            f"{here}: the tensor {str(history)[:120]} names the layer {name[:80]!r}, "
            "which the config does not have."
        )
    if node >= counts[name]:
        raise InvalidArgumentError(
            f"{here}: the tensor {str(history)[:120]} names call #{node} of layer "
            f"{name[:80]!r}, which is called {counts[name]} time(s)."
        )
    return name, node, tensor


def _index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _structure(value: Any, key: str, counts: dict[str, int]) -> Any:
    """``input_layers``/``output_layers``: one ref, or a list or dict of refs."""
    here = f"'{key}'"
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return _ref(value, here, counts)
    if isinstance(value, dict) and value:
        return {str(k): _ref(v, f"{here}[{k!r:.40}]", counts) for k, v in value.items()}
    if isinstance(value, list) and value:
        return [_ref(v, f"{here}[{i}]", counts) for i, v in enumerate(value)]
    raise InvalidArgumentError(
        f"{here} must name tensors as [layer, node, tensor] (one, or a non-empty list "
        f"or object of them). Received: {str(value)[:120]}"
    )


def _leaves(structure: Any) -> list[Ref]:
    if isinstance(structure, tuple):
        return [structure]
    return list(structure.values() if isinstance(structure, dict) else structure)


def _ordered(calls: list[Call]) -> list[Call]:
    """The calls, each after those whose outputs it takes (Kahn's algorithm).

    A layer's node ``i`` also comes after its node ``i - 1``: nodes are numbered
    in the order the calls are made.
    """
    by_ref = {(c.layer, c.index): c for c in calls}
    needs: dict[tuple[str, int], set[tuple[str, int]]] = {}
    users: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for call in calls:
        key = (call.layer, call.index)
        wanted = {ref[:2] for ref in call.inputs if ref[:2] in by_ref}
        if call.index:
            wanted.add((call.layer, call.index - 1))
        needs[key] = wanted
        for ref in wanted:
            users.setdefault(ref, []).append(key)
    ready = deque(key for key in by_ref if not needs[key])
    order = []
    while ready:
        key = ready.popleft()
        order.append(by_ref[key])
        for user in users.get(key, []):
            needs[user].discard(key)
            if not needs[user]:
                ready.append(user)
    if len(order) != len(calls):
        stuck = sorted({c.layer for c in calls if needs[(c.layer, c.index)]})
        raise InvalidArgumentError(
            f"The calls of layer(s) {stuck[:10]} depend on each other (a cycle), or a "
            "call takes a tensor made by a later call of the same layer."
        )
    return order


def call_layers(plan: GraphPlan, layers: dict[str, Layer]) -> tuple[Any, Any]:
    """Make the plan's calls on symbolic tensors: ``(inputs, outputs)`` for ``Model``.

    ``layers`` maps every name of ``plan.entries`` to its (unbuilt) layer; each
    layer is built by its first call, as when the model was first made.
    """
    tensors: dict[Ref, SymbolicTensor] = {}
    for name, entry in plan.entries.items():
        if _is_input(entry):
            layer = layers[name]
            if not isinstance(layer, InputLayer):
                raise InvalidArgumentError(
                    f"Layer {name!r} should be an InputLayer; it is a "
                    f"{type(layer).__name__}."
                )
            tensors[(name, 0, 0)] = layer.output
    for call in plan.calls:
        layer = layers[call.layer]
        here = f"Layer {call.layer!r} ({type(layer).__name__}), call #{call.index}"
        args = [_tensor(tensors, ref, here) for ref in call.inputs]
        given = args[: len(args) - call.state_inputs]
        if not layer.takes_list and len(given) != 1:
            raise InvalidArgumentError(
                f"Layer {call.layer!r} ({type(layer).__name__}) takes one tensor; call "
                f"#{call.index} gives it {len(given)}."
            )
        if call.state_inputs:
            if not hasattr(layer, "state_sizes"):
                raise InvalidArgumentError(f"{here} takes no initial_state.")
            recurrent: Any = layer  # a recurrent layer (or Bidirectional)
            output: Any = recurrent(given[0], initial_state=args[len(given) :])
        else:
            output = layer(given if layer.takes_list else given[0])
        outputs = list(output) if isinstance(output, tuple) else [output]
        outputs[0].node.training = call.training
        for position, tensor in enumerate(outputs):
            tensors[(call.layer, call.index, position)] = tensor
    return _tensors(plan.inputs, tensors), _tensors(plan.outputs, tensors)


def _tensor(tensors: dict[Ref, SymbolicTensor], ref: Ref, here: str) -> Any:
    """The tensor ``ref`` names, or an error naming the outputs the call has."""
    if ref not in tensors:
        made = sum(key[:2] == ref[:2] for key in tensors)
        outputs = "one output (#0)" if made == 1 else f"{made} outputs"
        raise InvalidArgumentError(
            f"{here}: the tensor {list(ref)} names output #{ref[2]} of call "
            f"#{ref[1]} of layer {ref[0][:80]!r}, which gives {outputs}."
        )
    return tensors[ref]


def _tensors(structure: Any, tensors: dict[Ref, SymbolicTensor]) -> Any:
    here = "The model's inputs or outputs"
    if isinstance(structure, tuple):
        return _tensor(tensors, structure, here)
    if isinstance(structure, dict):
        return {key: _tensor(tensors, ref, here) for key, ref in structure.items()}
    return [_tensor(tensors, ref, here) for ref in structure]
