"""The dense workloads of bench_train.py: their description, data and network.

Everything here is made the same way in the driver and in every worker: the driver
writes each workload's data and glassnet's initial weights once (``save_workload``)
and every peer's process loads them, so each peer trains the same network from the
same weights on the same data.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

SEED = 0


@dataclass
class Workload:
    """One benchmark problem; every peer process rebuilds it from this description."""

    name: str
    units: list[int]  # layer widths, input first
    hidden: str  # "sigmoid" or "relu"
    loss: str  # "mse" (sigmoid output) or "softmax_ce"
    optimizer: str  # "sgd" or "adam"
    learning_rate: float
    momentum: float
    batch_size: int
    samples: int  # size of the data set
    epochs_per_chunk: int  # whole-epoch chunks when > 0 ...
    steps_per_chunk: int  # ... else one pass over a slice of this many batches

    @property
    def chunk_samples(self) -> int:
        if self.epochs_per_chunk:
            return self.epochs_per_chunk * self.samples
        return self.steps_per_chunk * self.batch_size

    def chunk(self, k: int) -> tuple[int, int, int]:
        """``(start, stop, epochs)``: chunk k trains that slice for that many epochs."""
        if self.epochs_per_chunk:
            return 0, self.samples, self.epochs_per_chunk
        size = self.chunk_samples
        start = (k % (self.samples // size)) * size
        return start, start + size, 1


def make_workloads(quick: bool) -> list[Workload]:
    return [
        Workload("tiny", [2, 2, 1], "sigmoid", "mse", "sgd", 0.1, 0.0, 1, 4,
                 100 if quick else 400, 0),
        Workload("small", [64, 128, 64, 10], "relu", "softmax_ce", "sgd", 0.01, 0.9,
                 32, 1797, 1 if quick else 3, 0),
        Workload("medium", [784, 256, 128, 10], "relu", "softmax_ce", "adam", 1e-3,
                 0.0, 128, 2048 if quick else 60_000, 0, 4 if quick else 100),
        Workload("wide", [784, 1024, 1024, 10], "relu", "softmax_ce", "adam", 1e-3,
                 0.0, 256, 1024 if quick else 20_000, 0, 2 if quick else 10),
    ]  # fmt: skip


# -- data ----------------------------------------------------------------------------
def mnist_like(n: int, seed: int = SEED) -> tuple[Any, Any]:
    """``n`` synthetic 28x28 images of ten classes, float32 in [0, 1], and labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    t = np.linspace(0, 1, 24, dtype=np.float32)[:, None, None]
    styles = np.zeros((30, 28, 28), np.float32)  # three stroke styles per class
    for style in styles:
        for _ in range(3):
            x0, y0, x1, y1 = rng.uniform(7, 21, 4)
            d2 = ((xx - x0 - (x1 - x0) * t) ** 2 + (yy - y0 - (y1 - y0) * t) ** 2).min(
                0
            )
            np.maximum(style, np.exp(-d2 / 2.0), out=style)
    padded = np.pad(styles, ((0, 0), (2, 2), (2, 2)))
    labels = rng.integers(0, 10, n)
    style_of = labels * 3 + rng.integers(0, 3, n)
    shift = rng.integers(0, 5, (n, 2))
    x = np.empty((n, 784), np.float32)
    for start in range(0, n, 5000):  # in blocks: no full-size temporaries
        stop = min(n, start + 5000)
        images = np.empty((stop - start, 28, 28), np.float32)
        for dy in range(5):
            for dx in range(5):
                rows = np.flatnonzero((shift[start:stop] == (dy, dx)).all(axis=1))
                images[rows] = padded[
                    style_of[start + rows], dy : dy + 28, dx : dx + 28
                ]
        images *= rng.uniform(0.5, 1.0, (stop - start, 1, 1)).astype(np.float32)
        images += rng.standard_normal(images.shape, dtype=np.float32) * 0.3
        np.clip(images, 0.0, 1.0, out=images)
        x[start:stop] = images.reshape(stop - start, 784)
    return x, labels.astype(np.int64)


def make_data(w: Workload) -> tuple[Any, Any]:
    """float32 ``x``; float32 (n, 1) targets for mse, int64 labels otherwise."""
    import numpy as np

    if w.name == "tiny":
        x = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float32)
        return x, np.array([[1], [0], [0], [1]], dtype=np.float32)
    if w.name == "small":
        from sklearn.datasets import load_digits

        digits = load_digits()
        return (digits.data / 16).astype(np.float32), digits.target.astype(np.int64)
    return mnist_like(w.samples)


def build_glassnet(w: Workload) -> Any:
    from glassnet.initializers import RandomNormal
    from glassnet.layers import Dense
    from glassnet.models import Sequential
    from glassnet.optimizers import SGD, Adam

    model = Sequential(seed=SEED, dtype="float32")
    for i, units in enumerate(w.units[1:]):
        last = i == len(w.units) - 2
        output = "sigmoid" if w.loss == "mse" else "softmax"
        if w.hidden == "sigmoid":  # seeds/000 draws every weight and bias from N(0, 1)
            init: dict[str, Any] = {
                "kernel_initializer": RandomNormal(stddev=1.0),
                "bias_initializer": RandomNormal(stddev=1.0),
            }
        else:
            init = {"kernel_initializer": "he_uniform"}
        first = {"input_dim": w.units[0]} if i == 0 else {}
        model.add(
            Dense(units, activation=output if last else w.hidden, **init, **first)
        )
    if w.optimizer == "sgd":
        optimizer: Any = SGD(learning_rate=w.learning_rate, momentum=w.momentum)
    else:
        optimizer = Adam(learning_rate=w.learning_rate, epsilon=1e-7)
    loss = "mse" if w.loss == "mse" else "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizer, loss=loss)
    return model


def save_workload(w: Workload, folder: str) -> str:
    """Make the data and glassnet's initial weights once; every worker loads them."""
    import numpy as np

    x, y = make_data(w)
    weights = build_glassnet(w).get_weights()
    path = os.path.join(folder, f"{w.name}.npz")
    arrays = {f"w{i}": weight for i, weight in enumerate(weights)}
    np.savez(path, x=x, y=y, workload=json.dumps(asdict(w)), **arrays)
    return path
