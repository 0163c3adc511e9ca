"""Model files: round trips in every format and dtype, exact resumption, atomic saves."""

from __future__ import annotations

import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import glassnet.io.api as io_api
from glassnet.errors import (
    InvalidArgumentError,
    ModelFileError,
    NotBuiltError,
    UnsafeFileError,
)
from glassnet.io import (
    atomic_write,
    load_model,
    load_weights,
    read_metadata,
    save_model,
    save_weights,
)
from glassnet.layers import Activation, Dense, Dropout
from glassnet.models import Sequential, model_from_json
from glassnet.optimizers import SGD, Adagrad, Adam, RMSprop

X = np.random.default_rng(7).normal(size=(24, 3))
Y = np.eye(2)[np.random.default_rng(8).integers(0, 2, 24)]


def make_model(dtype: str = "float32", seed: int | None = 1) -> Sequential:
    """Dense, Dropout and Activation: the layers Keras files share with glassnet."""
    model = Sequential(
        [
            Dense(5, activation="relu", input_dim=3),
            Dropout(0.3),
            Activation("tanh"),
            Dense(2, activation="softmax", kernel_initializer="he_normal"),
        ],
        seed=seed,
        dtype=dtype,
    )
    model.compile(
        optimizer=Adam(0.01), loss="categorical_crossentropy", metrics=["acc"]
    )
    return model


def trained(dtype: str = "float32") -> Sequential:
    model = make_model(dtype)
    model.fit(X, Y, epochs=3, batch_size=8, verbose=0)
    return model


# -- round trips ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "w.safetensors"])
def test_weights_round_trip_is_bit_identical(tmp_path, name, dtype):
    model = trained(dtype)
    path = tmp_path / name
    model.save_weights(path)
    copy = model_from_json(model.to_json())
    assert copy.dtype == model.dtype
    copy.load_weights(path)
    assert np.array_equal(copy.predict(X, verbose=0), model.predict(X, verbose=0))
    for ours, theirs in zip(copy.get_weights(), model.get_weights(), strict=True):
        assert ours.dtype == np.dtype(dtype) and np.array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_model_round_trip_is_bit_identical_and_compiled(tmp_path, name, dtype):
    model = trained(dtype)
    model.save(tmp_path / name)
    copy = load_model(tmp_path / name)
    assert copy.get_config() == model.get_config()
    assert np.array_equal(copy.predict(X, verbose=0), model.predict(X, verbose=0))
    assert copy.compiled and copy.optimizer is not None
    assert copy.optimizer.get_config() == model.optimizer.get_config()
    assert copy.loss == model.loss
    assert [m.name for m in copy.metrics] == ["acc"]
    assert copy.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)


def test_weights_files_keep_the_model_dtype(tmp_path):
    model = trained("float64")
    model.save_weights(tmp_path / "w.weights.h5")
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.weights.h5") as f:
        assert f["layers/dense/vars/0"].dtype == np.float64
        assert f["layers/dense/vars"].attrs["name"] == "dense"
    with h5py.File(tmp_path / "w.h5") as f:
        assert f["dense/dense/kernel:0"].dtype == np.float64
        assert list(f.attrs["layer_names"]) == [
            b"dense",
            b"dropout",
            b"activation",
            b"dense_1",
        ]


def test_load_model_without_compile(tmp_path):
    model = trained()
    model.save(tmp_path / "m.keras")
    copy = load_model(tmp_path / "m.keras", compile=False)
    assert not copy.compiled
    assert np.array_equal(copy.predict(X, verbose=0), model.predict(X, verbose=0))


def test_uncompiled_and_unbuilt_models_round_trip(tmp_path):
    model = Sequential([Dense(3), Activation("relu")], name="later", seed=4)
    model.save(tmp_path / "m.keras")
    copy = load_model(tmp_path / "m.keras")
    assert copy.get_config() == model.get_config() and not copy.built
    assert not copy.compiled


def test_load_weights_reads_the_weights_of_a_keras_archive(tmp_path):
    model = trained()
    model.save(tmp_path / "m.keras")
    copy = make_model(seed=99)
    copy.load_weights(tmp_path / "m.keras")
    assert np.array_equal(copy.predict(X, verbose=0), model.predict(X, verbose=0))


# -- JSON -------------------------------------------------------------------------------
def test_to_json_uses_keras_layout():
    model = make_model()
    document = json.loads(model.to_json())
    assert document["class_name"] == "Sequential" and document["module"] == "keras"
    assert {"keras_version", "backend"} <= set(document)
    layers = document["config"]["layers"]
    assert layers[0]["class_name"] == "InputLayer"
    assert layers[0]["config"]["batch_shape"] == [None, 3]
    assert [layer["class_name"] for layer in layers[1:]] == [
        "Dense",
        "Dropout",
        "Activation",
        "Dense",
    ]
    assert (
        layers[1]["config"]["units"] == 5 and layers[1]["config"]["dtype"] == "float32"
    )
    assert "  " in model.to_json(indent=2)


def test_json_round_trip_rebuilds_the_same_untrained_model():
    model = Sequential(
        [
            Dense(
                4,
                input_shape=(2,),
                kernel_initializer={
                    "class_name": "RandomNormal",
                    "config": {"stddev": 0.3},
                },
            ),
            Activation({"class_name": "LeakyReLU", "config": {"negative_slope": 0.1}}),
            Dense(1, use_bias=False),
        ],
        seed=5,
        dtype="float64",
    )
    copy = model_from_json(model.to_json())
    assert copy.get_config() == model.get_config()
    assert all(
        np.array_equal(a, b)
        for a, b in zip(copy.get_weights(), model.get_weights(), strict=True)
    )


def test_model_from_json_reads_glassnet_get_config():
    model = make_model()
    text = json.dumps({"class_name": "Sequential", "config": model.get_config()})
    assert model_from_json(text).get_config() == model.get_config()


def test_seed_002_to_json_and_basic_weights_h5(tmp_path, xor):
    x, y = xor
    model = Sequential(seed=1)
    model.add(Dense(10, input_dim=2))
    model.add(Activation("tanh"))
    model.add(Dense(1))
    model.add(Activation("sigmoid"))
    model.compile(
        loss="binary_crossentropy", optimizer=SGD(lr=0.1), metrics=["accuracy"]
    )
    model.fit(x, y, epochs=300, verbose=0)
    (tmp_path / "basic_model.json").write_text(model.to_json())
    model.save_weights(tmp_path / "basic_weights.h5")
    again = model_from_json((tmp_path / "basic_model.json").read_text())
    again.load_weights(tmp_path / "basic_weights.h5")
    assert np.array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


# -- resuming training ----------------------------------------------------------------
OPTIMIZERS = {
    "adam": lambda: Adam(0.01, amsgrad=True),
    "sgd": lambda: SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: Adagrad(0.05),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_training_resumes_exactly_after_save_and_load(tmp_path, optimizer):
    def fresh() -> Sequential:
        model = make_model()
        model.compile(
            optimizer=OPTIMIZERS[optimizer](), loss="categorical_crossentropy"
        )
        return model

    straight = fresh()
    straight.fit(X, Y, epochs=10, batch_size=8, verbose=0)
    first = fresh()
    first.fit(X, Y, epochs=5, batch_size=8, verbose=0)
    first.save(tmp_path / "half.keras")
    second = load_model(tmp_path / "half.keras")
    second.fit(X, Y, epochs=5, batch_size=8, verbose=0)
    for ours, theirs in zip(second.get_weights(), straight.get_weights(), strict=True):
        assert np.array_equal(ours, theirs)
    assert second.optimizer.iterations == straight.optimizer.iterations == 30


def test_layers_with_their_own_generator_resume_too(tmp_path):
    def fresh() -> Sequential:
        model = Sequential(
            [Dense(6, input_dim=3), Dropout(0.5, seed=3), Dense(2)], seed=2
        )
        model.compile(optimizer="sgd", loss="mse")
        return model

    straight = fresh()
    straight.fit(X, Y, epochs=4, batch_size=6, verbose=0)
    first = fresh()
    first.fit(X, Y, epochs=2, batch_size=6, verbose=0)
    first.save(tmp_path / "half.keras")
    second = load_model(tmp_path / "half.keras")
    second.fit(X, Y, epochs=2, batch_size=6, verbose=0)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(second.get_weights(), straight.get_weights(), strict=True)
    )


def test_include_optimizer_false_starts_a_fresh_optimizer(tmp_path):
    model = trained()
    model.save(tmp_path / "m.keras", include_optimizer=False)
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert sorted(archive.namelist()) == [
            "config.json",
            "metadata.json",
            "model.weights.h5",
        ]
    copy = load_model(tmp_path / "m.keras")
    assert copy.optimizer.iterations == 0 and copy.optimizer.state == {}


# -- atomic saves ---------------------------------------------------------------------
def _crash(*args, **kwargs):
    raise KeyboardInterrupt("power cut")


def _save(model: Sequential, path) -> None:
    (model.save if path.name.startswith("m.") else model.save_weights)(path)


@pytest.mark.parametrize(
    "name", ["m.keras", "m.h5", "w.weights.h5", "w.h5", "w.safetensors"]
)
def test_a_crash_before_the_rename_leaves_the_old_file_intact(
    tmp_path, monkeypatch, name
):
    model = trained()
    path = tmp_path / name
    _save(model, path)
    before = path.read_bytes()
    model.fit(X, Y, epochs=1, verbose=0)  # new weights: a new file would differ
    monkeypatch.setattr(
        os, "fsync", _crash
    )  # the whole file is written, not yet renamed
    with pytest.raises(KeyboardInterrupt):
        _save(model, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [name]


@pytest.mark.parametrize("name", ["m.keras", "w.weights.h5"])
def test_a_writer_failing_halfway_leaves_the_old_file_intact(
    tmp_path, monkeypatch, name
):
    model = trained()
    path = tmp_path / name
    _save(model, path)
    before = path.read_bytes()

    def half(root, *args):
        root.create_dataset("layers/dense/vars/0", data=np.zeros((3, 5)))
        raise OSError("disk full")

    monkeypatch.setattr(io_api.keras_h5, "write_weights", half)
    with pytest.raises(OSError, match="disk full"):
        _save(model, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [name]


def test_a_failed_rename_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "notes.bin"
    path.write_bytes(b"old")
    monkeypatch.setattr(os, "replace", _crash)
    with pytest.raises(KeyboardInterrupt), atomic_write(path) as handle:
        handle.write(b"new")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["notes.bin"]


def test_saved_files_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    model = trained()
    model.save_weights(tmp_path / "w.safetensors")
    assert (tmp_path / "w.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask


def test_overwrite_false_refuses_to_replace(tmp_path):
    model = trained()
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(tmp_path / "m.keras", overwrite=False)


# -- arguments ------------------------------------------------------------------------
def test_unknown_extensions_name_the_supported_ones(tmp_path):
    model = trained()
    with pytest.raises(InvalidArgumentError, match=r"\.weights\.h5 .*\.safetensors"):
        model.save_weights(tmp_path / "w.npz")
    with pytest.raises(InvalidArgumentError, match=r"Use model\.save"):
        model.save_weights(tmp_path / "w.keras")
    with pytest.raises(InvalidArgumentError, match=r"\.keras .*\.h5"):
        model.save(tmp_path / "m.pkl")
    model.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(InvalidArgumentError, match="weights only"):
        load_model(tmp_path / "w.safetensors")
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_model(tmp_path / "missing.keras")


def test_weights_need_a_built_model(tmp_path):
    model = Sequential([Dense(2)])
    with pytest.raises(NotBuiltError, match=r"model\.build"):
        save_weights(model, tmp_path / "w.h5")
    trained().save_weights(tmp_path / "w.h5")
    with pytest.raises(NotBuiltError, match=r"model\.build"):
        load_weights(model, tmp_path / "w.h5")
    with pytest.raises(TypeError, match="Sequential"):
        save_model("model", tmp_path / "m.keras")


# -- user metadata --------------------------------------------------------------------
NOTES = {
    "classes": ["cat", "dog"],
    "scale": [0.5, 2.0],
    "nested": {"ok": True, "n": 3, "none": None, "text": "fünf"},
}


def test_metadata_round_trips_and_leaves_the_model_alone(tmp_path):
    model = trained()
    path = tmp_path / "m.keras"
    model.save(path, metadata=NOTES)
    assert read_metadata(path) == NOTES
    with zipfile.ZipFile(path) as archive:
        stored = json.loads(archive.read("metadata.json"))
    assert stored["glassnet"]["user"] == NOTES
    assert "rng" in stored["glassnet"]
    copy = load_model(path)  # the extra key changes nothing for the loader
    assert np.array_equal(copy.predict(X, verbose=0), model.predict(X, verbose=0))
    save_model(model, path, metadata={"t": ("a", 1)})  # tuples come back as lists
    assert read_metadata(path) == {"t": ["a", 1]}
    model.save(path)  # none given: none read
    assert read_metadata(path) == {}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (["a"], "must be a dict"),
        ({"mean": float("nan")}, r"metadata\['mean'\] is nan"),
        ({"x": [1.0, float("inf")]}, r"metadata\['x'\]\[1\] is inf"),
        ({1: "a"}, "keys must be strings"),
        ({"a": {2.5: 1}}, "keys must be strings"),
        ({"a": np.float32(1.0)}, "is a float32"),
        ({"a": {1, 2}}, "is a set"),
        ({"a": b"bytes"}, "is a bytes"),
        ({"big": "x" * (2**20 + 1)}, "MAX_USER_METADATA_BYTES"),
        ({"n": 10**80}, "too long"),
        ({"deep": json.loads("[" * 80 + "]" * 80)}, "nested too deeply"),
    ],
)
def test_bad_metadata_is_refused_before_anything_is_written(
    tmp_path, metadata, message
):
    path = tmp_path / "m.keras"
    with pytest.raises(InvalidArgumentError, match=message):
        save_model(trained(), path, metadata=metadata)
    assert not path.exists()


def test_metadata_that_contains_itself_is_refused(tmp_path):
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(InvalidArgumentError, match="contains itself"):
        save_model(trained(), tmp_path / "m.keras", metadata=loop)


def test_metadata_is_for_keras_files_only(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"\.keras files only"):
        save_model(trained(), tmp_path / "m.h5", metadata={"a": 1})
    trained().save(tmp_path / "m.h5")
    with pytest.raises(InvalidArgumentError, match=r"read_metadata reads \.keras"):
        read_metadata(tmp_path / "m.h5")
    with pytest.raises(FileNotFoundError):
        read_metadata(tmp_path / "missing.keras")


def _with_weights(source, target, weights: bytes, compression: int) -> None:
    """A copy of the archive ``source`` whose model.weights.h5 is ``weights``."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model.weights.h5"] = weights
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, compress_type=compression)


def test_read_metadata_never_inflates_the_weights(tmp_path, monkeypatch):
    source = tmp_path / "m.keras"
    trained().save(source, metadata=NOTES)
    # a weights member far larger than the model's 37 parameters can explain
    bloated = tmp_path / "bloated.keras"
    _with_weights(source, bloated, os.urandom(3 * 2**20), zipfile.ZIP_STORED)
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    assert read_metadata(bloated) == NOTES
    assert opened == ["metadata.json"]
    with pytest.raises(UnsafeFileError, match="parameters"):
        load_model(bloated)  # the loader bounds it by the architecture
    # a decompression bomb: refused from the zip directory alone, nothing inflated
    bomb = tmp_path / "bomb.keras"
    _with_weights(source, bomb, bytes(64 * 2**20), zipfile.ZIP_DEFLATED)
    opened.clear()
    with pytest.raises(UnsafeFileError, match="decompression bomb"):
        read_metadata(bomb)
    assert opened == []


def test_bad_metadata_in_a_file_is_a_clean_error(tmp_path):
    source = tmp_path / "m.keras"
    trained().save(source)
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for text, message in [
        (b'{"glassnet": {"user": [1]}}', "glassnet.user must be a JSON object"),
        (b'{"glassnet": "x"}', "'glassnet' must be a JSON object"),
        (b'{"glassnet": {"user": {"a": NaN}}}', "NaN"),
        (b"[]", "must be a JSON object"),
    ]:
        members["metadata.json"] = text
        with zipfile.ZipFile(tmp_path / "bad.keras", "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        with pytest.raises(ModelFileError, match=message):
            read_metadata(tmp_path / "bad.keras")
    (tmp_path / "garbage.keras").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a zip archive"):
        read_metadata(tmp_path / "garbage.keras")
