"""``fit`` on data that arrives batch by batch: a PyDataset, a generator, an iterable.

The epoch loop of :mod:`glassnet.training_loops`, over a
:class:`~glassnet.data_adapters.Batches` source instead of arrays: each batch is
checked when it arrives (:func:`~glassnet.models.data_checks.check_batch`, whose
errors name the batch), and the epoch's loss and metrics accumulate batch by batch
(:class:`~glassnet.training_logs.RunningLogs`), as there is no epoch array to
compute them from at the end.

Passes over the data follow Keras 3 (see :mod:`glassnet.data_adapters`): without
``steps_per_epoch`` an epoch is one pass; with it, an epoch takes that many
batches, continuing the current pass, and a pass that ends first ends the epoch
with a warning. A pass that yields nothing (an exhausted generator) stops training
with a warning.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet.callbacks import CallbackList, History
from glassnet.callbacks.backup import FitProgress
from glassnet.data_adapters import Batches
from glassnet.errors import TrainingWarning
from glassnet.eval_loops import EvalData
from glassnet.models.data_checks import check_batch
from glassnet.training import make_train_step
from glassnet.training_logs import RunningLogs
from glassnet.training_loops import (
    begin_training,
    end_epoch,
    end_training,
    pass_generator,
)

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = ["fit_batches"]

_RAN_OUT = (
    "Your input ran out of data{where}; {what}. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches (a generator "
    "can be read only once: pass steps_per_epoch with an endless one, or a "
    "PyDataset)."
)


def fit_batches(
    model: Model,
    source: Batches,
    *,
    epochs: int,
    steps_per_epoch: int | None,
    validation: EvalData | None,
    callbacks: CallbackList,
    history: History,
    initial_epoch: int = 0,
    class_weight: dict[int, float] | None = None,
    progress: FitProgress | None = None,
) -> History:
    """Train ``model`` on the batches of ``source``; arguments checked by the caller.

    >>> import numpy as np
    >>> from glassnet.callbacks import CallbackList, History
    >>> from glassnet.data_adapters import IterableBatches
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = History()
    >>> callbacks = CallbackList([history])
    >>> callbacks.set_model(model)
    >>> batches = IterableBatches([(np.ones((2, 1)), np.ones((2, 1)))] * 3)
    >>> _ = fit_batches(model, batches, epochs=2, steps_per_epoch=None,
    ...                 validation=None, callbacks=callbacks, history=history)
    >>> history.epoch, model.optimizer.iterations
    ([0, 1], 6)
    """
    step = make_train_step(model)
    running = RunningLogs(model)
    batch_hooks = callbacks.wants("train")
    with_logs = callbacks.wants_logs("train")
    progress = FitProgress() if progress is None else progress
    start_epoch, resume = begin_training(model, callbacks, progress, initial_epoch)
    in_pass = False
    first_batch = 0
    if resume is not None:
        assert resume.pass_state is not None
        source.start_pass(pass_generator(model, resume.pass_state))
        source.skip(resume.position)
        progress.pass_state, progress.position = resume.pass_state, resume.position
        in_pass, first_batch = True, resume.batch
    limit = steps_per_epoch or source.length
    logs: dict[str, Any] = {}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(start_epoch, epochs):
            running.reset()
            callbacks.on_epoch_begin(epoch)
            source.epoch_begin()
            if not in_pass:
                progress.start_pass(model.rng)
                source.start_pass(model.rng)
                in_pass = True
            batch, first_batch = first_batch, 0
            first, ran_out = batch, False
            while limit is None or batch < limit:
                try:
                    raw = source.take()
                except StopIteration:
                    ran_out = True
                    break
                label = f"batch {batch} (from 0) of epoch {epoch + 1}"
                xb, yb, wb = (
                    check_batch(model, raw, label, class_weight) if source.raw else raw
                )
                if batch_hooks:
                    callbacks.on_train_batch_begin(batch)
                out = step(xb, yb, wb)
                running.update(yb, out, wb)
                progress.position += 1
                if batch_hooks:
                    callbacks.on_train_batch_end(
                        batch, running.result() if with_logs else {}
                    )
                batch += 1
                if model.stop_training:
                    break
            if ran_out or (
                source.length is not None and progress.position >= source.length
            ):
                in_pass = False
                progress.pass_state = None
            if steps_per_epoch is None:
                in_pass = False
                progress.pass_state = None
            if batch == first and ran_out and first == 0:
                warnings.warn(
                    TrainingWarning(
                        _RAN_OUT.format(
                            where=f" at the start of epoch {epoch + 1}",
                            what="training stopped",
                        )
                    ),
                    stacklevel=3,
                )
                source.epoch_end()
                break
            if ran_out and steps_per_epoch is not None:
                warnings.warn(
                    TrainingWarning(
                        _RAN_OUT.format(
                            where=f" in epoch {epoch + 1} after {batch} batches",
                            what="the epoch ended early",
                        )
                    ),
                    stacklevel=3,
                )
            logs = running.result() if batch > first else {}
            source.epoch_end()
            if end_epoch(model, epoch, logs, validation, callbacks):
                break
    end_training(model, callbacks, logs)
    return history
