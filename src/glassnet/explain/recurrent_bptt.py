"""Backpropagation through time, one sample and one step at a time, in float64.

:func:`walk_back` takes a layer's forward steps (``CellMath.forward``) and the
gradient arriving at each step's output, and walks t = T .. 1 the way a textbook
writes it: each step adds what the step after it sends back through the state
(``dh_next``, and an LSTM's ``dc_next``), then applies its own chain rule to the
gates; the weight gradients are the sums of the steps' terms. Every quantity is
a named row with its formula (:mod:`glassnet.explain.quantities`).

>>> import numpy as np
>>> from glassnet.explain.recurrent_cells import CellMath
>>> from glassnet.layers import SimpleRNN
>>> layer = SimpleRNN(1, activation="linear", use_bias=False)
>>> layer.build((None, 1), np.random.default_rng(0), np.float64)
>>> layer.set_weights([np.ones((1, 1)), np.full((1, 1), 0.5)])  # h_t = x_t + h_{t-1}/2
>>> cell = CellMath(layer)
>>> xs = np.ones((2, 1))
>>> back = walk_back(cell, xs, cell.forward(xs), np.array([[0.0], [1.0]]))
>>> back.steps[0]["dh_next"]          # dh_2 @ U.T = 1 * 0.5
array([0.5])
>>> back.grads["W"]                   # x_1 dG_1 + x_2 dG_2 = 0.5 + 1
array([[1.5]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet._typing import Array
from glassnet.explain.quantities import Dot, Quantities, Ref
from glassnet.explain.recurrent_cells import (
    CellMath,
    derivative,
    slope_parts,
    suffixed,
)

__all__ = ["Backward", "walk_back"]

_GATE_VALUES = {"c": "c~", "h": "h~"}


@dataclass
class Backward:
    """What backpropagation through time gives for one sequence.

    ``steps[t - 1]`` is the backward block of step t (they run from t = T down);
    ``input_side[t]`` and ``recurrent_side[t]`` the gradients of the step's
    input-side and recurrent-side pre-activations (one vector of gates x units
    each; equal except in a GRU, where the reset gate sits between them);
    ``recurrent_inputs[t]`` what multiplies ``U``, per gate block. ``grads`` holds
    ``W``, ``recurrent_kernel`` and ``b`` shaped as the layer's, and ``dx`` the
    gradient of each step's input (T, features).
    """

    steps: list[Quantities]
    input_side: list[Array]
    recurrent_side: list[Array]
    recurrent_inputs: list[list[tuple[str, Array]]]
    grads: dict[str, Array]
    dx: Array


def walk_back(
    cell: CellMath, xs: Array, forward: list[Quantities], dy: Array
) -> Backward:
    """Backpropagation through time from ``dy`` (T, units), dL/dh_t at each step.

    ``xs`` and ``forward`` are the steps in the order the layer reads them.
    """
    return _Walk(cell).run(xs, forward, dy)


class _Walk:
    """The backward blocks of one cell, from the last step to the first."""

    def __init__(self, cell: CellMath) -> None:
        self.cell = cell
        self.kind, self.units, self.gates = cell.kind, cell.units, cell.gates
        self.W, self.U, self.b = cell.W, cell.U, cell.b
        self.activation, self.gate_activation = cell.activation, cell.gate_activation
        self.reset_after = cell.reset_after
        self.block = cell.block

    def run(self, xs: Array, forward: list[Quantities], dy: Array) -> Backward:
        """Backpropagation through time from ``dy`` (T, units), dL/dh_t at each step.

        Walks t = T .. 1 carrying the state gradients (``dh_next``, and ``dc_next``
        for an LSTM), then sums the weight gradients over the steps.
        """
        steps_count = len(forward)
        blocks: list[Quantities] = [Quantities() for _ in range(steps_count)]
        input_side: list[Array] = [np.zeros(0)] * steps_count
        recurrent_side: list[Array] = [np.zeros(0)] * steps_count
        recurrent_inputs: list[list[tuple[str, Array]]] = [[]] * steps_count
        for t in range(steps_count, 0, -1):
            step = blocks[t - 1]
            for name, value in forward[t - 1].values.items():
                step.remember(suffixed(name, t), value)
            step.given(f"dy_{t}", dy[t - 1], "from the layer's output")
            later = blocks[t] if t < steps_count else None
            dx_side, dr_side, inputs = self._step_back(step, t, later, forward)
            input_side[t - 1], recurrent_side[t - 1] = dx_side, dr_side
            recurrent_inputs[t - 1] = inputs
        grads = self._weight_grads(xs, input_side, recurrent_side, recurrent_inputs)
        dx = np.array([g @ self.W.T for g in input_side])
        return Backward(
            steps=blocks,
            input_side=input_side,
            recurrent_side=recurrent_side,
            recurrent_inputs=recurrent_inputs,
            grads=grads,
            dx=dx,
        )

    def _step_back(
        self,
        step: Quantities,
        t: int,
        later: Quantities | None,
        forward: list[Quantities],
    ) -> tuple[Array, Array, list[tuple[str, Array]]]:
        """One backward block; returns dG on the input side, on the recurrent side,
        and the vectors that multiplied ``U`` at this step."""
        h_prev = step[f"h_{t - 1}"]
        # dh_t = dy_t + what step t + 1 sends back through h_t
        if later is None:
            step.given("dh_next", np.zeros(self.units), "zeros: no step after")
        else:
            self._carried_h(step, t, later)
        dh = step.add(
            f"dh_{t}",
            step[f"dy_{t}"] + step["dh_next"],
            Ref(f"dy_{t}"),
            " + ",
            Ref("dh_next"),
        )
        if self.kind == "LSTM":
            dg = self._lstm_back(step, t, later, dh)
            return dg, dg, [(f"h_{t - 1}", h_prev)] * 4
        if self.kind == "GRU":
            return self._gru_back(step, t, dh, h_prev)
        a = self.activation
        dg = step.add(
            f"dG_{t}",
            dh * derivative(a, step[f"G_{t}"], step[f"h_{t}"]),
            Ref(f"dh_{t}"),
            " * ",
            *slope_parts(a, f"h_{t}", f"G_{t}"),
        )
        step.remember(f"dR_{t}", dg)
        return dg, dg, [(f"h_{t - 1}", h_prev)]

    def _carried_h(self, step: Quantities, t: int, later: Quantities) -> None:
        """``dh_next``: the gradient of h_t through the products of step t + 1."""
        n = t + 1
        side = later[f"dR_{n}"]
        step.remember(f"dR_{n}", side)
        if self.kind != "GRU":
            step.add("dh_next", side @ self.U.T, Dot(f"dG_{n}", side, "U.T", self.U.T))
            return
        # h_{t+1} = z h_t + ...  =>  dh_t gets dh_{t+1} * z_{t+1} besides the products
        step.remember(f"dh_{n}", later[f"dh_{n}"])
        step.remember(f"z_{n}", later[f"z_{n}"])
        through_z = later[f"dh_{n}"] * later[f"z_{n}"]
        if self.reset_after:
            step.add(
                "dh_next",
                through_z + side @ self.U.T,
                Ref(f"dh_{n}"),
                " * ",
                Ref(f"z_{n}"),
                " + ",
                Dot(f"dR_{n}", side, "U.T", self.U.T),
            )
            return
        both = slice(0, 2 * self.units)
        d_reset = later[f"d(r * h_{t})"]
        step.remember(f"d(r * h_{t})", d_reset)
        step.remember(f"r_{n}", later[f"r_{n}"])
        step.add(
            "dh_next",
            through_z + d_reset * later[f"r_{n}"] + side[both] @ self.U[:, both].T,
            Ref(f"dh_{n}"),
            " * ",
            Ref(f"z_{n}"),
            " + ",
            Ref(f"d(r * h_{t})"),
            " * ",
            Ref(f"r_{n}"),
            " + ",
            Dot(f"dG_zr_{n}", side[both], "U_zr.T", self.U[:, both].T),
        )

    def _lstm_back(
        self, step: Quantities, t: int, later: Quantities | None, dh: Array
    ) -> Array:
        # h = o * a(c)  =>  do = dh * a(c),  dc = dc_next + dh * o * a'(c)
        # c = f * c_prev + i * c~  =>  di = dc * c~, df = dc * c_prev, dc~ = dc * i
        # gate = s(G) or a(G)  =>  dG = d(gate) * s'(G)
        a, s = self.activation, self.gate_activation
        assert s is not None
        i, cand, o = (step[f"{g}_{t}"] for g in ("i", "c~", "o"))
        squashed_name = f"{a.name}(c_{t})"
        if later is None:
            step.given("dc_next", np.zeros(self.units), "zeros: no step after")
        else:
            step.remember(f"dc_{t + 1}", later[f"dc_{t + 1}"])
            step.remember(f"f_{t + 1}", later[f"f_{t + 1}"])
            step.add(
                "dc_next",
                later[f"dc_{t + 1}"] * later[f"f_{t + 1}"],
                Ref(f"dc_{t + 1}"),
                " * ",
                Ref(f"f_{t + 1}"),
            )
        slope_c = derivative(a, step[f"c_{t}"], step[squashed_name])
        dc = step.add(
            f"dc_{t}",
            step["dc_next"] + dh * o * slope_c,
            Ref("dc_next"),
            " + ",
            Ref(f"dh_{t}"),
            " * ",
            Ref(f"o_{t}"),
            " * ",
            *slope_parts(a, squashed_name, f"c_{t}"),
        )
        d_gate = {
            "i": step.add("di", dc * cand, Ref(f"dc_{t}"), " * ", Ref(f"c~_{t}")),
            "f": step.add(
                "df", dc * step[f"c_{t - 1}"], Ref(f"dc_{t}"), " * ", Ref(f"c_{t - 1}")
            ),
            "c": step.add("dc~", dc * i, Ref(f"dc_{t}"), " * ", Ref(f"i_{t}")),
            "o": step.add(
                "do",
                dh * step[squashed_name],
                Ref(f"dh_{t}"),
                " * ",
                Ref(squashed_name),
            ),
        }
        grads = []
        for gate in self.gates:
            function = a if gate == "c" else s
            value = _GATE_VALUES.get(gate, gate)
            y, z = step[f"{value}_{t}"], step[f"G_{gate}_{t}"]
            grads.append(
                step.add(
                    f"dG_{gate}",
                    d_gate[gate] * derivative(function, z, y),
                    Ref(f"d{value}"),
                    " * ",
                    *slope_parts(function, f"{value}_{t}", f"G_{gate}_{t}"),
                )
            )
        dg = np.concatenate(grads)
        step.remember(f"dR_{t}", dg)
        return dg

    def _gru_back(
        self, step: Quantities, t: int, dh: Array, h_prev: Array
    ) -> tuple[Array, Array, list[tuple[str, Array]]]:
        # h = z * h_prev + (1 - z) * h~  =>  dz = dh * (h_prev - h~), dh~ = dh * (1 - z)
        # h~ = a(G_h)  =>  dG_h = dh~ * a'(G_h); then through the reset gate:
        #   reset_after: G_h = X_h + r * R_h  =>  dr = dG_h * R_h, dR_h = dG_h * r
        #   reset_before: G_h = X_h + (r * h_prev) U_h  =>  d(r h) = dG_h @ U_h.T,
        #                 dr = d(r h) * h_prev
        a, s = self.activation, self.gate_activation
        assert s is not None
        z, r, cand = step[f"z_{t}"], step[f"r_{t}"], step[f"h~_{t}"]
        h_name = f"h_{t - 1}"
        dz = step.add(
            "dz",
            dh * (h_prev - cand),
            Ref(f"dh_{t}"),
            " * (",
            Ref(h_name),
            " - ",
            Ref(f"h~_{t}"),
            ")",
        )
        d_cand = step.add(
            "dh~", dh * (1 - z), Ref(f"dh_{t}"), " * (1 - ", Ref(f"z_{t}"), ")"
        )
        dg_h = step.add(
            "dG_h",
            d_cand * derivative(a, step[f"G_h_{t}"], cand),
            Ref("dh~"),
            " * ",
            *slope_parts(a, f"h~_{t}", f"G_h_{t}"),
        )
        cols = self.block("h")
        if self.reset_after:
            dr = step.add(
                "dr", dg_h * step[f"R_h_{t}"], Ref("dG_h"), " * ", Ref(f"R_h_{t}")
            )
        else:
            d_reset = step.add(
                f"d(r * h_{t - 1})",
                dg_h @ self.U[:, cols].T,
                Dot("dG_h", dg_h, "U_h.T", self.U[:, cols].T),
            )
            dr = step.add(
                "dr", d_reset * h_prev, Ref(f"d(r * h_{t - 1})"), " * ", Ref(h_name)
            )
        dg_z = step.add(
            "dG_z",
            dz * derivative(s, step[f"G_z_{t}"], z),
            Ref("dz"),
            " * ",
            *slope_parts(s, f"z_{t}", f"G_z_{t}"),
        )
        dg_r = step.add(
            "dG_r",
            dr * derivative(s, step[f"G_r_{t}"], r),
            Ref("dr"),
            " * ",
            *slope_parts(s, f"r_{t}", f"G_r_{t}"),
        )
        input_side = np.concatenate([dg_z, dg_r, dg_h])
        if self.reset_after:
            d_rec = step.add("dR_h", dg_h * r, Ref("dG_h"), " * ", Ref(f"r_{t}"))
            recurrent_side = np.concatenate([dg_z, dg_r, d_rec])
            inputs = [(h_name, h_prev)] * 3
        else:
            recurrent_side = input_side
            inputs = [(h_name, h_prev)] * 2 + [(f"r_{t} * h_{t - 1}", r * h_prev)]
        step.remember(f"dR_{t}", recurrent_side)
        step.remember(f"z_{t}", z)
        step.remember(f"r_{t}", r)
        return input_side, recurrent_side, inputs

    def _weight_grads(
        self,
        xs: Array,
        input_side: list[Array],
        recurrent_side: list[Array],
        recurrent_inputs: list[list[tuple[str, Array]]],
    ) -> dict[str, Array]:
        """dW, dU and db summed over the steps (the layer's shapes)."""
        # G_t = x_t W + h_{t-1} U + b  =>  dW = sum_t x_t.T dG_t, dU = sum_t h_{t-1}.T dG_t,
        #                                  db = sum_t dG_t
        d_w = sum(np.outer(x, g) for x, g in zip(xs, input_side, strict=True))
        d_u = np.zeros_like(self.U)
        gates = self.gates or " "
        for inputs, g in zip(recurrent_inputs, recurrent_side, strict=True):
            for (_, vector), gate in zip(inputs, gates, strict=True):
                cols = self.block(gate.strip())
                d_u[:, cols] += np.outer(vector, g[cols])
        grads = {"W": np.asarray(d_w), "recurrent_kernel": d_u}
        if self.b is not None:
            d_b = np.sum(input_side, axis=0)
            if self.b.ndim == 2:
                d_b = np.stack([d_b, np.sum(recurrent_side, axis=0)])
            grads["b"] = d_b
        return grads
