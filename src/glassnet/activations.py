"""Activation functions: stateless objects with a forward pass and its backward pass.

``forward(x)`` returns ``y = f(x)``; ``backward(x, y, grad_y)`` returns ``dL/dx`` given
``dL/dy``. It is a vector-Jacobian product rather than an elementwise derivative, so
softmax, which mixes a row, fits the same protocol. Outputs keep the input float dtype.

>>> import numpy as np
>>> relu = get("relu")
>>> x = np.array([[-1.0, 2.0]])
>>> relu(x)
array([[0., 2.]])
>>> relu.backward(x, relu(x), np.ones_like(x))
array([[0., 1.]])
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassnet._registry import Configurable, Registry
from glassnet._special import erfc
from glassnet._typing import Array
from glassnet._validation import check_bool, check_nonnegative_float
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = [
    "ELU",
    "GELU",
    "ActivationFunction",
    "LeakyReLU",
    "Linear",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Step",
    "Tanh",
    "get",
    "registry",
    "serialize",
]

registry = Registry("activation")


class ActivationFunction(Configurable):
    """Base class of activation functions.

    Subclasses implement ``forward`` and ``backward``; constructor arguments, if any,
    are returned by ``get_config`` so ``from_config`` can rebuild an equal object.

    Examples
    --------
    >>> act = get("tanh")
    >>> act.name, act.get_config()
    ('tanh', {})
    >>> act == Tanh.from_config({})
    True
    """

    registry = registry

    def forward(self, x: Array) -> Array:
        """Return ``y = f(x)``, same shape and float dtype as ``x``."""
        raise NotImplementedError

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        """Return ``dL/dx`` given ``dL/dy``; ``y`` must be ``forward(x)``."""
        raise NotImplementedError

    def __call__(self, x: Array) -> Array:
        """``forward(x)``, with NumPy's overflow warning silenced (see below).

        ``forward`` itself opens no ``np.errstate``: exp overflowing to inf in
        sigmoid, silu or softmax is harmless (the result rounds correctly to 0), and
        entering ``np.errstate`` costs about 1 us, a tenth of a small network's
        training step when paid per layer per batch. The entry points that run
        activations (this call, ``fit``, ``predict``, ``evaluate``) silence the
        warning once instead.
        """
        with np.errstate(over="ignore"):
            return self.forward(x)


def _check_finite_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise GlassnetTypeError(
            f"Argument `{name}` must be a number. Received: {name}={value!r} "
            f"({type(value).__name__})"
        )
    if not math.isfinite(value):
        raise InvalidArgumentError(
            f"Argument `{name}` must be finite. Received: {name}={value!r}"
        )
    return float(value)


def _float_dtype(x: Array) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


@registry.register("sigmoid")
class Sigmoid(ActivationFunction):
    """Logistic sigmoid ``y = 1 / (1 + exp(-x))``, squashing into (0, 1).

    Examples
    --------
    >>> float(Sigmoid()(7.0))
    0.9990889488055994
    """

    def forward(self, x: Array) -> Array:
        # exp(-x) overflows to inf for very negative x, and 1 / (1 + inf) = 0 is the
        # correctly rounded answer: the overflow warning is noise, silenced by the
        # callers (ActivationFunction.__call__ says why not here).
        return 1 / (1 + np.exp(-x))

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = sigmoid(x)  =>  dy/dx = y (1 - y)
        #                 =>  dx = dy * y * (1 - y)
        return grad_y * y * (1 - y)


@registry.register("tanh")
class Tanh(ActivationFunction):
    """Hyperbolic tangent ``y = tanh(x)``, squashing into (-1, 1).

    Examples
    --------
    >>> Tanh()(np.array([0.0, 0.5]))
    array([0.        , 0.46211716])
    """

    def forward(self, x: Array) -> Array:
        return np.tanh(x)

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = tanh(x)  =>  dy/dx = 1 - y^2
        #              =>  dx = dy * (1 - y^2)
        return grad_y * (1 - y * y)


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


@registry.register("softmax")
class Softmax(ActivationFunction):
    """Softmax ``y_i = exp(x_i) / sum_j exp(x_j)`` along ``axis``; each row sums to 1.

    Parameters
    ----------
    axis : int, default -1
        The axis that is normalised (the class axis).

    Examples
    --------
    >>> Softmax()(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    """

    def __init__(self, axis: int = -1) -> None:
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise GlassnetTypeError(
                f"Argument `axis` must be an integer. Received: axis={axis!r} "
                f"({type(axis).__name__})"
            )
        self.axis: int = int(axis)

    def forward(self, x: Array) -> Array:
        # Subtracting the row max leaves y unchanged and keeps exp <= 1; "over" can
        # only fire when a row spans more than the float range, and then exp -> 0
        # (a harmless warning, silenced by the callers: see ActivationFunction).
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # dy_i/dx_j = y_i ([i == j] - y_j)  (the Jacobian couples the whole row)
        #   =>  dx_j = sum_i dy_i y_i ([i == j] - y_j) = y_j (dy_j - sum_i dy_i y_i)
        return y * (grad_y - (grad_y * y).sum(axis=self.axis, keepdims=True))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


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

    def forward(self, x: Array) -> Array:
        return x / (1 + np.exp(-x))  # as in Sigmoid: exp(-x) -> inf is harmless

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = x s, s = sigmoid(x), ds/dx = s (1 - s)
        #   =>  dy/dx = s + x s (1 - s) = s (1 + x (1 - s))
        with np.errstate(over="ignore"):
            s = 1 / (1 + np.exp(-x))
        return grad_y * s * (1 + x * (1 - s))


def get(
    identifier: Any, *, custom_objects: dict[str, type] | None = None
) -> ActivationFunction:
    """Resolve an activation from a name, a config dict, an instance or None.

    Parameters
    ----------
    identifier : str, dict, ActivationFunction or None
        ``None`` means linear. Names are case-insensitive (``"ReLU"`` works).
    custom_objects : dict, optional
        Extra classes a config dict may name, ``{"MyAct": MyAct}``.

    Examples
    --------
    >>> get(None)
    Linear()
    >>> get({"class_name": "LeakyReLU", "config": {"negative_slope": 0.1}})
    LeakyReLU(negative_slope=0.1)
    >>> get("rleu")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown activation 'rleu'...Did you mean 'relu'?
    """
    if identifier is None:
        return Linear()
    activation: ActivationFunction = registry.get(
        identifier, base=ActivationFunction, custom_objects=custom_objects
    )
    return activation


def serialize(activation: ActivationFunction) -> str | dict[str, Any]:
    """The plain name when ``activation`` has its default config, else a config dict.

    Examples
    --------
    >>> serialize(ReLU())
    'relu'
    >>> serialize(ELU(alpha=0.5))
    {'class_name': 'ELU', 'config': {'alpha': 0.5}}
    """
    config = activation.get_config()
    cls = type(activation)
    if cls in registry.classes() and config == cls().get_config():
        return activation.name
    return {"class_name": cls.__name__, "config": config}
