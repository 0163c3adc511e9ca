"""Max and average pooling over windows: MaxPooling1D/2D, AveragePooling1D/2D.

Each output is the largest (max) or the mean (average) of one window of each
channel. Their backward passes send each output's gradient back into its window:
all of it to the window's first largest cell (max), or an equal share to every
real cell (average). How the windows are laid out and looped over is in
``layers/pool_windows.py``; a 1-D layer pools ``(batch, steps, channels)`` as an
image one row high.

Arguments, defaults and shapes follow Keras 3 (channels_last only for now).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from glassnet._typing import Array
from glassnet.errors import ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, arrays_kept, known_size, unknown_length
from glassnet.layers.pool_windows import (
    WindowGeometry,
    average_pool,
    average_pool_backward,
    inverse_counts,
    max_pool,
    max_pool_backward,
    max_pool_pairs,
    max_pool_pairs_backward,
    pad,
    pairs_apply,
    pooled_length,
    window_geometry,
)
from glassnet.layers.spatial_arguments import channels_last, int_tuple, padding_mode

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
]

_AXES = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}


class _Pooling(Layer):
    """What the four pooling layers share; ``rank`` 1 or 2, ``mode`` max or average."""

    rank: ClassVar[int]
    mode: ClassVar[str]

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        self.pool_size = int_tuple(pool_size, self.rank, "pool_size")
        self.strides = (
            self.pool_size
            if strides is None
            else int_tuple(strides, self.rank, "strides")
        )
        self.padding = padding_mode(padding)
        self.data_format = channels_last(data_format, type(self).__name__)
        # the 1-D layers pool images one row high
        self._pool = _as_2d(self.pool_size)
        self._strides = _as_2d(self.strides)

    # -- shapes -------------------------------------------------------------------
    def output_shape(self, input_shape: Any) -> Any:
        """The pooled lengths (None stays None), channels kept."""
        shape = tuple(input_shape)
        if len(shape) != self.rank + 1:
            raise ShapeError(
                f"{type(self).__name__} layer '{self.name}' takes {self.rank + 2}-D "
                f"inputs {_AXES[self.rank]}, i.e. samples with {self.rank + 1} axes. "
                f"Received: input_shape={shape}"
            )
        lengths: list[int | None] = []
        for n, k, s in zip(shape[:-1], self.pool_size, self.strides, strict=True):
            if n is None:
                lengths.append(None)
                continue
            length = pooled_length(n, k, s, self.padding)
            if length < 1:
                least = "as long as the window" if self.padding == "valid" else "1"
                raise ShapeError(
                    f"{type(self).__name__} layer '{self.name}' with pool_size="
                    f"{self.pool_size} and padding='{self.padding}' needs inputs at "
                    f"least {least} along each pooled axis. Received: "
                    f"input_shape={shape}"
                )
            lengths.append(length)
        return (*lengths, shape[-1])

    def _as_image(self, x: Array) -> Array:
        """``x`` as (N, H, W, C): a 1-D batch becomes an image one row high."""
        if x.ndim != self.rank + 2:
            self.output_shape(x.shape[1:])  # raises: wrong rank
        return x if self.rank == 2 else x[:, np.newaxis]

    def _geometry(self, image: Array) -> WindowGeometry:
        """The windows for this batch, or a ShapeError if the input is too short."""
        size = (int(image.shape[1]), int(image.shape[2]))
        geometry = window_geometry(size, self._pool, self._strides, self.padding)
        if min(geometry.out) < 1:
            self.output_shape(image.shape[1:] if self.rank == 2 else image.shape[2:])
        return geometry

    def _from_image(self, y: Array) -> Array:
        return y if self.rank == 2 else y[:, 0]

    # -- what the layer reports about itself ---------------------------------------
    def flops(self, input_shape: Any) -> Cost:
        """Per output: ``k - 1`` comparisons (max), or ``k - 1`` additions and a
        multiplication by ``1 / count`` (average), for windows of ``k`` cells."""
        size = known_size(self.output_shape(input_shape))
        if size is None:
            return unknown_length()
        cells = int(np.prod(self.pool_size))
        per = cells - 1 if self.mode == "max" else cells
        what = "comparisons" if self.mode == "max" else "additions and a scaling"
        return Cost(size * per, f"{size:,} x {per} ({what}) = {size * per:,}")

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras' keys)."""
        config = super().get_config()
        config.update(
            pool_size=self.pool_size,
            padding=self.padding,
            strides=self.strides,
            data_format=self.data_format,
        )
        return config


class _MaxPooling(_Pooling):
    mode = "max"
    #: max(relu(x)) = relu(max(x)), gradients too under the first-maximum rule:
    #: the model's walk may run a ReLU layer's activation after this pool instead
    commutes_with_relu: ClassVar[bool] = True

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y``: the largest cell of each window (padding cells are ``-inf``)."""
        image = self._as_image(x)
        geometry = self._geometry(image)
        xp = pad(image, geometry.pads, -np.inf) if geometry.padded else image
        if not (training or keep_cache):
            self._cache = None
            return self._from_image(max_pool(xp, geometry))
        if pairs_apply(geometry, image.shape[3]):
            # 2x2 (1x2) windows side by side: each window's first maximum found
            # now, while xp is in the cache, and kept as a 1-byte mask (paid for
            # even when backward is asked for no dx, a pool on the data itself)
            y, first = max_pool_pairs(xp, geometry)
            self._cache = (None, first, xp.shape, geometry, image.shape)
        else:
            # backward finds each window's first maximum from xp and y
            y = max_pool(xp, geometry)
            self._cache = (xp, y, xp.shape, geometry, image.shape)
        return self._from_image(y)

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Route each output's gradient to its window's first largest cell."""
        # y[p] = max over the window W(p) of x  =>  dx[i] = sum over the windows p
        #     whose first maximum (row-major) is cell i of dy[p]; every other cell
        #     gets 0 (a tie sends all of dy[p] to the first maximum, not a share)
        xp, kept, padded_shape, geometry, shape = self.cached()
        if not input_grad:
            return None
        dy = grad_output if self.rank == 2 else grad_output[:, np.newaxis]
        if xp is None:  # kept is the first-maximum mask of max_pool_pairs
            dxp = max_pool_pairs_backward(kept, dy, padded_shape, geometry)
        else:  # kept is y
            dxp = max_pool_backward(xp, kept, dy, geometry)
        return self._from_image(_unpad(dxp, geometry, shape))

    def kept_activations(self, input_shape: Any) -> Cost:
        """The output ``y`` and what backward reads: for 2x2 (1x2) windows side by
        side the first-maximum mask (one byte per window cell, counted as a
        number), else the padded input when 'same' adds padding."""
        out = known_size(self.output_shape(input_shape))
        shape = tuple(input_shape)
        if out is None or None in shape:
            return arrays_kept(("y", out))
        image = shape if self.rank == 2 else (1, *shape)
        geometry = window_geometry(image[:2], self._pool, self._strides, self.padding)
        if pairs_apply(geometry, image[2]):
            (oh, ow), rows = geometry.out, len(geometry.rows)
            return arrays_kept(
                ("first-maximum mask", rows * oh * 2 * ow * image[2]), ("y", out)
            )
        if not geometry.padded:
            return arrays_kept(("y", out))
        (top, bottom), (left, right) = geometry.pads
        padded = (image[0] + top + bottom) * (image[1] + left + right) * image[2]
        return arrays_kept(("padded x", padded), ("y", out))


class _AveragePooling(_Pooling):
    mode = "average"

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y``: the mean of the real (unpadded) cells of each window."""
        image = self._as_image(x)
        geometry = self._geometry(image)
        size = (int(image.shape[1]), int(image.shape[2]))
        scale = inverse_counts(size, self._pool, self._strides, geometry, image.dtype)
        xp = pad(image, geometry.pads, 0.0) if geometry.padded else image
        y = average_pool(xp, geometry, scale)
        keep = training or keep_cache
        self._cache = (xp.shape, geometry, scale, image.shape) if keep else None
        return self._from_image(y)

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Share each output's gradient equally among its window's real cells."""
        # y[p] = (1 / count[p]) * sum over the window W(p) of x  =>
        #     dx[i] = sum over the windows p that hold cell i of dy[p] / count[p]
        #     (padding cells get their share too, and are cut away)
        padded_shape, geometry, scale, shape = self.cached()
        if not input_grad:
            return None
        dy = grad_output if self.rank == 2 else grad_output[:, np.newaxis]
        dxp = average_pool_backward(padded_shape, dy, geometry, scale)
        return self._from_image(_unpad(dxp, geometry, shape))


def _as_2d(sizes: tuple[int, ...]) -> tuple[int, int]:
    """A 1-D window's size or stride as a 2-D one, one row high."""
    return (1, sizes[0]) if len(sizes) == 1 else (sizes[0], sizes[1])


def _unpad(dxp: Array, geometry: WindowGeometry, shape: tuple[int, ...]) -> Array:
    """The gradient of the real cells: ``dxp`` without its padding."""
    if not geometry.padded:
        return dxp
    (top, _), (left, _) = geometry.pads
    return dxp[:, top : top + shape[1], left : left + shape[2]]


@registry.register("max_pooling2d")
class MaxPooling2D(_MaxPooling):
    """Max pooling over 2-D windows of images ``(batch, height, width, channels)``.

    Parameters
    ----------
    pool_size : int or tuple of 2 ints
        Window height and width (one int: both).
    strides : int, tuple of 2 ints or None
        Steps between windows; None means ``pool_size`` (windows side by side).
    padding : {"valid", "same"}
        "valid": windows inside the input only, ``floor((n - k) / s) + 1`` per
        axis. "same": ``ceil(n / s)`` per axis, the input padded as TensorFlow pads
        (more after than before when odd), the padding never chosen.
    data_format : {"channels_last", None}
        Only ``"channels_last"`` (the default) is supported for now.
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`~glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = MaxPooling2D()                     # 2x2 windows, stride 2
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> layer(x)[0, :, :, 0]                       # rows 0-1 cols 0-1: max is 5
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    >>> layer.output_shape((28, 28, 6)), MaxPooling2D(3, 2, "same").output_shape((7, 7, 1))
    ((14, 14, 6), (4, 4, 1))
    """

    rank = 2

    def __init__(
        self,
        pool_size: Any = (2, 2),
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.register("max_pooling1d")
class MaxPooling1D(_MaxPooling):
    """Max pooling over windows of steps, for signals ``(batch, steps, channels)``.

    Parameters
    ----------
    pool_size : int
        Window length.
    strides : int or None
        Step between windows; None means ``pool_size``.
    padding, data_format, input_dim, input_shape, name, trainable
        As for :class:`MaxPooling2D`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[[1.0], [3.0], [2.0], [5.0], [4.0]]])   # 5 steps, 1 channel
    >>> MaxPooling1D()(x)[0, :, 0]                           # (1, 3), (2, 5); 4 left out
    array([3., 5.], dtype=float32)
    >>> MaxPooling1D(2, padding="same")(x)[0, :, 0]          # (1, 3), (2, 5), (4, -inf)
    array([3., 5., 4.], dtype=float32)
    """

    rank = 1

    def __init__(
        self,
        pool_size: Any = 2,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@registry.register("average_pooling2d")
class AveragePooling2D(_AveragePooling):
    """Average pooling over 2-D windows of images ``(batch, height, width, channels)``.

    With ``padding="same"``, a window that overlaps the padding averages its real
    cells only (TensorFlow's rule; PyTorch's ``count_include_pad=False``).

    Parameters
    ----------
    pool_size : int or tuple of 2 ints
        Window height and width (required, as in Keras 3).
    strides, padding, data_format, input_dim, input_shape, name, trainable
        As for :class:`MaxPooling2D`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> AveragePooling2D(2)(x)[0, :, :, 0]          # (0 + 1 + 4 + 5) / 4 = 2.5
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> y = AveragePooling2D(3, 2, "same")(x)[0, :, :, 0]  # 1 row, 1 column padded
    >>> y                # y[1, 1] = (10 + 11 + 14 + 15) / 4: only 4 of its 9 are real
    array([[ 5. ,  6.5],
           [11. , 12.5]], dtype=float32)
    """

    rank = 2


@registry.register("average_pooling1d")
class AveragePooling1D(_AveragePooling):
    """Average pooling over windows of steps, for signals ``(batch, steps, channels)``.

    Parameters
    ----------
    pool_size : int
        Window length (required, as in Keras 3).
    strides, padding, data_format, input_dim, input_shape, name, trainable
        As for :class:`AveragePooling2D`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[[1.0], [3.0], [2.0], [6.0], [4.0]]])
    >>> AveragePooling1D(2)(x)[0, :, 0]
    array([2., 4.], dtype=float32)
    >>> AveragePooling1D(2, padding="same")(x)[0, :, 0]   # the last window: 4 alone
    array([2., 4., 4.], dtype=float32)
    """

    rank = 1


#: Keras' short names for the same classes.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
