"""seeds/000: one neuron, a 2-2-1 network, and training it to tell people apart.

Run: ``python examples/seed_000_neuron.py``

1. A sigmoid neuron with w = [0, 1], b = 4 on x = [2, 3] outputs 0.9990889488055994.
2. A 2-2-1 network whose every neuron has w = [0, 1], b = 0 outputs 0.7216325609518421.
3. The same shape of network, trained by per-sample SGD on mean squared error
   (learning rate 0.1, 1000 epochs, random normal initial weights) on four people
   (weight - 135 lb, height - 66 in; 1 = female), then asked about Emily and Frank.
"""

from __future__ import annotations

import numpy as np

from glassnet import Neuron
from glassnet.callbacks import Callback
from glassnet.initializers import RandomNormal
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD

PEOPLE = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]])  # Alice, Bob, Charlie, Diana
FEMALE = np.array([[1], [0], [0], [1]])
EMILY, FRANK = np.array([[-7, -3]]), np.array([[20, 2]])


def one_neuron() -> float:
    """The tutorial's first neuron."""
    return Neuron(weights=[0, 1], bias=4).feedforward([2, 3])


def feedforward_network() -> float:
    """The 2-2-1 network of identical neurons, as a glassnet model in float64."""
    model = Sequential(dtype="float64")
    model.add(Dense(2, activation="sigmoid", input_dim=2))  # h1, h2
    model.add(Dense(1, activation="sigmoid"))  # o1
    # Each column of a kernel is one neuron's weights: every neuron has w = [0, 1].
    model.set_weights([[[0, 0], [1, 1]], [0, 0], [[0], [1]], [0]])
    return float(model.predict([[2, 3]], verbose=0)[0, 0])


class PrintLossEvery(Callback):
    """Print the loss every ``period`` epochs, as the tutorial's loop does."""

    def __init__(self, period: int) -> None:
        self.period = period

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if epoch % self.period == 0 and logs is not None:
            print(f"Epoch {epoch} loss: {logs['loss']:.3f}")


def train_gender_network(
    seed: int = 0, verbose: bool = True
) -> tuple[Sequential, list[float]]:
    """Per-sample SGD on MSE for 1000 epochs; returns the model and its loss curve."""
    normal = RandomNormal(mean=0.0, stddev=1.0)  # np.random.normal() in the tutorial
    model = Sequential(seed=seed, dtype="float64")
    model.add(
        Dense(
            2,
            activation="sigmoid",
            input_dim=2,
            kernel_initializer=normal,
            bias_initializer=normal,
        )
    )
    model.add(
        Dense(
            1, activation="sigmoid", kernel_initializer=normal, bias_initializer=normal
        )
    )
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
    callbacks = [PrintLossEvery(10)] if verbose else []
    # batch_size=1 and no shuffling: one update per person, in the tutorial's order.
    history = model.fit(
        PEOPLE,
        FEMALE,
        batch_size=1,
        epochs=1000,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return model, history.history["loss"]


def main() -> None:
    print("One neuron:", one_neuron())  # 0.9990889488055994
    print("2-2-1 network:", feedforward_network())  # 0.7216325609518421
    model, _ = train_gender_network()
    emily = model.predict(EMILY, verbose=0)[0, 0]
    frank = model.predict(FRANK, verbose=0)[0, 0]
    print(f"Emily: {emily:.3f}")  # close to 1: female
    print(f"Frank: {frank:.3f}")  # close to 0: male


if __name__ == "__main__":
    main()
