"""What a convolutional network has learned and what it sees: filters, feature maps.

- :func:`plot_filters`: the kernel of a Conv2D (or Conv1D) layer, one small image
  of ``kh x kw`` weights per filter and input channel, on one colour scale for the
  whole layer (orange negative, blue positive, as every weight picture here).
- :func:`plot_feature_maps`: what any layer of a model outputs for one input image,
  one panel per channel, on one colour scale for the layer.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_positive_int
from glassnet.errors import GlassnetTypeError, NotBuiltError, ShapeError
from glassnet.explain.layer_values import find_layer, layer_values
from glassnet.layers import Conv1D, Conv2D, Layer
from glassnet.models.network import Network
from glassnet.plot._mpl import POSITIVE, colormap, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_feature_maps", "plot_filters"]

_PANEL = 1.2  # inches per small picture
_COLUMNS = 8  # pictures per row when they wrap


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _conv_layer(model: Any, layer: Any) -> Conv1D | Conv2D:
    """The built convolution layer named by ``model`` and ``layer``."""
    if isinstance(model, (Conv1D, Conv2D)):
        conv = model
    elif isinstance(model, Network):
        found = find_layer(
            model, layer, kinds=(Conv1D, Conv2D), what="a Conv1D or Conv2D layer"
        )
        assert isinstance(found, (Conv1D, Conv2D))
        conv = found
    else:
        raise GlassnetTypeError(
            "Expected a glassnet model or a Conv1D/Conv2D layer. "
            f"Received: {type(model).__name__}"
        )
    if "W" not in conv.params:
        raise NotBuiltError(
            f"Layer '{conv.name}' is not built: build it (or its model) first."
        )
    return conv


def plot_filters(
    model: Any,
    layer: Any = None,
    *,
    max_filters: int = 64,
    max_channels: int = 16,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Draw the learned filters of a convolution layer, as small images.

    Each filter ``f`` has one ``kh x kw`` image per input channel ``c``, the weights
    ``W[:, :, c, f]``: one row per filter and one column per input channel (a
    layer on one channel, such as the first layer on grey images, wraps its
    filters into rows of 8). Every image shares one colour scale, symmetric about
    0: orange for negative weights, blue for positive, light grey for 0. A Conv1D
    filter is one row of ``k`` weights.

    Parameters
    ----------
    model : Model, Sequential, Conv2D or Conv1D
        A built model, or a built convolution layer.
    layer : str, int, Layer or None
        Which convolution layer of ``model`` (name, index into ``model.layers``, or
        the layer); by default the first one.
    max_filters, max_channels : int
        Draw at most this many filters and input channels (the first ones).
    path : str or PathLike, optional
        Also save the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One axis per image drawn, row by row; ``ax.images[0].get_array()`` holds
        the weights it shows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from glassnet.layers import Conv2D, Input
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Input((8, 8, 2)), Conv2D(3, 3)], seed=0)
    >>> figure = plot_filters(model)
    >>> len(figure.axes), figure.axes[0].images[0].get_array().shape
    (6, (3, 3))
    """
    conv = _conv_layer(model, layer)
    max_filters = check_positive_int(max_filters, "max_filters")
    max_channels = check_positive_int(max_channels, "max_channels")
    kernel = conv.params["W"]
    if conv.rank == 1:
        kernel = kernel[np.newaxis]  # (1, k, C, F): each filter one row of k
    kh, kw, channels, filters = kernel.shape
    size = f"{kh} x {kw}" if conv.rank == 2 else str(kw)
    n_filters, n_channels = min(filters, max_filters), min(channels, max_channels)
    if n_channels == 1:
        cols = min(n_filters, _COLUMNS)
        rows = math.ceil(n_filters / cols)
    else:
        rows, cols = n_filters, n_channels
    scale = float(np.max(np.abs(kernel))) or 1.0
    aspect = max(kw / kh, 1.0) if conv.rank == 2 else min(kw / 2, 4.0)
    figure = new_figure((_PANEL * cols * aspect + 0.4, (_PANEL + 0.25) * rows + 0.8))
    cmap = colormap()
    for f in range(n_filters):
        for c in range(n_channels):
            index = f if n_channels == 1 else f * n_channels + c
            ax = figure.add_subplot(rows, cols, index + 1)
            ax.imshow(
                kernel[:, :, c, f],
                cmap=cmap,
                vmin=-scale,
                vmax=scale,
                interpolation="nearest",
            )
            _bare(ax)
            if n_channels == 1:
                ax.set_title(f"f{f}", fontsize=8)
            else:
                if c == 0:
                    ax.set_ylabel(f"f{f}", fontsize=8)
                if f == 0:
                    ax.set_title(f"c{c}", fontsize=8)
    shown = (
        ""
        if (n_filters, n_channels) == (filters, channels)
        else (
            f" (first {n_filters} of {filters} filters, {n_channels} of {channels} "
            "channels)"
        )
    )
    figure.suptitle(
        f"{conv.name}: {filters} filters of {size} x {channels}{shown}\n"
        f"weights from -{scale:.3g} (orange) to {scale:.3g} (blue)",
        fontsize=9,
    )
    figure.tight_layout()
    return finish(figure, path)


def _feature_panel(ax: Axes, out: Array, c: int, low: float, high: float) -> None:
    """Channel ``c`` of ``out``: an image (H, W, C), a curve (steps, C), or, for a
    flat output (units,), the units as bars."""
    if out.ndim == 3:
        ax.imshow(
            out[..., c], cmap="viridis", vmin=low, vmax=high, interpolation="nearest"
        )
        _bare(ax)
        ax.set_title(f"c{c}", fontsize=8)
    elif out.ndim == 2:
        ax.plot(np.arange(out.shape[0]), out[:, c], color=POSITIVE, lw=1)
        ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
        ax.tick_params(labelsize=6)
        ax.set_title(f"c{c}", fontsize=8)
    else:
        ax.bar(np.arange(out.size), out.ravel(), color=POSITIVE)
        ax.set_xlabel("unit", fontsize=7)
        ax.tick_params(labelsize=6)


def plot_feature_maps(
    model: Network,
    x: Any,
    layer: Any = None,
    *,
    max_channels: int = 64,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Draw what one layer outputs for one input image, one panel per channel.

    The model runs on ``x`` in inference mode, as ``predict`` runs it, up to the
    layer. An output ``(H, W, C)`` (a convolution, a pool) gives C images, all on
    one colour scale (viridis, from the smallest to the largest value of the
    layer's output), so bright channels are the ones that respond; ``(steps, C)``
    gives C curves; a flat output (Dense, Flatten) one bar chart of its units.
    Outputs of higher rank are refused.

    Parameters
    ----------
    model : Model or Sequential
        A built model with one input.
    x : array-like
        One input sample (e.g. an (8, 8, 1) image), with or without its batch
        axis of 1.
    layer : str, int, Layer or None
        The layer to show (name, index into ``model.layers``, or the layer); by
        default the first Conv1D or Conv2D layer.
    max_channels : int
        Draw at most this many channels (the first ones).
    path : str or PathLike, optional
        Also save the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One axis per channel; ``ax.images[0].get_array()`` holds a 2-D map.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from glassnet.layers import Conv2D, Input, MaxPooling2D
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Input((8, 8, 1)), Conv2D(4, 3, padding="same"),
    ...                     MaxPooling2D(name="pool")], seed=0)
    >>> figure = plot_feature_maps(model, np.ones((8, 8, 1)), "pool")
    >>> len(figure.axes), figure.axes[0].images[0].get_array().shape
    (4, (4, 4))
    """
    max_channels = check_positive_int(max_channels, "max_channels")
    target: Layer = (
        _conv_layer(model, None) if layer is None else find_layer(model, layer)
    )
    _, out = layer_values(model, x, target)
    if out.ndim > 3:
        raise ShapeError(
            f"plot_feature_maps draws outputs shaped (H, W, C), (steps, C) or "
            f"(units,). Received: layer '{target.name}' with output shape {out.shape}"
        )
    channels = out.shape[-1] if out.ndim >= 2 else 1
    shown = min(channels, max_channels)
    cols = min(shown, _COLUMNS)
    rows = math.ceil(shown / cols)
    wide = 2.0 if out.ndim <= 2 else 1.0
    figure = new_figure((_PANEL * cols * wide + 0.4, (_PANEL + 0.25) * rows + 0.8))
    low, high = float(out.min()), float(out.max())
    if high == low:
        high = low + 1.0
    for c in range(shown):
        _feature_panel(figure.add_subplot(rows, cols, c + 1), out, c, low, high)
    more = "" if shown == channels else f" (first {shown} of {channels} channels)"
    figure.suptitle(
        f"{target.name} ({type(target).__name__}): output {out.shape} for one "
        f"input{more}\nvalues from {low:.3g} to {float(out.max()):.3g}",
        fontsize=9,
    )
    figure.tight_layout()
    return finish(figure, path)
