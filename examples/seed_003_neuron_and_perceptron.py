"""seeds/003: the perceptron learning rule, and a neuron with random weights.

Run: ``python examples/seed_003_neuron_and_perceptron.py``

The perceptron rule changes the weights only on mistakes,
``w += learning_rate * (target - prediction) * x``, epoch after epoch, until every
point is classified; on data that no line separates (XOR) it never finishes.
"""

from __future__ import annotations

import warnings

import numpy as np

from glassnet import Neuron, Perceptron

GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def perceptron_on(labels: list[int], seed: int = 0) -> Perceptron:
    """Fit a default perceptron to the 2-input truth table with ``labels``."""
    return Perceptron(seed=seed).fit(GATE_INPUTS, labels)


def random_neuron(seed: int = 0) -> tuple[Neuron, float]:
    """seeds/003's Neuron(3): random normal weights, zero bias, sigmoid."""
    neuron = Neuron.random(3, seed=seed)
    return neuron, neuron.forward([0.5, -1.0, 2.0])


def main() -> None:
    for gate, labels in (("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1])):
        p = perceptron_on(labels)
        print(
            f"{gate}: updates per epoch {p.updates_per_epoch_}, "
            f"weights {p.weights_}, bias {p.bias_}, predictions {p.predict(GATE_INPUTS)}"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = perceptron_on([0, 1, 1, 0])
    print(
        "XOR:",
        caught[0].message if caught else "converged?!",
        "converged_ =",
        p.converged_,
    )
    neuron, output = random_neuron()
    print(
        "Inputs:",
        [0.5, -1.0, 2.0],
        "weights:",
        neuron.weights.round(4),
        "Output:",
        output,
    )


if __name__ == "__main__":
    main()
