"""Where the channels are: glassnet's channels-last tensors, ONNX's channels-first
and time-major ones.

glassnet's images are ``(N, H, W, C)`` and its signals ``(N, steps, C)``; ONNX's
``Conv``, ``MaxPool``, ``AveragePool`` and the global pools take ``(N, C, H, W)``
and ``(N, C, steps)``, and its ``RNN``, ``LSTM`` and ``GRU`` take sequences
time-major, ``(steps, N, C)`` (ONNX Runtime's CPU kernels refuse ``layout=1``).
The walk keeps each tensor of the graph in one layout or more (:class:`Value`) and
adds a ``Transpose`` the first time a tensor is needed in another one, never twice:
an image input goes channels-first once, at the first
convolution, and a convolution's output comes back to glassnet's order only where
a layer needs that order (Flatten, so the Dense after it reads Keras' (h, w, c)
order unchanged; Dense, which works on the last axis; Reshape...) or where it is a
graph output.

Each layer class says how it computes (``_layers.layout_of``):

- ``CHANNELS_FIRST``: the convolutions and pools of a float32 graph;
- ``TIME_MAJOR``: the recurrent layers; a sequence they return stays time-major,
  so ``LSTM -> LSTM`` costs no transpose between the two;
- ``ELEMENTWISE``: in whichever of channels-last and channels-first its inputs
  already have (activations, Dropout, BatchNormalization and Concatenate with their
  axis moved, the elementwise merges): a ReLU between two convolutions costs no
  transpose;
- ``POINTWISE``: in any of the three layouts (the one-input layers that never look
  at an axis: Dropout, ReLU, an Activation other than softmax...), so ``LSTM ->
  Dropout -> LSTM`` stays time-major;
- ``CHANNELS_LAST``: any other layer, in glassnet's own layout.

A tensor of rank 2 or less looks the same in every layout.

>>> to_channels_first(4), to_channels_last(4)
([0, 3, 1, 2], [0, 2, 3, 1])
>>> transpose_perm(CHANNELS_LAST, TIME_MAJOR, 3), transpose_perm(CHANNELS_FIRST, TIME_MAJOR, 3)
([1, 0, 2], [2, 0, 1])
>>> moved_axis(-1, 4), moved_axis(1, 4), moved_axis(2, 3)  # axes in (N, C, H, W)
(1, 2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glassnet import activations as act
from glassnet.export._graph import GraphBuilder

__all__ = [
    "CHANNELS_FIRST",
    "CHANNELS_LAST",
    "ELEMENTWISE",
    "POINTWISE",
    "TIME_MAJOR",
    "Value",
    "in_layout",
    "move_activation",
    "moved_axis",
    "to_channels_first",
    "to_channels_last",
    "transpose_perm",
]

CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"
#: Sequences ``(steps, N, features)``, as ONNX's recurrent ops take them.
TIME_MAJOR = "time_major"

#: A layer that computes in the layout its inputs have (channels last or first).
ELEMENTWISE = "elementwise"
#: A layer that computes in any layout, time-major too: it never reads an axis.
POINTWISE = "pointwise"


def to_channels_first(rank: int) -> list[int]:
    """The ``Transpose`` perm from (N, ..., C) to (N, C, ...)."""
    return [0, rank - 1, *range(1, rank - 1)]


def to_channels_last(rank: int) -> list[int]:
    """The ``Transpose`` perm from (N, C, ...) to (N, ..., C)."""
    return [0, *range(2, rank), 1]


def axis_order(layout: str, rank: int) -> list[int]:
    """Which of glassnet's (channels-last) axes each axis of ``layout`` holds."""
    if layout == CHANNELS_FIRST:
        return to_channels_first(rank)
    if layout == TIME_MAJOR:
        return [1, 0, *range(2, rank)]
    return list(range(rank))


def transpose_perm(source: str, target: str, rank: int) -> list[int]:
    """The ``Transpose`` perm from a rank-``rank`` tensor in ``source`` layout to
    the same tensor in ``target`` layout."""
    have = axis_order(source, rank)
    return [have.index(axis) for axis in axis_order(target, rank)]


def moved_axis(axis: int, rank: int) -> int:
    """Where glassnet's ``axis`` (of a rank-``rank`` tensor) is in channels-first order.

    The batch axis stays 0, the channel axis (the last) becomes 1, the others move
    one place right.
    """
    axis %= rank
    if axis == 0:
        return 0
    return 1 if axis == rank - 1 else axis + 1


def move_activation(activation: Any, layout: str, rank: int) -> Any:
    """The same activation on data in ``layout``: a softmax gets its axis moved.

    Every other activation is elementwise. An axis that does not exist, or the
    batch axis, is kept, so the converter's own error names it.
    """
    if layout != CHANNELS_FIRST or type(activation) is not act.Softmax:
        return activation
    if not -rank <= activation.axis < rank or activation.axis % rank == 0:
        return activation
    return act.Softmax(axis=moved_axis(activation.axis, rank))


@dataclass
class Value:
    """One tensor of the model's graph as written so far: its name in each layout.

    ``names`` holds at least one layout (the one it was made in first); ``rank``
    counts the batch axis.
    """

    rank: int
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, rank: int, layout: str = CHANNELS_LAST) -> Value:
        return cls(rank, {layout: name})

    def has(self, layout: str) -> bool:
        """Whether the tensor exists in ``layout`` without a new transpose."""
        return self.rank < 3 or layout in self.names


def in_layout(g: GraphBuilder, value: Value, layout: str, scope: str) -> str:
    """The name of ``value`` in ``layout``, transposing it (once) if it is not yet.

    The transpose is named after ``scope``, the layer (or output) that first
    needs it; later users of the tensor share it.
    """
    if value.rank < 3:
        return next(iter(value.names.values()))
    if layout not in value.names:
        source_layout, source = next(iter(value.names.items()))
        perm = transpose_perm(source_layout, layout, value.rank)
        value.names[layout] = g.node("Transpose", [source], scope=scope, perm=perm)
    return value.names[layout]
