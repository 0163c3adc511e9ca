"""What a padding mask does to a recurrence, forward and backward, as Keras does it.

A mask ``(batch, time)`` says which steps of each sequence are real. Keras'
recurrent loop (``keras/src/backend/*/rnn.py``) computes every step, then keeps the
new state only where the step is real::

    h_t = where(real_t, h_new, h_{t-1})        (and c_t likewise for the LSTM)

so the state is carried over a masked step unchanged; the output at a masked step
repeats the previous output, which is that carried state (zeros before the first
real step), or is zero with ``zero_output_for_mask=True`` (which ``Bidirectional``
sets when it returns sequences). With ``go_backwards`` the mask is reversed with
the inputs, so the trailing pads of a post-padded batch come first, and give
zeros: the state is still the zero start there.

Backward, the select splits the state's gradient: the real steps send it into
their step's chain rule, the masked ones straight to the state before::

    h_t = r * h_new + (1 - r) * h_{t-1}   (r = 1 on a real step, else 0)
    =>  dh_new = r * dh_t,   dh_{t-1} += (1 - r) * dh_t

:class:`StepMask` holds the mask time-major, ``(time, 1, batch)`` (reversed for
go_backwards), broadcasting over a step's ``(units, batch)`` block, and does both.

>>> import numpy as np
>>> steps = StepMask.of(np.array([[True, True, False]]), 1, 3, False, np.float64)
>>> h_prev, h_new = np.array([[1.0]]), np.array([[5.0]])
>>> steps.carry(2, h_new, h_prev)            # step 2 is padding: h stays 1
>>> h_new
array([[1.]])
>>> steps.split(2, np.array([[4.0]]))         # (dh_new, passed to h_{t-1})
(array([[0.]]), array([[4.]]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import ShapeError

__all__ = ["StepMask"]


class StepMask:
    """A padding mask, time-major: ``real[t]`` is ``(1, batch)``, True on real steps.

    Parameters
    ----------
    real : ndarray of bool, ``(time, 1, batch)``
        In the order the layer reads the steps (reversed for go_backwards).
    dtype
        The layer's float dtype (for the gradient's split).
    """

    def __init__(self, real: Array, dtype: Any) -> None:
        self.real = real
        self.padded = ~real
        self.weights = real.astype(dtype)
        self._started: Array | None = None

    @property
    def started(self) -> Array:
        """1 from each sample's first real step on, 0 before it: Keras' output
        starts at zero while the state starts at the initial state, and they agree
        from the first real step on (``layers/recurrent_states.py``).

        >>> steps = StepMask.of(np.array([[False, True, False]]), 1, 3, False, float)
        >>> steps.started[:, 0, 0]
        array([0., 1., 1.])
        """
        if self._started is None:
            self._started = np.maximum.accumulate(self.weights, axis=0)
        return self._started

    @classmethod
    def of(
        cls, mask: Any, batch: int, steps: int, go_backwards: bool, dtype: Any
    ) -> StepMask:
        """The mask ``(batch, time)`` of a sequence batch, checked and time-major."""
        mask = np.asarray(mask)
        if mask.shape != (batch, steps):
            raise ShapeError(
                f"A recurrent layer's mask must have one entry per sample and step, "
                f"shape ({batch}, {steps}), True where a step is real. Received: "
                f"mask.shape={mask.shape}"
            )
        real = mask.astype(bool).T[:, None, :]
        if go_backwards:
            real = real[::-1]
        return cls(np.ascontiguousarray(real), dtype)

    def carry(self, t: int, new: Array, previous: Array) -> None:
        """``new <- where(real_t, new, previous)``, in place: a masked step keeps the
        previous state (or output)."""
        np.copyto(new, previous, where=self.padded[t])

    def split(self, t: int, grad: Array) -> tuple[Array, Array]:
        """``(r * dh, (1 - r) * dh)``: what step t's chain rule gets, and what goes
        straight to the state before it (see the module docstring)."""
        inside = grad * self.weights[t]
        return inside, grad - inside

    def zero_masked(self, outputs: Array) -> Array:
        """``outputs`` ``(time, units, batch)`` with the masked steps set to 0 (a copy):
        the output with ``zero_output_for_mask``."""
        return outputs * self.weights
