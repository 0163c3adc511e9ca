"""``clone_model``: the same architecture, with new layers and freshly drawn weights.

As in Keras, cloning is like calling the model on new inputs, except that every
layer is replaced by a new one of the same class and config
(``type(layer).from_config(layer.get_config())``: same names, same settings,
``trainable`` included), so the clone's weights are new, initialized as the
originals were before training. Copy them with
``clone.set_weights(model.get_weights())`` when you want the trained values too.

- A **Sequential** model is rebuilt from its layers' configs, with the same input
  (shape, dtype and name), name, seed and dtype. A seeded model draws the same
  initial weights its original drew: same seed, same weights.
- A **functional** model is rebuilt by calling the new layers on new Inputs of the
  same shapes, dtypes and names, along the original graph. A layer called several
  times (shared weights) is cloned once, and its clone is called as many times, so
  it stays shared.
- A compiled model's clone is compiled the same way, with a new optimizer (no
  state): the same loss and loss weights, and metrics of the same kinds and
  settings with their own (empty) state.

>>> import numpy as np
>>> from glassnet import Input, Model
>>> from glassnet.layers import Add, Dense
>>> x = Input((3,), name="x")
>>> shared = Dense(3, name="shared")
>>> model = Model(x, Add(name="sum")([shared(x), shared(shared(x))]), name="demo")
>>> clone = clone_model(model)
>>> [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
True
>>> clone.get_layer("shared") is model.get_layer("shared")
False
>>> len(clone.weights)  # still one kernel and one bias: the clone is shared too
2
>>> clone.set_weights(model.get_weights())
>>> data = np.ones((2, 3), np.float32)
>>> bool(np.array_equal(clone.predict(data, verbose=0), model.predict(data, verbose=0)))
True
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers import Layer
from glassnet.layers.input_layer import Input, InputLayer
from glassnet.layers.symbolic import SymbolicTensor
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential

__all__ = ["clone_model"]


def _clone_layer(layer: Layer) -> Layer:
    """Keras' default: a new layer of the same class from the layer's config."""
    return type(layer).from_config(layer.get_config())


def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: Callable[[Layer], Layer] | None = None,
    call_function: Callable[..., Any] | None = None,
) -> Model:
    """A new model of ``model``'s architecture, with new layers and new weights.

    Parameters
    ----------
    model : Sequential or Model
        The model to clone (a Sequential model must be built or have a declared
        input shape for the clone to be built).
    input_tensors : SymbolicTensor or list of them, optional
        Inputs (from ``glassnet.Input``) to build the clone on, one per model input;
        new Inputs of the same shapes, dtypes and names by default.
    clone_function : callable, optional
        ``fn(layer) -> new layer``, called once per layer (InputLayers excepted);
        by default ``type(layer).from_config(layer.get_config())``.
    call_function : callable, optional
        ``fn(layer, inputs) -> outputs``, how each new layer is called on its
        inputs (functional models only), e.g. to insert a layer after some.

    Returns
    -------
    Sequential or Model
        The clone, compiled as ``model`` was (with a new optimizer) if it was.

    Examples
    --------
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(4, activation="relu", input_dim=2), Dense(1)], seed=0)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> clone = clone_model(model)
    >>> [type(layer).__name__ for layer in clone.layers], clone.compiled
    (['Dense', 'Dense'], True)
    >>> clone.optimizer is model.optimizer
    False
    """
    if not isinstance(model, Model):
        raise GlassnetTypeError(
            "clone_model expects a glassnet Sequential or functional Model. "
            f"Received: model={model!r:.80} ({type(model).__name__})"
        )
    if clone_function is not None and not callable(clone_function):
        raise GlassnetTypeError(
            "Argument `clone_function` must be a callable taking a layer and returning "
            f"a new layer. Received: clone_function={clone_function!r:.80}"
        )
    if call_function is not None and not callable(call_function):
        raise GlassnetTypeError(
            "Argument `call_function` must be a callable fn(layer, inputs). "
            f"Received: call_function={call_function!r:.80}"
        )
    clones: dict[int, Layer] = {}

    def clone(layer: Layer) -> Layer:
        if id(layer) not in clones:
            new = (clone_function or _clone_layer)(layer)
            if not isinstance(new, Layer):
                raise GlassnetTypeError(
                    f"clone_function must return a glassnet Layer. Received for layer "
                    f"'{layer.name}': {new!r:.80} ({type(new).__name__})"
                )
            clones[id(layer)] = new
        return clones[id(layer)]

    if isinstance(model, Sequential):
        if call_function is not None:
            raise InvalidArgumentError(
                "Argument `call_function` works on functional models only: a "
                "Sequential model's layers are listed, not called. Received: "
                f"call_function={call_function!r:.80} for model '{model.name}'"
            )
        copy: Model = _clone_sequential(model, _inputs(model, input_tensors), clone)
    else:
        copy = _clone_functional(
            model, _inputs(model, input_tensors), clone, call_function
        )
    if not model.trainable:
        copy.trainable = False
    if model.compiled:
        _compile_like(copy, model)
    return copy


def _inputs(model: Model, input_tensors: Any) -> list[SymbolicTensor] | None:
    """The Inputs ``input_tensors`` gives, checked against the model's (or None)."""
    if input_tensors is None:
        return None
    tensors = (
        list(input_tensors)
        if isinstance(input_tensors, (list, tuple))
        else [input_tensors]
    )
    wanted = len(model.inputs) if model.graph is not None else 1
    if len(tensors) != wanted or not all(
        isinstance(t, SymbolicTensor) and isinstance(t.node.layer, InputLayer)
        for t in tensors
    ):
        raise InvalidArgumentError(
            f"Argument `input_tensors` must hold {wanted} tensor(s) made by "
            f"glassnet.Input(...), one per input of model '{model.name}'. "
            f"Received: input_tensors={input_tensors!r:.120}"
        )
    return tensors


def _clone_sequential(
    model: Sequential,
    inputs: list[SymbolicTensor] | None,
    clone: Callable[[Layer], Layer],
) -> Sequential:
    layers = [clone(layer) for layer in model.layers]
    copy = Sequential(name=model.name, seed=model.seed, dtype=model.dtype)
    if inputs is not None:
        copy.add(inputs[0])
    elif model.graph is not None and (
        not layers or layers[0].declared_input_shape is None
    ):
        source = model.graph.input_layers[0]
        copy.add(Input(source.sample_shape, dtype=source.dtype, name=source.name))
    for layer in layers:
        copy.add(layer)
    return copy


def _clone_functional(
    model: Model,
    inputs: list[SymbolicTensor] | None,
    clone: Callable[[Layer], Layer],
    call_function: Callable[..., Any] | None,
) -> Model:
    graph = model._require_graph("clone_model")
    if inputs is None:
        inputs = [
            Input(t.sample_shape, dtype=t.dtype, name=t.node.layer.name)
            for t in graph.inputs
        ]
    tensors: dict[int, SymbolicTensor] = {
        id(old): new for old, new in zip(graph.inputs, inputs, strict=True)
    }
    for step in graph.steps:
        layer = clone(step.layer)
        args = [tensors[id(t)] for t in step.node.inputs]
        call_args = args if step.list_call else args[0]
        # a recurrent call's initial states come last; several outputs, one each
        extra = {"initial_state": args[1:]} if step.state_inputs else {}
        if call_function is None:
            output = layer(call_args, **extra)
        else:
            output = call_function(layer, call_args, **extra)
        made = output if len(step.outputs) > 1 else [output]
        for old, new in zip(step.node.outputs, made, strict=True):
            tensors[id(old)] = new
    outputs = [tensors[id(t)] for t in graph.outputs]
    return Model(
        inputs if len(inputs) > 1 else inputs[0],
        outputs if len(outputs) > 1 else outputs[0],
        name=model.name,
        seed=model.seed,
    )


def _compile_like(copy: Model, model: Model) -> None:
    """Compile ``copy`` as ``model`` is: a new optimizer, the same loss, and metrics
    of the same kinds and settings with their own state (:func:`_fresh_metrics`)."""
    optimizer = model.optimizer
    assert optimizer is not None  # a compiled model has one
    fresh = type(optimizer).from_config(optimizer.get_config())
    if model.heads is not None:
        copy.compile(
            optimizer=fresh,
            loss=[head.loss for head in model.heads],
            metrics=[_fresh_metrics(head.metrics) for head in model.heads],
            loss_weights=[head.weight for head in model.heads],
            weighted_metrics=[
                _fresh_metrics(head.weighted_metrics) for head in model.heads
            ],
        )
    else:
        copy.compile(
            optimizer=fresh,
            loss=model.loss,
            metrics=_fresh_metrics(model.metrics),
            weighted_metrics=_fresh_metrics(model.weighted_metrics),
        )


def _fresh_metrics(metrics: Any) -> list[Any]:
    """Copies of ``metrics`` with their state reset: a metric object holds running
    sums, so one shared by a model and its clone would mix their batches (a clone
    trained in another thread, as Dask or Ray workers do, would corrupt both).
    ``deepcopy`` keeps every setting, a user's own Metric subclass's included."""
    copies = []
    for metric in metrics:
        twin = deepcopy(metric)
        twin.reset_state()
        copies.append(twin)
    return copies
