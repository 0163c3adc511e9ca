"""Saving and loading models together with their column data (:mod:`.info`).

Where the column data lives:

- **inside a ``.keras`` file**, in ``metadata.json`` under ``"glassnet": {"data":
  {...}}``, next to the random-generator state glassnet already keeps there. Keras
  and glassnet's loader ignore the extra key, so the file stays a normal ``.keras``
  file; only the command line reads it.
- **next to any other file** (``.h5``, ``.weights.h5``, ``.safetensors``, ``.json``,
  ``.onnx``), in ``FILE.labels.json``, written atomically. A file written without
  column data removes a stale ``FILE.labels.json``, so an old mapping never applies
  to a new model.

glassnet.io has no argument for extra metadata, so :func:`save_model` writes the
archive with :func:`glassnet.io.keras_archive.write_archive` into memory, adds the
key to ``metadata.json`` and writes the result in one :func:`~glassnet.io.atomic_write`.
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import TYPE_CHECKING, Any

from glassnet.cli.info import ModelInfo
from glassnet.errors import ModelFileError
from glassnet.io import atomic_write, limits, safe_json

if TYPE_CHECKING:
    from glassnet.models import Sequential

__all__ = [
    "SIDECAR",
    "load",
    "read_info",
    "save_model",
    "sidecar_path",
    "write_sidecar",
]

#: suffix of the column data file written next to non-.keras files
SIDECAR = ".labels.json"
_KEY = "data"


def is_keras(path: str) -> bool:
    return path.lower().endswith(".keras")


def sidecar_path(path: str) -> str:
    """``model.h5`` -> ``model.h5.labels.json``."""
    return path + SIDECAR


def save_model(model: Sequential, path: str, info: ModelInfo | None) -> None:
    """``model.save(path)`` (``.keras`` or ``.h5``), with ``info`` kept as described above."""
    if not is_keras(path) or info is None:
        model.save(path)
        if not is_keras(path):
            write_sidecar(path, info)
        return
    from glassnet.io.keras_archive import METADATA, write_archive

    buffer = io.BytesIO()
    write_archive(buffer, model, include_optimizer=True)
    with zipfile.ZipFile(buffer) as archive:
        members = [(item.filename, archive.read(item)) for item in archive.infolist()]
    with atomic_write(path) as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, data in members:
                if name == METADATA:
                    data = _with_info(data, info)
                archive.writestr(name, data)


def _with_info(metadata: bytes, info: ModelInfo) -> bytes:
    value = safe_json.loads(metadata, "metadata.json")
    value.setdefault("glassnet", {})[_KEY] = info.to_json()
    return safe_json.dumps(value).encode("utf-8")


def write_sidecar(path: str, info: ModelInfo | None) -> None:
    """Write ``path + ".labels.json"`` atomically (or remove a stale one for None)."""
    side = sidecar_path(path)
    if info is None:
        if os.path.isfile(side):
            os.remove(side)
        return
    with atomic_write(side) as handle:
        handle.write((safe_json.dumps(info.to_json(), indent=1) + "\n").encode("utf-8"))


def read_info(path: str) -> ModelInfo | None:
    """The column data saved with the model file ``path``, or None if there is none."""
    if is_keras(path):
        from glassnet.io.keras_archive import read_archive

        _, metadata, _ = read_archive(path, path)
        ours = metadata.get("glassnet")
        value: Any = ours.get(_KEY) if isinstance(ours, dict) else None
        where = f"{path}: metadata.json: glassnet.{_KEY}"
    else:
        where = sidecar_path(path)
        if not os.path.isfile(where):
            return None
        if os.path.getsize(where) > limits.MAX_JSON_BYTES:
            raise ModelFileError(f"{where}: larger than {limits.MAX_JSON_BYTES} bytes.")
        with open(where, "rb") as handle:
            value = safe_json.loads(handle.read(), where)
    return None if value is None else ModelInfo.from_json(value, where)


def load(path: str, *, compile: bool = True) -> tuple[Sequential, ModelInfo | None]:
    """A whole model (``.keras`` or ``.h5``) and its column data, checked against it."""
    from glassnet.models import load_model

    model = load_model(path, compile=compile)
    info = read_info(path)
    if info is not None:
        info.check(model, path)
    return model, info
