"""Recurrent networks in files, to and from the real Keras 3 (PyTorch backend).

Embedding, SimpleRNN, LSTM, GRU (``reset_after`` both ways), Bidirectional (every
merge mode), TimeDistributed and RepeatVector, forwards and ``go_backwards``, in
Sequential and functional models:

- every format (``.keras``, legacy ``.h5``, ``.weights.h5``, ``.h5`` weights,
  ``.safetensors``, ``to_json``) round-trips bit-identically in float32 and float64,
  the optimizer state and random generator too where the format keeps them;
- the weights sit where Keras 3 puts them: the cell's variables one group down
  (``layers/lstm/cell/vars/0..2``), a Bidirectional's in ``forward_layer/cell`` and
  ``backward_layer/cell``, a TimeDistributed's in ``layer/vars``; the legacy names
  are Keras' (``lstm/lstm_cell/kernel:0``);
- glassnet's files load in Keras 3 and Keras 3's files load in glassnet, both
  predicting within 1e-5 of the other library, with the same ``get_weights`` and
  the same optimizer state; a tf.keras 2 ``.h5`` (written with h5py as tf.keras 2
  wrote it) loads too;
- the parameters of recurrent and embedding layers are counted before anything is
  allocated, and a file whose recurrent or embedding weights cannot fit (a GRU bias
  of the other ``reset_after``, a recurrent kernel of the wrong shape, a table
  larger than the file, absurd sizes, wrappers around something unknown or nested
  too deep) is a ModelFileError that says why, before any weight exists (the
  recurrent corpus cases of ``tests/corpus/recurrent_corpus.py``).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import importlib.util
import json
import re
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import glassnet
from glassnet.errors import ModelFileError
from glassnet.io import limits
from glassnet.io.functional import functional_counts
from glassnet.io.parameter_count import sequential_counts
from glassnet.layers import GRU, LSTM, Embedding
from glassnet.layers.recurrent import Recurrent
from glassnet.models import load_model, model_from_json

keras = pytest.importorskip("keras")

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}
Spec = list[tuple[str, dict[str, Any]]]

# -- the models: one spec, built by either library ----------------------------------------
#: (input shape, input dtype, layers); a wrapper's ``layer`` is itself a (class, kwargs).
SPECS: dict[str, tuple[tuple[int, ...], str, Spec]] = {
    "stack": (  # the stack: Embedding -> SimpleRNN -> LSTM -> GRU -> Dense
        (7,),
        "int32",
        [
            ("Embedding", {"input_dim": 20, "output_dim": 5}),
            ("SimpleRNN", {"units": 4, "return_sequences": True}),
            ("LSTM", {"units": 3, "return_sequences": True}),
            ("GRU", {"units": 3}),
            ("Dense", {"units": 2}),
        ],
    ),
    "wrappers": (
        (6, 3),
        "float32",
        [
            ("Bidirectional", {"layer": ("LSTM", {"units": 4, "return_sequences": True})}),
            ("TimeDistributed", {"layer": ("Dense", {"units": 3, "activation": "tanh"})}),
            ("GRU", {"units": 3, "reset_after": False, "go_backwards": True,
                     "return_sequences": True}),
            ("Bidirectional", {"layer": ("GRU", {"units": 2}), "merge_mode": "sum"}),
            ("Dense", {"units": 1}),
        ],
    ),
    "backwards": (
        (5, 2),
        "float32",
        [
            ("SimpleRNN", {"units": 3, "go_backwards": True, "return_sequences": True,
                           "activation": "relu"}),
            ("LSTM", {"units": 3, "go_backwards": True, "use_bias": False,
                      "return_sequences": True}),
            ("Bidirectional", {"layer": ("SimpleRNN", {"units": 2, "return_sequences": True}),
                               "merge_mode": "ave"}),
            ("Bidirectional", {"layer": ("GRU", {"units": 2, "reset_after": False}),
                               "merge_mode": "mul"}),
            ("RepeatVector", {"n": 3}),
            ("GRU", {"units": 2, "go_backwards": True}),
            ("Dense", {"units": 2, "activation": "softmax"}),
        ],
    ),
}  # fmt: skip


def layer_of(lib: Any, cls: str, kwargs: dict[str, Any], typed: dict[str, Any]) -> Any:
    """``cls(**kwargs)`` of ``lib``, its wrapped layer built first."""
    kwargs = dict(kwargs)
    if "layer" in kwargs:
        inner_cls, inner_kwargs = kwargs["layer"]
        kwargs["layer"] = layer_of(lib, inner_cls, inner_kwargs, typed)
    return getattr(lib.layers, cls)(**kwargs, **typed)


def sequential(lib: Any, name: str, dtype: str = "float32") -> Any:
    """The spec ``name`` as a Sequential model of ``lib`` (glassnet or keras)."""
    shape, input_dtype, spec = SPECS[name]
    typed = {"dtype": dtype} if lib is keras else {}  # glassnet's follow the Input
    layers = [layer_of(lib, cls, kwargs, typed) for cls, kwargs in spec]
    input_dtype = dtype if input_dtype == "float32" else input_dtype
    model_dtype = {"dtype": dtype} if lib is glassnet else {}  # whatever the input
    return lib.Sequential([lib.Input(shape, dtype=input_dtype), *layers], **model_dtype)


def functional(lib: Any, dtype: str = "float32") -> Any:
    """Token ids through two recurrent branches, merged, then back to a sequence."""
    typed = {"dtype": dtype} if lib is keras else {}
    L = lib.layers
    ids = lib.Input((7,), dtype="int32", name="ids")
    h = L.Embedding(15, 4, **typed)(ids)
    a = L.Bidirectional(
        L.GRU(3, return_sequences=True, reset_after=False, **typed), **typed
    )(h)
    b = L.LSTM(3, return_sequences=True, go_backwards=True, **typed)(h)
    joined = L.Concatenate(**typed)([a, b])
    t = L.TimeDistributed(L.Dense(4, activation="relu", **typed), **typed)(joined)
    s = L.SimpleRNN(3, **typed)(t)
    r = L.LSTM(2, **typed)(L.RepeatVector(2, **typed)(s))
    return lib.Model(ids, L.Dense(1, name="out", **typed)(r))


def randomize(model: Any) -> None:
    """Weights no initializer draws, either library (scaled so no gate saturates)."""
    rng = np.random.default_rng(5)
    model.set_weights(
        [(0.5 * rng.normal(size=w.shape)).astype(w.dtype) for w in model.get_weights()]
    )


def inputs(model: Any, n: int = 6, dtype: str = "float32") -> np.ndarray:
    """Token ids (from 1: no padding) for a model that starts with an Embedding,
    else normal floats."""
    rng = np.random.default_rng(7)
    shape = (n, *model.inputs[0].shape[1:])
    first = next(
        layer for layer in model.layers if type(layer).__name__ != "InputLayer"
    )
    if type(first).__name__ == "Embedding":
        return rng.integers(1, first.input_dim, size=shape).astype("int32")
    return rng.normal(size=shape).astype(dtype)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, verbose=0))


def make(lib: Any, name: str, dtype: str = "float32") -> Any:
    if lib is glassnet:
        glassnet.utils.clear_session()
    else:
        keras.backend.clear_session()  # Keras numbers its layers across the session
    model = (
        functional(lib, dtype) if name == "functional" else sequential(lib, name, dtype)
    )
    randomize(model)
    return model


def architecture(model: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (type(layer).__name__, {**layer.get_config(), "input_shape": None})
        for layer in model.layers
    ]


def train(model: Any, steps: int = 1) -> None:
    """Adam steps on fixed data, so the optimizer has state to save."""
    x = inputs(model, n=8, dtype=model.get_weights()[0].dtype.name)
    y = np.random.default_rng(1).normal(size=(8, *model.outputs[0].shape[1:]))
    for _ in range(steps):
        model.train_on_batch(x, y.astype(x.dtype if x.dtype.kind == "f" else "float32"))


MODELS = [*SPECS, "functional"]


# -- round trips --------------------------------------------------------------------------
def optimizer_state(model: Any) -> dict[str, dict[str, np.ndarray]]:
    return {
        name: {slot: np.array(value) for slot, value in slots.items()}
        for name, slots in model.optimizer.state.items()
    }


#: float32 for every model; float64 for the Sequential ones (a glassnet functional
#: model computes in the dtype of its float inputs, and this one takes token ids)
ROUND_TRIPS = [(name, "float32") for name in MODELS] + [
    (name, "float64") for name in SPECS
]


@pytest.mark.parametrize(("name", "dtype"), ROUND_TRIPS)
def test_every_format_round_trips_bit_identically(tmp_path, name, dtype):
    model = make(glassnet, name, dtype)
    model.compile(optimizer="adam", loss="mse")
    train(model, steps=2)
    x = inputs(model, dtype=dtype)
    expected = predict(model, x)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.dtype == np.dtype(dtype)
    assert architecture(loaded) == architecture(model)
    np.testing.assert_array_equal(predict(loaded, x), expected)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 2
    ours, theirs = optimizer_state(model), optimizer_state(loaded)
    assert ours.keys() == theirs.keys() and len(ours) == len(model.trainable_weights)
    for key, slots in ours.items():
        for slot, value in slots.items():
            np.testing.assert_array_equal(theirs[key][slot], value)
    assert loaded.rng.bit_generator.state == model.rng.bit_generator.state
    model.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    assert architecture(loaded) == architecture(model)
    np.testing.assert_array_equal(predict(loaded, x), expected)
    for file in ("w.weights.h5", "w.h5", "w.safetensors"):
        model.save_weights(tmp_path / file)
        fresh = model_from_json(model.to_json())
        fresh.load_weights(tmp_path / file)
        np.testing.assert_array_equal(predict(fresh, x), expected)


def test_training_resumes_from_a_file_exactly(tmp_path):
    """Save after two steps and train two more: the same weights as four in a row."""
    model = make(glassnet, "wrappers")
    model.compile(optimizer="adam", loss="mse")
    train(model, steps=2)
    model.save(tmp_path / "m.keras")
    resumed = load_model(tmp_path / "m.keras")
    train(model, steps=2)
    train(resumed, steps=2)
    for a, b in zip(resumed.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_seeded_sequential_model_from_an_h5_file_draws_as_a_build_would(tmp_path):
    """Its layers (a wrapper's inner layers too) are built without drawing, then the
    generator is moved on as the skipped draws would have moved it."""
    glassnet.utils.clear_session()
    L = glassnet.layers
    model = glassnet.Sequential(
        [
            glassnet.Input((4, 2)),
            L.Bidirectional(L.LSTM(3, return_sequences=True)),
            L.TimeDistributed(L.Dense(2)),
            L.GRU(2),
        ],
        seed=11,
    )
    model.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    assert loaded.rng.bit_generator.state == model.rng.bit_generator.state


# -- Keras' layout ------------------------------------------------------------------------
def h5_tree(path: Path) -> dict[str, Any]:
    """Every group (its ``name`` attribute) and dataset (its shape) below ``layers``."""
    found: dict[str, Any] = {}
    with h5py.File(path, "r") as f:

        def visit(name: str, item: Any) -> None:
            if isinstance(item, h5py.Dataset):
                found[name] = item.shape
            elif name.endswith("cell/vars"):
                found[name] = item.attrs["name"]  # Keras' cell names
            else:
                found[name] = "group"

        f["layers"].visititems(visit)
    return found


@pytest.mark.parametrize("name", MODELS)
def test_weights_files_have_keras_3s_groups_paths_and_shapes(tmp_path, name):
    ours, theirs = make(glassnet, name), make(keras, name)
    ours.save_weights(tmp_path / "g.weights.h5")
    theirs.save_weights(tmp_path / "k.weights.h5")
    assert h5_tree(tmp_path / "g.weights.h5") == h5_tree(tmp_path / "k.weights.h5")


def test_the_layout_of_a_stack_spelled_out(tmp_path):
    model = make(glassnet, "wrappers")
    model.save_weights(tmp_path / "w.weights.h5")
    tree = h5_tree(tmp_path / "w.weights.h5")
    assert tree["bidirectional/forward_layer/cell/vars"] == "lstm_cell"
    assert tree["bidirectional/forward_layer/cell/vars/0"] == (3, 16)  # kernel
    assert tree["bidirectional/backward_layer/cell/vars/1"] == (4, 16)  # recurrent
    assert tree["time_distributed/layer/vars/0"] == (8, 3)
    assert tree["gru/cell/vars/2"] == (9,)  # reset_after=False: one bias row
    assert tree["bidirectional_1/forward_layer/cell/vars/2"] == (2, 6)  # two rows
    assert "bidirectional/vars/0" not in tree  # the wrapper owns none itself
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        bi = model.layers[0]
        for index, key in enumerate(["forward.W", "forward.recurrent_kernel"]):
            stored = f[f"layers/bidirectional/forward_layer/cell/vars/{index}"][()]
            np.testing.assert_array_equal(stored, bi.params[key])
        np.testing.assert_array_equal(
            f["layers/bidirectional/backward_layer/cell/vars/2"][()],
            bi.params["backward.b"],
        )


@pytest.mark.parametrize("name", MODELS)
def test_legacy_weight_names_are_keras_3s(tmp_path, name):
    ours, theirs = make(glassnet, name), make(keras, name)
    ours.save(tmp_path / "g.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras calls the legacy format legacy
        theirs.save(tmp_path / "k.h5")

    def names(path: Path) -> dict[str, list[str]]:
        with h5py.File(path, "r") as f:
            group = f["model_weights"]
            return {
                layer: [
                    # Keras 3 puts a Sequential model's name in front; tf.keras 2 and
                    # glassnet did not (the names are matched by order either way)
                    _text(n).removesuffix(":0").removeprefix("sequential/")
                    for n in group[layer].attrs["weight_names"]
                ]
                for layer in map(_text, group.attrs["layer_names"])
            }

    assert names(tmp_path / "g.h5") == names(tmp_path / "k.h5")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- glassnet -> Keras --------------------------------------------------------------------
@pytest.fixture(scope="module", params=MODELS)
def glassnet_files(request, tmp_path_factory):
    """A trained glassnet model with random weights, saved in every format Keras reads."""
    folder = tmp_path_factory.mktemp(f"glassnet-{request.param}")
    model = make(glassnet, request.param)
    model.compile(optimizer="adam", loss="mse")
    train(model)
    model.save(folder / "g.keras")
    model.save(folder / "g.h5")
    model.save_weights(folder / "g.weights.h5")
    model.save_weights(folder / "w.h5")
    return model, folder


@pytest.mark.parametrize("file", ["g.keras", "g.h5"])
def test_keras_loads_glassnet_recurrent_models(glassnet_files, file):
    ours, folder = glassnet_files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' notes on uncompiled metrics
        theirs = keras.models.load_model(folder / file)
    assert [type(layer).__name__ for layer in theirs.layers] == [
        type(layer).__name__ for layer in ours.layers
    ]
    x = inputs(ours)
    np.testing.assert_allclose(predict(theirs, x), predict(ours, x), **TOLERANCE)
    for a, b in zip(theirs.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("file", ["g.weights.h5", "w.h5", "g.keras"])
def test_keras_loads_glassnet_recurrent_weights(glassnet_files, file):
    ours, folder = glassnet_files
    theirs = keras.models.model_from_json(ours.to_json())
    theirs.load_weights(folder / file)
    x = inputs(ours)
    np.testing.assert_allclose(predict(theirs, x), predict(ours, x), **TOLERANCE)


def keras_slots(model: Any) -> list[np.ndarray]:
    """Keras' optimizer variables after the iteration count and learning rate."""
    return [np.asarray(v.numpy()) for v in model.optimizer.variables[2:]]


def test_keras_continues_from_glassnet_optimizer_state(glassnet_files):
    ours, folder = glassnet_files
    theirs = keras.models.load_model(folder / "g.keras")
    assert int(theirs.optimizer.iterations.numpy()) == ours.optimizer.iterations == 1
    expected = [
        ours.optimizer.state[f"{layer.name}.{key}"][slot]
        for layer in ours.layers
        for key in layer.params
        for slot in ("m", "v")
    ]
    assert len(keras_slots(theirs)) == len(expected)
    for got, want in zip(keras_slots(theirs), expected, strict=True):
        np.testing.assert_array_equal(got, want)


# -- Keras -> glassnet --------------------------------------------------------------------
@pytest.fixture(scope="module", params=MODELS)
def keras_files(request, tmp_path_factory):
    """A trained Keras model with random weights, saved by Keras in every format."""
    folder = tmp_path_factory.mktemp(f"keras-{request.param}")
    model = make(keras, request.param)
    model.compile(optimizer="adam", loss="mse")
    train(model)
    model.save(folder / "k.keras")
    model.save_weights(folder / "k.weights.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras calls the legacy format legacy
        model.save(folder / "k.h5")
    return model, folder


@pytest.mark.parametrize("file", ["k.keras", "k.h5"])
def test_glassnet_loads_keras_recurrent_models(keras_files, file):
    theirs, folder = keras_files
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every setting read, nothing replaced
        ours = load_model(folder / file)
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in theirs.layers
    ]
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # Keras' order and contents
    x = inputs(ours)
    np.testing.assert_allclose(predict(ours, x), predict(theirs, x), **TOLERANCE)


@pytest.mark.parametrize("file", ["k.weights.h5", "k.keras"])
def test_glassnet_loads_keras_recurrent_weights(keras_files, file):
    theirs, folder = keras_files
    ours = model_from_json(theirs.to_json())
    ours.load_weights(folder / file)
    x = inputs(ours)
    np.testing.assert_allclose(predict(ours, x), predict(theirs, x), **TOLERANCE)


def test_glassnet_continues_from_keras_optimizer_state(keras_files):
    theirs, folder = keras_files
    ours = load_model(folder / "k.keras")
    assert ours.optimizer.iterations == int(theirs.optimizer.iterations.numpy()) == 1
    ours_slots = [
        ours.optimizer.state[f"{layer.name}.{key}"][slot]
        for layer in ours.layers
        for key in layer.params
        for slot in ("m", "v")
    ]
    for got, want in zip(ours_slots, keras_slots(theirs), strict=True):
        np.testing.assert_array_equal(got, want)
    train(ours)
    train(theirs)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_keras_config_keys_glassnet_accepts(tmp_path):
    """shared_object_id, seed, unroll, zero_output_for_mask, mask_zero, dropout."""
    keras.backend.clear_session()
    L = keras.layers
    theirs = keras.Sequential(
        [
            keras.Input((7,), dtype="int32"),
            L.Embedding(12, 4, mask_zero=True),
            L.LSTM(3, return_sequences=True, unroll=True, seed=3, dropout=0.2),
            L.Bidirectional(L.SimpleRNN(2, return_sequences=True, seed=1)),
            L.GRU(3, recurrent_dropout=0.1, seed=5),
            L.Dense(1),
        ]
    )
    randomize(theirs)
    theirs.save(tmp_path / "k.keras")
    with zipfile.ZipFile(tmp_path / "k.keras") as archive:
        text = archive.read("config.json").decode()
    for key in ("shared_object_id", '"seed": 3', '"unroll": true', "mask_zero"):
        assert key in text
    assert '"zero_output_for_mask": true' in text  # Bidirectional's inner layers
    ours = load_model(tmp_path / "k.keras")
    embedding, lstm = ours.layers[0], ours.layers[1]
    assert embedding.get_config()["mask_zero"] is True
    assert (lstm.unroll, lstm.seed, lstm.dropout) == (True, 3, 0.2)
    x = inputs(ours)  # ids from 1: no padding, so the mask changes nothing
    np.testing.assert_allclose(predict(ours, x), predict(theirs, x), **TOLERANCE)


def test_objects_keras_shares_between_layers_are_read_for_each(tmp_path):
    """One regularizer and one constraint given to three layers: Keras writes each
    use in full, with a shared_object_id."""
    keras.backend.clear_session()
    L = keras.layers
    penalty, bound = keras.regularizers.L2(0.01), keras.constraints.MaxNorm(2.0)
    theirs = keras.Sequential(
        [
            keras.Input((5, 3)),
            L.LSTM(3, return_sequences=True, kernel_regularizer=penalty,
                   recurrent_constraint=bound),
            L.Bidirectional(L.GRU(2, kernel_regularizer=penalty,
                                  recurrent_constraint=bound)),
            L.Dense(1, kernel_regularizer=penalty),
        ]
    )  # fmt: skip
    randomize(theirs)
    theirs.save(tmp_path / "k.keras")
    with zipfile.ZipFile(tmp_path / "k.keras") as archive:
        config = json.loads(archive.read("config.json"))
    lstm = config["config"]["layers"][1]["config"]
    assert "shared_object_id" in lstm["kernel_regularizer"]
    assert "shared_object_id" in lstm["recurrent_constraint"]
    ours = load_model(tmp_path / "k.keras")
    gru = ours.layers[1].forward_layer
    assert ours.layers[0].kernel_regularizer.get_config() == {"l2": 0.01}
    assert gru.recurrent_constraint.get_config()["max_value"] == 2.0
    x = inputs(ours)
    np.testing.assert_allclose(predict(ours, x), predict(theirs, x), **TOLERANCE)


def test_frozen_wrappers_cross_frozen(tmp_path):
    ours = make(glassnet, "wrappers")
    ours.layers[0].trainable = False
    ours.save(tmp_path / "g.keras")
    theirs = keras.models.load_model(tmp_path / "g.keras")
    assert not theirs.layers[0].trainable and not theirs.layers[0].trainable_weights
    assert theirs.layers[1].trainable
    theirs.save(tmp_path / "k.keras")
    back = load_model(tmp_path / "k.keras")
    assert [layer.trainable for layer in back.layers] == [
        layer.trainable for layer in ours.layers
    ]
    assert len(back.trainable_weights) == len(ours.trainable_weights)


# -- tf.keras 2 ----------------------------------------------------------------------------
def _tf_keras_2_config() -> dict[str, Any]:
    """A tf.keras 2.x Sequential config, as its ``model.save("x.h5")`` wrote it."""
    glorot = {"class_name": "GlorotUniform", "config": {"seed": None}}
    orthogonal = {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}}
    zeros = {"class_name": "Zeros", "config": {}}

    def recurrent(cls: str, name: str, units: int, **extra: Any) -> dict[str, Any]:
        config = {
            "name": name, "trainable": True, "dtype": "float32",
            "return_sequences": extra.pop("return_sequences", False),
            "return_state": False, "go_backwards": False, "stateful": False,
            "unroll": False, "time_major": False, "units": units, "activation": "tanh",
            "recurrent_activation": "sigmoid", "use_bias": True,
            "kernel_initializer": glorot, "recurrent_initializer": orthogonal,
            "bias_initializer": zeros, "kernel_regularizer": None,
            "recurrent_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
            "recurrent_dropout": 0.0, "implementation": 2, **extra,
        }  # fmt: skip
        return {"class_name": cls, "config": config}

    dense = {
        "name": "dense", "trainable": True, "dtype": "float32", "units": 2,
        "activation": "linear", "use_bias": True, "kernel_initializer": glorot,
        "bias_initializer": zeros, "kernel_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
    }  # fmt: skip
    layers = [
        {"class_name": "InputLayer", "config": {
            "batch_input_shape": [None, 7], "dtype": "float32", "sparse": False,
            "ragged": False, "name": "embedding_input"}},
        {"class_name": "Embedding", "config": {
            "name": "embedding", "trainable": True, "batch_input_shape": [None, 7],
            "dtype": "float32", "input_dim": 20, "output_dim": 5,
            "embeddings_initializer": {"class_name": "RandomUniform", "config": {
                "minval": -0.05, "maxval": 0.05, "seed": None}},
            "embeddings_regularizer": None, "activity_regularizer": None,
            "embeddings_constraint": None, "mask_zero": False, "input_length": 7}},
        {"class_name": "Bidirectional", "config": {
            "name": "bidirectional", "trainable": True, "dtype": "float32",
            "layer": recurrent("LSTM", "lstm", 3, return_sequences=True,
                               unit_forget_bias=True),
            "merge_mode": "concat"}},
        {"class_name": "TimeDistributed", "config": {
            "name": "time_distributed", "trainable": True, "dtype": "float32",
            "layer": {"class_name": "Dense", "config": {**dense, "units": 4}}}},
        recurrent("GRU", "gru", 3, reset_after=True),
        {"class_name": "Dense", "config": {**dense, "name": "dense_1"}},
    ]  # fmt: skip
    return {
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": layers},
    }


#: tf.keras 2's weight names: the cell inside the layer, TimeDistributed's inner Dense
#: created in the wrapper's own name scope.
TF_KERAS_2_NAMES = {
    "embedding": ["embedding/embeddings:0"],
    "bidirectional": [
        f"bidirectional/{direction}_lstm/lstm_cell/{weight}:0"
        for direction in ("forward", "backward")
        for weight in ("kernel", "recurrent_kernel", "bias")
    ],
    "time_distributed": ["time_distributed/kernel:0", "time_distributed/bias:0"],
    "gru": [f"gru/gru_cell/{w}:0" for w in ("kernel", "recurrent_kernel", "bias")],
    "dense_1": ["dense_1/kernel:0", "dense_1/bias:0"],
}


def _write_tf_keras_2(path: Path, weights: list[np.ndarray], whole: bool) -> None:
    """The file tf.keras 2 wrote: ``model.save`` (``whole``) or ``save_weights``."""
    with h5py.File(path, "w") as f:
        if whole:
            f.attrs["model_config"] = json.dumps(_tf_keras_2_config())
            f.attrs["keras_version"] = "2.11.0"
            f.attrs["backend"] = "tensorflow"
            root = f.create_group("model_weights")
        else:
            root = f
        root.attrs["layer_names"] = [name.encode() for name in TF_KERAS_2_NAMES]
        root.attrs["backend"] = "tensorflow"
        root.attrs["keras_version"] = "2.11.0"
        values = iter(weights)
        for layer, names in TF_KERAS_2_NAMES.items():
            group = root.create_group(layer)
            group.attrs["weight_names"] = [name.encode() for name in names]
            for name in names:
                group.create_dataset(name, data=next(values))


@pytest.mark.parametrize("whole", [True, False])
def test_tf_keras_2_recurrent_files_load(tmp_path, whole):
    keras.backend.clear_session()
    L = keras.layers
    theirs = keras.Sequential(
        [
            keras.Input((7,), dtype="int32"),
            L.Embedding(20, 5),
            L.Bidirectional(L.LSTM(3, return_sequences=True)),
            L.TimeDistributed(L.Dense(4)),
            L.GRU(3),
            L.Dense(2),
        ]
    )
    randomize(theirs)
    path = tmp_path / "tf2.h5"
    _write_tf_keras_2(path, theirs.get_weights(), whole)
    if whole:
        ours = load_model(path)
    else:
        ours = model_from_json(theirs.to_json())
        ours.load_weights(path)
    x = inputs(theirs)
    np.testing.assert_allclose(predict(ours, x), predict(theirs, x), **TOLERANCE)
    again = keras.models.model_from_json(theirs.to_json())
    again.load_weights(path)  # Keras 3 reads the same file: the layout is right
    np.testing.assert_allclose(predict(again, x), predict(theirs, x), **TOLERANCE)


# -- counting before allocating -----------------------------------------------------------
def test_recurrent_and_embedding_parameters_are_counted_by_hand():
    # LSTM: 4 gate blocks of units U over D inputs: W (D, 4U), U (U, 4U), b (4U,)
    #   D=5, U=3: 4*3*(5 + 3 + 1) = 108
    assert LSTM(3).param_count((None, 5)) == 108
    # GRU reset_after=True: W (D, 3U), U (U, 3U), b (2, 3U): 3*3*(5 + 3 + 2) = 90;
    #   reset_after=False keeps one bias row: 3*3*(5 + 3 + 1) = 81
    assert GRU(3).param_count((None, 5)) == 90
    assert GRU(3, reset_after=False).param_count((None, 5)) == 81
    # Embedding: a row per id, whatever the sequence: 20 x 5 = 100
    assert Embedding(20, 5).param_count((None,)) == 100


@pytest.mark.parametrize("name", MODELS)
def test_the_loaders_count_what_the_build_allocates(name):
    model = make(glassnet, name)
    if name == "functional":
        from glassnet.models.graph_plan import read_graph_config

        config = model.get_config()
        plan = read_graph_config(config, max_calls=limits.MAX_LAYER_CALLS)
        layers = {layer.name: layer for layer in model.layers}
        counts = list(functional_counts(plan, layers, "here"))
    else:
        counts = list(sequential_counts(model.layers, model.input_shape))
    assert sum(counts) == model.count_params()


def _document(name: str = "wrappers") -> dict[str, Any]:
    return json.loads(make(glassnet, name).to_json())


def _layer_config(document: dict[str, Any], index: int) -> dict[str, Any]:
    config: dict[str, Any] = document["config"]["layers"][index]["config"]
    return config


def _never(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("a recurrent or embedding layer was built")


@pytest.mark.parametrize(
    ("model", "index", "changes", "match"),
    [
        ("wrappers", 3, {"units": 10**12}, r"declares at least \d+ parameters"),
        ("stack", 1, {"input_dim": 10**12}, r"declares at least \d+ parameters"),
        ("stack", 1, {"output_dim": 2**40}, r"declares at least \d+ parameters"),
        ("stack", 2, {"units": 2**31}, r"declares at least \d+ parameters"),
        ("stack", 2, {"units": 0}, r"'simple_rnn'.*`units`.*Received: units=0"),
        ("stack", 4, {"reset_after": "no"}, r"'gru'.*`reset_after`"),
        ("backwards", 5, {"n": 10**9}, r"'repeat_vector'.*`n=1000000000`.*MAX_REPEAT"),
        ("wrappers", 1, {"layer": {"class_name": "Dense", "config": {"units": 2}}},
         r"'bidirectional'.*SimpleRNN, LSTM or GRU"),
        ("wrappers", 1, {"layer": {"class_name": "Conv3D", "config": {}}},
         r"'bidirectional'.*glassnet has no layer 'Conv3D'"),
        ("wrappers", 2, {"layer": "dense"}, r"a wrapped layer must be a layer config"),
        ("wrappers", 2, {"layer": {"class_name": "InputLayer", "config": {}}},
         r"an InputLayer cannot be wrapped"),
    ],
)  # fmt: skip
def test_hostile_recurrent_configs_are_refused_before_any_weight_exists(
    monkeypatch, model, index, changes, match
):
    document = _document(model)
    _layer_config(document, index).update(changes)
    monkeypatch.setattr(Recurrent, "build", _never)
    monkeypatch.setattr(Embedding, "build", _never)
    with pytest.raises(ModelFileError, match=match):
        model_from_json(json.dumps(document))


def test_the_wrapper_depth_and_repeat_caps_are_module_constants(monkeypatch):
    glassnet.utils.clear_session()
    L = glassnet.layers
    nested = glassnet.Sequential(
        [glassnet.Input((2, 3, 4)), L.TimeDistributed(L.TimeDistributed(L.Dense(2)))]
    )
    text = nested.to_json()
    model_from_json(text)
    monkeypatch.setattr(limits, "MAX_WRAPPER_DEPTH", 1)
    with pytest.raises(ModelFileError, match=r"nested 2 deep.*at most 1 wrappers"):
        model_from_json(text)
    document = _document("backwards")
    _layer_config(document, 5)["n"] = 40
    model_from_json(json.dumps(document))
    monkeypatch.setattr(limits, "MAX_REPEAT", 39)
    with pytest.raises(ModelFileError, match=r"`n=40`.*up to 39"):
        model_from_json(json.dumps(document))


@pytest.mark.parametrize("file", ["w.weights.h5", "w.h5", "w.safetensors", "m.keras"])
def test_a_gru_bias_of_the_other_reset_after_is_refused_and_explained(tmp_path, file):
    """Weights of a reset_after=False GRU into a reset_after=True one, and back."""
    source = make(glassnet, "stack")
    if file.endswith(".keras"):
        source.save(tmp_path / file)
    else:
        source.save_weights(tmp_path / file)
    document = json.loads(source.to_json())
    _layer_config(document, 4)["reset_after"] = False
    target = model_from_json(json.dumps(document))
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(ModelFileError) as error:
        target.load_weights(tmp_path / file)
    message = str(error.value)
    assert re.search(r"\(2, 9\).*\(9,\)", message), message
    assert (
        "GRU 'gru'" in message and "reset_after=False, whose bias is (3u,)" in message
    )
    assert "the file's (2, 9) is the bias of reset_after=True" in message
    for a, b in zip(target.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_model_of_many_wrapped_recurrent_layers_loads(tmp_path, monkeypatch):
    """HDF5's bookkeeping is allowed per group of weights, not per layer: a
    TimeDistributed(Bidirectional(GRU)) nests six groups, each with its optimizer
    slots. Without the constant allowance for the file's own structure, 20 of them
    hold about 25 KB each, over MAX_WEIGHT_BYTES_PER_LAYER per *layer*."""
    monkeypatch.setattr(limits, "MAX_WEIGHT_BYTES_OVERHEAD", 2**16)
    glassnet.utils.clear_session()
    L = glassnet.layers
    layers = [
        L.TimeDistributed(L.Bidirectional(L.GRU(1, return_sequences=True)))
        for _ in range(20)
    ]
    model = glassnet.Sequential([glassnet.Input((2, 3, 1)), *layers], seed=0)
    optimizer = glassnet.optimizers.Adam(
        amsgrad=True, use_ema=True, gradient_accumulation_steps=2
    )
    model.compile(optimizer=optimizer, loss="mse")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        size = archive.getinfo("model.weights.h5").file_size
    per_layer = limits.MAX_WEIGHT_BYTES_PER_LAYER * len(model.layers)
    assert size > per_layer + 48 * model.count_params() + 2**16
    x = np.ones((2, 2, 3, 1), "float32")
    np.testing.assert_array_equal(
        predict(load_model(tmp_path / "m.keras"), x), predict(model, x)
    )


# -- the corpus' recurrent cases ----------------------------------------------------------
def _corpus() -> Any:
    path = Path(__file__).parent / "corpus" / "make_corpus.py"
    spec = importlib.util.spec_from_file_location("glassnet_corpus_builder_rnn", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CORPUS = _corpus()
RNN_CASES = [case for case in CORPUS.cases() if case.category == "recurrent"]


@pytest.fixture(scope="module")
def rnn_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rnn-corpus")
    CORPUS.build(folder, only=lambda case: case.category == "recurrent")
    return folder


def test_the_corpus_has_recurrent_cases_in_every_format():
    assert len(RNN_CASES) >= 100
    assert {case.suffix for case in RNN_CASES} == {
        ".json",
        ".keras",
        ".h5",
        ".weights.h5",
        ".safetensors",
    }
    assert all(case.expect and case.model == "rnn" for case in RNN_CASES)
    loaders = {loader for case in RNN_CASES for loader in case.loaders}
    assert loaders == {
        CORPUS.LOAD_MODEL, CORPUS.LOAD_WEIGHTS, CORPUS.FROM_JSON_BYTES,
        CORPUS.FROM_JSON_STR,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("case", "loader"),
    [pytest.param(c, lo, id=f"{c.name}|{lo}") for c in RNN_CASES for lo in c.loaders],
)
def test_corpus_recurrent_files_end_in_their_expected_error(
    rnn_corpus, monkeypatch, case, loader
):
    """Each refused with the error it states; an architecture (``rnn/config/``) is
    refused before any recurrent or embedding layer is built. A whole model whose
    weights disagree with its config is built (with zeros, within what the file's
    bytes can hold) and refused when its weights are compared, before any is set."""
    path = rnn_corpus / case.name
    model = CORPUS.make_rnn_model()
    before = [w.copy() for w in model.get_weights()]
    if case.name.startswith("rnn/config/"):
        monkeypatch.setattr(Recurrent, "build", _never)
        monkeypatch.setattr(Embedding, "build", _never)
    with pytest.raises(ModelFileError) as error:
        if loader == CORPUS.LOAD_MODEL:
            load_model(path)
        elif loader == CORPUS.LOAD_WEIGHTS:
            model.load_weights(path)
        elif loader == CORPUS.FROM_JSON_BYTES:
            model_from_json(path.read_bytes())
        else:
            model_from_json(path.read_text())
    message = str(error.value)
    assert ("model_from_json" if "json" in loader else path.name) in message
    assert re.search(case.expect, message), (case.expect, message)
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
