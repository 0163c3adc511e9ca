"""Models: :class:`Sequential` (a stack of layers) and :class:`Model` (any graph).

>>> from glassnet.models import Sequential
>>> Sequential(name="empty")
<Sequential name='empty' layers=0 built=False>
"""

from typing import Any

from glassnet.models.model import Model
from glassnet.models.sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "model_from_json"]


def model_from_json(
    json_string: str | bytes, custom_objects: dict[str, type] | None = None
) -> Sequential:
    """Rebuild an untrained model from ``model.to_json()`` or Keras' ``to_json()``.

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
) -> Sequential:
    """Load a whole model from ``.keras`` or legacy ``.h5`` (glassnet's or Keras').

    See :func:`glassnet.io.load_model`.
    """
    from glassnet.io import load_model as read

    return read(filepath, custom_objects, compile, allow_nonfinite=allow_nonfinite)
