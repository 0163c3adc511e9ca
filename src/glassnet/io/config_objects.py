"""The objects inside a layer config: activations, initializers, regularizers and
constraints, read from Keras' spelling into glassnet's registries.

Each is looked up by name in glassnet's closed registries (or ``custom_objects``);
a name glassnet lacks is refused with a suggestion, and a ``module`` or
``registered_name`` pointing outside Keras and glassnet is refused as unsafe
(:func:`~glassnet.io.keras_compat.check_claims`). Keras' ``shared_object_id``, which
marks an object several layers share, is dropped: each use carries the whole
config. An initializer glassnet lacks is an error, or, when the file's weights will
replace the initial values anyway and it is one of Keras' own (``Identity``...),
glassnet's default for that argument with a :class:`GlassnetWarning`. A name that
points at code (a dot, ``>`` or a dunder) is refused as unsafe.

>>> read_activation("tanh", "layer 'lstm': activation", None).name
'tanh'
>>> read_penalty("kernel_regularizer", {"class_name": "L2", "config": {"l2": 0.5},
...               "shared_object_id": 140}, "layer 'lstm'", None)
L2(l2=0.5)
>>> read_initializer("os.system", "layer 'lstm': kernel_initializer", None, None)
Traceback (most recent call last):
...
glassnet.errors.UnsafeFileError: layer 'lstm': kernel_initializer: the initializer ...
"""

from __future__ import annotations

import warnings
from typing import Any

from glassnet import activations, constraints, initializers, regularizers
from glassnet.errors import (
    GlassnetError,
    GlassnetWarning,
    ModelFileError,
    UnsafeFileError,
)
from glassnet.io.keras_compat import check_claims, snake_case, strip_neutral

__all__ = ["read_activation", "read_initializer", "read_penalty"]

CustomObjects = dict[str, type] | None


def read_activation(value: Any, where: str, custom_objects: CustomObjects) -> Any:
    """An activation from its name or config."""
    if isinstance(value, dict):
        check_claims(value, where)
        value = _unshared(value)
    try:
        return activations.get(value, custom_objects=custom_objects)
    except GlassnetError as error:
        raise ModelFileError(
            f"{where}: {str(value)[:100]!r} is not an activation glassnet has. {error}"
        ) from None


def read_penalty(
    key: str, value: Any, where: str, custom_objects: CustomObjects
) -> Any:
    """A regularizer or constraint (``key`` says which) from its config, or None."""
    if isinstance(value, dict):
        check_claims(value, where)
        value = _unshared(value)
    get = regularizers.get if key.endswith("_regularizer") else constraints.get
    try:
        return get(value, custom_objects=custom_objects)
    except GlassnetError as error:
        raise ModelFileError(f"{where}: {error}") from None


def read_initializer(
    value: Any,
    where: str,
    default: Any,
    custom_objects: CustomObjects,
    replace_unknown: bool = False,
) -> Any:
    """An initializer from its name or config; its ``seed`` is dropped.

    With ``replace_unknown`` (the file's weights replace the initial values), one
    of Keras' own initializers glassnet cannot build becomes ``default``, with a
    warning.
    """
    name = value.get("class_name") if isinstance(value, dict) else value
    if (
        isinstance(name, str)
        and _names_code(name)
        and name not in (custom_objects or {})
    ):
        raise UnsafeFileError(
            f"{where}: the initializer {name[:100]!r} names a Python object, not "
            "an initializer; glassnet never imports code named by a file."
        )
    try:
        if isinstance(value, dict):
            check_claims(value, where)
            config = value.get("config") or {}
            if not isinstance(config, dict):
                raise ModelFileError(
                    f"{where}: the initializer config must be an object."
                )
            config = {k: v for k, v in config.items() if k != "seed"}
            config = strip_neutral(
                config, {"input_axes": (None,), "output_axes": (None,)}, where
            )
            value = {"class_name": value.get("class_name"), "config": config}
        return initializers.get(value, custom_objects=custom_objects)
    except GlassnetError as error:
        if isinstance(error, UnsafeFileError):
            raise
        # Only a Keras initializer glassnet cannot build is replaced, since the
        # file's weights overwrite it; any other name is an error, because a
        # file that names something else is not a Keras file read in good faith.
        if (
            replace_unknown
            and default is not None
            and isinstance(name, str)
            and name in _KERAS_INITIALIZERS
        ):
            warnings.warn(
                GlassnetWarning(
                    f"{where}: {error} The layer gets glassnet's default "
                    f"({default!r}) instead; this only affects how the weights "
                    "start, and the file's weights replace them."
                ),
                stacklevel=2,
            )
            return initializers.get(default)
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"{where}: {error}") from None


def _unshared(value: dict[str, Any]) -> dict[str, Any]:
    """An object's config without Keras' ``shared_object_id``.

    Keras 3 marks an object that several layers share (one regularizer given to two
    layers, the model's dtype policy) with the same id at every use, and writes its
    whole config each time; glassnet builds one object per use from that config.
    """
    return {k: v for k, v in value.items() if k != "shared_object_id"}


#: Keras 3's initializers (``keras.initializers.ALL_OBJECTS_DICT``: class names,
#: their snake_case names and aliases, without the abstract ``Initializer``). In a
#: file whose weights replace the initial values, one of these that glassnet lacks
#: (Identity, STFT) or cannot configure is replaced by glassnet's
#: default; no other name is.
_KERAS_INITIALIZER_CLASSES = (
    "Constant", "Zeros", "Ones", "Identity", "STFT", "GlorotNormal", "GlorotUniform",
    "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal",
    "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
)  # fmt: skip
_KERAS_INITIALIZERS = frozenset(
    [
        *_KERAS_INITIALIZER_CLASSES,
        *(snake_case(name) for name in _KERAS_INITIALIZER_CLASSES),
        "IdentityInitializer", "OrthogonalInitializer", "STFTInitializer",
        "normal", "uniform", "one", "zero",
    ]
)  # fmt: skip


def _names_code(name: str) -> bool:
    """A dotted path, Keras' ``package>Name`` of a custom object, or a dunder."""
    return "." in name or ">" in name or "__" in name
