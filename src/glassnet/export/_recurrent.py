"""ONNX translations of the recurrent layers: SimpleRNN, LSTM, GRU and Bidirectional.

Each becomes one ONNX ``RNN``, ``LSTM`` or ``GRU`` node on time-major sequences
``(steps, N, features)``: ONNX Runtime's CPU kernels refuse ``layout=1``
(batch-major), so the walk transposes the input once (``_layout.TIME_MAJOR``) and
a returned sequence stays time-major for the next recurrent layer. The weights
are rewritten from Keras' layout (``W`` ``(D, gates*U)``, columns in gate blocks)
into ONNX's (``W`` ``(1, gates*U, D)``, rows in gate blocks; ``R`` likewise; ``B``
the input-side bias, then the recurrent-side one):

- ``SimpleRNN``: ``RNN``, ``B = [b, 0]``.
- ``LSTM``: ``LSTM`` with the gate blocks reordered from Keras' i, f, c, o to
  ONNX's i, o, f, c; ``B = [b, 0]``; activations ``(recurrent_activation,
  activation, activation)`` for ONNX's ``(f, g, h)``.
- ``GRU``: ``GRU``, gates z, r, h in both; ``reset_after=True`` is
  ``linear_before_reset=1`` with ``B = [b_x, b_h]`` (the reset gate multiplies
  ``h @ U_h + b_h``, as in Keras); ``reset_after=False`` is
  ``linear_before_reset=0`` with ``B = [b, 0]`` (Keras has no recurrent bias).

``return_sequences`` takes the node's ``Y`` ``(steps, 1, N, U)`` without its
direction axis; otherwise its last state ``Y_h`` ``(1, N, U)`` becomes ``(N, U)``.
``go_backwards`` is ``direction="reverse"``; its ``Y`` holds each step's output at
the step's own place, which Keras returns in reading order (last step first), so
the sequence is flipped in time (``Slice`` with step -1). ``Bidirectional`` is one
``direction="bidirectional"`` node when its two layers differ only in direction
(as Keras makes them), else one node each; then its merge (``Concat``, ``Add``,
``Mul``, ``(y + y_rev) * 0.5``).

Activations: ONNX's recurrent ops know a fixed list; glassnet's ``sigmoid``,
``tanh``, ``relu``, ``linear`` (``Affine(1, 0)``), ``leaky_relu``, ``elu`` and
``softplus`` are on it. A layer with another activation (``gelu``, ``silu``...),
and any recurrent layer of a float64 graph (ONNX Runtime's recurrent ops are
float32 only), is written out step by step in a ``Scan`` instead (``_scan.py``).

>>> from glassnet import Input
>>> from glassnet.export import to_onnx
>>> from glassnet.layers import LSTM
>>> from glassnet.models import Sequential
>>> model = Sequential([Input((None, 3)), LSTM(2, return_sequences=True, go_backwards=True)])
>>> [node.op_type for node in to_onnx(model, None).graph.node]
['Transpose', 'LSTM', 'Gather', 'Slice', 'Transpose']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet import activations as act
from glassnet._typing import Array
from glassnet.export._errors import ExportError
from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.export._scan import scan_direction
from glassnet.layers import GRU, LSTM, Bidirectional, Layer, SimpleRNN

__all__ = [
    "RECURRENT_CONVERTERS",
    "RECURRENT_LAYERS",
    "onnx_activation",
    "uses_scan",
]

#: Each recurrent layer's ONNX op.
_OPS: dict[type, str] = {SimpleRNN: "RNN", LSTM: "LSTM", GRU: "GRU"}

#: Keras' LSTM gate blocks are i, f, c, o; ONNX's are i, o, f, c.
LSTM_GATE_ORDER = (0, 3, 1, 2)

#: glassnet activation -> (ONNX recurrent activation, its alpha and beta, if any).
_ACTIVATIONS: dict[type, Callable[[Any], tuple[str, list[float], list[float]]]] = {
    act.Sigmoid: lambda a: ("Sigmoid", [], []),
    act.Tanh: lambda a: ("Tanh", [], []),
    act.ReLU: lambda a: ("Relu", [], []),
    act.Linear: lambda a: ("Affine", [1.0], [0.0]),
    act.LeakyReLU: lambda a: ("LeakyRelu", [float(a.negative_slope)], []),
    act.ELU: lambda a: ("Elu", [float(a.alpha)], []),
    act.Softplus: lambda a: ("Softplus", [], []),
}


def onnx_activation(activation: Any) -> tuple[str, list[float], list[float]] | None:
    """ONNX's name for ``activation`` inside a recurrent op, with its alpha and
    beta; None for an activation the ops do not know.

    >>> onnx_activation(act.get("leaky_relu"))
    ('LeakyRelu', [0.2], [])
    >>> onnx_activation(act.get("gelu")) is None
    True
    """
    convert = _ACTIVATIONS.get(type(activation))
    return None if convert is None else convert(activation)


def _activation_arguments(layer: Any) -> list[str]:
    """The layer's activations in the order of ONNX's (f, g, h) for its op."""
    if type(layer) is SimpleRNN:
        return ["activation"]
    if type(layer) is LSTM:
        return ["recurrent_activation", "activation", "activation"]
    return ["recurrent_activation", "activation"]


def _refuse_softmax(layer: Any) -> None:
    for argument in _activation_arguments(layer):
        if type(getattr(layer, argument)) is act.Softmax:
            raise ExportError(
                f"Layer '{layer.name}' uses {argument}='softmax', which "
                "glassnet.export does not translate inside a recurrent layer: "
                "glassnet's recurrent layers apply their activations to (units, "
                "batch) blocks, so a softmax there normalizes over the samples of "
                "a batch (Keras normalizes over the units), and its result "
                "depends on how predict() splits the data. Use an elementwise "
                f"activation. Received: {argument}={getattr(layer, argument)!r}"
            )


def uses_scan(g: GraphBuilder, layer: Any) -> bool:
    """Whether ``layer`` is written out in a ``Scan`` (``_scan.py``) rather than
    ONNX's op: in float64 graphs (ONNX Runtime's ops are float32 only), and for
    activations the ops do not know."""
    return g.dtype == np.float64 or any(
        onnx_activation(getattr(layer, argument)) is None
        for argument in _activation_arguments(layer)
    )


@dataclass
class Cell:
    """One direction of a recurrent op: its ONNX weights and attributes.

    ``W`` is ``(gates*U, D)``, ``R`` ``(gates*U, U)`` and ``B`` ``(2*gates*U,)``
    or None (no bias), all in ONNX's gate order.
    """

    op_type: str
    units: int
    W: Array
    R: Array
    B: Array | None
    activations: list[str]
    alpha: list[float]
    beta: list[float]
    attributes: dict[str, Any] = field(default_factory=dict)

    def same_op(self, other: Cell) -> bool:
        """Whether ``other`` fits in one node with this cell (a Bidirectional's
        two directions may differ in their activations and biases, not in these)."""
        return (
            self.op_type == other.op_type
            and self.units == other.units
            and self.W.shape == other.W.shape
            and self.attributes == other.attributes
        )

    def bias(self) -> Array:
        """``B``, zeros where the layer has no bias."""
        if self.B is not None:
            return self.B
        return np.zeros(2 * self.W.shape[0], dtype=self.W.dtype)


def _gate_blocks(kernel: Array, order: tuple[int, ...]) -> Array:
    """Keras' ``(rows, gates*U)`` kernel as ONNX's ``(gates*U, rows)``, the gate
    blocks in ``order`` (block k of the result is Keras' block ``order[k]``)."""
    blocks = np.split(kernel, len(order), axis=-1)
    return np.concatenate([blocks[k] for k in order], axis=-1).T


def _activations(layer: Any) -> tuple[list[str], list[float], list[float]]:
    """The op's ``activations``, ``activation_alpha`` and ``activation_beta``
    (for a layer whose activations the op knows: see :func:`uses_scan`)."""
    names: list[str] = []
    alpha: list[float] = []
    beta: list[float] = []
    for argument in _activation_arguments(layer):
        function = getattr(layer, argument)
        name, function_alpha, function_beta = _ACTIVATIONS[type(function)](function)
        names.append(name)
        alpha += function_alpha
        beta += function_beta
    return names, alpha, beta


def onnx_cell(layer: Any, params: dict[str, Array]) -> Cell:
    """The ONNX weights and attributes of ``layer``, whose weights are ``params``
    (its own, or the ones a Bidirectional holds for it)."""
    units, gates = layer.units, layer.gates
    order = LSTM_GATE_ORDER if type(layer) is LSTM else tuple(range(gates))
    W = _gate_blocks(params["W"], order)
    R = _gate_blocks(params["recurrent_kernel"], order)
    attributes: dict[str, Any] = {}
    names = _activations(layer)
    if type(layer) is GRU:
        attributes["linear_before_reset"] = int(layer.reset_after)
    B = None
    if layer.use_bias:
        bias = params["b"].reshape(-1, gates * units)  # one row, or GRU's two
        rows = [_gate_blocks(row[None, :], order)[:, 0] for row in bias]
        if len(rows) == 1:  # Keras has no recurrent-side bias: ONNX's is zero
            rows.append(np.zeros_like(rows[0]))
        B = np.concatenate(rows)
    return Cell(_OPS[type(layer)], units, W, R, B, *names, attributes)


def _recurrent_node(
    g: GraphBuilder,
    scope: str,
    x: str,
    cells: list[Cell],
    direction: str,
    sequences: bool,
) -> str:
    """One ONNX recurrent node over the time-major ``x``: its ``Y`` (steps,
    directions, N, U) if ``sequences``, else its ``Y_h`` (directions, N, U)."""
    first = cells[0]
    inputs = [
        x,
        g.weight(f"{scope}.W", np.stack([c.W for c in cells])),
        g.weight(f"{scope}.R", np.stack([c.R for c in cells])),
    ]
    if any(c.B is not None for c in cells):
        inputs.append(g.weight(f"{scope}.B", np.stack([c.bias() for c in cells])))
    attributes: dict[str, Any] = dict(first.attributes)
    alpha = [a for c in cells for a in c.alpha]
    beta = [b for c in cells for b in c.beta]
    if alpha:
        attributes["activation_alpha"] = alpha
    if beta:
        attributes["activation_beta"] = beta
    return g.node(
        first.op_type,
        inputs,
        scope=scope,
        output_index=0 if sequences else 1,
        hidden_size=first.units,
        direction=direction,
        activations=[name for c in cells for name in c.activations],
        **attributes,
    )


def _take(g: GraphBuilder, scope: str, tensor: str, axis: int, index: int) -> str:
    """``tensor[index]`` along ``axis``, that axis dropped (one direction of Y)."""
    position = g.constant(index, f"{scope}/direction_{index}", dtype=np.int64)
    return g.node("Gather", [tensor, position], scope=scope, axis=axis)


def _flip_time(g: GraphBuilder, scope: str, sequence: str) -> str:
    """The time-major ``sequence`` last step first: ``Slice`` with step -1."""
    starts = g.int64s([-1], f"{scope}/flip_starts")
    ends = g.int64s([np.iinfo(np.int64).min], f"{scope}/flip_ends")
    axes = g.int64s([0], f"{scope}/flip_axes")
    steps = g.int64s([-1], f"{scope}/flip_steps")
    return g.node("Slice", [sequence, starts, ends, axes, steps], scope=scope)


def _one_direction(
    g: GraphBuilder,
    scope: str,
    x: str,
    layer: Any,
    params: dict[str, Array],
    flip: bool,
) -> str:
    """``layer`` over ``x`` (time-major): its sequence (time-major, flipped in time
    if ``flip``) or its last state (N, U)."""
    _refuse_softmax(layer)
    if uses_scan(g, layer):
        return scan_direction(g, scope, x, layer, params, flip)
    direction = "reverse" if layer.go_backwards else "forward"
    cell = onnx_cell(layer, params)
    y = _recurrent_node(g, scope, x, [cell], direction, layer.return_sequences)
    y = _take(g, scope, y, 1 if layer.return_sequences else 0, 0)
    return _flip_time(g, scope, y) if layer.return_sequences and flip else y


def _recurrent(g: GraphBuilder, call: LayerCall) -> str:
    # h_t = cell(x_t, h_{t-1}) over the steps, in ONNX's gate order; Keras returns
    # a go_backwards sequence in reading order, the reverse of ONNX's Y
    layer = call.layer
    return _one_direction(
        g, call.scope, call.x, layer, layer.params, flip=layer.go_backwards
    )


def _inner_params(layer: Bidirectional, prefix: str) -> dict[str, Array]:
    """The weights the Bidirectional holds for one of its layers, by inner key."""
    return {
        key[len(prefix) :]: value
        for key, value in layer.params.items()
        if key.startswith(prefix)
    }


def _bidirectional(g: GraphBuilder, call: LayerCall) -> str:
    # out = merge(y, y_rev), y_rev put back in time order with return_sequences
    layer: Bidirectional = call.layer
    scope, sequences = call.scope, layer.return_sequences
    forward, backward = layer.forward_layer, layer.backward_layer
    for inner in (forward, backward):
        if type(inner) not in _OPS:
            raise ExportError(
                f"Layer '{scope}' is a Bidirectional around '{inner.name}', a "
                f"{type(inner).__name__}: glassnet.export translates SimpleRNN, "
                "LSTM and GRU (subclasses are refused because they may compute "
                f"something else). Received: {type(inner).__name__}"
            )
    params = [_inner_params(layer, prefix) for prefix in layer.prefixes]
    if (
        type(forward) is type(backward)
        and not forward.go_backwards
        and not uses_scan(g, forward)
        and not uses_scan(g, backward)
        and onnx_cell(forward, params[0]).same_op(onnx_cell(backward, params[1]))
    ):
        # one node: its reverse direction's outputs are already in time order
        cells = [onnx_cell(forward, params[0]), onnx_cell(backward, params[1])]
        both = _recurrent_node(g, scope, call.x, cells, "bidirectional", sequences)
        axis = 1 if sequences else 0
        y, y_rev = (_take(g, scope, both, axis, k) for k in (0, 1))
    else:  # a node each, named after the inner layers
        y = _one_direction(
            g,
            f"{scope}/{forward.name}",
            call.x,
            forward,
            params[0],
            flip=forward.go_backwards,
        )
        # Keras flips the backward sequence once more, into time order
        y_rev = _one_direction(
            g,
            f"{scope}/{backward.name}",
            call.x,
            backward,
            params[1],
            flip=not backward.go_backwards,
        )
    return _merge(g, scope, layer.merge_mode, y, y_rev)


def _merge(g: GraphBuilder, scope: str, mode: str, y: str, y_rev: str) -> str:
    if mode == "concat":
        return g.node("Concat", [y, y_rev], scope=scope, axis=-1)
    if mode == "mul":
        return g.node("Mul", [y, y_rev], scope=scope)
    total = g.node("Add", [y, y_rev], scope=scope)
    if mode == "sum":
        return total
    # ave: (y + y_rev) * 0.5, in the order glassnet rounds it
    return g.node("Mul", [total, g.constant(0.5, f"{scope}/half")], scope=scope)


RECURRENT_CONVERTERS: dict[type[Layer], Callable[[GraphBuilder, LayerCall], str]] = {
    Bidirectional: _bidirectional,
    GRU: _recurrent,
    LSTM: _recurrent,
    SimpleRNN: _recurrent,
}

#: The layers that take their input time-major.
RECURRENT_LAYERS: frozenset[type[Layer]] = frozenset(RECURRENT_CONVERTERS)
