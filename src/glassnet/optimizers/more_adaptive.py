"""More of Keras 3's update rules: Adamax, Nadam, Adadelta, Ftrl and Lion.

Each follows Keras 3's formula, defaults and variables (kept under glassnet's
short slot names, listed with each class); like the rules in
:mod:`~glassnet.optimizers.adaptive` they update in place through the work arrays
of :meth:`~glassnet.optimizers.Optimizer._scratch`, and take every argument of
:class:`~glassnet.optimizers.Optimizer` (a schedule, clipping, ``use_ema``, ...).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import (
    check_in_range,
    check_nonnegative_float,
    check_positive_float,
)
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.optimizers.base import Optimizer, State, _Default, registry
from glassnet.optimizers.schedules import LearningRateSchedule

__all__ = ["Adadelta", "Adamax", "Ftrl", "Lion", "Nadam"]

_RATE = _Default(0.001)  # Keras' default, told apart from the same rate passed


def _nonpositive(value: Any) -> float:
    """Ftrl's ``learning_rate_power``: a finite number <= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise GlassnetTypeError(
            "Argument `learning_rate_power` must be a number <= 0. "
            f"Received: learning_rate_power={value!r}"
        )
    number = float(value)
    if not math.isfinite(number) or number > 0:
        raise InvalidArgumentError(
            "Argument `learning_rate_power` must be a finite number <= 0 (the "
            f"accumulator's power is its negative). Received: learning_rate_power={value!r}"
        )
    return number


def _zeros(param: Array, *names: str) -> State:
    return {name: np.zeros(param.shape, param.dtype) for name in names}


@registry.register("adamax")
class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm of past gradients in place of their RMS.

    Update rule at step ``t = iterations`` (1 on the first update)::

        m = m + (g - m) * (1 - beta_1)                   # state["m"]  (Keras: momentum)
        u = maximum(beta_2 * u, abs(g))                  # state["u"]  (Keras: norm)
        w = w - learning_rate * m / ((1 - beta_1**t) * (u + epsilon))

    Parameters: ``learning_rate=0.001``, ``beta_1=0.9`` and ``beta_2=0.999`` in
    [0, 1), ``epsilon=1e-7`` (> 0); the rest as in :class:`Optimizer`.

    >>> opt, w = Adamax(learning_rate=0.1), np.array([1.0])
    >>> opt.apply([("w", w, np.array([2.0]))])  # m = 0.2, u = 2: w = 1 - 0.1 * 0.2 / 0.2
    >>> w.round(6)
    array([0.9])
    """

    _config_keys = ("beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_in_range(beta_1, "beta_1", 0.0, 1.0)
        self.beta_2 = check_in_range(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self._lr_t = 0.0

    def _begin_step(self) -> None:
        self._lr_t = self._learning_rate / (1.0 - self.beta_1**self.iterations)

    def _new_state(self, param: Array) -> State:
        return _zeros(param, "m", "u")

    def _update(self, param: Array, grad: Array, state: State) -> None:
        m, u, t = state["m"], state["u"], self._scratch(param)
        np.subtract(grad, m, out=t)
        t *= 1.0 - self.beta_1
        m += t  # m = m + (g - m) * (1 - beta_1)
        u *= self.beta_2
        np.maximum(u, np.abs(grad, out=t), out=u)  # u = max(beta_2 * u, |g|)
        np.add(u, self.epsilon, out=t)
        np.divide(m, t, out=t)
        t *= self._lr_t
        param -= t  # w = w - lr / (1 - beta_1**t) * m / (u + epsilon)


@registry.register("nadam")
class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Dozat, 2016), as Keras 3 schedules it.

    Update rule at step ``t = iterations``, with the momentum schedule
    ``mu(s) = beta_1 * (1 - 0.5 * 0.96**s)`` and ``P = mu(1) * ... * mu(t)``
    (Keras' ``u_product``, kept as ``optimizer.u_product``)::

        m = m + (g - m) * (1 - beta_1)                             # state["m"]
        v = v + (g * g - v) * (1 - beta_2)                         # state["v"]
        m_hat = mu(t + 1) * m / (1 - P * mu(t + 1)) + (1 - mu(t)) * g / (1 - P)
        w = w - learning_rate * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)

    Parameters: ``learning_rate=0.001``, ``beta_1=0.9`` and ``beta_2=0.999`` in
    [0, 1), ``epsilon=1e-7`` (> 0); the rest as in :class:`Optimizer`.

    >>> opt, w = Nadam(learning_rate=0.1), np.array([1.0])
    >>> opt.apply([("w", w, np.array([2.0]))])
    >>> w.round(4)  # m_hat = 0.628 * 0.2 + 1.0 * 2, sqrt(v_hat) = 2: w = 1 - 0.1063
    array([0.8937])
    """

    _config_keys = ("beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_in_range(beta_1, "beta_1", 0.0, 1.0)
        self.beta_2 = check_in_range(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.u_product = 1.0
        self._coefficients = (0.0, 0.0, 1.0)

    def _begin_step(self) -> None:
        t, beta_1 = self.iterations, self.beta_1
        mu = beta_1 * (1.0 - 0.5 * 0.96**t)
        mu_next = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        self.u_product *= mu
        coef_m = mu_next / (1.0 - self.u_product * mu_next)
        coef_g = (1.0 - mu) / (1.0 - self.u_product)
        self._coefficients = (coef_m / coef_g, coef_g, 1.0 - self.beta_2**t)

    def _new_state(self, param: Array) -> State:
        return _zeros(param, "m", "v")

    def _update(self, param: Array, grad: Array, state: State) -> None:
        m, v = state["m"], state["v"]
        t, s = self._scratch(param), self._scratch2(param)
        ratio, coef_g, v_correction = self._coefficients
        np.subtract(grad, m, out=t)
        t *= 1.0 - self.beta_1
        m += t  # m = m + (g - m) * (1 - beta_1)
        np.multiply(grad, grad, out=t)
        t -= v
        t *= 1.0 - self.beta_2
        v += t  # v = v + (g * g - v) * (1 - beta_2)
        np.divide(v, v_correction, out=t)
        np.sqrt(t, out=t)
        t += self.epsilon  # sqrt(v_hat) + epsilon
        # m_hat = coef_m * m + coef_g * g, computed as coef_g * (ratio * m + g)
        np.multiply(m, ratio, out=s)
        s += grad
        s *= coef_g * self._learning_rate
        s /= t
        param -= s

    def reset(self) -> None:
        """Forget all state, the momentum product too, and set ``iterations`` to 0."""
        super().reset()
        self.u_product = 1.0

    def _scalars(self) -> dict[str, float]:
        return {"u_product": self.u_product}

    def _set_scalars(self, values: dict[str, float]) -> None:
        self.u_product = float(values["u_product"])


@registry.register("adadelta")
class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS of updates and gradients.

    Update rule (``rms(a) = sqrt(a + epsilon)``; both accumulators start at 0)::

        acc_grad = rho * acc_grad + (1 - rho) * g * g         # state["acc_grad"]
        delta = rms(acc_delta) / rms(acc_grad) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta  # state["acc_delta"]
        w = w - learning_rate * delta

    Parameters: ``learning_rate=0.001`` (Keras' default; the paper, and PyTorch,
    use 1.0), ``rho=0.95`` in [0, 1), ``epsilon=1e-7`` (> 0); the rest as in
    :class:`Optimizer`.

    >>> opt, w = Adadelta(learning_rate=1.0, rho=0.5, epsilon=1e-4), np.array([1.0])
    >>> opt.apply([("w", w, np.array([1.0]))])  # delta = sqrt(1e-4) / sqrt(0.5001)
    >>> w.round(6)
    array([0.985859])
    """

    _config_keys = ("rho", "epsilon")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_in_range(rho, "rho", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon")

    def _new_state(self, param: Array) -> State:
        return _zeros(param, "acc_grad", "acc_delta")

    def _update(self, param: Array, grad: Array, state: State) -> None:
        acc_grad, acc_delta = state["acc_grad"], state["acc_delta"]
        t, s = self._scratch(param), self._scratch2(param)
        acc_grad *= self.rho
        np.multiply(grad, grad, out=t)
        t *= 1.0 - self.rho
        acc_grad += t  # acc_grad = rho * acc_grad + (1 - rho) * g * g
        np.add(acc_delta, self.epsilon, out=t)
        np.sqrt(t, out=t)
        t *= grad
        np.add(acc_grad, self.epsilon, out=s)
        np.sqrt(s, out=s)
        t /= s  # delta = rms(acc_delta) / rms(acc_grad) * g
        acc_delta *= self.rho
        np.multiply(t, t, out=s)
        s *= 1.0 - self.rho
        acc_delta += s  # acc_delta = rho * acc_delta + (1 - rho) * delta * delta
        t *= self._learning_rate
        param -= t  # w = w - learning_rate * delta


@registry.register("ftrl")
class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al., 2013): per-weight rates with L1 and L2 terms.

    With ``p = -learning_rate_power`` (0.5 by default), ``lr = learning_rate`` and
    ``l2 = l2_regularization_strength + beta / (2 * lr)``::

        new_acc = acc + g * g                                  # state["acc"]
        linear = linear + g + 2 * l2_shrinkage_regularization_strength * w
                        - (new_acc**p - acc**p) / lr * w       # state["linear"]
        w = (clip(linear, -l1, l1) - linear) / (new_acc**p / lr + 2 * l2)
        acc = new_acc

    (``l1 = l1_regularization_strength``: weights whose ``|linear| <= l1`` become
    exactly 0.) Parameters: ``learning_rate=0.001``, ``learning_rate_power=-0.5``
    (<= 0), ``initial_accumulator_value=0.1``, the three strengths ``0.0`` and
    ``beta=0.0`` (all >= 0); the rest as in :class:`Optimizer`. The rule divides by
    the learning rate, so a schedule must keep it > 0.

    >>> opt, w = Ftrl(learning_rate=0.5, initial_accumulator_value=0.0), np.array([0.0])
    >>> opt.apply([("w", w, np.array([2.0]))])  # linear = 2, w = -2 / (2 / 0.5)
    >>> w
    array([-0.5])
    """

    _config_keys = (
        "learning_rate_power",
        "initial_accumulator_value",
        "l1_regularization_strength",
        "l2_regularization_strength",
        "l2_shrinkage_regularization_strength",
        "beta",
    )
    _rate_must_be_positive = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.learning_rate_power = _nonpositive(learning_rate_power)
        self.initial_accumulator_value = check_nonnegative_float(
            initial_accumulator_value, "initial_accumulator_value"
        )
        self.l1_regularization_strength = check_nonnegative_float(
            l1_regularization_strength, "l1_regularization_strength"
        )
        self.l2_regularization_strength = check_nonnegative_float(
            l2_regularization_strength, "l2_regularization_strength"
        )
        self.l2_shrinkage_regularization_strength = check_nonnegative_float(
            l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength"
        )
        self.beta = check_nonnegative_float(beta, "beta")

    def _new_state(self, param: Array) -> State:
        acc = np.full(param.shape, self.initial_accumulator_value, param.dtype)
        return {"acc": acc, "linear": np.zeros(param.shape, param.dtype)}

    def _update(self, param: Array, grad: Array, state: State) -> None:
        acc, linear = state["acc"], state["linear"]
        t, s = self._scratch(param), self._scratch2(param)
        lr, p = self._learning_rate, -self.learning_rate_power
        np.power(acc, p, out=t)  # acc**p, before the update
        acc += np.multiply(grad, grad, out=s)  # new_acc = acc + g * g
        np.power(acc, p, out=s)  # new_acc**p
        np.subtract(s, t, out=t)
        t /= lr
        t *= param
        linear -= t  # - (new_acc**p - acc**p) / lr * w
        linear += grad
        if self.l2_shrinkage_regularization_strength:
            np.multiply(param, 2.0 * self.l2_shrinkage_regularization_strength, out=t)
            linear += t  # + 2 * l2_shrinkage * w
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        s /= lr
        s += 2.0 * l2  # quadratic = new_acc**p / lr + 2 * l2
        l1 = self.l1_regularization_strength
        np.clip(linear, -l1, l1, out=t)
        t -= linear
        np.divide(t, s, out=param)  # w = (clip(linear, -l1, l1) - linear) / quadratic


@registry.register("lion")
class Lion(Optimizer):
    """Lion (Chen et al., 2023): the sign of an interpolated momentum, a fixed size.

    Update rule (``m`` starts at 0)::

        w = w - learning_rate * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g                      # state["m"]

    Every weight moves by exactly ``learning_rate`` (or not at all), so Lion wants
    a rate 3-10 times smaller than Adam's. Parameters: ``learning_rate=0.001``,
    ``beta_1=0.9`` in (0, 1], ``beta_2=0.99`` in [0, 1); the rest as in
    :class:`Optimizer`.

    >>> opt, w = Lion(learning_rate=0.1), np.array([1.0, 1.0])
    >>> opt.apply([("w", w, np.array([3.0, -0.01]))])
    >>> w
    array([0.9, 1.1])
    """

    _config_keys = ("beta_1", "beta_2")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        # Keras' range; beta_1 = 0 would make Lion signSGD.
        self.beta_1 = check_in_range(
            beta_1, "beta_1", 0.0, 1.0, low_inclusive=False, high_inclusive=True
        )
        self.beta_2 = check_in_range(beta_2, "beta_2", 0.0, 1.0)

    def _new_state(self, param: Array) -> State:
        return _zeros(param, "m")

    def _update(self, param: Array, grad: Array, state: State) -> None:
        m, t = state["m"], self._scratch(param)
        np.subtract(grad, m, out=t)
        t *= 1.0 - self.beta_1
        t += m  # beta_1 * m + (1 - beta_1) * g
        np.sign(t, out=t)
        t *= self._learning_rate
        param -= t  # w = w - learning_rate * sign(...)
        np.subtract(grad, m, out=t)
        t *= 1.0 - self.beta_2
        m += t  # m = beta_2 * m + (1 - beta_2) * g
