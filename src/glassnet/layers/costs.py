"""What a layer reports about its cost, per sample: forward FLOPs and kept activations.

Every layer answers two questions about one sample (the protocol is in
``layers/base.py``; ``model.summary(explain=True)`` prints the answers):

- ``layer.flops(input_shape)``: the arithmetic of an *inference* forward pass. A
  multiply-add counts 2 (``x @ W`` costs ``2 x inputs x outputs``); every other
  arithmetic operation, comparison and elementary function (exp, tanh, erf, sqrt)
  counts 1. Copies and reshapes count 0, and so do layers that are the identity at
  inference (Dropout, GaussianNoise).
- ``layer.kept_activations(input_shape)``: the numbers a *training* forward pass
  creates and keeps alive until backward: the layer's output ``y`` (the next layer
  or the loss holds on to it) and whatever else its cache holds per sample (Dense:
  the pre-activation ``z``; Dropout: its mask). Its input is not counted: it is the
  previous layer's output, counted there (or the data). A view of the input, as
  Flatten and Permute return, costs nothing.

Both answers are a :class:`Cost`: the count (None when it is unknown, e.g. for an
axis of unknown length) and the formula that forms it.

>>> from glassnet.layers import Dense
>>> layer = Dense(10, activation="tanh")
>>> layer.flops((2,))
Cost(count=60, formula='2 x 2 x 10 + 10 + 10 x 1 (tanh) = 60', what='')
>>> layer.kept_activations((2,))
Cost(count=20, formula='2 x 10', what='z and y')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from glassnet.activations import ActivationFunction

__all__ = [
    "ACTIVATION_FLOPS",
    "Cost",
    "activation_flops",
    "arrays_kept",
    "elementwise_flops",
    "known_size",
    "nothing_kept",
    "unknown_length",
]

#: Forward operations per element of each activation: every arithmetic operation,
#: comparison and elementary function (exp, log, tanh, erf) counts 1.
ACTIVATION_FLOPS = {
    "linear": 0,  # y = x
    "relu": 1,  # max(x, 0)
    "step": 1,  # x > threshold
    "tanh": 1,  # tanh(x)
    "leaky_relu": 2,  # compare, a * x
    "elu": 3,  # compare, exp(x) - 1, alpha * (...)
    "softplus": 3,  # log(1 + exp(x))
    "sigmoid": 4,  # 1 / (1 + exp(-x))
    "silu": 4,  # x / (1 + exp(-x))
    "gelu": 5,  # x / 2 * (1 + erf(x / sqrt(2)))
    "gelu_approximate": 9,  # x / 2 * (1 + tanh(c * (x + k * x^3)))
    "softmax": 5,  # row max, x - max, exp, row sum, divide
}


@dataclass(frozen=True)
class Cost:
    """A count a layer reports about itself, and how it is formed.

    Attributes
    ----------
    count : int or None
        The number (operations, or numbers kept); None when it cannot be known.
    formula : str
        How the count is formed, e.g. ``"2 x 2 x 10 + 10 = 50"``.
    what : str
        What is counted, for kept activations: ``"z and y"``, ``"mask and y"``.
    """

    count: int | None
    formula: str
    what: str = ""


def _n(value: int) -> str:
    return f"{value:,}"


def known_size(shape: Any) -> int | None:
    """Numbers in one sample of ``shape``, or None if an axis length is unknown.

    >>> known_size((3, 4)), known_size((None, 4))
    (12, None)
    """
    if any(d is None for d in shape):
        return None
    return math.prod(int(d) for d in shape)


def unknown_length() -> Cost:
    """The cost of a sample whose shape has an axis of unknown length."""
    return Cost(None, "unknown (an axis of unknown length)")


def activation_flops(activation: ActivationFunction) -> int | None:
    """Operations per element of ``activation`` (None for an unknown one).

    >>> from glassnet.activations import get
    >>> activation_flops(get("sigmoid"))
    4
    """
    name = activation.name
    if name == "gelu" and activation.get_config().get("approximate"):
        name = "gelu_approximate"
    return ACTIVATION_FLOPS.get(name)


def elementwise_flops(size: int | None, per: int | None, label: str) -> Cost:
    """``size`` elements at ``per`` operations each: ``"10 x 4 (sigmoid) = 40"``.

    >>> elementwise_flops(10, 1, "tanh").formula
    '10 x 1 (tanh) = 10'
    """
    if size is None:
        return unknown_length()
    if per is None:
        return Cost(None, f"unknown for activation '{label}'")
    return Cost(size * per, f"{_n(size)} x {per} ({label}) = {_n(size * per)}")


def arrays_kept(*arrays: tuple[str, int | None]) -> Cost:
    """The numbers kept in the named arrays: ``("z", 10), ("y", 10)`` -> ``2 x 10``.

    >>> arrays_kept(("z", 10), ("y", 10))
    Cost(count=20, formula='2 x 10', what='z and y')
    >>> arrays_kept(("xhat", 8), ("y", 8), ("inv_std", 1)).formula
    '8 + 8 + 1'
    """
    names = [name for name, _ in arrays]
    what = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    sizes = [size for _, size in arrays]
    if any(size is None for size in sizes):
        return Cost(None, "unknown (an axis of unknown length)", what)
    known = [int(size) for size in sizes if size is not None]
    if len(set(known)) == 1:
        formula = _n(known[0]) if len(known) == 1 else f"{len(known)} x {_n(known[0])}"
    else:
        formula = " + ".join(_n(size) for size in known)
    return Cost(sum(known), formula, what)


def nothing_kept(why: str) -> Cost:
    """A forward pass that keeps no new array (``why`` says so, e.g. a view)."""
    return Cost(0, "0", f"nothing ({why})")
