"""Learning-rate schedules: values against Keras 3, use in optimizers, configs, files."""

from __future__ import annotations

import json
import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

from glassnet import optimizers
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    ModelFileError,
    UnknownNameError,
)
from glassnet.layers import Dense
from glassnet.models import Sequential, load_model
from glassnet.optimizers import SGD, Adam, Ftrl, schedules
from glassnet.optimizers.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# (class name, arguments): every schedule, with its options on and off
CASES = [
    (
        "ExponentialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5},
    ),
    (
        "ExponentialDecay",
        {
            "initial_learning_rate": 0.1,
            "decay_steps": 3,
            "decay_rate": 0.9,
            "staircase": True,
        },
    ),
    (
        "PiecewiseConstantDecay",
        {"boundaries": [4, 9, 20], "values": [1.0, 0.5, 0.1, 0.01]},
    ),
    (
        "InverseTimeDecay",
        {"initial_learning_rate": 0.2, "decay_steps": 5, "decay_rate": 0.5},
    ),
    (
        "InverseTimeDecay",
        {
            "initial_learning_rate": 0.2,
            "decay_steps": 1.0,
            "decay_rate": 2,
            "staircase": True,
        },
    ),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
    (
        "PolynomialDecay",
        {
            "initial_learning_rate": 0.1,
            "decay_steps": 6,
            "end_learning_rate": 0.01,
            "power": 0.5,
            "cycle": True,
        },
    ),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 12, "alpha": 0.1}),
    (
        "CosineDecay",
        {
            "initial_learning_rate": 0.0,
            "decay_steps": 10,
            "warmup_target": 0.3,
            "warmup_steps": 5,
        },
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 4}),
    (
        "CosineDecayRestarts",
        {
            "initial_learning_rate": 0.1,
            "first_decay_steps": 3,
            "t_mul": 1.0,
            "m_mul": 0.5,
            "alpha": 0.2,
        },
    ),
    (
        "CosineDecayRestarts",
        {
            "initial_learning_rate": 0.1,
            "first_decay_steps": 5,
            "t_mul": 1.5,
            "m_mul": 0.9,
        },
    ),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_values_match_keras_over_40_steps(name: str, kwargs: dict) -> None:
    keras = pytest.importorskip("keras")
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    for step in range(40):
        assert ours(step) == pytest.approx(float(theirs(step)), rel=2e-6, abs=1e-8), (
            step
        )


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_config_is_keras_config_both_ways(name: str, kwargs: dict) -> None:
    keras = pytest.importorskip("keras")
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    assert schedules.serialize(ours) == keras.optimizers.schedules.serialize(theirs)
    written = json.loads(json.dumps(schedules.serialize(ours)))
    assert schedules.get(written) == ours
    again = keras.optimizers.schedules.deserialize(written)
    assert again.get_config() == theirs.get_config()


def test_closed_form_values() -> None:
    # 0.1 * 0.5 ** (3 / 2); 0.1 / (1 + 0.5 * 3 / 2); (0.1 - 0.01) * (1 - 3 / 4) ** 2 + 0.01
    assert ExponentialDecay(0.1, 2, 0.5)(3) == pytest.approx(0.1 * 0.5**1.5)
    assert InverseTimeDecay(0.1, 2, 0.5)(3) == pytest.approx(0.1 / 1.75)
    assert PolynomialDecay(0.1, 4, 0.01, power=2)(3) == pytest.approx(0.09 / 16 + 0.01)
    # cycle: at step 5 the decay runs over 8 steps: (0.1 - 0.01) * (3 / 8) + 0.01
    assert PolynomialDecay(0.1, 4, 0.01, cycle=True)(5) == pytest.approx(
        0.09 * 3 / 8 + 0.01
    )
    # half way down the cosine: 0.5 * (1 + cos(pi / 2)) = 0.5; alpha 0.2 -> 0.6
    assert CosineDecay(1.0, 10, alpha=0.2)(5) == pytest.approx(0.6)
    # warmup from 0.1 to 0.5 in 4 steps: step 1 -> 0.2; step 4 -> the peak 0.5
    warm = CosineDecay(0.1, 10, warmup_target=0.5, warmup_steps=4)
    assert (warm(1), warm(4), warm(100)) == pytest.approx((0.2, 0.5, 0.0))
    # t_mul = 2: periods of 2, 4, 8 steps; step 2 starts the second at its top
    restarts = CosineDecayRestarts(1.0, 2, t_mul=2.0, m_mul=0.5)
    assert (restarts(1), restarts(2), restarts(4)) == pytest.approx((0.5, 0.5, 0.25))
    assert PiecewiseConstantDecay([1, 2], [3.0, 2.0, 1.0])(1) == 3.0


# --- in optimizers -------------------------------------------------------------------


def test_each_step_uses_the_rate_at_the_step_count_before_it() -> None:
    # SGD, g = 1: the steps use schedule(0) = 1, schedule(1) = 0.5, schedule(2) = 0.25
    opt = SGD(ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5))
    w = np.array([0.0])
    assert opt.learning_rate == 1.0
    for expected in (-1.0, -1.5, -1.75):
        opt.apply([("w", w, np.array([1.0]))])
        np.testing.assert_allclose(w, [expected])
    assert opt.learning_rate == 0.125  # the next step's: schedule(3)


def test_the_schedule_counts_every_call_with_gradient_accumulation() -> None:
    # n = 2: the updates happen at calls 2 and 4, with schedule(1) and schedule(3)
    opt = SGD(
        PiecewiseConstantDecay([0, 2], [1.0, 0.5, 0.25]), gradient_accumulation_steps=2
    )
    w = np.array([0.0])
    for _ in range(4):
        opt.apply([("w", w, np.array([1.0]))])
    np.testing.assert_allclose(w, [-0.5 - 0.25])
    assert opt.iterations == 2 and opt.learning_rate == 0.25


@pytest.mark.parametrize("flat", [False, True])
def test_learning_rate_and_steps_match_keras(flat: bool) -> None:
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    kwargs = {"initial_learning_rate": 0.0, "decay_steps": 6, "warmup_target": 0.1}
    ours = optimizers.AdamW(CosineDecay(**kwargs, warmup_steps=3), weight_decay=0.1)
    theirs = keras.optimizers.AdamW(
        keras.optimizers.schedules.CosineDecay(**kwargs, warmup_steps=3),
        weight_decay=0.1,
    )
    rng = np.random.default_rng(0)
    w = rng.standard_normal(5).astype("float32")
    variable = keras.Variable(w.copy())
    for _ in range(12):
        assert ours.learning_rate == pytest.approx(
            float(theirs.learning_rate), abs=1e-7
        )
        g = rng.standard_normal(5).astype("float32")
        if flat:
            ours.apply_flat(w, g, [("w", 0, 5, (5,))])
        else:
            ours.apply([("w", w, g)])
        theirs.apply([torch.tensor(g)], [variable])
        np.testing.assert_allclose(w, variable.numpy(), rtol=1e-5, atol=1e-6)


def test_a_scheduled_rate_cannot_be_set_to_a_number() -> None:
    opt = Adam(ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(GlassnetTypeError, match=r"is a schedule.*learning_rate=0.5"):
        opt.learning_rate = 0.5
    opt.learning_rate = PiecewiseConstantDecay([5], [0.2, 0.1])
    assert opt.learning_rate == 0.2
    plain = Adam(0.1)
    plain.learning_rate = ExponentialDecay(0.3, 10, 0.9)
    assert plain.learning_rate == 0.3 and plain.schedule is not None


class Broken(LearningRateSchedule):
    """A schedule that goes wrong at step 2."""

    def __init__(self, bad: object) -> None:
        self.bad = bad

    def __call__(self, step: int) -> object:
        return self.bad if step == 2 else 0.1

    def get_config(self) -> dict:
        return {"bad": self.bad}


@pytest.mark.parametrize(
    ("bad", "error", "pattern"),
    [
        (-0.1, InvalidArgumentError, r"Broken\(bad=-0.1\) gave -0.1 at step 2.*>= 0"),
        (math.nan, InvalidArgumentError, "gave nan at step 2"),
        (math.inf, InvalidArgumentError, "gave inf at step 2"),
        ("fast", GlassnetTypeError, r"must return a number; at step 2 .*'fast'"),
    ],
)
@pytest.mark.parametrize("flat", [False, True])
def test_a_bad_rate_stops_the_step_and_changes_nothing(
    bad, error, pattern, flat
) -> None:
    opt = Adam(Broken(bad))
    w = np.ones(3)

    def step() -> None:
        if flat:
            opt.apply_flat(w, np.ones(3), [("w", 0, 3, (3,))])
        else:
            opt.apply([("w", w, np.ones(3))])

    step()
    step()
    before = w.copy(), {k: v.copy() for k, v in opt.state["w"].items()}
    with pytest.raises(error, match=pattern):
        step()
    assert opt.iterations == 2
    np.testing.assert_array_equal(w, before[0])
    for key, value in before[1].items():
        np.testing.assert_array_equal(opt.state["w"][key], value)


def test_a_zero_rate_is_a_step_of_zero_except_for_ftrl() -> None:
    # Keras' warmup example starts at 0; Ftrl divides by the rate.
    w = np.ones(2)
    SGD(CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=5)).apply(
        [("w", w, np.ones(2))]
    )
    np.testing.assert_array_equal(w, [1.0, 1.0])
    opt = Ftrl(PiecewiseConstantDecay([0], [0.1, 0.0]))
    opt.apply([("w", w, np.ones(2))])
    with pytest.raises(InvalidArgumentError, match=r"gave 0.0 at step 1.*> 0"):
        opt.apply([("w", w, np.ones(2))])


# --- arguments, configs, names -------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: ExponentialDecay(0.1, 0, 0.5), InvalidArgumentError, "decay_steps=0"),
        (
            lambda: ExponentialDecay(-0.1, 5, 0.5),
            InvalidArgumentError,
            "initial_learning",
        ),
        (lambda: ExponentialDecay(0.1, 5, "x"), GlassnetTypeError, "decay_rate"),
        (
            lambda: InverseTimeDecay(0.1, -2, 0.5),
            InvalidArgumentError,
            "decay_steps=-2",
        ),
        (lambda: PolynomialDecay(0.1, 5, cycle=1), GlassnetTypeError, "cycle"),
        (
            lambda: PolynomialDecay(0.1, 5, end_learning_rate=-1),
            InvalidArgumentError,
            "end_",
        ),
        (lambda: CosineDecay(0.1, 5, alpha=-0.5), InvalidArgumentError, "alpha=-0.5"),
        (
            lambda: CosineDecay(0.1, 5, warmup_steps=-1),
            InvalidArgumentError,
            "warmup_steps",
        ),
        (
            lambda: CosineDecayRestarts(0.1, 0),
            InvalidArgumentError,
            "first_decay_steps=0",
        ),
        (lambda: CosineDecayRestarts(0.1, 5, t_mul=0), InvalidArgumentError, "t_mul=0"),
        (
            lambda: PiecewiseConstantDecay([1, 2], [0.1, 0.2]),
            InvalidArgumentError,
            r"`values`.*3 values",
        ),
        (
            lambda: PiecewiseConstantDecay([5, 2], [0.3, 0.2, 0.1]),
            InvalidArgumentError,
            "increase strictly",
        ),
        (lambda: PiecewiseConstantDecay([], [0.1]), InvalidArgumentError, "boundaries"),
        (
            lambda: PiecewiseConstantDecay([1], [0.1, -1]),
            InvalidArgumentError,
            "values",
        ),
        (lambda: ExponentialDecay(0.1, 5, 0.5, name=3), GlassnetTypeError, "name=3"),
    ],
)
def test_bad_arguments_name_the_argument(make, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        make()


def test_unknown_schedules_suggest_the_nearest() -> None:
    with pytest.raises(
        UnknownNameError, match=r"'CosineDecy'.*Did you mean 'CosineDecay'"
    ):
        schedules.get({"class_name": "CosineDecy", "config": {}})
    config = {
        "class_name": "Adam",
        "config": {"learning_rate": {"class_name": "ExpDecay"}},
    }
    with pytest.raises(UnknownNameError, match="Available: CosineDecay"):
        optimizers.get(config)
    with pytest.raises(GlassnetTypeError, match="needs its arguments"):
        schedules.get("exponential_decay")
    with pytest.raises(
        InvalidArgumentError, match=r"'decay_step'.*Did you mean 'decay_steps'"
    ):
        schedules.get(
            {
                "class_name": "ExponentialDecay",
                "config": {"decay_step": 1, "decay_rate": 1},
            }
        )


def test_optimizer_config_holds_the_schedule_as_keras_writes_it() -> None:
    opt = Adam(InverseTimeDecay(0.1, 5, 0.5))
    config = json.loads(json.dumps(opt.get_config()))
    assert config["learning_rate"] == {
        "module": "keras.optimizers.schedules",
        "class_name": "InverseTimeDecay",
        "config": {
            "initial_learning_rate": 0.1,
            "decay_steps": 5,
            "decay_rate": 0.5,
            "staircase": False,
            "name": "InverseTimeDecay",
        },
        "registered_name": None,
    }
    clone = optimizers.get({"class_name": "Adam", "config": config})
    assert clone.schedule == opt.schedule and clone.get_config() == config
    assert repr(clone).startswith("Adam(learning_rate=InverseTimeDecay(initial_")


# --- files ----------------------------------------------------------------------------

X = np.random.default_rng(1).normal(size=(20, 3)).astype("float32")
Y = np.random.default_rng(2).normal(size=(20, 2)).astype("float32")


def model_with(optimizer) -> Sequential:
    model = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(2)], seed=3)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_a_scheduled_model_resumes_exactly_after_save_and_load(tmp_path) -> None:
    from glassnet.utils import clear_session

    def fresh() -> Sequential:
        clear_session()
        return model_with(Adam(CosineDecayRestarts(0.05, 3)))

    straight = fresh()
    straight.fit(X, Y, epochs=4, batch_size=6, verbose=0)
    first = fresh()
    first.fit(X, Y, epochs=2, batch_size=6, verbose=0)
    first.save(tmp_path / "half.keras")
    second = load_model(tmp_path / "half.keras")
    assert second.optimizer.schedule == first.optimizer.schedule
    assert second.optimizer.learning_rate == first.optimizer.learning_rate
    second.fit(X, Y, epochs=2, batch_size=6, verbose=0)
    for a, b in zip(second.get_weights(), straight.get_weights(), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("direction", ["glassnet->keras", "keras->glassnet"])
def test_a_schedule_crosses_to_and_from_keras(tmp_path, direction) -> None:
    keras = pytest.importorskip("keras")
    ours = model_with(Adam(ExponentialDecay(0.05, 4, 0.5)))
    if direction == "glassnet->keras":
        model, load = ours, keras.models.load_model
    else:
        model = keras.models.model_from_json(ours.to_json())
        model.set_weights(ours.get_weights())
        rate = keras.optimizers.schedules.ExponentialDecay(0.05, 4, 0.5)
        model.compile(optimizer=keras.optimizers.Adam(rate), loss="mse")
        load = load_model
    model.fit(X, Y, epochs=2, batch_size=6, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load(tmp_path / "m.keras")
    schedule = loaded.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "ExponentialDecay"
    assert schedule["config"]["decay_steps"] == 4
    assert float(loaded.optimizer.learning_rate) == pytest.approx(0.05 * 0.5 ** (8 / 4))
    model.fit(X, Y, epochs=2, batch_size=6, shuffle=False, verbose=0)
    loaded.fit(X, Y, epochs=2, batch_size=6, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)


def test_a_file_with_an_unknown_schedule_is_refused_by_name(tmp_path) -> None:
    model = model_with(Adam(ExponentialDecay(0.05, 4, 0.5)))
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")  # fine as written
    assert loaded.optimizer.schedule == model.optimizer.schedule
    config = model.get_config()
    from glassnet.io.compile_config import compile_from_config, compile_to_config

    settings = compile_to_config(model)
    settings["optimizer"]["config"]["learning_rate"]["class_name"] = "ExponentialDecai"
    with pytest.raises(ModelFileError, match=r"Did you mean 'ExponentialDecay'"):
        compile_from_config(model_with("sgd"), settings, "m.keras")
    settings["optimizer"]["config"]["learning_rate"]["module"] = "os"
    with pytest.raises(ModelFileError, match="module 'os'"):
        compile_from_config(model_with("sgd"), settings, "m.keras")
    assert config == model.get_config()


def test_a_custom_schedule_loads_through_custom_objects(tmp_path) -> None:
    class Halving(LearningRateSchedule):
        def __init__(self, rate: float) -> None:
            self.rate = rate

        def __call__(self, step: int) -> float:
            return self.rate / 2**step

        def get_config(self) -> dict:
            return {"rate": self.rate}

    model = model_with(SGD(Halving(0.1)))
    model.fit(X, Y, epochs=1, batch_size=10, verbose=0)
    model.save(tmp_path / "m.keras")
    with pytest.raises(ModelFileError, match="'Halving'"):
        load_model(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", custom_objects={"Halving": Halving})
    assert loaded.optimizer.learning_rate == 0.1 / 4
