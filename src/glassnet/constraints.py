"""Constraints: projections applied to a weight after every optimizer update.

A constraint maps a weight tensor to the nearest allowed one (clipped, rescaled).
Layers take them as Keras 3 does, ``kernel_constraint`` and ``bias_constraint``
(``gamma_constraint``/``beta_constraint`` on the normalization layers), and ``fit``
applies each after every update, in place, to the weights of trainable layers only::

    w = w - learning_rate * g      (or any optimizer's step)
    w = constraint(w)

Norms are taken along ``axis`` (``keepdims``), so each slice along the other axes
is one "unit": with a Dense kernel ``(n_in, units)`` and ``axis=0`` (the default),
each unit's incoming weight vector. For a Conv2D kernel ``(kh, kw, C, F)`` use
``axis=[0, 1, 2]`` for each filter. ``EPSILON`` (1e-7, Keras' backend epsilon)
keeps zero vectors finite::

    MaxNorm:    w * clip(norm, 0, max_value) / (EPSILON + norm)
    MinMaxNorm: w * (rate * clip(norm, min_value, max_value) + (1 - rate) * norm)
                  / (EPSILON + norm)
    UnitNorm:   w / (EPSILON + norm)
    NonNeg:     max(w, 0)

>>> import numpy as np
>>> w = np.array([[3.0, 0.1], [4.0, 0.0]])   # column norms 5 and 0.1
>>> MaxNorm(max_value=2)(w).round(4)          # the first column scaled to norm 2
array([[1.2, 0.1],
       [1.6, 0. ]])
>>> get("non_neg")(np.array([-1.0, 2.0]))
array([0., 2.])
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np

from glassnet._registry import Configurable, Registry, check_config_keys
from glassnet._typing import Array
from glassnet._validation import check_in_range, check_nonnegative_float
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "registry",
    "serialize",
]

registry = Registry("constraint")

#: Keras' backend epsilon, added to every norm a constraint divides by.
EPSILON = 1e-7


class Constraint(Configurable):
    """Base class: ``w_new = constraint(w)``, a new array shaped like ``w``.

    A subclass implements :meth:`__call__` and returns its constructor arguments
    from :meth:`get_config`. ``fit`` writes the result back into the weight in
    place (weights are views into the model's flat buffer, see ``models/flat.py``).

    >>> class Clip(Constraint):
    ...     def __call__(self, w):
    ...         return np.clip(w, -1.0, 1.0)
    >>> Clip()(np.array([-3.0, 0.5]))
    array([-1. ,  0.5])
    """

    registry = registry
    #: the axis (or axes) norms are taken along; None for elementwise constraints
    axis: int | list[int] | None = None

    def __call__(self, w: Array) -> Array:
        """The projection of ``w``; the base class leaves it as it is."""
        return w

    def check_shape(self, shape: tuple[int, ...], where: str) -> None:
        """Refuse a weight of ``shape`` whose axes do not include :attr:`axis`."""
        if self.axis is None:
            return
        for axis in [self.axis] if isinstance(self.axis, int) else self.axis:
            if not -len(shape) <= axis < len(shape):
                raise ShapeError(
                    f"{where}: {self!r} takes norms along axis {axis}, which a "
                    f"weight of shape {shape} does not have. Pass an axis between "
                    f"{-len(shape)} and {len(shape) - 1}."
                )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """Rebuild from :meth:`get_config` output; an unknown key is named."""
        accepted = list(inspect.signature(cls).parameters)
        check_config_keys("constraint", cls, config, accepted)
        return cls(**config)


def _check_axis(value: Any) -> int | list[int]:
    """An axis (int) or a list of distinct axes, as Keras' constraints take."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if (
        isinstance(value, (list, tuple))
        and value
        and all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in value
        )
        and len(set(value)) == len(value)
    ):
        return [int(a) for a in value]
    raise InvalidArgumentError(
        "Argument `axis` must be an integer or a list of distinct integers, e.g. 0 "
        f"or [0, 1, 2]. Received: axis={value!r}"
    )


def _norms(w: Array, axis: Any) -> Array:
    """``sqrt(sum(w ** 2))`` along ``axis``, kept as size-1 axes for broadcasting."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return np.sqrt(np.add.reduce(w * w, axis=axes, keepdims=True))


def _rescaled(w: Array, norms: Array, desired: Array) -> Array:
    """``w * desired / (EPSILON + norms)``: each unit moved to its desired norm."""
    return w * (desired / (w.dtype.type(EPSILON) + norms))


@registry.register("max_norm")
class MaxNorm(Constraint):
    """Caps each unit's norm: ``w * clip(norm, 0, max_value) / (EPSILON + norm)``.

    The dropout paper's max-norm regularization (Srivastava et al., 2014).

    >>> MaxNorm(1.0)(np.array([[3.0], [4.0]])).round(6)
    array([[0.6],
           [0.8]])
    """

    def __init__(self, max_value: float = 2, axis: Any = 0) -> None:
        check_nonnegative_float(max_value, "max_value")
        self.max_value = max_value
        self.axis = _check_axis(axis)

    def __call__(self, w: Array) -> Array:
        norms = _norms(w, self.axis)
        # norms >= 0, so clip(norms, 0, max_value) is a minimum (np.clip is slower)
        return _rescaled(w, norms, np.minimum(norms, w.dtype.type(self.max_value)))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


@registry.register("non_neg")
class NonNeg(Constraint):
    """Keeps every weight >= 0: ``max(w, 0)``.

    >>> NonNeg()(np.array([-0.5, 0.0, 2.0]))
    array([0., 0., 2.])
    """

    def __call__(self, w: Array) -> Array:
        return np.maximum(w, w.dtype.type(0))


@registry.register("unit_norm")
class UnitNorm(Constraint):
    """Scales each unit to norm 1: ``w / (EPSILON + norm)``.

    >>> UnitNorm()(np.array([[3.0], [4.0]])).round(6)
    array([[0.6],
           [0.8]])
    """

    def __init__(self, axis: Any = 0) -> None:
        self.axis = _check_axis(axis)

    def __call__(self, w: Array) -> Array:
        return w / (w.dtype.type(EPSILON) + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


@registry.register("min_max_norm")
class MinMaxNorm(Constraint):
    """Moves each unit's norm into ``[min_value, max_value]``, by ``rate``.

    ``desired = rate * clip(norm, min_value, max_value) + (1 - rate) * norm`` and
    ``w * desired / (EPSILON + norm)``: ``rate=1`` enforces the bounds at once,
    a smaller rate moves the norm part of the way each step.

    >>> MinMaxNorm(min_value=1.0, max_value=2.0)(np.array([[0.3], [0.4]])).round(5)
    array([[0.6],
           [0.8]])
    """

    def __init__(
        self,
        min_value: float = 0.0,
        max_value: float = 1.0,
        rate: float = 1.0,
        axis: Any = 0,
    ) -> None:
        low = check_nonnegative_float(min_value, "min_value")
        high = check_nonnegative_float(max_value, "max_value")
        if low > high:
            raise InvalidArgumentError(
                "Argument `min_value` must not exceed `max_value`. Received: "
                f"min_value={min_value!r}, max_value={max_value!r}"
            )
        self.min_value, self.max_value = min_value, max_value
        self.rate = check_in_range(rate, "rate", 0.0, 1.0, high_inclusive=True)
        self.axis = _check_axis(axis)

    def __call__(self, w: Array) -> Array:
        norms = _norms(w, self.axis)
        clipped = np.minimum(np.maximum(norms, self.min_value), self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return _rescaled(w, norms, desired.astype(w.dtype, copy=False))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


def get(
    identifier: Any, custom_objects: dict[str, type] | None = None
) -> Constraint | None:
    """Resolve None, a name, a (Keras 3) config dict or an instance.

    >>> get("max_norm")
    MaxNorm(max_value=2, axis=0)
    >>> get({"class_name": "UnitNorm", "config": {"axis": [0, 1]}})
    UnitNorm(axis=[0, 1])
    >>> get("max_nrom")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown constraint 'max_nrom'. ... Did you mean 'max_norm'?
    """
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    return registry.get(identifier, base=Constraint, custom_objects=custom_objects)


def serialize(constraint: Constraint | None) -> dict[str, Any] | None:
    """Keras 3's form: ``{"module", "class_name", "config", "registered_name"}``.

    A subclass of your own gets no module: loading it takes ``custom_objects``.

    >>> serialize(NonNeg())
    {'module': 'keras.constraints', 'class_name': 'NonNeg', 'config': {}, \
'registered_name': None}
    """
    if constraint is None:
        return None
    builtin = type(constraint).__module__ == __name__  # else a user's subclass
    return {
        "module": "keras.constraints" if builtin else None,
        "class_name": type(constraint).__name__,
        "config": constraint.get_config(),
        "registered_name": None,
    }


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, type] | None = None
) -> Constraint:
    """The constraint a :func:`serialize` dict describes.

    >>> deserialize(serialize(MaxNorm(3, axis=[0, 1])))
    MaxNorm(max_value=3, axis=[0, 1])
    """
    if not isinstance(config, dict):
        raise GlassnetTypeError(
            "deserialize takes a constraint config dict. "
            f"Received: {type(config).__name__} {config!r:.80}"
        )
    return registry.get(config, base=Constraint, custom_objects=custom_objects)
