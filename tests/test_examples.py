"""The example scripts run, and give the seed tutorials' numbers (see SEEDS.md).

Each module under examples/ is imported with the examples folder on ``sys.path`` and
its functions are called directly; ``examples/demo.py`` also runs as a subprocess.
Independent references (hand-written NumPy loops, values computed with ``math.exp``)
are written out here rather than taken from glassnet.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from glassnet.errors import ConvergenceWarning
from glassnet.initializers import RandomNormal
from glassnet.layers import Dense
from glassnet.models import Sequential

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MODULES = sorted(path.stem for path in EXAMPLES.glob("*.py"))

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0], [1], [1], [0]])


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a top-level module."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def sigmoid(z: float | np.ndarray) -> float | np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def mostly_decreasing(values: list[float], share: float = 0.95) -> bool:
    steps = np.diff(np.asarray(values))
    return bool(np.mean(steps <= 0) >= share)


def test_every_example_is_covered() -> None:
    assert MODULES == [
        "char_lstm",
        "cnn_digits",
        "conv1d_signals",
        "demo",
        "lenet_digits",
        "lstm_digits",
        "padded_sequences",
        "seed_000_neuron",
        "seed_001_backprop",
        "seed_002_gradient_descent",
        "seed_002_keras_xor",
        "seed_003_neuron_and_perceptron",
        "seed_004_vectorized",
        "sine_forecast",
    ]


#: the convolutional examples train for seconds: their fixtures below run main() once
CNN_EXAMPLES = ("cnn_digits", "conv1d_signals", "lenet_digits")
#: the recurrent examples train for seconds to minutes: tested below in short runs
RNN_EXAMPLES = ("char_lstm", "lstm_digits", "padded_sequences", "sine_forecast")


@pytest.mark.parametrize(
    "name", [m for m in MODULES if m not in CNN_EXAMPLES + RNN_EXAMPLES]
)
def test_every_example_main_runs(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    load(name).main()  # seed_003 fits XOR on purpose and catches its own warning
    assert capsys.readouterr().out.strip()


# --- seeds/000 ------------------------------------------------------------------------


def test_seed_000_neuron_and_network_exact() -> None:
    s0 = load("seed_000_neuron")
    # sigmoid(0*2 + 1*3 + 4) = sigmoid(7)
    assert s0.one_neuron() == 0.9990889488055994
    assert 1 / (1 + math.exp(-7)) == 0.9990889488055994
    # h1 = h2 = sigmoid(3); o1 = sigmoid(0*h1 + 1*h2 + 0) = sigmoid(sigmoid(3))
    assert s0.feedforward_network() == 0.7216325609518421
    assert 1 / (1 + math.exp(-1 / (1 + math.exp(-3)))) == 0.7216325609518421


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_seed_000_gender_network(seed: int) -> None:
    s0 = load("seed_000_neuron")
    model, losses = s0.train_gender_network(seed=seed, verbose=False)
    assert len(losses) == 1000
    emily = model.predict(s0.EMILY, verbose=0)[0, 0]
    frank = model.predict(s0.FRANK, verbose=0)[0, 0]
    assert emily > 0.9  # the tutorial: about 0.951, female
    assert frank < 0.1  # the tutorial: about 0.039, male
    assert losses[-1] < losses[0] / 20
    assert mostly_decreasing(losses)
    np.testing.assert_array_equal(model.predict_classes(s0.PEOPLE), s0.FEMALE)


def test_seed_000_gender_network_is_the_tutorials_per_sample_sgd() -> None:
    # The tutorial's loop, written out: for each person in order, forward, the chain
    # rule for d(y - o1)^2, and w -= 0.1 * dL/dw, 1000 times over the table.
    s0 = load("seed_000_neuron")
    seed = 3
    # The example's initial weights: same architecture and seed, N(0, 1) everywhere.
    normal = RandomNormal(stddev=1.0)
    twin = Sequential(seed=seed, dtype="float64")
    twin.add(
        Dense(
            2,
            "sigmoid",
            input_dim=2,
            kernel_initializer=normal,
            bias_initializer=normal,
        )
    )
    twin.add(Dense(1, "sigmoid", kernel_initializer=normal, bias_initializer=normal))
    w1, b1, w2, b2 = twin.get_weights()
    x_all, y_all = s0.PEOPLE.astype(float), s0.FEMALE.astype(float)
    for _ in range(1000):
        for x, y in zip(x_all, y_all, strict=True):
            h = sigmoid(x @ w1 + b1)  # (2,)
            o = sigmoid(h @ w2 + b2)  # (1,)
            d_o = -2 * (y - o) * o * (1 - o)  # dL/d(sum_o1)
            d_h = (w2 @ d_o) * h * (1 - h)  # dL/d(sum_h)
            w2 = w2 - 0.1 * np.outer(h, d_o)
            b2 = b2 - 0.1 * d_o
            w1 = w1 - 0.1 * np.outer(x, d_h)
            b1 = b1 - 0.1 * d_h
    model, _ = s0.train_gender_network(seed=seed, verbose=False)
    for got, expected in zip(model.get_weights(), [w1, b1, w2, b2], strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_seed_000_prints_loss_every_10_epochs(capsys: pytest.CaptureFixture[str]):
    s0 = load("seed_000_neuron")
    s0.train_gender_network(verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 100
    assert lines[0].startswith("Epoch 0 loss: ")
    assert lines[-1].startswith("Epoch 990 loss: ")


# --- seeds/001 ------------------------------------------------------------------------


def test_seed_001_chain_rule_example() -> None:
    s1 = load("seed_001_backprop")
    # All weights 1, biases 0, x = [-2, -1], y = 1, L = (y - o1)^2:
    #   h1 = sigmoid(w1 x1 + w2 x2 + b1) = sigmoid(-3)
    #   o1 = sigmoid(w5 h1 + w6 h2 + b3) = sigmoid(2 h1)
    #   dL/dw1 = dL/do1 * do1/dh1 * dh1/dw1
    #          = -2 (1 - o1) * w5 o1 (1 - o1) * x1 h1 (1 - h1)
    h1 = 1 / (1 + math.exp(3))
    o1 = 1 / (1 + math.exp(-2 * h1))
    dl_dw1 = (-2 * (1 - o1)) * (o1 * (1 - o1)) * (-2 * h1 * (1 - h1))
    got = s1.chain_rule_example()
    assert round(got["h1"], 4) == 0.0474
    assert round(got["o1"], 3) == 0.524
    assert f"{got['dL/dw1']:.7f}" == "0.0214695"
    assert got["h1"] == pytest.approx(h1, rel=1e-13)
    assert got["o1"] == pytest.approx(o1, rel=1e-13)
    assert got["loss"] == pytest.approx((1 - o1) ** 2, rel=1e-13)
    assert got["dL/dw1"] == pytest.approx(dl_dw1, rel=1e-12)
    assert got["dL/dw1"] > 0  # increasing w1 increases the loss


@pytest.mark.parametrize(
    "seed",
    [
        0,
        1,
        2,
        pytest.param(
            3,
            marks=pytest.mark.xfail(
                reason="this start ends in a local minimum that maps the first three "
                "people to the same saturated hidden code (unscaled inputs); 1 of "
                "the first 40 seeds does this",
                strict=False,
            ),
        ),
        4,
        5,
    ],
)
def test_seed_001_trains_on_the_second_table(seed: int) -> None:
    s1 = load("seed_001_backprop")
    model = s1.train_on_second_table(seed)
    np.testing.assert_array_equal(model.predict_classes(s1.TABLE), s1.LABELS)


# --- seeds/002 ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xor_run() -> tuple[object, str]:
    """``seed_002_keras_xor.main()`` as written, with its printed output."""
    xor = load("seed_002_keras_xor")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model = xor.main()
    return model, out.getvalue()


def test_seed_002_keras_xor_main(xor_run: tuple[Sequential, str]) -> None:
    model, out = xor_run
    # the summary: 30, 0, 11 and 0 parameters, 41 in total
    rows = [line.split() for line in out.splitlines() if "(None, " in line]
    assert [row[-1] for row in rows] == ["30", "0", "11", "0"]
    assert "Total params: 41" in out
    # ends with predict_classes == [[0], [1], [1], [0]], then the probabilities
    assert "[[0]\n [1]\n [1]\n [0]]" in out
    np.testing.assert_array_equal(model.predict_classes(XOR_X), XOR_Y)
    assert model.predict_classes(XOR_X).shape == (4, 1)


def test_seed_002_keras_xor_epochs_to_accuracy_1(
    xor_run: tuple[Sequential, str],
) -> None:
    # With seed=1 the network reaches accuracy 1.0 within 1500 epochs: at epoch 229
    # (accuracy of the predictions made before each update, as Keras reports it),
    # and keeps it to the end.
    model, _ = xor_run
    accuracy = model.history.history["accuracy"]
    assert len(accuracy) == 1500
    first = accuracy.index(1.0) + 1
    assert 200 <= first <= 260
    assert all(value == 1.0 for value in accuracy[first - 1 :])


def test_seed_002_keras_xor_before_training_and_per_epoch_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    xor = load("seed_002_keras_xor")
    untrained = xor.build(seed=1).predict(XOR_X.astype(float), verbose=0)
    assert np.all(np.abs(untrained - 0.5) < 0.15)  # "about 0.5 everywhere"
    xor.main(epochs=100)  # the tutorial's fit(epochs=100): one line per epoch
    lines = [line for line in capsys.readouterr().out.splitlines() if "Epoch" in line]
    assert len(lines) == 100
    assert lines[0].startswith("Epoch 1/100")
    assert " - loss: " in lines[-1]
    assert " - accuracy: " in lines[-1]


def test_seed_002_gradient_descent_modes() -> None:
    gd = load("seed_002_gradient_descent")
    epochs = 100
    n = len(gd.two_moons()[0])
    results = gd.compare(epochs=epochs)
    assert list(results) == ["batch", "mini-batch", "stochastic"]
    assert results["batch"]["updates"] == epochs
    assert results["mini-batch"]["updates"] == epochs * math.ceil(n / 16)
    assert results["stochastic"]["updates"] == epochs * n
    for mode, result in results.items():
        assert result["accuracy"] >= 0.8, mode
        assert math.isfinite(result["loss"]), mode
    # more, noisier updates per epoch get further in the same number of epochs
    assert results["stochastic"]["loss"] < results["batch"]["loss"]


# --- seeds/003 ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("gate", "labels"), [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1])]
)
def test_seed_003_perceptron_learns_and_or(gate: str, labels: list[int], seed: int):
    s3 = load("seed_003_neuron_and_perceptron")
    p = s3.perceptron_on(labels, seed=seed)
    np.testing.assert_array_equal(p.predict(s3.GATE_INPUTS), labels)
    assert p.converged_
    assert p.updates_per_epoch_[-1] == 0


def test_seed_003_perceptron_warns_on_xor() -> None:
    s3 = load("seed_003_neuron_and_perceptron")
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        p = s3.perceptron_on([0, 1, 1, 0])
    assert not p.converged_
    assert p.errors_[-1] > 0


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_seed_003_random_neuron_is_deterministic(seed: int) -> None:
    s3 = load("seed_003_neuron_and_perceptron")
    neuron, output = s3.random_neuron(seed)
    again, output_again = s3.random_neuron(seed)
    np.testing.assert_array_equal(neuron.weights, again.weights)
    assert output == output_again
    assert neuron.weights.shape == (3,)
    assert neuron.bias == 0.0
    # random normal weights from numpy's Generator with that seed, sigmoid output
    np.testing.assert_array_equal(
        neuron.weights, np.random.default_rng(seed).standard_normal(3)
    )
    z = float(np.dot(neuron.weights, [0.5, -1.0, 2.0]))
    assert output == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-15)
    other, _ = s3.random_neuron(seed + 100)
    assert not np.array_equal(neuron.weights, other.weights)


# --- seeds/004 ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_004_default() -> tuple[Sequential, list[float], str]:
    """The documented default run: 60,000 full-batch iterations (about 2-3 s)."""
    s4 = load("seed_004_vectorized")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model, errors = s4.train()
    return model, errors, out.getvalue()


def test_seed_004_default_60000_iterations_drive_the_error_to_0(
    seed_004_default: tuple[Sequential, list[float], str],
) -> None:
    s4 = load("seed_004_vectorized")
    model, errors, out = seed_004_default
    assert len(errors) == 60_000
    assert errors[-1] < 0.05
    assert errors[-1] < errors[0] / 50
    assert mostly_decreasing(errors, share=0.99)
    checkpoints = errors[::10_000]
    assert np.all(np.diff(checkpoints) < 0)
    np.testing.assert_array_equal(model.predict(s4.X, verbose=0).round(), s4.Y)
    # the error printed every 10,000 iterations, as in the tutorial
    lines = out.splitlines()
    assert [line.split(":")[0].split()[-1] for line in lines] == [
        "0",
        "10000",
        "20000",
        "30000",
        "40000",
        "50000",
    ]
    # w0 (3x4) and w1 (4x1), no biases: the constant third input plays the bias
    assert [w.shape for w in model.get_weights()] == [(3, 4), (4, 1)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_seed_004_error_falls_for_other_seeds(seed: int) -> None:
    s4 = load("seed_004_vectorized")
    _, errors = s4.train(iterations=5_000, seed=seed, verbose=False)
    assert errors[-1] < 0.05
    assert mostly_decreasing(errors, share=0.99)


def test_seed_004_step_is_the_tutorials_corrected_step() -> None:
    # The tutorial's loop with both bugs fixed: sigmoid'(y) = y (1 - y) and the
    # hidden delta l2_delta @ w1.T. Continue from glassnet's weights after one
    # iteration (the initial weights are internal to train()) for 49 more.
    s4 = load("seed_004_vectorized")
    x, y = s4.X.astype(float), s4.Y.astype(float)
    after_one, _ = s4.train(iterations=1, verbose=False)
    w0, w1 = after_one.get_weights()
    assert np.all(np.abs(w0) < 1.5)
    assert np.all(np.abs(w1) < 1.5)
    for _ in range(49):
        l1 = sigmoid(x @ w0)
        l2 = sigmoid(l1 @ w1)
        l2_delta = (y - l2) * l2 * (1 - l2)
        l1_delta = (l2_delta @ w1.T) * l1 * (1 - l1)
        w1 = w1 + l1.T @ l2_delta
        w0 = w0 + x.T @ l1_delta
    after_fifty, _ = s4.train(iterations=50, verbose=False)
    for got, expected in zip(after_fifty.get_weights(), [w0, w1], strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


# --- demo -----------------------------------------------------------------------------


def test_demo_script_runs() -> None:
    # The whole tour takes a few seconds; the timeout keeps a hang from stalling CI.
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for seed in ("000", "001", "002", "003", "004"):
        assert f"=== seeds/{seed}" in out
    assert "0.9990889488055994" in out
    assert "0.7216325609518421" in out
    assert "dL/dw1 = 0.0214695" in out
    assert "predict_classes: [0 1 1 0]" in out


# --- convolutional networks -------------------------------------------------------------


def run_main(name: str) -> tuple[object, str]:
    """``examples/<name>.py``'s main() as written: its result and what it printed.

    BLAS runs on one thread: the examples' results do not depend on it (checked
    when they were measured), but OpenBLAS threads fighting other processes for
    this machine's two cores made LeNet's convolutions 5x slower.
    """
    pytest.importorskip("sklearn")  # digits() comes from scikit-learn
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limits: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1)
    out = io.StringIO()
    with limits, contextlib.redirect_stdout(out):
        result = load(name).main()
    return result, out.getvalue()


@pytest.fixture(scope="module")
def cnn_digits_run() -> tuple[dict[str, list[float]], str]:
    return run_main("cnn_digits")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def lenet_run() -> tuple[float, str]:
    return run_main("lenet_digits")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def conv1d_run() -> tuple[dict[str, float], str]:
    return run_main("conv1d_signals")  # type: ignore[return-value]


def test_cnn_digits_beats_the_dense_network_on_held_out_digits(
    cnn_digits_run: tuple[dict[str, list[float]], str],
) -> None:
    results, out = cnn_digits_run
    cnn, dense = np.array(results["cnn"]), np.array(results["dense"])
    assert len(cnn) == len(dense) == 5
    # the CNN is ahead on every split and by more than half a point on average
    assert np.all(cnn > dense)
    assert cnn.mean() - dense.mean() > 0.005
    assert cnn.mean() > 0.975
    # what the docstring states (98.26 % and 97.46 %), within a few images
    module = load("cnn_digits")
    assert "mean    98.26 %  97.46 %" in module.__doc__
    assert cnn.mean() == pytest.approx(0.9826, abs=0.006)
    assert dense.mean() == pytest.approx(0.9746, abs=0.006)
    lines = out.splitlines()
    assert lines[0].startswith("CNN: 1,898 weights; Dense: 1,810 weights")
    assert lines[-1].startswith(
        f"held-out accuracy: CNN {cnn.mean():.2%}, Dense {dense.mean():.2%}"
    )
    table = [line.split() for line in lines[2:7]]
    assert [row[0] for row in table] == ["0", "1", "2", "3", "4"]
    assert [row[1] for row in table] == [f"{a:.2%}" for a in cnn]
    assert [row[2] for row in table] == [f"{a:.2%}" for a in dense]


def test_cnn_digits_networks_are_of_similar_size_and_share_the_splits() -> None:
    pytest.importorskip("sklearn")
    module = load("cnn_digits")
    cnn, dense = module.build_cnn(), module.build_dense()
    assert tuple(cnn.layers[3].output.shape) == (None, 2, 2, 16)  # 64 into Dense
    # 3*3*1*8 + 8 = 80, 3*3*8*16 + 16 = 1168, 2*2*16*10 + 10 = 650
    assert cnn.count_params() == 80 + 1168 + 650 == 1898
    assert dense.count_params() == 64 * 24 + 24 + 24 * 10 + 10 == 1810
    train, held_out = module.split(1797, seed=3)
    again, _ = module.split(1797, seed=3)
    np.testing.assert_array_equal(train, again)  # both networks see one split
    assert (len(train), len(held_out)) == (1348, 449)
    assert len(np.union1d(train, held_out)) == 1797
    x, y = module.load_digits()
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0 and len(np.unique(y)) == 10


def test_lenet_digits_accuracy(lenet_run: tuple[float, str]) -> None:
    accuracy, out = lenet_run
    module = load("lenet_digits")
    # the docstring: 99.11 % of the 449 held-out images
    assert "99.11 %" in module.__doc__
    assert accuracy == pytest.approx(0.9911, abs=0.01)
    assert accuracy > 0.97
    assert "Total params: 61,706" in out
    assert out.splitlines()[-1].startswith(
        f"LeNet-5 on the digits upscaled to 28 x 28: held-out accuracy {accuracy:.2%}"
    )


def test_lenet_digits_upscaling_and_shapes() -> None:
    module = load("lenet_digits")
    images = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    big = module.upscale(images)
    assert big.shape == (2, 28, 28, 1) and big.dtype == np.float32
    # pixel (i, j) becomes the 3 x 3 block at rows and columns 2 + 3i ... 4 + 3i
    for i, j in [(0, 0), (3, 5), (7, 7)]:
        block = big[1, 2 + 3 * i : 5 + 3 * i, 2 + 3 * j : 5 + 3 * j, 0]
        assert np.all(block == images[1, i, j, 0])
    assert np.all(big[:, :2] == 0) and np.all(big[:, -2:] == 0)
    assert np.all(big[:, :, :2] == 0) and np.all(big[:, :, -2:] == 0)
    model = module.build_lenet()
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers]
    assert shapes == [
        (28, 28, 6),
        (14, 14, 6),
        (10, 10, 16),
        (5, 5, 16),
        (400,),
        (120,),
        (84,),
        (10,),
    ]
    # 5*5*1*6 + 6, 5*5*6*16 + 16, 400*120 + 120, 120*84 + 84, 84*10 + 10
    assert model.count_params() == 156 + 2416 + 48120 + 10164 + 850


def test_conv1d_signals_accuracy(conv1d_run: tuple[dict[str, float], str]) -> None:
    results, out = conv1d_run
    module = load("conv1d_signals")
    # the docstring: 96.9 % for the Conv1D network, 74.3 % for the Dense one
    assert "96.9 %" in module.__doc__ and "74.3 %" in module.__doc__
    assert results["conv1d"] == pytest.approx(0.969, abs=0.01)
    assert results["dense"] == pytest.approx(0.743, abs=0.03)
    assert results["conv1d"] > 0.93 and results["conv1d"] - results["dense"] > 0.15
    assert f"accuracy on new signals {results['conv1d']:.2%}" in out
    assert module.build_conv1d().count_params() == 48 + 656 + 51


def test_conv1d_signals_are_the_three_wave_shapes() -> None:
    module = load("conv1d_signals")
    x, y = module.signals(300, noise=0.0, seed=5)
    assert x.shape == (300, 64, 1) and x.dtype == np.float32
    counts = np.bincount(y)
    assert len(counts) == 3 and counts.min() > 70  # the three shapes, about equally
    np.testing.assert_array_equal(module.signals(300, noise=0.0, seed=5)[0], x)
    waves = x[..., 0].astype(np.float64)
    amplitude = np.abs(waves).max(axis=1)
    assert np.all((amplitude > 0.45) & (amplitude <= 1.5))
    # square waves take two values, +-amplitude; the others take many
    square = waves[y == 1]
    assert np.allclose(np.abs(square), np.abs(square[:, :1]), rtol=1e-6)
    assert all(len(np.unique(np.round(w, 5))) > 10 for w in waves[y != 1])
    # a sawtooth rises by the same step between its drops: constant differences
    for wave in waves[y == 2][:10]:
        steps = np.diff(wave)
        rising = steps[steps > 0]
        np.testing.assert_allclose(rising, rising[0], rtol=1e-4)
    # a sine wave is smooth: no jump larger than 2*pi*amplitude*cycles/steps
    for wave, peak in zip(waves[y == 0], amplitude[y == 0], strict=True):
        assert np.abs(np.diff(wave)).max() <= 2 * np.pi * peak * 6 / 64 + 1e-5


# --- recurrent networks -----------------------------------------------------------------


def run_short(name: str, **arguments: object) -> tuple[object, str]:
    """``examples/<name>.py``'s main(**arguments) on one BLAS thread (see run_main)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limits: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1)
    out = io.StringIO()
    with limits, contextlib.redirect_stdout(out):
        result = load(name).main(**arguments)
    return result, out.getvalue()


def test_lstm_digits_reads_rows_and_reaches_the_documented_accuracy() -> None:
    pytest.importorskip("sklearn")
    module = load("lstm_digits")
    # the short run: split 0 of the five in the docstring's table (98.00 %)
    accuracies, out = run_short("lstm_digits", splits=1)
    assert "0       98.00 %" in module.__doc__ and "mean    97.86 %" in module.__doc__
    assert accuracies[0] == pytest.approx(0.9800, abs=0.01)
    assert accuracies[0] > 0.96
    assert out.splitlines()[0].startswith("LSTM(32) over 8 rows of 8 pixels: 5,578")
    assert out.splitlines()[-1].startswith(f"held-out accuracy: {accuracies[0]:.2%}")
    # 8 x 128 + 32 x 128 + 128 for the LSTM (4 gates of 32), 32 x 10 + 10 for Dense
    assert module.build().count_params() == 8 * 128 + 32 * 128 + 128 + 330 == 5578
    x, y = module.load_rows()
    assert y.shape == (1797,)
    assert x.shape == (1797, 8, 8) and x.dtype == np.float32 and x.max() == 1.0
    from sklearn.datasets import load_digits

    # step t of a sequence is pixel row t of the image
    np.testing.assert_array_equal(x[7, 3], load_digits().images[7, 3] / 16)
    train, held_out = module.split(1797, seed=0)
    assert len(train) + len(held_out) == 1797
    cnn_train, _ = load("cnn_digits").split(1797, seed=0)
    np.testing.assert_array_equal(train, cnn_train)  # the CNN example's splits


def test_sine_forecast_beats_the_linear_model_and_the_last_value() -> None:
    module = load("sine_forecast")
    results, out = run_short("sine_forecast", epochs=10)
    # the docstring: 0.0318 (LSTM) and 0.0500 (linear) after 10 epochs
    assert "(10 epochs): 0.0318 for the LSTM, 0.0500 linear" in module.__doc__
    assert results["lstm"] == pytest.approx(0.0318, abs=0.004)
    assert results["linear"] == pytest.approx(0.0500, abs=0.004)
    assert results["lstm"] < results["linear"] < results["last_value"] / 5
    assert results["lstm_first"] < results["lstm_last"]  # nearer values are easier
    # the baseline needs no training: the series' last value against what follows
    x, y = module.load(1000, seed=1)
    baseline = float(np.mean((x[:, -1, :] - y) ** 2))
    assert results["last_value"] == pytest.approx(baseline)
    assert "0.3066" in module.__doc__ and f"{baseline:.4f}" == "0.3066"
    assert f"LSTM(32): {results['lstm']:.4f}" in out
    assert module.build_lstm().count_params() == 4 * 32 * (1 + 32 + 1) + 330 == 4682


@pytest.fixture(scope="module")
def char_run() -> tuple[Sequential, list[float]]:
    """Three short epochs of 160 windows each (a few seconds)."""
    module = load("char_lstm")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        return module.train(3, max_windows=160)


def test_char_lstm_learns_and_samples(
    char_run: tuple[Sequential, list[float]],
) -> None:
    module = load("char_lstm")
    model, losses = char_run
    ids, vocabulary = module.load()
    assert vocabulary.size == len(set(vocabulary.decode(ids)))
    # from about ln(vocabulary) (a uniform guess) down, epoch after epoch
    assert losses[0] < math.log(vocabulary.size)
    assert losses[2] < losses[1] < losses[0]
    assert model.count_params() == 3296 + 82432 + 13287 == 99015
    text = module.sample(model, "The ", 40, temperature=0.8, seed=3)
    assert text.startswith("The ") and len(text) == 44
    assert set(text) <= set(vocabulary.chars)
    assert module.sample(model, "The ", 40, temperature=0.8, seed=3) == text
    # temperature 0: the most likely character each time, as predict gives it
    greedy = module.sample(model, "def ", 5, temperature=0)
    context = list(vocabulary.encode("def "))
    for _ in range(5):
        logits = model.predict(np.array(context)[None], verbose=0)[0, -1]
        context.append(int(np.argmax(logits)))
    assert greedy == vocabulary.decode(np.array(context))
    with pytest.raises(ValueError, match="temperature"):
        module.sample(model, "The ", 5, temperature=-1.0)
    with pytest.raises(ValueError, match="seed_text"):
        module.sample(model, "", 5)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        module.sample(model, "\u00e9t\u00e9", 5)


def test_char_lstm_windows_and_documented_run() -> None:
    module = load("char_lstm")
    ids, _ = module.load()
    x0, y0 = module.windows(ids, 0)
    x1, _ = module.windows(ids, 1)
    assert x0.shape[1] == 64 and np.array_equal(x0[0, 1:], y0[0, :-1])
    np.testing.assert_array_equal(x1[0], ids[23 : 23 + 64])  # epoch 1 starts at 23
    assert len(x0) == (len(ids) - 65) // 64 + 1
    # the docstring keeps a sample the full run printed, and its loss
    doc = module.__doc__
    assert module.EPOCHS == 10 and "10 epochs took 5.2 minutes" in doc
    assert "to 1.405 (2.03 bits)" in doc and f"{1.405 / math.log(2):.2f}" == "2.03"
    assert f"{math.log(103):.3f}" == "4.635" and "(a\nuniform guess, ln 103)" in doc
    assert 'sample(model, "The ", 400,\ntemperature=0.5, seed=1)' in doc
    assert '"__set__" and "__getattr__()" method' in doc
