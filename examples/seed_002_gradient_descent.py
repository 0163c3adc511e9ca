"""seeds/002: batch, mini-batch and stochastic gradient descent are one loop.

Run: ``python examples/seed_002_gradient_descent.py``

The only difference is ``batch_size``: the whole data set (batch), a few samples
(mini-batch), or one sample (stochastic). Smaller batches make more, noisier updates
per epoch; larger batches make fewer, smoother ones. The same seed and the same
number of epochs make the three directly comparable.
"""

from __future__ import annotations

import time

import numpy as np

from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD


def two_moons(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles with a little noise."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(
        label[:, None] == 0,
        np.c_[np.cos(angle), np.sin(angle)],
        np.c_[1 - np.cos(angle), 0.5 - np.sin(angle)],
    )
    return x + rng.normal(scale=0.1, size=x.shape), label.reshape(-1, 1)


def compare(epochs: int = 100, seed: int = 0) -> dict[str, dict[str, float]]:
    """Train the same network three ways; returns loss, accuracy, updates, seconds."""
    x, y = two_moons()
    results = {}
    for mode, batch_size in (("batch", len(x)), ("mini-batch", 16), ("stochastic", 1)):
        model = Sequential(seed=seed)
        model.add(Dense(16, activation="tanh", input_dim=2))
        model.add(Dense(1, activation="sigmoid"))
        model.compile(
            optimizer=SGD(learning_rate=0.1),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
        results[mode] = {
            "loss": history.history["loss"][-1],
            "accuracy": history.history["accuracy"][-1],
            "updates": float(model.optimizer.iterations),
            "seconds": time.perf_counter() - start,
        }
    return results


def main() -> None:
    print(f"{'mode':<12}{'updates':>9}{'loss':>9}{'accuracy':>10}{'seconds':>9}")
    for mode, r in compare().items():
        print(
            f"{mode:<12}{r['updates']:>9.0f}{r['loss']:>9.4f}{r['accuracy']:>10.3f}"
            f"{r['seconds']:>9.2f}"
        )


if __name__ == "__main__":
    main()
