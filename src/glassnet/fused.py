"""Compiled loops by Numba, when it is installed (``pip install glassnet[fast]``).

A handful of glassnet's steps are written twice: as NumPy calls, the reference to
read, and as one loop compiled by Numba that does the same operations in the same
order, in the arrays' own precision, without fast-math or fused multiply-adds, so
its results equal NumPy's bit for bit. Why: each NumPy call walks its arrays once
and costs about a microsecond to start, so an expression of a dozen operations is
a dozen passes over memory and a dozen call overheads; one loop is one of each.
The kernels live beside the code they fuse:

- ``optimizers/fused.py``: SGD (plain, momentum, Nesterov), Adam (and AdamW),
  RMSprop and Adagrad update each weight in one pass instead of up to twelve;
- ``layers/dense_fused.py``: a Dense layer with ReLU adds its bias and rectifies in
  one pass, and in backward masks the gradient and sums its bias gradient in one;
  with sigmoid or tanh its backward and bias gradient are one loop too, and
  sigmoid's forward three calls around NumPy's ``exp`` instead of five;
- ``activations/softmax_fused.py``: softmax's row maximum with the subtraction, and
  its division by the row sums (``exp`` and the sums stay NumPy's);
- ``losses/fused.py``: softmax + sparse cross-entropy's gradient at the logits.

This module holds what they share: the switch (:func:`use_fused_kernels`, or the
environment variable ``GLASSNET_FUSED=0`` before the first use), the lazy import
and compilation (:func:`compiled`), and the check that arrays suit a kernel
(:func:`common_dtype`). Without Numba, or turned off, every step runs its NumPy
code. The first use in a process imports Numba (about 0.3 s); the first call of a
kernel with a dtype compiles it (about 0.3 s), once per machine: Numba caches the
machine code beside the module (or in its user cache directory).

>>> import numpy as np
>>> from glassnet.optimizers import SGD
>>> w = np.ones(4, np.float32)
>>> SGD(learning_rate=0.5, momentum=0.9).apply([("w", w, np.ones(4, np.float32))])
>>> w  # the same, bit for bit, with or without Numba
array([0.5, 0.5, 0.5, 0.5], dtype=float32)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError

__all__ = [
    "KERNEL_DTYPES",
    "ZERO_ONE",
    "common_dtype",
    "compiled",
    "use_fused_kernels",
]

#: The dtypes the kernels are compiled for; any other runs the NumPy code.
KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: ``(zero, one)`` in each of them, made once: kernels that compare with 0 or
#: multiply by 1 take them per call, in the arrays' precision.
ZERO_ONE = {dtype: (dtype.type(0), dtype.type(1)) for dtype in KERNEL_DTYPES}

_enabled = os.environ.get("GLASSNET_FUSED", "1").strip() != "0"
_numba: Any = None  # the numba module once imported; False when it is missing
_compiled: dict[int, dict[str, Any]] = {}  # id(sources) -> compiled kernels


def use_fused_kernels(enabled: bool | None = None) -> bool:
    """Turn the compiled loops on or off; return whether they are in use.

    ``enabled=None`` only asks. ``True`` is an answer only when Numba is installed
    (``pip install glassnet[fast]``); every step otherwise runs its NumPy code,
    with the same results.

    >>> was = use_fused_kernels()
    >>> use_fused_kernels(False)
    False
    >>> use_fused_kernels(was) == was
    True
    """
    global _enabled
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise GlassnetTypeError(
                "Argument `enabled` must be True, False or None. "
                f"Received: enabled={enabled!r}"
            )
        _enabled = enabled
    return _enabled and _import_numba() is not None


def compiled(sources: dict[str, Callable[..., Any]]) -> dict[str, Any] | None:
    """``sources``' functions compiled by Numba (each lazily, per dtype), or None.

    None when fused kernels are off or Numba is missing. ``sources`` is a
    module-level dict: its kernels are compiled once and kept.

    >>> from glassnet.optimizers import fused as updates
    >>> kernels = compiled(updates._SOURCES)  # the update rules' loops
    >>> kernels is None or sorted(kernels) == sorted(updates._SOURCES)
    True
    """
    if not _enabled:
        return None
    kernels = _compiled.get(id(sources))
    if kernels is not None:
        return kernels
    numba = _import_numba()
    if numba is None:
        return None
    # error_model="numpy": a division by zero gives inf as in NumPy instead of
    # raising, which also lets the loops be vectorized. No fastmath: IEEE results.
    compile_ = numba.njit(error_model="numpy", nogil=True, cache=True)
    kernels = {name: compile_(source) for name, source in sources.items()}
    _compiled[id(sources)] = kernels
    return kernels


def common_dtype(arrays: Sequence[Array]) -> np.dtype[Any] | None:
    """The arrays' one dtype if it is float32 or float64 and each is C-contiguous.

    Else None: the caller then runs its NumPy code.

    >>> common_dtype([np.zeros(3), np.ones(3)])
    dtype('float64')
    >>> common_dtype([np.zeros(3), np.ones(3, np.float32)]) is None
    True
    >>> common_dtype([np.zeros(6)[::2]]) is None  # not contiguous
    True
    """
    dtype = arrays[0].dtype
    if dtype not in KERNEL_DTYPES:
        return None
    for array in arrays:
        if array.dtype != dtype or not array.flags.c_contiguous:
            return None
    return dtype


def _import_numba() -> Any:
    global _numba
    if _numba is None:
        try:
            import numba
        except ImportError:
            _numba = False
        else:
            _numba = numba
    return _numba or None
