"""What one layer of a model takes and gives for one input sample.

:func:`layer_values` runs one sample through a model's graph, in inference mode as
``predict`` runs it, and returns the input and the output of one layer (its first
call): what the convolution explanation multiplies out and what the feature-map
pictures draw. :func:`find_layer` resolves the ways a layer can be named.

>>> import numpy as np
>>> from glassnet.layers import Conv2D, Flatten, Input, MaxPooling2D
>>> from glassnet.models import Sequential
>>> model = Sequential([Input((4, 4, 1)), Conv2D(2, 3, padding="same", name="conv"),
...                     MaxPooling2D(name="pool"), Flatten()], seed=0)
>>> x_in, y_out = layer_values(model, np.ones((4, 4, 1)), "pool")
>>> x_in.shape, y_out.shape
((4, 4, 2), (2, 2, 2))
>>> find_layer(model, None, kinds=(Conv2D,), what="a Conv2D layer").name
'conv'
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import as_float_array
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.layers import InputLayer, Layer
from glassnet.models.network import Network

__all__ = ["find_layer", "layer_values", "one_sample"]


def find_layer(
    model: Network,
    layer: Any,
    *,
    kinds: tuple[type, ...] = (Layer,),
    what: str = "a layer",
) -> Layer:
    """The layer of ``model`` that ``layer`` names.

    ``layer`` is a name, an index into ``model.layers``, a layer of the model, or
    None for the first layer of one of ``kinds``. The layer must be one of
    ``kinds``; ``what`` names them in the error (``"a Conv2D layer"``).

    >>> from glassnet.layers import Dense, Input
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Input((2,)), Dense(3, name="hidden"), Dense(1, name="out")])
    >>> find_layer(model, -1).name, find_layer(model, "hidden").name
    ('out', 'hidden')
    """
    if not isinstance(model, Network):
        raise GlassnetTypeError(
            f"Expected a glassnet model (Sequential or Model). Received: "
            f"{type(model).__name__}"
        )
    layers = list(model.layers)
    candidates = [item for item in layers if isinstance(item, kinds)]
    if layer is None:
        if not candidates:
            raise InvalidArgumentError(
                f"Model '{model.name}' has no {what.split(' ', 1)[-1]}. Its layers: "
                f"{[item.name for item in layers]}"
            )
        return candidates[0]
    if isinstance(layer, str):
        found = next((item for item in layers if item.name == layer), None)
    elif isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
        index = int(layer)
        found = layers[index] if -len(layers) <= index < len(layers) else None
    elif isinstance(layer, Layer):
        found = next((item for item in layers if item is layer), None)
    else:
        raise GlassnetTypeError(
            "Argument `layer` must be a layer name, an index into model.layers, a "
            f"layer of the model, or None. Received: layer={layer!r}"
        )
    if found is None:
        raise InvalidArgumentError(
            f"Argument `layer`: model '{model.name}' has no such layer. Its layers: "
            f"{[item.name for item in layers]}. Received: layer={layer!r}"
        )
    if not isinstance(found, kinds):
        raise InvalidArgumentError(
            f"Argument `layer` must name {what}. Received: layer '{found.name}' "
            f"({type(found).__name__}); candidates: {[c.name for c in candidates]}"
        )
    return found


def one_sample(x: Any, shape: tuple[Any, ...], dtype: Any, what: str) -> Array:
    """``x`` as a batch of one sample of per-sample ``shape``, in ``dtype``.

    ``x`` may come with or without its batch axis of 1; an axis of unknown length
    (None in ``shape``) takes any length. ``what`` names the input in the error.

    >>> one_sample([[1, 2], [3, 4]], (None, 2), np.float32, "a model").shape
    (1, 2, 2)
    """
    array = as_float_array(x, "x", dtype, min_ndim=1)
    if array.ndim == len(shape):
        array = array[np.newaxis]
    fits = array.ndim == len(shape) + 1 and all(
        d is None or d == n for d, n in zip(shape, array.shape[1:], strict=True)
    )
    if not fits or array.shape[0] != 1:
        raise ShapeError(
            f"Argument `x` must be one sample for {what}, shaped {tuple(shape)} (or "
            f"{(1, *shape)}). Received: x.shape={np.shape(x)}"
        )
    return np.ascontiguousarray(array, dtype=dtype)


def layer_values(model: Network, x: Any, layer: Any) -> tuple[Any, Array]:
    """The input and the output of ``layer`` (its first call) for one sample ``x``.

    ``x`` is one model input, with or without its batch axis of 1; both results
    come without the batch axis. The layers run in inference mode (dropout off),
    as in ``predict``; the weights are left as they are. Models with one input
    only; ``layer`` is named as :func:`find_layer` takes it. A layer that takes a
    list (a merge) gives a list of inputs.

    >>> from glassnet.layers import Dense, Input
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Input((2,)), Dense(3, name="hidden"), Dense(1)], seed=0)
    >>> given, made = layer_values(model, [1.0, 2.0], "hidden")
    >>> given, made.shape
    (array([1., 2.], dtype=float32), (3,))
    """
    target = find_layer(model, layer)
    graph = model._require_graph("explain")
    if len(graph.inputs) != 1:
        raise InvalidArgumentError(
            f"Model '{model.name}' has {len(graph.inputs)} inputs; following one "
            "sample through a layer needs a model with one input."
        )
    shape = graph.inputs[0].sample_shape
    batch = one_sample(x, shape, model.dtype, f"model '{model.name}'")
    if isinstance(target, InputLayer):
        return batch[0], batch[0]
    values: list[Any] = [None] * len(graph.slots)
    values[graph.input_slots[0]] = batch
    with np.errstate(over="ignore"):  # exp -> inf is harmless: see activations
        for step in graph.steps:
            args, options = step.arguments(values)  # initial states as a keyword
            mode = False if step.training is None else step.training
            step.store(values, step.layer.forward(args, training=mode, **options))
            if step.layer is target:
                given = [a[0] for a in args] if step.list_call else args[0]
                return given, values[step.output][0]
    raise InvalidArgumentError(  # a layer of model.layers is always called
        f"Layer '{target.name}' is not called in model '{model.name}'."
    )
