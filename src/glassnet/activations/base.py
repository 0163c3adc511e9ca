"""The activation protocol: :class:`ActivationFunction`, its registry, shared helpers.

An activation is a stateless object: ``forward(x)`` returns ``y = f(x)`` and
``backward(x, y, grad_y)`` returns ``dL/dx`` given ``dL/dy`` (a vector-Jacobian
product, so softmax fits the same protocol). Calling it runs ``forward`` with NumPy's
overflow warning silenced; :meth:`ActivationFunction.__call__` says why there and not
inside ``forward``. The activations themselves live in the sibling modules of
:mod:`glassnet.activations`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassnet._registry import Configurable, Registry
from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["ActivationFunction", "registry"]

registry = Registry("activation")


class ActivationFunction(Configurable):
    """Base class of activation functions.

    Subclasses implement ``forward`` and ``backward``; constructor arguments, if any,
    are returned by ``get_config`` so ``from_config`` can rebuild an equal object.

    Examples
    --------
    >>> from glassnet.activations import Tanh, get
    >>> act = get("tanh")
    >>> act.name, act.get_config()
    ('tanh', {})
    >>> act == Tanh.from_config({})
    True
    """

    registry = registry
    #: Whether ``forward`` can overflow harmlessly (exp(-x) -> inf in sigmoid and
    #: silu), so that ``predict`` must silence NumPy's warning around the model.
    overflows_harmlessly = False

    def forward(self, x: Array) -> Array:
        """Return ``y = f(x)``, same shape and float dtype as ``x``."""
        raise NotImplementedError

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        """Return ``dL/dx`` given ``dL/dy``; ``y`` must be ``forward(x)``."""
        raise NotImplementedError

    def check_input_rank(self, rank: int, where: str) -> None:
        """Raise a ShapeError if this function cannot take arrays of ``rank`` axes.

        Elementwise functions take any rank (this default); an activation that
        works along an axis (softmax) overrides it. Models call it when they are
        built, so an axis the inputs lack is refused then, not at ``predict``.
        """

    def __call__(self, x: Array) -> Array:
        """``forward(x)``, with NumPy's overflow warning silenced (see below).

        ``forward`` itself opens no ``np.errstate``: exp overflowing to inf in
        sigmoid or silu is harmless (the result rounds correctly), and
        entering ``np.errstate`` costs about 1 us, a tenth of a small network's
        training step when paid per layer per batch. The entry points that run
        activations (this call, ``fit``, and ``predict``/``evaluate`` for a model
        with an activation that ``overflows_harmlessly``) silence the warning once
        instead.
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
