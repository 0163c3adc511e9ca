"""A recurrent layer's states in ONNX: ``initial_state=`` and ``return_state=True``.

ONNX's ``RNN``, ``LSTM`` and ``GRU`` ops take the states to start from as
``initial_h`` (and ``initial_c``), ``(directions, N, U)``, and give the last ones
as ``Y_h`` (and ``Y_c``); a ``Scan`` (``_scan.py``) starts from them and gives
them as its final state outputs. The ops' other inputs and outputs are as
``_recurrent.py`` writes them.

>>> import numpy as np
>>> from glassnet import Input, Model
>>> from glassnet.export import to_onnx
>>> from glassnet.layers import GRU
>>> x, h0 = Input((None, 3)), Input((2,))
>>> y, h = GRU(2, return_state=True)(x, initial_state=[h0])
>>> [node.op_type for node in to_onnx(Model([x, h0], [y, h]), None).graph.node]
['Transpose', 'Unsqueeze', 'GRU', 'Gather', 'Identity']

(Without ``return_sequences`` the output is the last state: one ``Gather`` of
``Y_h`` gives both, and an ``Identity`` names the second graph output.)
"""

from __future__ import annotations

from typing import Any

from glassnet.export._errors import ExportError
from glassnet.export._graph import GraphBuilder, LayerCall
from glassnet.export._recurrent import (
    _OPS,
    _flip_time,
    _refuse_softmax,
    _take,
    onnx_cell,
    uses_scan,
)
from glassnet.export._scan import scan_with_states
from glassnet.layers import LSTM

__all__ = ["recurrent_with_states"]


def recurrent_with_states(g: GraphBuilder, call: LayerCall, states: int) -> list[str]:
    """A SimpleRNN, LSTM or GRU call given ``initial_state=`` (its last ``states``
    inputs, (N, U) each) or made with ``return_state=True``: ``[output, h]``, and
    ``c`` after ``h`` for an LSTM (Keras' order).

    The ONNX op starts from ``initial_h`` (and ``initial_c``), ``(1, N, U)``, and
    gives its last states as ``Y_h`` and ``Y_c``; a ``Scan`` starts from them and
    gives them as its final state outputs. A Bidirectional with states is refused.
    """
    # h_0 = the given states (or zeros); output, h_T (, c_T) = the op's Y or Y_h,
    # Y_h (, Y_c): a go_backwards layer's last states are those after the first row
    layer, scope = call.layer, call.scope
    if type(layer) not in _OPS:
        raise ExportError(
            f"Layer '{scope}' is a {type(layer).__name__} called with initial_state= "
            "or return_state=True, which glassnet.export writes for SimpleRNN, LSTM "
            "and GRU only. Export a model whose Bidirectional layers start from "
            f"zero states and return one output. Received: {type(layer).__name__}"
        )
    _refuse_softmax(layer)
    x, initial = call.inputs[0], call.inputs[len(call.inputs) - states :]
    flip = layer.go_backwards
    if uses_scan(g, layer):
        return scan_with_states(g, scope, x, layer, layer.params, flip, initial or None)
    cell = onnx_cell(layer, layer.params)
    count = 2 if type(layer) is LSTM else 1
    starts = [
        g.node("Unsqueeze", [s, g.int64s([0], f"{scope}/axis_0")], scope=scope)
        for s in initial
    ]
    inputs = [
        x,
        g.weight(f"{scope}.W", cell.W[None]),
        g.weight(f"{scope}.R", cell.R[None]),
        g.weight(f"{scope}.B", cell.bias()[None]),
    ]
    if starts:
        inputs += ["", *starts]  # no sequence_lens: every sequence is whole
    attributes: dict[str, Any] = dict(cell.attributes)
    if cell.alpha:
        attributes["activation_alpha"] = cell.alpha
    if cell.beta:
        attributes["activation_beta"] = cell.beta
    y = g.node(
        cell.op_type,
        inputs,
        scope=scope,
        outputs=count + 1,
        hidden_size=cell.units,
        direction="reverse" if layer.go_backwards else "forward",
        activations=cell.activations,
        **attributes,
    )
    last = [_take(g, scope, name, 0, 0) for name in g.nodes[-1].outputs[1:]]
    if not layer.return_sequences:
        return [last[0], *last]
    y = _take(g, scope, y, 1, 0)
    return [_flip_time(g, scope, y) if flip else y, *last]
