"""How many parameters an architecture read from a file declares, before any exist.

The loaders ask each layer, still unbuilt, how many numbers its weights will hold
for the input shape it will really be built with (``layer.param_count(shape)``,
state such as BatchNormalization's moving statistics included), walking the shapes
through the model as the build will: layer after layer for a ``Sequential`` model,
call after call for a functional one (``glassnet.io.functional``), a shared layer
counted once. :func:`check_parameter_count` then refuses a total over
:data:`~glassnet.io.limits.MAX_PARAMETERS`, or over what the file's bytes can hold.

>>> from glassnet.layers import BatchNormalization, Dense, Flatten
>>> layers = [Flatten(), Dense(10), BatchNormalization()]
>>> list(sequential_counts(layers, (4, 5)))  # 20 x 10 + 10, then 4 x 10
[0, 210, 40]
>>> check_parameter_count([2**40], "config.json")
Traceback (most recent call last):
...
glassnet.errors.ModelFileError: config.json: the architecture declares at least ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from glassnet.errors import GlassnetError, ModelFileError
from glassnet.io import limits

if TYPE_CHECKING:
    from glassnet.layers import Layer

__all__ = [
    "check_declared_shapes",
    "check_inner_shapes",
    "check_parameter_count",
    "sequential_counts",
]


def check_inner_shapes(layer: Layer, where: str) -> None:
    """Refuse an input shape declared by a layer a wrapper holds (however deep).

    A wrapped layer is built with the shape its wrapper hands it, so a shape of
    its own is a claim the parameter count would not see.
    """
    from glassnet.layers.wrappers import Wrapper

    stack = list(layer.inner_layers()) if isinstance(layer, Wrapper) else []
    while stack:
        inner = stack.pop()
        if inner.declared_input_shape is not None:
            raise ModelFileError(
                f"{where}: layer {inner.name!r} ({type(inner).__name__}) inside "
                f"wrapper {layer.name!r} declares the input shape "
                f"{tuple(inner.declared_input_shape)}; a wrapped layer takes its "
                "wrapper's input."
            )
        if isinstance(inner, Wrapper):
            stack.extend(inner.inner_layers())


def check_declared_shapes(
    layers: list[Layer], input_shape: tuple[Any, ...] | None, where: str
) -> tuple[Any, ...] | None:
    """The input shape a Sequential model read from a file will be built with.

    A layer's own ``input_dim``/``input_shape`` decides the shape it is built with,
    so it must agree with the model's InputLayer, and only the first layer may
    have one: otherwise the parameters would be counted for one shape and
    allocated for another (``input_dim: 2**22`` behind an InputLayer of 2).
    """
    for index, layer in enumerate(layers):
        check_inner_shapes(layer, where)
        declared = layer.declared_input_shape
        if declared is None:
            continue
        if index > 0:
            raise ModelFileError(
                f"{where}: layer #{index} ({layer.name!r}, {type(layer).__name__}) "
                f"declares the input shape {tuple(declared)}; only the first layer of "
                "a Sequential model may."
            )
        if input_shape is not None and tuple(declared) != tuple(input_shape):
            raise ModelFileError(
                f"{where}: layer {layer.name!r} ({type(layer).__name__}) declares the "
                f"input shape {tuple(declared)}, but the model's input is "
                f"{tuple(input_shape)}; a file's shape claims must agree."
            )
        input_shape = tuple(declared)
    return input_shape


def sequential_counts(
    layers: list[Layer], input_shape: tuple[Any, ...] | None
) -> Iterator[int]:
    """Each layer's parameter count, the shapes walked from ``input_shape``.

    Without an input shape (the first layer's declared one, else none) the model
    will not be built, so nothing is counted. The walk stops at the first layer
    that cannot take its input: the build reports that with its own message.
    """
    shape = input_shape
    if shape is None and layers:
        shape = layers[0].declared_input_shape
    if shape is None:
        return
    for layer in layers:
        try:
            count = layer.param_count(shape)
        except GlassnetError:
            return
        yield count
        try:
            shape = tuple(layer.output_shape(shape))
        except GlassnetError:
            return


def check_parameter_count(
    counts: Iterable[int], where: str, stored_bytes: int | None = None
) -> None:
    """Refuse architectures whose weights would exceed MAX_PARAMETERS, before any exist.

    ``counts`` are the layers' parameter counts (:func:`sequential_counts`);
    the sum stops as soon as it passes the limit, so a hostile file costs no more
    than the limit. ``stored_bytes``, when the weights come from a file, is how
    many bytes the file has for them: at 2 bytes a parameter (float16, the
    smallest dtype read), an architecture declaring more parameters than that
    cannot be filled, and is refused before it is built rather than after a large
    allocation.
    """
    total = 0
    for count in counts:
        total += count
        if total > limits.MAX_PARAMETERS:
            raise ModelFileError(
                f"{where}: the architecture declares at least {total} parameters; the "
                f"limit is {limits.MAX_PARAMETERS} (glassnet.io.limits.MAX_PARAMETERS)."
            )
    if stored_bytes is not None and 2 * total > stored_bytes:
        raise ModelFileError(
            f"{where}: the architecture declares about {total} parameters, but the file "
            f"has only {stored_bytes} bytes for its weights (at least 2 bytes a "
            "parameter); its architecture and weights do not match."
        )
