"""``Callback``, Keras' hooks into ``fit``, ``evaluate`` and ``predict``; ``CallbackList``.

A callback overrides any of Keras 3's hooks:

- ``on_train_begin/end``, ``on_test_begin/end``, ``on_predict_begin/end``: once per
  ``fit`` / ``evaluate`` / ``predict`` (``fit`` runs its validation as an
  ``evaluate``, so the test hooks run inside it too);
- ``on_epoch_begin/end``: each epoch of ``fit``, the epoch's loss and metrics (and
  the ``val_`` ones) in ``logs`` at the end;
- ``on_train_batch_begin/end``, ``on_test_batch_begin/end``,
  ``on_predict_batch_begin/end``: each batch. At a train or test batch's end,
  ``logs`` holds the loss and metrics *so far in the epoch* (the running mean of
  the loss, each metric's value over the batches seen), as Keras gives them; at a
  predict batch's end, ``{"outputs": the batch's predictions}``. Keras 2's
  ``on_batch_begin/end`` are the train hooks' aliases.

Before any hook runs, the loop hands each callback the model (``self.model``) and
``self.params``: ``{"verbose": ..., "epochs": ..., "steps": batches per epoch, or
None when a generator's length is unknown}`` (with arrays also ``samples`` and
``batch_size``). Every hook receives a new dict (empty when there is nothing to
report), never None, with its numbers as Python floats; the callbacks of one
call share it, so a value one of them adds (``learning_rate``) reaches the ones
after it, ``History`` included. (Keras 3 also sorts the keys; glassnet keeps
the loss first, then the metrics in compile order, then the ``val_`` ones.)

The running loss and metrics cost a little per batch, so the loop computes them
only when some callback overrides a train or test batch hook and reads its
``logs``: a callback whose batch hooks never look at ``logs`` (a progress bar, a
stop flag) says so with ``uses_batch_logs = False``.

>>> class PrintLoss(Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         print(f"epoch {epoch}: loss {logs['loss']:.3f}")
>>> CallbackList([PrintLoss()]).wants_batch_logs
False
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["Callback", "CallbackList", "Logs", "format_logs", "pythonify_logs"]

Logs = dict[str, Any]

#: the per-batch hooks of each mode, as CallbackList dispatches them
_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}
#: Keras 2's names: overriding them counts as overriding the train batch hooks
_ALIASES = {
    "on_train_batch_begin": "on_batch_begin",
    "on_train_batch_end": "on_batch_end",
}


def pythonify_logs(logs: Logs | None) -> Logs:
    """The logs a hook receives: a new dict, numbers as Python floats (a per-class
    array stays an array), as Keras 3 hands them (Keras also sorts the keys;
    glassnet keeps the loss first, then the metrics in compile order).

    >>> pythonify_logs({"loss": np.float32(0.5), "accuracy": 1})
    {'loss': 0.5, 'accuracy': 1.0}
    """
    if not logs:
        return {}
    result: Logs = {}
    for key, value in logs.items():
        if isinstance(value, np.ndarray) and value.ndim:
            result[key] = value
            continue
        try:
            result[key] = float(value)
        except (TypeError, ValueError):
            result[key] = value
    return result


def format_logs(logs: Logs) -> str:
    """Keras-style ``loss: 0.6917 - accuracy: 0.7500``.

    A metric with one value per class (``F1Score(average=None)``) shows their
    mean, as Keras' progress bar does.

    >>> format_logs({"loss": 0.69172, "accuracy": 0.75})
    'loss: 0.6917 - accuracy: 0.7500'
    >>> format_logs({"f1_score": np.array([0.5, 1.0])})
    'f1_score: 0.7500'
    """
    return " - ".join(
        f"{key}: {float(np.mean(value)):.4f}" for key, value in logs.items()
    )


class Callback:
    """Base class: every hook does nothing until overridden.

    Attributes
    ----------
    model : Model
        The model being trained, evaluated or used for prediction (set by the loop).
    params : dict
        ``{"verbose", "epochs", "steps"}`` of the current run.
    uses_batch_logs : bool
        False on a callback whose batch hooks ignore ``logs``: ``fit`` then need
        not compute the running loss and metrics for it.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> class LossPerBatch(Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.losses = []
    ...     def on_train_batch_end(self, batch, logs=None):
    ...         self.losses.append(logs["loss"])
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> record = LossPerBatch()
    >>> history = model.fit(np.ones((4, 1)), np.ones((4, 1)), batch_size=2,
    ...                     callbacks=[record], verbose=0, shuffle=False)
    >>> len(record.losses), record.losses[-1] == history.history["loss"][0]
    (2, True)
    """

    uses_batch_logs = True

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.model: Any = None

    def set_model(self, model: Any) -> None:
        """Called before the run with the model being trained, evaluated or used."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Called before the run with ``{"verbose", "epochs", "steps"}``."""
        self.params = params

    # -- whole runs --------------------------------------------------------------
    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Before the first epoch of ``fit``."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """After the last epoch (or an early stop), with the last epoch's logs."""

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Before ``evaluate`` (and before each validation inside ``fit``)."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """After ``evaluate``, with its loss and metrics."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Before ``predict``."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """After ``predict``."""

    # -- epochs ------------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Before each epoch of ``fit``; ``epoch`` counts from 0."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """After each epoch, with its loss and metrics (and ``val_`` ones) in ``logs``."""

    # -- batches -----------------------------------------------------------------
    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Before each training step (``batch`` counts from 0 in each epoch)."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each training step, with the loss and metrics so far this epoch."""
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Before each batch of ``evaluate`` (or of ``fit``'s validation)."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each evaluation batch, with the loss and metrics so far."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Before each batch of ``predict``."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each batch of ``predict``: ``logs["outputs"]`` is its output."""

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Keras 2's name for :meth:`on_train_batch_begin`."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Keras 2's name for :meth:`on_train_batch_end`."""


def overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (its class's or its own attribute).

    An instance attribute counts (``LambdaCallback`` sets its hooks that way), and
    overriding a train batch hook's Keras 2 alias counts for the hook.

    >>> class Stop(Callback):
    ...     def on_batch_end(self, batch, logs=None):
    ...         pass
    >>> overrides(Stop(), "on_train_batch_end"), overrides(Stop(), "on_epoch_end")
    (True, False)
    """
    if hook in vars(callback):
        return True
    if getattr(type(callback), hook, None) is not getattr(Callback, hook):
        return True
    alias = _ALIASES.get(hook)
    return alias is not None and overrides(callback, alias)


class CallbackList:
    """Calls a list of callbacks in order; batch hooks go only to those that have them.

    Each batch hook runs once per step; calling empty methods there costs real time
    for tiny networks, so only the callbacks that override a hook are called for it.
    Every hook receives a dict (``{}`` when there is nothing to report).

    >>> from glassnet.callbacks import History
    >>> callbacks = CallbackList([History()])
    >>> callbacks.wants_batch_hooks, callbacks.wants_batch_logs
    (False, False)
    """

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)
        self._batch: dict[str, list[Callback]] = {}
        for hooks in _BATCH_HOOKS.values():
            for hook in hooks:
                self._batch[hook] = [c for c in self.callbacks if overrides(c, hook)]
        self._logs = {
            mode: any(c.uses_batch_logs for hook in hooks for c in self._batch[hook])
            for mode, hooks in _BATCH_HOOKS.items()
        }

    def set_model(self, model: Any) -> None:
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.set_params(params)

    def _each(self, hook: str, logs: Logs | None) -> None:
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(logs)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._each("on_train_begin", logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._each("on_train_end", logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        self._each("on_test_begin", logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        self._each("on_test_end", logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._each("on_predict_begin", logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._each("on_predict_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        # The loop's logs are Python floats already: handed over as they are, so
        # a value a callback adds (learning_rate) reaches the ones after it.
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def batch_hook(self, hook: str, batch: int, logs: Logs | None = None) -> None:
        """Call ``hook`` (e.g. ``"on_test_batch_end"``) on the callbacks that have it."""
        logs = {} if logs is None else logs
        for callback in self._batch[hook]:
            getattr(callback, hook)(batch, logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self.batch_hook("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self.batch_hook("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self.batch_hook("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self.batch_hook("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self.batch_hook("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self.batch_hook("on_predict_batch_end", batch, logs)

    def wants(self, mode: str) -> bool:
        """Whether any callback overrides a batch hook of ``mode`` (train/test/predict)."""
        begin, end = _BATCH_HOOKS[mode]
        return bool(self._batch[begin] or self._batch[end])

    def wants_logs(self, mode: str) -> bool:
        """Whether a callback with a ``mode`` batch hook reads its ``logs``."""
        return self._logs[mode]

    @property
    def wants_batch_hooks(self) -> bool:
        """Whether any callback overrides a train batch hook."""
        return self.wants("train")

    @property
    def wants_batch_logs(self) -> bool:
        """Whether a train batch hook reads ``logs`` (so ``fit`` computes them)."""
        return self._logs["train"]
