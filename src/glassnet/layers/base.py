"""The layer protocol every glassnet layer follows.

A layer owns its parameters and their gradients; it never updates its own weights
(that is the optimizer's job), so every backward pass can be gradient-checked::

    params: dict[str, ndarray]      e.g. {"W": (n_in, n_out), "b": (n_out,)}
    grads:  dict[str, ndarray]      same keys and shapes, overwritten by backward()
    build(input_shape, rng, dtype)  creates weights from the rng it is handed
    forward(x, *, training=False)   caches exactly what backward needs
    backward(grad_output) -> grad_input
    output_shape(input_shape)
    get_config() / from_config(config)

Shapes passed to ``build`` and ``output_shape`` are *per sample* (no batch axis):
a Dense layer fed ``(batch, 3)`` arrays is built with ``input_shape=(3,)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from glassnet._registry import Registry
from glassnet._typing import Array, Shape
from glassnet._validation import check_positive_int
from glassnet.activations import ActivationFunction
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, NotBuiltError

__all__ = ["Layer", "normalize_input_shape", "registry"]

registry = Registry("layer")


def normalize_input_shape(input_shape: Any, input_dim: Any) -> Shape | None:
    """Turn Keras' ``input_shape=(3,)`` / ``input_dim=3`` into a per-sample shape.

    >>> normalize_input_shape(None, 2)
    (2,)
    >>> normalize_input_shape((4,), None)
    (4,)
    """
    if input_dim is not None and input_shape is not None:
        raise InvalidArgumentError(
            "Give either `input_dim` or `input_shape`, not both. "
            f"Received: input_dim={input_dim!r}, input_shape={input_shape!r}"
        )
    if input_dim is not None:
        return (check_positive_int(input_dim, "input_dim"),)
    if input_shape is None:
        return None
    if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise GlassnetTypeError(
            "Argument `input_shape` must be a non-empty tuple of positive integers "
            f"(the shape of one sample, without the batch axis). "
            f"Received: input_shape={input_shape!r}"
        )
    return tuple(check_positive_int(d, "input_shape") for d in input_shape)


class Layer:
    """Base class of glassnet layers: see the module docstring for the protocol.

    Subclasses set ``params``/``grads`` in :meth:`build` and implement
    :meth:`forward`, :meth:`backward` and :meth:`output_shape`.
    """

    #: Layers whose output is an activation function of a pre-activation ``z``
    #: (Dense, Activation) expose it so the model can fuse the output activation
    #: with a cross-entropy loss (see ``Sequential.compile``).
    has_output_activation: ClassVar[bool] = False

    def __init__(
        self,
        *,
        name: str | None = None,
        input_shape: Any = None,
        input_dim: Any = None,
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise GlassnetTypeError(
                f"Argument `name` must be a non-empty string. Received: name={name!r}"
            )
        self.name = name
        self.declared_input_shape = normalize_input_shape(input_shape, input_dim)
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.input_shape: Shape | None = None
        self.built = False

    # -- protocol ---------------------------------------------------------------
    def build(
        self, input_shape: Shape, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Create the layer's parameters for samples shaped ``input_shape``."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def forward(self, x: Array, *, training: bool = False) -> Array:
        """Compute the layer's output for a batch ``x``; caches what backward needs."""
        raise NotImplementedError

    def backward(self, grad_output: Array) -> Array:
        """Given dL/d(output), fill ``self.grads`` and return dL/d(input)."""
        raise NotImplementedError

    def output_shape(self, input_shape: Shape) -> Shape:
        """The per-sample output shape for a per-sample ``input_shape``."""
        return tuple(input_shape)

    # -- output activation fusion (Dense, Activation) -------------------------
    @property
    def output_activation(self) -> ActivationFunction | None:
        """The activation applied last by this layer, if it has one."""
        return None

    @property
    def logits(self) -> Array:
        """The pre-activation ``z`` of the last forward pass (fusable layers only)."""
        raise NotImplementedError(f"{type(self).__name__} has no pre-activation.")

    def backward_from_logits(self, grad_logits: Array) -> Array:
        """Backward pass that starts at dL/dz, skipping the output activation."""
        raise NotImplementedError(f"{type(self).__name__} has no pre-activation.")

    # -- bookkeeping -------------------------------------------------------------
    def count_params(self) -> int:
        """Number of scalar parameters (the layer must be built)."""
        self._require_built("count_params")
        return int(sum(p.size for p in self.params.values()))

    def get_weights(self) -> list[Array]:
        """Copies of the parameters in Keras order (kernel, then bias)."""
        return [p.copy() for p in self.params.values()]

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments."""
        config: dict[str, Any] = {"name": self.name}
        if self.declared_input_shape is not None:
            config["input_shape"] = list(self.declared_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from :meth:`get_config` output."""
        return cls(**config)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise NotBuiltError(
                f"Layer '{self.name or type(self).__name__}' is not built yet, so "
                f"`{what}` is not available. Add it to a model with a known input "
                "shape, or call build(input_shape, rng)."
            )

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items() if k != "name"
        )
        return f"{type(self).__name__}({args})" if args else f"{type(self).__name__}()"
