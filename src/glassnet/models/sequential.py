"""``Sequential``: a stack of layers, each fed the previous one's output.

A ``Sequential`` model is a :class:`~glassnet.models.Model` whose graph is a chain;
this module adds what only a stack has: ``add``, ``pop``, building from the first
layer's declared input shape, and its Keras config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glassnet._typing import Shape
from glassnet._validation import check_bool
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.layers import Layer
from glassnet.layers import registry as layer_registry
from glassnet.layers.input_layer import InputLayer
from glassnet.layers.symbolic import Node, SymbolicTensor
from glassnet.models.building import (
    check_activation_ranks,
    check_and_name_new_layer,
    describe_shape,
    normalize_build_shape,
)
from glassnet.models.graph import Graph
from glassnet.models.model import Model
from glassnet.models.network import Network

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers, trained with Keras' API.

    Its graph is a chain: one input, each layer called on the previous one's output.
    Weights, freezing and the forward and backward walk come from
    :class:`~glassnet.models.network.Network`, the training API from
    :class:`~glassnet.models.Model`. The first entry may be ``glassnet.Input(shape)``
    (or an ``InputLayer``), as in Keras.

    Parameters
    ----------
    layers : list of Layer, optional
        Layers to add in order.
    name : str, optional
        Shown by :meth:`summary` (default ``"sequential"``).
    seed : int, optional
        Seeds the model's ``numpy.random.Generator``, which draws the initial
        weights, the per-epoch shuffles and the dropout masks: the same seed gives
        bit-identical training. ``None`` draws fresh entropy.
    dtype : {"float32", "float64"}
        Precision of weights and computation (float64 for gradient checks).

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense, Activation
    >>> from glassnet.optimizers import SGD
    >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> y = np.array([[0], [1], [1], [0]])
    >>> model = Sequential(seed=3)
    >>> model.add(Dense(10, input_dim=2))
    >>> model.add(Activation("tanh"))
    >>> model.add(Dense(1))
    >>> model.add(Activation("sigmoid"))
    >>> model.count_params()
    41
    >>> model.compile(loss="binary_crossentropy", optimizer=SGD(lr=0.1),
    ...               metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=5, verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss']
    >>> model.predict(x, verbose=0).shape
    (4, 1)
    """

    def __init__(
        self,
        layers: list[Any] | None = None,
        name: str | None = None,
        seed: int | None = None,
        dtype: Any = "float32",
    ) -> None:
        Network.__init__(self, name=name, seed=seed, dtype=dtype)
        self._init_training_state()
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._chain_nodes: list[Node] = []
        #: the layers by name, so ``add`` checks a new layer in constant time
        self._names: dict[str, Layer] = {}
        #: layers were added to a built model since its graph was last made: the
        #: graph and the flat buffer wait until first read (see ``__getattr__``)
        self._graph_pending = False
        #: Keras 3 gives the weights of layers a Sequential builds the path
        #: "sequential/dense/kernel", but not those of one rebuilt from a config
        self._prefix_paths = True
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise GlassnetTypeError(
                    f"Argument `layers` must be a list of layers. Received: layers={layers!r}"
                )
            for layer in layers:
                self.add(layer)
            self._ensure_graph()

    @property
    def layers(self) -> list[Layer]:
        """The layers in order (without the input layer, as in Keras).

        A model whose graph waits (layers added since) makes it first, so the
        weights of the layers read from here are already views into the flat buffer.
        """
        self._ensure_graph()
        return list(self._layers)

    # -- building ----------------------------------------------------------------
    def add(self, layer: Any) -> None:
        """Append ``layer``; a first layer with a known input shape builds the model.

        ``glassnet.Input(shape)`` or an ``InputLayer`` as the first entry declares
        the input shape, as in Keras.
        """
        if isinstance(layer, SymbolicTensor) and isinstance(
            layer.node.layer, InputLayer
        ):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise InvalidArgumentError(
                    "An Input or InputLayer can only be the first entry of a Sequential "
                    f"model. Received: {layer.name!r} after {len(self._layers)} layers"
                )
            if layer.dtype.kind == "f" and layer.dtype != self.dtype:
                if layer.dtype_given:  # Input(..., dtype="float64") sets the model's
                    self.dtype = layer.dtype
                else:  # Input((n,)) takes the model's own, Sequential(dtype=...)
                    shape, name = layer.sample_shape, layer.name
                    layer = InputLayer(shape=shape, dtype=self.dtype, name=name)
            self._input_layer = layer
            return
        check_and_name_new_layer(layer, self._names, first=not self._layers)
        if layer.multiple_outputs:
            raise InvalidArgumentError(
                f"Layer '{layer.name}' ({type(layer).__name__}) gives several outputs "
                "(return_state=True: the output, then the states); a Sequential model "
                "passes one tensor from layer to layer. Build a functional model "
                "instead, e.g. out, h, c = LSTM(8, return_state=True)(x), or set "
                "return_state=False. Received: return_state=True"
            )
        if self._input_layer is not None and not self._layers:
            if layer.declared_input_shape is not None:
                raise InvalidArgumentError(
                    f"Layer '{layer.name}' declares input_shape, but the model already "
                    "starts with an Input."
                )
        self._layers.append(layer)
        self._names[layer.name] = layer
        if self.built:
            # Constant work per layer, so building n layers costs O(n): the layer
            # is built on the chain's last tensor and its call recorded; the graph,
            # the walks and the flat buffer (O(n) each) wait until first needed.
            tensor = self._chain_nodes[-1].outputs[0]
            try:
                out_shape = layer.output_shape(tensor.sample_shape)
                check_activation_ranks(layer, out_shape)
                self._build_layer(layer, tensor.sample_shape)
            except Exception:
                self._layers.pop()
                del self._names[layer.name]
                raise
            self._chain_call(layer, tensor)
            self._defer_graph()
        elif self._input_layer is not None and len(self._layers) == 1:
            self.build((None, *self._input_layer.sample_shape))
        elif layer.declared_input_shape is not None:
            self.build((None, *layer.declared_input_shape))

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise InvalidArgumentError("There are no layers to pop.")
        layer = self._layers.pop()
        del self._names[layer.name]
        if self._chain_nodes:
            node = self._chain_nodes.pop()
            layer.inbound_nodes = [n for n in layer.inbound_nodes if n is not node]
        if not self._layers:
            self._graph_pending = False
            self.built, self.input_shape, self.flat, self.graph = (
                False,
                None,
                None,
                None,
            )
        elif self.built:
            self._defer_graph()
        return layer

    def build(self, input_shape: Any = None) -> None:
        """Create every layer's weights for inputs shaped ``input_shape``.

        ``input_shape`` is Keras-style, batch axis first (``(None, 28, 28, 1)``);
        every axis after the batch is kept. Building an already built model with the
        same shape does nothing.
        """
        if input_shape is None and self._input_layer is not None:
            input_shape = (None, *self._input_layer.sample_shape)
        shape = normalize_build_shape(input_shape, self._layers)
        if self.built:
            if shape != self.input_shape:
                raise ShapeError(
                    "The model is already built for input shape "
                    f"{describe_shape(self.input_shape)}; it cannot be rebuilt for "
                    f"{describe_shape(shape)}. Create a new model."
                )
            return
        if not self._layers:
            raise InvalidArgumentError(
                "Add at least one layer before building the model."
            )
        current = shape  # every layer is checked before any weight exists
        for layer in self._layers:
            current = layer.output_shape(current)
            check_activation_ranks(layer, current)
        current = shape
        fresh = [layer for layer in self._layers if not layer.built]
        try:
            for layer in self._layers:
                self._build_layer(layer, current)
                current = layer.output_shape(current)
        except Exception:
            for layer in fresh:
                layer.params, layer.grads, layer.state, layer.built = {}, {}, {}, False
            raise
        self.input_shape, self.built = shape, True
        self._make_graph()

    def _build_layer(self, layer: Layer, shape: Shape) -> None:
        """Build ``layer`` for ``shape``, or check that an already built one (shared
        with another model, as in Keras' transfer learning) can take it."""
        layer.output_shape(shape)
        if layer.built:
            layer.check_input_shape(shape)
            return
        layer.build(shape, self.rng, self.dtype)
        if self._prefix_paths:
            layer.path_prefix = f"{self.name}/"

    def _make_graph(self) -> None:
        """The chain graph: the input layer, then each layer on the previous output."""
        assert self.input_shape is not None
        # token ids stay integers when the first layer reads ids (an Embedding)
        ids = self._layers[0].input_kind == "int"
        dtype = "int64" if ids else self.dtype
        given = self._input_layer
        if (
            given is None
            or given.sample_shape != self.input_shape
            or (ids and given.dtype.kind == "f")
        ):
            given = self._input_layer = InputLayer(shape=self.input_shape, dtype=dtype)
        # Each layer's call in this chain is recorded on the layer, as a call on a
        # symbolic tensor would be (so layer.output works, as in Keras); the calls
        # recorded by an earlier build of this model are replaced.
        for old in self._chain_nodes:
            old.layer.inbound_nodes = [
                n for n in old.layer.inbound_nodes if n is not old
            ]
        self._chain_nodes = []
        tensor = given.output
        for layer in self._layers:
            tensor = self._chain_call(layer, tensor)
        self._complete_graph()

    def _chain_call(self, layer: Layer, tensor: SymbolicTensor) -> SymbolicTensor:
        """Record ``layer`` called on ``tensor`` (the chain's last); its output."""
        node = Node(layer, [tensor], list_call=False)
        shape = layer.output_shape(tensor.sample_shape)
        node.outputs = [SymbolicTensor((None, *shape), self.dtype, node)]
        layer.inbound_nodes.append(node)
        self._chain_nodes.append(node)
        return node.outputs[0]

    def _complete_graph(self) -> None:
        """The graph of the recorded chain, then the walks and the flat buffer."""
        assert self._input_layer is not None
        self._graph_pending = False
        last = self._chain_nodes[-1].outputs[0]
        self.graph = Graph([self._input_layer.output], [last])
        self._flatten()

    #: what :meth:`_complete_graph` sets (``graph``, then ``_flatten``'s attributes)
    _deferred = frozenset(
        {
            "graph",
            "flat",
            "overflow_guard",
            "_forward_walk",
            "_backward_walks",
            "activity_layers",
            "weight_regularized",
        }
    )

    def _ensure_graph(self) -> None:
        """Make the graph now if layers were added since it was made."""
        if self.__dict__.get("_graph_pending"):
            self._complete_graph()

    def _defer_graph(self) -> None:
        """Drop the graph and what is made from it until one of them is next read.

        ``add`` on a built model calls this instead of making the graph again, which
        costs O(n) for n layers (O(n**2) to add them one by one): the attributes
        leave the instance, and reading any of them finds none and falls through to
        ``__getattr__``, which makes them all once. Reads of present attributes
        (every read once the graph exists, the training hot path) cost nothing extra.
        """
        for name in self._deferred:
            self.__dict__.pop(name, None)
        self._graph_pending = True

    if not TYPE_CHECKING:  # to mypy, attributes stay as declared in __init__

        def __getattr__(self, name: str) -> Any:
            # Python calls this only for an attribute the instance does not hold
            if name in Sequential._deferred and self.__dict__.get("_graph_pending"):
                self._ensure_graph()
                return self.__dict__[name]
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            )

    def compute_output_shape(
        self, input_shape: Shape, upto: int | None = None
    ) -> Shape:
        """Per-sample output shape after the first ``upto`` layers (all by default)."""
        shape = tuple(input_shape)
        for layer in self._layers[:upto]:
            shape = tuple(layer.output_shape(shape))
        return shape

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` of :attr:`layers`."""
        return Network.get_layer(self, name=name, index=index)

    # -- configs -------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """JSON-able architecture: name, trainable, dtype, seed and each layer's config.

        >>> from glassnet.layers import Dense
        >>> model = Sequential([Dense(2, input_dim=3, name="out")], name="s", seed=0)
        >>> config = model.get_config()
        >>> config["trainable"], config["layers"][0]["class_name"], config["build_input_shape"]
        (True, 'Dense', [None, 3])
        """
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype.name,
            "seed": self.seed,
            "layers": [
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                for layer in self._layers
            ],
            "build_input_shape": None
            if self.input_shape is None
            else [None, *self.input_shape],
        }

    @classmethod
    def from_config(
        cls,
        config: dict[str, Any],
        custom_objects: dict[str, type] | None = None,
        *,
        dtype: Any = None,
    ) -> Sequential:
        """Rebuild an (untrained) model from :meth:`get_config` output.

        ``custom_objects`` maps class names to your own layer classes; ``dtype``
        overrides the config's.

        >>> from glassnet.layers import Dense
        >>> model = Sequential([Dense(2, input_dim=3)], seed=0)
        >>> model.trainable = False
        >>> copy = Sequential.from_config(model.get_config(), dtype="float64")
        >>> copy.trainable, copy.layers[0].trainable, copy.dtype.name
        (False, False, 'float64')
        """
        model = cls(
            name=config.get("name"),
            seed=config.get("seed"),
            dtype=dtype or config.get("dtype", "float32"),
        )
        model._prefix_paths = False
        for spec in config.get("layers", []):
            model.add(
                layer_registry.get(spec, base=Layer, custom_objects=custom_objects)
            )
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        # the model's own flag, as saved: the layers' flags came with their configs
        model._trainable = check_bool(config.get("trainable", True), "trainable")
        model._ensure_graph()
        return model

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self.layers)} built={self.built}>"
