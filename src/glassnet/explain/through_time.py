"""Backpropagation through time for one sample, every number shown: :func:`bptt`.

For a model, the sample runs forward through a float64 copy, the loss is
differentiated through the layers above the recurrent layer, and the gradient
that arrives at its output, dL/dh_t, is walked back step by step
(``explain/recurrent_bptt.py``). For a layer on its own, ``grad_output`` is that
gradient. Steps are numbered t = 1 .. T; ``h_0 = c_0 = 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import losses
from glassnet._typing import Array
from glassnet._validation import as_float_array, check_positive_int
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.explain.layer_values import one_sample
from glassnet.explain.recurrent import (
    check_unit,
    find_recurrent,
    layer_and_input,
    reading_order,
)
from glassnet.explain.recurrent_bptt import walk_back
from glassnet.explain.recurrent_cells import RECURRENT_LAYERS, CellMath
from glassnet.explain.through_time_table import BPTTTable
from glassnet.gradient_check import float64_copy
from glassnet.losses.masked import mask_weights, masked_gradient, masked_loss
from glassnet.models import Model
from glassnet.models.walk import Walk

__all__ = ["BPTTTable", "bptt"]


def bptt(
    model: Any,
    x: Any,
    y: Any = None,
    *,
    layer: Any = None,
    loss: Any = None,
    grad_output: Any = None,
    unit: int = 0,
    max_units: int = 8,
    max_steps: int = 6,
) -> BPTTTable:
    """Backpropagation through time for one sample, every number shown.

    For a model, ``x`` runs forward (inference mode, a float64 copy: the model is
    not touched), the loss of ``y`` is differentiated through the layers above the
    recurrent layer, and what arrives at its output, dL/dh_t, is carried back
    step by step. For a layer on its own, ``grad_output`` is that gradient.

    Parameters
    ----------
    model : Model, Sequential, SimpleRNN, LSTM or GRU
        A built model, or a built recurrent layer on its own.
    x : array-like
        One sample (as :func:`recurrent_step` takes it).
    y : array-like, optional
        The sample's target(s), as ``fit`` takes them (models only).
    layer : str, int, Layer or None
        The recurrent layer of ``model``; by default the first one.
    loss : str, Loss or None
        The loss to differentiate; by default the one the model was compiled with.
    grad_output : array-like, optional
        For a layer on its own: dL/d(output), shaped as the layer's output for
        one sample ((units,), or (time, units) with ``return_sequences``).
    unit : int
        The unit worked out number by number (default 0).
    max_units, max_steps : int
        How many units (columns) and backward steps the text shows (the data
        holds all of them).

    Returns
    -------
    BPTTTable
        Printable; ``table.grads`` (dW, dU, db summed over the steps, shaped as
        the layer's weights), ``table.dx``, ``table.backward.steps`` (every
        step's quantities by name) hold the numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.layers import SimpleRNN
    >>> rnn = SimpleRNN(2, activation="linear", use_bias=False)
    >>> rnn.build((None, 1), np.random.default_rng(0), np.float64)
    >>> rnn.set_weights([np.ones((1, 2)), np.eye(2)])   # h_t = h_{t-1} + x_t
    >>> table = bptt(rnn, [[1.0], [2.0], [3.0]], grad_output=[1.0, 0.0])
    >>> table.grads["W"]       # dL/dh_t = [1, 0] at every step: dW = 1 + 2 + 3
    array([[6., 0.]])
    """
    unit_count = None
    padding: tuple[int, ...] = ()
    if isinstance(model, RECURRENT_LAYERS):
        if y is not None or loss is not None:
            raise InvalidArgumentError(
                "A layer on its own has no loss: pass grad_output=dL/d(output) "
                "instead of y and loss, or explain the model the layer is in."
            )
        rnn, sample = layer_and_input(model, x, None)
        cell = CellMath(rnn)
        dy = _output_gradient(rnn, grad_output, len(sample))
        loss_name = loss_value = None
    elif isinstance(model, Model):
        if grad_output is not None:
            raise InvalidArgumentError(
                "grad_output is for a recurrent layer on its own; a model's "
                "gradient comes from its loss and y."
            )
        cell, sample, dy, loss_name, loss_value, padding = _through_model(
            model, x, y, layer, loss
        )
    else:
        raise GlassnetTypeError(
            "bptt expects a glassnet model or a SimpleRNN, LSTM or GRU layer. "
            f"Received: {type(model).__name__}"
        )
    unit_count = cell.units
    unit = check_unit(unit, unit_count)
    xs = reading_order(cell, sample)
    with np.errstate(over="ignore"):
        forward = cell.forward(xs)
        backward = walk_back(cell, xs, forward, dy)
    return BPTTTable(
        layer=cell.name,
        layer_type=cell.kind,
        x=xs,
        dy=dy,
        forward=forward,
        backward=backward,
        cell=cell,
        loss_name=loss_name,
        loss=loss_value,
        unit=unit,
        max_units=check_positive_int(max_units, "max_units"),
        max_steps=check_positive_int(max_steps, "max_steps"),
        padding=padding,
    )


def _output_gradient(rnn: Any, grad_output: Any, steps: int) -> Array:
    """dL/dh_t for every step (T, units), in the order the layer reads."""
    if grad_output is None:
        raise InvalidArgumentError(
            f"bptt of layer '{rnn.name}' on its own needs grad_output, dL/d(output) "
            "for the sample."
        )
    expected = (steps, rnn.units) if rnn.return_sequences else (rnn.units,)
    grad = as_float_array(grad_output, "grad_output", np.float64, min_ndim=1)
    if grad.shape == (1, *expected):
        grad = grad[0]
    if grad.shape != expected:
        raise ShapeError(
            f"Argument `grad_output` must be shaped as layer '{rnn.name}''s output "
            f"for one sample, {expected}. Received: grad_output.shape={grad.shape}"
        )
    if rnn.return_sequences:
        return grad.copy()
    dy = np.zeros((steps, rnn.units))
    dy[-1] = grad
    return dy


def _through_model(
    model: Model, x: Any, y: Any, layer: Any, loss: Any
) -> tuple[CellMath, Array, Array, str, float, tuple[int, ...]]:
    """A float64 copy of ``model`` runs forward and backward; the recurrent layer's
    input, its padding mask and the gradient arriving at its output are recorded
    on the way. A masked output's loss weighs the real steps, as ``fit`` does."""
    target = find_recurrent(model, layer)
    if y is None:
        raise InvalidArgumentError("bptt of a model needs the sample's target y.")
    chosen = losses.get(loss) if loss is not None else model.loss
    if chosen is None:
        raise InvalidArgumentError(
            "bptt needs a loss to differentiate: compile the model first or pass "
            "one, e.g. bptt(model, x, y, loss='mse')."
        )
    graph = model._require_graph("explain")
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise InvalidArgumentError(
            f"bptt follows one sample through a model with one input and one "
            f"output. Model '{model.name}' has {len(graph.inputs)} and "
            f"{len(graph.outputs)}."
        )
    if sum(step.layer is target for step in graph.steps) != 1:
        raise InvalidArgumentError(
            f"Layer '{target.name}' is called more than once in model "
            f"'{model.name}'; bptt explains a layer called once."
        )
    batch = one_sample(
        x, graph.inputs[0].sample_shape, np.float64, f"model '{model.name}'"
    )
    copy = float64_copy(model, batch)
    # the copy's layer: its methods are replaced below to record what it sees
    twin: Any = copy.layers[model.layers.index(target)]
    twin.trainable = True  # so that the walk runs its backward and we see dL/dh
    seen: dict[str, Any] = {}
    forward, backward = twin.forward, twin.backward

    def record_forward(inputs: Array, **options: Any) -> Array:
        seen["x"] = np.array(inputs, dtype=np.float64)
        seen["mask"] = options.get("mask")
        return forward(inputs, **options)

    def record_backward(grad: Array, **options: Any) -> Any:
        seen["dy"] = np.array(grad, dtype=np.float64)
        return backward(grad, **options)

    twin.forward, twin.backward = record_forward, record_backward
    try:
        out_shape = tuple(copy.compute_output_shape(batch.shape[1:]))
        targets = np.asarray(y)
        # one sample's targets come without the batch axis: a label (or one per
        # step), or a row shaped as the output
        if targets.ndim == 0 or targets.shape in (out_shape, out_shape[:-1]):
            targets = targets.reshape(1, *targets.shape)
        targets = chosen.validate_targets(targets, out_shape, "y", dtype=np.float64)
        walk = Walk(copy.graph)  # type: ignore[arg-type]
        with np.errstate(over="ignore"):
            [out] = walk.forward([batch], training=False, keep_cache=True)
            [out_mask] = walk.graph.output_masks if walk.masking else [None]
            if out_mask is None:
                value = float(chosen.forward(targets, out))
                walk.backward([chosen.backward(targets, out)])
            else:  # the real steps' mean, as fit weighs a masked output
                weights = mask_weights(out_mask, None, np.float64)
                value = masked_loss(chosen, targets, out, weights)
                walk.backward([masked_gradient(chosen, targets, out, weights)])
    finally:
        del twin.forward, twin.backward
    cell = CellMath(twin)
    dy = seen["dy"][0]
    sample = seen["x"][0]
    if not twin.return_sequences:
        full = np.zeros((len(sample), twin.units))
        full[-1] = dy
        dy = full
    if seen["mask"] is None:
        return cell, sample, dy, chosen.name, value, ()
    real = np.asarray(seen["mask"][0], bool)
    if not real.any():
        raise ShapeError(
            f"Layer '{twin.name}' gets only padding for this sample (every step "
            "is masked): there is no step to explain."
        )
    dy = _fold_masked_outputs(dy, real[::-1] if cell.go_backwards else real)
    padding = tuple(int(t) + 1 for t in np.flatnonzero(~real))
    return cell, sample[real], dy, chosen.name, value, padding


def _fold_masked_outputs(dy: Array, real: Array) -> Array:
    """dL/dh at the real steps (in reading order), from dL/d(output) at every step.

    A masked step outputs the state of the last real step before it (Keras'
    ``zero_output_for_mask=False``), so its gradient belongs to that step; before
    the first real step the output is the zero start, which has no weights.

    >>> _fold_masked_outputs(np.array([[1.0], [2.0], [4.0], [8.0]]),
    ...                      np.array([False, True, False, True]))
    array([[6.],
           [8.]])
    """
    folded = np.zeros((int(real.sum()), dy.shape[1]))
    k = -1
    for t, is_real in enumerate(real):
        k += bool(is_real)
        if k >= 0:
            folded[k] += dy[t]
    return folded
