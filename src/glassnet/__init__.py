"""glassnet: a neural-network library on NumPy that you can see through.

Every forward and backward pass is plain NumPy next to the math it implements, behind
a Keras-style API::

    from glassnet.models import Sequential
    from glassnet.layers import Dense, Activation

The package root holds the seed tutorials' first objects, the gradient check, Keras'
``Input`` and ``Model``, and every submodule (``glassnet.layers``,
``glassnet.models``...). All are imported on first use, so ``import glassnet``
stays fast.

>>> import glassnet
>>> glassnet.Neuron([0, 1], 4).feedforward([2, 3])
0.9990889488055994
>>> glassnet.layers.Dense(3).units
3
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glassnet.gradient_check import GradcheckReport, gradcheck
    from glassnet.layers import Input
    from glassnet.models import Model, Sequential
    from glassnet.neuron import Neuron
    from glassnet.perceptron import Perceptron

__version__ = "0.1.0"

__all__ = [
    "GradcheckReport",
    "Input",
    "Model",
    "Neuron",
    "Perceptron",
    "Sequential",
    "__version__",
    "gradcheck",
]

_LAZY = {
    "GradcheckReport": "glassnet.gradient_check",
    "gradcheck": "glassnet.gradient_check",
    "Input": "glassnet.layers",
    "Model": "glassnet.models",
    "Sequential": "glassnet.models",
    "Neuron": "glassnet.neuron",
    "Perceptron": "glassnet.perceptron",
}

#: submodules loaded on first attribute access: ``glassnet.layers.Dense`` works
#: after a bare ``import glassnet``
_SUBMODULES = {
    "activations",
    "callbacks",
    "constraints",
    "datasets",
    "explain",
    "export",
    "fused",
    "initializers",
    "io",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "plot",
    "regularizers",
    "sklearn",
    "utils",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"glassnet.{name}")
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
