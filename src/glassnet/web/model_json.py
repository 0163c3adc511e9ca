"""A model as the plain JSON the browser pages read: layers, activations and weights.

The pages in :mod:`glassnet.web` run a model with their own JavaScript forward pass
(``assets/forward.js``), so they need the model as data. :func:`model_to_json`
writes it, refusing what that forward pass cannot run: the layers it knows are
``Input``, ``Dense``, ``Activation`` (and Keras' ``ReLU``, ``LeakyReLU``, ``ELU``,
``Softmax`` layers), ``Dropout`` (the identity at inference), in a chain from one
input of features to one output, with every glassnet activation.

The ``output`` entry tells the pages how to read the last layer: ``task`` is
``"binary"`` (one unit), ``"multiclass"`` (argmax over the units) or
``"regression"``, and ``probability`` how an output becomes a probability:
``"identity"`` (sigmoid, softmax and step outputs already are), ``"sigmoid"`` or
``"softmax"`` (a model trained on logits, ``from_logits=True``), ``"tanh"`` (an
output in [-1, 1] read as ``(y + 1) / 2``, the Playground's classifiers) or
``None`` (regression).

>>> from glassnet.models import Sequential
>>> from glassnet.layers import Dense
>>> model = Sequential([Dense(2, activation="relu", input_dim=2),
...                     Dense(1, activation="sigmoid")], seed=0)
>>> spec = model_to_json(model)
>>> spec["inputs"], [layer["class_name"] for layer in spec["layers"]]
(2, ['Dense', 'Dense'])
>>> spec["layers"][0]["activation"], spec["output"]
({'name': 'relu'}, {'units': 1, 'task': 'binary', 'probability': 'identity'})
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.activations import ActivationFunction
from glassnet.errors import DataError, GlassnetTypeError, InvalidArgumentError
from glassnet.layers.activation import ActivationFunctionLayer
from glassnet.layers.dense import Dense
from glassnet.layers.dropout import Dropout
from glassnet.layers.input_layer import InputLayer

__all__ = ["SUPPORTED_ACTIVATIONS", "SUPPORTED_LAYERS", "TASKS", "model_to_json"]

#: The layer classes the browser's forward pass runs.
SUPPORTED_LAYERS = (
    "InputLayer",
    "Dense",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "Dropout",
)

#: The activation names the browser's forward pass knows (``capped_relu`` is Keras'
#: ``ReLU(max_value=..., threshold=...)`` layer).
SUPPORTED_ACTIVATIONS = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "softmax",
    "linear",
    "step",
    "gelu",
    "silu",
    "capped_relu",
)

TASKS = ("binary", "multiclass", "regression")

_LOGIT_LOSSES = {
    "binary_crossentropy": ("binary", "sigmoid"),
    "categorical_crossentropy": ("multiclass", "softmax"),
    "sparse_categorical_crossentropy": ("multiclass", "softmax"),
}


def model_to_json(model: Any, *, task: str | None = None) -> dict[str, Any]:
    """The model's layers, activations and weights as JSON-able data.

    Parameters
    ----------
    model : Model
        A built glassnet model: a chain of the layers in :data:`SUPPORTED_LAYERS`
        from one input of features (shape ``(n,)``) to one output.
    task : {"binary", "multiclass", "regression"}, optional
        How the pages read the output. By default a softmax (or a categorical
        cross-entropy on logits) is multiclass, one sigmoid, step or binary
        cross-entropy unit is binary, and anything else regression.

    Returns
    -------
    dict
        ``{"format", "version", "name", "inputs", "layers", "output"}``; each
        Dense layer holds ``W`` (rows: inputs, columns: units) and ``b`` as nested
        lists of Python floats (a float32 weight as its shortest decimal).

    Raises
    ------
    InvalidArgumentError
        A layer or activation the pages cannot run (the message lists those they
        can), a model that is not a chain, or a ``task`` that does not fit.
    DataError
        A weight that is NaN or infinite.

    Examples
    --------
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Conv1D, Dense
    >>> model_to_json(Sequential([Conv1D(2, 3, input_shape=(8, 1))]))
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: The browser pages cannot run layer 'conv1d'...
    """
    layers = _chain_layers(model)
    entries = [entry for entry in map(_layer_entry, layers) if entry is not None]
    inputs = _input_width(model)
    dense = [entry for entry in entries if entry["class_name"] == "Dense"]
    if not dense:
        raise InvalidArgumentError(
            f"Model '{model.name}' has no Dense layer: the browser pages draw neurons, "
            "so they need at least one."
        )
    units = dense[-1]["units"]
    return {
        "format": "glassnet.web.model",
        "version": 1,
        "name": str(model.name),
        "inputs": inputs,
        "layers": entries,
        "output": _output(model, entries, units, task),
    }


def _chain_layers(model: Any) -> list[Any]:
    graph = getattr(model, "graph", None)
    if graph is None:
        if not hasattr(model, "layers"):
            raise GlassnetTypeError(
                "Argument `model` must be a glassnet model. Received: "
                f"{type(model).__name__}"
            )
        raise InvalidArgumentError(
            f"Model '{model.name}' is not built yet: give its first layer input_dim=..., "
            "call model.build((None, n_features)), or fit it, before exporting it."
        )
    if not graph.is_chain:
        raise InvalidArgumentError(
            f"Model '{model.name}' is not a chain of layers (one input, one output, each "
            "layer called once on the one before): the browser pages run chains only."
        )
    return [step.layer for step in graph.steps]


def _input_width(model: Any) -> int:
    shape = tuple(model.built_input_shape())
    if len(shape) != 1 or not isinstance(shape[0], int):
        raise InvalidArgumentError(
            f"The browser pages run models on rows of features, shaped (n,) per sample. "
            f"Model '{model.name}' takes inputs shaped {shape}."
        )
    return int(shape[0])


def _unsupported(layer: Any, why: str = "") -> InvalidArgumentError:
    return InvalidArgumentError(
        f"The browser pages cannot run layer '{layer.name}' ({type(layer).__name__})"
        f"{why}. They run {', '.join(SUPPORTED_LAYERS)} layers with the activations "
        f"{', '.join(SUPPORTED_ACTIVATIONS)}."
    )


def _layer_entry(layer: Any) -> dict[str, Any] | None:
    kind = type(layer).__name__
    if isinstance(layer, InputLayer):
        return None
    if type(layer) is Dense:
        return _dense_entry(layer)
    if isinstance(layer, ActivationFunctionLayer) and kind in SUPPORTED_LAYERS:
        return {
            "class_name": "Activation",
            "name": str(layer.name),
            "layer_class": kind,
            "activation": _activation_entry(layer, layer.activation),
        }
    if type(layer) is Dropout:
        return {"class_name": "Dropout", "name": str(layer.name), "rate": layer.rate}
    raise _unsupported(layer)


def _dense_entry(layer: Dense) -> dict[str, Any]:
    weights = {"W": layer.params["W"]}
    if layer.use_bias:
        weights["b"] = layer.params["b"]
    for key, value in weights.items():
        if not np.isfinite(value).all():
            raise DataError(
                f"Layer '{layer.name}' has NaN or infinite values in its weights "
                f"'{key}': the page would show nonsense. Retrain or reload the model."
            )
    n_in = layer.params["W"].shape[0]
    bias = weights.get("b", np.zeros(layer.units, layer.params["W"].dtype))
    return {
        "class_name": "Dense",
        "name": str(layer.name),
        "units": int(layer.units),
        "inputs": int(n_in),
        "activation": _activation_entry(layer, layer.activation),
        "W": _floats(weights["W"]),
        "b": _floats(bias),
    }


def _activation_entry(layer: Any, activation: ActivationFunction) -> dict[str, Any]:
    kind = type(activation).__name__
    name = "capped_relu" if kind == "CappedReLU" else activation.name
    if name not in SUPPORTED_ACTIVATIONS:
        raise _unsupported(
            layer, f": its activation {name!r} has no JavaScript version"
        )
    config = {
        key: value for key, value in activation.get_config().items() if key != "axis"
    }
    if name == "softmax" and activation.get_config().get("axis", -1) not in (-1, 1):
        raise _unsupported(layer, ": its softmax runs over an axis other than the last")
    for key, value in config.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise _unsupported(layer, f": its activation's {key} is not finite")
    return {"name": name, **config}


def _floats(array: Any) -> Any:
    """Nested lists of Python floats, each the shortest decimal of its value.

    A float32 weight is written as the shortest decimal that reads back as the same
    float32 (``0.1``, not ``0.10000000149011612``): readable in the page's source.
    """
    array = np.asarray(array)
    if array.dtype == np.float32:
        # NumPy prints float32 values with their shortest round-trip decimal.
        return np.vectorize(float, otypes=[object])(array.astype(str)).tolist()
    result: Any = array.astype(np.float64).tolist()
    return result


def _output(
    model: Any, entries: list[dict[str, Any]], units: int, task: str | None
) -> dict[str, Any]:
    last = entries[-1]
    for entry in reversed(entries):
        if entry["class_name"] != "Dropout":
            last = entry
            break
    activation = last["activation"]["name"]
    loss = getattr(model, "loss", None)
    logits = _LOGIT_LOSSES.get(getattr(loss, "name", ""), None)
    if not getattr(loss, "from_logits", False):
        logits = None
    guessed, probability = _guess(activation, units, logits)
    if task is None:
        task = guessed
    elif task not in TASKS:
        raise InvalidArgumentError(
            f"Argument `task` must be one of {', '.join(TASKS)}, or None to read it from "
            f"the model. Received: task={task!r:.80}"
        )
    if task == "binary" and units != 1:
        raise InvalidArgumentError(
            f"A binary task needs one output unit; model '{model.name}' has {units}. "
            "Use task='multiclass' for one unit per class."
        )
    if task == "multiclass" and units < 2:
        raise InvalidArgumentError(
            f"A multiclass task needs one output unit per class; model '{model.name}' "
            "has 1. Use task='binary'."
        )
    if task != guessed or probability is None:
        probability = _probability_for(task, activation)
    return {"units": units, "task": task, "probability": probability}


def _guess(
    activation: str, units: int, logits: tuple[str, str] | None
) -> tuple[str, str | None]:
    if activation == "softmax" and units > 1:
        return "multiclass", "identity"
    if units == 1 and activation in ("sigmoid", "step"):
        return "binary", "identity"
    if activation == "linear" and logits is not None:
        kind, function = logits
        if (kind == "binary") == (units == 1):
            return kind, function
    return "regression", None


def _probability_for(task: str, activation: str) -> str | None:
    if task == "regression":
        return None
    if task == "binary":
        return {"sigmoid": "identity", "step": "identity", "tanh": "tanh"}.get(
            activation, "sigmoid"
        )
    return "identity" if activation == "softmax" else "softmax"
