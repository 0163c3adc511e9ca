"""Activation functions: stateless objects with a forward pass and its backward pass.

``forward(x)`` returns ``y = f(x)``; ``backward(x, y, grad_y)`` returns ``dL/dx`` given
``dL/dy``. It is a vector-Jacobian product rather than an elementwise derivative, so
softmax, which mixes a row, fits the same protocol. Outputs keep the input float dtype.

The package holds one family per module: :mod:`~glassnet.activations.base` (the
:class:`ActivationFunction` protocol, the registry and shared helpers),
:mod:`~glassnet.activations.squashing` (sigmoid, tanh),
:mod:`~glassnet.activations.rectifiers` (relu, leaky_relu, elu, softplus),
:mod:`~glassnet.activations.softmax`, :mod:`~glassnet.activations.linear` (linear,
step) and :mod:`~glassnet.activations.gated` (gelu, silu). This module resolves names
with :func:`get` and :func:`serialize`.

>>> import numpy as np
>>> relu = get("relu")
>>> x = np.array([[-1.0, 2.0]])
>>> relu(x)
array([[0., 2.]])
>>> relu.backward(x, relu(x), np.ones_like(x))
array([[0., 1.]])
"""

from __future__ import annotations

from typing import Any

# isort: off
# Importing a module registers its activations; this order keeps the registration
# order they have always had: sigmoid, tanh, relu, leaky_relu, elu, softplus, softmax,
# linear, step, gelu, silu.
from glassnet.activations.base import ActivationFunction, registry
from glassnet.activations.squashing import Sigmoid, Tanh
from glassnet.activations.rectifiers import ELU, LeakyReLU, ReLU, Softplus
from glassnet.activations.softmax import Softmax
from glassnet.activations.linear import Linear, Step
from glassnet.activations.gated import GELU, SiLU
# isort: on

# Names importable from glassnet.activations since it was a single module.
from glassnet.activations.base import _check_finite_number as _check_finite_number
from glassnet.activations.base import _float_dtype as _float_dtype

__all__ = [
    "ELU",
    "GELU",
    "ActivationFunction",
    "LeakyReLU",
    "Linear",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Step",
    "Tanh",
    "get",
    "registry",
    "serialize",
]


def get(
    identifier: Any, *, custom_objects: dict[str, type] | None = None
) -> ActivationFunction:
    """Resolve an activation from a name, a config dict, an instance or None.

    Parameters
    ----------
    identifier : str, dict, ActivationFunction or None
        ``None`` means linear. Names are case-insensitive (``"ReLU"`` works).
    custom_objects : dict, optional
        Extra classes a config dict may name, ``{"MyAct": MyAct}``.

    Examples
    --------
    >>> get(None)
    Linear()
    >>> get({"class_name": "LeakyReLU", "config": {"negative_slope": 0.1}})
    LeakyReLU(negative_slope=0.1)
    >>> get("rleu")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown activation 'rleu'...Did you mean 'relu'?
    """
    if identifier is None:
        return Linear()
    activation: ActivationFunction = registry.get(
        identifier, base=ActivationFunction, custom_objects=custom_objects
    )
    return activation


def serialize(activation: ActivationFunction) -> str | dict[str, Any]:
    """The plain name when ``activation`` has its default config, else a config dict.

    Examples
    --------
    >>> serialize(ReLU())
    'relu'
    >>> serialize(ELU(alpha=0.5))
    {'class_name': 'ELU', 'config': {'alpha': 0.5}}
    """
    config = activation.get_config()
    cls = type(activation)
    if cls in registry.classes() and config == cls().get_config():
        return activation.name
    return {"class_name": cls.__name__, "config": config}
