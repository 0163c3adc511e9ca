"""Stochastic gradient descent, plain or with (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_bool, check_in_range
from glassnet.optimizers.base import Optimizer, State, _Default, registry
from glassnet.optimizers.fused import run_fused
from glassnet.optimizers.schedules import LearningRateSchedule

__all__ = ["SGD"]

_RATE = _Default(0.01)  # Keras' default, told apart from the same rate passed


@registry.register("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Update rule for a weight ``w`` with gradient ``g`` (velocity ``v`` starts at 0)::

        w = w - learning_rate * g                     # momentum == 0
        v = momentum * v - learning_rate * g          # state["v"], momentum > 0
        w = w + v                                     # nesterov=False
        w = w + momentum * v - learning_rate * g      # nesterov=True

    Parameters: ``learning_rate=0.01``, ``momentum=0.0`` in [0, 1), ``nesterov=False``
    (look ahead along the velocity); the rest as in :class:`Optimizer`.

    >>> import numpy as np
    >>> opt = SGD(learning_rate=0.1, momentum=0.9)
    >>> w = np.array([1.0])
    >>> for _ in range(2):
    ...     opt.apply([("w", w, np.array([2.0]))])
    >>> w  # v = -0.2, w = 0.8; then v = 0.9 * -0.2 - 0.2 = -0.38, w = 0.42
    array([0.42])
    """

    _config_keys = ("momentum", "nesterov")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = _RATE,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
        self.nesterov = check_bool(nesterov, "nesterov")

    def _new_state(self, param: Array) -> State:
        return {"v": np.zeros(param.shape, param.dtype)} if self.momentum else {}

    def _update_fused(self, param: Array, grad: Array, state: State) -> bool:
        if not self.momentum:  # two NumPy passes, but one call for a tiny model
            return run_fused("sgd", [param, grad], [self._learning_rate])
        kernel = "sgd_nesterov" if self.nesterov else "sgd_momentum"
        scalars = [self._learning_rate, self.momentum]
        return run_fused(kernel, [param, grad, state["v"]], scalars)

    def _update(self, param: Array, grad: Array, state: State) -> None:
        step = np.multiply(grad, self._learning_rate, out=self._scratch(param))
        if not self.momentum:
            param -= step  # w = w - learning_rate * g
            return
        v = state["v"]
        v *= self.momentum
        v -= step  # v = momentum * v - learning_rate * g
        if self.nesterov:
            param += self.momentum * v - step
        else:
            param += v
