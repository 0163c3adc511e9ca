"""Regularizers and constraints on layers: the arguments, and the activity hook.

**Weight options.** A layer lists the Keras names of the weights that take options
in ``penalized_weights`` (Dense and the convolutions: ``("kernel", "bias")``); each
name ``n`` has the attributes ``n_regularizer`` and ``n_constraint``, as Keras' do
(``layer.kernel_regularizer``). :func:`regularizer_argument` and
:func:`constraint_argument` check the constructor arguments; the model reads the
options through ``layer.weight_regularizers()`` and ``layer.weight_constraints()``.

**Activity.** ``activity_regularizer`` penalizes the layer's output ``y`` by
``R(y) / batch_size`` on every call, as Keras' ``Layer.__call__`` does. Setting it
gives that one layer instance its own ``forward`` and ``backward``
(:func:`attach_activity`): the class's methods, plus the penalty and its gradient::

    forward:   y = layer's forward(x);  penalty = R(y) / n
    backward:  dL/dy += dR/dy / n, then the layer's backward

Why on the instance: a layer without one runs its class's methods untouched, so
it costs nothing; the walk calls whichever ``forward`` the layer has. For a layer
called several times in one pass (shared weights), the outputs wait on a stack:
backward visits the calls in reverse order, so each pops its own call's ``y``.

>>> import numpy as np
>>> from glassnet.layers import Dense
>>> layer = Dense(2, kernel_initializer="ones", activity_regularizer="l2")
>>> y = layer(np.ones((4, 3)))            # every output is 3
>>> layer.losses                           # 0.01 * (8 outputs x 9) / 4 rows
[0.18]
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from glassnet import constraints, regularizers
from glassnet._typing import Array
from glassnet.constraints import Constraint
from glassnet.errors import GlassnetError, GlassnetTypeError
from glassnet.layers.weight import KERAS_WEIGHT_NAMES
from glassnet.regularizers import Regularizer

if TYPE_CHECKING:
    from glassnet.layers.base import Layer

__all__ = [
    "Activity",
    "attach_activity",
    "constraint_argument",
    "options_config",
    "regularizer_argument",
    "weight_options",
]

#: the instance attributes an activity regularizer sets (see attach_activity)
_HOOKS = ("forward", "backward", "backward_from_logits")


def regularizer_argument(value: Any, name: str) -> Regularizer | None:
    """``value`` (None, a name, a config dict or a Regularizer) as a Regularizer.

    >>> regularizer_argument("l2", "kernel_regularizer")
    L2(l2=0.01)
    >>> regularizer_argument("l22", "kernel_regularizer")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Argument `kernel_regularizer`: Unknown ...
    """
    return _resolve(regularizers.get, value, name)


def constraint_argument(value: Any, name: str) -> Constraint | None:
    """``value`` (None, a name, a config dict or a Constraint) as a Constraint.

    >>> constraint_argument("non_neg", "kernel_constraint")
    NonNeg()
    """
    return _resolve(constraints.get, value, name)


def _resolve(get: Any, value: Any, name: str) -> Any:
    if callable(value) and not isinstance(value, (type, Regularizer, Constraint)):
        kind = "Regularizer" if name.endswith("regularizer") else "Constraint"
        raise GlassnetTypeError(
            f"Argument `{name}` takes a name, a config dict or a glassnet {kind}. A "
            f"plain function is not enough: subclass glassnet.{kind.lower()}s."
            f"{kind} (a regularizer also needs its gradient). Received: {value!r:.80}"
        )
    try:
        return get(value)
    except GlassnetError as error:
        raise type(error)(f"Argument `{name}`: {error}") from None


def weight_options(layer: Layer, kind: str) -> dict[str, Any]:
    """``{param key: option}`` for the weights whose ``<name>_<kind>`` is set (kind
    ``"regularizer"`` or ``"constraint"``), e.g. Dense's ``{"W": L2(l2=0.01)}``."""
    found = {}
    for key in layer.params:
        name = KERAS_WEIGHT_NAMES.get(key, key)
        if name in layer.penalized_weights:
            option = getattr(layer, f"{name}_{kind}")
            if option is not None:
                found[key] = option
    return found


def options_config(layer: Layer) -> dict[str, Any]:
    """The layer's weight options that are set, serialized in Keras 3's form."""
    config: dict[str, Any] = {}
    for name in layer.penalized_weights:
        regularizer = getattr(layer, f"{name}_regularizer")
        if regularizer is not None:
            config[f"{name}_regularizer"] = regularizers.serialize(regularizer)
    for name in layer.penalized_weights:
        constraint = getattr(layer, f"{name}_constraint")
        if constraint is not None:
            config[f"{name}_constraint"] = constraints.serialize(constraint)
    return config


# -- activity -------------------------------------------------------------------------
class Activity:
    """An activity regularizer on one layer, and what its calls left behind.

    ``losses`` holds the penalties ``R(y) / n`` of the last calls (``layer.losses``
    reports them), ``outputs`` the outputs a backward pass still needs, ``total``
    sums ``R(y)`` over the calls since the last :meth:`reset` (for the evaluation
    penalty). A layer called k times per pass keeps its last k calls: k is the
    number of its graph nodes, or ``keep`` if a model has counted more (a model
    called twice inside another).
    """

    def __init__(self, regularizer: Regularizer) -> None:
        self.regularizer = regularizer
        self.outputs: list[Array] = []
        self.losses: list[float] = []
        self.total = 0.0
        self.keep = 1

    def record(self, layer: Layer, y: Array, keep_output: bool) -> None:
        """Note the penalty of the call that made ``y`` (and ``y`` for backward)."""
        keep = max(self.keep, len(layer.inbound_nodes))
        total = self.regularizer(y)
        self.losses.append(total / (len(y) if y.ndim else 1))
        del self.losses[:-keep]
        self.total += total
        if keep_output:
            self.outputs.append(y)
            del self.outputs[:-keep]

    def gradient(self) -> tuple[Array, Array] | None:
        """``(y, dR/dy / n)`` for the call whose backward runs now (the latest one
        not yet back-propagated), or None after an inference-only forward."""
        if not self.outputs:
            return None
        y = self.outputs.pop()
        rows = len(y) if y.ndim else 1
        return y, self.regularizer.gradient(y) * y.dtype.type(1.0 / rows)

    def reset(self) -> None:
        """Start the sum :attr:`total` again (at the start of a prediction)."""
        self.total = 0.0


def attach_activity(layer: Layer, regularizer: Regularizer | None) -> None:
    """Give ``layer`` the forward and backward that add ``regularizer``'s penalty
    on its output (or take them away, for None). Walks made earlier keep the
    methods they bound: a model picks a change up when it trains next."""
    if getattr(layer, "_activity", None) is not None:
        # Reached through __dict__ only when hooks were attached: touching a
        # layer's __dict__ makes CPython keep its attributes in a real dict, and
        # every later ``self.x`` in forward and backward a slower lookup (measured:
        # 4% of a tiny network's step).
        for hook in _HOOKS:
            layer.__dict__.pop(hook, None)
    if regularizer is None:
        layer._activity = None
        return
    activity = layer._activity = Activity(regularizer)
    hooks: dict[str, Any] = {"forward": _forward, "backward": _backward}
    if layer.has_output_activation:
        hooks["backward_from_logits"] = _backward_from_logits
    for hook, function in hooks.items():
        setattr(layer, hook, functools.partial(function, layer, activity))


def _forward(
    layer: Layer,
    activity: Activity,
    x: Any,
    *,
    training: bool = False,
    keep_cache: bool = False,
    **mask: Any,
) -> Array:
    """The class's forward (given the ``mask=`` of a layer that takes one), then
    the penalty ``R(y) / n`` on the output."""
    y = type(layer).forward(layer, x, training=training, keep_cache=keep_cache, **mask)
    activity.record(layer, y, training or keep_cache)
    return y


def _backward(
    layer: Layer, activity: Activity, grad_output: Array, *, input_grad: bool = True
) -> Any:
    # penalty = R(y) / n  =>  dL/dy = (dL/dy from above) + dR/dy / n
    found = activity.gradient()
    if found is not None:
        grad_output = grad_output + found[1]
    return type(layer).backward(layer, grad_output, input_grad=input_grad)


def _backward_from_logits(
    layer: Layer, activity: Activity, grad_logits: Array, *, input_grad: bool = True
) -> Any:
    # y = f(z), penalty = R(y) / n  =>  dL/dz = (dL/dz from the loss)
    #                                           + f'(z)^T (dR/dy / n)
    found = activity.gradient()
    function = layer.output_activation
    if found is not None and function is not None:
        y, grad_y = found
        grad_logits = grad_logits + function.backward(layer.logits, y, grad_y)
    return type(layer).backward_from_logits(layer, grad_logits, input_grad=input_grad)
