"""Symbolic tensors and nodes: how the functional API records a graph.

Calling a layer on a :class:`SymbolicTensor` (what ``glassnet.Input`` returns) runs
nothing. It builds the layer for that shape, works out the output shape, and
records a :class:`Node`: *this layer was applied to these tensors and gave these*.
``glassnet.Model(inputs, outputs)`` then follows the nodes back from its outputs to
its inputs to find the graph it runs.

>>> from glassnet.layers import Input, Dense
>>> x = Input((3,), name="features")
>>> y = Dense(2, name="scores")(x)
>>> y
<SymbolicTensor shape=(None, 2), dtype=float32, from layer 'scores'>
>>> y.node.layer.name, [t.node.layer.name for t in y.node.inputs]
('scores', ['features'])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from glassnet.layers.base import Layer

__all__ = ["Node", "SymbolicTensor", "flatten_structure", "is_symbolic"]


class SymbolicTensor:
    """A placeholder for the arrays that will flow along one edge of a model's graph.

    Parameters
    ----------
    shape : tuple
        Keras' full shape, batch axis first (``None``), e.g. ``(None, 28, 28, 1)``;
        other axes may be ``None`` too (sequences of any length).
    dtype : numpy dtype
        The dtype of the arrays (float32 unless the input says otherwise).
    node : Node
        The layer call that produced this tensor.
    index : int
        Which of that call's outputs this tensor is.
    """

    def __init__(self, shape: tuple[Any, ...], dtype: Any, node: Node, index: int = 0):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index

    @property
    def sample_shape(self) -> tuple[Any, ...]:
        """The shape of one sample: :attr:`shape` without the batch axis."""
        return self.shape[1:]

    @property
    def ndim(self) -> int:
        """Number of axes, the batch axis included (Keras' ``len(shape)``)."""
        return len(self.shape)

    @property
    def name(self) -> str:
        """The name of the layer that made this tensor."""
        return self.node.layer.name

    def __repr__(self) -> str:
        return (
            f"<SymbolicTensor shape={self.shape}, dtype={self.dtype.name}, "
            f"from layer '{self.node.layer.name}'>"
        )

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        from glassnet.errors import GlassnetTypeError

        raise GlassnetTypeError(
            f"{self!r} is a symbolic placeholder in a model's graph, not data: it has "
            "no values. Build a model with glassnet.Model(inputs, outputs) and call "
            "the model on arrays."
        )


class Node:
    """One call of ``layer`` on ``inputs`` (symbolic tensors), giving ``outputs``.

    ``list_call`` records whether the layer was handed a list (merge layers) or a
    single tensor, so the model calls it the same way on arrays.
    """

    def __init__(self, layer: Layer, inputs: list[SymbolicTensor], list_call: bool):
        self.layer = layer
        self.inputs = inputs
        self.list_call = list_call
        self.outputs: list[SymbolicTensor] = []
        #: a fixed mode for this call (``base(x, training=False)``), else None: the
        #: mode of the pass
        self.training: bool | None = None

    def __repr__(self) -> str:
        sources = ", ".join(t.name for t in self.inputs) or "data"
        return f"<Node {self.layer.name}({sources})>"


def is_symbolic(value: Any) -> bool:
    """Whether ``value`` is a symbolic tensor or a non-empty list/tuple/dict of them."""
    if isinstance(value, SymbolicTensor):
        return True
    items = flatten_structure(value)
    return bool(items) and all(isinstance(item, SymbolicTensor) for item in items)


def flatten_structure(value: Any) -> list[Any]:
    """The leaves of a tensor, or of a list, tuple or dict of tensors (dicts by key order)."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]
