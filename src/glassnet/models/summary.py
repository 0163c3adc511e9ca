"""``model.summary()``: Keras' table of layers, output shapes and parameter counts.

``model.summary(explain=True)`` adds, under each layer, how its numbers are formed:

- **params**: the sizes of its tensors, ``2 x 10 + 10 = 30`` for a Dense(10) on two
  inputs (W is 2 x 10, b has 10 entries).
- **FLOPs** per sample for the forward pass. A multiply-add counts as 2 operations, so
  ``x @ W`` costs ``2 x inputs x units``; adding the bias ``units``; an activation
  costs ``units x`` its per-element count in :data:`ACTIVATION_FLOPS`, where every
  arithmetic operation, comparison and elementary function (exp, tanh, erf) counts 1.
  Dropout is the identity at inference and costs 0. Training (forward plus backward)
  costs about three times the forward pass.
- **weights**: parameters x bytes per number of the model's dtype (4 for float32).
- **activations** per sample: the arrays a training forward pass creates and keeps for
  backward (Dense: ``z`` and ``y = f(z)``, one array when f is linear; Activation:
  its output; Dropout: its mask and output), x bytes per number. A batch of n
  samples keeps n times as much.

>>> from glassnet.layers import Activation, Dense
>>> from glassnet.models import Sequential
>>> model = Sequential([Dense(10, input_dim=2), Activation("tanh"), Dense(1)])
>>> [(cost.params_formula, cost.flops) for cost in layer_costs(model)]
[('2 x 10 + 10 = 30', 50), ('0', 10), ('10 x 1 + 1 = 11', 21)]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from glassnet.activations import ActivationFunction, Linear
from glassnet.layers import Activation, Dense, Dropout, Layer

if TYPE_CHECKING:
    from glassnet.models.sequential import Sequential

__all__ = [
    "ACTIVATION_FLOPS",
    "LayerCost",
    "format_summary",
    "layer_costs",
    "print_summary",
]

#: Forward operations per element of each activation: every arithmetic operation,
#: comparison and elementary function (exp, log, tanh, erf) counts 1.
ACTIVATION_FLOPS = {
    "linear": 0,  # y = x
    "relu": 1,  # max(x, 0)
    "step": 1,  # x > threshold
    "tanh": 1,  # tanh(x)
    "leaky_relu": 2,  # compare, a * x
    "elu": 3,  # compare, exp(x) - 1, alpha * (...)
    "softplus": 3,  # log(1 + exp(x))
    "sigmoid": 4,  # 1 / (1 + exp(-x))
    "silu": 4,  # x / (1 + exp(-x))
    "gelu": 5,  # x / 2 * (1 + erf(x / sqrt(2)))
    "gelu_approximate": 9,  # x / 2 * (1 + tanh(c * (x + k * x^3)))
    "softmax": 5,  # row max, x - max, exp, row sum, divide
}


def activation_flops(activation: ActivationFunction) -> int | None:
    """Operations per element of ``activation`` (None for an unknown one).

    >>> from glassnet.activations import get
    >>> activation_flops(get("sigmoid"))
    4
    """
    name = activation.name
    if name == "gelu" and activation.get_config().get("approximate"):
        name = "gelu_approximate"
    return ACTIVATION_FLOPS.get(name)


@dataclass
class LayerCost:
    """How one layer's parameter count, FLOPs and memory are formed.

    ``flops`` is None for a layer type whose cost glassnet does not know.
    """

    name: str
    params: int
    params_formula: str
    flops: int | None
    flops_formula: str
    weight_bytes: int
    weight_formula: str
    activation_bytes: int
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
    """``2 x 10 + 10 = 30``: each tensor's shape, multiplied out, then added."""
    parts = [" x ".join(_n(d) for d in p.shape) or "1" for p in layer.params.values()]
    total = layer.count_params()
    if not parts:
        return "0"
    if len(parts) == 1 and " x " not in parts[0]:
        return parts[0]
    return f"{' + '.join(parts)} = {_n(total)}"


def _flops(layer: Layer, n_in: int, units: int) -> tuple[int | None, str]:
    """Forward FLOPs per sample and how they add up (see the module docstring)."""
    if isinstance(layer, Dropout):
        return 0, "0 (the identity at inference)"
    if isinstance(layer, Activation):
        per = activation_flops(layer.activation)
        if per is None:
            return None, f"unknown for activation '{layer.activation.name}'"
        return (
            units * per,
            f"{_n(units)} x {per} ({layer.activation.name}) = {_n(units * per)}",
        )
    if isinstance(layer, Dense):
        terms = [f"2 x {_n(n_in)} x {_n(units)}"]
        total = 2 * n_in * units
        if layer.use_bias:
            terms.append(_n(units))
            total += units
        if not isinstance(layer.activation, Linear):
            per = activation_flops(layer.activation)
            if per is None:
                return None, f"unknown for activation '{layer.activation.name}'"
            terms.append(f"{_n(units)} x {per} ({layer.activation.name})")
            total += units * per
        return total, f"{' + '.join(terms)} = {_n(total)}"
    return None, f"unknown for a {type(layer).__name__} layer"


def _kept(layer: Layer) -> tuple[int, str]:
    """How many arrays of the output's size a training forward pass keeps, and which."""
    if isinstance(layer, Dense):
        # Linear.forward returns z itself, so y is not a second array.
        return (1, "z = y") if isinstance(layer.activation, Linear) else (2, "z and y")
    if isinstance(layer, Dropout):
        return 2, "mask and y"
    return 1, "y"


def layer_costs(model: Sequential) -> list[LayerCost]:
    """Parameters, forward FLOPs and memory of every layer, with their formulas."""
    shape = model.built_input_shape()
    itemsize = model.dtype.itemsize
    costs = []
    for layer in model.layers:
        n_in = math.prod(shape)
        shape = layer.output_shape(shape)
        units = math.prod(shape)
        flops, flops_formula = _flops(layer, n_in, units)
        params = layer.count_params()
        weight_bytes, weight_formula = _bytes(params, itemsize)
        arrays, kept = _kept(layer)
        count_text = f"{arrays} x {_n(units)}" if arrays > 1 else _n(units)
        activation_bytes, activation_formula = _bytes(
            arrays * units, itemsize, count_text
        )
        activation_formula = f"{kept}: {activation_formula}"
        costs.append(
            LayerCost(
                name=str(layer.name),
                params=params,
                params_formula=_params_formula(layer),
                flops=flops,
                flops_formula=flops_formula,
                weight_bytes=weight_bytes,
                weight_formula=weight_formula,
                activation_bytes=activation_bytes,
                activation_formula=activation_formula,
            )
        )
    return costs


def _row(fields: list[str], positions: list[int]) -> str:
    line = ""
    for field, end in zip(fields, positions, strict=True):
        line = (line + field)[: end - 1].ljust(end)
    return line.rstrip()


def _explain_lines(cost: LayerCost) -> list[str]:
    return [
        f"    params       {cost.params_formula}",
        f"    FLOPs        {cost.flops_formula}",
        f"    weights      {cost.weight_formula}",
        f"    activations  {cost.activation_formula} per sample",
    ]


def _explain_footer(model: Sequential, costs: list[LayerCost], width: int) -> list[str]:
    flops = [cost.flops for cost in costs]
    total_flops = "unknown" if None in flops else _n(sum(f or 0 for f in flops))
    itemsize = model.dtype.itemsize
    weights = _bytes(sum(cost.params for cost in costs), itemsize)[1]
    activations = sum(cost.activation_bytes for cost in costs)
    return [
        f"Forward FLOPs per sample: {total_flops}",
        f"Weights ({model.dtype.name}): {weights}",
        f"Activations per sample: {_bytes(activations // itemsize, itemsize)[1]}",
        "_" * width,
        "FLOPs: a multiply-add counts 2; any other +, *, max, exp, tanh 1.",
        "Activations: what a training forward pass keeps for backward.",
    ]


def format_summary(
    model: Sequential, line_length: int = 65, explain: bool = False
) -> str:
    """The summary table as one string (Keras 2 layout, as in the seed tutorials).

    The model must be built. ``Output Shape`` shows the batch axis as ``None``.
    ``explain=True`` adds how each layer's parameters, FLOPs and memory are formed
    (see the module docstring for the conventions).
    """
    positions = [int(line_length * p) for p in (0.45, 0.85, 1.0)]
    positions[-1] = max(positions[-1], positions[-2] + 10)
    width = positions[-1]
    lines = [f'Model: "{model.name}"', "_" * width]
    lines.append(_row(["Layer (type)", "Output Shape", "Param #"], positions))
    lines.append("=" * width)
    shape = model.built_input_shape()
    costs = layer_costs(model) if explain else []
    for index, layer in enumerate(model.layers):
        shape = layer.output_shape(shape)
        shown = "(None, " + ", ".join(str(d) for d in shape) + ")"
        lines.append(
            _row(
                [
                    f"{layer.name} ({type(layer).__name__})",
                    shown,
                    str(layer.count_params()),
                ],
                positions,
            )
        )
        if explain:
            lines += _explain_lines(costs[index])
        lines.append("=" * width if index == len(model.layers) - 1 else "_" * width)
    total = model.count_params()
    lines += [
        f"Total params: {total:,}",
        f"Trainable params: {total:,}",
        "Non-trainable params: 0",
        "_" * width,
    ]
    if explain:
        lines += _explain_footer(model, costs, width)
    return "\n".join(lines)


def print_summary(
    model: Sequential,
    line_length: int,
    print_fn: Callable[[str], object] | None,
    explain: bool = False,
) -> None:
    """Print the summary with ``print_fn`` (default ``print``)."""
    (print_fn or print)(format_summary(model, line_length, explain))
