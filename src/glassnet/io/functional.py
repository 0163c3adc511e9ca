"""Functional models in files: Keras 3's functional config, written and read safely.

glassnet writes what Keras 3 writes for a functional model (see
:mod:`glassnet.models.functional_config` for the layout), each layer's config in
Keras' spelling with its ``trainable`` flag and dtype, so Keras loads it::

    {"module": "keras.src.models.functional", "class_name": "Functional",
     "config": {"name": "functional", "trainable": true, "seed": null,
                "layers": [{"module": "keras.layers", "class_name": "InputLayer",
                            "config": {...}, "registered_name": null,
                            "name": "x", "inbound_nodes": []}, ...],
                "input_layers": ["x", 0, 0], "output_layers": ["d", 0, 0]},
     "registered_name": "Functional", "build_config": {"input_shape": null}}

Reading checks the whole graph as data first (names, calls, cycles: see
:func:`~glassnet.models.graph_plan.read_graph_config`), reads every layer
config (:class:`~glassnet.io.layer_configs.LayerReader`), then counts the parameters
call by call from the inputs' shapes, each layer asked for the shape it will be
built with (:func:`functional_counts`), and only then calls the layers, which
builds them.

>>> from glassnet import Input, Model
>>> from glassnet.layers import Concatenate, Dense
>>> a, b = Input((2,), name="a"), Input((3,), name="b")
>>> model = Model([a, b], Dense(1, name="out")(Concatenate(name="ab")([a, b])))
>>> document = functional_to_config(model)
>>> document["class_name"], document["config"]["input_layers"]
('Functional', [['a', 0, 0], ['b', 0, 0]])
>>> copy = functional_from_config(document["config"], "doc", None, "error")
>>> [layer.name for layer in copy.layers], copy.count_params()
(['a', 'b', 'ab', 'out'], 6)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from glassnet.errors import GlassnetError, ModelFileError
from glassnet.io import limits
from glassnet.io.initial_weights import check_initializers, zero_initializers
from glassnet.io.keras_compat import keras_entry, keras_layer_config
from glassnet.io.layer_configs import LayerReader, Unknown
from glassnet.io.parameter_count import check_inner_shapes, check_parameter_count
from glassnet.layers import InputLayer, Layer
from glassnet.models.functional_config import node_indices
from glassnet.models.graph_plan import GraphPlan, call_layers, read_graph_config
from glassnet.models.model import Model

__all__ = ["functional_counts", "functional_from_config", "functional_to_config"]

_MODEL_KEYS = {"name", "trainable", "seed", "layers", "input_layers", "output_layers"}


# -- writing ---------------------------------------------------------------------
def functional_to_config(model: Model, *, legacy: bool = False) -> dict[str, Any]:
    """The Keras-layout document of a functional ``model`` (``legacy``: for .h5)."""
    config = model.get_config()
    graph = model._require_graph("to_json")
    layers = {layer.name: layer for layer in graph.layers}
    index = node_indices(graph)
    first_call = {node.layer.name: node for node in graph.nodes if index[id(node)] == 0}
    entries = []
    for spec in config["layers"]:
        layer = layers[spec["name"]]
        if isinstance(layer, InputLayer):
            entry = keras_entry("InputLayer", spec["config"], legacy)
        else:
            keras_config = keras_layer_config(
                spec["config"],
                layer.trainable,
                layer.compute_dtype.name,
                legacy,
                spec["class_name"],
            )
            entry = keras_entry(spec["class_name"], keras_config, legacy)
            if not legacy:
                shapes = [list(t.shape) for t in first_call[layer.name].inputs]
                shape = shapes if layer.takes_list else shapes[0]
                entry["build_config"] = {"input_shape": shape}
        entry["name"] = spec["name"]
        entry["inbound_nodes"] = spec["inbound_nodes"]
        entries.append(entry)
    config["layers"] = entries
    if legacy:
        return {"class_name": "Functional", "config": config}
    document = keras_entry(
        "Functional",
        config,
        legacy,
        module="keras.src.models.functional",
        registered_name="Functional",
    )
    document["build_config"] = {"input_shape": None}
    return document


# -- reading ---------------------------------------------------------------------
def functional_from_config(
    config: Any,
    where: str,
    custom_objects: dict[str, type] | None,
    unknown_initializers: Unknown,
    stored_bytes: int | None = None,
) -> Model:
    """Build the functional model a Keras-layout ``config`` describes.

    The arguments are those of :func:`glassnet.io.architecture.model_from_config`;
    ``config`` is the document's ``"config"``.
    """
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: the model's 'config' must be a JSON object.")
    unknown = sorted(set(config) - _MODEL_KEYS)
    if unknown:
        raise ModelFileError(
            f"{where}: unknown functional model setting(s) {unknown}; glassnet reads "
            f"{sorted(_MODEL_KEYS)}."
        )
    specs = config.get("layers")
    if isinstance(specs, list) and len(specs) > limits.MAX_LAYERS:
        raise ModelFileError(
            f"{where}: 'layers' lists {len(specs)} layers; the limit is "
            f"{limits.MAX_LAYERS} (glassnet.io.limits.MAX_LAYERS)."
        )
    trainable = config.get("trainable", True)
    if not isinstance(trainable, bool):
        raise ModelFileError(f"{where}: the model's `trainable` must be true or false.")
    try:
        plan = read_graph_config(config, max_calls=limits.MAX_LAYER_CALLS)
    except GlassnetError as error:
        raise ModelFileError(f"{where}: {error}") from None
    reader = LayerReader(where, custom_objects, unknown_initializers, functional=True)
    for position, (name, entry) in enumerate(plan.entries.items()):
        named = entry.get("config")
        if isinstance(named, dict) and "name" not in named:
            entry = {**entry, "config": {**named, "name": name}}
        reader.read(position, entry)
    dtype = reader.dtype(None)
    created = reader.instantiate(None, dtype)
    check_initializers(created, dtype, where)
    flags = [layer.trainable for layer in created]
    layers = dict(zip(plan.entries, created, strict=True))
    check_parameter_count(functional_counts(plan, layers, where), where, stored_bytes)
    try:
        with zero_initializers(list(layers.values()), stored_bytes is not None):
            inputs, outputs = call_layers(plan, layers)
            model = Model(
                inputs, outputs, name=config.get("name"), seed=config.get("seed")
            )
    except GlassnetError as error:
        raise ModelFileError(
            f"{where}: the model could not be built: {error}"
        ) from error
    model.trainable = trainable  # which sets every layer's flag: restore theirs
    for layer, flag in zip(created, flags, strict=True):
        layer.trainable = flag
    return model


def functional_counts(
    plan: GraphPlan, layers: dict[str, Layer], where: str
) -> Iterator[int]:
    """Each layer's parameter count, the shapes walked call by call from the inputs.

    A shared layer is counted once, for its first call (the one that builds it).
    A call whose inputs the layer cannot take is refused here, naming it, before
    any layer is built.
    """
    shapes: dict[tuple[str, int, int], Any] = {
        (name, 0, 0): layer.sample_shape
        for name, layer in layers.items()
        if isinstance(layer, InputLayer)
    }
    counted: set[str] = set()
    for call in plan.calls:
        layer = layers[call.layer]
        here = f"{where}: layer {call.layer[:80]!r}, call #{call.index}"
        missing = [ref for ref in call.inputs if ref not in shapes]
        if missing:  # a tensor index past the outputs its call gives
            made = sum(key[:2] == missing[0][:2] for key in shapes)
            raise ModelFileError(
                f"{here}: the call takes the tensor {list(missing[0])}, but that "
                f"call gives {_outputs(made)}."
            )
        # the call's initial_state tensors come last (their shapes: checked when called)
        args = [
            shapes[ref] for ref in call.inputs[: len(call.inputs) - call.state_inputs]
        ]
        if not layer.takes_list and len(args) != 1:
            raise ModelFileError(
                f"{here}: {type(layer).__name__} takes one tensor; the call gives "
                f"it {len(args)}."
            )
        shape = args if layer.takes_list else args[0]
        declared = layer.declared_input_shape
        if declared is not None and not layer.takes_list and tuple(declared) != shape:
            raise ModelFileError(
                f"{here}: {type(layer).__name__} declares the input shape "
                f"{tuple(declared)}, but the call gives it {shape}; a file's shape "
                "claims must agree."
            )
        check_inner_shapes(layer, here)
        try:
            if call.layer not in counted:
                counted.add(call.layer)
                yield layer.param_count(shape)
            out = layer.output_shape(shape)  # a list for several outputs
            for position, made in enumerate(out if layer.multiple_outputs else [out]):
                shapes[(call.layer, call.index, position)] = tuple(made)
        except GlassnetError as error:
            raise ModelFileError(f"{here}: {error}") from None


def _outputs(count: int) -> str:
    return "one output (#0)" if count == 1 else f"{count} outputs (#0 to #{count - 1})"
