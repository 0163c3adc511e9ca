"""The printable table of one sample's backpropagation (see :mod:`.chain`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BackpropTable", "Equation", "number", "product_equation", "sum_of_products"]

_WIDTH = 88


def number(value: float) -> str:
    """Six significant digits, as the tutorial prints them (0.0214695)."""
    return f"{value + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0


@dataclass
class Equation:
    """``name = symbols = numbers``, e.g. ``d_h1_d_w1 = x1 * f'(sum_h1) = -2 * 0.045``."""

    name: str
    symbols: str
    numbers: str = ""


@dataclass
class BackpropTable:
    """Every quantity of one sample's backpropagation, printable and as data.

    Attributes
    ----------
    values : dict
        Every named number: inputs ``x1``, targets ``y``, weights ``w1`` and biases
        ``b1``, sums ``sum_h1``, outputs ``h1`` (and ``y_pred``), slopes
        ``f'(sum_h1)``, the loss, partial derivatives ``d_h1_d_w1`` and gradients
        ``d_L_d_h1``, ``d_L_d_w1``. ``table["d_L_d_w1"]`` reads one.
    neurons : list of dict
        One row per neuron: its layer, sum, output, ``f'(sum)`` and dL/d(neuron)
        with the chain-rule expression and its factors.
    rows : list of dict
        One row per weight and bias: what it connects, its value, and its gradient as
        the product of the factors in ``expression``.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.explain import backprop
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, activation="sigmoid", input_dim=2)])
    >>> model.set_weights([np.array([[0.0], [1.0]]), np.array([4.0])])
    >>> table = backprop(model, [2, 3], 1, loss="mse")
    >>> round(table["y_pred"], 6), table.rows[1]["expression"]
    (0.999089, 'd_L_d_ypred * d_ypred_d_w2')
    >>> print(str(table).splitlines()[-2])
      d_L_d_w2 = d_L_d_ypred * d_ypred_d_w2 = -0.0018221 * 0.00273066 = -4.97555e-06
    """

    loss_name: str
    loss: float
    layer_sizes: list[int]
    values: dict[str, float] = field(default_factory=dict)
    neurons: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    _blocks: list[tuple[str, list[Equation]]] = field(default_factory=list, repr=False)

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def to_dict(self) -> dict[str, Any]:
        """The table as plain JSON-able data."""
        return {
            "loss_name": self.loss_name,
            "loss": self.loss,
            "layer_sizes": list(self.layer_sizes),
            "values": dict(self.values),
            "neurons": [dict(row) for row in self.neurons],
            "rows": [dict(row) for row in self.rows],
        }

    def __str__(self) -> str:
        v = self.values
        shape = "-".join(str(n) for n in self.layer_sizes)
        inputs = [f"{name} = {number(v[name])}" for name in _names(v, "x")]
        targets = [f"{name} = {number(v[name])}" for name in _names(v, "y")]
        lines = [
            f"Backpropagation of one sample through a {shape} network (float64)",
            "  " + ", ".join(inputs) + ";  " + ", ".join(targets),
            f"  loss = {self.loss_name}(y, y_pred) = {number(self.loss)}",
            "",
            "Forward pass: sum = weights * inputs + bias, output = f(sum)",
        ]
        lines += _wrap([f"{row['name']} = {number(row['value'])}" for row in self.rows])
        header = ["neuron", "layer (f)", "sum = ...", "sum", "output", "f'(sum)"]
        cells = [
            [
                row["name"],
                f"{row['layer']} ({row['activation']})",
                row["sum_expression"],
                _signed(row["sum"]),
                _signed(row["output"]),
                " -" if row["slope"] is None else _signed(row["slope"]),
            ]
            for row in self.neurons
        ]
        lines += _columns(header, cells)
        if "y_pred" in v:
            lines.append(
                f"  y_pred = {self.neurons[-1]['name']} = {number(v['y_pred'])}"
            )
        lines += [
            "",
            "Backward pass: partial derivatives, neuron by neuron from the loss",
        ]
        for title, items in self._blocks:
            lines.append(f"  # {title}")
            lines += _equations(items, v)
        lines += ["", "Gradients: each dL/d(parameter) is the product of its factors"]
        products = [
            product_equation(f"d_L_d_{r['name']}", r["factors"]) for r in self.rows
        ]
        lines += _equations(products, v, uniform=True)
        return "\n".join(lines)

    __repr__ = __str__


def _names(values: dict[str, float], prefix: str) -> list[str]:
    return [
        name
        for name in values
        if name.startswith(prefix) and (name == prefix or name[len(prefix) :].isdigit())
    ]


def _signed(value: float) -> str:
    return f"{value + 0.0: .6g}"


def _wrap(items: list[str]) -> list[str]:
    """``a, b, c`` over as many indented lines as the width needs."""
    lines = ["  "]
    for item in items:
        if len(lines[-1]) + len(item) + 2 > _WIDTH and lines[-1].strip():
            lines.append("  ")
        lines[-1] += item if not lines[-1].strip() else ", " + item
    return lines


def _columns(header: list[str], cells: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    return [
        "  "
        + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *cells]
    ]


def product_equation(name: str, factors: dict[str, float]) -> Equation:
    """``name = a * b * c = 1 * 2 * 3`` (numbers only when there are several)."""
    numbers = " * ".join(number(value) for value in factors.values())
    return Equation(name, " * ".join(factors), numbers if len(factors) > 1 else "")


def sum_of_products(
    name: str, terms: list[tuple[str, str]], v: dict[str, float]
) -> Equation:
    """``name = a * b + c * d``, with the numbers when there are few terms."""
    if len(terms) == 1:
        return product_equation(name, {f: v[f] for f in terms[0]})
    symbols = " + ".join(f"{a} * {b}" for a, b in terms)
    numbers = " + ".join(f"{number(v[a])} * {number(v[b])}" for a, b in terms)
    return Equation(name, symbols, numbers if len(terms) <= 3 else "")


def _equations(
    items: list[Equation], v: dict[str, float], *, uniform: bool = False
) -> list[str]:
    """``name = symbols = numbers = value`` lines with the names padded to align.

    A line too wide for the page puts ``= numbers = value`` on a second line; with
    ``uniform=True`` every item does, once one has to.
    """
    pad = max((len(item.name) for item in items), default=0)
    one_line, two_lines = [], []
    for item in items:
        value = number(v[item.name])
        rhs = f"{item.numbers} = {value}" if item.numbers else value
        head = f"  {item.name.ljust(pad)} = "
        symbols = "" if item.symbols in ("", value) else item.symbols
        one_line.append([head + (f"{symbols} = {rhs}" if symbols else rhs)])
        two_lines.append(
            [head + symbols, " " * (len(head) - 2) + "= " + rhs]
            if symbols
            else [head + rhs]
        )
    wide = [len(lines[0]) > _WIDTH for lines in one_line]
    if uniform and any(wide):
        wide = [True] * len(items)
    chosen = [
        two if w else one for one, two, w in zip(one_line, two_lines, wide, strict=True)
    ]
    return [line for lines in chosen for line in lines]
