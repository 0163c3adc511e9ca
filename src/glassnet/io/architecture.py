"""A model's architecture as JSON, in Keras' layout: ``to_json`` and ``model_from_json``.

glassnet writes what Keras 3 writes for a Sequential model, so a Keras user reads it
without surprise and Keras itself can load it::

    {"module": "keras", "class_name": "Sequential",
     "config": {"name": "sequential", "trainable": true, "dtype": "float32",
                "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 2], ...}},
                           {"class_name": "Dense", "config": {"units": 10, ...}}, ...],
                "build_input_shape": [null, 2], "seed": 1},
     "keras_version": "3.15.1", "backend": "glassnet", ...}

Each layer's config is glassnet's own ``get_config()`` (which uses Keras' argument
names), plus ``trainable`` and ``dtype`` as Keras expects; ``seed`` is glassnet's
addition (Keras ignores it). Reading accepts that, Keras 3's and Keras 2's layouts
(``batch_input_shape``, a bare list of layers), and glassnet's own ``get_config()``.

Reading is safe: the text is parsed by :mod:`glassnet.io.safe_json`, every
``class_name`` is looked up in glassnet's closed registries (never imported), no
object anywhere in the document may name code, and the declared number of
parameters is checked (against the limits, and against the bytes a file stores
for its weights) before any weight is allocated.

>>> from glassnet.models import Sequential
>>> from glassnet.layers import Dense, Activation
>>> model = Sequential([Dense(3, input_dim=2), Activation("tanh")], seed=1)
>>> text = model_to_json(model)
>>> copy = model_from_json(text)
>>> [type(layer).__name__ for layer in copy.layers], copy.input_shape, copy.seed
(['Dense', 'Activation'], (2,), 1)
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

from glassnet import __version__, initializers
from glassnet.errors import GlassnetError, GlassnetTypeError, ModelFileError
from glassnet.io import limits, safe_json
from glassnet.io.keras_compat import (
    BACKEND,
    KERAS_VERSION,
    check_all_claims,
    check_claims,
    strip_neutral,
)
from glassnet.io.layer_configs import (
    LayerReader,
    Unknown,
    check_custom_objects,
    check_parameter_count,
    read_batch_shape,
)
from glassnet.layers import Layer
from glassnet.models.sequential import Sequential

__all__ = [
    "draw_initial_weights",
    "model_from_config",
    "model_from_json",
    "model_to_config",
    "model_to_json",
]

_MODEL_KEYS = {"name", "layers", "build_input_shape", "dtype", "seed"}


# -- writing ---------------------------------------------------------------------
def model_to_config(model: Sequential, *, legacy: bool = False) -> dict[str, Any]:
    """The Keras-layout config of ``model`` (``legacy=True``: the style of .h5 files).

    The legacy style omits ``module``/``registered_name``/``build_config`` and gives
    the input as ``batch_input_shape``, which Keras 2 and Keras 3 both read.
    """
    dtype = model.dtype.name
    shape = model.input_shape if model.built else None
    entries = []
    if shape is not None:
        key = "batch_input_shape" if legacy else "batch_shape"
        input_config = {key: [None, *shape], "dtype": dtype, "sparse": False}
        entries.append(
            _entry("InputLayer", {**input_config, "name": "input_layer"}, legacy)
        )
    for spec, layer in zip(model.get_config()["layers"], model.layers, strict=True):
        config = dict(spec["config"])
        config.pop("input_shape", None)
        config.pop("input_dim", None)
        keras_config = {"name": config.pop("name"), "trainable": True, "dtype": dtype}
        for key, value in config.items():
            if key.endswith("_initializer") and isinstance(value, dict) and not legacy:
                value = {
                    "module": "keras.initializers",
                    **value,
                    "registered_name": None,
                }
            keras_config[key] = value
        entry = _entry(spec["class_name"], keras_config, legacy)
        if shape is not None:
            if not legacy:
                entry["build_config"] = {"input_shape": [None, *shape]}
            shape = layer.output_shape(shape)
        entries.append(entry)
    config = {"name": model.name, "trainable": True, "dtype": dtype, "layers": entries}
    if model.built:
        config["build_input_shape"] = [None, *model.built_input_shape()]
    config["seed"] = model.seed
    result = _entry("Sequential", config, legacy, module="keras")
    if model.built and not legacy:
        result["build_config"] = {"input_shape": [None, *model.built_input_shape()]}
    return result


def _entry(
    class_name: str, config: dict[str, Any], legacy: bool, module: str = "keras.layers"
) -> dict[str, Any]:
    if legacy:
        return {"class_name": class_name, "config": config}
    return {
        "module": module,
        "class_name": class_name,
        "config": config,
        "registered_name": None,
    }


def model_to_json(model: Sequential, **json_kwargs: Any) -> str:
    """The architecture as a JSON string; ``json_kwargs`` go to ``json.dumps``."""
    if not isinstance(model, Sequential):
        raise GlassnetTypeError(
            f"to_json expects a glassnet Sequential model. Received: {type(model).__name__}"
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
) -> Sequential:
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
) -> Sequential:
    """Build the model a parsed Keras-layout ``document`` describes.

    ``unknown_initializers="default"`` replaces a Keras initializer glassnet lacks
    by the layer's default with a warning; loaders use it only when the file's
    weights overwrite the initial values anyway.

    ``stored_bytes`` is given by loaders whose file holds the weights: the bytes it
    has for them. An architecture needing more is refused before it is built, and
    the layers are built with zeros instead of drawing initial values the file
    replaces (:func:`draw_initial_weights` then moves the model's generator on as
    the draws would have, once the weights are in).
    """
    check_custom_objects(custom_objects)
    if not isinstance(document, dict) or "class_name" not in document:
        raise ModelFileError(
            f"{where}: expected a model config, a JSON object with 'class_name' and "
            f"'config'. Received: {str(document)[:100]}"
        )
    check_claims(document, where)
    if document["class_name"] != "Sequential":
        raise ModelFileError(
            f"{where}: glassnet reads Sequential models only; this file holds a "
            f"{str(document['class_name'])[:60]!r} model."
        )
    config = document.get("config")
    if isinstance(config, list):  # Keras 2.0 and 2.1 stored the bare list of layers
        config = {"layers": config}
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: the Sequential 'config' must be a JSON object.")
    config = strip_neutral(config, {"trainable": (True,)}, where)
    unknown = sorted(set(config) - _MODEL_KEYS)
    if unknown:
        raise ModelFileError(
            f"{where}: unknown Sequential setting(s) {unknown}; glassnet reads "
            f"{sorted(_MODEL_KEYS)}."
        )
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
    layers = reader.instantiate(input_shape)
    check_parameter_count(layers, input_shape, where, stored_bytes)
    try:
        model = Sequential(
            name=config.get("name"), seed=config.get("seed"), dtype=dtype
        )
        with _zero_initializers(layers, stored_bytes is not None):
            for layer in layers:
                model.add(layer)
            if input_shape is not None and not model.built:
                model.build((None, *input_shape))
    except GlassnetError as error:
        raise ModelFileError(
            f"{where}: the model could not be built: {error}"
        ) from error
    return model


@contextlib.contextmanager
def _zero_initializers(layers: list[Layer], active: bool) -> Iterator[None]:
    """While active, every ``*_initializer`` of ``layers`` is Zeros, then restored.

    Building a model from a file whose weights replace the initial values would
    otherwise draw (and throw away) every initial value first, before the file's
    weights are even read. The layers keep their real initializers for
    ``get_config``, ``to_json`` and later builds.
    """
    saved = [
        (layer, key, getattr(layer, key))
        for layer in (layers if active else [])
        for key in _initializer_attributes(layer)
    ]
    zeros = initializers.Zeros()
    for layer, key, _ in saved:
        setattr(layer, key, zeros)
    try:
        yield
    finally:
        for layer, key, value in saved:
            setattr(layer, key, value)


def draw_initial_weights(model: Sequential) -> None:
    """Advance ``model.rng`` exactly as building the model drew its initial weights.

    A model built with zeros (:func:`model_from_config` with ``stored_bytes``) has
    not touched its generator; this draws the values a normal build would and
    drops them, one layer at a time, so a loaded model's generator (which shuffles
    and draws dropout masks in ``fit``) ends where a normal build leaves it, as the
    seed promises. Loaders call it once the file's weights are in, and only when
    the file does not restore the generator itself; a model without a seed has
    nothing to reproduce.
    """
    if not model.built or model.seed is None or model.input_shape is None:
        return
    shape = model.input_shape
    for layer in model.layers:
        if _initializer_attributes(layer):  # only these skipped their draws
            twin = copy.copy(layer)
            twin.params, twin.grads = {}, {}
            twin.build(shape, model.rng, model.dtype)
        shape = layer.output_shape(shape)


def _initializer_attributes(layer: Layer) -> list[str]:
    """The names of the layer's initializers (``kernel_initializer``...)."""
    return [
        key
        for key, value in vars(layer).items()
        if key.endswith("_initializer") and isinstance(value, initializers.Initializer)
    ]
