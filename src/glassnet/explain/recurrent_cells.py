"""The recurrent cells' arithmetic, one sample and one step at a time, in float64.

The layers (``layers/lstm.py``, ``gru.py``, ``simple_rnn.py``) run whole batches
time-major with their gates overwritten in place; this module writes each step the
way a textbook does, one named vector per line, from the layer's own weights, so
that every number can be printed next to the formula that made it. Steps are
numbered t = 1 .. T as in the textbooks: ``x_t`` is row t - 1 of the sequence and
``h_0 = c_0 = 0`` the zero start. The tests check every quantity against the
layer's own forward and backward passes.

>>> import numpy as np
>>> from glassnet.layers import SimpleRNN
>>> layer = SimpleRNN(1, activation="linear", use_bias=False,
...                   kernel_initializer="ones", recurrent_initializer="ones")
>>> layer.build((3, 1), np.random.default_rng(0), np.float64)
>>> cell = CellMath(layer)
>>> steps = cell.forward(np.ones((3, 1)))
>>> [float(step["h_3"][0]) if "h_3" in step.values else None for step in steps]
[None, None, 3.0]
>>> steps[2].rows[-1].formula()
'linear(G)'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.activations import ActivationFunction
from glassnet.explain.quantities import Apply, Dot, Part, Quantities, Ref
from glassnet.layers import GRU, LSTM, SimpleRNN

__all__ = ["RECURRENT_LAYERS", "CellMath", "derivative", "slope_parts", "suffixed"]

RECURRENT_LAYERS = (SimpleRNN, LSTM, GRU)

#: the gate blocks of the kernels, in Keras' order
_GATES = {"LSTM": "ifco", "GRU": "zrh", "SimpleRNN": ""}


def slope_parts(function: ActivationFunction, y: str, z: str) -> tuple[Part, ...]:
    """The derivative ``f'(z)`` as parts, from the output ``y`` where it can be."""
    if function.name == "sigmoid":
        return (Ref(y), " * (1 - ", Ref(y), ")")
    if function.name == "tanh":
        return ("(1 - ", Ref(y), "^2)")
    if function.name == "linear":
        return ("1",)
    return (Apply(f"{function.name}'", z),)


def derivative(function: ActivationFunction, z: Array, y: Array) -> Array:
    """``f'(z)`` for an elementwise activation (its backward of ones)."""
    return function.backward(z, y, np.ones_like(z))


class CellMath:
    """One recurrent layer's step, written out with its own weights in float64."""

    def __init__(self, layer: Any) -> None:
        self.kind = type(layer).__name__
        self.name = str(layer.name)
        self.units = int(layer.units)
        self.W = np.asarray(layer.params["W"], dtype=np.float64)
        self.U = np.asarray(layer.params["recurrent_kernel"], dtype=np.float64)
        bias = layer.params.get("b")
        self.b = None if bias is None else np.asarray(bias, dtype=np.float64)
        self.activation: ActivationFunction = layer.activation
        self.gate_activation: ActivationFunction | None = getattr(
            layer, "recurrent_activation", None
        )
        self.reset_after = bool(getattr(layer, "reset_after", False))
        self.go_backwards = bool(layer.go_backwards)
        self.gates = _GATES[self.kind]

    # -- names and blocks --------------------------------------------------------------
    def block(self, gate: str) -> slice:
        """The columns of gate ``gate`` in ``W``, ``U`` and ``b``."""
        k = self.gates.index(gate) if gate else 0
        return slice(k * self.units, (k + 1) * self.units)

    def column_labels(self) -> list[str]:
        """``i0, i1, ..., o2``: one label per column of the kernels."""
        prefixes = self.gates or "u"
        return [f"{g}{j}" for g in prefixes for j in range(self.units)]

    def _bias(self, gate: str, side: int = 0) -> Array | None:
        if self.b is None:
            return None
        if self.b.ndim == 2:
            return self.b[side, self.block(gate)]
        return self.b[self.block(gate)]

    def _bias_of(self, gate: str, side: int = 0) -> Array:
        """The bias of ``gate``, for a layer that has biases."""
        bias = self._bias(gate, side)
        assert bias is not None  # callers check self.b first (_bias_names)
        return bias

    # -- forward -------------------------------------------------------------------------
    def forward(self, xs: Array) -> list[Quantities]:
        """Every step of ``xs`` (T, features), in the order the layer reads them."""
        steps = []
        h = np.zeros(self.units)
        c = np.zeros(self.units)
        for t, x in enumerate(xs, start=1):
            step = Quantities()
            step.remember(f"x_{t}", x)
            origin = "zeros: the start" if t == 1 else f"from step {t - 1}"
            step.given(f"h_{t - 1}", h, origin)
            if self.kind == "LSTM":
                step.given(f"c_{t - 1}", c, origin)
                h, c = self._lstm(step, t, x, h, c)
            elif self.kind == "GRU":
                h = self._gru(step, t, x, h)
            else:
                h = self._simple(step, t, x, h)
            steps.append(step)
        return steps

    def _pre_activation(
        self, step: Quantities, t: int, x: Array, h: Array, gate: str, suffix: str
    ) -> Array:
        """``G = x_t @ W_g + h_{t-1} @ U_g + b_g`` as four rows (three without bias)."""
        cols = self.block(gate)
        x_name, h_name = f"x_{t}", f"h_{t - 1}"
        parts: list[Part] = [
            Ref(f"x_{t} @ W{suffix}"),
            " + ",
            Ref(f"h_{t - 1} @ U{suffix}"),
        ]
        total = step.add(
            f"x_{t} @ W{suffix}",
            x @ self.W[:, cols],
            Dot(x_name, x, "W" + suffix, self.W[:, cols]),
        ) + step.add(
            f"h_{t - 1} @ U{suffix}",
            h @ self.U[:, cols],
            Dot(h_name, h, "U" + suffix, self.U[:, cols]),
        )
        for side, bias_name in enumerate(self._bias_names(suffix)):
            bias = self._bias_of(gate, side)
            step.given(bias_name, bias, "bias")
            parts += [" + ", Ref(bias_name)]
            total = total + bias
        return step.add(f"G{suffix}", total, *parts)

    def _bias_names(self, suffix: str) -> list[str]:
        if self.b is None:
            return []
        if self.b.ndim == 2:  # a GRU with reset_after: input side, recurrent side
            return [f"bx{suffix}", f"bh{suffix}"]
        return [f"b{suffix}"]

    def _gate(self, step: Quantities, gate: str, z: Array) -> Array:
        """``gate = s(G_gate)`` (the recurrent activation)."""
        s = self.gate_activation
        assert s is not None
        return step.add(gate, s.forward(z), Apply(s.name, f"G_{gate}"))

    def _lstm(
        self, step: Quantities, t: int, x: Array, h: Array, c: Array
    ) -> tuple[Array, Array]:
        # G = x W + h U + b;  i, f, o = s(G);  c~ = a(G_c)
        # c_t = f * c_{t-1} + i * c~;  h_t = o * a(c_t)
        a = self.activation
        values = {}
        for gate in self.gates:
            z = self._pre_activation(step, t, x, h, gate, f"_{gate}")
            if gate == "c":
                values[gate] = step.add("c~", a.forward(z), Apply(a.name, "G_c"))
            else:
                values[gate] = self._gate(step, gate, z)
        c_prev = f"c_{t - 1}"
        c_new = step.add(
            f"c_{t}",
            values["f"] * c + values["i"] * values["c"],
            Ref("f"),
            " * ",
            Ref(c_prev),
            " + ",
            Ref("i"),
            " * ",
            Ref("c~"),
        )
        squashed = step.add(
            f"{a.name}(c_{t})", a.forward(c_new), Apply(a.name, f"c_{t}")
        )
        h_new = step.add(
            f"h_{t}", values["o"] * squashed, Ref("o"), " * ", Ref(f"{a.name}(c_{t})")
        )
        return h_new, c_new

    def _gru(self, step: Quantities, t: int, x: Array, h: Array) -> Array:
        # z, r = s(x W + h U + b);  reset_after: h~ = a(x W_h + bx_h + r * (h U_h + bh_h))
        # reset_before: h~ = a(x W_h + (r * h) U_h + b_h);  h_t = z * h + (1 - z) * h~
        a, cols = self.activation, self.block("h")
        z = self._gate(step, "z", self._pre_activation(step, t, x, h, "z", "_z"))
        r = self._gate(step, "r", self._pre_activation(step, t, x, h, "r", "_r"))
        h_name = f"h_{t - 1}"
        x_part = step.add(
            f"x_{t} @ W_h",
            x @ self.W[:, cols],
            Dot(f"x_{t}", x, "W_h", self.W[:, cols]),
        )
        parts: list[Part] = [Ref(f"x_{t} @ W_h")]
        biases = self._bias_names("_h")
        if self.reset_after:
            if biases:
                step.given(biases[0], self._bias_of("h", 0), "bias")
                x_part = x_part + self._bias_of("h", 0)
                parts += [" + ", Ref(biases[0])]
            product = step.add(
                f"h_{t - 1} @ U_h",
                h @ self.U[:, cols],
                Dot(h_name, h, "U_h", self.U[:, cols]),
            )
            recurrent_parts: list[Part] = [Ref(f"h_{t - 1} @ U_h")]
            if biases:
                step.given(biases[1], self._bias_of("h", 1), "bias")
                product = product + self._bias_of("h", 1)
                recurrent_parts += [" + ", Ref(biases[1])]
            r_h = step.add("R_h", product, *recurrent_parts)
            total = x_part + r * r_h
            parts += [" + ", Ref("r"), " * ", Ref("R_h")]
        else:
            reset_state = step.add(
                f"r * h_{t - 1}", r * h, Ref("r"), " * ", Ref(h_name)
            )
            product = step.add(
                f"(r * h_{t - 1}) @ U_h",
                reset_state @ self.U[:, cols],
                Dot(f"(r * h_{t - 1})", reset_state, "U_h", self.U[:, cols]),
            )
            parts += [" + ", Ref(f"(r * h_{t - 1}) @ U_h")]
            total = x_part + product
            if biases:
                step.given(biases[0], self._bias_of("h"), "bias")
                total = total + self._bias_of("h")
                parts += [" + ", Ref(biases[0])]
        pre = step.add("G_h", total, *parts)
        candidate = step.add("h~", a.forward(pre), Apply(a.name, "G_h"))
        return step.add(
            f"h_{t}",
            z * h + (1 - z) * candidate,
            Ref("z"),
            " * ",
            Ref(h_name),
            " + (1 - ",
            Ref("z"),
            ") * ",
            Ref("h~"),
        )

    def _simple(self, step: Quantities, t: int, x: Array, h: Array) -> Array:
        # h_t = a(x_t W + h_{t-1} U + b)
        a = self.activation
        z = self._pre_activation(step, t, x, h, "", "")
        return step.add(f"h_{t}", a.forward(z), Apply(a.name, "G"))


def suffixed(name: str, t: int) -> str:
    """A forward quantity's name in the backward blocks: gate values and
    pre-activations get the step (``i`` -> ``i_2``, ``G_i`` -> ``G_i_2``); names
    that carry a step already (``c_2``, ``tanh(c_2)``, ``x_2 @ W_i``) and the
    biases (``b_i``, ``bx_z``: one for every step) stay."""
    if any(ch.isdigit() for ch in name) or name.startswith("b"):
        return name
    return f"{name}_{t}"
