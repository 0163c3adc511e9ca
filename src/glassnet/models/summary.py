"""``model.summary()``: Keras' table of layers, output shapes and parameter counts.

The table has the content of Keras 3's (names, classes, output shapes with ``None``
for the batch and any unknown axis, parameter counts, and the totals), drawn in the
plain-text style of the Keras 2 tutorials rather than with box-drawing characters:

- a **Sequential** model lists its layers (not its input), in three columns;
- a **functional** model lists its ``InputLayer`` rows too (0 parameters), and,
  unless its graph is a plain chain, a fourth column **Connected to**: for each
  call of the layer, the tensors it was called on, as ``layer[node][tensor]``:
  ``dense[0][0]`` is the output of the first call of layer ``dense``. A merge lists
  several entries; a shared layer (called twice) lists the inputs of both calls,
  and its output shape is that of its last call, as in Keras. A layer with
  several outputs (``return_state=True``) shows them as a list,
  ``[(None, 4), (None, 4), (None, 4)]``, and a call on another call's state
  names it by its index: ``encoder[0][1]``.
- **Total params** counts every weight; **Non-trainable params** the state
  (BatchNormalization's moving mean and variance) and every weight of a frozen
  layer (``trainable = False``); **Trainable params** the rest.

``summary(explain=True)`` adds, under each layer, how its numbers are formed (see
:mod:`glassnet.models.layer_costs`); ``show_trainable=True`` adds Keras' column
saying whether each layer's weights train (``Y``, ``N``, or ``-`` without weights).

>>> from glassnet import Input, Model
>>> from glassnet.layers import Concatenate, Dense
>>> a, b = Input((2,), name="a"), Input((3,), name="b")
>>> merged = Concatenate(name="both")([Dense(4, name="da")(a), b])
>>> model = Model([a, b], Dense(1, name="out")(merged), name="demo")
>>> print(format_summary(model, line_length=80))
Model: "demo"
________________________________________________________________________________
Layer (type)            Output Shape        Param #        Connected to
================================================================================
a (InputLayer)          (None, 2)           0              -
________________________________________________________________________________
da (Dense)              (None, 4)           12             a[0][0]
________________________________________________________________________________
b (InputLayer)          (None, 3)           0              -
________________________________________________________________________________
both (Concatenate)      (None, 7)           0              da[0][0], b[0][0]
________________________________________________________________________________
out (Dense)             (None, 1)           8              both[0][0]
================================================================================
Total params: 20
Trainable params: 20
Non-trainable params: 0
________________________________________________________________________________
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from glassnet._validation import check_bool, check_positive_int
from glassnet.layers import Layer
from glassnet.layers.costs import ACTIVATION_FLOPS, activation_flops
from glassnet.layers.symbolic import Node
from glassnet.models.layer_costs import (
    LayerCost,
    explain_footer,
    explain_lines,
    layer_calls,
    layer_costs,
)

if TYPE_CHECKING:
    from glassnet.models.network import Network

__all__ = [
    "ACTIVATION_FLOPS",
    "LayerCost",
    "activation_flops",
    "connected_to",
    "format_summary",
    "is_sequential_like",
    "layer_costs",
    "print_summary",
]

#: (default line length, column ends as shares of it) without / with Connected to;
#: the first is the Keras 2 tutorials' layout, the second Keras 3's.
_CHAIN_LAYOUT: tuple[int, tuple[float, ...]] = (65, (0.45, 0.85, 1.0))
_GRAPH_LAYOUT: tuple[int, tuple[float, ...]] = (108, (0.3, 0.56, 0.74, 1.0))


def is_sequential_like(model: Network) -> bool:
    """Whether Keras would print ``model`` without the "Connected to" column.

    True for a Sequential model and for a functional model whose graph is a chain
    (Keras' test: no call on several tensors, no shared layer, and no two calls at
    the same distance from the outputs).
    """
    graph = model._require_graph("summary")
    if graph.is_chain:  # every Sequential model
        return True
    if any(len(node.inputs) > 1 for node in graph.nodes):
        return False
    if len(graph.nodes) != len({id(node.layer) for node in graph.nodes}):
        return False
    depth: dict[int, int] = {}
    for node in reversed(graph.nodes):  # consumers before the calls they consume
        here = depth.setdefault(id(node), 0)
        for tensor in node.inputs:
            depth[id(tensor.node)] = max(depth.get(id(tensor.node), 0), here + 1)
    return len(set(depth.values())) == len(depth)


def connected_to(layer: Layer, calls: list[Node]) -> list[str]:
    """The tensors each call of ``layer`` was given, as Keras names them.

    ``name[node][tensor]``: the ``node``-th call of layer ``name`` (counted over
    every call of that layer, as Keras counts them), its ``tensor``-th output.
    """
    entries = []
    for node in calls:
        for tensor in node.inputs:
            source = tensor.node.layer
            index = next(
                (i for i, n in enumerate(source.inbound_nodes) if n is tensor.node), 0
            )
            entries.append(f"{source.name}[{index}][{tensor.index}]")
    return entries


def _shape(shape: tuple[Any, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _output_shapes(node: Node) -> str:
    """A call's output shape, or Keras' list of them for a call with several
    outputs (a recurrent layer with return_state): ``[(None, 4), (None, 4)]``."""
    shapes = [_shape(tensor.shape) for tensor in node.outputs]
    return shapes[0] if len(shapes) == 1 else f"[{', '.join(shapes)}]"


def _wrap(text: str, width: int) -> list[str]:
    """``text`` cut into lines of at most ``width`` characters, at spaces if possible."""
    lines = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width + 1)
        if cut <= 0:
            lines.append(text[:width])
            text = text[width:]
        else:
            lines.append(text[:cut].rstrip())
            text = text[cut + 1 :]
    return [*lines, text]


def _row(fields: list[str], ends: list[int]) -> list[str]:
    """One table row: each field wrapped in its column, continuing on more lines."""
    starts = [0, *ends[:-1]]
    cells = [
        _wrap(field, max(end - start - 1, 1))
        for field, start, end in zip(fields, starts, ends, strict=True)
    ]
    lines = []
    for i in range(max(len(cell) for cell in cells)):
        parts = [cell[i] if i < len(cell) else "" for cell in cells]
        line = "".join(
            part.ljust(end - start)
            for part, start, end in zip(parts, starts, ends, strict=True)
        )
        lines.append(line.rstrip())
    return lines


def _trainable_mark(layer: Layer) -> str:
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def format_summary(
    model: Network,
    line_length: int | None = None,
    explain: bool = False,
    show_trainable: bool = False,
) -> str:
    """The summary table as one string (see the module docstring).

    The model must be built. ``line_length`` defaults to 65 characters (108 with
    the "Connected to" column); a cell too long for its column continues on the
    next line. ``explain=True`` adds how each layer's parameters, FLOPs and memory
    are formed; ``show_trainable=True`` a column with ``Y``/``N`` per layer.
    """
    chain = is_sequential_like(model)
    default, shares = _CHAIN_LAYOUT if chain else _GRAPH_LAYOUT
    header = ["Layer (type)", "Output Shape", "Param #"]
    header += [] if chain else ["Connected to"]
    if show_trainable:
        default += 12
        shares = (*(share * 0.9 for share in shares), 1.0)
        header.append("Trainable")
    width = default if line_length is None else line_length
    ends = [int(width * share) for share in shares]
    ends[-1] = max(ends[-1], ends[-2] + 10)
    width = ends[-1]
    calls = layer_calls(model)
    costs = layer_costs(model) if explain else []
    lines = [f'Model: "{model.name}"', "_" * width, *_row(header, ends), "=" * width]
    for index, (layer, nodes) in enumerate(calls):
        fields = [
            f"{layer.name} ({type(layer).__name__})",
            _output_shapes(nodes[-1]),
            f"{layer.count_params():,}",
        ]
        if not chain:
            fields.append(", ".join(connected_to(layer, nodes)) or "-")
        if show_trainable:
            fields.append(_trainable_mark(layer))
        lines += _row(fields, ends)
        if explain:
            lines += explain_lines(costs[index])
        lines.append("=" * width if index == len(calls) - 1 else "_" * width)
    trainable = sum(w.value.size for w in model.trainable_weights)
    frozen = sum(w.value.size for w in model.non_trainable_weights)
    lines += [
        f"Total params: {trainable + frozen:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {frozen:,}",
        "_" * width,
    ]
    if explain:
        lines += explain_footer(model, costs, width)
    return "\n".join(lines)


def print_summary(
    model: Network,
    line_length: int | None = None,
    print_fn: Callable[[str], object] | None = None,
    explain: bool = False,
    show_trainable: bool = False,
) -> None:
    """Print the summary with ``print_fn`` (default ``print``), after checking the arguments."""
    if line_length is not None:
        line_length = check_positive_int(line_length, "line_length")
    explain = check_bool(explain, "explain")
    show_trainable = check_bool(show_trainable, "show_trainable")
    text = format_summary(model, line_length, explain, show_trainable)
    (print_fn or print)(text)
