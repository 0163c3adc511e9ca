"""``fit(validation_freq=...)``: validate every n-th epoch or the epochs listed, as Keras.

Checked against Keras 3 (PyTorch backend) from the same initial weights: the same
history keys and values, the val_ values only at the validated epochs; and the
callbacks that watch a val_ value skip the other epochs (as Keras' do, which warn).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

from glassnet.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from glassnet.errors import InvalidArgumentError
from glassnet.layers import Dense
from glassnet.models import Sequential

RNG = np.random.default_rng(3)
X = RNG.random((40, 3), dtype=np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


def model() -> Sequential:
    net = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(1)], seed=0)
    net.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return net


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("freq", [2, [1, 4, 5]])
def test_history_matches_keras(freq: Any) -> None:
    keras = pytest.importorskip("keras")
    ours = model()
    theirs = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
         keras.layers.Dense(1)]
    )  # fmt: skip
    theirs.set_weights(ours.get_weights())
    theirs.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    kwargs = dict(epochs=5, batch_size=8, shuffle=False, verbose=0,
                  validation_split=0.25, validation_freq=freq)  # fmt: skip
    a, b = ours.fit(X, Y, **kwargs).history, theirs.fit(X, Y, **kwargs).history
    assert sorted(a) == sorted(b)
    for key in b:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-4, err_msg=key)
    validated = 2 if freq == 2 else 3
    assert len(a["val_loss"]) == len(a["val_mae"]) == validated


def test_monitors_skip_the_epochs_not_validated(tmp_path: Path) -> None:
    net = model()
    stop = EarlyStopping(patience=1, min_delta=10.0)  # nothing counts as better
    plateau = ReduceLROnPlateau(patience=1, min_delta=10.0, factor=0.5)
    template = str(tmp_path / "ckpt-{epoch}-{val_loss:.3f}.weights.h5")
    checkpoint = ModelCheckpoint(template, save_weights_only=True)
    history = net.fit(
        X, Y, epochs=6, batch_size=8, verbose=0, validation_data=(X, Y),
        validation_freq=3, callbacks=[stop, plateau, checkpoint],
    )  # fmt: skip
    # validated after epochs 3 and 6: the first sets the best, the second waits 1:
    # EarlyStopping(patience=1) stops there, ReduceLROnPlateau halves the rate once
    assert history.epoch == [0, 1, 2, 3, 4, 5] and stop.stopped_epoch == 5
    assert net.optimizer.learning_rate == pytest.approx(0.005)
    assert sorted(p.name.split("-")[1] for p in tmp_path.iterdir()) == ["3", "6"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, [], [0, 2], ["1"], "2", None])
def test_bad_values_are_refused_before_training(bad: Any) -> None:
    net = model()
    with pytest.raises(InvalidArgumentError, match="validation_freq"):
        net.fit(X, Y, epochs=2, verbose=0, validation_freq=bad)
    assert net.optimizer.iterations == 0
