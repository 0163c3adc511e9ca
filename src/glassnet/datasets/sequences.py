"""Generated sequences of sine waves: to classify by frequency, or to forecast.

Sequences are batch-major, ``(n_samples, steps, n_features)``, the layout the
recurrent layers take. Every random number comes from
``numpy.random.default_rng(seed)`` (or the ``Generator`` passed as ``seed``), so
the same seed gives the same data.

>>> x, y = sine_classification(100, steps=30, n_classes=4, seed=0)
>>> x.shape, y.shape, np.bincount(y).tolist()
((100, 30, 1), (100,), [25, 25, 25, 25])
>>> x, y = sine_forecasting(8, steps=20, horizon=3, seed=0)
>>> x.shape, y.shape
((8, 20, 1), (8, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._validation import check_nonnegative_float, check_positive_int
from glassnet.datasets._common import Dataset, generator, shuffled, split_counts
from glassnet.errors import InvalidArgumentError

__all__ = ["sine_classification", "sine_forecasting"]


def sine_classification(
    n_samples: int = 1000,
    steps: int = 50,
    n_features: int = 1,
    n_classes: int = 10,
    noise: float = 0.1,
    seed: Any = None,
) -> Dataset:
    """Noisy sine waves, one class per band of frequencies.

    Class ``k`` of ``K`` makes between ``1 + k w`` and ``1 + (k + 1) w`` cycles over
    the ``steps`` (uniformly drawn), with ``w = (steps / 4 - 1) / K``: the slowest
    class one cycle, the fastest a quarter of the Nyquist limit (four samples a
    cycle), the bands side by side. Every feature (channel) of a sequence has
    the sequence's frequency, and its own phase (uniform in ``[0, 2 pi)``) and
    amplitude (uniform in ``[0.5, 1.5]``); then Gaussian noise of standard
    deviation ``noise`` is added to every value. Telling the classes apart means
    measuring the frequency whatever the phase, which is what a recurrent layer
    can learn and a single Dense layer cannot.

    Parameters
    ----------
    n_samples : int
        Number of sequences, split as evenly as possible between the classes.
    steps : int >= 8
        Length of every sequence.
    n_features : int
        Channels per step.
    n_classes : int
        Number of frequency bands.
    noise : float >= 0
        Standard deviation of the noise.
    seed : int, numpy.random.Generator or None
        Seeds the generator; None draws fresh entropy.

    Returns
    -------
    x : ndarray, float64, shape (n_samples, steps, n_features)
    y : ndarray, int64, shape (n_samples,)
        The class, 0 (slowest) to ``n_classes - 1`` (fastest). Rows are shuffled.

    Examples
    --------
    >>> x, y = sine_classification(6, steps=40, n_features=2, n_classes=2, noise=0.0,
    ...                            seed=1)
    >>> x.shape, x.dtype, y.dtype
    ((6, 40, 2), dtype('float64'), dtype('int64'))
    >>> bool(np.abs(x).max() <= 1.5)
    True
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    steps = _check_steps(steps, 8)
    n_features = check_positive_int(n_features, "n_features")
    n_classes = check_positive_int(n_classes, "n_classes")
    noise = check_nonnegative_float(noise, "noise")
    rng = generator(seed)
    y = np.repeat(np.arange(n_classes), split_counts(n_samples, n_classes))
    width = (steps / 4 - 1) / n_classes
    cycles = 1 + (y + rng.uniform(0.0, 1.0, n_samples)) * width
    phase = rng.uniform(0.0, 2 * np.pi, (n_samples, 1, n_features))
    amplitude = rng.uniform(0.5, 1.5, (n_samples, 1, n_features))
    time = np.arange(steps)[None, :, None] / steps
    angle = 2 * np.pi * cycles[:, None, None] * time + phase
    x = amplitude * np.sin(angle) + noise * rng.standard_normal(angle.shape)
    return shuffled(x, y, rng)


def sine_forecasting(
    n_samples: int = 1000,
    steps: int = 50,
    horizon: int = 1,
    noise: float = 0.0,
    min_period: float = 8.0,
    max_period: float = 40.0,
    seed: Any = None,
) -> Dataset:
    """Windows of a sum of two sine waves, and the values that come next.

    Each series is ``a1 sin(2 pi t / p1 + f1) + a2 sin(2 pi t / p2 + f2)`` over
    the steps ``t = 0, 1, ...``, with periods ``p`` uniform in ``[min_period,
    max_period]`` steps, amplitudes ``a`` uniform in ``[0.2, 0.6]`` and phases
    ``f`` uniform in ``[0, 2 pi)``: every value lies within ``[-1.2, 1.2]``. The
    input is the first ``steps`` values (plus Gaussian noise of standard deviation
    ``noise``, if any), the target the next ``horizon`` values, without noise.
    Repeating the last value (``x[:, -1]``) is the baseline to beat.

    Parameters
    ----------
    n_samples : int
        Number of series.
    steps : int >= 2
        Length of the input window.
    horizon : int
        How many values to forecast.
    noise : float >= 0
        Standard deviation of the noise on the inputs.
    min_period, max_period : float
        The range of the periods, in steps (``2 <= min_period <= max_period``).
    seed : int, numpy.random.Generator or None
        Seeds the generator; None draws fresh entropy.

    Returns
    -------
    x : ndarray, float64, shape (n_samples, steps, 1)
    y : ndarray, float64, shape (n_samples, horizon)

    Examples
    --------
    >>> x, y = sine_forecasting(5, steps=30, horizon=2, min_period=10, max_period=10,
    ...                         seed=0)
    >>> x.shape, y.shape, bool(np.abs(np.concatenate([x[..., 0], y], 1)).max() <= 1.2)
    ((5, 30, 1), (5, 2), True)
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    steps = _check_steps(steps, 2)
    horizon = check_positive_int(horizon, "horizon")
    noise = check_nonnegative_float(noise, "noise")
    min_period = check_nonnegative_float(min_period, "min_period")
    max_period = check_nonnegative_float(max_period, "max_period")
    if not 2.0 <= min_period <= max_period:
        raise InvalidArgumentError(
            "Arguments `min_period` and `max_period` must satisfy 2 <= min_period <= "
            f"max_period (in steps). Received: min_period={min_period}, "
            f"max_period={max_period}"
        )
    rng = generator(seed)
    period = rng.uniform(min_period, max_period, (n_samples, 1, 2))
    amplitude = rng.uniform(0.2, 0.6, (n_samples, 1, 2))
    phase = rng.uniform(0.0, 2 * np.pi, (n_samples, 1, 2))
    t = np.arange(steps + horizon)[None, :, None]
    series = np.sum(amplitude * np.sin(2 * np.pi * t / period + phase), axis=2)
    x = series[:, :steps, None] + noise * rng.standard_normal((n_samples, steps, 1))
    return x, series[:, steps:].copy()


def _check_steps(steps: Any, least: int) -> int:
    steps = check_positive_int(steps, "steps")
    if steps < least:
        raise InvalidArgumentError(
            f"Argument `steps` must be at least {least}. Received: steps={steps}"
        )
    return steps
