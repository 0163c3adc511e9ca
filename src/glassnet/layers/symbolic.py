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

A layer with several outputs (a recurrent layer with ``return_state=True``) gives a
tuple of tensors, each knowing its ``index`` among the call's outputs; a recurrent
layer's ``initial_state=`` tensors become inputs of its node, after the sequence
(``node.state_inputs`` says how many):

>>> from glassnet.layers import LSTM
>>> sequence = Input((5, 3))
>>> out, h, c = LSTM(4, return_state=True, name="encoder")(sequence)
>>> (out.index, h.index, c.index), h.node is out.node
((0, 1, 2), True)
>>> decoded = LSTM(4, name="decoder")(sequence, initial_state=[h, c])
>>> [t.index for t in decoded.node.inputs], decoded.node.state_inputs
([0, 1, 2], 2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from glassnet.layers.base import Layer

__all__ = [
    "Node",
    "SymbolicTensor",
    "flatten_structure",
    "is_symbolic",
    "output_tensors",
]


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
    single tensor, so the model calls it the same way on arrays. The last
    ``state_inputs`` of ``inputs`` are the call's ``initial_state=`` tensors (a
    recurrent layer's start states); the model hands them to the layer as
    ``forward(x, initial_state=[...])``, and its backward returns their gradients
    after ``dx``.
    """

    def __init__(
        self,
        layer: Layer,
        inputs: list[SymbolicTensor],
        list_call: bool,
        state_inputs: int = 0,
    ):
        self.layer = layer
        self.inputs = inputs
        self.list_call = list_call
        self.state_inputs = state_inputs
        self.outputs: list[SymbolicTensor] = []
        #: a fixed mode for this call (``base(x, training=False)``), else None: the
        #: mode of the pass
        self.training: bool | None = None

    def __repr__(self) -> str:
        sources = ", ".join(t.name for t in self.inputs) or "data"
        return f"<Node {self.layer.name}({sources})>"


def output_tensors(node: Node, shape: Any, dtype: Any, several: bool) -> Any:
    """Make ``node.outputs`` for per-sample output ``shape`` (a list of shapes
    when the call has ``several`` outputs) and return what the call gives: the
    tensor, or a tuple of them (as Keras 3's layers return their outputs)."""
    shapes = list(shape) if several else [shape]
    node.outputs = [
        SymbolicTensor((None, *sample), dtype, node, index)
        for index, sample in enumerate(shapes)
    ]
    return tuple(node.outputs) if several else node.outputs[0]


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
