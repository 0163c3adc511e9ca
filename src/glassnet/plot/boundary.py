"""Decision boundaries of a 2-input model, of its output and of every hidden neuron.

As TensorFlow Playground shows a network: each hidden neuron gets a small panel with
its output over the input plane (orange negative, blue positive, light grey at f(0))
and the line where its sum crosses 0; the output gets a large panel with the data
points and the model's decision boundary.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import as_float_array, check_bool, check_positive_int
from glassnet.errors import GlassnetTypeError, ShapeError
from glassnet.explain.neurons import NeuronLayer, neuron_layers, neuron_names
from glassnet.models import Sequential
from glassnet.plot._mpl import NEGATIVE, POSITIVE, colormap, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "check_data",
    "check_model",
    "draw_decision_boundary",
    "figure_size",
    "plot_decision_boundary",
]

_CHUNK = 8192  # grid points per forward pass: bounds memory for wide layers


def check_model(model: Any) -> Sequential:
    if not isinstance(model, Sequential):
        raise GlassnetTypeError(
            f"Expected a glassnet Sequential model. Received: {type(model).__name__}"
        )
    if model.built_input_shape() != (2,):
        raise ShapeError(
            "A decision boundary is drawn over the plane of two input features. "
            f"Received: a model built for input shape {model.input_shape}"
        )
    return model


def _grid(x: Array, resolution: int) -> tuple[Array, Array, Array]:
    """The plane around the data: ``xs``, ``ys`` and the points, row by row."""
    low, high = x.min(axis=0), x.max(axis=0)
    pad = np.where(high > low, 0.1 * (high - low), 1.0)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def _forward(
    model: Sequential, groups: list[NeuronLayer] | None, points: Array
) -> tuple[Array, list[tuple[Array, Array]]]:
    """The output at every point and, per neuron layer, its sums and outputs.

    The model's own layers run in inference mode, as ``predict`` runs them.
    """
    outputs, layers_seen = [], []
    for start in range(0, len(points), _CHUNK):
        out = points[start : start + _CHUNK].astype(model.dtype)
        seen = []
        with np.errstate(over="ignore"):  # exp -> inf is harmless: see activations
            for group in groups or []:
                z = None
                for layer in group.layers:
                    out = layer.forward(out, training=False, keep_cache=True)
                    z = layer.logits if z is None else z
                seen.append((z, out))
            if groups is None:
                out = model.forward(out, training=False)
        outputs.append(out)
        layers_seen.append(seen)
    per_layer = [
        (
            np.concatenate([seen[i][0] for seen in layers_seen]),
            np.concatenate([seen[i][1] for seen in layers_seen]),
        )
        for i in range(len(groups or []))
    ]
    return np.concatenate(outputs), per_layer


def _classes(y: Array | None) -> Array | None:
    """Class index per sample for one-hot rows, else the labels as given."""
    if y is None:
        return None
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)


def _scatter(
    ax: Axes, x: Array, labels: Array | None, classes: int, size: float
) -> None:
    """The data points: orange/blue for two classes, tab10 colours for more."""
    if labels is None:
        ax.scatter(x[:, 0], x[:, 1], s=size, c="k", edgecolors="white", linewidths=0.5)
        return
    values = np.unique(labels)
    if classes > 1:
        import matplotlib as mpl

        colors = mpl.colormaps["tab10"](labels.astype(int) % 10)
    elif len(values) <= 2:
        colors = np.where(labels == values.max(), POSITIVE, NEGATIVE)
    else:  # a regression target: its value on the same orange-blue scale
        ax.scatter(x[:, 0], x[:, 1], s=size, c=labels, cmap=colormap(), edgecolors="k")
        return
    ax.scatter(x[:, 0], x[:, 1], s=size, c=colors, edgecolors="white", linewidths=0.7)


def _center_span(name: str, values: Array, center: float) -> tuple[float, float]:
    """Colour scale: sigmoid and tanh have fixed ranges, so frames compare."""
    if name in ("sigmoid", "softmax"):
        return 0.5, 0.5
    if name == "tanh":
        return 0.0, 1.0
    span = float(np.max(np.abs(values - center))) if values.size else 1.0
    return center, span or 1.0


def _panel(
    ax: Axes,
    image: Array,
    extent: tuple[float, float, float, float],
    center: float,
    span: float,
) -> None:
    ax.imshow(
        image,
        origin="lower",
        extent=extent,
        cmap=colormap(),
        vmin=center - span,
        vmax=center + span,
        aspect="auto",
        interpolation="bilinear",
        alpha=0.7,  # lighter than the data points drawn over it
    )
    ax.set_xticks([])
    ax.set_yticks([])


def _contour(
    ax: Axes, xs: Array, ys: Array, image: Array, level: float, **kw: Any
) -> None:
    """The line ``image == level``, if the image crosses it."""
    if image.min() < level < image.max():
        ax.contour(xs, ys, image, levels=[level], colors="k", **kw)


def _output_panel(
    ax: Axes,
    model: Sequential,
    output: Array,
    grid: tuple[Array, Array],
    x: Array,
    labels: Array | None,
) -> None:
    xs, ys = grid
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    shape = (len(ys), len(xs))
    units = output.shape[1]
    activation = model.layers[-1].output_activation
    act_name = activation.name if activation is not None else "linear"
    if units > 1:
        import matplotlib as mpl
        from matplotlib.colors import ListedColormap

        cls = output.argmax(axis=1).reshape(shape)
        palette = ListedColormap(mpl.colormaps["tab10"](np.arange(units) % 10))
        ax.imshow(
            cls, origin="lower", extent=extent, cmap=palette, vmin=-0.5,
            vmax=units - 0.5, alpha=0.35, aspect="auto", interpolation="nearest",
        )  # fmt: skip
        for k in range(units - 1):
            _contour(ax, xs, ys, cls.astype(float), k + 0.5, linewidths=1.0)
        ax.set_title(f"output: the class with the highest of {units} ({act_name})")
    else:
        # The same threshold as predict_classes: 0.5, or 0 for a model trained on logits
        threshold = 0.0 if getattr(model.loss, "from_logits", False) else 0.5
        image = output[:, 0].reshape(shape)
        center, span = _center_span(act_name, image, threshold)
        _panel(ax, image, extent, center, span)
        _contour(ax, xs, ys, image, threshold, linewidths=1.5)
        ax.set_title(f"output o1 ({act_name}); line: o1 = {threshold:g}")
    _scatter(ax, x, labels, units, 28)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


def draw_decision_boundary(
    figure: Figure,
    model: Sequential,
    x: Array,
    y: Array | None,
    *,
    neurons: bool,
    resolution: int,
    max_neurons: int,
) -> None:
    """Draw into ``figure`` (see :func:`plot_decision_boundary`)."""
    groups = neuron_layers(model) if neurons else None
    xs, ys, points = _grid(x, resolution)
    output, per_layer = _forward(model, groups, points)
    labels = _classes(y)
    if groups is None or len(groups) == 1:
        ax = figure.add_subplot(1, 1, 1)
        _output_panel(ax, model, output, (xs, ys), x, labels)
        return
    hidden = groups[:-1]
    names = neuron_names(groups, 2)[1:-1]
    rows = min(max(g.units for g in hidden), max_neurons)
    width = figure.get_size_inches()[0]
    output_width = (width - _PANEL * len(hidden) - 0.4) / _PANEL
    spec = figure.add_gridspec(
        rows, len(hidden) + 2, width_ratios=[1] * len(hidden) + [0.3, output_width],
        wspace=0.08, hspace=0.12, left=0.04, right=0.97, top=0.9, bottom=0.1,
    )  # fmt: skip
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    shape = (len(ys), len(xs))
    for col, (group, (z, out), level_names) in enumerate(
        zip(hidden, per_layer, names, strict=False)
    ):
        center = float(group.activate(np.zeros(1, dtype=model.dtype))[0][0])
        for j in range(min(group.units, rows)):
            ax = figure.add_subplot(spec[j, col])
            image = out[:, j].reshape(shape)
            _panel(
                ax, image, extent, *_center_span(group.activation_name, image, center)
            )
            _contour(ax, xs, ys, z[:, j].reshape(shape), 0.0, linewidths=0.8)
            _scatter(ax, x, labels, output.shape[1], 4)
            ax.set_xlim(xs[0], xs[-1])
            ax.set_ylim(ys[0], ys[-1])
            ax.text(
                0.04, 0.96, level_names[j], transform=ax.transAxes, va="top",
                fontsize=8, bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1},
            )  # fmt: skip
            if j == 0:
                ax.set_title(f"{group.name}\n{group.activation_name}", fontsize=8)
        if group.units > rows:
            ax.set_xlabel(f"+ {group.units - rows} more", fontsize=8)
    ax = figure.add_subplot(spec[:, len(hidden) + 1])
    _output_panel(ax, model, output, (xs, ys), x, labels)


def plot_decision_boundary(
    model: Sequential,
    x: Any,
    y: Any = None,
    *,
    neurons: bool = False,
    resolution: int = 100,
    max_neurons: int = 8,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Draw where a 2-input model decides what, over the data points.

    The output panel colours the plane by the model's output (one output: orange to
    blue, with the line where it crosses 0.5, or 0 for a model trained on logits;
    several outputs: the arg-max class). With ``neurons=True`` every hidden neuron
    gets its own small panel too, as in TensorFlow Playground: its output over the
    plane and the line where its sum crosses 0 (where it switches on).

    Parameters
    ----------
    model : Sequential
        A built model with two inputs. ``neurons=True`` needs Dense layers
        (optionally followed by Activation and Dropout layers).
    x : array-like, shape (n, 2)
        The data points (they also set the extent of the plane).
    y : array-like, optional
        Their labels (class indices, 0/1 or one-hot rows) or regression targets.
    neurons : bool
        Also draw every hidden neuron (at most ``max_neurons`` per layer).
    resolution : int
        Grid points along each axis.
    title : str, optional
        A title above the figure.
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
    >>> model = Sequential([Dense(3, activation="tanh", input_dim=2),
    ...                     Dense(1, activation="sigmoid")], seed=0)
    >>> x = [[0, 0], [0, 1], [1, 0], [1, 1]]
    >>> figure = plot_decision_boundary(model, x, [0, 1, 1, 0], neurons=True,
    ...                                 resolution=20)
    >>> len(figure.axes)  # three hidden neurons and the output
    4
    """
    model = check_model(model)
    neurons = check_bool(neurons, "neurons")
    resolution = check_positive_int(resolution, "resolution")
    max_neurons = check_positive_int(max_neurons, "max_neurons")
    x_arr, y_arr = check_data(x, y)
    figure = new_figure(figure_size(model, neurons, max_neurons))
    draw_decision_boundary(
        figure, model, x_arr, y_arr, neurons=neurons, resolution=resolution,
        max_neurons=max_neurons,
    )  # fmt: skip
    if title:
        figure.suptitle(title)
    return finish(figure, path)


_PANEL = 1.25  # inches per small neuron panel


def figure_size(
    model: Sequential, neurons: bool, max_neurons: int
) -> tuple[float, float]:
    """A column of small panels per hidden layer, a gap, then the square output."""
    hidden = neuron_layers(model)[:-1] if neurons else []
    if not hidden:
        return (5.0, 4.6)
    rows = min(max(group.units for group in hidden), max_neurons)
    height = max(4.6, _PANEL * rows + 0.9)
    return (_PANEL * len(hidden) + 0.4 + height, height)


def check_data(x: Any, y: Any) -> tuple[Array, Array | None]:
    x_arr = as_float_array(x, "x", np.float64, min_ndim=2)
    if x_arr.ndim != 2 or x_arr.shape[1] != 2:
        raise ShapeError(
            f"Argument `x` must have shape (n, 2). Received: x.shape={x_arr.shape}"
        )
    if y is None:
        return x_arr, None
    y_arr = as_float_array(y, "y", np.float64)
    if len(y_arr) != len(x_arr):
        raise ShapeError(
            "Arguments `x` and `y` must hold the same number of samples. "
            f"Received: {len(x_arr)} and {len(y_arr)}"
        )
    return x_arr, y_arr
