"""What ``evaluate``, ``predict`` and the ``*_on_batch`` methods do.

As :mod:`glassnet.models.training_api` does for ``fit``: check the arguments,
choose arrays or batches (:mod:`glassnet.data_adapters`), assemble the callbacks
and run the loop (:mod:`glassnet.eval_loops`). ``train_on_batch``,
``test_on_batch`` and ``predict_on_batch`` are one step each, with Keras 3's
values: the metrics are reset first, so they describe that batch alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._validation import check_bool
from glassnet.callbacks import format_logs
from glassnet.data_adapters import is_batch_stream
from glassnet.errors import InvalidArgumentError
from glassnet.eval_loops import EvalData, evaluate_data, predict_data
from glassnet.models.compiled_metrics import logged_metrics, loss_keys
from glassnet.models.data_checks import (
    check_batch_size,
    check_callbacks,
    check_inputs_and_targets,
    check_verbose,
)
from glassnet.models.penalties import reset_activity_sums
from glassnet.models.sample_weights import (
    check_class_weight,
    check_sample_weight,
    class_weight_to_sample_weight,
)
from glassnet.models.training_api import (
    batch_source,
    check_steps,
    first_rows,
    make_callbacks,
    stream_only,
    unit_count,
)
from glassnet.training import make_train_step
from glassnet.training_logs import RunningLogs

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = [
    "evaluate",
    "evaluate_batch",
    "flatten_logs",
    "predict",
    "predict_batch",
    "train_batch",
]


def evaluate(
    model: Model,
    x: Any,
    y: Any,
    *,
    batch_size: Any,
    verbose: Any,
    sample_weight: Any,
    steps: Any,
    callbacks: Any,
    return_dict: Any,
) -> Any:
    """``Model.evaluate``: the loss and metrics, as a value, a list or a dict.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1, kernel_initializer="zeros")])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> evaluate(model, np.ones((4, 1)), np.full((4, 1), 2.0), batch_size=None,
    ...          verbose=0, sample_weight=[1, 1, 0, 0], steps=None, callbacks=None,
    ...          return_dict=True)
    {'loss': 2.0, 'mae': 2.0}
    """
    _, loss = model.require_compiled("evaluate")
    batch_size = check_batch_size(batch_size)
    verbose = check_verbose(verbose)
    steps = check_steps(steps, "steps")
    return_dict = check_bool(return_dict, "return_dict")
    user_callbacks = check_callbacks(callbacks)
    if is_batch_stream(x):
        stream_only("y", y)
        stream_only("sample_weight", sample_weight)
        source = batch_source(x)
        first_rows(model, source, targets=True)
        data = EvalData(batches=source, steps=steps, batch_size=batch_size)
        count = steps or source.length
    else:
        x_arr, y_arr = check_inputs_and_targets(model, loss, x, y)
        first = x_arr[0] if isinstance(x_arr, list) else x_arr
        w = check_sample_weight(sample_weight, len(first), model.dtype)
        if not model.built:
            model.build((None, *first.shape[1:]))
        data = EvalData(x_arr, y_arr, w, steps=steps, batch_size=batch_size)
        count = steps or -(-len(first) // batch_size)
    callback_list = make_callbacks(
        model, user_callbacks, {"verbose": verbose, "epochs": 1, "steps": count}
    )
    try:
        logs = evaluate_data(model, data, callback_list)
    finally:
        if data.batches is not None:
            data.batches.close()
    if verbose:
        print(format_logs(logs))
    return logs if return_dict else flatten_logs(logs, model)


def predict(
    model: Model, x: Any, *, batch_size: Any, verbose: Any, steps: Any, callbacks: Any
) -> Any:
    """``Model.predict``: the outputs for ``x`` in inference mode.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1, kernel_initializer="zeros")])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> predict(model, np.ones((2, 1)), batch_size=None, verbose=0, steps=None,
    ...         callbacks=None).shape
    (2, 1)
    """
    batch_size = check_batch_size(batch_size)
    verbose = check_verbose(verbose)
    steps = check_steps(steps, "steps")
    user_callbacks = check_callbacks(callbacks)
    if is_batch_stream(x):
        source = batch_source(x)
        first_rows(model, source, targets=False)
        data = EvalData(batches=source, steps=steps, batch_size=batch_size)
        count = steps or source.length
    else:
        x_arr = model._checked_and_built(x)
        data = EvalData(x_arr, steps=steps, batch_size=batch_size)
        first = x_arr[0] if isinstance(x_arr, list) else x_arr
        count = steps or -(-len(first) // batch_size)
    callback_list = make_callbacks(
        model, user_callbacks, {"verbose": verbose, "epochs": 1, "steps": count}
    )
    try:
        return predict_data(model, data, callback_list, verbose)
    finally:
        if data.batches is not None:
            data.batches.close()


def flatten_logs(logs: dict[str, Any], model: Model | None = None) -> Any:
    """Keras' return value: the loss alone, or ``[loss, metric, ...]``.

    In Keras 3's order (``Trainer._flatten_metrics_in_order``): ``loss``, then the
    logs named as a compiled metric's own name, then each output's ``<output>_loss``,
    then the other keys sorted (``<output>_<metric>``, ``weighted_<metric>``).
    Keras repeats a value whose metric name two compiled metrics share; glassnet
    gives each value once.

    >>> flatten_logs({"loss": 0.5}), flatten_logs({"loss": 0.5, "mae": 0.25})
    (0.5, [0.5, 0.25])
    """
    if model is None:
        values = list(logs.values())
    else:
        names = ["loss", *(entry.metric.name for entry in logged_metrics(model))]
        names += loss_keys(model)[1:]
        ordered = [name for name in dict.fromkeys(names) if name in logs]
        ordered += sorted(key for key in logs if key not in ordered)
        values = [logs[key] for key in ordered]
    return values[0] if len(values) == 1 else values


def _batch_arrays(
    model: Model, what: str, x: Any, y: Any, sample_weight: Any, class_weight: Any
) -> tuple[Any, Any, Any]:
    _, loss = model.require_compiled(what)
    x_arr, y_arr = check_inputs_and_targets(model, loss, x, y)
    first = x_arr[0] if isinstance(x_arr, list) else x_arr
    if not model.built:
        model.build((None, *first.shape[1:]))
    w = check_sample_weight(sample_weight, len(first), model.dtype)
    weights_by_class = check_class_weight(class_weight)
    if weights_by_class is not None:
        if w is not None:
            raise InvalidArgumentError(
                "Give `sample_weight` or `class_weight`, not both (as in Keras)."
            )
        if model.heads is not None:
            raise InvalidArgumentError(
                "Argument `class_weight` is for models with one output, as in Keras."
            )
        w = class_weight_to_sample_weight(
            weights_by_class, y_arr, unit_count(model)
        ).astype(model.dtype)
    return x_arr, y_arr, w


def train_batch(
    model: Model,
    x: Any,
    y: Any,
    sample_weight: Any,
    class_weight: Any,
    return_dict: Any,
) -> Any:
    """One gradient step on one batch; the loss and metrics of that batch.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1, kernel_initializer="zeros")])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> train_batch(model, np.ones((2, 1)), np.full((2, 1), 2.0), None, None, False)
    [4.0, 2.0]

    As Keras 3: the metrics are reset first, so the values are this batch's, from
    the predictions made before the update.
    """
    return_dict = check_bool(return_dict, "return_dict")
    x_arr, y_arr, w = _batch_arrays(
        model, "train_on_batch", x, y, sample_weight, class_weight
    )
    step = make_train_step(model)
    running = RunningLogs(model)
    running.reset()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = step(x_arr, y_arr, w)
        running.update(y_arr, out, w)
    logs = running.result()
    return logs if return_dict else flatten_logs(logs, model)


def evaluate_batch(
    model: Model, x: Any, y: Any, sample_weight: Any, return_dict: Any
) -> Any:
    """The loss and metrics of one batch in inference mode (metrics reset first).

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1, kernel_initializer="zeros")])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> evaluate_batch(model, np.ones((2, 1)), np.full((2, 1), 2.0), None, True)
    {'loss': 4.0, 'mae': 2.0}
    """
    return_dict = check_bool(return_dict, "return_dict")
    x_arr, y_arr, w = _batch_arrays(model, "test_on_batch", x, y, sample_weight, None)
    running = RunningLogs(model, training=False)
    running.reset()
    if model.activity_layers:
        reset_activity_sums(model)
    with np.errstate(over="ignore"):
        running.update(y_arr, model.forward(x_arr, training=False), w)
    logs = running.result()
    return logs if return_dict else flatten_logs(logs, model)


def predict_batch(model: Model, x: Any) -> Any:
    """The outputs for one batch, in one forward pass (inference mode).

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1, kernel_initializer="zeros")])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> predict_batch(model, np.ones((2, 1))).ravel()
    array([0., 0.], dtype=float32)
    """
    x_arr = model._checked_and_built(x)
    with np.errstate(over="ignore"):
        out = model.forward(x_arr, training=False)
    if isinstance(out, list):
        return [np.array(o, dtype=model.dtype) for o in out]
    return np.array(out, dtype=model.dtype)
