"""The error function in plain NumPy (NumPy has none, and glassnet does not need SciPy).

``erf`` and ``erfc`` follow W. J. Cody, "Rational Chebyshev approximations for the
error function", Mathematics of Computation 23 (1969), as in his SPECFUN routine
CALERF. Three rational approximations cover the real line:

- ``|x| <= 0.46875``: ``erf(x) = x * A(x**2) / B(x**2)``
- ``0.46875 < |x| <= 4``: ``erfc(|x|) = exp(-x**2) * C(|x|) / D(|x|)``
- ``|x| > 4``: ``erfc(|x|) = exp(-x**2) / |x| * (1/sqrt(pi) - t * P(t) / Q(t))``,
  ``t = 1 / x**2``

The relative error is below about 2e-16 in float64. Computing ``erfc`` directly
(rather than ``1 - erf``) keeps it accurate in the far tail, which the exact GELU uses
for large negative inputs. Both functions compute in float64 and return float64.

>>> import math
>>> float(erf(0.5)) == math.erf(0.5)
True
>>> float(erfc(5.0))
1.5374597944280...e-12
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from glassnet._typing import Array

__all__ = ["erf", "erfc"]

_THRESHOLD = 0.46875
_INV_SQRT_PI = 5.6418958354775628695e-1
# erfc(30) = 2.6e-393 underflows to 0.0; clipping |x| there keeps x**2 finite.
_X_MAX = 30.0

# Cody's coefficients, highest power first (the order np.polyval expects).
_A = np.array(
    [
        1.85777706184603153e-1,
        3.16112374387056560e00,
        1.13864154151050156e02,
        3.77485237685302021e02,
        3.20937758913846947e03,
    ]
)
_B = np.array(
    [
        1.0,
        2.36012909523441209e01,
        2.44024637934444173e02,
        1.28261652607737228e03,
        2.84423683343917062e03,
    ]
)
_C = np.array(
    [
        2.15311535474403846e-8,
        5.64188496988670089e-1,
        8.88314979438837594e00,
        6.61191906371416295e01,
        2.98635138197400131e02,
        8.81952221241769090e02,
        1.71204761263407058e03,
        2.05107837782607147e03,
        1.23033935479799725e03,
    ]
)
_D = np.array(
    [
        1.0,
        1.57449261107098347e01,
        1.17693950891312499e02,
        5.37181101862009858e02,
        1.62138957456669019e03,
        3.29079923573345963e03,
        4.36261909014324716e03,
        3.43936767414372164e03,
        1.23033935480374942e03,
    ]
)
_P = np.array(
    [
        1.63153871373020978e-2,
        3.05326634961232344e-1,
        3.60344899949804439e-1,
        1.25781726111229246e-1,
        1.60837851487422766e-2,
        6.58749161529837803e-4,
    ]
)
_Q = np.array(
    [
        1.0,
        2.56852019228982242e00,
        1.87295284992346047e00,
        5.27905102951428412e-1,
        6.05183413124413191e-2,
        2.33520497626869185e-3,
    ]
)


def _erf_small(x: Array) -> Array:
    """erf(x) for |x| <= 0.46875."""
    t = x * x
    return x * np.polyval(_A, t) / np.polyval(_B, t)


def _erfc_large(y: Array) -> Array:
    """erfc(y) for y > 0.46875."""
    y = np.minimum(y, _X_MAX)
    ratio = np.empty_like(y)
    mid = y <= 4.0
    y_mid = y[mid]
    ratio[mid] = np.polyval(_C, y_mid) / np.polyval(_D, y_mid)
    y_far = y[~mid]
    t = 1.0 / (y_far * y_far)
    ratio[~mid] = (_INV_SQRT_PI - t * np.polyval(_P, t) / np.polyval(_Q, t)) / y_far
    # exp(-y**2) = exp(-r**2) * exp(-(y - r) * (y + r)) with r = y rounded down to a
    # multiple of 1/16: r**2 is exact, so the large exponent carries no rounding error.
    r = np.floor(y * 16.0) / 16.0
    return np.exp(-r * r) * np.exp(-(y - r) * (y + r)) * ratio


def erf(x: npt.ArrayLike) -> Array:
    """The error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t**2) dt``.

    Parameters
    ----------
    x : array_like
        Real input (computed in float64).

    Returns
    -------
    ndarray
        float64 array of ``x``'s shape.

    Examples
    --------
    >>> erf([0.0, 1.0, -3.0])
    array([ 0.        ,  0.84270079, -0.99997791])
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = np.abs(x) <= _THRESHOLD
    out[small] = _erf_small(x[small])
    large = ~small
    out[large] = np.copysign(1.0 - _erfc_large(np.abs(x[large])), x[large])
    return out


def erfc(x: npt.ArrayLike) -> Array:
    """The complementary error function ``erfc(x) = 1 - erf(x)``, accurate in the tail.

    Parameters
    ----------
    x : array_like
        Real input (computed in float64).

    Returns
    -------
    ndarray
        float64 array of ``x``'s shape.

    Examples
    --------
    >>> erfc([0.0, 1.0, -1.0])
    array([1.        , 0.15729921, 1.84270079])
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = np.abs(x) <= _THRESHOLD
    out[small] = 1.0 - _erf_small(x[small])
    large = ~small
    tail = _erfc_large(np.abs(x[large]))
    out[large] = np.where(x[large] < 0.0, 2.0 - tail, tail)
    return out
