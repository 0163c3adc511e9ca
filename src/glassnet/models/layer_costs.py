"""``model.summary(explain=True)``: how each layer's numbers are formed.

Under each layer of the summary table, ``explain=True`` shows:

- **params**: the sizes of its weights, ``2 x 10 + 10 = 30`` for a Dense(10) on two
  inputs (W is 2 x 10, b has 10 entries); the non-trainable ones are named
  (BatchNormalization's moving statistics, or every weight of a frozen layer).
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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glassnet.layers import Layer
from glassnet.layers.costs import Cost

if TYPE_CHECKING:
    from glassnet.layers.symbolic import Node
    from glassnet.models.network import Network

__all__ = ["LayerCost", "explain_footer", "explain_lines", "layer_calls", "layer_costs"]


@dataclass
class LayerCost:
    """How one layer's parameter count, FLOPs and memory are formed.

    ``flops`` is None when the layer cannot tell (an unknown activation, an axis
    of unknown length); so is ``activation_bytes``.
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
            )
        )
    return result


def explain_lines(cost: LayerCost) -> list[str]:
    """The four lines printed under a layer's row."""
    return [
        f"    params       {cost.params_formula}",
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
