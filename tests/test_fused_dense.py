"""Dense's compiled bias and activation loops (layers/dense_fused.py) equal NumPy's.

Dense's NumPy code (``z += b``, ``maximum(z, 0)``; ``dy * (z > 0)``, ``dz.sum``;
sigmoid's ``1 / (1 + exp(-z))`` and ``dy * y * (1 - y)``, tanh's
``dy * (1 - y * y)``) is the reference; each test runs the same layer with fused
kernels on and off and compares the bytes, so signs of zero and NaNs count too.
Numba is in the ``test`` extra: the fused path must really run here.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import fused
from glassnet.layers import Dense, dense_fused
from glassnet.models import Sequential
from glassnet.optimizers import SGD
from glassnet.utils import clear_session


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bytes, signs of zero included; a NaN equals a NaN (its payload bits
    depend on which NaN an addition met first, which vector code may reorder)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    nan = np.isnan(a)
    return bool((nan == np.isnan(b)).all()) and a[~nan].tobytes() == b[~nan].tobytes()


def awkward(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Normal numbers with zeros of both signs, NaN and infinities mixed in."""
    a = rng.normal(size=shape).astype(dtype)
    flat = a.reshape(-1)
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, -0.0, 1e-40], dtype)
    picks = rng.choice(flat.size, size=min(flat.size, 3 * specials.size), replace=False)
    flat[picks] = np.resize(specials, picks.size)
    return a


def run_layer(fused_kernels: bool, x, bias, grad_y, dtype, activation="relu"):
    """(y, z, dx, dW, db) of one Dense(activation) forward and backward."""
    fused.use_fused_kernels(fused_kernels)
    layer = Dense(bias.size, activation=activation)
    layer.build(x.shape, np.random.default_rng(0), dtype)
    layer.params["b"][...] = bias
    with np.errstate(all="ignore"):  # inf - inf and NaN are part of the test
        y = layer.forward(x, training=True)
        dx = layer.backward(grad_y)
    z = layer.cached()[1]
    return y, z, dx, layer.grads["W"].copy(), layer.grads["b"].copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape", [(32, 64, 128), (1, 2, 3), (256, 20, 7), (4, 5, 6, 9)]
)
def test_fused_dense_relu_equals_numpy_bit_for_bit(shape, dtype, fused_on) -> None:
    rng = np.random.default_rng(sum(shape))
    *batch, n_in, units = shape
    x = rng.normal(size=(*batch, n_in)).astype(dtype)
    bias = awkward(rng, (units,), dtype)
    bias[:2] = [-50.0, 0.0][:units]  # a column that is never positive
    grad_y = awkward(rng, (*batch, units), dtype)
    grad_y[..., 0] = -np.abs(grad_y[..., 0])  # -dy * 0 = -0 in every row
    with_kernels = run_layer(True, x, bias, grad_y, dtype)
    with_numpy = run_layer(False, x, bias, grad_y, dtype)
    for name, a, b in zip(
        "y z dx dW db".split(), with_kernels, with_numpy, strict=True
    ):
        assert same_bits(a, b), name


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape", [(32, 64, 128), (1, 2, 1), (1, 2, 3), (2, 3, 8), (4, 5, 6, 9)]
)
def test_fused_dense_squashing_equals_numpy_bit_for_bit(
    shape, dtype, activation, fused_on
) -> None:
    rng = np.random.default_rng(sum(shape) + len(activation))
    *batch, n_in, units = shape
    x = rng.normal(scale=4.0, size=(*batch, n_in)).astype(dtype)
    bias = awkward(rng, (units,), dtype)
    # saturated outputs (exp overflows, sigmoid 0 or 1) and values near the middle
    bias[:3] = [-800.0, 800.0, 1e-8][:units]
    grad_y = awkward(rng, (*batch, units), dtype)
    with_kernels = run_layer(True, x, bias, grad_y, dtype, activation)
    with_numpy = run_layer(False, x, bias, grad_y, dtype, activation)
    for name, a, b in zip(
        "y z dx dW db".split(), with_kernels, with_numpy, strict=True
    ):
        assert same_bits(a, b), name


def spy_on(monkeypatch, names) -> list[tuple[str, bool]]:
    """Record, for each call Dense makes of these dense_fused functions, whether
    the kernel ran (an answer other than None)."""
    calls: list[tuple[str, bool]] = []
    for name in names:
        real = getattr(dense_fused, name)

        def spy(*args, real=real, name=name):
            out = real(*args)
            calls.append((name, out is not None))
            return out

        monkeypatch.setattr("glassnet.layers.dense." + name, spy)
    return calls


def train_one_batch(activation: str, units: int) -> None:
    layer = Dense(units, activation=activation)
    layer.build((2, 4), np.random.default_rng(0))
    layer.forward(np.ones((2, 4), np.float32), training=True)
    layer.backward(np.ones((2, units), np.float32))


def test_the_squashing_kernels_really_run(fused_on, monkeypatch) -> None:
    calls = spy_on(monkeypatch, ("bias_sigmoid", "squashing_backward"))
    for activation, units in (("sigmoid", 8), ("tanh", 8), ("sigmoid", 3)):
        train_one_batch(activation, units)
    # tanh's forward is z += b and NumPy's tanh: two calls, nothing to fuse; and
    # below 16 values NumPy's five calls for the sigmoid are the quicker
    assert calls == [
        ("bias_sigmoid", True),
        ("squashing_backward", True),
        ("squashing_backward", True),
        ("bias_sigmoid", False),
        ("squashing_backward", True),
    ]


def test_the_kernels_really_run(fused_on, monkeypatch) -> None:
    calls = spy_on(monkeypatch, ("bias_relu", "relu_backward"))
    train_one_batch("relu", 3)
    assert calls == [("bias_relu", True), ("relu_backward", True)]


def test_arrays_the_kernels_do_not_take_fall_back_to_numpy(fused_on) -> None:
    z = np.ones((4, 3))
    assert dense_fused.bias_relu(z, np.ones(3, np.float32)) is None  # mixed dtypes
    assert dense_fused.bias_relu(np.ones((6, 3))[::2], np.ones(3)) is None  # strided
    assert dense_fused.bias_relu(np.ones(3), np.ones(3)) is None  # one axis
    grad_b = np.full(3, 7.0)
    assert dense_fused.relu_backward(z, np.ones((1, 3)), grad_b) is None  # broadcast
    assert dense_fused.relu_backward(z, np.ones((4, 3), np.float32), grad_b) is None
    assert dense_fused.relu_backward(np.ones((8, 3))[::2], z, grad_b) is None
    assert (grad_b == 7.0).all()  # untouched when it does not run
    # A strided gradient is read where it lies (Numba takes any layout):
    strided = np.arange(24.0).reshape(8, 3)[::2] - 5.0
    z_mixed = np.array([[1.0, -1.0, 0.0]] * 4)
    grad_z = dense_fused.relu_backward(z_mixed, strided, grad_b)
    expected = strided * (z_mixed > 0)
    assert same_bits(grad_z, expected) and same_bits(grad_b, expected.sum(axis=0))
    assert dense_fused.bias_sigmoid(z, np.ones(3, np.float32)) is None
    assert dense_fused.bias_sigmoid(np.ones((6, 3))[::2], np.ones(3)) is None
    assert dense_fused.squashing_backward("tanh", z, np.ones((1, 3)), grad_b) is None
    y = np.full((4, 3), 0.5)
    assert dense_fused.squashing_backward("sigmoid", y, z, grad_b[:2]) is None
    fused.use_fused_kernels(False)
    assert dense_fused.bias_relu(z, np.ones(3)) is None
    assert dense_fused.bias_sigmoid(z, np.ones(3)) is None
    assert dense_fused.squashing_backward("sigmoid", y, z, grad_b) is None
    assert (z == 1.0).all()


def test_a_frozen_layer_takes_the_numpy_path_and_fills_no_gradient(fused_on) -> None:
    layer = Dense(3, activation="relu")
    layer.build((2, 4), np.random.default_rng(0))
    layer.trainable = False
    layer.grads["b"][...] = 5.0
    layer.forward(np.ones((2, 4), np.float32), training=True)
    dx = layer.backward(np.ones((2, 3), np.float32))
    assert dx is not None and (layer.grads["b"] == 5.0).all()


@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh"])
def test_a_network_trains_the_same_with_and_without_kernels(hidden, fused_on) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(96, 8)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)

    def train(fused_kernels: bool) -> list[np.ndarray]:
        fused.use_fused_kernels(fused_kernels)
        clear_session()
        model = Sequential(
            [
                Dense(32, activation=hidden, input_dim=8),
                Dense(16, activation=hidden),
                Dense(2, activation="softmax"),
            ],
            seed=5,
        )
        model.compile(
            optimizer=SGD(learning_rate=0.05, momentum=0.9),
            loss="sparse_categorical_crossentropy",
        )
        model.fit(x, y, epochs=4, batch_size=16, verbose=0)
        return model.get_weights()

    for a, b in zip(train(True), train(False), strict=True):
        assert same_bits(a, b)
