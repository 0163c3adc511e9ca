"""Initializers: the starting values of a layer's weights.

An initializer is called as ``initializer(shape, rng, dtype)`` and returns a freshly
allocated, C-contiguous array of ``dtype`` (float32 unless asked otherwise). Every
random draw comes from the ``numpy.random.Generator`` it is handed, so the same seed
gives the same weights. Names, defaults and formulas follow Keras 3.

>>> import numpy as np
>>> init = get("glorot_uniform")
>>> W = init((3, 2), np.random.default_rng(0))
>>> W.shape, W.dtype
((3, 2), dtype('float32'))
>>> limit = np.sqrt(6 / (3 + 2))  # sqrt(6 / (fan_in + fan_out))
>>> bool(np.all(np.abs(W) <= limit))
True
>>> get("zeros")((2,), None)
array([0., 0.], dtype=float32)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, ClassVar

import numpy as np

from glassnet._registry import Registry, check_config_keys, constructor_parameters
from glassnet._typing import Array, Shape
from glassnet._validation import (
    all_finite,
    check_one_of,
    check_positive_float,
    normalize_dtype,
)
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get",
    "registry",
    "serialize",
]

registry = Registry("initializer")

# Standard deviation of a standard normal truncated to [-2, 2]; dividing by it makes
# the *truncated* draws have the intended standard deviation (Keras' constant).
TRUNCATED_STD = 0.87962566103423978

#: Largest weight an initializer may make: float32's largest finite value. Every
#: initializer refuses, when made, arguments that could draw a value beyond it, so
#: the weights it gives are finite in float32 (the default) and float64 alike.
MAX_WEIGHT = float(np.finfo(np.float32).max)

# How many standard deviations from the mean an untruncated normal draw is taken
# to reach at most: the chance of one draw beyond 10 is about 1.5e-23.
_NORMAL_REACH = 10.0


def compute_fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight tensor, as Keras computes them.

    Dense kernels ``(n_in, n_out)`` give ``(n_in, n_out)``; a vector of length ``n``
    gives ``(n, n)``; a convolution kernel ``(*receptive_field, in, out)`` multiplies
    both by the receptive-field size; a scalar gives ``(1, 1)``.

    >>> compute_fans((784, 64)), compute_fans((10,)), compute_fans((3, 3, 16, 32))
    ((784, 64), (10, 10), (144, 288))
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _check_finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise GlassnetTypeError(
            f"Argument `{name}` must be a finite number. Received: {name}={value!r}"
        )
    try:
        number = float(value)
    except OverflowError:  # an int beyond float64, such as 10**400
        number = math.inf
    if not abs(number) <= MAX_WEIGHT:  # also NaN
        raise InvalidArgumentError(
            f"Argument `{name}` must be a finite number of magnitude at most "
            f"{MAX_WEIGHT:.4g} (float32's largest), so the weights are finite. "
            f"Received: {name}={value!r:.80}"
        )
    return number


def _check_reach(reach: float, arguments: str, received: str) -> None:
    """Refuse arguments whose draws could reach beyond :data:`MAX_WEIGHT`."""
    if not reach <= MAX_WEIGHT:  # also catches NaN and inf
        raise InvalidArgumentError(
            f"{arguments} weights up to about {reach:.4g}, beyond "
            f"{MAX_WEIGHT:.4g} (float32's largest): the weights would be infinite. "
            f"Received: {received}"
        )


def _check_shape(shape: Any) -> Shape:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) and int(n) >= 0
        for n in shape
    ):
        raise InvalidArgumentError(
            "Argument `shape` must be a tuple of non-negative integers, e.g. (64, 10). "
            f"Received: shape={shape!r}"
        )
    return tuple(int(n) for n in shape)


def _truncated_normal(rng: np.random.Generator, shape: Shape) -> Array:
    """Standard normal draws, redrawing any that land outside [-2, 2]."""
    z = rng.standard_normal(shape)
    outside = np.abs(z) > 2.0
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2.0
    return z


class Initializer:
    """Base class: ``initializer(shape, rng, dtype=np.float32) -> array``.

    A subclass implements ``sample(shape, rng)``, returning float64 values that the
    base class converts to ``dtype``; drawing in float64 first means the same seed
    gives the same weights, up to rounding, in float32 and float64.
    """

    uses_rng: ClassVar[bool] = True

    def __call__(
        self, shape: Any, rng: np.random.Generator | None, dtype: Any = np.float32
    ) -> Array:
        shape = _check_shape(shape)
        dtype = normalize_dtype(dtype)
        if self.uses_rng and not isinstance(rng, np.random.Generator):
            raise GlassnetTypeError(
                f"{type(self).__name__} draws random numbers: argument `rng` must be "
                "a numpy.random.Generator, e.g. np.random.default_rng(42). "
                f"Received: rng={rng!r}"
            )
        with np.errstate(over="ignore"):  # an overflowing cast is refused below
            values = np.asarray(self.sample(shape, rng), dtype=dtype, order="C")
        if not all_finite(values):  # a subclass's sample; the built-ins cannot
            raise InvalidArgumentError(
                f"{self!r} gave weights that are not finite in {dtype.name} for "
                f"shape {shape}. Use smaller arguments."
            )
        return values

    def sample(self, shape: Shape, rng: Any) -> Array:
        """Float64 values of ``shape`` (subclasses override this)."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments, with Keras 3 names."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Rebuild an initializer from :meth:`get_config` output."""
        check_config_keys("initializer", cls, config, list(constructor_parameters(cls)))
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@registry.register("constant")
class Constant(Initializer):
    """Every value equal to ``value`` (default 0.0)."""

    uses_rng = False

    def __init__(self, value: float = 0.0) -> None:
        self.value = _check_finite(value, "value")

    def sample(self, shape: Shape, rng: Any) -> Array:
        return np.full(shape, self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


@registry.register("zeros", "zero")
class Zeros(Initializer):
    """All zeros (Keras' default for biases)."""

    uses_rng = False

    def sample(self, shape: Shape, rng: Any) -> Array:
        return np.zeros(shape)


@registry.register("ones", "one")
class Ones(Initializer):
    """All ones."""

    uses_rng = False

    def sample(self, shape: Shape, rng: Any) -> Array:
        return np.ones(shape)


@registry.register("random_normal", "normal")
class RandomNormal(Initializer):
    """Normal draws with ``mean`` (default 0.0) and ``stddev`` (> 0, default 0.05).

    >>> RandomNormal(stddev=1.0)((2, 2), np.random.default_rng(0)).shape
    (2, 2)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = _check_finite(mean, "mean")
        self.stddev = check_positive_float(stddev, "stddev")
        _check_reach(
            abs(self.mean) + _NORMAL_REACH * self.stddev,
            "Arguments `mean` and `stddev` give",
            f"mean={mean!r}, stddev={stddev!r}",
        )

    def sample(self, shape: Shape, rng: np.random.Generator) -> Array:
        return self.mean + self.stddev * rng.standard_normal(shape)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev}


@registry.register("truncated_normal")
class TruncatedNormal(RandomNormal):
    """Normal draws, redrawn when more than 2 ``stddev`` from the ``mean``.

    ``stddev`` is that of the normal before truncation (as in Keras), so the values
    spread a little less: about ``0.88 * stddev``.
    """

    def sample(self, shape: Shape, rng: np.random.Generator) -> Array:
        return self.mean + self.stddev * _truncated_normal(rng, shape)


@registry.register("random_uniform", "uniform")
class RandomUniform(Initializer):
    """Uniform draws in ``[minval, maxval)`` (defaults -0.05 and 0.05)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        self.minval = _check_finite(minval, "minval")
        self.maxval = _check_finite(maxval, "maxval")
        if not self.minval < self.maxval:
            raise InvalidArgumentError(
                "Argument `minval` must be less than `maxval`. "
                f"Received: minval={minval!r}, maxval={maxval!r}"
            )

    def sample(self, shape: Shape, rng: np.random.Generator) -> Array:
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval}


@registry.register("variance_scaling")
class VarianceScaling(Initializer):
    """Draws whose variance is ``scale / n``, ``n`` set by ``mode`` from the fans.

    ``mode`` is ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"`` (their mean), read from
    :func:`compute_fans` (``n`` is at least 1). ``distribution`` is one of::

        "truncated_normal"    stddev = sqrt(scale / n) / 0.8796..., cut at 2 stddev
        "untruncated_normal"  stddev = sqrt(scale / n)
        "uniform"             limit = sqrt(3 * scale / n), values in [-limit, limit)

    The truncated normal's stddev is divided by 0.8796..., the spread of a standard
    normal cut at +-2, so the values that remain have variance ``scale / n``.
    ``"normal"`` is accepted as a synonym of ``"truncated_normal"``, as in Keras.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
    ) -> None:
        self.scale = check_positive_float(scale, "scale")
        self.mode = check_one_of(mode, "mode", ("fan_in", "fan_out", "fan_avg"))
        if distribution == "normal":
            distribution = "truncated_normal"
        self.distribution = check_one_of(
            distribution,
            "distribution",
            ("truncated_normal", "untruncated_normal", "uniform"),
        )
        # the variance is at most `scale` (n >= 1); the widest draw of each kind:
        reach = {
            "uniform": math.sqrt(3.0),
            "untruncated_normal": _NORMAL_REACH,
            "truncated_normal": 2.0 / TRUNCATED_STD,
        }[self.distribution] * math.sqrt(self.scale)
        _check_reach(reach, "Argument `scale` gives", f"scale={scale!r}")

    def sample(self, shape: Shape, rng: np.random.Generator) -> Array:
        fan_in, fan_out = compute_fans(shape)
        if self.mode == "fan_in":
            n: float = fan_in
        elif self.mode == "fan_out":
            n = fan_out
        else:
            n = (fan_in + fan_out) / 2.0
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return math.sqrt(variance) * rng.standard_normal(shape)
        return math.sqrt(variance) / TRUNCATED_STD * _truncated_normal(rng, shape)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
        }


class _NamedVarianceScaling(VarianceScaling):
    """A :class:`VarianceScaling` with fixed arguments and an empty config."""

    arguments: ClassVar[tuple[float, str, str]]

    def __init__(self) -> None:
        super().__init__(*self.arguments)

    def get_config(self) -> dict[str, Any]:
        return {}


@registry.register("glorot_uniform", "xavier_uniform")
class GlorotUniform(_NamedVarianceScaling):
    """Uniform in ``[-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``."""

    arguments = (1.0, "fan_avg", "uniform")


@registry.register("glorot_normal", "xavier_normal")
class GlorotNormal(_NamedVarianceScaling):
    """Truncated normal, ``stddev = sqrt(2 / (fan_in + fan_out)) / 0.8796...``."""

    arguments = (1.0, "fan_avg", "truncated_normal")


@registry.register("he_normal")
class HeNormal(_NamedVarianceScaling):
    """Truncated normal, ``stddev = sqrt(2 / fan_in) / 0.8796...`` (for ReLU)."""

    arguments = (2.0, "fan_in", "truncated_normal")


@registry.register("he_uniform")
class HeUniform(_NamedVarianceScaling):
    """Uniform in ``[-limit, limit)``, ``limit = sqrt(6 / fan_in)`` (for ReLU)."""

    arguments = (2.0, "fan_in", "uniform")


@registry.register("lecun_normal")
class LecunNormal(_NamedVarianceScaling):
    """Truncated normal, ``stddev = sqrt(1 / fan_in) / 0.8796...`` (for SELU)."""

    arguments = (1.0, "fan_in", "truncated_normal")


@registry.register("lecun_uniform")
class LecunUniform(_NamedVarianceScaling):
    """Uniform in ``[-limit, limit)``, ``limit = sqrt(3 / fan_in)``."""

    arguments = (1.0, "fan_in", "uniform")


@registry.register("orthogonal")
class Orthogonal(Initializer):
    """A matrix with orthonormal rows or columns, times ``gain`` (default 1.0).

    As Keras: the shape is read as a matrix ``(product of the leading axes, last
    axis)``; the Q of the QR decomposition of a standard normal draw, its columns'
    signs fixed by ``R``'s diagonal, is transposed when the matrix is wide. The
    recurrent kernels of SimpleRNN, LSTM and GRU start so. A vector or a scalar is
    a one-row matrix here (Keras refuses them).

    >>> Q = Orthogonal()((3, 6), np.random.default_rng(0), np.float64)
    >>> np.allclose(Q @ Q.T, np.eye(3))
    True
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = _check_finite(gain, "gain")  # orthonormal entries are <= 1

    def sample(self, shape: Shape, rng: np.random.Generator) -> Array:
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        cols = shape[-1] if shape else 1
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q *= np.sign(np.diag(r))  # makes the decomposition unique
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


def get(identifier: Any, custom_objects: dict[str, type] | None = None) -> Any:
    """Resolve a name, a ``{"class_name", "config"}`` dict or an instance.

    >>> get("he_normal")
    HeNormal()
    >>> get({"class_name": "RandomUniform", "config": {"minval": 0.0, "maxval": 1.0}})
    RandomUniform(minval=0.0, maxval=1.0)
    >>> get("he_normla")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown initializer ... Did you mean 'he_normal'?
    """
    return registry.get(identifier, base=Initializer, custom_objects=custom_objects)


def serialize(initializer: Initializer) -> str | dict[str, Any]:
    """The registered name when the config is the default one, else a config dict.

    >>> serialize(GlorotUniform()), serialize(Constant(0.1))
    ('glorot_uniform', {'class_name': 'Constant', 'config': {'value': 0.1}})
    """
    cls = type(initializer)
    config = initializer.get_config()
    if cls in registry.classes() and config == cls().get_config():
        return registry.name_of(cls)
    return {"class_name": cls.__name__, "config": config}
