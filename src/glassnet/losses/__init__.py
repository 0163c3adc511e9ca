"""Loss functions, defined as Keras 3 defines them.

Every loss is the **mean over the batch** of a per-sample loss, and every ``backward``
returns ``dL/dy_pred`` **already divided by the batch size**, so a layer's gradients
need no further scaling. The cross-entropies take probabilities by default and logits
with ``from_logits=True`` (the fused, numerically stable path: log-sigmoid for binary,
log-softmax for categorical).

The package holds one concept per module: :mod:`~glassnet.losses.base` (the
:class:`Loss` base class, the registry and shared helpers),
:mod:`~glassnet.losses.regression` (mean squared and mean absolute error) and
:mod:`~glassnet.losses.probabilistic` (the cross-entropies). This module resolves
names with :func:`get` and :func:`serialize`.

>>> import numpy as np
>>> mse = get("mse")
>>> mse(np.array([[1.0], [2.0]]), np.array([[2.0], [2.0]]))
0.5
>>> mse.backward(np.array([[1.0], [2.0]]), np.array([[2.0], [2.0]]))
array([[1.],
       [0.]])
"""

from __future__ import annotations

from typing import Any

# isort: off
# Importing a module registers its losses; this order keeps the registration order
# they have always had: mean_squared_error, mean_absolute_error, binary_crossentropy,
# categorical_crossentropy, sparse_categorical_crossentropy.
from glassnet.losses.base import Loss, registry
from glassnet.losses.regression import MeanAbsoluteError, MeanSquaredError
from glassnet.losses.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)
# isort: on

# Names importable from glassnet.losses since it was a single module.
from glassnet.losses.base import EPSILON as EPSILON
from glassnet.losses.base import _as_pair as _as_pair
from glassnet.losses.base import _clip as _clip
from glassnet.losses.probabilistic import _one_hot as _one_hot
from glassnet.losses.probabilistic import _softmax_gradient as _softmax_gradient

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "get",
    "registry",
    "serialize",
]


def get(
    identifier: Any, *, custom_objects: dict[str, type] | None = None
) -> Loss | None:
    """Resolve a loss from a name, a config dict, an instance or None (-> None).

    Examples
    --------
    >>> get("MSE")
    MeanSquaredError()
    >>> get({"class_name": "binary_crossentropy", "config": {"from_logits": True}})
    BinaryCrossentropy(from_logits=True)
    >>> get("mean_squared_eror")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown loss ...Did you mean 'mean_squared_error'?
    """
    loss: Loss | None = registry.get(
        identifier, base=Loss, custom_objects=custom_objects
    )
    return loss


def serialize(loss: Loss) -> str | dict[str, Any]:
    """The plain name when ``loss`` has its default config, else a config dict.

    Examples
    --------
    >>> serialize(MeanSquaredError())
    'mean_squared_error'
    >>> serialize(BinaryCrossentropy(from_logits=True))
    {'class_name': 'BinaryCrossentropy', 'config': {'from_logits': True}}
    """
    config = loss.get_config()
    cls = type(loss)
    if cls in registry.classes() and config == cls().get_config():
        return loss.name
    return {"class_name": cls.__name__, "config": config}
