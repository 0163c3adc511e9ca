"""Where a model's data comes in: ``Input(shape)`` and the ``InputLayer`` behind it.

>>> from glassnet.layers import Input, Dense
>>> x = Input((3,))
>>> x.shape, x.dtype.name
((None, 3), 'float32')
>>> tokens = Input((None,), dtype="int32", name="tokens")  # sequences of any length
>>> tokens.shape, tokens.node.layer.input_kind
((None, None), 'int')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import InvalidArgumentError
from glassnet.layers.base import Layer, check_sample_shape, registry
from glassnet.layers.costs import Cost, nothing_kept
from glassnet.layers.symbolic import Node, SymbolicTensor

__all__ = ["Input", "InputLayer"]

_DTYPES = ("float32", "float64", "int32", "int64")


@registry.register("input_layer")
class InputLayer(Layer):
    """The entry point of a model: passes its data on unchanged.

    Parameters
    ----------
    shape : tuple
        The shape of one sample, without the batch axis (``None`` for an axis of any
        length, e.g. ``(None,)`` for token sequences).
    dtype : {"float32", "float64", "int32", "int64"}, optional
        What the data holds; integer inputs (token ids) are never cast to float.
    batch_shape : tuple, optional
        Keras' alternative to ``shape``, batch axis first (its size is ignored).
    name : str, optional
        Keras' automatic ``input_layer``, ``input_layer_1``... when omitted.

    Examples
    --------
    >>> import numpy as np
    >>> layer = InputLayer((2,), name="xy")
    >>> layer.output
    <SymbolicTensor shape=(None, 2), dtype=float32, from layer 'xy'>
    >>> layer.forward(np.ones((1, 2)))
    array([[1., 1.]])
    """

    def __init__(
        self,
        shape: Any = None,
        batch_size: Any = None,
        dtype: Any = None,
        sparse: Any = None,
        batch_shape: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if "input_shape" in kwargs:  # Keras 2 spelling
            shape = kwargs.pop("input_shape")
        if kwargs:
            raise InvalidArgumentError(
                f"InputLayer got unexpected arguments {sorted(kwargs)}."
            )
        if sparse:
            raise InvalidArgumentError(
                "glassnet has no sparse tensors: InputLayer(sparse=True) is not "
                "supported. Received: sparse=True"
            )
        if (shape is None) == (batch_shape is None):
            raise InvalidArgumentError(
                "Give InputLayer either `shape` (one sample) or `batch_shape`. "
                f"Received: shape={shape!r}, batch_shape={batch_shape!r}"
            )
        if batch_shape is not None:
            if not isinstance(batch_shape, (list, tuple)) or len(batch_shape) < 2:
                raise InvalidArgumentError(
                    "Argument `batch_shape` must have the batch axis and at least one "
                    f"more, e.g. (None, 3). Received: batch_shape={batch_shape!r}"
                )
            shape = tuple(batch_shape)[1:]
        super().__init__(name=name)
        self.sample_shape = check_sample_shape(shape, "shape")
        dtype_name = "float32" if dtype is None else str(np.dtype(dtype))
        if dtype_name not in _DTYPES:
            raise InvalidArgumentError(
                f"Argument `dtype` must be one of {', '.join(_DTYPES)}. "
                f"Received: dtype={dtype!r}"
            )
        self.dtype = np.dtype(dtype_name)
        #: whether ``dtype`` was asked for (a Sequential model's own dtype, say
        #: float64, then gives way to it) or is the float32 default (it does not)
        self.dtype_given = dtype is not None
        self.input_shape = self.sample_shape
        self.built = True
        node = Node(self, [], list_call=False)
        node.outputs = [SymbolicTensor((None, *self.sample_shape), self.dtype, node)]
        self.inbound_nodes.append(node)

    @property
    def input_kind(self) -> str:  # type: ignore[override]
        """``"int"`` for integer inputs (token ids), else ``"float"``."""
        return "int" if self.dtype.kind in "iu" else "float"

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """The data, unchanged."""
        self._cache = True if training or keep_cache else None
        return x

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """The gradient, unchanged."""
        # y = x  =>  dx = dy
        self.cached()
        return grad_output if input_grad else None

    def flops(self, input_shape: Any) -> Cost:
        """Zero: the data passes through."""
        return Cost(0, "0 (passes the data on)")

    def kept_activations(self, input_shape: Any) -> Cost:
        """Nothing: its output is the data itself."""
        return nothing_kept("the output is the data")

    def get_config(self) -> dict[str, Any]:
        """Keras' config: ``batch_shape``, ``dtype``, ``name``."""
        return {
            "batch_shape": [None, *self.sample_shape],
            "dtype": self.dtype.name,
            "name": self.name,
        }


def Input(  # Keras' name: a function that reads like a class
    shape: Any = None,
    batch_size: Any = None,
    dtype: Any = None,
    sparse: Any = None,
    batch_shape: Any = None,
    name: str | None = None,
) -> SymbolicTensor:
    """A symbolic input for a functional model (or the first entry of a Sequential).

    >>> from glassnet import Input, Model
    >>> from glassnet.layers import Dense
    >>> inputs = Input(shape=(4,))
    >>> model = Model(inputs, Dense(2)(inputs))
    >>> model.output_shape
    (None, 2)
    """
    return InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        name=name,
    ).output
