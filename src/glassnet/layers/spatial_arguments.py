"""Arguments and axis arithmetic shared by the convolution and pooling layers.

Conv1D/2D, the pools, ZeroPadding and SpatialDropout take sizes as an int or a
tuple, a ``padding`` mode and a ``data_format``; these check them at the boundary,
so a bad argument fails when the layer is made, naming the argument, what was
expected and what was received. :func:`same_padding` is TensorFlow's (and Keras')
'same' rule, the one both convolutions and pools follow.

>>> int_tuple(3, 2, "kernel_size"), int_tuple([1, 2], 2, "strides")
((3, 3), (1, 2))
>>> padding_mode("SAME")
'same'
>>> int_tuple((2, 0), 2, "strides")
Traceback (most recent call last):
...
glassnet.errors.InvalidArgumentError: Argument `strides` must be ... Received: strides=(2, 0)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["channels_last", "int_tuple", "padding_mode", "same_padding"]


def int_tuple(
    value: Any, n: int, name: str, *, allow_zero: bool = False
) -> tuple[int, ...]:
    """An int or ``n`` ints as a tuple of ``n`` ints, each > 0 (or >= 0).

    >>> int_tuple(2, 2, "pool_size"), int_tuple([3, 1], 2, "strides")
    ((2, 2), (3, 1))
    >>> int_tuple(0, 1, "padding", allow_zero=True)
    (0,)
    """
    bound = ">= 0" if allow_zero else "> 0"
    what = f"an integer or a tuple of {n} integers, each {bound}"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values: tuple[Any, ...] = (value,) * n
    elif isinstance(value, (tuple, list)) and len(value) == n:
        values = tuple(value)
    else:
        raise GlassnetTypeError(
            f"Argument `{name}` must be {what}. Received: {name}={value!r}"
        )
    for entry in values:
        if isinstance(entry, bool) or not isinstance(entry, numbers.Integral):
            raise GlassnetTypeError(
                f"Argument `{name}` must be {what}. Received: {name}={value!r}"
            )
        if entry < 0 or (entry == 0 and not allow_zero):
            raise InvalidArgumentError(
                f"Argument `{name}` must be {what}. Received: {name}={value!r}"
            )
    return tuple(int(entry) for entry in values)


def padding_mode(value: Any, *, allow_causal: bool = False) -> str:
    """'valid', 'same' (or 'causal', for Conv1D), case-insensitive as in Keras.

    >>> padding_mode("causal", allow_causal=True)
    'causal'
    """
    choices = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if not isinstance(value, str) or value.lower() not in choices:
        raise InvalidArgumentError(
            f"Argument `padding` must be one of {', '.join(map(repr, choices))}. "
            f"Received: padding={value!r}"
        )
    return value.lower()


def channels_last(data_format: Any, layer: str) -> str:
    """``"channels_last"`` for None or itself; channels_first is refused for now.

    >>> channels_last(None, "Conv2D")
    'channels_last'
    """
    if data_format is None or data_format == "channels_last":
        return "channels_last"
    if data_format == "channels_first":
        raise InvalidArgumentError(
            f"{layer}: data_format='channels_first' is not supported yet; glassnet "
            "arrays are channels_last, (batch, ..., channels). Transpose the data "
            "(e.g. np.moveaxis(x, 1, -1)) and use data_format='channels_last'. "
            "Received: data_format='channels_first'"
        )
    raise InvalidArgumentError(
        f"{layer}: argument `data_format` must be 'channels_last' or None. "
        f"Received: data_format={data_format!r}"
    )


def same_padding(
    size: int, kernel: int, stride: int, dilation: int = 1
) -> tuple[int, int]:
    """Keras' (TensorFlow's) 'same' padding of one axis: ``(before, after)``.

    The output has ``ceil(size / stride)`` positions; the total padding that needs
    is split with the odd one out *after* (asymmetric when the total is odd)::

        total = max((ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        before = total // 2;  after = total - before

    A pool is a kernel with ``d = 1``.

    >>> same_padding(5, 3, 1, 1), same_padding(6, 4, 1, 1), same_padding(6, 3, 2, 1)
    ((1, 1), (1, 2), (0, 1))
    """
    total = max(
        (math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0
    )
    return total // 2, total - total // 2
