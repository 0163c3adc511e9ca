"""``make demo``: a short tour of the seed networks in glassnet.

Run: ``python examples/demo.py``
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seed_000_neuron
import seed_001_backprop
import seed_002_keras_xor
import seed_003_neuron_and_perceptron
import seed_004_vectorized


def section(title: str) -> None:
    print(f"\n=== {title} ===")


def main() -> None:
    section("seeds/000: a neuron and a 2-2-1 network")
    print("neuron w=[0, 1], b=4 on [2, 3]:", seed_000_neuron.one_neuron())
    print("2-2-1 network on [2, 3]:       ", seed_000_neuron.feedforward_network())
    model, losses = seed_000_neuron.train_gender_network(verbose=False)
    print(f"gender network, per-sample SGD: loss {losses[0]:.3f} -> {losses[-1]:.4f}")
    print(
        f"Emily {model.predict(seed_000_neuron.EMILY, verbose=0)[0, 0]:.3f} (F), "
        f"Frank {model.predict(seed_000_neuron.FRANK, verbose=0)[0, 0]:.3f} (M)"
    )

    section("seeds/001: backpropagation by the chain rule")
    for name, value in seed_001_backprop.chain_rule_example().items():
        print(f"{name:>6} = {value:.7f}")

    section("seeds/002: the Keras XOR example (first 5 of 1500 epochs shown)")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    xor = seed_002_keras_xor.build(seed=1)
    xor.summary()
    xor.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
    xor.optimizer.learning_rate = 0.1
    xor.fit(x, y, epochs=5, verbose=1)
    xor.fit(x, y, epochs=1495, verbose=0)
    print(
        "predict_classes:",
        xor.predict_classes(x).ravel(),
        "predict:",
        xor.predict(x, verbose=0).ravel().round(3),
    )

    section("seeds/003: the perceptron rule")
    for gate, labels in (("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1])):
        p = seed_003_neuron_and_perceptron.perceptron_on(labels)
        print(
            f"{gate}: updates per epoch {p.updates_per_epoch_} -> "
            f"{p.predict(seed_003_neuron_and_perceptron.GATE_INPUTS)}"
        )

    section("seeds/004: a 3-4-1 network, full batch, bugs fixed")
    model, errors = seed_004_vectorized.train(iterations=20_000, verbose=False)
    print(f"mean absolute error: {errors[0]:.4f} -> {errors[-1]:.4f}")
    print("outputs:", model.predict(seed_004_vectorized.X, verbose=0).ravel().round(3))


if __name__ == "__main__":
    main()
