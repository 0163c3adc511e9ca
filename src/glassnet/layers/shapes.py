"""Per-sample shapes: reading Keras' ``input_shape``/``input_dim``, comparing shapes.

Shapes here have no batch axis, and an axis may be ``None`` (any length).

>>> normalize_input_shape(None, 2)
(2,)
>>> shapes_agree((None, 4), (7, 4)), shapes_agree((3,), (4,))
(True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Shape
from glassnet._validation import check_positive_int
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["check_sample_shape", "normalize_input_shape", "shapes_agree", "show_shape"]


def normalize_input_shape(input_shape: Any, input_dim: Any) -> Shape | None:
    """Turn Keras' ``input_shape=(3,)`` / ``input_dim=3`` into a per-sample shape.

    Axes other than the first may be ``None`` (a sequence of any length).

    >>> normalize_input_shape(None, 2)
    (2,)
    >>> normalize_input_shape((None, 4), None)
    (None, 4)
    """
    if input_dim is not None and input_shape is not None:
        raise InvalidArgumentError(
            "Give either `input_dim` or `input_shape`, not both. "
            f"Received: input_dim={input_dim!r}, input_shape={input_shape!r}"
        )
    if input_dim is not None:
        return (check_positive_int(input_dim, "input_dim"),)
    if input_shape is None:
        return None
    return check_sample_shape(input_shape, "input_shape")


def check_sample_shape(shape: Any, argument: str) -> Shape:
    """A per-sample shape: a non-empty tuple of positive integers or ``None``."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise GlassnetTypeError(
            f"Argument `{argument}` must be a non-empty tuple of positive integers "
            f"(the shape of one sample, without the batch axis; None for an axis of "
            f"any length). Received: {argument}={shape!r}"
        )
    return tuple(None if d is None else check_positive_int(d, argument) for d in shape)  # type: ignore[misc]


def shapes_agree(expected: Any, got: Any) -> bool:
    """Whether ``got`` fits ``expected`` (a ``None`` axis on either side fits any)."""
    if isinstance(expected, list):
        return (
            isinstance(got, list)
            and len(expected) == len(got)
            and all(shapes_agree(e, g) for e, g in zip(expected, got, strict=True))
        )
    if isinstance(got, list) or len(expected) != len(got):
        return False
    return all(
        e is None or g is None or e == g for e, g in zip(expected, got, strict=True)
    )


def show_shape(shape: Any) -> str:
    """A shape, or a list of shapes, as error messages show it."""
    return str([tuple(s) for s in shape]) if isinstance(shape, list) else str(shape)
