"""Backpropagation summarized per layer, for networks too large to show neuron by neuron.

For each layer: the mean and spread (standard deviation) of its outputs over the
samples and units, the share of dead units (a relu unit whose output is exactly 0 for
every sample given: no gradient flows back through it), the norm of dL/d(output)
arriving from above (it shrinks layer by layer when gradients vanish) and the norm
of the gradient of every parameter tensor. Each layer says what it has: its
parameters (``W`` and ``b``, BatchNormalization's ``gamma`` and ``beta``, PReLU's
``alpha``: one column each), whether it is frozen (no gradients), and the activation
it applies last (``layer.output_activation``, for the dead relu units).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.activations import ReLU
from glassnet.losses import Loss
from glassnet.models import Sequential

__all__ = ["BackpropSummary", "explain_layers"]


@dataclass
class BackpropSummary:
    """Per-layer statistics of a forward and backward pass, printable and as data.

    Attributes
    ----------
    rows : list of dict
        One row per layer: ``layer``, ``type``, ``activation``, ``units``, ``mean``,
        ``std``, ``dead`` (share of dead relu units, None for other activations),
        ``output_grad_norm`` (norm of dL/d(output)), ``trainable``, ``grad_norms``
        (empty for a frozen layer) and ``param_norms``
        (``{"dense.W": ..., "dense.b": ...}``).

    Examples
    --------
    >>> from glassnet.explain import backprop
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(64, activation="relu", input_dim=3), Dense(1)], seed=0)
    >>> summary = backprop(model, np.ones((10, 3)), np.zeros(10), loss="mse")
    >>> row = summary.rows[0]
    >>> row["layer"], row["activation"], 0.0 <= row["dead"] <= 1.0
    ('dense', 'relu', True)
    >>> sorted(row["grad_norms"])
    ['dense.W', 'dense.b']
    """

    loss_name: str
    loss: float
    samples: int
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-able data."""
        return {
            "loss_name": self.loss_name,
            "loss": self.loss,
            "samples": self.samples,
            "rows": [dict(row) for row in self.rows],
        }

    def __str__(self) -> str:
        what = "one sample" if self.samples == 1 else f"{self.samples} samples"
        keys = list(
            dict.fromkeys(
                key.rsplit(".", 1)[-1]
                for row in self.rows
                for key in row["param_norms"]
            )
        )
        lines = [
            f"Backpropagation summary over {what} (float64): "
            f"loss = {self.loss_name} = {self.loss:.6g}",
            "  mean, spread: of the layer's outputs over the samples and units",
            "  dead: share of relu units that output 0 for every sample",
            "  |dL/d out|: norm of the gradient arriving at the layer's output",
        ]
        if keys:
            names = ", ".join(f"|dL/d{key}|" for key in keys)
            lines.append(f"  {names}: norms of the parameter gradients")
        header = ["layer", "units", "mean", "spread", "dead", "|dL/d out|"]
        header += [f"|dL/d{key}|" for key in keys]
        cells = []
        for row in self.rows:
            grads = {key.rsplit(".", 1)[-1]: g for key, g in row["grad_norms"].items()}
            params = {key.rsplit(".", 1)[-1] for key in row["param_norms"]}
            dead = "-" if row["dead"] is None else f"{row['dead']:.1%}"
            cells.append(
                [
                    row["layer"]
                    + ("" if row["activation"] is None else f" ({row['activation']})"),
                    str(row["units"]),
                    f"{row['mean']:.4g}",
                    f"{row['std']:.4g}",
                    dead,
                    f"{row['output_grad_norm']:.4g}",
                    *(_grad_cell(key, grads, params) for key in keys),
                ]
            )
        widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(header))]
        for line in [header, *cells]:
            lines.append(
                "  "
                + "  ".join(
                    cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(line, widths, strict=True))
                )
            )
        return "\n".join(lines)

    __repr__ = __str__


def _grad_cell(key: str, grads: dict[str, float], params: set[str]) -> str:
    """A gradient norm, ``frozen`` for a frozen layer's parameter, or ``-``."""
    if key in grads:
        return f"{grads[key]:.4g}"
    return "frozen" if key in params else "-"


def _norm(array: Array) -> float:
    return float(np.sqrt(np.sum(np.square(array))))


def explain_layers(
    model: Sequential, x: Array, y: Array, loss: Loss
) -> BackpropSummary:
    """Forward ``x`` (a batch) through ``model``, then backward from the loss.

    ``model`` is a float64 copy: its caches and grads are overwritten.
    """
    outputs = []
    out = x
    for layer in model.layers:
        out = layer.forward(out, training=False, keep_cache=True)
        outputs.append(out)
    loss_value = float(loss.forward(y, out))
    grad = loss.backward(y, out)
    output_grads: list[Array] = []
    for layer in reversed(model.layers):
        output_grads.append(grad)
        grad = layer.backward(grad)
    output_grads.reverse()
    rows = []
    for layer, out, grad_out in zip(model.layers, outputs, output_grads, strict=True):
        activation = layer.output_activation
        dead = None
        if isinstance(activation, ReLU):
            dead = float(np.mean(np.all(out == 0, axis=0)))
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "activation": None if activation is None else activation.name,
                "units": int(np.prod(out.shape[1:])),
                "mean": float(out.mean()),
                "std": float(out.std()),
                "dead": dead,
                "output_grad_norm": _norm(grad_out),
                "trainable": layer.trainable,
                "grad_norms": {
                    f"{layer.name}.{key}": _norm(g)
                    for key, g in layer.grads.items()
                    if layer.trainable  # a frozen layer's backward fills no grads
                },
                "param_norms": {
                    f"{layer.name}.{key}": _norm(p) for key, p in layer.params.items()
                },
            }
        )
    return BackpropSummary(loss.name, loss_value, len(x), rows)
