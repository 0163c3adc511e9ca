"""glassnet.explain: the chain-rule table, the per-layer summary, summary(explain=True)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from glassnet import losses
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
    UnknownNameError,
)
from glassnet.explain import BackpropSummary, BackpropTable, backprop
from glassnet.layers import Activation, Dense, Dropout
from glassnet.models import Sequential
from glassnet.models.summary import format_summary, layer_costs


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def seed_001_model(dtype: str = "float64") -> Sequential:
    """seeds/001: 2-2-1, sigmoid everywhere, every weight 1, every bias 0."""
    model = Sequential(dtype=dtype)
    model.add(Dense(2, activation="sigmoid", input_dim=2))  # w1..w4, b1, b2
    model.add(Dense(1, activation="sigmoid"))  # w5, w6, b3
    model.set_weights([np.ones((2, 2)), np.zeros(2), np.ones((2, 1)), np.zeros(1)])
    return model


# -- seeds/001 ------------------------------------------------------------------------
def test_seed_001_numbers_and_factors() -> None:
    table = backprop(seed_001_model(), [-2, -1], 1, loss="mse")
    assert isinstance(table, BackpropTable)
    # sum_h1 = 1*(-2) + 1*(-1) + 0 = -3, h1 = sigmoid(-3) = 0.0474259 (h2 alike)
    h1 = sigmoid(-3)
    assert table["sum_h1"] == -3 and table["h1"] == pytest.approx(h1, rel=1e-15)
    assert table["h2"] == pytest.approx(h1, rel=1e-15)
    # sum_o1 = h1 + h2 = 0.0948517, o1 = sigmoid(sum_o1) = 0.524
    o1 = sigmoid(2 * h1)
    assert table["y_pred"] == pytest.approx(o1, rel=1e-15)
    assert round(table["o1"], 3) == 0.524
    # d_L_d_ypred = -2 (y - y_pred) = -0.9526
    d_l_d_ypred = -2 * (1 - o1)
    # d_ypred_d_h1 = w5 * f'(sum_o1) = o1 (1 - o1) = 0.2494
    d_ypred_d_h1 = o1 * (1 - o1)
    # d_h1_d_w1 = x1 * f'(sum_h1) = -2 * h1 (1 - h1) = -0.0903
    d_h1_d_w1 = -2 * h1 * (1 - h1)
    row = table.rows[0]
    assert row["name"] == "w1" and (row["source"], row["target"]) == ("x1", "h1")
    assert row["expression"] == "d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1"
    assert row["factors"] == pytest.approx(
        {
            "d_L_d_ypred": d_l_d_ypred,
            "d_ypred_d_h1": d_ypred_d_h1,
            "d_h1_d_w1": d_h1_d_w1,
        },
        rel=1e-14,
    )
    assert round(row["factors"]["d_L_d_ypred"], 4) == -0.9526
    assert round(row["factors"]["d_ypred_d_h1"], 4) == 0.2494
    assert round(row["factors"]["d_h1_d_w1"], 4) == -0.0904
    # dL/dw1 = 0.021469535...: positive, so increasing w1 increases the loss
    assert table["d_L_d_w1"] == pytest.approx(0.021469535, abs=1e-9)
    assert table["d_L_d_w1"] == pytest.approx(d_l_d_ypred * d_ypred_d_h1 * d_h1_d_w1)


def test_seed_001_printout_reads_like_the_tutorial() -> None:
    model = seed_001_model()
    text = str(backprop(model, [-2, -1], 1, loss="mse"))
    assert "d_L_d_ypred  = -2 * (y - y_pred) = -0.95261" in text
    assert "d_ypred_d_h1 = w5 * f'(sum_o1) = 1 * 0.249439 = 0.249439" in text
    assert "d_h1_d_w1 = x1 * f'(sum_h1) = -2 * 0.0451767 = -0.0903533" in text
    assert "d_L_d_w1 = d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1" in text
    assert "= -0.95261 * 0.249439 * -0.0903533 = 0.0214695" in text
    assert "h1      dense (sigmoid)    w1*x1 + w2*x2 + b1" in text
    assert repr(backprop(model, [-2, -1], 1, loss="mse")) == text


def tutorial_gradients(
    w: list[float], b: list[float], x: list[float], y_true: float
) -> dict[str, float]:
    """The seeds/001 code, with its copy-paste bugs fixed (h2's factors, w5/w6)."""

    def deriv(t: float) -> float:
        return sigmoid(t) * (1 - sigmoid(t))

    sum_h1 = w[0] * x[0] + w[1] * x[1] + b[0]
    sum_h2 = w[2] * x[0] + w[3] * x[1] + b[1]
    h1, h2 = sigmoid(sum_h1), sigmoid(sum_h2)
    sum_o1 = w[4] * h1 + w[5] * h2 + b[2]
    d_l_d_ypred = -2 * (y_true - sigmoid(sum_o1))
    d_ypred_d_h1, d_ypred_d_h2 = w[4] * deriv(sum_o1), w[5] * deriv(sum_o1)
    return {
        "w1": d_l_d_ypred * d_ypred_d_h1 * x[0] * deriv(sum_h1),
        "w2": d_l_d_ypred * d_ypred_d_h1 * x[1] * deriv(sum_h1),
        "b1": d_l_d_ypred * d_ypred_d_h1 * deriv(sum_h1),
        "w3": d_l_d_ypred * d_ypred_d_h2 * x[0] * deriv(sum_h2),
        "w4": d_l_d_ypred * d_ypred_d_h2 * x[1] * deriv(sum_h2),
        "b2": d_l_d_ypred * d_ypred_d_h2 * deriv(sum_h2),
        "w5": d_l_d_ypred * h1 * deriv(sum_o1),
        "w6": d_l_d_ypred * h2 * deriv(sum_o1),
        "b3": d_l_d_ypred * deriv(sum_o1),
    }


def test_every_parameter_matches_the_tutorial_formulas() -> None:
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=6), rng.normal(size=3)
    model = seed_001_model()
    # The tutorial numbers weights neuron by neuron; W is (inputs, units).
    model.set_weights([w[:4].reshape(2, 2).T, b[:2], w[4:].reshape(2, 1), b[2:]])
    x, y = [-5.0, -2.0], 1.0
    table = backprop(model, x, y, loss="mse")
    expected = tutorial_gradients(list(w), list(b), x, y)
    got = {row["name"]: row["gradient"] for row in table.rows}
    assert got == pytest.approx(expected, rel=1e-12)


# -- against glassnet's own backward ------------------------------------------------
CASES = {
    "seed_001": (
        lambda: Sequential([Dense(2, "sigmoid", input_dim=2), Dense(1, "sigmoid")]),
        "mse",
        [0.5, -1.0],
        1.0,
    ),
    "keras_xor": (
        lambda: Sequential(
            [
                Dense(10, input_dim=2),
                Activation("tanh"),
                Dense(1),
                Activation("sigmoid"),
            ]
        ),
        "binary_crossentropy",
        [1.0, 0.0],
        1.0,
    ),
    "three_layers_relu": (
        lambda: Sequential(
            [Dense(4, "tanh", input_dim=3), Dense(3, "relu"), Dense(2, use_bias=False)]
        ),
        "mse",
        [0.3, -1.2, 2.0],
        [0.5, -0.5],
    ),
    "softmax_sparse": (
        lambda: Sequential(
            [
                Dense(3, input_dim=2),
                Activation("elu"),
                Dropout(0.5),
                Dense(3, "softmax"),
            ]
        ),
        "sparse_categorical_crossentropy",
        [0.5, -1.0],
        2,
    ),
    "softmax_hidden_cce": (
        lambda: Sequential([Dense(3, "softmax", input_dim=2), Dense(2, "softmax")]),
        "categorical_crossentropy",
        [0.3, 1.0],
        [0.0, 1.0],
    ),
    "composed_activations_mae": (
        lambda: Sequential(
            [Dense(3, "relu", input_dim=2), Activation("tanh"), Dense(1, "linear")]
        ),
        "mae",
        [1.5, 0.5],
        0.25,
    ),
    "logits": (
        lambda: Sequential([Dense(2, "silu", input_dim=2), Dense(1)]),
        losses.BinaryCrossentropy(from_logits=True),
        [0.5, -0.5],
        0.0,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_equal_glassnets_backward(case: str) -> None:
    make, loss_id, x, y = CASES[case]
    model = make()
    model.set_weights([w * 1.7 for w in model.get_weights()])  # nonzero biases too
    model.set_weights([w + 0.1 for w in model.get_weights()])
    table = backprop(model, x, y, loss=loss_id, detail=True)

    reference = Sequential.from_config(model.get_config(), dtype="float64")
    reference.set_weights(model.get_weights())
    loss = losses.get(loss_id)
    x_arr = np.array([x], dtype=float)
    out = reference.forward(x_arr, keep_cache=True)
    y_arr = loss.validate_targets(np.reshape(y, (1, *np.shape(y))), out.shape[1:], "y")
    grad = loss.backward(y_arr, out)
    grad_into: dict[str, np.ndarray] = {}
    for layer in reversed(reference.layers):
        grad_into[str(layer.name)] = grad  # dL/d(this layer's output)
        grad = layer.backward(grad)
    layers = {layer.name: layer for layer in reference.layers}
    for row in table.rows:
        layer_name, key = row["tensor"].rsplit(".", 1)
        expected = layers[layer_name].grads[key][tuple(row["index"])]
        assert row["gradient"] == pytest.approx(expected, rel=1e-10, abs=1e-15), row
    assert len(table.rows) == reference.count_params()
    # Each neuron's dL/d(output) is the gradient glassnet hands back to the output
    # of the last layer of its group (Dropout, the identity here, is left out).
    position: dict[str, int] = {}
    for neuron in table.neurons:
        j = position[neuron["layer"]] = position.get(neuron["layer"], -1) + 1
        last = neuron["layer"].split(" + ")[-1]
        expected = grad_into[last][0, j]
        assert neuron["gradient"] == pytest.approx(expected, rel=1e-10, abs=1e-15)
    assert table["loss"] == pytest.approx(loss(y_arr, out), rel=1e-12)


def test_a_branching_chain_keeps_dl_dneuron_and_unrolls_single_paths() -> None:
    model = Sequential(
        [Dense(2, "tanh", input_dim=2), Dense(2, "tanh"), Dense(1, "sigmoid")], seed=3
    )
    table = backprop(model, [1.0, -1.0], 1, loss="mse")
    assert [n["name"] for n in table.neurons] == ["h1", "h2", "h3", "h4", "o1"]
    rows = {row["name"]: row for row in table.rows}
    assert list(rows) == [f"w{i}" for i in range(1, 11)] + [
        f"b{i}" for i in range(1, 6)
    ]
    assert (rows["w5"]["source"], rows["w5"]["target"]) == ("h1", "h3")
    assert rows["w1"]["expression"] == "d_L_d_h1 * d_h1_d_w1"
    assert rows["w5"]["expression"] == "d_L_d_ypred * d_ypred_d_h3 * d_h3_d_w5"
    h1 = table.neurons[0]
    assert h1["expression"] == "d_L_d_h3 * d_h3_d_h1 + d_L_d_h4 * d_h4_d_h1"
    v = table.values
    assert h1["gradient"] == pytest.approx(
        v["d_L_d_h3"] * v["d_h3_d_h1"] + v["d_L_d_h4"] * v["d_h4_d_h1"]
    )
    chain = Sequential(
        [Dense(2, "tanh", input_dim=2), Dense(1, "tanh"), Dense(1, "sigmoid")], seed=3
    )
    first = backprop(chain, [1.0, -1.0], 1, loss="mse").rows[0]
    assert first["expression"] == "d_L_d_ypred * d_ypred_d_h3 * d_h3_d_h1 * d_h1_d_w1"


# -- the model is left alone ----------------------------------------------------------
def test_the_model_keeps_its_weights_grads_and_dtype() -> None:
    model = Sequential([Dense(3, "relu", input_dim=2), Dense(1, "sigmoid")], seed=0)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1, 0])
    model.fit(x, y, epochs=1, verbose=0)
    weights = model.get_weights()
    grads = [g.copy() for layer in model.layers for g in layer.grads.values()]
    table = backprop(model, x[0], y[0])  # the compiled loss
    assert table.loss_name == "binary_crossentropy"
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    after_grads = [g for layer in model.layers for g in layer.grads.values()]
    for before, after in zip(grads, after_grads, strict=True):
        np.testing.assert_array_equal(before, after)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    # float32 weights, float64 arithmetic: same numbers as a float64 twin
    twin = Sequential.from_config(model.get_config(), dtype="float64")
    twin.set_weights(model.get_weights())
    table64 = backprop(twin, x[0], y[0], loss="binary_crossentropy")
    assert table.values == table64.values


# -- detail or summary ------------------------------------------------------------------
def test_small_nets_get_the_table_large_ones_the_summary() -> None:
    small = Sequential([Dense(16, "relu", input_dim=16), Dense(1)], seed=0)
    wide = Sequential([Dense(17, "relu", input_dim=2), Dense(1)], seed=0)
    deep = Sequential([Dense(2, "relu", input_dim=2)] + [Dense(2) for _ in range(3)])
    assert isinstance(backprop(small, np.ones(16), 0.0, loss="mse"), BackpropTable)
    assert isinstance(backprop(wide, [1.0, 2.0], 0.0, loss="mse"), BackpropSummary)
    assert isinstance(backprop(deep, [1.0, 2.0], [0, 0], loss="mse"), BackpropSummary)
    batch = backprop(small, np.ones((5, 16)), np.zeros(5), loss="mse")
    assert isinstance(batch, BackpropSummary) and batch.samples == 5
    forced = backprop(wide, [1.0, 2.0], 0.0, loss="mse", detail=True)
    assert isinstance(forced, BackpropTable) and len(forced.rows) == wide.count_params()
    assert isinstance(
        backprop(small, np.ones(16), 0.0, loss="mse", detail=False), BackpropSummary
    )


def test_summary_statistics() -> None:
    model = Sequential([Dense(4, "relu", input_dim=2), Dropout(0.5), Dense(1)], seed=0)
    w = np.array([[1.0, -1.0, 2.0, -3.0], [1.0, -1.0, 1.0, -1.0]])
    # units 2 and 4 get negative sums for positive inputs: dead for this batch
    model.set_weights([w, np.zeros(4), np.ones((4, 1)), np.zeros(1)])
    x = np.array([[1.0, 2.0], [0.5, 0.1], [3.0, 1.0]])
    y = np.array([1.0, 0.0, 2.0])
    summary = backprop(model, x, y, loss="mse", detail=False)
    dense, dropout, out = summary.rows
    assert dense["dead"] == 0.5 and dropout["dead"] is None and out["dead"] is None
    h = np.maximum(x @ w, 0)
    assert dense["mean"] == pytest.approx(h.mean()) and dense["std"] == pytest.approx(
        h.std()
    )
    # gradients of the batch-mean loss, as training computes them
    pred = h.sum(axis=1, keepdims=True)
    d_pred = 2 * (pred - y[:, None]) / len(x)
    assert out["grad_norms"]["dense_1.W"] == pytest.approx(np.linalg.norm(h.T @ d_pred))
    assert out["grad_norms"]["dense_1.b"] == pytest.approx(abs(d_pred.sum()))
    d_z = (d_pred @ np.ones((1, 4))) * (x @ w > 0)
    assert dense["grad_norms"]["dense.W"] == pytest.approx(np.linalg.norm(x.T @ d_z))
    assert out["output_grad_norm"] == pytest.approx(np.linalg.norm(d_pred))
    text = str(summary)
    assert "dense (relu)" in text and "50.0%" in text and "dropout " in text
    json.dumps(summary.to_dict())


def test_one_sample_in_any_shape() -> None:
    model = Sequential([Dense(3, "softmax", input_dim=2)], seed=0)
    expected = backprop(model, [1.0, 2.0], [0, 1, 0], loss="cce").values
    for x, y in [([[1.0, 2.0]], [0, 1, 0]), ([[1.0, 2.0]], [[0, 1, 0]])]:
        assert backprop(model, x, y, loss="cce").values == expected
    sparse = backprop(model, [[1.0, 2.0]], [1], loss="sparse_categorical_crossentropy")
    assert sparse["d_L_d_w1"] == pytest.approx(expected["d_L_d_w1"])


def test_to_dict_is_json() -> None:
    table = backprop(seed_001_model(), [-2, -1], 1, loss="mse")
    data = json.loads(json.dumps(table.to_dict()))
    assert data["values"]["d_L_d_w1"] == pytest.approx(0.021469535, abs=1e-9)
    assert data["rows"][0]["tensor"] == "dense.W" and data["rows"][0]["index"] == [0, 0]
    assert data["layer_sizes"] == [2, 2, 1]


# -- bad input -----------------------------------------------------------------------
def test_errors_say_what_to_do() -> None:
    model = seed_001_model()
    with pytest.raises(InvalidArgumentError, match="compile the model first or pass"):
        backprop(model, [-2, -1], 1)
    with pytest.raises(ShapeError, match=r"samples of shape \(2,\)"):
        backprop(model, [1, 2, 3], 1, loss="mse")
    with pytest.raises(ShapeError, match="one sample"):
        backprop(model, [[1, 2], [3, 4]], [1, 0], loss="mse", detail=True)
    with pytest.raises(UnknownNameError, match="Did you mean"):
        backprop(model, [-2, -1], 1, loss="mse_")
    with pytest.raises(GlassnetTypeError, match="detail"):
        backprop(model, [-2, -1], 1, loss="mse", detail="yes")
    with pytest.raises(InvalidArgumentError, match="Dense layer first"):
        backprop(Sequential([Activation("relu", input_dim=2)]), [1, 2], [0, 0],
                 loss="mse", detail=True)  # fmt: skip


# -- summary(explain=True) ------------------------------------------------------------
def xor_model(dtype: str = "float32") -> Sequential:
    model = Sequential(seed=0, dtype=dtype)
    model.add(Dense(10, input_dim=2))
    model.add(Activation("tanh"))
    model.add(Dense(1))
    model.add(Activation("sigmoid"))
    return model


def test_summary_explain_shows_how_each_number_is_formed() -> None:
    lines: list[str] = []
    model = xor_model()
    model.summary(print_fn=lines.append, explain=True)
    text = lines[0]
    assert "    params       2 x 10 + 10 = 30" in text
    assert "    FLOPs        2 x 2 x 10 + 10 = 50" in text  # 20 multiply-adds + 10 adds
    assert "    FLOPs        10 x 1 (tanh) = 10" in text
    assert "    FLOPs        1 x 4 (sigmoid) = 4" in text
    assert "    weights      30 x 4 B = 120 B" in text
    assert "    activations  z = y: 10 x 4 B = 40 B per sample" in text
    assert "Forward FLOPs per sample: 85" in text  # 50 + 10 + 21 + 4
    assert "Weights (float32): 41 x 4 B = 164 B" in text
    costs = layer_costs(xor_model())
    assert [c.params_formula for c in costs] == [
        "2 x 10 + 10 = 30",
        "0",
        "10 x 1 + 1 = 11",
        "0",
    ]
    assert [c.weight_bytes for c in layer_costs(xor_model("float64"))] == [
        240,
        0,
        88,
        0,
    ]
    # Without the explanation lines and the footer, it is the ordinary summary.
    plain = [line for line in text.splitlines() if not line.startswith("    ")]
    assert "\n".join(plain).startswith(format_summary(model))


def test_summary_explain_memory_is_what_forward_keeps() -> None:
    model = Sequential(
        [Dense(8, "relu", input_dim=3), Dropout(0.5), Dense(4), Activation("softmax")],
        seed=0,
    )
    out = np.ones((1, 3), dtype=np.float32)
    kept = []
    for layer in model.layers:
        out = layer.forward(out, training=True)
        cache = layer._cache
        z_and_y = cache[1:]  # the input x is the previous layer's output, counted there
        arrays = {id(a): a for a in z_and_y if isinstance(a, np.ndarray)}
        if isinstance(layer, Dropout):
            arrays = {id(cache): cache, id(out): out}
        kept.append(sum(a.nbytes for a in arrays.values()))
    assert [c.activation_bytes for c in layer_costs(model)] == kept


def test_summary_explain_must_be_a_bool() -> None:
    with pytest.raises(GlassnetTypeError, match="explain"):
        xor_model().summary(explain="yes")
