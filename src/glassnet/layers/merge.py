"""Merge layers: combine a list of tensors into one (Add, Subtract, Multiply, Average,
Maximum, Minimum, Concatenate).

They are called on a list of at least two tensors (``takes_list = True``): build and
``output_shape`` get a list of per-sample shapes, forward a list of arrays, and
backward returns one gradient per input. The elementwise merges need inputs of one
shape (Keras 3 would also broadcast some shapes; glassnet refuses them with a
:class:`~glassnet.errors.ShapeError`); Concatenate needs shapes that agree on every
axis but the one it joins along.

>>> import numpy as np
>>> a, b = np.array([[1.0, 5.0]]), np.array([[4.0, 2.0]])
>>> Add().forward([a, b]), Maximum().forward([a, b])
(array([[5., 7.]]), array([[4., 5.]]))
>>> Concatenate().forward([a, b])
array([[1., 5., 4., 2.]])
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, elementwise_flops, known_size

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
]


class _Merge(Layer):
    """What every merge layer shares: the input checks, build and the cache.

    Subclasses implement ``_merge(xs)`` (the output), ``_backward(dy, kept)`` and,
    if backward needs more than the number of inputs, ``_kept(xs, y)``; a merge that
    is not elementwise also defines ``_merged_shape(shapes)``.
    """

    takes_list = True
    supports_masking = True
    #: how many inputs the layer takes: (at least, at most); None means no limit
    input_count: ClassVar[tuple[int, int | None]] = (2, None)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """Keras' rule for the elementwise merges: a step is real where it is real
        in any input (None when an input has no mask)."""
        if mask is None or any(m is None for m in mask):
            return None
        return np.logical_or.reduce(mask)

    def __init__(self, *, name: str | None = None, trainable: bool = True) -> None:
        super().__init__(name=name, trainable=trainable)

    def output_shape(self, input_shape: Any) -> Any:
        """The merged per-sample shape; a ShapeError for inputs that cannot merge."""
        shapes = self._check_count(input_shape)
        return self._merged_shape(shapes)

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Check the input shapes (a merge layer has no weights)."""
        self.output_shape(input_shape)
        super().build(input_shape, rng, dtype)

    def forward(
        self, x: list[Array], *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """The merged batch; caches what backward needs when training."""
        batches = {len(a) for a in x}
        if len(batches) > 1:
            raise ShapeError(
                f"Layer '{self.name}' ({type(self).__name__}) cannot merge batches of "
                f"different sizes. Received arrays shaped {[a.shape for a in x]}"
            )
        y = self._merge(x)
        self._cache = self._kept(x, y) if training or keep_cache else None
        return y

    def backward(
        self, grad_output: Array, *, input_grad: bool = True
    ) -> list[Array] | None:
        """One gradient per input (no weights to fill)."""
        # y = merge(x_1, ..., x_n)  =>  dx_i = (dy/dx_i)^T dy for each input; every
        # merge's _backward opens with its own rule
        kept = self.cached()
        return self._backward(grad_output, kept) if input_grad else None

    #: the operation that folds one more input in ("": none, a copy), and extras
    operation: ClassVar[str] = ""
    extra: ClassVar[tuple[int, str]] = (0, "")

    def flops(self, input_shape: Any) -> Cost:
        """Per output element: one ``operation`` per input after the first."""
        shapes = self._check_count(input_shape)
        if not self.operation:
            self._merged_shape(shapes)
            return Cost(0, "0 (copies, computes nothing)")
        folds = len(shapes) - 1
        label = f"{folds} {self.operation}{'s' if folds != 1 else ''}"
        per, extra = folds + self.extra[0], self.extra[1]
        label += f", {extra}" if extra else ""
        return elementwise_flops(known_size(self._merged_shape(shapes)), per, label)

    # -- what subclasses define -------------------------------------------------
    def _merge(self, xs: list[Array]) -> Array:
        raise NotImplementedError

    def _kept(self, xs: list[Array], y: Array) -> Any:
        """What backward needs from the forward pass: here, the number of inputs."""
        return len(xs)

    def _backward(self, grad_output: Array, kept: Any) -> list[Array]:
        raise NotImplementedError

    def _merged_shape(self, shapes: list[tuple[Any, ...]]) -> tuple[Any, ...]:
        """Elementwise merges: every input has one shape (None matches any size)."""
        if len({len(s) for s in shapes}) == 1:
            axes = list(zip(*shapes, strict=True))
            if all(len({d for d in sizes if d is not None}) <= 1 for sizes in axes):
                return tuple(_known(sizes) for sizes in axes)
        raise ShapeError(
            f"Layer '{self.name}' ({type(self).__name__}) needs inputs of one shape. "
            f"Received per-sample input shapes: {shapes}"
        )

    # -- helpers ------------------------------------------------------------------
    def _check_count(self, input_shape: Any) -> list[tuple[Any, ...]]:
        """The list of per-sample shapes, if there are as many as the layer takes."""
        low, high = self.input_count
        is_list = isinstance(input_shape, (list, tuple)) and all(
            isinstance(s, (list, tuple)) for s in input_shape
        )
        count = len(input_shape) if is_list else 1
        if not is_list or count < low or (high is not None and count > high):
            wanted = f"exactly {low}" if low == high else f"at least {low}"
            raise ShapeError(
                f"Layer '{self.name}' ({type(self).__name__}) must be called on a list "
                f"of {wanted} inputs. Received {count} input(s), per-sample shapes: "
                f"{[tuple(s) for s in input_shape] if is_list else input_shape}"
            )
        return [tuple(s) for s in input_shape]


def _known(sizes: tuple[Any, ...]) -> Any:
    """The size of an axis given by several inputs: the known one, or None."""
    return next((d for d in sizes if d is not None), None)


def _fold(ufunc: np.ufunc, xs: list[Array]) -> Array:
    """``ufunc`` over all inputs, left to right, into one new array (inputs untouched)."""
    y = ufunc(xs[0], xs[1])
    for x in xs[2:]:
        ufunc(y, x, out=y)
    return y


@registry.register("add")
class Add(_Merge):
    """Sum of its inputs: ``y = x_1 + x_2 + ...``.

    Examples
    --------
    >>> import numpy as np
    >>> Add().forward([np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2))])
    array([[3., 3.]])
    """

    operation = "addition"

    def _merge(self, xs: list[Array]) -> Array:
        return _fold(np.add, xs)

    def _backward(self, grad_output: Array, kept: int) -> list[Array]:
        # y = x_1 + ... + x_n  =>  dx_i = dy for every input
        # (each input gets its own copy, so writing into one cannot change another)
        return [grad_output.copy() for _ in range(kept)]


@registry.register("subtract")
class Subtract(_Merge):
    """Difference of exactly two inputs: ``y = x_1 - x_2``.

    Examples
    --------
    >>> import numpy as np
    >>> Subtract().forward([np.array([[5.0, 1.0]]), np.array([[2.0, 3.0]])])
    array([[ 3., -2.]])
    """

    input_count = (2, 2)

    operation = "subtraction"

    def _merge(self, xs: list[Array]) -> Array:
        return xs[0] - xs[1]

    def _backward(self, grad_output: Array, kept: int) -> list[Array]:
        # y = x_1 - x_2  =>  dx_1 = dy, dx_2 = -dy
        return [grad_output.copy(), -grad_output]


@registry.register("multiply")
class Multiply(_Merge):
    """Elementwise product of its inputs: ``y = x_1 * x_2 * ...``.

    Examples
    --------
    >>> import numpy as np
    >>> Multiply().forward([np.array([[2.0, 3.0]]), np.array([[4.0, -1.0]])])
    array([[ 8., -3.]])
    """

    operation = "multiplication"

    def _merge(self, xs: list[Array]) -> Array:
        return _fold(np.multiply, xs)

    def _kept(self, xs: list[Array], y: Array) -> list[Array]:
        return xs

    def _backward(self, grad_output: Array, xs: list[Array]) -> list[Array]:
        # y = x_1 * ... * x_n  =>  dx_i = dy * (product of every input but x_i)
        # (multiplied out, not y / x_i, which fails where x_i = 0)
        grads = []
        for i in range(len(xs)):
            grad = grad_output.copy()
            for j, x in enumerate(xs):
                if j != i:
                    grad *= x
            grads.append(grad)
        return grads


@registry.register("average")
class Average(_Merge):
    """Elementwise mean of its inputs: ``y = (x_1 + ... + x_n) / n``.

    Examples
    --------
    >>> import numpy as np
    >>> Average().forward([np.array([[1.0, 2.0]]), np.array([[3.0, 6.0]])])
    array([[2., 4.]])
    """

    operation, extra = "addition", (1, "1 division")

    def _merge(self, xs: list[Array]) -> Array:
        y = _fold(np.add, xs)
        y /= len(xs)
        return y

    def _backward(self, grad_output: Array, kept: int) -> list[Array]:
        # y = (x_1 + ... + x_n) / n  =>  dx_i = dy / n
        return [grad_output / kept for _ in range(kept)]


class _Extremum(_Merge):
    """Maximum and Minimum: the gradient goes where the output came from."""

    ufunc: ClassVar[np.ufunc]

    operation = "comparison"

    def _merge(self, xs: list[Array]) -> Array:
        return _fold(self.ufunc, xs)

    def _kept(self, xs: list[Array], y: Array) -> tuple[list[Array], Array]:
        return xs, y

    def _backward(
        self, grad_output: Array, kept: tuple[list[Array], Array]
    ) -> list[Array]:
        # y = max_i x_i (or min)  =>  dx_i = dy where x_i == y, 0 elsewhere;
        # where inputs tie, only the first input holding the max (min) gets dy
        # (a subgradient; torch would split dy between the tied inputs)
        xs, y = kept
        taken = np.zeros(y.shape, dtype=bool)
        grads = []
        for x in xs:
            chosen = (x == y) & ~taken
            taken |= chosen
            grads.append(grad_output * chosen)
        return grads


@registry.register("maximum")
class Maximum(_Extremum):
    """Elementwise maximum of its inputs.

    Where inputs tie, backward sends the gradient to the first one only.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Maximum()
    >>> a, b = np.array([[1.0, 5.0, 2.0]]), np.array([[4.0, 2.0, 2.0]])
    >>> layer.forward([a, b], training=True)
    array([[4., 5., 2.]])
    >>> layer.backward(np.ones((1, 3)))  # the tie at 2.0 goes to the first input
    [array([[0., 1., 1.]]), array([[1., 0., 0.]])]
    """

    ufunc = np.maximum


@registry.register("minimum")
class Minimum(_Extremum):
    """Elementwise minimum of its inputs.

    Where inputs tie, backward sends the gradient to the first one only.

    Examples
    --------
    >>> import numpy as np
    >>> Minimum().forward([np.array([[1.0, 5.0]]), np.array([[4.0, 2.0]])])
    array([[1., 2.]])
    """

    ufunc = np.minimum


@registry.register("concatenate")
class Concatenate(_Merge):
    """Joins its inputs along ``axis``; they must agree on every other axis.

    Parameters
    ----------
    axis : int, default -1
        Counted on the batch array as in Keras, so 1 is the first axis of a sample;
        the batch axis 0 cannot be joined.
    name, trainable
        As for every layer.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Concatenate(axis=1)
    >>> layer.output_shape([(2, 3), (4, 3)])
    (6, 3)
    >>> layer([np.zeros((1, 2, 3)), np.ones((1, 4, 3))]).shape
    (1, 6, 3)
    """

    axis: int

    def __init__(
        self, axis: int = -1, *, name: str | None = None, trainable: bool = True
    ) -> None:
        super().__init__(name=name, trainable=trainable)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise GlassnetTypeError(
                f"Argument `axis` must be an integer. Received: axis={axis!r} "
                f"({type(axis).__name__})"
            )
        if axis == 0:
            raise InvalidArgumentError(
                "Argument `axis` cannot be 0, the batch axis: Concatenate joins the "
                "axes of a sample (1, 2, ... or -1, -2, ...). Received: axis=0"
            )
        self.axis = int(axis)

    def _merged_shape(self, shapes: list[tuple[Any, ...]]) -> tuple[Any, ...]:
        rank = len(shapes[0])
        # self.axis counts the batch axis; on a per-sample shape it is one less
        joined = self.axis - 1 if self.axis > 0 else rank + self.axis
        if any(len(s) != rank for s in shapes):
            raise ShapeError(
                f"Layer '{self.name}' (Concatenate) needs inputs of one rank. "
                f"Received per-sample input shapes: {shapes}"
            )
        if not 0 <= joined < rank:
            raise ShapeError(
                f"Layer '{self.name}' (Concatenate) joins axis {self.axis}, which "
                f"inputs shaped {(None, *shapes[0])} do not have. Received "
                f"per-sample input shapes: {shapes}"
            )
        out: list[Any] = []
        for index, sizes in enumerate(zip(*shapes, strict=True)):
            if index == joined:
                out.append(None if None in sizes else sum(sizes))
            elif len({d for d in sizes if d is not None}) > 1:
                raise ShapeError(
                    f"Layer '{self.name}' (Concatenate) needs inputs that agree on "
                    f"every axis but axis {self.axis}. Received per-sample input "
                    f"shapes: {shapes}"
                )
            else:
                out.append(_known(sizes))
        return tuple(out)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """Keras' rule: the inputs' masks (all True for an input without one) laid
        out as the inputs, joined along ``axis``, then any over the last axis."""
        if mask is None or all(m is None for m in mask):
            return None
        parts = [
            np.ones(x.shape, bool)
            if m is None
            else np.broadcast_to(m[..., None], x.shape)
            if m.ndim < x.ndim
            else m
            for x, m in zip(inputs, mask, strict=True)
        ]
        return np.concatenate(parts, axis=self.axis).any(axis=-1)

    def _merge(self, xs: list[Array]) -> Array:
        return np.concatenate(xs, axis=self.axis)

    def _kept(self, xs: list[Array], y: Array) -> list[int]:
        return [x.shape[self.axis] for x in xs]  # where each input's slice ends

    def _backward(self, grad_output: Array, sizes: list[int]) -> list[Array]:
        # y = [x_1, x_2, ...] along axis  =>  dx_i = the slice of dy where x_i went
        ends = np.cumsum(sizes)[:-1]
        return np.split(grad_output, ends, axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["axis"] = self.axis
        return config
