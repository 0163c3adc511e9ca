"""The glassnet network behind an estimator: building it, its gradients, its outputs.

The network is a plain :class:`~glassnet.models.Sequential` of Dense layers (with a
Dropout after each hidden layer that asks for one). Weights and biases are drawn as
scikit-learn draws them: uniform in ``+-sqrt(factor / (fan_in + fan_out))``, with
``factor = 2`` after a logistic activation and ``6`` otherwise (Glorot's bound).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.activations import ActivationFunction, Sigmoid
from glassnet.initializers import RandomUniform
from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential

if TYPE_CHECKING:
    from glassnet.sklearn._params import Spec

__all__ = [
    "build_network",
    "dense",
    "dense_layers",
    "forward",
    "loss_and_gradients",
    "update",
]

#: Rows per forward pass at prediction time (bounds the memory of hidden outputs).
PREDICT_BATCH = 4096


def _init_bound(
    fan_in: int, fan_out: int, activation: ActivationFunction | None
) -> float:
    factor = 2.0 if isinstance(activation, Sigmoid) else 6.0
    return math.sqrt(factor / (fan_in + fan_out))


def build_network(
    spec: Spec,
    n_features: int,
    n_outputs: int,
    output_activation: str,
    seed: int | None,
    name: str,
) -> Sequential:
    """A built Sequential: the hidden Dense layers (and Dropouts), then the output."""
    model = Sequential(name=name, seed=seed, dtype=spec.dtype)
    units = [*spec.hidden, n_outputs]
    layer_activations: list[Any] = [*spec.activations, output_activation]
    # scikit-learn sizes every layer's initial weights by the hidden activation.
    init_activations = [
        *spec.activations,
        spec.activations[-1] if spec.hidden else None,
    ]
    fan_in = n_features
    for i, width in enumerate(units):
        bound = _init_bound(fan_in, width, init_activations[i])
        uniform = RandomUniform(-bound, bound)
        model.add(
            Dense(
                width,
                activation=layer_activations[i],
                kernel_initializer=uniform,
                bias_initializer=uniform,
                input_dim=n_features if i == 0 else None,
            )
        )
        if i < len(spec.hidden) and spec.dropout[i] > 0:
            model.add(Dropout(spec.dropout[i]))
        fan_in = width
    return model


def dense_layers(model: Sequential) -> list[Dense]:
    """The model's Dense layers, input to output (what ``coefs_`` lists)."""
    return [layer for layer in model.layers if isinstance(layer, Dense)]


def dense(x: Any) -> Array:
    """``x`` as a NumPy array: a sparse batch is densified (one batch at a time)."""
    return x.toarray() if hasattr(x, "toarray") else x


def forward(model: Sequential, x: Any) -> Array:
    """The network's outputs for ``x`` (inference mode), in batches, as float64.

    Given float64 ``x``, NumPy computes ``x @ W`` in float64 whatever the weights'
    dtype, so a row's output does not depend on the other rows of its batch (in
    float32 the BLAS kernel, chosen by batch size, changes the last bits).
    """
    n = x.shape[0]
    out = np.empty((n, dense_layers(model)[-1].units), dtype=np.float64)
    with np.errstate(over="ignore"):  # exp -> inf is harmless: see activations
        for start in range(0, n, PREDICT_BATCH):
            stop = min(start + PREDICT_BATCH, n)
            out[start:stop] = model.forward(dense(x[start:stop]), training=False)
    return out


def update(model: Sequential) -> None:
    """One optimizer step over the model's flat parameter buffer (models/flat.py)."""
    flat = model.flat
    assert flat is not None and model.optimizer is not None
    flat.sync_grads()
    model.optimizer.apply_flat(flat.params, flat.grads, flat.layout)


def loss_and_gradients(
    estimator: Any, x: Any, y: Array, w: Array | None, *, training: bool = True
) -> float | None:
    """Forward and backward on one batch: fill every gradient, return the loss.

    The loss is scikit-learn's, with per-sample weights ``w`` and the L2 term::

        L = sum_i w_i l_i / sum_i w_i  +  alpha / 2 * sum_layers ||W||^2 / sum_i w_i

    (``w_i = 1`` without weights, so ``sum_i w_i = n``). The output activation and
    the loss are a canonical pair, so the gradient starts at the logits::

        dL/dz_i = w_i (p_i - y_i) / sum_i w_i,    dL/dW += alpha * W / sum_i w_i

    Returns None, computing nothing, for a batch whose weights sum to 0. A sparse
    ``x`` is densified here, one batch at a time.
    """
    model: Sequential = estimator.model_
    loss = estimator._loss
    n = x.shape[0]
    if w is None:
        total = float(n)
    else:
        total = float(w.sum())
        if total <= 0.0:
            return None
    walk = model.training_walk()
    [out] = walk.forward([dense(x)], training=training, keep_cache=True)
    grad = loss.logits_gradient(y, model.output_layer.logits, out)
    per_sample = loss.per_sample(y, out)
    if w is None:
        data_loss = float(per_sample.mean())
    else:
        # loss.logits_gradient divided by n; each row now gets w_i / sum(w) instead
        grad = grad * (w * (n / total))[:, None]
        data_loss = float(np.dot(w, per_sample)) / total
    walk.backward([grad], logits=(True,))
    alpha = float(estimator.alpha)
    squares = 0.0
    for layer in dense_layers(model):
        weights = layer.params["W"]
        squares += float(np.vdot(weights, weights))
        if alpha:
            layer.grads["W"] += (alpha / total) * weights
    return data_loss + 0.5 * alpha * squares / total
