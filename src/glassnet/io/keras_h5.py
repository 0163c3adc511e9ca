"""The Keras 3 weights layout (``.weights.h5``, and ``model.weights.h5`` in ``.keras``).

What Keras 3 writes for a Sequential model, and glassnet too::

    /layers/dense/vars            attrs: name="dense"   (the layer's own name)
    /layers/dense/vars/0          kernel, (n_in, units)   glassnet's W
    /layers/dense/vars/1          bias, (units,)          glassnet's b
    /layers/activation/vars       (empty: no weights)
    /layers/dense_1/vars/0 ...
    /layers/lstm/vars             (empty: the weights are the cell's)
    /layers/lstm/cell/vars/0..2   kernel, recurrent_kernel, bias
    /layers/bidirectional/forward_layer/cell/vars/0..2, .../backward_layer/...
    /layers/time_distributed/layer/vars/0..1
    /optimizer/vars               attrs: name="adam"    (only with optimizer state)
    /optimizer/vars/0             iteration count, /1 learning rate, /2... slots
                                  (no /1 for a schedule; Nadam's u_product last)
    /vars                         attrs: name="sequential"  (the model's own: none)

Groups are named by layer *class* and position (``dense``, ``dense_1``), not by the
layer's name: see :func:`~glassnet.io.keras_compat.keras_layer_paths`. A functional
model's groups follow Keras' order of its layers and include its InputLayers
(``input_layer``, ``input_layer_1``: no weights), as Keras writes them; a layer's
weights are its parameters, then its state (BatchNormalization: ``gamma``,
``beta``, ``moving_mean``, ``moving_variance``), nested as Keras nests the objects
that own them (:mod:`~glassnet.io.keras_layout`). Optimizer slots follow Keras' order
of the trainable weights. Datasets keep the model's dtype, so float64 weights stay
float64. Reading checks every dataset (see :mod:`glassnet.io.hdf5`) and refuses
missing or extra weights, naming the group.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetWarning, ModelFileError
from glassnet.io import hdf5
from glassnet.io.keras_compat import keras_layer_paths, keras_weight_name
from glassnet.io.keras_layout import VarsGroup, vars_groups
from glassnet.io.sequence_limits import read_checked_weight
from glassnet.io.slots import weight_slots
from glassnet.io.training_state import (
    fixed_variables,
    optimizer_params,
    slot_values,
    variable_order,
)

if TYPE_CHECKING:
    from glassnet.models import Model

__all__ = ["read_layer_weights", "read_optimizer_state", "write_weights"]


def write_weights(root: Any, model: Model, include_optimizer: bool = False) -> None:
    """Write ``model``'s weights (and optionally optimizer state) into an open file."""
    layers = root.create_group("layers")
    for path, layer in keras_layer_paths(model):
        weights = {weight.key: weight for weight in layer.weights}
        top = layers.create_group(path)
        for vars_group in vars_groups(layer):
            group = top.require_group(vars_group.vars_path())
            group.attrs["name"] = vars_group.name or path
            for index, key in enumerate(vars_group.keys):
                group.create_dataset(str(index), data=weights[key].value)
    optimizer = model.optimizer
    if include_optimizer and model.compiled and optimizer is not None and model.built:
        group = root.create_group("optimizer").create_group("vars")
        group.attrs["name"] = optimizer.name
        group.create_dataset("0", data=np.int64(optimizer._iterations))
        start = fixed_variables(optimizer)
        if start == 2:
            group.create_dataset("1", data=np.float32(optimizer.learning_rate))
        values = slot_values(model)
        values += [np.array(x, np.float64) for x in optimizer._scalars().values()]
        for index, value in enumerate(values, start=start):
            group.create_dataset(str(index), data=value)
    root.create_group("vars").attrs["name"] = model.name


def read_layer_weights(
    root: Any, model: Model, where: str, allow_nonfinite: bool = False
) -> list[Array]:
    """Every weight of ``model`` from the file, checked, in ``get_weights`` order."""
    hdf5.scan(root, where)
    slots = weight_slots(model)
    by_weight = {(id(s.layer), s.key): s for s in slots}
    layers = hdf5.get_group(root, "layers", where, required=False)
    if layers is None:  # tf.keras 2.13+ wrote this name
        layers = hdf5.get_group(root, "_layer_checkpoint_dependencies", where, False)
    if layers is None:
        if slots:
            raise ModelFileError(
                f"{where}: no 'layers' group; this is not a Keras 3 weights file."
            )
        return []
    expected = keras_layer_paths(model)
    extra = sorted(set(layers) - {path for path, _ in expected})
    for name in extra:
        if _holds_weights(hdf5.get_group(layers, name, where)):
            raise ModelFileError(
                f"{where}: the file has weights for a layer 'layers/{name}' that the "
                "model does not have (the architectures differ)."
            )
    arrays: dict[tuple[int, str], Array] = {}
    for path, layer in expected:
        groups = vars_groups(layer)
        here = f"{where}: layers/{path} (layer '{layer.name}')"
        top = hdf5.get_group(layers, path, where, required=bool(layer.weights))
        for vars_group in groups:
            variables = _vars(top, vars_group, here)
            inside = f"layers/{path}/{vars_group.vars_path()}"
            label = f"{where}: {inside} (layer '{layer.name}')"
            _check_indices(variables, vars_group, groups, label, path)
            for index, key in enumerate(vars_group.keys):
                slot = by_weight[id(layer), key]
                dataset = hdf5.get_dataset(variables, str(index), label)
                arrays[id(layer), key] = read_checked_weight(
                    dataset,
                    slot,
                    model.dtype,
                    f"{label}/{index} ({_keras_name(key)}, glassnet '{slot.name}')",
                    allow_nonfinite,
                )
    return [arrays[id(s.layer), s.key] for s in slots]


def _holds_weights(group: Any) -> bool:
    """Whether any dataset lies below ``group``, however deep (a recurrent layer's
    weights are in ``cell/vars``). The file was scanned first: its groups form a
    tree of at most MAX_HDF5_OBJECTS objects."""
    h5py = hdf5.load_h5py()
    stack = [group]
    while stack:
        parent = stack.pop()
        for name in parent:
            # the kind from the object's header: a dataset is not opened
            kind = parent.get(name, getclass=True)
            if kind is h5py.Dataset:
                return True
            if kind is h5py.Group:
                stack.append(parent[name])
    return False


def _vars(top: Any, vars_group: VarsGroup, where: str) -> Any:
    """The ``vars`` group of ``vars_group`` below the layer's group ``top``, or
    None when the file has none (an error only if weights belong there)."""
    group = top
    for part in vars_group.path.split("/") if vars_group.path else []:
        if group is None:
            break
        group = hdf5.get_group(group, part, where, required=bool(vars_group.keys))
    if group is None:
        return None
    return hdf5.get_group(group, "vars", where, required=False)


def _check_indices(
    variables: Any,
    vars_group: VarsGroup,
    groups: list[VarsGroup],
    where: str,
    path: str,
) -> None:
    """Refuse a ``vars`` group that does not hold exactly ``0 .. n-1``."""
    stored = set() if variables is None else set(variables)
    wanted = {str(i) for i in range(len(vars_group.keys))}
    if stored == wanted:
        return
    names = ", ".join(map(_keras_name, vars_group.keys))
    message = (
        f"{where}: expected the weights {sorted(wanted) or 'none'} "
        f"({names or 'no weights'}); the file has {sorted(stored)[:10] or 'none'}."
    )
    nested = [f"layers/{path}/{g.vars_path()}" for g in groups if g.keys and g.path]
    if stored and not vars_group.keys and nested:
        message += f" Keras 3 nests this layer's weights: {', '.join(nested)}."
    raise ModelFileError(message)


def _keras_name(key: str) -> str:
    """Keras' name of a layer's weight key (``forward.W`` -> ``kernel``)."""
    return keras_weight_name(key.rpartition(".")[2])


def read_optimizer_state(
    root: Any, model: Model, where: str, *, strict: bool, allow_nonfinite: bool
) -> tuple[int, dict[str, dict[str, Array]], dict[str, float]] | None:
    """``(iterations, state, scalars)`` from ``optimizer/vars``; None if it has none.

    A file whose optimizer variables do not match the compiled optimizer is an error
    when glassnet wrote it (``strict``); for a Keras file it is skipped with a
    warning, as Keras itself does, and training restarts the optimizer from scratch.
    """
    optimizer = model.optimizer
    group = hdf5.get_group(root, "optimizer", where, required=False)
    variables = None if group is None else hdf5.get_group(group, "vars", where, False)
    if optimizer is None or variables is None or not len(variables):
        return None
    here = f"{where}: optimizer/vars"
    params = {name: p.shape for name, p in optimizer_params(model).items()}
    order = variable_order(optimizer, list(params))
    fixed = fixed_variables(optimizer)
    scalars = list(optimizer._scalars())
    wanted = {str(i) for i in range(fixed + len(order) + len(scalars))}
    if set(variables) == {str(i) for i in range(fixed)} and not strict:
        return None  # Keras compiled the model but never trained it: nothing to resume
    if set(variables) != wanted:
        message = (
            f"{here}: the file has {len(variables)} optimizer variables; glassnet's "
            f"{type(optimizer).__name__} with this configuration needs {len(wanted)}"
        )
        if strict:
            raise ModelFileError(message + ".")
        _warn(message + "; the optimizer starts from scratch.")
        return None
    iterations = hdf5.read_int(hdf5.get_dataset(variables, "0", here), f"{here}/0")
    if fixed == 2:
        hdf5.read_weight(
            hdf5.get_dataset(variables, "1", here),
            (),
            np.dtype("float64"),
            f"{here}/1 (learning rate)",
        )
    state: dict[str, dict[str, Array]] = {}
    for index, (name, slot) in enumerate(order, start=fixed):
        label = f"{here}/{index} ({name} {slot})"
        dataset = hdf5.get_dataset(variables, str(index), here)
        if not strict and tuple(dataset.shape) != params[name]:
            _warn(
                f"{label}: shape {dataset.shape} does not fit; the optimizer starts "
                "from scratch."
            )
            return None
        value = hdf5.read_weight(
            dataset, params[name], model.dtype, label, allow_nonfinite
        )
        state.setdefault(name, {})[slot] = value
    values = {}
    for index, key in enumerate(scalars, start=fixed + len(order)):
        label = f"{here}/{index} ({key})"
        dataset = hdf5.get_dataset(variables, str(index), here)
        values[key] = float(hdf5.read_weight(dataset, (), np.dtype("float64"), label))
    return iterations, state, values


def _warn(message: str) -> None:
    warnings.warn(GlassnetWarning(message), stacklevel=4)
