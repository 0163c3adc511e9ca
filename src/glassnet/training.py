"""The training and inference loops, as plain functions over a model.

Batch, mini-batch and stochastic gradient descent are one loop: ``batch_size=len(x)``
is batch gradient descent, ``batch_size=1`` is stochastic. Each epoch the rows are
shuffled with the model's own seeded generator, so the same seed gives bit-identical
weights.

The loop stores each batch's predictions (made before that batch's update, as Keras
reports them) and computes the epoch's loss and metrics once at the end of the epoch,
vectorized. Because every loss and metric is a mean over samples, this equals Keras'
sample-weighted running mean over batches, without any per-batch bookkeeping.

Nothing inside the batch loop validates or converts: ``fit`` checked the data once,
and the loop only gathers rows, runs the step and stores its predictions.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.callbacks import CallbackList, History
from glassnet.errors import TrainingWarning
from glassnet.losses import Loss
from glassnet.models.data_checks import rows
from glassnet.models.outputs import OutputHead, compute_head_logs, metric_value
from glassnet.models.walk import Walk

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = [
    "compute_logs",
    "fit_loop",
    "make_gradient_step",
    "make_train_step",
    "predict_loop",
]

TrainStep = Callable[[Array, Array], Array]


def make_gradient_step(model: Model, loss: Loss) -> TrainStep:
    """Return ``gradients(x_batch, y_batch) -> predictions`` that fills every grad.

    forward (training mode) -> dL/d(output) -> the model's backward walk
    (``models/walk.py``), which skips what nothing needs: frozen layers' weight
    gradients, and dx below the lowest trainable layer. When the output activation
    and the loss fuse (sigmoid + binary cross-entropy, softmax + categorical
    cross-entropy), the gradient starts at the logits: dL/dz = (p - y) / n, exact
    where p(1 - p) would underflow to 0, and p is the output the forward pass just
    computed.
    """
    graph = model.graph
    assert graph is not None, "the model is built before its step is made"
    walk = Walk(graph)
    if model.heads is not None:
        return _several_outputs_gradients(walk, model.heads)
    forward, backward = walk.forward, walk.backward
    fused = model.fused_loss(loss)
    last = model.output_layer
    logits_gradient = fused.logits_gradient if fused is not None else None
    loss_backward = loss.backward
    if walk.chain:  # every Sequential: one array in, one out, no slots
        chain_forward, chain_backward = walk.chain_forward, walk.chain_backward

        def chain_gradients(x: Array, y: Array) -> Array:
            out = chain_forward(x, True)
            if logits_gradient is not None:
                chain_backward(logits_gradient(y, last.logits, out), True)
            else:
                chain_backward(loss_backward(y, out))
            return out

        return chain_gradients

    def gradients(x: Array, y: Array) -> Array:
        out = forward(x if isinstance(x, list) else [x], training=True)[0]
        if logits_gradient is not None:
            backward([logits_gradient(y, last.logits, out)], logits=(True,))
        else:
            backward([loss_backward(y, out)])
        return out

    return gradients


def _several_outputs_gradients(walk: Walk, heads: list[OutputHead]) -> TrainStep:
    """``gradients(x, [y_1, ...]) -> [y_pred_1, ...]`` for L = sum_i w_i L_i.

    dL/d(y_pred_i) = w_i dL_i/d(y_pred_i) (or w_i dL_i/dz_i at the logits of a fused
    output); the walk adds the parts where the outputs' paths meet.
    """
    layers = [tensor.node.layer for tensor in walk.graph.outputs]
    flags = tuple(head.fused is not None for head in heads)

    def gradients(x: Any, ys: Any) -> Any:
        outs = walk.forward(x if isinstance(x, list) else [x], training=True)
        grads = []
        for head, layer, y, out in zip(heads, layers, ys, outs, strict=True):
            if head.fused is not None:
                grad = head.fused.logits_gradient(y, layer.logits, out)
            else:
                grad = head.loss.backward(y, out)
            grads.append(grad if head.weight == 1.0 else head.weight * grad)
        walk.backward(grads, logits=flags)
        return outs

    return gradients


def make_train_step(model: Model) -> TrainStep:
    """Return ``step(x_batch, y_batch) -> predictions``: gradients, then one update.

    The update goes through ``optimizer.apply_flat`` over the trainable front of the
    model's flat parameter buffer (models/flat.py): a few NumPy calls per step
    instead of a few per tensor, and never a frozen layer's weights. The buffer is
    re-split first if a layer's ``trainable`` changed since it was made (so a
    change after ``compile`` takes effect at the next ``fit``, as in Keras 3).
    """
    optimizer, loss = model.require_compiled("fit")
    model.refresh_trainable()
    gradients = make_gradient_step(model, loss)
    flat = model.flat
    assert flat is not None, "fit builds the model before it makes the step"
    params, grads = flat.trainable_params, flat.trainable_grads
    layout, sync = flat.trainable_layout, flat.sync_grads
    apply_flat = optimizer.apply_flat

    def step(x: Array, y: Array) -> Array:
        out = gradients(x, y)
        sync()
        if layout:
            apply_flat(params, grads, layout)
        return out

    return step


def compute_logs(model: Model, y_true: Any, y_pred: Any) -> dict[str, Any]:
    """The loss and every compiled metric over all samples, as ``{"loss": ...}``.

    Each metric is reset, then given every sample at once: its state is a set of
    sums, so this is the value Keras accumulates batch by batch over an epoch (for
    AUC or precision, not a mean of batch values). A model with several outputs logs
    the weighted total and each output's parts (``models/outputs.py``).
    """
    _, loss = model.require_compiled("evaluate")
    if model.heads is not None:
        return compute_head_logs(model.heads, y_true, y_pred)
    logs: dict[str, Any] = {"loss": float(loss.forward(y_true, y_pred))}
    for metric in model.metrics:
        logs[metric.name] = metric_value(metric, y_true, y_pred)
    return logs


def predict_loop(model: Model, x: Array, batch_size: int, verbose: int = 0) -> Array:
    """Forward ``x`` in batches with ``training=False`` and stack the outputs."""
    if model.overflow_guard:  # sigmoid or silu: exp -> inf is harmless, silence it
        with np.errstate(over="ignore"):
            return _predict_batches(model, x, batch_size, verbose)
    return _predict_batches(model, x, batch_size, verbose)


def _predict_batches(model: Model, x: Any, batch_size: int, verbose: int) -> Any:
    graph = model.graph
    if isinstance(x, list) or (graph is not None and len(graph.outputs) > 1):
        return _predict_graph_batches(model, x, batch_size, verbose)
    n, first = len(x), x
    if n <= batch_size and not verbose:
        # One batch needs no array to stack into: predict on a single sample then
        # costs little more than the forward pass. The output is a new array unless
        # a layer passed its input through (Dropout at inference), hence the check.
        out = model.forward(x, training=False)
        if out.dtype == model.dtype and not np.may_share_memory(out, x):
            return out
        return np.array(out, dtype=model.dtype)
    out_shape = model.compute_output_shape(first.shape[1:])
    result = np.empty((n, *out_shape), dtype=model.dtype)
    starts: Iterable[int] = range(0, n, batch_size)
    if verbose:
        from tqdm.auto import tqdm  # here: importing tqdm costs tens of milliseconds

        starts = tqdm(
            starts,
            ascii=".=",
            leave=True,
            bar_format="{n_fmt}/{total_fmt} [{bar:30}] - {elapsed}",
        )
    for start in starts:
        stop = min(start + batch_size, n)
        result[start:stop] = model.forward(rows(x, slice(start, stop)), training=False)
    return result


def _predict_graph_batches(model: Model, x: Any, batch_size: int, verbose: int) -> Any:
    """predict for several inputs or outputs: each output stacked from its batches."""
    n = len(x[0]) if isinstance(x, list) else len(x)
    parts: list[list[Array]] = []
    starts: Iterable[int] = range(0, n, batch_size)
    if verbose:
        from tqdm.auto import tqdm

        starts = tqdm(starts, ascii=".=", leave=True)
    for start in starts:
        out = model.forward(rows(x, slice(start, start + batch_size)), training=False)
        parts.append(out if isinstance(out, list) else [out])
    outputs = [
        np.concatenate([part[i] for part in parts]).astype(model.dtype, copy=False)
        for i in range(len(parts[0]))
    ]
    return outputs if len(outputs) > 1 else outputs[0]


def fit_loop(
    model: Model,
    x: Array,
    y: Array,
    *,
    batch_size: int,
    epochs: int,
    shuffle: bool,
    validation: tuple[Array, Array] | None,
    callbacks: CallbackList,
    history: History,
    initial_epoch: int = 0,
) -> History:
    """Train ``model`` on ``(x, y)``; every argument was validated by the caller."""
    inputs = x if isinstance(x, list) else [x]
    n = len(inputs[0])
    step = make_train_step(model)
    batch_hooks = callbacks.wants_batch_hooks
    logs: dict[str, float] = {}
    # Each batch's predictions are copied in here before the next step runs.
    one_output = model.heads is None
    if one_output:
        out_shape = model.compute_output_shape(inputs[0].shape[1:])
        predictions: Any = np.empty((n, *out_shape), dtype=model.dtype)
    else:  # one buffer per output, made when the first batch shows its shape
        predictions = None
    gathers = [_row_gatherer(xi, min(batch_size, n)) for xi in inputs]

    def gather_all(rows_: Array) -> Any:
        return [g(rows_) for g in gathers]

    gather = gather_all if isinstance(x, list) else gathers[0]
    callbacks.on_train_begin()
    # Divergence is detected once per epoch below (with advice), so NumPy's overflow
    # warnings from a diverging matmul are silenced rather than printed per batch.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(initial_epoch, epochs):
            callbacks.on_epoch_begin(epoch)
            order = model.rng.permutation(n) if shuffle else None
            ys = y if order is None else rows(y, order)
            for batch, start in enumerate(range(0, n, batch_size)):
                stop = min(start + batch_size, n)
                if batch_hooks:
                    callbacks.on_train_batch_begin(batch)
                xb = (
                    rows(x, slice(start, stop))
                    if order is None
                    else gather(order[start:stop])
                )
                if one_output:
                    predictions[start:stop] = step(xb, ys[start:stop])
                else:
                    out = step(xb, rows(ys, slice(start, stop)))
                    if predictions is None:
                        predictions = [
                            np.empty((n, *p.shape[1:]), p.dtype) for p in out
                        ]
                    for buffer, part in zip(predictions, out, strict=True):
                        buffer[start:stop] = part
                if batch_hooks:
                    callbacks.on_train_batch_end(batch, {"size": stop - start})
                if model.stop_training:  # set by a callback: end here, as Keras does
                    break
            # The epoch's logs cover the rows trained, all of them unless stopped.
            logs = compute_logs(
                model, rows(ys, slice(None, stop)), rows(predictions, slice(None, stop))
            )
            if validation is not None:
                x_val, y_val = validation
                val_pred = predict_loop(model, x_val, batch_size)
                val_logs = compute_logs(model, y_val, val_pred)
                logs.update({f"val_{key}": value for key, value in val_logs.items()})
            if not math.isfinite(logs["loss"]):
                _warn_diverged(model, epoch)
            callbacks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    # With use_ema the weights become their moving average here, as in Keras' fit:
    # before on_train_end, so EarlyStopping(restore_best_weights=True) still wins.
    model.require_compiled("fit")[0].finalize_variable_values()
    callbacks.on_train_end(logs)
    return history


def _row_gatherer(x: Array, batch_size: int) -> Callable[[Array], Array]:
    """Return ``gather(rows) -> x[rows]``, written into one buffer reused by every batch.

    Why: shuffling with ``x[permutation]`` copies the whole data set every epoch,
    doubling its memory and streaming it through the cache once more, while the
    step only ever needs one batch of rows. ``mode="clip"`` because the rows are a
    permutation, always in range, and the default ``"raise"`` copies through a
    temporary before writing ``out``.
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
        stacklevel=4,
    )
    model.stop_training = True
