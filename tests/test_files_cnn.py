"""Convolutional networks in files, to and from the real Keras 3 (PyTorch backend).

Every new layer (Conv1D/2D with every padding, strides and dilation, the max,
average and global pools, ZeroPadding, SpatialDropout) with BatchNormalization and
Flatten -> Dense, in Sequential and functional models:

- every format (``.keras``, legacy ``.h5``, ``.weights.h5``, ``.h5`` weights,
  ``.safetensors``, ``to_json``) round-trips bit-identically in float32 and float64;
- the weights keep Keras' order, names and HDF5 paths (a BatchNormalization after a
  convolution stores gamma, beta, moving_mean, moving_variance);
- glassnet's files load in Keras 3 and Keras 3's files load in glassnet, both
  predicting within 1e-5 of the other library, with the same ``get_weights``;
- what glassnet refuses (groups > 1, channels_first, a kernel shape that disagrees
  with the config, zero or negative sizes, windows over ``limits.MAX_WINDOW``) is a
  ModelFileError naming the layer and the argument, before any weight is allocated,
  and leaves the model it was loaded into unchanged.
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
from glassnet.layers.convolutional import BaseConv
from glassnet.models import load_model, model_from_json

keras = pytest.importorskip("keras")

# Keras' PyTorch backend trips NumPy 2's copy= deprecation on every call; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}
Spec = list[tuple[str, dict[str, Any]]]

# -- the models: one spec, built by either library ----------------------------------------
#: (input shape, layers): every padding, stride and dilation of each new layer. Keras'
#: torch backend averages a 'same' average pool whose window of 3 or more cells
#: overlaps an *asymmetric* padding over replicated edge pixels (TensorFlow, JAX and
#: ONNX average the real cells, as glassnet does), so the average pools here avoid
#: that case; test_keras_same_average_pool_quirk checks it against NumPy instead.
SPECS: dict[str, tuple[tuple[int, ...], Spec]] = {
    "image": (
        (9, 9, 2),
        [
            ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same",
                        "activation": "relu"}),
            ("BatchNormalization", {}),
            ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}),
            ("ZeroPadding2D", {"padding": ((1, 0), (0, 2))}),
            ("SpatialDropout2D", {"rate": 0.2}),
            ("Conv2D", {"filters": 3, "kernel_size": (2, 3), "strides": (2, 1)}),
            ("Conv2D", {"filters": 3, "kernel_size": 2, "dilation_rate": 2,
                        "padding": "same", "activation": "tanh"}),
            ("AveragePooling2D", {"pool_size": 2, "padding": "same"}),
            ("Flatten", {}),
            ("Dense", {"units": 5}),
        ],
    ),
    "image-strided": (
        (10, 11, 3),
        [
            ("Conv2D", {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same"}),
            ("MaxPooling2D", {"pool_size": (2, 3), "strides": 1}),
            ("AveragePooling2D", {"pool_size": 2, "strides": 1}),
            ("ZeroPadding2D", {"padding": 1}),
            ("Conv2D", {"filters": 4, "kernel_size": 1, "use_bias": False}),
            ("GlobalMaxPooling2D", {"keepdims": True}),
            ("Flatten", {}),
            ("Dense", {"units": 2, "activation": "softmax"}),
        ],
    ),
    "image-dilated": (
        (8, 10, 1),
        [
            ("Conv2D", {"filters": 3, "kernel_size": 3, "dilation_rate": (1, 2)}),
            ("BatchNormalization", {"epsilon": 0.01}),
            ("AveragePooling2D", {"pool_size": 3, "strides": 1, "padding": "same"}),
            ("GlobalAveragePooling2D", {}),
            ("Dense", {"units": 1}),
        ],
    ),
    "signal": (
        (16, 3),
        [
            ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal",
                        "dilation_rate": 2, "activation": "relu"}),
            ("BatchNormalization", {}),
            ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}),
            ("ZeroPadding1D", {"padding": (2, 1)}),
            ("SpatialDropout1D", {"rate": 0.1}),
            ("Conv1D", {"filters": 5, "kernel_size": 2, "strides": 2, "padding": "same"}),
            ("AveragePooling1D", {"pool_size": 2}),
            ("GlobalAveragePooling1D", {}),
            ("Dense", {"units": 2}),
        ],
    ),
    "signal-valid": (
        (12, 2),
        [
            ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "same",
                        "dilation_rate": 3}),
            ("AveragePooling1D", {"pool_size": 2, "strides": 1, "padding": "same"}),
            ("MaxPooling1D", {"pool_size": 2}),
            ("Conv1D", {"filters": 4, "kernel_size": 2, "strides": 2}),
            ("ZeroPadding1D", {"padding": 1}),
            ("GlobalMaxPooling1D", {"keepdims": True}),
            ("Flatten", {}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
    ),
}  # fmt: skip


def sequential(lib: Any, name: str, dtype: str = "float32") -> Any:
    """The spec ``name`` as a Sequential model of ``lib`` (glassnet or keras)."""
    shape, spec = SPECS[name]
    typed = {"dtype": dtype} if lib is keras else {}  # glassnet's follow the Input
    layers = [getattr(lib.layers, cls)(**kwargs, **typed) for cls, kwargs in spec]
    return lib.Sequential([lib.Input(shape, dtype=dtype), *layers])


def functional(lib: Any, dtype: str = "float32") -> Any:
    """Two inputs (an image and a signal), a merge of two convolutions, every global pool."""
    typed = {"dtype": dtype} if lib is keras else {}

    def layer(cls: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(lib.layers, cls)(*args, **kwargs, **typed)

    image = lib.Input((8, 8, 1), name="image", dtype=dtype)
    signal = lib.Input((10, 2), name="signal", dtype=dtype)
    a = layer("Conv2D", 4, 3, padding="same", activation="relu")(image)
    b = layer("Conv2D", 4, 5, padding="same")(image)
    h = layer("BatchNormalization")(layer("Add")([a, b]))
    h = layer("MaxPooling2D")(h)
    p = layer("GlobalAveragePooling2D")(h)
    q = layer("Flatten")(layer("GlobalMaxPooling2D", keepdims=True)(h))
    t = layer("Conv1D", 3, 3, padding="causal")(signal)
    t = layer("GlobalMaxPooling1D")(layer("SpatialDropout1D", 0.3)(t))
    u = layer("GlobalAveragePooling1D")(signal)
    joined = layer("Concatenate")([p, q, t, u])
    return lib.Model([image, signal], layer("Dense", 3, name="out")(joined))


def randomize(model: Any) -> None:
    """Weights no initializer draws (positive moving variances), either library."""
    rng = np.random.default_rng(5)
    dtype = model.get_weights()[0].dtype
    model.set_weights(
        [
            rng.uniform(0.5, 2.0, w.shape).astype(dtype)
            if "variance" in w.path
            else rng.normal(size=w.shape).astype(dtype)
            for w in model.weights
        ]
    )


def inputs(model: Any, n: int = 6, dtype: str = "float32") -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [
        rng.normal(size=(n, *tensor.shape[1:])).astype(dtype) for tensor in model.inputs
    ]


def predict(model: Any, x: list[np.ndarray]) -> np.ndarray:
    return np.asarray(model.predict(x if len(x) > 1 else x[0], verbose=0))


def make(lib: Any, name: str, dtype: str = "float32") -> Any:
    if lib is glassnet:
        glassnet.utils.clear_session()
    model = (
        functional(lib, dtype) if name == "functional" else sequential(lib, name, dtype)
    )
    randomize(model)
    return model


def architecture(model: Any) -> list[tuple[str, dict[str, Any]]]:
    """Each layer's class and config (a loaded Sequential's first layer also
    records the input shape the file gave it)."""
    return [
        (type(layer).__name__, {**layer.get_config(), "input_shape": None})
        for layer in model.layers
    ]


MODELS = [*SPECS, "functional"]


# -- round trips --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", MODELS)
def test_every_format_round_trips_bit_identically(tmp_path, name, dtype):
    model = make(glassnet, name, dtype)
    model.compile(optimizer="adam", loss="mse")
    x = inputs(model, dtype=dtype)
    expected = predict(model, x)
    for file in ("m.keras", "m.h5"):
        model.save(tmp_path / file)
        loaded = load_model(tmp_path / file)
        assert loaded.dtype == np.dtype(dtype)
        assert architecture(loaded) == architecture(model)
        np.testing.assert_array_equal(predict(loaded, x), expected)
    for file in ("w.weights.h5", "w.h5", "w.safetensors"):
        model.save_weights(tmp_path / file)
        fresh = model_from_json(model.to_json())
        fresh.load_weights(tmp_path / file)
        np.testing.assert_array_equal(predict(fresh, x), expected)


def test_weights_keep_keras_order_names_and_paths(tmp_path):
    model = make(glassnet, "image")
    conv, bn = model.layers[0], model.layers[1]
    assert [w.path for w in conv.weights + bn.weights] == [
        "sequential/conv2d/kernel", "sequential/conv2d/bias",
        "sequential/batch_normalization/gamma", "sequential/batch_normalization/beta",
        "sequential/batch_normalization/moving_mean",
        "sequential/batch_normalization/moving_variance",
    ]  # fmt: skip
    keras.backend.clear_session()  # Keras numbers its layers across the session
    theirs = make(keras, "image")

    def below_the_model(weights: list[Any]) -> list[str]:
        return [w.path.partition("/")[2] for w in weights[:6]]

    assert below_the_model(theirs.weights) == below_the_model(model.weights)
    assert [w.shape for w in model.get_weights()[:6]] == [
        (3, 3, 2, 4), (4,), (4,), (4,), (4,), (4,),
    ]  # fmt: skip
    model.save_weights(tmp_path / "w.weights.h5")
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        assert list(f["layers"]) == [
            "average_pooling2d", "batch_normalization", "conv2d", "conv2d_1",
            "conv2d_2", "dense", "flatten", "max_pooling2d", "spatial_dropout2d",
            "zero_padding2d",
        ]  # fmt: skip
        assert f["layers/conv2d_1/vars/0"].shape == (2, 3, 4, 3)
        bn_vars = f["layers/batch_normalization/vars"]
        for index, weight in enumerate(bn.weights):
            np.testing.assert_array_equal(bn_vars[str(index)][()], weight.value)
        assert len(f["layers/max_pooling2d/vars"]) == 0
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert list(f["batch_normalization"].attrs["weight_names"]) == [
            b"batch_normalization/gamma:0", b"batch_normalization/beta:0",
            b"batch_normalization/moving_mean:0",
            b"batch_normalization/moving_variance:0",
        ]  # fmt: skip


# -- glassnet -> Keras --------------------------------------------------------------------
@pytest.fixture(scope="module", params=MODELS)
def glassnet_files(request, tmp_path_factory):
    """A glassnet model with random weights, saved in every format Keras reads."""
    folder = tmp_path_factory.mktemp(f"glassnet-{request.param}")
    model = make(glassnet, request.param)
    model.compile(optimizer="adam", loss="mse")
    model.save(folder / "g.keras")
    model.save(folder / "g.h5")
    model.save_weights(folder / "g.weights.h5")
    model.save_weights(folder / "w.h5")
    return model, folder


@pytest.mark.parametrize("file", ["g.keras", "g.h5"])
def test_keras_loads_glassnet_cnn_models(glassnet_files, file):
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
def test_keras_loads_glassnet_cnn_weights(glassnet_files, file):
    ours, folder = glassnet_files
    theirs = keras.models.model_from_json(ours.to_json())
    theirs.load_weights(folder / file)
    x = inputs(ours)
    np.testing.assert_allclose(predict(theirs, x), predict(ours, x), **TOLERANCE)


# -- Keras -> glassnet --------------------------------------------------------------------
@pytest.fixture(scope="module", params=MODELS)
def keras_files(request, tmp_path_factory):
    """A Keras model with random weights, saved by Keras in every format it writes."""
    folder = tmp_path_factory.mktemp(f"keras-{request.param}")
    model = make(keras, request.param)
    model.compile(optimizer="adam", loss="mse")
    model.save(folder / "k.keras")
    model.save_weights(folder / "k.weights.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras calls the legacy format legacy
        model.save(folder / "k.h5")
    return model, folder


@pytest.mark.parametrize("file", ["k.keras", "k.h5"])
def test_glassnet_loads_keras_cnn_models(keras_files, file):
    theirs, folder = keras_files
    ours = load_model(folder / file)
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in theirs.layers
    ]
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # Keras' order and contents
    x = inputs(ours)
    np.testing.assert_allclose(predict(ours, x), predict(theirs, x), **TOLERANCE)


@pytest.mark.parametrize("file", ["k.weights.h5", "k.keras"])
def test_glassnet_loads_keras_cnn_weights(keras_files, file):
    theirs, folder = keras_files
    ours = model_from_json(theirs.to_json())
    ours.load_weights(folder / file)
    x = inputs(ours)
    np.testing.assert_allclose(predict(ours, x), predict(theirs, x), **TOLERANCE)


def average_pool_same(x: np.ndarray, size: tuple[int, int], strides: tuple[int, int]):
    """NumPy reference: a 'same' average pool over the real cells of each window."""
    n, h, w, c = x.shape
    out_h, out_w = -(-h // strides[0]), -(-w // strides[1])
    pad_h = max((out_h - 1) * strides[0] + size[0] - h, 0)
    pad_w = max((out_w - 1) * strides[1] + size[1] - w, 0)
    pads = ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2))
    padded = np.pad(x, (*pads, (0, 0)))
    real = np.pad(np.ones((1, h, w, 1)), (*pads, (0, 0)))
    y = np.empty((n, out_h, out_w, c))
    for i in range(out_h):
        for j in range(out_w):
            rows = slice(i * strides[0], i * strides[0] + size[0])
            cols = slice(j * strides[1], j * strides[1] + size[1])
            y[:, i, j] = padded[:, rows, cols].sum((1, 2)) / real[:, rows, cols].sum()
    return y


def test_keras_same_average_pool_quirk_is_checked_against_numpy(tmp_path):
    """A 4x4 'same' average pool of stride 2 on 7x7 pads (1, 2): Keras' torch backend
    averages replicated edge pixels there, so glassnet is held to NumPy instead."""
    theirs = keras.Sequential(
        [
            keras.Input((7, 7, 2)),
            keras.layers.Conv2D(3, 1, use_bias=False),
            keras.layers.AveragePooling2D(4, strides=2, padding="same"),
        ]
    )
    randomize(theirs)
    theirs.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    (x,) = inputs(ours, dtype="float64")
    z = x @ theirs.get_weights()[0][0, 0].astype(np.float64)
    reference = average_pool_same(z, (4, 4), (2, 2))
    np.testing.assert_allclose(
        ours.predict(x.astype("float32"), verbose=0), reference, rtol=1e-5, atol=1e-6
    )
    keras_says = np.asarray(theirs.predict(x.astype("float32"), verbose=0))
    assert np.abs(keras_says - reference).max() > 1e-3  # the quirk is still there


# -- what glassnet refuses ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "argument"),
    [
        (keras.layers.Conv2D(4, 3, groups=2, name="grouped"), "groups"),
        (
            keras.layers.Conv2D(4, 3, data_format="channels_first", name="nchw"),
            "data_format",
        ),
        (keras.layers.Conv1D(4, 3, groups=2, name="grouped"), "groups"),
        (
            keras.layers.MaxPooling2D(data_format="channels_first", name="nchw"),
            "data_format",
        ),
    ],
)
def test_keras_settings_glassnet_refuses_are_named(tmp_path, layer, argument):
    shape = (6, 6, 4) if "2D" in type(layer).__name__ else (6, 4)
    model = keras.Sequential([keras.Input(shape), layer])
    model.save(tmp_path / "k.keras")
    with pytest.raises(ModelFileError, match=rf"'{layer.name}'.*{argument}") as error:
        load_model(tmp_path / "k.keras")
    assert "k.keras" in str(error.value)
    assert "not supported yet" in str(error.value)


def cnn_document() -> dict[str, Any]:
    """A small CNN's to_json(), as a dict: conv2d, max_pooling2d, flatten, dense."""
    glassnet.utils.clear_session()
    L = glassnet.layers
    model = glassnet.Sequential(
        [
            glassnet.Input((8, 8, 1)),
            L.Conv2D(4, 3, padding="same"),
            L.MaxPooling2D(),
            L.ZeroPadding2D(1),
            L.Flatten(),
            L.Dense(2),
        ]
    )
    return json.loads(model.to_json())


def _edit(layer: int, **changes: Any) -> dict[str, Any]:
    document = cnn_document()
    document["config"]["layers"][layer]["config"].update(changes)
    return document


@pytest.mark.parametrize(
    ("layer", "changes", "match"),
    [
        (1, {"filters": 0}, r"'conv2d'.*filters.*Received: filters=0"),
        (1, {"filters": -4}, r"'conv2d'.*filters.*Received: filters=-4"),
        (1, {"kernel_size": [0, 3]}, r"'conv2d'.*kernel_size.*Received: kernel_size="),
        (1, {"kernel_size": [-3, 3]}, r"'conv2d'.*kernel_size.*Received: kernel_size="),
        (1, {"strides": [0, 1]}, r"'conv2d'.*strides.*Received: strides="),
        (1, {"dilation_rate": [1, -2]}, r"'conv2d'.*dilation_rate.*Received"),
        (1, {"kernel_size": 3.5}, r"'conv2d'.*kernel_size.*Received: kernel_size=3.5"),
        (1, {"padding": "full"}, r"'conv2d'.*padding.*Received: padding='full'"),
        (1, {"padding": "causal"}, r"'conv2d'.*padding.*Received: padding='causal'"),
        (
            1,
            {"kernel_size": [9, 9], "padding": "valid"},
            r"'conv2d'.*cannot take inputs shaped \(8, 8, 1\)",
        ),
        (
            1,
            {"kernel_size": [2**14 + 1, 1]},
            r"'conv2d'.*kernel_size=\[16385, 1\].*MAX_WIND",
        ),
        (1, {"kernel_size": [10**30, 1]}, r"'conv2d'.*kernel_size.*MAX_WINDOW"),
        (1, {"strides": [10**9, 1]}, r"'conv2d'.*strides.*MAX_WINDOW"),
        (1, {"dilation_rate": [9000, 9000]}, r"'conv2d'.*spans 18001.*MAX_WINDOW"),
        (1, {"filters": 2**31}, r"declares at least \d+ parameters"),
        (2, {"pool_size": [0, 2]}, r"'max_pooling2d'.*pool_size.*Received"),
        (2, {"strides": [2, -1]}, r"'max_pooling2d'.*strides.*Received"),
        (2, {"pool_size": [10**9, 10**9]}, r"'max_pooling2d'.*pool_size.*MAX_WINDOW"),
        (
            3,
            {"padding": [[1, 10**9], [0, 0]]},
            r"'zero_padding2d'.*padding.*MAX_WINDOW",
        ),
        (3, {"padding": [[1, -1], [0, 0]]}, r"'zero_padding2d'.*padding.*Received"),
    ],
)
def test_hostile_conv_configs_are_refused_before_any_kernel_exists(
    monkeypatch, changes, layer, match
):
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a kernel was allocated")

    document = _edit(layer, **changes)
    monkeypatch.setattr(BaseConv, "build", never)
    with pytest.raises(ModelFileError, match=match):
        model_from_json(json.dumps(document))


def test_the_window_cap_is_a_module_constant(monkeypatch):
    document = _edit(2, pool_size=[64, 64], padding="same")
    model_from_json(json.dumps(document))  # 64 is under the cap
    monkeypatch.setattr(limits, "MAX_WINDOW", 32)
    with pytest.raises(ModelFileError, match=r"at most 32"):
        model_from_json(json.dumps(document))


@pytest.mark.parametrize("file", ["w.weights.h5", "w.h5", "w.safetensors"])
def test_a_kernel_that_disagrees_with_the_config_is_refused(tmp_path, file):
    source = make(glassnet, "image")
    source.save_weights(tmp_path / file)
    document = json.loads(source.to_json())
    document["config"]["layers"][1]["config"]["kernel_size"] = [5, 5]
    target = model_from_json(json.dumps(document))
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(
        ModelFileError, match=r"\(3, 3, 2, 4\).*\(5, 5, 2, 4\)|5, 5, 2, 4"
    ):
        target.load_weights(tmp_path / file)
    for a, b in zip(target.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_keras_archive_whose_kernel_disagrees_with_its_config_is_refused(tmp_path):
    theirs = make(keras, "signal")
    theirs.save(tmp_path / "k.keras")
    with zipfile.ZipFile(tmp_path / "k.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["filters"] = 6
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(
        ModelFileError, match=r"layers/conv1d/vars.*\(3, 3, 4\).*\(3, 3, 6\)"
    ):
        load_model(tmp_path / "bad.keras")


# -- the corpus' convolution cases --------------------------------------------------------
def _corpus() -> Any:
    path = Path(__file__).parent / "corpus" / "make_corpus.py"
    spec = importlib.util.spec_from_file_location("glassnet_corpus_builder_cnn", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CORPUS = _corpus()
CNN_CASES = [case for case in CORPUS.cases() if case.category == "convolutions"]


@pytest.fixture(scope="module")
def cnn_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cnn-corpus")
    CORPUS.build(folder, only=lambda case: case.category == "convolutions")
    return folder


def test_the_corpus_has_convolution_cases_in_every_format():
    assert len(CNN_CASES) >= 40
    assert {case.suffix for case in CNN_CASES} == {".json", ".keras", ".h5"}
    assert all(case.expect for case in CNN_CASES)


@pytest.mark.parametrize(
    ("case", "loader"),
    [pytest.param(c, lo, id=f"{c.name}|{lo}") for c in CNN_CASES for lo in c.loaders],
)
def test_corpus_convolution_files_end_in_their_expected_error(cnn_corpus, case, loader):
    path = cnn_corpus / case.name
    model = CORPUS.make_cnn_model()
    before = [w.copy() for w in model.get_weights()]
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
