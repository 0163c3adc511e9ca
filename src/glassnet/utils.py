"""Session utilities, as in ``keras.utils``: fresh automatic names, a seeded session.

>>> from glassnet.layers import Dense
>>> clear_session()
>>> Dense(1).name, Dense(1).name
('dense', 'dense_1')
>>> clear_session()
>>> Dense(1).name
'dense'
"""

from __future__ import annotations

from glassnet._naming import reset_names
from glassnet._random import set_random_seed

__all__ = ["clear_session", "set_random_seed"]


def clear_session() -> None:
    """Start the automatic layer and model names again (``dense``, ``sequential``...).

    As ``keras.utils.clear_session``; existing layers and models keep their names.
    """
    reset_names()
