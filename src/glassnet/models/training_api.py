"""What ``fit`` does (``evaluate``, ``predict`` and the ``*_on_batch`` methods:
:mod:`glassnet.models.evaluation_api`).

:class:`~glassnet.models.Model` keeps Keras' signatures and docstrings; the work is
here: check every argument at the boundary (``models/data_checks.py``,
``models/sample_weights.py``), pick the data path (arrays, or batches from a
generator or PyDataset: :mod:`glassnet.data_adapters`), assemble the callbacks
(the user's, then ``History`` and the progress bar; ``BackupAndRestore`` moved last
of the user's, so that its backup sees what the others did at each epoch's end),
and run the loop (:mod:`glassnet.training_loops`, :mod:`glassnet.stream_loops`,
:mod:`glassnet.eval_loops`). A call refused here changes nothing: no weight, no
file, no generator state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glassnet._validation import (
    check_bool,
    check_in_range,
    check_positive_int,
    is_integer,
)
from glassnet.callbacks import (
    BackupAndRestore,
    Callback,
    CallbackList,
    History,
    LearningRateScheduler,
    ProgressBar,
    ReduceLROnPlateau,
)
from glassnet.callbacks.backup import FitProgress
from glassnet.data_adapters import (
    ArrayBatches,
    Batches,
    DatasetBatches,
    IterableBatches,
    PyDataset,
    is_batch_stream,
    unpack_batch,
)
from glassnet.errors import InvalidArgumentError
from glassnet.eval_loops import EvalData
from glassnet.models.compiled_metrics import log_names
from glassnet.models.data_checks import (
    check_batch,
    check_batch_size,
    check_callbacks,
    check_initial_epoch,
    check_inputs,
    check_inputs_and_targets,
    check_verbose,
    split_validation,
)
from glassnet.models.outputs import check_metric_targets
from glassnet.models.sample_weights import (
    check_class_weight,
    check_classes_present,
    check_sample_weight,
    class_weight_to_sample_weight,
)
from glassnet.stream_loops import fit_batches
from glassnet.training_loops import fit_loop

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = [
    "batch_source",
    "check_steps",
    "check_validation_freq",
    "first_rows",
    "fit",
    "make_callbacks",
    "stream_only",
    "unit_count",
]


def check_steps(value: Any, name: str) -> int | None:
    """``steps_per_epoch``, ``validation_steps`` or ``steps``: None or a positive int.

    >>> check_steps(None, "steps"), check_steps(3, "steps")
    (None, 3)
    """
    return None if value is None else check_positive_int(value, name)


def check_validation_freq(value: Any) -> int | frozenset[int]:
    """``validation_freq``: a positive int, or the (1-based) epochs to validate after.

    >>> check_validation_freq(2), sorted(check_validation_freq([5, 1]))
    (2, [1, 5])
    """
    if isinstance(value, (list, tuple, set, frozenset)):
        epochs = list(value)
        if epochs and all(is_integer(e) and e >= 1 for e in epochs):
            return frozenset(int(e) for e in epochs)
    elif is_integer(value) and value >= 1:
        return int(value)
    raise InvalidArgumentError(
        "Argument `validation_freq` must be a positive integer (validate every that "
        "many epochs) or a non-empty list of epoch numbers counted from 1. "
        f"Received: validation_freq={value!r}"
    )


def batch_source(x: Any, shuffle: bool = False) -> Batches:
    """The batches of a PyDataset (by index, shuffled if asked) or of an iterable.

    >>> batch_source(iter([])).length is None
    True
    """
    if isinstance(x, PyDataset):
        return DatasetBatches(x, shuffle)
    return IterableBatches(x)


def stream_only(name: str, value: Any) -> None:
    """Refuse ``y``, ``sample_weight``... given next to batches that hold them.

    >>> stream_only("y", [1, 2])
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Argument `y` must be None when `x` is ...
    """
    if value is not None:
        raise InvalidArgumentError(
            f"Argument `{name}` must be None when `x` is a generator or PyDataset: "
            f"its batches hold the targets and weights. Received: {name}={value!r}"
        )


def first_rows(model: Model, source: Batches, targets: bool) -> tuple[Any, Any]:
    """The first batch of a stream, checked; it builds an unbuilt model.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1)])
    >>> model.compile(loss="mse")
    >>> source = batch_source(iter([(np.ones((2, 3)), np.ones((2, 1)))]))
    >>> [a.shape for a in first_rows(model, source, targets=True)], model.built
    ([(2, 3), (2, 1)], True)
    """
    if isinstance(source, DatasetBatches):
        raw = source.dataset[0]
    else:
        assert isinstance(source, IterableBatches)
        raw = source.peek()
    x = unpack_batch(raw)[0]
    if not model.built:
        first = check_inputs(model, x)
        sample = first[0] if isinstance(first, list) else first
        model.build((None, *sample.shape[1:]))
    x_arr, y_arr, _ = check_batch(model, raw, "batch 0", None, targets=targets)
    return x_arr, y_arr


def unit_count(model: Model) -> int | None:
    """The width of a one-output model's output (what class weights may name).

    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> unit_count(Sequential([Dense(4, input_dim=2)]))
    4
    """
    shape = model.output_shape
    return (
        shape[-1] if isinstance(shape, tuple) and isinstance(shape[-1], int) else None
    )


def make_callbacks(
    model: Model,
    user: list[Callback],
    params: dict[str, Any],
    extra: list[Callback] | None = None,
) -> CallbackList:
    """The user's callbacks (BackupAndRestore last of them), then ``extra``, set up.

    >>> from glassnet.callbacks import BackupAndRestore, History
    >>> backup, history = BackupAndRestore("b"), History()
    >>> made = make_callbacks(None, [backup, history], {"epochs": 1})
    >>> made.callbacks == [history, backup], backup.params
    (True, {'epochs': 1})
    """
    backups = [c for c in user if isinstance(c, BackupAndRestore)]
    ordered = [c for c in user if not isinstance(c, BackupAndRestore)] + backups
    callbacks = CallbackList([*ordered, *(extra or [])])
    callbacks.set_model(model)
    callbacks.set_params(params)
    return callbacks


def _log_names(model: Model, validation: bool, callbacks: list[Callback]) -> set[str]:
    """The keys of the epoch logs ``fit`` will produce (for ModelCheckpoint's check)."""
    names = set(log_names(model))
    if validation:
        names |= {f"val_{name}" for name in names}
    if any(
        isinstance(c, (LearningRateScheduler, ReduceLROnPlateau)) for c in callbacks
    ):
        names.add("learning_rate")
    return names


def fit(
    model: Model,
    x: Any,
    y: Any,
    *,
    batch_size: Any,
    epochs: Any,
    verbose: Any,
    callbacks: Any,
    validation_split: Any,
    validation_data: Any,
    shuffle: Any,
    class_weight: Any,
    sample_weight: Any,
    initial_epoch: Any,
    steps_per_epoch: Any,
    validation_steps: Any,
    validation_batch_size: Any,
    validation_freq: Any = 1,
) -> History:
    """``Model.fit``: check everything, then run the loop for this kind of data.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = fit(model, np.ones((4, 1)), np.ones((4, 1)), batch_size=2, epochs=2,
    ...               verbose=0, callbacks=None, validation_split=0.0,
    ...               validation_data=None, shuffle=True, class_weight=None,
    ...               sample_weight=None, initial_epoch=0, steps_per_epoch=None,
    ...               validation_steps=None, validation_batch_size=None)
    >>> history.epoch, model.optimizer.iterations
    ([0, 1], 4)
    """
    _, loss = model.require_compiled("fit")
    batch_size = check_batch_size(batch_size)
    epochs = check_positive_int(epochs, "epochs")
    initial_epoch = check_initial_epoch(initial_epoch, epochs)
    verbose = check_verbose(verbose)
    shuffle = check_bool(shuffle, "shuffle")
    split = check_in_range(validation_split, "validation_split", 0.0, 1.0)
    steps_per_epoch = check_steps(steps_per_epoch, "steps_per_epoch")
    validation_steps = check_steps(validation_steps, "validation_steps")
    val_batch_size = (
        batch_size
        if validation_batch_size is None
        else check_positive_int(validation_batch_size, "validation_batch_size")
    )
    freq = check_validation_freq(validation_freq)
    weights_by_class = check_class_weight(class_weight)
    if weights_by_class is not None and model.heads is not None:
        raise InvalidArgumentError(
            "Argument `class_weight` is for models with one output, as in Keras; "
            "give a model with several outputs `sample_weight` instead."
        )
    user_callbacks = check_callbacks(callbacks)
    source: Batches | None = None
    x_arr: Any = None
    y_arr: Any = None
    w: Any = None
    if is_batch_stream(x):
        stream_only("y", y)
        stream_only("sample_weight", sample_weight)
        if split:
            raise InvalidArgumentError(
                "Argument `validation_split` needs arrays (it holds out their last "
                "rows); with a generator or PyDataset give `validation_data`."
            )
        source = batch_source(x, shuffle)
        if isinstance(source, DatasetBatches) and source.length is None:
            if steps_per_epoch is None:
                raise InvalidArgumentError(
                    "A PyDataset without __len__ is endless: pass steps_per_epoch."
                )
        first_x, first_y = first_rows(model, source, targets=True)
        check_metric_targets(model, first_x, first_y)
        if weights_by_class is not None:
            class_weight_to_sample_weight(weights_by_class, first_y, unit_count(model))
    else:
        x_arr, y_arr = check_inputs_and_targets(model, loss, x, y)
        first = x_arr[0] if isinstance(x_arr, list) else x_arr
        w = check_sample_weight(sample_weight, len(first), model.dtype)
        if weights_by_class is not None:
            if w is not None:
                raise InvalidArgumentError(
                    "Give `sample_weight` or `class_weight`, not both (as in Keras): "
                    "multiply the class weights into sample_weight yourself."
                )
            check_classes_present(weights_by_class, y_arr)
            if not model.built:
                model.build((None, *first.shape[1:]))
            w = class_weight_to_sample_weight(
                weights_by_class, y_arr, unit_count(model)
            ).astype(model.dtype)
        if not model.built:
            model.build((None, *first.shape[1:]))
        check_metric_targets(model, x_arr, y_arr)
    validation = _validation(
        model, loss, validation_data, validation_steps, val_batch_size, source is None
    )
    if source is None and validation_data is None and split > 0:
        x_arr, y_arr, w, held = split_validation(
            model, loss, x_arr, y_arr, w, None, split
        )
        assert held is not None
        validation = EvalData(*held, batch_size=val_batch_size)
    if validation is not None:
        validation.freq = freq
    if source is None and steps_per_epoch is not None:
        source = ArrayBatches(x_arr, y_arr, w, batch_size, shuffle)
    if source is not None:
        steps = steps_per_epoch or source.length
    else:
        first = x_arr[0] if isinstance(x_arr, list) else x_arr
        steps = -(-len(first) // batch_size)
    history = History()
    extra: list[Callback] = [history] + ([ProgressBar(verbose)] if verbose else [])
    params: dict[str, Any] = {"verbose": verbose, "epochs": epochs, "steps": steps}
    if source is None:  # glassnet's extras (Keras 2 had them): the array's size
        params.update(samples=len(first), batch_size=batch_size)
    callback_list = make_callbacks(model, user_callbacks, params, extra)
    names = _log_names(model, validation is not None, user_callbacks)
    for callback in user_callbacks:
        check = getattr(callback, "check_log_names", None)
        if check is not None:
            check(names)
    progress = (
        FitProgress()
        if any(isinstance(c, BackupAndRestore) for c in user_callbacks)
        else None
    )
    model.stop_training = False
    model.history = history
    try:
        if source is not None:
            return fit_batches(
                model,
                source,
                epochs=epochs,
                steps_per_epoch=steps_per_epoch,
                validation=validation,
                callbacks=callback_list,
                history=history,
                initial_epoch=initial_epoch,
                class_weight=weights_by_class,
                progress=progress,
            )
        return fit_loop(
            model,
            x_arr,
            y_arr,
            batch_size=batch_size,
            epochs=epochs,
            shuffle=shuffle,
            validation=validation,
            callbacks=callback_list,
            history=history,
            initial_epoch=initial_epoch,
            sample_weight=w,
            progress=progress,
        )
    finally:
        for data in (source, None if validation is None else validation.batches):
            if data is not None:
                data.close()


def _validation(
    model: Model,
    loss: Any,
    validation_data: Any,
    steps: int | None,
    batch_size: int,
    arrays: bool,
) -> EvalData | None:
    """``validation_data`` as :class:`EvalData` (arrays checked now, streams later)."""
    if validation_data is None:
        return None
    if is_batch_stream(validation_data):
        source = batch_source(validation_data)
        first_rows(model, source, targets=True)
        return EvalData(batches=source, steps=steps, batch_size=batch_size)
    held = split_validation(model, loss, None, None, None, validation_data, 0.0)[3]
    assert held is not None
    return EvalData(*held, steps=steps, batch_size=batch_size)
