"""Adaptive update rules: each weight's step is scaled by its own gradient history.

Adagrad divides by the root of a sum of squared gradients, RMSprop by a running
root-mean-square, Adam (and AdamW, Adam with decoupled weight decay) by a running
RMS of a bias-corrected gradient momentum.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import (
    check_bool,
    check_in_range,
    check_nonnegative_float,
    check_positive_float,
)
from glassnet.optimizers.base import Optimizer, State, _Default, registry
from glassnet.optimizers.fused import run_fused
from glassnet.optimizers.schedules import LearningRateSchedule

__all__ = ["Adagrad", "Adam", "AdamW", "RMSprop"]

_RATE = _Default(0.001)  # Keras' default, told apart from the same rate passed


@registry.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad: each weight's step shrinks with the sum of its squared gradients.

    Update rule (the accumulator starts at ``initial_accumulator_value``)::

        acc = acc + g * g                                  # state["acc"]
        w = w - learning_rate * g / sqrt(acc + epsilon)

    Parameters: ``learning_rate=0.001``, ``initial_accumulator_value=0.1`` (>= 0),
    ``epsilon=1e-7`` (> 0, inside the square root as in Keras 3); the rest as in
    :class:`Optimizer`.

    >>> import numpy as np
    >>> opt = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0)
    >>> w = np.array([1.0])
    >>> opt.apply([("w", w, np.array([3.0]))])  # acc = 9, w = 1 - 0.1 * 3 / 3
    >>> opt.apply([("w", w, np.array([4.0]))])  # acc = 25, w = 0.9 - 0.1 * 4 / 5
    >>> w.round(6)
    array([0.82])
    """

    _config_keys = ("initial_accumulator_value", "epsilon")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_nonnegative_float(
            initial_accumulator_value, "initial_accumulator_value"
        )
        self.epsilon = check_positive_float(epsilon, "epsilon")

    def _new_state(self, param: Array) -> State:
        return {
            "acc": np.full(param.shape, self.initial_accumulator_value, param.dtype)
        }

    def _update_fused(self, param: Array, grad: Array, state: State) -> bool:
        scalars = [self.epsilon, self._learning_rate]
        return run_fused("adagrad", [param, grad, state["acc"]], scalars)

    def _update(self, param: Array, grad: Array, state: State) -> None:
        # In place through one work array t (see Optimizer._scratch).
        acc, t = state["acc"], self._scratch(param)
        acc += np.multiply(grad, grad, out=t)  # acc = acc + g * g
        np.add(acc, self.epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(grad, t, out=t)
        t *= self._learning_rate
        param -= t  # w = w - learning_rate * g / sqrt(acc + epsilon)


@registry.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of past gradients.

    Update rule (``v``, ``mg`` and ``m`` start at 0)::

        v = rho * v + (1 - rho) * g * g                          # state["v"]
        mg = rho * mg + (1 - rho) * g                            # state["mg"]
        step = learning_rate * g / sqrt(v - mg * mg + epsilon)   # centered=True
        step = learning_rate * g / sqrt(v + epsilon)             # centered=False
        m = momentum * m + step; w = w - m     # state["m"]; w = w - step if momentum=0

    Parameters: ``learning_rate=0.001``, ``rho=0.9`` and ``momentum=0.0`` in [0, 1),
    ``epsilon=1e-7`` (> 0, inside the square root as in Keras 3), ``centered=False``
    (divide by the gradient's running variance); the rest as in :class:`Optimizer`.

    >>> import numpy as np
    >>> opt = RMSprop(learning_rate=0.1)
    >>> w = np.array([1.0])
    >>> opt.apply([("w", w, np.array([2.0]))])  # v = 0.4, w = 1 - 0.1 * 2 / sqrt(0.4)
    >>> w.round(6)
    array([0.683772])
    """

    _config_keys = ("rho", "momentum", "epsilon", "centered")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_in_range(rho, "rho", 0.0, 1.0)
        self.momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.centered = check_bool(centered, "centered")

    def _new_state(self, param: Array) -> State:
        names = ["v"] + ["mg"] * self.centered + ["m"] * (self.momentum > 0)
        return {name: np.zeros(param.shape, param.dtype) for name in names}

    def _update_fused(self, param: Array, grad: Array, state: State) -> bool:
        if self.centered:
            return False
        scalars = [self.rho, 1.0 - self.rho, self.epsilon, self._learning_rate]
        if not self.momentum:
            return run_fused("rmsprop", [param, grad, state["v"]], scalars)
        arrays = [param, grad, state["v"], state["m"]]
        return run_fused("rmsprop_momentum", arrays, [*scalars, self.momentum])

    def _update(self, param: Array, grad: Array, state: State) -> None:
        # In place through one work array t (see Optimizer._scratch).
        v, t = state["v"], self._scratch(param)
        v *= self.rho
        np.multiply(grad, grad, out=t)
        t *= 1.0 - self.rho
        v += t  # v = rho * v + (1 - rho) * g * g
        if self.centered:
            mg = state["mg"]
            mg *= self.rho
            mg += np.multiply(grad, 1.0 - self.rho, out=t)
            np.multiply(mg, mg, out=t)
            np.subtract(v, t, out=t)  # v - mg * mg
            t += self.epsilon
        else:
            np.add(v, self.epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(grad, t, out=t)
        t *= self._learning_rate  # step = learning_rate * g / sqrt(...)
        if self.momentum:
            m = state["m"]
            m *= self.momentum
            m += t
            t = m
        param -= t


@registry.register("adam")
class Adam(Optimizer):
    """Adam: momentum on the gradient, divided by a running RMS, bias-corrected.

    Update rule at step ``t = iterations`` (1 on the first ``apply``)::

        m = m + (g - m) * (1 - beta_1)                       # state["m"]
        v = v + (g * g - v) * (1 - beta_2)                   # state["v"]
        lr_t = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = w - lr_t * m / (sqrt(v) + epsilon)

    ``lr_t`` folds in the bias corrections ``m / (1 - beta_1**t)`` and
    ``v / (1 - beta_2**t)``; as in Keras 3, ``epsilon`` is added to the uncorrected
    ``sqrt(v)`` ("epsilon hat" in Kingma and Ba). ``amsgrad=True`` divides by
    ``sqrt(v_max)`` with ``v_max = maximum(v_max, v)`` (``state["v_max"]``) instead.

    Parameters: ``learning_rate=0.001``, ``beta_1=0.9`` and ``beta_2=0.999`` in
    [0, 1), ``epsilon=1e-7`` (> 0), ``amsgrad=False``; the rest as in
    :class:`Optimizer`. The first step moves each weight by about ``learning_rate``:

    >>> import numpy as np
    >>> opt = Adam(learning_rate=0.1)
    >>> w = np.array([1.0, 1.0])
    >>> opt.apply([("w", w, np.array([50.0, -0.5]))])
    >>> w.round(4)
    array([0.9, 1.1])
    """

    _config_keys = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_in_range(beta_1, "beta_1", 0.0, 1.0)
        self.beta_2 = check_in_range(beta_2, "beta_2", 0.0, 1.0)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.amsgrad = check_bool(amsgrad, "amsgrad")
        self._lr_t = self._learning_rate

    def _begin_step(self) -> None:
        t = self.iterations
        correction = math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        self._lr_t = self._learning_rate * correction

    def _new_state(self, param: Array) -> State:
        names = ["m", "v"] + ["v_max"] * self.amsgrad
        return {name: np.zeros(param.shape, param.dtype) for name in names}

    def _update_fused(self, param: Array, grad: Array, state: State) -> bool:
        arrays = [param, grad, state["m"], state["v"]]
        scalars = [1.0 - self.beta_1, 1.0 - self.beta_2, self.epsilon, self._lr_t]
        return not self.amsgrad and run_fused("adam", arrays, scalars)

    def _update(self, param: Array, grad: Array, state: State) -> None:
        # Twelve in-place passes through one work array t (see Optimizer._scratch);
        # the expression form would allocate eight parameter-sized temporaries.
        m, v, t = state["m"], state["v"], self._scratch(param)
        np.subtract(grad, m, out=t)
        t *= 1.0 - self.beta_1
        m += t  # m = m + (g - m) * (1 - beta_1)
        np.multiply(grad, grad, out=t)
        t -= v
        t *= 1.0 - self.beta_2
        v += t  # v = v + (g * g - v) * (1 - beta_2)
        if self.amsgrad:
            v = np.maximum(state["v_max"], v, out=state["v_max"])
        np.sqrt(v, out=t)
        t += self.epsilon
        np.divide(m, t, out=t)
        t *= self._lr_t
        param -= t  # w = w - lr_t * m / (sqrt(v) + epsilon)


@registry.register("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    Before each Adam step the weights shrink toward zero by a fixed fraction,
    independently of the gradient (Adam's state and ``lr_t`` as in :class:`Adam`)::

        w = w - learning_rate * weight_decay * w
        m = m + (g - m) * (1 - beta_1);  v = v + (g * g - v) * (1 - beta_2)
        w = w - lr_t * m / (sqrt(v) + epsilon)

    Parameters: ``learning_rate=0.001``, ``weight_decay=0.004`` (>= 0), then
    ``beta_1``, ``beta_2``, ``epsilon``, ``amsgrad`` as in :class:`Adam`.

    >>> import numpy as np
    >>> opt = AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> w = np.array([1.0])
    >>> opt.apply([("w", w, np.array([3.0]))])  # decay: 1 - 0.1 * 0.5; Adam: - 0.1
    >>> w.round(4)
    array([0.85])
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )
