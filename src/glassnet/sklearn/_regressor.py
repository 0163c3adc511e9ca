"""``GlassRegressor``: scikit-learn's MLPRegressor, trained by glassnet."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import validate_data

from glassnet._typing import Array
from glassnet.errors import InvalidArgumentError
from glassnet.sklearn._base import GlassMLPBase
from glassnet.sklearn._losses import HalfSquaredError, SklearnLoss

__all__ = ["GlassRegressor"]


class GlassRegressor(RegressorMixin, GlassMLPBase):
    """A multi-layer perceptron regressor: scikit-learn's ``MLPRegressor`` API on glassnet.

    Same parameters, defaults and fitted attributes as
    ``sklearn.neural_network.MLPRegressor`` (``loss="squared_error"``), plus
    per-layer ``activation``, ``dropout``, ``early_stopping_monitor`` and ``dtype``,
    and any glassnet optimizer as ``solver``. The output layer is linear with one
    unit per target; the loss is scikit-learn's half squared error,
    ``0.5 * mean((y - p)^2)``, plus the L2 term. The parameters are those of
    :class:`GlassClassifier` (without ``class_weight``), and early stopping's score
    is R^2. See ``docs/sklearn.md``.

    Parameters
    ----------
    loss : {"squared_error"}, default="squared_error"
        scikit-learn's "poisson" is not available yet. As in scikit-learn, ``loss``
        comes first: pass ``hidden_layer_sizes`` by keyword.
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate, \
learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, \
warm_start, momentum, nesterovs_momentum, early_stopping, validation_fraction, \
beta_1, beta_2, epsilon, n_iter_no_change, max_fun, dropout, \
early_stopping_monitor, dtype :
        As in :class:`GlassClassifier`.

    Attributes
    ----------
    model_, coefs_, intercepts_, loss_, loss_curve_, best_loss_, n_iter_, t_, \
n_layers_, n_outputs_, out_activation_, n_features_in_, validation_scores_, \
best_validation_score_, validation_loss_curve_, best_validation_loss_ :
        As in :class:`GlassClassifier`; the validation score is R^2.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.sklearn import GlassRegressor
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, size=(200, 2))
    >>> y = x[:, 0] ** 2 + 0.5 * x[:, 1]
    >>> reg = GlassRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
    ...                      max_iter=500, random_state=0).fit(x, y)
    >>> reg.score(x, y) > 0.95
    True
    >>> reg.predict(x[:3]).shape
    (3,)
    """

    _kind = "regressor"

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        solver: Any = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: Any = 10,
        max_fun: int = 15000,
        dropout: Any = 0.0,
        early_stopping_monitor: str = "score",
        dtype: Any = "float32",
    ) -> None:
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.early_stopping_monitor = early_stopping_monitor
        self.dtype = dtype

    # -- public API --------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GlassRegressor:
        """Train on ``(X, y)`` (from scratch unless ``warm_start``); returns self."""
        self._fit(X, y, sample_weight)
        return self

    @available_if(lambda self: self._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> GlassRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights."""
        self._fit(X, y, sample_weight, incremental=True)
        return self

    def predict(self, X: Any) -> Array:
        """Predicted targets: shape (n,) for one target, (n, n_outputs) for several."""
        out = self._outputs(X)
        return out.ravel() if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    # -- hooks for GlassMLPBase ------------------------------------------------------
    def _validate_xy(self, x: Any, y: Any, dtype: np.dtype, reset: bool) -> Any:
        x, y = validate_data(
            self,
            x,
            y,
            accept_sparse=("csr", "csc"),
            multi_output=True,
            y_numeric=True,
            dtype=dtype,
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return x, y

    def _check_own_params(self) -> None:
        if not isinstance(self.loss, str) or self.loss != "squared_error":
            raise InvalidArgumentError(
                "GlassRegressor supports loss='squared_error' only (scikit-learn's "
                f"'poisson' is not available yet). Received: loss={self.loss!r}"
            )

    def _targets(
        self, y: Any, *, reset: bool, incremental: bool, classes: Any, dtype: np.dtype
    ) -> tuple[Array, SklearnLoss]:
        return np.asarray(y, dtype=dtype).reshape(len(y), -1), HalfSquaredError()

    def _score_outputs(self, out: Array, y: Any, w: Array | None) -> float:
        predicted = out.ravel() if self.n_outputs_ == 1 else out
        return float(r2_score(y, predicted, sample_weight=w))
