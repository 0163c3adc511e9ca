"""Keras' activation functions as plain functions on arrays: ``relu(x)``, ``softmax(x)``...

``glassnet.activations.relu(x)`` returns the activation of an array, with Keras 3's
name, arguments and defaults (``keras.activations.relu``). Each function computes
what its :class:`~glassnet.activations.ActivationFunction` computes (``relu(x)`` is
``ReLU()(x)``), and a layer given one of these functions as its activation gets that
class in its default form, saved by name:
``Dense(3, activation=glassnet.activations.relu)`` is ``Dense(3, activation="relu")``.

Float inputs keep their dtype; integers, booleans and lists become float64, as
NumPy's ``np.exp`` makes them. NaN and inf pass through as the formula sends them.

>>> import numpy as np
>>> relu(np.array([-10.0, -5.0, 0.0, 5.0, 10.0]), negative_slope=0.5)
array([-5. , -2.5,  0. ,  5. , 10. ])
>>> softmax(np.array([[0.0, np.log(3.0)]]))
array([[0.25, 0.75]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet._typing import Array, ArrayLike
from glassnet._validation import check_bool, check_nonnegative_float
from glassnet.activations.base import (
    ActivationFunction,
    _check_finite_number,
    _float_dtype,
)
from glassnet.activations.gated import GELU, SiLU
from glassnet.activations.linear import Linear, Step
from glassnet.activations.rectifiers import ELU, LeakyReLU, ReLU, Softplus
from glassnet.activations.softmax import Softmax
from glassnet.activations.squashing import Sigmoid, Tanh
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = [
    "FUNCTION_CLASSES",
    "elu",
    "gelu",
    "leaky_relu",
    "linear",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "step",
    "swish",
    "tanh",
]


def _as_float(x: ArrayLike) -> Array:
    """``x`` as an array of a float dtype (its own, or float64 for other numbers)."""
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise GlassnetTypeError(
            "Argument `x` must hold numbers (bool, int or float). Received: x of "
            f"dtype {array.dtype}"
        )
    return array.astype(_float_dtype(array), copy=False)


def sigmoid(x: ArrayLike) -> Array:
    """``sigmoid(x) = 1 / (1 + exp(-x))``, as ``keras.activations.sigmoid``.

    >>> sigmoid(np.array([0.0, 7.0]))
    array([0.5       , 0.99908895])
    """
    return Sigmoid()(_as_float(x))


def tanh(x: ArrayLike) -> Array:
    """``tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))``, as ``keras.activations.tanh``.

    >>> tanh(np.array([0.0, 1.0]))
    array([0.        , 0.76159416])
    """
    return Tanh()(_as_float(x))


def relu(
    x: ArrayLike,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> Array:
    """Rectified linear unit, with ``keras.activations.relu``'s three options.

    ``y = x`` where ``x > threshold``, capped at ``max_value`` (and then kept >= 0)
    when given; ``y = negative_slope * (x - threshold)`` elsewhere. With the defaults
    it is ``max(x, 0)``, what ``ReLU()`` and the name ``"relu"`` compute.

    Parameters
    ----------
    x : array-like
    negative_slope : float, default 0.0
        Slope below the threshold, >= 0.
    max_value : float, optional
        The largest output, >= 0 (``None``: no cap).
    threshold : float, default 0.0
        Inputs at or below it are damped (to 0 with the default slope).

    Examples
    --------
    >>> x = np.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    >>> relu(x)
    array([ 0.,  0.,  0.,  5., 10.])
    >>> relu(x, max_value=5.0)
    array([0., 0., 0., 5., 5.])
    >>> relu(x, threshold=5.0)
    array([ 0.,  0.,  0.,  0., 10.])

    Negative slopes and caps are refused, as ``keras.layers.ReLU`` refuses them:

    >>> relu(x, max_value=-1.0)
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Argument `max_value` must be ... >= 0...
    """
    slope = check_nonnegative_float(negative_slope, "negative_slope")
    cap = None if max_value is None else check_nonnegative_float(max_value, "max_value")
    limit = _check_finite_number(threshold, "threshold")
    x = _as_float(x)
    if slope == 0 and cap is None and limit == 0:
        return ReLU()(x)
    # y = x above the threshold (then clipped to [0, max_value]), and
    # y = -slope * relu(threshold - x) = slope * (x - threshold) at or below it
    y = np.where(x > limit, x, np.zeros((), x.dtype))
    if cap is not None:
        y = np.clip(y, 0, cap).astype(x.dtype, copy=False)
    if slope != 0:
        below = np.maximum(np.asarray(limit, x.dtype) - x, 0)
        y = y - np.asarray(slope, x.dtype) * below
    return y


def leaky_relu(x: ArrayLike, negative_slope: float = 0.2) -> Array:
    """``y = x`` for ``x >= 0``, ``negative_slope * x`` below, as ``keras.activations.leaky_relu``.

    >>> leaky_relu(np.array([-2.0, 3.0]))
    array([-0.4,  3. ])
    """
    return LeakyReLU(negative_slope=negative_slope)(_as_float(x))


def elu(x: ArrayLike, alpha: float = 1.0) -> Array:
    """``y = x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` below, as ``keras.activations.elu``.

    >>> elu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    """
    return ELU(alpha=alpha)(_as_float(x))


def softplus(x: ArrayLike) -> Array:
    """``softplus(x) = log(exp(x) + 1)``, as ``keras.activations.softplus``.

    >>> softplus(np.array([0.0, 100.0]))
    array([  0.69314718, 100.        ])
    """
    return Softplus()(_as_float(x))


def softmax(x: ArrayLike, axis: int = -1) -> Array:
    """``exp(x) / sum(exp(x))`` along ``axis``, as ``keras.activations.softmax``.

    >>> softmax(np.array([[0.0, 1.0], [np.log(3.0), 1.0]]), axis=0)
    array([[0.25, 0.5 ],
           [0.75, 0.5 ]])
    """
    activation = Softmax(axis=axis)
    x = _as_float(x)
    if not -x.ndim <= activation.axis < x.ndim:
        raise InvalidArgumentError(
            f"Argument `axis` must name an axis of the {x.ndim}-D input, from "
            f"{-x.ndim} to {x.ndim - 1}. Received: axis={axis} for x.shape={x.shape}"
        )
    return activation(x)


def linear(x: ArrayLike) -> Array:
    """The identity ``y = x``, as ``keras.activations.linear`` (what ``None`` means).

    >>> linear(np.array([-1.5, 2.0]))
    array([-1.5,  2. ])
    """
    return Linear()(_as_float(x))


def step(x: ArrayLike, threshold: float = 0.0) -> Array:
    """``y = 1.0`` where ``x > threshold``, else ``0.0``: the perceptron's activation.

    glassnet's own (Keras has no step activation; a model using it cannot be
    loaded by Keras).

    >>> step(np.array([-0.5, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    return Step(threshold=threshold)(_as_float(x))


def gelu(x: ArrayLike, approximate: bool = False) -> Array:
    """``gelu(x) = x * Phi(x)``, Phi the normal CDF, as ``keras.activations.gelu``.

    ``approximate=True`` uses Keras' tanh formula.

    >>> gelu(np.array([-1.0, 0.0, 1.0]))
    array([-0.15865525,  0.        ,  0.84134475])
    """
    return GELU(approximate=check_bool(approximate, "approximate"))(_as_float(x))


def silu(x: ArrayLike) -> Array:
    """``silu(x) = x * sigmoid(x)``, as ``keras.activations.silu`` (also ``swish``).

    >>> silu(np.array([0.0, 1.0]))
    array([0.        , 0.73105858])
    """
    return SiLU()(_as_float(x))


#: Keras' second name of silu (``keras.activations.swish`` is the same function).
swish = silu

#: Each function and the class it stands for when given as an activation.
FUNCTION_CLASSES: dict[Callable[..., Array], type[ActivationFunction]] = {
    sigmoid: Sigmoid,
    tanh: Tanh,
    relu: ReLU,
    leaky_relu: LeakyReLU,
    elu: ELU,
    softplus: Softplus,
    softmax: Softmax,
    linear: Linear,
    step: Step,
    gelu: GELU,
    silu: SiLU,
}


def function_class(function: Any) -> type[ActivationFunction] | None:
    """The class a function of this module stands for, else None (compared by identity).

    >>> function_class(relu), function_class(np.tanh)
    (<class 'glassnet.activations.rectifiers.ReLU'>, None)
    """
    for candidate, cls in FUNCTION_CLASSES.items():
        if candidate is function:
            return cls
    return None
