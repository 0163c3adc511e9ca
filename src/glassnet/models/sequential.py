"""``Sequential``: a stack of layers with Keras' compile / fit / evaluate / predict.

This module is the Keras API: compile, fit, evaluate, predict, summary, configs and
files. The network underneath (adding and building layers, weights, forward and
backward) is the base class :class:`~glassnet.models.layer_stack.LayerStack`. What
``fit`` and friends check is in ``models/data_checks.py``, what ``compile`` resolves
in ``models/compiling.py``, and the loops themselves in :mod:`glassnet.training`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet._typing import Array
from glassnet._validation import check_bool, check_in_range, check_positive_int
from glassnet.callbacks import Callback, CallbackList, History, ProgressBar, format_logs
from glassnet.errors import NotCompiledError
from glassnet.layers import Layer
from glassnet.layers import get as get_layer
from glassnet.losses import Loss
from glassnet.metrics import Metric
from glassnet.models.compiling import fused_logits_loss, resolve_compile_arguments
from glassnet.models.data_checks import (
    check_batch_size,
    check_callbacks,
    check_initial_epoch,
    check_inputs,
    check_inputs_and_targets,
    check_verbose,
    split_validation,
)
from glassnet.models.layer_stack import LayerStack
from glassnet.models.summary import print_summary
from glassnet.optimizers import Optimizer
from glassnet.training import compute_logs, fit_loop, predict_loop

__all__ = ["Sequential"]


class Sequential(LayerStack):
    """A linear stack of layers, trained with Keras' API.

    Building, weights and the forward and backward passes come from
    :class:`~glassnet.models.layer_stack.LayerStack`.

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
        super().__init__(layers, name=name, seed=seed, dtype=dtype)
        self.optimizer: Optimizer | None = None
        self.loss: Loss | None = None
        self.metrics: list[Metric] = []
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None

    # -- compile -----------------------------------------------------------------
    def compile(
        self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None
    ) -> None:
        """Choose the optimizer, the loss and the metrics reported during training.

        ``optimizer`` and ``loss`` take names (``"adam"``, ``"mse"``), config dicts or
        instances; ``metrics`` a list of names such as ``["accuracy"]``.
        """
        self.optimizer, self.loss, self.metrics = resolve_compile_arguments(
            optimizer, loss, metrics, self.layers
        )
        self.compiled = True

    def require_compiled(self, what: str) -> tuple[Optimizer, Loss]:
        """The optimizer and loss, or a NotCompiledError naming ``what``."""
        if not self.compiled or self.optimizer is None or self.loss is None:
            raise NotCompiledError(
                f"You must compile the model before calling {what}(): e.g. "
                "model.compile(optimizer='sgd', loss='mse')."
            )
        return self.optimizer, self.loss

    def fused_loss(self, loss: Loss | None = None) -> Loss | None:
        """The logits form of the loss when the output activation fuses with it.

        sigmoid + binary cross-entropy and softmax + (sparse) categorical
        cross-entropy are computed from the pre-activation ``z``: the gradient at z
        is simply ``(p - y) / n``, exact where p(1 - p) would underflow.
        """
        return fused_logits_loss(loss or self.loss, self.layers)

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
        _, loss = self.require_compiled("fit")
        batch_size = check_batch_size(batch_size)
        epochs = check_positive_int(epochs, "epochs")
        initial_epoch = check_initial_epoch(initial_epoch, epochs)
        verbose = check_verbose(verbose)
        shuffle = check_bool(shuffle, "shuffle")
        split = check_in_range(validation_split, "validation_split", 0.0, 1.0)
        x_arr, y_arr = check_inputs_and_targets(self, loss, x, y)
        x_arr, y_arr, validation = split_validation(
            self, loss, x_arr, y_arr, validation_data, split
        )
        user_callbacks = check_callbacks(callbacks)
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
        _, loss = self.require_compiled("evaluate")
        self.built_input_shape()
        batch_size = check_batch_size(batch_size)
        verbose = check_verbose(verbose)
        x_arr, y_arr = check_inputs_and_targets(self, loss, x, y)
        logs = compute_logs(self, y_arr, predict_loop(self, x_arr, batch_size, verbose))
        if verbose:
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
        batch_size = check_batch_size(batch_size)
        verbose = check_verbose(verbose)
        return predict_loop(self, check_inputs(self, x), batch_size, verbose)

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
