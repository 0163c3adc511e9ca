"""Where a layer's weights sit inside its group of a Keras 3 weights file.

Keras 3 saves each object that owns variables in a group of its own, named by the
attribute that holds it, with a ``vars`` group for the object's own variables. A
Dense layer owns its kernel and bias, so they sit in ``layers/dense/vars``. A
recurrent layer owns nothing itself: its cell does, one group down. A wrapper owns
nothing either; its inner layers do, each in the group of the attribute Keras keeps
it in::

    layers/lstm/vars                                   (empty; name="lstm")
    layers/lstm/cell/vars/0 .. 2                       kernel, recurrent_kernel, bias
    layers/bidirectional/vars                          (empty)
    layers/bidirectional/forward_layer/vars            (empty; name="forward_lstm")
    layers/bidirectional/forward_layer/cell/vars/0..2
    layers/bidirectional/backward_layer/cell/vars/0..2
    layers/time_distributed/vars                       (empty)
    layers/time_distributed/layer/vars/0 .. 1          the inner Dense's kernel, bias
    layers/embedding/vars/0                            embeddings

:func:`vars_groups` lists these groups for any layer, walking wrappers inside
wrappers, each with the layer's own weight keys it holds, in ``get_weights`` order;
the writer and the reader of ``.weights.h5`` files both follow it
(:mod:`~glassnet.io.keras_h5`). :func:`legacy_weight_name` gives the same weights'
names in a Keras 2 ``.h5`` file (``lstm/lstm_cell/kernel:0``), and
:func:`leaf_weights` the innermost layer and key behind each of a wrapper's keys,
which the readers use to explain a shape that does not fit
(:mod:`~glassnet.io.sequence_limits`).

>>> import numpy as np
>>> from glassnet.layers import LSTM, Bidirectional
>>> layer = Bidirectional(LSTM(2), name="bi")
>>> layer.build((None, 3), np.random.default_rng(0))
>>> [(g.path, g.name) for g in vars_groups(layer)][:3]
[('', 'bi'), ('forward_layer', 'forward_lstm'), ('forward_layer/cell', 'lstm_cell')]
>>> vars_groups(layer)[2].keys
('forward.W', 'forward.recurrent_kernel', 'forward.b')
>>> legacy_weight_name(layer, layer.weights[4])
'bi/backward_lstm/lstm_cell/recurrent_kernel:0'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from glassnet.layers import Bidirectional, TimeDistributed
from glassnet.layers.recurrent import Recurrent
from glassnet.layers.wrappers import WrappedWeight, Wrapper

if TYPE_CHECKING:
    from glassnet.layers import Layer, Weight

__all__ = [
    "VarsGroup",
    "inner_groups",
    "leaf_weights",
    "legacy_weight_name",
    "vars_groups",
]


@dataclass(frozen=True)
class VarsGroup:
    """One ``vars`` group: its path below the layer's group, the ``name`` attribute
    Keras writes on it, and the layer's weight keys it holds, as ``vars/0, 1, ...``."""

    path: str
    name: str
    keys: tuple[str, ...]

    def vars_path(self) -> str:
        """``vars`` or ``cell/vars``: where the datasets are, below the layer's group."""
        return f"{self.path}/vars" if self.path else "vars"


def inner_groups(wrapper: Wrapper) -> list[tuple[str, Layer]]:
    """The attributes Keras keeps a wrapper's inner layers in, with those layers.

    ``Bidirectional``: ``forward_layer``, ``backward_layer``; ``TimeDistributed``:
    ``layer``. A wrapper of your own keeps its inner layers' weights in its own
    group (``inner_0``, ``inner_1``...).
    """
    inner = wrapper.inner_layers()
    if isinstance(wrapper, Bidirectional):
        names = ["forward_layer", "backward_layer"]
    elif isinstance(wrapper, TimeDistributed):
        names = ["layer"]
    else:
        names = [f"inner_{index}" for index in range(len(inner))]
    return list(zip(names, inner, strict=True))


def leaf_weights(layer: Layer) -> list[tuple[str, Layer, str]]:
    """``(key, innermost layer, its key)`` for each of ``layer``'s weights, in order.

    For a layer that wraps nothing the innermost layer is the layer itself.
    """
    found = []
    for weight in layer.weights:
        leaf: Weight = weight
        while isinstance(leaf, WrappedWeight):
            leaf = leaf.inner
        found.append((weight.key, leaf.layer, leaf.key))
    return found


def vars_groups(layer: Layer) -> list[VarsGroup]:
    """Every ``vars`` group Keras 3 writes for ``layer`` (built), outermost first."""
    top_key = {(id(leaf), leaf_key): key for key, leaf, leaf_key in leaf_weights(layer)}
    groups: list[VarsGroup] = []
    _walk(layer, "", top_key, groups)
    return groups


def _walk(
    layer: Layer,
    path: str,
    top_key: dict[tuple[int, str], str],
    groups: list[VarsGroup],
) -> None:
    def keys(owner: Layer) -> tuple[str, ...]:
        # only what the outer layer holds (a wrapper keeps its inner layers' params)
        found = (top_key.get((id(owner), weight.key)) for weight in owner.weights)
        return tuple(key for key in found if key is not None)

    if isinstance(layer, Wrapper):
        groups.append(VarsGroup(path, str(layer.name), ()))
        for name, inner in inner_groups(layer):
            _walk(inner, f"{path}/{name}" if path else name, top_key, groups)
    elif isinstance(layer, Recurrent):
        groups.append(VarsGroup(path, str(layer.name), ()))
        cell = f"{path}/cell" if path else "cell"
        groups.append(VarsGroup(cell, layer.cell_name, keys(layer)))
    else:
        groups.append(VarsGroup(path, str(layer.name), keys(layer)))


def legacy_weight_name(layer: Layer, weight: Weight) -> str:
    """The weight's name in a Keras 2 ``.h5`` file: its Keras path below the model,
    then ``:0`` (``dense/kernel:0``, ``lstm/lstm_cell/kernel:0``,
    ``bidirectional/forward_lstm/lstm_cell/kernel:0``)."""
    return f"{weight.path.removeprefix(layer.path_prefix)}:0"
