"""``model.export_html("net.html")``: a trained model as one page that runs offline.

The file holds the model as readable JSON (view the page's source to see every
weight), a JavaScript forward pass and the views: for a model with two inputs, the
output as a heatmap over the inputs' range with a small heatmap per neuron; for more
inputs, the same over a 2-D slice through two chosen inputs; for every model, the
network drawn as neurons and connections, a slider and a number box per input with
the live output and class probabilities, and the ``summary()`` table. The page
loads nothing else and runs under a Content-Security-Policy of ``default-src
'none'`` plus its own inline code (:mod:`glassnet.web.page`).

>>> import numpy as np, os, tempfile
>>> from glassnet.models import Sequential
>>> from glassnet.layers import Dense
>>> model = Sequential([Dense(4, activation="tanh", input_dim=2),
...                     Dense(1, activation="sigmoid")], seed=0)
>>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0, 1, 1, 0])
>>> path = os.path.join(tempfile.mkdtemp(), "xor.html")
>>> export_html(model, path, data=(x, y), feature_names=["a", "b"])
>>> text = open(path, encoding="utf-8").read()
>>> "default-src 'none'" in text, "http://" in text.replace("http://www.w3.org", "")
(True, False)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)
from glassnet.io.atomic import atomic_write, check_path
from glassnet.web.json_text import readable_json
from glassnet.web.model_json import model_to_json
from glassnet.web.page import render_page

__all__ = ["MAX_POINTS", "export_html", "render_html"]

#: At most this many data points are embedded (an evenly spaced subset of more).
MAX_POINTS = 5000

_SCRIPTS = ["forward.js", "views.js", "diagram.js", "export.js"]
_STYLES = ["glassnet.css"]


def export_html(
    model: Any,
    path: Any,
    *,
    data: Any = None,
    feature_names: Any = None,
    class_names: Any = None,
    task: str | None = None,
    domain: Any = None,
    title: str | None = None,
    overwrite: bool = True,
) -> None:
    """Write ``model`` as one self-contained, offline HTML page to ``path``.

    Parameters
    ----------
    model : Model
        A built chain of ``Dense``, ``Activation`` (and Keras' activation layers),
        ``Dropout`` and ``Input`` layers, from rows of features to one output.
        Other layers are refused with an error listing the supported ones.
    path : str or path-like
        The ``.html`` file to write (atomically: a failure leaves no partial file).
    data : (x, y), optional
        Points to draw over the heatmap and to set the inputs' ranges: ``x`` shaped
        ``(n, inputs)``, ``y`` class indices (``0/1`` or ``-1/1`` for binary,
        one-hot rows accepted) or regression targets. At most :data:`MAX_POINTS`
        are embedded (an evenly spaced subset).
    feature_names : list of str, optional
        One name per input (default ``x1``, ``x2``, ...).
    class_names : list of str, optional
        One name per class (2 for a binary model, one per unit for multiclass).
    task : {"binary", "multiclass", "regression"}, optional
        How to read the output; see :func:`glassnet.web.model_json.model_to_json`.
    domain : sequence of (low, high), optional
        Each input's range for the sliders and heatmaps; for two inputs this is the
        heatmap's extent ``[[x0, x1], [y0, y1]]``. Default: the data's range with
        10% margins, else ``[-1, 1]``.
    title : str, optional
        The page's title (default: the model's name).
    overwrite : bool, default True
        False refuses to replace an existing file.

    Raises
    ------
    InvalidArgumentError, ShapeError, DataError
        Unsupported layers, arguments that do not fit the model, NaN or infinite
        weights, data or ranges (all ``ValueError`` subclasses). Nothing is written.

    Examples
    --------
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, activation="sigmoid", input_dim=3)], seed=0)
    >>> model.layers[0].params["b"][0] = float("nan")
    >>> export_html(model, "never_written.html")
    Traceback (most recent call last):
    ...
    glassnet.errors.DataError: Layer 'dense' has NaN or infinite values in its weights 'b'...
    """
    check_path(path, "path")
    text = render_html(
        model,
        data=data,
        feature_names=feature_names,
        class_names=class_names,
        task=task,
        domain=domain,
        title=title,
    )
    with atomic_write(path, overwrite=overwrite) as handle:
        handle.write(text.encode("utf-8"))


def render_html(
    model: Any,
    *,
    data: Any = None,
    feature_names: Any = None,
    class_names: Any = None,
    task: str | None = None,
    domain: Any = None,
    title: str | None = None,
) -> str:
    """The text :func:`export_html` writes (same arguments, no file).

    The same model and arguments always give the same text.

    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(2, activation="softmax", input_dim=2)], seed=0)
    >>> render_html(model) == render_html(model)
    True
    """
    spec = model_to_json(model, task=task)
    inputs, output = spec["inputs"], spec["output"]
    features = _names(feature_names, inputs, "feature_names", default="x{}", start=1)
    n_classes = {"binary": 2, "multiclass": output["units"]}.get(output["task"], 0)
    classes = None
    if n_classes:
        classes = _names(class_names, n_classes, "class_names", default="{}", start=0)
    elif class_names is not None:
        raise InvalidArgumentError(
            "Argument `class_names` is for classifiers; this model's output is read as "
            "a regression (pass task='binary' or 'multiclass' if it classifies). "
            f"Received: class_names={class_names!r:.80}"
        )
    points = _points(data, inputs, output["task"], n_classes)
    ranges = _ranges(domain, inputs, points)
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    name = str(model.name)
    page: dict[str, Any] = {
        "title": name if title is None else str(title),
        "description": _description(name, spec, model.count_params()),
        "feature_names": features,
        "class_names": classes,
        "ranges": ranges,
        "data": points,
        "summary": "\n".join(lines),
    }
    html, _ = render_page(
        title=page["title"],
        scripts=_SCRIPTS,
        styles=_STYLES,
        data={
            "glassnet-model": readable_json(spec),
            "glassnet-page": readable_json(page),
        },
    )
    return html


def _description(name: str, spec: dict[str, Any], params: int) -> str:
    output = spec["output"]
    inputs = spec["inputs"]
    return (
        f"glassnet model '{name}': {inputs} input{'s' if inputs != 1 else ''}, "
        f"{output['units']} output{'s' if output['units'] != 1 else ''} "
        f"({output['task']}), {params:,} parameters. View the page's source for "
        "every weight."
    )


def _names(
    given: Any, count: int, argument: str, *, default: str, start: int
) -> list[str]:
    if given is None:
        return [default.format(i + start) for i in range(count)]
    if isinstance(given, (str, bytes)) or not hasattr(given, "__len__"):
        raise GlassnetTypeError(
            f"Argument `{argument}` must be a list of {count} names. "
            f"Received: {argument}={given!r:.80}"
        )
    names = [str(name) for name in given]
    if len(names) != count:
        raise InvalidArgumentError(
            f"Argument `{argument}` must hold {count} names, one per "
            f"{'input' if argument == 'feature_names' else 'class'}. "
            f"Received: {len(names)} names"
        )
    return names


def _points(data: Any, inputs: int, task: str, n_classes: int) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise GlassnetTypeError(
            "Argument `data` must be a pair (x, y) of inputs and labels or targets. "
            f"Received: {type(data).__name__}"
        )
    try:
        x = np.asarray(data[0], dtype=np.float64)
        y = np.asarray(data[1], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataError(f"Argument `data` must hold numbers: {error}") from None
    if x.ndim != 2 or x.shape[1] != inputs:
        raise ShapeError(
            f"Argument `data`: x must be shaped (n, {inputs}) for this model. "
            f"Received: x shaped {x.shape}"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and n_classes > 2 and y.shape[1] == n_classes:
        y = y.argmax(axis=1).astype(np.float64)  # one-hot rows
    if y.ndim != 1 or len(y) != len(x):
        raise ShapeError(
            f"Argument `data`: y must hold one label or target per row of x ({len(x)}). "
            f"Received: y shaped {y.shape}"
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError("Argument `data` holds NaN or infinite values.")
    if len(x) > MAX_POINTS:
        keep = np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(int)
        x, y = x[keep], y[keep]
    labels: list[Any] = y.tolist()
    if n_classes:
        if task == "binary" and set(np.unique(y)) <= {-1.0, 1.0}:
            y = (y > 0).astype(np.float64)  # the Playground's -1/1 labels
        if not (np.all(y == np.round(y)) and np.all((y >= 0) & (y < n_classes))):
            raise DataError(
                f"Argument `data`: the labels of a {task} model must be class indices "
                f"0 to {n_classes - 1}. Received values such as {y[:5].tolist()}"
            )
        labels = y.astype(int).tolist()
    return {"x": x.tolist(), "y": labels}


def _ranges(
    domain: Any, inputs: int, points: dict[str, Any] | None
) -> list[list[float]]:
    if domain is not None:
        try:
            ranges = np.asarray(domain, dtype=np.float64)
        except (TypeError, ValueError):
            ranges = np.empty(0)
        if ranges.shape != (inputs, 2):
            raise ShapeError(
                f"Argument `domain` must give a (low, high) pair for each of the "
                f"{inputs} inputs. Received: {domain!r:.80}"
            )
        if not np.isfinite(ranges).all() or not (ranges[:, 0] < ranges[:, 1]).all():
            raise InvalidArgumentError(
                "Argument `domain` must hold finite (low, high) pairs with low < high. "
                f"Received: {domain!r:.80}"
            )
        return [[float(lo), float(hi)] for lo, hi in ranges]
    if points is None:
        return [[-1.0, 1.0] for _ in range(inputs)]
    x = np.asarray(points["x"])
    result = []
    for lo, hi in zip(x.min(axis=0), x.max(axis=0), strict=True):
        margin = 0.1 * (hi - lo) if hi > lo else max(0.5, abs(lo) * 0.1)
        result.append([_round(lo - margin, math.floor), _round(hi + margin, math.ceil)])
    return result


def _round(value: float, direction: Any) -> float:
    """Three significant digits, rounded outwards: readable, and still holding the data."""
    if value == 0:
        return 0.0
    scale = 10.0 ** (2 - math.floor(math.log10(abs(value))))
    return float(direction(value * scale) / scale)
