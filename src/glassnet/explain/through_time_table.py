"""The printable result of :func:`glassnet.explain.bptt`: :class:`BPTTTable`.

The forward values the walk reuses, then one block per step from the last to the
first (a table with one row per quantity and one column per unit, and one unit's
arithmetic), then the weight gradients summed over the steps, side by side.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.explain.matrix_text import fmt, matrix_lines, shown, wrapped
from glassnet.explain.quantities import Quantities, quantity_table, worked_lines
from glassnet.explain.recurrent_bptt import Backward
from glassnet.explain.recurrent_cells import CellMath, suffixed
from glassnet.explain.recurrent_tables import (
    cell_equations,
    padding_note,
    reading_note,
    vector,
)

__all__ = ["BPTTTable"]


#: the forward values each backward block reuses, shown before the blocks
_REUSED = {
    "LSTM": ("i", "f", "c~", "o", "c_{t}", "{a}(c_{t})", "h_{t}"),
    "GRU": ("z", "r", "R_h", "h~", "h_{t}"),
    "SimpleRNN": ("G", "h_{t}"),
}


@dataclass
class BPTTTable:
    """Backpropagation through time of one sample through one recurrent layer.

    Attributes
    ----------
    layer, layer_type : str
        The layer's name and class.
    x : ndarray
        The layer's input (T, features), float64.
    dy : ndarray
        dL/dh_t arriving from the layer's output at every step (T, units): zeros
        but the last row without ``return_sequences``.
    forward : list of Quantities
        Every step's forward quantities (as :func:`recurrent_step` shows them).
    backward : Backward
        ``backward.steps[k]`` the backward block of step k + 1 (``dh_next``,
        ``dh_t``, ``dc_t``, the gate gradients ``dG_*``...); ``input_side`` and
        ``recurrent_side`` every step's gate gradients.
    grads : dict of ndarray
        ``W``, ``recurrent_kernel``, ``b``: the sums over the steps, shaped as the
        layer's weights.
    dx : ndarray
        dL/dx_t for every step (T, features).
    loss_name, loss : str or None, float or None
        The loss and its value when a model was explained.
    padding : tuple of int
        The rows of the layer's input a padding mask left out (1 = the first;
        empty without a mask). The layer skips them, so x, dy and dx hold the
        real steps only; dL/dh of a masked output is added to the real step
        whose state it carried.
    """

    layer: str
    layer_type: str
    x: Array
    dy: Array
    forward: list[Quantities]
    backward: Backward
    cell: CellMath
    loss_name: str | None = None
    loss: float | None = None
    unit: int = 0
    max_units: int = 8
    max_steps: int = 6
    padding: tuple[int, ...] = ()

    @property
    def grads(self) -> dict[str, Array]:
        """The weight gradients, summed over the steps."""
        return self.backward.grads

    @property
    def dx(self) -> Array:
        """dL/dx_t, one row per step."""
        return self.backward.dx

    def to_dict(self) -> dict[str, Any]:
        """The whole walk as plain JSON-able data."""
        return {
            "layer": self.layer,
            "layer_type": self.layer_type,
            "loss_name": self.loss_name,
            "loss": self.loss,
            "x": self.x.tolist(),
            "dy": self.dy.tolist(),
            "backward": [
                {row.name: row.value.tolist() for row in step.rows}
                for step in self.backward.steps
            ],
            "grads": {key: value.tolist() for key, value in self.grads.items()},
            "dx": self.dx.tolist(),
            "padding": list(self.padding),
        }

    # -- text ------------------------------------------------------------------------
    def __str__(self) -> str:
        cell, steps = self.cell, len(self.x)
        lines = [
            f"Backpropagation through time: layer '{self.layer}' ({self.layer_type}, "
            f"{cell.units} units), {steps} steps, one sample (float64)",
        ]
        if self.loss_name is not None:
            lines.append(f"  loss = {self.loss_name} = {self.loss:.6g}")
        reached = [t + 1 for t in range(steps) if np.any(self.dy[t])]
        where = ", ".join(str(t) for t in reached) or "none"
        lines += [
            f"  dy_t = dL/dh_t from the layer's output reaches steps: {where}",
            *cell_equations(cell),
            *reading_note(cell, steps),
            *padding_note(self.padding, steps),
            "  "
            + "   ".join(f"x_{t} = {vector(x)}" for t, x in enumerate(self.x, start=1)),
            "",
            "Forward pass: the values the backward pass reuses",
            *self._forward_table(),
            "",
            "Backward pass, from the last step to the first: each step adds what "
            "the step after it sends back",
        ]
        order = list(range(steps, 0, -1))
        for index in shown(steps, self.max_steps):
            if index is None:
                lines += ["", "  ... (steps left out: table.backward.steps has them)"]
                continue
            t = order[index]
            lines += self._block(t)
        lines += self._weights()
        return "\n".join(lines)

    __repr__ = __str__

    def _forward_table(self) -> list[str]:
        """The reused forward values of every step, one row each."""
        a = self.cell.activation.name
        table = Quantities()
        for t, step in enumerate(self.forward, start=1):
            for base in _REUSED[self.cell.kind]:
                name = base.format(t=t, a=a)
                if name not in step.values:  # e.g. R_h without reset_after
                    continue
                row = next(r for r in step.rows if r.name == name)
                table.given(
                    suffixed(name, t),
                    row.value,
                    row.formula(functools.partial(suffixed, t=t)),
                )
        return quantity_table(table, self.cell.units, self.max_units)

    def _block(self, t: int) -> list[str]:
        step = self.backward.steps[t - 1]
        last = (
            " (the last: nothing comes back from later steps)"
            if t == len(self.x)
            else ""
        )
        return [
            "",
            f"Step t = {t}{last}",
            *quantity_table(step, self.cell.units, self.max_units),
            f"  unit u{self.unit}:",
            *("  " + line for line in worked_lines(step, self.unit)),
        ]

    def _weights(self) -> list[str]:
        cell, steps, back = self.cell, len(self.x), self.backward
        gru = cell.kind == "GRU"
        dx_name, dr_name = ("dX", "dR") if gru else ("dG", "dG")
        labels = cell.column_labels()
        col = self.unit  # the worked entries: this unit's column of the first gate
        label = labels[col]
        every = range(1, steps + 1)
        lines = ["", "Weight gradients: the sums over the steps"]
        if cell.kind == "LSTM":
            lines.append(
                "  dG_t = [dG_i, dG_f, dG_c, dG_o] of step t: one entry per column "
                "of the kernels"
            )
        if gru:
            recurrent = "[dG_z, dG_r, dR_h]" if cell.reset_after else "dX_t"
            lines.append(
                f"  dX_t = [dG_z, dG_r, dG_h] (input side); dR_t = {recurrent} "
                "(recurrent side)"
            )
        lines.append("  dW = " + " + ".join(f"x_{t}.T @ {dx_name}_{t}" for t in every))
        if gru and not cell.reset_after:
            lines.append(
                "  dU = sum over t of h_{t-1}.T @ dR_t in blocks z, r, and of "
                "(r_t * h_{t-1}).T @ dR_t in block h"
            )
        else:
            lines.append(
                "  dU = "
                + " + ".join(f"h_{t - 1}.T @ {dr_name}_{t}" for t in every)
                + "   (h_0 = 0 adds nothing)"
            )
        bias = np.atleast_2d(self.grads["b"]).T if "b" in self.grads else None
        sides = [("db", dx_name, back.input_side)]
        if bias is not None and bias.shape[1] == 2:  # GRU reset_after: two rows
            sides = [
                ("db[0]", "dX", back.input_side),
                ("db[1]", "dR", back.recurrent_side),
            ]
        if bias is not None:
            lines.append(
                "  " + ";  ".join(f"{name} = sum of {g}_t" for name, g, _ in sides)
            )
        lines += self._gradient_table(bias, [name for name, _, _ in sides])
        first_block = [inputs[0] for inputs in back.recurrent_inputs]
        lines += [
            f"  the entries of column {label}, term by term:",
            *self._entry(
                f"dW[0, {label}]",
                [f"x_{t}[0] * {dx_name}_{t}[{label}]" for t in every],
                [
                    f"{fmt(self.x[t - 1, 0])} * {fmt(back.input_side[t - 1][col])}"
                    for t in every
                ],
                self.grads["W"][0, col],
            ),
            *self._entry(
                f"dU[0, {label}]",
                [
                    f"{name}[0] * {dr_name}_{t}[{label}]"
                    for t, (name, _) in zip(every, first_block, strict=True)
                ],
                [
                    f"{fmt(vector[0])} * {fmt(back.recurrent_side[t - 1][col])}"
                    for t, (_, vector) in zip(every, first_block, strict=True)
                ],
                self.grads["recurrent_kernel"][0, col],
            ),
        ]
        if bias is not None:
            for row, (name, g, side) in enumerate(sides):
                entry = f"{name[:-1]}, {label}]" if "[" in name else f"{name}[{label}]"
                lines += self._entry(
                    entry,
                    [f"{g}_{t}[{label}]" for t in every],
                    [fmt(side[t - 1][col]) for t in every],
                    bias[col, row],
                )
        lines += [
            f"  dx_t = {dx_name}_t @ W.T, one row per step:",
            *matrix_lines(
                self.dx,
                "t",
                [str(t) for t in every],
                [f"x{k}" for k in range(self.dx.shape[1])],
                list(range(steps)),
                shown(self.dx.shape[1], self.max_units),
            ),
        ]
        return lines

    def _gradient_table(self, bias: Array | None, bias_names: list[str]) -> list[str]:
        """dW, dU and db side by side: one row per column of the kernels."""
        d_w, d_u = self.grads["W"], self.grads["recurrent_kernel"]
        parts = [d_w.T, d_u.T] + ([bias] if bias is not None else [])
        matrix = np.concatenate(parts, axis=1)
        inputs, units = d_w.shape[0], d_u.shape[0]
        labels = [f"dW[{k}]" for k in range(inputs)]
        labels += [f"dU[{k}]" for k in range(units)]
        labels += bias_names if bias is not None else []
        columns: list[int | None] = [*shown(inputs, self.max_units)]
        columns += [
            None if k is None else inputs + k for k in shown(units, self.max_units)
        ]
        if bias is not None:
            columns += [inputs + units + k for k in range(bias.shape[1])]
        rows = shown(matrix.shape[0], 2 * self.max_units)
        return [
            "  one row per column of the kernels (gate and unit); dW[k] is row k of dW",
            *matrix_lines(
                matrix, "column", self.cell.column_labels(), labels, rows, columns
            ),
        ]

    @staticmethod
    def _entry(
        name: str, symbols: list[str], numbers: list[str], value: float
    ) -> list[str]:
        """One entry of a weight gradient: its sum in names, then in numbers."""
        head = f"  {name} = "
        return [
            *(line.rstrip() for line in wrapped(head, symbols, "")),
            *wrapped(" " * (len(head) - 2) + "= ", numbers, f"= {fmt(value)}"),
        ]
