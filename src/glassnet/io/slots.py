"""The weights a model expects from a file, and the one place loaded weights go in.

Every weights reader works the same way: list what the model expects
(:func:`weight_slots`: layer, parameter, shape), read and check each array from the
file against that list, and only when *all* of them passed hand the list to
:func:`commit`, which calls ``model.set_weights`` (itself all-or-nothing). A file that
fails anywhere therefore leaves the model's weights exactly as they were.

>>> from glassnet.models import Sequential
>>> from glassnet.layers import Dense
>>> model = Sequential([Dense(3, input_dim=2), Dense(1)])
>>> [(s.name, s.shape) for s in weight_slots(model)]
[('dense.W', (2, 3)), ('dense.b', (3,)), ('dense_1.W', (3, 1)), ('dense_1.b', (1,))]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from glassnet._typing import Array
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
    ShapeError,
)

if TYPE_CHECKING:
    from glassnet.layers import Layer
    from glassnet.models import Model

__all__ = ["WeightSlot", "commit", "require_model", "weight_slots"]


@dataclass(frozen=True)
class WeightSlot:
    """One weight the model expects: ``layers[layer_index].params[key]`` (or ``.state``).

    ``kind`` is ``"param"`` for a parameter and ``"state"`` for non-trainable state
    (BatchNormalization's moving statistics), which files keep too.
    """

    layer_index: int
    layer: Layer
    key: str
    shape: tuple[int, ...]
    kind: str = "param"

    @property
    def value(self) -> Array:
        """The live array in the layer."""
        store = self.layer.params if self.kind == "param" else self.layer.state
        return store[self.key]

    @property
    def name(self) -> str:
        """glassnet's stable parameter name, e.g. ``"dense_1.W"``."""
        return f"{self.layer.name}.{self.key}"


def require_model(model: object, what: str) -> Model:
    """``model`` if it is a glassnet model (Sequential or functional), else an error.

    A model holding another model as a layer has no file layout yet: refused by
    name rather than saved in a layout Keras would not read back.
    """
    from glassnet.models import Model

    if not isinstance(model, Model):
        raise GlassnetTypeError(
            f"{what} expects a glassnet model (Sequential or functional). "
            f"Received: {type(model).__name__}"
        )
    for layer in model.layers:
        if isinstance(layer, Model):
            raise InvalidArgumentError(
                f"{what}: model '{model.name}' uses model '{layer.name}' as a layer; "
                "files of nested models are not supported yet. Build the outer "
                "model from the inner model's layers instead."
            )
    return model


def weight_slots(model: Model, what: str = "load_weights") -> list[WeightSlot]:
    """Every weight of the built ``model`` (state included), in ``get_weights`` order."""
    if not model.built:
        raise NotBuiltError(
            f"{what} needs a built model, so it knows each weight's shape: give the "
            "first layer input_dim=..., or call model.build((None, n_features)) first."
        )
    return [
        WeightSlot(index, layer, weight.key, weight.shape, weight.kind)
        for index, layer in enumerate(model.layers)
        for weight in layer.weights
    ]


def commit(model: Model, arrays: list[Array], allow_nonfinite: bool = False) -> None:
    """Write fully validated ``arrays`` into the model (all or nothing).

    ``model.set_weights`` checks everything again; it refuses NaN and inf, so weights
    the caller explicitly allowed to be non-finite are copied in place here, after
    the same count and shape checks.
    """
    if not allow_nonfinite:
        model.set_weights(arrays)
        return
    slots = weight_slots(model)
    if len(arrays) != len(slots) or any(
        a.shape != s.shape for a, s in zip(arrays, slots, strict=False)
    ):
        raise ShapeError(
            f"Expected {len(slots)} weights shaped {[s.shape for s in slots]}."
        )
    for slot, array in zip(slots, arrays, strict=True):
        slot.value[...] = array
