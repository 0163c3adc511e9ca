"""``glassnet convert IN OUT``: between every file format glassnet reads and writes.

======================  ==========  ============================================
file                    holds       written by
======================  ==========  ============================================
``.keras``              everything  ``model.save`` (Keras 3 zip)
``.h5``                 model       ``model.save`` (legacy Keras 2 HDF5)
``.h5 --weights-only``  weights     ``model.save_weights`` (Keras 2 layout)
``.weights.h5``         weights     ``model.save_weights`` (Keras 3 layout)
``.safetensors``        weights     ``model.save_weights``
``.json``               layers      ``model.to_json()``
``.onnx``               graph       :func:`glassnet.export.to_onnx` (needs ``onnx``)
======================  ==========  ============================================

A whole model converts to anything. A weights-only IN needs its architecture,
``--model ARCH`` (a ``.json``, or the layers of a ``.keras``/``.h5`` model). An
architecture alone converts only to ``.json``. The column data of ``glassnet
train`` (:mod:`.info`) goes along: inside a ``.keras``, in ``OUT.labels.json`` next
to other formats.
"""

from __future__ import annotations

import argparse
import os

from glassnet.cli.app import EXIT_OK, CliError
from glassnet.cli.info import ModelInfo
from glassnet.cli.modelfile import (
    load,
    read_info,
    save_model,
    sequential,
    sidecar_path,
    write_sidecar,
)
from glassnet.models import Sequential

__all__ = ["run_convert"]

_OUT = {
    "keras": "Keras 3 model",
    "h5": "legacy Keras 2 model",
    "h5-weights": "Keras 2 weights",
    "weights.h5": "Keras 3 weights",
    "safetensors": "safetensors weights",
    "json": "architecture JSON",
    "onnx": "ONNX graph",
}
_WEIGHTS = ("weights.h5", "safetensors", "h5-weights")


def file_kind(path: str) -> str | None:
    """The file format named by ``path``'s extension (``"keras"``, ``"h5"``, ...)."""
    name = path.lower()
    for ending, kind in (
        (".weights.h5", "weights.h5"),
        (".safetensors", "safetensors"),
        (".keras", "keras"),
        (".h5", "h5"),
        (".hdf5", "h5"),
        (".json", "json"),
        (".onnx", "onnx"),
    ):
        if name.endswith(ending):
            return kind
    return None


def run_convert(args: argparse.Namespace) -> int:
    source, out = args.source, args.target
    out_kind = file_kind(out)
    if out_kind is None:
        raise CliError(
            f"OUT {out!r}: glassnet writes .keras, .h5, .weights.h5, .safetensors, "
            ".json and .onnx files"
        )
    if args.weights_only:
        if out_kind not in ("h5", "weights.h5", "safetensors"):
            raise CliError("--weights-only applies to an OUT ending in .h5")
        out_kind = "h5-weights" if out_kind == "h5" else out_kind
    if not os.path.isfile(source):
        raise CliError(f"{source}: no such file")
    if os.path.abspath(source) == os.path.abspath(out):
        raise CliError(f"OUT {out!r} is IN; write to another file")
    from glassnet.cli.train import check_output

    check_output(out, args.overwrite, "OUT")
    model, info, weights = _read(source, args.model)
    if not weights and out_kind != "json":
        raise CliError(
            f"{source} holds an architecture without weights: convert it to .json, or "
            f"give weights: glassnet convert WEIGHTS {out} --model {source}"
        )
    _write(model, info, out, out_kind)
    extra = (
        f" and {sidecar_path(out)}" if info is not None and out_kind != "keras" else ""
    )
    print(f"Wrote {out} ({_OUT[out_kind]}){extra} from {source}.")
    return EXIT_OK


def _read(source: str, arch: str | None) -> tuple[Sequential, ModelInfo | None, bool]:
    """``(model, column data, whether the model holds trained weights)``."""
    kind = file_kind(source)
    if kind in ("keras", "h5") and (kind == "keras" or _whole_model(source)):
        if arch is not None:
            raise CliError(
                f"--model is for a weights-only IN; {source} is a whole model"
            )
        model, info = load(source)
        return model, info, True
    if kind == "json":
        return _architecture(source), read_info(source), False
    if kind not in ("h5", "weights.h5", "safetensors"):
        raise CliError(
            f"{source}: glassnet reads .keras, .h5, .weights.h5, .safetensors and .json files"
        )
    if arch is None:
        raise CliError(
            f"{source} holds weights only; give the architecture with --model ARCH "
            "(.json from model.to_json(), or a .keras/.h5 model)"
        )
    model = _architecture(arch)
    if not model.built:
        raise CliError(
            f"{arch}: the architecture has no input shape, so no weights fit it"
        )
    model.load_weights(source)
    info = read_info(source)
    if info is None and file_kind(arch) in ("keras", "h5", "json"):
        info = read_info(arch)
    if info is not None:
        info.check(model, source)
    return model, info, True


def _whole_model(path: str) -> bool:
    """Whether an ``.h5`` file is a whole model (it has a ``model_config``)."""
    from glassnet.errors import ModelFileError
    from glassnet.io import hdf5

    try:
        with hdf5.load_h5py().File(path, "r") as file:
            return hdf5.read_string(file, "model_config", path) is not None
    except OSError as error:
        raise ModelFileError(f"{path}: not an HDF5 file ({error}).") from None


def _architecture(path: str) -> Sequential:
    """An untrained model from a ``.json`` architecture, or the layers of a model file."""
    from glassnet.io import limits
    from glassnet.models import load_model, model_from_json

    if not os.path.isfile(path):
        raise CliError(f"{path}: no such file")
    if file_kind(path) != "json":
        return sequential(load_model(path, compile=False), path)
    with open(path, "rb") as handle:
        return sequential(model_from_json(handle.read(limits.MAX_JSON_BYTES + 1)), path)


def _write(model: Sequential, info: ModelInfo | None, out: str, kind: str) -> None:
    if kind in ("keras", "h5"):
        save_model(model, out, info)
        return
    if kind in _WEIGHTS:
        model.save_weights(out)
    elif kind == "json":
        from glassnet.io import atomic_write

        with atomic_write(out) as handle:
            handle.write(model.to_json().encode("utf-8"))
    else:
        from glassnet.export import to_onnx

        to_onnx(model, out)
    write_sidecar(out, info)
