"""Regularizers: penalties on weights or activations, added to the training loss.

A regularizer is a function of one tensor that returns a number, the penalty, and
knows its gradient. Layers take them as Keras 3 does: ``kernel_regularizer`` and
``bias_regularizer`` (Dense, Conv1D, Conv2D; ``gamma_regularizer`` and
``beta_regularizer`` for the normalization layers) penalize a weight;
``activity_regularizer`` (any layer) penalizes the layer's output, **divided by the
batch size**, so its strength does not depend on how the data is batched::

    loss = data loss + sum of R(w) over regularized weights
                     + sum of R(y) / batch_size over regularized outputs

``model.losses`` lists the penalties now (the activity ones from the last call),
and the loss ``fit`` and ``evaluate`` report includes them, as Keras' does. Each
penalty's gradient is added to its weight's (or output's) gradient in backward::

    penalty(w)             gradient(w)
    l1 * sum(|w|)          l1 * sign(w)
    l2 * sum(w ** 2)       2 * l2 * w

>>> import numpy as np
>>> w = np.array([[1.0, -2.0], [0.5, 0.0]])
>>> L2(0.1)(w)                        # 0.1 * (1 + 4 + 0.25 + 0)
0.525
>>> L1L2(l1=0.01, l2=0.1).gradient(w)  # 0.01 * sign(w) + 2 * 0.1 * w
array([[ 0.21, -0.41],
       [ 0.11,  0.  ]])
>>> get("l1"), get("l1_l2")
(L1(l1=0.01), L1L2(l1=0.0, l2=0.0))
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from glassnet._registry import Configurable, Registry, check_config_keys
from glassnet._typing import Array
from glassnet._validation import check_nonnegative_float, check_one_of
from glassnet.errors import GlassnetTypeError, ShapeError

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "registry",
    "serialize",
]

registry = Registry("regularizer")

#: Keras' backend epsilon: the smallest norm OrthogonalRegularizer divides by.
EPSILON = 1e-7


class Regularizer(Configurable):
    """Base class: ``penalty = regularizer(x)`` and ``dpenalty/dx = .gradient(x)``.

    A subclass implements :meth:`__call__` (a float) and :meth:`gradient` (an array
    shaped and typed like ``x``) and returns its constructor arguments from
    :meth:`get_config`. Unlike Keras, a plain function is not a regularizer here:
    backward needs the gradient, so it must be written down.

    >>> class Quartic(Regularizer):
    ...     def __call__(self, x):
    ...         return float(np.sum(x ** 4))
    ...     def gradient(self, x):
    ...         return 4 * x ** 3
    >>> Quartic().gradient(np.array([1.0, -2.0]))
    array([  4., -32.])
    """

    registry = registry

    def __call__(self, x: Array) -> float:
        """The penalty for the tensor ``x``."""
        raise NotImplementedError

    def gradient(self, x: Array) -> Array:
        """d(penalty)/dx, shaped and typed like ``x``."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """Rebuild from :meth:`get_config` output; an unknown key is named."""
        accepted = list(inspect.signature(cls).parameters)
        check_config_keys("regularizer", cls, config, accepted)
        return cls(**config)


@registry.register("l1")
class L1(Regularizer):
    """``penalty = l1 * sum(|x|)``; gradient ``l1 * sign(x)`` (0 at 0, as autodiff).

    >>> L1(0.5)(np.array([1.0, -3.0]))
    2.0
    >>> L1(0.5).gradient(np.array([1.0, -3.0, 0.0]))
    array([ 0.5, -0.5,  0. ])
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = check_nonnegative_float(0.01 if l1 is None else l1, "l1")

    def __call__(self, x: Array) -> float:
        return self.l1 * float(np.abs(x).sum())

    def gradient(self, x: Array) -> Array:
        # d|x|/dx = sign(x)
        grad = np.sign(x)
        grad *= x.dtype.type(self.l1)
        return grad

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


@registry.register("l2")
class L2(Regularizer):
    """``penalty = l2 * sum(x ** 2)``; gradient ``2 * l2 * x``.

    Added to the loss, it is weight decay: an SGD step then shrinks ``w`` by
    ``2 * learning_rate * l2 * w`` besides following the data's gradient.

    >>> L2(0.5)(np.array([1.0, -3.0]))
    5.0
    >>> L2(0.5).gradient(np.array([1.0, -3.0]))
    array([ 1., -3.])
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = check_nonnegative_float(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: Array) -> float:
        flat = x.reshape(-1)
        return self.l2 * float(np.dot(flat, flat))

    def gradient(self, x: Array) -> Array:
        # d(x ** 2)/dx = 2 x
        return x * x.dtype.type(2.0 * self.l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


@registry.register("l1_l2", "l1l2")
class L1L2(Regularizer):
    """``penalty = l1 * sum(|x|) + l2 * sum(x ** 2)``; gradient ``l1 * sign(x) + 2 * l2 * x``.

    Both factors default to 0, as in Keras 3's code (its docstring's 0.01 is not
    what ``"l1_l2"`` gives there, which Keras 3 spells ``"l1l2"``; glassnet takes
    both names).

    >>> L1L2(l1=0.1, l2=0.5)(np.array([1.0, -3.0]))  # 0.1 * 4 + 0.5 * 10
    5.4
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = check_nonnegative_float(0.0 if l1 is None else l1, "l1")
        self.l2 = check_nonnegative_float(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Array) -> float:
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.abs(x).sum())
        if self.l2:
            flat = x.reshape(-1)
            penalty += self.l2 * float(np.dot(flat, flat))
        return penalty

    def gradient(self, x: Array) -> Array:
        # the sum of L1's and L2's gradients: l1 * sign(x) + 2 * l2 * x
        grad = x * x.dtype.type(2.0 * self.l2)
        if self.l1:
            grad += np.sign(x) * x.dtype.type(self.l1)
        return grad

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


@registry.register("orthogonal_regularizer")
class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a matrix towards being orthogonal.

    With ``n_i`` the rows of ``x`` scaled to unit length (``mode="rows"``; columns
    with ``mode="columns"``), ``P = N @ N.T`` holds their cosines, and::

        penalty = factor * 0.5 * sum over i != j of |P_ij| / (k * (k - 1) / 2)

    for ``k`` rows: ``factor`` times the mean absolute cosine over the pairs. On a
    Dense kernel ``(n_in, units)``, ``"rows"`` decorrelates what each input feeds
    the units, ``"columns"`` the units' weight vectors. Only for 2-D tensors, as in
    Keras.

    >>> OrthogonalRegularizer(factor=1.0)(np.array([[1.0, 0.0], [1.0, 1.0]]))
    0.7071067811865475
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = check_nonnegative_float(factor, "factor")
        self.mode = check_one_of(mode, "mode", ("rows", "columns"))

    def _normalized(self, x: Array) -> tuple[Array, Array, Array]:
        """``(N, scale, free)``: the rows of ``x`` (``x.T`` for columns) over their
        norms, as Keras' normalize: ``x * min(1 / ||x||, 1 / EPSILON)``; ``free``
        marks the rows whose norm is used (not clamped to EPSILON)."""
        if x.ndim != 2 or min(x.shape) < 1:
            raise ShapeError(
                "OrthogonalRegularizer takes a 2-D tensor (a Dense kernel, or a "
                f"Dense layer's (batch, units) output). Received: shape {x.shape}"
            )
        rows = x if self.mode == "rows" else x.T
        if rows.shape[0] < 2:
            raise ShapeError(
                f"OrthogonalRegularizer(mode={self.mode!r}) compares pairs of "
                f"{self.mode}, so the tensor needs at least 2. Received: shape "
                f"{x.shape}"
            )
        squares = np.einsum("ij,ij->i", rows, rows)[:, np.newaxis]
        free = squares >= EPSILON * EPSILON
        with np.errstate(divide="ignore"):
            scale = np.where(free, 1.0 / np.sqrt(squares), 1.0 / EPSILON)
        scale = scale.astype(x.dtype, copy=False)
        return rows * scale, scale, free

    def _pairs_factor(self, k: int) -> float:
        return self.factor * 0.5 / (k * (k - 1) / 2.0)

    def __call__(self, x: Array) -> float:
        unit, _, _ = self._normalized(x)
        cosines = unit @ unit.T
        np.fill_diagonal(cosines, 0.0)
        return self._pairs_factor(len(unit)) * float(np.abs(cosines).sum())

    def gradient(self, x: Array) -> Array:
        # penalty = c * sum_{i != j} |P_ij|, P = N @ N.T, n_i = x_i / ||x_i||
        #   =>  dP = c * sign(P) off the diagonal (symmetric), dN = 2 dP @ N,
        #       dx_i = (dn_i - n_i (n_i . dn_i)) / ||x_i||  (dn_i / EPSILON if clamped)
        unit, scale, free = self._normalized(x)
        grad_p = np.sign(unit @ unit.T)
        np.fill_diagonal(grad_p, 0.0)
        grad_unit = (2.0 * self._pairs_factor(len(unit))) * (grad_p @ unit)
        radial = np.einsum("ij,ij->i", unit, grad_unit)[:, np.newaxis]
        grad = np.where(free, grad_unit - unit * radial, grad_unit) * scale
        grad = grad.astype(x.dtype, copy=False)
        return grad if self.mode == "rows" else grad.T

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


def get(
    identifier: Any, custom_objects: dict[str, type] | None = None
) -> Regularizer | None:
    """Resolve None, a name, a (Keras 3) config dict or an instance.

    >>> get("l2")
    L2(l2=0.01)
    >>> get({"module": "keras.regularizers", "class_name": "L1L2",
    ...      "config": {"l1": 0.0, "l2": 0.1}, "registered_name": None})
    L1L2(l1=0.0, l2=0.1)
    >>> get("l3")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown regularizer 'l3'. ... Did you mean 'l2'?
    """
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    return registry.get(identifier, base=Regularizer, custom_objects=custom_objects)


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """Keras 3's form: ``{"module", "class_name", "config", "registered_name"}``.

    A subclass of your own gets no module: loading it takes ``custom_objects``.

    >>> serialize(L2(0.1))
    {'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 0.1}, \
'registered_name': None}
    """
    if regularizer is None:
        return None
    builtin = type(regularizer).__module__ == __name__  # else a user's subclass
    return {
        "module": "keras.regularizers" if builtin else None,
        "class_name": type(regularizer).__name__,
        "config": regularizer.get_config(),
        "registered_name": None,
    }


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, type] | None = None
) -> Regularizer:
    """The regularizer a :func:`serialize` dict describes.

    >>> deserialize(serialize(L1(0.2)))
    L1(l1=0.2)
    """
    if not isinstance(config, dict):
        raise GlassnetTypeError(
            "deserialize takes a regularizer config dict. "
            f"Received: {type(config).__name__} {config!r:.80}"
        )
    return registry.get(config, base=Regularizer, custom_objects=custom_objects)
