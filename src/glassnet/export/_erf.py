"""``erfc`` from elementary ONNX ops, for float64 graphs.

ONNX has an ``Erf`` op, but ONNX Runtime implements it (and ``Gelu``) for float32
only. A float64 graph therefore spells out the same algorithm glassnet's NumPy code
runs (:mod:`glassnet._special`, W. J. Cody's rational approximations), with the same
coefficients and the same order of operations, so the exported exact GELU agrees with
``model.predict`` to a few float64 ulps. Every branch is computed for every element
and ``Where`` keeps the right one; the inputs of each branch are clamped into its
range first, so the discarded branches never produce inf or NaN.
"""

from __future__ import annotations

import numpy as np

from glassnet._special import _A, _B, _C, _D, _INV_SQRT_PI, _P, _Q, _THRESHOLD, _X_MAX
from glassnet._typing import Array
from glassnet.export._graph import GraphBuilder

__all__ = ["erfc"]


def _polyval(g: GraphBuilder, coeffs: Array, x: str, scope: str, tag: str) -> str:
    """Horner's rule, highest power first, as ``numpy.polyval`` evaluates it."""
    p = g.constant(coeffs[0], f"{scope}/{tag}0")
    for i, c in enumerate(coeffs[1:], start=1):
        p = g.node("Mul", [p, x], scope=scope)
        p = g.node("Add", [p, g.constant(c, f"{scope}/{tag}{i}")], scope=scope)
    return p


def erfc(g: GraphBuilder, z: str, scope: str) -> str:
    """Append nodes computing ``erfc(z)``; returns the result's tensor name."""
    scope = f"{scope}/erfc"

    def op(op_type: str, *inputs: str) -> str:
        return g.node(op_type, list(inputs), scope=scope)

    def const(value: float, name: str) -> str:
        return g.constant(np.float64(value), f"{scope}/{name}")

    abs_z = op("Abs", z)
    threshold = const(_THRESHOLD, "threshold")
    one = const(1.0, "one")

    # |z| <= 0.46875:  erfc(z) = 1 - z A(z^2) / B(z^2)
    t = op("Mul", z, z)
    ratio_ab = op(
        "Div",
        op("Mul", z, _polyval(g, _A, t, scope, "A")),
        _polyval(g, _B, t, scope, "B"),
    )
    small = op("Sub", one, ratio_ab)

    # |z| > 0.46875:  erfc(y) for y = |z|, then erfc(-y) = 2 - erfc(y)
    y = op("Min", op("Max", abs_z, threshold), const(_X_MAX, "x_max"))
    four = const(4.0, "four")
    # y <= 4:  C(y) / D(y)
    mid = op("Div", _polyval(g, _C, y, scope, "C"), _polyval(g, _D, y, scope, "D"))
    # y > 4:  (1/sqrt(pi) - t P(t) / Q(t)) / y  with t = 1 / y^2
    y_far = op("Max", y, four)
    t_far = op("Div", one, op("Mul", y_far, y_far))
    ratio_pq = op(
        "Div",
        op("Mul", t_far, _polyval(g, _P, t_far, scope, "P")),
        _polyval(g, _Q, t_far, scope, "Q"),
    )
    far = op("Div", op("Sub", const(_INV_SQRT_PI, "inv_sqrt_pi"), ratio_pq), y_far)
    ratio = op("Where", op("LessOrEqual", y, four), mid, far)
    # exp(-y^2) = exp(-r^2) exp(-(y - r)(y + r)), r = y rounded down to 1/16ths:
    # r^2 is exact, so the large exponent carries no rounding error.
    sixteen = const(16.0, "sixteen")
    r = op("Div", op("Floor", op("Mul", y, sixteen)), sixteen)
    exp_r = op("Exp", op("Neg", op("Mul", r, r)))
    exp_rest = op("Exp", op("Neg", op("Mul", op("Sub", y, r), op("Add", y, r))))
    tail = op("Mul", op("Mul", exp_r, exp_rest), ratio)
    negative = op("Less", z, const(0.0, "zero"))
    large = op("Where", negative, op("Sub", const(2.0, "two"), tail), tail)

    is_small = op("LessOrEqual", abs_z, threshold)
    return op("Where", is_small, small, large)
