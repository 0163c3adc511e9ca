"""LayerNormalization: standardize each sample on its own over some of its axes.

The shared math (``moments``, ``standardize_backward``) and the axis conventions
are in :mod:`glassnet.layers.normalization`, beside BatchNormalization.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet import initializers
from glassnet._typing import Array
from glassnet._validation import check_bool, check_positive_float
from glassnet.errors import InvalidArgumentError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, arrays_kept, known_size, unknown_length
from glassnet.layers.normalization import (
    axis_sizes,
    broadcastable,
    check_axis_value,
    moments,
    resolve_axes,
    standardize_backward,
)
from glassnet.layers.penalties import (
    constraint_argument,
    options_config,
    regularizer_argument,
)

__all__ = ["LayerNormalization"]


@registry.register("layer_normalization")
class LayerNormalization(Layer):
    """Normalizes each sample on its own over ``axis`` (Ba, Kiros and Hinton).

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, the mean and biased
    variance taken per sample over the axes in ``axis``. No batch statistics are
    involved, so training and inference compute the same thing. ``gamma`` and
    ``beta`` are shaped like the normalized axes (in increasing axis order).

    Parameters
    ----------
    axis : int or list of int
        The axis or axes to normalize over, counted on the full shape with the
        batch axis as 0 (``-1`` is the last axis). Not 0.
    epsilon : float
        Added to the variance before the square root (> 0).
    center, scale : bool
        Whether the layer has the offset ``beta`` / the scale ``gamma``.
    beta_initializer, gamma_initializer : str, dict or Initializer
        Starting values of ``beta`` and ``gamma`` (zeros and ones).
    beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint
        Penalties added to the training loss and projections after every update,
        as Dense's kernel ones (:mod:`glassnet.regularizers`,
        :mod:`glassnet.constraints`).
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`~glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = LayerNormalization(axis=[-2, -1])
    >>> layer.weight_shapes((2, 3))
    {'gamma': (2, 3), 'beta': (2, 3)}
    >>> layer = LayerNormalization(epsilon=0.01)
    >>> layer.build((2,), np.random.default_rng(0), np.float64)
    >>> x = np.array([[1.0, 3.0], [0.0, 10.0]])  # means 2, 5; variances 1, 25
    >>> layer.forward(x)  # -1 / sqrt(1 + 0.01) = -0.995..., -5 / sqrt(25.01)
    array([[-0.99503719,  0.99503719],
           [-0.99980006,  0.99980006]])
    """

    penalized_weights = ("gamma", "beta")
    supports_masking = True  # passes a padding mask on (Keras)

    def __init__(
        self,
        axis: int | list[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
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
        self.axis: int | list[int] = _check_axes(axis)
        self.epsilon = check_positive_float(epsilon, "epsilon")
        self.center = check_bool(center, "center")
        self.scale = check_bool(scale, "scale")
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
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
        """gamma and beta, each shaped like the normalized axes."""
        axes = self._resolved(input_shape)
        if not (self.scale or self.center):
            return {}
        shape = axis_sizes(self, axes, input_shape)
        names = ["gamma"] if self.scale else []
        return {key: shape for key in names + (["beta"] if self.center else [])}

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Create gamma and beta."""
        shapes = self.weight_shapes(input_shape)
        makers = {"gamma": self.gamma_initializer, "beta": self.beta_initializer}
        self.params = {
            key: makers[key](shape, rng, dtype) for key, shape in shapes.items()
        }
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        super().build(input_shape, rng, dtype)

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """Standardize each sample over ``axis``, then scale and shift."""
        axes, _ = self._axes(x.ndim)
        mean, variance = moments(x, axes)
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)
        xhat = (x - mean) * inv_std
        y = xhat * self._param("gamma", axes, x.ndim) if self.scale else xhat
        if self.center:
            y = y + self._param("beta", axes, x.ndim)
        self._cache = (xhat, inv_std) if training or keep_cache else None
        return y

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """dgamma, dbeta (summed over the other axes) and dx through the statistics."""
        # y = gamma * xhat + beta  =>  dgamma = sum(dy * xhat), dbeta = sum(dy) over
        #     the axes not normalized; dxhat = dy * gamma
        # xhat = (x - mean(x)) * inv_std(x) per sample  =>  dx = standardize_backward
        xhat, inv_std = self.cached()
        axes, others = self._axes(grad_output.ndim)
        if self.trainable:
            if self.scale:
                np.sum(grad_output * xhat, axis=others, out=self.grads["gamma"])
            if self.center:
                np.sum(grad_output, axis=others, out=self.grads["beta"])
        if not input_grad:
            return None
        grad_xhat = grad_output
        if self.scale:
            grad_xhat = grad_output * self._param("gamma", axes, grad_output.ndim)
        return standardize_backward(grad_xhat, xhat, inv_std, axes)

    def output_shape(self, input_shape: Any) -> Any:
        """Unchanged; refuses inputs that lack one of the axes."""
        self.weight_shapes(input_shape)
        return tuple(input_shape)

    def flops(self, input_shape: Any) -> Cost:
        """Per element: mean 1, variance 3, standardize 2, gamma 1, beta 1; per group 5.

        Each group of normalized values (one per sample, or more when ``axis``
        leaves other axes) also pays ``1 / sqrt(var + epsilon)`` and the two
        divisions by its size: 5 operations.
        """
        size, groups = self._sizes(input_shape)
        if size is None or groups is None:
            return unknown_length()
        per = 6 + int(self.scale) + int(self.center)
        steps = "mean 1, variance 3, standardize 2"
        steps += ", x gamma" if self.scale else ""
        steps += ", + beta" if self.center else ""
        total = size * per + groups * 5
        formula = (
            f"{size:,} x {per} ({steps}) + {groups:,} x 5 (divide twice, "
            f"1 / sqrt(var + epsilon)) = {total:,}"
        )
        return Cost(total, formula)

    def kept_activations(self, input_shape: Any) -> Cost:
        """``xhat``, ``y`` (one array without gamma and beta), ``inv_std`` per group."""
        size, groups = self._sizes(input_shape)
        if not (self.scale or self.center):
            return arrays_kept(("xhat = y", size), ("inv_std", groups))
        return arrays_kept(("xhat", size), ("y", size), ("inv_std", groups))

    def _sizes(self, input_shape: Any) -> tuple[int | None, int | None]:
        """Numbers per sample and groups normalized together (None if unknown)."""
        axes = self._resolved(input_shape)
        size = known_size(input_shape)
        if size is None:
            return None, None
        return size, size // math.prod(axis_sizes(self, axes, input_shape))

    def _resolved(self, input_shape: Any) -> tuple[int, ...]:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        return resolve_axes(self, axes, input_shape)

    def _axes(self, ndim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The normalized axes (sorted) and the others, for arrays of ``ndim``."""
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        normalized = tuple(sorted(a % ndim for a in axes))
        return normalized, tuple(a for a in range(ndim) if a not in normalized)

    def _param(self, key: str, axes: tuple[int, ...], ndim: int) -> Array:
        return broadcastable(self.params[key], ndim, axes)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, with the initializers serialized."""
        config = super().get_config()
        config.update(
            axis=self.axis,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            **options_config(self),
        )
        return config


def _check_axes(axis: Any) -> int | list[int]:
    """LayerNormalization's ``axis``: an integer or a non-empty list of distinct ones."""
    if not isinstance(axis, (list, tuple)):
        return check_axis_value(axis, "axis")
    if not axis:
        raise InvalidArgumentError(
            "Argument `axis` must name at least one axis. Received: axis=[]"
        )
    axes = [check_axis_value(a, "axis") for a in axis]
    if len(set(axes)) != len(axes):
        raise InvalidArgumentError(
            f"Argument `axis` must not repeat an axis. Received: axis={list(axis)!r}"
        )
    return axes
