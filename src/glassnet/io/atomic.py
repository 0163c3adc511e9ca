"""Atomic file writes: a crash mid-save never destroys the previous file.

Every glassnet writer (weights, ``.keras`` archives, JSON, ONNX export) goes through
:func:`atomic_write`. It writes to a new temporary file *in the target's folder*,
flushes and fsyncs it, then ``os.replace``\\ s it over the target. ``os.replace`` is
atomic on POSIX and Windows when both paths are on one file system (hence the same
folder), so a reader sees either the complete old file or the complete new one. If
anything fails before the rename (an exception, Ctrl-C, a full disk) the temporary
file is removed and the old file is untouched.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "notes.txt")
>>> with atomic_write(path) as f:
...     _ = f.write(b"version 1")
>>> try:
...     with atomic_write(path) as f:
...         _ = f.write(b"half of version 2")
...         raise KeyboardInterrupt  # a crash mid-write
... except KeyboardInterrupt:
...     pass
>>> open(path, "rb").read(), os.listdir(folder)
(b'version 1', ['notes.txt'])
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import IO, Any

from glassnet.errors import GlassnetTypeError

__all__ = ["atomic_write", "check_path"]


def check_path(filepath: Any, name: str = "filepath") -> str:
    """Return ``filepath`` as a ``str``; it must be a ``str`` or ``os.PathLike``.

    >>> check_path(3)
    Traceback (most recent call last):
    ...
    glassnet.errors.GlassnetTypeError: Argument `filepath` must be a path ...
    """
    if isinstance(filepath, os.PathLike):
        filepath = os.fspath(filepath)
    if not isinstance(filepath, str) or not filepath:
        raise GlassnetTypeError(
            f"Argument `{name}` must be a path (str or pathlib.Path). "
            f"Received: {name}={filepath!r} ({type(filepath).__name__})"
        )
    return filepath


@contextlib.contextmanager
def atomic_write(filepath: Any, *, overwrite: bool = True) -> Iterator[IO[bytes]]:
    """Open a temporary binary file that replaces ``filepath`` when the block ends.

    The temporary file is created next to the target with ``O_EXCL`` (never
    following a planted symlink) and the usual permissions (``0o666`` minus the
    umask, as ``open`` gives). On success it is flushed, fsynced and renamed over
    ``filepath``; the folder is fsynced too where the platform allows, so the
    rename itself survives a power cut. On any exception it is deleted.

    ``overwrite=False`` refuses (FileExistsError) to replace an existing file.
    """
    path = check_path(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"{path} already exists; pass overwrite=True to replace it."
        )
    folder = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o666)
    try:
        # Readable too: h5py reads back what it wrote while it writes.
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
