"""``Model``: Keras' functional models, and the training API every model shares.

``Model(inputs, outputs)`` holds the graph that layer calls on symbolic tensors
recorded (``models/graph.py``); :class:`~glassnet.models.Sequential` is a ``Model``
whose graph is a chain. The API here (compile, fit, evaluate, predict, summary) is
the same for both. What ``fit`` and friends check is in ``models/data_checks.py``,
what ``compile`` resolves in ``models/compiling.py``, and the loops themselves in
:mod:`glassnet.training`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import optimizers
from glassnet._naming import auto_name
from glassnet._typing import Array, Shape
from glassnet._validation import check_bool, refuse_masked
from glassnet.callbacks import Callback, History
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
    NotCompiledError,
    ShapeError,
)
from glassnet.layers.symbolic import (
    Node,
    SymbolicTensor,
    flatten_structure,
    is_symbolic,
)
from glassnet.losses import Loss
from glassnet.metrics import Metric
from glassnet.models.building import check_activation_ranks
from glassnet.models.compiling import fused_logits_loss, resolve_compile_arguments
from glassnet.models.data_checks import check_inputs
from glassnet.models.graph import Graph, flatten_io
from glassnet.models.network import Network
from glassnet.models.outputs import OutputHead, resolve_heads
from glassnet.models.summary import print_summary
from glassnet.optimizers import Optimizer

__all__ = ["Functional", "Model"]


def _training_api() -> Any:
    """The seam to the training loops (:mod:`glassnet.models.training_api`, and
    :mod:`glassnet.models.evaluation_api` for evaluate, predict and the batches).

    fit, evaluate, predict and the ``*_on_batch`` methods live in the modules above
    the models (the loops, the callbacks, the data adapters), which import the
    models; importing them when first called keeps ``glassnet.models`` importable
    on its own, as ``save`` does with :mod:`glassnet.io`.
    """
    from glassnet.models import evaluation_api, training_api

    return training_api, evaluation_api


class Model(Network):
    """A functional model: the graph from ``inputs`` to ``outputs``, trained with Keras' API.

    Build it by calling layers on symbolic tensors, starting from
    :func:`glassnet.Input`: any directed acyclic graph, with branches, merges and
    shared layers (a layer called twice is one layer with one set of weights).
    The layers were built when they were called, drawing their weights from the
    session generator (seed it with :func:`glassnet.utils.set_random_seed`).

    Parameters
    ----------
    inputs : SymbolicTensor or list of them
        What ``glassnet.Input(...)`` returned.
    outputs : SymbolicTensor or list of them
        The results of layer calls on the inputs.
    name : str, optional
        Keras' automatic ``functional``, ``functional_1``... when omitted.
    seed : int, optional
        Seeds the model's generator: per-epoch shuffles (not the initial weights).

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import Input, Model
    >>> from glassnet.layers import Dense, Concatenate
    >>> inputs = Input((4,))
    >>> wide = Dense(3, activation="relu")(inputs)
    >>> deep = Dense(3, activation="relu")(Dense(8, activation="relu")(inputs))
    >>> outputs = Dense(1, activation="sigmoid")(Concatenate()([wide, deep]))
    >>> model = Model(inputs, outputs, seed=0)
    >>> model.count_params()  # 4*3+3 + 4*8+8 + 8*3+3 + 6*1+1
    89
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")
    >>> history = model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=2, verbose=0)
    >>> model.predict(np.ones((2, 4)), verbose=0).shape
    (2, 1)
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # Keras' Model(inputs, outputs) is an instance of its Functional class, which
        # summaries and configs name; glassnet does the same.
        return super().__new__(Functional if cls is Model else cls)

    def __init__(
        self,
        inputs: Any = None,
        outputs: Any = None,
        name: str | None = None,
        *,
        seed: int | None = None,
    ) -> None:
        input_list, _ = flatten_io(inputs, "inputs")
        output_list, _ = flatten_io(outputs, "outputs")
        graph = Graph(input_list, output_list)
        for step in graph.steps:
            check_activation_ranks(step.layer, step.node.outputs[0].sample_shape)
        floats = [t.dtype for t in output_list if t.dtype.kind == "f"]
        dtype = floats[0] if floats else np.dtype("float32")
        super().__init__(
            name=auto_name("Functional") if name is None else name,
            seed=seed,
            dtype=dtype,
        )
        self._init_training_state()
        self.graph = graph
        if any(t.dtype != dtype and t.dtype.kind == "f" for t in output_list):
            raise InvalidArgumentError(
                "All outputs of a model must have one float dtype. Received: "
                f"{[t.dtype.name for t in output_list]}"
            )
        self.input_shape = (
            graph.inputs[0].sample_shape if len(graph.inputs) == 1 else None
        )
        self.built = True
        self._flatten()

    def _init_training_state(self) -> None:
        self.optimizer: Optimizer | None = None
        self.loss: Loss | None = None
        self.metrics: list[Metric] = []
        #: the metrics given sample weights (``compile(weighted_metrics=...)``)
        self.weighted_metrics: list[Metric] = []
        self.compiled = False
        #: loss, metrics and weight per output (several outputs only), from compile
        self.heads: list[OutputHead] | None = None
        self.stop_training = False
        self.history: History | None = None

    # -- shapes ------------------------------------------------------------------------
    @property
    def output_shape(self) -> Any:
        """Keras' output shape, batch axis first: ``(None, 10)`` (a list for several)."""
        shapes = [t.shape for t in self._require_graph("output_shape").outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_output_shape(
        self, input_shape: Shape, upto: int | None = None
    ) -> Shape:
        """Per-sample output shape for a per-sample input shape (one-input models)."""
        graph = self._require_graph("compute_output_shape")
        shapes: list[Any] = [None] * len(graph.slots)
        shapes[graph.input_slots[0]] = tuple(input_shape)
        for slot, tensor in zip(graph.input_slots[1:], graph.inputs[1:], strict=True):
            shapes[slot] = tensor.sample_shape
        for step in graph.steps:
            args = [shapes[s] for s in step.inputs]
            layer = step.layer
            if isinstance(layer, Model):  # a model inside: its own graph's shapes
                shapes[step.output] = layer.compute_output_shape(args[0])
            else:  # a list of shapes for a call with several outputs
                shape = layer.output_shape(args if step.list_call else args[0])
                several = layer.multiple_outputs
                step.store(shapes, [*map(tuple, shape)] if several else tuple(shape))
        return tuple(shapes[graph.output_slots[0]])

    # -- compile -----------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        weighted_metrics: Any = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics reported during training.

        ``optimizer`` and ``loss`` take names (``"adam"``, ``"mse"``), config dicts or
        instances; ``metrics`` a list of names, classes or instances such as
        ``["accuracy", "auc", glassnet.metrics.Precision(thresholds=0.7)]``
        (see :mod:`glassnet.metrics`); ``weighted_metrics`` likewise, metrics given
        ``sample_weight`` or ``class_weight`` (``models/compiled_metrics.py``). A
        model with several outputs takes a loss, metrics and ``loss_weights`` per
        output, as a list or a dict keyed by output name, and an output may have no
        loss (None, or left out of the dict; see ``models/outputs.py``).
        """
        graph = self.graph
        if graph is not None and len(graph.outputs) > 1:
            resolved_optimizer = optimizers.get(optimizer)
            heads = resolve_heads(self, loss, metrics, loss_weights, weighted_metrics)
            self.optimizer, self.heads = resolved_optimizer, heads
            self.loss = next(h.loss for h in heads if h.loss is not None)
            self.metrics, self.weighted_metrics = [], []
            self.compiled = True
            return
        if loss_weights is not None:
            raise InvalidArgumentError(
                "Argument `loss_weights` weighs the losses of a model with several "
                f"outputs; model '{self.name}' has one. Received: {loss_weights!r}"
            )
        resolved = resolve_compile_arguments(
            optimizer, loss, metrics, self._output_layers(), weighted_metrics
        )
        self.optimizer, self.loss, self.metrics, self.weighted_metrics = resolved
        self.heads = None
        self.compiled = True

    def require_compiled(self, what: str) -> tuple[Optimizer, Loss]:
        """The optimizer and loss, or a NotCompiledError naming ``what``."""
        if not self.compiled or self.optimizer is None or self.loss is None:
            raise NotCompiledError(
                f"You must compile the model before calling {what}(): e.g. "
                "model.compile(optimizer='sgd', loss='mse')."
            )
        return self.optimizer, self.loss

    @property
    def output_layer(self) -> Any:
        """The layer that makes the (first) output."""
        return self._require_graph("output_layer").outputs[0].node.layer

    def _output_layers(self) -> list[Any]:
        """The layers whose last one makes the output (for compile's checks)."""
        return self.layers if self.graph is None else [self.output_layer]

    def fused_loss(self, loss: Loss | None = None) -> Loss | None:
        """The logits form of the loss when the output activation fuses with it.

        sigmoid + binary cross-entropy and softmax + (sparse) categorical
        cross-entropy are computed from the pre-activation ``z``: the gradient at z
        is simply ``(p - y) / n``, exact where p(1 - p) would underflow.
        """
        graph = self._require_graph("fit")
        output = graph.outputs[0]
        if len(graph.consumers(output)) or output.node.layer in graph.input_layers:
            return None  # the output also feeds another layer: keep the plain gradient
        if sum(node.layer is output.node.layer for node in graph.nodes) > 1:
            return None  # a shared output layer: its logits are not one call's
        return fused_logits_loss(loss or self.loss, [output.node.layer])

    # -- Keras API -------------------------------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: Any = 1,
    ) -> History:
        """Train with mini-batch gradient descent; returns a :class:`History`.

        ``batch_size=len(x)`` is batch gradient descent, ``batch_size=1`` stochastic
        gradient descent. ``validation_split`` holds out the *last* share of the
        samples (before shuffling), as Keras does; ``validation_data`` (``(x_val,
        y_val)`` or ``(x_val, y_val, sample_weight_val)``, or a generator or
        PyDataset) wins over it, evaluated after every epoch, or every
        ``validation_freq``-th epoch (an int), or after the epochs listed (e.g.
        ``[1, 5, 10]``, counted from 1). ``sample_weight`` (one weight per sample) and
        ``class_weight`` (``{class: weight}``) weigh the loss and the metrics as
        Keras 3 does (see :mod:`glassnet.models.sample_weights`). ``x`` may also be
        a :class:`glassnet.utils.PyDataset` or any iterable of ``(x, y)`` /
        ``(x, y, sample_weight)`` batches (a generator, a DataLoader), with
        ``steps_per_epoch`` batches per epoch (see :mod:`glassnet.data_adapters`).
        The work is in :mod:`glassnet.models.training_api`.
        """
        refuse_masked(sample_weight, "sample_weight")  # x and y: data_checks.py
        return _training_api()[0].fit(
            self,
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            class_weight=class_weight,
            sample_weight=sample_weight,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            validation_batch_size=validation_batch_size,
            validation_freq=validation_freq,
        )

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list[Callback] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss (and metrics) on ``(x, y)`` in inference mode.

        Returns the loss alone when no metrics were compiled, else
        ``[loss, metric, ...]``, or a dict with ``return_dict=True``. ``callbacks``
        get the test hooks (``on_test_begin``, ``on_test_batch_end`` with the
        running logs, ...).
        """
        refuse_masked(sample_weight, "sample_weight")
        return _training_api()[1].evaluate(
            self,
            x,
            y,
            batch_size=batch_size,
            verbose=verbose,
            sample_weight=sample_weight,
            steps=steps,
            callbacks=callbacks,
            return_dict=return_dict,
        )

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list[Callback] | None = None,
    ) -> Array:
        """Outputs for ``x`` (inference mode: dropout off), in batches.

        An unbuilt model is built for ``x`` first, as ``fit`` does. ``callbacks``
        get the predict hooks (``on_predict_batch_end`` with ``{"outputs": ...}``).
        """
        return _training_api()[1].predict(
            self,
            x,
            batch_size=batch_size,
            verbose=verbose,
            steps=steps,
            callbacks=callbacks,
        )

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict[int, float] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One gradient step on one batch; returns its loss (and metrics), as Keras.

        The values are the batch's own (the metrics start from zero each call),
        from the predictions made before the update.

        >>> import numpy as np
        >>> from glassnet.models import Sequential
        >>> from glassnet.layers import Dense
        >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> logs = model.train_on_batch(np.ones((4, 1)), np.ones((4, 1)), return_dict=True)
        >>> sorted(logs)
        ['loss', 'mae']
        """
        refuse_masked(sample_weight, "sample_weight")
        return _training_api()[1].train_batch(
            self, x, y, sample_weight, class_weight, return_dict
        )

    def test_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        return_dict: bool = False,
    ) -> Any:
        """The loss (and metrics) of one batch in inference mode, as Keras.

        >>> import numpy as np
        >>> from glassnet.models import Sequential
        >>> from glassnet.layers import Dense
        >>> model = Sequential([Dense(1, input_dim=1, kernel_initializer="zeros")])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> model.test_on_batch(np.ones((2, 1)), np.full((2, 1), 3.0))
        9.0
        """
        refuse_masked(sample_weight, "sample_weight")
        return _training_api()[1].evaluate_batch(self, x, y, sample_weight, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch, in one forward pass (inference mode).

        >>> import numpy as np
        >>> from glassnet.models import Sequential
        >>> from glassnet.layers import Dense
        >>> model = Sequential([Dense(2, input_dim=3)], seed=0)
        >>> model.predict_on_batch(np.ones((4, 3))).shape
        (4, 2)
        """
        return _training_api()[1].predict_batch(self, x)

    def __call__(self, x: Any, training: Any = False) -> Any:
        """The output for ``x`` in one pass, like ``predict`` without batches or progress.

        ``training=True`` runs dropout and batch statistics as in training (nothing
        is kept for a backward pass). On symbolic tensors, the model is used as a
        layer of a bigger model (its weights shared with it), as in Keras;
        ``training=False`` there keeps it in inference mode in every pass (Keras'
        transfer-learning idiom: BatchNormalization keeps its moving statistics).
        """
        if is_symbolic(x):
            return self._call_symbolic(x, training)
        training = check_bool(training, "training")
        x_arr = self._checked_and_built(x)
        if self.overflow_guard:
            with np.errstate(over="ignore"):
                return self.forward(x_arr, training=training)
        return self.forward(x_arr, training=training)

    def _call_symbolic(self, inputs: Any, training: Any) -> SymbolicTensor:
        """Record a call of this whole model on symbolic tensors (a nested model)."""
        graph = self._require_graph("__call__")
        if len(graph.outputs) != 1:
            raise InvalidArgumentError(
                f"Model '{self.name}' has {len(graph.outputs)} outputs; a model used "
                "inside another model must have one output (for now)."
            )
        tensors = flatten_structure(inputs)
        if len(tensors) != len(graph.inputs):
            raise GlassnetTypeError(
                f"Model '{self.name}' takes {len(graph.inputs)} input(s). "
                f"Received: {len(tensors)} tensor(s)"
            )
        for tensor, expected in zip(tensors, graph.inputs, strict=True):
            got, want = tensor.sample_shape, expected.sample_shape
            if len(got) != len(want) or any(
                g is not None and w is not None and g != w
                for g, w in zip(got, want, strict=True)
            ):
                raise ShapeError(
                    f"Model '{self.name}' expects inputs shaped {want} (per sample). "
                    f"Received: {got}"
                )
        node = Node(self, tensors, list_call=len(tensors) > 1)  # type: ignore[arg-type]
        if training is not None:
            node.training = check_bool(training, "training")
        out = graph.outputs[0]
        node.outputs = [SymbolicTensor(out.shape, out.dtype, node)]
        self.inbound_nodes.append(node)
        return node.outputs[0]

    def _checked_and_built(self, x: Any) -> Any:
        """``x`` checked against the model's inputs; an unbuilt model is built for it."""
        x_arr = check_inputs(self, x)
        if not self.built:
            first = x_arr[0] if isinstance(x_arr, list) else x_arr
            self.build((None, *first.shape[1:]))
        return x_arr

    def build(self, input_shape: Any = None) -> None:
        """A functional model is built when it is made; same-shape calls do nothing."""
        self._require_graph("build")

    def predict_classes(self, x: Any, batch_size: int = 32, verbose: Any = 0) -> Array:
        """Class predictions, as Keras 2 made them.

        Several outputs: the arg-max per row, shape (n,). One output: 1 where the
        output is above 0.5 (above 0 when the compiled loss takes logits), as int32
        of shape (n, 1).
        """
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        threshold = 0.0 if getattr(self.loss, "from_logits", False) else 0.5
        return (proba > threshold).astype("int32")

    def summary(
        self,
        line_length: int | None = None,
        print_fn: Callable[[str], object] | None = None,
        explain: bool = False,
        show_trainable: bool = False,
    ) -> None:
        """Print the layers, their output shapes and parameter counts (Keras layout).

        A functional model's table has Keras' "Connected to" column.
        ``explain=True`` adds, under each layer, how its parameter count is formed
        (``2 x 10 + 10 = 30``), its forward FLOPs per sample and its memory;
        ``show_trainable=True`` whether each layer trains (see
        ``glassnet.models.summary``).
        """
        print_summary(self, line_length, print_fn, explain, show_trainable)

    # -- configs -----------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The model in Keras 3's functional layout: its layers and their calls.

        ``name``, ``trainable``, ``seed``, ``layers`` (each with its class, its own
        ``get_config()``, its name and ``inbound_nodes``: the calls made on it, by
        the tensors they take) and the ``input_layers``/``output_layers`` tensors,
        each ``[layer name, node index, 0]``. See
        :mod:`glassnet.models.functional_config`.

        >>> from glassnet import Input, Model
        >>> from glassnet.layers import Add, Dense
        >>> x = Input((2,), name="x")
        >>> shared = Dense(2, name="shared")
        >>> model = Model(x, Add(name="sum")([shared(x), shared(shared(x))]))
        >>> [(e["name"], len(e["inbound_nodes"])) for e in model.get_config()["layers"]]
        [('x', 0), ('shared', 3), ('sum', 1)]
        >>> model.get_config()["output_layers"]
        ['sum', 0, 0]
        """
        from glassnet.models.functional_config import graph_config

        return graph_config(self)

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None
    ) -> Model:
        """Rebuild a model (new weights) from :meth:`get_config` output.

        The layers are created from their configs and called as the config says,
        which builds them (from the session generator, as when the model was first
        made). ``custom_objects`` maps class names to your own layer classes.
        Files go through :func:`glassnet.models.model_from_json` and
        :func:`glassnet.models.load_model`, which also read Keras' spelling.

        >>> from glassnet import Input, Model
        >>> from glassnet.layers import Dense
        >>> x = Input((3,))
        >>> model = Model(x, Dense(1)(x), name="tiny")
        >>> copy = Model.from_config(model.get_config())
        >>> copy.name, copy.count_params()
        ('tiny', 4)
        """
        from glassnet.layers import registry
        from glassnet.layers.base import Layer
        from glassnet.models.graph_plan import call_layers, read_graph_config

        plan = read_graph_config(config)
        layers = {
            name: registry.get(
                {"class_name": entry["class_name"], "config": entry.get("config", {})},
                base=Layer,
                custom_objects=custom_objects,
            )
            for name, entry in plan.entries.items()
        }
        inputs, outputs = call_layers(plan, layers)
        model = cls(inputs, outputs, name=config.get("name"), seed=config.get("seed"))
        # the model's own flag, as saved: the layers' flags came with their configs
        model._trainable = check_bool(config.get("trainable", True), "trainable")
        return model

    # -- files (glassnet.io) -------------------------------------------------------
    def to_json(self, **json_kwargs: Any) -> str:
        """The architecture as JSON in Keras' layout (see :mod:`glassnet.io`)."""
        from glassnet.io import model_to_json

        return model_to_json(self, **json_kwargs)

    def save(
        self,
        filepath: Any,
        overwrite: bool = True,
        include_optimizer: bool = True,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Save everything to ``.keras`` (or legacy ``.h5``): see ``glassnet.io``."""
        from glassnet.io import save_model

        save_model(self, filepath, overwrite, include_optimizer, metadata=metadata)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights to ``.weights.h5``, ``.h5`` or ``.safetensors``."""
        from glassnet.io import save_weights

        save_weights(self, filepath, overwrite)

    def load_weights(self, filepath: Any, *, allow_nonfinite: bool = False) -> None:
        """Load weights saved by glassnet or Keras; unchanged if the file is refused."""
        from glassnet.io import load_weights

        load_weights(self, filepath, allow_nonfinite=allow_nonfinite)

    def export_html(self, path: Any, **options: Any) -> None:
        """Write the model as one offline, interactive HTML page: see ``glassnet.web``.

        ``options`` are :func:`glassnet.web.export_html`'s (``data``,
        ``feature_names``, ``class_names``, ``task``, ``domain``, ``title``,
        ``overwrite``).

        >>> import os, tempfile
        >>> from glassnet.models import Sequential
        >>> from glassnet.layers import Dense
        >>> model = Sequential([Dense(1, activation="sigmoid", input_dim=2)], seed=0)
        >>> model.export_html(os.path.join(tempfile.mkdtemp(), "net.html"))
        """
        from glassnet.web import export_html

        export_html(self, path, **options)


class Functional(Model):
    """The class of what ``Model(inputs, outputs)`` makes, as in Keras 3.

    >>> from glassnet import Input, Model
    >>> from glassnet.layers import Dense
    >>> x = Input((2,))
    >>> Model(x, Dense(1)(x), name="tiny")
    <Functional name='tiny' inputs=1 outputs=1 layers=2>
    """

    def __repr__(self) -> str:
        graph = self._require_graph("repr")
        return (
            f"<Functional name={self.name!r} inputs={len(graph.inputs)} "
            f"outputs={len(graph.outputs)} layers={len(graph.layers)}>"
        )
