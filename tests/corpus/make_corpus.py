"""Build glassnet's corpus of malicious and corrupt model files, deterministically.

    python tests/corpus/make_corpus.py OUTDIR     # the files, plus OUTDIR/MANIFEST.json

``tests/test_malicious_corpus.py`` builds the corpus into a temporary folder (the
repository keeps only this script) and loads every file through every public entry
point that reads its format. Each file must end in a glassnet error, run no code,
stay within a memory bound and leave the model it was loaded into unchanged.

Every file starts from valid files glassnet writes for a reference model
(:func:`make_model`; the convolution cases :func:`make_cnn_model`; the recurrent
cases, declared in ``recurrent_corpus.py``, :func:`make_rnn_model`, which
``load_weights`` loads them into: a case's ``model``), in each format
glassnet reads (``.keras``, ``.weights.h5``, legacy ``.h5`` weights and whole models,
``.safetensors``, ``to_json()`` text), and damages them one way. A case may state the
message it must end in (``expect``, a regular expression: the convolution and
recurrent cases do, checked by ``tests/test_files_cnn.py`` and
``tests/test_files_recurrent.py``). The cases are data: :func:`cases` lists
them (cheap, nothing is written) and :func:`build` writes them. Payloads that would
run code name a canary: a module (:data:`CANARY_MODULE`, written next to the corpus,
never imported unless something imports by a name read from a file) and a marker
file (:data:`MARKER`) that any executed payload creates.

Nothing here depends on the clock or on unseeded randomness: the same interpreter
and library versions give the same bytes for the same folder (payloads name the
marker file by its absolute path). Large members are built from repeated compressed
pieces and large files are streamed, so the whole corpus builds in about two
seconds without holding any big file in memory.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import marshal
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from glassnet.layers import Activation, Add, Dense, Dropout
from glassnet.models import Model, Sequential
from glassnet.utils import clear_session, set_random_seed

__all__ = [
    "CANARY_MODULE",
    "MARKER",
    "Case",
    "build",
    "cases",
    "make_cnn_model",
    "make_model",
    "make_rnn_model",
    "reference_model",
]

#: A module no loader may import; importing it creates the marker file.
CANARY_MODULE = "gn_corpus_canary"
#: The file any payload that runs creates, inside the corpus folder.
MARKER = "CANARY_FIRED"

LOAD_MODEL = "load_model"
LOAD_WEIGHTS = "load_weights"
FROM_JSON_BYTES = "model_from_json(bytes)"
FROM_JSON_STR = "model_from_json(str)"

_DATE = (2026, 1, 1, 0, 0, 0)
_MiB = 2**20

# -- known weaknesses ----------------------------------------------------------------------
# A case the loaders do not handle yet gets ``known={loader: reason}``: the corpus test
# marks it xfail(strict=True), so the mark has to go when the loader is fixed. There are
# none at the moment.


@dataclass(frozen=True)
class Case:
    """One corpus file: where it goes, what is wrong with it, how to load it."""

    name: str
    category: str
    what: str
    build: Callable[[Builder], bytes | None] = field(repr=False, compare=False)
    loaders: tuple[str, ...] = ()
    unsafe: tuple[str, ...] = ()  # loaders that must raise UnsafeFileError
    known: tuple[tuple[str, str], ...] = ()  # (loader, reason): a known weakness
    #: a regular expression the error message matches (the convolution cases set it;
    #: tests/test_files_cnn.py checks it)
    expect: str = ""
    #: the reference model ``load_weights`` loads the file into (:func:`reference_model`)
    model: str = "dense"

    @property
    def suffix(self) -> str:
        for suffix in (".weights.h5", ".h5", ".keras", ".safetensors", ".json"):
            if self.name.endswith(suffix):
                return suffix
        raise ValueError(self.name)


def _default_loaders(name: str) -> tuple[str, ...]:
    if name.endswith(".weights.h5") or name.endswith(".safetensors"):
        return (LOAD_WEIGHTS,)
    if name.endswith((".h5", ".keras")):
        return (LOAD_MODEL, LOAD_WEIGHTS)
    return (FROM_JSON_BYTES, FROM_JSON_STR)


# -- the reference model --------------------------------------------------------------
def make_model(seed: int = 1, dtype: str = "float32") -> Sequential:
    """Dense, Dropout, Activation, Dense; compiled with Adam and trained one step.

    The naming session is cleared first, so the layers are always called ``dense``,
    ``dropout``, ``activation``, ``dense_1`` and the corpus bytes never vary.
    """
    clear_session()
    model = Sequential(
        [
            Dense(5, activation="relu", input_dim=3),
            Dropout(0.2),
            Activation("tanh"),
            Dense(2),
        ],
        seed=seed,
        dtype=dtype,
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = np.random.default_rng(3).normal(size=(5, 3))
    model.fit(x, np.zeros((5, 2)), epochs=1, verbose=0)
    return model


def make_cnn_model(seed: int = 1) -> Model:
    """A functional CNN with every convolution layer: the convolution cases' base.

    An image branch (Conv2D, BatchNormalization, MaxPooling2D, ZeroPadding2D,
    SpatialDropout2D, AveragePooling2D, Flatten; a GlobalMaxPooling2D beside) and a
    signal branch (causal Conv1D, MaxPooling1D, ZeroPadding1D, SpatialDropout1D,
    AveragePooling1D, GlobalAveragePooling1D; a GlobalMaxPooling1D beside), joined
    into one Dense. Compiled with Adam and trained one step, named explicitly.
    """
    from glassnet import Input
    from glassnet import layers as L

    clear_session()
    set_random_seed(seed)  # a functional model's layers draw when they are called
    image = Input((8, 8, 1), name="image")
    features = L.Conv2D(4, 3, padding="same", activation="relu", name="conv2d")(image)
    h = L.BatchNormalization(name="batch_normalization")(features)
    h = L.MaxPooling2D(name="max_pooling2d")(h)
    h = L.ZeroPadding2D(1, name="zero_padding2d")(h)
    h = L.SpatialDropout2D(0.1, name="spatial_dropout2d")(h)
    h = L.AveragePooling2D(2, name="average_pooling2d")(h)
    flat = L.Flatten(name="flatten")(h)
    peak = L.GlobalMaxPooling2D(name="global_max_pooling2d")(features)
    signal = Input((12, 2), name="signal")
    s = L.Conv1D(3, 3, padding="causal", dilation_rate=2, name="conv1d")(signal)
    t = L.MaxPooling1D(name="max_pooling1d")(s)
    t = L.ZeroPadding1D((1, 0), name="zero_padding1d")(t)
    t = L.SpatialDropout1D(0.1, name="spatial_dropout1d")(t)
    t = L.AveragePooling1D(2, padding="same", name="average_pooling1d")(t)
    mean = L.GlobalAveragePooling1D(name="global_average_pooling1d")(t)
    top = L.GlobalMaxPooling1D(name="global_max_pooling1d")(s)
    joined = L.Concatenate(name="concatenate")([flat, peak, mean, top])
    model = Model(
        [image, signal], Dense(3, name="dense")(joined), name="cnn", seed=seed
    )
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(3)
    x = [rng.normal(size=(5, 8, 8, 1)), rng.normal(size=(5, 12, 2))]
    model.fit(x, np.zeros((5, 3)), epochs=1, verbose=0)
    return model


def make_rnn_model(seed: int = 1) -> Model:
    """A functional sequence model with every recurrent layer: the recurrent cases' base.

    Token ids (6 steps) -> Embedding -> Bidirectional(LSTM) -> TimeDistributed(Dense)
    -> GRU (reset_after) -> GRU(reset_after=False, go_backwards) -> RepeatVector ->
    SimpleRNN -> Dense. The layers have the names Keras would give them, so their
    safetensors names (by class and position) are their own names too. Compiled with
    Adam and trained one step.
    """
    from glassnet import Input
    from glassnet import layers as L

    clear_session()
    set_random_seed(seed)
    ids = Input((6,), dtype="int32", name="input_layer")
    h = L.Embedding(12, 4, name="embedding")(ids)
    h = L.Bidirectional(L.LSTM(3, return_sequences=True), name="bidirectional")(h)
    h = L.TimeDistributed(L.Dense(3), name="time_distributed")(h)
    h = L.GRU(3, return_sequences=True, name="gru")(h)
    h = L.GRU(2, reset_after=False, go_backwards=True, name="gru_1")(h)
    h = L.RepeatVector(2, name="repeat_vector")(h)
    h = L.SimpleRNN(2, name="simple_rnn")(h)
    model = Model(ids, Dense(2, name="dense")(h), name="rnn", seed=seed)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(3).integers(0, 12, size=(5, 6))
    model.fit(x, np.zeros((5, 2)), epochs=1, verbose=0)
    return model


def reference_model(kind: str, seed: int = 1) -> Model:
    """The reference model a case's files come from: ``dense``, ``cnn`` or ``rnn``."""
    makers: dict[str, Callable[[int], Model]] = {
        "dense": make_model,
        "cnn": make_cnn_model,
        "rnn": make_rnn_model,
    }
    return makers[kind](seed)


# -- zip archives, byte by byte ---------------------------------------------------------
@dataclass
class Member:
    """One zip entry; every field a loader might trust can be set to a lie."""

    name: str
    data: bytes = b""
    deflate: bool = False
    compressed: bytes | None = None  # a ready deflate stream (then give size and crc)
    size: int | None = None  # declared uncompressed size
    crc: int | None = None
    flags: int = 0
    external_attr: int = 0o100644 << 16
    local_name: str | None = None  # the name in the local header, if different
    same_data_as: int | None = None  # central entry pointing at another's header


def _dos_date() -> tuple[int, int]:
    y, mo, d, h, mi, s = _DATE
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def zip_bytes(members: list[Member]) -> bytes:
    """A zip archive of ``members``, stored or deflated, with fixed timestamps."""
    time_, date = _dos_date()
    out = bytearray()
    entries = []
    for member in members:
        if member.compressed is not None:
            payload, method = member.compressed, 8
        elif member.deflate:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            payload = compressor.compress(member.data) + compressor.flush()
            method = 8
        else:
            payload, method = member.data, 0
        size = len(member.data) if member.size is None else member.size
        crc = zlib.crc32(member.data) if member.crc is None else member.crc
        name = member.name.encode("utf-8", "surrogateescape")
        local = (member.local_name or member.name).encode("utf-8", "surrogateescape")
        flags = member.flags | (0x800 if not name.isascii() else 0)
        zip64 = size >= 0xFFFFFFFF or len(payload) >= 0xFFFFFFFF
        sizes = (0xFFFFFFFF, 0xFFFFFFFF) if zip64 else (len(payload), size)
        extra = struct.pack("<HHQQ", 1, 16, size, len(payload)) if zip64 else b""
        version = 45 if zip64 else 20
        head = (version, flags, method, time_, date, crc, *sizes)
        entries.append((len(out), head, name, extra, member))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, *head, len(local), len(extra))
        out += local + extra + payload
    central = bytearray()
    for offset, head, name, extra, member in entries:
        if member.same_data_as is not None:
            offset = entries[member.same_data_as][0]
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, *head, len(name),
            len(extra), 0, 0, 0, member.external_attr, offset,
        )  # fmt: skip
        central += name + extra
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
        len(out), 0,
    )  # fmt: skip
    return bytes(out + central + end)


def _repeated_deflate(
    chunk: bytes, count: int, prefix: bytes = b"", suffix: bytes = b""
) -> tuple[bytes, int, int]:
    """``(raw deflate, size, crc)`` of prefix + chunk * count + suffix, built fast.

    Each piece is compressed after a full flush, so it references nothing before
    it and the same bytes can be repeated: inflating gives the whole data back.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(suffix) + compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + len(chunk) * count + len(suffix)
    return head + piece * count + tail, size, crc


# -- payloads -------------------------------------------------------------------------
def _canary_source() -> str:
    return (
        '"""Imported only if a loader imports a name read from a file."""\n'
        "from pathlib import Path\n"
        f"MARKER = Path(__file__).resolve().parent.parent / {MARKER!r}\n"
        "MARKER.write_text('imported')\n\n\n"
        "def fire(*args, **kwargs):\n"
        "    MARKER.write_text('called')\n\n\n"
        "class Canary:\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        fire()\n"
    )


class Payloads:
    """Bytes and strings that would run code, all aimed at the canary."""

    def __init__(self, folder: Path) -> None:
        marker = str(folder / MARKER)
        self.marker = marker
        self.shell = f"touch {marker}"
        self.python = f"open({marker!r}, 'w').write('exec')"

    def pickle_canary(self) -> bytes:
        """Protocol 0: ``gn_corpus_canary.fire(marker)``."""
        return f"c{CANARY_MODULE}\nfire\n(V{self.marker}\ntR.".encode()

    def pickle_system(self) -> bytes:
        """Protocol 2: ``os.system('touch marker')``."""
        arg = self.shell.encode()
        return (
            b"\x80\x02cos\nsystem\nq\x00X"
            + struct.pack("<I", len(arg))
            + arg
            + b"q\x01\x85q\x02Rq\x03."
        )

    def pickle_exec(self) -> bytes:
        """Protocol 0: ``builtins.exec(code)``."""
        return f"cbuiltins\nexec\n(V{self.python}\ntR.".encode()

    def npz(self) -> bytes:
        """An ``.npz`` whose array is an object array: ``np.load`` would unpickle."""
        header = {"descr": "|O", "fortran_order": False, "shape": (1,)}
        text = repr(header).encode() + b" "
        pad = 64 - (10 + len(text) + 1) % 64
        npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text) + pad + 1)
        npy += text + b" " * pad + b"\n" + self.pickle_exec()
        return zip_bytes([Member("arr_0.npy", npy)])

    def bytecode(self) -> str:
        """Base64 marshal of a code object that creates the marker, as Keras stores it."""
        code = compile(self.python, "<corpus>", "exec")
        return base64.b64encode(marshal.dumps(code)).decode()


# -- the builder: valid bases, then damage ------------------------------------------------
class Builder:
    """Valid base files (built once) and helpers to damage copies of them."""

    def __init__(self, folder: Path, model: Model | None = None) -> None:
        self.folder = folder
        self.payloads = Payloads(folder)
        self.model = make_model() if model is None else model
        self._bases: dict[str, bytes] = {}
        self._members: dict[str, bytes] | None = None
        self._cnn: Builder | None = None
        self._rnn: Builder | None = None

    @property
    def cnn(self) -> Builder:
        """The same helpers over the CNN reference model (:func:`make_cnn_model`)."""
        if self._cnn is None:
            self._cnn = Builder(self.folder, make_cnn_model())
        return self._cnn

    @property
    def rnn(self) -> Builder:
        """The same helpers over the recurrent reference model (:func:`make_rnn_model`)."""
        if self._rnn is None:
            self._rnn = Builder(self.folder, make_rnn_model())
        return self._rnn

    # bases
    def base(self, kind: str) -> bytes:
        if kind not in self._bases:
            self._bases[kind] = self._make_base(kind)
        return self._bases[kind]

    def _make_base(self, kind: str) -> bytes:
        from glassnet.io import keras_h5, legacy_h5

        model = self.model
        if kind == "keras":
            return zip_bytes([Member(n, d) for n, d in self.keras_members().items()])
        if kind == "json":
            return model.to_json().encode()
        if kind == "safetensors":
            header, data = self.safetensors_parts()
            return safetensors_bytes(header, data)
        writers = {
            "weights.h5": lambda f: keras_h5.write_weights(f, model),
            "keras-member": lambda f: keras_h5.write_weights(f, model, True),
            "legacy-weights": lambda f: legacy_h5.write_weights(f, model),
            "legacy-model": lambda f: legacy_h5.write_model(f, model),
        }
        if kind.endswith("-latest"):  # the HDF5 layout with room for big attributes
            return new_h5(writers[kind.removesuffix("-latest")], libver="latest")
        return new_h5(writers[kind])

    def keras_members(self) -> dict[str, bytes]:
        """metadata.json, config.json, model.weights.h5 as glassnet writes them."""
        if self._members is None:
            from glassnet.io import keras_archive

            buffer = io.BytesIO()
            keras_archive.write_archive(buffer, self.model, include_optimizer=True)
            with zipfile.ZipFile(buffer) as archive:
                metadata = json.loads(archive.read("metadata.json"))
                metadata["date_saved"] = "2026-01-01@00:00:00"  # not the clock
                self._members = {
                    "metadata.json": json.dumps(metadata).encode(),
                    "config.json": archive.read("config.json"),
                    "model.weights.h5": self.base("keras-member"),
                }
        return dict(self._members)

    def config(self) -> dict[str, Any]:
        return json.loads(self.keras_members()["config.json"])

    def legacy_config(self) -> dict[str, Any]:
        with h5py.File(io.BytesIO(self.base("legacy-model")), "r") as f:
            return json.loads(f.attrs["model_config"])

    def training_config(self) -> dict[str, Any]:
        with h5py.File(io.BytesIO(self.base("legacy-model")), "r") as f:
            return json.loads(f.attrs["training_config"])

    def safetensors_parts(self) -> tuple[dict[str, Any], bytes]:
        header: dict[str, Any] = {"__metadata__": {"format": "glassnet"}}
        data, offset = b"", 0
        for layer in self.model.layers:
            for key, value in layer.params.items():
                raw = np.ascontiguousarray(value, "<f4").tobytes()
                header[f"{layer.name}.{key}"] = {
                    "dtype": "F32",
                    "shape": list(value.shape),
                    "data_offsets": [offset, offset + len(raw)],
                }
                data, offset = data + raw, offset + len(raw)
        return header, data

    # damage
    def h5(self, kind: str, edit: Callable[[h5py.File], None]) -> bytes:
        """A copy of base ``kind`` after ``edit(file)``."""
        buffer = io.BytesIO(self.base(kind))
        with h5py.File(buffer, "r+") as f:
            edit(f)
        return buffer.getvalue()

    def keras(self, **replace: bytes | None) -> bytes:
        """The base archive with members replaced (``None`` removes one)."""
        members = self.keras_members()
        for key, value in replace.items():
            name = {"config": "config.json", "metadata": "metadata.json"}.get(
                key, "model.weights.h5"
            )
            if value is None:
                del members[name]
            else:
                members[name] = value
        return zip_bytes([Member(n, d) for n, d in members.items()])


def new_h5(write: Callable[[h5py.File], None], **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", **kwargs) as f:
        write(f)
    return buffer.getvalue()


def safetensors_bytes(header: dict[str, Any] | bytes, data: bytes) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


# -- the cases ----------------------------------------------------------------------------
_CASES: list[Case] = []

Build = Callable[[Builder], bytes | None]
Edit = Callable[[h5py.File], None]

#: Options of a table row (the fourth item): which loaders apply, what to expect.
MODEL_ONLY: dict[str, Any] = {"loaders": (LOAD_MODEL,)}
WEIGHTS_ONLY: dict[str, Any] = {"loaders": (LOAD_WEIGHTS,)}
UNSAFE: dict[str, Any] = {"unsafe": True}


def _case(
    name: str,
    category: str,
    what: str,
    build: Build,
    loaders: tuple[str, ...] | None = None,
    unsafe: bool | tuple[str, ...] = False,
    known: dict[str, str] | None = None,
    expect: str = "",
    model: str = "dense",
) -> None:
    """Declare a case; ``unsafe=True`` expects UnsafeFileError from every loader."""
    loaders = loaders or _default_loaders(name)
    if isinstance(unsafe, bool):
        unsafe = loaders if unsafe else ()
    known_items = tuple((known or {}).items())
    _CASES.append(
        Case(name, category, what, build, loaders, unsafe, known_items, expect, model)
    )


def _table(category: str, rows: list[tuple[Any, ...]]) -> None:
    """Rows of ``(name, what, build)`` or ``(name, what, build, options)``."""
    for name, what, build, *options in rows:
        _case(name, category, what, build, **(options[0] if options else {}))


def _replace(path: str, value: Any, **kwargs: Any) -> Edit:
    def edit(f: h5py.File) -> None:
        del f[path]
        if isinstance(value, (h5py.SoftLink, h5py.ExternalLink)):
            f[path] = value
        else:
            f.create_dataset(path, data=value, **kwargs)

    return edit


def _dataset(path: str, **kwargs: Any) -> Edit:
    def edit(f: h5py.File) -> None:
        del f[path]
        f.create_dataset(path, **kwargs)

    return edit


def _set(path: str, index: Any, value: float) -> Edit:
    def edit(f: h5py.File) -> None:
        f[path][index] = value

    return edit


def _attr(name: str, value: Any, path: str = "/") -> Edit:
    return lambda f: f[path].attrs.__setitem__(name, value)


def _h5(kind: str, edit: Edit) -> Build:
    return lambda b: b.h5(kind, edit)


def _in_member(edit: Edit) -> Build:
    """A .keras archive whose model.weights.h5 went through ``edit``."""
    return lambda b: b.keras(weights=b.h5("keras-member", edit))


K = "layers/dense/vars/0"  # the first Dense kernel in a Keras 3 weights file
B = "layers/dense/vars/1"
SLOT = "optimizer/vars/2"  # Adam's first moment of that kernel (in a .keras)
LK = "dense/dense/kernel:0"  # the first kernel in a legacy Keras 2 weights file
LB = "dense/dense/bias:0"
MK = "model_weights/dense/dense/kernel:0"  # ... and in a legacy whole model


# pickle payloads ----------------------------------------------------------------------
def _pickle_cases() -> None:
    def extra(name: str, payload: str) -> Build:
        def build(b: Builder) -> bytes:
            members = [Member(n, d) for n, d in b.keras_members().items()]
            return zip_bytes([*members, Member(name, getattr(b.payloads, payload)())])

        return build

    def h5_void(kind: str, path: str, payload: str) -> Build:
        return lambda b: b.h5(
            kind, _replace(path, np.void(getattr(b.payloads, payload)()))
        )

    def object_kernel(b: Builder) -> bytes:
        vlen = h5py.vlen_dtype(bytes)
        value = np.array([[b.payloads.pickle_exec()] * 5] * 3, dtype=vlen)
        return b.h5("weights.h5", _replace(K, value, dtype=vlen))

    def attribute(kind: str, name: str, value: Callable[[Payloads], Any]) -> Build:
        return lambda b: b.h5(kind, _attr(name, value(b.payloads)))

    def member(key: str, payload: str) -> Build:
        return lambda b: b.keras(**{key: getattr(b.payloads, payload)()})

    def torch_zip(b: Builder) -> bytes:
        pickled = b.payloads.pickle_canary()
        return zip_bytes(
            [Member("archive/data.pkl", pickled), Member("archive/version", b"3\n")]
        )

    # fmt: off
    _table("pickle", [
        ("pickle/opaque-kernel.weights.h5", "the kernel is an opaque dataset holding a pickle",
         h5_void("weights.h5", K, "pickle_canary")),
        ("pickle/object-kernel.weights.h5", "a (3, 5) kernel of dtype object, each a pickle",
         object_kernel),
        ("pickle/npz-bytes-kernel.weights.h5", "the kernel holds the bytes of a pickling .npz",
         h5_void("weights.h5", K, "npz")),
        ("pickle/opaque-optimizer-slot.keras", "an Adam slot is an opaque pickle",
         lambda b: b.keras(weights=h5_void("keras-member", SLOT, "pickle_exec")(b)), MODEL_ONLY),
        ("pickle/legacy-opaque-kernel.h5", "legacy weights: kernel:0 is an opaque pickle",
         h5_void("legacy-weights", LK, "pickle_canary")),
        ("pickle/legacy-layer-names-pickle.h5", "legacy weights: layer_names holds a pickle",
         attribute("legacy-weights", "layer_names",
                   lambda p: np.array([np.void(p.pickle_system())]))),
        ("pickle/legacy-model-config-opaque-model.h5", "model_config is an opaque pickle",
         attribute("legacy-model", "model_config", lambda p: np.void(p.pickle_exec())),
         MODEL_ONLY),
        ("pickle/legacy-model-config-bytes-model.h5", "model_config holds pickle bytes",
         attribute("legacy-model", "model_config", lambda p: np.bytes_(p.pickle_system())),
         MODEL_ONLY),
        ("pickle/legacy-training-config-model.h5", "training_config is a protocol-0 pickle",
         attribute("legacy-model", "training_config", lambda p: p.pickle_canary().decode()),
         MODEL_ONLY),
        ("pickle/extra-npz-member.keras", "an extra member model.weights.npz (object array)",
         extra("model.weights.npz", "npz")),
        ("pickle/extra-pickle-member.keras", "an extra member model.pkl",
         extra("model.pkl", "pickle_system")),
        ("pickle/weights-member-is-npz.keras", "model.weights.h5 is a pickling .npz",
         member("weights", "npz")),
        ("pickle/weights-member-is-pickle.keras", "model.weights.h5 is a pickle",
         member("weights", "pickle_system")),
        ("pickle/config-member-is-pickle.keras", "config.json is a pickle",
         member("config", "pickle_canary")),
        ("pickle/metadata-member-is-pickle.keras", "metadata.json is a pickle",
         member("metadata", "pickle_exec")),
        ("pickle/torch-zip.keras", "a PyTorch-style zip (archive/data.pkl) named .keras",
         torch_zip),
        ("pickle/whole-file-pickle.safetensors", "a pickle (a torch .bin) named .safetensors",
         lambda b: b.payloads.pickle_system()),
        ("pickle/pickle-dtype.safetensors", "a tensor of dtype 'O' whose data is a pickle",
         _pickle_safetensors),
        ("pickle/npz.safetensors", "a pickling .npz named .safetensors",
         lambda b: b.payloads.npz()),
        ("pickle/pickle-text.json", "JSON text that is a protocol-0 pickle",
         lambda b: b.payloads.pickle_exec()),
    ])
    # fmt: on


def _pickle_safetensors(b: Builder) -> bytes:
    header, data = b.safetensors_parts()
    payload = b.payloads.pickle_exec()
    start = len(data)
    header["evil"] = {
        "dtype": "O",
        "shape": [1],
        "data_offsets": [start, start + len(payload)],
    }
    return safetensors_bytes(header, data + payload)


# configs that name code or classes outside the registries -----------------------------
ConfigEdit = Callable[[dict[str, Any], Payloads], Any]
CompileEdit = Callable[[dict[str, Any], str, Payloads], Any]


def _layer(config: dict[str, Any], index: int = 1) -> dict[str, Any]:
    layer: dict[str, Any] = config["config"]["layers"][index]
    return layer


def _set_layer(**changes: Any) -> ConfigEdit:
    return lambda c, p: _layer(c).update(changes)


def _set_dense(**changes: Any) -> ConfigEdit:
    return lambda c, p: _layer(c)["config"].update(changes)


def _dense_with(key: str, value: Callable[[Payloads], Any]) -> ConfigEdit:
    return lambda c, p: _layer(c)["config"].__setitem__(key, value(p))


def _lambda_layer_keras3(c: dict[str, Any], p: Payloads) -> None:
    function = {
        "module": "builtins",
        "class_name": "__lambda__",
        "config": {"code": p.bytecode(), "defaults": None, "closure": None},
        "registered_name": "function",
    }
    c["config"]["layers"][3] = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "lambda", "function": function, "arguments": {}},
        "registered_name": None,
    }


def _lambda_layer_keras2(c: dict[str, Any], p: Payloads) -> None:
    c["config"]["layers"][3] = {
        "class_name": "Lambda",
        "config": {
            "name": "lambda",
            "function": [p.bytecode(), None, None],
            "function_type": "lambda",
            "module": "__main__",
            "output_shape": None,
            "arguments": {},
        },
    }


def _lambda_code(p: Payloads) -> dict[str, Any]:
    return {"class_name": "__lambda__", "config": {"code": p.bytecode()}}


#: (slug, what, edit, unsafe): architecture edits, each written as model_from_json
#: text, as the config.json of a .keras archive and as a whole-model .h5's model_config.
# fmt: off
ARCHITECTURE_EDITS: list[tuple[str, str, ConfigEdit, bool]] = [
    ("model-module-os", "the model claims module 'os', class 'system'",
     lambda c, p: c.update(module="os", class_name="system"), True),
    ("model-class-popen", "the model's class_name is 'subprocess.Popen'",
     lambda c, p: c.update(class_name="subprocess.Popen", module=None), False),
    ("model-builtins-eval", "the model is builtins.eval with the payload as its config",
     lambda c, p: c.update(module="builtins", class_name="eval", config=p.python), True),
    ("model-registered-eval", "the model's registered_name is 'builtins>eval'",
     lambda c, p: c.update(registered_name="builtins>eval"), True),
    ("layer-module-os", "a Dense layer claims module 'os'", _set_layer(module="os"), True),
    ("layer-module-canary", "a layer claims the canary module and its class",
     _set_layer(module=CANARY_MODULE, class_name="Canary"), True),
    ("layer-class-popen", "a layer's class_name is 'subprocess.Popen'",
     _set_layer(class_name="subprocess.Popen", module=None), False),
    ("layer-builtins-exec", "a layer is builtins.exec",
     _set_layer(module="builtins", class_name="exec"), True),
    ("layer-registered-package", "a layer's registered_name is 'evil_pkg>Backdoor'",
     _set_layer(registered_name="evil_pkg>Backdoor"), True),
    ("layer-registered-dotted", "a layer's registered_name is 'os.system'",
     _set_layer(registered_name="os.system"), True),
    ("layer-registered-canary", "a layer's registered_name is the canary class",
     _set_layer(registered_name=f"{CANARY_MODULE}>Canary"), True),
    ("layer-key-class", "a layer entry has a __class__ key",
     _set_layer(__class__="subprocess.Popen"), False),
    ("layer-key-reduce", "a layer entry has a __reduce__ key",
     lambda c, p: _layer(c).update(__reduce__=["os.system", [p.shell]]), False),
    ("dense-config-class", "a Dense config sets __class__",
     _set_dense(__class__="os.system"), False),
    ("dense-config-function", "a Dense config sets function (source code)",
     _dense_with("function", lambda p: p.python), False),
    ("activation-builtin-function", "activation is the Keras form of builtins.eval",
     _set_dense(activation={"module": "builtins", "class_name": "function",
                            "config": "eval", "registered_name": "function"}), True),
    ("activation-name-eval", "activation named 'eval'", _set_dense(activation="eval"), False),
    ("activation-source", "activation is Python source",
     _dense_with("activation", lambda p: f"lambda x: {p.python}"), False),
    ("activation-bytecode", "activation is a serialized lambda (marshal bytecode)",
     _dense_with("activation", _lambda_code), True),
    ("activation-class-popen", "activation is {'class_name': 'subprocess.Popen'}",
     _dense_with("activation", lambda p: {"class_name": "subprocess.Popen",
                                          "config": {"args": p.shell}}), False),
    ("initializer-module-os", "kernel_initializer claims module 'os'",
     _set_dense(kernel_initializer={"module": "os", "class_name": "system", "config": {}}),
     True),
    ("initializer-typespec", "kernel_initializer is a __typespec__",
     _set_dense(kernel_initializer={"class_name": "__typespec__", "config": {}}), True),
    ("dtype-policy-module", "a dtype policy claims module 'os'",
     _set_dense(dtype={"module": "os", "class_name": "DTypePolicy",
                       "config": {"name": "float32"}}), True),
    ("lambda-layer-keras3", "a Keras 3 Lambda layer with marshal bytecode",
     _lambda_layer_keras3, False),
    ("lambda-layer-keras2", "a Keras 2 Lambda layer with marshal bytecode",
     _lambda_layer_keras2, False),
    ("safe-mode-off-lambda", "safe_mode: false next to a Lambda layer",
     lambda c, p: (_lambda_layer_keras3(c, p), c.update(safe_mode=False)), False),
    ("tf-op-lambda", "a TFOpLambda layer naming os.system",
     lambda c, p: c["config"]["layers"].__setitem__(
         3, {"class_name": "TFOpLambda", "config": {"function": "os.system"}}), False),
    ("functional", "a Functional model", lambda c, p: c.update(class_name="Functional"), False),
    ("layer-base-class", "a layer of class 'Layer' (the abstract base)",
     _set_layer(class_name="Layer"), False),
]

#: (slug, what, edit(compile dict, optimizer key, payloads), unsafe): compile settings,
#: written as a .keras compile_config and a whole-model .h5 training_config.
COMPILE_EDITS: list[tuple[str, str, CompileEdit, bool]] = [
    ("loss-builtins-eval", "the loss is the Keras form of the function builtins.eval",
     lambda c, k, p: c.update(loss={"module": "builtins", "class_name": "function",
                                    "config": "eval"}), False),
    ("loss-bytecode", "the loss is a serialized lambda",
     lambda c, k, p: c.update(loss=_lambda_code(p)), True),
    ("loss-module-os", "the loss claims module 'os'",
     lambda c, k, p: c.update(loss={"module": "os", "class_name": "system", "config": {}}),
     True),
    ("loss-source", "the loss is Python source", lambda c, k, p: c.update(loss=p.python), False),
    ("optimizer-module-subprocess", "the optimizer claims module 'subprocess'",
     lambda c, k, p: c[k].update(module="subprocess", class_name="Popen"), True),
    ("optimizer-class-popen", "the optimizer's class_name is 'subprocess.Popen'",
     lambda c, k, p: c[k].update(class_name="subprocess.Popen"), False),
    ("optimizer-schedule-module", "the learning rate is a schedule claiming module 'os'",
     lambda c, k, p: c[k]["config"].update(
         learning_rate={"module": "os", "class_name": "system", "config": {}}), False),
    ("metric-builtins-exec", "a metric is the Keras form of the function builtins.exec",
     lambda c, k, p: c.update(metrics=[{"module": "builtins", "class_name": "function",
                                        "config": "exec"}]), False),
    ("metric-module-canary", "a metric claims the canary module",
     lambda c, k, p: c.update(metrics=[{"module": CANARY_MODULE, "class_name": "Canary",
                                        "config": {}}]), True),
]
# fmt: on


def _keras_config_file(edit: ConfigEdit) -> Build:
    def build(b: Builder) -> bytes:
        config = b.config()
        edit(config, b.payloads)
        return b.keras(config=json.dumps(config).encode())

    return build


def _legacy_config_file(edit: ConfigEdit) -> Build:
    def build(b: Builder) -> bytes:
        config = b.legacy_config()
        edit(config, b.payloads)
        text = json.dumps(config)
        kind = "legacy-model" if len(text) < 60_000 else "legacy-model-latest"
        return b.h5(kind, _attr("model_config", text))

    return build


def _json_file(edit: ConfigEdit) -> Build:
    def build(b: Builder) -> bytes:
        config = json.loads(b.base("json"))
        edit(config, b.payloads)
        return json.dumps(config).encode()

    return build


def _keras_compile_file(edit: CompileEdit) -> Build:
    def build(b: Builder) -> bytes:
        config = b.config()
        edit(config["compile_config"], "optimizer", b.payloads)
        return b.keras(config=json.dumps(config).encode())

    return build


def _legacy_compile_file(edit: CompileEdit) -> Build:
    def build(b: Builder) -> bytes:
        training = b.training_config()
        edit(training, "optimizer_config", b.payloads)
        return b.h5("legacy-model", _attr("training_config", json.dumps(training)))

    return build


def _metadata(edit: Callable[[dict[str, Any]], Any]) -> Build:
    def build(b: Builder) -> bytes:
        data = json.loads(b.keras_members()["metadata.json"])
        edit(data)
        return b.keras(metadata=json.dumps(data).encode())

    return build


def _architecture(
    folder: str, category: str, slug: str, what: str, edit: ConfigEdit, **options: Any
) -> None:
    """One architecture edit, in the three places an architecture is read from.

    ``load_weights`` reads only the weights of a .keras or whole-model .h5 file, so
    an architecture-only edit concerns ``load_model`` there, unless the edit names
    code (``unsafe=True``): then no part of the file may be used, its weights neither.
    """
    _case(f"{folder}/{slug}.json", category, what, _json_file(edit), **options)
    loaders = (LOAD_MODEL, LOAD_WEIGHTS) if options.get("unsafe") else (LOAD_MODEL,)
    for name, build in [
        (f"{folder}/{slug}.keras", _keras_config_file(edit)),
        (f"{folder}/{slug}-model.h5", _legacy_config_file(edit)),
    ]:
        _case(name, category, what, build, loaders=loaders, **options)


def _config_cases() -> None:
    cat = "code-in-config"
    for slug, what, edit, unsafe in ARCHITECTURE_EDITS:
        _architecture("config", cat, slug, what, edit, unsafe=unsafe)
    for slug, what, compile_edit, unsafe in COMPILE_EDITS:
        for name, build in [
            (f"config/compile-{slug}.keras", _keras_compile_file(compile_edit)),
            (f"config/compile-{slug}-model.h5", _legacy_compile_file(compile_edit)),
        ]:
            loaders = (LOAD_MODEL, LOAD_WEIGHTS) if unsafe else (LOAD_MODEL,)
            _case(name, cat, what, build, loaders=loaders, unsafe=unsafe)

    popen = _set_dense(
        kernel_initializer={"class_name": "subprocess.Popen", "config": {}}
    )
    module_os = ARCHITECTURE_EDITS[0][2]
    rng_reduce = {"__reduce__": ["os.system", ["x"]]}
    # fmt: off
    _table(cat, [
        ("config/initializer-class-popen.json", "kernel_initializer names subprocess.Popen",
         _json_file(popen), UNSAFE),
        ("config/initializer-class-popen.keras", "kernel_initializer names subprocess.Popen",
         _keras_config_file(popen), {**MODEL_ONLY, **UNSAFE}),
        ("config/initializer-class-popen-model.h5", "kernel_initializer names subprocess.Popen",
         _legacy_config_file(popen), {**MODEL_ONLY, **UNSAFE}),
        ("config/weights-of-a-code-config.keras",
         "valid weights in an archive whose config.json claims module 'os'",
         _keras_config_file(module_os),
         {**WEIGHTS_ONLY, **UNSAFE}),
        ("config/weights-of-a-code-config-model.h5",
         "valid weights in a whole-model .h5 whose model_config claims module 'os'",
         _legacy_config_file(module_os),
         {**WEIGHTS_ONLY, **UNSAFE}),
        ("config/metadata-rng-reduce.keras", "metadata.json: the generator is a __reduce__",
         _metadata(lambda m: m["glassnet"].update(rng=rng_reduce)), MODEL_ONLY),
        ("config/metadata-rng-bit-generator.keras",
         "metadata.json: the generator names another bit generator",
         _metadata(lambda m: m["glassnet"]["rng"].update(bit_generator="subprocess.Popen")),
         MODEL_ONLY),
        ("config/metadata-layer-rngs-unknown.keras",
         "metadata.json: layer_rngs names a layer that does not exist",
         _metadata(lambda m: m["glassnet"].update(layer_rngs={"os.system": {}})), MODEL_ONLY),
        ("config/metadata-glassnet-list.keras", "metadata.json: the glassnet section is a list",
         _metadata(lambda m: m.update(glassnet=["os.system"])), MODEL_ONLY),
    ])
    # fmt: on


# truncations and bit flips --------------------------------------------------------------
_BASE_FILES = [
    ("keras", "m.keras", (LOAD_MODEL, LOAD_WEIGHTS)),
    ("weights.h5", "w.weights.h5", (LOAD_WEIGHTS,)),
    ("legacy-weights", "w.h5", (LOAD_WEIGHTS, LOAD_MODEL)),
    ("legacy-model", "m-model.h5", (LOAD_MODEL, LOAD_WEIGHTS)),
    ("safetensors", "w.safetensors", (LOAD_WEIGHTS,)),
    ("json", "m.json", (FROM_JSON_BYTES, FROM_JSON_STR)),
]

_CUTS: list[tuple[str, Callable[[int], int]]] = [
    ("empty", lambda n: 0),
    ("1-byte", lambda n: 1),
    ("8-bytes", lambda n: 8),
    ("tenth", lambda n: n // 10),
    ("quarter", lambda n: n // 4),
    ("half", lambda n: n // 2),
    ("three-quarters", lambda n: 3 * n // 4),
    ("last-byte-missing", lambda n: n - 1),
]


def _truncated(kind: str, where: Callable[[int], int]) -> Build:
    def build(b: Builder) -> bytes:
        data = b.base(kind)
        return data[: where(len(data))]

    return build


def _flipped(kind: str, locate: Callable[[bytes], int]) -> Build:
    return lambda b: _flip_at(locate)(b.base(kind))


def _flip_at(locate: Callable[[bytes], int]) -> Callable[[bytes], bytes]:
    def damage(data: bytes) -> bytes:
        flipped = bytearray(data)
        flipped[locate(data)] ^= 0x01
        return bytes(flipped)

    return damage


def _at(needle: bytes, skip: int = 0, occurrence: int = 0) -> Callable[[bytes], int]:
    """The position ``skip`` bytes into the ``occurrence``-th copy of ``needle``."""

    def locate(data: bytes) -> int:
        position = -1
        for _ in range(occurrence + 1):
            position = data.index(needle, position + 1)
        return position + skip

    return locate


def _fixed(offset: int) -> Callable[[bytes], int]:
    return lambda data: offset if offset >= 0 else len(data) + offset


#: Bytes whose corruption a loader must notice: signatures, lengths, names, syntax.
#: (A flip inside raw float data only changes a number; see the nonfinite cases.)
#: A third item narrows the loaders: load_weights never reads model_config.
# fmt: off
_FLIPS: dict[str, list[tuple[Any, ...]]] = {
    "keras": [
        ("local-header-signature", _fixed(0)),
        ("first-name", _fixed(30)),
        ("config-json-brace", _at(b'{"module"')),
        ("config-json-quote", _at(b'"class_name"', 0)),
        ("metadata-json", _at(b'{"keras_version"')),
        ("weights-hdf5-signature", _at(b"\x89HDF")),
        ("central-directory-signature", _at(b"PK\x01\x02")),
        ("central-name", _at(b"PK\x01\x02", 46)),
        ("central-crc", _at(b"PK\x01\x02", 16)),
        ("end-of-directory", _at(b"PK\x05\x06")),
        ("directory-offset", _fixed(-6)),
    ],
    "weights.h5": [
        ("superblock-signature", _fixed(0)),
        ("superblock-version", _fixed(8)),
        ("offset-size", _fixed(13)),
        ("end-of-file-address", _fixed(40)),
        ("b-tree-signature", _at(b"TREE")),
        ("heap-signature", _at(b"HEAP")),
        ("symbol-node-signature", _at(b"SNOD")),
        ("group-name-layers", _at(b"layers\x00")),
        ("group-name-dense-1", _at(b"dense_1\x00")),
    ],
    "legacy-weights": [
        ("superblock-signature", _fixed(1)),
        ("superblock-version", _fixed(8)),
        ("b-tree-signature", _at(b"TREE", occurrence=1)),
        ("heap-signature", _at(b"HEAP", occurrence=1)),
        ("attribute-layer-names", _at(b"layer_names")),
        ("attribute-weight-names", _at(b"weight_names")),
        ("dataset-name-kernel", _at(b"kernel:0\x00")),
        ("layer-names-value", _at(b"dense_1", occurrence=0)),
    ],
    "legacy-model": [
        ("superblock-signature", _fixed(2)),
        ("model-config-brace", _at(b'{"class_name"'), (LOAD_MODEL,)),
        ("model-config-class", _at(b'"Sequential"', 1), (LOAD_MODEL,)),
        ("model-config-quote", _at(b'"layers"'), (LOAD_MODEL,)),
        ("attribute-model-config", _at(b"model_config"), (LOAD_MODEL,)),
        ("group-model-weights", _at(b"model_weights")),
    ],
    "safetensors": [
        ("length-low-byte", _fixed(0)),
        ("length-byte-3", _fixed(3)),
        ("length-high-byte", _fixed(7)),
        ("header-brace", _fixed(8)),
        ("header-dtype", _at(b'"F32"', 1)),
        ("header-shape-key", _at(b'"shape"', 1)),
        ("header-offsets", _at(b"data_offsets", 0)),
        ("header-name", _at(b'"dense.W"', 1)),
        ("header-last-brace", _at(b"]}}")),
    ],
    "json": [
        ("first-brace", _fixed(0)),
        ("class-name-key", _at(b'"class_name"', 1)),
        ("sequential", _at(b'"Sequential"', 1)),
        ("dense", _at(b'"Dense"', 1)),
        ("units-key", _at(b'"units"', 1)),
        ("colon", _at(b'": ')),
        ("comma", _at(b", ")),
        ("null", _at(b"null")),
        ("last-brace", _fixed(-1)),
    ],
}
# fmt: on

_SHORT = {
    "model.weights.h5": "weights",
    "config.json": "config",
    "metadata.json": "metadata",
}


def _damaged_member(name: str, damage: Callable[[bytes], bytes]) -> Build:
    """The archive with one member damaged and the zip rebuilt around it (right CRC)."""

    def build(b: Builder) -> bytes:
        members = b.keras_members()
        members[name] = damage(members[name])
        return zip_bytes([Member(n, d) for n, d in members.items()])

    return build


def _corruption_cases() -> None:
    for kind, name, loaders in _BASE_FILES:
        stem, _, extension = name.partition(".")
        for label, where in _CUTS:
            _case(
                f"truncated/{stem}-{label}.{extension}",
                "truncation",
                f"{name} cut to {label.replace('-', ' ')}",
                _truncated(kind, where),
                loaders=loaders,
            )
        for label, locate, *only in _FLIPS[kind]:
            _case(
                f"bitflip/{stem}-{label}.{extension}",
                "bit-flip",
                f"{name}: one bit flipped in the {label.replace('-', ' ')}",
                _flipped(kind, locate),
                loaders=only[0] if only else loaders,
            )
    for member, label, cut in [
        ("model.weights.h5", "cut-in-half", lambda d: d[: len(d) // 2]),
        ("model.weights.h5", "last-byte-missing", lambda d: d[:-1]),
        ("config.json", "cut-in-half", lambda d: d[: len(d) // 2]),
        ("metadata.json", "cut-in-half", lambda d: d[: len(d) // 2]),
    ]:
        _case(
            f"truncated/m-member-{_SHORT[member]}-{label}.keras",
            "truncation",
            f"{member} truncated inside a consistent archive",
            _damaged_member(member, cut),
        )
    for member, label, locate in [
        ("model.weights.h5", "superblock", _fixed(0)),
        ("model.weights.h5", "b-tree", _at(b"TREE")),
        ("model.weights.h5", "heap", _at(b"HEAP", occurrence=1)),
        ("model.weights.h5", "group-name", _at(b"dense_1\x00")),
        ("config.json", "sequential", _at(b'"Sequential"', 1)),
        ("config.json", "brace", _fixed(0)),
        ("metadata.json", "brace", _fixed(-1)),
    ]:
        _case(
            f"bitflip/m-member-{_SHORT[member]}-{label}.keras",
            "bit-flip",
            f"{member}: one bit flipped in the {label}, the archive consistent",
            _damaged_member(member, _flip_at(locate)),
            # load_weights reads config.json as JSON, not as an architecture
            loaders=(LOAD_MODEL,) if label == "sequential" else None,
        )
    # fmt: off
    _table("bit-flip", [
        ("bitflip/fletcher32-data.weights.h5",
         "a checksummed (fletcher32) kernel with a flipped data bit", _fletcher_flip),
        ("bitflip/deflate-stream.weights.h5",
         "a deflate-compressed kernel with a corrupted stream", _deflate_flip),
    ])
    # fmt: on


def _fletcher_flip(b: Builder) -> bytes:
    value = np.arange(15, dtype="<f4").reshape(3, 5) + 1
    edit = _replace(K, value, fletcher32=True, chunks=(3, 5))
    data = bytearray(b.h5("weights.h5", edit))
    data[bytes(data).index(value.tobytes()) + 7] ^= 0x10
    return bytes(data)


def _deflate_flip(b: Builder) -> bytes:
    value = np.arange(15, dtype="<f4").reshape(3, 5)
    edit = _replace(K, value, compression="gzip", chunks=(3, 5))
    data = bytearray(b.h5("weights.h5", edit))
    position = bytes(data).index(zlib.compress(value.tobytes(), 4)[:8])
    data[position + 2] ^= 0xFF
    data[position + 3] ^= 0xFF
    return bytes(data)


# shape and size bombs -----------------------------------------------------------------
def _input(shape: list[Any]) -> ConfigEdit:
    def edit(c: dict[str, Any], p: Payloads) -> None:
        layer = _layer(c, 0)["config"]
        key = "batch_shape" if "batch_shape" in layer else "batch_input_shape"
        layer[key] = shape

    return edit


def _many_layers(count: int, units: int = 1) -> ConfigEdit:
    def edit(c: dict[str, Any], p: Payloads) -> None:
        dense = _layer(c)
        layers = c["config"]["layers"][:1]
        for index in range(count):
            entry = copy.deepcopy(dense)
            entry["config"].update(name=f"d{index}", units=units)
            entry.pop("build_config", None)
            layers.append(entry)
        c["config"]["layers"] = layers

    return edit


def _under_the_cap(c: dict[str, Any], p: Payloads) -> None:
    """About 2**24 float64 parameters: allowed by MAX_PARAMETERS, 128 MiB a copy."""
    c["config"]["dtype"] = "float64"
    for layer in c["config"]["layers"]:
        layer["config"]["dtype"] = "float64"
    _layer(c)["config"]["units"] = 2**22
    c["config"]["layers"][4]["config"]["units"] = 1


def _zlib_zeros(size: int) -> bytes:
    """A zlib stream (HDF5's deflate format) of ``size`` zero bytes, built fast."""
    raw, _, _ = _repeated_deflate(bytes(_MiB), size // _MiB)
    adler = ((size % 65521) << 16) | 1  # adler32 of zeros
    return b"\x78\x9c" + raw + struct.pack(">I", adler)


def _chunk_bomb(b: Builder) -> bytes:
    """A (3, 5) kernel stored as one deflated chunk of 8192 x 8192 float32 zeros."""
    chunk = (8192, 8192)
    stream = _zlib_zeros(4 * chunk[0] * chunk[1])

    def edit(f: h5py.File) -> None:
        del f[K]
        dataset = f["layers/dense/vars"].create_dataset(
            "0", shape=(3, 5), maxshape=(None, None), chunks=chunk, dtype="f4",
            compression="gzip",
        )  # fmt: skip
        dataset.id.write_direct_chunk((0, 0), stream, 0)

    return b.h5("weights.h5", edit)


def _stream_bomb(b: Builder) -> bytes:
    """A (3, 5) kernel in one chunk of its own shape, whose deflate stream holds 256 MiB.

    HDF5's deflate filter inflates a stream to its end, whatever the chunk's size.
    """
    stream = _zlib_zeros(256 * _MiB)

    def edit(f: h5py.File) -> None:
        del f[K]
        dataset = f["layers/dense/vars"].create_dataset(
            "0", shape=(3, 5), chunks=(3, 5), dtype="f4", compression="gzip"
        )
        dataset.id.write_direct_chunk((0, 0), stream, 0)

    return b.h5("weights.h5", edit)


def _ratio_bomb(b: Builder) -> bytes:
    """model.weights.h5 deflated at about 150:1 (under the cap), 256 MiB inflated."""
    rng = np.random.default_rng(0)
    chunk = np.zeros(_MiB, np.uint8)
    chunk[rng.integers(0, _MiB, 1600)] = rng.integers(1, 256, 1600, dtype=np.uint8)
    compressed, size, crc = _repeated_deflate(chunk.tobytes(), 256)
    members = [Member(n, d) for n, d in b.keras_members().items()]
    members[2] = Member("model.weights.h5", compressed=compressed, size=size, crc=crc)
    return zip_bytes(members)


def _deflated_member(
    name: str, chunk: bytes, count: int, prefix: bytes = b"", suffix: bytes = b""
) -> Build:
    """The archive with member ``name`` replaced by a deflated repetition."""

    def build(b: Builder) -> bytes:
        compressed, size, crc = _repeated_deflate(chunk, count, prefix, suffix)
        members = [Member(n, d) for n, d in b.keras_members().items()]
        index = [m.name for m in members].index(name)
        members[index] = Member(name, compressed=compressed, size=size, crc=crc)
        return zip_bytes(members)

    return build


def _declared_size(name: str, size: int) -> Build:
    def build(b: Builder) -> bytes:
        members = [Member(n, d) for n, d in b.keras_members().items()]
        members[[m.name for m in members].index(name)].size = size
        return zip_bytes(members)

    return build


_JSON_PREFIX = b'{"class_name": "Sequential", "config": {"name": "'


def _lying_small_size(b: Builder) -> bytes:
    """config.json declares 1000 bytes (with their CRC) but its stream holds 64 MiB."""
    compressed, _, _ = _repeated_deflate(b"B" * _MiB, 64, _JSON_PREFIX, b'"}}')
    head = (_JSON_PREFIX + b"B" * 1000)[:1000]
    members = [Member(n, d) for n, d in b.keras_members().items()]
    members[1] = Member(
        "config.json", compressed=compressed, size=1000, crc=zlib.crc32(head)
    )
    return zip_bytes(members)


def _sparse_safetensors(path: Path) -> None:
    """A header that declares 17 MiB and holds them (a sparse file of zeros)."""
    length = 17 * _MiB
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", length) + b'{"a": "')
        handle.seek(8 + length + 100)
        handle.write(b"\0")


def _json_string_bomb(path: Path) -> None:
    """A 100 MiB JSON string, written in 1 MiB pieces (never whole in memory)."""
    with open(path, "wb") as handle:
        handle.write(_JSON_PREFIX)
        piece = b"A" * _MiB
        for _ in range(100):
            handle.write(piece)
        handle.write(b'", "layers": []}}')


def _amplified(prefix: bytes, suffix: bytes) -> bytes:
    """6 MiB of JSON that parses to 3 million objects (zeros in a list)."""
    return prefix + b"0," * (3 * _MiB) + b"0" + suffix


def _huge_attribute(b: Builder) -> bytes:
    from glassnet.io import legacy_h5

    def write(f: h5py.File) -> None:
        legacy_h5.write_weights(f, b.model)
        f.attrs["layer_names"] = np.array([b"d" * (20 * _MiB)])

    return new_h5(write, libver="latest")


def _safetensors_edit(name: str, **changes: Any) -> Build:
    def build(b: Builder) -> bytes:
        header, data = b.safetensors_parts()
        header[name] = {**header[name], **changes}
        return safetensors_bytes(header, data)

    return build


def _many_tensors(b: Builder) -> bytes:
    header, data = b.safetensors_parts()
    end = len(data)
    for index in range(50_000):
        header[f"t{index}"] = {"dtype": "F32", "shape": [0], "data_offsets": [end, end]}
    return safetensors_bytes(header, data)


def _size_cases() -> None:
    cat = "size-bomb"
    # fmt: off
    for slug, what, edit in [
        ("units-10e12", "a Dense layer declares 10**12 units", _set_dense(units=10**12)),
        ("units-2e31", "a Dense layer declares 2**31 units", _set_dense(units=2**31)),
        ("input-huge", "the input shape is [null, 2**31, 2**31]",
         _input([None, 2**31, 2**31])),
        ("many-layers", "10,001 Dense layers (more than MAX_LAYERS)", _many_layers(10_001)),
        ("many-wide-layers", "300 Dense layers of 2**20 units (too many together)",
         _many_layers(300, 2**20)),
    ]:
        _architecture("size", cat, slug, what, edit)
    under = "2**24 float64 parameters (under MAX_PARAMETERS) with the base weights"
    amplified = b'{"class_name": "Sequential", "config": {"name": "x", "layers": ['
    _table(cat, [
        ("size/under-the-cap.keras", under, _keras_config_file(_under_the_cap),
         MODEL_ONLY),
        ("size/under-the-cap-model.h5", under, _legacy_config_file(_under_the_cap),
         MODEL_ONLY),
        # HDF5 datasets and attributes
        ("size/huge-declared-shape.weights.h5", "kernel declared (2**40, 2**40), nothing stored",
         _h5("weights.h5", _dataset(K, shape=(2**40, 2**40), chunks=(1, 1), dtype="f4"))),
        ("size/unwritten-chunks.weights.h5", "a (3, 5) kernel chunked (1, 1), no chunk written",
         _h5("weights.h5", _dataset(K, shape=(3, 5), chunks=(1, 1), dtype="f4"))),
        ("size/unlimited-maxshape.h5", "legacy kernel with unlimited maxshape and no data",
         _h5("legacy-weights", _dataset(LK, shape=(3, 5), maxshape=(None, None),
                                        chunks=(1, 5), dtype="f4"))),
        ("size/chunk-bomb.weights.h5",
         "a (3, 5) kernel stored as one deflated 8192x8192 chunk (256 MiB inflated)",
         _chunk_bomb, UNSAFE),
        ("size/chunk-stream-bomb.weights.h5",
         "a (3, 5) kernel in a (3, 5) chunk whose deflate stream inflates to 256 MiB",
         _stream_bomb, UNSAFE),
        ("size/huge-iterations.keras", "the iteration count has shape (2**40,), nothing stored",
         _in_member(_dataset("optimizer/vars/0", shape=(2**40,), chunks=(1,), dtype="i8")),
         MODEL_ONLY),
        ("size/too-many-layer-names.h5", "legacy layer_names lists 20,001 names",
         _h5("legacy-weights-latest", _attr("layer_names", np.array([b"dense"] * 20_001)))),
        ("size/huge-attribute.h5", "legacy layer_names is one 20 MiB string", _huge_attribute),
        # safetensors headers
        ("size/length-2e64.safetensors", "header length 2**64 - 1",
         lambda b: struct.pack("<Q", 2**64 - 1) + b"{}"),
        ("size/header-17mib.safetensors", "a 17 MiB header (sparse file)",
         lambda b: _sparse_safetensors(b.folder / "size/header-17mib.safetensors")),
        ("size/shape-2e31-squared.safetensors", "dense.W declared (2**31, 2**31), 60 bytes",
         _safetensors_edit("dense.W", shape=[2**31, 2**31])),
        ("size/shape-2e62.safetensors", "dense.W declared (2**62,), offsets to match",
         _safetensors_edit("dense.W", shape=[2**62], data_offsets=[0, 2**64])),
        ("size/50000-tensors.safetensors", "a header listing 50,000 empty tensors",
         _many_tensors),
        # zip archives
        ("size/deflate-zeros-weights.keras", "model.weights.h5: 64 MiB of deflated zeros",
         _deflated_member("model.weights.h5", bytes(_MiB), 64), UNSAFE),
        ("size/deflate-string-config.keras", "config.json: a deflated 100 MiB string",
         _deflated_member("config.json", b"A" * _MiB, 100, _JSON_PREFIX, b'"}}'), UNSAFE),
        ("size/deflate-under-ratio.keras", "model.weights.h5 deflated at ~150:1: 256 MiB",
         _ratio_bomb, UNSAFE),
        ("size/declared-2e40.keras", "model.weights.h5 declares 2**40 bytes (zip64)",
         _declared_size("model.weights.h5", 2**40), UNSAFE),
        ("size/declared-config-20mib.keras", "config.json declares 20 MiB",
         _declared_size("config.json", 20 * _MiB), UNSAFE),
        ("size/lying-small-size.keras", "config.json declares 1000 bytes, inflates to 64 MiB",
         _lying_small_size),
        ("size/nested-zip.keras", "model.weights.h5 is itself a .keras holding a bomb",
         lambda b: b.keras(weights=_deflated_member("model.weights.h5", bytes(_MiB), 16)(b))),
        ("size/17-members.keras", "17 members",
         lambda b: zip_bytes([*(Member(n, d) for n, d in b.keras_members().items()),
                              *(Member(f"assets/{i}", b"") for i in range(14))]), UNSAFE),
        # JSON: large documents, and small ones that expand when parsed
        ("size/string-100mib.json", "a 100 MiB string (written lazily)",
         lambda b: _json_string_bomb(b.folder / "size/string-100mib.json")),
        ("size/whitespace-17mib.json", "17 MiB of spaces around a valid document",
         lambda b: b" " * (17 * _MiB) + b.base("json")),
        ("size/amplified-array.json", "6 MiB: a list of 3 million zeros",
         lambda b: _amplified(amplified, b"]}}"),
         {"loaders": (FROM_JSON_BYTES,)}),
        ("size/amplified-config.keras", "config.json: a list of 3 million zeros (6 MiB)",
         lambda b: b.keras(config=_amplified(amplified, b"]}}")),
         MODEL_ONLY),
        ("size/amplified-header.safetensors", "a 6 MiB header: 3 million zeros in a list",
         lambda b: safetensors_bytes(_amplified(b'{"__metadata__": [', b"]}"), b"")),
    ])
    # fmt: on


# zip archive tricks ---------------------------------------------------------------------
def _edit_members(edit: Callable[[list[Member]], Any]) -> Build:
    def build(b: Builder) -> bytes:
        members = [Member(n, d) for n, d in b.keras_members().items()]
        edit(members)
        return zip_bytes(members)

    return build


def _with_member(
    name: str, data: bytes | Callable[[Builder], bytes], **kw: Any
) -> Build:
    def build(b: Builder) -> bytes:
        members = [Member(n, d) for n, d in b.keras_members().items()]
        extra = data(b) if callable(data) else data
        return zip_bytes([*members, Member(name, extra, **kw)])

    return build


def _member_field(index: int, **changes: Any) -> Build:
    def edit(members: list[Member]) -> None:
        for key, value in changes.items():
            setattr(members[index], key, value)

    return _edit_members(edit)


def _patched_method(method: int) -> Build:
    """config.json stored, then its method field rewritten to ``method``."""

    def build(b: Builder) -> bytes:
        data = bytearray(b.base("keras"))
        for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            position = _at(signature, occurrence=1)(bytes(data))  # config.json
            data[position + offset : position + offset + 2] = struct.pack("<H", method)
        return bytes(data)

    return build


_LINK = 0o120777 << 16  # S_IFLNK in a zip entry's external attributes


def _zip_cases() -> None:
    cat = "zip"
    for slug, name in [
        ("parent", "../evil.py"),
        ("deep-parent", "../../../../etc/cron.d/evil"),
        ("absolute", "/etc/passwd"),
        ("windows-drive", "C:\\Windows\\evil.dll"),
        ("windows-parent", "..\\evil.py"),
        ("inner-parent", "assets/../../evil.py"),
        ("nul", "config.json\0.txt"),
    ]:
        _case(
            f"zip/traversal-{slug}.keras",
            cat,
            f"an extra member {name!r}",
            _with_member(name, b"import os\n"),
            unsafe=True,
        )
    for slug, name in [
        ("dot-slash", "./config.json"),
        ("case", "Config.json"),
        ("lookalike", "c\u043enfig.json"),  # a Cyrillic o
        ("directory", "config.json/"),
        ("trailing-space", "config.json "),
    ]:
        _case(
            f"zip/renamed-{slug}.keras",
            cat,
            f"config.json stored as {name!r}",
            _member_field(1, name=name),
        )
    os_config = b'{"module": "os", "class_name": "system"}'
    # fmt: off
    _table(cat, [
        ("zip/traversal-replaces-config.keras", "config.json stored as '../config.json'",
         _member_field(1, name="../config.json"), UNSAFE),
        ("zip/symlink-extra.keras", "an extra member, a symlink to /etc/passwd",
         _with_member("evil", b"/etc/passwd", external_attr=_LINK)),
        ("zip/symlink-config.keras", "config.json is a symlink to /etc/passwd",
         _member_field(1, external_attr=_LINK, data=b"/etc/passwd")),
        ("zip/symlink-weights.keras", "model.weights.h5 is a symlink to ../../../../etc/shadow",
         _member_field(2, external_attr=_LINK, data=b"../../../../etc/shadow")),
        ("zip/symlink-flag-on-valid-metadata.keras",
         "metadata.json, with its real content, flagged as a symlink",
         _member_field(0, external_attr=_LINK), UNSAFE),
        ("zip/duplicate-config.keras", "config.json twice, the second naming module 'os'",
         _with_member("config.json", os_config), UNSAFE),
        ("zip/duplicate-weights.keras", "model.weights.h5 twice",
         _with_member("model.weights.h5", lambda b: b.base("keras-member")), UNSAFE),
        ("zip/encrypted.keras", "config.json flagged encrypted", _member_field(1, flags=1)),
        ("zip/method-bzip2.keras", "config.json with compression method 12", _patched_method(12)),
        ("zip/method-lzma.keras", "config.json with compression method 14", _patched_method(14)),
        ("zip/method-aes.keras", "config.json with compression method 99", _patched_method(99)),
        ("zip/no-members.keras", "an empty zip archive", lambda b: zip_bytes([])),
        ("zip/missing-weights.keras", "no model.weights.h5", lambda b: b.keras(weights=None)),
        ("zip/overlapping-entries.keras", "metadata.json's entry points at config.json's data",
         _member_field(0, same_data_as=1)),
        ("zip/local-name-differs.keras", "config.json's local header names ../evil.py",
         _member_field(1, local_name="../evil.py")),
        ("zip/hdf5-named-keras.keras", "a whole-model .h5 renamed .keras",
         lambda b: b.base("legacy-model")),
        ("zip/keras-named-h5.h5", "a .keras archive renamed .h5", lambda b: b.base("keras")),
        ("zip/keras-named-safetensors.safetensors", "a .keras archive renamed .safetensors",
         lambda b: b.base("keras")),
    ])
    # fmt: on


# HDF5 links, external storage, filters, dtypes ------------------------------------------
def _external_storage(path: str, target: str) -> Edit:
    def edit(f: h5py.File) -> None:
        del f[path]
        f.create_dataset(path, shape=(3, 5), dtype="<f4", external=[(target, 0, 60)])

    return edit


def _virtual(path: str) -> Edit:
    def edit(f: h5py.File) -> None:
        parent, _, name = path.rpartition("/")
        del f[path]
        # the low-level API, to switch off the timestamps h5py would record
        plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        plist.set_obj_track_times(False)
        space = h5py.h5s.create_simple((3, 5))
        plist.set_virtual(
            space, b"targets/source.h5", b"x", h5py.h5s.create_simple((3, 5))
        )
        h5py.h5d.create(
            f[parent].id, name.encode(), h5py.h5t.IEEE_F32LE, space, dcpl=plist
        )

    return edit


def _hard_link(path: str, target: str) -> Edit:
    return lambda f: f.__setitem__(path, f[target])


def _filter(path: str, **kwargs: Any) -> Edit:
    def edit(f: h5py.File) -> None:
        value = f[path][()]
        del f[path]
        f.create_dataset(path, data=value, **kwargs)

    return edit


def _unknown_filter(path: str, code: int) -> Edit:
    """The raw bytes, flagged as encoded by filter ``code`` (a plugin nobody has)."""

    def edit(f: h5py.File) -> None:
        value = np.ascontiguousarray(f[path][()])
        del f[path]
        dataset = f.create_dataset(
            path, shape=value.shape, dtype=value.dtype, chunks=value.shape,
            compression=code, allow_unknown_filter=True,
        )  # fmt: skip
        dataset.id.write_direct_chunk((0,) * value.ndim, value.tobytes(), 0)

    return edit


def _soft_group(name: str) -> Edit:
    def edit(f: h5py.File) -> None:
        f.move(name, "elsewhere")
        f[name] = h5py.SoftLink("/elsewhere")

    return edit


def _hdf5_cases() -> None:
    cat = "hdf5-links"
    valid = "targets/valid.weights.h5"
    for kind, stem, kernel, bias, suffix in [
        ("weights.h5", "", K, B, ".weights.h5"),
        ("legacy-weights", "legacy-", LK, LB, ".h5"),
    ]:
        # fmt: off
        for slug, what, edit in [
            ("soft-link-kernel", "the kernel is a soft link to the bias",
             _replace(kernel, h5py.SoftLink("/" + bias))),
            ("dangling-soft-link", "the kernel is a soft link to nothing",
             _replace(kernel, h5py.SoftLink("/nowhere"))),
            ("external-link-valid", "the kernel is an external link into a valid file",
             _replace(kernel, h5py.ExternalLink(valid, "/" + K))),
            ("external-link-passwd", "the kernel is an external link to /etc/passwd",
             _replace(kernel, h5py.ExternalLink("/etc/passwd", "/"))),
            ("external-link-unread", "an unread group is an external link",
             lambda f: f.__setitem__("evil", h5py.ExternalLink(valid, "/"))),
            ("external-storage", "the kernel's bytes live in targets/raw.bin",
             _external_storage(kernel, "targets/raw.bin")),
            ("external-storage-passwd", "the kernel's bytes live in /etc/passwd",
             _external_storage(kernel, "/etc/passwd")),
            ("virtual-dataset", "the kernel is a virtual dataset over another file",
             _virtual(kernel)),
            ("lzf-filter", "the kernel uses the lzf filter plugin",
             _filter(kernel, compression="lzf")),
            ("unknown-filter", "the kernel uses filter 32004 (an lz4 plugin)",
             _unknown_filter(kernel, 32004)),
            ("scaleoffset-filter", "the kernel uses the scale-offset filter",
             _filter(kernel, scaleoffset=3)),
        ]:
            # a filter shows when the weight is read; load_model refuses a weights
            # file (no model_config) before reading any weight
            unsafe = (LOAD_WEIGHTS,) if "filter" in slug else True
            _case(f"hdf5/{stem}{slug}{suffix}", cat, what, _h5(kind, edit), unsafe=unsafe)
        # fmt: on
    # fmt: off
    _table(cat, [
        ("hdf5/soft-link-layers-group.weights.h5", "the 'layers' group is a soft link",
         _h5("weights.h5", _soft_group("layers")), UNSAFE),
        ("hdf5/external-link-model-weights-model.h5",
         "a whole model's model_weights group is an external link",
         _h5("legacy-model", _replace("model_weights", h5py.ExternalLink("targets/valid.h5", "/"))),
         UNSAFE),
        ("hdf5/external-link-in-member.keras", "model.weights.h5 holds an external link",
         _in_member(_replace(K, h5py.ExternalLink(valid, "/" + K))), UNSAFE),
        ("hdf5/external-storage-in-member.keras", "model.weights.h5 keeps a kernel in /etc/passwd",
         _in_member(_external_storage(K, "/etc/passwd")), UNSAFE),
        ("hdf5/soft-link-optimizer.keras", "an optimizer slot is a soft link",
         _in_member(_replace(SLOT, h5py.SoftLink("/" + K))), UNSAFE),
        ("hdf5/hard-link-cycle.weights.h5", "a group holds a hard link to itself",
         _h5("weights.h5", _hard_link("layers/dense/vars/loop", "layers/dense/vars")),
         UNSAFE),
        ("hdf5/hard-link-cycle.h5", "legacy weights: a layer group holds a hard link to the root",
         _h5("legacy-weights", _hard_link("dense/loop", "/")), {**WEIGHTS_ONLY, **UNSAFE}),
    ])
    # fmt: on
    for slug, name in [
        ("absolute", b"/dense_1/dense_1/kernel:0"),
        ("climbing", b"../dense_1/dense_1/kernel:0"),
        ("deep", b"/".join([b"a"] * 20)),
    ]:
        _case(
            f"hdf5/weight-path-{slug}.h5",
            cat,
            f"legacy weight_names points at {name.decode()[:30]!r}",
            _h5(
                "legacy-weights",
                _attr("weight_names", [name, b"dense/bias:0"], "dense"),
            ),
        )


def _typed(slug: str, value: Any) -> Edit:
    def edit(f: h5py.File) -> None:
        del f[K]
        group = f["layers/dense/vars"]
        if slug == "enum":
            enum = h5py.enum_dtype({"a": 0}, basetype="i1")
            group.create_dataset("0", data=np.zeros((3, 5), "i1"), dtype=enum)
        elif slug == "reference":
            group.create_dataset("0", shape=(3, 5), dtype=h5py.ref_dtype)
        elif slug == "vlen-float":
            group.create_dataset("0", shape=(3, 5), dtype=h5py.vlen_dtype("f4"))
        else:
            group["0"] = value

    return edit


def _dtype_cases() -> None:
    cat = "dtype"
    for slug, value in [
        ("int32", np.zeros((3, 5), "i4")),
        ("bool", np.zeros((3, 5), bool)),
        ("complex", np.zeros((3, 5), "c8")),
        ("longdouble", np.zeros((3, 5), np.longdouble)),
        ("compound", np.zeros((3, 5), [("a", "f4"), ("b", "f4")])),
        ("fixed-string", np.full((3, 5), b"1.0")),
        ("empty-dataspace", h5py.Empty("f4")),
        ("enum", None),
        ("reference", None),
        ("vlen-float", None),
    ]:
        _case(
            f"dtype/{slug}.weights.h5",
            cat,
            f"the kernel is stored as {slug}",
            _h5("weights.h5", _typed(slug, value)),
        )
    for dtype in ["I32", "BF16", "F8_E4M3", "BOOL", "U8", "f32", ""]:
        _case(
            f"dtype/{dtype or 'blank'}.safetensors",
            cat,
            f"dense.W in dtype {dtype!r}",
            _safetensors_edit("dense.W", dtype=dtype),
        )
    # fmt: off
    _table(cat, [
        ("dtype/legacy-int.h5", "legacy kernel:0 stored as int64",
         _h5("legacy-weights", _replace(LK, np.zeros((3, 5), "i8")))),
        ("dtype/iterations-float.keras", "the optimizer's iteration count is a float",
         _in_member(_replace("optimizer/vars/0", 1.5)), MODEL_ONLY),
        ("dtype/iterations-negative.keras", "the optimizer's iteration count is -1",
         _in_member(_replace("optimizer/vars/0", np.int64(-1))), MODEL_ONLY),
    ])
    # fmt: on


# wrong shapes, missing and extra weights ---------------------------------------------
def _shape_cases() -> None:
    cat = "wrong-shape"
    for slug, value in [
        ("transposed", np.zeros((5, 3), "f4")),
        ("extra-axis", np.zeros((3, 5, 1), "f4")),
        ("flat", np.zeros(15, "f4")),
        ("scalar", np.float32(0)),
        ("empty", np.zeros((0, 5), "f4")),
    ]:
        _case(
            f"shape/kernel-{slug}.weights.h5",
            cat,
            f"the first kernel is {slug} {np.shape(value)}",
            _h5("weights.h5", _replace(K, value)),
        )
    for slug, shape in [
        ("negative", [None, -3]),
        ("zero", [None, 0]),
        ("bool", [None, True]),
        ("float", [None, 3.0]),
        ("string", [None, "3"]),
        ("nested", [None, [3]]),
    ]:
        _case(
            f"shape/input-{slug}.json",
            cat,
            f"input shape {shape}",
            _json_file(_input(shape)),
        )
    # fmt: off
    _table(cat, [
        ("shape/bias-too-long.weights.h5", "the first bias has 6 values",
         _h5("weights.h5", _replace(B, np.zeros(6, "f4")))),
        ("shape/legacy-kernel-transposed.h5", "legacy kernel:0 transposed",
         _h5("legacy-weights", _replace(LK, np.zeros((5, 3), "f4")))),
        ("shape/model-kernel-transposed-model.h5", "whole-model kernel transposed",
         _h5("legacy-model", _replace(MK, np.zeros((5, 3), "f4")))),
        ("shape/transposed.safetensors", "dense.W declared (5, 3), bytes consistent",
         _safetensors_edit("dense.W", shape=[5, 3])),
        ("shape/weights-for-other-units.keras", "config.json says 6 units, the weights hold 5",
         _keras_config_file(_set_dense(units=6)), MODEL_ONLY),
        ("shape/optimizer-slot-shape.keras", "an Adam slot has the wrong shape",
         _in_member(_replace(SLOT, np.zeros((5, 3), "f4"))), MODEL_ONLY),
    ])

    def delete(path: str) -> Edit:
        return lambda f: f.__delitem__(path)

    def names(*names: bytes) -> Edit:
        return _attr("layer_names", list(names))

    one_weight = _attr("weight_names", [b"dense/kernel:0"], "dense")
    _table("missing-extra", [
        ("missing/missing-bias.weights.h5", "no bias for dense_1",
         _h5("weights.h5", delete("layers/dense_1/vars/1"))),
        ("missing/missing-layer.weights.h5", "no group for dense_1",
         _h5("weights.h5", delete("layers/dense_1"))),
        ("missing/no-layers.weights.h5", "no 'layers' group", _h5("weights.h5", delete("layers"))),
        ("missing/extra-weight.weights.h5", "a third weight for dense",
         _h5("weights.h5", lambda f: f.create_dataset("layers/dense/vars/2", data=[1.0]))),
        ("missing/extra-layer.weights.h5", "weights for a layer the model lacks",
         _h5("weights.h5", lambda f: f.create_dataset("layers/conv2d/vars/0", data=[1.0]))),
        ("missing/renamed-weight.weights.h5", "dense's kernel stored as '00'",
         _h5("weights.h5", lambda f: f.move(K, "layers/dense/vars/00"))),
        ("missing/legacy-fewer-layers.h5", "layer_names lists only dense",
         _h5("legacy-weights", names(b"dense"))),
        ("missing/legacy-unknown-layer.h5", "layer_names lists a missing group",
         _h5("legacy-weights", names(b"dense", b"ghost", b"dense_1"))),
        ("missing/legacy-duplicate-layer.h5", "layer_names lists dense twice",
         _h5("legacy-weights", names(b"dense", b"dense", b"dense_1"))),
        ("missing/legacy-missing-dataset.h5", "weight_names points at a missing dataset",
         _h5("legacy-weights", delete(LB))),
        ("missing/legacy-one-weight.h5", "weight_names lists only the kernel",
         _h5("legacy-weights", one_weight)),
        ("missing/legacy-top-level-weights.h5", "model-level weights",
         _h5("legacy-weights", _top_level_weights)),
        ("missing/tensor.safetensors", "no dense_1.b", _safetensors_missing),
        ("missing/extra-tensor.safetensors", "an extra tensor", _safetensors_extra),
        ("missing/renamed-tensor.safetensors", "dense.b renamed x.b", _safetensors_renamed),
        ("missing/extra-layer-in-config.keras", "config.json has a Dense layer the weights lack",
         _keras_config_file(_extra_dense), MODEL_ONLY),
        ("missing/optimizer-variable.keras", "an optimizer variable is missing",
         _in_member(delete("optimizer/vars/5")), MODEL_ONLY),
        ("missing/model-weights-model.h5", "a whole model without model_weights",
         _h5("legacy-model", delete("model_weights"))),
    ])
    # fmt: on


def _top_level_weights(f: h5py.File) -> None:
    group = f.create_group("top_level_model_weights")
    group.attrs["weight_names"] = [b"scale:0"]
    group["scale:0"] = np.ones(1, "f4")


def _extra_dense(c: dict[str, Any], p: Payloads) -> None:
    c["config"]["layers"].append(copy.deepcopy(c["config"]["layers"][4]))
    c["config"]["layers"][-1]["config"]["name"] = "dense_2"


def _safetensors_missing(b: Builder) -> bytes:
    header, data = b.safetensors_parts()
    del header["dense_1.b"]
    return safetensors_bytes(header, data[:-8])


def _safetensors_extra(b: Builder) -> bytes:
    header, data = b.safetensors_parts()
    end = len(data)
    header["extra"] = {"dtype": "F32", "shape": [1], "data_offsets": [end, end + 4]}
    return safetensors_bytes(header, data + bytes(4))


def _safetensors_renamed(b: Builder) -> bytes:
    header, data = b.safetensors_parts()
    header["x.b"] = header.pop("dense.b")
    return safetensors_bytes(header, data)


# NaN and inf weights ---------------------------------------------------------------------
def _safetensors_nonfinite(dtype: str, value: Any) -> Build:
    """dense.b re-encoded in ``dtype`` with one non-finite value; offsets shifted."""

    def build(b: Builder) -> bytes:
        header, data = b.safetensors_parts()
        array = np.zeros(5, value.dtype)
        array[3] = value
        raw = array.astype(value.dtype.newbyteorder("<")).tobytes()
        start, end = header["dense.b"]["data_offsets"]
        header["dense.b"] = {
            "dtype": dtype,
            "shape": [5],
            "data_offsets": [start, start + len(raw)],
        }
        shift = len(raw) - (end - start)
        for name, entry in header.items():
            if name != "__metadata__" and entry["data_offsets"][0] >= end:
                entry["data_offsets"] = [o + shift for o in entry["data_offsets"]]
        return safetensors_bytes(header, data[:start] + raw + data[end:])

    return build


def _nonfinite_cases() -> None:
    nan, inf = np.nan, np.inf
    # fmt: off
    _table("nonfinite", [
        ("nonfinite/nan-kernel.weights.h5", "NaN in a kernel",
         _h5("weights.h5", _set(K, (0, 0), nan))),
        ("nonfinite/inf-bias.weights.h5", "inf in a bias", _h5("weights.h5", _set(B, 4, inf))),
        ("nonfinite/minus-inf-kernel.weights.h5", "-inf in the last kernel",
         _h5("weights.h5", _set("layers/dense_1/vars/0", (4, 1), -inf))),
        ("nonfinite/nan-float16.weights.h5", "a kernel of float16 NaNs",
         _h5("weights.h5", _replace(K, np.full((3, 5), nan, "f2")))),
        ("nonfinite/nan-float64.weights.h5", "a float64 bias with a NaN",
         _h5("weights.h5", _replace(B, np.array([0, 0, nan, 0, 0], "f8")))),
        ("nonfinite/legacy-nan.h5", "legacy kernel:0 holds NaN",
         _h5("legacy-weights", _set(LK, (1, 1), nan))),
        ("nonfinite/whole-model-inf-model.h5", "whole-model kernel holds inf",
         _h5("legacy-model", _set(MK, (2, 2), inf))),
        ("nonfinite/keras-nan-kernel.keras", "model.weights.h5 kernel holds NaN",
         _in_member(_set(K, (0, 1), nan))),
        ("nonfinite/keras-nan-slot.keras", "an Adam slot holds NaN",
         _in_member(_set(SLOT, (0, 0), nan)), MODEL_ONLY),
        ("nonfinite/keras-nan-learning-rate.keras", "the stored learning rate is NaN",
         _in_member(_replace("optimizer/vars/1", np.float32(nan))), MODEL_ONLY),
        ("nonfinite/nan-f32.safetensors", "dense.b in F32 with a NaN",
         _safetensors_nonfinite("F32", np.float32(nan))),
        ("nonfinite/inf-f64.safetensors", "dense.b in F64 with an inf",
         _safetensors_nonfinite("F64", np.float64(inf))),
        ("nonfinite/nan-f16.safetensors", "dense.b in F16 with a NaN",
         _safetensors_nonfinite("F16", np.float16(nan))),
    ])
    # fmt: on


# JSON edge cases, in every place glassnet reads JSON ------------------------------------
def _json_texts(valid: bytes) -> Iterator[tuple[str, str, bytes]]:
    """(slug, what, text) of JSON documents glassnet must refuse."""
    doc = valid.decode()

    def sub(old: str, new: str) -> bytes:
        assert old in doc, old
        return doc.replace(old, new, 1).encode()

    # fmt: off
    yield "nan-token", "a NaN token", sub('"units": 5', '"units": NaN')
    yield "infinity-token", "an Infinity token", sub('"rate": 0.2', '"rate": Infinity')
    yield "minus-infinity", "a -Infinity token", sub('"seed": 1', '"seed": -Infinity')
    yield "overflow-float", "1e999", sub('"rate": 0.2', '"rate": 1e999')
    yield "duplicate-top-key", "class_name twice", sub(
        '"class_name": "Sequential"', '"class_name": "Sequential", "class_name": "Functional"')
    yield "duplicate-nested-key", "units twice in a layer", sub(
        '"units": 5', '"units": 5, "units": 500000')
    yield "deep-arrays", "10,000 nested arrays", b"[" * 10_000 + b"]" * 10_000
    yield "deep-objects", "10,000 nested objects", b'{"a": ' * 10_000 + b"0" + b"}" * 10_000
    yield "deep-65", "65 nested arrays in a valid model", sub(
        '"seed": 1', '"seed": ' + "[" * 65 + "]" * 65)
    yield "huge-integer", "a 5000-digit integer", sub('"units": 5', '"units": ' + "9" * 5000)
    yield "long-integer", "a 61-digit integer", sub('"seed": 1', '"seed": 1' + "0" * 60)
    yield "not-utf8", "a 0xff byte in a name", valid.replace(b'"dense"', b'"d\xffense"', 1)
    yield "overlong-utf8", "an overlong UTF-8 '/'", valid.replace(b'"dense"', b'"\xc0\xaf"', 1)
    yield "utf8-surrogate", "a UTF-8 encoded surrogate", valid.replace(
        b'"dense"', b'"\xed\xa0\x80"', 1)
    yield "bom", "a UTF-8 byte order mark", b"\xef\xbb\xbf" + valid
    yield "utf16", "UTF-16 with BOM", doc.encode("utf-16")
    yield "utf32", "UTF-32", doc.encode("utf-32-le")
    yield "trailing-garbage", "a second document after the first", valid + b' {"module": "os"}'
    yield "nul-byte", "a NUL byte after the document", valid + b"\0"
    yield "empty", "empty", b""
    yield "whitespace", "only whitespace", b" \n\t "
    yield "comment", "a // comment", b"// os.system\n" + valid
    yield "single-quotes", "single-quoted keys", sub('"class_name"', "'class_name'")
    yield "trailing-comma", "a trailing comma", valid[:-1] + b",}"
    yield "control-char", "a raw control character", valid.replace(b'"dense"', b'"de\x01nse"', 1)
    yield "top-level-array", "a top-level array", b"[" + valid + b"]"
    yield "top-level-string", "a top-level string", b'"Sequential"'
    yield "top-level-number", "a top-level number", b"1e5"
    # fmt: on


#: The edge cases repeated wherever else glassnet reads JSON.
_JSON_EVERYWHERE = {
    "nan-token", "duplicate-top-key", "deep-arrays", "huge-integer", "not-utf8",
    "bom", "empty", "trailing-garbage", "overflow-float", "top-level-array",
}  # fmt: skip


def _valid_json_text() -> bytes:
    """A model_from_json document like the reference model's (cases() stays cheap)."""
    # fmt: off
    layers = [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 3], "name": "input_layer"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 5, "activation": "relu"}},
        {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.2}},
        {"class_name": "Activation", "config": {"name": "activation", "activation": "tanh"}},
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 2}},
    ]
    # fmt: on
    config = {"name": "sequential", "trainable": True, "dtype": "float32"}
    config.update(layers=layers, seed=1)
    document = {"module": "keras", "class_name": "Sequential", "config": config}
    return json.dumps(document).encode()


def _is_utf8(text: bytes) -> bool:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _json_variant(valid: bytes, slug: str) -> bytes:
    """The JSON edge case ``slug`` applied to another valid document."""
    doc = valid.decode()
    start = doc.index("{") + 1
    inject = {
        "nan-token": '"x": NaN, ',
        "duplicate-top-key": '"dup": 1, "dup": 2, ',
        "huge-integer": '"x": ' + "9" * 5000 + ", ",
        "overflow-float": '"x": -1e999, ',
        "not-utf8": '"x": "\udcff", ',
        "deep-arrays": '"x": ' + "[" * 10_000 + "]" * 10_000 + ", ",
    }
    if slug in inject:
        text = doc[:start] + inject[slug] + doc[start:]
        return text.encode("utf-8", "surrogateescape")
    return {
        "bom": b"\xef\xbb\xbf" + valid,
        "empty": b"",
        "trailing-garbage": valid + b" {}",
        "top-level-array": b"[" + valid + b"]",
    }[slug]


def _legacy_json(attribute: str, slug: str) -> Build:
    def build(b: Builder) -> bytes:
        with h5py.File(io.BytesIO(b.base("legacy-model")), "r") as f:
            valid = f.attrs[attribute].encode()
        text = _json_variant(valid, slug)
        value = text.decode() if _is_utf8(text) else np.bytes_(text)
        return b.h5("legacy-model", _attr(attribute, value))

    return build


def _member_json(member: str, slug: str) -> Build:
    def build(b: Builder) -> bytes:
        text = _json_variant(b.keras_members()[f"{member}.json"], slug)
        return b.keras(**{member: text})

    return build


def _header_json(slug: str) -> Build:
    def build(b: Builder) -> bytes:
        header, data = b.safetensors_parts()
        return safetensors_bytes(_json_variant(json.dumps(header).encode(), slug), data)

    return build


def _json_cases() -> None:
    cat = "json"
    valid = _valid_json_text()
    for slug, what, text in _json_texts(valid):
        # a str with the bytes that are not UTF-8 as lone surrogates (os.fsdecode's way)
        _case(f"json/{slug}.json", cat, what, lambda b, text=text: text)
    for slug, what, _ in _json_texts(valid):
        if slug not in _JSON_EVERYWHERE:
            continue
        # a well-formed array is JSON: only the architecture reader refuses it
        config_loaders = (LOAD_MODEL,) if slug == "top-level-array" else None
        # fmt: off
        _table(cat, [
            (f"json/config-{slug}.keras", f"config.json: {what}", _member_json("config", slug),
             {"loaders": config_loaders}),
            (f"json/metadata-{slug}.keras", f"metadata.json: {what}",
             _member_json("metadata", slug)),
            (f"json/model-config-{slug}-model.h5", f"model_config: {what}",
             _legacy_json("model_config", slug), MODEL_ONLY),
            (f"json/header-{slug}.safetensors", f"the header: {what}", _header_json(slug)),
        ])
        # fmt: on
    for slug in ("nan-token", "duplicate-top-key", "deep-arrays"):
        _case(
            f"json/training-config-{slug}-model.h5",
            cat,
            f"training_config: {slug.replace('-', ' ')}",
            _legacy_json("training_config", slug),
            loaders=(LOAD_MODEL,),
        )


# functional graphs ----------------------------------------------------------------------
def functional_document() -> dict[str, Any]:
    """A small functional model's ``to_json()``: x -> d -> shared -> shared -> add.

    The names are given, so the document never varies.
    """
    from glassnet import Input, Model

    clear_session()
    x = Input((3,), name="x")
    shared = Dense(3, name="shared")
    h = shared(Dense(3, name="d")(x))
    model = Model(x, Add(name="add")([h, shared(h)]), name="small")
    document: dict[str, Any] = json.loads(model.to_json())
    return document


def _entry(document: dict[str, Any], name: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(
        e for e in document["config"]["layers"] if e["name"] == name
    )
    return entry


def _argument(document: dict[str, Any], name: str, node: int = 0) -> Any:
    """The (first) tensor a layer's call takes."""
    args = _entry(document, name)["inbound_nodes"][node]["args"][0]
    return args[0] if isinstance(args, list) else args


def _history(name: str, value: list[Any], node: int = 0) -> ConfigEdit:
    def edit(c: dict[str, Any], p: Payloads) -> None:
        _argument(c, name, node)["config"]["keras_history"] = value

    return edit


def _argument_is(value: Callable[[Payloads], Any]) -> ConfigEdit:
    def edit(c: dict[str, Any], p: Payloads) -> None:
        _entry(c, "d")["inbound_nodes"][0]["args"][0] = value(p)

    return edit


def _name_twice(c: dict[str, Any], p: Payloads) -> None:
    entry = _entry(c, "d")
    entry["name"] = entry["config"]["name"] = "shared"


def _many_calls(c: dict[str, Any], p: Payloads) -> None:
    nodes = _entry(c, "shared")["inbound_nodes"]
    nodes += [copy.deepcopy(nodes[1]) for _ in range(20_001)]


#: (slug, what, edit, unsafe): functional configs, as model_from_json text and as the
#: config.json of a .keras archive.
# fmt: off
FUNCTIONAL_EDITS: list[tuple[str, str, ConfigEdit, bool]] = [
    ("unknown-layer", "a call takes a tensor of a layer the config lacks",
     _history("d", ["ghost", 0, 0]), False),
    ("future-node", "a shared layer's first call takes its second call's output",
     _history("shared", ["shared", 1, 0]), False),
    ("cycle", "d takes shared's output and shared takes d's", _history("d", ["shared", 1, 0]),
     False),
    ("self-loop", "a layer's call takes its own output", _history("d", ["d", 0, 0]), False),
    ("huge-node-index", "a tensor names node 2**62 of the input",
     _history("d", ["x", 2**62, 0]), False),
    ("long-node-index", "a tensor names node 10**50 of the input",
     _history("d", ["x", 10**50, 0]), False),
    ("name-twice", "two layers are named 'shared'", _name_twice, False),
    ("many-calls", "one layer called 20,003 times", _many_calls, False),
    ("huge-units", "a functional Dense declares 2**31 units",
     lambda c, p: _entry(c, "d")["config"].update(units=2**31), False),
    ("tensor-builtins-eval", "a call's argument is the Keras form of builtins.eval",
     _argument_is(lambda p: {"module": "builtins", "class_name": "function",
                             "config": "eval", "registered_name": "function"}), True),
    ("tensor-lambda", "a call's argument is a serialized lambda (marshal bytecode)",
     _argument_is(_lambda_code), True),
    ("tensor-canary", "a call's argument claims the canary module",
     _argument_is(lambda p: {"module": CANARY_MODULE, "class_name": "Canary",
                             "config": {}}), True),
]
# fmt: on


def _functional_json(edit: ConfigEdit) -> Build:
    def build(b: Builder) -> bytes:
        document = functional_document()
        edit(document, b.payloads)
        return json.dumps(document).encode()

    return build


def _functional_keras(edit: ConfigEdit) -> Build:
    def build(b: Builder) -> bytes:
        return b.keras(config=_functional_json(edit)(b))

    return build


def _functional_cases() -> None:
    cat = "functional-graph"
    for slug, what, edit, unsafe in FUNCTIONAL_EDITS:
        _case(
            f"functional/{slug}.json", cat, what, _functional_json(edit), unsafe=unsafe
        )
        loaders = (LOAD_MODEL, LOAD_WEIGHTS) if unsafe else (LOAD_MODEL,)
        _case(
            f"functional/{slug}.keras",
            cat,
            what,
            _functional_keras(edit),
            loaders=loaders,
            unsafe=unsafe,
        )


# convolutions -----------------------------------------------------------------------------
def _cnn_layer(c: dict[str, Any], name: str) -> dict[str, Any]:
    """The config of the layer called ``name`` in a (functional) model document."""
    config: dict[str, Any] = next(
        e["config"] for e in c["config"]["layers"] if e["config"].get("name") == name
    )
    return config


def _cnn_set(name: str, **changes: Any) -> ConfigEdit:
    return lambda c, p: _cnn_layer(c, name).update(changes)


def _on_cnn(build: Build) -> Build:
    """A case built from the CNN reference model's files instead of the Dense one's."""
    return lambda b: build(b.cnn)


#: The first convolution's kernel in the CNN's Keras 3 weights and legacy model files.
CNN_K = "layers/conv2d/vars/0"
CNN_MK = "model_weights/conv2d/conv2d/kernel:0"

_SIZE = r"must be an integer or a tuple of \d integers, each > 0"
_WINDOW = r"at most 16384 \(glassnet.io.limits.MAX_WINDOW\)"

#: (slug, what, edit, expected message): the CNN's architecture damaged one way,
#: written as model_from_json text, a .keras config.json and an .h5 model_config.
# fmt: off
CONVOLUTION_EDITS: list[tuple[str, str, ConfigEdit, str]] = [
    # zero, negative and malformed sizes: the layers' own checks, named
    ("filters-zero", "Conv2D with filters=0", _cnn_set("conv2d", filters=0),
     r"'conv2d'.*`filters`.*Received: filters=0"),
    ("filters-negative", "Conv2D with filters=-4", _cnn_set("conv2d", filters=-4),
     r"'conv2d'.*`filters`.*Received: filters=-4"),
    ("kernel-zero", "Conv2D with kernel_size (0, 3)", _cnn_set("conv2d", kernel_size=[0, 3]),
     rf"'conv2d'.*`kernel_size` {_SIZE}. Received: kernel_size=\[0, 3\]"),
    ("kernel-negative", "Conv2D with kernel_size (-3, 3)",
     _cnn_set("conv2d", kernel_size=[-3, 3]), r"'conv2d'.*Received: kernel_size=\[-3, 3\]"),
    ("strides-zero", "Conv2D with strides (0, 1)", _cnn_set("conv2d", strides=[0, 1]),
     rf"'conv2d'.*`strides` {_SIZE}. Received: strides=\[0, 1\]"),
    ("strides-negative", "Conv2D with strides (1, -1)", _cnn_set("conv2d", strides=[1, -1]),
     r"'conv2d'.*Received: strides=\[1, -1\]"),
    ("dilation-zero", "Conv2D with dilation_rate (0, 1)",
     _cnn_set("conv2d", dilation_rate=[0, 1]), r"'conv2d'.*Received: dilation_rate=\[0, 1\]"),
    ("conv1d-kernel-zero", "Conv1D with kernel_size (0,)", _cnn_set("conv1d", kernel_size=[0]),
     r"'conv1d'.*Received: kernel_size=\[0\]"),
    ("conv1d-strides-negative", "Conv1D with strides (-1,)", _cnn_set("conv1d", strides=[-1]),
     r"'conv1d'.*Received: strides=\[-1\]"),
    ("pool-size-zero", "MaxPooling2D with pool_size (0, 2)",
     _cnn_set("max_pooling2d", pool_size=[0, 2]),
     r"'max_pooling2d'.*Received: pool_size=\[0, 2\]"),
    ("pool-strides-negative", "MaxPooling2D with strides (-2, 2)",
     _cnn_set("max_pooling2d", strides=[-2, 2]),
     r"'max_pooling2d'.*Received: strides=\[-2, 2\]"),
    ("pool1d-size-zero", "AveragePooling1D with pool_size (0,)",
     _cnn_set("average_pooling1d", pool_size=[0]),
     r"'average_pooling1d'.*Received: pool_size=\[0\]"),
    ("padding-negative", "ZeroPadding2D with padding ((1, -1), (0, 0))",
     _cnn_set("zero_padding2d", padding=[[1, -1], [0, 0]]),
     r"'zero_padding2d'.*`padding`.*>= 0. Received: padding="),
    ("kernel-float", "Conv2D with kernel_size 3.5", _cnn_set("conv2d", kernel_size=3.5),
     r"'conv2d'.*Received: kernel_size=3.5"),
    ("kernel-string", "Conv2D with kernel_size '3'", _cnn_set("conv2d", kernel_size="3"),
     r"'conv2d'.*Received: kernel_size='3'"),
    ("kernel-three-axes", "Conv2D with a 3-D kernel_size",
     _cnn_set("conv2d", kernel_size=[3, 3, 3]), r"'conv2d'.*Received: kernel_size=\[3, 3, 3\]"),
    ("kernel-booleans", "Conv2D with kernel_size (true, true)",
     _cnn_set("conv2d", kernel_size=[True, True]),
     r"'conv2d'.*Received: kernel_size=\[True, True\]"),
    ("padding-full", "Conv2D with padding 'full'", _cnn_set("conv2d", padding="full"),
     r"'conv2d'.*`padding`.*Received: padding='full'"),
    ("conv2d-causal", "Conv2D with padding 'causal' (Conv1D only)",
     _cnn_set("conv2d", padding="causal"), r"'conv2d'.*`padding`.*Received: padding='causal'"),
    ("strides-and-dilation", "Conv1D with strides 2 and dilation_rate 2",
     _cnn_set("conv1d", strides=[2]), r"'conv1d'.*`strides > 1`.*`dilation_rate > 1`"),
    ("spatial-dropout-rate-1", "SpatialDropout2D with rate 1",
     _cnn_set("spatial_dropout2d", rate=1.0), r"'spatial_dropout2d'.*`rate`"),
    ("keepdims-string", "GlobalMaxPooling2D with keepdims 'yes'",
     _cnn_set("global_max_pooling2d", keepdims="yes"), r"'global_max_pooling2d'.*keepdims"),
    # what Keras has and glassnet refuses, by name
    ("groups-2", "Conv2D with groups=2", _cnn_set("conv2d", groups=2),
     r"'conv2d'.*`groups`: grouped convolutions.*not supported yet"),
    ("conv-channels-first", "Conv2D with data_format='channels_first'",
     _cnn_set("conv2d", data_format="channels_first"),
     r"'conv2d'.*data_format='channels_first' is not supported yet"),
    ("pool-channels-first", "AveragePooling1D with data_format='channels_first'",
     _cnn_set("average_pooling1d", data_format="channels_first"),
     r"'average_pooling1d'.*data_format='channels_first' is not supported yet"),
    # windows and sizes past the caps: refused before any layer is built
    ("kernel-over-cap", "Conv2D with kernel_size (16385, 1)",
     _cnn_set("conv2d", kernel_size=[2**14 + 1, 1]),
     rf"'conv2d'.*`kernel_size=\[16385, 1\]` is longer.*{_WINDOW}"),
    ("kernel-10e30", "Conv2D with kernel_size (10**30, 10**30)",
     _cnn_set("conv2d", kernel_size=[10**30, 10**30]), rf"'conv2d'.*`kernel_size=.*{_WINDOW}"),
    ("conv1d-kernel-2e20", "Conv1D with a 2**20 kernel (6 million parameters: under "
     "MAX_PARAMETERS)", _cnn_set("conv1d", kernel_size=[2**20]),
     rf"'conv1d'.*`kernel_size=\[1048576\]`.*{_WINDOW}"),
    ("conv1d-dilated-span", "Conv1D of kernel 3 with dilation_rate 10**6",
     _cnn_set("conv1d", dilation_rate=[10**6]), rf"'conv1d'.*`dilation_rate=.*{_WINDOW}"),
    ("conv1d-span-over-cap", "Conv1D of kernel 3, dilation_rate 10,000: spans 20,001",
     _cnn_set("conv1d", dilation_rate=[10_000]),
     r"'conv1d'.*spans 20001 positions.*MAX_WINDOW"),
    ("strides-10e9", "Conv2D with strides (10**9, 10**9)",
     _cnn_set("conv2d", strides=[10**9, 10**9]), rf"'conv2d'.*`strides=.*{_WINDOW}"),
    ("pool-size-10e9", "a 'same' MaxPooling2D of pool_size (10**9, 10**9): no weights",
     _cnn_set("max_pooling2d", pool_size=[10**9, 10**9], padding="same"),
     rf"'max_pooling2d'.*`pool_size=.*{_WINDOW}"),
    ("pool1d-size-2e31", "AveragePooling1D with pool_size 2**31",
     _cnn_set("average_pooling1d", pool_size=[2**31]),
     rf"'average_pooling1d'.*`pool_size=.*{_WINDOW}"),
    ("padding-10e9", "ZeroPadding2D of 10**9 rows (a 10**9 x 10**9 image from 8 x 8)",
     _cnn_set("zero_padding2d", padding=[[0, 10**9], [0, 10**9]]),
     rf"'zero_padding2d'.*`padding=.*{_WINDOW}"),
    ("padding1d-10e9", "ZeroPadding1D of 10**9 steps",
     _cnn_set("zero_padding1d", padding=[10**9, 0]), rf"'zero_padding1d'.*`padding=.*{_WINDOW}"),
    ("filters-2e31", "Conv2D with 2**31 filters", _cnn_set("conv2d", filters=2**31),
     r"declares at least \d+ parameters; the limit is 268435456"),
    ("kernel-larger-than-input", "a 'valid' 9 x 9 kernel on 8 x 8 images",
     _cnn_set("conv2d", kernel_size=[9, 9], padding="valid"),
     r"'conv2d'.*cannot take inputs shaped \(8, 8, 1\)"),
]

#: (slug, what, edit, expected message): a whole-model file whose convolution
#: weights disagree with its own config (.keras and .h5: configs with weights).
CONVOLUTION_MISMATCHES: list[tuple[str, str, ConfigEdit, str]] = [
    ("kernel-size-disagrees", "config kernel_size (5, 5); the weights are 3 x 3",
     _cnn_set("conv2d", kernel_size=[5, 5]), r"shape \(3, 3, 1, 4\).*has \(5, 5, 1, 4\)"),
    ("filters-disagree", "config filters 6; the kernel has 4",
     _cnn_set("conv2d", filters=6), r"shape \(3, 3, 1, 4\).*has \(3, 3, 1, 6\)"),
    ("conv1d-kernel-disagrees", "config Conv1D kernel_size 5; the weights have 3",
     _cnn_set("conv1d", kernel_size=[5]), r"shape \(3, 2, 3\).*has \(5, 2, 3\)"),
]
# fmt: on


def _transposed_kernel(path: str) -> Edit:
    """The conv kernel replaced by PyTorch's (filters, channels, kh, kw) layout."""

    def edit(f: h5py.File) -> None:
        kernel = f[path][()]
        del f[path]
        f.create_dataset(path, data=kernel.transpose(3, 2, 0, 1))

    return edit


def _convolution_cases() -> None:
    cat = "convolutions"
    for slug, what, edit, expect in CONVOLUTION_EDITS:
        _case(f"cnn/{slug}.json", cat, what, _on_cnn(_json_file(edit)), expect=expect)
        for name, build in [
            (f"cnn/{slug}.keras", _keras_config_file(edit)),
            (f"cnn/{slug}-model.h5", _legacy_config_file(edit)),
        ]:
            _case(name, cat, what, _on_cnn(build), loaders=(LOAD_MODEL,), expect=expect)
    for slug, what, edit, expect in CONVOLUTION_MISMATCHES:
        for name, build in [
            (f"cnn/{slug}.keras", _keras_config_file(edit)),
            (f"cnn/{slug}-model.h5", _legacy_config_file(edit)),
        ]:
            _case(name, cat, what, _on_cnn(build), loaders=(LOAD_MODEL,), expect=expect)
    transposed = r"shape \(4, 1, 3, 3\).*has \(3, 3, 1, 4\)"
    declared = r"shape \(1048576, 1048576, 1, 4\).*has \(3, 3, 1, 4\)"
    huge = {"shape": (2**20, 2**20, 1, 4), "chunks": (1, 1, 1, 4), "dtype": "f4"}
    # fmt: off
    for name, what, build, expect in [
        ("cnn/kernel-transposed.keras", "the conv kernel stored (filters, channels, kh, kw)",
         lambda b: b.keras(weights=b.h5("keras-member", _transposed_kernel(CNN_K))),
         transposed),
        ("cnn/kernel-transposed-model.h5", "the conv kernel stored (filters, channels, kh, kw)",
         lambda b: b.h5("legacy-model", _transposed_kernel(CNN_MK)), transposed),
        ("cnn/kernel-declared-huge.keras", "the conv kernel declared 2**40 x 4, nothing stored",
         lambda b: b.keras(weights=b.h5("keras-member", _dataset(CNN_K, **huge))), declared),
        ("cnn/kernel-declared-huge-model.h5",
         "the conv kernel declared 2**40 x 4, nothing stored",
         lambda b: b.h5("legacy-model", _dataset(CNN_MK, **huge)), declared),
    ]:
        _case(name, cat, what, _on_cnn(build), loaders=(LOAD_MODEL,), expect=expect)
    # fmt: on


# recurrent layers ---------------------------------------------------------------------------
def _recurrent_cases() -> None:
    """The recurrent and embedding cases, declared in ``recurrent_corpus.py`` beside
    this file (loaded by path, as the tests load this one)."""
    import importlib.util

    path = Path(__file__).with_name("recurrent_corpus.py")
    spec = importlib.util.spec_from_file_location(f"{__name__}_recurrent", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.declare(sys.modules[__name__])


# the second wave (issue 15) ----------------------------------------------------------------
def _second_wave_cases() -> None:
    """The six classes of the second wave of hostile files, declared in
    ``second_wave.py`` beside this file (loaded by path, as recurrent_corpus.py)."""
    import importlib.util

    path = Path(__file__).with_name("second_wave.py")
    spec = importlib.util.spec_from_file_location(f"{__name__}_second_wave", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.declare(sys.modules[__name__])


# -- the public interface ---------------------------------------------------------------
def cases() -> list[Case]:
    """Every corpus case, in a fixed order (nothing is built)."""
    if not _CASES:
        _pickle_cases()
        _config_cases()
        _corruption_cases()
        _size_cases()
        _zip_cases()
        _hdf5_cases()
        _dtype_cases()
        _shape_cases()
        _nonfinite_cases()
        _json_cases()
        _functional_cases()
        _convolution_cases()
        _recurrent_cases()
        _second_wave_cases()
        names = [case.name for case in _CASES]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise RuntimeError(f"duplicate corpus names: {duplicates}")
    return list(_CASES)


def _write_targets(b: Builder) -> None:
    """What links in the corpus point at (valid files: following them would work)."""
    targets = b.folder / "targets"
    targets.mkdir(parents=True, exist_ok=True)
    (targets / "valid.weights.h5").write_bytes(b.base("weights.h5"))
    (targets / "valid.h5").write_bytes(b.base("legacy-weights"))
    (targets / "raw.bin").write_bytes(np.ones(15, "<f4").tobytes())
    source = new_h5(lambda f: f.create_dataset("x", data=np.ones((3, 5), "f4")))
    (targets / "source.h5").write_bytes(source)
    canary = b.folder / "canary"
    canary.mkdir(exist_ok=True)
    (canary / f"{CANARY_MODULE}.py").write_text(_canary_source())


def build(folder: Path | str, only: Callable[[Case], bool] | None = None) -> list[Case]:
    """Write the corpus (or the cases ``only`` selects) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    builder = Builder(folder)
    _write_targets(builder)
    built = []
    for case in cases():
        if only is not None and not only(case):
            continue
        path = folder / case.name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = case.build(builder)
        if data is not None:
            path.write_bytes(data)
        built.append(case)
    return built


def manifest(built: list[Case]) -> list[dict[str, Any]]:
    """What MANIFEST.json lists for each file."""
    return [
        {
            "name": c.name,
            "category": c.category,
            "what": c.what,
            "loaders": list(c.loaders),
            "unsafe": list(c.unsafe),
            "known_weaknesses": dict(c.known),
            "expect": c.expect,
            "model": c.model,
        }
        for c in built
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tests/corpus/make_corpus.py OUTDIR", file=sys.stderr)
        return 2
    folder = Path(argv[1])
    built = build(folder)
    (folder / "MANIFEST.json").write_text(json.dumps(manifest(built), indent=1) + "\n")
    counts: dict[str, int] = {}
    for case in built:
        counts[case.category] = counts.get(case.category, 0) + 1
    print(f"{len(built)} files in {folder}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
