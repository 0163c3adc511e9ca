"""What a file may declare about sequence layers, and why a stored weight does not fit.

Recurrent and embedding layers are counted like every layer before anything is
allocated (:mod:`~glassnet.io.parameter_count`): ``LSTM(units)`` for ``D`` input
features holds ``4U(D + U + 1)`` numbers, ``GRU`` with ``reset_after`` ``3U(D + U +
2)``, ``Embedding(input_dim, output_dim)`` a table of ``input_dim x output_dim``,
so absurd ``units``, ``input_dim`` or ``output_dim`` are refused by
:data:`~glassnet.io.limits.MAX_PARAMETERS`, or because the file has far fewer bytes
than its architecture needs. Two things have no weights to count, and are checked
here as data, before any layer exists:

- ``RepeatVector(n)``: a few bytes of config could make ``predict`` repeat every
  sample a billion times; ``n`` is at most :data:`~glassnet.io.limits.MAX_REPEAT`;
- wrappers inside wrappers (``TimeDistributed(TimeDistributed(...))``): at most
  :data:`~glassnet.io.limits.MAX_WRAPPER_DEPTH` deep (the reader checks it as it
  descends, :class:`~glassnet.io.layer_configs.LayerReader`).

When a stored weight's shape differs from the layer's, :func:`read_checked_weight`
refuses it before reading a byte and says what the shapes mean for that layer
(:func:`shape_hint`): a GRU bias ``(3u,)`` is that of ``reset_after=False``, and
``(2, 3u)`` of ``reset_after=True``; a recurrent kernel is ``(units, gates x
units)``; an embedding table is ``(input_dim, output_dim)``.

>>> check_repeat({"n": 10**9}, "repeat_vector")
Traceback (most recent call last):
...
glassnet.errors.ModelFileError: repeat_vector: `n=1000000000` repeats each sample ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import ModelFileError
from glassnet.io import hdf5, limits
from glassnet.io.keras_layout import leaf_weights
from glassnet.layers import GRU, Embedding
from glassnet.layers.recurrent import Recurrent

if TYPE_CHECKING:
    from glassnet.io.slots import WeightSlot
    from glassnet.layers import Layer

__all__ = ["check_repeat", "read_checked_weight", "shape_hint"]


def check_repeat(config: dict[str, Any], where: str) -> None:
    """Refuse a ``RepeatVector`` config whose ``n`` is over MAX_REPEAT.

    Values of the wrong type, zero or negative ones are left to the constructor,
    which names them.
    """
    n = config.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > limits.MAX_REPEAT:
        raise ModelFileError(
            f"{where}: `n={str(n)[:40]}` repeats each sample more times than any "
            f"sensible sequence has steps; glassnet reads RepeatVector(n) for n up to "
            f"{limits.MAX_REPEAT} (glassnet.io.limits.MAX_REPEAT)."
        )


def read_checked_weight(
    dataset: Any,
    slot: WeightSlot,
    dtype: np.dtype,
    where: str,
    allow_nonfinite: bool = False,
) -> Array:
    """:func:`glassnet.io.hdf5.read_weight` for ``slot``, explaining a wrong shape."""
    stored = dataset.shape
    if stored is not None and tuple(stored) != slot.shape:
        raise ModelFileError(
            f"{where}: the file's weight has shape {tuple(stored)}; the model's has "
            f"{slot.shape}." + shape_hint(slot.layer, slot.key, tuple(stored))
        )
    return hdf5.read_weight(dataset, slot.shape, dtype, where, allow_nonfinite)


def shape_hint(layer: Layer, key: str, stored: tuple[int, ...]) -> str:
    """What the expected shape of ``layer``'s weight ``key`` means, when ``stored``
    differs from it ('' for layers without a note)."""
    leaf, leaf_key = _leaf(layer, key)
    if isinstance(leaf, Recurrent):
        return _recurrent_hint(leaf, leaf_key, stored)
    if isinstance(leaf, Embedding) and leaf_key == "embeddings":
        return (
            f" Embedding '{leaf.name}' keeps one row per token id: (input_dim, "
            f"output_dim) = ({leaf.input_dim}, {leaf.output_dim})."
        )
    return ""


def _leaf(layer: Layer, key: str) -> tuple[Layer, str]:
    """The innermost layer behind ``layer``'s weight ``key``, and its key there."""
    for outer, leaf, leaf_key in leaf_weights(layer):
        if outer == key:
            return leaf, leaf_key
    return layer, key


def _recurrent_hint(layer: Recurrent, key: str, stored: tuple[int, ...]) -> str:
    kind, units, gates = type(layer).__name__, layer.units, layer.gates
    where = f" {kind} '{layer.name}' (units={units}, {gates} gate block(s))"
    if key == "recurrent_kernel":
        return (
            f"{where} has a recurrent kernel of (units, {gates} x units) = "
            f"({units}, {gates * units})."
        )
    if key == "W":
        return f"{where} has a kernel of (input features, {gates} x units)."
    if key == "b" and isinstance(layer, GRU):
        width = gates * units
        if stored == (width,):
            found = "the bias of reset_after=False"
        elif stored == (2, width):
            found = "the bias of reset_after=True (input and recurrent biases)"
        else:
            found = "neither GRU bias"
        return (
            f"{where} has reset_after={layer.reset_after}, whose bias is "
            f"{'(2, 3u)' if layer.reset_after else '(3u,)'}; the file's {stored} is "
            f"{found}."
        )
    if key == "b":
        return f"{where} has a bias of ({gates} x units,) = ({gates * units},)."
    return ""
