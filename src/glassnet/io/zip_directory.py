"""What a zip archive's directory declares, checked before ``zipfile`` parses it.

``zipfile.ZipFile`` reads the whole central directory and makes a ``ZipInfo`` for
every entry before anyone can count them: a zip64 directory of a million entries
costs hundreds of megabytes and seconds before :data:`~glassnet.io.limits.
MAX_ARCHIVE_MEMBERS` could refuse it. :func:`check_end_record` reads the
end-of-central-directory record (and its zip64 form) the way ``zipfile`` finds
them, and refuses too many entries or too large a directory first.

Each member's declared sizes must then be backed by bytes the archive really
holds (:func:`present_bytes`): its compressed bytes lie inside the file, a stored
member's size is its compressed size, and a deflated member declares no more than
deflate can give. The architecture's parameter allowance comes from that, not from
a size the directory merely claims.

>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w") as archive:
...     archive.writestr("config.json", "{}")
>>> check_end_record(buffer, "m.keras")
1
"""

from __future__ import annotations

import struct
import zipfile
from typing import IO

from glassnet.errors import ModelFileError, UnsafeFileError
from glassnet.io import limits

__all__ = ["DEFLATE_MAX_RATIO", "check_end_record", "present_bytes"]

# the end-of-central-directory record: signature, this disk, the directory's disk,
# entries on this disk, entries, directory size, directory offset, comment length
_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
# zip64: a locator right before that record, the zip64 record right before it
_LOCATOR = struct.Struct("<4sLQL")
_LOCATOR_SIGNATURE = b"PK\x06\x07"
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_SIGNATURE = b"PK\x06\x06"
_LOCAL_HEADER = 30  # a member's local header before its name, extra field and data

#: The most a deflate stream can inflate per byte (1032:1, plus a little for the
#: stream's header and end).
DEFLATE_MAX_RATIO = 1032


def check_end_record(handle: IO[bytes], where: str) -> int:
    """The number of entries the archive declares, refused past the limits.

    Read as ``zipfile`` reads it: the record in the last 22 bytes, else the last
    one in the final 64 KiB (a comment may follow it), and the zip64 record when
    its locator precedes it. Returns the entry count.
    """
    handle.seek(0, 2)
    size = handle.tell()
    tail_length = min(size, _END.size + 2**16)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    at = len(tail) - _END.size
    if at < 0 or tail[at : at + 4] != _END_SIGNATURE or tail[-2:] != b"\0\0":
        at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END.size:
        raise ModelFileError(
            f"{where}: not a zip archive (no end-of-central-directory record)."
        )
    record = _END.unpack_from(tail, at)
    entries = max(record[3], record[4])
    directory = record[5]
    start = size - tail_length + at  # where the record is, in the file
    if start >= _LOCATOR.size + _END64.size:
        handle.seek(start - _LOCATOR.size - _END64.size)
        block = handle.read(_LOCATOR.size + _END64.size)
        locator = _LOCATOR.unpack_from(block, _END64.size)
        if locator[0] == _LOCATOR_SIGNATURE:
            record64 = _END64.unpack_from(block, 0)
            if record64[0] == _END64_SIGNATURE:  # zipfile then reads these
                entries = max(record64[6], record64[7])
                directory = record64[8]
    if entries > limits.MAX_ARCHIVE_MEMBERS:
        raise UnsafeFileError(
            f"{where}: the archive's directory declares {entries} members; the "
            f"limit is {limits.MAX_ARCHIVE_MEMBERS} "
            "(glassnet.io.limits.MAX_ARCHIVE_MEMBERS)."
        )
    if directory > limits.MAX_ZIP_DIRECTORY_BYTES:
        raise UnsafeFileError(
            f"{where}: the archive's directory declares {directory} bytes; the "
            f"limit is {limits.MAX_ZIP_DIRECTORY_BYTES} "
            "(glassnet.io.limits.MAX_ZIP_DIRECTORY_BYTES)."
        )
    return entries


def present_bytes(info: zipfile.ZipInfo, archive_size: int, where: str) -> int:
    """The uncompressed size of a member, once the archive is seen to back it.

    Refuses a member whose compressed bytes would run past the end of the
    archive, a stored member whose sizes differ, and a deflated member declaring
    more than deflate can give from its compressed bytes.
    """
    name = info.filename[:100]
    end = (
        info.header_offset
        + _LOCAL_HEADER
        + len(info.orig_filename)  # characters: at least one byte each
        + info.compress_size
    )
    if end > archive_size:
        raise ModelFileError(
            f"{where}: the member {name!r} declares {info.compress_size} bytes "
            f"from offset {info.header_offset}, past the end of the archive "
            f"({archive_size} bytes); it is truncated or its directory lies."
        )
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != (
        info.compress_size
    ):
        raise ModelFileError(
            f"{where}: the member {name!r} is stored uncompressed but declares "
            f"{info.file_size} bytes for {info.compress_size} stored bytes."
        )
    if info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 2**10:
        raise UnsafeFileError(
            f"{where}: the member {name!r} declares {info.file_size} bytes from "
            f"{info.compress_size} compressed bytes, more than deflate can give."
        )
    return int(info.file_size)
