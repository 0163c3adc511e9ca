"""``to_onnx``: write a glassnet model as a standard ONNX graph.

The graph computes what ``model.predict`` computes (inference mode: Dropout and
GaussianNoise are the identity, BatchNormalization uses its moving statistics) in the
model's own float type, with a dynamic batch axis by default. Its inputs and outputs
are laid out as glassnet's (images channels last, sequences batch-major);
convolutions and pools run channels-first inside and recurrent layers time-major,
as ONNX's ops want (``_layout.py``). It is written by
walking the model's graph (``_walk.py``), so Sequential and functional models,
branches, merges, several inputs and outputs and shared layers export alike. See
``docs/onnx.md`` for the op of every layer and activation.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.export._errors import MissingDependencyError
from glassnet.export._graph import GraphBuilder, Subgraph
from glassnet.export._walk import Dims, default_names, export_graph
from glassnet.io.atomic import atomic_write, check_path

if TYPE_CHECKING:
    import onnx

    from glassnet.models import Model

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


#: Names of the graph's inputs or outputs: one string, or one per input (output).
Names = str | Sequence[str] | None


@overload
def to_onnx(
    model: Model,
    path: None,
    *,
    opset: int | None = ...,
    input_name: Names = ...,
    output_name: Names = ...,
    batch_size: int | None = ...,
) -> onnx.ModelProto: ...


@overload
def to_onnx(
    model: Model,
    path: str | os.PathLike[str],
    *,
    opset: int | None = ...,
    input_name: Names = ...,
    output_name: Names = ...,
    batch_size: int | None = ...,
) -> Path: ...


def to_onnx(
    model: Model,
    path: str | os.PathLike[str] | None,
    *,
    opset: int | None = None,
    input_name: Names = None,
    output_name: Names = None,
    batch_size: int | None = None,
) -> Path | onnx.ModelProto:
    """Export a built model as an ONNX graph that ONNX Runtime can run.

    Parameters
    ----------
    model : Sequential or Model
        A built model (``NotBuiltError`` otherwise): a Sequential, or a functional
        model with branches, merges, several inputs and outputs and shared layers,
        made of glassnet's built-in layers and activations (``docs/onnx.md`` lists
        them).
    path : str, os.PathLike or None
        Where to write the ``.onnx`` file. The file is replaced atomically (a
        temporary file in the same folder, fsynced, then renamed), so an interrupted
        export leaves any previous file intact. ``None`` writes nothing and returns
        the ``onnx.ModelProto`` (``.SerializeToString()`` gives the file's bytes).
    opset : int, optional
        ONNX opset version, from 13 to the newest the installed ``onnx`` knows;
        default 17. From 20 on, GELU is a single ``Gelu`` node.
    input_name, output_name : str or list of str, optional
        Names of the graph's inputs and outputs (the keys of
        ``InferenceSession.run``), one per model input (output). By default a
        Sequential model's are ``"input"`` and ``"output"``, and a functional
        model's are the names of its Input layers and output layers.
    batch_size : int, optional
        Fix the batch axis to this size. By default it is dynamic (named
        ``"batch"``), so one file serves any number of samples. Axes of any length
        in the inputs (``Input((None, 8))``) are always dynamic.

    Returns
    -------
    pathlib.Path or onnx.ModelProto
        The path written, or the model itself when ``path`` is None.

    Notes
    -----
    The graph's inputs, weights and outputs have the model's dtype: a float32 model
    takes float32 arrays, a float64 model float64 arrays (``model.predict`` casts
    for you; ONNX Runtime does not), and an input that only Embedding layers read
    takes int64 token ids. Outputs match ``model.predict`` to float
    rounding: the runtime's MatMul, sums, exp and erf round differently from NumPy's.
    The graph computes in inference mode: Dropout and GaussianNoise are the
    identity, BatchNormalization uses its moving statistics.

    Raises
    ------
    NotBuiltError
        The model has no weights yet.
    ExportError
        A layer or activation has no ONNX translation (a custom subclass, a softmax
        over the batch axis or inside a recurrent layer, an integer input that a
        layer other than Embedding reads, a padding mask, a float64 convolution or
        pool on an axis of any length); the message names it.
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

    A functional model's inputs and outputs are named after its layers:

    >>> from glassnet import Input, Model
    >>> from glassnet.layers import Concatenate
    >>> a, b = Input((3,), name="a"), Input((2,), name="b")
    >>> joined = Concatenate()([Dense(4, name="hidden")(a), b])
    >>> two_inputs = Model([a, b], Dense(1, name="score")(joined))
    >>> session = ort.InferenceSession(to_onnx(two_inputs, None).SerializeToString())
    >>> [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]
    (['a', 'b'], ['score'])
    """
    from glassnet.models import Model

    if not isinstance(model, Model):
        raise GlassnetTypeError(
            "to_onnx expects a glassnet model (a Sequential or a functional Model). "
            f"Received: model={model!r:.100} ({type(model).__name__})"
        )
    target = None if path is None else _check_path(path)
    opset_version = DEFAULT_OPSET if opset is None else _check_opset(opset)
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise InvalidArgumentError(
            "Argument `batch_size` must be a positive integer, or None for a dynamic "
            f"batch axis. Received: batch_size={batch_size!r}"
        )
    if model.graph is None:
        model.built_input_shape()  # NotBuiltError, with the advice to build
    default_inputs, default_outputs = default_names(model)
    inputs = _check_names(input_name, "input_name", default_inputs)
    outputs = _check_names(output_name, "output_name", default_outputs)
    clashes = sorted(set(inputs) & set(outputs))
    if clashes:
        raise InvalidArgumentError(
            f"The inputs and outputs need different names; {clashes} name both. Pass "
            f"input_name= or output_name=. Received: input_name={input_name!r}, "
            f"output_name={output_name!r}"
        )
    onnx_lib = _import_onnx()

    g = GraphBuilder(model.dtype, inputs, opset_version)
    batch: int | str = "batch" if batch_size is None else int(batch_size)
    ports = export_graph(model, g, inputs, outputs, batch)
    proto = _assemble(onnx_lib, model, g, *ports)
    onnx_lib.checker.check_model(proto, full_check=True)
    if target is None:
        return proto
    data = proto.SerializeToString()
    with atomic_write(target) as file:
        file.write(data)
    return target


def _check_names(value: Any, argument: str, defaults: list[str]) -> list[str]:
    """One non-empty, distinct name per input (output); ``defaults`` for None."""
    if value is None:
        return defaults
    names = [value] if isinstance(value, str) else value
    count = len(defaults)
    what = "input" if argument == "input_name" else "output"
    if (
        not isinstance(names, (list, tuple))
        or len(names) != count
        or not all(isinstance(n, str) and n for n in names)
    ):
        expected = (
            "a non-empty string"
            if count == 1
            else f"a list of {count} non-empty strings, one per {what}"
        )
        raise GlassnetTypeError(
            f"Argument `{argument}` must be {expected}: the model has {count} "
            f"{what}(s). Received: {argument}={value!r}"
        )
    if len(set(names)) != len(names):
        raise InvalidArgumentError(
            f"Argument `{argument}` must give each {what} its own name. "
            f"Received: {argument}={value!r}"
        )
    return list(names)


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


def _nodes(helper: Any, g: GraphBuilder) -> list[Any]:
    """The builder's nodes as ``onnx.NodeProto``; a subgraph attribute (a
    ``Scan``'s body) becomes a ``GraphProto`` of its own nodes."""
    elem_type = helper.np_dtype_to_tensor_dtype(g.dtype)

    def attribute(value: Any) -> Any:
        if isinstance(value, np.dtype):
            return helper.np_dtype_to_tensor_dtype(value)
        if isinstance(value, Subgraph):
            return helper.make_graph(
                _nodes(helper, value.builder),
                "body",
                [
                    helper.make_tensor_value_info(n, elem_type, d)
                    for n, d in value.inputs
                ],
                [
                    helper.make_tensor_value_info(n, elem_type, d)
                    for n, d in value.outputs
                ],
            )
        return value

    return [
        helper.make_node(
            node.op_type,
            node.inputs,
            node.outputs,
            name=node.name,
            **{key: attribute(value) for key, value in node.attributes.items()},
        )
        for node in g.nodes
    ]


def _assemble(
    onnx_lib: Any,
    model: Model,
    g: GraphBuilder,
    inputs: list[tuple[str, Dims]],
    outputs: list[tuple[str, Dims]],
) -> onnx.ModelProto:
    """Turn the builder's records into an ``onnx.ModelProto``."""
    helper, numpy_helper = onnx_lib.helper, onnx_lib.numpy_helper
    elem_type = helper.np_dtype_to_tensor_dtype(g.dtype)
    ids_type = helper.np_dtype_to_tensor_dtype(np.dtype(np.int64))
    nodes = _nodes(helper, g)
    graph = helper.make_graph(
        nodes,
        model.name,
        [
            helper.make_tensor_value_info(
                n, ids_type if n in g.id_inputs else elem_type, dims
            )
            for n, dims in inputs
        ],
        [helper.make_tensor_value_info(n, elem_type, dims) for n, dims in outputs],
        initializer=[
            numpy_helper.from_array(array, name)
            for name, array in g.initializers.items()
        ],
        doc_string=(
            f"glassnet {type(model).__name__} model '{model.name}' ({g.dtype.name})"
        ),
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
