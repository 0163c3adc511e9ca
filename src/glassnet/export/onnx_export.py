"""``to_onnx``: write a glassnet model as a standard ONNX graph.

The graph computes what ``model.predict`` computes (inference mode: Dropout is the
identity) in the model's own float type, with a dynamic batch axis by default. See
``docs/onnx.md`` for the op of every layer and activation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.export._errors import MissingDependencyError
from glassnet.export._graph import GraphBuilder
from glassnet.export._layers import export_layer
from glassnet.io.atomic import atomic_write, check_path

if TYPE_CHECKING:
    import onnx

    from glassnet.models import Sequential

__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "to_onnx"]

#: Opset 17 runs on ONNX Runtime >= 1.12 and the common converters and accelerators;
#: pass ``opset=20`` or later to get a single ``Gelu`` node instead of its formula.
DEFAULT_OPSET = 17
#: ``Softmax`` took its current meaning (one axis, not "flatten from axis") in opset 13.
MIN_OPSET = 13


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as error:
        raise MissingDependencyError(
            "Exporting to ONNX needs the `onnx` package, which glassnet installs as an "
            "optional extra: pip install 'glassnet[onnx]'"
        ) from error
    return onnx


@overload
def to_onnx(
    model: Sequential,
    path: None,
    *,
    opset: int | None = ...,
    input_name: str = ...,
    output_name: str = ...,
    batch_size: int | None = ...,
) -> onnx.ModelProto: ...


@overload
def to_onnx(
    model: Sequential,
    path: str | os.PathLike[str],
    *,
    opset: int | None = ...,
    input_name: str = ...,
    output_name: str = ...,
    batch_size: int | None = ...,
) -> Path: ...


def to_onnx(
    model: Sequential,
    path: str | os.PathLike[str] | None,
    *,
    opset: int | None = None,
    input_name: str = "input",
    output_name: str = "output",
    batch_size: int | None = None,
) -> Path | onnx.ModelProto:
    """Export a built model as an ONNX graph that ONNX Runtime can run.

    Parameters
    ----------
    model : Sequential
        A built model (``NotBuiltError`` otherwise) of Dense, Activation and Dropout
        layers with glassnet's own activations.
    path : str, os.PathLike or None
        Where to write the ``.onnx`` file. The file is replaced atomically (a
        temporary file in the same folder, fsynced, then renamed), so an interrupted
        export leaves any previous file intact. ``None`` writes nothing and returns
        the ``onnx.ModelProto`` (``.SerializeToString()`` gives the file's bytes).
    opset : int, optional
        ONNX opset version, from 13 to the newest the installed ``onnx`` knows;
        default 17. From 20 on, GELU is a single ``Gelu`` node.
    input_name, output_name : str
        Names of the graph's input and output tensors (the keys of
        ``InferenceSession.run``).
    batch_size : int, optional
        Fix the batch axis to this size. By default it is dynamic (named
        ``"batch"``), so one file serves any number of samples.

    Returns
    -------
    pathlib.Path or onnx.ModelProto
        The path written, or the model itself when ``path`` is None.

    Notes
    -----
    The graph's input, weights and output have the model's dtype: a float32 model
    takes float32 arrays, a float64 model float64 arrays (``model.predict`` casts for
    you; ONNX Runtime does not). Outputs match ``model.predict`` to float rounding:
    the runtime's MatMul, exp and erf round differently from NumPy's.

    Raises
    ------
    NotBuiltError
        The model has no weights yet.
    ExportError
        A layer or activation has no ONNX translation (a custom subclass, a softmax
        over the batch axis); the message names it.
    MissingDependencyError
        The ``onnx`` package is not installed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from glassnet.export import to_onnx
    >>> from glassnet.layers import Dense, Dropout
    >>> from glassnet.models import Sequential
    >>> model = Sequential(
    ...     [Dense(8, activation="relu", input_dim=3), Dropout(0.5),
    ...      Dense(2, activation="softmax")], seed=0)
    >>> x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = to_onnx(model, pathlib.Path(folder) / "model.onnx")
    ...     session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ...     (y,) = session.run(None, {"input": x})
    >>> np.allclose(y, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    True
    >>> proto = to_onnx(model, None)
    >>> [node.op_type for node in proto.graph.node]
    ['MatMul', 'Add', 'Relu', 'Identity', 'MatMul', 'Add', 'Softmax']
    """
    from glassnet.models import Sequential

    if not isinstance(model, Sequential):
        raise GlassnetTypeError(
            "to_onnx expects a glassnet Sequential model. "
            f"Received: model={model!r} ({type(model).__name__})"
        )
    target = None if path is None else _check_path(path)
    opset_version = DEFAULT_OPSET if opset is None else _check_opset(opset)
    for name, value in (("input_name", input_name), ("output_name", output_name)):
        if not isinstance(value, str) or not value:
            raise GlassnetTypeError(
                f"Argument `{name}` must be a non-empty string. Received: {name}={value!r}"
            )
    if input_name == output_name:
        raise InvalidArgumentError(
            "The input and output need different names. "
            f"Received: input_name={input_name!r}, output_name={output_name!r}"
        )
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise InvalidArgumentError(
            "Argument `batch_size` must be a positive integer, or None for a dynamic "
            f"batch axis. Received: batch_size={batch_size!r}"
        )
    input_shape = model.built_input_shape()  # NotBuiltError on an unbuilt model
    onnx_lib = _import_onnx()

    g = GraphBuilder(model.dtype, input_name, opset_version)
    shape, x = tuple(input_shape), input_name
    for layer in model.layers:
        x = export_layer(g, layer, x, rank=1 + len(shape))
        shape = layer.output_shape(shape)
    if output_name in g.initializers or any(n.output == output_name for n in g.nodes):
        raise InvalidArgumentError(
            f"output_name={output_name!r} is already the name of a weight or an "
            "intermediate tensor in this graph; choose another name."
        )
    g.rename_output(x, output_name)

    batch: int | str = "batch" if batch_size is None else int(batch_size)
    proto = _assemble(
        onnx_lib, model, g, [batch, *input_shape], [batch, *shape], output_name
    )
    onnx_lib.checker.check_model(proto, full_check=True)
    if target is None:
        return proto
    data = proto.SerializeToString()
    with atomic_write(target) as file:
        file.write(data)
    return target


def _check_path(path: Any) -> Path:
    target = Path(check_path(path, "path"))
    if target.is_dir():
        raise InvalidArgumentError(
            f"Argument `path` is a folder; give a file name such as "
            f"'{target / 'model.onnx'}'. Received: path={str(path)!r}"
        )
    return target


def _check_opset(opset: Any) -> int:
    onnx_lib = _import_onnx()
    newest = int(onnx_lib.defs.onnx_opset_version())
    if (
        isinstance(opset, bool)
        or not isinstance(opset, (int, np.integer))
        or not MIN_OPSET <= opset <= newest
    ):
        raise InvalidArgumentError(
            f"Argument `opset` must be an integer from {MIN_OPSET} to {newest} (the "
            f"newest this onnx {onnx_lib.__version__} knows). Received: opset={opset!r}"
        )
    return int(opset)


def _assemble(
    onnx_lib: Any,
    model: Sequential,
    g: GraphBuilder,
    input_dims: list[int | str],
    output_dims: list[int | str],
    output_name: str,
) -> onnx.ModelProto:
    """Turn the builder's records into an ``onnx.ModelProto``."""
    helper, numpy_helper = onnx_lib.helper, onnx_lib.numpy_helper
    elem_type = helper.np_dtype_to_tensor_dtype(g.dtype)
    nodes = [
        helper.make_node(
            node.op_type,
            node.inputs,
            [node.output],
            name=node.name,
            **{
                key: helper.np_dtype_to_tensor_dtype(value)
                if isinstance(value, np.dtype)
                else value
                for key, value in node.attributes.items()
            },
        )
        for node in g.nodes
    ]
    graph = helper.make_graph(
        nodes,
        model.name,
        [helper.make_tensor_value_info(g.input, elem_type, input_dims)],
        [helper.make_tensor_value_info(output_name, elem_type, output_dims)],
        initializer=[
            numpy_helper.from_array(array, name)
            for name, array in g.initializers.items()
        ],
        doc_string=f"glassnet Sequential model '{model.name}' ({g.dtype.name})",
    )
    from glassnet import __version__

    opsets = [helper.make_opsetid("", g.opset)]
    return helper.make_model(
        graph,
        opset_imports=opsets,
        # The oldest IR version that has this opset, so older runtimes can load it.
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name="glassnet",
        producer_version=__version__,
    )
