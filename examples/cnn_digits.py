"""A small convolutional network beats a Dense network of its size on the digits.

Run: ``python examples/cnn_digits.py``

The scikit-learn digits are 1797 images of 8 x 8 pixels (``digits(images=True)``).
A Dense network sees 64 unrelated numbers; a convolution sees each pixel with its
neighbours and slides the same 3 x 3 filters over the whole image, so it learns a
stroke once wherever it appears. The two networks have about as many weights and
train the same way (Adam, learning rate 0.003, 40 epochs, batches of 32, the same
seed), on the same five random splits of 1348 training and 449 held-out images:

    CNN    Conv2D(8, 3, same, relu) - MaxPooling2D - Conv2D(16, 3, same, relu)
           - MaxPooling2D - Flatten - Dense(10, softmax)            1,898 weights
    Dense  Flatten - Dense(24, relu) - Dense(10, softmax)           1,810 weights

Held-out accuracy measured here (splits 0 to 4; about 6 s on one core)::

    split   CNN      Dense
    0       98.44 %  98.22 %
    1       97.77 %  97.33 %
    2       98.44 %  98.00 %
    3       98.89 %  98.22 %
    4       97.77 %  95.55 %
    mean    98.26 %  97.46 %

The CNN is ahead on every split, by 0.8 points on average (3.6 of the 449
images). ``model.summary(explain=True)`` shows where its weights and operations
go, ``glassnet.explain.convolution`` one of its convolutions as a matrix product,
and ``glassnet.plot.plot_filters`` / ``plot_feature_maps`` what it has learned.
"""

from __future__ import annotations

import time

import numpy as np

from glassnet.datasets import digits
from glassnet.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from glassnet.models import Sequential
from glassnet.optimizers import Adam

EPOCHS = 40
SPLITS = 5


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits as (1797, 8, 8, 1) float32 images scaled to [0, 1], and labels."""
    x, y = digits(images=True)
    return (x / 16.0).astype(np.float32), y


def split(n: int, seed: int, held_out: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a random training / held-out split (75 / 25 by default)."""
    order = np.random.default_rng(seed).permutation(n)
    cut = n - round(n * held_out)
    return order[:cut], order[cut:]


def build_cnn(seed: int = 0) -> Sequential:
    """Two 3 x 3 convolutions, each followed by a 2 x 2 max-pool, then softmax."""
    return Sequential(
        [
            Input((8, 8, 1)),
            Conv2D(8, 3, padding="same", activation="relu"),
            MaxPooling2D(),
            Conv2D(16, 3, padding="same", activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(10, activation="softmax"),
        ],
        seed=seed,
    )


def build_dense(seed: int = 0) -> Sequential:
    """A Dense network of about the CNN's size: 64 - 24 - 10."""
    return Sequential(
        [
            Input((8, 8, 1)),
            Flatten(),
            Dense(24, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        seed=seed,
    )


def held_out_accuracy(model: Sequential, seed: int, epochs: int = EPOCHS) -> float:
    """Train ``model`` on split ``seed`` and return its held-out accuracy."""
    x, y = load_digits()
    train, test = split(len(x), seed)
    model.compile(
        optimizer=Adam(learning_rate=0.003),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x[train], y[train], epochs=epochs, batch_size=32, verbose=0)
    return float(model.evaluate(x[test], y[test], verbose=0)[1])


def compare(splits: int = SPLITS, epochs: int = EPOCHS) -> dict[str, list[float]]:
    """Held-out accuracy of both networks on splits 0, 1, ... (seed = split)."""
    results: dict[str, list[float]] = {"cnn": [], "dense": []}
    for seed in range(splits):
        results["cnn"].append(held_out_accuracy(build_cnn(seed), seed, epochs))
        results["dense"].append(held_out_accuracy(build_dense(seed), seed, epochs))
    return results


def main(splits: int = SPLITS, epochs: int = EPOCHS) -> dict[str, list[float]]:
    """Train and compare both networks; print each split's accuracy and the means."""
    print(
        f"CNN: {build_cnn().count_params():,} weights; "
        f"Dense: {build_dense().count_params():,} weights; "
        f"{epochs} epochs on {splits} splits of the digits"
    )
    start = time.perf_counter()
    results = compare(splits, epochs)
    print(f"{'split':<8}{'CNN':>9}{'Dense':>9}")
    pairs = zip(results["cnn"], results["dense"], strict=True)
    for seed, (cnn, dense) in enumerate(pairs):
        print(f"{seed:<8}{cnn:>9.2%}{dense:>9.2%}")
    cnn_mean, dense_mean = np.mean(results["cnn"]), np.mean(results["dense"])
    print(f"{'mean':<8}{cnn_mean:>9.2%}{dense_mean:>9.2%}")
    print(
        f"held-out accuracy: CNN {cnn_mean:.2%}, Dense {dense_mean:.2%} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return results


if __name__ == "__main__":
    main()
