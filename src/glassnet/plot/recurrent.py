"""What a recurrent layer remembers: its hidden (and cell) state over a sequence.

:func:`plot_hidden_states` draws, for one input sequence, the hidden state
``h_t`` of a SimpleRNN, LSTM or GRU as a heatmap (one row per unit, one column
per step) and, for an LSTM, the cell state ``c_t`` below it; the input goes on
top (a curve for one feature, a heatmap for several). The states are those of
:func:`glassnet.explain.recurrent_states`, which the tests check against the
layer's own forward pass.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_bool, check_positive_int
from glassnet.errors import GlassnetTypeError, ShapeError
from glassnet.explain.recurrent import recurrent_states
from glassnet.plot._mpl import POSITIVE, colormap, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_hidden_states"]

_BOUNDED = ("tanh", "sigmoid")  # activations whose h stays within [-1, 1]


def _labels(labels: Any, steps: int) -> list[str] | None:
    if labels is None:
        return None
    if isinstance(labels, str):
        labels = list(labels)
    try:
        texts = [str(label) for label in labels]
    except TypeError:
        raise GlassnetTypeError(
            "Argument `labels` must be one label per step (a string of characters "
            f"or a list). Received: labels={labels!r}"
        ) from None
    if len(texts) != steps:
        raise ShapeError(
            f"Argument `labels` needs one label per step ({steps}). Received: "
            f"{len(texts)} labels"
        )
    return texts


def _time_axis(ax: Axes, steps: int, labels: list[str] | None) -> None:
    """Steps 1 .. T along x, or the given labels (e.g. the characters read)."""
    if labels is not None:
        ax.set_xticks(np.arange(1, steps + 1))
        ax.set_xticklabels([repr(t)[1:-1] for t in labels], fontsize=7)
    ax.set_xlim(0.5, steps + 0.5)


def _heatmap(
    figure: Figure, ax: Axes, bar: Axes, values: Array, title: str, scale: float
) -> None:
    """``values`` (units, steps) on a colour scale symmetric about 0; its colour bar
    in ``bar``."""
    units, steps = values.shape
    image = ax.imshow(
        values,
        cmap=colormap(),
        vmin=-scale,
        vmax=scale,
        aspect="auto",
        interpolation="nearest",
        extent=(0.5, steps + 0.5, units - 0.5, -0.5),
    )
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("unit", fontsize=8)
    ax.set_title(title, fontsize=9)
    figure.colorbar(image, cax=bar)
    bar.tick_params(labelsize=7)


def plot_hidden_states(
    model: Any,
    x: Any,
    layer: Any = None,
    *,
    cell_state: bool = True,
    show_input: bool = True,
    labels: Any = None,
    max_units: int = 64,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Draw a recurrent layer's hidden state over one sequence, unit by unit.

    Each column is a step t (1 to T, in the order the layer reads: reversed for
    ``go_backwards``), each row a unit; blue for positive values, orange for
    negative. The hidden state of a tanh layer is drawn on the scale -1 to 1,
    anything else on a scale symmetric about 0 up to its largest magnitude.

    Parameters
    ----------
    model : Model, Sequential, SimpleRNN, LSTM or GRU
        A built model, or a built recurrent layer on its own.
    x : array-like
        One sample (a model input, e.g. token ids or an (8, 8) sequence), with or
        without its batch axis of 1; for a layer on its own, its input
        (time, features).
    layer : str, int, Layer or None
        The recurrent layer of ``model`` (name, index into ``model.layers``, or
        the layer); by default the first one.
    cell_state : bool
        Also draw an LSTM's cell state ``c_t`` (default True).
    show_input : bool
        Draw the layer's input above: a curve for one feature, else a heatmap of
        the features (default True).
    labels : str or sequence, optional
        One label per step for the time axis, e.g. the characters read.
    max_units : int
        Draw at most this many units (the first ones).
    path : str or PathLike, optional
        Also save the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
        Axes from top to bottom: the input (if shown), ``h``, ``c`` (LSTM), each
        heatmap followed by its colour bar; ``ax.images[0].get_array()`` holds
        ``h`` (units, steps).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from glassnet.layers import LSTM
    >>> lstm = LSTM(4)
    >>> lstm.build((None, 1), np.random.default_rng(0), np.float32)
    >>> figure = plot_hidden_states(lstm, np.sin(np.arange(12.0))[:, None])
    >>> [ax.get_title() for ax in figure.axes if ax.get_title()]
    ['input x_t', 'hidden state h_t', 'cell state c_t']
    >>> figure.axes[1].images[0].get_array().shape      # 4 units x 12 steps
    (4, 12)
    """
    cell_state = check_bool(cell_state, "cell_state")
    show_input = check_bool(show_input, "show_input")
    max_units = check_positive_int(max_units, "max_units")
    rnn, xs, h, c = recurrent_states(model, x, layer)
    steps, units = h.shape
    names = _labels(labels, steps)
    shown = min(units, max_units)
    panels: list[tuple[str, Array | None]] = []
    if show_input:
        panels.append(("input x_t", None))
    panels.append(("hidden state h_t", h[:, :shown].T))
    if c is not None and cell_state:
        panels.append(("cell state c_t", c[:, :shown].T))
    heights = [
        1.2 if values is None else max(1.5, 0.12 * shown) for _, values in panels
    ]
    width = min(max(6.0, 0.25 * steps + 2.0), 16.0)
    figure = new_figure((width, sum(heights) + 1.2))
    # a narrow second column for the colour bars keeps every panel's steps aligned
    grid = figure.add_gridspec(
        len(panels), 2, height_ratios=heights, width_ratios=(1.0, 0.02)
    )
    bounded = rnn.activation.name in _BOUNDED
    first: Axes | None = None
    for row, (title, values) in enumerate(panels):
        ax = figure.add_subplot(grid[row, 0], sharex=first)
        first = first or ax
        if values is None:
            _input_panel(figure, ax, grid[row, 1], xs)
        else:
            scale = float(np.max(np.abs(values))) or 1.0
            if bounded and title.startswith("hidden"):
                scale = 1.0
            bar = figure.add_subplot(grid[row, 1])
            _heatmap(figure, ax, bar, values, title, scale)
        _time_axis(ax, steps, names)
        ax.tick_params(labelsize=7)
    bottom = [ax for ax in figure.axes if ax.get_title()][-1]
    bottom.set_xlabel("step t" + (" (read from the end)" if rnn.go_backwards else ""))
    more = "" if shown == units else f" (first {shown} of {units} units)"
    figure.suptitle(
        f"{rnn.name} ({type(rnn).__name__}, {units} units) over {steps} steps{more}",
        fontsize=9,
    )
    figure.tight_layout()
    return finish(figure, path)


def _input_panel(figure: Figure, ax: Axes, bar_cell: Any, xs: Array) -> None:
    """One feature: a curve over the steps; several: a heatmap (features, steps)."""
    steps, features = xs.shape
    if features == 1:
        ax.plot(np.arange(1, steps + 1), xs[:, 0], color=POSITIVE, lw=1.2, marker=".")
        ax.set_title("input x_t", fontsize=9)
        return
    scale = float(np.max(np.abs(xs))) or 1.0
    _heatmap(figure, ax, figure.add_subplot(bar_cell), xs.T, "input x_t", scale)
    ax.set_ylabel("feature", fontsize=8)
