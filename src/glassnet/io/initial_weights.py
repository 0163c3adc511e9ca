"""Initial weights of a model read from a file: not drawn, then drawn as a build would.

A model built from a file whose weights replace the initial values would otherwise
draw (and throw away) every initial value first, before the file's weights are even
read. :func:`zero_initializers` builds it with zeros instead (a wrapper's inner
layers too: ``Bidirectional(LSTM(...))`` draws nothing either); for a seeded
``Sequential`` model, whose generator draws its initial weights and later its
shuffles and dropout masks, :func:`draw_initial_weights` then moves the generator on
exactly as the skipped draws would have.

>>> from glassnet.layers import Dense
>>> layer = Dense(2)
>>> with zero_initializers([layer], active=True):
...     type(layer.kernel_initializer).__name__
'Zeros'
>>> type(layer.kernel_initializer).__name__
'GlorotUniform'
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from glassnet import initializers
from glassnet.errors import GlassnetError, ModelFileError
from glassnet.io.library_errors import LIBRARY_ERRORS
from glassnet.layers.wrappers import Wrapper

if TYPE_CHECKING:
    from glassnet.layers import Layer
    from glassnet.models import Model

__all__ = [
    "PROBE_SHAPE",
    "check_drawn_weights",
    "check_initializers",
    "draw_initial_weights",
    "zero_initializers",
]

#: The shape each initializer of a file's layers draws once, as a test.
PROBE_SHAPE = (3, 4)
_DRAW_ERRORS: tuple[type[BaseException], ...] = (GlassnetError, *LIBRARY_ERRORS)


@contextlib.contextmanager
def zero_initializers(layers: list[Layer], active: bool) -> Iterator[None]:
    """While active, every ``*_initializer`` of ``layers`` is Zeros, then restored.

    The layers keep their real initializers for ``get_config``, ``to_json`` and
    later builds.
    """
    saved = [
        (layer, key, getattr(layer, key))
        for layer in (_with_inner_layers(layers) if active else [])
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


def draw_initial_weights(model: Model) -> None:
    """Advance ``model.rng`` exactly as building the model drew its initial weights.

    A Sequential model built with zeros (a loader's ``stored_bytes``) has not
    touched its generator; this draws the values a normal build would and drops
    them, one layer at a time, so a loaded model's generator (which shuffles and
    draws dropout masks in ``fit``) ends where a normal build leaves it, as the
    seed promises. Loaders call it once the file's weights are in, and only when
    the file does not restore the generator itself. A model without a seed has
    nothing to reproduce, and a functional model's layers drew from the session
    generator (:func:`glassnet.utils.set_random_seed`), not from the model's.
    """
    from glassnet.models import Sequential

    if (
        not isinstance(model, Sequential)
        or not model.built
        or model.seed is None
        or model.input_shape is None
    ):
        return
    shape = model.input_shape
    for layer in model.layers:
        if isinstance(layer, Wrapper):  # its inner layers skipped their draws
            # a fresh copy: a shallow one would share, and rebuild, the inner layers
            twin = type(layer).from_config(layer.get_config())
            twin.build(shape, model.rng, model.dtype)
        elif _initializer_attributes(layer):  # only these skipped their draws
            twin = copy.copy(layer)
            twin.params, twin.grads, twin.state = {}, {}, {}
            twin.build(shape, model.rng, model.dtype)
        shape = layer.output_shape(shape)


def _with_inner_layers(layers: list[Layer]) -> list[Layer]:
    """``layers`` and every layer a wrapper among them holds, however deep."""
    found, stack = [], list(reversed(layers))
    while stack:
        layer = stack.pop()
        found.append(layer)
        if isinstance(layer, Wrapper):
            stack.extend(reversed(layer.inner_layers()))
    return found


def _initializer_attributes(layer: Layer) -> list[str]:
    """The names of the layer's initializers (``kernel_initializer``...)."""
    return [
        key
        for key, value in vars(layer).items()
        if key.endswith("_initializer") and isinstance(value, initializers.Initializer)
    ]


def check_initializers(layers: list[Layer], dtype: str, where: str) -> None:
    """Refuse initializers whose settings cannot draw finite ``dtype`` values.

    Each initializer of ``layers`` (and of the layers wrappers hold) draws once, a
    small (3, 4) sample from a generator of its own (the model's is not touched):
    extreme but finite settings (``RandomUniform(-1e308, 1e308)``, whose range
    overflows; ``Constant(1e308)``, inf in float32) are refused here, naming the
    layer, rather than failing inside NumPy or giving a model of inf weights.
    """
    for layer in _with_inner_layers(layers):
        for key in _initializer_attributes(layer):
            initializer = getattr(layer, key)
            problem = ""
            try:
                with np.errstate(all="ignore"):
                    values = initializer(PROBE_SHAPE, np.random.default_rng(0), dtype)
                if not np.isfinite(values).all():
                    problem = f"draws non-finite {dtype} values"
            except _DRAW_ERRORS as error:
                problem = f"cannot draw values ({type(error).__name__}: {error})"
            if problem:
                raise ModelFileError(
                    f"{where}: layer {layer.name!r} ({type(layer).__name__}): "
                    f"`{key}` {type(initializer).__name__}"
                    f"({str(initializer.get_config())[:120]}) {problem}."
                )


def check_drawn_weights(model: Model, where: str) -> None:
    """Refuse a model whose initial weights, just drawn, hold NaN or inf."""
    for layer in model.layers:
        for key, value in {**layer.params, **layer.state}.items():
            if not np.isfinite(value).all():
                raise ModelFileError(
                    f"{where}: layer {layer.name!r} ({type(layer).__name__}): its "
                    f"initial `{key}` holds NaN or inf (an initializer's settings "
                    "overflow the model's dtype)."
                )
