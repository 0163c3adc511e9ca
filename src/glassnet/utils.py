"""Session utilities, as in ``keras.utils``: fresh automatic names, a seeded session,
``plot_model``.

>>> from glassnet.layers import Dense
>>> clear_session()
>>> Dense(1).name, Dense(1).name
('dense', 'dense_1')
>>> clear_session()
>>> Dense(1).name
'dense'
"""

from __future__ import annotations

from typing import Any

from glassnet._naming import reset_names
from glassnet._random import set_random_seed

__all__ = ["clear_session", "plot_model", "set_random_seed"]


def clear_session() -> None:
    """Start the automatic layer and model names again (``dense``, ``sequential``...).

    As ``keras.utils.clear_session``; existing layers and models keep their names.
    """
    reset_names()


def plot_model(model: Any, to_file: Any = None, **kwargs: Any) -> Any:
    """Keras' ``keras.utils.plot_model``: see :func:`glassnet.plot.plot_model`."""
    from glassnet.plot import plot_model as draw

    return draw(model, to_file, **kwargs)
