"""Interoperability with the real Keras 3 (PyTorch backend): files go both ways.

glassnet's files load in Keras and predict the same; Keras' files load in glassnet
and predict the same (float32 tolerance). Keras 3 can no longer write the legacy
``save_weights("x.h5")`` layout of seeds/002 (it insists on ``.weights.h5``), so that
file is written here with h5py exactly as Keras 2 wrote it; Keras 3 still writes
whole legacy models with ``model.save("x.h5")``.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import json
import warnings

import h5py
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from glassnet.errors import GlassnetWarning, ModelFileError  # noqa: E402
from glassnet.layers import Activation, Dense, Dropout  # noqa: E402
from glassnet.models import Sequential, load_model, model_from_json  # noqa: E402
from glassnet.optimizers import Adam  # noqa: E402

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

X = np.random.default_rng(11).normal(size=(32, 3)).astype("float32")
Y = np.eye(2, dtype="float32")[np.random.default_rng(12).integers(0, 2, 32)]
TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


def keras_model(dtype: str = "float32", **dense: object) -> keras.Sequential:
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(5, activation="relu", dtype=dtype, **dense),
            keras.layers.Dropout(0.3, dtype=dtype),
            keras.layers.Activation("tanh", dtype=dtype),
            keras.layers.Dense(2, activation="softmax", dtype=dtype),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def glassnet_model(dtype: str = "float32") -> Sequential:
    model = Sequential(
        [
            Dense(5, activation="relu", input_dim=3),
            Dropout(0.3),
            Activation("tanh"),
            Dense(2, activation="softmax"),
        ],
        seed=3,
        dtype=dtype,
    )
    model.compile(
        optimizer=Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    return model


@pytest.fixture(scope="module")
def from_keras(tmp_path_factory):
    """A trained Keras model and the files Keras wrote for it."""
    folder = tmp_path_factory.mktemp("keras")
    model = keras_model()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    model.save(folder / "k.keras")
    model.save_weights(folder / "k.weights.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(folder / "k.h5")  # the legacy whole-model layout
    return model, folder


@pytest.fixture(scope="module")
def from_glassnet(tmp_path_factory):
    """A trained glassnet model and the files glassnet wrote for it."""
    folder = tmp_path_factory.mktemp("glassnet")
    model = glassnet_model()
    model.fit(X, Y, epochs=3, batch_size=8, verbose=0)
    model.save(folder / "g.keras")
    model.save(folder / "g.h5")
    model.save_weights(folder / "g.weights.h5")
    model.save_weights(folder / "w.h5")
    return model, folder


# -- Keras -> glassnet -----------------------------------------------------------------
def test_keras_archive_loads_in_glassnet(from_keras):
    model, folder = from_keras
    ours = load_model(folder / "k.keras")
    assert [type(layer).__name__ for layer in ours.layers] == [
        "Dense",
        "Dropout",
        "Activation",
        "Dense",
    ]
    np.testing.assert_allclose(
        ours.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )
    assert ours.loss.name == "categorical_crossentropy"
    assert ours.optimizer.iterations == int(model.optimizer.iterations)
    assert ours.optimizer.learning_rate == pytest.approx(0.01)


@pytest.mark.parametrize("name", ["k.weights.h5", "k.h5", "k.keras"])
def test_keras_weights_load_into_a_glassnet_model(from_keras, name):
    model, folder = from_keras
    ours = model_from_json(model.to_json())
    ours.load_weights(folder / name)
    np.testing.assert_allclose(
        ours.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )


def test_keras_legacy_h5_model_loads_in_glassnet(from_keras):
    model, folder = from_keras
    ours = load_model(folder / "k.h5")
    np.testing.assert_allclose(
        ours.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )
    assert ours.compiled and type(ours.optimizer).__name__ == "Adam"


def test_training_continues_from_the_keras_optimizer_state(from_keras):
    _, folder = from_keras
    ours = load_model(folder / "k.keras")
    theirs = keras.models.load_model(folder / "k.keras")
    # One more full-batch step in each library, without dropout (its masks differ).
    ours.layers[1].rate = theirs.layers[1].rate = 0.0
    ours.fit(X, Y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    theirs.fit(X, Y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_a_float64_keras_model_loads_as_float64(tmp_path):
    model = keras_model("float64")
    model.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    assert ours.dtype == np.float64 and ours.get_weights()[0].dtype == np.float64
    np.testing.assert_allclose(
        ours.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )


# -- glassnet -> Keras -----------------------------------------------------------------
def test_glassnet_archive_loads_in_keras(from_glassnet):
    model, folder = from_glassnet
    theirs = keras.models.load_model(folder / "g.keras")
    np.testing.assert_allclose(
        theirs.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )
    assert int(theirs.optimizer.iterations) == model.optimizer.iterations
    assert theirs.loss == "categorical_crossentropy"


@pytest.mark.parametrize("name", ["g.weights.h5", "w.h5", "g.h5"])
def test_glassnet_weights_load_into_a_keras_model(from_glassnet, name):
    model, folder = from_glassnet
    theirs = keras.models.model_from_json(model.to_json())
    theirs.load_weights(folder / name)
    np.testing.assert_allclose(
        theirs.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )


def test_glassnet_legacy_h5_model_loads_in_keras(from_glassnet):
    model, folder = from_glassnet
    theirs = keras.models.load_model(folder / "g.h5")
    np.testing.assert_allclose(
        theirs.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )


def test_keras_resumes_from_the_glassnet_optimizer_state(from_glassnet, tmp_path):
    _, folder = from_glassnet
    ours = load_model(folder / "g.keras")
    ours.layers[1].rate = 0.0
    ours.save(tmp_path / "nodrop.keras")
    theirs = keras.models.load_model(tmp_path / "nodrop.keras")
    ours.fit(X, Y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    theirs.fit(X, Y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# -- Keras 2 files -----------------------------------------------------------------------
KERAS2_JSON = {
    "class_name": "Sequential",
    "config": {
        "name": "sequential_1",
        "layers": [
            {
                "class_name": "Dense",
                "config": {
                    "name": "dense_1",
                    "trainable": True,
                    "batch_input_shape": [None, 2],
                    "dtype": "float32",
                    "units": 10,
                    "activation": "linear",
                    "use_bias": True,
                    "kernel_initializer": {
                        "class_name": "VarianceScaling",
                        "config": {
                            "scale": 1.0,
                            "mode": "fan_avg",
                            "distribution": "uniform",
                            "seed": None,
                        },
                    },
                    "bias_initializer": {"class_name": "Zeros", "config": {}},
                    "kernel_regularizer": None,
                    "bias_regularizer": None,
                    "activity_regularizer": None,
                    "kernel_constraint": None,
                    "bias_constraint": None,
                },
            },
            {
                "class_name": "Activation",
                "config": {
                    "name": "activation_1",
                    "trainable": True,
                    "activation": "tanh",
                },
            },
            {
                "class_name": "Dense",
                "config": {
                    "name": "dense_2",
                    "trainable": True,
                    "units": 1,
                    "activation": "linear",
                    "use_bias": True,
                },
            },
            {
                "class_name": "Activation",
                "config": {
                    "name": "activation_2",
                    "trainable": True,
                    "activation": "sigmoid",
                },
            },
        ],
    },
    "keras_version": "2.2.4",
    "backend": "tensorflow",
}


def write_keras2_weights(path, weights: list[np.ndarray]) -> None:
    """What Keras 2's ``model.save_weights("basic_weights.h5")`` wrote for seeds/002."""
    names = ["dense_1", "activation_1", "dense_2", "activation_2"]
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [n.encode("utf8") for n in names]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        values = iter(weights)
        for name in sorted(names):
            group = f.create_group(name)
            weight_names = (
                [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
                if name.startswith("dense")
                else []
            )
            group.attrs["weight_names"] = weight_names
            for weight_name in weight_names:
                group.create_dataset(weight_name.decode(), data=next(values))


def test_seed_002_keras_2_files_load_in_glassnet_and_keras_3(tmp_path, xor):
    x, _ = xor
    rng = np.random.default_rng(0)
    weights = [
        rng.normal(size=s).astype("float32") for s in [(2, 10), (10,), (10, 1), (1,)]
    ]
    write_keras2_weights(tmp_path / "basic_weights.h5", weights)
    ours = model_from_json(json.dumps(KERAS2_JSON))
    assert ours.name == "sequential_1" and ours.input_shape == (2,)
    ours.load_weights(tmp_path / "basic_weights.h5")
    assert all(
        np.array_equal(a, b) for a, b in zip(ours.get_weights(), weights, strict=True)
    )
    theirs = keras.models.model_from_json(ours.to_json())
    theirs.load_weights(tmp_path / "basic_weights.h5")
    np.testing.assert_allclose(
        theirs.predict(x, verbose=0), ours.predict(x, verbose=0), **TOLERANCE
    )


# -- what glassnet lacks is named --------------------------------------------------------
def test_a_keras_layer_glassnet_lacks_is_named(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.SeparableConv2D(2, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    model.save(tmp_path / "separable.keras")
    with pytest.raises(
        ModelFileError,
        match=r"layer #1 \('separable_conv2d', SeparableConv2D\)"
        r".*no layer 'SeparableConv2D'",
    ):
        load_model(tmp_path / "separable.keras")


def test_a_keras_activation_glassnet_lacks_is_named(tmp_path):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, activation="selu")]
    )
    model.save(tmp_path / "selu.keras")
    with pytest.raises(
        ModelFileError, match="'selu' is not an activation glassnet has"
    ):
        load_model(tmp_path / "selu.keras")


def test_unknown_initializers_default_only_where_weights_follow(tmp_path):
    model = keras_model(kernel_initializer="identity")
    model.save(tmp_path / "k.keras")
    with pytest.warns(GlassnetWarning, match="Identity.*glorot_uniform"):
        ours = load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(
        ours.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )
    with pytest.raises(
        ModelFileError, match="kernel_initializer: Unknown initializer 'Identity'"
    ):
        model_from_json(model.to_json())


def test_keras_activation_layers_load_as_glassnet_activation_layers(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4),
            keras.layers.LeakyReLU(negative_slope=0.1),
            keras.layers.Dense(2),
            keras.layers.Softmax(),
        ]
    )
    model.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    assert [type(layer).__name__ for layer in ours.layers] == [
        "Dense",
        "LeakyReLU",
        "Dense",
        "Softmax",
    ]
    assert ours.layers[1].negative_slope == pytest.approx(0.1)
    np.testing.assert_allclose(
        ours.predict(X, verbose=0), model.predict(X, verbose=0), **TOLERANCE
    )


# -- functional models and the new layers ---------------------------------------------
import glassnet  # noqa: E402
from glassnet.io.keras_compat import keras_layers  # noqa: E402

XA = np.random.default_rng(21).normal(size=(32, 4)).astype("float32")
XB = np.random.default_rng(22).normal(size=(32, 6)).astype("float32")


def build_functional(lib):
    """The same graph in Keras or glassnet: two inputs and outputs, a shared layer,
    every merge layer and every new layer (``lib`` is ``keras`` or ``glassnet``)."""
    layers = lib.layers
    a, b = lib.Input((4,), name="a"), lib.Input((6,), name="b")
    shared = layers.Dense(4, name="shared")
    x = layers.ReLU(max_value=2.0)(shared(a))
    y = layers.Flatten()(layers.Permute((2, 1))(layers.Reshape((2, 3))(b)))
    y = shared(layers.Dense(4, activation="tanh")(y))
    merged = layers.Concatenate()(
        [
            merge()([x, y])
            for merge in (
                layers.Add,
                layers.Subtract,
                layers.Multiply,
                layers.Average,
                layers.Maximum,
                layers.Minimum,
            )
        ]
    )
    h = layers.LayerNormalization()(layers.BatchNormalization()(merged))
    h = layers.ELU()(layers.PReLU()(layers.LeakyReLU(0.2)(layers.Dense(8)(h))))
    h = layers.Dropout(0.2)(layers.GaussianNoise(0.1)(h))
    probabilities = layers.Softmax()(
        layers.Dense(3)(layers.Flatten()(layers.RepeatVector(2)(h)))
    )
    return lib.Model([a, b], [probabilities, layers.Dense(1, name="score")(h)])


def build_sequential(lib):
    layers = lib.layers
    return lib.Sequential(
        [
            lib.Input((6,)),
            layers.Reshape((3, 2)),
            layers.Permute((2, 1)),
            layers.Flatten(),
            layers.Dense(5),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(negative_slope=0.1),
            layers.PReLU(),
            layers.RepeatVector(2),
            layers.LayerNormalization(axis=[-2, -1]),
            layers.Flatten(),
            layers.GaussianNoise(0.2),
            layers.LeakyReLU(),
            layers.ELU(alpha=0.5),
            layers.Dense(3),
            layers.Softmax(),
        ]
    )


def randomize_both(model) -> None:
    """Random weights (positive variances), whichever library the model is from."""
    rng = np.random.default_rng(5)
    model.set_weights(
        [
            rng.uniform(0.5, 2.0, w.shape).astype("float32")
            if "variance" in w.path
            else rng.normal(size=w.shape).astype("float32")
            for w in model.weights
        ]
    )


def outputs(model, x) -> list[np.ndarray]:
    result = model.predict(x, verbose=0)
    return [np.asarray(r) for r in (result if isinstance(result, list) else [result])]


def assert_same_predictions(ours, theirs, x) -> None:
    for a, b in zip(outputs(ours, x), outputs(theirs, x), strict=True):
        np.testing.assert_allclose(a, b, **TOLERANCE)


@pytest.fixture(scope="module")
def functional_files(tmp_path_factory):
    """The same functional model saved by each library, in every format."""
    folder = tmp_path_factory.mktemp("functional")
    glassnet.utils.clear_session()
    ours = build_functional(glassnet)
    randomize_both(ours)
    theirs = build_functional(keras)
    randomize_both(theirs)
    for prefix, model in (("g", ours), ("k", theirs)):
        model.save(folder / f"{prefix}.keras")
        model.save_weights(folder / f"{prefix}.weights.h5")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(folder / f"{prefix}.h5")
    ours.save_weights(folder / "g-weights.h5")
    return ours, theirs, folder


def test_functional_layers_are_in_keras_order(functional_files):
    ours, theirs, _ = functional_files
    # the two libraries named the layers in their own sessions: compare classes
    assert [type(layer).__name__ for layer in keras_layers(ours)] == [
        type(layer).__name__ for layer in theirs.layers
    ]


@pytest.mark.parametrize("name", ["g.keras", "g.h5"])
def test_a_glassnet_functional_model_loads_in_keras(functional_files, name):
    ours, _, folder = functional_files
    theirs = keras.models.load_model(folder / name)
    assert [layer.name for layer in theirs.layers] == [
        layer.name for layer in ours.layers
    ]
    assert_same_predictions(ours, theirs, [XA, XB])


@pytest.mark.parametrize("name", ["g.weights.h5", "g-weights.h5", "g.keras"])
def test_glassnet_functional_weights_load_into_keras(functional_files, name):
    ours, _, folder = functional_files
    theirs = keras.models.model_from_json(ours.to_json())
    theirs.load_weights(folder / name)
    assert_same_predictions(ours, theirs, [XA, XB])


@pytest.mark.parametrize("name", ["k.keras", "k.h5"])
def test_a_keras_functional_model_loads_in_glassnet(functional_files, name):
    _, theirs, folder = functional_files
    ours = load_model(folder / name, compile=False)
    assert [layer.name for layer in ours.layers] == [
        layer.name for layer in theirs.layers
    ]
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in theirs.layers
    ]
    assert_same_predictions(ours, theirs, [XA, XB])


@pytest.mark.parametrize("name", ["k.weights.h5", "k.keras"])
def test_keras_functional_weights_load_into_glassnet(functional_files, name):
    _, theirs, folder = functional_files
    ours = model_from_json(theirs.to_json())
    ours.load_weights(folder / name)
    assert_same_predictions(ours, theirs, [XA, XB])


@pytest.mark.parametrize("direction", ["glassnet->keras", "keras->glassnet"])
def test_sequential_models_of_the_new_layers_cross(tmp_path, direction):
    source, target = (
        (glassnet, keras) if direction == "glassnet->keras" else (keras, glassnet)
    )
    model = build_sequential(source)
    randomize_both(model)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    x = XB[:8]
    loaded = target.models.load_model(tmp_path / "m.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    assert_same_predictions(loaded, model, x)
    rebuilt = target.models.model_from_json(model.to_json())
    rebuilt.load_weights(tmp_path / "m.weights.h5")
    assert_same_predictions(rebuilt, model, x)


def frozen_model(lib):
    x = lib.Input((3,), name="x")
    h = lib.layers.BatchNormalization(name="bn")(lib.layers.Dense(4, name="base")(x))
    model = lib.Model(x, lib.layers.Dense(2, activation="softmax", name="head")(h))
    model.get_layer("base").trainable = False
    model.get_layer("bn").trainable = False
    return model


@pytest.mark.parametrize("direction", ["glassnet->keras", "keras->glassnet"])
def test_frozen_layers_cross_frozen_and_training_resumes(tmp_path, direction):
    source, target = (
        (glassnet, keras) if direction == "glassnet->keras" else (keras, glassnet)
    )
    model = frozen_model(source)
    randomize_both(model)
    model.compile(
        optimizer=source.optimizers.Adam(0.01), loss="categorical_crossentropy"
    )
    model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = target.models.load_model(tmp_path / "m.keras")
    assert {
        layer.name: layer.trainable for layer in loaded.layers if layer.weights
    } == {
        "base": False,
        "bn": False,
        "head": True,
    }
    assert int(loaded.optimizer.iterations) == 8
    # one more full-batch step in each library: frozen weights and statistics stay
    model.fit(X, Y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    loaded.fit(X, Y, batch_size=len(X), epochs=1, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_a_keras_call_with_its_own_training_mode_is_kept(tmp_path):
    x = keras.Input((3,))
    h = keras.layers.Dense(3)(x)
    model = keras.Model(x, keras.layers.Dropout(0.5)(h, training=False))
    ours = model_from_json(model.to_json())
    config = ours.get_config()
    dropout = next(e for e in config["layers"] if e["class_name"] == "Dropout")
    assert dropout["inbound_nodes"][0]["kwargs"] == {"training": False}
    theirs = keras.models.model_from_json(ours.to_json())
    assert theirs.get_config()["layers"][2]["inbound_nodes"][0]["kwargs"] == {
        "training": False
    }


def test_layer_order_matches_keras_for_layers_shared_at_several_depths():
    def build(lib):
        layers = lib.layers
        a, b = lib.Input((4,), name="a"), lib.Input((4,), name="b")
        first, second = layers.Dense(4, name="first"), layers.Dense(4, name="second")
        x = first(second(first(a)))
        y = layers.Dense(4, name="c")(b)
        z = layers.Add(name="add")([x, y, first(y)])
        deep = layers.Dense(3, name="deep")(layers.Dense(4, name="d")(z))
        wide = layers.Dense(2, name="wide")(y)
        return lib.Model([a, b], [deep, wide, layers.Dense(1, name="shallow")(a)])

    expected = [layer.name for layer in build(keras).layers]
    ours = build(glassnet)
    assert [layer.name for layer in keras_layers(ours)] == expected
    copy = model_from_json(ours.to_json())
    assert [layer.name for layer in keras_layers(copy)] == expected
