"""The compiled metrics by the keys logs give them: ``metrics`` and ``weighted_metrics``.

``compile(metrics=[...], weighted_metrics=[...])`` as in Keras 3. The metrics of
``metrics`` ignore sample weights; those of ``weighted_metrics`` are given each
batch's weights (``sample_weight``, or ``class_weight`` turned into one weight per
sample, and validation data's own weights) as their ``sample_weight``. A mean-style
metric (accuracy, MAE, MSE...) then reports ``sum_i w_i * m_i / sum_i w_i``; a
metric made of counts (precision, recall, AUC, F1...) weighs each sample's count by
``w_i``. Without weights, a weighted metric equals its unweighted twin.

Log keys follow Keras 3's ``CompileMetrics.result``: first every metric of
``metrics``, output by output, as ``<name>`` (one output) or ``<output>_<name>``;
then those of ``weighted_metrics``, under the same key unless it is taken, else
``weighted_<name>`` (``<output>_weighted_<name>``), then ``..._1``, ``..._2``.

>>> import numpy as np
>>> from glassnet.layers import Dense
>>> from glassnet.models import Sequential
>>> model = Sequential([Dense(1, input_dim=2)])
>>> model.compile(loss="mse", metrics=["mae"], weighted_metrics=["mae", "mse"])
>>> [(m.key, m.weighted) for m in logged_metrics(model)]
[('mae', False), ('weighted_mae', True), ('mse', True)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glassnet.errors import InvalidArgumentError
from glassnet.metrics import Metric

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = [
    "LoggedMetric",
    "check_metric_keys",
    "keras_metric_keys",
    "log_names",
    "logged_metrics",
    "loss_keys",
]


@dataclass(frozen=True)
class LoggedMetric:
    """One compiled metric: its log key, the output it watches, whether weighted."""

    key: str
    metric: Metric
    output: int
    weighted: bool


#: (output name or None for a one-output model, its metrics, weighted?)
Group = tuple[str | None, list[Metric], bool]


def keras_metric_keys(groups: list[Group]) -> list[str]:
    """The log key of every metric of ``groups``, in order, named as Keras 3 does.

    ``groups`` lists the unweighted metrics of each output, then the weighted ones.

    >>> from glassnet.metrics import MeanAbsoluteError as MAE
    >>> keras_metric_keys([(None, [MAE(name="mae")], False),
    ...                    (None, [MAE(name="mae"), MAE(name="mae")], True)])
    ['mae', 'weighted_mae', 'weighted_mae_1']
    >>> keras_metric_keys([("price", [MAE(name="mae")], False),
    ...                    ("price", [MAE(name="mae")], True)])
    ['price_mae', 'price_weighted_mae']
    """
    counters: dict[str, int] = {}
    keys = []
    for output, metrics, weighted in groups:
        for metric in metrics:
            key = f"{output}_{metric.name}" if output else metric.name
            if key not in counters:
                counters[key] = 1
            elif not weighted:
                counters[key] += 1
                key = f"{key}_{counters[key] - 1}"
            else:
                key = f"weighted_{metric.name}"
                if output:
                    key = f"{output}_{key}"
                if key not in counters:
                    counters[key] = 1
                else:
                    counters[key] += 1
                    key = f"{key}_{counters[key] - 1}"
            keys.append(key)
    return keys


def _groups(
    heads: Any, metrics: list[Metric], weighted: list[Metric]
) -> list[tuple[int, Group]]:
    if heads is None:
        return [(0, (None, list(metrics), False)), (0, (None, list(weighted), True))]
    plain = [(i, (h.name, list(h.metrics), False)) for i, h in enumerate(heads)]
    weighed = [
        (i, (h.name, list(h.weighted_metrics), True)) for i, h in enumerate(heads)
    ]
    return plain + weighed


def _entries(
    heads: Any, metrics: list[Metric], weighted: list[Metric]
) -> list[LoggedMetric]:
    groups = _groups(heads, metrics, weighted)
    keys = keras_metric_keys([group for _, group in groups])
    found = [
        (output, metric, is_weighted)
        for output, (_, group_metrics, is_weighted) in groups
        for metric in group_metrics
    ]
    return [
        LoggedMetric(key, metric, output, is_weighted)
        for key, (output, metric, is_weighted) in zip(keys, found, strict=True)
    ]


def logged_metrics(model: Model) -> list[LoggedMetric]:
    """Every compiled metric of ``model`` with its log key, in Keras' order."""
    return _entries(model.heads, model.metrics, model.weighted_metrics)


def _loss_keys(heads: Any) -> list[str]:
    if heads is None:
        return ["loss"]
    named = [f"{h.name}_loss" for h in heads if h.loss is not None]
    return ["loss", *named] if len(named) > 1 else ["loss"]


def loss_keys(model: Model) -> list[str]:
    """``loss``, then ``<output>_loss`` for each output with a loss when more than
    one output has one (Keras 3 logs an output's loss only then).

    >>> from glassnet import Input, Model
    >>> from glassnet.layers import Dense
    >>> x = Input((2,))
    >>> model = Model(x, [Dense(1, name="a")(x), Dense(1, name="b")(x)])
    >>> model.compile(loss=["mse", "mae"]); loss_keys(model)
    ['loss', 'a_loss', 'b_loss']
    >>> model.compile(loss=[None, "mae"]); loss_keys(model)
    ['loss']
    """
    return _loss_keys(model.heads)


def log_names(model: Model) -> list[str]:
    """The keys of the logs ``fit`` and ``evaluate`` give, in order (no ``val_``)."""
    return [*loss_keys(model), *(m.key for m in logged_metrics(model))]


def check_metric_keys(
    heads: Any, metrics: list[Metric], weighted: list[Metric]
) -> None:
    """Refuse compiled metrics whose log keys collide with each other or a loss's,
    or one metric object given twice (its state would count every batch twice).

    ``compile`` calls it with the new settings, before the model changes.

    >>> from glassnet.metrics import Recall
    >>> recall = Recall()
    >>> check_metric_keys(None, [recall], [recall])
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: The metric object 'recall' is compiled twice ...
    """
    entries = _entries(heads, metrics, weighted)
    seen: dict[int, str] = {}
    for entry in entries:
        if id(entry.metric) in seen:
            raise InvalidArgumentError(
                f"The metric object '{entry.metric.name}' is compiled twice (as "
                f"'{seen[id(entry.metric)]}' and '{entry.key}'); its state would "
                "count every batch twice. Give each place its own instance."
            )
        seen[id(entry.metric)] = entry.key
    keys = [entry.key for entry in entries]
    taken = set(_loss_keys(heads))
    clashes = sorted({k for k in keys if keys.count(k) > 1 or k in taken})
    if clashes:
        raise InvalidArgumentError(
            "Metric names must be unique in the logs and differ from the losses'. "
            f"Received metrics logged as {keys}; clashing: {clashes}"
        )
