"""Named vectors with the formula that made them, printable number by number.

The recurrent explanations compute every quantity of a step as a vector (one entry
per unit) and keep, next to its value, the formula it came from as a tuple of
parts: text, a reference to another quantity (:class:`Ref`), a vector-matrix
product (:class:`Dot`) or a function of a quantity (:class:`Apply`). The same parts
print the formula (``f_2 * c_1 + i_2 * c~_2``) and, for one unit, the numbers it
multiplies (``0.7311 * 0.1 + 0.5 * 0.2``), so a reader can redo every line with a
pocket calculator.

>>> import numpy as np
>>> step = Quantities()
>>> step.given("a", np.array([1.0, 2.0]), "given")
>>> b = step.add("b", np.array([3.0, 8.0]), Ref("a"), " * ", Dot("x", np.array([1.0, 1.0]),
...              "W", np.array([[1.0, 2.0], [2.0, 2.0]])))
>>> step.rows[1].formula()
'a * x @ W'
>>> step.worked(step.rows[1], 1)
'2 * (1 * 2 + 1 * 2)'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from glassnet._typing import Array
from glassnet.explain.matrix_text import fmt, matrix_lines, shown, wrapped

__all__ = [
    "Apply",
    "Dot",
    "Part",
    "Quantities",
    "Quantity",
    "Ref",
    "quantity_table",
    "worked_lines",
]

#: a product ``vector @ matrix`` with more terms than this prints its first and last
_MAX_TERMS = 10
_WIDTH = 88


@dataclass(frozen=True)
class Ref:
    """Another quantity of the same step, by name."""

    name: str


@dataclass(frozen=True)
class Apply:
    """A function of another quantity, e.g. ``sigmoid(G_i)``."""

    function: str
    argument: str


@dataclass(frozen=True, eq=False)
class Dot:
    """``vector @ matrix``: for unit j, the sum over k of vector[k] * matrix[k, j]."""

    vector: str
    vector_value: Array
    matrix: str
    matrix_value: Array


Part = str | Ref | Apply | Dot


@dataclass
class Quantity:
    """One named vector of a step: its value and how it is computed.

    ``parts`` is empty for a value that is given (the input, a start state, a
    bias); ``note`` then says where it comes from.
    """

    name: str
    value: Array
    parts: tuple[Part, ...] = ()
    note: str = ""

    def formula(self, rename: Callable[[str], str] | None = None) -> str:
        """The formula in names, e.g. ``dc_2 * c~_2``; the note for a given value.

        ``rename`` maps the names of the quantities it refers to (``i`` -> ``i_2``).
        """
        if not self.parts:
            return self.note
        return "".join(_name_of(part, rename or str) for part in self.parts)


def _name_of(part: Part, rename: Callable[[str], str]) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Ref):
        return rename(part.name)
    if isinstance(part, Apply):
        return f"{part.function}({rename(part.argument)})"
    return f"{rename(part.vector)} @ {part.matrix}"


@dataclass
class Quantities:
    """The quantities of one step in the order they are computed, and their values
    by name (also values that get no row of their own, such as the input ``x_t``)."""

    rows: list[Quantity] = field(default_factory=list)
    values: dict[str, Array] = field(default_factory=dict)

    def given(self, name: str, value: Array, note: str) -> None:
        """A row for a value that comes from elsewhere."""
        self._keep(Quantity(name, np.asarray(value, dtype=np.float64), (), note))

    def add(self, name: str, value: Array, *parts: Part) -> Array:
        """A row computed by ``parts``; returns ``value`` for the next formula."""
        self._keep(Quantity(name, np.asarray(value, dtype=np.float64), parts))
        return value

    def remember(self, name: str, value: Array) -> None:
        """A value formulas refer to that gets no row (another step's, or ``x_t``)."""
        self.values[name] = np.asarray(value, dtype=np.float64)

    def _keep(self, quantity: Quantity) -> None:
        self.rows.append(quantity)
        self.values[quantity.name] = quantity.value

    def __getitem__(self, name: str) -> Array:
        return self.values[name]

    def worked(self, quantity: Quantity, j: int) -> str:
        """The numbers ``quantity``'s formula combines for unit ``j``."""
        alone = len(quantity.parts) == 1
        texts = [self._numbers(part, j, alone) for part in quantity.parts]
        for k, part in enumerate(quantity.parts[1:], start=1):
            # a negative number before a power: (-0.2)^2, not -0.2^2
            if (
                isinstance(part, str)
                and part.startswith("^")
                and texts[k - 1][0] == "-"
            ):
                texts[k - 1] = f"({texts[k - 1]})"
        return "".join(texts)

    def _numbers(self, part: Part, j: int, alone: bool) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, Ref):
            return fmt(self.values[part.name][j])
        if isinstance(part, Apply):
            return f"{part.function}({fmt(self.values[part.argument][j])})"
        terms = [
            f"{fmt(a)} * {fmt(w)}"
            for a, w in zip(part.vector_value, part.matrix_value[:, j], strict=True)
        ]
        if len(terms) > _MAX_TERMS:
            left = len(terms) - 6
            terms = [*terms[:4], f"... ({left} more products)", *terms[-2:]]
        text = " + ".join(terms)
        return text if alone or len(terms) == 1 else f"({text})"


def quantity_table(
    step: Quantities, units: int, max_units: int, labels: list[str] | None = None
) -> list[str]:
    """The step's rows as text: name, formula, then one column per unit shown."""
    labels = labels or [f"u{j}" for j in range(units)]
    columns = shown(units, max_units)
    matrix = np.array([row.value for row in step.rows])
    names = [row.name for row in step.rows]
    formulas = [row.formula() for row in step.rows]
    width = max(len("quantity"), *(len(name) for name in names))
    row_labels = [
        f"{name.ljust(width)}  {formula}"
        for name, formula in zip(names, formulas, strict=True)
    ]
    corner = "quantity".ljust(width) + "  formula"
    return matrix_lines(
        matrix, corner, row_labels, labels, list(range(len(names))), columns
    )


def worked_lines(step: Quantities, j: int) -> list[str]:
    """Every computed row of the step for unit ``j``: formula, numbers, value.

    ``name = formula = numbers = value`` on one line when it fits in 88
    columns, else the numbers broken at their plus signs under the ``=``.
    """
    lines = []
    computed = [row for row in step.rows if row.parts]
    width = max((len(row.name) for row in computed), default=0)
    for row in computed:
        value, formula = fmt(row.value[j]), row.formula()
        numbers = step.worked(row, j)
        head = f"  {row.name.ljust(width)} = "
        shown_formula = "" if formula == row.name else f"{formula} = "
        if numbers in (value, formula):  # nothing to work out: "1", "dh_next"
            lines.append(f"{head}{formula} = {value}")
            continue
        one_line = f"{head}{shown_formula}{numbers} = {value}"
        if len(one_line) <= _WIDTH:
            lines.append(one_line)
            continue
        terms = numbers.split(" + ")
        if not shown_formula:
            lines += wrapped(head, terms, f"= {value}")
            continue
        lines.append(f"{head}{formula}")
        lines += wrapped(" " * len(head[:-2]) + "= ", terms, f"= {value}")
    return lines
