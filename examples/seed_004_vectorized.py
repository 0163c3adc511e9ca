"""seeds/004: a small vectorized 3-4-1 network trained on the full batch.

Run: ``python examples/seed_004_vectorized.py``

Five samples of three features (the third is a constant 1 that plays the bias), labels
the XOR of the first two. Weights w0 (3x4) and w1 (4x1) start uniform in [-1, 1); the
network trains on the whole batch for 60,000 iterations and prints its error every
10,000.

The tutorial's code has two bugs, fixed here by glassnet's layers:
- its sigmoid derivative is ``x * (x - 1)``; the derivative at the output y is
  ``y * (1 - y)`` (the wrong sign climbs the loss instead of descending it);
- its hidden delta reuses the output error; the chain rule gives
  ``l1_delta = (l2_delta @ w1.T) * l1 * (1 - l1)``.
With them its printed error grew towards 1; here it falls towards 0.

The tutorial updates with ``w -= l.T @ delta`` on the error ``l2 - y``. Mean squared
error over 5 samples has gradient ``2 (l2 - y) / 5``, so a learning rate of 2.5 makes
glassnet's SGD step exactly the tutorial's (corrected) step.
"""

from __future__ import annotations

import numpy as np

from glassnet.callbacks import Callback
from glassnet.initializers import RandomUniform
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 1]])
Y = np.array([[0], [1], [1], [0], [0]])


class PrintErrorEvery(Callback):
    """Print the mean absolute error every ``period`` iterations."""

    def __init__(self, period: int) -> None:
        self.period = period

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if epoch % self.period == 0 and logs is not None:
            print(f"iteration {epoch:>6}: error {logs['mae']:.6f}")


def train(
    iterations: int = 60_000, seed: int = 0, verbose: bool = True
) -> tuple[Sequential, list[float]]:
    """Full-batch training; returns the model and its mean absolute error per epoch."""
    uniform = RandomUniform(minval=-1.0, maxval=1.0)  # np.random.random() * 2 - 1
    model = Sequential(seed=seed, dtype="float64")
    model.add(
        Dense(
            4,
            activation="sigmoid",
            use_bias=False,
            input_dim=3,
            kernel_initializer=uniform,
        )
    )  # w0
    model.add(
        Dense(1, activation="sigmoid", use_bias=False, kernel_initializer=uniform)
    )  # w1
    model.compile(optimizer=SGD(learning_rate=2.5), loss="mse", metrics=["mae"])
    history = model.fit(
        X,
        Y,
        batch_size=len(X),
        epochs=iterations,
        shuffle=False,
        verbose=0,
        callbacks=[PrintErrorEvery(10_000)] if verbose else [],
    )
    return model, history.history["mae"]


def main() -> None:
    model, _ = train()
    print(
        "outputs:", model.predict(X, verbose=0).ravel().round(4), "labels:", Y.ravel()
    )


if __name__ == "__main__":
    main()
