"""The training step, the epoch logs and the prediction loop, over a model.

:func:`make_train_step` is one step of gradient descent: the forward pass in
training mode, the backward walk, then the optimizer's update of the flat
parameter buffer (sample weights scale each sample's gradient). The epoch loops
that call it are in :mod:`glassnet.training_loops` (arrays) and
:mod:`glassnet.stream_loops` (generators and PyDatasets); :func:`compute_logs`
gives the loss and metrics an epoch reports, vectorized over its samples, and
:func:`predict_loop` runs inference in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.losses import Loss
from glassnet.models.compiled_metrics import logged_metrics
from glassnet.models.data_checks import rows
from glassnet.models.outputs import OutputHead, masked_gradients
from glassnet.models.penalties import (
    TrainPenalties,
    add_penalty,
    batch_rows,
    reset_activity_sums,
)
from glassnet.models.walk import Walk
from glassnet.training_logs import data_logs

if TYPE_CHECKING:
    from glassnet.models.model import Model

__all__ = [
    "compute_logs",
    "make_epoch_logs",
    "make_gradient_step",
    "make_train_step",
    "predict_loop",
]

TrainStep = Callable[..., Any]


def _weighted(grad: Array, w: Array | None) -> Array:
    """``grad`` with each sample's row scaled by its weight (Keras' sample_weight).

    L = sum_i w_i * l_i / n  =>  dL/dy_i = w_i * dl_i/dy_i / n: the loss's gradient
    (already / n) times w_i, broadcast over the output's other axes.
    """
    if w is None:
        return grad
    return grad * w.reshape((-1,) + (1,) * (grad.ndim - 1))


def make_gradient_step(model: Model, loss: Loss) -> TrainStep:
    """Return ``gradients(x_batch, y_batch, w=None) -> predictions`` that fills every grad.

    forward (training mode) -> dL/d(output) -> the model's backward walk
    (``models/walk.py``), which skips what nothing needs: frozen layers' weight
    gradients, and dx below the lowest trainable layer. When the output activation
    and the loss fuse (sigmoid + binary cross-entropy, softmax + categorical
    cross-entropy), the gradient starts at the logits: dL/dz = (p - y) / n, exact
    where p(1 - p) would underflow to 0, and p is the output the forward pass just
    computed. With sample weights ``w``, each sample's gradient is scaled by its
    weight (:func:`_weighted`).
    """
    graph = model.graph
    assert graph is not None, "the model is built before its step is made"
    walk = Walk(graph)
    if walk.masking:  # padding masks reach the loss (models/outputs.py)
        return masked_gradients(walk, model, loss)
    if model.heads is not None:
        return _several_outputs_gradients(walk, model.heads)
    forward, backward = walk.forward, walk.backward
    fused = model.fused_loss(loss)
    last = model.output_layer
    logits_gradient = fused.logits_gradient if fused is not None else None
    loss_backward = loss.backward
    if walk.chain:  # every Sequential: one array in, one out, no slots
        chain_forward, chain_backward = walk.chain_forward, walk.chain_backward

        def chain_gradients(x: Array, y: Array, w: Array | None = None) -> Array:
            out = chain_forward(x, True)
            if logits_gradient is not None:
                grad = logits_gradient(y, last.logits, out)
                chain_backward(grad if w is None else _weighted(grad, w), True)
            else:
                grad = loss_backward(y, out)
                chain_backward(grad if w is None else _weighted(grad, w))
            return out

        return chain_gradients

    def gradients(x: Array, y: Array, w: Array | None = None) -> Array:
        out = forward(x if isinstance(x, list) else [x], training=True)[0]
        if logits_gradient is not None:
            grad = logits_gradient(y, last.logits, out)
            backward([_weighted(grad, w)], logits=(True,))
        else:
            backward([_weighted(loss_backward(y, out), w)])
        return out

    return gradients


def _several_outputs_gradients(walk: Walk, heads: list[OutputHead]) -> TrainStep:
    """``gradients(x, [y_1, ...]) -> [y_pred_1, ...]`` for L = sum_i w_i L_i.

    dL/d(y_pred_i) = w_i dL_i/d(y_pred_i) (or w_i dL_i/dz_i at the logits of a fused
    output); the walk adds the parts where the outputs' paths meet. An output
    compiled without a loss is no term of L: its gradient is zero (zeros rather
    than none, so that the layers only it reaches get zero gradients, not the
    last ones they had).
    """
    layers = [tensor.node.layer for tensor in walk.graph.outputs]
    flags = tuple(head.fused is not None for head in heads)

    def gradients(x: Any, ys: Any, w: Array | None = None) -> Any:
        outs = walk.forward(x if isinstance(x, list) else [x], training=True)
        grads = []
        for head, layer, y, out in zip(heads, layers, ys, outs, strict=True):
            if head.loss is None:
                grads.append(np.zeros_like(out))
                continue
            if head.fused is not None:
                grad = head.fused.logits_gradient(y, layer.logits, out)
            else:
                grad = head.loss.backward(y, out)
            grad = _weighted(grad, w)
            grads.append(grad if head.weight == 1.0 else head.weight * grad)
        walk.backward(grads, logits=flags)
        return outs

    return gradients


def make_train_step(model: Model) -> TrainStep:
    """Return ``step(x_batch, y_batch, w=None) -> predictions``: gradients, one update.

    The update goes through ``optimizer.apply_flat`` over the trainable front of the
    model's flat parameter buffer (models/flat.py): a few NumPy calls per step
    instead of a few per tensor, and never a frozen layer's weights. The buffer is
    re-split first if a layer's ``trainable`` changed since it was made (so a
    change after ``compile`` takes effect at the next ``fit``, as in Keras 3).

    Regularizers and constraints are looked up here, once
    (``models/penalties.py``): a model with none gets the plain step; otherwise
    the step adds each weight penalty's gradient before the update, notes the
    batch's penalty for the reported loss, and projects the constrained weights
    after the update, as Keras' optimizer does.
    """
    optimizer, loss = model.require_compiled("fit")
    model.refresh_trainable()
    gradients = make_gradient_step(model, loss)
    flat = model.flat
    assert flat is not None, "fit builds the model before it makes the step"
    params, grads = flat.trainable_params, flat.trainable_grads
    layout, sync = flat.trainable_layout, flat.sync_grads
    apply_flat = optimizer.apply_flat
    penalties = model.train_penalties = TrainPenalties.collect(model)

    def step(x: Array, y: Array, w: Array | None = None) -> Array:
        out = gradients(x, y, w)
        sync()
        if layout:
            apply_flat(params, grads, layout)
        return out

    if penalties is None:
        return step
    add_gradients, record, constrain = (
        penalties.add_gradients,
        penalties.record,
        penalties.constrain,
    )

    def regularized_step(x: Array, y: Array, w: Array | None = None) -> Array:
        out = gradients(x, y, w)
        sync()
        record(batch_rows(out), add_gradients())
        if layout:
            apply_flat(params, grads, layout)
        constrain()
        return out

    return regularized_step


def compute_logs(
    model: Model,
    y_true: Any,
    y_pred: Any,
    *,
    training: bool = False,
    sample_weight: Array | None = None,
) -> dict[str, Any]:
    """The loss and every compiled metric over all samples, as ``{"loss": ...}``.

    Each metric is reset, then given every sample at once: its state is a set of
    sums, so this is the value Keras accumulates batch by batch over an epoch (for
    AUC or precision, not a mean of batch values). A model with several outputs logs
    the weighted total and each output's parts (``models/outputs.py``). With
    ``sample_weight``, the loss is ``sum(w * loss_i) / n`` and the metrics of
    ``weighted_metrics`` are given the weights (:mod:`glassnet.training_logs`).

    The loss includes the regularization penalties, as Keras' does
    (``models/penalties.py``): with ``training=True`` (``fit``'s logs, ``y_pred``
    being the predictions of the last steps) the mean of those steps' penalties,
    else (evaluate, validation) the penalties of the prediction just made.
    """
    logs = data_logs(model, y_true, y_pred, sample_weight)
    add_penalty(model, logs, batch_rows(y_pred), training=training)
    return logs


def make_epoch_logs(model: Model) -> Callable[..., dict[str, Any]]:
    """Return ``logs(y_true, y_pred, sample_weight=None)``: fit's :func:`compute_logs`.

    Made once per ``fit``, after its step: for a one-output model with no compiled
    metrics and no penalties (the plain case) an epoch without sample weights then
    logs its loss alone, without looking up the metrics, outputs and penalties
    again (about 4 us an epoch: a tiny network's epoch is four steps of 25 us).
    Anything else goes to :func:`compute_logs`. A model compiled again during the
    fit (by a callback) keeps these logs until the next ``fit``, as it keeps its
    step's loss and optimizer.

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(1, input_dim=1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> model.build((None, 1))
    >>> logs = make_epoch_logs(model)
    >>> logs(np.zeros((2, 1)), np.array([[1.0], [3.0]]))
    {'loss': 5.0}
    """
    _, loss = model.require_compiled("fit")
    plain = (
        model.heads is None
        and model.train_penalties is None
        and not logged_metrics(model)
    )

    def logs(
        y_true: Any, y_pred: Any, sample_weight: Array | None = None
    ) -> dict[str, Any]:
        if plain and sample_weight is None:
            return {"loss": float(loss.forward(y_true, y_pred))}
        return compute_logs(
            model, y_true, y_pred, training=True, sample_weight=sample_weight
        )

    return logs


def predict_loop(model: Model, x: Array, batch_size: int, verbose: int = 0) -> Array:
    """Forward ``x`` in batches with ``training=False`` and stack the outputs.

    The layers whose output is regularized start their sums of ``R(y)`` again, so
    that the loss ``evaluate`` computes next covers this prediction alone.
    """
    if model.activity_layers:
        reset_activity_sums(model)
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
