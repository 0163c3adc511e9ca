"""``model.summary(explain=True)``: how each layer's numbers are formed.

Under each layer of the summary table, ``explain=True`` shows:

- **params**: the sizes of its weights, ``2 x 10 + 10 = 30`` for a Dense(10) on two
  inputs (W is 2 x 10, b has 10 entries); the non-trainable ones are named
  (BatchNormalization's moving statistics, or every weight of a frozen layer).
- **output** (convolutions, pools, padding, Flatten, global pools): how the output
  shape is formed. Each spatial axis of a convolution or pool is worked out as
  ``(n + pads - k) / s + 1``, e.g. ``(8 + 2 x 1 - 3) / 1 + 1 = 8`` for a 3 x 3
  kernel with 'same' padding on 8 pixels (``floor`` when the stride does not divide,
  ``d x (k - 1) + 1`` for the span of a dilated kernel), followed by the number of
  outputs and the inputs each one reads: a Conv2D(8, 3) on (8, 8, 1) images has
  ``3 x 3 x 1 + 1`` weights per filter and makes ``8 x 8 x 8 = 512`` outputs, each
  a sum over ``3 x 3 x 1 = 9`` inputs, so its FLOPs are ``2 x 9 x 512`` plus the
  bias and the activation. Dense layers have no such line.
- **FLOPs** per sample for the forward pass at inference, as the layer reports
  them (``layer.flops(input_shape)``, conventions in ``glassnet.layers.costs``): a
  multiply-add counts 2, so ``x @ W`` costs ``2 x inputs x units``; adding the bias
  ``units``; an activation ``units x`` its per-element count in
  :data:`~glassnet.layers.costs.ACTIVATION_FLOPS`. Dropout is the identity at
  inference and costs 0. Training (forward plus backward) costs about three times
  the forward pass.
- **weights**: numbers x bytes per number of the model's dtype (4 for float32).
- **activations** per sample: the arrays a training forward pass creates and keeps
  for backward, as the layer reports them (``layer.kept_activations(input_shape)``:
  Dense keeps ``z`` and ``y = f(z)``, one array when f is linear; Activation its
  output; Dropout its mask and output), x bytes per number. A batch of n samples
  keeps n times as much.

A layer called several times in a functional model (shared weights) costs the sum
of its calls; its weights count once.

>>> from glassnet.layers import Activation, Dense
>>> from glassnet.models import Sequential
>>> model = Sequential([Dense(10, input_dim=2), Activation("tanh"), Dense(1)])
>>> [(cost.params_formula, cost.flops) for cost in layer_costs(model)]
[('2 x 10 + 10 = 30', 50), ('0', 10), ('10 x 1 + 1 = 11', 21)]

>>> from glassnet.layers import Conv2D, Flatten, Input, MaxPooling2D
>>> cnn = Sequential([Input((8, 8, 1)), Conv2D(8, 3, padding="same"), MaxPooling2D()])
>>> conv, pool = layer_costs(cnn)
>>> conv.params_formula, conv.flops_formula
('3 x 3 x 1 x 8 + 8 = 80', '2 x 9 x 512 + 512 = 9,728')
>>> pool.output_lines
['height, width: (8 - 2) / 2 + 1 = 4', '4 x 4 x 8 = 128 outputs, each the max of 2 x 2 = 4 inputs']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glassnet.layers import (
    AveragePooling1D,
    AveragePooling2D,
    Flatten,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    Layer,
    MaxPooling1D,
    MaxPooling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from glassnet.layers.conv_arguments import axes_arithmetic, axis_arithmetic
from glassnet.layers.costs import Cost, known_size
from glassnet.layers.spatial_arguments import same_padding

if TYPE_CHECKING:
    from glassnet.layers.symbolic import Node
    from glassnet.models.network import Network

__all__ = [
    "LayerCost",
    "explain_footer",
    "explain_lines",
    "layer_calls",
    "layer_costs",
    "output_arithmetic",
]


@dataclass
class LayerCost:
    """How one layer's parameter count, FLOPs and memory are formed.

    ``flops`` is None when the layer cannot tell (an unknown activation, an axis
    of unknown length); so is ``activation_bytes``. ``output_lines`` says how the
    output shape is formed (see :func:`output_arithmetic`; empty for most layers).
    """

    name: str
    params: int
    params_formula: str
    flops: int | None
    flops_formula: str
    weight_bytes: int
    weight_formula: str
    activation_bytes: int | None
    activation_formula: str
    output_lines: list[str] = field(default_factory=list)


def _n(value: int) -> str:
    return f"{value:,}"


def _bytes(count: int, itemsize: int, count_text: str = "") -> tuple[int, str]:
    """``(bytes, "30 x 4 B = 120 B")``, with KiB/MiB for large sizes."""
    total = count * itemsize
    if not total:
        return 0, "0 B"
    shown = f"{_n(total)} B"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if total >= size:
            shown += f" ({total / size:.1f} {unit})"
            break
    return total, f"{count_text or _n(count)} x {itemsize} B = {shown}"


def _params_formula(layer: Layer) -> str:
    """``2 x 10 + 10 = 30``: each weight's shape multiplied out, then added."""
    weights = layer.weights
    parts = [" x ".join(_n(d) for d in w.shape) or "1" for w in weights]
    if not parts:
        return "0"
    total = layer.count_params()
    formula = (
        parts[0]
        if len(parts) == 1 and " x " not in parts[0]
        else f"{' + '.join(parts)} = {_n(total)}"
    )
    frozen = [w for w in weights if not w.trainable]
    if frozen:
        count = sum(w.value.size for w in frozen)
        names = ", ".join(w.name for w in frozen)
        formula += f" ({_n(count)} non-trainable: {names})"
    return formula


_POOLS = (AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D)
_GLOBAL_POOLS = (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
)


def _axis_names(rank: int) -> tuple[str, ...]:
    return ("steps",) if rank == 1 else ("height", "width")


def _pool_arithmetic(layer: Any, shape: tuple[Any, ...]) -> list[str]:
    """Each pooled axis worked out, then the outputs and the window each one reads."""
    formulas = []
    for n, k, s in zip(shape[:-1], layer.pool_size, layer.strides, strict=True):
        same = layer.padding == "same" and n is not None
        formulas.append(
            axis_arithmetic(n, k, s, 1, same_padding(n, k, s) if same else (0, 0))
        )
    lines = axes_arithmetic(_axis_names(layer.rank), formulas)
    if layer.padding == "same":
        lines[-1] += " (padding 'same')"
    out = layer.output_shape(shape)
    size = known_size(out)
    count = "outputs" if size is None else f"= {size:,} outputs"
    window = " x ".join(str(k) for k in layer.pool_size)
    cells = int(math.prod(layer.pool_size))
    if isinstance(layer, (MaxPooling1D, MaxPooling2D)):
        each = f"each the max of {window} = {cells} inputs"
    elif layer.padding == "same":
        each = f"each the mean of the real cells of a {window} window (up to {cells})"
    else:
        each = f"each the mean of {window} = {cells} inputs"
    return [*lines, f"{' x '.join(str(d) for d in out)} {count}, {each}"]


def output_arithmetic(layer: Layer, input_shape: Any) -> list[str]:
    """How ``layer`` forms its output shape from ``input_shape``, line by line.

    A layer that says it itself (``layer.output_arithmetic(input_shape)``, as
    Conv1D and Conv2D do) is asked; the pools, ZeroPadding, Flatten and the global
    pools are worked out here; any other layer gives no lines.

    >>> from glassnet.layers import Flatten, ZeroPadding2D
    >>> output_arithmetic(Flatten(), (2, 2, 16)), output_arithmetic(Flatten(), (3,))
    (['2 x 2 x 16 = 64'], [])
    >>> output_arithmetic(ZeroPadding2D(((1, 0), 2)), (5, 5, 3))
    ['height: 5 + 1 + 0 = 6', 'width: 5 + 2 + 2 = 9']
    """
    own = getattr(layer, "output_arithmetic", None)
    if callable(own):
        return list(own(input_shape))
    if isinstance(input_shape, list):
        return []
    shape = tuple(input_shape)
    if isinstance(layer, _POOLS):
        return _pool_arithmetic(layer, shape)
    if isinstance(layer, (ZeroPadding1D, ZeroPadding2D)):
        pads = (layer.padding,) if isinstance(layer, ZeroPadding1D) else layer.padding
        formulas = [
            "any length (None)" if n is None else f"{n} + {a} + {b} = {n + a + b}"
            for n, (a, b) in zip(shape[:-1], pads, strict=True)
        ]
        return axes_arithmetic(_axis_names(len(pads)), formulas)
    if isinstance(layer, Flatten) and len(shape) > 1:
        size = known_size(shape)
        total = "None" if size is None else f"{size:,}"
        return [f"{' x '.join(str(d) for d in shape)} = {total}"]
    if isinstance(layer, _GLOBAL_POOLS):
        how = (
            "mean"
            if isinstance(layer, (GlobalAveragePooling1D, GlobalAveragePooling2D))
            else "max"
        )
        spatial = shape[:-1]
        positions = known_size(spatial)
        cells = " x ".join(str(d) for d in spatial)
        if positions is not None and len(spatial) > 1:
            cells += f" = {positions:,}"
        return [
            f"{shape[-1]} outputs, each the {how} of a channel over {cells} positions"
        ]
    return []


def layer_calls(model: Network) -> list[tuple[Layer, list[Node]]]:
    """Each row's layer (``model.layers``) with its calls in the model's graph.

    The calls come in the order they were made (the layer's ``inbound_nodes``), as
    Keras lists them.
    """
    graph = model._require_graph("summary")
    rows = []
    for layer in model.layers:
        order = {id(node): i for i, node in enumerate(layer.inbound_nodes)}
        calls = [node for node in graph.nodes if node.layer is layer]
        rows.append((layer, sorted(calls, key=lambda n: order.get(id(n), 0))))
    return rows


def _input_shape(node: Node) -> Any:
    """The per-sample input shape(s) of one call (an Input's own shape for an Input)."""
    shapes = [t.sample_shape for t in node.inputs]
    if not shapes:
        return node.outputs[0].sample_shape
    return shapes if node.list_call else shapes[0]


def _over_calls(costs: list[Cost]) -> Cost:
    """One call's cost, or the sum of several calls' with each formula."""
    if len(costs) == 1:
        return costs[0]
    counts = [c.count for c in costs]
    total = None if None in counts else sum(c or 0 for c in counts)
    formula = "; ".join(f"call {i}: {c.formula}" for i, c in enumerate(costs, 1))
    formula += f"; {'unknown' if total is None else _n(total)} in all"
    what = f"{costs[0].what} of {len(costs)} calls" if costs[0].what else ""
    return Cost(total, formula, what)


def _kept_over_calls(costs: list[Cost]) -> Cost:
    if len(costs) == 1:
        return costs[0]
    counts = [c.count for c in costs]
    total = None if None in counts else sum(c or 0 for c in counts)
    if total is None:
        return Cost(None, "unknown (an axis of unknown length)", costs[0].what)
    formula = " + ".join(_n(c.count or 0) for c in costs)
    return Cost(total, formula, f"{costs[0].what}, {len(costs)} calls")


def layer_costs(model: Network) -> list[LayerCost]:
    """Parameters, forward FLOPs and memory of every layer, with their formulas."""
    itemsize = model.dtype.itemsize
    result = []
    for layer, calls in layer_calls(model):
        flops = _over_calls([layer.flops(_input_shape(node)) for node in calls])
        kept = _kept_over_calls(
            [layer.kept_activations(_input_shape(node)) for node in calls]
        )
        params = layer.count_params()
        weight_bytes, weight_formula = _bytes(params, itemsize)
        shapes = [_input_shape(node) for node in calls]
        output_lines = output_arithmetic(layer, shapes[0]) if shapes else []
        if any(shape != shapes[0] for shape in shapes[1:]):
            output_lines = [
                f"call {i}: {line}"
                for i, shape in enumerate(shapes, 1)
                for line in output_arithmetic(layer, shape)
            ]
        if kept.count is None:
            activation_bytes, shown = None, kept.formula
        else:
            count_text = f"({kept.formula})" if "+" in kept.formula else kept.formula
            activation_bytes, shown = _bytes(kept.count, itemsize, count_text)
        result.append(
            LayerCost(
                name=str(layer.name),
                params=params,
                params_formula=_params_formula(layer),
                flops=flops.count,
                flops_formula=flops.formula,
                weight_bytes=weight_bytes,
                weight_formula=weight_formula,
                activation_bytes=activation_bytes,
                activation_formula=f"{kept.what}: {shown}",
                output_lines=output_lines,
            )
        )
    return result


def explain_lines(cost: LayerCost) -> list[str]:
    """The lines printed under a layer's row: params, output (if any), FLOPs, memory."""
    output = [
        f"    {'output' if i == 0 else '':<13}{line}"
        for i, line in enumerate(cost.output_lines)
    ]
    return [
        f"    params       {cost.params_formula}",
        *output,
        f"    FLOPs        {cost.flops_formula}",
        f"    weights      {cost.weight_formula}",
        f"    activations  {cost.activation_formula} per sample",
    ]


def explain_footer(model: Network, costs: list[LayerCost], width: int) -> list[str]:
    """The totals printed under the table, and the conventions."""
    flops = [cost.flops for cost in costs]
    total_flops = "unknown" if None in flops else _n(sum(f or 0 for f in flops))
    itemsize = model.dtype.itemsize
    weights = _bytes(sum(cost.params for cost in costs), itemsize)[1]
    kept = [cost.activation_bytes for cost in costs]
    activations = (
        "unknown"
        if None in kept
        else _bytes(sum(b or 0 for b in kept) // itemsize, itemsize)[1]
    )
    return [
        f"Forward FLOPs per sample: {total_flops}",
        f"Weights ({model.dtype.name}): {weights}",
        f"Activations per sample: {activations}",
        "_" * width,
        "FLOPs: a multiply-add counts 2; any other +, *, max, exp, tanh 1.",
        "Activations: what a training forward pass keeps for backward.",
    ]
