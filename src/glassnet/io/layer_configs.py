"""Reading one layer config at a time: Keras' spelling in, a glassnet layer out.

:class:`LayerReader` takes the layer entries of a Keras-layout model config (Keras 3,
Keras 2, or glassnet's own) and, for each:

- refuses ``module``/``registered_name`` claims outside Keras and glassnet and any
  serialized function (:func:`~glassnet.io.keras_compat.check_claims`);
- reads the input shape from an ``InputLayer`` (``batch_shape``) or Keras 2's
  ``batch_input_shape``, and the dtype from each layer's dtype policy; in a
  functional model each ``InputLayer`` becomes a glassnet ``InputLayer``;
- keeps ``trainable``: a frozen layer is read frozen;
- drops Keras settings at their neutral value and refuses the rest by name;
- refuses windows (kernel and pool sizes, strides, dilations, paddings) longer than
  :data:`~glassnet.io.limits.MAX_WINDOW` (:mod:`~glassnet.io.window_limits`), and a
  ``RepeatVector`` longer than :data:`~glassnet.io.limits.MAX_REPEAT`
  (:mod:`~glassnet.io.sequence_limits`);
- reads a wrapper's inner layers (Bidirectional's ``layer`` and ``backward_layer``,
  TimeDistributed's ``layer``) exactly as it reads the model's own layers, at most
  :data:`~glassnet.io.limits.MAX_WRAPPER_DEPTH` wrappers deep, and creates them
  before their wrapper; a wrapped layer must be a layer config, not an InputLayer;
- looks the class up in glassnet's layer registry (or ``custom_objects``), and
  accepts only the constructor arguments that class has (Keras 2's names, such as
  LeakyReLU's ``alpha``, are read as Keras 3's; given both, the old name wins,
  as in Keras 3's own ``LeakyReLU.__init__``);
- resolves activations, initializers, regularizers and constraints in their
  registries (:mod:`~glassnet.io.config_objects`).

Nothing is allocated until :func:`~glassnet.io.parameter_count.check_parameter_count`
has compared the declared architecture with :data:`~glassnet.io.limits.MAX_PARAMETERS`.

>>> reader = LayerReader("config.json", None, "error")
>>> reader.read(0, {"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}})
>>> reader.read(1, {"class_name": "Dense", "config": {"units": 2, "trainable": False}})
>>> [(type(layer).__name__, layer.trainable)
...  for layer in reader.instantiate(reader.input_shape, "float32")]
[('Dense', False)]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

from glassnet._registry import constructor_parameters, did_you_mean
from glassnet.errors import (
    GlassnetError,
    GlassnetTypeError,
    GlassnetWarning,
    ModelFileError,
)
from glassnet.io import limits
from glassnet.io.config_objects import read_activation, read_initializer, read_penalty
from glassnet.io.keras_compat import (
    LAYER_NEUTRAL,
    WRAPPED_LAYER_KEYS,
    check_claims,
    dtype_name,
    strip_neutral,
)
from glassnet.io.sequence_limits import check_repeat
from glassnet.io.window_limits import check_windows
from glassnet.layers import InputLayer, Layer
from glassnet.layers import registry as layer_registry
from glassnet.layers.wrappers import Wrapper

__all__ = [
    "LayerReader",
    "Unknown",
    "check_custom_objects",
    "read_batch_shape",
]

Unknown = Literal["error", "default"]

_SPEC_KEYS = {"class_name", "config", "module", "registered_name", "build_config"}
_SPEC_KEYS |= {"shared_object_id", "name", "inbound_nodes"}
_INPUT_KEYS = {"name", "sparse", "ragged", "optional", "batch_size"}
_INPUT_DTYPES = ("float32", "float64", "int32", "int64")

#: Keras 2's names of settings Keras 3 renamed, by layer class. Keras 3 still
#: reads the old name, and prefers it: ``LeakyReLU(negative_slope=0.5, alpha=0.1)``
#: has a slope of 0.1 there (keras/src/layers/activations/leaky_relu.py).
_KERAS2_NAMES = {"LeakyReLU": {"alpha": "negative_slope"}}


@dataclass
class Pending:
    """A layer read from a file, not yet created: class, arguments, ``trainable``."""

    cls: type
    config: dict[str, Any]
    where: str
    trainable: bool = True


class LayerReader:
    """Translates layer configs one by one, then instantiates them together.

    ``functional`` readers keep each ``InputLayer`` as a layer of its own (a
    functional model has one per input); otherwise the first one gives the
    Sequential model's :attr:`input_shape`.
    """

    def __init__(
        self,
        where: str,
        custom_objects: dict[str, type] | None,
        unknown: Unknown,
        functional: bool = False,
    ) -> None:
        self.where = where
        self.custom_objects = custom_objects
        self.unknown = unknown
        self.functional = functional
        self.input_shape: tuple[Any, ...] | None = None
        self.dtypes: list[tuple[str, str]] = []
        self.pending: list[Pending] = []

    def read(self, index: int, spec: Any) -> None:
        where = f"{self.where}: layer #{index}"
        _check_spec(spec, where, self.functional)
        check_claims(spec, where)
        class_name = spec["class_name"]
        config = _layer_config(spec, where)
        where = f"{where} ({str(config.get('name'))[:80]!r}, {class_name[:60]})"
        dtype = config.pop("dtype", None)
        batch_shape = config.pop("batch_shape", None)
        if config.get("batch_input_shape") is not None:
            batch_shape = config.pop("batch_input_shape")
        config.pop("batch_input_shape", None)
        if class_name == "InputLayer":
            self._input_layer(config, batch_shape, dtype, where)
            return
        if batch_shape is not None:
            shape = read_batch_shape(batch_shape, where)
            # tf.keras 2 repeats its InputLayer's shape in the first layer's config
            repeated = not self.pending and self.input_shape == shape
            if not repeated and (
                self.pending or self.input_shape is not None or self.functional
            ):
                raise ModelFileError(
                    f"{where}: only the first layer of a Sequential model may declare "
                    "the input shape."
                )
            self.input_shape = shape
        self.pending.append(self._pending(class_name, config, dtype, where, 0))

    def _pending(
        self,
        class_name: str,
        config: dict[str, Any],
        dtype: Any,
        where: str,
        depth: int,
    ) -> Pending:
        """A layer config (dtype and input shape taken out) as a :class:`Pending`;
        ``depth`` counts the wrappers around it."""
        if dtype is not None:
            self.dtypes.append((where, dtype_name(dtype, where)))
        trainable = config.pop("trainable", True)
        if not isinstance(trainable, bool):
            raise ModelFileError(
                f"{where}: `trainable` must be true or false. Received: "
                f"{str(trainable)[:40]}"
            )
        config = strip_neutral(config, LAYER_NEUTRAL, where)
        check_windows(config, where)
        if class_name == "RepeatVector":
            check_repeat(config, where)
        for old, new in _KERAS2_NAMES.get(class_name, {}).items():
            if old in config:  # Keras 3 takes the old name over the new one
                value = config.pop(old)
                if new in config and config[new] != value:
                    warnings.warn(
                        f"{where}: the config sets both `{old}` ({value!r}) and "
                        f"`{new}` ({config[new]!r}); `{old}` is used, as Keras 3 "
                        "does.",
                        GlassnetWarning,
                        stacklevel=2,
                    )
                config[new] = value
        cls = self._layer_class(class_name, where)
        return Pending(
            cls, self._translate(cls, config, where, depth), where, trainable
        )

    def _wrapped(self, spec: Any, where: str, depth: int) -> Pending:
        """The inner layer of a wrapper (``layer``, ``backward_layer``), read as a
        layer of the model is, ``depth`` wrappers deep."""
        if depth > limits.MAX_WRAPPER_DEPTH:
            raise ModelFileError(
                f"{where}: wrappers nested {depth} deep; glassnet reads layers inside "
                f"at most {limits.MAX_WRAPPER_DEPTH} wrappers "
                "(glassnet.io.limits.MAX_WRAPPER_DEPTH)."
            )
        if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
            raise ModelFileError(
                f"{where}: a wrapped layer must be a layer config, an object with a "
                f"'class_name' and a 'config'. Received: {str(spec)[:80]}"
            )
        _check_spec(spec, where, functional=False)
        check_claims(spec, where)
        class_name = spec["class_name"]
        config = _layer_config(spec, where)
        where = f"{where} ({str(config.get('name'))[:80]!r}, {class_name[:60]})"
        if class_name == "InputLayer":
            raise ModelFileError(f"{where}: an InputLayer cannot be wrapped.")
        dtype = config.pop("dtype", None)
        for key in ("batch_shape", "batch_input_shape"):  # the wrapper's input says it
            config.pop(key, None)
        return self._pending(class_name, config, dtype, where, depth)

    def _input_layer(
        self, config: dict[str, Any], batch_shape: Any, dtype: Any, where: str
    ) -> None:
        unknown = sorted(set(config) - _INPUT_KEYS)
        if unknown:
            raise ModelFileError(f"{where}: unsupported setting(s) {unknown}.")
        strip_neutral(config, LAYER_NEUTRAL, where)
        if batch_shape is None:
            raise ModelFileError(f"{where}: the InputLayer has no batch_shape.")
        shape = read_batch_shape(batch_shape, where)
        if not self.functional:
            if self.pending or self.input_shape is not None:
                raise ModelFileError(
                    f"{where}: only the first layer of a Sequential model may declare "
                    "the input shape."
                )
            self.input_shape = shape
            return
        if isinstance(dtype, dict):
            dtype = dtype_name(dtype, where)
        if dtype is not None and dtype not in _INPUT_DTYPES:
            raise ModelFileError(
                f"{where}: an input of dtype {str(dtype)[:40]!r}; glassnet reads "
                f"inputs of {', '.join(_INPUT_DTYPES)}."
            )
        arguments = {"shape": shape, "dtype": dtype, "name": config.get("name")}
        self.pending.append(Pending(InputLayer, arguments, where))

    def _layer_class(self, class_name: str, where: str) -> type:
        if self.custom_objects and class_name in self.custom_objects:
            return self.custom_objects[class_name]
        for cls in layer_registry.classes():
            if cls.__name__ == class_name:
                return cls
        try:
            return layer_registry.lookup(class_name)
        except GlassnetError as error:
            raise ModelFileError(
                f"{where}: glassnet has no layer {class_name[:60]!r} (a Keras layer it "
                f"does not implement?). {error}"
            ) from None

    def _translate(
        self, cls: type, config: dict[str, Any], where: str, depth: int
    ) -> dict[str, Any]:
        parameters = constructor_parameters(cls)
        open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        result: dict[str, Any] = {}
        for key, value in config.items():
            if key in WRAPPED_LAYER_KEYS and issubclass(cls, Wrapper):
                if value is not None or key == "layer":
                    value = self._wrapped(value, f"{where}: {key}", depth + 1)
                result[key] = value
                continue
            if key.endswith(("_regularizer", "_constraint")):
                if value is None and key not in parameters:
                    continue  # Keras 2 writes the ones a layer lacks as null
                value = read_penalty(key, value, f"{where}: {key}", self.custom_objects)
                if key == "activity_regularizer" and issubclass(cls, Layer):
                    result[key] = value  # every layer takes one (Layer.from_config)
                    continue
            if key not in parameters and not open_ended:
                raise ModelFileError(
                    f"{where}: the file sets `{key[:60]}`, which glassnet's "
                    f"{cls.__name__} does not have." + did_you_mean(key, parameters)
                )
            if key == "activation":
                value = read_activation(
                    value, f"{where}: activation", self.custom_objects
                )
            elif key.endswith("_initializer"):
                default = parameters[key].default if key in parameters else None
                value = read_initializer(
                    value,
                    f"{where}: {key}",
                    default,
                    self.custom_objects,
                    replace_unknown=self.unknown == "default",
                )
            result[key] = value
        return result

    def dtype(self, model_dtype: Any) -> str:
        names = {name for _, name in self.dtypes}
        if len(names) > 1:
            detail = ", ".join(f"{w.split(': ')[-1]} {n}" for w, n in self.dtypes)
            raise ModelFileError(
                f"{self.where}: the layers mix dtypes ({detail}); a glassnet model "
                "computes in one dtype."
            )
        if names:
            return names.pop()
        if model_dtype is not None:
            return dtype_name(model_dtype, f"{self.where}: dtype")
        return "float32"

    def instantiate(
        self, input_shape: tuple[Any, ...] | None, dtype: str
    ) -> list[Layer]:
        """Create every layer read, in order, with its ``trainable`` flag.

        ``input_shape`` (Sequential) goes to the first layer; a functional model's
        float inputs take the model's ``dtype``, so its layers compute in it.
        """
        layers = []
        for index, pending in enumerate(self.pending):
            cls: Any = pending.cls
            config = dict(pending.config)
            if cls is InputLayer and config["dtype"] in (None, "float32", "float64"):
                config["dtype"] = dtype
            declares = config.get("input_shape") is not None or config.get("input_dim")
            if index == 0 and input_shape is not None and not declares:
                if "input_shape" in constructor_parameters(cls):
                    config["input_shape"] = list(input_shape)
            layers.append(self._create(pending, config))
        return layers

    def _create(self, pending: Pending, config: dict[str, Any]) -> Layer:
        """The layer ``pending`` describes, with ``config`` as its arguments (its
        wrapped layers created first)."""
        cls: Any = pending.cls
        config = {
            key: self._create(value, dict(value.config))
            if isinstance(value, Pending)
            else value
            for key, value in config.items()
        }
        try:
            layer = cls(**config) if cls is InputLayer else cls.from_config(config)
        except (GlassnetError, TypeError, ValueError) as error:
            raise ModelFileError(f"{pending.where}: {error}") from error
        if not isinstance(layer, Layer):
            raise ModelFileError(
                f"{pending.where}: {cls.__name__} is not a glassnet Layer."
            )
        if not pending.trainable:
            layer.trainable = False
        return layer


def _check_spec(spec: Any, where: str, functional: bool) -> None:
    """A layer entry: an object with a 'class_name' and only the keys Keras writes
    (calls, ``inbound_nodes``, only in a functional model's own layers)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ModelFileError(
            f"{where}: a layer config must be an object with a 'class_name'."
        )
    extra = sorted(set(spec) - _SPEC_KEYS)
    if extra or (spec.get("inbound_nodes") and not functional):
        raise ModelFileError(
            f"{where}: unexpected keys {extra or ['inbound_nodes']} (a Sequential "
            "model's layer configs, and wrapped layers, have no calls)."
        )


def _layer_config(spec: dict[str, Any], where: str) -> dict[str, Any]:
    """A copy of the entry's ``config`` (an object, or absent)."""
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: the layer's 'config' must be a JSON object.")
    return dict(config)


def read_batch_shape(value: Any, where: str) -> tuple[Any, ...]:
    """Validate a Keras batch shape ``[null, n, ...]``; return the per-sample shape.

    Axes after the batch may be ``null`` (a sequence of any length).

    >>> read_batch_shape([None, None, 8], "config.json")
    (None, 8)
    """
    ok = isinstance(value, list) and 2 <= len(value) <= 8
    dims = value[1:] if ok else []
    if (
        ok
        and (value[0] is None or _dim(value[0]))
        and all(d is None or _dim(d) for d in dims)
    ):
        return tuple(None if d is None else int(d) for d in dims)
    raise ModelFileError(
        f"{where}: the input shape must look like [null, 3] (positive sizes, or null "
        f"for an axis of any length). Received: {str(value)[:100]}"
    )


def _dim(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**31


def check_custom_objects(custom_objects: Any) -> None:
    if custom_objects is None:
        return
    if not isinstance(custom_objects, dict) or not all(
        isinstance(k, str) and isinstance(v, type) for k, v in custom_objects.items()
    ):
        raise GlassnetTypeError(
            "Argument `custom_objects` must map class names to classes, e.g. "
            "{'MyLayer': MyLayer}. Received: " + str(custom_objects)[:100]
        )
