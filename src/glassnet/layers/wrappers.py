"""Layers around layers: the ``Wrapper`` base, and ``TimeDistributed``
(``Bidirectional`` is in ``layers/bidirectional.py``).

A wrapper owns its inner layers' weights under prefixed keys (``forward.W``,
``backward.recurrent_kernel``; TimeDistributed keeps the inner keys), because a
model rebinds the entries of ``layer.params`` to views of its flat buffer: before
every pass the wrapper hands the current arrays to the inner layers
(:meth:`Wrapper._lend`), so they compute with, and write gradients into, the
model's buffers. Weights keep Keras' order and paths
(``bidirectional/forward_lstm/lstm_cell/kernel``, ``time_distributed/dense/kernel``).

>>> import numpy as np
>>> from glassnet.layers import LSTM, Bidirectional
>>> layer = Bidirectional(LSTM(3, return_sequences=True))
>>> layer(np.zeros((2, 5, 4))).shape
(2, 5, 6)
>>> [w.path for w in layer.weights][::3]
['bidirectional/forward_lstm/lstm_cell/kernel', 'bidirectional/backward_lstm/lstm_cell/kernel']
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from glassnet._typing import Array
from glassnet.constraints import Constraint
from glassnet.errors import GlassnetTypeError, ShapeError
from glassnet.layers.base import Layer, Weight, registry
from glassnet.layers.costs import Cost
from glassnet.layers.normalization import BatchNormalization
from glassnet.layers.shapes import show_shape
from glassnet.regularizers import Regularizer

__all__ = [
    "TimeDistributed",
    "WrappedWeight",
    "Wrapper",
    "couples_rows",
    "layer_argument",
]


def layer_argument(value: Any, name: str) -> Layer:
    """A layer, or a ``{"class_name", "config"}`` dict (as configs hold them)."""
    if isinstance(value, dict):
        value = registry.get(
            {k: v for k, v in value.items() if k != "build_config"}, base=Layer
        )
    if not isinstance(value, Layer):
        raise GlassnetTypeError(
            f"Argument `{name}` must be a glassnet layer. Received: {value!r:.80}"
        )
    return value


def couples_rows(layer: Layer) -> bool:
    """Whether ``layer``'s training pass mixes the rows of its batch: a trainable
    BatchNormalization (its batch statistics), or a trainable wrapper around one
    (a wrapper lends its trainable flag to its inner layers). Dense, Dropout,
    LayerNormalization, recurrent layers... act on each row alone.

    >>> from glassnet.layers import BatchNormalization, LayerNormalization
    >>> couples_rows(BatchNormalization()), couples_rows(LayerNormalization())
    (True, False)
    >>> couples_rows(TimeDistributed(BatchNormalization(), trainable=False))
    False
    """
    return bool(layer.trainable) and _takes_batch_statistics(layer)


def _takes_batch_statistics(layer: Layer) -> bool:
    if isinstance(layer, Wrapper):
        return any(_takes_batch_statistics(inner) for inner in layer.inner_layers())
    return isinstance(layer, BatchNormalization)


class WrappedWeight(Weight):
    """A weight of an inner layer, held by the wrapper under a prefixed key."""

    def __init__(
        self, wrapper: Wrapper, key: str, inner: Weight, kind: str = "param"
    ) -> None:
        super().__init__(wrapper, key, kind)
        self.inner = inner

    @property
    def name(self) -> str:
        """The inner weight's Keras name (``kernel``...)."""
        return self.inner.name

    @property
    def path(self) -> str:
        """The wrapper's path, then the inner weight's (``bidirectional/forward_lstm
        /lstm_cell/kernel``)."""
        return f"{self.layer.path_prefix}{self.layer.name}/{self.inner.path}"


class Wrapper(Layer):
    """Base of the wrappers: inner layers whose weights the wrapper holds."""

    #: the key prefix of each inner layer's weights ("" keeps the inner keys)
    prefixes: ClassVar[tuple[str, ...]] = ("",)

    def inner_layers(self) -> list[Layer]:
        """The wrapped layers, in Keras' weight order."""
        raise NotImplementedError

    def _keys(self, store: str = "params") -> list[tuple[str, Layer, str]]:
        """``(wrapper key, inner layer, inner key)`` for every parameter (or, with
        ``store="state"``, every state array: BatchNormalization's moving ones)."""
        return [
            (f"{prefix}{key}", layer, key)
            for prefix, layer in zip(self.prefixes, self.inner_layers(), strict=True)
            for key in getattr(layer, store)
        ]

    def _adopt(self) -> None:
        """Take the inner layers' weights, gradients and state (just built) as the
        wrapper's."""
        self.params = {key: layer.params[inner] for key, layer, inner in self._keys()}
        self.grads = {key: layer.grads[inner] for key, layer, inner in self._keys()}
        self.state = {
            key: layer.state[inner] for key, layer, inner in self._keys("state")
        }

    def _lend(self) -> None:
        """Give the inner layers the wrapper's current arrays (the model may have
        moved them into its flat buffer, or loaded new state) and its trainable flag."""
        for prefix, layer in zip(self.prefixes, self.inner_layers(), strict=True):
            keys = [key[len(prefix) :] for key in self.params if key.startswith(prefix)]
            layer.params = {key: self.params[prefix + key] for key in keys}
            layer.grads = {key: self.grads[prefix + key] for key in keys}
            layer.state = {
                key[len(prefix) :]: value
                for key, value in self.state.items()
                if key.startswith(prefix)
            }
            layer.trainable = self.trainable

    @property
    def weights(self) -> list[Weight]:
        """The inner layers' weights, at the wrapper's paths, in Keras' order: the
        parameters, then the state (BatchNormalization's moving statistics)."""
        self._lend()
        inner = {
            (id(w.layer), w.kind, w.key): w
            for layer in self.inner_layers()
            for w in layer.weights
        }
        return [
            WrappedWeight(self, key, inner[id(layer), kind, inner_key], kind)
            for store, kind in (("params", "param"), ("state", "state"))
            for key, layer, inner_key in self._keys(store)
        ]

    def weight_regularizers(self) -> dict[str, Regularizer]:
        """The inner layers' regularizers, under the wrapper's keys."""
        self._lend()
        return self._inner_options("weight_regularizers")

    def weight_constraints(self) -> dict[str, Constraint]:
        """The inner layers' constraints, under the wrapper's keys."""
        self._lend()
        return self._inner_options("weight_constraints")

    def _inner_options(self, method: str) -> dict[str, Any]:
        found = {}
        for prefix, layer in zip(self.prefixes, self.inner_layers(), strict=True):
            for key, option in getattr(layer, method)().items():
                found[prefix + key] = option
        return found

    def _wrapped_config(self, layer: Layer) -> dict[str, Any]:
        return {"class_name": type(layer).__name__, "config": layer.get_config()}


@registry.register("time_distributed")
class TimeDistributed(Wrapper):
    """Applies ``layer`` to every time step: ``y[:, t] = layer(x[:, t])``.

    Its weights are shared by every step (their gradients sum over the steps). A
    padding mask passes through to the output, as in Keras (a loss on it then
    averages over the real steps only), and reaches an inner layer that takes one
    (``takes_mask``: BatchNormalization, whose training statistics then leave out
    the padded steps); the others never see it.

    As Keras 3 does, a layer whose training pass couples the rows of its batch
    (a trainable BatchNormalization: batch statistics), or a wrapper around one,
    runs once per step in training, on ``x[:, t]`` with ``mask[:, t]``: each
    step takes its own statistics and moves the moving averages once, in step
    order (T updates per batch). Every other case (inference, a frozen
    BatchNormalization, layers acting on each row alone) gives the same values
    either way, so there the steps are folded into the batch, ``(batch, time,
    ...) -> (batch x time, ...)``, and the inner layer runs once, which is faster.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> layer = TimeDistributed(Dense(2))
    >>> layer.build((None, 3), np.random.default_rng(0))
    >>> layer.forward(np.ones((4, 7, 3))).shape
    (4, 7, 2)
    >>> [w.path for w in layer.weights]
    ['time_distributed/dense/kernel', 'time_distributed/dense/bias']
    """

    supports_masking = True

    def __init__(
        self,
        layer: Any,
        *,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, trainable=trainable)
        self.layer = layer_argument(layer, "layer")
        if self.layer.takes_list:
            raise GlassnetTypeError(
                "TimeDistributed wraps a layer that takes one tensor. Received: "
                f"{type(self.layer).__name__}"
            )

    @property  # per instance: whether the inner layer takes one
    def takes_mask(self) -> bool:  # type: ignore[override]
        """Whether ``forward(mask=)`` uses the mask: when the wrapped layer's does.

        >>> from glassnet.layers import BatchNormalization, Dense
        >>> TimeDistributed(BatchNormalization()).takes_mask
        True
        >>> TimeDistributed(Dense(2)).takes_mask
        False
        """
        return bool(self.layer.takes_mask)

    def inner_layers(self) -> list[Layer]:
        """The wrapped layer."""
        return [self.layer]

    def _step_shape(self, input_shape: Any) -> tuple[Any, ...]:
        shape = tuple(input_shape)
        if len(shape) < 2:
            raise ShapeError(
                f"TimeDistributed layer '{self.name}' takes inputs with a time axis, "
                f"(batch, time, ...). Received: input_shape={show_shape(shape)} per "
                "sample"
            )
        return shape[1:]

    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """The inner layer's, for one step's shape."""
        return self.layer.weight_shapes(self._step_shape(input_shape))

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Build the inner layer for one step's shape."""
        step = self._step_shape(input_shape)
        if not self.layer.built:
            self.layer.build(step, rng, dtype)
        self._adopt()
        # a dropout generator, where the gradient check finds (and rewinds) it
        self._inner_rng = getattr(self.layer, "_rng", None)
        any_length: Any = (None, *step)
        super().build(any_length, rng, dtype)

    def output_shape(self, input_shape: Any) -> Any:
        """``(time, *inner output shape)``."""
        step = self._step_shape(input_shape)
        return (input_shape[0], *self.layer.output_shape(step))

    def forward(
        self,
        x: Array,
        *,
        training: bool = False,
        keep_cache: bool = False,
        mask: Array | None = None,
    ) -> Array:
        """The inner layer on ``(batch x time, ...)``, reshaped back; step by step
        in training when the inner layer couples the rows of its batch.

        A padding ``mask`` (``(batch, time, ...)``, True where a step is real) is
        folded like ``x`` (or sliced like it, ``mask[:, t]``) and handed to an
        inner layer that takes one (as Keras does); any other ignores it.
        """
        self._lend()
        batch, steps = x.shape[:2]
        options: dict[str, Any] = {}
        takes = mask is not None and self.layer.takes_mask
        inner: Any = self.layer.forward  # a layer that takes_mask has forward(mask=)
        if training and couples_rows(self.layer):
            step_mask = self._checked_mask(mask, x.shape) if takes else None
            outputs, caches = [], []
            for t in range(steps):  # in order: Keras moves the moving averages so
                if step_mask is not None:
                    options["mask"] = step_mask[:, t]
                outputs.append(inner(x[:, t], training=True, **options))
                caches.append(self.layer._cache)
            self._cache = (x.shape, caches)
            return np.stack(outputs, axis=1)
        folded = x.reshape(batch * steps, *x.shape[2:])
        if takes:
            checked = self._checked_mask(mask, x.shape)
            options["mask"] = checked.reshape(batch * steps, *checked.shape[2:])
        y = inner(folded, training=training, keep_cache=keep_cache, **options)
        self._cache = (x.shape, None) if training or keep_cache else None
        return y.reshape(batch, steps, *y.shape[1:])

    def _checked_mask(self, mask: Any, x_shape: tuple[int, ...]) -> Array:
        """The mask as a bool array; a ShapeError unless its first two axes are
        ``x``'s (Keras' check)."""
        array = np.asarray(mask, bool)
        if array.ndim < 2 or array.shape[:2] != x_shape[:2]:
            raise ShapeError(
                f"TimeDistributed layer '{self.name}' takes a mask whose first two "
                f"axes are its input's (batch, time) = {x_shape[:2]}, as Keras "
                f"does. Received: mask.shape={array.shape}, inputs.shape={x_shape}"
            )
        return array

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Back through the inner layer: folded, or step by step as forward ran."""
        # y[:, t] = f(x[:, t]; w) for every t, with the weights w shared
        #   =>  dL/dw = sum_t J_w f(x[:, t])^T dy[:, t],  dx[:, t] = J_x f(x[:, t])^T dy[:, t]
        # folded: one inner backward on (batch x time) rows sums over every
        #   (sample, step) row itself (a masked inner layer cached its folded mask);
        # step by step: step t's statistics depend on x[:, t] alone, so each step's
        #   cached pass gives dx[:, t] and its own dL/dw, summed here over the steps
        #   (written into the grads arrays, views of the model's buffer)
        x_shape, caches = self.cached()
        self._lend()
        if caches is None:
            folded = grad_output.reshape(-1, *grad_output.shape[2:])
            grad_x = self.layer.backward(folded, input_grad=input_grad)
            return None if grad_x is None else grad_x.reshape(x_shape)
        sums = {key: np.zeros_like(value) for key, value in self.grads.items()}
        step_grads = []
        for t, cache in enumerate(caches):
            self.layer._cache = cache
            step_grads.append(
                self.layer.backward(grad_output[:, t], input_grad=input_grad)
            )
            for key, total in sums.items():
                total += self.layer.grads[key]
        for key, total in sums.items():
            self.grads[key][...] = total
        if not input_grad:
            return None
        return np.stack(step_grads, axis=1)

    def flops(self, input_shape: Any) -> Cost:
        """The inner layer's, times the steps."""
        steps = input_shape[0]
        inner = self.layer.flops(self._step_shape(input_shape))
        if steps is None or inner.count is None:
            return Cost(None, "unknown (an axis of unknown length)")
        return Cost(steps * inner.count, f"{steps} steps x {inner.count:,}")

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the inner layer's as ``layer``."""
        config = super().get_config()
        config["layer"] = self._wrapped_config(self.layer)
        return config
