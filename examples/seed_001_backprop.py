"""seeds/001: backpropagation by the chain rule, then SGD on a second table.

Run: ``python examples/seed_001_backprop.py``

With every weight 1 and every bias 0, one sample x = [-2, -1] with label 1 gives
h1 = h2 = 0.0474, o1 = 0.524 and dL/dw1 = 0.0214695..., which the model's own
backward pass computes below. The tutorial's copied code had bugs (a feedforward that
returned nothing, updates with the wrong partial derivatives); glassnet's layers
compute every partial derivative from the chain rule in one place, so the same
network then trains correctly on the tutorial's second table.
"""

from __future__ import annotations

import numpy as np

from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD

TABLE = np.array([[-2, 5], [-5, -2], [-23, -11], [30, 8]])
LABELS = np.array([[1], [1], [0], [0]])


def chain_rule_example() -> dict[str, float]:
    """Forward and backward for the tutorial's sample; returns the named quantities."""
    model = Sequential(dtype="float64")
    model.add(Dense(2, activation="sigmoid", input_dim=2))  # w1..w4, b1, b2
    model.add(Dense(1, activation="sigmoid"))  # w5, w6, b3
    model.set_weights([np.ones((2, 2)), np.zeros(2), np.ones((2, 1)), np.zeros(1)])
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
    x, y = np.array([[-2.0, -1.0]]), np.array([[1.0]])
    y_pred = model.forward(x, keep_cache=True)  # keep what backward needs
    # dL/dy_pred = -2 (y - y_pred) for one sample and one output: the mse gradient.
    model.backward(model.loss.backward(y, y_pred))
    hidden = model.layers[0]
    return {
        "h1": float(hidden.output_activation.forward(hidden.logits)[0, 0]),
        "o1": float(y_pred[0, 0]),
        "loss": float(model.loss.forward(y, y_pred)),
        "dL/dw1": float(hidden.grads["W"][0, 0]),  # w1 joins x1 to h1
    }


def train_on_second_table(seed: int = 0) -> Sequential:
    """Per-sample SGD (learning rate 0.1, 1000 epochs) on the second table."""
    model = Sequential(seed=seed, dtype="float64")
    model.add(
        Dense(2, activation="sigmoid", input_dim=2, kernel_initializer="random_normal")
    )
    model.add(Dense(1, activation="sigmoid", kernel_initializer="random_normal"))
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse", metrics=["accuracy"])
    model.fit(TABLE, LABELS, batch_size=1, epochs=1000, verbose=0)
    return model


def main() -> None:
    for name, value in chain_rule_example().items():
        print(f"{name:>6} = {value:.7f}")
    model = train_on_second_table()
    print("predictions:", model.predict(TABLE, verbose=0).ravel().round(3))
    print(
        "classes:    ", model.predict_classes(TABLE).ravel(), "labels:", LABELS.ravel()
    )


if __name__ == "__main__":
    main()
