"""The Embedding layer: one learned vector per token id, ``y = E[ids]``."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import initializers
from glassnet._typing import Array
from glassnet._validation import check_bool, check_positive_int
from glassnet.errors import DataError, GlassnetTypeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost
from glassnet.layers.penalties import (
    constraint_argument,
    options_config,
    regularizer_argument,
)

__all__ = ["Embedding", "add_rows"]

#: How far a float id may be from a whole number (rounding noise) before it is
#: refused as not an id at all.
_ID_TOLERANCE = 1e-3


def add_rows(out: Array, ids: Array, rows: Array) -> None:
    """``out[v] = sum of rows[k] over every k with ids[k] == v`` (0 where v never
    occurs), in place: the gradient of a table lookup.

    ``np.add.at(out, ids, rows)`` computes the same one row at a time; sorting the
    ids and summing each run of equal ids with ``np.add.reduceat`` was 1.3x to 9x
    faster here (tables of 100 to 50,000 rows, 640 to 6,400 ids, float32).

    >>> out = np.empty((4, 2))
    >>> add_rows(out, np.array([3, 1, 3]), np.array([[1.0, 2.0], [5.0, 5.0], [10.0, 20.0]]))
    >>> out
    array([[ 0.,  0.],
           [ 5.,  5.],
           [ 0.,  0.],
           [11., 22.]])
    """
    out[...] = 0
    if not len(ids):
        return
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)


@registry.register("embedding")
class Embedding(Layer):
    """Maps integer token ids to dense vectors: ``y[..., :] = E[ids[...]]``.

    ``E`` (``embeddings``) is ``(input_dim, output_dim)``; inputs of any shape
    ``(batch, ...)`` give ``(batch, ..., output_dim)``, e.g. ``(batch, time)`` token
    sequences give ``(batch, time, output_dim)`` for a recurrent layer.

    Ids must lie in ``[0, input_dim)``: any other is refused with a DataError that
    names the value, before any lookup (Keras on PyTorch raises an IndexError for
    ids too large and silently wraps negative ids to the last rows; glassnet refuses
    both). Ids usually arrive as integers (``Input(..., dtype="int32")``); floats
    holding whole numbers are accepted too (a Sequential model passes its data as
    floats) and rounded, and a float that is not a whole number is refused.

    The gradient: ``dE[v]`` is the sum of ``dy`` over every position holding id
    ``v`` (:func:`add_rows`); the ids themselves get none.

    Parameters
    ----------
    input_dim : int
        Size of the vocabulary: the largest id plus one.
    output_dim : int
        Size of each vector.
    embeddings_initializer : str, dict or Initializer
        Keras' default ``"uniform"``: uniform in [-0.05, 0.05).
    embeddings_regularizer, activity_regularizer, embeddings_constraint
        Penalties and projections (:mod:`glassnet.regularizers`,
        :mod:`glassnet.constraints`).
    mask_zero : bool
        Keras' padding mask: id 0 marks padding. The layer then gives the mask
        ``ids != 0`` (:meth:`compute_mask`), which a model carries to the layers
        after it: SimpleRNN, LSTM and GRU skip the padded steps, and a loss on a
        masked output averages over the real steps only (``docs/internals.md``).
        Row 0 of the table still exists and is looked up (Keras' layout), but a
        masked step's row gets no gradient through a recurrent layer.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Embedding(10, 3, embeddings_initializer="ones")
    >>> layer.build((4,), np.random.default_rng(0))
    >>> layer.forward(np.array([[1, 2, 3, 9]])).shape
    (1, 4, 3)
    >>> layer.forward(np.array([[1, 10]]))
    Traceback (most recent call last):
    ...
    glassnet.errors.DataError: Embedding layer 'embedding' takes ids in [0, 10) ...
    >>> Embedding(10, 3, mask_zero=True).compute_mask(np.array([[4, 2, 0, 0]]), None)
    array([[ True,  True, False, False]])
    """

    input_kind = "int"
    penalized_weights = ("embeddings",)

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        *,
        activity_regularizer: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name,
            input_shape=input_shape,
            trainable=trainable,
            activity_regularizer=activity_regularizer,
        )
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.output_dim = check_positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizer_argument(
            embeddings_regularizer, "embeddings_regularizer"
        )
        self.embeddings_constraint = constraint_argument(
            embeddings_constraint, "embeddings_constraint"
        )
        self.mask_zero = check_bool(mask_zero, "mask_zero")

    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """``embeddings`` (input_dim, output_dim), whatever the input shape."""
        return {"embeddings": (self.input_dim, self.output_dim)}

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Draw the table ``E`` from ``rng``."""
        shape = (self.input_dim, self.output_dim)
        self.params = {"embeddings": self.embeddings_initializer(shape, rng, dtype)}
        self.grads = {"embeddings": np.zeros_like(self.params["embeddings"])}
        # the table fits id arrays of any length: built for None on every axis
        super().build(tuple(None for _ in input_shape), rng, dtype)

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y = E[ids]``, after checking every id (see the class docstring)."""
        ids = self.token_ids(x)
        y = np.take(self.params["embeddings"], ids, axis=0)
        self._cache = (ids, x.shape) if training or keep_cache else None
        return y

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """``dE`` (when trainable); ids get a zero gradient (when asked)."""
        # y[n, t] = E[ids[n, t]]  =>  dE[v] = sum of dy[n, t] over every (n, t) with
        #   ids[n, t] = v;  the lookup is flat between whole ids, so dids = 0
        ids, x_shape = self.cached()
        if self.trainable:
            rows = grad_output.reshape(-1, self.output_dim)
            add_rows(self.grads["embeddings"], ids.reshape(-1), rows)
        return np.zeros(x_shape, dtype=grad_output.dtype) if input_grad else None

    def token_ids(self, x: Any) -> Array:
        """``x`` as integer ids, or an error naming the first id out of range."""
        x = np.asarray(x)
        if x.dtype.kind == "f":
            ids = np.rint(x)
            off = np.abs(x - ids) > _ID_TOLERANCE
            if off.any():
                raise DataError(
                    f"Embedding layer '{self.name}' takes integer token ids. Received: "
                    f"{float(x[off].flat[0])!r} at index {np.argwhere(off)[0].tolist()}"
                )
            ids = ids.astype(np.intp)
        elif x.dtype.kind in "iu":
            ids = x
        elif x.dtype.kind == "b":
            ids = x.astype(np.intp)
        else:
            raise GlassnetTypeError(
                f"Embedding layer '{self.name}' takes integer token ids. Received: an "
                f"array of dtype {x.dtype}"
            )
        outside = (ids < 0) | (ids >= self.input_dim)
        if outside.any():
            where = np.argwhere(outside)[0]
            raise DataError(
                f"Embedding layer '{self.name}' takes ids in [0, {self.input_dim}) "
                f"(input_dim={self.input_dim}). Received: id {ids[tuple(where)]} at "
                f"index {where.tolist()}. Raise input_dim or map the id into range."
            )
        return ids

    @property
    def creates_mask(self) -> bool:
        """With ``mask_zero``: the mask of the padding id 0."""
        return self.mask_zero

    def compute_mask(self, inputs: Any, mask: Any) -> Array | None:
        """``ids != 0`` with ``mask_zero``, else None (as Keras)."""
        if not self.mask_zero:
            return None
        ids = np.asarray(inputs)
        return (np.rint(ids) if ids.dtype.kind == "f" else ids) != 0

    def output_shape(self, input_shape: Any) -> Any:
        """The input shape with ``output_dim`` appended."""
        return (*tuple(input_shape), self.output_dim)

    def output_dtype(self, input_dtype: Any) -> np.dtype:
        """The table's dtype (float32 until built), whatever the ids' dtype."""
        return self.compute_dtype

    def flops(self, input_shape: Any) -> Cost:
        """Zero: a lookup copies rows and computes nothing."""
        return Cost(0, "0 (a table lookup copies rows)")

    def get_config(self) -> dict[str, Any]:
        """Keras' Embedding config."""
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            **options_config(self),
            mask_zero=self.mask_zero,
        )
        return config
