"""A Conv1D network tells sine, square and sawtooth waves apart, at any phase.

Run: ``python examples/conv1d_signals.py``

Each signal is 64 samples of one wave shape (0 sine, 1 square, 2 sawtooth) with a
random number of cycles (2 to 6), a random phase, a random amplitude (0.5 to 1.5)
and Gaussian noise (standard deviation 0.3). What tells the shapes apart is local
(a jump, a ramp, a rounded top) and can sit anywhere in the window: what a
convolution finds, since it slides the same filters along the whole signal, and a
global average pool then asks "how much of it is there" wherever it was::

    Conv1D(8, 5, same, relu)    (64, 8)     48 weights
    MaxPooling1D(2)             (32, 8)
    Conv1D(16, 5, same, relu)   (32, 16)   656
    GlobalAveragePooling1D      (16,)
    Dense(3, softmax)                       51      755 in all

Trained with Adam (learning rate 0.003) for 20 epochs in batches of 32 on 2000
signals, it classifies 96.9 % of 1000 new signals correctly, measured here (about
2 s on one core). A Dense network with three times the weights (Flatten -
Dense(32, relu) - Dense(3), 2,179 weights), trained the same way, gets 74.3 %: it
has to learn each shape at every phase separately.
"""

from __future__ import annotations

import time

import numpy as np

from glassnet.layers import (
    Conv1D,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    Input,
    MaxPooling1D,
)
from glassnet.models import Sequential
from glassnet.optimizers import Adam

STEPS = 64
EPOCHS = 20
SHAPES = ("sine", "square", "sawtooth")


def signals(
    n: int, steps: int = STEPS, noise: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy waves shaped (n, steps, 1) float32, and their shapes 0, 1, 2."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, len(SHAPES), n)
    cycles = rng.uniform(2, 6, (n, 1))
    phase = rng.uniform(0, 1, (n, 1))
    u = (cycles * np.arange(steps) / steps + phase) % 1.0  # where in its cycle, [0, 1)
    waves = np.select(
        [label[:, None] == 0, label[:, None] == 1],
        [np.sin(2 * np.pi * u), np.where(u < 0.5, 1.0, -1.0)],
        default=2 * u - 1,  # sawtooth: a ramp from -1 to 1, then a drop
    )
    amplitude = rng.uniform(0.5, 1.5, (n, 1))
    x = amplitude * waves + noise * rng.standard_normal((n, steps))
    return x[..., np.newaxis].astype(np.float32), label


def build_conv1d(seed: int = 0) -> Sequential:
    """Two convolutions, a max-pool between them, a global average pool, softmax."""
    return Sequential(
        [
            Input((STEPS, 1)),
            Conv1D(8, 5, padding="same", activation="relu"),
            MaxPooling1D(2),
            Conv1D(16, 5, padding="same", activation="relu"),
            GlobalAveragePooling1D(),
            Dense(3, activation="softmax"),
        ],
        seed=seed,
    )


def build_dense(seed: int = 0) -> Sequential:
    """The comparison: every sample into 32 relu units, then softmax."""
    return Sequential(
        [
            Input((STEPS, 1)),
            Flatten(),
            Dense(32, activation="relu"),
            Dense(3, activation="softmax"),
        ],
        seed=seed,
    )


def accuracy(model: Sequential, epochs: int = EPOCHS) -> float:
    """Train on 2000 signals (seed 1), return the accuracy on 1000 new ones (seed 2)."""
    x, y = signals(2000, seed=1)
    x_new, y_new = signals(1000, seed=2)
    model.compile(
        optimizer=Adam(learning_rate=0.003),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return float(model.evaluate(x_new, y_new, verbose=0)[1])


def main(epochs: int = EPOCHS) -> dict[str, float]:
    """Train both networks; print their accuracy on new signals."""
    start = time.perf_counter()
    results = {
        "conv1d": accuracy(build_conv1d(), epochs),
        "dense": accuracy(build_dense(), epochs),
    }
    print(
        f"Conv1D ({build_conv1d().count_params():,} weights): accuracy on new "
        f"signals {results['conv1d']:.2%}"
    )
    print(
        f"Dense ({build_dense().count_params():,} weights): accuracy on new "
        f"signals {results['dense']:.2%}  ({time.perf_counter() - start:.1f} s)"
    )
    return results


if __name__ == "__main__":
    main()
