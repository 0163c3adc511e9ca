"""``PReLU``: a leaky ReLU whose negative slope ``alpha`` is learned.

Split from ``activation_layers.py`` because it is the one activation layer with a
weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import initializers
from glassnet._typing import Array
from glassnet._validation import check_positive_int
from glassnet.errors import ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, elementwise_flops, known_size

__all__ = ["PReLU"]


@registry.register("p_re_lu")
class PReLU(Layer):
    """Parametric ReLU ``y = x if x >= 0 else alpha * x``, with ``alpha`` learned.

    ``alpha`` has one entry per input entry (shape: the sample shape), except
    along ``shared_axes``, where one slope serves the whole axis (size 1 there).

    Parameters
    ----------
    alpha_initializer : str, dict or Initializer, default "zeros"
        Starting slopes (zeros: the layer starts as a plain ReLU).
    shared_axes : int or list of int, optional
        Axes sharing one slope, counted as in Keras: 1 is the first axis of a
        sample (the batch axis 0 always shares). ``[1, 2]`` on images shaped
        (batch, height, width, channels) learns one slope per channel.
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = PReLU(shared_axes=[1])
    >>> layer.weight_shapes((5, 3))
    {'alpha': (1, 3)}
    >>> layer.build((5, 3), np.random.default_rng(0), np.float64)
    >>> layer.set_weights([np.array([[0.1, 0.2, 0.3]])])
    >>> layer.forward(-np.ones((1, 5, 3)))[0, 0]
    array([-0.1, -0.2, -0.3])
    """

    supports_masking = True  # passes a padding mask on (Keras)

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        shared_axes: Any = None,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        self.alpha_initializer = initializers.get(alpha_initializer)
        if shared_axes is None:
            self.shared_axes: list[int] | None = None
        else:
            axes = (
                shared_axes if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            )
            checked = (check_positive_int(a, "shared_axes") for a in axes)
            self.shared_axes = list(dict.fromkeys(checked))  # repeats mean nothing

    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """``alpha``: the sample shape, with 1 on every shared axis."""
        shape = list(input_shape)
        for axis in self.shared_axes or []:
            if axis > len(shape):
                raise ShapeError(
                    f"PReLU layer '{self.name}' shares axis {axis}, but its samples "
                    f"have {len(shape)} axes (1 to {len(shape)}). "
                    f"Received: input_shape={tuple(input_shape)}"
                )
            shape[axis - 1] = 1
        if None in shape:
            raise ShapeError(
                f"PReLU layer '{self.name}' learns one slope per entry, so every axis "
                "that is not in `shared_axes` needs a known size. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        return {"alpha": tuple(shape)}

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Create ``alpha`` from the initializer."""
        shape = self.weight_shapes(input_shape)["alpha"]
        self.params = {"alpha": self.alpha_initializer(shape, rng, dtype)}
        self.grads = {"alpha": np.zeros_like(self.params["alpha"])}
        super().build(input_shape, rng, dtype)

    def output_shape(self, input_shape: Any) -> Any:
        """The input shape (checked against ``shared_axes``)."""
        self.weight_shapes(input_shape)
        return tuple(input_shape)

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y = x`` where ``x >= 0``, ``alpha * x`` elsewhere (alpha broadcast)."""
        y = np.where(x >= 0, x, self.params["alpha"] * x)
        self._cache = x if training or keep_cache else None
        return y

    def flops(self, input_shape: Any) -> Cost:
        """Per element: the comparison ``x >= 0`` and the product ``alpha * x``."""
        self.weight_shapes(input_shape)
        return elementwise_flops(known_size(input_shape), 2, "x >= 0, alpha * x")

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Slopes' gradient summed over the batch and shared axes; then dx."""
        # y = x (x > 0), alpha x (x <= 0)
        #   =>  dalpha = sum over batch and shared axes of dy * min(x, 0)
        #       dx = dy where x > 0, alpha * dy elsewhere
        x = self.cached()
        alpha = self.params["alpha"]
        if self.trainable:
            axes = (0, *(self.shared_axes or []))
            per_entry = grad_output * np.minimum(x, 0)
            self.grads["alpha"][...] = per_entry.sum(axis=axes, keepdims=True)[0]
        if not input_grad:
            return None
        return np.where(x > 0, grad_output, alpha * grad_output)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, with the initializer serialized."""
        config = super().get_config()
        config.update(
            alpha_initializer=initializers.serialize(self.alpha_initializer),
            shared_axes=None if self.shared_axes is None else list(self.shared_axes),
        )
        return config
