"""glassnet.explain.recurrent_step and bptt: every printed number is the layer's.

The oracles, none of them the explanation's own code:

- the layer's own forward pass: the outputs (every step's ``h``, through a twin
  with ``return_sequences=True``) and what it caches for backward (gate values,
  an LSTM's cell states, a GRU's ``R_h`` or ``r * h``);
- the layer's own backward pass: ``dW``, ``dU``, ``db`` and ``dx``, themselves
  proven by central differences (``glassnet.gradcheck``);
- PyTorch autograd on the cell written out step by step (``retain_grad`` on every
  intermediate tensor): every per-step gradient of the BPTT walk;
- for a whole model, central differences of the model's loss.

Then the text: every row of every printed table is compared with those numbers
(to the 4 significant digits it prints), and every worked-out line is
recomputed from the numbers it prints, its result compared with the oracle.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import glassnet
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
    ShapeError,
)
from glassnet.explain import (
    BPTTTable,
    RecurrentStepTable,
    bptt,
    recurrent_states,
    recurrent_step,
)
from glassnet.gradient_check import gradcheck
from glassnet.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Embedding,
    Input,
    SimpleRNN,
)
from glassnet.layers.lstm_steps import keras_layout
from glassnet.models import Sequential

torch = pytest.importorskip("torch")

X = np.array([[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75]])  # a 3-step sequence, 2 features

CELLS = [
    pytest.param(LSTM, {}, id="lstm"),
    pytest.param(GRU, {}, id="gru"),
    pytest.param(GRU, {"reset_after": False}, id="gru-reset-before"),
    pytest.param(SimpleRNN, {}, id="simple-rnn"),
]


def built(cls: type, units: int = 3, **kwargs: Any) -> Any:
    """A float64 layer on (None, 2) with small random nonzero biases."""
    layer = cls(units, name="rnn", **kwargs)
    layer.build((None, 2), np.random.default_rng(0), np.float64)
    if "b" in layer.params:
        bias = np.random.default_rng(1).normal(scale=0.3, size=layer.params["b"].shape)
        layer.params["b"][...] = bias
    return layer


def twin(layer: Any, **overrides: Any) -> Any:
    """The same layer (same weights) with other options, e.g. return_sequences."""
    config = {**layer.get_config(), **overrides}
    copy = type(layer).from_config(config)
    copy.build((None, layer.params["W"].shape[0]), np.random.default_rng(9), np.float64)
    copy.set_weights(layer.get_weights())
    return copy


def blocks(layer: Any) -> dict[str, slice]:
    u = layer.units
    gates = {"LSTM": "ifco", "GRU": "zrh", "SimpleRNN": " "}[type(layer).__name__]
    return {g.strip(): slice(k * u, (k + 1) * u) for k, g in enumerate(gates)}


def kept_arrays(layer: Any) -> Any:
    """The per-step arrays the layer's forward pass kept (the LSTM's in Keras'
    gate order, as layers/lstm_steps.py reads them)."""
    kept = layer._cache[2]
    return keras_layout(kept) if isinstance(layer, LSTM) else kept


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


# -- the oracle of the forward pass: the layer's own outputs and cache ----------------


def layer_forward(layer: Any, xs: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Every quantity the step table shows, by name, from the layer itself."""
    every_h = twin(layer, return_sequences=True).forward(xs[None])[0]
    layer.forward(xs[None], keep_cache=True)
    kept = [None if a is None else np.asarray(a)[..., 0] for a in kept_arrays(layer)]
    W, U = layer.params["W"], layer.params["recurrent_kernel"]
    b = layer.params.get("b")
    kind, gate = type(layer).__name__, blocks(layer)
    steps = []
    h_prev, c_prev = np.zeros(layer.units), np.zeros(layer.units)
    reading = xs[::-1] if layer.go_backwards else xs  # the layer reads it reversed
    for t in range(1, len(xs) + 1):
        x, s = reading[t - 1], t - 1
        ref = {f"h_{t - 1}": h_prev, f"h_{t}": every_h[s]}
        for g, cols in gate.items():
            suffix = f"_{g}" if g else ""
            ref[f"x_{t} @ W{suffix}"] = x @ W[:, cols]
            ref[f"h_{t - 1} @ U{suffix}"] = h_prev @ U[:, cols]
            if b is not None and b.ndim == 2:
                ref[f"bx{suffix}"], ref[f"bh{suffix}"] = b[0, cols], b[1, cols]
            elif b is not None:
                ref[f"b{suffix}"] = b[cols]
        if kind == "LSTM":
            gates, _, cells, squashed, _ = kept
            ref[f"c_{t - 1}"] = c_prev
            for g, name in zip("ifco", ["i", "f", "c~", "o"], strict=True):
                value = gates[s][gate[g]]
                ref[name] = value
                ref[f"G_{g}"] = np.arctanh(value) if g == "c" else logit(value)
            ref[f"c_{t}"], ref[f"tanh(c_{t})"] = cells[s], squashed[s]
            c_prev = cells[s]
        elif kind == "GRU":
            gates, _, recurrent, _ = kept
            for g, name in zip("zrh", ["z", "r", "h~"], strict=True):
                ref[name] = gates[s][gate[g]]
                ref[f"G_{g}"] = np.arctanh(ref[name]) if g == "h" else logit(ref[name])
            if layer.reset_after:
                ref["R_h"] = recurrent[s]
            else:
                ref[f"r * h_{t - 1}"] = recurrent[s]
                ref[f"(r * h_{t - 1}) @ U_h"] = recurrent[s] @ U[:, gate["h"]]
        else:
            ref["G"] = np.arctanh(every_h[s])
        steps.append(ref)
        h_prev = every_h[s]
    return steps


# -- the oracle of the backward pass: PyTorch autograd, written out per step ----------


def torch_bptt(layer: Any, xs: np.ndarray, dy: np.ndarray) -> list[dict[str, Any]]:
    """Every per-step gradient of BPTT, from autograd on the cell written out."""

    def t_(array: Any, grad: bool = False) -> Any:
        return torch.tensor(array, dtype=torch.float64, requires_grad=grad)

    W = t_(layer.params["W"], True)
    U = t_(layer.params["recurrent_kernel"], True)
    b = layer.params.get("b")
    b = None if b is None else t_(b, True)
    kind, gate, u = type(layer).__name__, blocks(layer), layer.units
    h = torch.zeros(u, dtype=torch.float64)
    c = torch.zeros(u, dtype=torch.float64)
    kept: list[dict[str, Any]] = []

    def keep(**tensors: Any) -> None:
        for tensor in tensors.values():
            tensor.retain_grad()
        kept[-1].update(tensors)

    for x in t_(xs):
        kept.append({"h_prev": h, "c_prev": c})
        if kind == "LSTM":
            G = x @ W + h @ U + (0 if b is None else b)
            i, f = torch.sigmoid(G[gate["i"]]), torch.sigmoid(G[gate["f"]])
            g, o = torch.tanh(G[gate["c"]]), torch.sigmoid(G[gate["o"]])
            c = f * c + i * g
            s = torch.tanh(c)
            h = o * s
            keep(G=G, i=i, f=f, g=g, o=o, c=c, h=h)
            kept[-1]["s"] = s
        elif kind == "GRU":
            bx = bh = 0
            if b is not None:
                bx, bh = (b[0], b[1]) if layer.reset_after else (b, 0)
            X_ = x @ W + bx
            both = slice(0, 2 * u)
            if layer.reset_after:
                R = h @ U + bh
                G_zr = X_[both] + R[both]
                z, r = torch.sigmoid(G_zr[:u]), torch.sigmoid(G_zr[u:])
                R_h = R[gate["h"]]
                G_h = X_[gate["h"]] + r * R_h
                keep(R_h=R_h)
            else:
                G_zr = X_[both] + h @ U[:, both]
                z, r = torch.sigmoid(G_zr[:u]), torch.sigmoid(G_zr[u:])
                rh = r * h
                G_h = X_[gate["h"]] + rh @ U[:, gate["h"]]
                keep(rh=rh)
            n = torch.tanh(G_h)
            h = z * h + (1 - z) * n
            keep(G_zr=G_zr, z=z, r=r, G_h=G_h, n=n, h=h)
        else:
            G = x @ W + h @ U + (0 if b is None else b)
            h = torch.tanh(G)
            keep(G=G, h=h)
    loss = sum((t_(dy[k]) * step["h"]).sum() for k, step in enumerate(kept))
    loss.backward()
    refs = []
    for k, step in enumerate(kept):
        t = k + 1
        grad = {
            name: tensor.grad.numpy()
            for name, tensor in step.items()
            if name not in ("s", "h_prev", "c_prev")
        }
        ref = {f"dy_{t}": dy[k], f"dh_{t}": grad["h"], "dh_next": grad["h"] - dy[k]}
        if kind == "LSTM":
            o, s = step["o"].detach().numpy(), step["s"].detach().numpy()
            through_h = grad["h"] * o * (1 - s**2)
            ref.update(
                {
                    f"dc_{t}": grad["c"],
                    "dc_next": grad["c"] - through_h,
                    "di": grad["i"],
                    "df": grad["f"],
                    "dc~": grad["g"],
                    "do": grad["o"],
                    **{f"dG_{g}": grad["G"][gate[g]] for g in "ifco"},
                }
            )
        elif kind == "GRU":
            ref.update(
                {
                    "dz": grad["z"],
                    "dr": grad["r"],
                    "dh~": grad["n"],
                    "dG_h": grad["G_h"],
                    "dG_z": grad["G_zr"][:u],
                    "dG_r": grad["G_zr"][u:],
                }
            )
            if layer.reset_after:
                ref["dR_h"] = grad["R_h"]
            else:
                ref[f"d(r * h_{t - 1})"] = grad["rh"]
        else:
            ref[f"dG_{t}"] = grad["G"]
        refs.append(ref)
    return refs


# -- reading the text back -------------------------------------------------------------

_FUNCTIONS = {"sigmoid": lambda v: 1 / (1 + math.exp(-v)), "tanh": math.tanh}


def evaluate(expression: str) -> tuple[float, float]:
    """The value of printed arithmetic, and its magnitude (every sign made +, to
    bound the error of 4-digit operands). Numbers, + - * ^, ( ), sigmoid, tanh."""

    def walk(node: ast.AST) -> tuple[float, float]:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value), abs(float(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value, size = walk(node.operand)
            return -value, size
        if isinstance(node, ast.BinOp):
            (a, sa), (b, sb) = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return a + b, sa + sb
            if isinstance(node.op, ast.Sub):
                return a - b, sa + sb
            if isinstance(node.op, ast.Mult):
                return a * b, sa * sb
            if isinstance(node.op, ast.Pow):
                return a**b, sa**b
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
        ):
            (arg, size) = walk(node.args[0])
            return _FUNCTIONS[node.func.id](arg), 1.0 + size
        raise AssertionError(f"unexpected arithmetic in the text: {expression!r}")

    return walk(ast.parse(expression.replace("^", "**"), mode="eval").body)


def same_number(printed: str, value: float) -> bool:
    """``printed`` is ``value`` to the 4 significant digits the tables print."""
    return abs(float(printed) - value) <= 6e-4 * abs(value) + 1e-15


def check_worked(lines: list[str], expected: dict[str, float]) -> int:
    """Every worked-out line: its arithmetic redone from the printed numbers, and
    its result the oracle's. Returns how many were checked."""
    entries: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.endswith(":"):
            continue
        if stripped[0] in "=+" and entries:
            entries[-1] += " " + stripped
        else:
            entries.append(stripped)
    checked = 0
    for entry in entries:
        name, rest = entry.split(" = ", 1)
        pieces = rest.split(" = ")
        value = pieces[-1]
        numbers = pieces[-2] if len(pieces) >= 2 else value
        assert name.strip() in expected, f"no oracle for {name.strip()!r}: {entry}"
        assert same_number(value, expected[name.strip()]), entry
        if re.fullmatch(r"[-+*^().\d\se sigmodtanh]+", numbers) and any(
            ch.isdigit() for ch in numbers
        ):
            result, size = evaluate(numbers)
            assert abs(result - float(value)) <= 2e-3 * size + 1e-12, entry
        checked += 1
    return checked


def table_rows(
    lines: list[str], names: list[str], formulas: list[str]
) -> list[list[str]]:
    """The numbers printed on each row, found by its name and formula."""
    width = max(len("quantity"), *(len(n) for n in names))
    found = []
    for name, formula in zip(names, formulas, strict=True):
        head = f"  {name.ljust(width)}  {formula}"
        line = next(line for line in lines if line.startswith(head + " "))
        found.append(line[len(head) :].split())
    return found


def check_table(
    lines: list[str], rows: list[Any], expected: dict[str, np.ndarray]
) -> None:
    names = [row.name for row in rows]
    formulas = [row.formula() for row in rows]
    for row, printed in zip(rows, table_rows(lines, names, formulas), strict=True):
        assert row.name in expected, f"no oracle for row {row.name!r}"
        np.testing.assert_allclose(row.value, expected[row.name], rtol=1e-9, atol=1e-13)
        assert len(printed) == len(row.value)
        for text, value in zip(printed, expected[row.name], strict=True):
            assert same_number(text, value), (row.name, text, value)


# -- recurrent_step -------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "kwargs"), CELLS)
@pytest.mark.parametrize("step", [1, 2, 3])
def test_every_number_of_a_step_is_the_layers(cls, kwargs, step) -> None:
    layer = built(cls, **kwargs)
    table = recurrent_step(layer, X, step=step)
    assert isinstance(table, RecurrentStepTable) and table.layer_type == cls.__name__
    expected = layer_forward(layer, X)[step - 1]
    rows = table.quantities.rows
    text = str(table).splitlines()
    check_table(text, rows, expected)
    worked = text[
        text.index(next(line for line in text if line.startswith("Unit u0"))) + 1 :
    ]
    computed = [row for row in rows if row.parts]
    assert check_worked(worked, {k: float(v[0]) for k, v in expected.items()}) == len(
        computed
    )
    assert f"x_{step} = [{X[step - 1][0]:.4g}, {X[step - 1][1]:.4g}]" in str(table)
    # every step's h (and c), as the layer computes them
    every_h = twin(layer, return_sequences=True).forward(X[None])[0]
    np.testing.assert_allclose(table.h, every_h, rtol=1e-12)
    if cls is LSTM:
        np.testing.assert_allclose(table.c, kept_arrays(layer)[2][..., 0], rtol=1e-12)
    else:
        assert table.c is None


def test_the_step_against_pytorch_and_by_hand() -> None:
    # PyTorch's LSTMCell (gates i, f, g, o: Keras' i, f, c, o) on the same weights
    layer = built(LSTM)
    cell = torch.nn.LSTMCell(2, 3).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(layer.params["W"].T))
        cell.weight_hh.copy_(torch.tensor(layer.params["recurrent_kernel"].T))
        cell.bias_ih.copy_(torch.tensor(layer.params["b"]))
        cell.bias_hh.zero_()
    h = c = torch.zeros(1, 3, dtype=torch.float64)
    table = recurrent_step(layer, X, step=3)
    for t in range(3):
        h, c = cell(torch.tensor(X[t : t + 1]), (h, c))
        np.testing.assert_allclose(table.h[t], h.detach().numpy()[0], rtol=1e-12)
        np.testing.assert_allclose(table.c[t], c.detach().numpy()[0], rtol=1e-12)
    # one unit by hand: c_3 = f * c_2 + i * c~, h_3 = o * tanh(c_3)
    f, i, cand, o = (table[name][1] for name in ("f", "i", "c~", "o"))
    assert table["c_3"][1] == pytest.approx(f * table.c[1, 1] + i * cand, rel=1e-14)
    assert table["h_3"][1] == pytest.approx(o * math.tanh(table["c_3"][1]), rel=1e-14)


@pytest.mark.parametrize("options", [{"go_backwards": True}, {"use_bias": False}])
@pytest.mark.parametrize(("cls", "kwargs"), CELLS)
def test_go_backwards_and_no_bias(cls, kwargs, options) -> None:
    layer = built(cls, **kwargs, **options)
    table = recurrent_step(layer, X)
    xs = X[::-1] if options.get("go_backwards") else X
    np.testing.assert_array_equal(table.x, xs)
    expected = layer_forward(layer, X)[-1]
    check_table(str(table).splitlines(), table.quantities.rows, expected)
    np.testing.assert_allclose(table["h_3"], layer.forward(X[None])[0], rtol=1e-12)
    if options.get("go_backwards"):
        assert "step t reads row 3 - t of the sequence" in str(table)
    else:
        assert not [row for row in table.quantities.rows if row.name.startswith("b")]


def test_other_activations_use_the_layers_functions() -> None:
    layer = built(LSTM, activation="softplus", recurrent_activation="silu")
    table = recurrent_step(layer, X, step=2)
    layer.forward(X[None], keep_cache=True)
    gates, gate_inputs = (a[..., 0] for a in kept_arrays(layer)[:2])
    for k, g in enumerate("ifco"):
        cols = slice(3 * k, 3 * k + 3)
        np.testing.assert_allclose(table[f"G_{g}"], gate_inputs[1][cols], rtol=1e-12)
        name = "c~" if g == "c" else g
        np.testing.assert_allclose(table[name], gates[1][cols], rtol=1e-12)
    assert "i = silu(G_i)" in str(table) and "softplus(c_2)" in str(table)
    back = bptt(layer, X, grad_output=[1.0, 0.5, -1.0])
    twin_layer = twin(layer)
    twin_layer.forward(X[None], keep_cache=True)
    twin_layer.backward(np.array([[1.0, 0.5, -1.0]]))
    for key, grad in twin_layer.grads.items():
        np.testing.assert_allclose(back.grads[key], grad, rtol=1e-9, atol=1e-14)
    assert "silu'(G_i_3)" in str(back)


def test_a_model_runs_up_to_the_layer_in_float32() -> None:
    model = Sequential(
        [Input((3,)), Embedding(5, 2, name="embed"), GRU(4, name="gru"), Dense(1)],
        seed=0,
    )
    ids = np.array([1, 4, 2])
    table = recurrent_step(model, ids)
    embedded = model.layers[0].params["embeddings"][ids]
    np.testing.assert_array_equal(table.x, embedded.astype(np.float64))
    h = model.layers[1].forward(embedded[None])[0]
    np.testing.assert_allclose(table["h_3"], h, rtol=1e-5)  # the layer in float32
    assert table is not None and recurrent_step(model, ids[None], "gru").step == 3


def test_recurrent_states_and_to_dict() -> None:
    layer = built(LSTM)
    _, xs, h, c = recurrent_states(layer, X[None])
    np.testing.assert_array_equal(xs, X)
    table = recurrent_step(layer, X)
    np.testing.assert_array_equal(h, table.h)
    np.testing.assert_array_equal(c, table.c)
    data = table.to_dict()
    assert data["step"] == 3 and data["rows"][-1]["name"] == "h_3"
    assert data["rows"][-1]["formula"] == "o * tanh(c_3)"
    assert np.allclose(data["rows"][-1]["value"], h[-1])


def test_wide_layers_show_some_units_and_any_unit_can_be_worked() -> None:
    layer = built(LSTM, units=20)
    table = recurrent_step(layer, X, unit=17, max_units=4)
    text = str(table)
    header = next(line for line in text.splitlines() if line.startswith("  quantity"))
    assert header.split()[2:] == ["u0", "u1", "...", "u18", "u19"]
    assert "Unit u17, worked out" in text
    expected = layer_forward(layer, X)[-1]
    worked = text.splitlines()[
        text.splitlines().index(
            next(line for line in text.splitlines() if line.startswith("Unit"))
        )
        + 1 :
    ]
    check_worked(worked, {k: float(v[17]) for k, v in expected.items()})


# -- bptt -------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "kwargs"), CELLS)
@pytest.mark.parametrize("sequences", [False, True])
def test_bptt_numbers_are_autograds_and_the_layers(cls, kwargs, sequences) -> None:
    layer = built(cls, return_sequences=sequences, **kwargs)
    rng = np.random.default_rng(5)
    grad_output = rng.normal(size=(3, 3) if sequences else 3)
    table = bptt(layer, X, grad_output=grad_output)
    assert isinstance(table, BPTTTable)
    # the sums over the steps and dx: the layer's own backward
    layer.forward(X[None], keep_cache=True)
    dx = layer.backward(grad_output[None])[0]
    for key, grad in layer.grads.items():
        np.testing.assert_allclose(table.grads[key], grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(table.dx, dx, rtol=1e-10, atol=1e-15)
    # every per-step quantity: PyTorch autograd through the cell written out
    dy = grad_output if sequences else np.vstack([np.zeros((2, 3)), grad_output])
    np.testing.assert_array_equal(table.dy, dy)
    oracle = torch_bptt(layer, X, dy)
    for t, (block, expected) in enumerate(
        zip(table.backward.steps, oracle, strict=True), start=1
    ):
        names = {row.name for row in block.rows}
        assert names == set(expected), (t, names ^ set(expected))
        for row in block.rows:
            np.testing.assert_allclose(
                row.value, expected[row.name], rtol=1e-10, atol=1e-15, err_msg=row.name
            )
    check_bptt_text(layer, table, oracle)


def check_bptt_text(layer: Any, table: BPTTTable, oracle: list[dict]) -> None:
    """Every table row and worked line of the printed walk."""
    text = str(table).splitlines()
    forward = layer_forward(layer, X)
    # the forward values the walk reuses
    start = text.index("Forward pass: the values the backward pass reuses")
    end = next(
        k for k in range(start, len(text)) if text[k].startswith("Backward pass")
    )
    section = text[start + 1 : end]
    for line in section[1:]:
        if not line.strip():
            continue
        name, *_ = line.split()
        step = int(re.findall(r"_(\d+)\)?$", name)[0])
        base = name if name in forward[step - 1] else name.rsplit("_", 1)[0]
        values = line.split()[-3:]
        for printed, value in zip(values, forward[step - 1][base], strict=True):
            assert same_number(printed, value), line
    # each step's block: its table and its worked lines for unit 0
    for t in range(3, 0, -1):
        first = text.index(
            next(line for line in text if line.startswith(f"Step t = {t}"))
        )
        last = next(
            (
                k
                for k in range(first + 1, len(text))
                if text[k].startswith(("Step", "Weight"))
            ),
            len(text),
        )
        block = text[first:last]
        rows = table.backward.steps[t - 1].rows
        check_table(block, rows, oracle[t - 1])
        unit = block.index("  unit u0:")
        assert check_worked(
            block[unit + 1 :], {k: float(v[0]) for k, v in oracle[t - 1].items()}
        ) == len([row for row in rows if row.parts])
    # the weight gradients: one row per column of the kernels, then worked entries
    weights = text[text.index("Weight gradients: the sums over the steps") :]
    header = next(k for k, line in enumerate(weights) if line.startswith("  column"))
    grads = layer.grads
    bias = (
        np.atleast_2d(grads["b"]).T
        if "b" in grads
        else np.zeros((len(grads["W"].T), 0))
    )
    side_by_side = np.concatenate([grads["W"].T, grads["recurrent_kernel"].T, bias], 1)
    for k, line in enumerate(weights[header + 1 : header + 1 + len(side_by_side)]):
        printed = line.split()[1:]
        for text_value, value in zip(printed, side_by_side[k], strict=True):
            assert same_number(text_value, value), line
    entries = weights[
        weights.index(
            "  the entries of column "
            + table.cell.column_labels()[0]
            + ", term by term:"
        )
        + 1 :
    ]
    entries = entries[
        : next(k for k, line in enumerate(entries) if line.startswith("  dx_t"))
    ]
    label = table.cell.column_labels()[0]
    expected = {
        f"dW[0, {label}]": grads["W"][0, 0],
        f"dU[0, {label}]": grads["recurrent_kernel"][0, 0],
    }
    if "b" in grads:
        b = np.atleast_2d(grads["b"])
        if len(b) == 2:
            expected[f"db[0, {label}]"], expected[f"db[1, {label}]"] = b[0, 0], b[1, 0]
        else:
            expected[f"db[{label}]"] = b[0, 0]
    symbols = [line for line in entries if line.strip()[0] not in "="]
    numbers = [line for line in entries if line.strip()[0] in "=+"]
    assert len(symbols) == len(expected)
    joined = [
        " = ".join([s.split(" = ")[0].strip(), n.strip().lstrip("= ")])
        for s, n in zip(symbols, numbers, strict=True)
    ]
    assert check_worked(joined, expected) == len(expected)


def test_bptt_through_a_model_is_the_derivative_of_its_loss() -> None:
    # Embedding -> LSTM -> Dense(softmax), sparse cross-entropy: the gradient of the
    # LSTM's weights by central differences of the model's own loss
    model = Sequential(
        [
            Input((3,)),
            Embedding(6, 2, name="embed"),
            LSTM(3, name="lstm"),
            Dense(4, activation="softmax", name="out"),
        ],
        seed=2,
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ids, label = np.array([3, 0, 5]), 2
    before = [w.copy() for w in model.get_weights()]
    table = bptt(model, ids, label)
    assert table.loss_name == "sparse_categorical_crossentropy"
    assert all(
        np.array_equal(a, b) for a, b in zip(model.get_weights(), before, strict=True)
    )
    copy = Sequential.from_config(model.get_config(), dtype="float64")
    copy.set_weights(model.get_weights())
    lstm = copy.layers[1]

    def loss() -> float:
        probabilities = copy.predict(ids[None], verbose=0)[0]
        return -math.log(probabilities[label])

    assert table.loss == pytest.approx(loss(), rel=1e-10)
    for key, grad in table.grads.items():
        param = lstm.params[key]
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            keep = param[index]
            param[index] = keep + 1e-6
            up = loss()
            param[index] = keep - 1e-6
            down = loss()
            param[index] = keep
            numeric[index] = (up - down) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-9, err_msg=key)
    assert "loss = sparse_categorical_crossentropy = " in str(table)
    # dy_3 is what the Dense layer sends back: dL/dh_3 = (p - onehot) @ W_out.T
    p = copy.predict(ids[None], verbose=0)[0]
    onehot = np.eye(4)[label]
    np.testing.assert_allclose(
        table.dy[-1], (p - onehot) @ copy.layers[2].params["W"].T, rtol=1e-10
    )


def test_bptt_of_a_layer_agrees_with_gradcheck() -> None:
    # the layer's backward, the oracle above, is itself right by central differences
    for cls, kwargs in [(LSTM, {}), (GRU, {}), (GRU, {"reset_after": False})]:
        assert gradcheck(built(cls, **kwargs), X[None]).passed


def test_long_sequences_print_some_steps_and_keep_all() -> None:
    layer = built(SimpleRNN, units=2)
    xs = np.random.default_rng(0).normal(size=(10, 2))
    table = bptt(layer, xs, grad_output=[1.0, 1.0], max_steps=4)
    text = str(table)
    shown = re.findall(r"^Step t = (\d+)", text, flags=re.M)
    assert shown == ["10", "9", "2", "1"]
    assert "steps left out: table.backward.steps has them" in text
    assert len(table.backward.steps) == 10 and table.dx.shape == (10, 2)


# -- errors -----------------------------------------------------------------------------


def test_bad_arguments_are_refused_with_clear_errors() -> None:
    layer = built(LSTM)
    with pytest.raises(
        InvalidArgumentError, match=r"`step` must be a step t from 1 to 3"
    ):
        recurrent_step(layer, X, step=0)
    with pytest.raises(InvalidArgumentError, match="step"):
        recurrent_step(layer, X, step=True)
    with pytest.raises(
        InvalidArgumentError, match=r"`unit` must be an integer from 0 to 2"
    ):
        recurrent_step(layer, X, unit=3)
    with pytest.raises(InvalidArgumentError, match="max_units"):
        recurrent_step(layer, X, max_units=0)
    with pytest.raises(ShapeError, match="one sample"):
        recurrent_step(layer, np.ones((2, 3, 2)))
    with pytest.raises(ShapeError, match="one sample"):
        recurrent_step(layer, np.ones((3, 5)))
    with pytest.raises(NotBuiltError, match="not built"):
        recurrent_step(LSTM(2), X)
    with pytest.raises(GlassnetTypeError, match="SimpleRNN, LSTM or GRU"):
        recurrent_step(Dense(2), X)
    model = Sequential([Input((3, 2)), Dense(2, name="dense")])
    with pytest.raises(InvalidArgumentError, match="has no SimpleRNN, LSTM or GRU"):
        recurrent_step(model, X)
    with pytest.raises(InvalidArgumentError, match="grad_output"):
        bptt(layer, X)
    with pytest.raises(ShapeError, match=r"grad_output.*\(3,\)"):
        bptt(layer, X, grad_output=np.ones((3, 3)))
    with pytest.raises(InvalidArgumentError, match="no loss"):
        bptt(layer, X, 1.0)
    rnn_model = Sequential([Input((3, 2)), SimpleRNN(2), Dense(1)])
    with pytest.raises(InvalidArgumentError, match="needs a loss"):
        bptt(rnn_model, X, 1.0)
    with pytest.raises(InvalidArgumentError, match="target y"):
        bptt(rnn_model, X, loss="mse")
    with pytest.raises(InvalidArgumentError, match="grad_output is for"):
        bptt(rnn_model, X, 1.0, loss="mse", grad_output=[1.0])
    with pytest.raises(GlassnetTypeError, match="bptt expects"):
        bptt("model", X)


def test_an_unchanged_model_after_explaining() -> None:
    model = Sequential([Input((3, 2)), GRU(2), Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    weights = [w.copy() for w in model.get_weights()]
    bptt(model, X, 0.5)
    recurrent_step(model, X)
    for got, expected in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert model.layers[0]._cache is None
    assert glassnet.explain.bptt is bptt


# -- docs/explain.md: the convolution and recurrent sections run and print what they show

DOCS = Path(__file__).resolve().parents[1] / "docs" / "explain.md"
#: the sections whose examples are checked here, by the start of their heading
DOC_SECTIONS = ("## Convolutions", "## Recurrent layers")


def doc_blocks(section: str) -> list[tuple[str, str | None]]:
    """The section's python blocks, each with the text block right after it (or
    None): the output it shows."""
    pattern = re.compile(r"```(python|text)\n(.*?)```\n", re.S)
    found = [
        (m.group(1), m.group(2), m.start(), m.end()) for m in pattern.finditer(section)
    ]
    blocks = []
    for k, (kind, body, _, end) in enumerate(found):
        if kind != "python":
            continue
        following = found[k + 1] if k + 1 < len(found) else None
        shown = None
        if (
            following
            and following[0] == "text"
            and not section[end : following[2]].strip()
        ):
            shown = following[1]
        blocks.append((body, shown))
    return blocks


def run_doc_section(
    section: str, namespace: dict[str, Any] | None = None
) -> list[tuple[str, str | None, str]]:
    """Run the section's python blocks in order, in one namespace (a new one in a
    fresh session by default); each with the output it shows and the one it prints."""
    if namespace is None:
        glassnet.utils.clear_session()
        namespace = {"__name__": "docs"}
    results = []
    for code, shown in doc_blocks(section):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(DOCS), "exec"), namespace)  # the page's own code
        results.append((code, shown, out.getvalue()))
    return results


def doc_sections() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=## )", text)
    return {
        part.splitlines()[0]: part for part in parts if part.startswith(DOC_SECTIONS)
    }


def test_the_docs_sections_run_and_print_what_they_show(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    sections = doc_sections()
    assert len(sections) == 2
    checked = 0
    recurrent: dict[str, Any] = {"__name__": "docs"}
    for title, section in sections.items():
        glassnet.utils.clear_session()
        namespace = recurrent if title.startswith("## Recurrent") else None
        for code, shown, printed in run_doc_section(section, namespace):
            if shown is not None:
                assert printed == shown, f"{title}: the output of\n{code}"
                checked += 1
    assert checked == 5  # two convolution outputs, two steps, one BPTT walk
    # the picture of the recurrent model's states, under "Pictures"
    text = DOCS.read_text(encoding="utf-8")
    pictures = text[text.index("### A recurrent layer's states over a sequence") :]
    [(code, _)] = doc_blocks(pictures[: pictures.index("The pictures on this page")])
    run_doc_section("```python\n" + code + "```\n", recurrent)
    assert (tmp_path / "hidden_states.png").read_bytes()[:4] == b"\x89PNG"


def test_a_bidirectional_layer_is_explained_through_its_two_layers() -> None:
    model = Sequential([Input((3, 2)), Bidirectional(LSTM(2), name="both")], seed=0)
    wrapper = model.layers[0]
    y = model.predict(X[None], verbose=0)[0]  # [forward h_3, backward h_3]
    forward = recurrent_step(wrapper.forward_layer, X)
    backward = recurrent_step(wrapper.backward_layer, X)  # go_backwards=True
    np.testing.assert_allclose(forward["h_3"], y[:2], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(backward["h_3"], y[2:], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(backward.x, X[::-1])
    for layer in (None, "both", wrapper):
        with pytest.raises(InvalidArgumentError, match="forward_layer"):
            recurrent_step(model, X, layer)
    with pytest.raises(InvalidArgumentError, match="Bidirectional wrapper"):
        bptt(model, X, np.zeros(4), loss="mse")


@pytest.mark.parametrize("y", [np.array([4, 0, 2]), np.array([[4, 0, 2]])])
def test_bptt_of_a_character_model_with_a_label_per_step(y) -> None:
    # Embedding -> LSTM(return_sequences) -> Dense logits, a label at every step:
    # dy_t at every step, the weights' gradient that of the loss by differences
    model = Sequential(
        [
            Input((3,)),
            Embedding(5, 2),
            LSTM(2, return_sequences=True, name="lstm"),
            Dense(5, name="logits"),
        ],
        seed=1,
    )
    loss = glassnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="sgd", loss=loss)
    ids = np.array([1, 3, 3])
    table = bptt(model, ids, y)
    assert np.all(np.any(table.dy != 0, axis=1))  # every step hears from the output
    copy = Sequential.from_config(model.get_config(), dtype="float64")
    copy.set_weights(model.get_weights())
    labels = np.asarray(y).reshape(1, 3)

    def value() -> float:
        return float(loss(labels, copy.predict(ids[None], verbose=0)))

    assert table.loss == pytest.approx(value(), rel=1e-10)
    param = copy.layers[1].params["recurrent_kernel"]
    numeric = np.zeros_like(param)
    for index in np.ndindex(param.shape):
        keep = param[index]
        param[index] = keep + 1e-6
        up = value()
        param[index] = keep - 1e-6
        numeric[index] = (up - value()) / 2e-6
        param[index] = keep
    np.testing.assert_allclose(
        table.grads["recurrent_kernel"], numeric, rtol=1e-5, atol=1e-9
    )


def test_models_with_padding_masks_explain_the_real_steps() -> None:
    # more in test_masking_explain.py: the masked steps are skipped and named
    model = Sequential(
        [Input((4,)), Embedding(5, 2, mask_zero=True), LSTM(2, name="lstm")], seed=0
    )
    ids = np.array([3, 1, 0, 0])
    masked = recurrent_step(model, ids)
    assert masked.padding == (3, 4) and masked.steps == 2
    # the same as the layer on its own with the unpadded part of its input
    x_seq = model.layers[0].params["embeddings"][ids]
    table = recurrent_step(model.layers[1], x_seq[:2])
    np.testing.assert_allclose(masked["h_2"], table["h_2"], rtol=1e-12)
    np.testing.assert_allclose(
        table["h_2"], model.predict(ids[None], verbose=0)[0], rtol=1e-5, atol=1e-7
    )
    assert bptt(model, ids, np.zeros(2), loss="mse").padding == (3, 4)
