"""Prove a backward pass correct: analytic gradients against central differences.

``gradcheck`` works on a model, a layer, an activation function or a loss. It makes a
float64 copy, computes the analytic gradient with the object's own ``backward``, then
nudges every parameter entry by ``+-epsilon`` and measures the change of a scalar
objective. Each parameter tensor is compared norm-wise::

    relative_error = ||analytic - numeric|| / (||analytic|| + ||numeric||)

Correct code gives about 1e-9 or less; a wrong sign or a missing factor gives
something near 1. Every tensor is checked separately, because a sign error in two
layers can cancel in one of them.

Regularization penalties are part of the checked objective, as of the loss ``fit``
minimizes: ``R(w)`` of each regularized trainable weight and ``R(y) / n`` of each
regularized output (:mod:`glassnet.regularizers`).

>>> import numpy as np
>>> from glassnet.layers import Dense
>>> report = gradcheck(Dense(3, activation="tanh"), np.ones((2, 4)))
>>> report.passed
True
>>> sorted(report.errors)
['W', 'b', 'x']
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet import losses
from glassnet._typing import Array
from glassnet._validation import as_float_array, check_positive_float
from glassnet.activations import ActivationFunction
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Layer
from glassnet.losses import Loss
from glassnet.models import Model
from glassnet.models.penalties import activity_layers, weight_penalty
from glassnet.models.walk import Walk

__all__ = ["GradcheckReport", "gradcheck", "relative_error"]


def relative_error(analytic: Array, numeric: Array) -> float:
    """Norm-wise relative error; 0.0 when both gradients are exactly zero.

    >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    """
    diff = float(np.linalg.norm(analytic - numeric))
    scale = float(np.linalg.norm(analytic) + np.linalg.norm(numeric))
    return diff / scale if scale > 0 else diff


@dataclass
class GradcheckReport:
    """Relative error per checked tensor, and whether all are within ``tolerance``."""

    errors: dict[str, float]
    tolerance: float
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        """The worst relative error over all tensors."""
        return max(self.errors.values(), default=0.0)

    @property
    def worst(self) -> str:
        """Name of the tensor with the worst relative error."""
        return max(self.errors, key=lambda name: self.errors[name])

    @property
    def passed(self) -> bool:
        """True when every tensor's relative error is at most ``tolerance``."""
        return self.max_error <= self.tolerance

    def __str__(self) -> str:
        width = max([len(name) for name in self.errors] + [6])
        lines = [f"{'tensor':<{width}}  {'shape':<14}  relative error"]
        for name, error in self.errors.items():
            flag = "ok" if error <= self.tolerance else "FAILED"
            shape = str(self.shapes.get(name, ""))
            lines.append(f"{name:<{width}}  {shape:<14}  {error:.3e}  {flag}")
        verdict = "passed" if self.passed else "FAILED"
        lines.append(
            f"worst: {self.worst} {self.max_error:.3e} "
            f"(tolerance {self.tolerance:g}): {verdict}"
        )
        return "\n".join(lines)


def _numeric_gradient(
    objective: Callable[[], float], array: Array, epsilon: float
) -> Array:
    """Central differences of ``objective`` w.r.t. every entry of ``array`` (in place)."""
    grad = np.zeros_like(array)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + epsilon
        plus = objective()
        flat[i] = original - epsilon
        minus = objective()
        flat[i] = original
        flat_grad[i] = (plus - minus) / (2 * epsilon)
    return grad


def gradcheck(
    target: Any,
    x: Any,
    y: Any = None,
    *,
    loss: Any = None,
    epsilon: float = 1e-6,
    tolerance: float = 1e-7,
    training: bool = False,
    seed: int = 0,
) -> GradcheckReport:
    """Compare ``target``'s analytic gradients with float64 central differences.

    Parameters
    ----------
    target : Sequential, Layer, ActivationFunction or Loss
        What to check. A model is checked on ``loss(y, model(x))`` (its compiled loss,
        or ``loss=``); a layer or an activation on ``sum(output * r)`` for a fixed
        random ``r`` (so every output entry matters); a loss on ``loss(y, x)``, where
        ``x`` plays the prediction and ``y`` the target.
    x, y : array-like
        Inputs and (for models and losses) targets.
    epsilon : float
        Step of the central differences.
    tolerance : float
        Largest relative error accepted by ``report.passed``.
    training : bool
        Run layers in training mode (dropout masks are held fixed while checking).

    Returns
    -------
    GradcheckReport
        ``errors`` per tensor (``"dense.W"``, ``"x"``...), ``max_error``, ``worst``,
        ``passed``; ``print(report)`` shows a table.
    """
    epsilon = check_positive_float(epsilon, "epsilon")
    tolerance = check_positive_float(tolerance, "tolerance")
    if isinstance(x, (list, tuple)) and (
        (isinstance(target, Layer) and target.takes_list)
        or (
            isinstance(target, Model)
            and target.graph is not None
            and len(target.graph.inputs) > 1
        )
    ):
        x_arr: Any = [
            as_float_array(a, f"x[{i}]", np.float64, min_ndim=1).copy()
            for i, a in enumerate(x)
        ]
    else:
        x_arr = as_float_array(x, "x", np.float64, min_ndim=1).copy()
    rng = np.random.default_rng(seed)
    if isinstance(target, Model):
        checks = _model_checks(target, x_arr, y, loss, training)
    elif isinstance(target, Layer):
        checks = _layer_checks(target, x_arr, rng, training)
    elif isinstance(target, ActivationFunction):
        checks = _activation_checks(target, x_arr, rng)
    elif isinstance(target, Loss):
        if y is None:
            raise InvalidArgumentError(
                "Checking a loss needs targets: gradcheck(loss, y_pred, y_true)."
            )
        y_arr = as_float_array(y, "y", np.float64, min_ndim=1)
        checks = [
            (
                "y_pred",
                x_arr,
                target.backward(y_arr, x_arr),
                lambda: float(target.forward(y_arr, x_arr)),
            )
        ]
    else:
        raise GlassnetTypeError(
            "gradcheck checks a Sequential model, a Layer, an ActivationFunction or a "
            f"Loss. Received: {type(target).__name__}"
        )
    errors, shapes = {}, {}
    for name, array, analytic, objective in checks:
        numeric = _numeric_gradient(objective, array, epsilon)
        errors[name] = relative_error(np.asarray(analytic, dtype=np.float64), numeric)
        shapes[name] = tuple(array.shape)
    return GradcheckReport(errors, tolerance, shapes)


Check = tuple[str, Array, Array, Callable[[], float]]


def float64_copy(model: Model, x: Array) -> Model:
    """A float64 copy of ``model`` (built for ``x`` if ``model`` is not yet built).

    Any model, Sequential or functional: a deep copy whose weights are cast to
    float64 and whose flat buffer is made again. The original is untouched.
    """
    copy = deepcopy(model)
    if not copy.built:
        copy.build((None, *x.shape[1:]))
    copy.dtype = np.dtype(np.float64)
    for inner in copy.layers:  # models used as layers are cast (and re-flattened) too
        if isinstance(inner, Model):
            inner.dtype = np.dtype(np.float64)
    for layer in copy.leaf_layers():
        layer.params = {k: v.astype(np.float64) for k, v in layer.params.items()}
        layer.grads = {k: np.zeros_like(v) for k, v in layer.params.items()}
        layer.state = {k: v.astype(np.float64) for k, v in layer.state.items()}
        layer._dtype = np.dtype(np.float64)
    copy._flatten()
    return copy


def _model_checks(
    model: Model, x: Any, y: Any, loss: Any, training: bool
) -> list[Check]:
    """Checks of every trainable tensor on the model's loss (the weighted sum of the
    outputs' losses for a model compiled with several outputs)."""
    heads = model.heads if loss is None else None
    chosen = losses.get(loss) if loss is not None else model.loss
    if chosen is None:
        raise InvalidArgumentError(
            "Checking a model needs a loss: compile it or pass loss=."
        )
    if y is None:
        raise InvalidArgumentError(
            "Checking a model needs targets: gradcheck(model, x, y)."
        )
    first = x[0] if isinstance(x, list) else x
    copy = float64_copy(model, first)
    inputs = x if isinstance(x, list) else [x]
    walk = Walk(copy.graph)  # type: ignore[arg-type]
    rewind = _rewinder(
        [copy.rng, *(g for layer in copy.layers for g in _generators(layer))]
    )
    activities = activity_layers(copy)

    def penalty() -> float:
        """The penalties of the weights now and of the outputs of the last pass."""
        outputs = sum(sum(a.losses[-calls:]) for _, a, calls in activities)
        return weight_penalty(copy) + outputs

    if heads is not None:
        targets = [
            head.validate_targets(
                values, tensor.sample_shape, f"y[{i}]", dtype=np.float64
            )
            for i, (head, tensor, values) in enumerate(
                zip(heads, copy.outputs, y, strict=True)
            )
        ]

        def objective() -> float:
            rewind()
            outs = walk.forward(inputs, training=training, keep_cache=True)
            return penalty() + sum(
                h.weight * float(h.loss.forward(t, o))
                for h, t, o in zip(heads, targets, outs, strict=True)
                if h.loss is not None  # an output without a loss adds nothing
            )

        rewind()
        outs = walk.forward(inputs, training=training, keep_cache=True)
        walk.backward(
            [
                np.zeros_like(o) if h.loss is None else h.weight * h.loss.backward(t, o)
                for h, t, o in zip(heads, targets, outs, strict=True)
            ]
        )
    else:
        y_arr = chosen.validate_targets(
            y, copy.compute_output_shape(first.shape[1:]), "y"
        )
        fused = copy.fused_loss(chosen)
        last = copy.output_layer

        def objective() -> float:
            rewind()
            [out] = walk.forward(inputs, training=training, keep_cache=True)
            if fused is not None:
                return penalty() + float(fused.forward(y_arr, last.logits))
            return penalty() + float(chosen.forward(y_arr, out))

        rewind()
        [out] = walk.forward(inputs, training=training, keep_cache=True)
        if fused is not None:
            walk.backward([fused.backward(y_arr, last.logits)], logits=(True,))
        else:
            walk.backward([chosen.backward(y_arr, out)])
    for layer in copy.leaf_layers():
        for key, regularizer in layer.weight_regularizers().items():
            if layer.trainable:  # L = loss + R(w)  =>  dL/dw += dR/dw
                layer.grads[key] += regularizer.gradient(layer.params[key])
    return [
        (name, param, grad.copy(), objective)
        for name, param, grad in copy.parameter_triples()
    ]


def _layer_checks(
    layer: Layer, x: Any, rng: np.random.Generator, training: bool
) -> list[Check]:
    """Checks of a layer's parameters and input(s) on ``sum(layer(x) * r)``.

    ``x`` is one array, or a list of arrays for a layer that takes a list (merge
    layers). Non-trainable state is copied and never checked.
    """
    copy = type(layer).from_config(layer.get_config())
    build_rng = np.random.default_rng(rng.integers(2**32))
    inputs = x if layer.takes_list else [x]
    shapes = [a.shape[1:] for a in inputs]
    shape = shapes if layer.takes_list else shapes[0]
    copy.build(shape, build_rng, np.float64)
    for key, value in layer.params.items():
        copy.params[key][...] = value
    for key, value in layer.state.items():
        copy.state[key][...] = value
    rewind = _rewinder([build_rng, *_generators(copy)])
    saved_state = {key: value.copy() for key, value in copy.state.items()}
    weights = rng.standard_normal((len(inputs[0]), *copy.output_shape(shape)))

    regularizers = copy.weight_regularizers() if copy.trainable else {}

    def objective() -> float:
        rewind()
        for key, value in saved_state.items():  # training may move the moving stats
            copy.state[key][...] = value
        out = copy.forward(x, training=training, keep_cache=True)
        # plus the layer's own penalties: R(y) / n of this call, R(w) of its weights
        return float(np.sum(out * weights)) + sum(copy.losses)

    objective()
    grad_x = copy.backward(weights)
    for key, regularizer in regularizers.items():  # dL/dw += dR/dw
        copy.grads[key] += regularizer.gradient(copy.params[key])
    checks: list[Check] = [
        (key, param, copy.grads[key].copy(), objective)
        for key, param in copy.params.items()
    ]
    if layer.takes_list:
        for index, (array, grad) in enumerate(zip(inputs, grad_x, strict=True)):
            checks.append((f"x{index}", array, grad, objective))
    else:
        checks.append(("x", x, grad_x, objective))
    return checks


def _generators(layer: Layer) -> list[np.random.Generator]:
    """The random generators a layer draws from (Dropout's masks, noise)."""
    return [v for v in vars(layer).values() if isinstance(v, np.random.Generator)]


def _rewinder(generators: list[np.random.Generator]) -> Callable[[], None]:
    """``rewind()`` puts every generator back where it is now: each evaluation of the
    objective then draws the same dropout masks and noise (a seeded layer's own
    generator included)."""
    unique = list({id(g): g for g in generators}.values())
    states = [g.bit_generator.state for g in unique]

    def rewind() -> None:
        for generator, state in zip(unique, states, strict=True):
            generator.bit_generator.state = state

    return rewind


def _activation_checks(
    activation: ActivationFunction, x: Array, rng: np.random.Generator
) -> list[Check]:
    weights = rng.standard_normal(x.shape)

    def objective() -> float:
        return float(np.sum(activation.forward(x) * weights))

    analytic = activation.backward(x, activation.forward(x), weights)
    return [("x", x, analytic, objective)]
