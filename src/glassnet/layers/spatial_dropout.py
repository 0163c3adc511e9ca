"""Spatial dropout: drop whole channels (feature maps) while training.

Neighbouring steps or pixels of one feature map are strongly correlated, so zeroing
single entries (Dropout) hardly regularizes a convolutional layer. SpatialDropout1D
and SpatialDropout2D instead zero every position of a channel at once, with one
random draw per sample and channel (Tompson et al., 2014).
"""

from __future__ import annotations

from typing import Any, ClassVar

from glassnet._typing import Array
from glassnet._validation import check_in_range
from glassnet.errors import ShapeError
from glassnet.layers.base import registry
from glassnet.layers.costs import Cost, arrays_kept, known_size, nothing_kept
from glassnet.layers.random_layer import RandomLayer
from glassnet.layers.spatial_arguments import channels_last

__all__ = ["SpatialDropout1D", "SpatialDropout2D"]

_AXES = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}


class _SpatialDropout(RandomLayer):
    """What the spatial dropouts share: a mask shaped (batch, 1, ..., channels)."""

    rank: ClassVar[int]
    supports_masking = True  # passes a padding mask on (Keras' Dropout does)

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = check_in_range(rate, "rate", 0.0, 1.0)

    def output_shape(self, input_shape: Any) -> Any:
        """The input's shape, which must have ``rank + 1`` axes per sample."""
        shape = tuple(input_shape)
        if len(shape) != self.rank + 1:
            raise ShapeError(
                f"{type(self).__name__} layer '{self.name}' takes {self.rank + 2}-D "
                f"inputs {_AXES[self.rank]}, i.e. samples with {self.rank + 1} axes. "
                f"Received: input_shape={shape}"
            )
        return shape

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """Identity at inference; whole channels masked and rescaled while training."""
        if x.ndim != self.rank + 2:
            self.output_shape(x.shape[1:])  # raises: wrong rank
        if not training or self.rate == 0.0:
            self._cache = 1.0 if keep_cache or training else None
            return x
        mask_shape = (x.shape[0], *(1,) * self.rank, x.shape[-1])
        keep = self.generator().random(mask_shape) >= self.rate
        scale = keep.astype(x.dtype) / x.dtype.type(1.0 - self.rate)
        self._cache = scale
        return x * scale

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Pass the gradient through the kept channels only."""
        # y[n, ..., c] = x[n, ..., c] * mask[n, c] / (1 - rate)  =>
        #     dx[n, ..., c] = dy[n, ..., c] * mask[n, c] / (1 - rate)
        scale = self.cached()
        return grad_output * scale if input_grad else None

    def flops(self, input_shape: Any) -> Cost:
        """Zero: spatial dropout is the identity at inference."""
        self.output_shape(input_shape)
        return Cost(0, "0 (the identity at inference)")

    def kept_activations(self, input_shape: Any) -> Cost:
        """The mask (one number per channel) and the output; nothing if rate is 0."""
        shape = self.output_shape(input_shape)
        if self.rate == 0.0:
            return nothing_kept("y is x when rate = 0")
        return arrays_kept(("mask", shape[-1]), ("y", known_size(shape)))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras' keys)."""
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config


@registry.register("spatial_dropout1d")
class SpatialDropout1D(_SpatialDropout):
    """Zeroes whole channels of ``(batch, steps, channels)`` inputs while training.

    Each sample's channel is dropped with probability ``rate`` (mask shaped
    ``(batch, 1, channels)``); the kept ones are scaled by ``1 / (1 - rate)``, and
    inference is the identity, as for :class:`~glassnet.layers.Dropout`.

    Parameters
    ----------
    rate : float
        Probability of dropping a channel, in [0, 1).
    seed : int, optional
        The layer's own seed; by default the masks come from the model's generator.
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`~glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = SpatialDropout1D(0.5, seed=0)
    >>> layer.build((3, 4), np.random.default_rng(1))
    >>> y = layer.forward(np.ones((1, 3, 4)), training=True)
    >>> y[0]                                  # each column (channel): all 0 or all 2
    array([[2., 0., 0., 0.],
           [2., 0., 0., 0.],
           [2., 0., 0., 0.]])
    """

    rank = 1

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
            rate,
            seed,
            name=name,
            input_shape=input_shape,
            input_dim=input_dim,
            trainable=trainable,
        )


@registry.register("spatial_dropout2d")
class SpatialDropout2D(_SpatialDropout):
    """Zeroes whole channels of images ``(batch, height, width, channels)`` while training.

    The mask is shaped ``(batch, 1, 1, channels)``: every pixel of a dropped
    feature map is 0, the kept maps are scaled by ``1 / (1 - rate)``. Inference is
    the identity.

    Parameters
    ----------
    rate : float
        Probability of dropping a channel, in [0, 1).
    data_format : {"channels_last", None}
        Only ``"channels_last"`` (the default) is supported for now.
    seed : int, optional
        The layer's own seed; by default the masks come from the model's generator.
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`~glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = SpatialDropout2D(0.5, seed=0)
    >>> layer.build((2, 2, 3), np.random.default_rng(1))
    >>> y = layer.forward(np.ones((1, 2, 2, 3)), training=True)
    >>> y[0, :, :, 1]                         # channel 1 dropped at every pixel
    array([[0., 0.],
           [0., 0.]])
    >>> layer.forward(np.ones((1, 2, 2, 3)))[0, 0, 0]   # inference: the identity
    array([1., 1., 1.])
    """

    rank = 2

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        seed: int | None = None,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            rate,
            seed,
            name=name,
            input_shape=input_shape,
            input_dim=input_dim,
            trainable=trainable,
        )
        self.data_format = channels_last(data_format, "SpatialDropout2D")

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras' keys)."""
        config = super().get_config()
        config["data_format"] = self.data_format
        return config
