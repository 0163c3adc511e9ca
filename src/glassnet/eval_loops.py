"""``evaluate`` and ``predict`` with callbacks, and the validation inside ``fit``.

Two paths, as for training:

- arrays and no callback with a test (or predict) batch hook: one ``predict_loop``
  over the data and one vectorized :func:`~glassnet.training.compute_logs` (the
  fast path ``evaluate`` always had); ``on_test_begin``/``on_test_end`` still run;
- otherwise batch by batch (:class:`~glassnet.data_adapters.Batches`), calling
  ``on_test_batch_begin/end`` with the running loss and metrics (Keras' values so
  far) or ``on_predict_batch_begin/end`` with ``{"outputs": ...}``.

Keras runs ``fit``'s validation as an ``evaluate`` with the same callbacks, so the
test hooks run inside ``fit`` too (:func:`evaluate_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.callbacks import CallbackList
from glassnet.data_adapters import ArrayBatches, Batches
from glassnet.errors import DataError
from glassnet.models.data_checks import check_batch
from glassnet.models.penalties import reset_activity_sums
from glassnet.training import compute_logs, predict_loop
from glassnet.training_logs import RunningLogs

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = ["EvalData", "evaluate_data", "predict_data"]


@dataclass
class EvalData:
    """What to evaluate on: checked arrays, or batches to check one by one.

    ``steps`` limits the number of batches (None: all of them).

    >>> import numpy as np
    >>> data = EvalData(np.zeros((5, 2)), np.zeros((5, 1)), batch_size=2)
    >>> data.source().length
    3
    """

    x: Any = None
    y: Any = None
    w: Array | None = None
    batches: Batches | None = None
    steps: int | None = None
    batch_size: int = 32
    class_weight: dict[int, float] | None = None
    #: fit's ``validation_freq``: every ``freq``-th epoch, or the epochs listed (1-based)
    freq: int | frozenset[int] = 1

    def due(self, epoch: int) -> bool:
        """Whether ``fit`` validates after ``epoch`` (0-based), as Keras decides.

        >>> data = EvalData(freq=2)
        >>> [data.due(epoch) for epoch in range(4)]
        [False, True, False, True]
        >>> [EvalData(freq=frozenset({1, 3})).due(epoch) for epoch in range(4)]
        [True, False, True, False]
        """
        if isinstance(self.freq, int):
            return (epoch + 1) % self.freq == 0
        return epoch + 1 in self.freq

    def source(self) -> Batches:
        """The data as batches (arrays are cut into ``batch_size`` rows)."""
        if self.batches is not None:
            return self.batches
        return ArrayBatches(self.x, self.y, self.w, self.batch_size)


def _forward(model: Model, x: Any) -> Any:
    if model.overflow_guard:  # sigmoid or silu: exp -> inf is harmless
        with np.errstate(over="ignore"):
            return model.forward(x, training=False)
    return model.forward(x, training=False)


def evaluate_data(
    model: Model, data: EvalData, callbacks: CallbackList
) -> dict[str, Any]:
    """The loss and metrics on ``data`` (inference mode), calling the test hooks.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1, kernel_initializer="zeros")])
    >>> model.compile(loss="mse")
    >>> data = EvalData(np.ones((4, 1)), np.full((4, 1), 2.0), batch_size=3)
    >>> evaluate_data(model, data, CallbackList([]))
    {'loss': 4.0}
    """
    callbacks.on_test_begin()
    masked = model.graph is not None and model.graph.masking  # logged batch by batch
    if (
        data.batches is None
        and data.steps is None
        and not callbacks.wants("test")
        and not masked
    ):
        logs = compute_logs(
            model,
            data.y,
            predict_loop(model, data.x, data.batch_size),
            sample_weight=data.w,
        )
        callbacks.on_test_end(logs)
        return logs
    hooks, with_logs = callbacks.wants("test"), callbacks.wants_logs("test")
    running = RunningLogs(model, training=False)
    running.reset()
    if model.activity_layers:
        reset_activity_sums(model)
    source = data.source()
    source.start_pass(None)
    batch = 0
    try:
        while data.steps is None or batch < data.steps:
            try:
                raw = source.take()
            except StopIteration:
                break
            xb, yb, wb = (
                check_batch(model, raw, f"evaluation batch {batch}", data.class_weight)
                if source.raw
                else raw
            )
            if hooks:
                callbacks.on_test_batch_begin(batch)
            running.update(yb, _forward(model, xb), wb)
            if hooks:
                callbacks.on_test_batch_end(
                    batch, running.result() if with_logs else {}
                )
            batch += 1
    finally:
        if data.batches is None:
            source.close()
    if batch == 0:
        raise DataError("The evaluation data yielded no batch.")
    logs = running.result()
    callbacks.on_test_end(logs)
    return logs


def predict_data(
    model: Model, data: EvalData, callbacks: CallbackList, verbose: int
) -> Any:
    """The model's outputs on ``data``, calling the predict hooks.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1, kernel_initializer="ones")])
    >>> predict_data(model, EvalData(np.ones((3, 1))), CallbackList([]), 0).ravel()
    array([1., 1., 1.], dtype=float32)
    """
    callbacks.on_predict_begin()
    if data.batches is None and data.steps is None and not callbacks.wants("predict"):
        out = predict_loop(model, data.x, data.batch_size, verbose)
        callbacks.on_predict_end()
        return out
    hooks = callbacks.wants("predict")
    source = data.source()
    source.start_pass(None)
    parts: list[list[Array]] = []
    batch = 0
    if model.activity_layers:
        reset_activity_sums(model)
    try:
        while data.steps is None or batch < data.steps:
            try:
                raw = source.take()
            except StopIteration:
                break
            xb = (
                check_batch(
                    model, raw, f"prediction batch {batch}", None, targets=False
                )[0]
                if source.raw
                else raw[0]
            )
            if hooks:
                callbacks.on_predict_batch_begin(batch)
            out = _forward(model, xb)
            outs = out if isinstance(out, list) else [out]
            parts.append([np.asarray(o, dtype=model.dtype) for o in outs])
            if hooks:
                callbacks.on_predict_batch_end(batch, {"outputs": out})
            batch += 1
    finally:
        if data.batches is None:
            source.close()
    if not parts:
        raise DataError("The prediction data yielded no batch.")
    callbacks.on_predict_end()
    outputs = [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
    return outputs if len(outputs) > 1 else outputs[0]
