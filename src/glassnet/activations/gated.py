"""Self-gated units ``y = x * gate(x)``: GELU (gate Phi, the normal CDF) and SiLU.

SiLU, also called swish, gates with the sigmoid. The exact GELU takes ``erfc`` from
:mod:`glassnet._special`; its tanh approximation is the one Keras 3 uses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet._special import erfc
from glassnet._typing import Array
from glassnet._validation import check_bool
from glassnet.activations.base import ActivationFunction, _float_dtype, registry

__all__ = ["GELU", "SiLU"]


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _gelu_tanh(x: Array) -> tuple[Array, Array]:
    """``t = tanh(sqrt(2/pi) (x + 0.044715 x^3))`` and the clipped x it used."""
    # tanh(u) rounds to exactly +-1 once |x| > 10 (u > 43), so clipping x changes no
    # result and keeps x**3 from overflowing.
    xc = np.clip(x, -10.0, 10.0)
    return xc, np.tanh(_SQRT_2_OVER_PI * (xc + _GELU_CUBIC * xc**3))


@registry.register("gelu")
class GELU(ActivationFunction):
    """Gaussian error linear unit ``y = x * Phi(x)``, Phi the standard normal CDF.

    ``Phi(x) = erfc(-x / sqrt(2)) / 2``. With ``approximate=True`` it uses
    ``y = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``, as Keras 3 does.

    Parameters
    ----------
    approximate : bool, default False
        Use the tanh formula instead of the exact one.

    Examples
    --------
    >>> GELU()(np.array([-1.0, 0.0, 1.0]))
    array([-0.15865525,  0.        ,  0.84134475])
    """

    def __init__(self, approximate: bool = False) -> None:
        self.approximate = check_bool(approximate, "approximate")

    def forward(self, x: Array) -> Array:
        if self.approximate:
            _, t = _gelu_tanh(x)
            return 0.5 * x * (1 + t)
        x = np.asarray(x)
        x64 = x.astype(np.float64)
        return (x64 * 0.5 * erfc(-_SQRT_HALF * x64)).astype(_float_dtype(x))

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        if self.approximate:
            # y = x/2 (1 + t), t = tanh(u), u = c (x + k x^3)
            #   =>  dy/dx = (1 + t)/2 + x/2 (1 - t^2) c (1 + 3 k x^2)
            xc, t = _gelu_tanh(x)
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * xc * xc)
            return grad_y * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        # y = x Phi(x)  =>  dy/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)
        #               =>  dx = dy * (Phi(x) + x phi(x))
        x64 = np.asarray(x, dtype=np.float64)
        cdf = 0.5 * erfc(-_SQRT_HALF * x64)
        # phi(40) = 0.0 in float64 already; clipping keeps x^2 from overflowing.
        x_clip = np.clip(x64, -40.0, 40.0)
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * x_clip * x_clip)
        return grad_y * (cdf + x64 * pdf).astype(grad_y.dtype)

    def get_config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


@registry.register("silu", "swish")
class SiLU(ActivationFunction):
    """Sigmoid linear unit (swish) ``y = x * sigmoid(x)``.

    Examples
    --------
    >>> SiLU()(np.array([0.0, 1.0]))
    array([0.        , 0.73105858])
    """

    overflows_harmlessly = True  # as in Sigmoid

    def forward(self, x: Array) -> Array:
        return x / (1 + np.exp(-x))  # as in Sigmoid: exp(-x) -> inf is harmless

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = x s, s = sigmoid(x), ds/dx = s (1 - s)
        #   =>  dy/dx = s + x s (1 - s) = s (1 + x (1 - s))
        with np.errstate(over="ignore"):
            s = 1 / (1 + np.exp(-x))
        return grad_y * s * (1 + x * (1 - s))
