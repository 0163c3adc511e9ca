"""What ``Sequential.compile`` resolves: the loss, the optimizer and the metrics.

``compile`` takes names (``"adam"``, ``"mse"``, ``"accuracy"``), config dicts or
instances; :func:`resolve_compile_arguments` turns them into objects and checks them
all before the model changes. :func:`fused_logits_loss` finds the numerically stable
form of the loss when it fuses with the output activation.

>>> from glassnet.layers import Dense
>>> layers = [Dense(3, input_dim=2, activation="softmax")]
>>> optimizer, loss, metrics = resolve_compile_arguments(
...     "adam", "categorical_crossentropy", ["accuracy"], layers
... )
>>> type(optimizer).__name__, loss.name, [m.name for m in metrics]
('Adam', 'categorical_crossentropy', ['accuracy'])
>>> fused_logits_loss(loss, layers).from_logits
True
"""

from __future__ import annotations

from typing import Any

from glassnet import losses, metrics, optimizers
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Layer
from glassnet.losses import Loss
from glassnet.metrics import Metric
from glassnet.optimizers import Optimizer

__all__ = [
    "fused_logits_loss",
    "metrics_get",
    "output_units",
    "resolve_compile_arguments",
]


def resolve_compile_arguments(
    optimizer: Any, loss: Any, metrics: Any, layers: list[Layer]
) -> tuple[Optimizer, Loss, list[Metric]]:
    """The optimizer, loss and metrics ``compile`` was given, as checked objects.

    Metrics are resolved for the model's output size (see :func:`output_units`);
    their names must be unique and may not be ``"loss"``.
    """
    if loss is None:
        raise InvalidArgumentError(
            "compile() needs a loss, e.g. loss='mse' or loss='binary_crossentropy'."
        )
    resolved_loss = losses.get(loss)
    resolved_optimizer = optimizers.get(optimizer)
    if metrics is None:
        metrics = []
    if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
        raise GlassnetTypeError(
            "Argument `metrics` must be a list such as ['accuracy']. "
            f"Received: metrics={metrics!r}"
        )
    units = output_units(layers)
    if resolved_loss is None:  # losses.get returns None only for None
        raise InvalidArgumentError("compile() needs a loss.")
    resolved_metrics = [metrics_get(m, resolved_loss, units) for m in metrics]
    names = [m.name for m in resolved_metrics]
    if len(set(names)) != len(names) or "loss" in names:
        raise InvalidArgumentError(
            f"Metric names must be unique and not 'loss'. Received: metrics={names}"
        )
    return resolved_optimizer, resolved_loss, resolved_metrics


def output_units(layers: list[Layer]) -> int:
    """How many numbers each sample's output has, as far as ``layers`` tell.

    The last layer that knows its output width (its output tensor when the model is
    built; else a ``units`` argument, for a Sequential compiled before its input
    shape is known), 1 when none does.
    """
    for layer in reversed(layers):
        nodes = getattr(layer, "inbound_nodes", None)
        if nodes:
            width = nodes[-1].outputs[0].shape[-1]
            return width if isinstance(width, int) else 1
        units = getattr(layer, "units", None)
        if isinstance(units, int):
            return units
    return 1


def metrics_get(identifier: Any, loss: Loss, units: int) -> Metric:
    """Resolve one entry of ``compile(metrics=...)``."""
    return metrics.get(identifier, loss, units)


def fused_logits_loss(loss: Loss | None, layers: list[Layer]) -> Loss | None:
    """``loss`` with ``from_logits=True`` when the last layer's activation fuses with it.

    ``None`` when it does not: no loss or no layers, a loss without a fused activation
    or already taking logits, a different output activation, or a softmax over an
    axis other than the last.
    """
    if loss is None or not layers or loss.fused_activation is None:
        return None
    if getattr(loss, "from_logits", True):
        return None
    activation = layers[-1].output_activation
    if activation is None or activation.name != loss.fused_activation:
        return None
    if activation.get_config().get("axis", -1) != -1:
        return None
    config = dict(loss.get_config(), from_logits=True)
    return type(loss).from_config(config)
