"""The printable result of :func:`glassnet.explain.recurrent_step`, and the cell
equations both recurrent explanations print.

The tables have one row per quantity and one column per unit (the first and last
``max_units``), then one unit's arithmetic, number by number. The numbers are
also attributes, and ``to_dict()`` gives them as plain JSON-able data
(``through_time_table.py`` holds :func:`glassnet.explain.bptt`'s table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glassnet._typing import Array
from glassnet.explain.matrix_text import fmt
from glassnet.explain.quantities import Quantities, quantity_table, worked_lines
from glassnet.explain.recurrent_cells import CellMath

__all__ = ["RecurrentStepTable", "cell_equations", "reading_note", "vector"]


def cell_equations(cell: CellMath) -> list[str]:
    """The step's equations, with the layer's activations and biases."""
    a = cell.activation.name
    s = cell.gate_activation.name if cell.gate_activation is not None else ""
    bias = cell.b is not None
    if cell.kind == "LSTM":
        return [
            "  G = x_t @ W + h_{t-1} @ U"
            + (" + b" if bias else "")
            + ", in Keras' gate blocks i, f, c, o "
            f"(W {_size(cell.W)}, U {_size(cell.U)})",
            f"  i = {s}(G_i)   f = {s}(G_f)   c~ = {a}(G_c)   o = {s}(G_o)",
            f"  c_t = f * c_{{t-1}} + i * c~      h_t = o * {a}(c_t)",
        ]
    if cell.kind == "GRU":
        lines = [
            "  G_z, G_r = x_t @ W + h_{t-1} @ U"
            + ((" + bx + bh" if cell.reset_after else " + b") if bias else "")
            + f", in Keras' gate blocks z, r, h (W {_size(cell.W)}, U {_size(cell.U)})",
            f"  z = {s}(G_z)   r = {s}(G_r)",
        ]
        if cell.reset_after:
            lines.append(
                f"  h~ = {a}(x_t @ W_h"
                + (" + bx_h" if bias else "")
                + " + r * R_h),  R_h = h_{t-1} @ U_h"
                + (" + bh_h" if bias else "")
                + "   (reset_after=True)"
            )
        else:
            lines.append(
                f"  h~ = {a}(x_t @ W_h + (r * h_{{t-1}}) @ U_h"
                + (" + b_h" if bias else "")
                + ")   (reset_after=False)"
            )
        return [*lines, "  h_t = z * h_{t-1} + (1 - z) * h~"]
    return [
        f"  h_t = {a}(G),  G = x_t @ W + h_{{t-1}} @ U"
        + (" + b" if bias else "")
        + f"   (W {_size(cell.W)}, U {_size(cell.U)})"
    ]


def _size(array: Array) -> str:
    return " x ".join(str(n) for n in array.shape)


def vector(values: Array) -> str:
    return "[" + ", ".join(fmt(v) for v in values) + "]"


def reading_note(cell: CellMath, steps: int) -> list[str]:
    if not cell.go_backwards:
        return []
    return [f"  go_backwards: step t reads row {steps} - t of the sequence"]


def padding_note(padding: tuple[int, ...], steps: int) -> list[str]:
    """What a padding mask left out: the masked positions (1 = the first row of
    the layer's input), which the layer skips, carrying its state over them.

    >>> padding_note((4, 5, 6, 8), 4)[0]
    '  padding: rows 4-6, 8 of the 8 are masked: skipped, the state carried over them'
    """
    if not padding:
        return []
    runs: list[list[int]] = []
    for row in padding:
        if runs and row == runs[-1][-1] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    rows = ", ".join(
        str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs
    )
    word = "row" if len(padding) == 1 else "rows"
    verb = "is" if len(padding) == 1 else "are"
    return [
        f"  padding: {word} {rows} of the {steps + len(padding)} {verb} masked: "
        "skipped, the state carried over them",
        f"  t = 1 .. {steps} counts the real rows only (x holds them)",
    ]


@dataclass
class RecurrentStepTable:
    """One step of a recurrent layer for one sample: every gate, state and sum.

    Attributes
    ----------
    layer, layer_type : str
        The layer's name and class (``LSTM``, ``GRU`` or ``SimpleRNN``).
    step, steps : int
        The step shown, t (1 to T), and the sequence's length T.
    x : ndarray
        The layer's input for the sample (T, features), in float64.
    quantities : Quantities
        The step's rows in the order they are computed: ``quantities.rows`` (each
        with ``name``, ``value``, ``formula()``) and ``quantities.values`` by name
        (also ``table["i"]``).
    h, c : ndarray
        Every step's hidden state (T, units), and an LSTM's cell states (else None).
    unit, max_units : int
        The unit worked out number by number, and how many units the table shows.
    padding : tuple of int
        The rows of the layer's input a padding mask left out (1 = the first;
        empty without a mask): x, h and c hold the real steps only.
    """

    layer: str
    layer_type: str
    step: int
    steps: int
    x: Array
    quantities: Quantities
    h: Array
    c: Array | None
    cell: CellMath
    unit: int = 0
    max_units: int = 8
    padding: tuple[int, ...] = ()

    def __getitem__(self, name: str) -> Array:
        return self.quantities.values[name]

    def to_dict(self) -> dict[str, Any]:
        """The step as plain JSON-able data."""
        return {
            "layer": self.layer,
            "layer_type": self.layer_type,
            "step": self.step,
            "steps": self.steps,
            "x": self.x.tolist(),
            "rows": [
                {
                    "name": row.name,
                    "formula": row.formula(),
                    "value": row.value.tolist(),
                }
                for row in self.quantities.rows
            ],
            "h": self.h.tolist(),
            "c": None if self.c is None else self.c.tolist(),
            "padding": list(self.padding),
        }

    def __str__(self) -> str:
        t, cell = self.step, self.cell
        x_t = self.quantities.values[f"x_{t}"]
        lines = [
            f"One {self.layer_type} step: layer '{self.layer}', step t = {t} of "
            f"{self.steps}, one sample (float64)",
            *cell_equations(cell),
            *reading_note(cell, self.steps),
            *padding_note(self.padding, self.steps),
            f"  x_{t} = {vector(x_t)}",
            "",
            *quantity_table(self.quantities, cell.units, self.max_units),
            "",
            f"Unit u{self.unit}, worked out (the layer's forward gives the same "
            "numbers):",
            *worked_lines(self.quantities, self.unit),
        ]
        return "\n".join(lines)

    __repr__ = __str__
