"""Optimizers: turn each gradient into an in-place update of its parameter.

One optimizer serves one model. ``apply`` walks ``(name, param, grad)`` triples and
updates every ``param`` **in place** (the layer owns the array; it is never rebound).
Per-parameter state, such as Adam's moments, lives in ``optimizer.state[name]`` under
the stable name the model hands in (``state["dense.W"]["m"]``), is created on first
use with the parameter's shape and dtype, and can be saved and restored by name.
``iterations`` counts ``apply`` calls. Arguments follow Keras 3; the Keras 2 spelling
``lr=`` still works.

The package: :mod:`~glassnet.optimizers.base` holds the :class:`Optimizer` base class
(the ``apply`` loops, clipping, state) and the :data:`registry`;
:mod:`~glassnet.optimizers.settings` its arguments and configs;
:mod:`~glassnet.optimizers.extras` the moving average of the weights and gradient
accumulation; :mod:`~glassnet.optimizers.sgd`, :mod:`~glassnet.optimizers.adaptive`
(Adagrad, RMSprop, Adam, AdamW) and :mod:`~glassnet.optimizers.more_adaptive`
(Adamax, Nadam, Adadelta, Ftrl, Lion) hold the update rules;
:mod:`~glassnet.optimizers.schedules` the learning-rate schedules;
:mod:`~glassnet.optimizers.fused` the same rules compiled into one loop by Numba when
it is installed (``glassnet[fast]``), bit for bit equal. This module resolves names
with :func:`get`.

>>> import numpy as np
>>> opt, w = get("sgd"), np.array([1.0, -1.0])
>>> opt.apply([("w", w, np.array([10.0, -10.0]))])
>>> w
array([ 0.9, -0.9])
"""

from __future__ import annotations

from typing import Any

# Re-exported for code that imports them from glassnet.optimizers. The blocking
# constants are copies here: to change them (as a test does), patch
# glassnet.optimizers.base, where apply_flat reads them.
from glassnet.optimizers.base import _BLOCK as _BLOCK
from glassnet.optimizers.base import _BLOCK_ABOVE as _BLOCK_ABOVE
from glassnet.optimizers.base import Optimizer, registry
from glassnet.optimizers.base import Slot as Slot
from glassnet.optimizers.base import State as State
from glassnet.optimizers.base import Triple as Triple
from glassnet.optimizers.base import _clip_global as _clip_global
from glassnet.optimizers.schedules import LearningRateSchedule
from glassnet.optimizers.sgd import SGD

# isort: split
# After sgd, so the registry keeps its order: sgd, adagrad, rmsprop, adam, adamw,
# then adamax, nadam, adadelta, ftrl, lion.
from glassnet.optimizers.adaptive import Adagrad, Adam, AdamW, RMSprop

# isort: split
from glassnet.optimizers.more_adaptive import Adadelta, Adamax, Ftrl, Lion, Nadam

# isort: split
from glassnet.optimizers import schedules

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "LearningRateSchedule",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "get",
    "registry",
    "schedules",
]


def get(identifier: Any, custom_objects: dict[str, type] | None = None) -> Any:
    """Resolve a name, a ``{"class_name", "config"}`` dict or an instance.

    A name gives a fresh optimizer with Keras' defaults, an instance is returned as
    is and ``None`` gives ``None``.

    >>> get("adam").learning_rate
    0.001
    >>> get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    SGD(learning_rate=0.5, momentum=0.0, nesterov=False)
    >>> get("adamm")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown optimizer 'adamm'. ... Did you mean 'adam'?
    """
    return registry.get(identifier, base=Optimizer, custom_objects=custom_objects)
