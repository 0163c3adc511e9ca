"""Optimizers: turn each gradient into an in-place update of its parameter.

One optimizer serves one model. ``apply`` walks ``(name, param, grad)`` triples and
updates every ``param`` **in place** (the layer owns the array; it is never rebound).
Per-parameter state, such as Adam's moments, lives in ``optimizer.state[name]`` under
the stable name the model hands in (``state["dense.W"]["m"]``), is created on first
use with the parameter's shape and dtype, and can be saved and restored by name.
``iterations`` counts ``apply`` calls. Arguments follow Keras 3; the Keras 2 spelling
``lr=`` still works.

The package: :mod:`~glassnet.optimizers.base` holds the :class:`Optimizer` base class
(the ``apply`` loops, clipping, state, configs) and the :data:`registry`;
:mod:`~glassnet.optimizers.sgd` and :mod:`~glassnet.optimizers.adaptive` hold the
update rules; this module resolves names with :func:`get`.

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
from glassnet.optimizers.sgd import SGD

# isort: split
# After sgd, so the registry keeps its order: sgd, adagrad, rmsprop, adam, adamw.
from glassnet.optimizers.adaptive import Adagrad, Adam, AdamW, RMSprop

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get", "registry"]


def get(identifier: Any, custom_objects: dict[str, type] | None = None) -> Any:
    """Resolve a name, a ``{"class_name", "config"}`` dict or an instance.

    A name gives a fresh optimizer with Keras' defaults, an instance is returned as
    is and ``None`` gives ``None``.

    >>> get("adam").learning_rate
    0.001
    >>> get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    SGD(learning_rate=0.5, momentum=0.0, nesterov=False)
    >>> get("adma")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown optimizer 'adma'. ... Did you mean 'adam'?
    """
    return registry.get(identifier, base=Optimizer, custom_objects=custom_objects)
