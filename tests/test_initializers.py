"""Tests for glassnet.initializers: formulas, determinism, dtypes, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from glassnet import initializers
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, UnknownNameError
from glassnet.initializers import (
    TRUNCATED_STD,
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    compute_fans,
)

ALL = [cls() for cls in initializers.registry.classes()]
RANDOM = [init for init in ALL if init.uses_rng]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- fans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((784, 64), (784, 64)),
        ((5, 16, 32), (5 * 16, 5 * 32)),  # 1-D convolution kernel (width, in, out)
        ((3, 3, 16, 32), (9 * 16, 9 * 32)),  # 2-D convolution kernel
    ],
)
def test_compute_fans(shape: tuple[int, ...], fans: tuple[int, int]) -> None:
    assert compute_fans(shape) == fans


# --- determinism, dtype, freshness --------------------------------------------------


@pytest.mark.parametrize("init", ALL, ids=repr)
def test_same_seed_same_values_and_requested_dtype(init: Initializer) -> None:
    a = init((20, 30), rng(1))
    b = init((20, 30), rng(1))
    assert a.dtype == np.float32 and a.shape == (20, 30) and a.flags.c_contiguous
    np.testing.assert_array_equal(a, b)
    assert a is not b and not np.shares_memory(a, b)
    wide = init((20, 30), rng(1), np.float64)
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(wide.astype(np.float32), a)  # drawn in float64
    assert init((20, 30), rng(1), "float64").dtype == np.float64
    assert init((0, 3), rng(1)).shape == (0, 3)
    assert init((), rng(1)).shape == ()


@pytest.mark.parametrize("init", RANDOM, ids=repr)
def test_random_draws_use_only_the_generator_passed_in(init: Initializer) -> None:
    # NumPy's legacy global state must not move: only `rng` is drawn from.
    global_state = np.random.get_state()[1].copy()  # noqa: NPY002
    generator = rng(2)
    first = init((50,), generator)
    second = init((50,), generator)  # the generator advanced: new values
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, init((50,), rng(3)))
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)  # noqa: NPY002


def test_constant_initializers_need_no_generator_and_return_fresh_arrays() -> None:
    np.testing.assert_array_equal(Zeros()((2, 2), None), np.zeros((2, 2)))
    np.testing.assert_array_equal(Ones()((3,), None), np.ones(3))
    a = Constant(0.1)((2,), None)
    np.testing.assert_array_equal(a, np.float32([0.1, 0.1]))
    a[0] = 5.0
    assert Constant(0.1)((2,), None)[0] == np.float32(0.1)
    assert Constant(2)((1,), None, np.float64)[0] == 2.0


# --- statistics against the formulas -------------------------------------------------

SHAPE = (300, 500)  # fan_in 300, fan_out 500: 150,000 draws


def test_random_normal_statistics() -> None:
    x = RandomNormal(mean=1.0, stddev=2.0)(SHAPE, rng(), np.float64)
    assert x.mean() == pytest.approx(1.0, abs=0.02)
    assert x.std() == pytest.approx(2.0, rel=0.01)
    assert RandomNormal()(SHAPE, rng()).std() == pytest.approx(0.05, rel=0.01)


def test_random_uniform_statistics_and_bounds() -> None:
    x = RandomUniform(minval=-0.5, maxval=1.5)(SHAPE, rng(), np.float64)
    assert x.min() >= -0.5 and x.max() < 1.5
    assert x.mean() == pytest.approx(0.5, abs=0.01)
    assert x.std() == pytest.approx(2.0 / math.sqrt(12), rel=0.01)
    default = RandomUniform()(SHAPE, rng())
    assert default.min() >= -0.05 and default.max() <= 0.05


def test_truncated_normal_redraws_outside_two_stddev() -> None:
    x = TruncatedNormal(mean=0.5, stddev=0.1)(SHAPE, rng(), np.float64)
    assert x.min() >= 0.5 - 0.2 - 1e-15 and x.max() <= 0.5 + 0.2 + 1e-15
    # Redrawn, not clipped: no values pile up on the bounds.
    assert np.count_nonzero(np.abs(x - 0.5) > 0.2 - 1e-9) == 0
    # The spread of a normal cut at +-2 stddev is 0.8796... stddev.
    assert x.std() == pytest.approx(0.1 * TRUNCATED_STD, rel=0.01)
    assert x.mean() == pytest.approx(0.5, abs=0.002)
    y = TruncatedNormal()(SHAPE, rng())  # float32: bound holds up to rounding
    assert np.abs(y).max() <= np.float32(0.1) * (1 + 1e-6)


@pytest.mark.parametrize(
    ("init", "kind", "spread"),
    [
        (GlorotUniform(), "uniform", math.sqrt(6 / (300 + 500))),
        (GlorotNormal(), "normal", math.sqrt(2 / (300 + 500))),
        (HeUniform(), "uniform", math.sqrt(6 / 300)),
        (HeNormal(), "normal", math.sqrt(2 / 300)),
        (LecunUniform(), "uniform", math.sqrt(3 / 300)),
        (LecunNormal(), "normal", math.sqrt(1 / 300)),
        (VarianceScaling(3.0, "fan_out", "uniform"), "uniform", math.sqrt(9 / 500)),
        (VarianceScaling(0.5, "fan_avg", "untruncated_normal"), "plain", 0.5**0.5 / 20),
    ],
    ids=repr,
)
def test_variance_scaling_formulas(init: Initializer, kind: str, spread: float) -> None:
    # "uniform": spread is the limit, std = limit / sqrt(3).
    # "normal": truncated; spread is the std after truncation, |x| <= 2 * spread / 0.88.
    # "plain": untruncated normal, spread is its std (scale 0.5, n = 400:
    #          sqrt(0.5 / 400) = sqrt(0.5) / 20).
    x = init(SHAPE, rng(), np.float64)
    assert abs(x.mean()) < 0.02 * spread
    if kind == "uniform":
        assert np.abs(x).max() <= spread
        assert x.std() == pytest.approx(spread / math.sqrt(3), rel=0.01)
    else:
        assert x.std() == pytest.approx(spread, rel=0.01)
    if kind == "normal":
        assert np.abs(x).max() <= 2 * spread / TRUNCATED_STD * (1 + 1e-12)


def test_variance_scaling_on_a_convolution_kernel() -> None:
    # fan_in = 3 * 3 * 16 = 144, so He normal's std is sqrt(2 / 144) = 1 / sqrt(72).
    x = HeNormal()((3, 3, 16, 64), rng(), np.float64)
    assert x.std() == pytest.approx(1 / math.sqrt(72), rel=0.02)


def test_variance_scaling_accepts_keras_normal_synonym() -> None:
    assert VarianceScaling(distribution="normal").distribution == "truncated_normal"


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: RandomNormal(stddev=0), InvalidArgumentError, r"`stddev`.*stddev=0"),
        (lambda: RandomNormal(stddev=-1.0), InvalidArgumentError, "stddev=-1.0"),
        (lambda: RandomNormal(mean=math.nan), InvalidArgumentError, "`mean`"),
        (lambda: TruncatedNormal(mean="0"), GlassnetTypeError, "`mean`"),
        (
            lambda: RandomUniform(minval=1.0, maxval=0.0),
            InvalidArgumentError,
            r"`minval` must be less than `maxval`.*minval=1.0, maxval=0.0",
        ),
        (lambda: RandomUniform(maxval=math.inf), InvalidArgumentError, "maxval"),
        (lambda: Constant(value=None), GlassnetTypeError, "value=None"),
        (lambda: Constant(value=True), GlassnetTypeError, "`value`"),
        (lambda: VarianceScaling(scale=0), InvalidArgumentError, "scale=0"),
        (lambda: VarianceScaling(mode="fan_mean"), InvalidArgumentError, "'fan_avg'"),
        (
            lambda: VarianceScaling(distribution="gaussian"),
            InvalidArgumentError,
            r"`distribution`.*'untruncated_normal'",
        ),
    ],
)
def test_bad_arguments_name_the_argument(make, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize(
    ("shape", "pattern"),
    [
        ((-1, 2), r"shape=\(-1, 2\)"),
        ((2.5,), "shape"),
        ("ab", "shape"),
        (True, "shape=True"),
    ],
)
def test_bad_shapes(shape, pattern) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        GlorotUniform()(shape, rng())


def test_an_int_shape_means_a_vector() -> None:
    assert Zeros()(3, None).shape == (3,)
    assert GlorotUniform()([2, 3], rng()).shape == (2, 3)


@pytest.mark.parametrize("bad_rng", [None, 42, np.random.RandomState(0)])
def test_random_initializers_need_a_generator(bad_rng) -> None:
    with pytest.raises(GlassnetTypeError, match=r"`rng`.*default_rng"):
        HeNormal()((2, 2), bad_rng)


def test_only_float_dtypes() -> None:
    with pytest.raises(InvalidArgumentError, match="dtype"):
        Zeros()((2,), None, np.int32)


# --- configs and the registry -------------------------------------------------------


@pytest.mark.parametrize(
    "init",
    [
        *ALL,
        Constant(0.25),
        RandomNormal(mean=1.0, stddev=0.5),
        TruncatedNormal(stddev=0.2),
        RandomUniform(minval=0.0, maxval=2.0),
        VarianceScaling(2.0, "fan_out", "uniform"),
    ],
    ids=repr,
)
def test_config_round_trip(init: Initializer) -> None:
    config = json.loads(json.dumps(init.get_config()))
    clone = type(init).from_config(config)
    assert type(clone) is type(init) and clone.get_config() == init.get_config()
    np.testing.assert_array_equal(clone((4, 5), rng()), init((4, 5), rng()))
    restored = initializers.get(
        {"class_name": type(init).__name__, "config": init.get_config()}
    )
    assert repr(restored) == repr(init)
    serialized = initializers.serialize(init)
    assert repr(initializers.get(serialized)) == repr(init)


def test_serialize_uses_the_name_for_default_configs() -> None:
    assert initializers.serialize(GlorotUniform()) == "glorot_uniform"
    assert initializers.serialize(Zeros()) == "zeros"
    assert initializers.serialize(RandomNormal(stddev=1.0)) == {
        "class_name": "RandomNormal",
        "config": {"mean": 0.0, "stddev": 1.0},
    }


def test_from_config_rejects_unknown_keys() -> None:
    with pytest.raises(InvalidArgumentError, match=r"'std'.*Did you mean 'stddev'"):
        RandomNormal.from_config({"std": 1.0})
    with pytest.raises(InvalidArgumentError, match="'scale'"):
        GlorotUniform.from_config({"scale": 2.0})


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("zeros", Zeros),
        ("zero", Zeros),
        ("ones", Ones),
        ("constant", Constant),
        ("random_normal", RandomNormal),
        ("normal", RandomNormal),
        ("random_uniform", RandomUniform),
        ("uniform", RandomUniform),
        ("truncated_normal", TruncatedNormal),
        ("variance_scaling", VarianceScaling),
        ("glorot_uniform", GlorotUniform),
        ("xavier_uniform", GlorotUniform),
        ("GlorotUniform", GlorotUniform),
        ("glorot_normal", GlorotNormal),
        ("xavier_normal", GlorotNormal),
        ("he_normal", HeNormal),
        ("he_uniform", HeUniform),
        ("lecun_normal", LecunNormal),
        ("lecun_uniform", LecunUniform),
    ],
)
def test_get_by_name(name: str, cls: type) -> None:
    assert type(initializers.get(name)) is cls


def test_get_passes_instances_and_none_through() -> None:
    init = RandomNormal(stddev=1.0)
    assert initializers.get(init) is init
    assert initializers.get(None) is None


def test_get_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(UnknownNameError, match=r"Did you mean 'glorot_uniform'"):
        initializers.get("glorot_unifrom")
    with pytest.raises(GlassnetTypeError, match="initializer"):
        initializers.get(0.5)


def test_keras_defaults() -> None:
    assert Constant().get_config() == {"value": 0.0}
    assert RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05}
    assert TruncatedNormal().get_config() == {"mean": 0.0, "stddev": 0.05}
    assert RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05}
    assert VarianceScaling().get_config() == {
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
    }
    assert repr(GlorotUniform()) == "GlorotUniform()"
