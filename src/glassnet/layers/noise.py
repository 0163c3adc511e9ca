"""Additive Gaussian noise, a regularizer active only while training."""

from __future__ import annotations

from typing import Any

from glassnet._typing import Array
from glassnet._validation import check_in_range
from glassnet.layers.base import registry
from glassnet.layers.costs import Cost, arrays_kept, known_size, nothing_kept
from glassnet.layers.random_layer import RandomLayer

__all__ = ["GaussianNoise"]


@registry.register("gaussian_noise")
class GaussianNoise(RandomLayer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` while training.

    Inference (``training=False``) is the identity, as in Keras. The noise is drawn
    from the model's seeded generator, or from ``numpy.random.default_rng(seed)`` if
    the layer is given its own ``seed`` (as :class:`~glassnet.layers.Dropout` does).

    Parameters
    ----------
    stddev : float
        Standard deviation of the noise, in ``[0, 1]`` as Keras 3 requires.
    seed : int, optional
        Seed of the layer's own generator.

    Examples
    --------
    >>> import numpy as np
    >>> layer = GaussianNoise(0.1, seed=0)
    >>> layer.build((3,), np.random.default_rng(1))
    >>> x = np.ones((2, 3))
    >>> layer.forward(x, training=False)
    array([[1., 1., 1.],
           [1., 1., 1.]])
    >>> y = layer.forward(x, training=True)
    >>> y.shape, bool((y != x).all())
    ((2, 3), True)
    """

    supports_masking = True  # passes a padding mask on (Keras)

    def __init__(
        self,
        stddev: float,
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
        self.stddev = check_in_range(stddev, "stddev", 0.0, 1.0, high_inclusive=True)

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """Identity at inference; ``x + stddev * N(0, 1)`` noise while training."""
        adds_noise = training and self.stddev > 0.0
        rng = self.generator() if adds_noise else None
        # the cache only records that a forward pass ran: backward needs no values
        self._cache = x.shape if training or keep_cache else None
        if rng is None:
            return x
        # drawn in float64 and then cast, so float32 and float64 copies of a model
        # add the same noise for the same generator state
        noise = rng.normal(0.0, self.stddev, size=x.shape)
        return x + noise.astype(x.dtype, copy=False)

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """The noise does not depend on ``x``: the gradient passes unchanged."""
        # y = x + noise (noise fixed, drawn independently of x)  =>  dx = dy
        self.cached()
        return grad_output if input_grad else None

    def flops(self, input_shape: Any) -> Cost:
        """Zero: the noise is added only while training."""
        return Cost(0, "0 (the identity at inference)")

    def kept_activations(self, input_shape: Any) -> Cost:
        """The output ``y = x + noise`` (the noise itself is not kept)."""
        if self.stddev == 0.0:
            return nothing_kept("y is x when stddev = 0")
        return arrays_kept(("y", known_size(input_shape)))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config.update(stddev=self.stddev, seed=self.seed)
        return config
