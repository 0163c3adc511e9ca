"""Constraints: projections equal to Keras 3's, applied after each update as Keras does.

- each constraint gives Keras' values on the same tensors, for several axes;
- Dense, Conv2D and LayerNormalization models with kernel, bias and gamma/beta
  constraints train as Keras 3 does from the same initial weights (losses and final
  weights within float32 tolerance), with SGD and Adam;
- only trainable weights are projected, in place (they stay views into the flat
  buffer); names, errors and files, both ways with Keras.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest

import glassnet
from glassnet import Input, Sequential, constraints
from glassnet import layers as gl
from glassnet.constraints import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    ModelFileError,
    ShapeError,
    UnknownNameError,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(5)
ALL = [
    MaxNorm(1.5),
    MaxNorm(2, axis=[0, 1, 2]),
    MaxNorm(0.5, axis=-1),
    NonNeg(),
    UnitNorm(),
    UnitNorm(axis=[0, 1]),
    MinMaxNorm(0.5, 1.5),
    MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.3, axis=[1, 2]),
]


@pytest.mark.parametrize("constraint", ALL, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_projection_equals_keras(constraint, dtype):
    w = RNG.normal(scale=1.5, size=(3, 2, 4, 5)).astype(dtype)
    w[..., 0] = 0.0  # a zero unit stays finite (EPSILON in the norm)
    theirs = keras.constraints.get(constraints.serialize(constraint))
    expected = keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(w)))
    mine = constraint(w)
    assert mine.dtype == dtype and mine.shape == w.shape
    # (Keras' NonNeg casts float64 weights to float32, hence the float32 tolerance)
    np.testing.assert_allclose(mine, expected, rtol=1e-6)


def test_hand_worked_projections():
    w = np.array([[3.0, 0.3], [4.0, 0.4]])  # column norms 5 and 0.5
    # MaxNorm(2): the first column scaled to norm 2, the second kept (up to EPSILON)
    np.testing.assert_allclose(MaxNorm(2)(w), [[1.2, 0.3], [1.6, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(UnitNorm()(w), [[0.6, 0.6], [0.8, 0.8]], rtol=1e-6)
    # MinMaxNorm(1, 2, rate=0.5): norms 5 -> 0.5 * 2 + 0.5 * 5 = 3.5, 0.5 -> 0.75
    np.testing.assert_allclose(
        MinMaxNorm(1, 2, rate=0.5)(w), [[2.1, 0.45], [2.8, 0.6]], rtol=1e-6
    )
    np.testing.assert_array_equal(NonNeg()(np.array([-1.0, 0.0, 2.0])), [0, 0, 2])


def test_names_objects_and_errors():
    for name, cls in (
        ("max_norm", MaxNorm),
        ("non_neg", NonNeg),
        ("unit_norm", UnitNorm),
        ("min_max_norm", MinMaxNorm),
    ):
        assert type(constraints.get(name)) is cls
        assert constraints.get(cls.__name__) == cls() == constraints.get(cls)
        assert type(keras.constraints.get(name)).__name__ == cls.__name__
        assert (
            constraints.get(name).get_config()
            == keras.constraints.get(name).get_config()
        )
    instance = MaxNorm(3)
    assert constraints.get(instance) is instance and constraints.get(None) is None
    with pytest.raises(UnknownNameError, match="Did you mean 'max_norm'"):
        constraints.get("maxnorm")
    with pytest.raises(UnknownNameError, match=r"bias_constraint.*Did you mean"):
        gl.Dense(1, bias_constraint="non_negative")
    with pytest.raises(GlassnetTypeError, match=r"kernel_constraint.*function"):
        gl.Conv1D(1, 2, kernel_constraint=lambda w: w)
    for make, match in [
        (lambda: MaxNorm(-1), "max_value"),
        (lambda: MaxNorm(axis=1.5), "axis"),
        (lambda: UnitNorm(axis=[0, 0]), "distinct"),
        (lambda: MinMaxNorm(2.0, 1.0), "min_value"),
        (lambda: MinMaxNorm(rate=1.5), "rate"),
    ]:
        with pytest.raises(InvalidArgumentError, match=match):
            make()
    config = constraints.serialize(MaxNorm(3, axis=[0, 1]))
    assert config == keras.constraints.serialize(keras.constraints.MaxNorm(3, [0, 1]))
    assert constraints.deserialize(config) == MaxNorm(3, axis=[0, 1])


def test_a_custom_constraint_and_the_base_identity():
    class Clip(Constraint):
        def __call__(self, w):
            return np.clip(w, -0.1, 0.1)

    model = Sequential([Input((3,)), gl.Dense(2, kernel_constraint=Clip())])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2)), epochs=2, verbose=0)
    assert np.abs(model.get_weights()[0]).max() <= 0.1
    assert Constraint()(np.ones(2)) is not None


# -- training against Keras ------------------------------------------------------------
def dense_model(lib, cons):
    layers = keras.layers if lib is keras else gl
    return lib.Sequential(
        [
            lib.Input((5,)),
            layers.Dense(
                6,
                activation="tanh",
                kernel_constraint=cons.MaxNorm(0.8),
                bias_constraint=cons.NonNeg(),
            ),
            layers.LayerNormalization(
                gamma_constraint=cons.MinMaxNorm(0.5, 1.0, rate=0.5, axis=0),
                beta_constraint="non_neg",
            ),
            layers.Dense(2, kernel_constraint=cons.UnitNorm(axis=0)),
        ]
    )


def conv_model(lib, cons):
    layers = keras.layers if lib is keras else gl
    return lib.Sequential(
        [
            lib.Input((5, 5, 2)),
            layers.Conv2D(
                3, 2, activation="relu", kernel_constraint=cons.MaxNorm(0.7, [0, 1, 2])
            ),
            layers.Flatten(),
            layers.Dense(1, kernel_constraint="non_neg"),
        ]
    )


@pytest.mark.parametrize(
    ("make", "shape", "outputs"),
    [(dense_model, (36, 5), 2), (conv_model, (30, 5, 5, 2), 1)],
    ids=["dense", "conv"],
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_with_constraints_matches_keras(make, shape, outputs, optimizer):
    x = RNG.normal(size=shape).astype(np.float32)
    y = RNG.normal(size=(shape[0], outputs)).astype(np.float32)
    ours, theirs = make(glassnet, constraints), make(keras, keras.constraints)
    theirs.set_weights(ours.get_weights())
    rate = 0.1 if optimizer == "sgd" else 0.02
    ours.compile(optimizer=glassnet.optimizers.get(optimizer), loss="mse")
    ours.optimizer.learning_rate = rate
    theirs.compile(optimizer=keras.optimizers.get(optimizer), loss="mse")
    theirs.optimizer.learning_rate = rate
    fit = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}
    h_ours, h_theirs = ours.fit(x, y, **fit), theirs.fit(x, y, **fit)
    np.testing.assert_allclose(
        h_ours.history["loss"], h_theirs.history["loss"], rtol=2e-5
    )
    for mine, keras_weight in zip(
        ours.get_weights(), theirs.get_weights(), strict=True
    ):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-4, atol=2e-6)
    kernel = ours.layers[0].params["W"]
    norms = np.sqrt((kernel**2).sum(axis=0 if kernel.ndim == 2 else (0, 1, 2)))
    assert norms.max() <= (0.8 if kernel.ndim == 2 else 0.7) + 1e-6


def test_constraints_project_in_place_and_only_trainable_weights():
    model = Sequential(
        [
            Input((4,)),
            gl.Dense(3, kernel_constraint=MaxNorm(0.01), name="frozen"),
            gl.Dense(2, bias_constraint=NonNeg(), kernel_constraint=MaxNorm(0.5)),
        ]
    )
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()[0]
    model.compile(optimizer=glassnet.optimizers.SGD(0.5), loss="mse")
    x, y = RNG.normal(size=(16, 4)), RNG.normal(size=(16, 2)) - 3.0
    model.fit(x, y, epochs=3, verbose=0)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], before)
    top = model.layers[1]
    assert (top.params["b"] >= 0).all()
    assert np.sqrt((top.params["W"] ** 2).sum(axis=0)).max() <= 0.5 + 1e-6
    assert np.shares_memory(top.params["W"], model.flat.params)


def test_a_constraint_axis_the_weight_lacks_is_refused_before_training():
    model = Sequential([Input((3,)), gl.Dense(2, kernel_constraint=MaxNorm(axis=2))])
    model.compile(optimizer="sgd", loss="mse")
    weights = model.get_weights()
    with pytest.raises(ShapeError, match=r"axis 2.*shape \(3, 2\)"):
        model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


# -- files ----------------------------------------------------------------------------
def test_files_carry_constraints_both_ways_with_keras(tmp_path):
    ours = dense_model(glassnet, constraints)
    ours.compile(loss="mse")
    ours.save(tmp_path / "ours.keras")
    theirs = keras.models.load_model(tmp_path / "ours.keras")
    assert theirs.layers[0].kernel_constraint.get_config() == {
        "max_value": 0.8,
        "axis": 0,
    }
    assert type(theirs.layers[1].beta_constraint).__name__ == "NonNeg"
    keras_made = conv_model(keras, keras.constraints)
    keras_made.compile(loss="mse")
    for name in ("theirs.keras", "theirs.h5"):
        keras_made.save(tmp_path / name)
        loaded = glassnet.models.load_model(tmp_path / name)
        assert loaded.layers[0].kernel_constraint == MaxNorm(0.7, axis=[0, 1, 2])
        assert loaded.layers[2].kernel_constraint == NonNeg()
    text = Sequential(
        [Input((3,)), gl.Dense(1, kernel_constraint="unit_norm")]
    ).to_json()
    with pytest.raises(ModelFileError, match=r"kernel_constraint.*Did you mean"):
        glassnet.models.model_from_json(text.replace("UnitNorm", "UnitNrom"))
