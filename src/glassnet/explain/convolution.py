"""One convolution shown as the matrix product it is (im2col), on a real input.

A convolution layer slides each of its F filters over its input. Every output
position reads one window of the (zero padded) input, ``kh x kw`` pixels of ``C``
channels; lay each window out as one row and the whole layer is one matrix
product, which is how Conv1D and Conv2D compute (``layers/im2col.py``)::

    col  (OH*OW, kh*kw*C)   row (oh, ow) = x_padded[oh*sh + i*dh, ow*sw + j*dw, c]
    W    (kh*kw*C, F)       the kernel (kh, kw, C, F) reshaped: one column per filter
    z    (OH*OW, F)         col @ W + b, reshaped to the output (OH, OW, F); y = f(z)

:func:`convolution` computes each of them for one input sample, with the layer's
own weights, and prints them as text tables, with one output worked out term by
term. A Conv1D is the same with one spatial axis: rows ``t``, columns ``(j, c)``.

>>> import numpy as np
>>> from glassnet.layers import Conv2D, Input
>>> from glassnet.models import Sequential
>>> model = Sequential([Input((3, 3, 1)), Conv2D(1, 2, name="conv")])
>>> model.set_weights([np.array([1.0, 2.0, 3.0, 4.0]).reshape(2, 2, 1, 1), np.zeros(1)])
>>> table = convolution(model, np.arange(9.0).reshape(3, 3, 1), position=(0, 0))
>>> table.columns.shape, table.kernel_matrix.shape, table.output.shape
((4, 4), (4, 1), (2, 2, 1))
>>> table.columns[0], table.output[:, :, 0]      # 0*1 + 1*2 + 3*3 + 4*4 = 27
(array([0., 1., 3., 4.], dtype=float32), array([[27., 37.],
       [57., 67.]], dtype=float32))
>>> print("\\n".join(str(table).splitlines()[-3:]))
Output (0,0) of filter f0, worked out (the layer's forward gives the same number):
  z[0,0, f0] = col[0,0] . W[:, f0] + b[f0]
             = 0 * 1 + 1 * 2 + 3 * 3 + 4 * 4 + 0 = 27
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, NotBuiltError
from glassnet.explain.convolution_table import ConvolutionTable
from glassnet.explain.layer_values import find_layer, layer_values, one_sample
from glassnet.explain.matrix_text import label
from glassnet.layers import Conv1D, Conv2D
from glassnet.models.network import Network

__all__ = ["ConvolutionTable", "convolution"]


def _check_position(position: Any, out_size: tuple[int, ...]) -> tuple[int, ...]:
    """The output position to work out: the middle one by default."""
    if position is None:
        return tuple(n // 2 for n in out_size)
    values = (position,) if isinstance(position, (int, np.integer)) else position
    try:
        index = tuple(int(v) for v in values)
        ok = len(index) == len(out_size) and all(
            0 <= i < n and not isinstance(v, bool)
            for i, n, v in zip(index, out_size, values, strict=True)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidArgumentError(
            f"Argument `position` must be an output position, {len(out_size)} "
            f"integer(s) within the output's spatial size {out_size}. Received: "
            f"position={position!r}"
        )
    return index


def convolution(
    model: Any,
    x: Any,
    layer: Any = None,
    *,
    position: Any = None,
    filter_index: int = 0,
) -> ConvolutionTable:
    """Show one convolution of one sample as ``z = col @ W + b`` (im2col).

    Parameters
    ----------
    model : Model, Sequential, Conv1D or Conv2D
        A built model, or a built convolution layer on its own.
    x : array-like
        One sample: a model input (e.g. an (8, 8, 1) image) with or without its
        batch axis of 1; for a layer on its own, that layer's input.
    layer : str, int, Layer or None
        The convolution layer of ``model`` to show (name, index into
        ``model.layers``, or the layer); by default the first one. The model
        runs up to it in inference mode, as ``predict`` runs.
    position : int or tuple of int, optional
        The output position worked out term by term; by default the middle one.
    filter_index : int
        The filter whose output is worked out (default 0).

    Returns
    -------
    ConvolutionTable
        Printable (``print(table)``); the matrices are its attributes.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.layers import Conv1D
    >>> conv = Conv1D(1, 2, use_bias=False)
    >>> conv.build((4, 1), np.random.default_rng(0), np.float64)
    >>> conv.set_weights([np.array([[[1.0]], [[10.0]]])])
    >>> table = convolution(conv, [[1.0], [2.0], [3.0], [4.0]])
    >>> table.columns, table.y[:, 0]
    (array([[1., 2.],
           [2., 3.],
           [3., 4.]]), array([21., 32., 43.]))
    """
    if isinstance(model, (Conv1D, Conv2D)):
        conv = model
        if "W" not in conv.params:
            raise NotBuiltError(
                f"Layer '{conv.name}' is not built: build it (or the model it is in) "
                "before explaining its convolution."
            )
        if conv.input_shape is None:
            raise NotBuiltError(f"Layer '{conv.name}' has no input shape yet.")
        dtype = conv.params["W"].dtype
        sample = one_sample(x, tuple(conv.input_shape), dtype, f"layer '{conv.name}'")[
            0
        ]
    elif isinstance(model, Network):
        found = find_layer(
            model, layer, kinds=(Conv1D, Conv2D), what="a Conv1D or Conv2D layer"
        )
        assert isinstance(found, (Conv1D, Conv2D))
        conv = found
        sample, _ = layer_values(model, x, conv)
    else:
        raise GlassnetTypeError(
            "convolution expects a glassnet model or a Conv1D/Conv2D layer. "
            f"Received: {type(model).__name__}"
        )
    if (
        isinstance(filter_index, bool)
        or not isinstance(filter_index, (int, np.integer))
        or not 0 <= filter_index < conv.filters
    ):
        raise InvalidArgumentError(
            f"Argument `filter_index` must be an integer from 0 to {conv.filters - 1} "
            f"(layer '{conv.name}' has {conv.filters} filters). Received: "
            f"filter_index={filter_index!r}"
        )
    return _table_for(conv, sample, position, int(filter_index))


def _table_for(
    conv: Conv1D | Conv2D, sample: Array, position: Any, filter_index: int
) -> ConvolutionTable:
    rank = conv.rank
    geometry = conv.conv_geometry(sample.shape[:-1])
    out_size = geometry.output_size[2 - rank :]
    columns = conv.column_matrix(sample[np.newaxis])
    kernel_matrix = conv.params["W"].reshape(-1, conv.filters)
    bias = conv.params.get("b")
    z = columns @ kernel_matrix
    if bias is not None:
        z += bias
    output = z.reshape(*out_size, conv.filters)
    with np.errstate(over="ignore"):  # exp -> inf is harmless: see activations
        y = conv.activation.forward(output)
    pads = geometry.pads[2 - rank :]
    padded = np.pad(sample, (*pads, (0, 0)))
    offsets = np.ndindex(*conv.kernel_size, sample.shape[-1])
    return ConvolutionTable(
        layer=str(conv.name),
        layer_type=type(conv).__name__,
        activation=conv.activation.name,
        kernel_size=tuple(conv.kernel_size),
        strides=tuple(conv.strides),
        dilation_rate=tuple(conv.dilation_rate),
        padding=conv.padding,
        pads=tuple((int(p[0]), int(p[1])) for p in pads),
        x=sample,
        padded=padded,
        columns=np.array(columns),  # C-ordered: a C == 1 column matrix is a view
        kernel_matrix=kernel_matrix.copy(),  # the model's weights may train on
        bias=None if bias is None else bias.copy(),
        z=z,
        output=output,
        y=y,
        position=_check_position(position, out_size),
        filter_index=filter_index,
        row_labels=[label(p) for p in np.ndindex(*out_size)],
        column_labels=[label(o) for o in offsets],
    )
