"""The corpus' second wave: the six classes of issue 15, each with its own cases.

``make_corpus.py`` loads this file and calls :func:`declare` with itself, so these
cases use its helpers and reference models. A second wave of hostile files,
written after reading the loaders and the first corpus, found files that escaped
glassnet's error types, allocated far more than the file held, took seconds to
an hour, or loaded and then broke the model. One folder per class:

- ``wave2/errors/``: errors from the libraries underneath (a corrupt deflate
  stream, a directory claiming deflate for stored bytes, an HDF5 filter with 257
  client values, an initializer whose range overflows);
- ``wave2/shapes/``: a layer's own ``input_dim``/``input_shape`` disagreeing with
  the model's input or its call, or declared where it is not read;
- ``wave2/sizes/``: a zip directory declaring sizes its bytes do not back, and
  zip64 end records declaring a million entries or a huge directory;
- ``wave2/work/``: files that cost quadratic or unbounded work (a kernel in
  tens of thousands of chunks, hundreds of hard links to one dataset of a large
  compound type, many datasets of such a type, thousands of layers);
- ``wave2/broken/``: configs that would load and then break (a Softmax axis the
  inputs lack, initializers that draw inf, names no file can hold);
- ``wave2/ambiguous/``: degenerate random states and LeakyReLU slopes Keras refuses.

Every case names the message it ends in (``expect``).
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from types import ModuleType
from typing import Any

import h5py
import numpy as np

Config = dict[str, Any]

#: The corpus builder module (make_corpus.py), set by :func:`declare`.
M: Any = None


def declare(m: ModuleType) -> None:
    """Declare every case with the corpus builder module ``m``."""
    global M
    M = m
    _errors(m)
    _shapes(m)
    _sizes(m)
    _work(m)
    _broken(m)
    _ambiguous(m)


# -- 1. errors escaping the typed errors -------------------------------------------------
def _corrupt_deflate(name: str) -> Any:
    """The archive with member ``name`` deflated, then bytes in its stream damaged."""

    def build(b: Any) -> bytes:
        members = [M.Member(n, d) for n, d in b.keras_members().items()]
        index = [x.name for x in members].index(name)
        data = members[index].data
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        stream = bytearray(compressor.compress(data) + compressor.flush())
        for offset in (len(stream) // 3, len(stream) // 2, 2 * len(stream) // 3):
            stream[offset] ^= 0x5A  # a few corrupted bytes, as a bad disk gives
        members[index] = M.Member(
            name, data, compressed=bytes(stream), size=len(data), crc=zlib.crc32(data)
        )
        return M.zip_bytes(members)

    return build


def _claims_deflate(index: int) -> Any:
    """Member ``index`` stored, its method fields (local and central) set to deflate."""

    def build(b: Any) -> bytes:
        data = bytearray(b.base("keras"))
        for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            position = M._at(signature, occurrence=index)(bytes(data))
            data[position + offset : position + offset + 2] = struct.pack("<H", 8)
        return bytes(data)

    return build


def _many_client_values(path: str) -> Any:
    """The dataset at ``path`` made again with a filter carrying 257 client values."""

    def edit(f: h5py.File) -> None:
        shape, dtype = f[path].shape, f[path].dtype
        del f[path]
        plist = _untimed()
        plist.set_chunk(tuple(max(1, n) for n in shape))
        plist.set_filter(32004, h5py.h5z.FLAG_OPTIONAL, tuple(range(257)))
        parent, _, name = path.rpartition("/")
        h5py.h5d.create(
            f[parent or "/"].id,
            name.encode(),
            h5py.h5t.py_create(dtype),
            h5py.h5s.create_simple(shape),
            dcpl=plist,
        )

    return edit


def _untimed() -> Any:
    """Dataset creation properties without timestamps, so the bytes never vary."""
    plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    plist.set_obj_track_times(False)
    return plist


def _overflowing_initializer(key: str, config: Config) -> Any:
    return lambda c, p: c["config"]["layers"][1]["config"].__setitem__(key, config)


_UNREADABLE = r"could not be read|not valid deflate|cannot be read|Error"


def _errors(m: ModuleType) -> None:
    cat = "wave2-errors"
    rows = [
        (
            "wave2/errors/config-deflate-corrupt.keras",
            "config.json deflated, three bytes of its stream flipped",
            _corrupt_deflate("config.json"),
        ),
        (
            "wave2/errors/metadata-deflate-corrupt.keras",
            "metadata.json deflated, three bytes of its stream flipped",
            _corrupt_deflate("metadata.json"),
        ),
        (
            "wave2/errors/weights-deflate-corrupt.keras",
            "model.weights.h5 deflated, three bytes of its stream flipped",
            _corrupt_deflate("model.weights.h5"),
        ),
        (
            "wave2/errors/config-claims-deflate.keras",
            "config.json stored, its directory and header claim deflate",
            _claims_deflate(1),
        ),
        (
            "wave2/errors/metadata-claims-deflate.keras",
            "metadata.json stored, its directory and header claim deflate",
            _claims_deflate(0),
        ),
        (
            "wave2/errors/weights-claims-deflate.keras",
            "model.weights.h5 stored, its directory and header claim deflate",
            _claims_deflate(2),
        ),
    ]
    member = r"the member '[a-z.0-9]+' (could not be read|holds \d+ bytes|inflates)"
    for name, what, build in rows:
        m._case(name, cat, what, build, expect=member)
    for name, what, build, loaders in [
        (
            "wave2/errors/filter-257-values.weights.h5",
            "the kernel's filter carries 257 client values (h5py asserts)",
            m._h5("weights.h5", _many_client_values(m.K)),
            (m.LOAD_WEIGHTS,),
        ),
        (
            "wave2/errors/filter-257-values.h5",
            "legacy weights: kernel:0's filter carries 257 client values",
            m._h5("legacy-weights", _many_client_values(m.LK)),
            (m.LOAD_WEIGHTS,),
        ),
        (
            "wave2/errors/filter-257-values-model.h5",
            "a whole model's kernel:0 filter carries 257 client values",
            m._h5("legacy-model", _many_client_values(m.MK)),
            None,
        ),
        (
            "wave2/errors/filter-257-values.keras",
            "model.weights.h5's kernel filter carries 257 client values",
            m._in_member(_many_client_values(m.K)),
            None,
        ),
        (
            "wave2/errors/filter-257-values-slot.keras",
            "an Adam slot's filter carries 257 client values",
            m._in_member(_many_client_values(m.SLOT)),
            (m.LOAD_MODEL,),
        ),
    ]:
        m._case(
            name,
            cat,
            what,
            build,
            loaders=loaders,
            expect="filter pipeline cannot be read",
        )
    for slug, what, key, config in [
        (
            "uniform-1e308",
            "RandomUniform(-1e308, 1e308): its range overflows",
            "kernel_initializer",
            {
                "class_name": "RandomUniform",
                "config": {"minval": -1e308, "maxval": 1e308},
            },
        ),
        (
            "uniform-bias-max",
            "a bias RandomUniform(-1.7e308, 1.7e308)",
            "bias_initializer",
            {
                "class_name": "RandomUniform",
                "config": {"minval": -1.7e308, "maxval": 1.7e308},
            },
        ),
    ]:
        # model_from_json only: where the file's weights replace the initial
        # values, an initializer glassnet cannot build is replaced (with a warning)
        m._case(
            f"wave2/errors/initializer-{slug}.json",
            cat,
            what,
            m._json_file(_overflowing_initializer(key, config)),
            expect="cannot draw values|must be a finite number",
        )


# -- 2. the size check counts the wrong shape --------------------------------------------
def _first_dense(**changes: Any) -> Any:
    return lambda c, p: c["config"]["layers"][1]["config"].update(changes)


def _later_dense(**changes: Any) -> Any:
    return lambda c, p: c["config"]["layers"][4]["config"].update(changes)


def _shapes(m: ModuleType) -> None:
    cat = "wave2-shapes"
    disagree = "declares the input shape .* but the model's input is"
    only_first = "only the first layer"
    for slug, what, edit, expect in [
        (
            "input-dim-2-48",
            "the first Dense's own input_dim 2**48 (InputLayer says 3)",
            _first_dense(input_dim=2**48),
            disagree,
        ),
        (
            "input-dim-2-22",
            "the first Dense's own input_dim 2**22: 384 MiB before",
            _first_dense(input_dim=2**22),
            disagree,
        ),
        (
            "input-shape-2-22",
            "the first Dense's own input_shape [2**22]",
            _first_dense(input_shape=[2**22]),
            disagree,
        ),
        (
            "input-shape-rank",
            "the first Dense's own input_shape [3, 2**20]",
            _first_dense(input_shape=[3, 2**20]),
            disagree,
        ),
        (
            "input-dim-later",
            "the last Dense declares input_dim 2**22",
            _later_dense(input_dim=2**22),
            only_first,
        ),
    ]:
        m._architecture("wave2/shapes", cat, slug, what, edit, expect=expect)
    for slug, what, edit, expect in [
        (
            "functional-input-dim",
            "a called Dense's own input_dim 2**22 (its call gives 3)",
            _functional_dense(input_dim=2**22),
            "declares the input shape .* the call gives",
        ),
        (
            "functional-input-shape",
            "a called Dense's own input_shape [2**22]",
            _functional_dense(input_shape=[2**22]),
            "declares the input shape .* the call gives",
        ),
    ]:
        m._case(
            f"wave2/shapes/{slug}.json",
            cat,
            what,
            m._functional_json(edit),
            expect=expect,
        )
        m._case(
            f"wave2/shapes/{slug}.keras",
            cat,
            what,
            m._functional_keras(edit),
            loaders=(m.LOAD_MODEL,),
            expect=expect,
        )


def _functional_dense(**changes: Any) -> Any:
    def edit(c: Config, p: Any) -> None:
        for entry in c["config"]["layers"]:
            if entry["class_name"] == "Dense":
                entry["config"].update(changes)
                return

    return edit


# -- 3. declared sizes trusted -----------------------------------------------------------
def _big_config(b: Any) -> bytes:
    """config.json for Dense(2**21) behind the 3 inputs: 12.6 M parameters."""
    config = b.config()
    layers = config["config"]["layers"]
    layers[1]["config"]["units"] = 2**21
    layers[1].pop("build_config", None)
    layers[4].pop("build_config", None)
    return json.dumps(config).encode()


def _weights_declared(size: int, compressed: int | None, deflate: bool = False) -> Any:
    """A 3 KB archive of that config whose 100-byte weights member declares ``size``."""

    def build(b: Any) -> bytes:
        members = [M.Member(n, d) for n, d in b.keras_members().items()]
        members[1] = M.Member("config.json", _big_config(b))
        data = b.keras_members()["model.weights.h5"][:100]
        if deflate:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            stream = compressor.compress(data) + compressor.flush()
            members[2] = M.Member(
                "model.weights.h5", data, compressed=stream, size=size
            )
        else:
            members[2] = M.Member("model.weights.h5", data, size=size)
        archive = bytearray(M.zip_bytes(members))
        if compressed is not None:  # the central directory's compressed size too
            position = M._at(b"PK\x01\x02", occurrence=2)(bytes(archive))
            archive[position + 20 : position + 24] = struct.pack("<I", compressed)
        return bytes(archive)

    return build


def _end_record(entries: int, directory: int, zip64: bool) -> Any:
    """The valid archive with its end record (or a zip64 one) declaring more."""

    def build(b: Any) -> bytes:
        data = b.base("keras")
        end = data.rfind(b"PK\x05\x06")
        body, record = data[:end], bytearray(data[end:])
        start = struct.unpack_from("<I", record, 16)[0]
        if not zip64:
            struct.pack_into(
                "<HHI",
                record,
                8,
                min(entries, 0xFFFF),
                min(entries, 0xFFFF),
                min(directory, 0xFFFFFFFF),
            )
            return body + bytes(record)
        struct.pack_into("<HHII", record, 8, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        record64 = struct.pack(
            "<4sQHHIIQQQQ",
            b"PK\x06\x06",
            44,
            45,
            45,
            0,
            0,
            entries,
            entries,
            directory,
            start,
        )
        locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, len(body), 1)
        return body + record64 + locator + bytes(record)

    return build


def _many_entries(count: int) -> Any:
    """A real zip64 directory of ``count`` tiny entries (after the three members)."""

    def build(b: Any) -> bytes:
        data = b.base("keras")
        end = data.rfind(b"PK\x05\x06")
        size, start = struct.unpack_from("<II", data, end + 12)
        body, central = data[:start], data[start : start + size]
        extra = bytearray()
        for index in range(count):
            name = b"f%07d" % index
            extra += (
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    20,
                    20,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    len(name),
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                )
                + name
            )
        directory = central + bytes(extra)
        total = count + 3
        record64 = struct.pack(
            "<4sQHHIIQQQQ",
            b"PK\x06\x06",
            44,
            45,
            45,
            0,
            0,
            total,
            total,
            len(directory),
            start,
        )
        locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, start + len(directory), 1)
        record = struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
        )
        return body + directory + record64 + locator + record

    return build


def _sizes(m: ModuleType) -> None:
    cat = "wave2-sizes"
    past_end = "past the end of the archive"
    for name, what, build, expect in [
        (
            "wave2/sizes/weights-40mib-stored.keras",
            "3 KB: the directory declares 40 MiB stored for 100 bytes, for a 12.6 M "
            "parameter config",
            _weights_declared(40 * m._MiB, 40 * m._MiB),
            past_end,
        ),
        (
            "wave2/sizes/weights-40mib-sizes-differ.keras",
            "a stored weights member declaring 40 MiB for its 100 stored bytes",
            _weights_declared(40 * m._MiB, None),
            "stored uncompressed but declares|would inflate",
        ),
        (
            "wave2/sizes/weights-40mib-deflated.keras",
            "a deflated weights member declaring 40 MiB from a stream of 100 bytes",
            _weights_declared(40 * m._MiB, None, deflate=True),
            "more than deflate can give|would inflate",
        ),
        (
            "wave2/sizes/weights-900kib-deflated.keras",
            "deflated weights declaring 900 KiB (under the ratio floor) from 100 bytes",
            _weights_declared(900 * 2**10, None, deflate=True),
            "more than deflate can give",
        ),
        (
            "wave2/sizes/config-compressed-past-end.keras",
            "config.json's entries declare 10 MiB of stored bytes; the file has 3 KB",
            _compressed_past_end,
            past_end,
        ),
        (
            "wave2/sizes/zip64-million-entries.keras",
            "a zip64 end record declaring a million entries",
            _end_record(10**6, 46 * 10**6, zip64=True),
            "declares 1000000 members",
        ),
        (
            "wave2/sizes/zip64-huge-directory.keras",
            "a zip64 end record declaring a 4 GiB directory of 3 entries",
            _end_record(3, 2**32, zip64=True),
            "directory declares 4294967296 bytes",
        ),
        (
            "wave2/sizes/end-record-65535-entries.keras",
            "the end record declares 65,535 entries",
            _end_record(0xFFFF, 200, zip64=False),
            "declares 65535 members",
        ),
        (
            "wave2/sizes/end-record-huge-directory.keras",
            "the end record declares a 3 GiB directory",
            _end_record(3, 3 * 2**30, zip64=False),
            r"directory declares \d+ bytes",
        ),
        (
            "wave2/sizes/zip64-20000-real-entries.keras",
            "a real zip64 directory of 20,003 entries (1 MiB)",
            _many_entries(20_000),
            "declares 20003 members",
        ),
    ]:
        m._case(name, cat, what, build, expect=expect)


def _compressed_past_end(b: Any) -> bytes:
    archive = bytearray(b.base("keras"))
    position = M._at(b"PK\x01\x02", occurrence=1)(bytes(archive))
    struct.pack_into("<II", archive, position + 20, 10 * 2**20, 10 * 2**20)
    local = M._at(b"PK\x03\x04", occurrence=1)(bytes(archive))
    struct.pack_into("<II", archive, local + 18, 10 * 2**20, 10 * 2**20)
    return bytes(archive)


# -- 4. quadratic (or unbounded) work ----------------------------------------------------
def _wide_model_file(units: int, chunks: tuple[int, int], deflate: bool) -> Any:
    """A one-layer Dense(units) model, its kernel (1, units) stored in ``chunks``."""

    def build(b: Any) -> bytes:
        from glassnet.io import legacy_h5
        from glassnet.layers import Dense
        from glassnet.models import Sequential
        from glassnet.utils import clear_session

        clear_session()
        model = Sequential([Dense(units, input_dim=1)], seed=0)
        kernel = "model_weights/dense/dense/kernel:0"
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            legacy_h5.write_model(f, model)
            del f[kernel]
            data = f.create_dataset(
                kernel,
                shape=(1, units),
                dtype="<f4",
                chunks=chunks,
                compression="gzip" if deflate else None,
            )
            if deflate:
                piece = zlib.compress(np.ones(chunks, "<f4").tobytes())
                for start in range(0, units, chunks[1]):
                    data.id.write_direct_chunk((0, start), piece)
            elif chunks[1] > 1:
                data[...] = np.ones((1, units), "<f4")
        clear_session()
        return buffer.getvalue()

    return build


def _latest(kind: str, edit: Any) -> Any:
    """Base ``kind`` edited with HDF5's latest format (large type messages fit)."""

    def build(b: Any) -> bytes:
        buffer = io.BytesIO(b.base(kind))
        with h5py.File(buffer, "r+", libver="latest") as f:
            edit(f)
        return buffer.getvalue()

    return build


def _compound(fields: int) -> np.dtype:
    return np.dtype([(f"f{i}", "<f8") for i in range(fields)])


def _linked_compound(fields: int, links: int, where: str = "layers/dense/vars") -> Any:
    """The kernel made a dataset of a ``fields``-field compound type, with ``links``
    more hard links to it in the same group."""

    def edit(f: h5py.File) -> None:
        group = f[where]
        del group["0"]
        h5py.h5d.create(
            group.id,
            b"0",
            h5py.h5t.py_create(_compound(fields)),
            h5py.h5s.create_simple((3, 5)),
            dcpl=_untimed(),
        )
        for index in range(links):
            group.id.links.create_hard(b"link%04d" % index, group.id, b"0")

    return edit


def _many_compounds(count: int, fields: int) -> Any:
    """``count`` datasets of a compound type of ``fields`` fields."""

    def edit(f: h5py.File) -> None:
        group = f.create_group("extra", track_order=False)
        kind = h5py.h5t.py_create(_compound(fields))
        for index in range(count):
            h5py.h5d.create(
                group.id,
                b"d%04d" % index,
                kind,
                h5py.h5s.create_simple((1,)),
                dcpl=_untimed(),
            )

    return edit


def _linked_float(links: int) -> Any:
    def edit(f: h5py.File) -> None:
        group = f["layers/dense/vars"]
        for index in range(links):
            group.id.links.create_hard(b"link%04d" % index, group.id, b"0")

    return edit


def _deep_dense_keras(count: int) -> Any:
    """``count`` Dense(1) layers in config.json, weights for the reference model:
    the architecture builds, then its weights are found missing."""

    def build(b: Any) -> bytes:
        config = b.config()
        layers = config["config"]["layers"]
        template = layers[4]
        template.pop("build_config", None)
        stack = [layers[0]]
        for index in range(count):
            entry = json.loads(json.dumps(template))
            entry["config"].update(name=f"deep_{index}", units=1)
            stack.append(entry)
        config["config"]["layers"] = stack
        return b.keras(config=json.dumps(config).encode())

    return build


def _work(m: ModuleType) -> None:
    cat = "wave2-work"
    chunks = r"stored in \d+ chunks"
    for name, what, build, loaders, expect in [
        (
            "wave2/work/kernel-32768-deflated-chunks-model.h5",
            "Dense(32768): a kernel in 32,768 one-value deflated chunks",
            _wide_model_file(32768, (1, 1), True),
            (m.LOAD_MODEL,),
            chunks,
        ),
        (
            "wave2/work/kernel-32768-chunks-model.h5",
            "Dense(32768): a kernel declared in 32,768 one-value chunks, none written",
            _wide_model_file(32768, (1, 1), False),
            (m.LOAD_MODEL,),
            chunks,
        ),
        (
            "wave2/work/kernel-4096-chunks-model.h5",
            "Dense(65536): a kernel in 4,096 chunks of 16 values",
            _wide_model_file(65536, (1, 16), False),
            (m.LOAD_MODEL,),
            chunks,
        ),
        (
            "wave2/work/kernel-one-value-chunks.weights.h5",
            "the (3, 5) kernel in 15 one-value deflated chunks (within the count), "
            "one of them a 4 KiB stream",
            m._h5("weights.h5", _one_value_chunks(m.K)),
            None,
            "inflates beyond|not valid deflate|compressed bytes",
        ),
        (
            "wave2/work/links-600-compound.weights.h5",
            "600 hard links to a kernel of a 2,000-field compound type",
            _latest("weights.h5", _linked_compound(2000, 600)),
            None,
            "is stored as",
        ),
        (
            "wave2/work/links-600-compound.keras",
            "model.weights.h5: 600 hard links to a kernel of a 2,000-field compound type",
            lambda b: b.keras(
                weights=_latest("keras-member", _linked_compound(2000, 600))(b)
            ),
            None,
            "is stored as",
        ),
        (
            "wave2/work/compound-datasets-20.weights.h5",
            "20 unread datasets of a 1,000-field compound type",
            _latest("weights.h5", _many_compounds(20, 1000)),
            None,
            "is stored as",
        ),
        (
            "wave2/work/links-600-float.weights.h5",
            "600 hard links to the float kernel",
            m._h5("weights.h5", _linked_float(600)),
            None,
            "hard link to a dataset",
        ),
        (
            "wave2/work/links-600-float.h5",
            "legacy weights: 600 hard links to kernel:0",
            m._h5("legacy-weights", _legacy_links(600)),
            (m.LOAD_WEIGHTS,),
            "hard link to a dataset",
        ),
        (
            "wave2/work/deep-3000-dense.keras",
            "3,000 Dense(1) layers (200 KB of JSON) built, then their weights are missing",
            _deep_dense_keras(3000),
            (m.LOAD_MODEL,),
            "the file's weight has shape",
        ),
    ]:
        m._case(name, cat, what, build, loaders=loaders, expect=expect)


def _legacy_links(links: int) -> Any:
    def edit(f: h5py.File) -> None:
        group = f["dense/dense"]
        for index in range(links):
            group.id.links.create_hard(b"link%04d" % index, group.id, b"kernel:0")

    return edit


def _one_value_chunks(path: str) -> Any:
    def edit(f: h5py.File) -> None:
        del f[path]
        data = f.create_dataset(
            path, shape=(3, 5), dtype="<f4", chunks=(1, 1), compression="gzip"
        )
        piece = zlib.compress(np.ones((1, 1), "<f4").tobytes())
        for row in range(3):
            for column in range(5):
                data.id.write_direct_chunk((row, column), piece)
        data.id.write_direct_chunk((2, 4), zlib.compress(bytes(4096)))

    return edit


# -- 5. accepted, then broken --------------------------------------------------------------
def _softmax_after(axis: Any) -> Any:
    """A Softmax layer with ``axis`` appended after the last Dense."""

    def edit(c: Config, p: Any) -> None:
        c["config"]["layers"].append(
            {
                "module": "keras.layers",
                "class_name": "Softmax",
                "config": {
                    "name": "softmax",
                    "trainable": True,
                    "dtype": "float32",
                    "axis": axis,
                },
                "registered_name": None,
            }
        )

    return edit


def _dense_activation_softmax(axis: int) -> Any:
    return _first_dense(
        activation={
            "module": "keras.activations",
            "class_name": "softmax",
            "config": {"axis": axis},
            "registered_name": None,
        }
    )


def _broken(m: ModuleType) -> None:
    cat = "wave2-broken"
    axis = r"axis|Softmax"
    for slug, what, edit, expect in [
        (
            "softmax-axis-7",
            "a Softmax layer normalising axis 7 of (None, 2) outputs",
            _softmax_after(7),
            axis,
        ),
        (
            "softmax-axis-1e30",
            "a Softmax layer normalising axis 10**30",
            _softmax_after(10**30),
            axis,
        ),
        (
            "softmax-axis-minus-3",
            "a Softmax layer normalising axis -3 of a 2-D output",
            _softmax_after(-3),
            axis,
        ),
        (
            "softmax-axis-string",
            "a Softmax layer with axis '1'",
            _softmax_after("1"),
            axis,
        ),
        (
            "dense-softmax-axis-5",
            "Dense(activation=softmax(axis=5))",
            _dense_activation_softmax(5),
            axis,
        ),
        (
            "name-lone-surrogate",
            "a layer named 'dense\\ud800'",
            _first_dense(name="dense\ud800"),
            "surrogate",
        ),
        (
            "name-nul",
            "a layer named 'dense\\x00x'",
            _first_dense(name="dense\x00x"),
            "NUL",
        ),
        (
            "name-2000-chars",
            "a layer name of 2,000 characters",
            _first_dense(name="d" * 2000),
            r"at most \d+ characters",
        ),
        ("name-slash", "a layer named 'a/b'", _first_dense(name="a/b"), "'/'"),
        (
            "model-name-nul",
            "a model named 'model\\x00'",
            lambda c, p: c["config"].__setitem__("name", "model\x00"),
            "NUL|name",
        ),
    ]:
        m._architecture("wave2/broken", cat, slug, what, edit, expect=expect)
    # initializers that would draw inf: model_from_json draws them (a loader whose
    # file holds the weights replaces one glassnet cannot build, with a warning)
    drawn = r"finite|infinite|cannot draw"
    for slug, what, edit, _ in [
        (
            "variance-scaling-1e308",
            "VarianceScaling(scale=1e308): inf weights",
            _overflowing_initializer(
                "kernel_initializer",
                {
                    "class_name": "VarianceScaling",
                    "config": {
                        "scale": 1e308,
                        "mode": "fan_in",
                        "distribution": "uniform",
                    },
                },
            ),
            drawn,
        ),
        (
            "random-normal-1e308",
            "RandomNormal(stddev=1e308): inf in float32",
            _overflowing_initializer(
                "kernel_initializer",
                {
                    "class_name": "RandomNormal",
                    "config": {"mean": 0.0, "stddev": 1e308},
                },
            ),
            drawn,
        ),
        (
            "constant-1e300",
            "Constant(1e300): inf once cast to float32",
            _overflowing_initializer(
                "bias_initializer",
                {"class_name": "Constant", "config": {"value": 1e300}},
            ),
            drawn,
        ),
    ]:
        m._case(
            f"wave2/broken/{slug}.json", cat, what, m._json_file(edit), expect=drawn
        )
    for name, what, tensor in [
        (
            "wave2/broken/tensor-name-2000.safetensors",
            "a tensor named with 2,000 characters",
            "d" * 2000,
        ),
        (
            "wave2/broken/tensor-name-nul.safetensors",
            "a tensor named 'dense\\x00.W'",
            "dense\x00.W",
        ),
        (
            "wave2/broken/tensor-name-surrogate.safetensors",
            "a tensor named 'dense\\udc80.W' (not UTF-8 in the header)",
            "dense\udc80.W",
        ),
    ]:
        m._case(name, cat, what, _renamed_tensor(tensor), expect=".")


def _renamed_tensor(new: str) -> Any:
    def build(b: Any) -> bytes:
        header, data = b.safetensors_parts()
        header[new] = header.pop("dense.W")
        text = json.dumps(header).encode("utf-8", "surrogatepass")
        return M.safetensors_bytes(text, data)

    return build


# -- 6. ambiguity and degenerate state ---------------------------------------------------
def _rng(**changes: Any) -> Any:
    def edit(data: Config) -> None:
        state = data["glassnet"]["rng"]
        for key, value in changes.items():
            if key in ("state", "inc"):
                state["state"][key] = value
            else:
                state[key] = value

    return edit


def _leaky(**config: Any) -> Any:
    def edit(c: Config, p: Any) -> None:
        c["config"]["layers"].append(
            {
                "module": "keras.layers",
                "class_name": "LeakyReLU",
                "config": {
                    "name": "leaky_re_lu",
                    "trainable": True,
                    "dtype": "float32",
                    **config,
                },
                "registered_name": None,
            }
        )

    return edit


def _ambiguous(m: ModuleType) -> None:
    cat = "wave2-ambiguous"
    for slug, what, edit, expect in [
        (
            "rng-zero-state",
            "the saved generator is {state: 0, inc: 0}",
            _rng(state=0, inc=0),
            "increment `inc` must be odd",
        ),
        (
            "rng-even-inc",
            "the saved generator's increment is even (2**64)",
            _rng(inc=2**64),
            "increment `inc` must be odd",
        ),
        (
            "rng-has-uint32-2",
            "the saved generator's has_uint32 is 2",
            _rng(has_uint32=2),
            "has_uint32",
        ),
        (
            "rng-uinteger-2-32",
            "the saved generator's buffered word is 2**32",
            _rng(uinteger=2**32),
            "uinteger",
        ),
        (
            "rng-mt19937",
            "the saved generator claims MT19937",
            _rng(bit_generator="MT19937"),
            "expected 'PCG64'",
        ),
        (
            "rng-inc-2-128",
            "the saved generator's increment is 2**128",
            _rng(inc=2**128),
            r"\[0, 2\*\*128\)",
        ),
    ]:
        m._case(
            f"wave2/ambiguous/{slug}.keras",
            cat,
            what,
            m._metadata(edit),
            loaders=(m.LOAD_MODEL,),
            expect=expect,
        )
    slope = "negative_slope|alpha|slope"
    for slug, what, edit in [
        (
            "leaky-alpha-negative",
            "LeakyReLU alpha -0.5 beside negative_slope 0.2 "
            "(Keras takes alpha, and refuses it)",
            _leaky(alpha=-0.5, negative_slope=0.2),
        ),
        (
            "leaky-alpha-null",
            "LeakyReLU alpha null beside negative_slope 0.2 "
            "(Keras takes None, and refuses it)",
            _leaky(alpha=None, negative_slope=0.2),
        ),
        ("leaky-alpha-string", "LeakyReLU alpha '0.1'", _leaky(alpha="0.1")),
        ("leaky-alpha-bool", "LeakyReLU alpha true", _leaky(alpha=True)),
        (
            "leaky-slope-list",
            "LeakyReLU negative_slope [0.1, 0.2]",
            _leaky(negative_slope=[0.1, 0.2]),
        ),
    ]:
        m._architecture("wave2/ambiguous", cat, slug, what, edit, expect=slope)
