"""Recurrent layers written out step by step, in an ONNX ``Scan``.

ONNX Runtime runs its ``RNN``, ``LSTM`` and ``GRU`` ops in float32 only, and the
ops know a fixed list of activations. A recurrent layer of a float64 graph, or
one with another activation (``gelu``, ``silu``...), becomes a ``Scan``: ONNX's
loop over the steps of a time-major sequence, whose body is one step of the layer
in elementary ops, as glassnet computes it:

- before the loop, the input projection of every step at once, ``P = x @ W + b``
  (``(steps, N, gates*U)``, Keras' gate order), one ``MatMul``;
- the body takes the state (``h``, and ``c`` for an LSTM) and one step ``P_t``,
  and gives the new state and the step's output ``h``::

    SimpleRNN  h = a(P_t + h @ U)
    LSTM       G = P_t + h @ U;  i, f, o = s(G_i), s(G_f), s(G_o);  g = a(G_c)
               c = f * c + i * g;  h = o * a(c)
    GRU        R = h @ U + b_h;  z = s(P_z + R_z);  r = s(P_r + R_r)
               n = a(P_h + r * R_h)   (reset_after=False: a(P_h + (r * h) @ U_h))
               h = n + z * (h - n)

- the loop starts from zero states, reads the steps last first for
  ``go_backwards`` (``scan_input_directions``) and stacks the outputs in reading
  order, or in time order where a Bidirectional wants them
  (``scan_output_directions``).

The activations are the graph's own translations (``_activations.py``): every
glassnet activation works, and a float64 graph keeps float64 precision.

>>> import numpy as np
>>> from glassnet.layers import SimpleRNN
>>> layer = SimpleRNN(2)
>>> layer.build((None, 3), np.random.default_rng(0), np.float64)
>>> g = GraphBuilder(np.float64, ["x"])
>>> y = scan_direction(g, "rnn", "x", layer, layer.params, flip=False)
>>> [node.op_type for node in g.nodes]
['MatMul', 'Add', 'Shape', 'Gather', 'Concat', 'Expand', 'Scan']
>>> [node.op_type for node in g.nodes[-1].attributes["body"].builder.nodes]
['MatMul', 'Add', 'Tanh', 'Identity']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.export._activations import export_activation
from glassnet.export._graph import GraphBuilder, Subgraph
from glassnet.layers import GRU, LSTM

__all__ = ["scan_direction", "scan_with_states"]


class _Step:
    """Shorthands for the nodes of one step, in the body of the loop."""

    def __init__(self, body: GraphBuilder, scope: str, units: int) -> None:
        self.body, self.scope, self.units = body, scope, units

    def __call__(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        return self.body.node(op_type, list(inputs), scope=self.scope, **attributes)

    def block(self, tensor: str, first: int, count: int = 1) -> str:
        """Gate blocks ``first .. first + count - 1`` of ``tensor`` (N, gates*U)."""
        start, stop = first * self.units, (first + count) * self.units
        starts = self.body.int64s([start], f"{self.scope}/from_{start}")
        ends = self.body.int64s([stop], f"{self.scope}/to_{stop}")
        axes = self.body.int64s([1], f"{self.scope}/axis_1")
        return self("Slice", tensor, starts, ends, axes)

    def activation(self, function: Any, z: str) -> str:
        return export_activation(self.body, function, z, scope=self.scope, rank=2)


def _simple_rnn_step(
    step: _Step, layer: Any, weights: dict[str, str], states: list[str], p: str
) -> list[str]:
    # h = a(P_t + h @ U)
    (h,) = states
    z = step("Add", p, step("MatMul", h, weights["U"]))
    return [step.activation(layer.activation, z)]


def _lstm_step(
    step: _Step, layer: Any, weights: dict[str, str], states: list[str], p: str
) -> list[str]:
    # G = P_t + h @ U, gates i, f, c, o; c = f * c + i * g; h = o * a(c)
    h, c = states
    gates = step("Add", p, step("MatMul", h, weights["U"]))
    s, a = layer.recurrent_activation, layer.activation
    i, f, g, o = (
        step.activation(a if k == 2 else s, step.block(gates, k)) for k in range(4)
    )
    c_new = step("Add", step("Mul", f, c), step("Mul", i, g))
    return [step("Mul", o, step.activation(a, c_new)), c_new]


def _gru_step(
    step: _Step, layer: Any, weights: dict[str, str], states: list[str], p: str
) -> list[str]:
    # z, r = s(P_zr + R_zr); n = a(P_h + r * R_h) or a(P_h + (r * h) @ U_h);
    # h = n + z * (h - n)
    (h,) = states
    s, a = layer.recurrent_activation, layer.activation
    if layer.reset_after:
        recurrent = step("MatMul", h, weights["U"])
        if "b_h" in weights:
            recurrent = step("Add", recurrent, weights["b_h"])
        recurrent_zr, r_h = step.block(recurrent, 0, 2), step.block(recurrent, 2)
    else:
        recurrent_zr = step("MatMul", h, weights["U_zr"])
    zr = step("Add", step.block(p, 0, 2), recurrent_zr)
    z, r = (step.activation(s, step.block(zr, k)) for k in (0, 1))
    if layer.reset_after:
        candidate = step("Mul", r, r_h)
    else:
        candidate = step("MatMul", step("Mul", r, h), weights["U_h"])
    n = step.activation(a, step("Add", step.block(p, 2), candidate))
    return [step("Add", n, step("Mul", z, step("Sub", h, n)))]


def _weights(
    g: GraphBuilder, scope: str, layer: Any, params: dict[str, Array]
) -> tuple[dict[str, str], Array | None]:
    """The body's weights by role (stored in the outer graph), and the input-side
    bias that the projection before the loop adds."""
    units, kernel = layer.units, params["recurrent_kernel"]
    bias = params["b"] if layer.use_bias else None
    weights: dict[str, str] = {}
    if type(layer) is GRU and not layer.reset_after:
        # (r * h) @ U_h needs the candidate's block apart from the gates'
        weights["U_zr"] = g.weight(
            f"{scope}.recurrent_kernel_zr", kernel[:, : 2 * units]
        )
        weights["U_h"] = g.weight(f"{scope}.recurrent_kernel_h", kernel[:, 2 * units :])
    else:
        weights["U"] = g.weight(f"{scope}.recurrent_kernel", kernel)
    if bias is not None and bias.ndim == 2:  # GRU reset_after: b_x, then b_h
        weights["b_h"] = g.weight(f"{scope}.recurrent_bias", bias[1])
        bias = bias[0]
    return weights, bias


def _zero_state(g: GraphBuilder, scope: str, x: str, units: int) -> str:
    """Zeros ``(N, units)``, N read from the time-major ``x`` (steps, N, D)."""
    batch = g.node(
        "Gather",
        [g.node("Shape", [x], scope=scope), g.int64s([1], f"{scope}/axis_1")],
        scope=scope,
        axis=0,
    )
    shape = g.node(
        "Concat", [batch, g.int64s([units], f"{scope}/units")], scope=scope, axis=0
    )
    return g.node("Expand", [g.constant(0.0, f"{scope}/zero"), shape], scope=scope)


def scan_direction(
    g: GraphBuilder,
    scope: str,
    x: str,
    layer: Any,
    params: dict[str, Array],
    flip: bool,
) -> str:
    """``layer`` over the time-major ``x`` in a ``Scan``: its sequence (steps, N,
    U) in time order, or reversed if ``flip``; or its last state (N, U).

    ``params`` are the layer's weights (its own, or those a Bidirectional holds
    for it).
    """
    return scan_with_states(g, scope, x, layer, params, flip)[0]


def scan_with_states(
    g: GraphBuilder,
    scope: str,
    x: str,
    layer: Any,
    params: dict[str, Array],
    flip: bool,
    initial: list[str] | None = None,
    mask: str | None = None,
) -> list[str]:
    """:func:`scan_direction`'s output, then the last states (``h``, and ``c`` for
    an LSTM; each (N, U)): the loop's final state outputs. The loop starts from
    ``initial`` (a layer's ``initial_state=`` tensors, (N, U) each), else zeros.

    ``mask`` (time-major ``(steps, N, 1)``, 1 where a step is real, 0 where it is
    padding, in the graph's float type) is read beside ``P_t``: a masked step keeps
    the states as they were, ``h = Where(m_t, h_new, h)``, and outputs them (zeros
    with ``zero_output_for_mask``), as the layer does.
    """
    units = layer.units
    weights, input_bias = _weights(g, scope, layer, params)
    # P = x @ W + b for every step at once, before the loop
    p = g.node("MatMul", [x, g.weight(f"{scope}.W", params["W"])], scope=scope)
    if input_bias is not None:
        p = g.node("Add", [p, g.weight(f"{scope}.b", input_bias)], scope=scope)
    count = 2 if type(layer) is LSTM else 1
    starts = initial or [_zero_state(g, scope, x, units)] * count

    body = g.body()
    states = [body.input(f"{scope}/{name}") for name in ("h", "c")[:count]]
    p_t = body.input(f"{scope}/P_t")
    run = {LSTM: _lstm_step, GRU: _gru_step}.get(type(layer), _simple_rnn_step)
    step = _Step(body, scope, units)
    new_states = run(step, layer, weights, states, p_t)
    loop_inputs = [(s, [None, units]) for s in states]
    loop_inputs.append((p_t, [None, layer.gates * units]))
    scan_inputs = [*starts, p]
    if mask is None:
        output = body.node("Identity", [new_states[0]], scope=scope)
    else:  # h = where(m_t, h_new, h): a masked step carries the states over
        m_t = body.input(f"{scope}/m_t")
        loop_inputs.append((m_t, [None, 1]))
        scan_inputs.append(mask)
        real = step("Cast", m_t, to=np.dtype(bool))
        fresh = new_states[0]
        new_states = [
            step("Where", real, new, old)
            for new, old in zip(new_states, states, strict=True)
        ]
        if layer.zero_output_for_mask:
            zero = body.constant(0.0, f"{scope}/zero_output")
            output = step("Where", real, fresh, zero)
        else:
            output = body.node("Identity", [new_states[0]], scope=scope)
    loop = Subgraph(
        body,
        loop_inputs,
        [(s, [None, units]) for s in [*new_states, output]],
    )
    main = count if layer.return_sequences else 0
    scan = g.node(
        "Scan",
        scan_inputs,
        scope=scope,
        output_index=main,
        outputs=count + 1,
        body=loop,
        num_scan_inputs=len(scan_inputs) - count,
        scan_input_directions=[int(layer.go_backwards)] * (len(scan_inputs) - count),
        # outputs are stacked in reading order; reversed, that is time order
        scan_output_directions=[int(layer.go_backwards != flip)],
    )
    outputs = g.nodes[-1].outputs  # the last states, then the stacked outputs
    return [scan, *outputs[:count]]
