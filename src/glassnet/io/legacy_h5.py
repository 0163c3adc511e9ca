"""The legacy Keras 2 HDF5 layout (``.h5``): weights files and whole-model files.

What Keras 2's ``model.save_weights("basic_weights.h5")`` wrote (seeds/002), and what
glassnet writes for ``save_weights("x.h5")``::

    /                     attrs: layer_names=[b"dense", b"activation", ...],
                                 backend, keras_version
    /dense                attrs: weight_names=[b"dense/kernel:0", b"dense/bias:0"]
    /dense/dense/kernel:0     (n_in, units)   glassnet's W
    /dense/dense/bias:0       (units,)        glassnet's b
    /activation           attrs: weight_names=[]   (no weights)
    /lstm/lstm/lstm_cell/kernel:0   a recurrent layer's weights, inside its cell
    /bidirectional/bidirectional/forward_lstm/lstm_cell/kernel:0, ...

A whole model (``model.save("x.h5")``, which Keras 3 still writes) adds the root
attributes ``model_config`` (the architecture, JSON) and ``training_config`` (compile
settings, JSON) and moves the groups above under ``/model_weights``. Keras 2 also
wrote ``/optimizer_weights``; glassnet does not read it (use ``.keras`` to resume
training). Weights are matched by order, as Keras does: the k-th layer with weights
in the file fills the k-th layer with weights in the model (in Keras' order of the
layers, :func:`~glassnet.io.keras_compat.keras_layers`: a functional model's
InputLayers are listed, without weights), each tensor by position (kernel, then
bias; a layer's state after its parameters), every shape checked first. Keras 3
reads these files with ``model.load_weights("x.h5")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glassnet import __version__
from glassnet._typing import Array
from glassnet.errors import InvalidArgumentError, ModelFileError
from glassnet.io import hdf5, safe_json
from glassnet.io.architecture import model_from_config, model_to_config
from glassnet.io.compile_config import compile_from_config, training_config
from glassnet.io.initial_weights import draw_initial_weights
from glassnet.io.keras_compat import (
    BACKEND,
    KERAS_VERSION,
    check_all_claims,
    keras_layers,
    keras_weight_name,
)
from glassnet.io.keras_layout import legacy_weight_name
from glassnet.io.sequence_limits import read_checked_weight
from glassnet.io.slots import commit, weight_slots

if TYPE_CHECKING:
    from glassnet.models import Model

__all__ = ["read_model", "read_weights", "write_model", "write_weights"]


def write_weights(group: Any, model: Model) -> None:
    """Write the Keras 2 weights layout into an open HDF5 file or group."""
    layers = keras_layers(model)
    for layer in layers:
        if not layer.name or "/" in layer.name or layer.name in (".", ".."):
            raise InvalidArgumentError(
                f"Layer names become HDF5 group names in a .h5 file, so they cannot "
                f"contain '/' or be '.' or '..'. Received: name={layer.name!r}"
            )
    hdf5.write_string_list(group, "layer_names", [str(layer.name) for layer in layers])
    group.attrs["backend"] = BACKEND
    group.attrs["keras_version"] = KERAS_VERSION
    group.attrs["glassnet_version"] = __version__
    for layer in layers:
        layer_group = group.create_group(str(layer.name))
        weights = layer.weights
        names = [legacy_weight_name(layer, weight) for weight in weights]
        hdf5.write_string_list(layer_group, "weight_names", names)
        for name, weight in zip(names, weights, strict=True):
            layer_group.create_dataset(name, data=weight.value)


def read_weights(
    root: Any, model: Model, where: str, allow_nonfinite: bool = False
) -> list[Array]:
    """Every weight of ``model`` from a legacy file, checked, in ``get_weights`` order.

    The weights of a whole-model file are not taken if its ``model_config`` or
    ``training_config`` names code anywhere.
    """
    hdf5.scan(root, where)
    for name in ("model_config", "training_config"):
        config = _read_config(root, name, where)
        if config is not None:
            check_all_claims(config, f"{where}: {name}")
    return _read_weights(root, model, where, allow_nonfinite)


def _read_config(root: Any, name: str, where: str) -> Any:
    """The parsed JSON attribute ``name``, or None if the file has none."""
    text = hdf5.read_string(root, name, where)
    return None if text is None else safe_json.loads(text, f"{where}: {name}")


def _read_weights(
    root: Any, model: Model, where: str, allow_nonfinite: bool
) -> list[Array]:
    group = root
    if "layer_names" not in root.attrs and "model_weights" in root:
        group = hdf5.get_group(root, "model_weights", where)
        where = f"{where}: model_weights"
    if "layer_names" not in group.attrs and "layer_names0" not in group.attrs:
        raise ModelFileError(
            f"{where}: no 'layer_names' attribute; this is not a Keras 2 weights file "
            "(Keras 3 weights files end in .weights.h5)."
        )
    stored = []
    for name in hdf5.read_string_list(group, "layer_names", where):
        layer_group = hdf5.get_group(group, name, f"{where}: layer_names")
        weight_names = hdf5.read_string_list(
            layer_group, "weight_names", f"{where}/{name}"
        )
        if weight_names:
            stored.append((name, layer_group, weight_names))
    _check_top_level(group, where)
    slots = weight_slots(model)
    by_weight = {(id(s.layer), s.key): s for s in slots}
    layers = [layer for layer in keras_layers(model) if layer.weights]
    if len(stored) != len(layers):
        raise ModelFileError(
            f"{where}: the file has weights for {len(stored)} layer(s) "
            f"({', '.join(n for n, _, _ in stored)[:200]}); the model has {len(layers)} "
            f"layer(s) with weights ({', '.join(str(x.name) for x in layers)[:200]})."
        )
    arrays: dict[tuple[int, str], Array] = {}
    for (name, layer_group, weight_names), layer in zip(stored, layers, strict=True):
        here = f"{where}/{name} (model layer '{layer.name}')"
        keys = [weight.key for weight in layer.weights]
        if len(weight_names) != len(keys):
            raise ModelFileError(
                f"{here}: {len(weight_names)} weight(s) in the file, {len(keys)} in the "
                f"layer ({', '.join(map(keras_weight_name, keys))})."
            )
        for weight_name, key in zip(weight_names, keys, strict=True):
            slot = by_weight[id(layer), key]
            label = f"{here}/{weight_name} (glassnet '{slot.name}')"
            dataset = _resolve(layer_group, weight_name, label)
            arrays[id(layer), key] = read_checked_weight(
                dataset, slot, model.dtype, label, allow_nonfinite
            )
    return [arrays[id(s.layer), s.key] for s in slots]


def _resolve(group: Any, path: str, where: str) -> Any:
    """Follow a relative ``a/b/kernel:0`` path one checked hard link at a time."""
    parts = path.split("/")
    if not path or len(parts) > 8 or any(p in ("", ".", "..") for p in parts):
        raise ModelFileError(f"{where}: invalid weight path {path[:100]!r}.")
    for part in parts[:-1]:
        group = hdf5.get_group(group, part, where)
    return hdf5.get_dataset(group, parts[-1], where)


def _check_top_level(group: Any, where: str) -> None:
    top = hdf5.get_group(group, "top_level_model_weights", where, required=False)
    if top is not None and hdf5.read_string_list(top, "weight_names", where):
        raise ModelFileError(
            f"{where}: the file has model-level weights, which a glassnet model does "
            "not have."
        )


def write_model(root: Any, model: Model) -> None:
    """A whole model in the legacy layout (architecture, compile settings, weights)."""
    root.attrs["backend"] = BACKEND
    root.attrs["keras_version"] = KERAS_VERSION
    root.attrs["glassnet_version"] = __version__
    root.attrs["model_config"] = safe_json.dumps(model_to_config(model, legacy=True))
    training = training_config(model)
    if training is not None:
        root.attrs["training_config"] = safe_json.dumps(training)
    write_weights(root.create_group("model_weights"), model)


def read_model(
    root: Any,
    where: str,
    custom_objects: dict[str, type] | None = None,
    compile: bool = True,
    allow_nonfinite: bool = False,
) -> Model:
    """Rebuild, fill and (optionally) compile the model a legacy ``.h5`` file holds."""
    hdf5.scan(root, where)
    config = _read_config(root, "model_config", where)
    if config is None:
        raise ModelFileError(
            f"{where}: no 'model_config' attribute, so no architecture: this is a "
            "weights file. Build the model, then call model.load_weights(path)."
        )
    model = model_from_config(
        config,
        f"{where}: model_config",
        custom_objects,
        "default",
        stored_bytes=root.id.get_filesize(),
    )
    arrays = _read_weights(root, model, where, allow_nonfinite) if model.built else []
    training = _read_config(root, "training_config", where)
    if training is not None:
        here = f"{where}: training_config"
        if compile:
            compile_from_config(model, training, here, custom_objects)
        # read or not, settings that name code make the whole file unsafe
        check_all_claims(training, here)
    if arrays:
        commit(model, arrays, allow_nonfinite)
    draw_initial_weights(model)  # a legacy file keeps no generator state
    return model
