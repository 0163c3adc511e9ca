"""Layers that only move numbers around: Flatten, Reshape, Permute, RepeatVector.

None of them has weights. Their backward passes undo the rearrangement: a reshape is
undone by reshaping back, a transpose by the inverse transpose, and copying one
vector ``n`` times by summing the ``n`` copies' gradients.

Shapes follow Keras 3 (channels_last): per-sample shapes exclude the batch axis, and
Keras' 1-indexed ``dims`` of Permute count the axes after the batch axis.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import check_one_of, check_positive_int
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, nothing_kept

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]


def _int_tuple(value: Any, name: str, what: str) -> tuple[int, ...]:
    """``value`` as a non-empty tuple of Python ints (``bool`` refused)."""
    if not isinstance(value, (tuple, list)) or not value:
        raise GlassnetTypeError(
            f"Argument `{name}` must be a non-empty tuple of integers ({what}). "
            f"Received: {name}={value!r}"
        )
    for entry in value:
        if isinstance(entry, bool) or not isinstance(entry, numbers.Integral):
            raise GlassnetTypeError(
                f"Argument `{name}` must be a non-empty tuple of integers ({what}). "
                f"Received: {name}={value!r}"
            )
    return tuple(int(entry) for entry in value)


@registry.register("flatten")
class Flatten(Layer):
    """Flattens each sample to one axis: ``(batch, d1, d2, ...) -> (batch, d1*d2*...)``.

    Elements keep C order (the last axis varies fastest), as in Keras with
    ``data_format="channels_last"``. An axis of unknown length makes the output
    length unknown, ``(None,)``; arrays of any such length still flatten.

    Parameters
    ----------
    data_format : {"channels_last", None}
        Only ``"channels_last"`` (the default, also chosen by None) is supported.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(12).reshape(2, 3, 2)
    >>> Flatten().forward(x)
    array([[ 0,  1,  2,  3,  4,  5],
           [ 6,  7,  8,  9, 10, 11]])
    >>> Flatten().output_shape((3, 2)), Flatten().output_shape((None, 2))
    ((6,), (None,))
    """

    def __init__(
        self,
        data_format: str | None = None,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        if data_format == "channels_first":
            raise InvalidArgumentError(
                "Flatten supports only data_format='channels_last' for now (glassnet "
                "arrays are channels_last). Received: data_format='channels_first'"
            )
        if data_format is None:
            data_format = "channels_last"
        self.data_format = check_one_of(data_format, "data_format", ("channels_last",))

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y = x.reshape(batch, -1)``, in C order."""
        self._cache = x.shape if training or keep_cache else None
        # math.prod rather than -1: NumPy cannot infer -1 for an empty batch
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Reshape the gradient back to the input's shape."""
        # y = reshape(x, (batch, -1))  =>  dx = reshape(dy, x.shape): each entry of
        #                                  x lands in exactly one entry of y
        x_shape = self.cached()
        return grad_output.reshape(x_shape) if input_grad else None

    def output_shape(self, input_shape: Any) -> Any:
        """``(product of the axes,)``, or ``(None,)`` if one is unknown."""
        shape = tuple(input_shape)
        if any(d is None for d in shape):
            return (None,)
        return (math.prod(shape),)

    def flops(self, input_shape: Any) -> Cost:
        """Zero: the numbers move, nothing is computed."""
        self.output_shape(input_shape)
        return Cost(0, "0 (moves numbers, computes none)")

    def kept_activations(self, input_shape: Any) -> Cost:
        """Nothing new: ``y`` is a view of ``x`` (NumPy copies a non-contiguous x).

        After a Permute the input is a transposed view and the reshape copies it;
        the count does not include that copy.
        """
        self.output_shape(input_shape)
        return nothing_kept("y is a view of a contiguous x")

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


@registry.register("reshape")
class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (C order), the batch axis kept.

    Parameters
    ----------
    target_shape : tuple of int
        The per-sample output shape. One entry may be -1: its length is inferred
        so the sample keeps its number of elements.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Reshape((-1, 2))
    >>> layer.output_shape((6,))
    (3, 2)
    >>> layer.forward(np.arange(6).reshape(1, 6))
    array([[[0, 1],
            [2, 3],
            [4, 5]]])
    """

    def __init__(
        self,
        target_shape: Any,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        what = "positive lengths, with at most one -1 to infer"
        target = _int_tuple(target_shape, "target_shape", what)
        if any(d < 1 and d != -1 for d in target) or target.count(-1) > 1:
            raise InvalidArgumentError(
                f"Argument `target_shape` must hold positive lengths and at most one "
                f"-1 (the length to infer). Received: target_shape={target_shape!r}"
            )
        self.target_shape = target

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y = x.reshape(batch, *target_shape)``, -1 resolved for this ``x``."""
        target = self._resolve(tuple(x.shape[1:]))
        self._cache = x.shape if training or keep_cache else None
        return x.reshape(x.shape[0], *target)

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Reshape the gradient back to the input's shape."""
        # y = reshape(x, (batch, *target_shape))  =>  dx = reshape(dy, x.shape):
        #     a reshape moves no element, so it is its own chain-rule inverse
        x_shape = self.cached()
        return grad_output.reshape(x_shape) if input_grad else None

    def output_shape(self, input_shape: Any) -> Any:
        """``target_shape`` with -1 resolved (None if an input axis is unknown)."""
        shape = tuple(input_shape)
        if any(d is None for d in shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        return self._resolve(shape)

    def flops(self, input_shape: Any) -> Cost:
        """Zero: the numbers move, nothing is computed."""
        self.output_shape(input_shape)
        return Cost(0, "0 (moves numbers, computes none)")

    def kept_activations(self, input_shape: Any) -> Cost:
        """Nothing new: ``y`` is a view of ``x`` (NumPy copies a non-contiguous x).

        After a Permute the input is a transposed view and the reshape copies it;
        the count does not include that copy.
        """
        self.output_shape(input_shape)
        return nothing_kept("y is a view of a contiguous x")

    def _resolve(self, sample_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The target shape for samples of ``sample_shape``, or a ShapeError."""
        size = math.prod(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            fits = size % known == 0 and size > 0
        else:
            fits = size == known
        if not fits:
            raise ShapeError(
                f"Reshape layer '{self.name}' cannot reshape samples of shape "
                f"{sample_shape} ({size} elements) to target_shape="
                f"{self.target_shape}: the number of elements must stay the same. "
                f"Received: input_shape={sample_shape}"
            )
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


@registry.register("permute")
class Permute(Layer):
    """Permutes the axes of each sample: ``y = transpose(x, (0, *dims))``.

    Parameters
    ----------
    dims : tuple of int
        A permutation of ``1 .. ndim``, 1-indexed and without the batch axis, as in
        Keras: ``(2, 1)`` swaps the two axes of ``(batch, steps, features)`` inputs.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Permute((2, 1))
    >>> layer.output_shape((10, 64))
    (64, 10)
    >>> layer.forward(np.arange(6).reshape(1, 2, 3))
    array([[[0, 3],
            [1, 4],
            [2, 5]]])
    """

    def __init__(
        self,
        dims: Any,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        what = "a permutation of 1..ndim, the batch axis excluded"
        order = _int_tuple(dims, "dims", what)
        if sorted(order) != list(range(1, len(order) + 1)):
            raise InvalidArgumentError(
                f"Argument `dims` must be a permutation of 1..{len(order)} (1-indexed, "
                f"the batch axis excluded), each axis once. Received: dims={dims!r}"
            )
        self.dims = order

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y = transpose(x, (0, *dims))``; the batch axis stays first."""
        self._check_rank(tuple(x.shape[1:]))
        self._cache = x.shape if training or keep_cache else None
        return np.transpose(x, (0, *self.dims))

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Transpose the gradient back with the inverse permutation."""
        # y = transpose(x, p)  =>  dx = transpose(dy, inverse(p)), inverse(p) =
        #     argsort(p): axis p[i] of x became axis i of y, so it goes back
        self.cached()
        inverse = np.argsort((0, *self.dims))
        return np.transpose(grad_output, inverse) if input_grad else None

    def output_shape(self, input_shape: Any) -> Any:
        """The input axes in the order of ``dims``."""
        shape = tuple(input_shape)
        self._check_rank(shape)
        return tuple(shape[d - 1] for d in self.dims)

    def flops(self, input_shape: Any) -> Cost:
        """Zero: the numbers move, nothing is computed."""
        self.output_shape(input_shape)
        return Cost(0, "0 (moves numbers, computes none)")

    def kept_activations(self, input_shape: Any) -> Cost:
        """Nothing new: a transpose is a view of ``x``."""
        self.output_shape(input_shape)
        return nothing_kept("y is a view of x")

    def _check_rank(self, sample_shape: tuple[Any, ...]) -> None:
        if len(sample_shape) != len(self.dims):
            raise ShapeError(
                f"Permute layer '{self.name}' with dims={self.dims} takes samples with "
                f"{len(self.dims)} axes (inputs of rank {len(self.dims) + 1} with the "
                f"batch axis). Received: input_shape={sample_shape}"
            )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


@registry.register("repeat_vector")
class RepeatVector(Layer):
    """Repeats each input vector ``n`` times: ``(batch, features) -> (batch, n, features)``.

    Parameters
    ----------
    n : int
        How many copies (at least 1).

    Examples
    --------
    >>> import numpy as np
    >>> layer = RepeatVector(3)
    >>> layer.output_shape((2,))
    (3, 2)
    >>> layer.forward(np.array([[1.0, 2.0]]))
    array([[[1., 2.],
            [1., 2.],
            [1., 2.]]])
    """

    def __init__(
        self,
        n: int,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        self.n = check_positive_int(n, "n")

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y[:, i, :] = x`` for ``i = 0 .. n-1``."""
        self._check_rank(tuple(x.shape[1:]))
        self._cache = x.shape if training or keep_cache else None
        return np.repeat(x[:, np.newaxis, :], self.n, axis=1)

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Sum the gradients of the ``n`` copies."""
        # y[:, i, :] = x for every i  =>  dx = sum over i of dy[:, i, :]
        #     (x feeds n outputs, so their gradients add up)
        self.cached()
        return grad_output.sum(axis=1) if input_grad else None

    def output_shape(self, input_shape: Any) -> Any:
        """``(n, features)``."""
        shape = tuple(input_shape)
        self._check_rank(shape)
        return (self.n, shape[0])

    def flops(self, input_shape: Any) -> Cost:
        """Zero: the copies are made without arithmetic."""
        self.output_shape(input_shape)
        return Cost(0, "0 (copies, computes nothing)")

    def _check_rank(self, sample_shape: tuple[Any, ...]) -> None:
        if len(sample_shape) != 1:
            raise ShapeError(
                f"RepeatVector layer '{self.name}' takes 2-D inputs (batch, features), "
                f"i.e. samples with one axis. Received: input_shape={sample_shape}"
            )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["n"] = self.n
        return config
