"""The activations of the two classic linear models: the identity and the step.

Linear regression outputs ``y = x`` (what ``activation=None`` means); Rosenblatt's
perceptron outputs ``y = [x > threshold]``. Their derivatives are constants, 1 and 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.activations.base import (
    ActivationFunction,
    _check_finite_number,
    _float_dtype,
    registry,
)

__all__ = ["Linear", "Step"]


@registry.register("linear", "identity")
class Linear(ActivationFunction):
    """The identity ``y = x`` (what ``activation=None`` means).

    Examples
    --------
    >>> Linear()(np.array([-1.5, 2.0]))
    array([-1.5,  2. ])
    """

    def forward(self, x: Array) -> Array:
        return x

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = x  =>  dy/dx = 1
        #        =>  dx = dy
        return grad_y


@registry.register("step")
class Step(ActivationFunction):
    """Step ``y = 1.0 if x > threshold else 0.0``: the perceptron's activation.

    The neuron fires once its weighted sum *exceeds* the threshold, as in seeds/002,
    Rosenblatt's perceptron and :class:`glassnet.Perceptron` (scikit-learn's
    ``Perceptron`` too predicts the first class at a score of exactly 0). Its
    derivative is zero everywhere (and undefined at the threshold), so gradient
    descent cannot train through it; that is why the perceptron uses its own update
    rule instead of backpropagation.

    Parameters
    ----------
    threshold : float, default 0.0
        Inputs above it give 1.0; inputs at or below it give 0.0.

    Examples
    --------
    >>> Step()(np.array([-0.5, 0.0, 2.0]))
    array([0., 0., 1.])
    """

    def __init__(self, threshold: float = 0.0) -> None:
        self.threshold = _check_finite_number(threshold, "threshold")

    def forward(self, x: Array) -> Array:
        x = np.asarray(x)
        return (x > self.threshold).astype(_float_dtype(x))

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y is piecewise constant  =>  dy/dx = 0 (almost everywhere)
        #                          =>  dx = 0
        return np.zeros_like(grad_y)

    def get_config(self) -> dict[str, Any]:
        return {"threshold": self.threshold}
