"""The errors the libraries under the loaders raise, turned into glassnet's.

zipfile, zlib, h5py and NumPy each have their own ways of failing on a corrupt or
hostile file: ``zlib.error`` (not even a ValueError) for a damaged deflate stream,
``AssertionError`` from h5py for a filter pipeline with 257 client values,
``OverflowError`` from NumPy for an initializer's extreme bounds. A load must end
in a :class:`~glassnet.errors.ModelFileError` naming the file part, whatever the
library underneath raised: :func:`as_model_file_error` does that for a block.

>>> with as_model_file_error("config.json"):
...     import zlib; zlib.decompress(b"not deflate")
Traceback (most recent call last):
...
glassnet.errors.ModelFileError: config.json: the file could not be read (error: ...
"""

from __future__ import annotations

import contextlib
import struct
import zipfile
import zlib
from collections.abc import Iterator

from glassnet.errors import GlassnetError, ModelFileError

__all__ = ["LIBRARY_ERRORS", "as_model_file_error"]

#: What reading a corrupt file can raise below glassnet (MemoryError excepted: the
#: limits exist so that no file gets that far, and hiding one would hide a bug).
LIBRARY_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    EOFError,
    RuntimeError,
    ArithmeticError,  # OverflowError, FloatingPointError, ZeroDivisionError
    AssertionError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
)


@contextlib.contextmanager
def as_model_file_error(where: str) -> Iterator[None]:
    """Re-raise a library's error inside the block as a ModelFileError for ``where``.

    glassnet's own errors and a missing file pass through unchanged.
    """
    try:
        yield
    except (GlassnetError, FileNotFoundError, IsADirectoryError):
        raise
    except LIBRARY_ERRORS as error:
        raise ModelFileError(
            f"{where}: the file could not be read ({type(error).__name__}: "
            f"{str(error)[:300]})."
        ) from error
