"""The layer protocol every glassnet layer follows.

A layer owns its weights and their gradients; it never updates its own weights (that
is the optimizer's job), so every backward pass can be gradient-checked::

    params: dict[str, ndarray]   trainable weights, Keras order, e.g. {"W": .., "b": ..}
    grads:  dict[str, ndarray]   same keys and shapes, overwritten by backward()
    state:  dict[str, ndarray]   non-trainable state (BatchNormalization's moving
                                 mean and variance): saved, loaded and copied, never
                                 touched by the optimizer or the gradient check
    weight_shapes(input_shape)   the shape of every weight, before any exists
    build(input_shape, rng, dtype)
    forward(x, *, training=False, keep_cache=False)
    backward(grad_output, *, input_grad=True) -> grad_input (None if not asked)
    output_shape(input_shape)
    get_config() / from_config(config)

A layer with ``multiple_outputs`` (a recurrent layer with ``return_state=True``)
gives a list of shapes from ``output_shape``, a tuple of arrays from ``forward``, and
takes a list of gradients in ``backward``, None for an output nothing used.

What a layer reports about itself, so that no consumer guesses from a ``units``
attribute or an isinstance chain (summary, explain, plot_model and the CLI ask these):

    param_count(input_shape)       numbers in its weights, allocating nothing
    flops(input_shape)             a Cost: forward operations per sample at
                                   inference (count None when unknown)
    kept_activations(input_shape)  a Cost: numbers a training forward keeps for
                                   backward, per sample, and which arrays
    output_activation              the function applied last, if any
    weights                        Keras names and paths, trainable or not

The defaults: FLOPs unknown, and a training pass keeps the output ``y`` alone. The
conventions (what counts as one operation, what counts as kept) are in
``layers/costs.py``.

Shapes passed to ``build``, ``weight_shapes`` and ``output_shape`` are *per sample*
(no batch axis; other axes may be ``None``): a Dense layer fed ``(batch, 3)`` arrays
is built with ``input_shape=(3,)``. A layer that takes a list of tensors (the merge
layers: ``takes_list = True``) gets a list of shapes and a list of arrays, and its
backward returns a list of gradients.

**The cache.** ``forward`` keeps what ``backward`` needs in ``self._cache``, and only
when ``training`` is true or ``keep_cache=True`` is asked (the gradient check and
``explain`` ask): an inference pass keeps nothing alive. ``backward`` without such a
pass raises :class:`~glassnet.errors.MissingForwardError`. A model calls a shared
layer (one layer, several calls) once per call and swaps ``_cache`` between them.

**What is needed.** ``backward(..., input_grad=False)`` fills the weight gradients but
skips ``dL/dx``: the model asks for this when nothing below the layer needs it (the
first layer, whose input is the data). A layer whose ``trainable`` is False fills no
weight gradients.

**Masks** (Keras' padding masks; ``docs/internals.md`` has the whole protocol). A mask
is a boolean array, ``(batch, time)`` for sequences, True where a step is real. A
layer whose ``creates_mask`` is True makes one (``Masking``, ``Embedding(mask_zero=
True)``); the model's walk then carries a mask beside every tensor, asking each layer
``compute_mask(inputs, mask)`` for its output's: by default the input's mask when
``supports_masking`` (Dense, activations, Dropout...), else None (the mask ends
there, as in Keras). A layer with ``takes_mask`` (the recurrent layers,
BatchNormalization, GlobalAveragePooling1D, a model used as a layer; TimeDistributed
when the layer it wraps takes one) gets it in ``forward(x, ..., mask=mask)``.

>>> import numpy as np
>>> from glassnet.layers import Dense
>>> layer = Dense(2, name="scores")
>>> layer.weight_shapes((3,))
{'W': (3, 2), 'b': (2,)}
>>> layer.param_count((3,))
8
>>> y = layer(np.ones((1, 3)))           # built on first call
>>> [w.path for w in layer.weights]
['scores/kernel', 'scores/bias']
>>> layer.trainable = False
>>> len(layer.trainable_weights), len(layer.non_trainable_weights)
(0, 2)
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import numpy as np

from glassnet import _random, regularizers
from glassnet._naming import auto_name, check_name
from glassnet._registry import Registry, constructor_parameters
from glassnet._typing import Array
from glassnet._validation import all_finite, check_bool
from glassnet.activations import ActivationFunction
from glassnet.constraints import Constraint
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    MissingForwardError,
    NotBuiltError,
    ShapeError,
)
from glassnet.layers.costs import Cost, arrays_kept, known_size
from glassnet.layers.penalties import (
    Activity,
    attach_activity,
    regularizer_argument,
    weight_options,
)
from glassnet.layers.shapes import (
    check_sample_shape,
    normalize_input_shape,
    shapes_agree,
    show_shape,
)
from glassnet.layers.symbolic import (
    Node,
    flatten_structure,
    is_symbolic,
    output_tensors,
)
from glassnet.layers.weight import Weight
from glassnet.regularizers import Regularizer

__all__ = [
    "Layer",
    "Weight",
    "check_sample_shape",
    "normalize_input_shape",
    "registry",
]

registry = Registry("layer")


class Layer:
    """Base class of glassnet layers: see the module docstring for the protocol.

    Subclasses set ``params``/``grads`` (and ``state``) in :meth:`build` and implement
    :meth:`forward`, :meth:`backward`, :meth:`output_shape` and, if they have weights,
    :meth:`weight_shapes`.
    """

    #: Layers whose output is an activation function of a pre-activation ``z``
    #: (Dense, Activation) expose it so the model can fuse the output activation
    #: with a cross-entropy loss (see ``models/compiling.py``).
    has_output_activation: ClassVar[bool] = False
    #: True for layers called on a list of tensors (Add, Concatenate...).
    takes_list: ClassVar[bool] = False
    #: What the layer's input holds: "float" (cast to the model's dtype) or "int"
    #: (token ids, never cast to float at the boundary).
    input_kind: ClassVar[str] = "float"
    #: Keras' names of the weights that take a regularizer and a constraint
    #: (``kernel_regularizer``, ``bias_constraint``...): see ``layers/penalties.py``
    penalized_weights: ClassVar[tuple[str, ...]] = ()
    #: Keras' ``supports_masking``: the output keeps the input's mask (see
    #: :meth:`compute_mask`); a layer without it ends the mask, as in Keras
    supports_masking: ClassVar[bool] = False
    #: True for layers whose forward uses the input's mask: ``forward(..., mask=m)``
    #: (a class flag; TimeDistributed makes it a property of the wrapped layer)
    takes_mask: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _keras_build(cls.__dict__["build"])  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        name: str | None = None,
        input_shape: Any = None,
        input_dim: Any = None,
        trainable: bool = True,
        activity_regularizer: Any = None,
    ) -> None:
        self.name = auto_name(type(self).__name__) if name is None else check_name(name)
        self.declared_input_shape = normalize_input_shape(input_shape, input_dim)
        self._trainable = check_bool(trainable, "trainable")
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.state: dict[str, Array] = {}
        self.input_shape: Any = None
        self.built = False
        self._cache: Any = None
        #: the calls of this layer in functional graphs (see layers/symbolic.py)
        self.inbound_nodes: list[Node] = []
        #: "sequential/" when a Sequential model built this layer (Keras 3 paths)
        self.path_prefix = ""
        self._activity: Activity | None = None
        self.activity_regularizer = activity_regularizer

    # -- protocol ---------------------------------------------------------------
    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """The shape of every weight (params, then state) for ``input_shape``.

        Nothing is allocated: the file loaders ask this before building a model.
        """
        return {}

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Create the layer's weights for samples shaped ``input_shape``."""
        self.input_shape = (
            [tuple(s) for s in input_shape] if self.takes_list else tuple(input_shape)
        )
        self._dtype = np.dtype(dtype)
        self.built = True

    def forward(
        self, x: Any, *, training: bool = False, keep_cache: bool = False
    ) -> Any:
        """The layer's output for a batch ``x``; caches for backward when training."""
        raise NotImplementedError

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Any:
        """Given dL/d(output), fill ``self.grads`` and return dL/d(input)."""
        raise NotImplementedError

    def output_shape(self, input_shape: Any) -> Any:
        """The per-sample output shape for a per-sample ``input_shape``."""
        return tuple(input_shape)

    @property
    def multiple_outputs(self) -> bool:
        """Whether a call gives several outputs (see the module docstring)."""
        return False

    # -- masks (Keras' padding masks, see the module docstring) ---------------------
    @property
    def creates_mask(self) -> bool:
        """Whether this layer makes a mask from its input (Masking, Embedding with
        ``mask_zero=True``): a model carries masks only when one of its layers does."""
        return False

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The mask of the output, given the input(s) and their mask(s): Keras' rule,
        the input's mask when ``supports_masking``, else None.

        >>> import numpy as np
        >>> from glassnet.layers import Dense, Flatten
        >>> mask = np.array([[True, False]])
        >>> Dense(2).compute_mask(np.zeros((1, 2, 3)), mask), Flatten().compute_mask(None, mask)
        (array([[ True, False]]), None)
        """
        return mask if self.supports_masking else None

    # -- what the layer reports about itself (layers/costs.py) ---------------------
    def flops(self, input_shape: Any) -> Cost:
        """Operations of an inference forward pass on one sample, with the formula.

        The count is None when unknown; subclasses report their own.
        """
        return Cost(None, f"unknown for a {type(self).__name__} layer")

    def kept_activations(self, input_shape: Any) -> Cost:
        """Numbers a training forward pass keeps for backward, per sample.

        By default the output ``y`` alone; a layer whose cache keeps more (Dense's
        ``z``, Dropout's mask) or less (a view of its input) says so.
        """
        shapes = self.output_shape(input_shape)
        if not self.multiple_outputs:
            return arrays_kept(("y", known_size(shapes)))
        sizes = [known_size(shape) for shape in shapes]
        total = None if None in sizes else sum(size or 0 for size in sizes)
        return arrays_kept(("outputs", total))

    # -- the cache ----------------------------------------------------------------
    def cached(self) -> Any:
        """What the last caching forward pass kept, or a MissingForwardError."""
        if self._cache is None:
            raise MissingForwardError(
                f"Layer '{self.name}': backward() needs the values of a forward pass "
                "made with training=True (or keep_cache=True); the last forward pass "
                "kept none. Run forward first."
            )
        return self._cache

    # -- calling ------------------------------------------------------------------
    def __call__(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        """Run the layer on arrays, or record a call on symbolic tensors.

        On arrays the layer is built on first call (float32 weights from the session
        generator, see :func:`glassnet.utils.set_random_seed`) and returns its output,
        in inference mode unless ``training=True``; a layer that ``takes_mask`` uses
        ``mask`` (booleans, ``(batch, time)``: True where a step is real), the others
        ignore it, as in Keras. On symbolic tensors (from :func:`glassnet.Input`) it
        returns the symbolic output, for a functional :class:`glassnet.Model` (whose
        walk carries the masks).
        """
        if is_symbolic(inputs):
            if mask is not None:
                raise InvalidArgumentError(
                    f"Layer '{self.name}': a model makes its masks with layers "
                    "(Masking, or Embedding(mask_zero=True)) and carries them itself; "
                    "mask= is taken on arrays only. Received: mask on a symbolic call"
                )
            return self._call_symbolic(inputs)
        if training is not None:
            training = check_bool(training, "training")
        return self._call_eager(inputs, bool(training), mask)

    def _call_symbolic(self, inputs: Any, initial_state: Any = ()) -> Any:
        """Record a call on symbolic tensors; ``initial_state`` (symbolic tensors,
        checked by the caller) joins the node's inputs after ``inputs``."""
        tensors = flatten_structure(inputs)
        if self.takes_list != isinstance(inputs, (list, tuple)):
            wanted = "a list of tensors" if self.takes_list else "one tensor"
            raise GlassnetTypeError(
                f"Layer '{self.name}' ({type(self).__name__}) is called on {wanted}. "
                f"Received: {inputs!r}"
            )
        shapes = [t.sample_shape for t in tensors]
        shape = shapes if self.takes_list else shapes[0]
        dtype = tensors[0].dtype if tensors[0].dtype.kind == "f" else np.float32
        if self.built:
            self.check_input_shape(shape)
        out_shape = self.output_shape(shape)  # checks the shape before building
        if not self.built:
            self.build(shape, _random.generator(), dtype)
        node = Node(
            self, [*tensors, *initial_state], self.takes_list, len(initial_state)
        )
        out_dtype = self.output_dtype(dtype)
        result = output_tensors(node, out_shape, out_dtype, self.multiple_outputs)
        self.inbound_nodes.append(node)
        return result

    def _call_eager(
        self, inputs: Any, training: bool, mask: Any = None, initial_state: Any = None
    ) -> Any:
        """Build on first call, cast, run ``forward``; ``initial_state`` (arrays,
        checked by the caller) is cast to the layer's dtype and handed on."""
        arrays = [self._as_input_array(x) for x in flatten_structure(inputs)]
        if self.takes_list != isinstance(inputs, (list, tuple)):
            wanted = "a list of arrays" if self.takes_list else "one array"
            raise GlassnetTypeError(
                f"Layer '{self.name}' ({type(self).__name__}) is called on {wanted}. "
                f"Received: {type(inputs).__name__}"
            )
        shapes = [a.shape[1:] for a in arrays]
        shape = shapes if self.takes_list else shapes[0]
        if self.built:
            self.check_input_shape(shape)
            dtype = self.compute_dtype
        else:
            self.output_shape(shape)
            dtype = np.dtype(np.float32)  # Keras' default layer dtype
            self.build(shape, _random.generator(), dtype)
        if self.input_kind == "float":
            arrays = [a.astype(dtype, copy=False) for a in arrays]
        x = arrays if self.takes_list else arrays[0]
        options: dict[str, Any] = {}
        if mask is not None and self.takes_mask:
            options["mask"] = np.asarray(mask, bool)
        if initial_state is not None:
            options["initial_state"] = [
                self._as_input_array(s).astype(dtype, copy=False) for s in initial_state
            ]
        forward: Any = self.forward  # such layers take mask= and initial_state=
        return forward(x, training=training, **options)

    def _as_input_array(self, value: Any) -> Array:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or array.ndim < 1:
            raise GlassnetTypeError(
                f"Layer '{self.name}' must be called on numeric arrays with a batch "
                f"axis first. Received: an array of dtype {array.dtype} and shape "
                f"{array.shape}"
            )
        if array.dtype.kind == "f" and not all_finite(array):
            raise DataError(f"Layer '{self.name}' received NaN or inf in its input.")
        return array

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's first call (Keras' ``layer.output``;
        a tuple for a layer with several outputs)."""
        outputs = self._first_node("output").outputs
        return tuple(outputs) if len(outputs) > 1 else outputs[0]

    @property
    def input(self) -> Any:
        """The symbolic input(s) of the layer's first call (Keras' ``layer.input``)."""
        node = self._first_node("input")
        return list(node.inputs) if node.list_call else node.inputs[0]

    def _first_node(self, what: str) -> Node:
        if not self.inbound_nodes:
            raise InvalidArgumentError(
                f"Layer '{self.name}' has never been called on a symbolic tensor, so it "
                f"has no `{what}` yet. Call it on glassnet.Input(...) or add it to a "
                "built model first."
            )
        return self.inbound_nodes[0]

    def check_input_shape(self, shape: Any) -> None:
        """Refuse an input shape the built layer cannot take (wrong rank or width)."""
        expected = self.input_shape
        got = [tuple(s) for s in shape] if self.takes_list else tuple(shape)
        if expected is None or shapes_agree(expected, got):
            return
        raise ShapeError(
            f"Layer '{self.name}' was built for inputs shaped {show_shape(expected)} (per "
            f"sample) and cannot take inputs shaped {show_shape(got)}."
        )

    @property
    def compute_dtype(self) -> np.dtype:
        """The dtype of the layer's weights (float32 before it is built)."""
        for array in (*self.params.values(), *self.state.values()):
            return array.dtype
        return np.dtype(getattr(self, "_dtype", np.float32))

    def output_dtype(self, input_dtype: Any) -> np.dtype:
        """The dtype of the output for inputs of ``input_dtype`` (floats pass through)."""
        return np.dtype(input_dtype)

    # -- output activation fusion (Dense, Activation) -------------------------
    @property
    def output_activation(self) -> ActivationFunction | None:
        """The activation applied last by this layer, if it has one."""
        return None

    @property
    def logits(self) -> Array:
        """The pre-activation ``z`` of the last forward pass (fusable layers only)."""
        raise NotImplementedError(f"{type(self).__name__} has no pre-activation.")

    def backward_from_logits(
        self, grad_logits: Array, *, input_grad: bool = True
    ) -> Any:
        """Backward pass that starts at dL/dz, skipping the output activation."""
        raise NotImplementedError(f"{type(self).__name__} has no pre-activation.")

    # -- weights ------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        """Whether the optimizer may update this layer's parameters."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: Any) -> None:
        self._trainable = check_bool(value, "trainable")

    @property
    def weights(self) -> list[Weight]:
        """Every weight, Keras order: the parameters, then the non-trainable state."""
        return [Weight(self, key, "param") for key in self.params] + [
            Weight(self, key, "state") for key in self.state
        ]

    @property
    def trainable_weights(self) -> list[Weight]:
        """The parameters, when the layer is trainable."""
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Weight]:
        """The state, and the parameters of a frozen layer."""
        return [w for w in self.weights if not w.trainable]

    # -- regularizers and constraints (layers/penalties.py) ------------------------
    @property
    def activity_regularizer(self) -> Regularizer | None:
        """Penalizes the output: ``R(y) / batch_size`` joins the loss (any layer)."""
        return None if self._activity is None else self._activity.regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value: Any) -> None:
        attach_activity(self, regularizer_argument(value, "activity_regularizer"))

    def weight_regularizers(self) -> dict[str, Regularizer]:
        """The regularizer of each parameter that has one, by key (``{"W": L2()}``)."""
        return weight_options(self, "regularizer")

    def weight_constraints(self) -> dict[str, Constraint]:
        """The constraint of each parameter that has one, by key."""
        return weight_options(self, "constraint")

    @property
    def losses(self) -> list[float]:
        """The penalties now, as Keras' ``layer.losses``: the activity penalty of the
        last call, then ``R(w)`` for each regularized weight (if trainable)."""
        found = [] if self._activity is None else list(self._activity.losses)
        if self.trainable:
            found += [
                regularizer(self.params[key])
                for key, regularizer in self.weight_regularizers().items()
            ]
        return found

    def param_count(self, input_shape: Any) -> int:
        """How many numbers the weights hold for ``input_shape``, allocating nothing."""
        return sum(math.prod(s) for s in self.weight_shapes(input_shape).values())

    def count_params(self) -> int:
        """Number of scalars in every weight, trainable or not (the layer must be built)."""
        self._require_built("count_params")
        return int(sum(w.value.size for w in self.weights))

    def get_weights(self) -> list[Array]:
        """Copies of the weights in Keras order (kernel, bias; then state)."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: Any) -> None:
        """Replace every weight (same order and shapes as :meth:`get_weights`).

        Everything is checked before anything is written: a rejected call leaves the
        layer as it was.
        """
        self._require_built("set_weights")
        slots = self.weights
        if not isinstance(weights, (list, tuple)) or len(weights) != len(slots):
            count = len(weights) if isinstance(weights, (list, tuple)) else weights
            raise ShapeError(
                f"Layer '{self.name}'.set_weights expects a list of {len(slots)} arrays "
                f"({', '.join(w.name for w in slots)}). Received: {count!r:.80}"
            )
        arrays = [
            self._checked_weight(w, v) for w, v in zip(slots, weights, strict=True)
        ]
        for weight, array in zip(slots, arrays, strict=True):
            weight.value[...] = array

    def set_weight(self, key: str, value: Any) -> None:
        """Replace one weight in place, after checking its shape and values."""
        weight = next((w for w in self.weights if w.key == key), None)
        if weight is None:
            raise InvalidArgumentError(
                f"Layer '{self.name}' has no weight {key!r}. "
                f"Available: {[w.key for w in self.weights]}"
            )
        weight.value[...] = self._checked_weight(weight, value)

    def _checked_weight(self, weight: Weight, value: Any) -> Array:
        from glassnet._validation import as_float_array

        array = as_float_array(
            value,
            f"weights for {weight.path}",
            weight.dtype,
            min_ndim=0,
            allow_empty=True,
        )
        if array.shape != weight.shape:
            raise ShapeError(
                f"Weight '{weight.path}' has shape {weight.shape}. "
                f"Received: shape {array.shape}"
            )
        return array

    # -- configs ------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments."""
        config: dict[str, Any] = {"name": self.name}
        if not self.trainable:
            config["trainable"] = False
        if self.declared_input_shape is not None:
            config["input_shape"] = list(self.declared_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(
                self.activity_regularizer
            )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from :meth:`get_config` output.

        Every layer takes an ``activity_regularizer``, as in Keras: a class whose
        constructor does not list it gets it set after construction.
        """
        parameters = constructor_parameters(cls)
        if (
            "activity_regularizer" in config
            and "activity_regularizer" not in parameters
        ):
            config = dict(config)
            activity = config.pop("activity_regularizer")
            layer = cls(**config)
            layer.activity_regularizer = activity
            return layer
        return cls(**config)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise NotBuiltError(
                f"Layer '{self.name}' is not built yet, so `{what}` is not available. "
                "Call it on data, add it to a model with a known input shape, or call "
                "build(input_shape, rng)."
            )

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items() if k != "name"
        )
        return f"{type(self).__name__}({args})" if args else f"{type(self).__name__}()"


def _keras_build(build: Any) -> Any:
    """Let ``layer.build((None, 784))`` work as in Keras, beside the protocol's build.

    The protocol's ``build(input_shape, rng, dtype)`` takes a per-sample shape and
    the generator to draw from (a model hands its own). Called as Keras users do,
    with no generator, ``input_shape`` is Keras' full shape with the batch axis
    first; the batch axis is dropped and the weights come from the session
    generator, in float32, as a call on data would build them.
    """

    @functools.wraps(build)
    def keras_compatible(
        self: Layer, input_shape: Any, rng: Any = None, dtype: Any = np.float32
    ) -> None:
        if rng is None:
            if self.takes_list:
                input_shape = [tuple(s)[1:] for s in input_shape]
            else:
                input_shape = tuple(input_shape)[1:]
            self.output_shape(input_shape)
            rng = _random.generator()
        build(self, input_shape, rng, dtype)

    return keras_compatible
