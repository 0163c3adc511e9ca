"""Compile settings (optimizer, loss, metrics) in Keras' ``compile_config`` layout.

A ``.keras`` archive's config.json carries them as ``compile_config``; a legacy
``.h5`` model carries them as the ``training_config`` attribute (with the optimizer
under ``optimizer_config``). glassnet writes both so Keras compiles the model on load,
and reads them back from files written by glassnet, Keras 3 or Keras 2. Settings
that only change how Keras executes (``run_eagerly``, ``jit_compile``,
``steps_per_execution``) are ignored; anything that would change training and that
glassnet lacks (an unknown optimizer or schedule, a loss scale) is refused with its
name, and ``load_model(..., compile=False)`` skips this part. Learning-rate
schedules, ``use_ema`` and gradient accumulation are read and written as Keras 3
does.

>>> from glassnet.models import Sequential
>>> from glassnet.layers import Dense
>>> model = Sequential([Dense(1, input_dim=2)])
>>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
>>> config = compile_to_config(model)
>>> config["optimizer"]["class_name"], config["loss"], config["metrics"]
('SGD', 'mean_squared_error', ['mae'])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glassnet import losses, metrics, optimizers
from glassnet.errors import GlassnetError, ModelFileError
from glassnet.io.keras_compat import (
    LOSS_NEUTRAL,
    OPTIMIZER_NEUTRAL,
    check_claims,
    keras_function_name,
    strip_neutral,
)
from glassnet.optimizers import schedules

if TYPE_CHECKING:
    from glassnet.models import Model

__all__ = ["compile_from_config", "compile_to_config", "training_config"]

_IGNORED = {"run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss"}
_NEUTRAL = {
    "sample_weight_mode": (None,),
}
_ADVICE = " Pass compile=False to load the model without its training settings."


def compile_to_config(model: Model) -> dict[str, Any] | None:
    """The model's compile settings as Keras 3 writes them (None if not compiled)."""
    if not model.compiled or model.optimizer is None or model.loss is None:
        return None
    optimizer = model.optimizer
    loss: Any = _keras_entry(losses.serialize(model.loss), "keras.losses")
    loss_weights: Any = None
    entries: Any = [_metric_entry(m) for m in model.metrics] or None
    weighted: Any = [_metric_entry(m) for m in model.weighted_metrics] or None
    if model.heads is not None:  # several outputs: one of each per output, by name
        loss = {
            h.name: None
            if h.loss is None  # an output compiled without a loss
            else _keras_entry(losses.serialize(h.loss), "keras.losses")
            for h in model.heads
        }
        if any(h.weight != 1.0 for h in model.heads):
            loss_weights = {h.name: h.weight for h in model.heads}
        entries = {h.name: [_metric_entry(m) for m in h.metrics] for h in model.heads}
        weighted = None
        if any(h.weighted_metrics for h in model.heads):
            weighted = {
                h.name: [_metric_entry(m) for m in h.weighted_metrics]
                for h in model.heads
            }
    return {
        "optimizer": {
            "module": "keras.optimizers",
            "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(),
            "registered_name": None,
        },
        "loss": loss,
        "loss_weights": loss_weights,
        "metrics": entries,
        "weighted_metrics": weighted,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def training_config(model: Model) -> dict[str, Any] | None:
    """The legacy ``.h5`` form: like :func:`compile_to_config`, optimizer renamed."""
    config = compile_to_config(model)
    if config is None:
        return None
    optimizer = config.pop("optimizer")
    return {
        **config,
        "optimizer_config": {k: optimizer[k] for k in ("class_name", "config")},
    }


def _keras_entry(value: Any, module: str) -> Any:
    if isinstance(value, dict):
        return {"module": module, **value, "registered_name": None}
    return value


def _metric_entry(metric: metrics.Metric) -> Any:
    cls = type(metric)
    name = metric.name
    auto = name.strip().lower() in ("accuracy", "acc")  # read back as the auto variant
    if auto and cls is not metrics.Accuracy:
        return name  # glassnet (and Keras) pick the variant from the loss again
    if not auto and name in metrics.registry and metrics.registry.lookup(name) is cls:
        if metric.get_config() == cls(name=name).get_config():
            return name
    config = {"class_name": cls.__name__, "config": metric.get_config()}
    return _keras_entry(config, "keras.metrics")


def compile_from_config(
    model: Model,
    config: Any,
    where: str,
    custom_objects: dict[str, type] | None = None,
) -> None:
    """Compile ``model`` as a Keras ``compile_config`` or legacy ``training_config`` says."""
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: the compile settings must be a JSON object.")
    config = dict(config)
    if "optimizer_config" in config:  # the legacy .h5 spelling
        config["optimizer"] = config.pop("optimizer_config")
    config = {k: v for k, v in config.items() if k not in _IGNORED}
    loss_weights = config.pop("loss_weights", None)
    config = strip_neutral(config, _NEUTRAL, where)
    unknown = sorted(set(config) - {"optimizer", "loss", "metrics", "weighted_metrics"})
    if unknown:
        raise ModelFileError(
            f"{where}: unsupported compile setting(s) {unknown}.{_ADVICE}"
        )
    optimizer = _optimizer(
        config.get("optimizer"), f"{where}: optimizer", custom_objects
    )
    loss = _per_output(
        config.get("loss"),
        lambda v, here: _loss(v, here, custom_objects),
        f"{where}: loss",
    )
    wanted = _metrics_setting(config.get("metrics"), f"{where}: metrics")
    weighted = _metrics_setting(
        config.get("weighted_metrics"), f"{where}: weighted_metrics"
    )
    weights = _per_output(loss_weights, _weight, f"{where}: loss_weights")
    try:
        model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=wanted,
            loss_weights=weights,
            weighted_metrics=weighted,
        )
    except GlassnetError as error:
        raise ModelFileError(f"{where}: {error}{_ADVICE}") from error


def _metrics_setting(value: Any, where: str) -> Any:
    """``metrics`` or ``weighted_metrics``: a list, or (several outputs) a dict of
    lists by output name or a list of lists in output order."""
    value = value or []
    if isinstance(value, dict):  # several outputs: a list per output name
        return {
            str(name): _metric_list(entries, f"{where}[{name!r}]")
            for name, entries in list(value.items())[:100]
        }
    if isinstance(value, list) and any(isinstance(m, list) for m in value):
        return [  # several outputs: a list per output, in order
            _metric_list(entries, f"{where}[{i}]")
            for i, entries in enumerate(value[:1000])
        ]
    return _metric_list(value, where)


def _per_output(value: Any, read: Any, where: str) -> Any:
    """One value, or (several outputs) a dict by output name or a list of them.

    A dict holding ``class_name`` is one loss's config, not a dict of outputs. An
    output's loss may be None there (an output compiled without a loss).
    """
    if isinstance(value, dict) and "class_name" not in value:
        if len(value) > 1000:
            raise ModelFileError(f"{where}: too many outputs.")
        return {
            str(k): None if v is None else read(v, f"{where}[{k!r}]")
            for k, v in value.items()
        }
    if isinstance(value, list):
        if len(value) > 1000:
            raise ModelFileError(f"{where}: too many outputs.")
        return [
            None if v is None else read(v, f"{where}[{i}]") for i, v in enumerate(value)
        ]
    return None if value is None and read is _weight else read(value, where)


def _weight(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelFileError(f"{where}: a loss weight must be a number.{_ADVICE}")
    return float(value)


def _metric_list(entries: Any, where: str) -> list[Any]:
    if not isinstance(entries, list) or len(entries) > 100:
        raise ModelFileError(f"{where}: 'metrics' must be a list.")
    return [_metric(m, f"{where}[{i}]") for i, m in enumerate(entries)]


def _split(value: dict[str, Any], where: str) -> tuple[Any, dict[str, Any]]:
    check_claims(value, where)
    config = value.get("config") or {}
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: 'config' must be a JSON object.")
    return value.get("class_name"), dict(config)


#: Keras optimizer settings glassnet now reads itself (so no longer neutral-only).
_OPTIMIZER_READ = {
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "gradient_accumulation_steps",
}
_OPTIMIZER_NEUTRAL = {
    key: values
    for key, values in OPTIMIZER_NEUTRAL.items()
    if key not in _OPTIMIZER_READ
}


def _optimizer(value: Any, where: str, custom_objects: dict[str, type] | None) -> Any:
    try:
        if isinstance(value, dict):
            class_name, config = _split(value, where)
            config = strip_neutral(config, _OPTIMIZER_NEUTRAL, where)
            rate = config.get("learning_rate")
            if isinstance(rate, dict):  # a schedule, by Keras' class name
                check_claims(rate, f"{where}: learning_rate")
                if not isinstance(rate.get("config", {}), dict):
                    raise ModelFileError(
                        f"{where}: learning_rate: 'config' must be a JSON object."
                    )
                config["learning_rate"] = schedules.get(
                    {k: rate[k] for k in ("class_name", "config") if k in rate},
                    custom_objects=custom_objects,
                )
            value = {"class_name": class_name, "config": config}
        return optimizers.get(value, custom_objects=custom_objects)
    except ModelFileError:
        raise
    except GlassnetError as error:
        raise ModelFileError(f"{where}: {error}{_ADVICE}") from None


def _loss(value: Any, where: str, custom_objects: dict[str, type] | None) -> Any:
    if value is None:
        raise ModelFileError(f"{where}: the file has no loss.{_ADVICE}")
    if isinstance(value, dict):
        value = keras_function_name(value) or value
    if isinstance(value, dict):
        class_name, config = _split(value, where)
        value = {
            "class_name": class_name,
            "config": strip_neutral(config, LOSS_NEUTRAL, where),
        }
    try:
        return losses.get(value, custom_objects=custom_objects)
    except GlassnetError as error:
        raise ModelFileError(f"{where}: {error}{_ADVICE}") from None


def _metric(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        value = keras_function_name(value) or value
    if isinstance(value, dict):
        class_name, config = _split(value, where)
        config = strip_neutral(config, {"dtype": (None, "float32", "float64")}, where)
        value = {"class_name": class_name, "config": config}
    if not isinstance(value, (str, dict)):
        raise ModelFileError(f"{where}: a metric must be a name or a config.{_ADVICE}")
    if isinstance(value, str) and value.strip().lower() in ("accuracy", "acc"):
        return value
    try:
        registry_value = metrics.registry.get(value, base=metrics.Metric)
    except GlassnetError as error:
        raise ModelFileError(f"{where}: {error}{_ADVICE}") from None
    return value if isinstance(value, str) else registry_value
