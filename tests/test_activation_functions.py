"""glassnet.activations' plain functions (``relu(x)``...) and functions as activations.

The functions match Keras 3's ``keras.activations.*`` (torch backend) to float32
tolerance; given as a layer's activation, a function is its class in the default
form: the same config, the same saved name, the same training, and Keras loads the
file. Any other callable is refused with what is accepted.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import functools
import json
from typing import Any

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import glassnet  # noqa: E402
from glassnet import activations  # noqa: E402
from glassnet.activations import (  # noqa: E402
    ELU,
    GELU,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from glassnet.errors import GlassnetTypeError, InvalidArgumentError  # noqa: E402
from glassnet.gradient_check import gradcheck  # noqa: E402
from glassnet.layers import Activation, Conv1D, Dense  # noqa: E402
from glassnet.models import Sequential, load_model  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(5)
# Values across the interesting ranges: around 0, the kinks, and saturation.
X32 = np.concatenate(
    [RNG.normal(scale=3.0, size=(6, 7)), np.array([[0, -1e-3, 1e-3, 5, -5, 30, -30]])]
).astype(np.float32)
# float32: relative 2e-6, and 1e-6 absolute where results cancel towards 0
# (Keras on torch computes exact GELU as x (1 + erf) / 2 in float32; glassnet in
# float64, so its left tail is the closer one).
F32 = {"rtol": 2e-6, "atol": 1e-6}

FUNCTIONS: dict[str, tuple[Any, type]] = {
    "sigmoid": (activations.sigmoid, Sigmoid),
    "tanh": (activations.tanh, Tanh),
    "relu": (activations.relu, ReLU),
    "leaky_relu": (activations.leaky_relu, LeakyReLU),
    "elu": (activations.elu, ELU),
    "softplus": (activations.softplus, Softplus),
    "softmax": (activations.softmax, Softmax),
    "linear": (activations.linear, Linear),
    "step": (activations.step, Step),
    "gelu": (activations.gelu, GELU),
    "silu": (activations.silu, SiLU),
}
KERAS_NAMES = [name for name in FUNCTIONS if name != "step"]  # Keras has no step


def keras_value(name: str, x: np.ndarray, **kwargs: Any) -> np.ndarray:
    result = getattr(keras.activations, name)(x, **kwargs)
    return np.asarray(keras.ops.convert_to_numpy(result))


def test_every_registered_activation_has_its_function() -> None:
    assert {cls for _, cls in FUNCTIONS.values()} == set(activations.registry.classes())
    for name, (function, _) in FUNCTIONS.items():
        assert function.__name__ == name
        assert name in activations.__all__


# -- values ----------------------------------------------------------------------
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_defaults_match_keras(name: str) -> None:
    function, _ = FUNCTIONS[name]
    ours = function(X32)
    assert ours.dtype == np.float32 and ours.shape == X32.shape
    np.testing.assert_allclose(ours, keras_value(name, X32), **F32)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("relu", {"negative_slope": 0.3}),
        ("relu", {"max_value": 6.0}),
        ("relu", {"max_value": 2.5}),
        ("relu", {"threshold": 1.0}),
        ("relu", {"threshold": -1.0}),
        ("relu", {"threshold": -1.0, "max_value": 2.0}),
        ("relu", {"negative_slope": 0.1, "max_value": 4.0}),
        ("relu", {"negative_slope": 0.5, "threshold": 1.5}),
        ("relu", {"negative_slope": 0.2, "max_value": 3.0, "threshold": -0.5}),
        ("relu", {"max_value": 0.0}),
        ("leaky_relu", {"negative_slope": 0.01}),
        ("elu", {"alpha": 0.4}),
        ("softmax", {"axis": 0}),
        ("gelu", {"approximate": True}),
    ],
)
def test_arguments_match_keras(name: str, kwargs: dict[str, Any]) -> None:
    function, _ = FUNCTIONS[name]
    np.testing.assert_allclose(
        function(X32, **kwargs), keras_value(name, X32, **kwargs), **F32
    )


def test_relu_options_by_hand() -> None:
    x = np.array([-10.0, -5.0, 0.0, 2.0, 5.0, 10.0])
    relu = activations.relu
    # below the threshold 2: slope 0.5 * (x - 2); above it x, capped at 6
    np.testing.assert_array_equal(
        relu(x, negative_slope=0.5, max_value=6.0, threshold=2.0),
        [-6.0, -3.5, -1.0, -0.0, 5.0, 6.0],
    )
    np.testing.assert_array_equal(relu(x, threshold=5.0), [0, 0, 0, 0, 0, 10])
    # a negative threshold passes values in (threshold, 0) through, unless capped
    # (the cap also clips to 0, as in Keras)
    y = np.array([-2.0, -0.5, 1.0])
    np.testing.assert_array_equal(relu(y, threshold=-1.0), [0.0, -0.5, 1.0])
    np.testing.assert_array_equal(relu(y, threshold=-1.0, max_value=3.0), [0, 0, 1])


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_is_its_class(name: str) -> None:
    function, cls = FUNCTIONS[name]
    for dtype in (np.float32, np.float64):
        x = X32.astype(dtype)
        np.testing.assert_array_equal(function(x), cls()(x))
        assert function(x).dtype == dtype


def test_non_float_inputs_become_float64_and_nan_passes_through() -> None:
    assert activations.relu([-1, 2]).dtype == np.float64
    np.testing.assert_array_equal(activations.relu([-1, 2]), [0.0, 2.0])
    np.testing.assert_array_equal(activations.sigmoid(np.array([0, 0])), [0.5, 0.5])
    assert activations.tanh(np.array([True])).dtype == np.float64
    assert np.isnan(activations.relu(np.array([np.nan]))).all()
    np.testing.assert_array_equal(
        activations.sigmoid(np.array([-np.inf, np.inf])), [0, 1]
    )
    assert activations.swish is activations.silu


# -- as a layer's activation ---------------------------------------------------------
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_function_resolves_and_saves_as_its_name(name: str) -> None:
    function, cls = FUNCTIONS[name]
    assert activations.get(function) == cls() == activations.get(name)
    assert activations.serialize(function) == name == activations.serialize(cls())
    assert activations.deserialize(activations.serialize(function)) == cls()
    dense = Dense(3, activation=function)
    assert dense.activation == cls()
    assert (
        dense.get_config()["activation"]
        == Dense(3, activation=name).get_config()["activation"]
    )
    assert Activation(function).get_config()["activation"] == name


def test_swish_is_silu_everywhere() -> None:
    assert activations.get(activations.swish) == SiLU()
    assert activations.serialize(activations.swish) == "silu"
    assert activations.deserialize("swish") == SiLU()


def test_other_layers_take_functions() -> None:
    conv = Conv1D(2, 3, activation=activations.gelu)
    assert conv.activation == GELU() and conv.get_config()["activation"] == "gelu"


def test_a_model_with_functions_trains_exactly_as_with_names() -> None:
    x = RNG.normal(size=(40, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, 40)]

    def trained(hidden: Any, output: Any) -> list[np.ndarray]:
        model = Sequential(
            [Dense(8, activation=hidden, input_dim=4), Dense(3, activation=output)],
            seed=4,
        )
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return model.get_weights()

    by_function = trained(activations.elu, activations.softmax)
    by_name = trained("elu", "softmax")
    for a, b in zip(by_function, by_name, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_dense_layer_with_a_function_passes_gradcheck() -> None:
    x = np.random.default_rng(1).normal(size=(3, 4))
    x = np.where(np.abs(x) < 0.1, 0.3, x)  # away from the kink
    for function in (activations.relu, activations.gelu, activations.softmax):
        report = gradcheck(Dense(2, activation=function), x)
        assert report.passed, str(report)


def test_the_keras_file_names_the_function_and_keras_loads_it(tmp_path) -> None:
    model = Sequential(
        [
            glassnet.Input((4,)),
            Dense(5, activation=activations.relu),
            Dense(5, activation=activations.silu),
            Dense(3, activation=activations.softmax),
        ],
        seed=2,
    )
    path = tmp_path / "functions.keras"
    model.save(path)
    config = json.loads(model.to_json())
    names = [layer["config"].get("activation") for layer in config["config"]["layers"]]
    assert [n for n in names if n] == ["relu", "silu", "softmax"]
    x = RNG.normal(size=(6, 4)).astype(np.float32)
    ours = load_model(path)
    assert [layer.activation for layer in ours.layers] == [ReLU(), SiLU(), Softmax()]
    np.testing.assert_array_equal(
        ours.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    theirs = keras.models.load_model(path)
    assert theirs.layers[0].activation is keras.activations.relu
    np.testing.assert_allclose(
        theirs.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_keras_function_config_form_is_read() -> None:
    from keras.src.saving import serialization_lib

    form = serialization_lib.serialize_keras_object(keras.activations.relu)
    assert form["class_name"] == "function"
    assert activations.get(form) == ReLU() == activations.deserialize(form)
    with pytest.raises(InvalidArgumentError, match="never imports code"):
        activations.get({"class_name": "function", "config": "relu", "module": "os"})
    with pytest.raises(InvalidArgumentError, match="built-in activations"):
        activations.get({"class_name": "function", "config": 3})


# -- refusals -------------------------------------------------------------------------
def my_activation(x: np.ndarray) -> np.ndarray:
    return x * 2


@pytest.mark.parametrize(
    "callable_",
    [
        my_activation,
        lambda x: x,
        functools.partial(activations.leaky_relu, negative_slope=0.1),
    ],
    ids=["function", "lambda", "partial"],
)
def test_other_callables_are_refused_with_what_is_accepted(callable_: Any) -> None:
    with pytest.raises(GlassnetTypeError) as info:
        Dense(3, activation=callable_)
    message = str(info.value)
    assert "glassnet cannot use" in message
    assert "never as code" in message
    assert "a function of glassnet.activations (sigmoid, tanh, relu" in message
    assert "ActivationFunction" in message
    assert "Received: activation=" in message
    with pytest.raises(GlassnetTypeError):
        activations.serialize(callable_)


@pytest.mark.parametrize("foreign", [np.tanh, keras.activations.relu])
def test_a_foreign_function_of_a_known_name_gets_a_suggestion(foreign: Any) -> None:
    name = foreign.__name__
    with pytest.raises(
        GlassnetTypeError, match=rf"Did you mean glassnet.activations.{name} "
    ):
        activations.get(foreign)


def test_a_class_must_be_instantiated() -> None:
    with pytest.raises(GlassnetTypeError, match=r"pass ReLU\(\) rather than the class"):
        Dense(2, activation=ReLU)


def test_deserialize_takes_names_and_configs_only() -> None:
    with pytest.raises(GlassnetTypeError, match="Argument `config` must be"):
        activations.deserialize(activations.relu)  # type: ignore[arg-type]
    with pytest.raises(GlassnetTypeError, match="Received: config=3"):
        activations.deserialize(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: activations.relu(X32, max_value=-1.0), r"`max_value`.*max_value=-1.0"),
        (lambda: activations.relu(X32, negative_slope=-0.1), r"negative_slope=-0.1"),
        (lambda: activations.relu(X32, threshold=float("nan")), r"`threshold` must be"),
        (lambda: activations.relu(X32, threshold="1"), r"`threshold` must be a number"),
        (lambda: activations.leaky_relu(X32, negative_slope=-1), r"negative_slope"),
        (lambda: activations.elu(X32, alpha=-1.0), r"alpha=-1.0"),
        (lambda: activations.softmax(X32, axis=2), r"from -2 to 1. Received: axis=2"),
        (lambda: activations.softmax(np.float32(1.0)), r"0-D input"),
        (lambda: activations.softmax(X32, axis=1.0), r"`axis` must be an integer"),
        (lambda: activations.gelu(X32, approximate="yes"), r"`approximate` must be"),
        (lambda: activations.step(X32, threshold=None), r"`threshold` must be"),
        (lambda: activations.relu(np.array(["a"])), r"`x` must hold numbers"),
    ],
)
def test_bad_arguments_are_named(call: Any, match: str) -> None:
    with pytest.raises((GlassnetTypeError, InvalidArgumentError), match=match):
        call()
