"""The windows a layer config may declare: kernels, pools, strides, padding.

A convolution's weights are counted before they exist
(:mod:`~glassnet.io.parameter_count`), but a window can be harmful without weights:
``MaxPooling2D(pool_size=10**9, padding="same")`` has none, loads in a
millisecond, and makes ``predict`` pad every image by half a billion cells on each
side. So each layer config read from a file has its window arguments checked as
data, by Keras' argument names, before the layer is created: every size along
an axis of ``kernel_size``, ``pool_size``, ``strides``, ``dilation_rate`` and an
integer ``padding`` (ZeroPadding's), and a dilated kernel's span
``(kernel_size - 1) * dilation_rate + 1``, at most
:data:`~glassnet.io.limits.MAX_WINDOW`. Values of the wrong type, zero or negative
ones are left to the layer's constructor, which refuses them naming the argument.

>>> check_windows({"kernel_size": [3, 3], "dilation_rate": [2, 2]}, "conv2d")
>>> check_windows({"kernel_size": [3], "dilation_rate": [10**4]}, "conv1d")
Traceback (most recent call last):
...
glassnet.errors.ModelFileError: conv1d: `kernel_size=[3]` with `dilation_rate=[10000]` ...
"""

from __future__ import annotations

from typing import Any

from glassnet.errors import ModelFileError
from glassnet.io import limits

__all__ = ["WINDOW_ARGUMENTS", "check_windows"]

#: Keras' names of the arguments that hold lengths along the spatial axes.
WINDOW_ARGUMENTS = ("kernel_size", "pool_size", "strides", "dilation_rate", "padding")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sizes(value: Any) -> list[int]:
    """The integers of an int, a list of ints, or a list of pairs (ZeroPadding2D).

    Anything else (a string, a float, a long list) holds none: the layer's
    constructor refuses it.
    """
    if _is_int(value):
        return [value]
    if not isinstance(value, (list, tuple)) or len(value) > 8:
        return []
    found: list[int] = []
    for item in value:
        if _is_int(item):
            found.append(item)
        elif isinstance(item, (list, tuple)) and len(item) <= 8:
            found += [i for i in item if _is_int(i)]
    return found


def _spelled(value: Any) -> str:
    return str(value)[:80]


def check_windows(config: dict[str, Any], where: str) -> None:
    """Refuse a window argument longer than MAX_WINDOW along any axis.

    ``config`` is a layer's config as read from the file (Keras' argument names);
    ``where`` names the layer in the error.
    """
    cap = limits.MAX_WINDOW
    for key in WINDOW_ARGUMENTS:
        value = config.get(key)
        if any(size > cap for size in _sizes(value)):
            raise ModelFileError(
                f"{where}: `{key}={_spelled(value)}` is longer than any sensible image "
                f"along an axis; glassnet reads kernel and pool sizes, strides, "
                f"dilations and paddings of at most {cap} "
                "(glassnet.io.limits.MAX_WINDOW)."
            )
    kernel, dilation = config.get("kernel_size"), config.get("dilation_rate")
    if dilation is None:
        return
    kernels, dilations = _sizes(kernel), _sizes(dilation)
    if len(kernels) == 1 and len(dilations) > 1:
        kernels = kernels * len(dilations)
    if len(dilations) == 1 and len(kernels) > 1:
        dilations = dilations * len(kernels)
    spans = [
        (k - 1) * d + 1
        for k, d in zip(kernels, dilations, strict=False)
        if k > 0 and d > 0  # the constructor names sizes of 0 or less
    ]
    if any(span > cap for span in spans):
        raise ModelFileError(
            f"{where}: `kernel_size={_spelled(kernel)}` with `dilation_rate="
            f"{_spelled(dilation)}` spans {max(spans)} positions along an axis; "
            f"glassnet reads windows of at most {cap} (glassnet.io.limits.MAX_WINDOW)."
        )
