"""Rectifiers: ReLU and its variants leaky ReLU, ELU and softplus (a smooth ReLU).

Each passes positive inputs through (nearly) unchanged and damps negative ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_nonnegative_float
from glassnet.activations.base import ActivationFunction, registry

__all__ = ["ELU", "LeakyReLU", "ReLU", "Softplus"]


@registry.register("relu")
class ReLU(ActivationFunction):
    """Rectified linear unit ``y = max(x, 0)``.

    Examples
    --------
    >>> ReLU()(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """

    def forward(self, x: Array) -> Array:
        x = np.asarray(x)
        # np.maximum against a zeros array runs NumPy's vectorized loop; against the
        # scalar 0 it takes a broadcasting loop that is 2x slower (NumPy 2.4).
        return np.maximum(x, np.zeros(x.shape, x.dtype))

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = max(x, 0)  =>  dy/dx = 1 where x > 0, else 0 (0 at the kink itself)
        #                =>  dx = dy * [x > 0]
        return grad_y * (x > 0)


@registry.register("leaky_relu")
class LeakyReLU(ActivationFunction):
    """Leaky ReLU ``y = x if x >= 0 else negative_slope * x`` (Keras 3 default 0.2).

    Parameters
    ----------
    negative_slope : float, default 0.2
        Slope for negative inputs, >= 0.

    Examples
    --------
    >>> LeakyReLU(negative_slope=0.1)(np.array([-2.0, 3.0]))
    array([-0.2,  3. ])
    """

    def __init__(self, negative_slope: float = 0.2) -> None:
        self.negative_slope = check_nonnegative_float(negative_slope, "negative_slope")

    def forward(self, x: Array) -> Array:
        return np.where(x >= 0, x, self.negative_slope * x)

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = x (x > 0), a x (x <= 0)  =>  dy/dx = 1 or a
        #                              =>  dx = dy where x > 0, a * dy elsewhere
        return np.where(x > 0, grad_y, self.negative_slope * grad_y)

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


@registry.register("elu")
class ELU(ActivationFunction):
    """Exponential linear unit ``y = x if x > 0 else alpha * (exp(x) - 1)``.

    Parameters
    ----------
    alpha : float, default 1.0
        Scale of the negative part, >= 0.

    Examples
    --------
    >>> ELU()(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    """

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = check_nonnegative_float(alpha, "alpha")

    def forward(self, x: Array) -> Array:
        # min(x, 0) keeps expm1 from overflowing on the branch np.where discards.
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = alpha (exp(x) - 1) for x <= 0  =>  dy/dx = alpha exp(x) = y + alpha
        # y = x for x > 0                    =>  dy/dx = 1
        return np.where(x > 0, grad_y, grad_y * (y + self.alpha))

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@registry.register("softplus")
class Softplus(ActivationFunction):
    """Softplus ``y = log(1 + exp(x))``, a smooth ReLU, computed as ``logaddexp(0, x)``.

    Examples
    --------
    >>> Softplus()(np.array([0.0, 1e4]))
    array([6.93147181e-01, 1.00000000e+04])
    """

    def forward(self, x: Array) -> Array:
        return np.logaddexp(0, x)

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = log(1 + e^x)  =>  dy/dx = e^x / (1 + e^x) = sigmoid(x) = exp(x - y)
        # (x - y <= 0, so the exponential never overflows)
        return grad_y * np.exp(x - y)
