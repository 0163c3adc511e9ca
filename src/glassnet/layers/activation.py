"""Layers that apply an activation function elementwise (or row-wise, softmax)."""

from __future__ import annotations

from typing import Any

from glassnet import activations
from glassnet._typing import Array
from glassnet.activations import ActivationFunction
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, activation_flops, elementwise_flops, known_size

__all__ = ["Activation", "ActivationFunctionLayer"]


class ActivationFunctionLayer(Layer):
    """What every parameter-free activation layer shares: ``y = f(x)``, f stateless.

    :class:`Activation` and Keras' ``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax``
    (``layers/activation_layers.py``) set ``self.activation`` in their constructor.
    They expose ``f`` as the output activation, so a final ``Softmax()`` or
    ``Activation("sigmoid")`` fuses with cross-entropy.
    """

    has_output_activation = True
    supports_masking = True  # passes a padding mask on (Keras)
    activation: ActivationFunction  # set by each subclass's constructor

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``y = f(x)``."""
        y = self.activation.forward(x)
        self._cache = (x, y) if training or keep_cache else None
        return y

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Vector-Jacobian product of the activation (no weights to fill)."""
        # y = f(x)  =>  dx = f'(x) * dy elementwise; softmax couples each row:
        #               dx = y * (dy - sum(dy * y))
        x, y = self.cached()
        return self.activation.backward(x, y, grad_output) if input_grad else None

    def flops(self, input_shape: Any) -> Cost:
        """Each element at the function's cost (``ACTIVATION_FLOPS``)."""
        return elementwise_flops(
            known_size(input_shape),
            activation_flops(self.activation),
            self.activation.name,
        )

    @property
    def output_activation(self) -> ActivationFunction:
        """The function this layer applies."""
        return self.activation

    @property
    def logits(self) -> Array:
        """The input of the last caching forward pass (this layer's pre-activation)."""
        return self.cached()[0]

    def backward_from_logits(
        self, grad_logits: Array, *, input_grad: bool = True
    ) -> Array | None:
        """dL/dz is already dL/d(input) for this layer."""
        self.cached()
        return grad_logits if input_grad else None


@registry.register("activation")
class Activation(ActivationFunctionLayer):
    """Applies ``activation`` to its input; has no parameters.

    Examples
    --------
    >>> import numpy as np
    >>> Activation("relu").forward(np.array([[-1.0, 2.0]]))
    array([[0., 2.]])
    """

    def __init__(
        self,
        activation: Any,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        self.activation: ActivationFunction = activations.get(activation)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config
