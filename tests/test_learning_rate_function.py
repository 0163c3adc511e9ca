"""A learning rate given as a function of no arguments, as Keras 3 accepts.

Checked against closed-form SGD steps, and saving: a file holds the function's value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet.errors import InvalidArgumentError
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adam
from glassnet.optimizers.schedules import ExponentialDecay


def test_the_function_is_read_before_every_step() -> None:
    rate = {"now": 0.1}
    optimizer = SGD(learning_rate=lambda: rate["now"])
    w = np.array([1.0])
    optimizer.apply([("w", w, np.array([2.0]))])  # 1 - 0.1 * 2
    rate["now"] = 0.25
    optimizer.apply([("w", w, np.array([2.0]))])  # 0.8 - 0.25 * 2
    np.testing.assert_allclose(w, [0.3])
    assert optimizer.learning_rate == 0.25


def test_a_number_rate_may_become_a_function_and_fit_follows_it() -> None:
    model = Sequential([Dense(1, input_dim=1, use_bias=False)], seed=0)
    model.compile(optimizer=SGD(0.5), loss="mse")
    model.optimizer.learning_rate = lambda: 0.0  # a frozen rate: nothing moves
    before = model.get_weights()[0].copy()
    model.fit(np.ones((4, 1)), np.zeros((4, 1)), epochs=2, verbose=0)
    np.testing.assert_array_equal(model.get_weights()[0], before)


def test_a_bad_value_from_the_function_is_refused_and_changes_nothing() -> None:
    optimizer = Adam(learning_rate=lambda: float("nan"))
    w = np.array([1.0])
    with pytest.raises(InvalidArgumentError, match="learning rate"):
        optimizer.apply([("w", w, np.array([1.0]))])
    assert w[0] == 1.0 and optimizer.iterations == 0


def test_a_schedule_is_still_a_schedule_not_a_function() -> None:
    schedule = ExponentialDecay(0.1, 1, 0.5)
    assert SGD(schedule).schedule is schedule


def test_a_saved_model_keeps_the_current_rate(tmp_path: Path) -> None:
    model = Sequential([Dense(1, input_dim=1)], seed=0)
    model.compile(optimizer=SGD(lambda: 0.03), loss="mse")
    model.fit(np.ones((4, 1)), np.zeros((4, 1)), verbose=0)
    with pytest.warns(UserWarning, match="current value 0.03"):
        model.save(tmp_path / "m.keras")
    loaded = glassnet.models.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.learning_rate == pytest.approx(0.03)
    assert "RateFunction" in repr(model.optimizer)  # repr shows it, silently
