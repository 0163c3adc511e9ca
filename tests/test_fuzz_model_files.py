"""Fuzzing the loaders: valid model files mutated byte by byte and by structure.

Hypothesis mutates the ``.keras``, ``.weights.h5`` and ``.safetensors`` files
glassnet writes for a small trained model, two ways:

- **bytes**: flipped bits, overwritten bytes, extreme integers written over
  length fields, spliced and deleted runs, truncations, anywhere in the file;
- **structure**: a ``.keras`` archive re-zipped with one member damaged (its
  bytes mutated, or a JSON value of ``config.json``/``metadata.json`` replaced by a
  hostile one: huge or negative numbers, wrong types, lone surrogates, long
  strings, code-like objects); a weights file whose HDF5 objects are replaced
  (another shape, dtype, chunking, NaN), deleted, linked twice or joined by
  extra ones; a safetensors header with a value replaced.

Every mutated file is loaded through each loader of its format
(``load_model`` and ``model.load_weights`` for ``.keras``, ``load_weights`` for
the others), watched as the corpus test watches a load
(``tests/corpus/watch.py``), and must:

- end in a :class:`~glassnet.errors.GlassnetError` that is also a builtin
  exception, or load: then the model predicts and saves again;
- run no code and open no file but the one loaded (audit hook);
- stay under 256 MiB above the resident memory it started from, and under 5 s
  of CPU time;
- when refused, leave the model it was loaded into exactly as it was.

The examples are derandomized (the same few hundred in every run) so CI is
reproducible; raise ``GLASSNET_FUZZ_EXAMPLES`` to explore further.
"""

from __future__ import annotations

import codecs
import copy
import io
import json
import os
import struct
import warnings
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from corpus_modules import load_corpus_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet.errors import GlassnetError
from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential, load_model
from glassnet.utils import clear_session

watching = load_corpus_module("watch.py", "glassnet_corpus_watch")

MEMORY_CAP = 256 * 2**20
TIME_LIMIT = 5.0
BUILTIN_ERRORS = (ValueError, TypeError, RuntimeError, OSError, LookupError)
EXAMPLES = int(os.environ.get("GLASSNET_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Values a hostile config puts where a valid one has something sensible.
HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, -(2**31), 2**31, 2**62, 10**30, 1e308, -1e308, 1e-320,
    0.5, "", "x", "3", "\ud800", "a\x00b", "d" * 3000, [], [None], [2**40, 2**40],
    [1] * 9, {}, {"class_name": "Lambda", "config": {}},
    {"module": "os", "class_name": "system", "config": {}},
    {"class_name": "VarianceScaling", "config": {"scale": 1e308}},
]  # fmt: skip


# -- the valid files ------------------------------------------------------------------
def make_model() -> Sequential:
    """Dense, Dropout, Dense: compiled with Adam and trained one step (seeded)."""
    clear_session()
    model = Sequential(
        [Dense(4, activation="relu", input_dim=3), Dropout(0.1), Dense(2)], seed=0
    )
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(6, 3)), rng.normal(size=(6, 2)), epochs=1, verbose=0)
    return model


_MODEL: list[Sequential] = []


def _model() -> Sequential:
    """The model load_weights fills (made once: a refused load leaves it as it was,
    and one that succeeds only gives it other weights)."""
    if not _MODEL:
        _MODEL.append(make_model())
    return _MODEL[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


class Bases(dict):  # type: ignore[type-arg]
    """The valid files by suffix (a short repr: Hypothesis prints its arguments)."""

    def __repr__(self) -> str:
        return f"<valid files: {', '.join(self)}>"


@pytest.fixture(scope="module")
def bases(folder: Path) -> Bases:
    """The valid files, by suffix, and a warm-up load of each (lazy imports)."""
    model = make_model()
    found = Bases()
    for suffix in (".keras", ".weights.h5", ".safetensors"):
        path = folder / f"base{suffix}"
        if suffix == ".keras":
            model.save(path)
            load_model(path)
        else:
            model.save_weights(path)
        model.load_weights(path)
        found[suffix] = path.read_bytes()
        path.unlink()
    for encoding in ("ascii", "latin-1", "cp437", "utf-16", "utf-32", "utf-8-sig"):
        codecs.lookup(encoding)  # imported lazily by the stdlib, once: not the file
    watching.install_audit_hook()
    return found


# -- byte mutations -------------------------------------------------------------------
@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few byte-level edits anywhere, or cut short."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        kind = draw(st.sampled_from(["flip", "byte", "integer", "splice", "cut"]))
        at = draw(st.integers(0, len(out) - 1))
        if kind == "flip":
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            out[at] = draw(st.integers(0, 255))
        elif kind == "integer":  # over a length, offset or count field
            value = draw(st.sampled_from([0, 1, 0xFF, 0xFFFF, 2**31, 2**32 - 1, 2**63]))
            width = draw(st.sampled_from([2, 4, 8]))
            packed = (value % 2 ** (8 * width)).to_bytes(width, "little")
            out[at : at + width] = packed
        elif kind == "splice":
            length = draw(st.integers(0, 64))
            out[at : at + length] = draw(st.binary(max_size=64))
        else:
            del out[at:]
    return bytes(out)


# -- structural mutations -------------------------------------------------------------
def _json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a parsed JSON document."""
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _json_paths(item, (*prefix, index))
    return paths


@st.composite
def json_mutations(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one to three values replaced, removed or duplicated."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _json_paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "remove", "duplicate"]))
        if action == "replace":
            parent[key] = copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))
        elif action == "remove":
            del parent[key]
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[f"{key}_copy"] = copy.deepcopy(parent[key])
    return document


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document).encode("utf-8", "surrogatepass")


def _datasets(file: h5py.File) -> list[str]:
    found: list[str] = []
    file.visititems(
        lambda name, item: (
            found.append(name) if isinstance(item, h5py.Dataset) else None
        )
    )
    return sorted(found)


@st.composite
def h5_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` (an HDF5 file) with one to three of its objects changed."""
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as f:
        for _ in range(draw(st.integers(1, 3))):
            paths = _datasets(f)
            if not paths:
                break
            path = draw(st.sampled_from(paths))
            action = draw(
                st.sampled_from(
                    ["shape", "dtype", "chunks", "nan", "delete", "link", "extra",
                     "attribute", "empty"]
                )
            )  # fmt: skip
            shape = f[path].shape
            if action == "shape":
                del f[path]
                f.create_dataset(path, data=np.zeros(draw(st.sampled_from(
                    [(), (1,), (5, 3), (3, 5, 1), (2**12,)])), "f4"))  # fmt: skip
            elif action == "dtype":
                kind = draw(st.sampled_from(["i4", "f2", "f8", "c8", "u1", "S4"]))
                del f[path]
                f.create_dataset(path, data=np.zeros(shape, kind))
            elif action == "chunks" and shape and all(shape):
                values = np.ones(shape, "f4")
                del f[path]
                f.create_dataset(
                    path,
                    data=values,
                    chunks=(1,) * len(shape),
                    compression="gzip",
                    shuffle=draw(st.booleans()),
                )
            elif action == "nan" and shape and f[path].dtype.kind == "f":
                f[path][...] = np.nan
            elif action == "delete":
                del f[path]
            elif action == "link" and f"{path}_twin" not in f:
                f[f"{path}_twin"] = f[path]
            elif action == "extra":
                parent = path.rpartition("/")[0] or "/"
                f[parent].create_dataset(
                    f"extra_{len(f[parent])}", data=np.zeros((2, 2), "f4")
                )
            elif action == "attribute":
                parent = path.rpartition("/")[0] or "/"
                f[parent].attrs[draw(st.sampled_from(["name", "layer_names", "x"]))] = (
                    draw(st.sampled_from([b"\xff\xfe", "d" * 2000, 7, np.arange(3)]))
                )
            else:
                del f[path]
                f.create_dataset(path, shape=shape or (1,), dtype="f4")  # unwritten
    return buffer.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _zipped(members: dict[str, bytes], deflate: bool) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


@st.composite
def keras_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """The archive re-zipped (stored or deflated) with one member damaged."""
    members = _members(data)
    name = draw(st.sampled_from(sorted(members)))
    if name.endswith(".json"):
        document = json.loads(members[name])
        members[name] = _json_bytes(draw(json_mutations(document)))
    elif draw(st.booleans()):
        members[name] = draw(h5_mutations(members[name]))
    else:
        members[name] = draw(byte_mutations(members[name]))
    return _zipped(members, draw(st.booleans()))


@st.composite
def safetensors_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """The file with its JSON header's values replaced (lengths kept consistent)."""
    (length,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8 : 8 + length])
    body = data[8 + length :]
    text = _json_bytes(draw(json_mutations(header)))
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    return struct.pack("<Q", len(text)) + text + body


# -- the guarantees -----------------------------------------------------------------------
def check_load(folder: Path, suffix: str, data: bytes) -> None:
    """Load ``data`` (a file of ``suffix``) every way its format is read; check it."""
    path = folder / f"mutated{suffix}"
    path.write_bytes(data)
    loaders = ["load_model", "load_weights"] if suffix == ".keras" else ["load_weights"]
    for loader in loaders:
        model = _model()
        before = watching.snapshot(model)
        error: BaseException | None = None
        loaded = None
        with (
            warnings.catch_warnings(record=True),
            watching.watched(TIME_LIMIT) as watch,
        ):
            try:
                if loader == "load_model":
                    loaded = load_model(path)
                else:
                    model.load_weights(path)
            except (Exception, watching.LoadTimeout) as raised:
                error = raised
        problems = []
        if isinstance(error, watching.LoadTimeout):
            problems.append(str(error))
        elif error is not None and not isinstance(error, GlassnetError):
            problems.append(f"a foreign error: {type(error).__name__}: {error}")
        elif error is not None and not isinstance(error, BUILTIN_ERRORS):
            problems.append(f"{type(error).__name__} is no builtin exception")
        elif error is not None and path.name not in str(error):
            problems.append(f"the message does not name the file: {error}")
        if error is not None and watching.snapshot(model) != before:
            problems.append("a refused load changed the model")
        problems += watching.forbidden(watch.events, path)
        if watch.rss_peak is not None and watch.rss_peak > MEMORY_CAP:
            problems.append(f"resident memory grew by {watch.rss_peak >> 20} MiB")
        if watch.python_peak > MEMORY_CAP:
            problems.append(
                f"Python allocations peaked at {watch.python_peak >> 20} MiB"
            )
        if loaded is not None:
            problems += _usable(loaded, folder)
        assert not problems, f"{loader} of a mutated {suffix}: " + "; ".join(problems)


def _usable(model: Any, folder: Path) -> list[str]:
    """What a model that loaded must still do: predict, and save again."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the file may describe another valid model: feed it what it takes
            shape = [2 if n is None else n for n in model.input_shape]
            model.predict(np.ones((2, *shape), model.dtype), verbose=0)
            model.save(folder / "again.keras")
            load_model(folder / "again.keras")
    except Exception as error:
        return [f"the loaded model then fails: {type(error).__name__}: {error}"]
    return []


# -- the tests ------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_mutated_bytes_of_a_keras_archive(bases, folder, data):
    check_load(folder, ".keras", data.draw(byte_mutations(bases[".keras"])))


@FUZZ
@given(data=st.data())
def test_mutated_members_of_a_keras_archive(bases, folder, data):
    check_load(folder, ".keras", data.draw(keras_mutations(bases[".keras"])))


@FUZZ
@given(data=st.data())
def test_mutated_bytes_of_a_weights_h5_file(bases, folder, data):
    check_load(folder, ".weights.h5", data.draw(byte_mutations(bases[".weights.h5"])))


@FUZZ
@given(data=st.data())
def test_mutated_objects_of_a_weights_h5_file(bases, folder, data):
    check_load(folder, ".weights.h5", data.draw(h5_mutations(bases[".weights.h5"])))


@FUZZ
@given(data=st.data())
def test_mutated_bytes_of_a_safetensors_file(bases, folder, data):
    check_load(folder, ".safetensors", data.draw(byte_mutations(bases[".safetensors"])))


@FUZZ
@given(data=st.data())
def test_mutated_header_of_a_safetensors_file(bases, folder, data):
    check_load(
        folder, ".safetensors", data.draw(safetensors_mutations(bases[".safetensors"]))
    )


def test_the_checks_catch_an_escaping_error(bases, folder, monkeypatch):
    """The checks can fail: a load_weights that lets a KeyError escape is caught."""

    def escaping(self: Any, path: Any) -> None:
        raise KeyError("escaped")

    monkeypatch.setattr(Sequential, "load_weights", escaping)
    with pytest.raises(AssertionError, match="a foreign error: KeyError"):
        check_load(folder, ".safetensors", bases[".safetensors"])
