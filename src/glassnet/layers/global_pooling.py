"""Global pooling: one number per channel, the mean or the largest over all positions.

GlobalAveragePooling1D/2D and GlobalMaxPooling1D/2D reduce ``(batch, steps,
channels)`` or ``(batch, height, width, channels)`` to ``(batch, channels)``, or,
with ``keepdims=True``, to ``(batch, 1, channels)`` / ``(batch, 1, 1, channels)``.
Their backward passes are those of a pooling window as large as the input: the
mean shares the gradient equally among the positions; the max sends all of it to
the first largest position (row-major), as ``MaxPooling2D(pool_size=(H, W))`` and
PyTorch's max pooling do.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_bool
from glassnet.errors import ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, known_size, unknown_length
from glassnet.layers.spatial_arguments import channels_last

__all__ = [
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
]

_AXES = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}


class _GlobalPooling(Layer):
    """What the four global pooling layers share; ``rank`` 1 or 2."""

    rank: ClassVar[int]

    def __init__(
        self,
        data_format: str | None = None,
        keepdims: bool = False,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        self.data_format = channels_last(data_format, type(self).__name__)
        self.keepdims = check_bool(keepdims, "keepdims")
        self._axes = tuple(range(1, self.rank + 1))

    def output_shape(self, input_shape: Any) -> Any:
        """``(channels,)``, or ``(1, channels)`` / ``(1, 1, channels)`` with keepdims."""
        shape = tuple(input_shape)
        if len(shape) != self.rank + 1:
            raise ShapeError(
                f"{type(self).__name__} layer '{self.name}' takes {self.rank + 2}-D "
                f"inputs {_AXES[self.rank]}, i.e. samples with {self.rank + 1} axes. "
                f"Received: input_shape={shape}"
            )
        return (*(1,) * self.rank, shape[-1]) if self.keepdims else (shape[-1],)

    def _check(self, x: Array) -> None:
        if x.ndim != self.rank + 2:
            self.output_shape(x.shape[1:])  # raises: wrong rank

    def _positions(self, input_shape: Any) -> int | None:
        return known_size(tuple(input_shape)[:-1])

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras' keys)."""
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class _GlobalAveragePooling(_GlobalPooling):
    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y[n, c]``: the mean of channel ``c`` over every position."""
        self._check(x)
        self._cache = x.shape if training or keep_cache else None
        return x.mean(axis=self._axes, keepdims=self.keepdims)

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Every position gets ``dy / positions``."""
        # y[n, c] = (1 / P) * sum over the P positions i of x[n, i, c]  =>
        #     dx[n, i, c] = dy[n, c] / P for every position i
        shape = self.cached()
        if not input_grad:
            return None
        positions = math.prod(shape[1:-1])
        share = grad_output.reshape(shape[0], *(1,) * self.rank, shape[-1]) / positions
        dx = np.empty(shape, dtype=share.dtype)
        dx[...] = share
        return dx

    def flops(self, input_shape: Any) -> Cost:
        """Per channel: ``P - 1`` additions and one division, over ``P`` positions."""
        positions = self._positions(input_shape)
        channels = self.output_shape(input_shape)[-1]
        if positions is None or channels is None:
            return unknown_length()
        count = positions * channels
        return Cost(count, f"{channels:,} x {positions:,} (sum, divide) = {count:,}")


class _GlobalMaxPooling(_GlobalPooling):
    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y[n, c]``: the largest value of channel ``c`` over every position."""
        self._check(x)
        self._cache = x if training or keep_cache else None
        return x.max(axis=self._axes, keepdims=self.keepdims)

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """All of ``dy`` goes to the first largest position of each channel.

        The cache is a reference to ``x`` (the previous layer's output): the
        maxima are found again here, so a pass that needs no input gradient
        costs nothing extra.
        """
        # y[n, c] = max over positions i of x[n, i, c]  =>  dx[n, i, c] = dy[n, c]
        #     at i = the first position (row-major) holding the maximum, 0 elsewhere
        x = self.cached()
        if not input_grad:
            return None
        n, channels = x.shape[0], x.shape[-1]
        flat = x.reshape(n, -1, channels)
        first = flat.argmax(axis=1)[:, np.newaxis, :]  # argmax: first occurrence
        dx = np.zeros(flat.shape, dtype=grad_output.dtype)
        np.put_along_axis(dx, first, grad_output.reshape(n, 1, channels), axis=1)
        return dx.reshape(x.shape)

    def flops(self, input_shape: Any) -> Cost:
        """Per channel: ``P - 1`` comparisons over ``P`` positions."""
        positions = self._positions(input_shape)
        channels = self.output_shape(input_shape)[-1]
        if positions is None or channels is None:
            return unknown_length()
        count = (positions - 1) * channels
        return Cost(
            count, f"{channels:,} x {positions - 1:,} (comparisons) = {count:,}"
        )


@registry.register("global_average_pooling2d")
class GlobalAveragePooling2D(_GlobalAveragePooling):
    """The mean of each channel over height and width: ``(N, H, W, C) -> (N, C)``.

    Parameters
    ----------
    data_format : {"channels_last", None}
        Only ``"channels_last"`` (the default) is supported for now.
    keepdims : bool
        Keep the pooled axes with length 1, as Keras does.
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`~glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)     # channel 0: 0, 2, 4, 6
    >>> GlobalAveragePooling2D()(x)
    array([[3., 4.]], dtype=float32)
    >>> GlobalAveragePooling2D(keepdims=True).output_shape((5, 5, 3))
    (1, 1, 3)
    """

    rank = 2


@registry.register("global_average_pooling1d")
class GlobalAveragePooling1D(_GlobalAveragePooling):
    """The mean of each channel over the steps: ``(N, steps, C) -> (N, C)``.

    Parameters
    ----------
    data_format, keepdims, input_dim, input_shape, name, trainable
        As for :class:`GlobalAveragePooling2D`.

    With a padding mask (``Masking``, ``Embedding(mask_zero=True)`` before it) the
    mean is over the real steps only, as in Keras, and the mask ends here::

        y[n, c] = sum_t m[n, t] x[n, t, c] / sum_t m[n, t]
        =>  dx[n, t, c] = dy[n, c] m[n, t] / sum_t m[n, t]

    (a sequence with no real step gives NaN, as Keras' 0 / 0).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[[1.0, 0.0], [3.0, 4.0]]])
    >>> GlobalAveragePooling1D()(x)
    array([[2., 2.]], dtype=float32)
    >>> GlobalAveragePooling1D()(x, mask=np.array([[True, False]]))
    array([[1., 0.]], dtype=float32)
    """

    rank = 1
    supports_masking = True
    takes_mask = True

    def compute_mask(self, inputs: Any, mask: Any) -> None:
        """None: the steps are pooled away (Keras)."""
        return None

    def forward(
        self,
        x: Array,
        *,
        training: bool = False,
        keep_cache: bool = False,
        mask: Any = None,
    ) -> Array:
        """The mean over the steps, or over the real steps given a ``mask``."""
        if mask is None:
            return super().forward(x, training=training, keep_cache=keep_cache)
        self._check(x)
        weights = np.asarray(mask, bool)[..., None].astype(x.dtype)  # (N, T, 1)
        counts = weights.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0: NaN, as Keras
            y = (x * weights).sum(axis=1, keepdims=True) / counts
            shares = weights / counts
        self._cache = shares if training or keep_cache else None
        return y if self.keepdims else y[:, 0]

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """``dy`` shared among the (real) steps."""
        # y = sum_t w[t] x[t], w[t] = m[t] / sum m  =>  dx[t] = w[t] dy
        shares = self.cached()
        if not isinstance(shares, np.ndarray):  # no mask: the plain mean's backward
            return super().backward(grad_output, input_grad=input_grad)
        if not input_grad:
            return None
        return grad_output.reshape(len(shares), 1, -1) * shares


@registry.register("global_max_pooling2d")
class GlobalMaxPooling2D(_GlobalMaxPooling):
    """The largest value of each channel over height and width: ``(N, H, W, C) -> (N, C)``.

    Parameters
    ----------
    data_format, keepdims, input_dim, input_shape, name, trainable
        As for :class:`GlobalAveragePooling2D`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)     # channel 0: 0, 2, 4, 6
    >>> GlobalMaxPooling2D()(x)
    array([[6., 7.]], dtype=float32)
    """

    rank = 2


@registry.register("global_max_pooling1d")
class GlobalMaxPooling1D(_GlobalMaxPooling):
    """The largest value of each channel over the steps: ``(N, steps, C) -> (N, C)``.

    Parameters
    ----------
    data_format, keepdims, input_dim, input_shape, name, trainable
        As for :class:`GlobalAveragePooling2D`.

    Examples
    --------
    >>> import numpy as np
    >>> GlobalMaxPooling1D(keepdims=True)(np.array([[[1.0, 0.0], [3.0, -4.0]]]))
    array([[[3., 0.]]], dtype=float32)
    """

    rank = 1


#: Keras' short names for the same classes.
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
