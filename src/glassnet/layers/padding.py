"""Zero padding: ZeroPadding1D adds zero steps, ZeroPadding2D zero rows and columns.

The forward pass copies the input into the middle of a zero array; the backward
pass keeps the gradient of the middle (a padded zero depends on no input).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError, ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost
from glassnet.layers.spatial_arguments import channels_last, int_tuple

__all__ = ["ZeroPadding1D", "ZeroPadding2D"]

_AXES = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}


class _ZeroPadding(Layer):
    """What ZeroPadding1D and ZeroPadding2D share: ``self.padding`` per padded axis."""

    rank: ClassVar[int]
    padding: Any

    def _pads(self) -> tuple[tuple[int, int], ...]:
        """``(before, after)`` for each padded axis."""
        raise NotImplementedError

    def output_shape(self, input_shape: Any) -> Any:
        """Each padded axis grows by its two paddings (None stays None)."""
        shape = tuple(input_shape)
        if len(shape) != self.rank + 1:
            raise ShapeError(
                f"{type(self).__name__} layer '{self.name}' takes {self.rank + 2}-D "
                f"inputs {_AXES[self.rank]}, i.e. samples with {self.rank + 1} axes. "
                f"Received: input_shape={shape}"
            )
        grown = (
            None if n is None else n + before + after
            for n, (before, after) in zip(shape[:-1], self._pads(), strict=True)
        )
        return (*grown, shape[-1])

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y``: zeros, with ``x`` copied into the middle."""
        if x.ndim != self.rank + 2:
            self.output_shape(x.shape[1:])  # raises: wrong rank
        y = np.zeros((x.shape[0], *self.output_shape(x.shape[1:])), dtype=x.dtype)
        y[self._middle(x.shape)] = x
        self._cache = x.shape if training or keep_cache else None
        return y

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """The gradient of the middle: the padding's is dropped."""
        # y = x in the middle, 0 in the padding  =>  dx = dy[middle]; the padded
        #     zeros depend on no input, so their gradients go nowhere
        shape = self.cached()
        return grad_output[self._middle(shape)] if input_grad else None

    def _middle(self, shape: tuple[int, ...]) -> tuple[slice, ...]:
        """The index of the input's cells inside the padded output."""
        return (
            slice(None),
            *(
                slice(before, before + n)
                for n, (before, _) in zip(shape[1:-1], self._pads(), strict=True)
            ),
        )

    def flops(self, input_shape: Any) -> Cost:
        """Zero: the numbers are copied, nothing is computed."""
        self.output_shape(input_shape)
        return Cost(0, "0 (copies, computes nothing)")


@registry.register("zero_padding1d")
class ZeroPadding1D(_ZeroPadding):
    """Adds zero steps before and after signals ``(batch, steps, channels)``.

    Parameters
    ----------
    padding : int or tuple of 2 ints
        Steps of zeros added before and after (one int: both), each >= 0.
    data_format : {"channels_last", None}
        Only ``"channels_last"`` (the default) is supported for now.
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`~glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> ZeroPadding1D((1, 2))(np.array([[[5.0], [6.0]]]))[0, :, 0]
    array([0., 5., 6., 0., 0.], dtype=float32)
    >>> ZeroPadding1D().output_shape((10, 3))
    (12, 3)
    """

    rank = 1

    def __init__(
        self,
        padding: Any = 1,
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
        self.padding = int_tuple(padding, 2, "padding", allow_zero=True)
        self.data_format = channels_last(data_format, "ZeroPadding1D")

    def _pads(self) -> tuple[tuple[int, int], ...]:
        return (self.padding,)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras' keys)."""
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


@registry.register("zero_padding2d")
class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around images ``(batch, height, width, channels)``.

    Parameters
    ----------
    padding : int, tuple of 2 ints, or tuple of 2 tuples of 2 ints
        ``p``: p rows above and below, p columns left and right. ``(h, w)``: h rows
        above and below, w columns left and right. ``((top, bottom), (left,
        right))``: each side its own. Every entry >= 0.
    data_format : {"channels_last", None}
        Only ``"channels_last"`` (the default) is supported for now.
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`~glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = ZeroPadding2D(((1, 0), (0, 2)))
    >>> layer(np.ones((1, 2, 2, 1)))[0, :, :, 0]
    array([[0., 0., 0., 0.],
           [1., 1., 0., 0.],
           [1., 1., 0., 0.]], dtype=float32)
    >>> ZeroPadding2D(2).output_shape((28, 28, 1))
    (32, 32, 1)
    """

    rank = 2

    def __init__(
        self,
        padding: Any = (1, 1),
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
        self.padding = _padding_2d(padding)
        self.data_format = channels_last(data_format, "ZeroPadding2D")

    def _pads(self) -> tuple[tuple[int, int], ...]:
        return self.padding

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (Keras' keys)."""
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


def _padding_2d(padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras' three spellings of ZeroPadding2D's padding as ((top, bottom), (left, right))."""
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        height = int_tuple(padding[0], 2, "padding", allow_zero=True)
        width = int_tuple(padding[1], 2, "padding", allow_zero=True)
        return (height[0], height[1]), (width[0], width[1])
    if isinstance(padding, (tuple, list)):
        raise GlassnetTypeError(
            "Argument `padding` must be an int, a tuple of 2 ints (rows, columns) or "
            "a tuple of 2 tuples of 2 ints ((top, bottom), (left, right)). "
            f"Received: padding={padding!r}"
        )
    rows, columns = int_tuple(padding, 2, "padding", allow_zero=True)
    return (rows, rows), (columns, columns)
