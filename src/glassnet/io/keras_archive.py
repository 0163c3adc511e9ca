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
{...}}`` (``save_model(..., metadata=...)``):
:func:`~glassnet.io.user_metadata.check_user_metadata` checks it before writing, and
:func:`~glassnet.io.user_metadata.read_user_metadata` reads it back from
``metadata.json`` alone, never opening ``model.weights.h5``.

This module knows what the members mean. Reading the zip safely (the directory
check, bounded members, the weights' size bound) is :mod:`glassnet.io.keras_zip`;
the ``metadata=`` checks are :mod:`glassnet.io.user_metadata`.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import zipfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from glassnet import __version__
from glassnet._typing import Array
from glassnet.errors import ModelFileError
from glassnet.io import hdf5, keras_h5, safe_json
from glassnet.io.architecture import model_from_config, model_to_config
from glassnet.io.compile_config import compile_from_config, compile_to_config
from glassnet.io.initial_weights import draw_initial_weights
from glassnet.io.keras_compat import KERAS_VERSION, check_all_claims
from glassnet.io.keras_zip import (
    CONFIG,
    METADATA,
    WEIGHTS,
    check_weights_size,
    opened,
    read_configs,
    weights_file,
)
from glassnet.io.slots import commit
from glassnet.io.training_state import (
    dump_generator,
    restore_generator,
    restore_optimizer,
)
from glassnet.io.user_metadata import (
    MAX_USER_METADATA_BYTES,
    USER,
    check_user_metadata,
    read_user_metadata,
)

if TYPE_CHECKING:
    import numpy as np

    from glassnet.models import Model

__all__ = [
    "MAX_USER_METADATA_BYTES",
    "check_user_metadata",
    "open_weights",
    "read_model",
    "read_user_metadata",
    "read_weights",
    "write_archive",
]


def write_archive(
    handle: IO[bytes],
    model: Model,
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
        metadata_json["glassnet"][USER] = check_user_metadata(metadata)
    weights = io.BytesIO()
    with h5py.File(weights, "w") as file:
        keras_h5.write_weights(file, model, include_optimizer)
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, safe_json.dumps(metadata_json))
        archive.writestr(CONFIG, safe_json.dumps(config))
        archive.writestr(WEIGHTS, weights.getvalue())


def _own_generators(model: Model) -> list[tuple[Any, np.random.Generator]]:
    """Layers that draw from their own generator (``Dropout(seed=...)``)."""
    import numpy as np

    found = []
    for layer in model.layers:
        generator = getattr(layer, "_rng", None)
        if isinstance(generator, np.random.Generator) and generator is not model.rng:
            found.append((layer, generator))
    return found


@contextlib.contextmanager
def open_weights(path: str, where: str) -> Iterator[Any]:
    """model.weights.h5 open as an HDF5 file, for tools that look inside an archive.

    Read as the loaders read it: config.json first (no code claims, a model glassnet
    can build), which bounds the size the weights member may declare; only then is
    it inflated.
    """
    with opened(path, where) as (archive, infos):
        config, _ = read_configs(archive, infos, where)
        check_all_claims(config, f"{where}: {CONFIG}")
        model = model_from_config(
            config,
            f"{where}: {CONFIG}",
            None,
            "default",
            stored_bytes=infos[WEIGHTS].file_size,
        )
        check_weights_size(infos[WEIGHTS], model, where)
        with weights_file(archive, infos[WEIGHTS], where) as file:
            yield file


def read_weights(
    path: str, model: Model, where: str, allow_nonfinite: bool = False
) -> list[Array]:
    """Only the layer weights of a ``.keras`` archive, for ``model.load_weights``.

    config.json is read and checked too: weights are not taken from a file whose
    config names code.
    """
    with opened(path, where) as (archive, infos):
        config, _ = read_configs(archive, infos, where)
        check_all_claims(config, f"{where}: {CONFIG}")
        check_weights_size(infos[WEIGHTS], model, where)
        with weights_file(archive, infos[WEIGHTS], where) as file:
            return keras_h5.read_layer_weights(
                file, model, f"{where}: {WEIGHTS}", allow_nonfinite
            )


def read_model(
    path: str,
    where: str,
    custom_objects: dict[str, type] | None = None,
    compile: bool = True,
    allow_nonfinite: bool = False,
) -> Model:
    """Rebuild, fill, compile and restore the training state of a ``.keras`` model."""
    with opened(path, where) as (archive, infos):
        config, metadata = read_configs(archive, infos, where)
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
        check_weights_size(infos[WEIGHTS], model, where)
        here = f"{where}: {WEIGHTS}"
        state = None
        with weights_file(archive, infos[WEIGHTS], where) as file:
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


def _restore_generators(model: Model, ours: dict[str, Any], where: str) -> None:
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
