"""How layers join a ``Sequential`` model, and what ``build(input_shape)`` means.

``Sequential.add`` and ``Sequential.build`` call these helpers: the checks a new layer
must pass, the reading of
``build()``'s Keras-style ``input_shape`` argument, and how shapes are shown in error
messages.

>>> from glassnet.layers import Dense
>>> first, second = Dense(3), Dense(1)
>>> check_and_name_new_layer(first, {}, first=True)
>>> check_and_name_new_layer(second, {first.name: first}, first=False)
>>> first.name, second.name
('dense', 'dense_1')
>>> normalize_build_shape((None, 2), [first, second])
(2,)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from glassnet._typing import Shape
from glassnet._validation import check_positive_int
from glassnet.activations import ActivationFunction
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Layer
from glassnet.layers.activation import ActivationFunctionLayer

__all__ = [
    "check_activation_ranks",
    "check_and_name_new_layer",
    "describe_shape",
    "normalize_build_shape",
]


def check_and_name_new_layer(
    layer: Layer, names: Mapping[str, Layer], *, first: bool
) -> None:
    """Check that ``layer`` may join the layers in ``names`` (theirs, by name).

    A layer appears once in a model, names are unique within a model and only the
    ``first`` layer may declare ``input_dim``/``input_shape``. An already built
    layer may join (it is then shared with the model it came from, as in Keras).
    (Every layer has its name from construction: Keras' automatic ``dense``,
    ``dense_1``... see _naming.py.) The checks take constant time, so a model of n
    layers is checked in O(n).
    """
    if not isinstance(layer, Layer):
        raise GlassnetTypeError(
            f"Sequential.add expects a glassnet Layer such as Dense(10). "
            f"Received: layer={layer!r} ({type(layer).__name__})"
        )
    if names.get(layer.name) is layer:
        raise InvalidArgumentError(
            f"Layer '{layer.name}' is already in this model; create a new layer instead."
        )
    if layer.name in names:
        raise InvalidArgumentError(
            f"All layers in a Sequential model need unique names; '{layer.name}' "
            f"is already used. Received: name={layer.name!r}"
        )
    if layer.declared_input_shape is not None and not first:
        raise InvalidArgumentError(
            f"Only the first layer takes `input_dim`/`input_shape`; layer "
            f"'{layer.name}' declares {layer.declared_input_shape}."
        )


def check_activation_ranks(layer: Any, output_shape: Shape) -> None:
    """Refuse an activation along an axis its arrays lack (a softmax's ``axis``).

    Models call this for each layer and its per-sample ``output_shape`` when they
    are built, so such a model fails then, not at ``predict``. An activation layer
    (``Activation``, ``Softmax``...) applies its function to its input, of the
    output's rank. Any other layer applies its activations to values of its own:
    Dense and convolutions to arrays of the output's rank, recurrent cells to
    ``(batch, units)`` at each step, a wrapper's inner layer to steps folded into
    the batch; their activations must take rank 2 and the output's rank. (Keras
    gives such layers an activation by name only, whose axis is -1.)

    >>> from glassnet.activations import Softmax
    >>> from glassnet.layers import Dense
    >>> check_activation_ranks(Dense(3, activation=Softmax(axis=1)), (3,))
    >>> check_activation_ranks(Dense(3, activation=Softmax(axis=2), name="d"), (3,))
    Traceback (most recent call last):
    ...
    glassnet.errors.ShapeError: Layer 'd' (Dense) applies a softmax along axis 2, ...
    """
    if not isinstance(layer, Layer):  # a model inside a model checked its own
        return
    rank = len(output_shape) + 1
    where = f"Layer '{layer.name}' ({type(layer).__name__})"
    if isinstance(layer, ActivationFunctionLayer):
        layer.activation.check_input_rank(rank, where)
        return
    inner = layer.inner_layers() if hasattr(layer, "inner_layers") else []
    for holder in (layer, *inner):
        # a layer holds its functions as attributes (activation,
        # recurrent_activation...); wrappers hold their inner layers
        for function in vars(holder).values():
            if isinstance(function, ActivationFunction):
                if holder is layer:
                    function.check_input_rank(rank, where)
                here = f"Layer '{holder.name}' ({type(holder).__name__})"
                function.check_input_rank(
                    2, f"{here}, as an activation inside a layer,"
                )


def normalize_build_shape(input_shape: Any, layers: list[Layer]) -> Shape:
    """The per-sample shape meant by ``build(input_shape)``.

    ``input_shape`` is Keras-style, batch axis first (``(None, 2)``), or a plain
    per-sample shape such as ``(2,)`` or ``2``. ``None`` means the shape the first
    layer declares with ``input_dim``/``input_shape``.
    """
    if input_shape is None:
        first = layers[0].declared_input_shape if layers else None
        if first is None:
            raise InvalidArgumentError(
                "build() needs an input shape, e.g. model.build((None, 2)), or give "
                "the first layer input_dim=2."
            )
        return first
    if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise GlassnetTypeError(
            "Argument `input_shape` must be a tuple such as (None, 2). "
            f"Received: input_shape={input_shape!r}"
        )
    dims = list(input_shape)
    if len(dims) >= 2:
        dims = dims[1:]  # drop the batch axis
    checked: list[Any] = [
        None if d is None else check_positive_int(d, "input_shape") for d in dims
    ]
    return tuple(checked)


def describe_shape(shape: Shape | None) -> str:
    """A shape as error messages show it: ``(2,)``, or ``unknown`` when not known."""
    return str(tuple(shape)) if shape is not None else "unknown"
