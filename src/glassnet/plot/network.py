"""The network drawn as neurons and connections, as the seed tutorials draw it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._validation import check_positive_int
from glassnet.errors import GlassnetTypeError
from glassnet.explain.neurons import neuron_layers, neuron_names, weight_names
from glassnet.models import Sequential
from glassnet.plot._mpl import NEGATIVE, POSITIVE, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_network"]

_RADIUS = 0.22
_ELLIPSIS = -1  # stands for the neurons left out of a wide layer


def _shown(units: int, max_neurons: int) -> list[int]:
    """Indices drawn for a layer: all, or the first ones, an ellipsis and the last."""
    if units <= max_neurons:
        return list(range(units))
    return [*range(max_neurons - 2), _ELLIPSIS, units - 1]


def plot_network(
    model: Sequential,
    *,
    max_neurons: int = 8,
    weight_labels: bool | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Draw ``model`` as layers of neurons joined by its weights, left to right.

    Neurons are named as in seeds/001 (inputs ``x1..``, hidden ``h1..``, outputs
    ``o1..``). Each connection is blue for a positive weight and orange for a
    negative one, and as wide as the weight is large (relative to the largest).
    A layer wider than ``max_neurons`` shows its first neurons, an ellipsis and its
    last neuron.

    Parameters
    ----------
    model : Sequential
        A built model of Dense layers (each optionally followed by Activation and
        Dropout layers).
    max_neurons : int
        Most neurons drawn per layer (at least 3).
    weight_labels : bool, optional
        Name each connection (``w1``, ``w2``, ... as the tutorial numbers them).
        Default: only when there are at most 12 connections.
    path : str or PathLike, optional
        Also save the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(2, activation="sigmoid", input_dim=2),
    ...                     Dense(1, activation="sigmoid")], seed=0)
    >>> type(plot_network(model)).__name__
    'Figure'
    """
    if not isinstance(model, Sequential):
        raise GlassnetTypeError(
            f"plot_network expects a glassnet Sequential model. Received: {model!r}"
        )
    input_shape = model.built_input_shape()
    max_neurons = max(3, check_positive_int(max_neurons, "max_neurons"))
    groups = neuron_layers(model)
    sizes = [int(np.prod(input_shape)), *(group.units for group in groups)]
    names = neuron_names(groups, sizes[0])
    w_names = weight_names(groups)
    shown = [_shown(n, max_neurons) for n in sizes]
    tallest = max(len(s) for s in shown)

    def position(level: int, slot: int) -> tuple[float, float]:
        return 2.0 * level, (len(shown[level]) - 1) / 2 - slot

    edges = [
        (level, i, j, float(group.weight[i, j]))
        for level, group in enumerate(groups)
        for i in shown[level]
        for j in shown[level + 1]
        if i != _ELLIPSIS and j != _ELLIPSIS
    ]
    largest = max((abs(w) for *_, w in edges), default=1.0) or 1.0
    if weight_labels is None:
        weight_labels = len(edges) <= 12

    figure = new_figure((1.9 * len(sizes) + 0.6, 0.75 * tallest + 1.6))
    ax = figure.add_subplot(1, 1, 1)
    for level, i, j, w in edges:
        (x0, y0) = position(level, shown[level].index(i))
        (x1, y1) = position(level + 1, shown[level + 1].index(j))
        ax.plot(
            [x0, x1], [y0, y1], color=POSITIVE if w >= 0 else NEGATIVE,
            lw=0.4 + 3.6 * abs(w) / largest, alpha=0.85, zorder=1, solid_capstyle="round",
        )  # fmt: skip
        if weight_labels:
            # Near the receiving neuron, where the edges into it fan apart.
            t = 0.72
            ax.text(
                x0 + t * (x1 - x0), y0 + t * (y1 - y0) + 0.08, w_names[level][i][j],
                fontsize=9, ha="center", va="bottom", zorder=3,
                bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5},
            )  # fmt: skip
    _neurons(ax, shown, names, position)
    labels = ["inputs", *(f"{g.name}\n{g.activation_name}" for g in groups)]
    for level, (label, size) in enumerate(zip(labels, sizes, strict=True)):
        x, _ = position(level, 0)
        bottom = -(tallest - 1) / 2 - 0.55
        ax.text(x, bottom, f"{label}\n({size})", ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.6, 2.0 * (len(sizes) - 1) + 0.6)
    ax.set_ylim(-(tallest - 1) / 2 - 1.3, (tallest - 1) / 2 + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        "blue: positive weight, orange: negative; width ~ |weight|", fontsize=9
    )
    figure.tight_layout()
    return finish(figure, path)


def _neurons(
    ax: Any, shown: list[list[int]], names: list[list[str]], position: Any
) -> None:
    """Circles with the neurons' names; three dots for the ones left out."""
    from matplotlib.patches import Circle

    last = len(shown) - 1
    for level, indices in enumerate(shown):
        face = "#f4f4f4" if level == 0 else ("#fff3e0" if level == last else "white")
        for slot, index in enumerate(indices):
            x, y = position(level, slot)
            if index == _ELLIPSIS:
                ax.plot([x] * 3, [y - 0.15, y, y + 0.15], "o", color="0.35", ms=2.5)
                continue
            ax.add_patch(Circle((x, y), _RADIUS, fc=face, ec="0.2", lw=1.2, zorder=2))
            ax.text(
                x,
                y,
                names[level][index],
                ha="center",
                va="center",
                fontsize=9,
                zorder=3,
            )
