"""What ``Sequential.compile`` resolves: the loss, the optimizer and the metrics.

``compile`` takes names (``"adam"``, ``"mse"``, ``"accuracy"``), config dicts or
instances; :func:`resolve_compile_arguments` turns them into objects and checks them
all before the model changes. :func:`fused_logits_loss` finds the numerically stable
form of the loss when it fuses with the output activation.

>>> from glassnet.layers import Dense
>>> layers = [Dense(3, input_dim=2, activation="softmax")]
>>> optimizer, loss, metrics, weighted = resolve_compile_arguments(
...     "adam", "categorical_crossentropy", ["accuracy"], layers, ["accuracy"]
... )
>>> type(optimizer).__name__, loss.name, [m.name for m in metrics + weighted]
('Adam', 'categorical_crossentropy', ['accuracy', 'accuracy'])
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
from glassnet.metrics.accuracy import AccuracyByShape
from glassnet.models.compiled_metrics import check_metric_keys
from glassnet.optimizers import Optimizer

__all__ = [
    "fused_logits_loss",
    "metric_list",
    "metrics_get",
    "output_units",
    "resolve_compile_arguments",
]


def resolve_compile_arguments(
    optimizer: Any,
    loss: Any,
    metrics: Any,
    layers: list[Layer],
    weighted_metrics: Any = None,
) -> tuple[Optimizer, Loss, list[Metric], list[Metric]]:
    """The optimizer, loss, metrics and weighted metrics ``compile`` was given, as
    checked objects.

    Metrics are resolved for the model's output size (see :func:`output_units`);
    their names must be unique in each list and may not be ``"loss"``; a weighted
    metric named as an unweighted one logs as ``weighted_<name>``
    (``models/compiled_metrics.py``).
    """
    if loss is None:
        raise InvalidArgumentError(
            "compile() needs a loss, e.g. loss='mse' or loss='binary_crossentropy'."
        )
    resolved_loss = losses.get(loss)
    resolved_optimizer = optimizers.get(optimizer)
    units = output_units(layers)
    if resolved_loss is None:  # losses.get returns None only for None
        raise InvalidArgumentError("compile() needs a loss.")
    resolved_metrics = metric_list(metrics, resolved_loss, units, "metrics")
    weighted = metric_list(weighted_metrics, resolved_loss, units, "weighted_metrics")
    check_metric_keys(None, resolved_metrics, weighted)
    return resolved_optimizer, resolved_loss, resolved_metrics, weighted


def metric_list(
    metrics: Any, loss: Loss | None, units: int, argument: str, output: str = ""
) -> list[Metric]:
    """``compile(metrics=...)`` or ``weighted_metrics=...`` for one output, resolved.

    None is no metric; otherwise a list whose names are unique and not ``"loss"``
    (``output`` names the output in the messages of a model with several).

    >>> [m.name for m in metric_list(["mae", "mse"], None, 1, "weighted_metrics")]
    ['mae', 'mse']
    >>> metric_list("mae", None, 1, "weighted_metrics")
    Traceback (most recent call last):
    ...
    glassnet.errors.GlassnetTypeError: Argument `weighted_metrics` must be a list ...
    """
    where = f" of output '{output}'" if output else ""
    if metrics is None:
        return []
    if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
        raise GlassnetTypeError(
            f"Argument `{argument}`{where} must be a list such as ['accuracy']. "
            f"Received: {argument}={metrics!r}"
        )
    resolved = [metrics_get(m, loss, units) for m in metrics]
    names = [m.name for m in resolved]
    if len(set(names)) != len(names) or "loss" in names:
        raise InvalidArgumentError(
            f"Metric names{where} must be unique and not 'loss'. "
            f"Received: {argument}={names}"
        )
    return resolved


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


def metrics_get(identifier: Any, loss: Loss | None, units: int) -> Metric:
    """Resolve one entry of ``compile(metrics=...)``.

    ``"accuracy"`` picks its variant from the loss (:func:`glassnet.metrics.get`);
    on an output compiled without a loss, from the data's shapes, as Keras 3 does.

    >>> metrics_get("acc", None, 3)
    <AccuracyByShape name=acc>
    """
    if (
        loss is None
        and isinstance(identifier, str)
        and identifier.strip().lower() in ("accuracy", "acc")
    ):
        return AccuracyByShape(name=identifier)
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
