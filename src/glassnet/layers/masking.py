"""The Masking layer: marks the steps whose features all equal ``mask_value`` as
padding, for the recurrent layers after it to skip.

A *mask* is a boolean array, ``(batch, time)`` for a sequence batch, True where a
step is real; how a model carries it from layer to layer is in ``models/walk.py``
and ``docs/internals.md``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError, ShapeError
from glassnet.layers.base import Layer, registry
from glassnet.layers.costs import Cost, arrays_kept, known_size

__all__ = ["Masking"]


@registry.register("masking")
class Masking(Layer):
    """Masks the steps of a sequence whose features all equal ``mask_value``.

    As Keras' Masking: for ``x`` shaped ``(batch, time, features)`` the mask is
    ``any(x != mask_value, axis=-1)``, shape ``(batch, time)``, and the output is
    ``x`` with the masked steps set to 0 (they already are for the default
    ``mask_value=0.0``). The layers after it carry the mask on (Dense, Dropout,
    TimeDistributed...), and SimpleRNN, LSTM and GRU skip the masked steps: their
    state is carried over them unchanged.

    The gradient: ``y = x * keep``  =>  ``dx = dy * keep`` (a masked step's input
    gets none).

    Parameters
    ----------
    mask_value : float
        The value that marks padding (default 0.0).

    Examples
    --------
    >>> import numpy as np
    >>> layer = Masking(mask_value=-1.0)
    >>> x = np.array([[[1.0, 2.0], [-1.0, -1.0], [-1.0, 3.0]]])  # step 1 is padding
    >>> layer.compute_mask(x, None)
    array([[ True, False,  True]])
    >>> layer.forward(x)[0]
    array([[ 1.,  2.],
           [ 0.,  0.],
           [-1.,  3.]])
    """

    supports_masking = True

    def __init__(
        self,
        mask_value: float = 0.0,
        *,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(name=name, input_shape=input_shape, trainable=trainable)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise GlassnetTypeError(
                "Argument `mask_value` must be a number, the value of every feature "
                f"of a padded step. Received: mask_value={mask_value!r}"
            )
        self.mask_value: float = float(mask_value)

    @property
    def creates_mask(self) -> bool:
        """Always: the mask comes from the input's values."""
        return True

    def compute_mask(self, inputs: Any, mask: Any) -> Array:
        """``any(x != mask_value)`` over the last axis (a mask from before is
        replaced, as in Keras)."""
        return np.any(np.asarray(inputs) != self.mask_value, axis=-1)

    def output_shape(self, input_shape: Any) -> Any:
        """The input shape; it needs a features axis after the batch."""
        shape = tuple(input_shape)
        if not shape:
            raise ShapeError(
                f"Masking layer '{self.name}' needs inputs with a features axis, "
                "(batch, ..., features). Received: input_shape=() per sample"
            )
        return shape

    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``x`` with the masked steps set to 0."""
        keep = np.any(x != self.mask_value, axis=-1, keepdims=True)
        self._cache = keep if training or keep_cache else None
        return np.where(keep, x, x.dtype.type(0))

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """``dx = dy`` on the real steps, 0 on the masked ones."""
        # y = where(keep, x, 0)  =>  dx = dy * keep
        keep = self.cached()
        if not input_grad:
            return None
        return np.where(keep, grad_output, grad_output.dtype.type(0))

    def flops(self, input_shape: Any) -> Cost:
        """One comparison per input number (the any and the select not counted)."""
        size = known_size(tuple(input_shape))
        if size is None:
            return Cost(None, "unknown (an axis of unknown length)")
        return Cost(size, f"{size:,} comparisons")

    def kept_activations(self, input_shape: Any) -> Cost:
        """The mask alone (one number per step)."""
        return arrays_kept(("mask", known_size(tuple(input_shape)[:-1] or (1,))))

    def get_config(self) -> dict[str, Any]:
        """Keras' Masking config."""
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
