"""Softmax: the activation that mixes a whole row, hence a vector-Jacobian backward.

Each output depends on every input of its row, so ``backward`` cannot be an elementwise
derivative; it is the Jacobian-vector product written out below.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.activations.base import ActivationFunction, registry
from glassnet.activations.softmax_fused import divide_rows, shift_by_row_max
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError

__all__ = ["MAX_RANK", "Softmax"]

#: NumPy's largest number of array dimensions (64 since NumPy 2): no array has an
#: axis beyond it, so a larger ``axis`` is refused when the softmax is made.
MAX_RANK = 64


@registry.register("softmax")
class Softmax(ActivationFunction):
    """Softmax ``y_i = exp(x_i) / sum_j exp(x_j)`` along ``axis``; each row sums to 1.

    Parameters
    ----------
    axis : int, default -1
        The axis that is normalised (the class axis), counted as NumPy counts
        (negative from the end). Models check it against the rank of the arrays it
        will see when they are built (:meth:`check_input_rank`), so a model never
        accepts an axis that its inputs do not have.

    Examples
    --------
    >>> Softmax()(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    >>> Softmax(axis=2).check_input_rank(2, "Dense layer 'out'")
    Traceback (most recent call last):
    ...
    glassnet.errors.ShapeError: Dense layer 'out' applies a softmax along axis 2, ...
    """

    def __init__(self, axis: int = -1) -> None:
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise GlassnetTypeError(
                f"Argument `axis` must be an integer. Received: axis={axis!r} "
                f"({type(axis).__name__})"
            )
        if not -MAX_RANK <= axis < MAX_RANK:
            raise InvalidArgumentError(
                f"Argument `axis` must lie in [-{MAX_RANK}, {MAX_RANK}): no NumPy "
                f"array has more than {MAX_RANK} axes. Received: axis={axis!r}"
            )
        self.axis: int = int(axis)

    def check_input_rank(self, rank: int, where: str) -> None:
        """Raise :class:`~glassnet.errors.ShapeError` unless ``axis`` exists on
        arrays of ``rank`` dimensions (batch axis included), i.e.
        ``-rank <= axis < rank``; ``where`` names the layer in the message."""
        if not -rank <= self.axis < rank:
            raise ShapeError(
                f"{where} applies a softmax along axis {self.axis}, but the arrays it "
                f"normalises have {rank} axes (valid: {-rank} to {rank - 1}; -1 is the "
                f"last). Received: axis={self.axis}"
            )

    def forward(self, x: Array) -> Array:
        # Subtracting the row max leaves y unchanged and keeps exp <= 1, so exp never
        # overflows (overflows_harmlessly stays False). Only the subtraction can, when
        # a row spans more than the float range: logits near 1e38 mean a broken
        # model, and NumPy's warning then says so (fit and __call__ silence it).
        # Along the last axis, with Numba installed, the maximum with the
        # subtraction and the division are one loop each (activations/softmax_fused.py).
        last = self.axis in (-1, x.ndim - 1)
        shifted = shift_by_row_max(x) if last else None
        if shifted is None:
            # (np.maximum.reduce and np.add.reduce are what .max() and .sum() call,
            # without their Python wrappers)
            shifted = x - np.maximum.reduce(x, axis=self.axis, keepdims=True)
        # exp in place: shifted is a new array (integer only for integer logits)
        e = (
            np.exp(shifted, out=shifted)
            if shifted.dtype.kind == "f"
            else np.exp(shifted)
        )
        sums = np.add.reduce(e, axis=self.axis, keepdims=True)
        if not (last and divide_rows(e, sums)):
            e /= sums
        return e

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # dy_i/dx_j = y_i ([i == j] - y_j)  (the Jacobian couples the whole row)
        #   =>  dx_j = sum_i dy_i y_i ([i == j] - y_j) = y_j (dy_j - sum_i dy_i y_i)
        return y * (grad_y - (grad_y * y).sum(axis=self.axis, keepdims=True))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}
