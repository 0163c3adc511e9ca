"""Models: :class:`Sequential` (a stack of layers) and :class:`Model` (any graph).

:func:`clone_model` makes a new model of the same architecture with new weights.

>>> from glassnet.models import Sequential
>>> Sequential(name="empty")
<Sequential name='empty' layers=0 built=False>
"""

from typing import Any

from glassnet.models.cloning import clone_model
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json"]


def model_from_json(
    json_string: str | bytes, custom_objects: dict[str, type] | None = None
) -> Model:
    """Rebuild an untrained model from ``model.to_json()`` or Keras' ``to_json()``.

    A Sequential config gives a :class:`Sequential`, a functional one a
    :class:`Model`.

    See :func:`glassnet.io.model_from_json`.
    """
    from glassnet.io import model_from_json as read

    return read(json_string, custom_objects)


def load_model(
    filepath: Any,
    custom_objects: dict[str, type] | None = None,
    compile: bool = True,
    *,
    allow_nonfinite: bool = False,
) -> Model:
    """Load a whole model, Sequential or functional, from ``.keras`` or ``.h5``.

    Files written by glassnet or Keras (3, and Keras 2's legacy ``.h5``).

    See :func:`glassnet.io.load_model`.
    """
    from glassnet.io import load_model as read

    return read(filepath, custom_objects, compile, allow_nonfinite=allow_nonfinite)
