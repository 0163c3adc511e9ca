"""The network ``glassnet train`` builds: from flags, or from an architecture file.

From flags: ``Dense`` hidden layers (``--layers``, default one of 32 units, ReLU)
and an output layer that fits the target: one sigmoid unit for two classes, one
softmax unit per class for more, one linear unit for regression (see
:mod:`.targets`). From ``--model arch.json``: the architecture as
``model.to_json()`` writes it; its output layer must fit the target.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from glassnet.cli.app import CliError
from glassnet.cli.info import ModelInfo
from glassnet.cli.targets import output_units

if TYPE_CHECKING:
    from glassnet.models import Sequential

__all__ = [
    "DEFAULT_HIDDEN",
    "build_network",
    "check_activations",
    "layer_sizes",
    "loss_name",
    "make_optimizer",
]

#: hidden layer sizes without --layers
DEFAULT_HIDDEN = (32,)


def loss_name(name: str | None) -> str | None:
    """The registered name of ``--loss`` (an error with a did-you-mean otherwise)."""
    from glassnet import losses

    return None if name is None else losses.get(name).name  # type: ignore[union-attr]


def check_activations(*names: str | None) -> None:
    from glassnet import activations

    for name in names:
        if name is not None:
            activations.get(name)


def make_optimizer(name: str, lr: float | None) -> Any:
    from glassnet import optimizers

    if lr is None:
        return optimizers.get(name)
    return optimizers.get({"class_name": name, "config": {"learning_rate": lr}})


def build_network(
    args: argparse.Namespace, info: ModelInfo, loss: str | None
) -> tuple[Sequential, str, str]:
    """``(untrained model, loss name, output activation name)``."""
    n_inputs = len(info.plan.input_names)
    if args.model is not None:
        model = _from_json(args.model, args.seed, args.dtype, n_inputs)
        units = model.compute_output_shape(model.built_input_shape())[-1]
        if loss is None:
            loss = _default_loss(info, units)
        expected = 1 if info.classes is None else output_units(info.n_classes, loss)
        if units != expected and not (info.classes and units == info.n_classes):
            raise CliError(
                f"{args.model}: the network has {units} output units; "
                f"{_task_needs(info, loss, expected)}"
            )
        last = model.layers[-1]
        activation = getattr(getattr(last, "activation", None), "name", "linear")
        return model, loss, str(activation)
    if loss is None:
        loss = _default_loss(info, None)
    units = 1 if info.classes is None else output_units(info.n_classes, loss)
    output_activation = args.output_activation or _output_activation(info, units, loss)
    return (
        _from_flags(args, n_inputs, units, output_activation),
        loss,
        output_activation,
    )


def _default_loss(info: ModelInfo, units: int | None) -> str:
    """mse for regression; binary cross-entropy for one sigmoid unit (2 classes from
    flags), sparse categorical cross-entropy for one unit per class."""
    if info.classes is None:
        return "mean_squared_error"
    one_unit = info.n_classes == 2 if units is None else units == 1
    return "binary_crossentropy" if one_unit else "sparse_categorical_crossentropy"


def _task_needs(info: ModelInfo, loss: str, units: int) -> str:
    if info.classes is None:
        return f"a regression of {info.target!r} needs 1"
    return f"{info.n_classes} classes with {loss} need {units}" + (
        " (or 2, with a categorical loss)" if units == 1 else ""
    )


def _from_json(
    path: str, seed: int | None, dtype: str | None, n_inputs: int
) -> Sequential:
    from glassnet.cli.modelfile import sequential
    from glassnet.io import limits
    from glassnet.models import Sequential, model_from_json

    if not os.path.isfile(path):
        raise CliError(f"{path}: no such file")
    with open(path, "rb") as handle:
        text = handle.read(limits.MAX_JSON_BYTES + 1)
    model = sequential(model_from_json(text), path)
    if seed is not None or dtype is not None:
        model = Sequential.from_config(dict(model.get_config(), seed=seed), dtype=dtype)
    if not model.built:
        model.build((None, n_inputs))
    shape = model.built_input_shape()
    if shape != (n_inputs,):
        raise CliError(
            f"{path}: the network takes inputs shaped {shape}; the prepared data has "
            f"{n_inputs} input{'s' if n_inputs != 1 else ''}"
        )
    return model


def _from_flags(
    args: argparse.Namespace, n_inputs: int, units: int, output_activation: str
) -> Sequential:
    from glassnet.layers import Dense, Dropout
    from glassnet.models import Sequential

    hidden = list(DEFAULT_HIDDEN) if args.layers is None else args.layers
    activation = args.activation or "relu"
    layers: list[Any] = []
    for size in hidden:
        first = None if layers else n_inputs
        layers.append(Dense(size, activation=activation, input_dim=first))
        if args.dropout:
            layers.append(Dropout(args.dropout))
    first = None if layers else n_inputs
    layers.append(Dense(units, activation=output_activation, input_dim=first))
    return Sequential(layers, seed=args.seed, dtype=args.dtype or "float32")


def _output_activation(info: ModelInfo, units: int, loss: str) -> str:
    if info.classes is None:
        return "linear"
    if units == 1 or loss == "binary_crossentropy":
        return "sigmoid"
    return "softmax"


def layer_sizes(model: Sequential) -> list[Any]:
    """The widths of a ``4-16-3`` network: its input, then each layer with a kernel.

    A layer with a ``kernel`` weight (Dense, and the convolutions) makes a new layer
    of units; the others (activations, dropout, normalization) keep it.
    """
    shape = model.built_input_shape()
    sizes = [shape[-1]]
    for layer in model.layers:
        shape = layer.output_shape(shape)
        if any(weight.name == "kernel" for weight in layer.weights):
            sizes.append(shape[-1])
    return sizes
