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

from glassnet import _random
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
from glassnet.models.penalties import (
    TrainPenalties,
    penalty_values,
    regularized_outputs,
)
from glassnet.models.pickling import LEAN_MARK, lean_state, state_bytes
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
        # Without a seed of its own a model seeds its generator from the session's,
        # so glassnet.utils.set_random_seed makes it reproducible (as in Keras);
        # unseeded, the session generator holds fresh entropy.
        own = self.seed if self.seed is not None else _random.generator().integers(2**63)
        self.rng = np.random.default_rng(own)
        self.graph: Graph | None = None
        self.built = False
        self.input_shape: Shape | None = None
        #: every trainable parameter as a view into one buffer, once built
        self.flat: FlatParameters | None = None
        #: whether predict must silence exp's harmless overflow (see _flatten)
        self.overflow_guard = True
        self._forward_walk: Walk | None = None
        self._backward_walks: dict[bool, Walk] = {}
        #: the layers whose output is regularized (``predict_loop`` resets their
        #: sums), as they were when the walks were made
        self.activity_layers: list[Layer] = []
        #: whether a trainable weight has a regularizer (when the buffer was made)
        self.weight_regularized = False
        #: the penalties and constraints of the last train step made
        #: (``training.make_train_step``; None when the model has none)
        self.train_penalties: TrainPenalties | None = None
        self._trainable = True
        #: calls of this model inside other models (it can be used as a layer)
        self.inbound_nodes: list[Any] = []
        self.path_prefix = ""

    # -- the layers ------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The model's layers (a functional model's start with its InputLayers)."""
        return [] if self.graph is None else list(self.graph.layers)

    def leaf_layers(self) -> list[Layer]:
        """Every layer that holds weights itself: a model used as a layer is opened."""
        leaves: list[Layer] = []
        seen: set[int] = set()  # a layer shared by inner models is listed once
        for layer in self.layers:
            inner = layer.leaf_layers() if isinstance(layer, Network) else [layer]
            for leaf in inner:
                if id(leaf) not in seen:
                    seen.add(id(leaf))
                    leaves.append(leaf)
        return leaves

    @property
    def inputs(self) -> list[SymbolicTensor]:
        """The symbolic input tensors (a built model's)."""
        return list(self._require_graph("inputs").inputs)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        """The symbolic output tensors (a built model's)."""
        return list(self._require_graph("outputs").outputs)

    @property
    def input(self) -> Any:
        """The symbolic input (a list for several), as Keras' ``model.input``."""
        inputs = self.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self) -> Any:
        """The symbolic output (a list for several), as Keras' ``model.output``."""
        outputs = self.outputs
        return outputs[0] if len(outputs) == 1 else outputs

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
        layers = self.leaf_layers()
        self.flat = flatten_parameters(layers, self.dtype)
        self.overflow_guard = any(
            getattr(getattr(layer, "activation", None), "overflows_harmlessly", False)
            for layer in layers
        )
        self._forward_walk = None if self.graph is None else Walk(self.graph)
        self._backward_walks = {}
        self.activity_layers = regularized_outputs(layers)
        self.weight_regularized = any(
            layer.trainable and layer.weight_regularizers() for layer in layers
        )

    def refresh_trainable(self) -> None:
        """Make the flat buffer again if a layer's ``trainable`` changed since it was
        made, or if a model sharing these layers has moved them into its own; make
        the walks again if an ``activity_regularizer`` was set or removed since."""
        flat = self.flat
        layers = self.leaf_layers()
        if flat is not None and (
            flat.trainable_signature != tuple(layer.trainable for layer in layers)
            or not flat.attached()
            or regularized_outputs(layers) != self.activity_layers
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
        for layer in self.leaf_layers():
            if not layer.trainable:
                continue
            grads = layer.grads
            for key, param in layer.params.items():
                yield f"{layer.name}.{key}", param, grads[key]

    @property
    def losses(self) -> list[float]:
        """The regularization penalties now, as Keras 3's ``model.losses``: the
        activity penalties of the last call, then ``R(w)`` of each regularized
        trainable weight (see :mod:`glassnet.regularizers`)."""
        return penalty_values(self)

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
        self,
        x: Any,
        *,
        training: bool = False,
        keep_cache: bool = False,
        mask: Any = None,
    ) -> Any:
        """Run validated inputs through the graph (no checks: see ``predict``).

        ``x`` is an array for a one-input model, else a list of arrays; the result
        is an array for a one-output model, else a list. ``mask``: the inputs'
        padding masks, likewise (a model used as a layer, see :meth:`compute_mask`).
        """
        walk = self._forward_walk
        if walk is None:
            walk = self._forward_walk = Walk(self._require_graph("forward"))
        graph = walk.graph
        several = len(graph.inputs) > 1
        outputs = walk.forward(
            x if several else [x],
            training=training,
            keep_cache=keep_cache,
            masks=None if mask is None else list(mask) if several else [mask],
        )
        return outputs if len(outputs) > 1 else outputs[0]

    def training_walk(self) -> Walk:
        """The walk training uses (no input gradients), for the current trainable flags."""
        self.refresh_trainable()
        walk = self._forward_walk
        if walk is None:
            walk = self._forward_walk = Walk(self._require_graph("training"))
        return walk

    def backward(self, grad_output: Any, *, input_grad: bool = True) -> Any:
        """dL/d(inputs) from dL/d(outputs), after a caching forward; fills every grad.

        As a layer's backward: a model called inside another model is one step of
        the outer walk, and runs its own walk here.
        """
        walks = self._backward_walks
        walk = walks.get(input_grad)
        if walk is None:
            graph = self._require_graph("backward")
            walk = walks[input_grad] = Walk(graph, input_grads=input_grad)
        grads = grad_output if len(walk.graph.outputs) > 1 else [grad_output]
        result = walk.backward(grads)
        if not input_grad:
            return None
        return result if len(result) > 1 else result[0]

    # -- a model used as a layer inside another model ---------------------------------
    #: what the outer walk asks of a layer (see layers/base.py)
    has_output_activation = False
    output_activation = None
    input_kind = "float"
    #: masks go in and come out as in Keras: forward(mask=) hands the inputs' to
    #: the layers inside, compute_mask gives the outputs' of that forward
    takes_mask = True

    @property
    def creates_mask(self) -> bool:
        """Whether a layer inside makes a padding mask (then the outer walk does)."""
        return self.graph is not None and self.graph.masking

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The outputs' masks of the last forward (one, or a list for several)."""
        masks = self._require_graph("compute_mask").output_masks
        return masks if len(masks) > 1 else masks[0]

    @property
    def takes_list(self) -> bool:
        """A model with several inputs is called on a list, as a merge layer is."""
        return self.graph is not None and len(self.graph.inputs) > 1

    @property
    def params(self) -> dict[str, Array]:
        """Every parameter of the layers inside, by ``"layer.key"`` (read-only view)."""
        return {
            f"{layer.name}.{key}": value
            for layer in self.leaf_layers()
            for key, value in layer.params.items()
        }

    @property
    def grads(self) -> dict[str, Array]:
        """The gradients of :attr:`params`, same keys."""
        return {
            f"{layer.name}.{key}": value
            for layer in self.leaf_layers()
            for key, value in layer.grads.items()
        }

    @property
    def _cache(self) -> Any:
        """Every inner layer's cache: an outer walk that calls this model twice keeps
        one per call and puts it back before that call's backward."""
        return [(layer, layer._cache) for layer in self.leaf_layers()]

    @_cache.setter
    def _cache(self, value: Any) -> None:
        for layer, cache in value or []:
            layer._cache = cache

    # -- copies and pickles (models/pickling.py) ------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The weights, state and optimizer state; no caches, gradients or scratch."""
        if self.__dict__.get(LEAN_MARK):  # already lean: inside an outer model's copy
            return dict(self.__dict__)
        return lean_state(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A copied model (copy.deepcopy, or joblib handing it to a worker process)
        # gets independent copies of what were views into its flat buffer: rebuild
        # the buffer so the layers and the optimizer share one array again.
        self.__dict__.update(state)
        self.__dict__.pop(LEAN_MARK, None)
        if self.built:
            self._flatten()

    def __sizeof__(self) -> int:
        """Bytes of the weights, layer state and optimizer state, as a pickle carries
        them (what Dask's scheduler reads to place tasks and decide what to spill)."""
        return object.__sizeof__(self) + state_bytes(self)
