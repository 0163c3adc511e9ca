"""Regularizers: formulas, gradients, names, layers, training and files, against Keras 3.

- each regularizer's penalty equals Keras' on the same tensor, and its gradient the
  float64 central differences of the penalty (so backward gets d(penalty)/dw);
- ``layer.losses`` and ``model.losses`` equal Keras' after a call (activity
  penalty divided by the batch size);
- Dense, Conv1D, Conv2D and BatchNormalization models with weight and activity
  regularizers train as Keras 3 does from the same initial weights: the loss of
  every epoch (penalties included), the validation loss, evaluate and the final
  weights, within float32 tolerance; fused sigmoid/softmax outputs too;
- ``gradcheck`` includes the penalties (a wrong regularizer gradient fails it);
- a model with none gets the plain train step; names, errors and files.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest

import glassnet
from glassnet import Input, Model, Sequential, gradcheck, regularizers
from glassnet import layers as gl
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    ModelFileError,
    ShapeError,
    UnknownNameError,
)
from glassnet.regularizers import L1, L1L2, L2, OrthogonalRegularizer, Regularizer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(7)
ALL = [
    L1(0.03),
    L2(0.05),
    L1L2(l1=0.02, l2=0.04),
    L1L2(l2=0.1),
    OrthogonalRegularizer(0.2),
    OrthogonalRegularizer(0.3, mode="columns"),
]


def numeric_gradient(function, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        plus = function(x)
        x[index] = saved - eps
        minus = function(x)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def keras_twin(regularizer: Regularizer):
    """The same regularizer in Keras, from glassnet's config."""
    return keras.regularizers.get(regularizers.serialize(regularizer))


@pytest.mark.parametrize("regularizer", ALL, ids=repr)
def test_penalty_equals_keras_and_gradient_equals_central_differences(regularizer):
    w = RNG.normal(size=(5, 4))
    penalty = keras_twin(regularizer)(keras.ops.convert_to_tensor(w))
    theirs = float(keras.ops.convert_to_numpy(penalty))
    # Keras keeps l1 and factor as float32 tensors: 1e-7 apart from the float64 ones
    np.testing.assert_allclose(regularizer(w), theirs, rtol=1e-7)
    analytic = regularizer.gradient(w)
    numeric = numeric_gradient(regularizer, w.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    assert regularizer.gradient(w.astype(np.float32)).dtype == np.float32


def test_hand_worked_values():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert L2(0.1)(w) == pytest.approx(0.1 * (1 + 4 + 0.25))  # l2 * sum(w ** 2)
    assert L1(0.1)(w) == pytest.approx(0.1 * 3.5)  # l1 * sum(|w|)
    np.testing.assert_allclose(L2(0.1).gradient(w), 0.2 * w)  # 2 * l2 * w
    np.testing.assert_allclose(L1(0.1).gradient(w), 0.1 * np.sign(w))  # 0 at 0
    # rows (1, 0) and (1, 1)/sqrt(2): one pair, |cos| = 1/sqrt(2); 0.5 * 2 entries / 1
    unit = OrthogonalRegularizer(1.0)
    assert unit(np.array([[1.0, 0.0], [1.0, 1.0]])) == pytest.approx(2**-0.5)
    assert unit(np.eye(3)) == 0.0  # orthogonal rows: no penalty


def test_names_objects_classes_and_did_you_mean():
    assert regularizers.get("l1") == L1(0.01) and regularizers.get("l2") == L2(0.01)
    assert regularizers.get("l1_l2") == regularizers.get("l1l2") == L1L2(0.0, 0.0)
    assert regularizers.get("orthogonal_regularizer") == OrthogonalRegularizer()
    assert regularizers.get("L1L2") == L1L2() and regularizers.get(L2) == L2()
    instance = L1(0.5)
    assert regularizers.get(instance) is instance and regularizers.get(None) is None
    for name in ("l1", "l2", "orthogonal_regularizer", "l1l2"):  # Keras' names
        assert (
            type(regularizers.get(name)).__name__
            == type(keras.regularizers.get(name)).__name__
        )
    with pytest.raises(UnknownNameError, match="Did you mean 'l2'"):
        regularizers.get("l22")
    with pytest.raises(UnknownNameError, match=r"kernel_regularizer.*Did you mean"):
        gl.Dense(2, kernel_regularizer="orthogonal")
    with pytest.raises(InvalidArgumentError, match="Unknown argument 'l3'"):
        regularizers.get({"class_name": "L2", "config": {"l3": 0.1}})


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: L1(-0.1), InvalidArgumentError, "l1"),
        (lambda: L2(float("nan")), InvalidArgumentError, "l2"),
        (lambda: L1L2(l2="a"), GlassnetTypeError, "l2"),
        (lambda: OrthogonalRegularizer(mode="diagonal"), InvalidArgumentError, "mode"),
        (lambda: OrthogonalRegularizer()(np.ones((2, 2, 2))), ShapeError, "2-D"),
        (lambda: OrthogonalRegularizer()(np.ones((1, 3))), ShapeError, "at least 2"),
        (
            lambda: gl.Dense(1, bias_regularizer=lambda w: 0.0),
            GlassnetTypeError,
            "bias_regularizer.*gradient",
        ),
        (lambda: gl.Conv2D(1, 2, activity_regularizer=3), GlassnetTypeError, "3"),
    ],
)
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_serialize_is_keras_form_and_round_trips():
    config = regularizers.serialize(L1L2(0.01, 0.02))
    assert config == {
        "module": "keras.regularizers",
        "class_name": "L1L2",
        "config": {"l1": 0.01, "l2": 0.02},
        "registered_name": None,
    }
    assert config == keras.regularizers.serialize(keras.regularizers.L1L2(0.01, 0.02))
    for regularizer in ALL:
        assert regularizers.deserialize(regularizers.serialize(regularizer)) == (
            regularizer
        )


def test_layer_losses_equal_keras_docstring_example():
    # Keras' example: kernel 0.25 (L1 0.01 of 25 ones), activity 5.0 (L2 0.01 of 25
    # outputs of 10, i.e. 25, over a batch of 5)
    kwargs = {"kernel_initializer": "ones", "activity_regularizer": None}
    ours = gl.Dense(5, kernel_regularizer=L1(0.01), **kwargs)
    ours.activity_regularizer = L2(0.01)
    theirs = keras.layers.Dense(
        5,
        kernel_regularizer=keras.regularizers.L1(0.01),
        activity_regularizer=keras.regularizers.L2(0.01),
        kernel_initializer="ones",
    )
    x = np.full((5, 5), 2.0, np.float32)
    assert ours.losses == []  # unbuilt: no weights, no call yet
    ours(x), theirs(x)
    keras_losses = [float(keras.ops.convert_to_numpy(v)) for v in theirs.losses]
    np.testing.assert_allclose(ours.losses, keras_losses, rtol=1e-6)
    np.testing.assert_allclose(ours.losses, [5.0, 0.25], rtol=1e-6)
    ours.trainable = False  # a frozen weight is not penalized, as in Keras
    assert ours.losses == pytest.approx([5.0])


# -- training against Keras ------------------------------------------------------------
def dense_model(lib, regs):
    layers = keras.layers if lib is keras else gl
    return lib.Sequential(
        [
            lib.Input((6,)),
            layers.Dense(
                8,
                activation="tanh",
                kernel_regularizer=regs.L1L2(l1=0.01, l2=0.02),
                bias_regularizer=regs.L2(0.05),
                activity_regularizer=regs.L1(0.01),
            ),
            layers.BatchNormalization(
                gamma_regularizer=regs.L2(0.1), beta_regularizer="l1"
            ),
            layers.Dense(
                1, kernel_regularizer="l2", activity_regularizer=regs.L2(0.02)
            ),
        ]
    )


def conv_model(lib, regs):
    layers = keras.layers if lib is keras else gl
    return lib.Sequential(
        [
            lib.Input((6, 6, 2)),
            layers.Conv2D(
                3,
                3,
                activation="relu",
                kernel_regularizer=regs.L1L2(l1=0.01, l2=0.01),
                bias_regularizer=regs.L2(0.05),
                activity_regularizer=regs.L1(0.001),
            ),
            layers.Reshape((16, 3)),
            layers.Conv1D(2, 3, kernel_regularizer=regs.L2(0.02)),
            layers.Flatten(),
            layers.Dense(3, activation="softmax", activity_regularizer=regs.L2(0.1)),
        ]
    )


def fused_sigmoid_model(lib, regs):
    layers = keras.layers if lib is keras else gl
    inputs = lib.Input((6,))
    hidden = layers.Dense(
        5, activation="relu", kernel_regularizer=regs.OrthogonalRegularizer(0.1)
    )(inputs)
    out = layers.Dense(
        1, activation="sigmoid", activity_regularizer=regs.L1L2(0.05, 0.05)
    )(hidden)
    return lib.Model(inputs, out)


CASES = [
    ("dense", dense_model, (40, 6), "mse", lambda n: RNG.normal(size=(n, 1))),
    (
        "conv",
        conv_model,
        (30, 6, 6, 2),
        "sparse_categorical_crossentropy",
        lambda n: RNG.integers(0, 3, n),
    ),
    (
        "fused-sigmoid",
        fused_sigmoid_model,
        (40, 6),
        "binary_crossentropy",
        lambda n: RNG.integers(0, 2, (n, 1)).astype(float),
    ),
]


@pytest.mark.parametrize(
    ("make", "shape", "loss", "targets"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_with_regularizers_matches_keras(
    make, shape, loss, targets, optimizer
):
    x = RNG.normal(size=shape).astype(np.float32)
    y = targets(shape[0]).astype(np.float32)
    ours, theirs = make(glassnet, regularizers), make(keras, keras.regularizers)
    theirs.set_weights(ours.get_weights())
    rate = 0.05 if optimizer == "sgd" else 0.01
    ours.compile(optimizer=glassnet.optimizers.get(optimizer), loss=loss)
    ours.optimizer.learning_rate = rate
    theirs.compile(optimizer=keras.optimizers.get(optimizer), loss=loss)
    theirs.optimizer.learning_rate = rate
    fit = {"epochs": 3, "batch_size": 16, "shuffle": False, "verbose": 0}
    validation = (x[:10], y[:10])
    h_ours = ours.fit(x, y, validation_data=validation, **fit).history
    h_theirs = theirs.fit(x, y, validation_data=validation, **fit).history
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=2e-5, err_msg=key)
    for mine, keras_weight in zip(
        ours.get_weights(), theirs.get_weights(), strict=True
    ):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(
        ours.evaluate(x, y, verbose=0, batch_size=7),
        theirs.evaluate(x, y, verbose=0, batch_size=7),
        rtol=2e-5,
    )
    ours.predict(x[:3], verbose=0), theirs(x[:3])
    keras_losses = [float(keras.ops.convert_to_numpy(v)) for v in theirs.losses]
    np.testing.assert_allclose(ours.losses, keras_losses, rtol=2e-5, atol=1e-8)
    assert h_ours["loss"][-1] > ours.evaluate(x, y, verbose=0) - sum(ours.losses)


def test_penalties_change_training_and_appear_in_the_loss():
    x = RNG.normal(size=(32, 4)).astype(np.float32)
    y = x[:, :1] * 3.0

    def trained(regularizer):
        glassnet.utils.set_random_seed(3)
        model = Sequential([Input((4,)), gl.Dense(1, kernel_regularizer=regularizer)])
        model.compile(optimizer=glassnet.optimizers.SGD(0.1), loss="mse")
        history = model.fit(x, y, epochs=20, batch_size=32, verbose=0).history
        return model, history["loss"][-1]

    plain, plain_loss = trained(None)
    ridge, ridge_loss = trained(L2(0.5))
    assert plain.train_penalties is None  # no regularizer: the plain step, no tally
    assert ridge.train_penalties is not None
    # L2 shrinks the weights; its loss holds the penalty on top of the data loss
    assert np.abs(ridge.get_weights()[0]).sum() < np.abs(plain.get_weights()[0]).sum()
    data_loss = float(np.mean((ridge.predict(x, verbose=0) - y) ** 2))
    assert ridge.evaluate(x, y, verbose=0) == pytest.approx(
        data_loss + ridge.losses[0], rel=1e-5
    )
    assert ridge_loss > plain_loss


# -- gradcheck ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer",
    [
        lambda: gl.Dense(
            3,
            activation="tanh",
            kernel_regularizer=L1L2(0.01, 0.02),
            bias_regularizer="l2",
            activity_regularizer=OrthogonalRegularizer(0.3, "columns"),
        ),
        lambda: gl.Conv2D(
            2, 2, kernel_regularizer="l2", activity_regularizer=L1L2(0.01, 0.01)
        ),
        lambda: gl.Conv1D(2, 2, bias_regularizer=L2(0.3), activity_regularizer="l2"),
        lambda: gl.BatchNormalization(gamma_regularizer="l2", beta_regularizer="l1"),
        lambda: gl.LayerNormalization(gamma_regularizer=L2(0.5), beta_regularizer="l2"),
    ],
    ids=["dense", "conv2d", "conv1d", "batchnorm", "layernorm"],
)
def test_layers_with_penalties_pass_gradcheck(layer):
    made = layer()
    shape = {2: (6, 4), 3: (4, 5, 3), 4: (3, 4, 4, 2)}
    rank = made.rank + 2 if hasattr(made, "rank") else 2
    report = gradcheck(made, RNG.normal(size=shape[rank]) + 0.3, training=True)
    assert report.passed, str(report)


def test_models_with_penalties_pass_gradcheck_and_a_wrong_gradient_fails():
    x, y = RNG.normal(size=(6, 4)), RNG.integers(0, 3, 6)
    dropout = gl.Dropout(0.2)
    dropout.activity_regularizer = "l2"  # any layer takes one, as in Keras
    inputs = Input((4,))
    shared = gl.Dense(4, activation="tanh", activity_regularizer=L2(0.3))
    hidden = gl.Add()([shared(inputs), shared(shared(inputs))])  # two calls
    out = gl.Dense(3, activation="softmax", activity_regularizer="l2")(dropout(hidden))
    model = Model(inputs, out)
    model.compile(loss="sparse_categorical_crossentropy")  # fused softmax output
    report = gradcheck(model, x, y, training=True)
    assert report.passed, str(report)

    class WrongL2(L2):
        def gradient(self, x):
            return super().gradient(x) * 1.5

    targets = RNG.normal(size=(6, 2))
    for attribute in ("kernel_regularizer", "activity_regularizer"):
        for regularizer, passes in ((L2(0.5), True), (WrongL2(0.5), False)):
            model = Sequential([Input((4,)), gl.Dense(2)])
            setattr(model.layers[0], attribute, regularizer)
            model.compile(loss="mse")
            assert gradcheck(model, x, targets).passed is passes, attribute


# -- files ----------------------------------------------------------------------------
def test_files_carry_regularizers_both_ways_with_keras(tmp_path):
    ours = dense_model(glassnet, regularizers)
    ours.layers[0].activity_regularizer = None
    ours.compile(loss="mse")
    x = RNG.normal(size=(5, 6)).astype(np.float32)
    for name in ("ours.keras", "ours.h5"):
        ours.save(tmp_path / name)
        theirs = keras.models.load_model(tmp_path / name)
        assert theirs.layers[0].kernel_regularizer.get_config() == {
            "l1": 0.01,
            "l2": 0.02,
        }
        assert theirs.layers[0].activity_regularizer is None
        assert type(theirs.layers[2].activity_regularizer).__name__ == "L2"
        again = glassnet.models.load_model(tmp_path / name)
        for read, made in zip(again.layers, ours.layers, strict=True):
            assert {**read.get_config(), "input_shape": None} == {
                **made.get_config(),
                "input_shape": None,
            }
        np.testing.assert_allclose(
            again.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6
        )
    keras_made = dense_model(keras, keras.regularizers)
    keras_made.compile(loss="mse")
    keras_made.save(tmp_path / "theirs.keras")
    loaded = glassnet.models.load_model(tmp_path / "theirs.keras")
    assert loaded.layers[0].kernel_regularizer == L1L2(0.01, 0.02)
    # Keras keeps l1 as a float32 tensor and writes 0.009999999776482582
    assert loaded.layers[0].activity_regularizer == L1(float(np.float32(0.01)))
    assert loaded.layers[1].gamma_regularizer == L2(0.1)


def test_unknown_regularizer_in_a_file_is_refused_with_a_suggestion():
    model = Sequential([Input((3,)), gl.Dense(2, kernel_regularizer="l2")])
    text = model.to_json().replace('"class_name": "L2"', '"class_name": "L22"')
    with pytest.raises(ModelFileError, match=r"kernel_regularizer.*Did you mean"):
        glassnet.models.model_from_json(text)


class Quartic(Regularizer):
    """``scale * sum(w ** 4)``: a regularizer of one's own, gradient ``4 * scale * w ** 3``."""

    def __init__(self, scale: float = 0.1) -> None:
        self.scale = scale

    def __call__(self, x):
        return self.scale * float(np.sum(x**4))

    def gradient(self, x):
        return (4 * self.scale) * x**3

    def get_config(self):
        return {"scale": self.scale}


def test_a_regularizer_of_ones_own_loads_with_custom_objects(tmp_path):
    model = Sequential([Input((3,)), gl.Dense(2, kernel_regularizer=Quartic(0.2))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))
    assert gradcheck(model, x, y).passed
    model.fit(x, y, epochs=2, verbose=0)
    assert regularizers.serialize(Quartic())["module"] is None  # not Keras'
    model.save(tmp_path / "own.keras")
    with pytest.raises(ModelFileError, match=r"kernel_regularizer.*Quartic"):
        glassnet.models.load_model(tmp_path / "own.keras")
    loaded = glassnet.models.load_model(
        tmp_path / "own.keras", custom_objects={"Quartic": Quartic}
    )
    assert isinstance(loaded.layers[0].kernel_regularizer, Quartic)
    assert loaded.losses == pytest.approx(model.losses)
