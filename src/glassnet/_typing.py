"""Type aliases shared across glassnet (no runtime behaviour)."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

__all__ = ["Array", "ArrayLike", "Shape"]

Array = npt.NDArray[Any]
ArrayLike = npt.ArrayLike
Shape = tuple[int, ...]
