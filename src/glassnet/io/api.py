"""Saving and loading, the format chosen by the file's extension.

==================  ==============  =========================================
extension           what            layout
==================  ==============  =========================================
``.keras``          whole model     Keras 3 zip (:mod:`~glassnet.io.keras_archive`)
``.h5``/``.hdf5``   whole model     legacy Keras 2 HDF5 (:mod:`~glassnet.io.legacy_h5`)
``.weights.h5``     weights         Keras 3 HDF5 (:mod:`~glassnet.io.keras_h5`)
``.h5``/``.hdf5``   weights         legacy Keras 2 HDF5 (``save_weights``)
``.safetensors``    weights         safetensors (:mod:`~glassnet.io.safetensors_io`)
==================  ==============  =========================================

Every writer goes through :func:`~glassnet.io.atomic.atomic_write`; every reader
raises :class:`~glassnet.errors.ModelFileError` (or its subclass
:class:`~glassnet.errors.UnsafeFileError`) naming the file and what failed in it,
and changes the model only once everything has been read and checked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from glassnet._validation import check_bool
from glassnet.errors import InvalidArgumentError, ModelFileError
from glassnet.io import hdf5, keras_archive, keras_h5, legacy_h5, limits, safetensors_io
from glassnet.io.atomic import atomic_write, check_path
from glassnet.io.library_errors import as_model_file_error
from glassnet.io.slots import commit, require_model, weight_slots
from glassnet.models.model import Model

__all__ = ["load_model", "load_weights", "read_metadata", "save_model", "save_weights"]

_WEIGHT_FORMATS = ".weights.h5 (Keras 3), .h5 (legacy Keras 2) or .safetensors"
_MODEL_FORMATS = ".keras (Keras 3) or .h5 (legacy Keras 2)"


def _kind(path: str) -> str | None:
    name = path.lower()
    if name.endswith(".weights.h5"):
        return "weights.h5"
    if name.endswith((".h5", ".hdf5")):
        return "h5"
    if name.endswith(".safetensors"):
        return "safetensors"
    if name.endswith(".keras"):
        return "keras"
    return None


def save_weights(model: Model, filepath: Any, overwrite: bool = True) -> None:
    """Write the model's weights; the format follows the extension.

    ``.weights.h5`` is Keras 3's layout, ``.h5`` Keras 2's (what seeds/002's
    ``save_weights("basic_weights.h5")`` produced) and ``.safetensors`` the
    safetensors format. Weights keep the model's dtype (float64 stays float64).
    """
    model = require_model(model, "save_weights")
    path = check_path(filepath)
    check_bool(overwrite, "overwrite")
    kind = _kind(path)
    if kind not in ("weights.h5", "h5", "safetensors"):
        advice = " Use model.save(path) for a .keras file." if kind == "keras" else ""
        raise InvalidArgumentError(
            f"save_weights writes {_WEIGHT_FORMATS} files.{advice} Received: "
            f"filepath={path!r}"
        )
    weight_slots(model, "save_weights")
    if kind == "safetensors":
        data = safetensors_io.to_bytes(model)
        with atomic_write(path, overwrite=overwrite) as handle:
            handle.write(data)
        return
    writer = keras_h5.write_weights if kind == "weights.h5" else legacy_h5.write_weights
    with atomic_write(path, overwrite=overwrite) as handle:
        with hdf5.load_h5py().File(handle, "w") as file:
            writer(file, model)


def load_weights(model: Model, filepath: Any, *, allow_nonfinite: bool = False) -> None:
    """Fill the built ``model`` with weights from a file; the format follows the extension.

    Reads ``.weights.h5``, ``.h5`` (Keras 2 weights, or the weights of a whole-model
    ``.h5``), ``.safetensors`` and the weights of a ``.keras`` archive. Everything
    is checked against the model before any weight changes; on error the model is
    unchanged. Weights holding NaN or inf are refused unless ``allow_nonfinite``.
    """
    model = require_model(model, "load_weights")
    check_bool(allow_nonfinite, "allow_nonfinite")
    path = _existing(filepath)
    kind = _kind(path)
    weight_slots(model)
    with _reading(path) as where:
        if kind == "safetensors":
            arrays = safetensors_io.read_weights(path, model, where, allow_nonfinite)
        elif kind == "keras":
            arrays = keras_archive.read_weights(path, model, where, allow_nonfinite)
        elif kind in ("weights.h5", "h5"):
            reader = (
                keras_h5.read_layer_weights
                if kind == "weights.h5"
                else legacy_h5.read_weights
            )
            with hdf5.load_h5py().File(path, "r") as file:
                arrays = reader(file, model, where, allow_nonfinite)
        else:
            raise InvalidArgumentError(
                f"load_weights reads {_WEIGHT_FORMATS} files and .keras archives. "
                f"Received: filepath={path!r}"
            )
    commit(model, arrays, allow_nonfinite)


def save_model(
    model: Model,
    filepath: Any,
    overwrite: bool = True,
    include_optimizer: bool = True,
    *,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save architecture, weights, compile settings and training state in one file.

    ``.keras`` (Keras 3's zip) keeps everything needed to resume training exactly:
    the optimizer's state (unless ``include_optimizer=False``) and the model's
    random generator. ``.h5`` (legacy) keeps architecture, compile settings and
    weights only.

    ``metadata`` (``.keras`` only) is your own JSON object (class names, column
    names, a note), kept in the archive's ``metadata.json`` under ``"glassnet":
    {"user": ...}`` and read back with :func:`read_metadata`. It must be a dict
    with string keys holding plain JSON (no NaN or inf), at most
    :data:`glassnet.io.keras_archive.MAX_USER_METADATA_BYTES` as JSON.
    """
    model = require_model(model, "save")
    path = check_path(filepath)
    kind = _kind(path)
    if kind not in ("keras", "h5"):
        raise InvalidArgumentError(
            f"save writes {_MODEL_FORMATS} files; use save_weights for weights alone. "
            f"Received: filepath={path!r}"
        )
    check_bool(overwrite, "overwrite")
    if not isinstance(include_optimizer, bool):
        raise InvalidArgumentError(
            f"Argument `include_optimizer` must be True or False. "
            f"Received: include_optimizer={include_optimizer!r}"
        )
    if metadata is not None:
        if kind != "keras":
            raise InvalidArgumentError(
                f"Argument `metadata` is kept in .keras files only. Received: "
                f"filepath={path!r}"
            )
        keras_archive.check_user_metadata(metadata)
    with atomic_write(path, overwrite=overwrite) as handle:
        if kind == "keras":
            keras_archive.write_archive(handle, model, include_optimizer, metadata)
        else:
            with hdf5.load_h5py().File(handle, "w") as file:
                legacy_h5.write_model(file, model)


def load_model(
    filepath: Any,
    custom_objects: dict[str, type] | None = None,
    compile: bool = True,
    *,
    allow_nonfinite: bool = False,
) -> Model:
    """Load a whole model saved by glassnet or Keras (``.keras`` or legacy ``.h5``).

    With ``compile=True`` the model comes back compiled with the file's optimizer,
    loss and metrics, and (``.keras``) the optimizer state and random generator
    restored, so ``fit`` continues exactly where it stopped. ``custom_objects``
    names your own classes; nothing outside glassnet's registries is loaded.
    """
    check_bool(compile, "compile")
    check_bool(allow_nonfinite, "allow_nonfinite")
    path = _existing(filepath)
    kind = _kind(path)
    with _reading(path) as where:
        if kind == "keras":
            return keras_archive.read_model(
                path, where, custom_objects, compile, allow_nonfinite
            )
        if kind == "h5":
            with hdf5.load_h5py().File(path, "r") as file:
                return legacy_h5.read_model(
                    file, where, custom_objects, compile, allow_nonfinite
                )
    advice = (
        " It holds weights only: build the model, then load_weights." if kind else ""
    )
    raise InvalidArgumentError(
        f"load_model reads {_MODEL_FORMATS} files.{advice} Received: filepath={path!r}"
    )


def read_metadata(filepath: Any) -> dict[str, Any]:
    """The ``metadata`` dict saved with a ``.keras`` file (``{}`` if it has none).

    The zip is checked as :func:`load_model` checks it (member names, sizes,
    compression ratio), then only ``metadata.json`` is read: no weights are
    inflated and no model is built, so it is cheap even for a large model. The
    dict is read as untrusted data (strict, bounded JSON): check its values
    before you use them.

    >>> import os, tempfile
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> save_model(Sequential([Dense(1, input_dim=2)]), path, metadata={"classes": ["no", "yes"]})
    >>> read_metadata(path)
    {'classes': ['no', 'yes']}
    """
    path = _existing(filepath)
    if _kind(path) != "keras":
        raise InvalidArgumentError(
            f"read_metadata reads .keras files. Received: filepath={path!r}"
        )
    with _reading(path) as where:
        return keras_archive.read_user_metadata(path, where)


def _existing(filepath: Any) -> str:
    path = check_path(filepath)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Is a directory, not a file: {path!r}. Give the path of the model or "
            "weights file inside it (e.g. model.keras)."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    size = os.path.getsize(path)
    if size > limits.MAX_FILE_BYTES:
        raise ModelFileError(
            f"{path}: {size} bytes is over glassnet.io.limits.MAX_FILE_BYTES "
            f"({limits.MAX_FILE_BYTES})."
        )
    return path


@contextlib.contextmanager
def _reading(path: str) -> Iterator[str]:
    """Turn the low-level errors a corrupt file provokes into a ModelFileError."""
    with as_model_file_error(path):
        yield path
