"""A model's architecture as JSON, in Keras' layout: ``to_json`` and ``model_from_json``.

glassnet writes what Keras 3 writes, so a Keras user reads it without surprise and
Keras itself can load it. For a Sequential model::

    {"module": "keras", "class_name": "Sequential",
     "config": {"name": "sequential", "trainable": true, "dtype": "float32",
                "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 2], ...}},
                           {"class_name": "Dense", "config": {"units": 10, ...}}, ...],
                "build_input_shape": [null, 2], "seed": 1},
     "keras_version": "3.15.1", "backend": "glassnet", ...}

Each layer's config is glassnet's own ``get_config()`` (which uses Keras' argument
names), plus ``trainable`` and ``dtype`` as Keras expects; ``seed`` is glassnet's
addition (Keras ignores it). A functional model is Keras' ``Functional`` config,
its layers with their calls (:mod:`glassnet.io.functional`). Reading accepts
those, Keras 3's and Keras 2's layouts (``batch_input_shape``, a bare list of
layers, Keras 2's inbound nodes), and glassnet's own ``get_config()``.

Reading is safe: the text is parsed by :mod:`glassnet.io.safe_json`, every
``class_name`` is looked up in glassnet's closed registries (never imported), no
object anywhere in the document may name code, and the declared number of
parameters, each layer asked for the shape it will be built with
(:mod:`glassnet.io.parameter_count`), is checked (against the limits, and against
the bytes a file stores for its weights) before any weight is allocated.

>>> from glassnet.models import Sequential
>>> from glassnet.layers import Dense, Activation
>>> model = Sequential([Dense(3, input_dim=2), Activation("tanh")], seed=1)
>>> text = model_to_json(model)
>>> copy = model_from_json(text)
>>> [type(layer).__name__ for layer in copy.layers], copy.input_shape, copy.seed
(['Dense', 'Activation'], (2,), 1)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import __version__
from glassnet.errors import GlassnetError, GlassnetTypeError, ModelFileError
from glassnet.io import limits, safe_json
from glassnet.io.functional import functional_from_config, functional_to_config
from glassnet.io.initial_weights import (
    check_drawn_weights,
    check_initializers,
    draw_initial_weights,
    zero_initializers,
)
from glassnet.io.keras_compat import (
    BACKEND,
    KERAS_VERSION,
    check_all_claims,
    check_claims,
    keras_entry,
    keras_layer_config,
)
from glassnet.io.layer_configs import (
    LayerReader,
    Unknown,
    check_custom_objects,
    read_batch_shape,
)
from glassnet.io.library_errors import as_model_file_error
from glassnet.io.parameter_count import (
    check_declared_shapes,
    check_parameter_count,
    sequential_counts,
)
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential

__all__ = [
    "draw_initial_weights",
    "model_from_config",
    "model_from_json",
    "model_to_config",
    "model_to_json",
]

_MODEL_KEYS = {"name", "trainable", "layers", "build_input_shape", "dtype", "seed"}
_FUNCTIONAL = ("Functional", "Model")  # Keras 3 and tf.keras 2.4+, older tf.keras


# -- writing ---------------------------------------------------------------------
def model_to_config(model: Model, *, legacy: bool = False) -> dict[str, Any]:
    """The Keras-layout config of ``model`` (``legacy=True``: the style of .h5 files).

    The legacy style omits ``module``/``registered_name``/``build_config`` and gives
    a Sequential model's input as ``batch_input_shape``, which Keras 2 and Keras 3
    both read.
    """
    if not isinstance(model, Sequential):
        return functional_to_config(model, legacy=legacy)
    dtype = model.dtype.name
    shape = model.input_shape if model.built else None
    entries = []
    if shape is not None:
        key = "batch_input_shape" if legacy else "batch_shape"
        input_config = {key: [None, *shape], "dtype": dtype, "sparse": False}
        entries.append(
            keras_entry("InputLayer", {**input_config, "name": "input_layer"}, legacy)
        )
    for spec, layer in zip(model.get_config()["layers"], model.layers, strict=True):
        config = keras_layer_config(
            spec["config"], layer.trainable, dtype, legacy, spec["class_name"]
        )
        entry = keras_entry(spec["class_name"], config, legacy)
        if shape is not None:
            if not legacy:
                entry["build_config"] = {"input_shape": [None, *shape]}
            shape = layer.output_shape(shape)
        entries.append(entry)
    config = {
        "name": model.name,
        "trainable": model.trainable,
        "dtype": dtype,
        "layers": entries,
    }
    if model.built:
        config["build_input_shape"] = [None, *model.built_input_shape()]
    config["seed"] = model.seed
    result = keras_entry("Sequential", config, legacy, module="keras")
    if model.built and not legacy:
        result["build_config"] = {"input_shape": [None, *model.built_input_shape()]}
    return result


def model_to_json(model: Model, **json_kwargs: Any) -> str:
    """The architecture as a JSON string; ``json_kwargs`` go to ``json.dumps``."""
    if not isinstance(model, Model):
        raise GlassnetTypeError(
            f"to_json expects a glassnet model. Received: {type(model).__name__}"
        )
    document = {
        **model_to_config(model),
        "keras_version": KERAS_VERSION,
        "backend": BACKEND,
        "glassnet_version": __version__,
    }
    return safe_json.dumps(document, **json_kwargs)


# -- reading ---------------------------------------------------------------------
def model_from_json(
    json_string: str | bytes, custom_objects: dict[str, type] | None = None
) -> Model:
    """Rebuild an (untrained) model from :func:`model_to_json` or Keras' ``to_json``.

    ``custom_objects`` maps class names to your own classes (layers, activations,
    initializers) for configs that use them; nothing else outside glassnet's
    registries is accepted. Raises :class:`~glassnet.errors.ModelFileError` naming
    the layer and setting that could not be read.
    """
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise GlassnetTypeError(
            "model_from_json expects the JSON text (str or bytes). "
            f"Received: {type(json_string).__name__}"
        )
    document = safe_json.loads(
        bytes(json_string) if isinstance(json_string, bytearray) else json_string,
        "model_from_json",
    )
    return model_from_config(document, "model_from_json", custom_objects)


def model_from_config(
    document: Any,
    where: str,
    custom_objects: dict[str, type] | None = None,
    unknown_initializers: Unknown = "error",
    stored_bytes: int | None = None,
) -> Model:
    """Build the model a parsed Keras-layout ``document`` describes.

    ``unknown_initializers="default"`` replaces a Keras initializer glassnet lacks
    by the layer's default with a warning; loaders use it only when the file's
    weights overwrite the initial values anyway.

    ``stored_bytes`` is given by loaders whose file holds the weights: the bytes it
    has for them. An architecture needing more is refused before it is built, and
    the layers are built with zeros instead of drawing initial values the file
    replaces (:func:`draw_initial_weights` then moves a Sequential model's
    generator on as the draws would have, once the weights are in).
    """
    check_custom_objects(custom_objects)
    # NumPy warnings are silenced (an extreme initializer is refused, not warned
    # about), and a library's own error becomes a ModelFileError naming ``where``
    with np.errstate(all="ignore"), as_model_file_error(where):
        model = _model_from_document(
            document, where, custom_objects, unknown_initializers, stored_bytes
        )
        if stored_bytes is None and model.built:  # the initial weights were drawn
            check_drawn_weights(model, where)
    return model


def _model_from_document(
    document: Any,
    where: str,
    custom_objects: dict[str, type] | None,
    unknown_initializers: Unknown,
    stored_bytes: int | None,
) -> Model:
    if not isinstance(document, dict) or "class_name" not in document:
        raise ModelFileError(
            f"{where}: expected a model config, a JSON object with 'class_name' and "
            f"'config'. Received: {str(document)[:100]}"
        )
    check_claims(document, where)
    class_name = document["class_name"]
    if class_name in _FUNCTIONAL:
        check_all_claims(document, where)
        return functional_from_config(
            document.get("config"),
            where,
            custom_objects,
            unknown_initializers,
            stored_bytes,
        )
    if class_name != "Sequential":
        raise ModelFileError(
            f"{where}: glassnet reads Sequential and functional models; this file "
            f"holds a {str(class_name)[:60]!r} model."
        )
    return _sequential_from_config(
        document, where, custom_objects, unknown_initializers, stored_bytes
    )


def _sequential_from_config(
    document: dict[str, Any],
    where: str,
    custom_objects: dict[str, type] | None,
    unknown_initializers: Unknown,
    stored_bytes: int | None,
) -> Sequential:
    config = document.get("config")
    if isinstance(config, list):  # Keras 2.0 and 2.1 stored the bare list of layers
        config = {"layers": config}
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: the Sequential 'config' must be a JSON object.")
    unknown = sorted(set(config) - _MODEL_KEYS)
    if unknown:
        raise ModelFileError(
            f"{where}: unknown Sequential setting(s) {unknown}; glassnet reads "
            f"{sorted(_MODEL_KEYS)}."
        )
    trainable = config.get("trainable", True)
    if not isinstance(trainable, bool):
        raise ModelFileError(f"{where}: the model's `trainable` must be true or false.")
    specs = config.get("layers")
    if not isinstance(specs, list) or len(specs) > limits.MAX_LAYERS:
        raise ModelFileError(
            f"{where}: 'layers' must be a list of at most {limits.MAX_LAYERS} layer "
            "configs."
        )
    reader = LayerReader(where, custom_objects, unknown_initializers)
    for index, spec in enumerate(specs):
        reader.read(index, spec)
    # The reader checked what it uses; settings it drops (neutral values, parts
    # of the document it does not read) may not name code either.
    check_all_claims(document, where)
    input_shape = reader.input_shape
    if input_shape is None and config.get("build_input_shape") is not None:
        input_shape = read_batch_shape(
            config["build_input_shape"], f"{where}: build_input_shape"
        )
    dtype = reader.dtype(config.get("dtype"))
    layers = reader.instantiate(input_shape, dtype)
    input_shape = check_declared_shapes(layers, input_shape, where)
    check_initializers(layers, dtype, where)
    check_parameter_count(sequential_counts(layers, input_shape), where, stored_bytes)
    try:
        model = Sequential(
            name=config.get("name"), seed=config.get("seed"), dtype=dtype
        )
        # the model's own flag (set before the layers join, so it does not reach
        # them: each layer's flag came with its config)
        model.trainable = trainable
        with zero_initializers(layers, stored_bytes is not None):
            for layer in layers:
                model.add(layer)
            if input_shape is not None and not model.built:
                model.build((None, *input_shape))
    except GlassnetError as error:
        raise ModelFileError(
            f"{where}: the model could not be built: {error}"
        ) from error
    for layer in layers:  # as in Keras, a rebuilt model's paths are "dense/kernel"
        layer.path_prefix = ""
    return model
