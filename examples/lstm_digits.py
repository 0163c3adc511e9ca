"""An LSTM reads each handwritten digit row by row, top to bottom, and names it.

Run: ``python examples/lstm_digits.py``

``digits(sequences=True)`` gives the 1797 scikit-learn digits as sequences of 8
steps: step t is pixel row t, 8 features (its 8 pixels). An LSTM(32) reads the
rows one after the other, carrying what it has seen so far in its hidden and cell
states, and a softmax layer names the digit from its last hidden state::

    LSTM(32)            (32,)      8 x 128 + 32 x 128 + 128 = 5,248 weights
    Dense(10, softmax)  (10,)      32 x 10 + 10 = 330             5,578 in all

Trained with Adam (learning rate 0.01) for 30 epochs in batches of 32 on the same
five random splits of 1348 training and 449 held-out images as
``examples/cnn_digits.py`` (seed = split), held-out accuracy measured here (about
3 s a split on one core)::

    split   LSTM
    0       98.00 %
    1       97.10 %
    2       97.55 %
    3       98.44 %
    4       98.22 %
    mean    97.86 %

between the Dense network of ``cnn_digits.py`` (97.46 %) and its CNN (98.26 %),
from a network that never sees the image whole.
``glassnet.explain.recurrent_step(model, x)`` shows one of its steps gate by gate,
``glassnet.explain.bptt`` the backward pass through the 8 rows, and
``glassnet.plot.plot_hidden_states(model, x)`` its states row after row.
"""

from __future__ import annotations

import time

import numpy as np

from glassnet.datasets import digits
from glassnet.layers import LSTM, Dense, Input
from glassnet.models import Sequential
from glassnet.optimizers import Adam

UNITS = 32
EPOCHS = 30
SPLITS = 5


def load_rows() -> tuple[np.ndarray, np.ndarray]:
    """The digits as (1797, 8, 8) float32 row sequences scaled to [0, 1], and labels."""
    x, y = digits(sequences=True)
    return (x / 16.0).astype(np.float32), y


def split(n: int, seed: int, held_out: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a random training / held-out split (``cnn_digits.py``'s)."""
    order = np.random.default_rng(seed).permutation(n)
    cut = n - round(n * held_out)
    return order[:cut], order[cut:]


def build(seed: int = 0, units: int = UNITS) -> Sequential:
    """LSTM(units) over the 8 rows, then a softmax over the 10 digits."""
    return Sequential(
        [
            Input((8, 8)),
            LSTM(units, name="lstm"),
            Dense(10, activation="softmax", name="digit"),
        ],
        seed=seed,
    )


def held_out_accuracy(seed: int, epochs: int = EPOCHS) -> float:
    """Train on split ``seed`` and return the held-out accuracy."""
    x, y = load_rows()
    train, test = split(len(x), seed)
    model = build(seed)
    model.compile(
        optimizer=Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x[train], y[train], epochs=epochs, batch_size=32, verbose=0)
    return float(model.evaluate(x[test], y[test], verbose=0)[1])


def main(splits: int = SPLITS, epochs: int = EPOCHS) -> list[float]:
    """Train on splits 0, 1, ...; print each split's held-out accuracy and the mean."""
    print(
        f"LSTM({UNITS}) over 8 rows of 8 pixels: {build().count_params():,} weights, "
        f"{epochs} epochs on {splits} splits of the digits"
    )
    start = time.perf_counter()
    accuracies = []
    print(f"{'split':<8}{'LSTM':>9}")
    for seed in range(splits):
        accuracies.append(held_out_accuracy(seed, epochs))
        print(f"{seed:<8}{accuracies[-1]:>9.2%}")
    print(
        f"held-out accuracy: {np.mean(accuracies):.2%} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return accuracies


if __name__ == "__main__":
    main()
