"""``Sequential``: a stack of layers with Keras' compile / fit / evaluate / predict."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from glassnet import losses, metrics, optimizers
from glassnet._typing import Array, Shape
from glassnet._validation import (
    as_float_array,
    check_bool,
    check_in_range,
    check_positive_int,
    check_seed,
    normalize_dtype,
)
from glassnet.callbacks import Callback, CallbackList, History, ProgressBar
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    NotBuiltError,
    NotCompiledError,
    ShapeError,
)
from glassnet.layers import Layer
from glassnet.layers import get as get_layer
from glassnet.losses import Loss
from glassnet.metrics import Metric
from glassnet.models.flat import FlatParameters, flatten_parameters
from glassnet.models.summary import print_summary
from glassnet.optimizers import Optimizer
from glassnet.training import fit_loop, predict_loop

__all__ = ["Sequential"]


class Sequential:
    """A linear stack of layers, trained with Keras' API.

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
        self.optimizer: Optimizer | None = None
        self.loss: Loss | None = None
        self.metrics: list[Metric] = []
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
        #: every parameter as a view into one buffer, once built (models/flat.py)
        self.flat: FlatParameters | None = None
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
        if not isinstance(layer, Layer):
            raise GlassnetTypeError(
                f"Sequential.add expects a glassnet Layer such as Dense(10). "
                f"Received: layer={layer!r} ({type(layer).__name__})"
            )
        if any(layer is existing for existing in self.layers):
            raise InvalidArgumentError(
                f"Layer '{layer.name}' is already in this model; create a new layer instead."
            )
        if layer.built and not self.layers:
            raise InvalidArgumentError(
                "This layer is already built (it belongs to another model); create a new one."
            )
        taken = {existing.name for existing in self.layers}
        if layer.name is None:
            layer.name = _unique_name(_snake_case(type(layer).__name__), taken)
        elif layer.name in taken:
            raise InvalidArgumentError(
                f"All layers in a Sequential model need unique names; '{layer.name}' "
                f"is already used. Received: name={layer.name!r}"
            )
        if layer.declared_input_shape is not None and self.layers:
            raise InvalidArgumentError(
                f"Only the first layer takes `input_dim`/`input_shape`; layer "
                f"'{layer.name}' declares {layer.declared_input_shape}."
            )
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
        shape = self._normalize_build_shape(input_shape)
        if self.built:
            if shape != self.input_shape:
                raise ShapeError(
                    f"The model is already built for input shape {_show(self.input_shape)}; "
                    f"it cannot be rebuilt for {_show(shape)}. Create a new model."
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
        """Hold all parameters and gradients in two flat buffers (models/flat.py)."""
        self.flat = flatten_parameters(self.layers, self.dtype)

    def _normalize_build_shape(self, input_shape: Any) -> Shape:
        if input_shape is None:
            first = self.layers[0].declared_input_shape if self.layers else None
            if first is None:
                raise InvalidArgumentError(
                    "build() needs an input shape, e.g. model.build((None, 2)), or give "
                    "the first layer input_dim=2."
                )
            return first
        if isinstance(input_shape, (int, np.integer)) and not isinstance(
            input_shape, bool
        ):
            input_shape = (input_shape,)
        if not isinstance(input_shape, (tuple, list)) or not input_shape:
            raise GlassnetTypeError(
                "Argument `input_shape` must be a tuple such as (None, 2). "
                f"Received: input_shape={input_shape!r}"
            )
        dims = list(input_shape)
        if len(dims) >= 2:
            dims = dims[1:]  # drop the batch axis
        return tuple(check_positive_int(d, "input_shape") for d in dims)

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

    # -- compile -----------------------------------------------------------------
    def compile(
        self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None
    ) -> None:
        """Choose the optimizer, the loss and the metrics reported during training.

        ``optimizer`` and ``loss`` take names (``"adam"``, ``"mse"``), config dicts or
        instances; ``metrics`` a list of names such as ``["accuracy"]``.
        """
        if loss is None:
            raise InvalidArgumentError(
                "compile() needs a loss, e.g. loss='mse' or loss='binary_crossentropy'."
            )
        resolved_loss = losses.get(loss)
        resolved_optimizer = optimizers.get(optimizer)
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
            raise GlassnetTypeError(
                "Argument `metrics` must be a list such as ['accuracy']. "
                f"Received: metrics={metrics!r}"
            )
        units = self._output_units()
        if resolved_loss is None:  # losses.get returns None only for None
            raise InvalidArgumentError("compile() needs a loss.")
        resolved_metrics = [metrics_get(m, resolved_loss, units) for m in metrics]
        names = [m.name for m in resolved_metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise InvalidArgumentError(
                f"Metric names must be unique and not 'loss'. Received: metrics={names}"
            )
        self.optimizer, self.loss, self.metrics = (
            resolved_optimizer,
            resolved_loss,
            resolved_metrics,
        )
        self.compiled = True

    def _output_units(self) -> int:
        for layer in reversed(self.layers):
            units = getattr(layer, "units", None)
            if isinstance(units, int):
                return units
        return 1

    def fused_loss(self, loss: Loss | None = None) -> Loss | None:
        """The logits form of the loss when the output activation fuses with it.

        sigmoid + binary cross-entropy and softmax + (sparse) categorical
        cross-entropy are computed from the pre-activation ``z``: the gradient at z
        is simply ``(p - y) / n``, exact where p(1 - p) would underflow.
        """
        loss = loss or self.loss
        if loss is None or not self.layers or loss.fused_activation is None:
            return None
        if getattr(loss, "from_logits", True):
            return None
        activation = self.layers[-1].output_activation
        if activation is None or activation.name != loss.fused_activation:
            return None
        if activation.get_config().get("axis", -1) != -1:
            return None
        config = dict(loss.get_config(), from_logits=True)
        return type(loss).from_config(config)

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

    # -- data checks -----------------------------------------------------------------
    def _check_x(self, x: Any, name: str = "x") -> Array:
        array = as_float_array(x, name, self.dtype, min_ndim=1)
        expected = self.input_shape or (
            self.layers[0].declared_input_shape if self.layers else None
        )
        if array.ndim == 1:
            hint = (
                f"reshape({name}, (-1, 1)) for one feature"
                if expected == (1,)
                else f"{name}.reshape(1, -1) for a single sample"
            )
            raise ShapeError(
                f"Argument `{name}` must be 2-D (samples, features). Received: "
                f"{name}.shape={array.shape}. Use {hint}."
            )
        if expected is not None and array.shape[1:] != expected:
            raise ShapeError(
                f"Argument `{name}` has {_show(array.shape[1:])} features per sample but the "
                f"model was built for {_show(expected)}. Received: {name}.shape={array.shape}"
            )
        return array

    def _check_xy(
        self, x: Any, y: Any, x_name: str = "x", y_name: str = "y"
    ) -> tuple[Array, Array]:
        assert self.loss is not None
        x_arr = self._check_x(x, x_name)
        if not self.layers:
            raise InvalidArgumentError(
                "The model has no layers; add some before training."
            )
        out_shape = self.compute_output_shape(x_arr.shape[1:])
        y_arr = self.loss.validate_targets(y, out_shape, y_name, dtype=self.dtype)
        if len(y_arr) != len(x_arr):
            raise DataError(
                f"`{x_name}` and `{y_name}` must have the same number of samples. "
                f"Received: {len(x_arr)} and {len(y_arr)}"
            )
        return x_arr, y_arr

    def require_compiled(self, what: str) -> tuple[Optimizer, Loss]:
        """The optimizer and loss, or a NotCompiledError naming ``what``."""
        if not self.compiled or self.optimizer is None or self.loss is None:
            raise NotCompiledError(
                f"You must compile the model before calling {what}(): e.g. "
                "model.compile(optimizer='sgd', loss='mse')."
            )
        return self.optimizer, self.loss

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
        initial_epoch: int = 0,
    ) -> History:
        """Train with mini-batch gradient descent; returns a :class:`History`.

        ``batch_size=len(x)`` is batch gradient descent, ``batch_size=1`` stochastic
        gradient descent. ``validation_split`` holds out the *last* share of the
        samples (before shuffling), as Keras does; ``validation_data`` wins over it.
        """
        self.require_compiled("fit")
        batch_size = (
            32 if batch_size is None else check_positive_int(batch_size, "batch_size")
        )
        epochs = check_positive_int(epochs, "epochs")
        if (
            isinstance(initial_epoch, bool)
            or not isinstance(initial_epoch, int)
            or not 0 <= initial_epoch < epochs
        ):
            raise InvalidArgumentError(
                "Argument `initial_epoch` must be an integer in [0, epochs). "
                f"Received: initial_epoch={initial_epoch!r}"
            )
        verbose = _check_verbose(verbose)
        shuffle = check_bool(shuffle, "shuffle")
        split = check_in_range(validation_split, "validation_split", 0.0, 1.0)
        x_arr, y_arr = self._check_xy(x, y)
        validation = None
        if validation_data is not None:
            if (
                not isinstance(validation_data, (tuple, list))
                or len(validation_data) != 2
            ):
                raise GlassnetTypeError(
                    "Argument `validation_data` must be a tuple (x_val, y_val)."
                )
            x_val, y_val = validation_data
            validation = self._check_xy(x_val, y_val, x_name="x_val", y_name="y_val")
        elif split > 0:
            cut = int(np.floor(len(x_arr) * (1.0 - split)))
            if cut == 0 or cut == len(x_arr):
                raise DataError(
                    f"validation_split={split} of {len(x_arr)} samples leaves no training "
                    "or no validation samples."
                )
            validation = (x_arr[cut:], y_arr[cut:])
            x_arr, y_arr = x_arr[:cut], y_arr[:cut]
        user_callbacks = list(callbacks or [])
        for callback in user_callbacks:
            if not isinstance(callback, Callback):
                raise GlassnetTypeError(
                    f"Every callback must be a glassnet Callback. Received: {callback!r}"
                )
        if not self.built:
            self.build((None, *x_arr.shape[1:]))
        history = History()
        chain = [*user_callbacks, history]
        if verbose:
            chain.append(ProgressBar(verbose))
        callback_list = CallbackList(chain)
        callback_list.set_model(self)
        callback_list.set_params(
            {
                "epochs": epochs,
                "samples": len(x_arr),
                "batch_size": batch_size,
                "verbose": verbose,
                "steps": -(-len(x_arr) // batch_size),
            }
        )
        self.stop_training = False
        self.history = history
        return fit_loop(
            self,
            x_arr,
            y_arr,
            batch_size=batch_size,
            epochs=epochs,
            shuffle=shuffle,
            validation=validation,
            callbacks=callback_list,
            history=history,
            initial_epoch=initial_epoch,
        )

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        return_dict: bool = False,
    ) -> Any:
        """Loss (and metrics) on ``(x, y)`` in inference mode.

        Returns the loss alone when no metrics were compiled, else
        ``[loss, metric, ...]``, or a dict with ``return_dict=True``.
        """
        self.require_compiled("evaluate")
        self.built_input_shape()
        batch_size = (
            32 if batch_size is None else check_positive_int(batch_size, "batch_size")
        )
        verbose = _check_verbose(verbose)
        x_arr, y_arr = self._check_xy(x, y)
        from glassnet.training import compute_logs

        logs = compute_logs(self, y_arr, predict_loop(self, x_arr, batch_size, verbose))
        if verbose:
            from glassnet.callbacks import format_logs

            print(format_logs(logs))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: Any = "auto"
    ) -> Array:
        """Outputs for ``x`` (inference mode: dropout off), in batches."""
        self.built_input_shape()
        batch_size = (
            32 if batch_size is None else check_positive_int(batch_size, "batch_size")
        )
        verbose = _check_verbose(verbose)
        return predict_loop(self, self._check_x(x), batch_size, verbose)

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
    ) -> None:
        """Print the layers, their output shapes and parameter counts (Keras layout).

        ``explain=True`` adds, under each layer, how its parameter count is formed
        (``2 x 10 + 10 = 30``), its forward FLOPs per sample and its memory
        (conventions in ``glassnet.models.summary``).
        """
        self.built_input_shape()
        explain = check_bool(explain, "explain")
        print_summary(self, line_length or 65, print_fn, explain=explain)

    # -- configs -------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """JSON-able architecture: name, dtype, seed and each layer's config."""
        return {
            "name": self.name,
            "dtype": self.dtype.name,
            "seed": self.seed,
            "layers": [
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
            "build_input_shape": None
            if self.input_shape is None
            else [None, *self.input_shape],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], dtype: Any = None) -> Sequential:
        """Rebuild an (untrained) model from :meth:`get_config` output."""
        model = cls(
            name=config.get("name"),
            seed=config.get("seed"),
            dtype=dtype or config.get("dtype", "float32"),
        )
        for spec in config.get("layers", []):
            model.add(get_layer(spec))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A copied model (copy.deepcopy, or joblib handing it to a worker process)
        # gets independent copies of what were views into its flat buffer: rebuild
        # the buffer so the layers and the optimizer share one array again.
        self.__dict__.update(state)
        if self.built:
            self._flatten()

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self.layers)} built={self.built}>"

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


def metrics_get(identifier: Any, loss: Loss, units: int) -> Metric:
    """Resolve one entry of ``compile(metrics=...)``."""
    return metrics.get(identifier, loss, units)


def _check_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise InvalidArgumentError(
            f"Argument `verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}"
        )
    return int(verbose)


def _snake_case(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name)
    return out.lstrip("_")


def _unique_name(base: str, taken: set[str | None]) -> str:
    if base not in taken:
        return base
    index = 1
    while f"{base}_{index}" in taken:
        index += 1
    return f"{base}_{index}"


def _show(shape: Shape | None) -> str:
    return str(tuple(shape)) if shape is not None else "unknown"
