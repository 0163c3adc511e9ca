"""Keras' functional forms of the merge layers: ``add([a, b])`` is ``Add()([a, b])``.

>>> from glassnet import Input
>>> a, b = Input((3,)), Input((3,))
>>> add([a, b]).shape, concatenate([a, b], axis=-1).shape
((None, 3), (None, 6))
>>> import numpy as np
>>> average([np.ones((1, 2)), 3 * np.ones((1, 2))])
array([[2., 2.]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

from glassnet.layers.merge import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

__all__ = [
    "add",
    "average",
    "concatenate",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]


def add(inputs: Any, **kwargs: Any) -> Any:
    """``Add(**kwargs)(inputs)``: the elementwise sum."""
    return Add(**kwargs)(inputs)


def subtract(inputs: Any, **kwargs: Any) -> Any:
    """``Subtract(**kwargs)(inputs)``: the first input minus the second."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Any, **kwargs: Any) -> Any:
    """``Multiply(**kwargs)(inputs)``: the elementwise product."""
    return Multiply(**kwargs)(inputs)


def average(inputs: Any, **kwargs: Any) -> Any:
    """``Average(**kwargs)(inputs)``: the elementwise mean."""
    return Average(**kwargs)(inputs)


def maximum(inputs: Any, **kwargs: Any) -> Any:
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Any, **kwargs: Any) -> Any:
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: Any, axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis, **kwargs)(inputs)``: the inputs joined along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
