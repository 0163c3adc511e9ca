"""How glassnet's names map onto Keras' names in files, and what it ignores or refuses.

Keras configs carry settings glassnet has no use for (PReLU's ``alpha_regularizer``
set to ``None``, BatchNormalization's ``renorm=False``). A setting at its neutral
value is dropped; any other value is refused with an error that names the layer,
the setting and the value, because silently ignoring, say, a regularizer would
train a different model than the file describes. (``trainable`` is not one of
them: a frozen layer is read frozen; nor are the regularizers and constraints of
Dense, the convolutions and the normalization layers, which glassnet reads: see
:mod:`glassnet.regularizers`.)

A config may also claim where its class lives (``"module": "keras.layers"``,
``"registered_name"``). glassnet never imports anything a file names: it looks the
``class_name`` up in its own closed registries. A claim pointing anywhere but Keras or
glassnet is refused as unsafe (:func:`check_claims`).

>>> snake_case("Dense"), snake_case("GlorotUniform")
('dense', 'glorot_uniform')
>>> dtype_name({"class_name": "DTypePolicy", "config": {"name": "float64"}}, "here")
'float64'
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from glassnet._naming import to_snake_case
from glassnet.errors import ModelFileError, UnsafeFileError
from glassnet.models import Sequential
from glassnet.models.functional_config import keras_layer_order

if TYPE_CHECKING:
    from glassnet.layers import Layer
    from glassnet.models import Model

__all__ = [
    "BACKEND",
    "KERAS_VERSION",
    "KERAS_WEIGHT_NAMES",
    "LAYER_NEUTRAL",
    "LOSS_NEUTRAL",
    "OPTIMIZER_NEUTRAL",
    "OWN_INPUT_DIM",
    "WRAPPED_LAYER_KEYS",
    "check_all_claims",
    "check_claims",
    "dtype_name",
    "keras_entry",
    "keras_function_name",
    "keras_layer_config",
    "keras_layer_paths",
    "keras_layers",
    "keras_weight_name",
    "snake_case",
    "strip_neutral",
]

#: The Keras release whose file layouts glassnet writes and is tested against.
KERAS_VERSION = "3.15.1"

#: What glassnet writes where Keras writes its backend ("tensorflow", "torch", ...).
BACKEND = "glassnet"

#: glassnet parameter names and the Keras variable names for the same tensors.
#: Dense keeps Keras' orientation (W is (n_in, n_out), like Keras' kernel).
KERAS_WEIGHT_NAMES = {"W": "kernel", "b": "bias"}

_ANY = object()  # a neutral-table entry that accepts every value

#: Layer settings Keras writes that glassnet drops at these values (else refuses).
LAYER_NEUTRAL: dict[str, tuple[Any, ...]] = {
    # BatchNormalization (Keras 1 and 2.0), PReLU
    "moving_mean_regularizer": (None,),  # Keras 1 and 2.0
    "moving_variance_regularizer": (None,),
    "alpha_regularizer": (None,),
    "alpha_constraint": (None,),
    "synchronized": (False,),
    "renorm": (False,),
    "renorm_clipping": (None,),
    "renorm_momentum": (_ANY,),  # only used with renorm, refused above
    "fused": (None, True, False),  # tf.keras 2's choice of kernel, same math
    "virtual_batch_size": (None,),
    "adjustment": (None,),
    "rms_scaling": (False,),
    "quantization_config": (None,),
    "lora_rank": (None, 0),
    "lora_alpha": (_ANY,),  # only used with a lora_rank, refused above
    "noise_shape": (None,),
    "batch_size": (None,),
    "sparse": (False, None),
    "ragged": (False, None),
    "optional": (False,),
    "autocast": (True,),
    # tf.keras 2's recurrent layers: `implementation` chose a kernel (1 or 2, the
    # same math); `time_major=True` took (time, batch, ...) inputs; Embedding's
    # `input_length` repeated the input's time axis (Keras 3 drops it too)
    "implementation": (_ANY,),
    "time_major": (False,),
    "input_length": (_ANY,),
}

#: Optimizer settings Keras writes that glassnet drops at these values.
OPTIMIZER_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "use_ema": (False,),
    "ema_momentum": (_ANY,),  # only used with use_ema
    "ema_overwrite_frequency": (_ANY,),
    "loss_scale_factor": (None,),
    "gradient_accumulation_steps": (None,),
    "decay": (0.0, 0, None),  # Keras 2's per-step learning-rate decay
    "is_legacy_optimizer": (_ANY,),
    "jit_compile": (_ANY,),
}

#: Loss settings Keras writes that glassnet drops at these values.
LOSS_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "name": (_ANY,),
    "reduction": ("sum_over_batch_size", "auto", "AUTO", None),
    "label_smoothing": (0.0, 0),
    "axis": (-1,),
    "dtype": (None, "float32", "float64"),
    "ignore_class": (None,),
}


def snake_case(name: str) -> str:
    """Keras' ``to_snake_case``: how Keras names a layer's group in a weights file."""
    return to_snake_case(name)


def keras_layers(model: Model) -> list[Layer]:
    """The model's layers in the order of Keras 3's ``model.layers`` for it.

    A Sequential model's layers, without the input layer; a functional model's in
    Keras' depth order, InputLayers first
    (:func:`~glassnet.models.functional_config.keras_layer_order`). Keras names
    weights-file groups and orders optimizer variables by this order.
    """
    if isinstance(model, Sequential) or model.graph is None:
        return model.layers
    return keras_layer_order(model.graph)


def keras_layer_paths(model: Model) -> list[tuple[str, Layer]]:
    """Each layer's group name in a Keras 3 weights file: ``dense``, ``dense_1``, ...

    Keras names these groups by class and position in :func:`keras_layers` (the
    InputLayers of a functional model included), not by ``layer.name`` (which
    varies between two builds of the same model), counting each class separately.
    """
    used: dict[str, int] = {}
    paths = []
    for layer in keras_layers(model):
        base = snake_case(type(layer).__name__)
        if base in used:
            used[base] += 1
            paths.append((f"{base}_{used[base]}", layer))
        else:
            used[base] = 0
            paths.append((base, layer))
    return paths


def keras_entry(
    class_name: str,
    config: dict[str, Any],
    legacy: bool,
    module: str = "keras.layers",
    registered_name: str | None = None,
) -> dict[str, Any]:
    """``{"module", "class_name", "config", "registered_name"}`` as Keras 3 writes it.

    ``legacy`` (the ``model_config`` of an ``.h5`` file) keeps only the class name
    and the config, as Keras does there.
    """
    if legacy:
        return {"class_name": class_name, "config": config}
    return {
        "module": module,
        "class_name": class_name,
        "config": config,
        "registered_name": registered_name,
    }


# Keras layers whose constructor takes no ``trainable`` (and no ``**kwargs``): Keras
# cannot load a config that holds the key.
NO_TRAINABLE_KEY = frozenset(
    {"SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"}
)


#: Layers whose ``input_dim`` is an argument of their own (Embedding's vocabulary
#: size), not the input-size shorthand every other layer drops from its config.
OWN_INPUT_DIM = frozenset({"Embedding"})

#: The config keys under which a wrapper (Bidirectional, TimeDistributed) holds
#: its inner layers' configs.
WRAPPED_LAYER_KEYS = ("layer", "backward_layer")


def keras_layer_config(
    config: dict[str, Any],
    trainable: bool,
    dtype: str,
    legacy: bool,
    class_name: str = "",
) -> dict[str, Any]:
    """A layer's ``get_config()`` in Keras' spelling: name, trainable, dtype first.

    ``input_shape``/``input_dim`` go (the model's input says it), and initializers
    get Keras' ``module``; regularizers and constraints, which carry it, lose it in
    legacy configs (as Keras writes them there).

    >>> keras_layer_config({"name": "d", "units": 2, "input_dim": 3}, False, "float32",
    ...                    legacy=True)
    {'name': 'd', 'trainable': False, 'dtype': 'float32', 'units': 2}
    """
    config = dict(config)
    for key in ("input_shape", "trainable"):
        config.pop(key, None)
    if class_name not in OWN_INPUT_DIM:
        config.pop("input_dim", None)
    result = {"name": config.pop("name"), "trainable": trainable, "dtype": dtype}
    for key, value in config.items():
        if key.endswith("_initializer") and isinstance(value, dict) and not legacy:
            value = {"module": "keras.initializers", **value, "registered_name": None}
        elif key.endswith(("_regularizer", "_constraint")) and legacy and value:
            value = {"class_name": value["class_name"], "config": value["config"]}
        elif key in WRAPPED_LAYER_KEYS and isinstance(value, dict):
            # a wrapper's inner layer, in Keras 3's spelling, which its legacy
            # files keep there too (Keras 3 cannot read one without its module);
            # Keras freezes the inner layers with their wrapper
            inner = keras_layer_config(
                value["config"], trainable, dtype, False, value["class_name"]
            )
            value = keras_entry(value["class_name"], inner, legacy=False)
        result[key] = value
    if class_name in NO_TRAINABLE_KEY:
        del result["trainable"]
    return result


def keras_weight_name(key: str) -> str:
    """``"W"`` -> ``"kernel"``, ``"b"`` -> ``"bias"``; other names are kept."""
    return KERAS_WEIGHT_NAMES.get(key, key)


def check_claims(spec: dict[str, Any], where: str) -> None:
    """Refuse a ``module``/``registered_name`` that points outside Keras or glassnet.

    Nothing is imported either way; this only stops glassnet from quietly reading
    a config that was meant to run someone's code.
    """
    class_name = spec.get("class_name")
    if class_name in ("function", "__lambda__", "__typespec__"):
        raise UnsafeFileError(
            f"{where}: the config holds a Python function or lambda "
            f"({str(spec.get('config'))[:60]!r}). glassnet never runs code from a "
            "file; use one of its named activations instead."
        )
    module = spec.get("module")
    if module is not None:
        if not isinstance(module, str) or not _is_ours(module):
            raise UnsafeFileError(
                f"{where}: the config names the module {str(module)[:100]!r}. glassnet "
                "never imports code named by a file; it reads only Keras' built-in "
                "classes and its own, looked up in its registries."
            )
    registered = spec.get("registered_name")
    if registered is not None and registered != class_name:
        if not isinstance(registered, str) or not _is_plain_registered(registered):
            raise UnsafeFileError(
                f"{where}: the config names the registered object "
                f"{str(registered)[:100]!r}, a custom class glassnet does not have. "
                "Pass the class in custom_objects= if you trust it."
            )


def keras_function_name(value: dict[str, Any]) -> str | None:
    """The name in Keras' form of a built-in *function* (a loss, a metric), else None.

    Keras 3 writes ``{"module": "keras.losses", "class_name": "function", "config":
    "mean_squared_error", ...}`` (or ``"module": "builtins"``, which Keras resolves
    in its own modules only). Only the name is ever used, looked up in glassnet's
    registries like any other name. A name that is not a plain identifier, or is
    one of Python's builtins (``eval``, ``exec``, ``open``...), is no Keras function.

    >>> keras_function_name({"module": "keras.losses", "class_name": "function",
    ...                      "config": "mean_squared_error"})
    'mean_squared_error'
    >>> keras_function_name({"module": "builtins", "class_name": "function",
    ...                      "config": "eval"}) is None
    True
    """
    module, name = value.get("module"), value.get("config")
    if (
        value.get("class_name") == "function"
        and isinstance(module, str)
        and (module == "builtins" or module.startswith("keras"))
        and isinstance(name, str)
        and name.isidentifier()
        and "__" not in name
        and name not in vars(builtins)
    ):
        return name
    return None


def check_all_claims(document: Any, where: str) -> None:
    """:func:`check_claims` on every object of a parsed config, wherever it sits.

    The readers check the objects they use; this also reaches the ones they skip:
    a setting dropped at its neutral value, a part of the file ``load_weights``
    does not read. A file that names code anywhere is refused as a whole. The walk
    keeps one iterator per level of nesting, and spells a path out only for the
    error message.

    >>> check_all_claims({"config": {"layers": [{"module": "os"}]}}, "config.json")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnsafeFileError: config.json: config.layers[0]: the config names ...
    """
    path: list[Any] = []
    stack: list[Iterator[tuple[Any, Any]]] = [iter([("", document)])]
    while stack:
        for key, item in stack[-1]:
            if isinstance(item, dict):
                if keras_function_name(item) is None:
                    check_claims(item, _spelled(where, [*path, key]))
                children: Iterator[tuple[Any, Any]] = iter(item.items())
            elif isinstance(item, list):
                children = enumerate(item)
            else:
                continue
            stack.append(children)
            path.append(key)
            break
        else:
            stack.pop()
            if path:
                path.pop()


def _spelled(where: str, keys: list[Any]) -> str:
    """``where: config.layers[1].config`` from the keys below the document."""
    text = "".join(
        f"[{key}]" if isinstance(key, int) else f".{str(key)[:40]}" for key in keys[1:]
    )
    return f"{where}: {text.lstrip('.')}" if text else where


def _is_ours(module: str) -> bool:
    return module in ("keras", "glassnet") or module.startswith(("keras.", "glassnet."))


def _is_plain_registered(name: str) -> bool:
    # Keras writes registered_name "function" for built-in functions and the class
    # name (e.g. "Adam") for its own objects; "package>Name" marks a custom class.
    return ">" not in name and "." not in name


def dtype_name(value: Any, where: str) -> str:
    """The float dtype a Keras dtype entry (a string or a DTypePolicy) stands for."""
    name = value
    if isinstance(value, dict):
        check_claims(value, where)
        config = value.get("config")
        if value.get("class_name") not in ("DTypePolicy", "FloatDTypePolicy") or (
            not isinstance(config, dict)
        ):
            raise ModelFileError(
                f"{where}: unsupported dtype policy {str(value)[:200]}; glassnet "
                "computes in float32 or float64."
            )
        name = config.get("name")
    if name not in ("float32", "float64"):
        raise ModelFileError(
            f"{where}: dtype {str(name)[:100]!r} is not supported; glassnet computes "
            "in float32 or float64 (mixed precision and float16 are not available)."
        )
    return str(name)


def strip_neutral(
    config: dict[str, Any], table: dict[str, tuple[Any, ...]], where: str
) -> dict[str, Any]:
    """``config`` without the keys of ``table`` that hold a neutral value.

    A key of ``table`` with any other value is refused, naming it.

    >>> strip_neutral({"units": 3, "renorm": False}, LAYER_NEUTRAL, "batch_normalization")
    {'units': 3}
    >>> strip_neutral({"units": 3, "renorm": True}, LAYER_NEUTRAL, "layer 'bn'")
    Traceback (most recent call last):
    ...
    glassnet.errors.ModelFileError: layer 'bn': `renorm=True` is not supported ...
    """
    kept = {}
    for key, value in config.items():
        allowed = table.get(key)
        if allowed is None:
            kept[key] = value
        elif _ANY not in allowed and not any(
            value is neutral or (type(value) is type(neutral) and value == neutral)
            for neutral in allowed
        ):
            raise ModelFileError(
                f"{where}: `{key}={str(value)[:100]}` is not supported by glassnet "
                f"(it reads {key} only as {' or '.join(map(repr, allowed))})."
            )
    return kept
