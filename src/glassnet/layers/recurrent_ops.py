"""The named tricks the recurrent layers share: in-place gates and masked products.

**Gates in place.** A recurrent step keeps its gate pre-activations in one
``(gates x units, batch)`` block and overwrites each gate's rows with its activation:
:class:`GateActivation` does it, and computes the derivative from the output alone
for sigmoid, tanh and linear (``y (1 - y)``, ``1 - y^2``, ``1``), so no copy of the
pre-activations is kept for them. Any other glassnet activation works too; the layer
then keeps the pre-activations for its backward pass (``needs_input``), and the
function sees each gate batch-major, ``(batch, units)``, as in Keras: an activation
that mixes a row (softmax) normalizes over the units of one gate, never over the
batch or across gates.

**Sigmoid as a tanh.** ``sigmoid(z) = 0.5 tanh(z / 2) + 0.5`` exactly. NumPy's
float32 tanh is vectorized (SIMD) and cannot overflow, while ``1 / (1 + exp(-z))``
overflows for very negative ``z`` and was about twice as slow here. The LSTM and
the GRU go further with their default sigmoid gates: they halve those gates'
kernel columns (exact in floating point), so one tanh over the step's block and
two passes give every gate (``layers/lstm_steps.py``, ``layers/gru_steps.py``).

**Feature-major steps.** Inside a layer a sequence is ``(time, features, batch)``:
each step's gate pre-activations are a ``(gates x units, batch)`` block whose gates
are contiguous row blocks, so every elementwise pass runs over one contiguous
array. With ``(batch, gates x units)`` rows each gate is a strided column block,
which NumPy walks one row at a time: the whole LSTM training step took 1.5x as long
(measured here, LSTM(64) on 32 x 20 x 16). The products are ``W.T @ x`` and
``U.T @ h``; the weights keep Keras' layout.

**Dropout masks.** Keras draws one mask per sequence and keeps it for every step:
``W.T @ (x * m)``. With ``recurrent_dropout`` it draws one mask per gate, for the
inputs and for the state (its "implementation 1"). A mask set has shape
``(K, features, batch)``: ``K = 1`` (one mask for the whole kernel) or one per
gate, each for its own column block of the kernel. :func:`masked_matmul`,
:func:`masked_input_grad` and :func:`masked_weight_grad` are the product and its
two gradients for either case (and for no mask, ``None``)::

    y[block k] = W[:, block k].T @ (a * m[k])
    =>  da = sum over k of (W[:, block k] @ dy[block k]) * m[k]
        dW[:, block k] = sum over time and batch of (a * m[k]) dy[block k].T

>>> import numpy as np
>>> W, a = np.arange(8.0).reshape(2, 4), np.ones((2, 1))   # one sample, 2 features
>>> masks = np.array([[[1.0], [0.0]], [[0.0], [2.0]]])   # K = 2 blocks of 2 columns
>>> masked_matmul(W, a, masks).T                         # [W[0, :2], 2 W[1, 2:]]
array([[ 0.,  1., 12., 14.]])
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from glassnet._typing import Array
from glassnet.activations import ActivationFunction, Linear, Sigmoid, Tanh

__all__ = [
    "GateActivation",
    "as_matrix",
    "dropout_masks",
    "long_side_product",
    "masked_input_grad",
    "masked_matmul",
    "masked_weight_grad",
    "recurrent_kernel_grad",
    "sigmoid_into",
    "stacked_kernel_grads",
]


def sigmoid_into(z: Array, out: Array) -> None:
    """``out <- sigmoid(z)``, computed as ``0.5 * tanh(0.5 * z) + 0.5`` (see above);
    ``out`` may be ``z`` itself.

    >>> z = np.array([-800.0, 0.0, 2.0])
    >>> sigmoid_into(z, z)
    >>> z.round(6)
    array([0.      , 0.5     , 0.880797])
    """
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5


class GateActivation:
    """One activation function applied in place to gate blocks, and its derivative.

    ``units`` is the number of rows of one gate: a block of several gates (an
    LSTM's i and f together) goes to the function one gate at a time, transposed
    to Keras' ``(batch, units)``, unless the function is one of the elementwise
    three computed in place.

    >>> from glassnet.activations import get
    >>> gate = GateActivation(get("tanh"), units=1)
    >>> z = np.array([[0.0, 1.0]])
    >>> gate.apply(z)                      # z now holds tanh(z)
    >>> grad = np.ones_like(z)
    >>> gate.grad_in_place(None, z, grad)  # grad now holds tanh'(z) * grad
    >>> gate.needs_input, grad.round(4)
    (False, array([[1.  , 0.42]]))
    >>> two_gates = np.zeros((4, 1))             # 2 gates of 2 units, one sample
    >>> GateActivation(get("softmax"), units=2).apply(two_gates)
    >>> two_gates.T                             # each gate sums to 1 over its units
    array([[0.5, 0.5, 0.5, 0.5]])
    """

    def __init__(self, function: ActivationFunction, units: int) -> None:
        self.function = function
        self.units = units
        self.kind = next(
            (
                name
                for name, cls in (
                    ("sigmoid", Sigmoid),
                    ("tanh", Tanh),
                    ("linear", Linear),
                )
                if type(function) is cls
            ),
            None,
        )
        #: True when the derivative needs the pre-activation ``z`` (not only ``y``)
        self.needs_input = self.kind is None

    def apply(self, z: Array, out: Array | None = None) -> None:
        """Write ``f(z)`` into ``out``, or over ``z`` (a view into the gate buffer)."""
        out = z if out is None else out
        if self.kind == "sigmoid":
            sigmoid_into(z, out)
        elif self.kind == "tanh":
            np.tanh(z, out=out)
        elif self.kind == "linear":
            if out is not z:
                out[...] = z
        else:  # each gate batch-major, as Keras applies it
            for rows in self._gates(z):
                out[rows] = self.function.forward(z[rows].T).T

    def grad_in_place(self, z: Array | None, y: Array, grad: Array) -> None:
        """Turn ``grad`` = dL/dy into dL/dz, with ``y = f(z)`` (``z`` is needed only
        when ``needs_input``)."""
        # y = f(z)  =>  dz = f'(z) * dy, and f' is a function of y for these three:
        #   sigmoid: y (1 - y);  tanh: 1 - y^2;  linear: 1
        if self.kind == "linear":
            return
        if self.kind is None:  # the layers keep z for these (needs_input)
            z = cast(Array, z)
            for rows in self._gates(z):
                grad[rows] = self.function.backward(
                    z[rows].T, y[rows].T, grad[rows].T
                ).T
            return
        slope = y * y
        if self.kind == "sigmoid":
            np.subtract(y, slope, out=slope)
        else:
            np.subtract(1, slope, out=slope)
        grad *= slope

    def _gates(self, z: Array) -> list[slice]:
        """The row ranges of the gates in the block ``z``, one gate each."""
        return [slice(r, r + self.units) for r in range(0, len(z), self.units)]


def dropout_masks(
    rng: np.random.Generator,
    count: int,
    shape: tuple[int, ...],
    rate: float,
    dtype: Any,
) -> Array | None:
    """``count`` inverted-dropout masks of ``shape``: 0 with probability ``rate``, else
    ``1 / (1 - rate)``; None when ``rate`` is 0 (nothing to drop).

    >>> dropout_masks(np.random.default_rng(0), 2, (3, 1), 0.5, np.float64)[:, :, 0]
    array([[2., 0., 0.],
           [0., 2., 2.]])
    """
    if rate == 0.0:
        return None
    keep = rng.random((count, *shape)) >= rate
    return keep.astype(dtype) / np.asarray(1.0 - rate, dtype=dtype)


def _blocks(width: int, masks: Array) -> list[slice]:
    size = width // len(masks)
    return [slice(k * size, (k + 1) * size) for k in range(len(masks))]


def masked_matmul(w: Array, a: Array, masks: Array | None) -> Array:
    """``w.T @ a``, each column block of ``w`` taking ``a`` times its own mask.

    ``a`` is ``(features, batch)`` or ``(time, features, batch)`` (then one GEMM per
    step, and a mask applies at every step).
    """
    if masks is None:
        return np.matmul(w.T, a)
    if len(masks) == 1:
        return np.matmul(w.T, a * masks[0])
    out = np.empty((*a.shape[:-2], w.shape[1], a.shape[-1]), np.result_type(a, w))
    for mask, block in zip(masks, _blocks(w.shape[1], masks), strict=True):
        np.matmul(w[:, block].T, a * mask, out=out[..., block, :])
    return out


def masked_input_grad(w: Array, grad_y: Array, masks: Array | None) -> Array:
    """``da`` for ``y = masked_matmul(w, a, masks)``, given ``dy``."""
    # y[k] = W[:, k].T @ (a * m_k)  =>  da = sum_k (W[:, k] @ dy[k]) * m_k
    if masks is None:
        return np.matmul(w, grad_y)
    if len(masks) == 1:
        return np.matmul(w, grad_y) * masks[0]
    blocks = _blocks(w.shape[1], masks)
    grad_a = np.matmul(w[:, blocks[0]], grad_y[..., blocks[0], :]) * masks[0]
    for mask, block in zip(masks[1:], blocks[1:], strict=True):
        grad_a += np.matmul(w[:, block], grad_y[..., block, :]) * mask
    return grad_a


def as_matrix(a: Array, out: Array | None = None) -> Array:
    """``(time, features, batch)`` -> ``(features, time x batch)``: every step's
    columns side by side (one copy, into ``out`` if given), so that a sum over the
    steps is one GEMM.

    >>> as_matrix(np.arange(8).reshape(2, 2, 2))  # steps [[0, 1], [2, 3]], [[4, 5], [6, 7]]
    array([[0, 1, 4, 5],
           [2, 3, 6, 7]])
    """
    if out is None:
        return a.transpose(1, 0, 2).reshape(a.shape[1], -1)
    np.copyto(out.reshape(a.shape[1], a.shape[0], a.shape[2]), a.transpose(1, 0, 2))
    return out


def long_side_product(a_matrix: Array, grad_matrix: Array) -> Array:
    """``(a_matrix @ grad_matrix.T).T``, ``(gates, features)``: a weight gradient
    summed over the ``time x batch`` columns of both, transposed.

    **The long side inside.** Both factors are wide, ``(rows, time x batch)``, and
    the product sums over that long side. OpenBLAS ran ``dG @ X.T`` (the gate rows
    outside, e.g. 256 of them) at 89 GFLOP/s here against 63 for ``X @ dG.T`` (16
    or 32 feature rows outside): LSTM(64) on 32 x 50 x 16, both kernels' gradients
    1.04 -> 0.74 ms. The result is small (a few thousand numbers), so the caller's
    transposing copy costs nothing; a transposed view as ``out=`` would make NumPy
    skip BLAS.

    >>> x, dg = np.ones((2, 3)), np.arange(3.0)[None]     # 2 features, 1 gate row
    >>> long_side_product(x, dg)                         # (x @ dg.T).T
    array([[3., 3.]])
    """
    return np.matmul(grad_matrix, a_matrix.T)


def masked_weight_grad(
    a: Array, grad_matrix: Array, masks: Array | None, out: Array
) -> None:
    """``dw`` for ``y = masked_matmul(w, a, masks)`` over every step, into ``out``.

    ``a`` is ``(time, features, batch)``; ``grad_matrix`` holds the steps' ``dy`` as
    :func:`as_matrix` lays them out, ``(features of y, time x batch)``.
    """
    # y[k] = W[:, k].T @ (a * m_k)  =>  dW[:, k] = sum over steps and batch of
    #                                  (a * m_k) dy[k].T: one GEMM per block
    if masks is None:
        np.copyto(out, long_side_product(as_matrix(a), grad_matrix).T)
        return
    for mask, block in zip(masks, _blocks(out.shape[1], masks), strict=True):
        product = long_side_product(as_matrix(a * mask), grad_matrix[block])
        np.copyto(out[:, block], product.T)


def stacked_kernel_grads(
    xs: Array,
    states: Array,
    start: Array | None,
    grad_matrix: Array,
    stacked: Array,
) -> Array:
    """``[dW, dU]`` transposed, ``(gates, D + U)``, for ``G[t] = x_t @ W + h_{t-1}
    @ U`` when both kernels see the same ``dG`` (no dropout): one product.

    ``xs`` ``(time, D, batch)``, ``states`` the h ``(time, U, batch)``, ``start``
    h_{-1} (None: zeros), ``grad_matrix`` is ``as_matrix(dG)`` and ``stacked`` a
    scratch ``(D + U, time x batch)`` that receives ``[x_t; h_{t-1}]`` for every
    step. The two copies are the ones ``as_matrix`` makes anyway; one product
    instead of two saves a pass over ``dG`` (R1's weight gradients 0.83 -> 0.78 ms).

    >>> xs, states = np.ones((2, 1, 1)), np.full((2, 1, 1), 5.0)  # 2 steps, batch 1
    >>> grads = stacked_kernel_grads(xs, states, None, np.ones((1, 2)), np.empty((2, 2)))
    >>> grads                           # [dW, dU]: x_0 + x_1, h_{-1} + h_0 = 0 + 5
    array([[2., 5.]])
    """
    # G[t] = [x_t, h_{t-1}] @ [W; U]  =>  [dW; dU] = sum over t of [x_t; h_{t-1}].T dG[t]
    length, width, batch = xs.shape
    as_matrix(xs, stacked[:width])
    previous = stacked[width:].reshape(-1, length, batch)  # (U, time, batch) view
    np.copyto(previous[:, 1:], states[:-1].transpose(1, 0, 2))
    previous[:, 0] = 0 if start is None else start
    return long_side_product(stacked, grad_matrix)


def recurrent_kernel_grad(
    outputs: Array,
    grad_matrix: Array,
    masks: Array | None,
    out: Array,
    start: Array | None = None,
) -> None:
    """``dU`` for ``G[t] += (h[t-1] * m) @ U`` into ``out``: one GEMM over the steps
    1..T-1, and one more for step 0 when the state starts at ``start`` (``h[-1]``,
    ``(units, batch)``; the zero start adds nothing). ``outputs`` holds the states h
    ``(time, units, batch)``, ``grad_matrix`` is ``as_matrix(dG)``, ``masks`` the
    recurrent dropout masks (or None)."""
    # G[t] += (h[t-1] * m) @ U  =>  dU = sum over t of (h[t-1] * m).T @ dG[t]
    batch = outputs.shape[2]
    if len(outputs) == 1:
        out[...] = 0
    else:
        masked_weight_grad(outputs[:-1], grad_matrix[:, batch:], masks, out)
    if start is not None:
        first = np.empty_like(out)
        masked_weight_grad(start[None], grad_matrix[:, :batch], masks, first)
        out += first
