"""``Network``: a model's graph of layers, its weights and its passes, without training.

The base of :class:`~glassnet.models.Model` (functional graphs) and
:class:`~glassnet.models.Sequential` (a chain of the same kind). It holds the graph
(``models/graph.py``), keeps every trainable parameter in one flat buffer
(``models/flat.py``), lists the weights as Keras does, freezes and unfreezes, and
runs the graph forward and backward through the one walk (``models/walk.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from glassnet._naming import auto_name, check_name
from glassnet._registry import did_you_mean
from glassnet._typing import Array, Shape
from glassnet._validation import check_bool, check_seed, normalize_dtype
from glassnet.errors import InvalidArgumentError, NotBuiltError, ShapeError
from glassnet.layers import Layer
from glassnet.layers.base import Weight
from glassnet.layers.symbolic import SymbolicTensor
from glassnet.models.flat import FlatParameters, flatten_parameters
from glassnet.models.graph import Graph
from glassnet.models.walk import Walk

__all__ = ["Network"]


class Network:
    """Layers in a graph: weights, freezing, forward and backward (see module doc).

    Subclasses set :attr:`graph` once the layers are built and then call
    :meth:`_flatten`.
    """

    #: Keras' prefix of automatic model names
    default_name = "model"

    def __init__(
        self, name: str | None = None, seed: int | None = None, dtype: Any = "float32"
    ) -> None:
        self.name = auto_name(type(self).__name__) if name is None else check_name(name)
        self.seed = check_seed(seed)
        self.dtype = normalize_dtype(dtype)
        self.rng = np.random.default_rng(self.seed)
        self.graph: Graph | None = None
        self.built = False
        self.input_shape: Shape | None = None
        #: every trainable parameter as a view into one buffer, once built
        self.flat: FlatParameters | None = None
        #: whether predict must silence exp's harmless overflow (see _flatten)
        self.overflow_guard = True
        self._forward_walk: Walk | None = None
        self._trainable = True

    # -- the layers ------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The model's layers (a functional model's start with its InputLayers)."""
        return [] if self.graph is None else list(self.graph.layers)

    @property
    def inputs(self) -> list[SymbolicTensor]:
        """The symbolic input tensors (a built model's)."""
        return list(self._require_graph("inputs").inputs)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        """The symbolic output tensors (a built model's)."""
        return list(self._require_graph("outputs").outputs)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` of :attr:`layers`."""
        layers = self.layers
        if (name is None) == (index is None):
            raise InvalidArgumentError(
                "get_layer takes either `name` or `index`. "
                f"Received: name={name!r}, index={index!r}"
            )
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise InvalidArgumentError(
                    f"Argument `index` must be an integer. Received: index={index!r}"
                )
            if not -len(layers) <= index < len(layers):
                raise InvalidArgumentError(
                    f"Model '{self.name}' has {len(layers)} layers; index {index} is "
                    "out of range."
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        names = [layer.name for layer in layers]
        raise InvalidArgumentError(
            f"No layer named {name!r} in model '{self.name}'. Available: {names}."
            + did_you_mean(str(name), names)
        )

    # -- building ------------------------------------------------------------------
    def _require_graph(self, what: str) -> Graph:
        if self.graph is None:
            raise NotBuiltError(
                f"Model '{self.name}' has not been built yet, so `{what}` is not "
                "known. Build it (model.build((None, n_features))) or fit it on data."
            )
        return self.graph

    def built_input_shape(self) -> Shape:
        """The per-sample input shape; raises NotBuiltError on an unbuilt model."""
        if not self.built or self.input_shape is None:
            raise NotBuiltError(
                f"Model '{self.name}' has not been built yet. Give the first layer "
                "input_dim=..., call model.build((None, n_features)), or fit it on data."
            )
        return self.input_shape

    def _flatten(self) -> None:
        """Hold the parameters in one flat buffer, trainable ones first (models/flat.py).

        Called whenever the layers or their ``trainable`` flags change: the optimizer
        updates the trainable front of the buffer only. It also notes whether any
        activation can overflow harmlessly (sigmoid, silu): only then does ``predict``
        enter ``np.errstate``, which costs about 1 us a call.
        """
        layers = self.layers
        self.flat = flatten_parameters(layers, self.dtype)
        self.overflow_guard = any(
            getattr(getattr(layer, "activation", None), "overflows_harmlessly", False)
            for layer in layers
        )
        self._forward_walk = None if self.graph is None else Walk(self.graph)

    def refresh_trainable(self) -> None:
        """Re-split the flat buffer if a layer's ``trainable`` changed since the last time."""
        if self.flat is not None and self.flat.trainable_signature != tuple(
            layer.trainable for layer in self.layers
        ):
            self._flatten()

    # -- freezing ------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        """Setting it sets every layer's ``trainable`` (Keras 3: frozen all at once)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: Any) -> None:
        value = check_bool(value, "trainable")
        self._trainable = value
        for layer in self.layers:
            layer.trainable = value

    # -- weights -------------------------------------------------------------------
    @property
    def weights(self) -> list[Weight]:
        """Every weight, layer by layer in Keras order (each layer: params, then state)."""
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[Weight]:
        """The weights the optimizer updates."""
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Weight]:
        """State, and the parameters of frozen layers."""
        return [w for w in self.weights if not w.trainable]

    def parameter_triples(self) -> Iterator[tuple[str, Array, Array]]:
        """``(name, param, grad)`` for every *trainable* parameter, named ``"dense_1.W"``."""
        for layer in self.layers:
            if not layer.trainable:
                continue
            grads = layer.grads
            for key, param in layer.params.items():
                yield f"{layer.name}.{key}", param, grads[key]

    def count_params(self) -> int:
        """Total number of scalars in every weight, trainable or not."""
        self._require_graph("count_params")
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[Array]:
        """Copies of every weight, in :attr:`weights` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Replace every weight (same order and shapes as :meth:`get_weights`).

        Everything is checked before anything is written, so a rejected call leaves
        the model as it was.
        """
        self._require_graph("set_weights")
        slots = self.weights
        if not isinstance(weights, (list, tuple)) or len(weights) != len(slots):
            count = (
                len(weights)
                if isinstance(weights, (list, tuple))
                else type(weights).__name__
            )
            raise ShapeError(
                f"set_weights expects a list of {len(slots)} arrays (each layer's "
                f"weights in order, e.g. kernel then bias). Received: {count}"
            )
        converted = [
            w.layer._checked_weight(w, value)
            for w, value in zip(slots, weights, strict=True)
        ]
        for weight, array in zip(slots, converted, strict=True):
            weight.value[...] = array

    # -- forward and backward ---------------------------------------------------------
    def forward(
        self, x: Any, *, training: bool = False, keep_cache: bool = False
    ) -> Any:
        """Run validated inputs through the graph (no checks: see ``predict``).

        ``x`` is an array for a one-input model, else a list of arrays; the result
        is an array for a one-output model, else a list.
        """
        walk = self._forward_walk
        if walk is None:
            walk = self._forward_walk = Walk(self._require_graph("forward"))
        graph = walk.graph
        outputs = walk.forward(
            x if len(graph.inputs) > 1 else [x],
            training=training,
            keep_cache=keep_cache,
        )
        return outputs if len(outputs) > 1 else outputs[0]

    def training_walk(self) -> Walk:
        """The walk training uses (no input gradients), for the current trainable flags."""
        self.refresh_trainable()
        walk = self._forward_walk
        if walk is None:
            walk = self._forward_walk = Walk(self._require_graph("training"))
        return walk

    def backward(self, grad_output: Any) -> Any:
        """dL/d(inputs) from dL/d(outputs), after a caching forward; fills every grad."""
        walk = Walk(self._require_graph("backward"), input_grads=True)
        grads = grad_output if len(walk.graph.outputs) > 1 else [grad_output]
        result = walk.backward(grads)
        return result if len(result) > 1 else result[0]

    # -- copies ------------------------------------------------------------------
    def __setstate__(self, state: dict[str, Any]) -> None:
        # A copied model (copy.deepcopy, or joblib handing it to a worker process)
        # gets independent copies of what were views into its flat buffer: rebuild
        # the buffer so the layers and the optimizer share one array again.
        self.__dict__.update(state)
        if self.built:
            self._flatten()
