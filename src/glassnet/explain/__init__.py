"""The math of a model, explained with its own numbers.

:func:`backprop` runs one sample forward and backward and shows every quantity of the
chain rule, named as the seeds/001 tutorial names them; for networks too large to show
neuron by neuron it summarizes each layer instead. :func:`convolution` shows one
convolution layer on one input as the matrix product it computes (im2col),
:func:`recurrent_step` one step of an LSTM, GRU or SimpleRNN (every gate and state)
and :func:`bptt` backpropagation through time for one sequence, number by number;
:func:`recurrent_states` gives every step's hidden (and cell) state, and
:func:`layer_values` what any layer takes and gives for one input.
``model.summary(explain=True)`` explains each layer's parameter count, output
shape, operations and memory.

The tutorial's network (2-2-1, sigmoid, every weight 1, every bias 0):

>>> import numpy as np
>>> from glassnet.layers import Dense
>>> from glassnet.models import Sequential
>>> model = Sequential([Dense(2, activation="sigmoid", input_dim=2),
...                     Dense(1, activation="sigmoid")])
>>> model.set_weights([np.ones((2, 2)), np.zeros(2), np.ones((2, 1)), np.zeros(1)])
>>> table = backprop(model, [-2, -1], 1, loss="mse")
>>> round(table["d_L_d_w1"], 7)
0.0214695
>>> table.rows[0]["expression"]
'd_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1'
>>> {name: round(value, 4) for name, value in table.rows[0]["factors"].items()}
{'d_L_d_ypred': -0.9526, 'd_ypred_d_h1': 0.2494, 'd_h1_d_w1': -0.0904}
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np

from glassnet import losses
from glassnet._typing import Array
from glassnet._validation import as_float_array
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.explain.chain import explain_chain
from glassnet.explain.convolution import ConvolutionTable, convolution
from glassnet.explain.layer_values import layer_values
from glassnet.explain.neurons import NeuronLayer, neuron_layers, neuron_names
from glassnet.explain.overview import BackpropSummary, explain_layers
from glassnet.explain.recurrent import (
    RecurrentStepTable,
    recurrent_states,
    recurrent_step,
)
from glassnet.explain.table import BackpropTable
from glassnet.explain.through_time import BPTTTable, bptt
from glassnet.losses import Loss
from glassnet.models import Sequential

__all__ = [
    "DETAIL_MAX_LAYERS",
    "DETAIL_MAX_UNITS",
    "BPTTTable",
    "BackpropSummary",
    "BackpropTable",
    "ConvolutionTable",
    "NeuronLayer",
    "RecurrentStepTable",
    "backprop",
    "bptt",
    "convolution",
    "layer_values",
    "neuron_layers",
    "neuron_names",
    "recurrent_states",
    "recurrent_step",
]

#: ``backprop`` shows every neuron when no layer (inputs included) has more units...
DETAIL_MAX_UNITS = 16
#: ... and the model has at most this many Dense layers; otherwise it summarizes.
DETAIL_MAX_LAYERS = 3


@overload
def backprop(
    model: Sequential, x: Any, y: Any, *, loss: Any = ..., detail: Literal[True]
) -> BackpropTable: ...
@overload
def backprop(
    model: Sequential, x: Any, y: Any, *, loss: Any = ..., detail: Literal[False]
) -> BackpropSummary: ...
@overload
def backprop(
    model: Sequential, x: Any, y: Any, *, loss: Any = ..., detail: bool | None = ...
) -> BackpropTable | BackpropSummary: ...
def backprop(
    model: Sequential,
    x: Any,
    y: Any,
    *,
    loss: Any = None,
    detail: bool | None = None,
) -> BackpropTable | BackpropSummary:
    """Run ``x`` forward and backward and show every quantity of the chain rule.

    The model is copied to float64 first, so its weights, gradients and caches stay
    as they were. The pass runs in inference mode (dropout off), as ``predict`` does.

    Parameters
    ----------
    model : Sequential
        A built model.
    x : array-like
        One sample, shaped ``(features,)`` or ``(1, features)``; in summary mode a
        batch ``(n, features)`` may be given.
    y : array-like or number
        The sample's target(s), as ``fit`` takes them.
    loss : str, Loss or None
        The loss to differentiate; by default the one the model was compiled with.
    detail : bool or None
        True: a :class:`BackpropTable` with every neuron and weight (one sample, a
        model of Dense layers with Activation/Dropout layers between them). False: a
        :class:`BackpropSummary`, one row per layer. None (default) chooses the table
        for one sample through a network with at most ``DETAIL_MAX_LAYERS`` (3)
        Dense layers of at most ``DETAIL_MAX_UNITS`` (16) units, inputs included.

    Returns
    -------
    BackpropTable or BackpropSummary
        Printable (``print(table)``); the numbers are in ``.rows`` and ``.to_dict()``.

    Examples
    --------
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(32, activation="relu", input_dim=4), Dense(1)], seed=0)
    >>> summary = backprop(model, np.ones((8, 4)), np.zeros(8), loss="mse")
    >>> [row["layer"] for row in summary.rows]
    ['dense', 'dense_1']
    """
    if not isinstance(model, Sequential):
        raise GlassnetTypeError(
            f"backprop expects a glassnet Sequential model. Received: {model!r}"
        )
    model.built_input_shape()
    resolved = _resolve_loss(model, loss)
    if detail is not None and not isinstance(detail, bool):
        raise GlassnetTypeError(
            f"Argument `detail` must be True, False or None. Received: detail={detail!r}"
        )
    copy = Sequential.from_config(model.get_config(), dtype="float64")
    copy.set_weights(model.get_weights())
    x_arr, y_arr = _check_data(copy, x, y, resolved)
    if detail is None:
        detail = len(x_arr) == 1 and _small(copy)
    if detail and len(x_arr) != 1:
        raise ShapeError(
            "backprop(detail=True) follows one sample through the network. Received: "
            f"x with {len(x_arr)} samples. Pass one row, x[i], or use detail=False "
            "to summarize a batch."
        )
    with np.errstate(over="ignore"):  # exp -> inf is harmless: see activations
        if not detail:
            return explain_layers(copy, x_arr, y_arr, resolved)
        return explain_chain(neuron_layers(copy), x_arr[0], y_arr[0], resolved)


def _resolve_loss(model: Sequential, loss: Any) -> Loss:
    if loss is None:
        if model.loss is None:
            raise InvalidArgumentError(
                "backprop needs a loss to differentiate: compile the model first or "
                "pass one, e.g. backprop(model, x, y, loss='mse')."
            )
        return model.loss
    resolved = losses.get(loss)
    if resolved is None:
        raise InvalidArgumentError("backprop needs a loss.")
    return resolved


def _check_data(model: Sequential, x: Any, y: Any, loss: Loss) -> tuple[Array, Array]:
    """``x`` as (n, features) float64 and ``y`` validated by the loss."""
    input_shape = model.built_input_shape()
    x_arr = as_float_array(x, "x", np.float64, min_ndim=1)
    one_sample = x_arr.shape == input_shape
    if one_sample:
        x_arr = x_arr[None]
    if x_arr.shape[1:] != input_shape:
        raise ShapeError(
            f"Argument `x` must hold samples of shape {input_shape}, as the model "
            f"was built for. Received: x.shape={np.shape(x)}"
        )
    out_shape = model.compute_output_shape(input_shape)
    y_arr = np.asarray(y)
    # One sample's targets may come without the batch axis: 1, [0, 1, 0], ...
    if y_arr.ndim == 0 or one_sample or (len(x_arr) == 1 and y_arr.shape == out_shape):
        y_arr = y_arr.reshape(1, *y_arr.shape)
    y_arr = loss.validate_targets(y_arr, out_shape, "y", dtype=np.float64)
    if len(y_arr) != len(x_arr):
        raise ShapeError(
            "Arguments `x` and `y` must hold the same number of samples. "
            f"Received: {len(x_arr)} and {len(y_arr)}"
        )
    return x_arr, y_arr


def _small(model: Sequential) -> bool:
    try:
        groups = neuron_layers(model)
    except InvalidArgumentError:
        return False
    sizes = [model.built_input_shape()[0], *(group.units for group in groups)]
    return len(groups) <= DETAIL_MAX_LAYERS and max(sizes) <= DETAIL_MAX_UNITS
