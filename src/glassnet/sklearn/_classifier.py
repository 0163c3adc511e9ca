"""``GlassClassifier``: scikit-learn's MLPClassifier, trained by glassnet."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)

from glassnet._typing import Array
from glassnet.errors import DataError, InvalidArgumentError
from glassnet.sklearn._base import GlassMLPBase
from glassnet.sklearn._losses import BinaryLogLoss, MultinomialLogLoss, SklearnLoss

__all__ = ["GlassClassifier"]


class GlassClassifier(ClassifierMixin, GlassMLPBase):
    """A multi-layer perceptron classifier: scikit-learn's ``MLPClassifier`` API on glassnet.

    Same parameters, defaults and fitted attributes as
    ``sklearn.neural_network.MLPClassifier``, plus per-layer ``activation``,
    ``dropout``, ``class_weight``, ``early_stopping_monitor`` and ``dtype``, and any
    glassnet optimizer as ``solver``. Two classes train one sigmoid unit, more train
    a softmax layer, and a multilabel indicator ``y`` trains one sigmoid unit per
    label. The network is a glassnet :class:`~glassnet.models.Sequential`, kept as
    ``model_``. See ``docs/sklearn.md`` for the full parameter mapping.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Units of each hidden layer.
    activation : str, ActivationFunction or list of them, default="relu"
        Hidden activation: scikit-learn's "identity", "logistic", "tanh", "relu",
        or any glassnet activation ("gelu", "leaky_relu", ...); a list gives one per
        hidden layer.
    solver : str or glassnet Optimizer, default="adam"
        "lbfgs" (SciPy's L-BFGS-B on the whole set), "sgd", "adam", any glassnet
        optimizer name ("rmsprop", "adagrad", "adamw"), a config dict, or an
        optimizer instance (copied at each fit; its own learning rate is used).
        Names receive ``learning_rate_init``, ``momentum``,
        ``nesterovs_momentum``, ``beta_1``, ``beta_2`` and ``epsilon`` wherever the
        optimizer takes them.
    alpha : float, default=0.0001
        L2 penalty: scikit-learn's ``alpha / 2 * sum ||W||^2 / n_samples`` is added
        to the loss (biases are not penalized).
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        scikit-learn's learning-rate schedule, used with SGD only.
    learning_rate_init, power_t : float, default=0.001, 0.5
        Initial step size; exponent of "invscaling".
    max_iter : int, default=200
        Epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Shuffle the rows every epoch (with the model's seeded generator).
    random_state : int, RandomState or None, default=None
        An int is the glassnet model's seed: same seed, same data, same weights.
    tol, n_iter_no_change : float, int, default=1e-4, 10
        Stop after ``n_iter_no_change`` epochs that improve the monitored value by
        less than ``tol`` (``np.inf`` never stops).
    verbose, warm_start : bool, default=False
        Print the loss per iteration; continue from the fitted network.
    momentum, nesterovs_momentum : float, bool, default=0.9, True
        For optimizers with momentum (sgd, rmsprop).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop when the
        monitored validation value stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share held out when ``early_stopping`` is on.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's (and AdamW's) moment decays; epsilon for any optimizer that has one.
    max_fun : int, default=15000
        Most loss evaluations for lbfgs.
    dropout : float or list of float, default=0.0
        Dropout rate after each hidden layer (one value or one per layer).
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``; "balanced" uses
        ``n_samples / (n_classes * count(class))``.
    early_stopping_monitor : {"score", "val_loss"}, default="score"
        What early stopping watches: scikit-learn's validation accuracy, or the
        validation loss.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the network's weights and computation.

    Attributes
    ----------
    classes_ : ndarray
        The class labels (``arange(n_labels)`` for multilabel targets).
    model_ : glassnet.models.Sequential
        The trained network, compiled with the matching glassnet loss.
    coefs_, intercepts_ : list of ndarray
        Each Dense layer's ``W`` and ``b`` (the arrays the model trains).
    loss_, loss_curve_, best_loss_ : float, list, float or None
        scikit-learn's training loss (with the L2 term), per iteration, and best.
    validation_scores_, best_validation_score_ : list, float or None
        Validation accuracy per epoch and its best value, with early stopping.
    validation_loss_curve_, best_validation_loss_ : list, float or None
        Validation loss (without the L2 term) per epoch and at the best epoch.
    n_iter_, t_, n_layers_, n_outputs_, out_activation_, n_features_in_ :
        As in scikit-learn.

    Examples
    --------
    >>> from glassnet.datasets import two_moons
    >>> from glassnet.sklearn import GlassClassifier
    >>> x, y = two_moons(200, noise=0.1, seed=0)
    >>> clf = GlassClassifier((16, 16), learning_rate_init=0.01, max_iter=300,
    ...                       random_state=0).fit(x, y)
    >>> clf.score(x, y) > 0.95
    True
    >>> clf.predict_proba(x[:2]).shape, clf.classes_
    ((2, 2), array([0, 1]))
    """

    _kind = "classifier"

    def __init__(
        self,
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
        class_weight: Any = None,
        early_stopping_monitor: str = "score",
        dtype: Any = "float32",
    ) -> None:
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
        self.class_weight = class_weight
        self.early_stopping_monitor = early_stopping_monitor
        self.dtype = dtype

    # -- public API --------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GlassClassifier:
        """Train on ``(X, y)`` (from scratch unless ``warm_start``); returns self."""
        self._fit(X, y, sample_weight)
        return self

    @available_if(lambda self: self._check_solver())
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> GlassClassifier:
        """One epoch over ``(X, y)``; the first call needs ``classes`` (all labels)."""
        self._fit(X, y, sample_weight, incremental=True, classes=classes)
        return self

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, columns in the order of ``classes_``."""
        p = self._outputs(X)
        if self.n_outputs_ == 1:
            return np.hstack([1.0 - p, p])
        return p

    def predict_log_proba(self, X: Any) -> Array:
        """``log(predict_proba(X))`` (-inf where a probability is exactly 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> Array:
        """The most probable class (multilabel: each label with probability > 0.5)."""
        return self._labels(self._outputs(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # -- hooks for GlassMLPBase ------------------------------------------------------
    def _multilabel(self) -> bool:
        return self.out_activation_ == "logistic" and self.n_outputs_ > 1

    def _stratify_validation(self) -> bool:
        return not self._multilabel()

    def _validate_xy(self, x: Any, y: Any, dtype: np.dtype, reset: bool) -> Any:
        x, y = super()._validate_xy(x, y, dtype, reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return x, y

    def _targets(
        self, y: Any, *, reset: bool, incremental: bool, classes: Any, dtype: np.dtype
    ) -> tuple[Array, SklearnLoss]:
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise DataError(
                "GlassClassifier takes class labels (binary or multiclass) or a "
                f"multilabel indicator matrix. Received: y of type '{kind}'"
            )
        multilabel = kind == "multilabel-indicator"
        if reset:
            new_classes = self._new_classes(y, multilabel, incremental, classes)
            if not multilabel and len(new_classes) < 2:
                raise DataError(
                    "GlassClassifier needs samples of at least 2 classes; the data "
                    f"has only one class: {new_classes[0]!r}."
                )
            self.classes_ = new_classes
        else:
            self._check_labels(y, multilabel, incremental, classes)
        if multilabel:
            return np.asarray(y, dtype=dtype), BinaryLogLoss()
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return index.astype(dtype).reshape(-1, 1), BinaryLogLoss()
        return np.eye(len(self.classes_), dtype=dtype)[index], MultinomialLogLoss()

    def _new_classes(
        self, y: Any, multilabel: bool, incremental: bool, classes: Any
    ) -> Array:
        if multilabel:
            return np.arange(y.shape[1])
        if incremental:
            if classes is None:
                raise InvalidArgumentError(
                    "classes must be passed on the first call to partial_fit: every "
                    "label the model will see, e.g. classes=np.unique(y_all)."
                )
            known = unique_labels(classes)
            unseen = np.setdiff1d(unique_labels(y), known)
            if len(unseen):
                raise DataError(
                    f"`y` has labels {unseen.tolist()} that are not in `classes` "
                    f"{known.tolist()}."
                )
            return known
        return unique_labels(y)

    def _check_labels(
        self, y: Any, multilabel: bool, incremental: bool, classes: Any
    ) -> None:
        if multilabel != self._multilabel():
            raise DataError(
                "This classifier was fitted on "
                f"{'a multilabel indicator' if self._multilabel() else 'class labels'}"
                "; keep the same kind of targets, or set warm_start=False."
            )
        if multilabel:
            return
        if classes is not None and not np.array_equal(
            unique_labels(classes), self.classes_
        ):
            raise InvalidArgumentError(
                "Argument `classes` must name the same labels on every call to "
                f"partial_fit: the first call's were {self.classes_.tolist()}. "
                f"Received: classes={unique_labels(classes).tolist()}. To train on "
                "other labels, start afresh with fit or a new estimator."
            )
        labels = unique_labels(y)
        unseen = np.setdiff1d(labels, self.classes_)
        if self.warm_start and not incremental and set(labels) != set(self.classes_):
            raise DataError(
                "warm_start needs `y` with the same classes as the previous fit: "
                f"{self.classes_.tolist()}. Received: {labels.tolist()}"
            )
        if len(unseen):
            raise DataError(
                f"`y` has classes {unseen.tolist()} that the model does not know; "
                f"classes_ is {self.classes_.tolist()}."
            )

    def _check_own_params(self) -> None:
        weights = self.class_weight
        if not (weights is None or isinstance(weights, dict) or weights == "balanced"):
            raise InvalidArgumentError(
                "Argument `class_weight` must be None, 'balanced' or a dict "
                f"{{label: weight}}. Received: class_weight={weights!r}"
            )

    def _class_weights(self, y: Any, incremental: bool) -> Array | None:
        if self.class_weight is None:
            return None
        if y.ndim == 2:
            raise InvalidArgumentError(
                "class_weight is not supported for multilabel targets; pass "
                "sample_weight instead."
            )
        if isinstance(self.class_weight, str) and incremental:
            raise InvalidArgumentError(
                "class_weight='balanced' needs the whole data set, so partial_fit "
                "cannot use it: compute the weights once (sklearn.utils.class_weight"
                ".compute_class_weight) and pass them as a dict."
            )
        per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        return np.asarray(per_class, dtype=np.float64)[
            np.searchsorted(self.classes_, y)
        ]

    def _labels(self, p: Array) -> Array:
        """Predicted labels from the network's outputs ``p``."""
        if self._multilabel():
            return (p > 0.5).astype(np.int64)
        if self.n_outputs_ == 1:
            return self.classes_[(p[:, 0] > 0.5).astype(np.intp)]
        return self.classes_[p.argmax(axis=1)]

    def _score_outputs(self, out: Array, y: Any, w: Array | None) -> float:
        return float(accuracy_score(y, self._labels(out), sample_weight=w))
