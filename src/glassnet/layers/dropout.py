"""Inverted dropout: zero a random share of the inputs while training."""

from __future__ import annotations

from typing import Any

from glassnet._typing import Array
from glassnet._validation import check_in_range
from glassnet.layers.base import registry
from glassnet.layers.costs import Cost, arrays_kept, known_size, nothing_kept
from glassnet.layers.random_layer import RandomLayer

__all__ = ["Dropout"]


@registry.register("dropout")
class Dropout(RandomLayer):
    """Sets each input to 0 with probability ``rate`` while training.

    The kept inputs are scaled by ``1 / (1 - rate)`` so the expected output equals
    the input, and inference (``training=False``) is the identity, as in Keras.
    The mask is drawn from the model's seeded generator, or from
    ``numpy.random.default_rng(seed)`` if the layer is given its own ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dropout(0.5, seed=0)
    >>> layer.build((4,), np.random.default_rng(1))
    >>> x = np.ones((1, 4))
    >>> layer.forward(x, training=False)
    array([[1., 1., 1., 1.]])
    >>> y = layer.forward(x, training=True)
    >>> bool(np.isin(y, [0.0, 2.0]).all())
    True
    """

    supports_masking = True  # passes a padding mask on (Keras)

    def __init__(
        self,
        rate: float,
        seed: int | None = None,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            seed=seed,
            name=name,
            input_shape=input_shape,
            input_dim=input_dim,
            trainable=trainable,
        )
        self.rate = check_in_range(rate, "rate", 0.0, 1.0)

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """Identity at inference; masked and rescaled while training."""
        if not training or self.rate == 0.0:
            self._cache = 1.0 if keep_cache or training else None
            return x
        keep = self.generator().random(x.shape) >= self.rate
        scale = keep.astype(x.dtype) / x.dtype.type(1.0 - self.rate)
        self._cache = scale
        return x * scale

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Pass the gradient through the kept units only."""
        # y = x * mask / (1 - rate)  =>  dx = dy * mask / (1 - rate)
        scale = self.cached()
        return grad_output * scale if input_grad else None

    def flops(self, input_shape: Any) -> Cost:
        """Zero: dropout is the identity at inference."""
        return Cost(0, "0 (the identity at inference)")

    def kept_activations(self, input_shape: Any) -> Cost:
        """The mask (scaled) and the output; nothing new when ``rate`` is 0."""
        if self.rate == 0.0:
            return nothing_kept("y is x when rate = 0")
        size = known_size(input_shape)
        return arrays_kept(("mask", size), ("y", size))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config
