"""``glassnet train DATA --target COLUMN``: build a network, train it, save it.

The network comes from flags (``--layers 16,8 --activation relu ...``) or from an
architecture file (``--model arch.json``, as ``model.to_json()`` writes it); its
output layer, loss and metrics follow from the target (see :mod:`.targets`). The
trained model is saved with its column data (see :mod:`.modelfile`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np

from glassnet.cli.app import EXIT_INTERRUPTED, EXIT_OK, CliError
from glassnet.cli.data import Data, load_data
from glassnet.cli.info import ModelInfo
from glassnet.cli.interrupt import StopAtBatchEnd, TrainingInterrupted, catch_ctrl_c
from glassnet.cli.modelfile import save_model, sequential
from glassnet.cli.targets import (
    class_indices,
    encode,
    infer_task,
    make_classes,
    output_units,
    regression_targets,
)
from glassnet.models import Sequential

__all__ = ["run_train"]

_NETWORK_FLAGS = ("layers", "activation", "output_activation", "dropout")


def run_train(args: argparse.Namespace) -> int:
    _check_flags(args)  # names and flags first: no waiting for data to learn of a typo
    loss_name = _loss_name(args.loss)
    optimizer = _optimizer(args.optimizer, args.lr)
    _check_activations(args.activation, args.output_activation)
    data = load_data(
        args.data,
        target=args.target,
        target_required=True,
        features=args.features,
        x_array=args.x_array,
    )
    info = _describe_data(data, args)
    x = info.transform(data.x)
    model, loss_name = _network(args, info, loss_name)
    units = model.compute_output_shape(model.built_input_shape())[-1]
    if info.classes is None:
        y = regression_targets(data)
        metrics = ["mse"] if loss_name == "mean_absolute_error" else ["mae"]
    else:
        y = encode(class_indices(data, info.classes), units, loss_name)
        metrics = ["accuracy"]
    model.compile(optimizer=optimizer, loss=loss_name, metrics=metrics)
    if args.validation_split:
        # Keras holds out the *last* rows: shuffle first so that a file sorted by
        # class still validates on every class.
        order = np.random.default_rng(args.seed).permutation(len(x))
        x, y = x[order], y[order]
    if args.verbose:
        held = int(len(x) - np.floor(len(x) * (1.0 - args.validation_split)))
        shape = "-".join(str(n) for n in _layer_sizes(model))
        rows = f"{len(x) - held} rows" + (f", validating on {held}" if held else "")
        print(f"Training a {shape} network: {info.describe()}, on {rows}.")
    return _fit_and_save(model, x, y, info, args)


def _check_flags(args: argparse.Namespace) -> None:
    if args.model is not None:
        for flag in _NETWORK_FLAGS:
            if getattr(args, flag) is not None:
                raise CliError(
                    f"--{flag.replace('_', '-')} describes the network, which --model "
                    "gives; use one or the other"
                )
    if args.features is not None and args.data.lower().endswith(".npz"):
        raise CliError("--features picks CSV columns; for .npz data use --x-array")
    output = args.output
    if not output.lower().endswith((".keras", ".h5", ".hdf5")):
        raise CliError(
            f"--output must end in .keras or .h5 (a whole model); got {output!r}"
        )
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise CliError(f"--output {output!r}: the folder {folder} does not exist")


def _loss_name(name: str | None) -> str | None:
    from glassnet import losses

    return None if name is None else losses.get(name).name  # type: ignore[union-attr]


def _check_activations(*names: str | None) -> None:
    from glassnet import activations

    for name in names:
        if name is not None:
            activations.get(name)


def _optimizer(name: str, lr: float | None) -> Any:
    from glassnet import optimizers

    if lr is None:
        return optimizers.get(name)
    return optimizers.get({"class_name": name, "config": {"learning_rate": lr}})


def _describe_data(data: Data, args: argparse.Namespace) -> ModelInfo:
    assert data.y is not None
    task = infer_task(data.y, args.task)
    classes = None
    if task == "classification":
        classes = make_classes(data.y)
        if len(classes) < 2:
            raise CliError(
                f"{data.path}: the target {data.target!r} has a single value, "
                f"{classes[0]!r}; classification needs 2 or more"
            )
    info = ModelInfo(task, data.target, data.features, classes)
    if args.standardize:
        scale = data.x.std(axis=0)
        scale[scale == 0] = 1.0  # a constant input stays constant (0)
        info.mean, info.scale = data.x.mean(axis=0).tolist(), scale.tolist()
    return info


def _network(
    args: argparse.Namespace, info: ModelInfo, loss_name: str | None
) -> tuple[Sequential, str]:
    """The untrained model and the loss it trains with."""
    n_inputs = len(info.features)
    if args.model is not None:
        model = _from_json(args.model, args.seed, args.dtype, n_inputs)
        units = model.compute_output_shape(model.built_input_shape())[-1]
        if loss_name is None:
            loss_name = _default_loss(info, units)
        expected = (
            1 if info.classes is None else output_units(info.n_classes, loss_name)
        )
        if units != expected and not (info.classes and units == info.n_classes):
            raise CliError(
                f"{args.model}: the network has {units} output units; "
                f"{_task_needs(info, loss_name, expected)}"
            )
        return model, loss_name
    if loss_name is None:
        loss_name = _default_loss(info, None)
    units = 1 if info.classes is None else output_units(info.n_classes, loss_name)
    return _from_flags(args, info, units, loss_name), loss_name


def _default_loss(info: ModelInfo, units: int | None) -> str:
    """mse for regression; binary cross-entropy for one sigmoid unit (2 classes from
    flags), sparse categorical cross-entropy for one unit per class."""
    if info.classes is None:
        return "mean_squared_error"
    one_unit = info.n_classes == 2 if units is None else units == 1
    return "binary_crossentropy" if one_unit else "sparse_categorical_crossentropy"


def _task_needs(info: ModelInfo, loss_name: str, units: int) -> str:
    if info.classes is None:
        return f"a regression of {info.target!r} needs 1"
    return f"{info.n_classes} classes with {loss_name} need {units}" + (
        " (or 2, with a categorical loss)" if units == 1 else ""
    )


def _from_json(
    path: str, seed: int | None, dtype: str | None, n_inputs: int
) -> Sequential:
    from glassnet.io import limits
    from glassnet.models import model_from_json

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
            f"{path}: the network takes inputs shaped {shape}; the data has "
            f"{n_inputs} input column{'s' if n_inputs != 1 else ''}"
        )
    return model


def _from_flags(
    args: argparse.Namespace, info: ModelInfo, units: int, loss_name: str
) -> Sequential:
    from glassnet.layers import Dense, Dropout

    hidden = [16] if args.layers is None else args.layers
    activation = args.activation or "relu"
    n_inputs = len(info.features)
    output_activation = args.output_activation or _output_activation(
        info, units, loss_name
    )
    layers: list[Any] = []
    for size in hidden:
        first = None if layers else n_inputs
        layers.append(Dense(size, activation=activation, input_dim=first))
        if args.dropout:
            layers.append(Dropout(args.dropout))
    first = None if layers else n_inputs
    layers.append(Dense(units, activation=output_activation, input_dim=first))
    return Sequential(layers, seed=args.seed, dtype=args.dtype or "float32")


def _output_activation(info: ModelInfo, units: int, loss_name: str) -> str:
    if info.classes is None:
        return "linear"
    if units == 1 or loss_name == "binary_crossentropy":
        return "sigmoid"
    return "softmax"


def _layer_sizes(model: Sequential) -> list[Any]:
    """The widths of a ``4-16-3`` network: its input, then each layer with a kernel.

    A layer with a ``kernel`` weight (Dense, and the convolutions to come) makes a
    new layer of units; the others (activations, dropout, normalization) keep it.
    """
    shape = model.built_input_shape()
    sizes = [shape[-1]]
    for layer in model.layers:
        shape = layer.output_shape(shape)
        if any(weight.name == "kernel" for weight in layer.weights):
            sizes.append(shape[-1])
    return sizes


def _fit_and_save(
    model: Sequential, x: Any, y: Any, info: ModelInfo, args: argparse.Namespace
) -> int:
    from glassnet.callbacks import EarlyStopping, ProgressBar, format_logs

    progress = ProgressBar(args.verbose) if args.verbose else None
    early = None
    if args.patience is not None:
        monitor = "val_loss" if args.validation_split else "loss"
        early = EarlyStopping(
            monitor, patience=args.patience, restore_best_weights=True
        )
    stopped: TrainingInterrupted | None = None
    with catch_ctrl_c() as ctrl_c:
        callbacks = [c for c in (progress, early) if c is not None]
        try:
            history = model.fit(
                x,
                y,
                batch_size=args.batch_size,
                epochs=args.epochs,
                verbose=0,
                callbacks=[*callbacks, StopAtBatchEnd(ctrl_c)],
                validation_split=args.validation_split,
            )
        except TrainingInterrupted as stop:
            stopped = stop
            if progress is not None:
                progress.on_train_end()
        if not all(np.isfinite(w).all() for w in model.get_weights()):
            raise CliError(
                f"training diverged (the weights became NaN or inf), so {args.output} "
                "was not written; try a smaller --lr, or --standardize the inputs"
            )
        save_model(model, args.output, info)
        if stopped is None and ctrl_c.pressed:  # Ctrl-C after the last batch
            stopped = TrainingInterrupted(args.epochs - 1, -1, 0)
    if stopped is not None:
        where = f"in epoch {stopped.epoch + 1}/{args.epochs}"
        if stopped.batch >= 0:
            where += f" after batch {stopped.batch + 1}/{stopped.steps}"
        print(
            f"glassnet: interrupted {where}: saved the model trained so far to "
            f"{args.output}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if args.verbose:
        last = {key: values[-1] for key, values in history.history.items()}
        epochs = len(history.epoch)
        note = ""
        if early is not None and early.stopped_epoch:
            note = f", stopped early; weights of epoch {early.best_epoch + 1} kept"
        print(
            f"Saved {args.output} after {epochs} epoch{'s' if epochs != 1 else ''}"
            f"{note} ({format_logs(last)})."
        )
    return EXIT_OK
