"""Recurrent layers explained with their own numbers: one step, and BPTT.

:func:`recurrent_step` shows one step of an LSTM, GRU or SimpleRNN for one
sample: the input and recurrent products of every gate, the gate values, the
cell and hidden states, as a table (one column per unit) and, for one unit,
number by number; :func:`recurrent_states` every step's states. Steps are
numbered t = 1 .. T; ``h_0 = c_0 = 0``. (:func:`glassnet.explain.bptt`, in
``through_time.py``, walks the backward pass through the steps.)

Everything is computed again in float64 from the layer's weights, the way a
textbook writes it (``explain/recurrent_cells.py``); the tests check each number
against the layer's own forward and backward passes.

>>> import numpy as np
>>> from glassnet.layers import LSTM
>>> lstm = LSTM(2, name="lstm")
>>> lstm.build((3, 1), np.random.default_rng(0), np.float64)
>>> table = recurrent_step(lstm, [[1.0], [0.5], [-1.0]], step=2)
>>> bool(np.allclose(table["h_2"], table["o"] * np.tanh(table["c_2"])))
True
>>> [row.name for row in table.quantities.rows][-3:]
['c_2', 'tanh(c_2)', 'h_2']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_positive_int
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
    ShapeError,
)
from glassnet.explain.layer_values import find_layer, layer_values, one_sample
from glassnet.explain.recurrent_cells import RECURRENT_LAYERS, CellMath
from glassnet.explain.recurrent_tables import RecurrentStepTable
from glassnet.gradient_check import float64_copy
from glassnet.layers import Bidirectional
from glassnet.models.network import Network
from glassnet.models.walk import Walk

__all__ = [
    "RecurrentStepTable",
    "check_unit",
    "find_recurrent",
    "input_and_padding",
    "layer_and_input",
    "reading_order",
    "recurrent_states",
    "recurrent_step",
]

_WHAT = "a SimpleRNN, LSTM or GRU layer"


def _built(layer: Any) -> Any:
    if "W" not in layer.params:
        raise NotBuiltError(
            f"Layer '{layer.name}' is not built: build it (or the model it is in) "
            "before explaining it."
        )
    return layer


def find_recurrent(model: Network, layer: Any) -> Any:
    """The recurrent layer of ``model`` that ``layer`` names, built; a Bidirectional
    wrapper gets advice on explaining its two layers."""
    wrappers = [item for item in model.layers if isinstance(item, Bidirectional)]
    named = layer is None or any(layer is w or layer == w.name for w in wrappers)
    if (
        wrappers
        and named
        and not (
            layer is None and any(isinstance(i, RECURRENT_LAYERS) for i in model.layers)
        )
    ):
        wrapper = (
            wrappers[0]
            if layer is None
            else next(w for w in wrappers if layer is w or layer == w.name)
        )
        raise InvalidArgumentError(
            f"Layer '{wrapper.name}' is a Bidirectional wrapper: explain its two "
            "layers on their own, e.g. recurrent_step(layer.forward_layer, x_seq) "
            "and recurrent_step(layer.backward_layer, x_seq), with the wrapper's "
            "input x_seq (glassnet.explain.layer_values(model, x, layer) gives it)."
        )
    return _built(find_layer(model, layer, kinds=RECURRENT_LAYERS, what=_WHAT))


def layer_and_input(model: Any, x: Any, layer: Any) -> tuple[Any, Array]:
    """The recurrent layer and its input sequence (T, features) for one sample:
    the real steps only, when a padding mask reaches the layer (see
    :func:`input_and_padding`)."""
    rnn, sample, _ = input_and_padding(model, x, layer)
    return rnn, sample


def input_and_padding(
    model: Any, x: Any, layer: Any
) -> tuple[Any, Array, tuple[int, ...]]:
    """The recurrent layer, its input's real steps (T, features) for one sample,
    and the rows a padding mask left out (1 = the first row; empty without one).

    In a model that makes padding masks (``Masking``, ``Embedding(mask_zero=True)``)
    the layer skips the masked steps: its state is carried over them unchanged, so
    the steps it computes are the real ones, in order, from the zero state. The
    explanations show those and name the rows they skipped.
    """
    padding: tuple[int, ...] = ()
    if isinstance(model, RECURRENT_LAYERS):
        rnn = _built(model)
        width = rnn.params["W"].shape[0]
        sample = one_sample(x, (None, width), np.float64, f"layer '{rnn.name}'")[0]
    elif isinstance(model, Network):
        rnn = find_recurrent(model, layer)
        if model._require_graph("explain").masking:
            sample, real = masked_layer_input(model, x, rnn)
            if real is not None:
                padding = tuple(int(t) + 1 for t in np.flatnonzero(~real))
                sample = sample[real]
        else:
            given, _ = layer_values(model, x, rnn)
            sample = np.asarray(given, dtype=np.float64)
    else:
        raise GlassnetTypeError(
            "Expected a glassnet model or a SimpleRNN, LSTM or GRU layer. Received: "
            f"{type(model).__name__}"
        )
    if sample.ndim != 2 or len(sample) == 0:
        what = "only padding (every step masked)" if padding else "an input"
        raise ShapeError(
            f"Layer '{rnn.name}' takes a sequence (time, features) per sample. "
            f"Received: {what} of shape {sample.shape}"
        )
    return rnn, sample, padding


def masked_layer_input(model: Any, x: Any, rnn: Any) -> tuple[Array, Array | None]:
    """``rnn``'s input for one sample (T, features) in float64, and the padding
    mask that reaches it ((T,) booleans, True where a step is real; None if no
    mask does), from the model's masked walk on a float64 copy (inference mode)."""
    graph = model._require_graph("explain")
    if len(graph.inputs) != 1:
        raise InvalidArgumentError(
            f"Model '{model.name}' has {len(graph.inputs)} inputs; following one "
            "sample through a layer needs a model with one input."
        )
    batch = one_sample(
        x, graph.inputs[0].sample_shape, np.float64, f"model '{model.name}'"
    )
    copy = float64_copy(model, batch)
    twin: Any = copy.layers[model.layers.index(rnn)]
    seen: dict[str, Any] = {}
    forward = twin.forward

    def record_forward(inputs: Array, **options: Any) -> Any:
        if "x" not in seen:  # the layer's first call
            seen["x"] = np.array(inputs[0], dtype=np.float64)
            mask = options.get("mask")
            seen["mask"] = None if mask is None else np.asarray(mask[0], bool)
        return forward(inputs, **options)

    twin.forward = record_forward
    try:
        with np.errstate(over="ignore"):  # exp -> inf is harmless: see activations
            Walk(copy.graph).forward([batch])  # type: ignore[arg-type]
    finally:
        del twin.forward
    return seen["x"], seen["mask"]


def reading_order(cell: CellMath, sample: Array) -> Array:
    return sample[::-1] if cell.go_backwards else sample


def check_unit(unit: Any, units: int) -> int:
    if (
        isinstance(unit, bool)
        or not isinstance(unit, (int, np.integer))
        or not 0 <= unit < units
    ):
        raise InvalidArgumentError(
            f"Argument `unit` must be an integer from 0 to {units - 1} (the layer has "
            f"{units} units). Received: unit={unit!r}"
        )
    return int(unit)


def recurrent_states(
    model: Any, x: Any, layer: Any = None
) -> tuple[Any, Array, Array, Array | None]:
    """The layer, its input (T, features) and every step's ``h`` and ``c``.

    ``c`` is None for a GRU or SimpleRNN. Rows are in the order the layer reads
    the sequence (reversed for ``go_backwards``); all float64. Under a padding
    mask, the real steps only (the layer skips the others).

    >>> import numpy as np
    >>> from glassnet.layers import GRU
    >>> gru = GRU(4)
    >>> gru.build((None, 2), np.random.default_rng(0), np.float64)
    >>> _, x, h, c = recurrent_states(gru, np.ones((5, 2)))
    >>> x.shape, h.shape, c
    ((5, 2), (5, 4), None)
    """
    rnn, sample = layer_and_input(model, x, layer)
    cell = CellMath(rnn)
    xs = reading_order(cell, sample)
    with np.errstate(over="ignore"):  # exp -> inf is harmless: see activations
        steps = cell.forward(xs)
    h = np.array([step[f"h_{t}"] for t, step in enumerate(steps, start=1)])
    c = None
    if cell.kind == "LSTM":
        c = np.array([step[f"c_{t}"] for t, step in enumerate(steps, start=1)])
    return rnn, xs, h, c


def recurrent_step(
    model: Any,
    x: Any,
    layer: Any = None,
    *,
    step: int | None = None,
    unit: int = 0,
    max_units: int = 8,
) -> RecurrentStepTable:
    """Show one step of a recurrent layer: every gate, state and sum, with its numbers.

    Parameters
    ----------
    model : Model, Sequential, SimpleRNN, LSTM or GRU
        A built model, or a built recurrent layer on its own.
    x : array-like
        One sample: a model input (e.g. a (8, 8) sequence of 8 rows, or token
        ids) with or without its batch axis of 1; for a layer on its own, that
        layer's input (time, features).
    layer : str, int, Layer or None
        The recurrent layer of ``model`` to show (name, index into
        ``model.layers``, or the layer); by default the first one. The model runs
        up to it in inference mode, as ``predict`` runs.
    step : int, optional
        The step t to show, from 1 (the first) to T (the last, the default).
    unit : int
        The unit worked out number by number (default 0).
    max_units : int
        How many units the table shows (the first and last ones; default 8).

    Returns
    -------
    RecurrentStepTable
        Printable (``print(table)``); ``table["i"]``, ``table.h``, ``table.c``
        and ``table.quantities`` hold the numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.layers import GRU
    >>> gru = GRU(3)
    >>> gru.build((None, 2), np.random.default_rng(0), np.float64)
    >>> table = recurrent_step(gru, np.ones((4, 2)), step=1)
    >>> table["h_0"]                       # the zero start
    array([0., 0., 0.])
    >>> bool(np.allclose(table["h_1"], (1 - table["z"]) * table["h~"]))
    True
    """
    rnn, sample, padding = input_and_padding(model, x, layer)
    rnn, xs, h, c = recurrent_states(rnn, sample)
    cell = CellMath(rnn)
    steps = len(xs)
    if step is None:
        step = steps
    if (
        isinstance(step, bool)
        or not isinstance(step, (int, np.integer))
        or not (1 <= step <= steps)
    ):
        raise InvalidArgumentError(
            f"Argument `step` must be a step t from 1 to {steps} (the sequence has "
            f"{steps} steps; t = 1 is the first). Received: step={step!r}"
        )
    unit = check_unit(unit, cell.units)
    max_units = check_positive_int(max_units, "max_units")
    with np.errstate(over="ignore"):
        quantities = cell.forward(xs[:step])[-1]
    return RecurrentStepTable(
        layer=cell.name,
        layer_type=cell.kind,
        step=int(step),
        steps=steps,
        x=xs,
        quantities=quantities,
        h=h,
        c=c,
        cell=cell,
        unit=unit,
        max_units=max_units,
        padding=padding,
    )
