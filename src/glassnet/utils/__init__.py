"""Utilities, as in ``keras.utils``: the session, labels, vectors and data splits.

- :func:`clear_session` (fresh automatic names), :func:`set_random_seed` (the
  session generator), :func:`plot_model`;
- :func:`to_categorical` and :func:`normalize` (:mod:`~glassnet.utils.numerical`);
- :func:`split_dataset` (:mod:`~glassnet.utils.dataset`).

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

from glassnet import _random
from glassnet._naming import reset_names
from glassnet.data_adapters import PyDataset
from glassnet.utils.dataset import split_dataset
from glassnet.utils.numerical import normalize, to_categorical

__all__ = [
    "PyDataset",
    "clear_session",
    "normalize",
    "plot_model",
    "set_random_seed",
    "split_dataset",
    "to_categorical",
]


def clear_session() -> None:
    """Start the automatic layer and model names again (``dense``, ``sequential``...).

    As ``keras.utils.clear_session``; existing layers and models keep their names.

    >>> from glassnet.layers import Dense
    >>> clear_session(); Dense(1).name
    'dense'
    """
    reset_names()


def set_random_seed(seed: int) -> None:
    """Seed the session generator, as ``keras.utils.set_random_seed`` seeds Keras'.

    The session generator is what a layer draws from when it is built outside a
    model: by a call on ``glassnet.Input`` (the functional API), on data, or by
    ``layer.build(shape)``. Seeding it before building makes reproducible:

    - a functional ``Model``'s initial weights, and the dropout and noise draws of
      its layers (each keeps the generator it was built with);
    - everything a model made without a ``seed`` draws itself (a ``Sequential``'s
      initial weights, any model's per-epoch shuffles and dropout masks): such a
      model seeds its own generator from the session generator when it is made;
    - ``split_dataset(..., shuffle=True)`` without a ``seed``.

    A model's own ``seed`` wins over it for everything that model draws:
    ``Sequential(seed=s)`` draws its initial weights, its per-epoch shuffles and
    its dropout masks from ``numpy.random.default_rng(s)``, whatever
    ``set_random_seed`` said; ``Model(inputs, outputs, seed=s)`` seeds the shuffles
    (its layers were built, from the session generator, when they were called). A
    layer's own seed (``Dropout(0.5, seed=1)``) wins over both for that layer.

    Without ``set_random_seed`` the session generator starts from fresh entropy,
    so models without a seed differ from run to run.

    Parameters
    ----------
    seed : int
        A non-negative integer (``None`` is refused).

    Examples
    --------
    >>> import glassnet
    >>> from glassnet.layers import Dense
    >>> set_random_seed(0)
    >>> first = Dense(2)(glassnet.Input((3,))).node.layer.get_weights()[0]
    >>> set_random_seed(0)
    >>> again = Dense(2)(glassnet.Input((3,))).node.layer.get_weights()[0]
    >>> bool((first == again).all())
    True
    """
    _random.set_random_seed(seed)


def plot_model(model: Any, to_file: Any = None, **kwargs: Any) -> Any:
    """Keras' ``keras.utils.plot_model``: see :func:`glassnet.plot.plot_model`.

    >>> callable(plot_model)
    True
    """
    from glassnet.plot import plot_model as draw

    return draw(model, to_file, **kwargs)
