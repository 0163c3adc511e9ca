"""The printable result of :func:`glassnet.explain.convolution`.

A :class:`ConvolutionTable` holds every matrix of one convolution of one sample,
``z = col @ W + b``, and prints them as text tables (see the convolution module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.explain.matrix_text import fmt, label, matrix_lines, shown, wrapped

__all__ = ["ConvolutionTable"]


@dataclass
class ConvolutionTable:
    """One convolution of one sample as ``col @ W + b``: every matrix, printable.

    Attributes
    ----------
    layer, layer_type, activation : str
        The layer's name, class and activation.
    kernel_size, strides, dilation_rate : tuple of int
        The layer's arguments (one entry per spatial axis).
    padding : str
        The padding mode; ``pads`` the zeros it adds, ``(before, after)`` per axis.
    x, padded : ndarray
        The layer's input for the sample, e.g. (8, 8, 1), and with its zeros added.
    columns : ndarray
        The column matrix ``col`` (positions, kernel offsets x channels): row p
        holds the window output position p reads, ordered ``(i, j, c)``.
    kernel_matrix : ndarray
        ``W.reshape(-1, filters)``: row ``(i, j, c)``, one column per filter.
    bias : ndarray or None
        ``b`` (filters,), or None without a bias.
    z : ndarray
        ``col @ W + b`` (positions, filters).
    output, y : ndarray
        ``z`` reshaped to the layer's output (OH, OW, F), and ``activation(z)``:
        what the layer's forward returns for the sample.
    position, filter_index : tuple of int, int
        The output worked out term by term.
    row_labels, column_labels : list of str
        ``"oh,ow"`` per row of ``columns``; ``"i,j,c"`` per column.
    max_rows, max_columns : int
        How much of each matrix ``str()`` prints (``...`` marks what it leaves out).

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.explain import convolution
    >>> from glassnet.layers import Conv2D
    >>> conv = Conv2D(2, 3, padding="same")
    >>> conv.build((4, 4, 1), np.random.default_rng(0), np.float64)
    >>> table = convolution(conv, np.ones((4, 4, 1)), position=(0, 0))
    >>> table.row, table.columns[table.row].reshape(3, 3)   # zeros outside the image
    (0, array([[0., 0., 0.],
           [0., 1., 1.],
           [0., 1., 1.]]))
    >>> print(str(table).splitlines()[5])
      col  (16, 9)      row (oh,ow): the window output (oh,ow) reads, x_padded[oh + i, ow + j, c]
    """

    layer: str
    layer_type: str
    activation: str
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    dilation_rate: tuple[int, ...]
    padding: str
    pads: tuple[tuple[int, int], ...]
    x: Array
    padded: Array
    columns: Array
    kernel_matrix: Array
    bias: Array | None
    z: Array
    output: Array
    y: Array
    position: tuple[int, ...]
    filter_index: int
    row_labels: list[str]
    column_labels: list[str]
    max_rows: int = 7
    max_columns: int = 9

    @property
    def row(self) -> int:
        """The row of ``columns`` (and ``z``) that holds :attr:`position`."""
        return int(np.ravel_multi_index(self.position, self.output.shape[:-1]))

    def to_dict(self) -> dict[str, Any]:
        """The table as plain JSON-able data (matrices as nested lists)."""
        return {
            "layer": self.layer,
            "layer_type": self.layer_type,
            "activation": self.activation,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "dilation_rate": list(self.dilation_rate),
            "padding": self.padding,
            "pads": [list(p) for p in self.pads],
            "x": self.x.tolist(),
            "columns": self.columns.tolist(),
            "kernel_matrix": self.kernel_matrix.tolist(),
            "bias": None if self.bias is None else self.bias.tolist(),
            "z": self.z.tolist(),
            "output": self.output.tolist(),
            "y": self.y.tolist(),
            "position": list(self.position),
            "filter_index": self.filter_index,
        }

    def __str__(self) -> str:
        positions, width = self.columns.shape
        filters = self.kernel_matrix.shape[1]
        two_d = len(self.position) == 2
        kernel = (*self.kernel_size, self.x.shape[-1], filters)
        axes = ("rows", "columns") if two_d else ("steps",)
        zeros = " and ".join(
            f"{p} {axis}" for p, axis in zip(self.pads, axes, strict=True) if any(p)
        )
        where, offset = ("oh,ow", "i,j,c") if two_d else ("t", "j,c")
        b_text = "" if self.bias is None else " + b"
        lines = [
            f"Convolution as one matrix product (im2col): layer '{self.layer}' "
            f"({self.layer_type}), one sample, {self.columns.dtype}",
            f"  filters {filters}, kernel_size {self.kernel_size}, strides "
            f"{self.strides}, padding '{self.padding}', dilation_rate "
            f"{self.dilation_rate}",
            "",
            f"  x    {self.x.shape!s:<13}the layer's input",
            *(
                [f"{'':<20}x_padded {self.padded.shape}: zeros added ({zeros})"]
                if zeros
                else []
            ),
            f"  col  {self.columns.shape!s:<13}row ({where}): the window output "
            f"({where}) reads, {self._index_formula(bool(zeros))}",
            f"{'':<20}column ({offset}): the kernel offset and input channel",
            f"  W    {self.kernel_matrix.shape!s:<13}the kernel {kernel} reshaped: "
            "one column per filter",
        ]
        if self.bias is not None:
            lines.append(f"  b    {self.bias.shape!s:<13}one bias per filter")
        lines += [
            f"  z    {self.z.shape!s:<13}col @ W{b_text}, reshaped to the output "
            f"{self.output.shape}; y = {self.activation}(z)",
            "",
            f"The column matrix col {positions} x {width}, the rows around output "
            f"({label(self.position)}):",
        ]
        rows = shown(positions, self.max_rows, self.row)
        shown_columns = shown(width, self.max_columns)
        lines += matrix_lines(
            self.columns,
            where,
            self.row_labels,
            self.column_labels,
            rows,
            shown_columns,
            self.row,
        )
        filter_labels = [f"f{k}" for k in range(filters)]
        shown_filters = shown(filters, self.max_columns)
        lines += ["", f"The kernel matrix W {width} x {filters}:"]
        lines += matrix_lines(
            self.kernel_matrix,
            offset,
            self.column_labels,
            filter_labels,
            shown(width, self.max_rows),
            shown_filters,
        )
        if self.bias is not None:
            biases = ", ".join(fmt(v) for v in self.bias[: self.max_columns])
            more = ", ..." if filters > self.max_columns else ""
            lines.append(f"  b = {biases}{more}")
        lines += ["", f"z = col @ W{b_text}, {positions} x {filters}, the same rows:"]
        lines += matrix_lines(
            self.z, where, self.row_labels, filter_labels, rows, shown_filters, self.row
        )
        lines += self._reshaped()
        lines += self._worked()
        return "\n".join(lines)

    def _index_formula(self, padded: bool) -> str:
        """``x_padded[oh + i, ow + j, c]`` with the strides and dilations shown."""
        names = ("oh", "ow") if len(self.position) == 2 else ("t",)
        offsets = ("i", "j") if len(self.position) == 2 else ("j",)
        terms = [
            f"{o}{f'*{s}' if s > 1 else ''} + {k}{f'*{d}' if d > 1 else ''}"
            for o, k, s, d in zip(
                names, offsets, self.strides, self.dilation_rate, strict=True
            )
        ]
        return f"{'x_padded' if padded else 'x'}[{', '.join(terms)}, c]"

    def _reshaped(self) -> list[str]:
        """Column f of z laid out as the output's grid (a row of steps for 1-D)."""
        f = self.filter_index
        grid = self.output[..., f]
        size = " x ".join(map(str, grid.shape)) + (" steps" if grid.ndim == 1 else "")
        title = (
            f"Column f{f} of z reshaped to the output's {size} "
            f"(channel {f} of z {self.output.shape}):"
        )
        if grid.ndim == 1:
            steps = [str(t) for t in range(grid.shape[0])]
            table = matrix_lines(
                grid[np.newaxis],
                "t",
                [f"f{f}"],
                steps,
                [0],
                shown(grid.shape[0], self.max_columns),
            )
        else:
            table = matrix_lines(
                grid,
                "oh\\ow",
                [str(r) for r in range(grid.shape[0])],
                [str(c) for c in range(grid.shape[1])],
                shown(grid.shape[0], self.max_columns, self.position[0]),
                shown(grid.shape[1], self.max_columns, self.position[1]),
            )
        return ["", title, *table]

    def _worked(self) -> list[str]:
        """One output, term by term: the row of col times column f of W, plus b[f]."""
        f, p, at = self.filter_index, self.row, label(self.position)
        row, weights = self.columns[p], self.kernel_matrix[:, f]
        terms = [f"{fmt(a)} * {fmt(w)}" for a, w in zip(row, weights, strict=True)]
        if len(terms) > 12:
            terms = [*terms[:4], f"... ({len(terms) - 6} more products)", *terms[-2:]]
        if self.bias is not None:
            terms.append(fmt(self.bias[f]))
        value = self.z[p, f]
        b_text = f" + b[f{f}]" if self.bias is not None else ""
        lines = [
            "",
            f"Output ({at}) of filter f{f}, worked out (the layer's forward gives "
            "the same number):",
            f"  z[{at}, f{f}] = col[{at}] . W[:, f{f}]{b_text}",
            *wrapped(" " * len(f"  z[{at}, f{f}] ") + "= ", terms, f"= {fmt(value)}"),
        ]
        if self.activation != "linear":
            y = self.y[(*self.position, f)]
            lines.append(f"  y = {self.activation}({fmt(value)}) = {fmt(y)}")
        return lines

    __repr__ = __str__
