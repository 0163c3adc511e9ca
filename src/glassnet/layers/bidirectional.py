"""``Bidirectional``: a recurrent layer run forwards and a copy run backwards."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost
from glassnet.layers.recurrent import Recurrent
from glassnet.layers.recurrent_states import call_with_states, output_grads
from glassnet.layers.wrappers import Wrapper, layer_argument

__all__ = ["Bidirectional"]

_MERGE_MODES = ("concat", "sum", "mul", "ave")


def _recurrent(layer: Layer, name: str) -> Recurrent:
    if not isinstance(layer, Recurrent):
        raise GlassnetTypeError(
            f"Argument `{name}` of Bidirectional must be a SimpleRNN, LSTM or GRU. "
            f"Received: {type(layer).__name__}"
        )
    return layer


@registry.register("bidirectional")
class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and a copy backwards, and merges the outputs.

    As Keras: the forward layer is a copy of ``layer`` named ``forward_<name>``; the
    backward layer is ``backward_layer`` or a copy with ``go_backwards`` flipped,
    named ``backward_<name>``. With ``return_sequences`` the backward outputs are
    put back in time order before merging, so step t sees both directions::

        concat: [y, y_rev]    sum: y + y_rev    ave: (y + y_rev) / 2    mul: y * y_rev

    ``get_weights`` gives the forward layer's weights, then the backward layer's.
    A ``backward_layer`` may have other ``units`` than ``layer``: ``concat`` then
    joins outputs of both widths (Keras computes the same, though its declared
    shape counts the forward width twice); the other merges need equal widths.

    With ``return_state=True`` on the wrapped layer a call gives ``(output,
    *forward states, *backward states)``, and ``initial_state=`` takes the forward
    layer's states, then the backward layer's (``[h_f, c_f, h_b, c_b]`` for an
    LSTM), as Keras (``layers/recurrent_states.py``).

    A padding mask goes to both directions (the backward layer reverses it with the
    sequence); as Keras, both output zeros at masked steps when they return
    sequences (``zero_output_for_mask`` is set to ``return_sequences``), and the
    output keeps the mask only with ``return_sequences``.

    Parameters
    ----------
    layer : SimpleRNN, LSTM or GRU
    merge_mode : {"concat", "sum", "mul", "ave"}
        Keras' ``None`` (the two directions as two outputs) is not supported yet.
    backward_layer : SimpleRNN, LSTM or GRU, optional

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.layers import GRU
    >>> layer = Bidirectional(GRU(2), merge_mode="sum")
    >>> layer.build((None, 3), np.random.default_rng(0))
    >>> layer.forward_layer.name, layer.backward_layer.go_backwards
    ('forward_gru', True)
    >>> layer.forward(np.ones((4, 6, 3))).shape
    (4, 2)
    """

    prefixes = ("forward.", "backward.")
    supports_masking = True
    takes_mask = True

    def __init__(
        self,
        layer: Any,
        merge_mode: str | None = "concat",
        backward_layer: Any = None,
        *,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, trainable=trainable)
        layer = layer_argument(layer, "layer")
        if merge_mode is None:
            raise InvalidArgumentError(
                "Bidirectional(merge_mode=None), the two directions as two "
                "outputs, is not supported yet: use 'concat' (then split the last "
                "axis) or 'sum', 'mul', 'ave'. Received: merge_mode=None"
            )
        if merge_mode not in _MERGE_MODES:
            raise InvalidArgumentError(
                f"Argument `merge_mode` must be one of {', '.join(_MERGE_MODES)}. "
                f"Received: merge_mode={merge_mode!r}"
            )
        self.merge_mode = merge_mode
        forward = _recurrent(self._copy(layer, "forward", flip=False), "layer")
        if backward_layer is None:
            backward = _recurrent(self._copy(layer, "backward", flip=True), "layer")
        else:
            backward = _recurrent(
                layer_argument(backward_layer, "backward_layer"), "backward_layer"
            )
        if forward.go_backwards == backward.go_backwards:
            raise InvalidArgumentError(
                "The forward and backward layers of a Bidirectional must read the "
                "sequence in opposite directions. Received: go_backwards="
                f"{forward.go_backwards} for both"
            )
        for setting in ("return_sequences", "return_state"):
            both = (getattr(forward, setting), getattr(backward, setting))
            if both[0] != both[1]:
                raise InvalidArgumentError(
                    "The forward and backward layers of a Bidirectional must agree "
                    f"on {setting}. Received: {both[0]} and {both[1]}"
                )
        if merge_mode != "concat" and forward.units != backward.units:
            raise InvalidArgumentError(
                f"Bidirectional(merge_mode={merge_mode!r}) adds or multiplies the "
                "two directions' outputs, so both layers need the same units. "
                f"Received: units={forward.units} forwards and {backward.units} "
                "backwards (merge_mode='concat' joins outputs of both widths)"
            )
        self.forward_layer, self.backward_layer = forward, backward
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state
        for inner in (forward, backward):  # as Keras forces it
            inner.zero_output_for_mask = inner.return_sequences

    def __call__(
        self,
        inputs: Any,
        training: Any = None,
        mask: Any = None,
        initial_state: Any = None,
    ) -> Any:
        """As :meth:`Layer.__call__`, and ``initial_state``: both directions' start
        states, tensors or arrays as ``inputs`` are."""
        if initial_state is None:
            return super().__call__(inputs, training, mask)
        return call_with_states(self, inputs, training, mask, initial_state)

    @staticmethod
    def _copy(layer: Layer, direction: str, flip: bool) -> Layer:
        config = layer.get_config()
        config["name"] = f"{direction}_{layer.name.removeprefix(f'{direction}_')}"
        if flip:
            config["go_backwards"] = not config["go_backwards"]
        return type(layer).from_config(config)

    def inner_layers(self) -> list[Layer]:
        """The forward layer, then the backward layer."""
        return [self.forward_layer, self.backward_layer]

    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """The forward layer's weights, then the backward layer's, prefixed."""
        return {
            f"{prefix}{key}": shape
            for prefix, layer in zip(self.prefixes, self.inner_layers(), strict=True)
            for key, shape in layer.weight_shapes(input_shape).items()
        }

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Build both directions from ``rng`` (forward first, as Keras)."""
        for layer in self.inner_layers():
            layer.build(input_shape, rng, dtype)
        self._adopt()
        # the dropout generators, where the gradient check finds (and rewinds) them
        self._forward_rng = self.forward_layer._rng
        self._backward_rng = self.backward_layer._rng
        super().build(self.forward_layer.input_shape, rng, dtype)

    @property
    def state_names(self) -> list[str]:
        """The forward layer's states, then the backward layer's."""
        return [
            f"{direction} {name}"
            for direction, layer in zip(
                ("forward", "backward"), self.inner_layers(), strict=True
            )
            for name in layer.state_names  # type: ignore[attr-defined]
        ]

    @property
    def state_sizes(self) -> list[int]:
        """The width of each state in :attr:`state_names`."""
        forward, backward = self.forward_layer, self.backward_layer
        return [*forward.state_sizes, *backward.state_sizes]

    @property
    def multiple_outputs(self) -> bool:
        """True with ``return_state``: ``(output, *states)``."""
        return self.return_state

    def output_shape(self, input_shape: Any) -> Any:
        """The inner output shape; the two widths joined for ``concat``; with
        ``return_state`` a list, then every state's ``(units,)``."""
        forward = self.forward_layer.output_shape(input_shape)
        backward = self.backward_layer.output_shape(input_shape)
        if self.return_state:
            (forward, *states), (backward, *more) = forward, backward
            states += more
        shape = tuple(forward)
        if self.merge_mode == "concat":
            shape = (*shape[:-1], shape[-1] + backward[-1])
        return [shape, *states] if self.return_state else shape

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The input's mask with ``return_sequences``, else None (as Keras); the
        returned states have none."""
        output_mask = mask if self.return_sequences else None
        if not self.return_state:
            return output_mask
        return [output_mask, *(None for _ in self.state_sizes)]

    def forward(
        self,
        x: Array,
        *,
        training: bool = False,
        keep_cache: bool = False,
        mask: Any = None,
        initial_state: Any = None,
    ) -> Any:
        """Both directions (each skipping the steps ``mask`` marks False, each from
        its part of ``initial_state``), the backward outputs back in time order,
        merged; with ``return_state``, then both directions' states."""
        self._lend()
        options: dict[str, Any] = {"training": training, "keep_cache": keep_cache}
        if mask is not None:
            options["mask"] = mask
        starts: list[Any] = [None, None]
        if initial_state is not None:
            starts = self._split_states(initial_state)
        y = self.forward_layer.forward(x, initial_state=starts[0], **options)
        y_rev = self.backward_layer.forward(x, initial_state=starts[1], **options)
        states: list[Array] = []
        if self.return_state:
            (y, *states), (y_rev, *more) = y, y_rev
            states += more
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        self._cache = (y, y_rev) if training or keep_cache else None
        if self.merge_mode == "concat":
            merged = np.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            merged = y + y_rev
        elif self.merge_mode == "ave":
            merged = (y + y_rev) * y.dtype.type(0.5)
        else:
            merged = y * y_rev
        return (merged, *states) if self.return_state else merged

    def _split_states(self, initial_state: Any) -> list[Any]:
        """``initial_state`` cut into the forward layer's and the backward layer's."""
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else []
        if len(states) != len(self.state_sizes):
            raise InvalidArgumentError(
                f"Bidirectional layer '{self.name}' starts from {len(self.state_sizes)}"
                f" states, initial_state=[{', '.join(self.state_names)}]. Received: "
                f"{len(states) or type(initial_state).__name__}"
            )
        half = len(self.forward_layer.state_sizes)
        return [states[:half], states[half:]]

    def backward(self, grad_output: Any, *, input_grad: bool = True) -> Any:
        """Split the gradient by the merge rule, then back through both layers
        (with ``return_state``, each with its states' gradients)."""
        # out = merge(y, flip(y_rev))  =>  concat: dy, dy_rev = the two halves;
        #   sum: dy = dy_rev = dout;  ave: both dout / 2;  mul: dy = dout * y_rev,
        #   dy_rev = dout * y;  then flip dy_rev back, and dx = dx_forward + dx_backward
        #   (and the initial states' gradients: the forward layer's, the backward's)
        y, y_rev = self.cached()
        self._lend()
        grad_out, grad_states = output_grads(self, grad_output)
        if grad_out is None:
            grad_y = grad_rev = None
        elif self.merge_mode == "concat":
            units = y.shape[-1]
            grad_y, grad_rev = grad_out[..., :units], grad_out[..., units:]
        elif self.merge_mode == "sum":
            grad_y = grad_rev = grad_out
        elif self.merge_mode == "ave":
            grad_y = grad_rev = grad_out * grad_out.dtype.type(0.5)
        else:
            grad_y, grad_rev = grad_out * y_rev, grad_out * y
        if self.return_sequences and grad_rev is not None:
            grad_rev = grad_rev[:, ::-1]
        if self.return_state:
            half = len(self.forward_layer.state_sizes)
            grad_y = [grad_y, *grad_states[:half]]
            grad_rev = [grad_rev, *grad_states[half:]]
        grad_x = self.forward_layer.backward(grad_y, input_grad=input_grad)
        grad_back = self.backward_layer.backward(grad_rev, input_grad=input_grad)
        if grad_x is None or grad_back is None:
            return None
        if isinstance(grad_x, list):  # after a pass from initial states
            (dx, *starts), (dx_back, *more) = grad_x, grad_back
            return [dx + dx_back, *starts, *more]
        return grad_x + grad_back

    def flops(self, input_shape: Any) -> Cost:
        """Both directions, and the merge."""
        parts = [layer.flops(input_shape) for layer in self.inner_layers()]
        if any(part.count is None for part in parts):
            return Cost(None, "unknown (see the recurrent layer)")
        counts = [int(part.count or 0) for part in parts]
        return Cost(sum(counts), f"{counts[0]:,} + {counts[1]:,} (both directions)")

    def get_config(self) -> dict[str, Any]:
        """Keras' config: the forward layer's as ``layer``, and ``backward_layer``."""
        config = super().get_config()
        config.update(
            merge_mode=self.merge_mode,
            layer=self._wrapped_config(self.forward_layer),
            backward_layer=self._wrapped_config(self.backward_layer),
        )
        return config
