"""A model's regularization penalties and weight constraints, as Keras 3 applies them.

Keras adds every penalty to the loss it differentiates and reports::

    loss = data loss + sum of R(w) over the regularized trainable weights
                     + sum of R(y) / batch_size over the regularized layer outputs

and after each optimizer update projects every constrained trainable weight
(``w = constraint(w)``). :class:`TrainPenalties` is what the train step needs of
that, collected **once**, when the step is made (``training.make_train_step``): a
model with no regularizer and no constraint gets none, and its step is the plain
one. The activity penalties enter the gradient inside the layers' own backward
(``layers/penalties.py``); the weight penalties' gradients are added here::

    dL/dw += dR/dw         (e.g. 2 * l2 * w), before the update

The loss ``fit`` reports is the data loss plus the mean of the batch penalties
weighted by the batch sizes (:meth:`TrainPenalties.mean`), as Keras' running mean
of its batch losses is. ``evaluate`` and the validation loss add
:func:`evaluation_penalty`: the weight penalties now, and each regularized output's
``R(y)`` summed over the batches, over the number of samples.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from glassnet._typing import Array
from glassnet.constraints import Constraint
from glassnet.layers import Layer
from glassnet.layers.penalties import Activity
from glassnet.layers.wrappers import Wrapper
from glassnet.regularizers import Regularizer

if TYPE_CHECKING:
    from glassnet.models.network import Network

__all__ = [
    "TrainPenalties",
    "activity_layers",
    "add_penalty",
    "batch_rows",
    "evaluation_penalty",
    "penalty_values",
    "regularized_outputs",
    "reset_activity_sums",
    "weight_penalty",
]


def _layer_calls(network: Network) -> Counter[int]:
    """How many times each leaf layer runs in one pass, by ``id`` (models opened)."""
    calls: Counter[int] = Counter()
    graph = network.graph
    for step in [] if graph is None else graph.steps:
        if isinstance(step.layer, Layer):
            calls[id(step.layer)] += 1
        else:  # a model used as a layer: its own layers run once per call
            calls.update(_layer_calls(step.layer))
    return calls


def _with_inner(layer: Layer) -> list[Layer]:
    """``layer``, then the layers a wrapper runs inside it (Bidirectional's two
    directions keep their own activity regularizers, as in Keras)."""
    return [layer, *layer.inner_layers()] if isinstance(layer, Wrapper) else [layer]


def regularized_outputs(layers: list[Layer]) -> list[Layer]:
    """The layers, and the layers inside wrappers, whose output is regularized."""
    return [
        each
        for layer in layers
        for each in _with_inner(layer)
        if each.activity_regularizer is not None
    ]


def activity_layers(network: Network) -> list[tuple[Layer, Activity, int]]:
    """``(layer, its activity regularizer's state, calls per pass)`` for each layer
    whose output is regularized (inside a wrapper too: it runs once per call of
    the wrapper)."""
    calls = _layer_calls(network)
    found = []
    for layer in network.leaf_layers():
        for each in _with_inner(layer):
            activity = each._activity
            if activity is not None:
                found.append((each, activity, max(1, calls[id(layer)])))
    return found


def _regularized_weights(network: Network) -> list[tuple[Regularizer, Array, Array]]:
    """``(regularizer, w, dL/dw)`` for each regularized weight of a trainable layer."""
    return [
        (regularizer, layer.params[key], layer.grads[key])
        for layer in network.leaf_layers()
        if layer.trainable
        for key, regularizer in layer.weight_regularizers().items()
    ]


def weight_penalty(network: Network) -> float:
    """The sum of ``R(w)`` over the regularized weights of trainable layers, now."""
    return sum(
        (regularizer(w) for regularizer, w, _ in _regularized_weights(network)), 0.0
    )


def penalty_values(network: Network) -> list[float]:
    """Keras 3's ``model.losses``: each activity penalty of the last call, then each
    regularized trainable weight's ``R(w)``."""
    values = [
        loss
        for _, activity, calls in activity_layers(network)
        for loss in activity.losses[-calls:]
    ]
    return values + [
        regularizer(w) for regularizer, w, _ in _regularized_weights(network)
    ]


def reset_activity_sums(network: Network) -> None:
    """Start each regularized output's sum of ``R(y)`` again (a prediction begins)."""
    for _, activity, _ in activity_layers(network):
        activity.reset()


def evaluation_penalty(network: Network, samples: int) -> float:
    """What Keras' ``evaluate`` adds to the loss over ``samples`` rows: the weight
    penalties now, and each regularized output's ``R(y)`` summed over the batches
    since the prediction began (``predict_loop`` resets the sums), over ``samples``.

    (The mean over batches of ``R(y_b) / n_b`` weighted by ``n_b`` is
    ``sum_b R(y_b) / samples``.)
    """
    total = weight_penalty(network)
    for _, activity, _ in activity_layers(network):
        total += activity.total / max(samples, 1)
    return total


def add_penalty(
    network: Network, logs: dict[str, Any], samples: int, *, training: bool
) -> None:
    """Add the penalties to ``logs["loss"]``, as Keras' reported loss includes them.

    ``training=True``: logs of the last steps of ``fit``, which trained ``samples``
    rows (the epoch so far); the mean of their batch penalties. Otherwise (evaluate,
    validation): :func:`evaluation_penalty` of the prediction just made. A model
    without regularizers adds nothing, and costs two attribute reads.
    """
    if training:
        penalties = network.train_penalties
        if penalties is not None:
            logs["loss"] += penalties.mean(samples)
    elif network.activity_layers or network.weight_regularized:
        logs["loss"] += evaluation_penalty(network, samples)


class TrainPenalties:
    """The penalties and constraints of one train step, collected when it is made.

    :meth:`collect` returns None for a model with neither: its step then runs no
    code for them at all.
    """

    def __init__(
        self,
        weights: list[tuple[Regularizer, Array, Array]],
        constraints: list[tuple[Constraint, Array]],
        activities: list[tuple[Activity, int]],
    ) -> None:
        self.weights = weights
        self.constraints = constraints
        self.activities = activities
        #: (batch size, batch penalty) of the steps since the last epoch's logs
        self.batches: list[tuple[int, float]] = []

    @classmethod
    def collect(cls, network: Network) -> TrainPenalties | None:
        """The model's regularized and constrained weights (views into its flat
        buffer, so the network must be flattened already) and regularized outputs."""
        constraints = []
        for layer in network.leaf_layers():
            if not layer.trainable:
                continue  # the optimizer never moves a frozen layer's weights
            for key, constraint in layer.weight_constraints().items():
                param = layer.params[key]
                constraint.check_shape(param.shape, f"Layer '{layer.name}'")
                constraints.append((constraint, param))
        activities = []
        for _, activity, calls in activity_layers(network):
            activity.keep = max(activity.keep, calls)
            activities.append((activity, calls))
        weights = _regularized_weights(network)
        if not (weights or constraints or activities):
            return None
        return cls(weights, constraints, activities)

    def add_gradients(self) -> float:
        """Add each weight penalty's gradient to its weight's; return this step's
        penalty (the weights before the update, the outputs of this forward)."""
        total = 0.0
        for regularizer, w, grad in self.weights:
            total += regularizer(w)
            # L = data loss + R(w)  =>  dL/dw = d(data loss)/dw + dR/dw
            grad += regularizer.gradient(w)
        for activity, calls in self.activities:
            total += sum(activity.losses[-calls:])
        return total

    def record(self, rows: int, penalty: float) -> None:
        """Note one batch's size and penalty."""
        self.batches.append((rows, penalty))

    def mean(self, rows: int) -> float:
        """The mean penalty of the last steps, which trained ``rows`` rows: each
        batch's penalty weighted by its size, as Keras' running mean of the loss.

        ``fit`` reports an epoch's loss over the rows trained in it, the last steps'
        rows: the steps before them (earlier epochs) are dropped here.
        """
        batches, seen, weighted = self.batches, 0, 0.0
        start = len(batches)
        while start > 0 and seen < rows:
            start -= 1
            size, penalty = batches[start]
            seen += size
            weighted += size * penalty
        del batches[:start]
        return weighted / seen if seen else 0.0

    def constrain(self) -> None:
        """Project each constrained weight, in place (after the update)."""
        for constraint, w in self.constraints:
            w[...] = constraint(w)


def batch_rows(output: Any) -> int:
    """The number of samples in a step's output (the first output's, for several)."""
    first = output[0] if isinstance(output, list) else output
    return len(first)
