"""Render the pictures in docs/images (used by the README and docs/explain.md).

Run: ``MPLBACKEND=Agg python docs/images/render_pictures.py`` (needs glassnet[plot]).
Every number comes from a fixed seed, so the pictures come out the same each time.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from PIL import Image  # matplotlib depends on Pillow

from glassnet import Input
from glassnet.datasets import blobs, circles, people_second_table, spirals, two_moons
from glassnet.layers import BatchNormalization, Concatenate, Dense
from glassnet.models import Model, Sequential
from glassnet.optimizers import SGD, Adam
from glassnet.plot import (
    plot_decision_boundary,
    plot_history,
    plot_model,
    plot_network,
)

HERE = Path(__file__).parent
DPI = 72  # small files: every picture stays well under 100 KB


def moons_model() -> tuple[Sequential, np.ndarray, np.ndarray]:
    """A 2-6-4-1 tanh network trained on two moons, with a validation split."""
    x, y = two_moons(240, noise=0.15, seed=0)
    model = Sequential(
        [
            Dense(6, activation="tanh", input_dim=2),
            Dense(4, activation="tanh"),
            Dense(1, activation="sigmoid"),
        ],
        seed=2,
    )
    model.compile(
        optimizer=Adam(learning_rate=0.01),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=60, batch_size=16, validation_split=0.25, verbose=0)
    return model, x, y


def seed_001_network() -> Sequential:
    """seeds/001's 2-2-1 sigmoid network after per-sample SGD on its table."""
    x, y = people_second_table()
    model = Sequential(seed=0, dtype="float64")
    model.add(
        Dense(2, activation="sigmoid", input_dim=2, kernel_initializer="random_normal")
    )
    model.add(Dense(1, activation="sigmoid", kernel_initializer="random_normal"))
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
    model.fit(x, y, batch_size=1, epochs=1000, verbose=0)
    return model


def two_heads_model() -> Model:
    """The README's functional model: a wide and a deep branch, merged, two outputs."""
    features = Input((4,), name="features")
    wide = Dense(8, activation="relu", name="wide")(features)
    deep = Dense(16, activation="relu", name="deep_1")(features)
    deep = Dense(8, activation="relu", name="deep_2")(deep)
    merged = BatchNormalization(name="norm")(Concatenate(name="merge")([wide, deep]))
    price = Dense(1, name="price")(merged)
    kind = Dense(3, activation="softmax", name="kind")(merged)
    return Model(features, [price, kind])


def datasets_figure() -> Figure:
    """The generated data sets of glassnet.datasets, side by side."""
    figure = Figure(figsize=(10, 2.8))
    sets = {
        "two_moons(300, noise=0.1)": two_moons(300, noise=0.1, seed=0),
        "circles(300, noise=0.05)": circles(300, noise=0.05, seed=0),
        "spirals(300, noise=0.02, n_classes=3)": spirals(
            300, noise=0.02, n_classes=3, seed=0
        ),
        "blobs(300, centers=4)": blobs(300, centers=4, seed=0),
    }
    for index, (title, (x, y)) in enumerate(sets.items(), start=1):
        axes = figure.add_subplot(1, 4, index)
        axes.scatter(x[:, 0], x[:, 1], c=y, s=8, cmap="tab10", vmin=0, vmax=9)
        axes.set_title(title, fontsize=9)
        axes.set_xticks([])
        axes.set_yticks([])
    figure.tight_layout()
    return figure


def save(figure: Figure, name: str) -> None:
    """Save as a PNG with a 128-colour palette: a quarter of the size, same look."""
    path = HERE / name
    figure.savefig(path, dpi=DPI)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(
            colors=128, method=Image.Quantize.FASTOCTREE
        )
    small.save(path, optimize=True)


def main() -> None:
    matplotlib.use("Agg")
    model, x, y = moons_model()
    assert model.history is not None
    save(plot_history(model.history), "history.png")
    boundary = plot_decision_boundary(model, x, y, neurons=True, resolution=80)
    save(boundary, "decision_boundary.png")
    save(plot_network(seed_001_network()), "network_seed_001.png")
    save(datasets_figure(), "datasets.png")
    save(plot_model(two_heads_model(), dpi=DPI), "plot_model.png")
    for path in sorted(HERE.glob("*.png")):
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
