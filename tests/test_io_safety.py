"""Model files from strangers: each loader refuses crafted files, and changes nothing.

Every case starts from a valid file glassnet wrote, damages it one way, and checks
that loading raises a glassnet error naming the problem, that the model's weights
are untouched, and (for configs naming code) that no code ran. The cases are data
(id, damage, error, message) so a larger corpus can reuse the same runner.
"""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import struct
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet.io.limits as limits
from glassnet.errors import (
    GlassnetError,
    GlassnetWarning,
    ModelFileError,
    UnsafeFileError,
)
from glassnet.io.initial_weights import PROBE_SHAPE
from glassnet.io.safe_json import loads
from glassnet.layers import Activation, Dense, Dropout
from glassnet.models import Sequential, load_model, model_from_json

X = np.random.default_rng(3).normal(size=(5, 3))


def make_model(seed: int = 1) -> Sequential:
    model = Sequential(
        [
            Dense(5, activation="relu", input_dim=3),
            Dropout(0.2),
            Activation("tanh"),
            Dense(2),
        ],
        seed=seed,
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(X, np.zeros((5, 2)), epochs=1, verbose=0)
    return model


def assert_refused(
    path: Path, error: type[Exception], match: str, load: str = "weights"
) -> None:
    """Loading ``path`` raises ``error`` matching ``match`` and the model is unchanged."""
    model = make_model(seed=42)
    before = model.get_weights()
    with pytest.raises(error, match=match):
        if load == "weights":
            model.load_weights(path)
        else:
            load_model(path)
    assert all(
        np.array_equal(a, b) for a, b in zip(model.get_weights(), before, strict=True)
    )


# -- Keras 3 weights (.weights.h5) ----------------------------------------------------
def _replace(name: str, value: object) -> Callable[[h5py.File, Path], None]:
    def damage(f: h5py.File, folder: Path) -> None:
        del f[name]
        f[name] = value

    return damage


def _external_storage(f: h5py.File, folder: Path) -> None:
    (folder / "raw.bin").write_bytes(np.zeros(15, "<f4").tobytes())
    del f["layers/dense/vars/0"]
    f.create_dataset(
        "layers/dense/vars/0",
        shape=(3, 5),
        dtype="<f4",
        external=[(str(folder / "raw.bin"), 0, 60)],
    )


def _virtual(f: h5py.File, folder: Path) -> None:
    with h5py.File(folder / "source.h5", "w") as source:
        source["x"] = np.zeros((3, 5), "f4")
    layout = h5py.VirtualLayout(shape=(3, 5), dtype="f4")
    layout[:] = h5py.VirtualSource(str(folder / "source.h5"), "x", shape=(3, 5))
    del f["layers/dense/vars/0"]
    f["layers/dense/vars"].create_virtual_dataset("0", layout)


def _nan(f: h5py.File, folder: Path) -> None:
    f["layers/dense/vars/1"][2] = np.nan


def _unwritten(f: h5py.File, folder: Path) -> None:
    del f["layers/dense/vars/0"]
    f.create_dataset("layers/dense/vars/0", shape=(3, 5), dtype="f4")


def _lzf(f: h5py.File, folder: Path) -> None:
    del f["layers/dense/vars/0"]
    f.create_dataset(
        "layers/dense/vars/0", data=np.zeros((3, 5), "f4"), compression="lzf"
    )


def _pickle_bytes(f: h5py.File, folder: Path) -> None:
    del f["layers/dense/vars/0"]
    f["layers/dense/vars/0"] = np.void(pickle.dumps(print))


def _kernel(f: h5py.File, **kwargs: object) -> h5py.Dataset:
    """The first kernel, recreated empty with ``kwargs`` (chunks, compression...)."""
    del f["layers/dense/vars/0"]
    return f["layers/dense/vars"].create_dataset(
        "0", shape=(3, 5), dtype="f4", **kwargs
    )


def _big_chunk(f: h5py.File, folder: Path) -> None:
    _kernel(f, chunks=(64, 64), maxshape=(None, None))[...] = np.ones((3, 5))


def _stream_bomb(f: h5py.File, folder: Path) -> None:
    """A chunk of the kernel's own shape whose deflate stream inflates to 64 MiB."""
    stream = zlib.compress(bytes(64 * 2**20), 9)  # 64 KB
    kernel = _kernel(f, chunks=(3, 5), compression="gzip")
    kernel.id.write_direct_chunk((0, 0), stream, 0)


def _garbage_chunk(f: h5py.File, folder: Path) -> None:
    _kernel(f, chunks=(3, 5), compression="gzip").id.write_direct_chunk(
        (0, 0), b"not deflate" * 10, 0
    )


def _filter_order(codes: list[int]) -> Callable[[h5py.File, Path], None]:
    def damage(f: h5py.File, folder: Path) -> None:
        plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        plist.set_chunk((3, 5))
        for code in codes:
            plist.set_filter(code, h5py.h5z.FLAG_OPTIONAL, (4,) if code == 1 else ())
        del f["layers/dense/vars/0"]
        space = h5py.h5s.create_simple((3, 5))
        group = f["layers/dense/vars"]
        h5py.h5d.create(group.id, b"0", h5py.h5t.IEEE_F32LE, space, dcpl=plist)
        group["0"][...] = np.ones((3, 5))

    return damage


WEIGHTS_H5_CASES = [
    (
        "external-link",
        _replace("layers/dense/vars/0", h5py.ExternalLink("other.h5", "/x")),
        UnsafeFileError,
        "external link",
    ),
    (
        "soft-link",
        _replace("layers/dense/vars/1", h5py.SoftLink("/layers/dense/vars/0")),
        UnsafeFileError,
        "soft link",
    ),
    ("external-storage", _external_storage, UnsafeFileError, "external file"),
    ("virtual-dataset", _virtual, UnsafeFileError, "virtual dataset"),
    (
        "int-weights",
        _replace("layers/dense/vars/0", np.zeros((3, 5), "i4")),
        ModelFileError,
        "float16, float32 or float64",
    ),
    ("pickle-in-dataset", _pickle_bytes, ModelFileError, "shape|float16"),
    (
        "wrong-shape",
        _replace("layers/dense/vars/0", np.zeros((3, 6), "f4")),
        ModelFileError,
        r"shape \(3, 6\).*\(3, 5\)",
    ),
    (
        "missing-weight",
        lambda f, d: f.__delitem__("layers/dense_1/vars/1"),
        ModelFileError,
        r"layers/dense_1/vars .*expected the weights \['0', '1'\]",
    ),
    (
        "extra-weight",
        lambda f, d: f.create_dataset("layers/dense/vars/2", data=[1.0]),
        ModelFileError,
        "expected the weights",
    ),
    (
        "extra-layer",
        lambda f, d: f.create_dataset("layers/conv2d/vars/0", data=[1.0]),
        ModelFileError,
        "'layers/conv2d' that the model does not have",
    ),
    ("nan-weight", _nan, ModelFileError, "NaN or inf.*allow_nonfinite=True"),
    ("never-written", _unwritten, ModelFileError, "stores 0"),
    ("filter-plugin", _lzf, UnsafeFileError, "filter"),
    (
        "hard-link-cycle",
        lambda f, d: f.__setitem__("layers/dense/vars/loop", f["layers/dense/vars"]),
        UnsafeFileError,
        "layers/dense/vars/loop is a hard link to a group already reached",
    ),
    (
        "hard-link-to-root",
        lambda f, d: f.__setitem__("layers/dense/loop", f["/"]),
        UnsafeFileError,
        "a cycle of links",
    ),
    ("chunk-larger-than-weight", _big_chunk, UnsafeFileError, "chunks of .*larger"),
    (
        "deflate-stream-bomb",
        _stream_bomb,
        UnsafeFileError,
        r"chunk at \(0, 0\) inflates beyond the 60 bytes",
    ),
    ("deflate-garbage", _garbage_chunk, ModelFileError, "not valid deflate data"),
    (
        "deflate-then-shuffle",
        _filter_order([1, 2]),
        UnsafeFileError,
        r"filters \[1, 2\] are in an order",
    ),
]


@pytest.mark.parametrize(
    ("damage", "error", "match"),
    [case[1:] for case in WEIGHTS_H5_CASES],
    ids=[case[0] for case in WEIGHTS_H5_CASES],
)
def test_weights_h5_refusals(tmp_path, damage, error, match):
    path = tmp_path / "w.weights.h5"
    make_model().save_weights(path)
    with h5py.File(path, "r+") as f:
        damage(f, tmp_path)
    assert_refused(path, error, match)


def test_compressed_and_chunked_weights_still_load(tmp_path):
    """Deflate, shuffle and fletcher32, in chunks smaller than the weight, as h5py
    writes them: inflated once by the check, once by HDF5, and equal to the original."""
    path = tmp_path / "w.weights.h5"
    model = make_model()
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        kernel = f["layers/dense/vars/0"][()]
        options = {"compression": "gzip", "shuffle": True, "fletcher32": True}
        _kernel(f, chunks=(2, 3), **options)[...] = kernel
    copy = make_model(seed=42)
    copy.load_weights(path)
    assert np.array_equal(copy.get_weights()[0], model.get_weights()[0])


def test_nonfinite_weights_load_when_asked(tmp_path):
    path = tmp_path / "w.weights.h5"
    make_model().save_weights(path)
    with h5py.File(path, "r+") as f:
        _nan(f, tmp_path)
    model = make_model(seed=5)
    model.load_weights(path, allow_nonfinite=True)
    assert np.isnan(model.layers[0].params["b"][2])


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "w.safetensors", "m.keras"])
def test_truncated_and_garbage_files(tmp_path, name):
    path = tmp_path / name
    model = make_model()
    (model.save if name.endswith(".keras") else model.save_weights)(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_refused(path, ModelFileError, ".")
    path.write_bytes(os.urandom(3000))
    assert_refused(path, ModelFileError, ".")


_SCRATCH = tempfile.TemporaryDirectory(prefix="glassnet-io-")


@functools.cache
def _valid_file(name: str) -> bytes:
    path = Path(_SCRATCH.name) / f"valid-{name}"
    model = make_model()
    (model.save if name.endswith(".keras") else model.save_weights)(path)
    return path.read_bytes()


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "w.safetensors", "m.keras"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_damaged_files_load_or_end_in_a_glassnet_error(name, data):
    """Bit flips and truncations: never a foreign exception, never a partial load."""
    damaged = bytearray(_valid_file(name))
    edits = st.tuples(st.integers(0, len(damaged) - 1), st.integers(0, 255))
    for position, value in data.draw(st.lists(edits, min_size=1, max_size=4)):
        damaged[position] = value
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(damaged))))
    path = Path(_SCRATCH.name) / name
    path.write_bytes(bytes(damaged[:cut]))
    model = make_model(seed=42)
    before = model.get_weights()
    try:
        if name.endswith(".keras"):
            load_model(path)
        else:
            model.load_weights(path)
    except GlassnetError:
        assert all(
            np.array_equal(a, b)
            for a, b in zip(model.get_weights(), before, strict=True)
        )


# -- legacy Keras 2 weights (.h5) -------------------------------------------------------
def _weight_names(names: list[bytes]) -> Callable[[h5py.File], None]:
    def damage(f: h5py.File) -> None:
        f["dense"].attrs["weight_names"] = names

    return damage


def _soft_weight(f: h5py.File) -> None:
    del f["dense/dense/bias:0"]
    f["dense/dense/bias:0"] = h5py.SoftLink("/dense_1/dense_1/bias:0")


LEGACY_CASES = [
    (
        "absolute-path",
        _weight_names([b"/dense_1/dense_1/kernel:0", b"dense/bias:0"]),
        ModelFileError,
        "invalid weight path",
    ),
    (
        "climbing-path",
        _weight_names([b"../dense_1/kernel:0", b"dense/bias:0"]),
        ModelFileError,
        "invalid weight path",
    ),
    (
        "missing-layer",
        lambda f: f.attrs.__setitem__("layer_names", [b"dense", b"dropout"]),
        ModelFileError,
        r"weights for 1 layer\(s\).*the model has 2",
    ),
    ("one-weight", _weight_names([b"dense/kernel:0"]), ModelFileError, "1 weight"),
    ("soft-link", _soft_weight, UnsafeFileError, "soft link"),
    (
        "names-not-strings",
        lambda f: f.attrs.__setitem__("layer_names", [1, 2]),
        ModelFileError,
        "list of strings",
    ),
    (
        "no-layer-names",
        lambda f: f.attrs.__delitem__("layer_names"),
        ModelFileError,
        "not a Keras 2 weights file",
    ),
]


@pytest.mark.parametrize(
    ("damage", "error", "match"),
    [case[1:] for case in LEGACY_CASES],
    ids=[case[0] for case in LEGACY_CASES],
)
def test_legacy_h5_refusals(tmp_path, damage, error, match):
    path = tmp_path / "w.h5"
    make_model().save_weights(path)
    with h5py.File(path, "r+") as f:
        damage(f)
    assert_refused(path, error, match)


# -- safetensors ------------------------------------------------------------------------
def _safetensors(header: dict | bytes, data: bytes) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _valid_header() -> tuple[dict, bytes]:
    model = make_model()
    header, data, offset = {}, b"", 0
    for layer in model.layers:
        for key, value in layer.params.items():
            raw = value.astype("<f4").tobytes()
            header[f"{layer.name}.{key}"] = {
                "dtype": "F32",
                "shape": list(value.shape),
                "data_offsets": [offset, offset + len(raw)],
            }
            data, offset = data + raw, offset + len(raw)
    return header, data


def _edit(
    edit: Callable[[dict, bytes], tuple[dict | bytes, bytes]],
) -> Callable[[], bytes]:
    return lambda: _safetensors(*edit(*_valid_header()))


def _tensor(header: dict, name: str, **changes: object) -> dict:
    header[name] = {**header[name], **changes}
    return header


SAFETENSORS_CASES = [
    ("header-too-long", lambda: struct.pack("<Q", 2**40) + b"{}", "declares"),
    ("too-short", lambda: b"\x01\x02", "too short"),
    ("duplicate-key", _edit(lambda h, d: (b'{"a": 1, "a": 2}', d)), "duplicate key"),
    ("nan-token", _edit(lambda h, d: (b'{"__metadata__": NaN}', d)), "NaN"),
    ("gap", _edit(lambda h, d: (h, d + b"\0" * 4)), "cover"),
    (
        "overlap",
        _edit(lambda h, d: (_tensor(h, "dense.b", data_offsets=[0, 20]), d)),
        "overlap or leave a gap",
    ),
    (
        "int-dtype",
        _edit(lambda h, d: (_tensor(h, "dense.b", dtype="I32"), d)),
        "F16, F32",
    ),
    (
        "pickle-dtype",
        _edit(lambda h, d: (_tensor(h, "dense.b", dtype="pickle"), d)),
        "F16, F32",
    ),
    (
        "bytes-mismatch",
        _edit(lambda h, d: (_tensor(h, "dense.b", shape=[4]), d)),
        "needs 16 bytes",
    ),
    (
        "shape-bomb",
        _edit(lambda h, d: (_tensor(h, "dense.b", shape=[2**40, 2**40]), d)),
        "needs",
    ),
    (
        "missing",
        _edit(lambda h, d: ({k: v for k, v in h.items() if k != "dense_1.b"}, d[:-8])),
        r"Missing: \['dense_1.b'\]",
    ),
    (
        "renamed",
        _edit(
            lambda h, d: (
                {("x.b" if k == "dense.b" else k): v for k, v in h.items()},
                d,
            )
        ),
        r"unexpected: \['x.b'\]",
    ),
    (
        "extra-keys",
        _edit(lambda h, d: (_tensor(h, "dense.b", code="print(1)"), d)),
        "exactly the keys",
    ),
    (
        "nan-weight",
        _edit(lambda h, d: (h, d[:-4] + np.float32(np.nan).tobytes())),
        "NaN or inf",
    ),
    ("not-an-object", _edit(lambda h, d: (b"[1, 2]", d)), "not a JSON object"),
]


@pytest.mark.parametrize(
    ("build", "match"),
    [case[1:] for case in SAFETENSORS_CASES],
    ids=[c[0] for c in SAFETENSORS_CASES],
)
def test_safetensors_refusals(tmp_path, build, match):
    path = tmp_path / "w.safetensors"
    path.write_bytes(build())
    assert_refused(path, ModelFileError, match)


def test_a_hand_written_safetensors_file_loads(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(_safetensors(*_valid_header()))
    model = make_model(seed=9)
    model.load_weights(path)
    assert np.array_equal(model.get_weights()[0], make_model().get_weights()[0])


# -- .keras archives --------------------------------------------------------------------
def _rebuild(
    path: Path, members: list[tuple[str, bytes]], deflate: bool = False
) -> None:
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", method) as archive:
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        for name, data in members:
            archive.writestr(name, data)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _with_config(edit: Callable[[dict], None]) -> Callable[[dict[str, bytes]], list]:
    def damage(members: dict[str, bytes]) -> list[tuple[str, bytes]]:
        config = json.loads(members["config.json"])
        edit(config)
        return [*{**members, "config.json": json.dumps(config).encode()}.items()]

    return damage


def _layer(index: int, **changes: object) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        config["config"]["layers"][index].update(changes)

    return edit


def _layer_config(index: int, **changes: object) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        config["config"]["layers"][index]["config"].update(changes)

    return edit


def _metadata(edit: Callable[[dict], None]) -> Callable[[dict[str, bytes]], list]:
    def damage(members: dict[str, bytes]) -> list[tuple[str, bytes]]:
        metadata = json.loads(members["metadata.json"])
        edit(metadata)
        return [*{**members, "metadata.json": json.dumps(metadata).encode()}.items()]

    return damage


ARCHIVE_CASES = [
    (
        "traversal",
        lambda m: [*m.items(), ("../evil.py", b"x")],
        UnsafeFileError,
        "outside",
    ),
    (
        "absolute",
        lambda m: [*m.items(), ("/etc/cron.d/x", b"x")],
        UnsafeFileError,
        "outside",
    ),
    (
        "unexpected",
        lambda m: [*m.items(), ("payload.pkl", pickle.dumps(print))],
        ModelFileError,
        "unexpected member 'payload.pkl'",
    ),
    (
        "duplicate",
        lambda m: [*m.items(), ("config.json", b"{}")],
        UnsafeFileError,
        "twice",
    ),
    (
        "missing",
        lambda m: [(k, v) for k, v in m.items() if k != "config.json"],
        ModelFileError,
        "lacks config.json",
    ),
    (
        "pickled-weights",
        # padded (a pickle ends at its STOP opcode) to the size of the model's
        # weights, so it gets as far as being opened as HDF5
        lambda m: [
            *{**m, "model.weights.h5": pickle.dumps(print) + bytes(512)}.items()
        ],
        ModelFileError,
        r"model\.weights\.h5 is not an HDF5 file",
    ),
    (
        "module-claim",
        _with_config(lambda c: c.update(module="os", class_name="system")),
        UnsafeFileError,
        "never imports",
    ),
    (
        "registered-claim",
        _with_config(_layer(1, registered_name="evil_pkg>Backdoor")),
        UnsafeFileError,
        "custom class",
    ),
    (
        "lambda-layer",
        _with_config(_layer(1, class_name="Lambda")),
        ModelFileError,
        "no layer 'Lambda'",
    ),
    (
        "lambda-activation",
        _with_config(
            _layer_config(
                1,
                activation={"class_name": "__lambda__", "config": {"code": "print(1)"}},
            )
        ),
        UnsafeFileError,
        "never runs code",
    ),
    (
        "units-bomb",
        _with_config(_layer_config(1, units=10**9)),
        ModelFileError,
        "MAX_PARAMETERS",
    ),
    (
        "regularizer",
        _with_config(_layer_config(1, kernel_regularizer={"class_name": "L3"})),
        ModelFileError,
        "kernel_regularizer",
    ),
    (
        "nested-json",
        lambda m: [*{**m, "config.json": b"[" * 5000 + b"]" * 5000}.items()],
        ModelFileError,
        "nested too deeply",
    ),
    (
        "rng-tampered",
        _metadata(lambda m: m["glassnet"]["rng"].update(state="evil")),
        ModelFileError,
        "random generator",
    ),
    (
        "optimizer-unknown",
        _with_config(
            lambda c: c["compile_config"]["optimizer"].update(class_name="Nadam")
        ),
        ModelFileError,
        "Nadam.*compile=False",
    ),
]


@pytest.mark.parametrize(
    ("damage", "error", "match"),
    [c[1:] for c in ARCHIVE_CASES],
    ids=[c[0] for c in ARCHIVE_CASES],
)
def test_keras_archive_refusals(tmp_path, damage, error, match):
    path = tmp_path / "m.keras"
    make_model().save(path)
    _rebuild(path, damage(_members(path)))
    assert_refused(path, error, match, load="model")


def test_decompression_bombs_are_refused_before_inflating(tmp_path):
    path = tmp_path / "m.keras"
    make_model().save(path)
    members = _members(path)
    _rebuild(
        path,
        [*{**members, "model.weights.h5": bytes(40 * 2**20)}.items()],
        deflate=True,
    )
    assert_refused(path, UnsafeFileError, "inflate .*decompression bomb", load="model")
    _rebuild(
        path, [*{**members, "config.json": bytes(20 * 2**20)}.items()], deflate=True
    )
    assert_refused(path, UnsafeFileError, "declares 20971520 bytes", load="model")


def test_optimizer_state_that_does_not_fit_is_refused(tmp_path):
    path = tmp_path / "m.keras"
    make_model().save(path)
    members = _members(path)
    weights = io.BytesIO(members["model.weights.h5"])
    with h5py.File(weights, "r+") as f:
        del f["optimizer/vars/5"]
    _rebuild(path, [*{**members, "model.weights.h5": weights.getvalue()}.items()])
    assert_refused(path, ModelFileError, "optimizer variables", load="model")
    assert load_model(path, compile=False).built  # the rest of the file is fine


def test_a_symlink_member_is_refused(tmp_path):
    path = tmp_path / "m.keras"
    make_model().save(path)
    members = _members(path)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            if name == "metadata.json":
                info.external_attr = 0o120777 << 16  # S_IFLNK, content unchanged
            archive.writestr(info, data)
    assert_refused(path, UnsafeFileError, "metadata.json' is a symbolic link")
    assert_refused(path, UnsafeFileError, "symbolic link", load="model")


def test_a_weights_member_larger_than_its_model_needs_is_refused(tmp_path):
    """The architecture bounds the weights member before it is inflated."""
    path = tmp_path / "m.keras"
    make_model().save(path)
    members = _members(path)
    padded = members["model.weights.h5"] + bytes(3 * 2**20)  # HDF5 ignores the tail
    _rebuild(path, [*{**members, "model.weights.h5": padded}.items()])
    message = r"declares \d+ bytes, more than the \d+ that 32 parameters in 4 layers"
    assert_refused(path, UnsafeFileError, message, load="model")
    assert_refused(path, UnsafeFileError, message)


def test_a_model_of_many_small_layers_loads(tmp_path):
    """HDF5's bookkeeping per layer is within MAX_WEIGHT_BYTES_PER_LAYER."""
    layers = [Dense(1, input_dim=3), *(Dense(1) for _ in range(199))]
    model = Sequential(layers, seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, np.zeros((5, 1)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    copy = load_model(tmp_path / "m.keras")
    assert np.array_equal(copy.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_an_architecture_larger_than_the_file_is_refused_before_it_is_built(
    tmp_path, monkeypatch, name
):
    """2**20 units fit MAX_PARAMETERS, not the 32 parameters the file stores."""
    path = tmp_path / name
    make_model().save(path)
    wide = _layer_config(1, units=2**20)
    if name.endswith(".keras"):
        _rebuild(path, _with_config(wide)(_members(path)))
    else:
        with h5py.File(path, "r+") as f:
            config = json.loads(f.attrs["model_config"])
            wide(config)
            f.attrs["model_config"] = json.dumps(config)
    built: list[object] = []
    monkeypatch.setattr(Sequential, "build", lambda *args: built.append(args))
    with pytest.raises(ModelFileError, match=r"about 6291458 parameters, but the file"):
        load_model(path)
    assert not built


def test_loading_draws_no_initial_values_before_the_weights_are_checked(
    tmp_path, monkeypatch
):
    path = tmp_path / "m.keras"
    make_model().save(path)
    members = _members(path)
    weights = io.BytesIO(members["model.weights.h5"])
    with h5py.File(weights, "r+") as f:
        del f["layers/dense_1/vars/1"]
    _rebuild(path, [*{**members, "model.weights.h5": weights.getvalue()}.items()])
    from glassnet import initializers

    drawn: list[tuple[int, ...]] = []
    sample = initializers.GlorotUniform.sample
    monkeypatch.setattr(
        initializers.GlorotUniform,
        "sample",
        lambda self, shape, rng: drawn.append(shape) or sample(self, shape, rng),
    )
    with pytest.raises(ModelFileError, match="expected the weights"):
        load_model(path)
    # only the small test draw each initializer makes (check_initializers)
    assert set(drawn) <= {PROBE_SHAPE}


@pytest.mark.parametrize("name", ["m.h5", "keras-written.keras"])
def test_a_loaded_model_s_generator_is_where_a_fresh_build_leaves_it(tmp_path, name):
    """Layers start at zero when a file's weights replace them, yet the generator
    (which shuffles and draws dropout masks in fit) moves on as if they were drawn;
    the initializers stay the file's."""
    model = Sequential([Dense(4, input_dim=3), Dropout(0.5), Dense(2)], seed=11)
    path = tmp_path / name
    model.save(path)
    if name == "keras-written.keras":  # no "glassnet" section: nothing to restore
        members = _members(path)
        metadata = json.loads(members["metadata.json"])
        del metadata["glassnet"]
        members["metadata.json"] = json.dumps(metadata).encode()
        _rebuild(path, [*members.items()])
    copy = load_model(path)
    assert copy.rng.bit_generator.state == model.rng.bit_generator.state
    assert copy.get_config() == model.get_config()
    assert all(
        np.array_equal(a, b)
        for a, b in zip(copy.get_weights(), model.get_weights(), strict=True)
    )


def _keras_initializer(class_name: str) -> Callable[[dict], None]:
    return _layer_config(1, kernel_initializer={"class_name": class_name, "config": {}})


@pytest.mark.parametrize(
    ("class_name", "error", "match"),
    [
        ("subprocess.Popen", UnsafeFileError, "names a Python object"),
        ("evil_pkg>Backdoor", UnsafeFileError, "names a Python object"),
        ("__class__", UnsafeFileError, "names a Python object"),
        ("MyInitializer", ModelFileError, "Unknown initializer 'MyInitializer'"),
    ],
)
def test_only_keras_initializers_are_replaced_by_a_default(
    tmp_path, class_name, error, match
):
    path = tmp_path / "m.keras"
    make_model().save(path)
    _rebuild(path, _with_config(_keras_initializer(class_name))(_members(path)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused, not replaced with a warning
        assert_refused(path, error, match, load="model")


def test_a_keras_initializer_glassnet_lacks_is_replaced_in_load_model(tmp_path):
    path = tmp_path / "m.keras"
    make_model().save(path)
    _rebuild(path, _with_config(_keras_initializer("Identity"))(_members(path)))
    with pytest.warns(GlassnetWarning, match="Identity.*glorot_uniform"):
        load_model(path)


@pytest.mark.parametrize(
    ("place", "edit"),
    [
        ("compile_config", lambda c: c["compile_config"].update(
            loss={"module": "os", "class_name": "system", "config": {}})),
        ("a neutral setting", _layer_config(
            1, lora_alpha={"module": "os", "class_name": "system", "config": "x"})),
        ("an unread key", lambda c: c.update(
            build_config={"input_shape": {"registered_name": "evil_pkg>X"}})),
    ],
)  # fmt: skip
def test_weights_are_never_taken_from_a_file_whose_config_names_code(
    tmp_path, place, edit
):
    path = tmp_path / "m.keras"
    make_model().save(path)
    _rebuild(path, _with_config(edit)(_members(path)))
    assert_refused(path, UnsafeFileError, "config.json")
    assert_refused(path, UnsafeFileError, "config.json", load="model")
    with pytest.raises(UnsafeFileError):
        load_model(path, compile=False)


def test_legacy_weights_are_never_taken_from_a_file_whose_configs_name_code(
    tmp_path,
):
    path = tmp_path / "m.h5"
    make_model().save(path)
    with h5py.File(path, "r+") as f:
        training = json.loads(f.attrs["training_config"])
        training["loss"] = {"module": "os", "class_name": "system", "config": {}}
        f.attrs["training_config"] = json.dumps(training)
    assert_refused(path, UnsafeFileError, r"training_config: loss")
    with pytest.raises(UnsafeFileError, match=r"training_config: loss"):
        load_model(path, compile=False)


def test_a_config_naming_a_module_never_imports_it(tmp_path, monkeypatch):
    (tmp_path / "glassnet_canary.py").write_text(
        "import os\nos.environ['GLASSNET_CANARY'] = 'ran'\nclass Canary: pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("GLASSNET_CANARY", raising=False)
    layer = {"module": "glassnet_canary", "class_name": "Canary", "config": {}}
    for spec in (
        layer,
        {**layer, "module": None},
        {**layer, "registered_name": "Canary"},
    ):
        document = {"class_name": "Sequential", "config": {"layers": [spec]}}
        with pytest.raises(GlassnetError, match=r"Canary|glassnet_canary"):
            model_from_json(json.dumps(document))
    assert "GLASSNET_CANARY" not in os.environ
    assert "glassnet_canary" not in sys.modules


# -- JSON -----------------------------------------------------------------------------------
def _config(**dense: object) -> str:
    config = {"name": "dense", "units": 2, **dense}
    layers = [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 3]}},
        {"class_name": "Dense", "config": config},
    ]
    return json.dumps({"class_name": "Sequential", "config": {"layers": layers}})


JSON_CASES = [
    (
        "duplicate-key",
        '{"class_name": "Sequential", "class_name": "Functional"}',
        "duplicate key",
    ),
    ("nan", _config(units=float("nan")), "NaN"),
    (
        "infinity",
        '{"class_name": "Sequential", "config": {"x": -Infinity}}',
        "Infinity",
    ),
    ("huge-float", '{"class_name": "Sequential", "config": 1e999}', "too large"),
    ("huge-int", '{"a": ' + "9" * 5000 + "}", "digits"),
    ("deep", "[" * 100 + "]" * 100, "nested too deeply"),
    ("very-deep", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (
        "functional",
        '{"class_name": "Functional", "config": {}}',
        "needs a non-empty list 'layers'",
    ),
    ("other-model", '{"class_name": "Lambda", "config": {}}', "functional models"),
    (
        "regularizer",
        _config(kernel_regularizer={"class_name": "L1", "config": {"l1": -1}}),
        "kernel_regularizer",
    ),
    ("constraint", _config(kernel_constraint={"class_name": "NonNegs"}), "constraint"),
    ("trainable-string", _config(trainable="no"), "true or false"),
    ("selu", _config(activation="selu"), "'selu' is not an activation glassnet has"),
    (
        "identity",
        _config(kernel_initializer={"class_name": "Identity", "config": {}}),
        "Identity",
    ),
    ("float16", _config(dtype="mixed_float16"), "float32 or float64"),
    ("unknown-setting", _config(units=2, kernel_size=3), "kernel_size"),
    ("bad-shape", _config().replace("[null, 3]", "[null, -3]"), "positive sizes"),
    ("not-utf8", b'{"class_name": "\xff"}', "UTF-8"),
]


@pytest.mark.parametrize(
    ("text", "match"), [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES]
)
def test_model_from_json_refusals(text, match):
    with pytest.raises(ModelFileError, match=match):
        model_from_json(text)


def test_json_size_is_capped_before_parsing(monkeypatch):
    monkeypatch.setattr(limits, "MAX_JSON_BYTES", 1000)
    with pytest.raises(ModelFileError, match="limit is 1000"):
        loads(" " * 1001, "config.json")


@pytest.mark.parametrize("unit", [b"0,", b"[],", b"{},"])
def test_json_that_expands_when_parsed_is_refused_before_parsing(unit):
    """6 MiB of small values would be hundreds of MB of Python objects."""
    text = b"[" + unit * (3 * 2**20) + b"0]"
    with pytest.raises(ModelFileError, match="MAX_JSON_VALUES"):
        loads(text, "config.json")
    with pytest.raises(ModelFileError, match="MAX_JSON_VALUES"):
        loads(text.decode(), "config.json")


def test_large_legitimate_json_is_within_the_value_cap():
    model = Sequential([Dense(4, input_dim=3), *(Dense(4) for _ in range(49))])
    assert len(model_from_json(model.to_json()).layers) == 50
    header = {
        f"layer{i}.w{j}": {"dtype": "F32", "shape": [64, 64], "data_offsets": [0, 4]}
        for i in range(1000)
        for j in range(5)
    }
    assert len(loads(json.dumps(header), "header")) == 5000
    deep = [[[[[[[[[[[]]]]]]]]]]] * 10_000
    assert loads(json.dumps(deep), "x") == deep


def test_text_that_is_not_unicode_is_refused():
    """Bytes that were not UTF-8, handed over as lone surrogates."""
    text = b'{"class_name": "\xff"}'.decode("utf-8", "surrogateescape")
    with pytest.raises(ModelFileError, match=r"not valid Unicode.*surrogates"):
        model_from_json(text)


def test_custom_objects_are_the_way_to_bring_your_own_class():
    class Doubler(Dense):
        pass

    text = _config().replace('"Dense"', '"Doubler"')
    with pytest.raises(ModelFileError, match="no layer 'Doubler'"):
        model_from_json(text)
    model = model_from_json(text, custom_objects={"Doubler": Doubler})
    assert type(model.layers[0]) is Doubler
