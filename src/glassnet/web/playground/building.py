"""From a playground configuration to a compiled glassnet model and its targets.

The output follows the problem and the loss, as the Playground and the seed
tutorials do it: a binary classifier trained on the squared error has a ``tanh``
output and targets -1 and 1 (the Playground's choice); with cross-entropy it has
a ``sigmoid`` output and targets 0 and 1; more classes get a ``softmax`` over one
unit per class (sparse categorical cross-entropy, or the squared error against
one-hot rows); a regression a linear output. Regularization (L1 or L2) applies to
every kernel, dropout after every hidden layer.

>>> from glassnet.web.playground.config import default_config
>>> plan = Plan(default_config(seed=0), n_inputs=2, n_classes=2)
>>> plan.output_activation, plan.loss, plan.task
('tanh', 'mse', 'binary')
>>> [layer.name for layer in plan.build().layers]
['hidden_1', 'hidden_2', 'output']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.layers import Dense, Dropout, Input
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adam
from glassnet.regularizers import L1, L2

__all__ = ["Plan"]


class Plan:
    """What a configuration means for the model: layers, output, loss, targets.

    ``n_classes`` is 0 for a regression.
    """

    def __init__(self, config: dict[str, Any], n_inputs: int, n_classes: int) -> None:
        self.config = config
        self.n_inputs = n_inputs
        self.n_classes = n_classes
        cross_entropy = config["loss"] == "cross_entropy"
        if n_classes == 0:
            self.task, self.units, self.output_activation = "regression", 1, "linear"
            self.loss = "mse"
        elif n_classes == 2:
            self.task, self.units = "binary", 1
            self.output_activation = "sigmoid" if cross_entropy else "tanh"
            self.loss = "binary_crossentropy" if cross_entropy else "mse"
        else:
            self.task, self.units, self.output_activation = (
                "multiclass",
                n_classes,
                "softmax",
            )
            self.loss = "sparse_categorical_crossentropy" if cross_entropy else "mse"

    def hidden_activations(self) -> list[str]:
        """Each hidden layer's activation: its own choice, else the global one."""
        default = self.config["activation"]
        return [name or default for name in self.config["layer_activations"]]

    def regularizer(self) -> Any:
        rate = self.config["regularization_rate"]
        kind = self.config["regularization"]
        if kind == "none" or rate == 0:
            return None
        return L1(rate) if kind == "L1" else L2(rate)

    def optimizer(self) -> Any:
        rate = self.config["learning_rate"]
        kind = self.config["optimizer"]
        if kind == "adam":
            return Adam(learning_rate=rate)
        return SGD(learning_rate=rate, momentum=0.9 if kind == "momentum" else 0.0)

    def build(self) -> Sequential:
        """The compiled model, its weights drawn from ``config["seed"]``."""
        layers: list[Any] = [Input((self.n_inputs,))]
        # names of their own: the page shows "hidden_1", not the session's "dense_18"
        for k, (units, activation) in enumerate(
            zip(self.config["hidden"], self.hidden_activations(), strict=True), start=1
        ):
            penalty = self.regularizer()
            layers.append(
                Dense(units, activation, kernel_regularizer=penalty, name=f"hidden_{k}")
            )
            if self.config["dropout"] > 0:
                layers.append(Dropout(self.config["dropout"], name=f"dropout_{k}"))
        layers.append(
            Dense(
                self.units,
                activation=self.output_activation,
                kernel_regularizer=self.regularizer(),
                name="output",
            )
        )
        model = Sequential(layers, name="playground", seed=self.config["seed"])
        model.compile(loss=self.loss, optimizer=self.optimizer())
        return model

    def targets(self, labels: Any) -> Any:
        """What the loss compares the outputs with, for these labels."""
        if self.task == "regression":
            return np.asarray(labels, dtype=np.float32).reshape(-1, 1)
        labels = np.asarray(labels, dtype=np.int64)
        if self.task == "binary":
            if self.loss == "mse":
                return (2.0 * labels - 1.0).astype(np.float32).reshape(-1, 1)
            return labels.astype(np.float32).reshape(-1, 1)
        if self.loss == "mse":
            return np.eye(self.n_classes, dtype=np.float32)[labels]
        return labels

    def predicted_classes(self, outputs: Any) -> Any:
        """Class indices from outputs (binary: above 0 for tanh, 0.5 for sigmoid)."""
        if self.task == "binary":
            threshold = 0.0 if self.output_activation == "tanh" else 0.5
            return (outputs[:, 0] > threshold).astype(np.int64)
        return outputs.argmax(axis=1)
