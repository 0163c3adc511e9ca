"""ONNX translations of glassnet's activation functions.

Each converter appends the nodes computing ``y = f(x)`` and returns the name of ``y``.
float32 graphs use the standard ONNX op (``LeakyRelu``, ``Elu``, ``Softplus``, ``Erf``
or, from opset 20, ``Gelu``). float64 graphs spell some of them out in elementary ops,
because ONNX Runtime has no float64 kernel for ``Elu``, ``Softplus``, ``Erf`` and
``Gelu``, and ONNX attributes such as ``LeakyRelu``'s ``alpha`` are float32 (``0.2``
would become ``0.2000000029``).

Converters are looked up by the activation's exact class: a user subclass may compute
something else, so it gets an :class:`~glassnet.export.ExportError` rather than its
parent's translation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import activations as act
from glassnet.activations import ActivationFunction
from glassnet.export._erf import erfc
from glassnet.export._errors import ExportError
from glassnet.export._graph import GraphBuilder

__all__ = ["CONVERTERS", "GELU_OPSET", "export_activation"]

#: The first opset with a ``Gelu`` op.
GELU_OPSET = 20

#: ``(graph, activation, x, scope, rank) -> y``; rank counts the batch axis.
Converter = Callable[[GraphBuilder, Any, str, str, int], str]


class _Ops:
    """Shorthands that add nodes and constants under one scope."""

    def __init__(self, g: GraphBuilder, scope: str) -> None:
        self.g, self.scope = g, scope

    def __call__(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        return self.g.node(op_type, list(inputs), scope=self.scope, **attributes)

    def const(self, value: float, name: str) -> str:
        return self.g.constant(value, f"{self.scope}/{name}")


def _unary(op_type: str) -> Converter:
    def convert(g: GraphBuilder, a: Any, x: str, scope: str, rank: int) -> str:
        return g.node(op_type, [x], scope=scope)

    return convert


def _expm1_nonpositive(op: _Ops, x: str) -> str:
    """``exp(x) - 1`` for ``x <= 0`` as ``2t / (1 - t)``, ``t = tanh(x / 2)``.

    ``exp(x) - 1`` loses all relative precision near 0; this identity keeps it (t is
    accurate and ``1 - t`` lies in [1, 2), so nothing cancels) and tends to -1
    exactly as x -> -inf.
    """
    t = op("Tanh", op("Mul", x, op.const(0.5, "half")))
    return op("Div", op("Add", t, t), op("Sub", op.const(1.0, "one"), t))


def _log1p_unit(op: _Ops, e: str) -> str:
    """``log(1 + e)`` for ``0 <= e <= 1`` to full relative precision.

    Kahan's trick: with ``u = 1 + e`` (rounded), ``log(u) * e / (u - 1)`` cancels the
    rounding error of u; where u rounds to 1, ``log1p(e) = e`` to working precision.
    """
    one = op.const(1.0, "one")
    u = op("Add", one, e)
    u_minus_1 = op("Sub", u, one)
    # Where u == 1 the discarded branch is 0/0 = NaN; Where drops it elementwise.
    kahan = op("Div", op("Mul", op("Log", u), e), u_minus_1)
    return op("Where", op("Equal", u, one), e, kahan)


def _leaky_relu(
    g: GraphBuilder, a: act.LeakyReLU, x: str, scope: str, rank: int
) -> str:
    if g.dtype != np.float64:
        return g.node("LeakyRelu", [x], scope=scope, alpha=a.negative_slope)
    op = _Ops(g, scope)
    # y = x if x >= 0 else slope * x
    slope_x = op("Mul", x, op.const(a.negative_slope, "negative_slope"))
    return op("Where", op("GreaterOrEqual", x, op.const(0.0, "zero")), x, slope_x)


def _elu(g: GraphBuilder, a: act.ELU, x: str, scope: str, rank: int) -> str:
    if g.dtype != np.float64:
        return g.node("Elu", [x], scope=scope, alpha=a.alpha)
    op = _Ops(g, scope)
    # y = x if x > 0 else alpha * expm1(min(x, 0))
    zero = op.const(0.0, "zero")
    negative = op(
        "Mul", op.const(a.alpha, "alpha"), _expm1_nonpositive(op, op("Min", x, zero))
    )
    return op("Where", op("Greater", x, zero), x, negative)


def _softplus(g: GraphBuilder, a: act.Softplus, x: str, scope: str, rank: int) -> str:
    if g.dtype != np.float64:
        return g.node("Softplus", [x], scope=scope)
    op = _Ops(g, scope)
    # y = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), which never overflows
    e = op("Exp", op("Neg", op("Abs", x)))
    return op("Add", op("Relu", x), _log1p_unit(op, e))


def _softmax(g: GraphBuilder, a: act.Softmax, x: str, scope: str, rank: int) -> str:
    if not -rank <= a.axis < rank:
        raise ExportError(
            f"Softmax axis {a.axis} does not exist in this layer's {rank}-D input "
            f"(batch axis included). Received: axis={a.axis} in layer '{scope}'."
        )
    if a.axis % rank == 0:
        raise ExportError(
            f"Softmax over axis {a.axis}, the batch axis, mixes the samples of a batch, "
            "so its result depends on how predict() splits the data; it cannot be "
            f"exported. Use axis=-1 (the features). Received: axis={a.axis} in layer "
            f"'{scope}'."
        )
    return g.node("Softmax", [x], scope=scope, axis=a.axis)


def _step(g: GraphBuilder, a: act.Step, x: str, scope: str, rank: int) -> str:
    op = _Ops(g, scope)
    # y = 1.0 if x > threshold else 0.0; the threshold has the graph's float type,
    # as when NumPy compares a float32 array with a Python float.
    above = op("Greater", x, op.const(a.threshold, "threshold"))
    return op("Cast", above, to=g.dtype)


def _gelu(g: GraphBuilder, a: act.GELU, x: str, scope: str, rank: int) -> str:
    op = _Ops(g, scope)
    float32 = g.dtype != np.float64
    if float32 and g.opset >= GELU_OPSET:
        return op("Gelu", x, approximate="tanh" if a.approximate else "none")
    half = op.const(0.5, "half")
    if float32 and not a.approximate:
        # y = x (1 + erf(x / sqrt(2))) * 0.5, in the order PyTorch exports it, which
        # ONNX Runtime's optimizer fuses into a single Gelu kernel
        erf = op("Erf", op("Div", x, op.const(math.sqrt(2.0), "sqrt_2")))
        return op("Mul", op("Mul", x, op("Add", erf, op.const(1.0, "one"))), half)
    half_x = op("Mul", x, half)
    if a.approximate:
        # y = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = op("Mul", op("Mul", x, x), x)
        inner = op("Add", x, op("Mul", op.const(0.044715, "cubic"), cube))
        sqrt_2_over_pi = op.const(math.sqrt(2.0 / math.pi), "sqrt_2_over_pi")
        t = op("Tanh", op("Mul", sqrt_2_over_pi, inner))
        return op("Mul", half_x, op("Add", op.const(1.0, "one"), t))
    # y = x/2 erfc(-x / sqrt(2)), accurate in the left tail where 1 + erf cancels
    z = op("Mul", x, op.const(-math.sqrt(0.5), "minus_sqrt_half"))
    return op("Mul", half_x, erfc(g, z, scope))


def _silu(g: GraphBuilder, a: act.SiLU, x: str, scope: str, rank: int) -> str:
    # y = x * sigmoid(x)
    return g.node("Mul", [x, g.node("Sigmoid", [x], scope=scope)], scope=scope)


CONVERTERS: dict[type[ActivationFunction], Converter] = {
    act.Sigmoid: _unary("Sigmoid"),
    act.Tanh: _unary("Tanh"),
    act.ReLU: _unary("Relu"),
    act.LeakyReLU: _leaky_relu,
    act.ELU: _elu,
    act.Softplus: _softplus,
    act.Softmax: _softmax,
    act.Linear: _unary("Identity"),
    act.Step: _step,
    act.GELU: _gelu,
    act.SiLU: _silu,
}


def export_activation(
    g: GraphBuilder, activation: ActivationFunction, x: str, *, scope: str, rank: int
) -> str:
    """Append ``activation(x)`` to the graph; returns the output tensor's name."""
    convert = CONVERTERS.get(type(activation))
    if convert is None:
        known = ", ".join(sorted(act.registry.name_of(cls) for cls in CONVERTERS))
        raise ExportError(
            f"Layer '{scope}' uses the activation {type(activation).__name__}, which "
            f"has no ONNX translation. glassnet.export supports the built-in "
            f"activations: {known} (subclasses are refused because they may compute "
            "something else). Received: "
            f"activation={activation!r}"
        )
    return convert(g, activation, x, scope, rank)
