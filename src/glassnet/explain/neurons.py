"""A model seen as layers of neurons, with the names seeds/001 gives them.

A neuron computes a sum and applies an activation: ``out = f(w . inputs + b)``. In a
glassnet model that is one ``Dense`` layer, followed by any ``Activation`` layers
(Keras' ``Dense(10)`` then ``Activation("tanh")`` is one layer of ten tanh neurons) and
``Dropout`` layers (the identity outside training). :func:`neuron_layers` groups the
model's layers that way; :func:`neuron_names` names the neurons as the tutorial does:
inputs ``x1, x2, ...``, hidden neurons ``h1, h2, ...`` numbered on through every hidden
layer, outputs ``o1, o2, ...``. Weights are numbered neuron by neuron, as the tutorial
numbers them (``w1, w2`` into h1, ``w3, w4`` into h2, ``w5, w6`` into o1), and biases
``b1, b2, b3`` likewise.

>>> from glassnet.layers import Activation, Dense
>>> from glassnet.models import Sequential
>>> model = Sequential([Dense(2, activation="sigmoid", input_dim=2), Dense(1),
...                     Activation("sigmoid")])
>>> [(group.name, group.activation_name) for group in neuron_layers(model)]
[('dense', 'sigmoid'), ('dense_1 + activation', 'sigmoid')]
>>> neuron_names(neuron_layers(model), 2)
[['x1', 'x2'], ['h1', 'h2'], ['o1']]
>>> weight_names(neuron_layers(model))[1]
[['w5'], ['w6']]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet._typing import Array
from glassnet.activations import ActivationFunction, Linear, Softmax
from glassnet.errors import InvalidArgumentError
from glassnet.layers import Activation, Dense, Dropout, Layer
from glassnet.models import Sequential

__all__ = [
    "NeuronLayer",
    "bias_names",
    "neuron_layers",
    "neuron_names",
    "weight_names",
]


@dataclass
class NeuronLayer:
    """One ``Dense`` layer and the activation/dropout layers that follow it.

    ``activations`` holds the Dense layer's own activation, then each following
    Activation layer's, in the order they apply to the sum ``z = x @ W + b``.
    """

    dense: Dense
    layers: list[Layer] = field(default_factory=list)
    activations: list[ActivationFunction] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The glassnet layer names it spans, Dropout left out: ``dense_1 + activation``."""
        return " + ".join(
            str(layer.name) for layer in self.layers if not isinstance(layer, Dropout)
        )

    @property
    def units(self) -> int:
        """Number of neurons."""
        return self.dense.units

    @property
    def weight(self) -> Array:
        """``W`` shaped (inputs, units)."""
        return self.dense.params["W"]

    @property
    def bias(self) -> Array | None:
        """``b`` shaped (units,), or None for ``use_bias=False``."""
        return self.dense.params.get("b")

    @property
    def applied(self) -> list[ActivationFunction]:
        """The activations that change anything (linear ones left out)."""
        return [act for act in self.activations if not isinstance(act, Linear)]

    @property
    def activation_name(self) -> str:
        """``"sigmoid"``, ``"linear"``, or ``"relu, tanh"`` for a composition."""
        return ", ".join(act.name for act in self.applied) or "linear"

    @property
    def coupled(self) -> bool:
        """Whether an activation mixes the neurons (softmax): no per-neuron f'(sum)."""
        return any(isinstance(act, Softmax) for act in self.activations)

    def activate(self, z: Array) -> tuple[Array, list[tuple[Array, Array]]]:
        """``f(z)`` and each activation's ``(input, output)`` pair, for backward."""
        steps = []
        out = z
        for act in self.applied:
            y = act.forward(out)
            steps.append((out, y))
            out = y
        return out, steps

    def derivative(self, steps: list[tuple[Array, Array]], grad_out: Array) -> Array:
        """dL/dz from dL/d(out): the activations' vector-Jacobian products, last first."""
        grad = grad_out
        for act, (x, y) in zip(self.applied[::-1], steps[::-1], strict=True):
            grad = act.backward(x, y, grad)
        return grad

    def local_slope(self, z: Array, steps: list[tuple[Array, Array]]) -> Array:
        """``f'(z)`` per neuron (elementwise activations only: see :attr:`coupled`)."""
        # An elementwise f has a diagonal Jacobian, so its vector-Jacobian product
        # with a vector of ones is the diagonal f'(z); a composition multiplies them.
        slope = np.ones_like(z)
        for act, (x, y) in zip(self.applied, steps, strict=True):
            slope = slope * act.backward(x, y, np.ones_like(x))
        return slope


def neuron_layers(model: Sequential) -> list[NeuronLayer]:
    """Group ``model.layers`` into layers of neurons (see the module docstring).

    Raises :class:`~glassnet.errors.InvalidArgumentError` for a model that does not
    start with a Dense layer or holds a layer type other than Dense, Activation and
    Dropout.
    """
    groups: list[NeuronLayer] = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            groups.append(NeuronLayer(layer, [layer], [layer.activation]))
        elif isinstance(layer, (Activation, Dropout)) and groups:
            groups[-1].layers.append(layer)
            if isinstance(layer, Activation):
                groups[-1].activations.append(layer.activation)
        else:
            where = "before any Dense layer" if not groups else "in the model"
            raise InvalidArgumentError(
                "Showing a model as neurons needs a Dense layer first and then only "
                "Dense, Activation and Dropout layers. Received: layer "
                f"'{layer.name}' ({type(layer).__name__}) {where}."
            )
    if not groups:
        raise InvalidArgumentError(
            f"Model '{model.name}' has no Dense layer, so it has no neurons to show."
        )
    return groups


def neuron_names(groups: list[NeuronLayer], n_inputs: int) -> list[list[str]]:
    """``[[x1, x2], [h1, h2], [o1]]``: inputs, then every layer's neurons."""
    names = [[f"x{i + 1}" for i in range(n_inputs)]]
    hidden = 0
    for index, group in enumerate(groups):
        if index == len(groups) - 1:
            names.append([f"o{j + 1}" for j in range(group.units)])
        else:
            names.append([f"h{hidden + j + 1}" for j in range(group.units)])
            hidden += group.units
    return names


def weight_names(groups: list[NeuronLayer]) -> list[list[list[str]]]:
    """``names[layer][i][j]``: the weight from input i to neuron j of each layer.

    Numbered neuron by neuron: all the weights into the first neuron, then the second.
    """
    result = []
    count = 0
    for group in groups:
        n_in, units = group.weight.shape
        grid = [[""] * units for _ in range(n_in)]
        for j in range(units):
            for i in range(n_in):
                count += 1
                grid[i][j] = f"w{count}"
        result.append(grid)
    return result


def bias_names(groups: list[NeuronLayer]) -> list[list[str]]:
    """``names[layer][j]``: b1, b2, ... numbered on through the layers (empty: no bias)."""
    result: list[list[str]] = []
    count = 0
    for group in groups:
        if group.bias is None:
            result.append([])
            continue
        result.append([f"b{count + j + 1}" for j in range(group.units)])
        count += group.units
    return result
