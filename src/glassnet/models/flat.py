"""All of a model's parameters as views into one flat buffer (and its gradients too).

Why: for small and medium networks a training step costs NumPy's per-call overhead
more than arithmetic. With every weight a view into one contiguous array, the
optimizer updates the whole model in a few in-place passes instead of a few calls
per tensor. Layers still see ordinary arrays (``layer.params["W"]`` is a view of the
right shape) and never know; they write gradients in place (``out=``).

>>> import numpy as np
>>> from glassnet.layers import Dense
>>> layer = Dense(2)
>>> layer.build((3,), np.random.default_rng(0), np.float32)
>>> flat = flatten_parameters([layer], np.float32)
>>> flat.params.shape, np.shares_memory(flat.params, layer.params["W"])
((8,), True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.layers import Layer

__all__ = ["FlatParameters", "flatten_parameters"]

Slot = tuple[str, int, int, tuple[int, ...]]


@dataclass
class FlatParameters:
    """The flat buffers and where each named parameter lives in them.

    Parameters of trainable layers come first: the optimizer updates
    ``params[:trainable_size]`` (:attr:`trainable_params`) with
    :attr:`trainable_layout`, and never reaches a frozen layer's weights.
    """

    params: Array
    grads: Array
    layout: list[Slot]  # (name, start, stop, shape), e.g. ("dense.W", 0, 6, (3, 2))
    grad_views: list[tuple[Layer, str, Array]]
    param_views: list[tuple[Layer, str, Array]]
    trainable_size: int
    #: each layer's ``trainable`` flag when the buffer was made
    trainable_signature: tuple[bool, ...]
    #: the front of :attr:`params`: every parameter of a trainable layer
    trainable_params: Array = field(init=False, repr=False)
    #: the gradients of :attr:`trainable_params`
    trainable_grads: Array = field(init=False, repr=False)
    #: the slots of :attr:`trainable_params`
    trainable_layout: list[Slot] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Made once, not per read: the optimizer keeps its flat state for as long as
        # it is handed the same array object, so each fit's step must get this one
        # (a new slice per fit made the optimizer rebuild its state every fit).
        self.trainable_params = self.params[: self.trainable_size]
        self.trainable_grads = self.grads[: self.trainable_size]
        self.trainable_layout = [
            slot for slot in self.layout if slot[2] <= self.trainable_size
        ]

    def attached(self) -> bool:
        """Whether every layer still holds this buffer's views as its parameters.

        A layer shared with another model (a model called inside a model) is moved
        into whichever model's buffer was made last; the other model then makes its
        own again before it trains.
        """
        return all(
            layer.params.get(key) is view for layer, key, view in self.param_views
        )

    def sync_grads(self) -> None:
        """Bring into the buffer any gradient a layer rebound instead of writing in place.

        Built-in layers write in place; a user's layer may assign a new array to
        ``self.grads[key]`` (or a new dict to ``self.grads``). Its values are copied
        into the buffer and the view put back, so such layers still train correctly
        (at the price of one copy).
        """
        for layer, key, view in self.grad_views:
            current = layer.grads[key]
            if current is not view:
                view[...] = current
                layer.grads[key] = view


def flatten_parameters(layers: list[Layer], dtype: Any) -> FlatParameters:
    """Move every layer's params and grads into two flat buffers; return the layout.

    Trainable layers' parameters first, then frozen ones; a layer's non-trainable
    ``state`` stays outside (no optimizer ever touches it).
    """
    ordered = [layer for layer in layers if layer.trainable]
    ordered += [layer for layer in layers if not layer.trainable]
    sizes = [p.size for layer in ordered for p in layer.params.values()]
    params = np.empty(sum(sizes), dtype=dtype)
    grads = np.zeros(sum(sizes), dtype=dtype)
    layout: list[Slot] = []
    grad_views, param_views = [], []
    start = trainable_size = 0
    for layer in ordered:
        for key, value in list(layer.params.items()):
            stop = start + value.size
            params[start:stop] = value.ravel()
            layer.params[key] = params[start:stop].reshape(value.shape)
            layer.grads[key] = grads[start:stop].reshape(value.shape)
            layout.append((f"{layer.name}.{key}", start, stop, tuple(value.shape)))
            grad_views.append((layer, key, layer.grads[key]))
            param_views.append((layer, key, layer.params[key]))
            start = stop
        if layer.trainable:
            trainable_size = start
    signature = tuple(layer.trainable for layer in layers)
    return FlatParameters(
        params, grads, layout, grad_views, param_views, trainable_size, signature
    )
