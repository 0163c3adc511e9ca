"""``plot_model``: a model's graph of layers, drawn as Keras draws it (no Graphviz).

One box per layer, headed by its name and class, with its input and output shapes
under it; one arrow per connection, from the layer that makes a tensor to each
layer that takes it. Inputs sit at the top (or left), branches side by side, and
merges below the branches they join. The layout is computed here
(``plot/_layered.py``) and drawn with matplotlib alone.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glassnet._validation import check_bool, check_one_of, check_positive_int
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, NotBuiltError
from glassnet.layers import Layer
from glassnet.layers.input_layer import InputLayer
from glassnet.layers.symbolic import Node
from glassnet.models import Model
from glassnet.plot._layered import layered_layout
from glassnet.plot._mpl import POSITIVE, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch

__all__ = ["plot_model"]

_FORMATS = (".png", ".svg", ".pdf")
_HEADER_PT, _BODY_PT = 10.0, 9.0
#: DejaVu Sans Mono (matplotlib's monospace) is 0.6 em wide per character
_EM = 0.602 / 72
_PAD = 0.12
_WRAP = 36
_INK = "#37474f"
_EDGE = "#5f6b73"


def _shape(shape: tuple[Any, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _call_shapes(calls: list[Node]) -> tuple[str, str]:
    """The input and output shapes of a layer's calls (each distinct one once)."""
    inputs, outputs = [], []
    for node in calls:
        shapes = [_shape(t.shape) for t in node.inputs]
        outputs.append(_shape(node.outputs[0].shape))
        inputs.append(
            f"[{', '.join(shapes)}]" if node.list_call else "".join(shapes[:1])
        )
    return (
        " or ".join(dict.fromkeys(inputs)),
        " or ".join(dict.fromkeys(outputs)),
    )


def _box_lines(layer: Layer, calls: list[Node], options: dict[str, bool]) -> list[str]:
    """What a box says under its header, each line wrapped to the box."""
    lines = []
    if options["show_shapes"]:
        inputs, outputs = _call_shapes(calls)
        if not isinstance(layer, InputLayer):
            lines.append(f"Input shape: {inputs}")
        lines.append(f"Output shape: {outputs}")
    if options["show_dtype"]:
        lines.append(f"dtype: {calls[-1].outputs[0].dtype.name}")
    activation = layer.output_activation
    if options["show_layer_activations"] and activation is not None:
        lines.append(f"Activation: {activation.name}")
    if options["show_trainable"]:
        mark = "-" if not layer.weights else ("Y" if layer.trainable else "N")
        lines.append(f"Trainable: {mark}")
    return [
        part
        for line in lines
        for part in textwrap.wrap(
            line, _WRAP, subsequent_indent="  ", break_on_hyphens=False
        )
    ]


def _fallback_ranks(model: Model, layers: list[Layer]) -> list[int]:
    """Ranks from call depths, for graphs whose layers feed back into themselves."""
    assert model.graph is not None
    depth: dict[int, int] = {}
    for node in model.graph.nodes:
        depth[id(node)] = 1 + max((depth[id(t.node)] for t in node.inputs), default=-1)
    ranks = [
        max(depth[id(n)] for n in model.graph.nodes if n.layer is layer)
        for layer in layers
    ]
    lowest = min(ranks, default=0)
    return [r - lowest for r in ranks]


def _check_path(to_file: Any) -> Path | None:
    if to_file is None:
        return None
    if not isinstance(to_file, (str, os.PathLike)):
        raise GlassnetTypeError(
            "Argument `to_file` must be a file path such as 'model.png'. "
            f"Received: to_file={to_file!r:.80}"
        )
    path = Path(to_file)
    if path.suffix.lower() not in _FORMATS:
        raise InvalidArgumentError(
            f"Argument `to_file` must end in {', '.join(_FORMATS)} (the format is "
            f"taken from the name). Received: to_file={str(to_file)!r}"
        )
    return path


def plot_model(
    model: Model,
    to_file: str | os.PathLike[str] | None = None,
    *,
    show_shapes: bool = True,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
) -> Figure:
    """Draw ``model``'s graph: a box per layer, an arrow per connection.

    Each box is headed ``name (Class)`` (``Class`` alone with
    ``show_layer_names=False``) and lists the shapes the layer takes and gives, with
    ``None`` for the batch axis; a layer called twice (shared weights) is one box
    with the arrows of both calls. A Sequential model is drawn without its input
    layer, a functional model with its ``InputLayer`` boxes, as Keras draws them.

    Parameters
    ----------
    model : Sequential or Model
        A built model.
    to_file : str or PathLike, optional
        Also save the picture there: ``.png``, ``.svg`` or ``.pdf``.
    show_shapes, show_dtype, show_layer_names : bool
        What each box shows besides its class (Keras' arguments).
    rankdir : {"TB", "LR"}
        Top to bottom (default) or left to right.
    dpi : int
        Resolution of a saved PNG.
    show_layer_activations, show_trainable : bool
        Also show the activation each layer applies last, and whether it trains
        (``Y``, ``N``, or ``-`` for a layer without weights).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from glassnet import Input, Model
    >>> from glassnet.layers import Concatenate, Dense
    >>> a, b = Input((4,), name="a"), Input((2,), name="b")
    >>> joined = Concatenate(name="join")([Dense(3, name="da")(a), b])
    >>> figure = plot_model(Model([a, b], Dense(1, name="out")(joined)))
    >>> sorted(p.get_gid() for p in figure.axes[0].patches if p.get_gid())[:3]
    ['edge:a->da', 'edge:b->join', 'edge:da->join']
    """
    if not isinstance(model, Model):
        raise GlassnetTypeError(
            "plot_model expects a glassnet Sequential or functional Model. "
            f"Received: model={model!r:.80} ({type(model).__name__})"
        )
    graph = model.graph
    if graph is None:
        raise NotBuiltError(
            f"Model '{model.name}' has not been built yet, so it has no graph to "
            "draw. Build it (model.build((None, n_features))) or fit it on data."
        )
    options = {
        "show_shapes": check_bool(show_shapes, "show_shapes"),
        "show_dtype": check_bool(show_dtype, "show_dtype"),
        "show_layer_activations": check_bool(
            show_layer_activations, "show_layer_activations"
        ),
        "show_trainable": check_bool(show_trainable, "show_trainable"),
    }
    names = check_bool(show_layer_names, "show_layer_names")
    vertical = check_one_of(rankdir, "rankdir", ("TB", "LR")) == "TB"
    dpi = check_positive_int(dpi, "dpi")
    path = _check_path(to_file)

    layers = model.layers
    index = {id(layer): i for i, layer in enumerate(layers)}
    calls = [[n for n in graph.nodes if n.layer is layer] for layer in layers]
    edges: list[tuple[int, int]] = []
    for node in graph.nodes:
        for tensor in node.inputs:
            pair = (index.get(id(tensor.node.layer)), index.get(id(node.layer)))
            if None not in pair and pair not in edges:
                edges.append(pair)  # type: ignore[arg-type]
    headers = [
        f"{layer.name} ({type(layer).__name__})" if names else type(layer).__name__
        for layer in layers
    ]
    bodies = [
        _box_lines(layer, c, options) for layer, c in zip(layers, calls, strict=True)
    ]
    sizes = [
        (
            max([len(header) * _HEADER_PT, *(len(t) * _BODY_PT for t in body)]) * _EM
            + 2 * _PAD,
            _HEADER_PT * 1.7 / 72
            + (len(body) * _BODY_PT * 1.45 / 72 + _PAD if body else 0),
        )
        for header, body in zip(headers, bodies, strict=True)
    ]
    layout = layered_layout(
        sizes, edges, _fallback_ranks(model, layers), vertical=vertical
    )
    figure = new_figure((max(layout.width, 1.0), max(layout.height, 1.0)))
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, max(layout.width, 1.0))
    ax.set_ylim(0, max(layout.height, 1.0))
    ax.set_axis_off()
    for i, layer in enumerate(layers):
        _draw_box(ax, layer, layout.centers[i], sizes[i], headers[i], bodies[i])
    for (u, v), points, back in zip(edges, layout.paths, layout.back, strict=True):
        if back:  # from the right side of one box to the right side of the other
            points = [
                (layout.centers[w][0] + sizes[w][0] / 2, layout.centers[w][1])
                for w in (u, v)
            ]
        arrow = _arrow(points, back, u == v, sizes[u][1])
        arrow.set_gid(f"edge:{layers[u].name}->{layers[v].name}")
        ax.add_patch(arrow)
    if path is not None:
        figure.savefig(path, dpi=dpi)
    return figure


def _draw_box(
    ax: Axes,
    layer: Layer,
    center: tuple[float, float],
    size: tuple[float, float],
    header: str,
    body: list[str],
) -> None:
    from matplotlib.patches import FancyBboxPatch, Rectangle

    (x, y), (width, height) = center, size
    left, top = x - width / 2, y + height / 2
    band = _HEADER_PT * 1.7 / 72
    box = FancyBboxPatch(
        (left, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0,rounding_size=0.04",
        facecolor="white",
        edgecolor=_INK,
        linewidth=1.2,
        zorder=2,
    )
    box.set_gid(f"layer:{layer.name}")
    ax.add_patch(box)
    fill = POSITIVE if isinstance(layer, InputLayer) else _INK
    ax.add_patch(
        Rectangle(
            (left, top - band), width, band, facecolor=fill, linewidth=0, zorder=3
        )
    )
    ax.text(
        x,
        top - band / 2,
        header,
        color="white",
        fontsize=_HEADER_PT,
        family="monospace",
        weight="bold",
        ha="center",
        va="center",
        zorder=4,
    )
    line = _BODY_PT * 1.45 / 72
    for k, text in enumerate(body):
        ax.text(
            left + _PAD,
            top - band - _PAD / 2 - line * (k + 0.5),
            text,
            color=_INK,
            fontsize=_BODY_PT,
            family="monospace",
            ha="left",
            va="center",
            zorder=4,
        )


def _arrow(
    points: list[tuple[float, float]], back: bool, self_loop: bool, height: float
) -> FancyArrowPatch:
    """A straight arrow through ``points``; a curved one for an arrow going back."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path as MplPath

    style: dict[str, Any] = {
        "arrowstyle": "-|>",
        "mutation_scale": 12,
        "color": _EDGE,
        "linewidth": 1.2,
        "zorder": 1,
        "shrinkA": 0,
        "shrinkB": 0,
    }
    if self_loop:  # a layer called on its own output: a loop on its right side
        (x, y) = points[0]
        start, end = (x, y + height / 4), (x, y - height / 4)
        return FancyArrowPatch(start, end, connectionstyle="arc3,rad=-1.5", **style)
    if back:
        return FancyArrowPatch(*points, connectionstyle="arc3,rad=0.5", **style)
    codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1)
    return FancyArrowPatch(path=MplPath(points, codes), **style)
