"""BatchNormalization, and the math it shares with LayerNormalization.

Both layers standardize their input, ``xhat = (x - mean) / sqrt(var + epsilon)``,
then scale and shift it, ``y = gamma * xhat + beta``. They differ in which values
share one mean and variance:

- **BatchNormalization** (here) normalizes each feature (each index along
  ``axis``) over the whole batch and every other axis, and keeps moving averages
  of those statistics for inference;
- **LayerNormalization** (:mod:`glassnet.layers.layer_normalization`) normalizes
  each sample on its own, over ``axis``, the same in training and inference.

Axes are counted as Keras counts them, on the full shape *with* the batch axis
(``axis=1`` is the first axis of a sample, ``axis=-1`` the last), while the shapes
given to ``build`` and ``output_shape`` are per sample (no batch axis).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassnet import initializers
from glassnet._typing import Array
from glassnet._validation import check_bool, check_in_range, check_positive_float
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, arrays_kept, elementwise_flops, known_size
from glassnet.layers.normalization_masks import (
    check_mask_shape,
    mask_weights,
    masked_moments,
    masked_standardize_backward,
)
from glassnet.layers.penalties import (
    constraint_argument,
    options_config,
    regularizer_argument,
)

__all__ = ["BatchNormalization", "moments", "standardize_backward"]


# -- the shared math ----------------------------------------------------------------
def moments(x: Array, axes: tuple[int, ...]) -> tuple[Array, Array]:
    """Mean and biased variance (divided by N, not N - 1) of ``x`` over ``axes``.

    Both keep the reduced axes (length 1), so they broadcast against ``x``. The
    variance is the one Keras and PyTorch normalize with.
    """
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    return mean, np.mean(centered * centered, axis=axes, keepdims=True)


def standardize_backward(
    grad_xhat: Array, xhat: Array, inv_std: Array, axes: tuple[int, ...]
) -> Array:
    """dL/dx of ``xhat = (x - mean(x)) * inv_std(x)``, the statistics over ``axes``.

    x reaches xhat directly and through the mean and the variance of its group of
    N values. Writing ``dxhat`` for dL/dxhat and summing over the group::

        dvar  = sum(dxhat * (x - mean)) * -1/2 * inv_std**3
        dmean = -sum(dxhat) * inv_std          (the variance's path adds 0 here)
        dx    = dxhat * inv_std + dvar * 2 * (x - mean) / N + dmean / N

    and replacing ``x - mean`` by ``xhat / inv_std`` collapses this into the compact
    form computed below::

        dx = inv_std / N * (N * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
    """
    n = math.prod(xhat.shape[a] for a in axes)
    sum_grad = grad_xhat.sum(axis=axes, keepdims=True)
    sum_grad_xhat = np.sum(grad_xhat * xhat, axis=axes, keepdims=True)
    return (inv_std / n) * (n * grad_xhat - sum_grad - xhat * sum_grad_xhat)


def broadcastable(vector: Array, ndim: int, axes: tuple[int, ...]) -> Array:
    """``vector`` (sized like ``axes``) reshaped to broadcast against an ndim array."""
    shape = [1] * ndim
    for axis, size in zip(axes, vector.shape, strict=True):
        shape[axis] = size
    return vector.reshape(shape)


def check_axis_value(value: Any, argument: str) -> int:
    """One Keras axis: an integer other than 0 (0 is the batch axis)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise GlassnetTypeError(
            f"Argument `{argument}` must be an integer (an axis of the input, counted "
            f"with the batch axis as 0; -1 is the last axis). "
            f"Received: {argument}={value!r} ({type(value).__name__})"
        )
    if value == 0:
        raise InvalidArgumentError(
            f"Argument `{argument}` cannot be 0: axis 0 is the batch axis, whose "
            f"length changes from batch to batch. Use 1 or more, or -1 for the last "
            f"axis. Received: {argument}={value!r}"
        )
    return int(value)


def resolve_axes(layer: Layer, axes: list[int], input_shape: Any) -> tuple[int, ...]:
    """Keras axes as sorted non-negative positions in the full (batch-first) shape."""
    rank = len(input_shape) + 1
    resolved = []
    for axis in axes:
        position = axis + rank if axis < 0 else axis
        if not 1 <= position < rank:
            where = "the batch axis" if position == 0 else "out of bounds"
            raise ShapeError(
                f"Layer '{layer.name}' ({type(layer).__name__}) normalizes along axis "
                f"{axis}, which is {where} for inputs shaped (batch, "
                f"{', '.join(map(str, input_shape))}). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        resolved.append(position)
    if len(set(resolved)) != len(resolved):
        raise ShapeError(
            f"Layer '{layer.name}' ({type(layer).__name__}) was given the same axis "
            f"twice: axis={axes} on inputs of rank {rank}. "
            f"Received: input_shape={tuple(input_shape)}"
        )
    return tuple(sorted(resolved))


def axis_sizes(
    layer: Layer, axes: tuple[int, ...], input_shape: Any
) -> tuple[int, ...]:
    """The lengths of ``axes`` (full-shape positions), which must be known."""
    sizes = tuple(input_shape[axis - 1] for axis in axes)
    if None in sizes:
        raise ShapeError(
            f"Layer '{layer.name}' ({type(layer).__name__}) needs the length of the "
            f"axes it normalizes along to be known. Received: "
            f"input_shape={tuple(input_shape)}"
        )
    return tuple(int(size) for size in sizes)


@registry.register("batch_normalization")
class BatchNormalization(Layer):
    """Normalizes each feature with the statistics of the batch (Ioffe and Szegedy).

    With ``training=True`` every feature (every index along ``axis``) is standardized
    with the mean and biased variance of the batch, taken over every other axis,
    then scaled and shifted: ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``.
    The same pass updates the moving statistics in place, as Keras 3 does::

        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_variance = moving_variance * momentum + var * (1 - momentum)

    With ``training=False`` (prediction) the moving statistics take the place of
    the batch's. As in Keras 3, a layer whose ``trainable`` is False always runs in
    this inference mode, even with ``training=True``: fine-tuning a frozen model
    keeps and uses the statistics it was trained with. Under a padding mask
    (``Embedding(mask_zero=True)``, ``Masking``) the batch statistics are taken
    over the real steps only, as in Keras 3; every step is then normalized.

    Parameters
    ----------
    axis : int
        The feature axis, counted on the full shape with the batch axis as 0
        (``-1``, the last axis, for Dense outputs and channels-last images). Not 0.
    momentum : float
        Weight of the old value in each moving-average update, in [0, 1].
    epsilon : float
        Added to the variance before the square root (> 0).
    center, scale : bool
        Whether the layer has the offset ``beta`` / the scale ``gamma``.
    beta_initializer, gamma_initializer : str, dict or Initializer
        Starting values of ``beta`` and ``gamma`` (zeros and ones).
    moving_mean_initializer, moving_variance_initializer : str, dict or Initializer
        Starting values of the moving statistics (zeros and ones).
    beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint
        Penalties added to the training loss and projections after every update,
        as Dense's kernel ones (:mod:`glassnet.regularizers`,
        :mod:`glassnet.constraints`).
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`~glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = BatchNormalization(momentum=0.5)
    >>> layer.weight_shapes((2,))
    {'gamma': (2,), 'beta': (2,), 'moving_mean': (2,), 'moving_variance': (2,)}
    >>> layer.build((2,), np.random.default_rng(0), np.float64)
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])  # batch means 2, 20; variances 1, 100
    >>> np.round(layer.forward(x, training=True), 4)  # -1 / sqrt(1 + 0.001) = -0.9995
    array([[-0.9995, -1.    ],
           [ 0.9995,  1.    ]])
    >>> layer.state["moving_mean"]  # 0 * 0.5 + (2, 20) * 0.5
    array([ 1., 10.])
    >>> layer.state["moving_variance"]  # 1 * 0.5 + (1, 100) * 0.5
    array([ 1. , 50.5])
    """

    penalized_weights = ("gamma", "beta")
    supports_masking = True  # passes a padding mask on (Keras)
    takes_mask = True  # and takes its statistics over the real steps

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        if isinstance(axis, (list, tuple)):
            raise GlassnetTypeError(
                "BatchNormalization normalizes along one feature axis: argument "
                "`axis` must be a single integer (e.g. -1 for the last axis). "
                f"Received: axis={axis!r}"
            )
        self.axis = check_axis_value(axis, "axis")
        self.momentum = check_in_range(
            momentum, "momentum", 0.0, 1.0, high_inclusive=True
        )
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.center = check_bool(center, "center")
        self.scale = check_bool(scale, "scale")
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizer_argument(
            beta_regularizer, "beta_regularizer"
        )
        self.gamma_regularizer = regularizer_argument(
            gamma_regularizer, "gamma_regularizer"
        )
        self.beta_constraint = constraint_argument(beta_constraint, "beta_constraint")
        self.gamma_constraint = constraint_argument(
            gamma_constraint, "gamma_constraint"
        )

    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """gamma, beta, moving_mean, moving_variance: each (features along axis,)."""
        features = self._feature_shape(input_shape)
        names = ["gamma"] if self.scale else []
        names += ["beta"] if self.center else []
        return {key: features for key in [*names, "moving_mean", "moving_variance"]}

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Create gamma and beta (params) and the moving statistics (state)."""
        shapes = self.weight_shapes(input_shape)
        makers = {
            "gamma": self.gamma_initializer,
            "beta": self.beta_initializer,
            "moving_mean": self.moving_mean_initializer,
            "moving_variance": self.moving_variance_initializer,
        }
        weights = {key: makers[key](shape, rng, dtype) for key, shape in shapes.items()}
        self.state = {
            key: weights.pop(key) for key in ("moving_mean", "moving_variance")
        }
        self.params = weights
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        super().build(input_shape, rng, dtype)

    def forward(
        self,
        x: Array,
        *,
        training: bool = False,
        keep_cache: bool = False,
        mask: Array | None = None,
    ) -> Array:
        """Batch statistics (updating the moving ones) when training, else moving ones.

        With a padding ``mask`` (one axis fewer than ``x``) the batch statistics
        are over the real steps only (:mod:`~glassnet.layers.normalization_masks`).
        """
        axis, reduce = self._axes(x.ndim)
        batch_stats = training and self.trainable
        if mask is not None:  # checked in inference too, as Keras does
            check_mask_shape(self, x, mask)
        real_steps = None  # (weights, their sum W) when the mask weighs the stats
        if batch_stats:
            if mask is None:
                mean, variance = moments(x, reduce)
            else:
                weights = mask_weights(mask, x)
                mean, variance, total = masked_moments(x, weights, reduce)
                real_steps = (weights, total)
            self._update_moving_statistics(mean, variance)
        else:
            mean = broadcastable(self.state["moving_mean"], x.ndim, (axis,))
            variance = broadcastable(self.state["moving_variance"], x.ndim, (axis,))
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)
        xhat = (x - mean) * inv_std
        y = xhat * self._param("gamma", x.ndim) if self.scale else xhat
        if self.center:
            y = y + self._param("beta", x.ndim)
        keep = training or keep_cache
        self._cache = (xhat, inv_std, batch_stats, real_steps) if keep else None
        return y

    def _update_moving_statistics(self, mean: Array, variance: Array) -> None:
        """``moving = moving * momentum + batch * (1 - momentum)``, in place."""
        for key, batch in (("moving_mean", mean), ("moving_variance", variance)):
            moving = self.state[key]
            moving[...] = moving * self.momentum + batch.reshape(moving.shape) * (
                1.0 - self.momentum
            )

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """dgamma, dbeta and dx; dx through the batch statistics when training."""
        # y = gamma * xhat + beta  =>  dgamma = sum(dy * xhat), dbeta = sum(dy),
        #                              dxhat = dy * gamma
        # training: xhat = (x - mean(x)) * inv_std(x)  =>  dx = standardize_backward
        # inference: xhat = (x - moving_mean) * inv_std, affine  =>  dx = dxhat * inv_std
        # masked training: mean, var over the real steps  =>  masked_standardize_backward
        xhat, inv_std, batch_stats, real_steps = self.cached()
        _, reduce = self._axes(grad_output.ndim)
        if self.trainable:
            if self.scale:
                np.sum(grad_output * xhat, axis=reduce, out=self.grads["gamma"])
            if self.center:
                np.sum(grad_output, axis=reduce, out=self.grads["beta"])
        if not input_grad:
            return None
        grad_xhat = grad_output
        if self.scale:
            grad_xhat = grad_output * self._param("gamma", grad_output.ndim)
        if not batch_stats:
            return grad_xhat * inv_std
        if real_steps is not None:  # statistics over the real steps only
            weights, total = real_steps
            return masked_standardize_backward(
                grad_xhat, xhat, inv_std, weights, total, reduce
            )
        return standardize_backward(grad_xhat, xhat, inv_std, reduce)

    def output_shape(self, input_shape: Any) -> Any:
        """Unchanged; refuses inputs without the feature axis."""
        self._feature_shape(input_shape)
        return tuple(input_shape)

    def flops(self, input_shape: Any) -> Cost:
        """Per element at inference: ``x - mean``, times inv_std, gamma, plus beta.

        ``inv_std = 1 / sqrt(moving_variance + epsilon)`` is computed once per
        batch, not per sample, so it is left out.
        """
        self._feature_shape(input_shape)
        steps = ["x - mean", "x inv_std"]
        steps += ["x gamma"] if self.scale else []
        steps += ["+ beta"] if self.center else []
        return elementwise_flops(known_size(input_shape), len(steps), ", ".join(steps))

    def kept_activations(self, input_shape: Any) -> Cost:
        """``xhat`` and ``y`` (one array without gamma and beta).

        ``inv_std`` is kept too, but once per feature for the whole batch.
        """
        size = known_size(self.output_shape(input_shape))
        if not (self.scale or self.center):
            return arrays_kept(("xhat = y", size))
        return arrays_kept(("xhat", size), ("y", size))

    def _feature_shape(self, input_shape: Any) -> tuple[int, ...]:
        axes = resolve_axes(self, [self.axis], input_shape)
        return axis_sizes(self, axes, input_shape)

    def _axes(self, ndim: int) -> tuple[int, tuple[int, ...]]:
        """The feature axis and the axes the statistics are taken over."""
        axis = self.axis % ndim
        return axis, tuple(a for a in range(ndim) if a != axis)

    def _param(self, key: str, ndim: int) -> Array:
        return broadcastable(self.params[key], ndim, (self.axis % ndim,))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, with the initializers serialized."""
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            moving_mean_initializer=initializers.serialize(
                self.moving_mean_initializer
            ),
            moving_variance_initializer=initializers.serialize(
                self.moving_variance_initializer
            ),
            **options_config(self),
        )
        return config
