"""``Bidirectional``: a recurrent layer run forwards and a copy run backwards."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost
from glassnet.layers.recurrent import Recurrent
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

    A padding mask goes to both directions (the backward layer reverses it with the
    sequence); as Keras, both output zeros at masked steps when they return
    sequences (``zero_output_for_mask`` is set to ``return_sequences``), and the
    output keeps the mask only with ``return_sequences``.

    Parameters
    ----------
    layer : SimpleRNN, LSTM or GRU
    merge_mode : {"concat", "sum", "mul", "ave"}
        Keras' ``None`` (two outputs) is not supported yet.
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
                "Bidirectional(merge_mode=None) gives two outputs, which glassnet's "
                "graphs do not carry yet: use 'concat', 'sum', 'mul' or 'ave'. "
                "Received: merge_mode=None"
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
        if forward.return_sequences != backward.return_sequences:
            raise InvalidArgumentError(
                "The forward and backward layers of a Bidirectional must agree on "
                f"return_sequences. Received: {forward.return_sequences} and "
                f"{backward.return_sequences}"
            )
        self.forward_layer, self.backward_layer = forward, backward
        self.return_sequences = forward.return_sequences
        for inner in (forward, backward):  # as Keras forces it
            inner.zero_output_for_mask = inner.return_sequences

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

    def output_shape(self, input_shape: Any) -> Any:
        """The inner output shape; twice the units for ``concat``."""
        shape = tuple(self.forward_layer.output_shape(input_shape))
        self.backward_layer.output_shape(input_shape)
        if self.merge_mode == "concat":
            return (*shape[:-1], 2 * shape[-1])
        return shape

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The input's mask with ``return_sequences``, else None (as Keras)."""
        return mask if self.return_sequences else None

    def forward(
        self,
        x: Array,
        *,
        training: bool = False,
        keep_cache: bool = False,
        mask: Any = None,
    ) -> Array:
        """Both directions (each skipping the steps ``mask`` marks False), the
        backward outputs back in time order, merged."""
        self._lend()
        options = {"training": training, "keep_cache": keep_cache}
        if mask is not None:
            options["mask"] = mask
        y = self.forward_layer.forward(x, **options)
        y_rev = self.backward_layer.forward(x, **options)
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        self._cache = (y, y_rev) if training or keep_cache else None
        if self.merge_mode == "concat":
            return np.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) * y.dtype.type(0.5)
        return y * y_rev

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Split the gradient by the merge rule, then back through both layers."""
        # out = merge(y, flip(y_rev))  =>  concat: dy, dy_rev = the two halves;
        #   sum: dy = dy_rev = dout;  ave: both dout / 2;  mul: dy = dout * y_rev,
        #   dy_rev = dout * y;  then flip dy_rev back, and dx = dx_forward + dx_backward
        y, y_rev = self.cached()
        self._lend()
        if self.merge_mode == "concat":
            units = y.shape[-1]
            grad_y, grad_rev = grad_output[..., :units], grad_output[..., units:]
        elif self.merge_mode == "sum":
            grad_y = grad_rev = grad_output
        elif self.merge_mode == "ave":
            grad_y = grad_rev = grad_output * grad_output.dtype.type(0.5)
        else:
            grad_y, grad_rev = grad_output * y_rev, grad_output * y
        if self.return_sequences:
            grad_rev = grad_rev[:, ::-1]
        grad_x = self.forward_layer.backward(grad_y, input_grad=input_grad)
        grad_back = self.backward_layer.backward(grad_rev, input_grad=input_grad)
        if grad_x is None or grad_back is None:
            return None
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
