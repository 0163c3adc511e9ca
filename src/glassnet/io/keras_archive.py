"""The ``.keras`` archive: Keras 3's zip of config.json, metadata.json, model.weights.h5.

- ``config.json``: the architecture (:mod:`glassnet.io.architecture`) plus
  ``compile_config`` (:mod:`glassnet.io.compile_config`), as Keras writes it.
- ``metadata.json``: ``keras_version`` and ``date_saved`` as Keras writes them, and a
  ``"glassnet"`` section Keras ignores: the glassnet version and the random
  generators' states (:mod:`glassnet.io.training_state`).
- ``model.weights.h5``: the Keras 3 weights layout (:mod:`glassnet.io.keras_h5`),
  with the optimizer state under ``optimizer/vars`` unless ``include_optimizer=False``.

Members are stored uncompressed, as Keras stores them. Reading opens members by
their expected names only, after checking every entry of the zip directory: no
unexpected, duplicate, encrypted, absolute or symlink entries, nothing that climbs
out with ``..``, declared sizes within :mod:`glassnet.io.limits`, and a compression
ratio no decompression bomb would have. config.json is read first: the model it
describes bounds the size ``model.weights.h5`` may declare, and only then is that
member inflated, once, into a buffer of its declared size. Every member is read
with a byte counter that stops at its declared size.

Your own JSON data can ride along in ``metadata.json`` under ``"glassnet": {"user":
{...}}`` (``save_model(..., metadata=...)``): :func:`check_user_metadata` checks it
before writing, and :func:`read_user_metadata` reads it back from ``metadata.json``
alone, never opening ``model.weights.h5``.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import math
import mmap
import stat
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from glassnet import __version__
from glassnet._typing import Array
from glassnet.errors import InvalidArgumentError, ModelFileError, UnsafeFileError
from glassnet.io import hdf5, keras_h5, limits, safe_json
from glassnet.io.architecture import (
    draw_initial_weights,
    model_from_config,
    model_to_config,
)
from glassnet.io.compile_config import compile_from_config, compile_to_config
from glassnet.io.keras_compat import KERAS_VERSION, check_all_claims
from glassnet.io.slots import commit, weight_slots
from glassnet.io.training_state import (
    dump_generator,
    restore_generator,
    restore_optimizer,
)

if TYPE_CHECKING:
    import numpy as np

    from glassnet.models import Sequential

__all__ = [
    "MAX_USER_METADATA_BYTES",
    "check_user_metadata",
    "open_weights",
    "read_model",
    "read_user_metadata",
    "read_weights",
    "write_archive",
]

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_MEMBERS = (METADATA, CONFIG, WEIGHTS)
_BOMB_FLOOR = 2**20  # members smaller than this are not checked for their ratio
_PIECE = 2**20  # members are inflated this many bytes at a time
_USER = "user"  # the key of the caller's own metadata inside metadata.json's "glassnet"

#: Largest ``metadata=`` dict :func:`write_archive` stores, as compact JSON.
MAX_USER_METADATA_BYTES = 2**20


def check_user_metadata(metadata: Any) -> dict[str, Any]:
    """``metadata`` if it is a JSON object that reads back as it was written.

    A dict with string keys holding only dicts, lists (tuples), strings, booleans,
    None, integers and finite floats, at most :data:`MAX_USER_METADATA_BYTES` as
    JSON and within the caps every loader applies (:mod:`glassnet.io.limits`).

    >>> check_user_metadata({"classes": ["cat", "dog"], "scale": [0.5]})
    {'classes': ['cat', 'dog'], 'scale': [0.5]}
    >>> check_user_metadata({"mean": float("nan")})
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Argument `metadata`: metadata['mean'] is nan; ...
    """
    if not isinstance(metadata, dict):
        raise InvalidArgumentError(
            f"Argument `metadata` must be a dict (a JSON object). "
            f"Received: {type(metadata).__name__}"
        )
    stack: list[tuple[str, Any]] = [("metadata", metadata)]
    count = 0
    while stack:
        name, value = stack.pop()
        count += 1
        if count > limits.MAX_JSON_VALUES:
            raise InvalidArgumentError(
                f"Argument `metadata` holds over {limits.MAX_JSON_VALUES} values (or "
                "contains itself); the limit is glassnet.io.limits.MAX_JSON_VALUES."
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InvalidArgumentError(
                        f"Argument `metadata`: {name} has the key {key!r}; JSON "
                        "object keys must be strings."
                    )
                stack.append((f"{name}[{key[:40]!r}]", item))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{name}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgumentError(
                f"Argument `metadata`: {name} is {value}; JSON holds finite numbers only."
            )
        elif value is not None and not isinstance(value, (str, bool, int, float)):
            raise InvalidArgumentError(
                f"Argument `metadata`: {name} is a {type(value).__name__}; JSON holds "
                "dicts, lists, strings, numbers, booleans and None only."
            )
    try:
        text = safe_json.dumps(metadata, separators=(",", ":"))
    except (ValueError, RecursionError) as error:  # a cycle, an int of 5,000 digits
        raise InvalidArgumentError(
            f"Argument `metadata` cannot be written as JSON: {error}"
        ) from None
    size = len(text)  # ASCII: json.dumps escapes everything else
    if size > MAX_USER_METADATA_BYTES:
        raise InvalidArgumentError(
            f"Argument `metadata` is {size} bytes as JSON; the limit is "
            f"{MAX_USER_METADATA_BYTES} "
            "(glassnet.io.keras_archive.MAX_USER_METADATA_BYTES)."
        )
    try:  # what a loader would refuse (deep nesting, huge integers, bad Unicode)
        safe_json.loads(text, "metadata")
    except ModelFileError as error:
        raise InvalidArgumentError(
            f"Argument `metadata` cannot be stored: {error}"
        ) from None
    return metadata


def write_archive(
    handle: IO[bytes],
    model: Sequential,
    include_optimizer: bool,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write ``model`` as a ``.keras`` archive into the open binary ``handle``.

    ``metadata`` (checked by :func:`check_user_metadata`) goes into metadata.json
    under ``"glassnet": {"user": ...}``.
    """
    h5py = hdf5.load_h5py()
    config = model_to_config(model)
    compile_config = compile_to_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata_json: dict[str, Any] = {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "glassnet": {
            "version": __version__,
            "rng": dump_generator(model.rng),
            "layer_rngs": {
                layer.name: dump_generator(generator)
                for layer, generator in _own_generators(model)
            },
        },
    }
    if metadata is not None:
        metadata_json["glassnet"][_USER] = check_user_metadata(metadata)
    weights = io.BytesIO()
    with h5py.File(weights, "w") as file:
        keras_h5.write_weights(file, model, include_optimizer)
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, safe_json.dumps(metadata_json))
        archive.writestr(CONFIG, safe_json.dumps(config))
        archive.writestr(WEIGHTS, weights.getvalue())


def _own_generators(model: Sequential) -> list[tuple[Any, np.random.Generator]]:
    """Layers that draw from their own generator (``Dropout(seed=...)``)."""
    import numpy as np

    found = []
    for layer in model.layers:
        generator = getattr(layer, "_rng", None)
        if isinstance(generator, np.random.Generator) and generator is not model.rng:
            found.append((layer, generator))
    return found


@contextlib.contextmanager
def _opened(
    path: str, where: str
) -> Iterator[tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]]:
    """The open archive and its checked directory entries, by member name."""
    with open(path, "rb") as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except zipfile.BadZipFile as error:
            raise ModelFileError(f"{where}: not a zip archive ({error}).") from None
        with archive:
            yield archive, _checked_members(archive.infolist(), where)


def _read_configs(
    archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], where: str
) -> tuple[Any, dict[str, Any]]:
    """``(config, metadata)``, parsed."""
    config = safe_json.loads(
        _read_member(archive, infos[CONFIG], where), f"{where}: {CONFIG}"
    )
    metadata = safe_json.loads(
        _read_member(archive, infos[METADATA], where), f"{where}: {METADATA}"
    )
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{where}: {METADATA} must be a JSON object.")
    return config, metadata


def read_user_metadata(path: str, where: str) -> dict[str, Any]:
    """The ``metadata=`` dict saved with the archive (``{}`` if none).

    The zip directory is checked as for loading, then only metadata.json is read:
    config.json and model.weights.h5 are never inflated.
    """
    with _opened(path, where) as (archive, infos):
        text = _read_member(archive, infos[METADATA], where)
    metadata = safe_json.loads(text, f"{where}: {METADATA}")
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{where}: {METADATA} must be a JSON object.")
    ours = metadata.get("glassnet")
    if ours is None:
        return {}
    if not isinstance(ours, dict):
        raise ModelFileError(f"{where}: {METADATA}: 'glassnet' must be a JSON object.")
    user = ours.get(_USER, {})
    if not isinstance(user, dict):
        raise ModelFileError(
            f"{where}: {METADATA}: glassnet.{_USER} must be a JSON object."
        )
    return user


@contextlib.contextmanager
def open_weights(path: str, where: str) -> Iterator[Any]:
    """model.weights.h5 open as an HDF5 file, for tools that look inside an archive.

    Read as the loaders read it: config.json first (no code claims, a model glassnet
    can build), which bounds the size the weights member may declare; only then is
    it inflated.
    """
    with _opened(path, where) as (archive, infos):
        config, _ = _read_configs(archive, infos, where)
        check_all_claims(config, f"{where}: {CONFIG}")
        model = model_from_config(
            config,
            f"{where}: {CONFIG}",
            None,
            "default",
            stored_bytes=infos[WEIGHTS].file_size,
        )
        _check_weights_size(infos[WEIGHTS], model, where)
        with _weights_file(archive, infos[WEIGHTS], where) as file:
            yield file


def _checked_members(
    infos: list[zipfile.ZipInfo], where: str
) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > limits.MAX_ARCHIVE_MEMBERS:
        raise UnsafeFileError(f"{where}: the archive has {len(infos)} members.")
    found: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ":" in name or ".." in parts or "\0" in name:
            raise UnsafeFileError(
                f"{where}: the member {name[:100]!r} would be written outside the "
                "archive's folder (an absolute or '..' path); refused."
            )
        # Unix mode bits live in the upper half of external_attr. An unzip tool
        # (or Keras' own extraction) would create a symlink, and its "content" is
        # the link's target path, not the member a reader expects.
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeFileError(
                f"{where}: the member {name[:100]!r} is a symbolic link; refused."
            )
        if name not in _MEMBERS:
            raise ModelFileError(
                f"{where}: unexpected member {name[:100]!r}; glassnet reads archives "
                f"holding exactly {', '.join(_MEMBERS)}."
            )
        if name in found:
            raise UnsafeFileError(
                f"{where}: the member {name!r} appears twice (readers disagree on which "
                "copy counts); refused."
            )
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{where}: the member {name!r} is encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(
                f"{where}: the member {name!r} uses compression method "
                f"{info.compress_type}; glassnet reads stored or deflated members."
            )
        cap = limits.MAX_FILE_BYTES if name == WEIGHTS else limits.MAX_JSON_BYTES
        if info.file_size > cap:
            raise UnsafeFileError(
                f"{where}: the member {name!r} declares {info.file_size} bytes "
                f"uncompressed; the limit is {cap}."
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _BOMB_FLOOR and ratio > limits.MAX_COMPRESSION_RATIO:
            raise UnsafeFileError(
                f"{where}: the member {name!r} would inflate {ratio:.0f}-fold "
                f"(limit {limits.MAX_COMPRESSION_RATIO}): a decompression bomb?"
            )
        found[name] = info
    missing = [name for name in _MEMBERS if name not in found]
    if missing:
        raise ModelFileError(
            f"{where}: the archive lacks {', '.join(missing)}; is it a Keras 3 .keras file?"
        )
    return found


def _inflate(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    write: Callable[[bytes], object],
    where: str,
) -> None:
    """Hand the member's bytes to ``write`` a piece at a time, exactly its declared size.

    Nothing is collected and joined (which held a member twice), and a member
    whose stream goes on past its declared size is refused.
    """
    size, total = info.file_size, 0
    with archive.open(info) as member:
        while total < size:
            piece = member.read(min(_PIECE, size - total))
            if not piece:
                raise ModelFileError(
                    f"{where}: the member {info.filename!r} holds {total} bytes; it "
                    f"declares {size}."
                )
            write(piece)
            total += len(piece)
        if member.read(1):  # also where zipfile checks the member's CRC
            raise UnsafeFileError(
                f"{where}: the member {info.filename!r} inflates beyond its declared "
                f"{size} bytes."
            )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    """The member's bytes, never more than its declared size."""
    buffer = io.BytesIO()  # grows with what arrives; getvalue() does not copy it
    _inflate(archive, info, buffer.write, where)
    return buffer.getvalue()


def _check_weights_size(info: zipfile.ZipInfo, model: Sequential, where: str) -> None:
    """Refuse a weights member larger than ``model``'s weights can explain.

    The ratio cap lets a 1.3 MB member declare 256 MiB; the architecture, read
    first, says what the member may hold: every parameter (float64 at most) and up
    to three optimizer slots each, plus HDF5's bookkeeping for every layer.
    """
    parameters = (
        sum(math.prod(s.shape) for s in weight_slots(model)) if model.built else 0
    )
    allowed = (
        limits.MAX_WEIGHT_BYTES_PER_PARAMETER * parameters
        + limits.MAX_WEIGHT_BYTES_PER_LAYER * len(model.layers)
        + limits.MAX_WEIGHT_BYTES_OVERHEAD
    )
    if info.file_size > allowed:
        raise UnsafeFileError(
            f"{where}: {WEIGHTS} declares {info.file_size} bytes, more than the "
            f"{allowed} that {parameters} parameters in {len(model.layers)} layers "
            "can take (glassnet.io.limits.MAX_WEIGHT_BYTES_PER_PARAMETER)."
        )


@contextlib.contextmanager
def _weights_file(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str
) -> Iterator[Any]:
    """The weights member, inflated into memory once, open as an HDF5 file."""
    if not info.file_size:
        raise ModelFileError(f"{where}: {WEIGHTS} is empty; not an HDF5 file.")
    # An anonymous map of the declared size: allocated up front, pages committed
    # only as they are written, and readable by h5py as a file without a copy.
    with mmap.mmap(-1, info.file_size) as buffer:
        _inflate(archive, info, buffer.write, where)
        buffer.seek(0)
        try:
            file = hdf5.load_h5py().File(buffer, "r")
        except OSError as error:
            raise ModelFileError(
                f"{where}: {WEIGHTS} is not an HDF5 file ({error})."
            ) from None
        with file:
            yield file


def read_weights(
    path: str, model: Sequential, where: str, allow_nonfinite: bool = False
) -> list[Array]:
    """Only the layer weights of a ``.keras`` archive, for ``model.load_weights``.

    config.json is read and checked too: weights are not taken from a file whose
    config names code.
    """
    with _opened(path, where) as (archive, infos):
        config, _ = _read_configs(archive, infos, where)
        check_all_claims(config, f"{where}: {CONFIG}")
        _check_weights_size(infos[WEIGHTS], model, where)
        with _weights_file(archive, infos[WEIGHTS], where) as file:
            return keras_h5.read_layer_weights(
                file, model, f"{where}: {WEIGHTS}", allow_nonfinite
            )


def read_model(
    path: str,
    where: str,
    custom_objects: dict[str, type] | None = None,
    compile: bool = True,
    allow_nonfinite: bool = False,
) -> Sequential:
    """Rebuild, fill, compile and restore the training state of a ``.keras`` model."""
    with _opened(path, where) as (archive, infos):
        config, metadata = _read_configs(archive, infos, where)
        ours = metadata.get("glassnet")
        if ours is not None and not isinstance(ours, dict):
            raise ModelFileError(
                f"{where}: {METADATA}: 'glassnet' must be a JSON object."
            )
        model = model_from_config(
            config,
            f"{where}: {CONFIG}",
            custom_objects,
            "default",
            stored_bytes=infos[WEIGHTS].file_size,
        )
        _check_weights_size(infos[WEIGHTS], model, where)
        here = f"{where}: {WEIGHTS}"
        state = None
        with _weights_file(archive, infos[WEIGHTS], where) as file:
            arrays = (
                keras_h5.read_layer_weights(file, model, here, allow_nonfinite)
                if model.built
                else []
            )
            compile_config = (
                config.get("compile_config") if isinstance(config, dict) else None
            )
            if compile and compile_config:  # Keras writes {} for an uncompiled model
                compile_from_config(
                    model,
                    compile_config,
                    f"{where}: {CONFIG}: compile_config",
                    custom_objects,
                )
                if model.built:
                    state = keras_h5.read_optimizer_state(
                        file,
                        model,
                        here,
                        strict=ours is not None,
                        allow_nonfinite=allow_nonfinite,
                    )
    if arrays:
        commit(model, arrays, allow_nonfinite)
    if state is not None and model.optimizer is not None:
        restore_optimizer(model.optimizer, *state)
    if ours is None or "rng" not in ours:  # a Keras file: no generator to restore
        draw_initial_weights(model)
    if ours is not None:
        _restore_generators(model, ours, f"{where}: {METADATA}")
    return model


def _restore_generators(model: Sequential, ours: dict[str, Any], where: str) -> None:
    if "rng" in ours:
        restore_generator(model.rng, ours["rng"], f"{where}: glassnet.rng")
    saved = ours.get("layer_rngs") or {}
    own = {layer.name: generator for layer, generator in _own_generators(model)}
    if not isinstance(saved, dict) or set(saved) - set(own):
        raise ModelFileError(
            f"{where}: glassnet.layer_rngs names layers without their own generator: "
            f"{sorted(set(saved) - set(own))[:10] if isinstance(saved, dict) else saved!r}."
        )
    for name, state in saved.items():
        restore_generator(own[name], state, f"{where}: glassnet.layer_rngs.{name}")
