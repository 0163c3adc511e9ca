"""How layers join a ``Sequential`` model, and what ``build(input_shape)`` means.

``Sequential.add`` and ``Sequential.build`` call these helpers: the checks a new layer
must pass, the reading of
``build()``'s Keras-style ``input_shape`` argument, and how shapes are shown in error
messages.

>>> from glassnet.layers import Dense
>>> first, second = Dense(3), Dense(1)
>>> check_and_name_new_layer(first, [])
>>> check_and_name_new_layer(second, [first])
>>> first.name, second.name
('dense', 'dense_1')
>>> normalize_build_shape((None, 2), [first, second])
(2,)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Shape
from glassnet._validation import check_positive_int
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Layer

__all__ = ["check_and_name_new_layer", "describe_shape", "normalize_build_shape"]


def check_and_name_new_layer(layer: Layer, layers: list[Layer]) -> None:
    """Check that ``layer`` may be appended to ``layers``.

    A layer appears once in a model, names are unique within a model and only the
    first layer may declare ``input_dim``/``input_shape``. An already built layer
    may join (it is then shared with the model it came from, as in Keras). (Every layer has its name
    from construction: Keras' automatic ``dense``, ``dense_1``... see _naming.py.)
    """
    if not isinstance(layer, Layer):
        raise GlassnetTypeError(
            f"Sequential.add expects a glassnet Layer such as Dense(10). "
            f"Received: layer={layer!r} ({type(layer).__name__})"
        )
    if any(layer is existing for existing in layers):
        raise InvalidArgumentError(
            f"Layer '{layer.name}' is already in this model; create a new layer instead."
        )
    taken = {existing.name for existing in layers}
    if layer.name in taken:
        raise InvalidArgumentError(
            f"All layers in a Sequential model need unique names; '{layer.name}' "
            f"is already used. Received: name={layer.name!r}"
        )
    if layer.declared_input_shape is not None and layers:
        raise InvalidArgumentError(
            f"Only the first layer takes `input_dim`/`input_shape`; layer "
            f"'{layer.name}' declares {layer.declared_input_shape}."
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
