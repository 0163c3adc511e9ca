"""Reading the ``.keras`` zip safely: a checked directory, bounded members.

The archive is opened (:func:`opened`) only after every entry of its zip directory
is checked (:func:`checked_members`): no unexpected, duplicate, encrypted, absolute
or symlink entries, nothing that climbs out with ``..``, declared sizes within
:mod:`glassnet.io.limits`, and a compression ratio no decompression bomb would have.
Members are then opened by their expected names only, and each is read with a byte
counter that stops at its declared size (:func:`inflate`).

config.json is read first (:func:`read_configs`): the model it describes bounds the
size ``model.weights.h5`` may declare (:func:`check_weights_size`), and only then is
that member inflated, once, into a buffer of its declared size (:func:`weights_file`).
What the members mean is :mod:`glassnet.io.keras_archive`'s business.
"""

from __future__ import annotations

import contextlib
import io
import math
import mmap
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from glassnet.errors import GlassnetError, ModelFileError, UnsafeFileError
from glassnet.io import hdf5, limits, safe_json
from glassnet.io.keras_layout import vars_groups
from glassnet.io.slots import weight_slots
from glassnet.io.zip_directory import check_end_record, present_bytes

if TYPE_CHECKING:
    from glassnet.models import Model

__all__ = [
    "CONFIG",
    "METADATA",
    "WEIGHTS",
    "check_weights_size",
    "checked_members",
    "inflate",
    "opened",
    "read_configs",
    "read_member",
    "weights_file",
]

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_MEMBERS = (METADATA, CONFIG, WEIGHTS)
_BOMB_FLOOR = 2**20  # members smaller than this are not checked for their ratio
_PIECE = 2**20  # members are inflated this many bytes at a time


@contextlib.contextmanager
def opened(
    path: str, where: str
) -> Iterator[tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]]:
    """The open archive and its checked directory entries, by member name."""
    with open(path, "rb") as handle:
        check_end_record(handle, where)
        size = handle.seek(0, 2)
        handle.seek(0)
        try:
            archive = zipfile.ZipFile(handle)
        except zipfile.BadZipFile as error:
            raise ModelFileError(f"{where}: not a zip archive ({error}).") from None
        with archive:
            yield archive, checked_members(archive.infolist(), where, size)


def read_configs(
    archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], where: str
) -> tuple[Any, dict[str, Any]]:
    """``(config, metadata)``, parsed."""
    config = safe_json.loads(
        read_member(archive, infos[CONFIG], where), f"{where}: {CONFIG}"
    )
    metadata = safe_json.loads(
        read_member(archive, infos[METADATA], where), f"{where}: {METADATA}"
    )
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{where}: {METADATA} must be a JSON object.")
    return config, metadata


def checked_members(
    infos: list[zipfile.ZipInfo], where: str, archive_size: int | None = None
) -> dict[str, zipfile.ZipInfo]:
    """The zip directory's entries by member name, each checked before any is read.

    With ``archive_size``, each member's declared sizes must be backed by bytes the
    archive holds (:func:`~glassnet.io.zip_directory.present_bytes`).
    """
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
        if archive_size is not None:
            present_bytes(info, archive_size, where)
        found[name] = info
    missing = [name for name in _MEMBERS if name not in found]
    if missing:
        raise ModelFileError(
            f"{where}: the archive lacks {', '.join(missing)}; is it a Keras 3 .keras file?"
        )
    return found


def inflate(
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
    with _member_errors(info, where), archive.open(info) as member:
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


@contextlib.contextmanager
def _member_errors(info: zipfile.ZipInfo, where: str) -> Iterator[None]:
    """A damaged member (a corrupt deflate stream, a bad CRC, a header that does
    not match the directory) is named, whatever zipfile or zlib raised."""
    try:
        yield
    except (zlib.error, zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        if isinstance(error, GlassnetError):
            raise
        raise ModelFileError(
            f"{where}: the member {info.filename[:100]!r} could not be read "
            f"({type(error).__name__}: {str(error)[:200]})."
        ) from None


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    """The member's bytes, never more than its declared size."""
    buffer = io.BytesIO()  # grows with what arrives; getvalue() does not copy it
    inflate(archive, info, buffer.write, where)
    return buffer.getvalue()


def check_weights_size(info: zipfile.ZipInfo, model: Model, where: str) -> None:
    """Refuse a weights member larger than ``model``'s weights can explain.

    The ratio cap lets a 1.3 MB member declare 256 MiB; the architecture, read
    first, says what the member may hold: every parameter (float64 at most) and up
    to five optimizer slots each, plus HDF5's bookkeeping for every layer.
    """
    parameters = (
        sum(math.prod(s.shape) for s in weight_slots(model)) if model.built else 0
    )
    # a layer whose weights Keras nests (an LSTM's cell, a Bidirectional's two
    # layers and their cells) takes a group, and its bookkeeping, for each
    groups = (
        sum(len(vars_groups(layer)) for layer in model.layers)
        if model.built
        else len(model.layers)
    )
    allowed = (
        limits.MAX_WEIGHT_BYTES_PER_PARAMETER * parameters
        + limits.MAX_WEIGHT_BYTES_PER_LAYER * groups
        + limits.MAX_WEIGHT_BYTES_OVERHEAD
    )
    if info.file_size > allowed:
        raise UnsafeFileError(
            f"{where}: {WEIGHTS} declares {info.file_size} bytes, more than the "
            f"{allowed} that {parameters} parameters in {len(model.layers)} layers "
            f"({groups} groups of weights) can take "
            "(glassnet.io.limits.MAX_WEIGHT_BYTES_PER_PARAMETER)."
        )


@contextlib.contextmanager
def weights_file(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str
) -> Iterator[Any]:
    """The weights member, inflated into memory once, open as an HDF5 file."""
    if not info.file_size:
        raise ModelFileError(f"{where}: {WEIGHTS} is empty; not an HDF5 file.")
    # An anonymous map of the declared size: allocated up front, pages committed
    # only as they are written, and readable by h5py as a file without a copy.
    with mmap.mmap(-1, info.file_size) as buffer:
        inflate(archive, info, buffer.write, where)
        buffer.seek(0)
        try:
            file = hdf5.load_h5py().File(buffer, "r")
        except OSError as error:
            raise ModelFileError(
                f"{where}: {WEIGHTS} is not an HDF5 file ({error})."
            ) from None
        with file:
            yield file
