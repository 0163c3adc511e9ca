"""``LayerStack``: the network inside a ``Sequential`` model, without the training API.

A list of layers that builds their weights, tracks shapes, holds every parameter in
one flat buffer (``models/flat.py``) and runs the forward and backward passes through
the layers in order. :class:`~glassnet.models.Sequential` adds Keras' compile / fit /
evaluate / predict, configs and files on top of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from glassnet._typing import Array, Shape
from glassnet._validation import as_float_array, check_seed, normalize_dtype
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
    ShapeError,
)
from glassnet.layers import Layer
from glassnet.models.building import (
    check_and_name_new_layer,
    describe_shape,
    normalize_build_shape,
)
from glassnet.models.flat import FlatParameters, flatten_parameters

__all__ = ["LayerStack"]


class LayerStack:
    """A linear stack of layers: building, shapes, parameters, forward and backward.

    The base class of :class:`~glassnet.models.Sequential`, which documents the
    parameters (``layers``, ``name``, ``seed``, ``dtype``).

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> stack = LayerStack([Dense(3, input_dim=2), Dense(1)], seed=0)
    >>> stack.input_shape, stack.compute_output_shape(stack.input_shape)
    ((2,), (1,))
    >>> [name for name, _, _ in stack.parameter_triples()]
    ['dense.W', 'dense.b', 'dense_1.W', 'dense_1.b']
    >>> stack.forward(np.ones((4, 2), np.float32)).shape
    (4, 1)
    """

    def __init__(
        self,
        layers: list[Layer] | None = None,
        name: str | None = None,
        seed: int | None = None,
        dtype: Any = "float32",
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise GlassnetTypeError(
                f"Argument `name` must be a non-empty string. Received: name={name!r}"
            )
        self.name = name or "sequential"
        self.seed = check_seed(seed)
        self.dtype = normalize_dtype(dtype)
        self.rng = np.random.default_rng(self.seed)
        self.layers: list[Layer] = []
        self.built = False
        self.input_shape: Shape | None = None
        #: every parameter as a view into one buffer, once built (models/flat.py)
        self.flat: FlatParameters | None = None
        #: whether predict must silence exp's harmless overflow (see _flatten)
        self.overflow_guard = True
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise GlassnetTypeError(
                    f"Argument `layers` must be a list of layers. Received: layers={layers!r}"
                )
            for layer in layers:
                self.add(layer)

    # -- building ----------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append ``layer``; a first layer with ``input_dim``/``input_shape`` builds."""
        check_and_name_new_layer(layer, self.layers)
        self.layers.append(layer)
        if self.built:
            assert self.input_shape is not None
            shape = self.compute_output_shape(
                self.input_shape, upto=len(self.layers) - 1
            )
            try:
                layer.build(shape, self.rng, self.dtype)
            except Exception:
                self.layers.pop()
                raise
            self._flatten()
        elif layer.declared_input_shape is not None:
            self.build((None, *layer.declared_input_shape))

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise InvalidArgumentError("There are no layers to pop.")
        layer = self.layers.pop()
        if not self.layers:
            self.built, self.input_shape, self.flat = False, None, None
        elif self.built:
            self._flatten()
        return layer

    def build(self, input_shape: Any = None) -> None:
        """Create every layer's weights for inputs shaped ``input_shape``.

        ``input_shape`` is Keras-style, batch axis first (``(None, 2)``); a plain
        per-sample shape such as ``(2,)`` or ``2`` is accepted too. Building an
        already built model with the same shape does nothing.
        """
        shape = normalize_build_shape(input_shape, self.layers)
        if self.built:
            if shape != self.input_shape:
                raise ShapeError(
                    "The model is already built for input shape "
                    f"{describe_shape(self.input_shape)}; it cannot be rebuilt for "
                    f"{describe_shape(shape)}. Create a new model."
                )
            return
        if not self.layers:
            raise InvalidArgumentError(
                "Add at least one layer before building the model."
            )
        self.compute_output_shape(shape)  # checks every layer before any weight exists
        current = shape
        try:
            for layer in self.layers:
                layer.build(current, self.rng, self.dtype)
                current = layer.output_shape(current)
        except Exception:
            for layer in self.layers:
                layer.params, layer.grads, layer.built = {}, {}, False
            raise
        self.input_shape, self.built = shape, True
        self._flatten()

    def _flatten(self) -> None:
        """Hold all parameters and gradients in two flat buffers (models/flat.py).

        Called whenever the layers change, so it also notes whether any of their
        activations can overflow harmlessly (sigmoid, silu): only then does
        ``predict`` enter ``np.errstate``, which costs about 1 us a call, a tenth of
        a one-sample prediction through a small ReLU network.
        """
        self.flat = flatten_parameters(self.layers, self.dtype)
        self.overflow_guard = any(
            getattr(getattr(layer, "activation", None), "overflows_harmlessly", False)
            for layer in self.layers
        )

    def built_input_shape(self) -> Shape:
        """The per-sample input shape; raises NotBuiltError on an unbuilt model."""
        if not self.built or self.input_shape is None:
            raise NotBuiltError(
                f"Model '{self.name}' has not been built yet. Give the first layer "
                "input_dim=..., call model.build((None, n_features)), or fit it on data."
            )
        return self.input_shape

    def compute_output_shape(
        self, input_shape: Shape, upto: int | None = None
    ) -> Shape:
        """Per-sample output shape after the first ``upto`` layers (all by default)."""
        shape = tuple(input_shape)
        for layer in self.layers[:upto]:
            shape = layer.output_shape(shape)
        return shape

    # -- parameters --------------------------------------------------------------
    def parameter_triples(self) -> Iterator[tuple[str, Array, Array]]:
        """``(name, param, grad)`` for every parameter, named ``"dense_1.W"``."""
        for layer in self.layers:
            grads = layer.grads
            for key, param in layer.params.items():
                yield f"{layer.name}.{key}", param, grads[key]

    def count_params(self) -> int:
        """Total number of scalar parameters."""
        self.built_input_shape()
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[Array]:
        """Copies of all parameters, Keras order: each layer's kernel then bias."""
        return [p.copy() for layer in self.layers for p in layer.params.values()]

    def set_weights(self, weights: list[Any]) -> None:
        """Replace all parameters (same order and shapes as :meth:`get_weights`).

        Everything is checked before anything is written, so a rejected call leaves
        the model as it was.
        """
        self.built_input_shape()
        slots = [
            (layer, key, p) for layer in self.layers for key, p in layer.params.items()
        ]
        if not isinstance(weights, (list, tuple)) or len(weights) != len(slots):
            count = (
                len(weights)
                if isinstance(weights, (list, tuple))
                else type(weights).__name__
            )
            raise ShapeError(
                f"set_weights expects a list of {len(slots)} arrays (kernel then bias "
                f"for each layer). Received: {count}"
            )
        converted = []
        for (layer, key, param), value in zip(slots, weights, strict=True):
            array = as_float_array(
                value, f"weights for {layer.name}.{key}", self.dtype, min_ndim=0
            )
            if array.shape != param.shape:
                raise ShapeError(
                    f"Weight '{layer.name}.{key}' has shape {param.shape}. "
                    f"Received: shape {array.shape}"
                )
            converted.append(array)
        for (_, _, param), array in zip(slots, converted, strict=True):
            param[...] = array

    # -- forward -----------------------------------------------------------------
    def forward(self, x: Array, *, training: bool = False) -> Array:
        """Run a validated batch through every layer (no checks: see predict)."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output: Array) -> Array:
        """Back-propagate dL/d(output) through every layer; fills each layer's grads."""
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output

    # -- copies ------------------------------------------------------------------
    def __setstate__(self, state: dict[str, Any]) -> None:
        # A copied model (copy.deepcopy, or joblib handing it to a worker process)
        # gets independent copies of what were views into its flat buffer: rebuild
        # the buffer so the layers and the optimizer share one array again.
        self.__dict__.update(state)
        if self.built:
            self._flatten()
