"""scikit-learn's MLP losses, written as glassnet losses.

scikit-learn's ``MLPClassifier`` and ``MLPRegressor`` define their losses a little
differently from Keras (and from :mod:`glassnet.losses`)::

    half squared error   l_i = 0.5 * mean_outputs (p - y)^2        (half of mse)
    binary log loss      l_i = -sum_outputs (y log p + (1 - y) log(1 - p))
    multinomial log loss l_i = -sum_classes y log p                 (one-hot y)

Probabilities are clipped to ``[eps, 1 - eps]``, ``eps`` the machine epsilon of their
float type. Binary log loss *sums* over sigmoid units where Keras averages, which
only matters for multilabel targets. As in every glassnet loss, ``forward`` is the
mean of ``per_sample`` over the batch and ``backward`` is already divided by ``n``.

Each loss meets its output activation as a canonical link (identity, sigmoid,
softmax), so the gradient at the logits ``z`` is one simple expression::

    dL/dz = (p - y) / n                (also / n_outputs for the half squared error)

which :meth:`logits_gradient` returns, given ``p`` as the forward pass computed it.

>>> import numpy as np
>>> loss = HalfSquaredError()
>>> loss.forward(np.array([[1.0], [3.0]]), np.array([[2.0], [3.0]]))
0.25
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from glassnet._typing import Array
from glassnet.losses import Loss

__all__ = ["BinaryLogLoss", "HalfSquaredError", "MultinomialLogLoss", "SklearnLoss"]


def _pair(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> tuple[Array, Array]:
    """Float arrays shaped (n, k), in y_pred's float type."""
    p = np.asarray(y_pred)
    if p.dtype.kind != "f":
        p = p.astype(np.float64)
    t = np.asarray(y_true, dtype=p.dtype)
    return t.reshape(p.shape), p


def _clip(p: Array) -> Array:
    eps = np.finfo(p.dtype).eps
    return np.clip(p, eps, 1 - eps)


class SklearnLoss(Loss):
    """A loss with scikit-learn's definition; ``out_activation`` names its link."""

    #: scikit-learn's name of the output activation (``out_activation_``).
    out_activation = "identity"
    #: The glassnet activation of the output layer.
    glassnet_activation = "linear"
    #: The glassnet loss the model is compiled with (same minimum, Keras' scale).
    glassnet_loss = "mean_squared_error"

    def logits_gradient(
        self, y_true: npt.ArrayLike, logits: Array, output: Array
    ) -> Array:
        """``dL/dz`` at the output layer's logits, given its ``output`` p."""
        # canonical link: dL/dz = (p - y) / n
        t, p = _pair(y_true, output)
        return (p - t) / len(p)

    def get_config(self) -> dict[str, Any]:
        """No arguments."""
        return {}


class HalfSquaredError(SklearnLoss):
    """``0.5 * mean_outputs((p - y)^2)`` per sample: scikit-learn's squared error.

    ``backward`` is ``(p - y) / (n * k)`` for ``k`` outputs (already divided by
    the batch size ``n``).

    >>> import numpy as np
    >>> y, p = np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])
    >>> HalfSquaredError().per_sample(y, p)  # 0.5 * (1 + 0) / 2
    array([0.25])
    >>> HalfSquaredError().backward(y, p)
    array([[0.5, 0. ]])
    """

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _pair(y_true, y_pred)
        return 0.5 * np.square(p - t).mean(axis=1)

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        # L = (1/n) sum_i 0.5 * (1/k) sum_j (p_ij - y_ij)^2  =>  dL/dp = (p - y) / (n k)
        t, p = _pair(y_true, y_pred)
        return (p - t) / p.size

    def logits_gradient(
        self, y_true: npt.ArrayLike, logits: Array, output: Array
    ) -> Array:
        """The output is the logits (identity link): ``(p - y) / (n * k)``."""
        return self.backward(y_true, output)


class BinaryLogLoss(SklearnLoss):
    """Log loss of independent sigmoid units, summed over units, mean over samples.

    Binary classification has one unit; multilabel targets have one per label.

    >>> import numpy as np
    >>> round(float(BinaryLogLoss().per_sample([[1.0]], [[0.5]])[0]), 6)  # log 2
    0.693147
    """

    out_activation = "logistic"
    glassnet_activation = "sigmoid"
    glassnet_loss = "binary_crossentropy"

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _pair(y_true, y_pred)
        q = _clip(p)
        return -(t * np.log(q) + (1 - t) * np.log1p(-q)).sum(axis=1)

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        # L = (1/n) sum -(y log q + (1 - y) log(1 - q)), q = clip(p)
        #   =>  dL/dp = (q - y) / (q (1 - q)) / n inside the clip range, 0 outside
        t, p = _pair(y_true, y_pred)
        q = _clip(p)
        return (q - t) / (q * (1 - q) * len(p)) * (q == p)


class MultinomialLogLoss(SklearnLoss):
    """Cross-entropy of a softmax output with one-hot targets, mean over samples.

    >>> import numpy as np
    >>> round(float(MultinomialLogLoss().per_sample([[0, 1]], [[0.5, 0.5]])[0]), 6)
    0.693147
    """

    out_activation = "softmax"
    glassnet_activation = "softmax"
    glassnet_loss = "sparse_categorical_crossentropy"

    def per_sample(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        t, p = _pair(y_true, y_pred)
        return -(t * np.log(_clip(p))).sum(axis=1)

    def backward(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Array:
        # L = (1/n) sum -y log q, q = clip(p)  =>  dL/dp = -y / (q n), 0 where clipped
        t, p = _pair(y_true, y_pred)
        q = _clip(p)
        return -t / (q * len(p)) * (q == p)

    def logits_gradient(
        self, y_true: npt.ArrayLike, logits: Array, output: Array
    ) -> Array:
        """``(p * sum(y) - y) / n``, which is ``(p - y) / n`` for one-hot rows."""
        # p = softmax(z)  =>  dL/dz_j = (p_j sum_i y_i - y_j) / n
        t, p = _pair(y_true, output)
        return (p * t.sum(axis=1, keepdims=True) - t) / len(p)
