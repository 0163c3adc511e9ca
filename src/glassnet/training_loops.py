"""``fit`` on arrays: the epoch loop, with callbacks, sample weights and resumption.

Batch, mini-batch and stochastic gradient descent are one loop: ``batch_size=len(x)``
is batch gradient descent, ``batch_size=1`` is stochastic. Each epoch the rows are
shuffled with the model's own seeded generator, so the same seed gives bit-identical
weights.

The loop stores each batch's predictions (made before that batch's update, as Keras
reports them) and computes the epoch's loss and metrics once at the end of the
epoch, vectorized (:func:`glassnet.training.compute_logs`). Because every loss and
metric is a mean over samples (weighted by ``sample_weight``), this equals Keras'
running mean over batches, without any per-batch bookkeeping. Only when a callback
reads the logs of each batch does the loop keep Keras' running values instead
(:class:`glassnet.training_logs.RunningLogs`), which then are the epoch's logs too.

Nothing inside the batch loop validates or converts: ``fit`` checked the data once,
and the loop only gathers rows, runs the step and stores its predictions.

The epoch's end (validation as an ``evaluate`` with the same callbacks, the
divergence check, ``on_epoch_end``) and the restart from a backup
(:class:`glassnet.callbacks.BackupAndRestore`) are shared with the loop over
generators (:mod:`glassnet.stream_loops`).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.callbacks import CallbackList, History
from glassnet.callbacks.backup import FitProgress, ResumePoint
from glassnet.errors import TrainingWarning
from glassnet.eval_loops import EvalData, evaluate_data
from glassnet.models.data_checks import rows, take_rows
from glassnet.training import make_epoch_logs, make_train_step
from glassnet.training_logs import RunningLogs

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = ["begin_training", "end_epoch", "end_training", "fit_loop", "pass_generator"]

# fit shuffles data of at most this size whole each epoch (see fit_loop)
_SHUFFLED_WHOLE_BYTES = 1 << 16


def begin_training(
    model: Model, callbacks: CallbackList, progress: FitProgress, initial_epoch: int
) -> tuple[int, ResumePoint | None]:
    """``on_train_begin``, then where to start: a restored backup's point, if any.

    Returns the first epoch and, when the backup was taken inside a pass over the
    data, the point to continue that pass from (else None).

    >>> from glassnet.callbacks import CallbackList
    >>> begin_training(None, CallbackList([]), FitProgress(), initial_epoch=2)
    (2, None)
    """
    for callback in callbacks.callbacks:
        attach = getattr(callback, "attach_progress", None)
        if attach is not None:
            attach(progress)
    callbacks.on_train_begin()
    resume = progress.resume
    if resume is None:
        return initial_epoch, None
    inside = resume.pass_state is not None and (resume.batch or resume.position)
    return resume.epoch, resume if inside else None


def pass_generator(model: Model, state: dict[str, Any]) -> np.random.Generator:
    """A copy of the model's generator set to ``state``: a resumed pass's order.

    (``glassnet.io`` sits above the training loop; only a resumed run needs it.)

    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> state = dict(model.rng.bit_generator.state)
    >>> first = model.rng.permutation(5)
    >>> bool((pass_generator(model, state).permutation(5) == first).all())
    True
    """
    from glassnet.io.training_state import restore_generator

    generator = copy.deepcopy(model.rng)
    restore_generator(generator, state, "BackupAndRestore: the data pass")
    return generator


def end_epoch(
    model: Model,
    epoch: int,
    logs: dict[str, Any],
    validation: EvalData | None,
    callbacks: CallbackList,
) -> bool:
    """Validation, the divergence check and ``on_epoch_end``; True to stop training.

    >>> import numpy as np
    >>> from glassnet.callbacks import CallbackList, History
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = History()
    >>> end_epoch(model, 0, {"loss": 0.5}, None, CallbackList([history]))
    False
    >>> history.history
    {'loss': [0.5]}
    """
    if validation is not None and validation.due(epoch):
        val_logs = evaluate_data(model, validation, callbacks)
        logs.update({f"val_{key}": value for key, value in val_logs.items()})
    loss = logs.get("loss")
    if loss is not None and not math.isfinite(loss):
        _warn_diverged(model, epoch)
    callbacks.on_epoch_end(epoch, logs)
    return model.stop_training


def end_training(model: Model, callbacks: CallbackList, logs: dict[str, Any]) -> None:
    """The last steps of every ``fit``: the moving average, then ``on_train_end``.

    >>> import numpy as np
    >>> from glassnet.callbacks import CallbackList, History
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> end_training(model, CallbackList([]), {})
    """
    # With use_ema the weights become their moving average here, as in Keras' fit:
    # before on_train_end, so EarlyStopping(restore_best_weights=True) still wins.
    model.require_compiled("fit")[0].finalize_variable_values()
    callbacks.on_train_end(logs)


def fit_loop(
    model: Model,
    x: Array,
    y: Array,
    *,
    batch_size: int,
    epochs: int,
    shuffle: bool,
    validation: EvalData | None,
    callbacks: CallbackList,
    history: History,
    initial_epoch: int = 0,
    sample_weight: Array | None = None,
    progress: FitProgress | None = None,
) -> History:
    """Train ``model`` on ``(x, y)``; every argument was validated by the caller.

    >>> import numpy as np
    >>> from glassnet.callbacks import CallbackList, History
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = History()
    >>> callbacks = CallbackList([history])
    >>> callbacks.set_model(model)
    >>> x = np.ones((4, 1), dtype="float32")
    >>> _ = fit_loop(model, x, x, batch_size=2, epochs=2, shuffle=False,
    ...              validation=None, callbacks=callbacks, history=history)
    >>> history.epoch, model.optimizer.iterations
    ([0, 1], 4)
    """
    inputs = x if isinstance(x, list) else [x]
    n = len(inputs[0])
    step = make_train_step(model)
    epoch_logs = make_epoch_logs(model)
    batch_hooks = callbacks.wants("train")
    # an output's padding mask is known batch by batch: such models log that way
    masked = model.graph is not None and model.graph.masking
    running = RunningLogs(model) if callbacks.wants_logs("train") or masked else None
    tracking = progress is not None
    progress = FitProgress() if progress is None else progress
    logs: dict[str, Any] = {}
    one_output = model.heads is None
    predictions: Any = None  # each batch's predictions, when the epoch's end needs them
    if one_output and running is None:
        out_shape = model.compute_output_shape(inputs[0].shape[1:])
        predictions = np.empty((n, *out_shape), dtype=model.dtype)
    gathers = [_row_gatherer(xi, min(batch_size, n)) for xi in inputs]

    def gather_all(rows_: Array) -> Any:
        return [g(rows_) for g in gathers]

    one_input = not isinstance(x, list)
    gather = gathers[0] if one_input else gather_all
    # Data of a few rows is shuffled whole each epoch, as y is, and a batch is then
    # a slice of it: one take per epoch instead of one per batch (about 0.4 us of
    # a tiny network's 25 us step). Larger data is gathered batch by batch
    # (_row_gatherer).
    whole = sum(xi.nbytes for xi in inputs) <= _SHUFFLED_WHOLE_BYTES
    # the plain case: one output, stored whole for the epoch's logs at its end
    store = predictions is not None
    start_epoch, resume = begin_training(model, callbacks, progress, initial_epoch)
    # Divergence is detected once per epoch below (with advice), so NumPy's overflow
    # warnings from a diverging matmul are silenced rather than printed per batch.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(start_epoch, epochs):
            callbacks.on_epoch_begin(epoch)
            first = 0
            if resume is not None:  # a backup taken inside this epoch: continue it
                assert resume.pass_state is not None
                generator = pass_generator(model, resume.pass_state)
                order = generator.permutation(n) if shuffle else None
                progress.pass_state, progress.position = resume.pass_state, resume.batch
                first, resume = min(resume.batch * batch_size, n), None
            else:
                if tracking:
                    progress.start_pass(model.rng)
                order = model.rng.permutation(n) if shuffle else None
            ys = y if order is None else take_rows(y, order)
            xs = take_rows(x, order) if order is not None and whole else x
            ws = sample_weight
            if ws is not None and order is not None:
                ws = ws.take(order, axis=0)
            if running is not None:
                running.reset()
            stop = first
            for batch, start in enumerate(
                range(first, n, batch_size), first // batch_size
            ):
                stop = min(start + batch_size, n)
                if batch_hooks:
                    callbacks.on_train_batch_begin(batch)
                if order is not None and not whole:
                    xb = gather(order[start:stop])
                else:
                    xb = xs[start:stop] if one_input else rows(xs, slice(start, stop))
                wb = None if ws is None else ws[start:stop]
                if store:
                    predictions[start:stop] = step(xb, ys[start:stop], wb)
                else:
                    yb = rows(ys, slice(start, stop))
                    out = step(xb, yb, wb)
                    if running is not None:
                        running.update(yb, out, wb)
                    else:
                        if predictions is None:
                            predictions = [
                                np.empty((n, *p.shape[1:]), p.dtype) for p in out
                            ]
                        for buffer, part in zip(predictions, out, strict=True):
                            buffer[start:stop] = part
                if tracking:
                    progress.position = batch + 1
                if batch_hooks:
                    callbacks.on_train_batch_end(
                        batch, running.result() if running is not None else {}
                    )
                if model.stop_training:  # set by a callback: end here, as Keras does
                    break
            if tracking and stop >= n:
                progress.pass_state = None  # the pass is over: a backup starts anew
            if running is not None:
                logs = running.result() if stop > first else {}
            elif stop > first:
                # The epoch's logs cover the rows trained, all of them unless stopped.
                trained = slice(first, stop)
                logs = epoch_logs(
                    rows(ys, trained),
                    rows(predictions, trained),
                    None if ws is None else ws[trained],
                )
            else:
                logs = {}
            if end_epoch(model, epoch, logs, validation, callbacks):
                break
    end_training(model, callbacks, logs)
    return history


def _row_gatherer(x: Array, batch_size: int) -> Callable[[Array], Array]:
    """Return ``gather(rows) -> x[rows]``, written into one buffer reused by every batch.

    Why: shuffling with ``x[permutation]`` copies the whole data set every epoch,
    doubling its memory and streaming it through the cache once more, while the
    step only ever needs one batch of rows. ``mode="clip"`` because the rows are a
    permutation, always in range, and the default ``"raise"`` copies through a
    temporary before writing ``out``. (Data of at most ``_SHUFFLED_WHOLE_BYTES`` is
    shuffled whole all the same: copying a few rows costs less than a call per batch.)
    """
    buffer = np.empty((batch_size, *x.shape[1:]), dtype=x.dtype)

    def gather(rows: Array) -> Array:
        out = buffer if len(rows) == batch_size else buffer[: len(rows)]
        return x.take(rows, axis=0, out=out, mode="clip")

    return gather


def _warn_diverged(model: Model, epoch: int) -> None:
    optimizer, _ = model.require_compiled("fit")
    warnings.warn(
        TrainingWarning(
            f"The loss became NaN or inf at epoch {epoch + 1}, so training stopped. "
            f"Try a smaller learning_rate (now {optimizer.learning_rate:g}), "
            "standardize the inputs, or check the labels for the loss."
        ),
        stacklevel=5,
    )
    model.stop_training = True
