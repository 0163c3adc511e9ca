"""What GlassClassifier and GlassRegressor share: fit, partial_fit plumbing, predict.

A fit checks the parameters (:func:`~glassnet.sklearn._params.check_params`) and
the data (scikit-learn's ``validate_data``), lets the subclass encode the targets
and the sample weights, builds the glassnet network on a first fit, and trains it
with :mod:`glassnet.sklearn._solvers`. The fitted attributes follow scikit-learn's
MLP; ``coefs_[i]`` and ``intercepts_[i]`` are the very arrays ``model_`` trains.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from glassnet._typing import Array
from glassnet._validation import as_float_array
from glassnet.errors import DataError, InvalidArgumentError, ShapeError
from glassnet.optimizers import Adam
from glassnet.sklearn._losses import SklearnLoss
from glassnet.sklearn._network import build_network, dense_layers, forward
from glassnet.sklearn._params import Spec, check_params
from glassnet.sklearn._solvers import fit_lbfgs, fit_stochastic

__all__ = ["GlassMLPBase"]

_SPARSE_FORMATS = ("csr", "csc")


def _seed(random_state: Any) -> int | None:
    """glassnet's seed for scikit-learn's ``random_state``.

    An int is the seed itself; a ``RandomState`` (or None: NumPy's global one, as in
    scikit-learn) gives one draw, so each fit with it differs.
    """
    generator = check_random_state(random_state)  # rejects invalid values
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(generator.randint(np.iinfo(np.int32).max))


def _sample_weight(sample_weight: Any, n: int) -> Array | None:
    if sample_weight is None:
        return None
    w = as_float_array(sample_weight, "sample_weight", np.float64, min_ndim=0)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.shape != (n,):
        raise ShapeError(
            f"Argument `sample_weight` needs one weight per sample: shape ({n},). "
            f"Received: sample_weight.shape={w.shape}"
        )
    if w.min() < 0:
        raise DataError("Argument `sample_weight` must not contain negative weights.")
    if w.sum() <= 0:
        raise DataError(
            "Argument `sample_weight` has every weight zero: at least one sample needs a "
            "positive weight."
        )
    return w


class GlassMLPBase(BaseEstimator):
    """Base class of the glassnet estimators (use the subclasses)."""

    # Set by subclasses: "classifier" or "regressor" (for model names and messages).
    _kind = ""

    # -- what a subclass provides ------------------------------------------------
    def _check_own_params(self) -> None:
        """Check the parameters only this subclass has (before any state changes)."""

    def _targets(
        self, y: Any, *, reset: bool, incremental: bool, classes: Any, dtype: np.dtype
    ) -> tuple[Array, SklearnLoss]:
        """Encode ``y`` for the network; return it and the loss that trains on it."""
        raise NotImplementedError

    def _class_weights(self, y: Any, incremental: bool) -> Array | None:
        """Per-sample weights from ``class_weight`` (classifiers), or None."""
        return None

    def _score_outputs(self, out: Array, y: Any, w: Array | None) -> float:
        """The validation score (accuracy or R^2) of network outputs ``out``."""
        raise NotImplementedError

    def _stratify_validation(self) -> bool:
        return False

    def _validate_xy(self, x: Any, y: Any, dtype: np.dtype, reset: bool) -> Any:
        return validate_data(
            self,
            x,
            y,
            accept_sparse=_SPARSE_FORMATS,
            multi_output=True,
            dtype=dtype,
            reset=reset,
        )

    # -- fitting -----------------------------------------------------------------
    def _fit(
        self,
        x: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        incremental: bool = False,
        classes: Any = None,
    ) -> GlassMLPBase:
        spec = check_params(self)
        self._check_own_params()
        if incremental and self.early_stopping:
            raise InvalidArgumentError(
                "partial_fit does not support early_stopping=True: there is no "
                "held-out set across calls. Use fit, or set early_stopping=False."
            )
        reset = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        dtype = spec.dtype if reset else self.model_.dtype
        x, y = self._validate_xy(x, y, dtype, reset)
        if hasattr(x, "tocsr"):
            x = x.tocsr()  # rows are sliced every batch
        targets, loss = self._targets(
            y, reset=reset, incremental=incremental, classes=classes, dtype=dtype
        )
        w = _sample_weight(sample_weight, x.shape[0])
        class_weights = self._class_weights(y, incremental)
        if class_weights is not None:
            w = class_weights if w is None else w * class_weights
        if w is not None:
            w = w.astype(dtype)
        if reset:
            self._initialize(spec, x.shape[1], targets.shape[1], loss)
        else:
            self._check_warm_start(spec, targets.shape[1])
            if self.early_stopping != (self.validation_scores_ is not None):
                self._reset_monitoring(self.early_stopping)  # switched since last fit
        if spec.make_optimizer is None:
            self._compile(self._lbfgs_placeholder())
            fit_lbfgs(self, x, targets, w)
        else:
            if reset or not incremental:
                self._compile(spec.make_optimizer())
            fit_stochastic(self, spec, x, targets, y, w, incremental)
        return self

    def _initialize(
        self, spec: Spec, n_features: int, n_outputs: int, loss: SklearnLoss
    ) -> None:
        """Build a fresh network and reset every fitted attribute (first fit)."""
        self.model_ = build_network(
            spec,
            n_features,
            n_outputs,
            loss.glassnet_activation,
            _seed(self.random_state),
            name=f"glass_{self._kind}",
        )
        self._loss = loss
        self._collect_weights()
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(spec.hidden) + 2
        self.out_activation_ = loss.out_activation
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        self._best_weights = self.model_.get_weights()
        # As in scikit-learn, early stopping is for the stochastic solvers only.
        self._reset_monitoring(self.early_stopping and spec.make_optimizer is not None)

    def _reset_monitoring(self, early_stopping: bool) -> None:
        """The attributes that track the best epoch, for early stopping or not."""
        if early_stopping:
            self.validation_scores_: list[float] | None = []
            self.validation_loss_curve_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_validation_loss_: float | None = np.inf
            self.best_loss_: float | None = None
            self._best_monitored = -np.inf
        else:
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
            self.best_validation_loss_ = None
            self.best_loss_ = np.inf

    def _collect_weights(self) -> None:
        layers = dense_layers(self.model_)
        self.coefs_ = [layer.params["W"] for layer in layers]
        self.intercepts_ = [layer.params["b"] for layer in layers]

    # -- copies, pickles and the size a scheduler sees -----------------------------
    def __getstate__(self) -> dict[str, Any]:
        """What a pickle holds: the parameters and the fitted attributes, with
        ``model_`` carrying the weights and the optimizer state once (see
        ``glassnet/models/pickling.py``). ``coefs_`` and ``intercepts_`` (views of
        the model's weights) and the best weights of early stopping (equal to the
        weights once a fit has ended) are made again on unpickling."""
        state = dict(super().__getstate__())  # object's is the live __dict__
        for key in ("coefs_", "intercepts_", "_best_weights"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        # The unpickled model rebuilt its flat buffer (Network.__setstate__), so
        # coefs_ and intercepts_ point at its new views.
        if "model_" in state:
            self._collect_weights()
            self._best_weights = self.model_.get_weights()

    def __sizeof__(self) -> int:
        """Bytes of the weights and the optimizer state (``sys.getsizeof`` and Dask's
        ``sizeof`` read it to place tasks and decide what to spill)."""
        model = self.__dict__.get("model_")
        return object.__sizeof__(self) + (0 if model is None else model.__sizeof__())

    def _check_warm_start(self, spec: Spec, n_outputs: int) -> None:
        fitted = tuple(coef.shape[1] for coef in self.coefs_[:-1])
        if spec.hidden != fitted or n_outputs != self.n_outputs_:
            raise InvalidArgumentError(
                f"warm_start and partial_fit continue training the fitted network, "
                f"with hidden layers {fitted} and {self.n_outputs_} output(s); this "
                f"call asks for {spec.hidden} and {n_outputs}. Set warm_start=False "
                "to start afresh."
            )

    def _compile(self, optimizer: Any) -> None:
        self.model_.compile(optimizer=optimizer, loss=self._loss.glassnet_loss)

    def _lbfgs_placeholder(self) -> Adam:
        # model_ needs an optimizer for model_.fit; L-BFGS itself is SciPy's.
        return Adam(
            learning_rate=self.learning_rate_init,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )

    def _check_solver(self) -> bool:
        """partial_fit exists only for the stochastic solvers (not lbfgs)."""
        solver = self.solver
        if isinstance(solver, str) and solver.strip().lower() == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers; "
                "'lbfgs' is not stochastic."
            )
        return True

    # -- predicting --------------------------------------------------------------
    def _outputs(self, x: Any) -> Array:
        """The network's outputs for ``x``, computed in float64 from its weights."""
        check_is_fitted(self)
        # 0 rows give 0 outputs: Dask's blockwise predict meets empty partitions
        x = validate_data(
            self,
            x,
            accept_sparse=_SPARSE_FORMATS,
            dtype=np.float64,
            reset=False,
            ensure_min_samples=0,
        )
        if hasattr(x, "tocsr"):
            x = x.tocsr()
        return forward(self.model_, x)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
