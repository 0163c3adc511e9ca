"""The loaders after the second wave of hostile files (issue 15), beside the corpus.

``tests/test_malicious_corpus.py`` checks that every hostile file of the second
wave (``tests/corpus/second_wave.py``) is refused safely; these tests check the
other half of each fix: that valid files near the new limits still load, that
the rules follow Keras where Keras has one, and that the API's flags and
messages say what they mean.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile

import h5py
import numpy as np
import pytest

from glassnet.errors import GlassnetTypeError, GlassnetWarning, ModelFileError
from glassnet.io import limits
from glassnet.io.training_state import restore_generator
from glassnet.io.zip_directory import check_end_record
from glassnet.layers import BatchNormalization, Dense, Dropout, LeakyReLU
from glassnet.models import Sequential, load_model, model_from_json


def make_model(name: str = "dense", units: int = 4) -> Sequential:
    model = Sequential(
        [
            Dense(units, activation="relu", input_dim=3, name=name),
            BatchNormalization(),
            Dropout(0.1),
            Dense(2, name="out"),
        ],
        seed=0,
    )
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3))
    model.fit(x, np.zeros((8, 2)), epochs=1, verbose=0)
    return model


# -- boolean flags are booleans ----------------------------------------------------------
@pytest.mark.parametrize("value", ["no", "False", 0, 1, None, [False]])
def test_load_weights_refuses_a_non_boolean_allow_nonfinite(tmp_path, value):
    model = make_model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        f["layers/dense/vars/0"][0, 0] = np.nan
    before = model.get_weights()
    with pytest.raises(GlassnetTypeError, match=r"allow_nonfinite.*True or False"):
        model.load_weights(path, allow_nonfinite=value)
    assert all(
        np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)
    )
    with pytest.raises(GlassnetTypeError, match="allow_nonfinite"):
        load_model(tmp_path / "missing.keras", allow_nonfinite=value)


@pytest.mark.parametrize("value", ["False", "no", 0, None])
def test_save_refuses_a_non_boolean_overwrite_and_keeps_the_file(tmp_path, value):
    model = make_model()
    for name, save in [
        ("m.keras", model.save),
        ("m.h5", model.save),
        ("w.weights.h5", model.save_weights),
        ("w.safetensors", model.save_weights),
    ]:
        path = tmp_path / name
        path.write_bytes(b"the previous file")
        with pytest.raises(GlassnetTypeError, match=r"overwrite.*True or False"):
            save(path, overwrite=value)
        assert path.read_bytes() == b"the previous file"
        assert (
            sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
        )


def test_numpy_booleans_are_booleans(tmp_path):
    model = make_model()
    model.save(tmp_path / "m.keras", overwrite=np.bool_(True))
    model.load_weights(tmp_path / "m.keras", allow_nonfinite=np.bool_(False))


def test_load_model_on_a_directory_says_so(tmp_path):
    for load in (load_model, make_model().load_weights):
        with pytest.raises(IsADirectoryError, match=r"Is a directory.*not a file"):
            load(tmp_path)
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_model(tmp_path / "nothing.keras")


# -- what glassnet writes, glassnet reads back -----------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "d" * 256,  # the longest name glassnet accepts (glassnet._naming)
        "\U0001d4e7" * 256,  # 256 characters of 4 bytes each in UTF-8
        "dénse ünïcode",
        "dense:0 with spaces",
    ],
    ids=["256-ascii", "256-astral", "latin", "colon-space"],
)
def test_every_name_glassnet_accepts_round_trips_in_every_format(tmp_path, name):
    model = make_model(name)
    x = np.random.default_rng(1).normal(size=(4, 3))
    expected = model.predict(x, verbose=0)
    for file in ("m.keras", "m.h5"):
        model.save(tmp_path / file)
        copy = load_model(tmp_path / file)
        assert copy.layers[0].name == name
        np.testing.assert_array_equal(copy.predict(x, verbose=0), expected)
    for file in ("w.weights.h5", "w.h5", "w.safetensors"):
        model.save_weights(tmp_path / file)
        other = make_model(name)
        other.load_weights(tmp_path / file)
        np.testing.assert_array_equal(other.predict(x, verbose=0), expected)
    assert model_from_json(model.to_json()).layers[0].name == name


# -- shape claims ----------------------------------------------------------------------
def test_a_layer_input_dim_that_agrees_with_the_input_layer_loads():
    document = json.loads(Sequential([Dense(3, input_dim=2), Dense(1)]).to_json())
    document["config"]["layers"][1]["config"]["input_dim"] = 2
    model = model_from_json(json.dumps(document))
    assert model.input_shape == (2,) and model.count_params() == 13


def test_a_disagreeing_input_dim_is_refused_before_anything_is_allocated(monkeypatch):
    document = json.loads(Sequential([Dense(3, input_dim=2), Dense(1)]).to_json())
    document["config"]["layers"][1]["config"]["input_dim"] = 2**22
    from glassnet.layers import dense

    built = []
    monkeypatch.setattr(dense.Dense, "build", lambda self, *a, **k: built.append(a))
    with pytest.raises(ModelFileError, match=r"declares the input shape \(4194304,\)"):
        model_from_json(json.dumps(document))
    assert not built


# -- the zip directory -------------------------------------------------------------------
def _rezipped(data: bytes, **options) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", **options) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        target.comment = b"a comment after the end record"
    return buffer.getvalue()


@pytest.mark.parametrize(
    "options",
    [{"compression": zipfile.ZIP_DEFLATED}, {"compression": zipfile.ZIP_STORED}],
    ids=["deflated", "stored-with-comment"],
)
def test_valid_archives_zipfile_writes_still_load(tmp_path, options):
    model = make_model()
    model.save(tmp_path / "m.keras")
    path = tmp_path / "z.keras"
    path.write_bytes(_rezipped((tmp_path / "m.keras").read_bytes(), **options))
    x = np.ones((2, 3))
    np.testing.assert_array_equal(
        load_model(path).predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_a_zip64_archive_loads_and_its_record_is_read(tmp_path):
    model = make_model()
    model.save(tmp_path / "m.keras")
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(tmp_path / "m.keras") as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for info in source.infolist():
            with target.open(info.filename, "w", force_zip64=True) as member:
                member.write(source.read(info))
    data = buffer.getvalue()
    # a zip64 end record, with its locator, declaring the true count: read as is
    end = data.rfind(b"PK\x05\x06")
    size, start = struct.unpack_from("<II", data, end + 12)
    record64 = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 3, 3, size, start
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)
    patched = data[:end] + record64 + locator + data[end:]
    assert check_end_record(io.BytesIO(patched), "z.keras") == 3
    path = tmp_path / "z.keras"
    path.write_bytes(patched)
    assert load_model(path).count_params() == model.count_params()


# -- HDF5 chunks and objects -----------------------------------------------------------
def test_weights_in_chunks_h5py_chooses_still_load(tmp_path):
    model = make_model(units=4096)  # a (3, 4096) kernel, 48 KiB
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        for name in ("layers/dense/vars/0", "layers/dense_1/vars/0"):
            values = f[name][()]
            del f[name]
            f.create_dataset(name, data=values, chunks=True, compression="gzip")
            assert f[name].chunks is not None
    copy = make_model(units=4096)
    copy.load_weights(path)
    for a, b in zip(copy.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_small_weight_in_a_few_one_value_chunks_loads(tmp_path):
    """Up to MAX_HDF5_CHUNKS chunks are always allowed (the corpus refuses more)."""
    model = make_model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        values = f["layers/dense_1/vars/0"][()]  # (4, 2): 32 bytes
        del f["layers/dense_1/vars/0"]
        f.create_dataset("layers/dense_1/vars/0", data=values, chunks=(1, 1))
    assert 8 <= limits.MAX_HDF5_CHUNKS  # 8 chunks of one value are within the count
    copy = make_model()
    copy.load_weights(path)
    np.testing.assert_array_equal(copy.get_weights()[-2], values)


# -- Keras' choices ----------------------------------------------------------------------
def _leaky_document(**config):
    document = json.loads(Sequential([Dense(2, input_dim=2)]).to_json())
    document["config"]["layers"].append(
        {"class_name": "LeakyReLU", "config": {"name": "leaky", **config}}
    )
    return json.dumps(document)


def test_leaky_relu_with_alpha_and_negative_slope_takes_alpha_as_keras_3_does():
    keras = pytest.importorskip("keras")
    with pytest.warns(UserWarning):
        theirs = keras.layers.LeakyReLU(negative_slope=0.5, alpha=0.1)
    with pytest.warns(GlassnetWarning, match="`alpha` is used"):
        model = model_from_json(_leaky_document(alpha=0.1, negative_slope=0.5))
    layer = model.layers[-1]
    assert isinstance(layer, LeakyReLU)
    assert layer.negative_slope == pytest.approx(float(theirs.negative_slope))
    assert model_from_json(_leaky_document(alpha=0.2)).layers[-1].negative_slope == 0.2


# -- random states ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"state": 0, "inc": 0}, "increment `inc` must be odd"),
        ({"inc": 2}, "increment `inc` must be odd"),
        ({"has_uint32": 2}, "has_uint32"),
    ],
)
def test_degenerate_pcg64_states_are_refused(change, match):
    generator = np.random.default_rng(0)
    state = generator.bit_generator.state
    for key, value in change.items():
        if key in ("state", "inc"):
            state["state"][key] = value
        else:
            state[key] = value
    before = generator.bit_generator.state
    with pytest.raises(ModelFileError, match=match):
        restore_generator(generator, state, "metadata.json: glassnet.rng")
    assert generator.bit_generator.state == before


def test_a_saved_generator_state_is_restored_exactly(tmp_path):
    model = make_model()
    model.save(tmp_path / "m.keras")
    expected = model.rng.random(5)
    assert np.array_equal(load_model(tmp_path / "m.keras").rng.random(5), expected)
    assert os.path.getsize(tmp_path / "m.keras") > 0
