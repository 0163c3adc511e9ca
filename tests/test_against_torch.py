"""Whole-model training checked against PyTorch in float64.

Each case builds the same MLP twice: a glassnet ``Sequential(dtype="float64")`` and a
torch ``nn.Sequential`` of ``Linear`` layers and activations. glassnet's initial
weights are copied into torch (a glassnet kernel is (n_in, n_out), a torch
``Linear.weight`` is (n_out, n_in), so it is transposed). Both then train on the same
batches in the same order, glassnet through ``fit(shuffle=False)`` and torch through
a plain loop, and every weight and every epoch's loss must agree to ~1e-9.

glassnet's History reports each epoch's loss as Keras does: the sample-weighted mean,
over the epoch's batches, of the loss measured *before* that batch's update. The
torch loop below records exactly that.

Where the two libraries formulate an optimizer differently (see the note above
``TORCH_CASES`` in test_optimizers.py), the settings make them coincide: torch's
``eps=0`` against glassnet's ``epsilon=1e-30`` for Adam, AdamW, RMSprop and Adagrad
(Keras puts epsilon inside the square root or outside the bias correction, torch
outside both). With eps = 0, torch divides 0 by 0 for a weight whose gradient has
been exactly 0 so far, so those cases use smooth activations (no dead ReLUs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from glassnet.initializers import RandomUniform
from glassnet.layers import Activation, Dense
from glassnet.losses import BinaryCrossentropy, CategoricalCrossentropy
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

RTOL = 1e-9
ATOL = 1e-12
N_FEATURES = 3
N_SAMPLES = 10  # batch_size=3 gives batches of 3, 3, 3 and a ragged 1
EPOCHS = 6

# Hidden activations: glassnet identifier -> the torch function it must equal.
# glassnet's leaky_relu defaults to Keras 3's negative_slope=0.2 (torch's is 0.01).
HIDDEN: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "sigmoid": ("sigmoid", torch.sigmoid),
    "tanh": ("tanh", torch.tanh),
    "relu": ("relu", F.relu),
    "leaky_relu": ("leaky_relu", lambda x: F.leaky_relu(x, negative_slope=0.2)),
    "elu": ("elu", F.elu),
    "gelu": ("gelu", F.gelu),
    "gelu_tanh": (
        {"class_name": "GELU", "config": {"approximate": True}},
        lambda x: F.gelu(x, approximate="tanh"),
    ),
    "softplus": ("softplus", F.softplus),
    "silu": ("silu", F.silu),
}


class Fn(nn.Module):
    """An activation function as a module, so nn.Sequential can hold it."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Any) -> Any:
        return self.fn(x)


# --- building the twin models -------------------------------------------------------


def build_pair(
    hidden: list[tuple[int, str]],
    out_units: int,
    out_activation: str | None,
    *,
    torch_output: Callable[[Any], Any] | None,
    separate_output: bool = False,
    seed: int = 0,
) -> tuple[Sequential, Any]:
    """The glassnet model and its torch twin, with identical initial weights.

    ``torch_output`` is what the torch model applies after its last Linear (None for
    raw logits, which torch's CrossEntropyLoss wants). ``separate_output`` puts
    glassnet's output activation in its own Activation layer instead of the Dense.
    Biases start non-zero so that their updates are checked from the first step.
    """
    bias = RandomUniform(minval=-0.5, maxval=0.5)
    model = Sequential(seed=seed, dtype="float64")
    modules: list[Any] = []
    n_in = N_FEATURES
    for index, (units, name) in enumerate(hidden):
        identifier, fn = HIDDEN[name]
        kwargs = {"input_dim": N_FEATURES} if index == 0 else {}
        model.add(Dense(units, activation=identifier, bias_initializer=bias, **kwargs))
        modules += [nn.Linear(n_in, units, dtype=torch.float64), Fn(fn)]
        n_in = units
    kwargs = {} if hidden else {"input_dim": N_FEATURES}
    if separate_output:
        model.add(Dense(out_units, bias_initializer=bias, **kwargs))
        model.add(Activation(out_activation))
    else:
        model.add(
            Dense(
                out_units,
                activation=out_activation,
                bias_initializer=bias,
                **kwargs,
            )
        )
    modules.append(nn.Linear(n_in, out_units, dtype=torch.float64))
    if torch_output is not None:
        modules.append(Fn(torch_output))
    net = nn.Sequential(*modules)
    copy_weights(model, net)
    return model, net


def linears(net: Any) -> list[Any]:
    return [m for m in net if isinstance(m, nn.Linear)]


def copy_weights(model: Sequential, net: Any) -> None:
    """glassnet -> torch: W (n_in, n_out) becomes Linear.weight (n_out, n_in)."""
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    with torch.no_grad():
        for layer, linear in zip(dense, linears(net), strict=True):
            linear.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
            linear.bias.copy_(torch.from_numpy(layer.params["b"].copy()))


def torch_weights(net: Any) -> list[np.ndarray]:
    """Torch's parameters in glassnet's get_weights() order and layout."""
    out = []
    for linear in linears(net):
        out += [linear.weight.detach().numpy().T, linear.bias.detach().numpy()]
    return out


def train_torch(
    net: Any,
    optimizer: Any,
    loss_fn: Callable[[Any, Any], Any],
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    epochs: int,
) -> list[float]:
    """Train in order (no shuffling); return Keras-style per-epoch losses."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(x)
    history = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, n, batch_size):
            xb, yb = xt[start : start + batch_size], yt[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            optimizer.step()
            # The batch's loss before its update, weighted by the batch's size.
            total += loss.item() * len(xb)
        history.append(total / n)
    return history


def assert_same_weights(model: Sequential, net: Any) -> None:
    got, expected = model.get_weights(), torch_weights(net)
    assert len(got) == len(expected)
    assert all(np.isfinite(w).all() for w in got), "training diverged"
    for index, (a, b) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(
            a, b, rtol=RTOL, atol=ATOL, err_msg=f"weight {index} differs from torch"
        )


# --- data -----------------------------------------------------------------------------


def make_data(kind: str, out_units: int, seed: int = 0) -> tuple[np.ndarray, Any, Any]:
    """``(x, y_for_glassnet, y_for_torch)`` for a target kind."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N_SAMPLES, N_FEATURES))
    if kind == "regression":
        y = rng.normal(scale=0.8, size=(N_SAMPLES, out_units))
        return x, y, y
    if kind == "unit":  # targets in (0, 1) for a sigmoid output under mse
        y = rng.uniform(0.1, 0.9, size=(N_SAMPLES, out_units))
        return x, y, y
    if kind == "binary":
        y = rng.integers(0, 2, size=(N_SAMPLES, out_units)).astype(np.float64)
        return x, y, y
    labels = np.arange(N_SAMPLES) % out_units  # every class present
    rng.shuffle(labels)
    if kind == "one_hot":
        one_hot = np.eye(out_units)[labels]
        return x, one_hot, one_hot  # torch takes class-probability targets too
    if kind == "sparse":
        return x, labels, labels.astype(np.int64)
    raise AssertionError(kind)


# --- the cases --------------------------------------------------------------------------

# optimizer name -> (glassnet optimizer factory, torch optimizer factory)
OPTIMIZERS: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {
    "sgd": (
        lambda: SGD(learning_rate=0.1),
        lambda p: torch.optim.SGD(p, lr=0.1),
    ),
    "momentum": (
        lambda: SGD(learning_rate=0.1, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    ),
    "nesterov": (
        lambda: SGD(learning_rate=0.05, momentum=0.8, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    ),
    "adam": (
        lambda: Adam(learning_rate=0.01, epsilon=1e-30),
        lambda p: torch.optim.Adam(p, lr=0.01, eps=0.0),
    ),
    "adam_betas_amsgrad": (
        lambda: Adam(
            learning_rate=0.02, beta_1=0.8, beta_2=0.99, amsgrad=True, epsilon=1e-30
        ),
        lambda p: torch.optim.Adam(
            p, lr=0.02, betas=(0.8, 0.99), amsgrad=True, eps=0.0
        ),
    ),
    "adamw": (
        lambda: AdamW(learning_rate=0.01, weight_decay=0.1, epsilon=1e-30),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=0.0),
    ),
    "rmsprop": (
        lambda: RMSprop(learning_rate=0.01, epsilon=1e-30),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0),
    ),
    "rmsprop_momentum_centered": (
        lambda: RMSprop(
            learning_rate=0.005, rho=0.8, momentum=0.5, centered=True, epsilon=1e-30
        ),
        lambda p: torch.optim.RMSprop(
            p, lr=0.005, alpha=0.8, momentum=0.5, centered=True, eps=0.0
        ),
    ),
    "adagrad": (
        lambda: Adagrad(
            learning_rate=0.1, initial_accumulator_value=0.1, epsilon=1e-30
        ),
        lambda p: torch.optim.Adagrad(
            p, lr=0.1, initial_accumulator_value=0.1, eps=0.0
        ),
    ),
    "adagrad_no_initial": (
        lambda: Adagrad(
            learning_rate=0.1, initial_accumulator_value=0.0, epsilon=1e-30
        ),
        lambda p: torch.optim.Adagrad(
            p, lr=0.1, initial_accumulator_value=0.0, eps=0.0
        ),
    ),
}

# loss name -> (glassnet loss, output activation, target kind, torch loss,
#               what torch applies after its last Linear, glassnet metrics)
LOSSES: dict[str, tuple[Any, Any, str, Callable[[Any, Any], Any], Any, list[str]]] = {
    "mse": ("mse", None, "regression", F.mse_loss, None, ["mae"]),
    "mse_sigmoid": ("mse", "sigmoid", "unit", F.mse_loss, torch.sigmoid, []),
    "mae": ("mean_absolute_error", None, "regression", F.l1_loss, None, ["mse"]),
    # glassnet fuses sigmoid + BCE into the logits path; torch's BCELoss works on
    # the probabilities. The two agree away from saturation.
    "bce": (
        "binary_crossentropy",
        "sigmoid",
        "binary",
        F.binary_cross_entropy,
        torch.sigmoid,
        ["accuracy"],
    ),
    "bce_from_logits": (
        BinaryCrossentropy(from_logits=True),
        None,
        "binary",
        F.binary_cross_entropy_with_logits,
        None,
        ["accuracy"],
    ),
    # glassnet's softmax + cross-entropy is fused too; torch's cross_entropy takes
    # logits (with one-hot rows as class probabilities, or integer labels).
    "cce": (
        "categorical_crossentropy",
        "softmax",
        "one_hot",
        F.cross_entropy,
        None,
        ["accuracy"],
    ),
    "cce_from_logits": (
        CategoricalCrossentropy(from_logits=True),
        None,
        "one_hot",
        F.cross_entropy,
        None,
        [],
    ),
    "sparse_cce": (
        "sparse_categorical_crossentropy",
        "softmax",
        "sparse",
        F.cross_entropy,
        None,
        ["accuracy"],
    ),
}

OUT_UNITS = {
    "mse": 2,
    "mse_sigmoid": 2,
    "mae": 1,
    "bce": 1,
    "bce_from_logits": 1,
    "cce": 3,
    "cce_from_logits": 3,
    "sparse_cce": 3,
}

# (loss, optimizer, hidden layers, batch size)
CASES = [
    # plain SGD with lr 0.1 and the classic activations, every batching
    ("mse", "sgd", [(4, "sigmoid")], 1),
    ("mse", "sgd", [(4, "tanh")], 3),
    ("mse", "sgd", [(5, "relu")], N_SAMPLES),
    ("mse", "sgd", [(4, "tanh"), (3, "sigmoid")], 3),
    ("mse_sigmoid", "sgd", [(4, "relu")], 3),
    ("mse", "momentum", [(4, "tanh")], 3),
    ("mse", "momentum", [(5, "relu")], 1),
    ("mse", "nesterov", [(4, "sigmoid")], 3),
    ("mse", "nesterov", [(4, "tanh")], N_SAMPLES),
    ("mae", "sgd", [(4, "tanh")], 3),
    ("mae", "momentum", [(4, "sigmoid")], 1),
    # the other hidden activations against torch.nn.functional
    ("mse", "sgd", [(4, "leaky_relu")], 3),
    ("mse", "sgd", [(4, "elu")], 3),
    ("mse", "sgd", [(4, "gelu")], 3),
    ("mse", "sgd", [(4, "gelu_tanh")], 3),
    ("mse", "sgd", [(4, "softplus")], 3),
    ("mse", "momentum", [(4, "silu")], 3),
    ("mse", "nesterov", [(4, "leaky_relu"), (3, "elu")], 1),
    # cross-entropies
    ("bce", "sgd", [(4, "tanh")], 1),
    ("bce", "sgd", [(4, "sigmoid")], 3),
    ("bce", "momentum", [(5, "relu")], N_SAMPLES),
    ("bce_from_logits", "sgd", [(4, "tanh")], 3),
    ("cce", "sgd", [(4, "tanh")], 3),
    ("cce", "nesterov", [(5, "relu")], 1),
    ("cce_from_logits", "sgd", [(4, "sigmoid")], 3),
    ("sparse_cce", "sgd", [(4, "tanh")], 3),
    ("sparse_cce", "momentum", [(4, "softplus")], N_SAMPLES),
    ("sparse_cce", "sgd", [], 3),  # softmax regression, no hidden layer
    # adaptive optimizers (smooth activations: see the module docstring)
    ("mse", "adam", [(4, "tanh")], 3),
    ("mse", "adam", [(4, "sigmoid")], 1),
    ("bce", "adam", [(4, "tanh")], N_SAMPLES),
    ("sparse_cce", "adam_betas_amsgrad", [(4, "tanh")], 3),
    ("mse", "adamw", [(4, "tanh")], 3),
    ("cce", "adamw", [(4, "elu")], 1),
    ("mse", "rmsprop", [(4, "tanh")], 3),
    ("bce", "rmsprop", [(4, "sigmoid")], 1),
    ("mse", "rmsprop_momentum_centered", [(4, "tanh")], 3),
    ("mse", "adagrad", [(4, "tanh")], 3),
    ("cce", "adagrad", [(4, "sigmoid")], N_SAMPLES),
    ("mse", "adagrad_no_initial", [(4, "tanh")], 1),
]


def case_id(case: tuple[str, str, list[tuple[int, str]], int]) -> str:
    loss, opt, hidden, batch_size = case
    layers = "-".join(f"{units}{act}" for units, act in hidden) or "linear"
    return f"{loss}-{opt}-{layers}-b{batch_size}"


def fit_both(
    loss_name: str,
    opt_name: str,
    hidden: list[tuple[int, str]],
    batch_size: int,
    *,
    separate_output: bool = False,
    epochs: int = EPOCHS,
) -> tuple[Sequential, Any, Any, list[float], list[float]]:
    """Train the twins; returns (model, net, history, glassnet losses, torch losses)."""
    loss, out_act, kind, torch_loss, torch_out, metrics = LOSSES[loss_name]
    out_units = OUT_UNITS[loss_name]
    x, y, y_torch = make_data(kind, out_units)
    model, net = build_pair(
        hidden,
        out_units,
        out_act,
        torch_output=torch_out,
        separate_output=separate_output,
    )
    make_opt, make_torch_opt = OPTIMIZERS[opt_name]
    model.compile(optimizer=make_opt(), loss=loss, metrics=metrics)
    before = model.get_weights()
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0
    )
    torch_losses = train_torch(
        net,
        make_torch_opt(net.parameters()),
        torch_loss,
        x,
        y_torch,
        batch_size,
        epochs,
    )
    # Training moved the weights (so the comparison below is not vacuous).
    assert any(
        not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True)
    )
    return model, net, history, history.history["loss"], torch_losses


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_training_matches_torch(case: tuple[str, str, list[tuple[int, str]], int]):
    loss_name, opt_name, hidden, batch_size = case
    model, net, _, losses, torch_losses = fit_both(
        loss_name, opt_name, hidden, batch_size
    )
    assert len(losses) == EPOCHS
    assert_same_weights(model, net)
    np.testing.assert_allclose(losses, torch_losses, rtol=RTOL, atol=ATOL)
    assert model.optimizer.iterations == EPOCHS * math.ceil(N_SAMPLES / batch_size)


@pytest.mark.parametrize(
    ("loss_name", "out_act"),
    [("bce", "sigmoid"), ("cce", "softmax"), ("sparse_cce", "softmax")],
)
def test_output_activation_as_its_own_layer_matches_torch(loss_name, out_act):
    # Activation("sigmoid") after a linear Dense fuses with the loss the same way.
    model, net, _, losses, torch_losses = fit_both(
        loss_name, "momentum", [(4, "tanh")], 3, separate_output=True
    )
    assert model.layers[-1].output_activation.name == out_act
    assert_same_weights(model, net)
    np.testing.assert_allclose(losses, torch_losses, rtol=RTOL, atol=ATOL)


def test_accuracy_history_matches_torch_predictions_before_each_update():
    # Keras' epoch accuracy also uses the predictions made before each update.
    loss, out_act, kind, torch_loss, _, _ = LOSSES["sparse_cce"]
    x, y, y_torch = make_data(kind, 3)
    model, net = build_pair([(4, "tanh")], 3, out_act, torch_output=None)
    model.compile(optimizer=SGD(learning_rate=0.5), loss=loss, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=3, epochs=EPOCHS, shuffle=False, verbose=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y_torch)
    accuracy = []
    for _ in range(EPOCHS):
        hits = 0
        for start in range(0, N_SAMPLES, 3):
            logits = net(xt[start : start + 3])
            hits += int((logits.argmax(dim=1) == yt[start : start + 3]).sum())
            opt.zero_grad()
            torch_loss(logits, yt[start : start + 3]).backward()
            opt.step()
        accuracy.append(hits / N_SAMPLES)
    assert history.history["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert_same_weights(model, net)


# --- evaluate and predict on the trained weights ----------------------------------


def torch_outputs(net: Any, x: np.ndarray, loss_name: str) -> np.ndarray:
    """What glassnet's predict returns: probabilities after a softmax output."""
    with torch.no_grad():
        out = net(torch.from_numpy(x))
        if loss_name in ("cce", "sparse_cce"):
            out = F.softmax(out, dim=1)
    return out.numpy()


@pytest.mark.parametrize(
    ("loss_name", "opt_name", "hidden"),
    [
        ("mse", "momentum", [(4, "tanh"), (3, "relu")]),
        ("mae", "sgd", [(4, "sigmoid")]),
        ("bce", "adam", [(4, "tanh")]),
        ("bce_from_logits", "sgd", [(4, "elu")]),
        ("cce", "nesterov", [(5, "gelu")]),
        ("sparse_cce", "rmsprop", [(4, "softplus")]),
    ],
)
def test_evaluate_and_predict_match_torch_forward(loss_name, opt_name, hidden):
    model, net, _, _, _ = fit_both(loss_name, opt_name, hidden, 3)
    _, _, kind, torch_loss, _, metrics = LOSSES[loss_name]
    x_test, y_test, y_test_torch = make_data(kind, OUT_UNITS[loss_name], seed=11)

    # predict in ragged batches of 4 (4, 4, 2) against one torch forward pass
    expected = torch_outputs(net, x_test, loss_name)
    predicted = model.predict(x_test, batch_size=4, verbose=0)
    assert predicted.dtype == np.float64
    np.testing.assert_allclose(predicted, expected, rtol=1e-12, atol=1e-15)

    with torch.no_grad():
        logits_or_out = net(torch.from_numpy(x_test))
        expected_loss = torch_loss(logits_or_out, torch.from_numpy(y_test_torch)).item()
    logs = model.evaluate(x_test, y_test, batch_size=4, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(expected_loss, rel=1e-12)
    plain = model.evaluate(x_test, y_test, verbose=0)
    assert plain == (logs["loss"] if not metrics else list(logs.values()))

    if "accuracy" in metrics:
        if loss_name == "bce_from_logits":
            hits = (expected > 0) == (y_test > 0.5)
        elif loss_name == "bce":
            hits = (expected > 0.5) == (y_test > 0.5)
        else:
            labels = y_test if y_test.ndim == 1 else y_test.argmax(axis=1)
            hits = expected.argmax(axis=1) == labels
        assert logs["accuracy"] == pytest.approx(float(np.mean(hits)), abs=1e-12)
    if "mae" in metrics:
        mae = float(np.mean(np.abs(expected - y_test)))
        assert logs["mae"] == pytest.approx(mae, rel=1e-12)
    if "mse" in metrics:
        mse = float(np.mean((expected - y_test) ** 2))
        assert logs["mse"] == pytest.approx(mse, rel=1e-12)


def test_predict_classes_matches_torch_argmax():
    model, net, _, _, _ = fit_both("cce", "momentum", [(4, "tanh")], 3)
    x_test, _, _ = make_data("one_hot", 3, seed=5)
    expected = torch_outputs(net, x_test, "cce").argmax(axis=1)
    np.testing.assert_array_equal(model.predict_classes(x_test), expected)
