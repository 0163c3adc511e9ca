"""The training step's shortcuts give exactly the numbers of the plain code they replace.

Each shortcut (issue 17: per-step overhead on small networks) is checked bit for bit
against the computation it stands for: the epoch's logs, the whole-epoch shuffle of
small data, the one-hot rows read from an identity matrix, the optimizer's flat state
kept from one fit to the next, and Dense's weight gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet.losses.probabilistic as probabilistic
import glassnet.training_loops as training_loops
from glassnet.layers import Dense
from glassnet.losses import SparseCategoricalCrossentropy
from glassnet.models import Sequential
from glassnet.optimizers import SGD
from glassnet.training import compute_logs, make_epoch_logs, make_train_step


def _classifier(seed: int = 0, **compile_args: object) -> Sequential:
    model = Sequential(
        [Dense(8, activation="relu", input_dim=4), Dense(3, activation="softmax")],
        seed=seed,
    )
    compile_args.setdefault("optimizer", "sgd")
    model.compile(loss="sparse_categorical_crossentropy", **compile_args)
    return model


def _data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize(
    "compile_args",
    [{}, {"metrics": ["accuracy"]}, {"weighted_metrics": ["accuracy"]}],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_epoch_logs_equal_compute_logs(compile_args: dict, weighted: bool) -> None:
    model = _classifier(**compile_args)
    x, y = _data()
    model.build((None, 4))
    make_train_step(model)  # sets the model's train penalties, as fit does
    p = model.predict(x, verbose=0)
    w = np.linspace(0.5, 2.0, len(x)).astype(np.float32) if weighted else None
    expected = compute_logs(model, y, p, training=True, sample_weight=w)
    assert make_epoch_logs(model)(y, p, w) == expected


def test_epoch_logs_include_the_penalties() -> None:
    model = Sequential(
        [Dense(2, input_dim=3, kernel_regularizer="l2"), Dense(1)], seed=0
    )
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 1))
    model.fit(x, y, epochs=1, batch_size=2, verbose=0)  # records the penalties
    p = model.predict(x, verbose=0)
    logs = make_epoch_logs(model)(y, p)
    assert logs == compute_logs(model, y, p, training=True)
    assert logs["loss"] > float(np.mean(p**2))  # the penalty is in


def _fit_weights(monkeypatch: pytest.MonkeyPatch, whole_bytes: int) -> list:
    monkeypatch.setattr(training_loops, "_SHUFFLED_WHOLE_BYTES", whole_bytes)
    model = _classifier(seed=3, optimizer="sgd")
    x, y = _data(37)
    history = model.fit(x, y, batch_size=5, epochs=3, verbose=0)
    return [*model.get_weights(), history.history["loss"]]


def test_whole_epoch_shuffle_equals_batch_gathering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x, _ = _data(37)
    # the default shuffles this data whole each epoch
    assert x.nbytes <= training_loops._SHUFFLED_WHOLE_BYTES
    whole = _fit_weights(monkeypatch, 1 << 16)
    gathered = _fit_weights(monkeypatch, 0)  # every batch gathered from x
    for a, b in zip(whole[:-1], gathered[:-1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert whole[-1] == gathered[-1]


def test_whole_epoch_shuffle_with_several_inputs_and_weights() -> None:
    from glassnet.layers import Concatenate, Input
    from glassnet.models import Model

    a, b = Input((2,)), Input((3,))
    out = Dense(1)(Concatenate()([a, b]))
    model = Model([a, b], out)
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(9, 2)), rng.normal(size=(9, 3))
    y, w = rng.normal(size=(9, 1)), rng.uniform(0.5, 1.5, 9)
    history = model.fit([xa, xb], y, sample_weight=w, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def _reference_logits_gradient(labels: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The former code: copy p, subtract 1 at each row's label, divide by n."""
    grad = np.array(p)
    rows = grad.reshape(-1, grad.shape[-1])
    rows[np.arange(len(rows)), labels.reshape(-1)] -= 1
    grad /= len(rows)
    return grad


@pytest.mark.parametrize("identity_max", [1024, 0])  # 0: zeros and a write instead
@pytest.mark.parametrize("shape", [(32, 10), (4, 5, 7), (1, 2)])
def test_sparse_logits_gradient_bit_identical(
    monkeypatch: pytest.MonkeyPatch, identity_max: int, shape: tuple[int, ...]
) -> None:
    monkeypatch.setattr(probabilistic, "_IDENTITY_MAX", identity_max)
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        z = rng.normal(size=shape).astype(dtype)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
        labels = rng.integers(0, shape[-1], shape[:-1])
        expected = _reference_logits_gradient(labels, p)
        loss = SparseCategoricalCrossentropy()
        got = loss.logits_gradient(labels, z, p)
        assert got.dtype == p.dtype and got.shape == p.shape
        np.testing.assert_array_equal(got, expected)
        assert np.array_equal(np.signbit(got), np.signbit(expected))
        # labels with a trailing axis of 1, as fit accepts them
        got = loss.logits_gradient(labels[..., None], z, p)
        np.testing.assert_array_equal(got, expected)


def test_one_hot_rows_are_fresh_arrays() -> None:
    p = np.zeros((3, 4), np.float32)
    t = probabilistic._one_hot(np.array([0, 3, 3]), p)
    assert t.flags.writeable and t.dtype == np.float32
    t[0, 0] = 5.0  # writing to the result leaves the shared identity alone
    again = probabilistic._one_hot(np.array([0, 1, 2]), p)
    np.testing.assert_array_equal(again, np.eye(4, dtype=np.float32)[:3])
    with pytest.raises(IndexError):  # a label out of range, as before
        probabilistic._one_hot(np.array([0, 9, 1]), p)


def test_optimizer_state_kept_across_fits() -> None:
    model = _classifier(optimizer=SGD(0.1, momentum=0.9))
    x, y = _data()
    model.fit(x, y, batch_size=8, verbose=0)
    flat = model.flat
    assert flat is not None and flat.trainable_params is flat.trainable_params
    velocity = model.optimizer.state[model.layers[0].name + ".W"]["v"]
    model.fit(x, y, batch_size=8, verbose=0)
    # the same flat state: the second fit did not make (and copy) it again
    assert model.optimizer.state[model.layers[0].name + ".W"]["v"] is velocity


def test_dense_gradients_on_sequences_match_the_formula() -> None:
    # z = x @ W + b on (batch, steps, n_in): every (batch, step) position is a row
    layer = Dense(3)
    layer.build((5, 4), np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(1)
    x, dz = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))
    layer.forward(x, training=True)
    dx = layer.backward_from_logits(dz)
    np.testing.assert_allclose(
        layer.grads["W"], x.reshape(-1, 4).T @ dz.reshape(-1, 3), rtol=1e-12
    )
    np.testing.assert_array_equal(layer.grads["b"], dz.reshape(-1, 3).sum(axis=0))
    np.testing.assert_allclose(dx, dz @ layer.params["W"].T, rtol=1e-12)
    assert layer.backward_from_logits(dz, input_grad=False) is None
