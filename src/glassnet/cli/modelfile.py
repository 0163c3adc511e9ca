"""Saving and loading models together with their column data (:mod:`.info`).

Where the column data lives:

- **inside a ``.keras`` file**, as the file's user metadata (:func:`glassnet.io.
  save_model`'s ``metadata=``): in ``metadata.json`` under ``"glassnet": {"user":
  {"data": {...}}}``. Keras and glassnet's loader ignore the key, so the file stays
  a normal ``.keras`` file. :func:`glassnet.io.read_metadata` reads it back from
  ``metadata.json`` alone, with the archive checks every loader applies.
- **next to any other file** (``.h5``, ``.weights.h5``, ``.safetensors``, ``.json``,
  ``.onnx``), in ``FILE.labels.json``, written atomically. A file written without
  column data removes a stale ``FILE.labels.json``, so an old mapping never applies
  to a new model.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from glassnet.cli.info import ModelInfo
from glassnet.errors import ModelFileError
from glassnet.io import atomic_write, limits, read_metadata, safe_json

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
    from glassnet.io import save_model as save

    if is_keras(path):
        save(model, path, metadata=None if info is None else {_KEY: info.to_json()})
        return
    save(model, path)
    write_sidecar(path, info)


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
    value: Any
    if is_keras(path):
        value = read_metadata(path).get(_KEY)
        where = f"{path}: metadata.json: glassnet.user.{_KEY}"
    else:
        where = sidecar_path(path)
        if not os.path.isfile(where):
            return None
        if os.path.getsize(where) > limits.MAX_JSON_BYTES:
            raise ModelFileError(f"{where}: larger than {limits.MAX_JSON_BYTES} bytes.")
        with open(where, "rb") as handle:
            value = safe_json.loads(handle.read(), where)
    return None if value is None else ModelInfo.from_json(value, where)


def sequential(model: Any, path: str) -> Sequential:
    """``model`` if it is Sequential: the command line works with Sequential models."""
    from glassnet.models import Sequential

    if not isinstance(model, Sequential):
        raise ModelFileError(
            f"{path}: holds a functional model; the command line works with "
            "Sequential models (load it in Python with glassnet.models.load_model)."
        )
    return model


def load(path: str, *, compile: bool = True) -> tuple[Sequential, ModelInfo | None]:
    """A whole model (``.keras`` or ``.h5``) and its column data, checked against it."""
    from glassnet.models import load_model

    model = sequential(load_model(path, compile=compile), path)
    info = read_info(path)
    if info is not None:
        info.check(model, path)
    return model, info
