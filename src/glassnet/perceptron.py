"""The Rosenblatt perceptron: a step-activated neuron trained by the perceptron rule.

A perceptron (seeds/002, seeds/003) computes a weighted sum plus a bias and fires when
that sum exceeds a threshold. It learns with the perceptron rule: show it one sample,
and if it answers wrongly, nudge the weights towards the right answer. On data that a
straight line (a hyperplane) can separate it stops making mistakes after finitely many
updates; on XOR it never does, which is why multi-layer networks were invented.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassnet._typing import Array, ArrayLike
from glassnet._validation import (
    _check_real,
    as_float_array,
    check_bool,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from glassnet.errors import (
    ConvergenceWarning,
    DataError,
    GlassnetTypeError,
    NotFittedError,
    ShapeError,
)

__all__ = ["Perceptron"]


class Perceptron:
    """A binary classifier: step activation, trained by the perceptron learning rule.

    For every training sample ``x`` with target ``t`` (0 for the first class, 1 for
    the second), one step of training is::

        z = w @ x + b                                 # weighted sum plus bias
        prediction = 1 if z > threshold else 0        # step activation
        w += learning_rate * (t - prediction) * x     # only changes on a mistake,
        b += learning_rate * (t - prediction)         # since then t - prediction = +-1

    One epoch applies the rule to every sample once (in a shuffled order if
    ``shuffle``). Training stops after the first epoch that makes no update: every
    point is then classified correctly. The weights and bias start at zero, as in
    Rosenblatt's original rule, so with ``threshold=0`` the learning rate only scales
    the weights and never changes the predictions.

    Parameters
    ----------
    learning_rate : float, default 1.0
        Step size of the rule. The classic value 1 keeps the weights exact sums of
        training samples, which makes hand-worked examples easy to follow.
    epochs : int, default 100
        Maximum number of passes over the training data.
    shuffle : bool, default True
        Visit the samples in a new random order each epoch.
    seed : int or None, default None
        Seed of the random generator used for shuffling. The same seed and data
        always give the same weights.
    threshold : float, default 0.0
        The perceptron fires (predicts the second class) when ``w @ x + b`` is
        strictly greater than this value.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels seen in ``fit``, sorted. ``classes_[1]`` is the "fires" class.
    weights_ : ndarray of shape (n_features,)
        Learned weights.
    bias_ : float
        Learned bias.
    n_features_in_ : int
        Number of features seen in ``fit``.
    updates_per_epoch_ : list of int
        Mistakes (hence updates) made during each epoch, while the weights changed.
    errors_ : list of int
        Training points misclassified by the weights at the end of each epoch.
    n_epochs_ : int
        Number of epochs actually run.
    converged_ : bool
        True if the final weights classify every training point correctly.

    Examples
    --------
    The AND gate is linearly separable, so the perceptron learns it:

    >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    >>> y = [0, 0, 0, 1]
    >>> p = Perceptron(shuffle=False).fit(X, y)
    >>> p.predict(X)
    array([0, 0, 0, 1])
    >>> p.weights_, p.bias_
    (array([2., 1.]), -2.0)
    >>> p.updates_per_epoch_
    [1, 3, 3, 2, 1, 0]
    >>> p.converged_, p.score(X, y)
    (True, 1.0)
    """

    def __init__(
        self,
        learning_rate: float = 1.0,
        epochs: int = 100,
        shuffle: bool = True,
        seed: int | None = None,
        threshold: float = 0.0,
    ) -> None:
        (self.learning_rate, self.epochs, self.shuffle, self.seed, self.threshold) = (
            _check_hyper_parameters(learning_rate, epochs, shuffle, seed, threshold)
        )

    # Fitted attributes, created by fit() (scikit-learn convention: absent before).
    classes_: Array
    weights_: Array
    bias_: float
    n_features_in_: int
    updates_per_epoch_: list[int]
    errors_: list[int]
    n_epochs_: int
    converged_: bool

    def __repr__(self) -> str:
        return (
            f"Perceptron(learning_rate={self.learning_rate!r}, epochs={self.epochs!r}, "
            f"shuffle={self.shuffle!r}, seed={self.seed!r}, "
            f"threshold={self.threshold!r})"
        )

    def fit(self, X: ArrayLike, y: ArrayLike) -> Perceptron:
        """Learn weights and bias from ``X`` (n_samples, n_features) and labels ``y``.

        ``y`` may hold any two labels (0/1, -1/+1, strings, booleans). Warns with
        :class:`~glassnet.errors.ConvergenceWarning` if some training points are
        still misclassified after ``epochs`` epochs. Bad input raises before
        anything changes, so a fitted perceptron keeps its old weights.
        """
        # Public attributes a user may have edited since __init__: check them again.
        lr, epochs, shuffle, seed, threshold = _check_hyper_parameters(
            self.learning_rate, self.epochs, self.shuffle, self.seed, self.threshold
        )
        X = self._check_X(X, fitted=False)
        classes, targets = _encode_labels(y, len(X))

        rng = np.random.default_rng(seed)
        w = np.zeros(X.shape[1])
        b = 0.0
        updates_per_epoch: list[int] = []
        errors: list[int] = []
        order = np.arange(len(X))
        for _ in range(epochs):
            if shuffle:
                order = rng.permutation(len(X))
            updates = 0
            for i in order:
                prediction = 1 if X[i] @ w + b > threshold else 0
                error = targets[i] - prediction
                if error != 0:
                    w += lr * error * X[i]
                    b += lr * error
                    updates += 1
            updates_per_epoch.append(updates)
            errors.append(int(np.sum((X @ w + b > threshold) != targets)))
            if updates == 0:
                break

        self.classes_ = classes
        self.weights_ = w
        self.bias_ = float(b)
        self.n_features_in_ = X.shape[1]
        self.updates_per_epoch_ = updates_per_epoch
        self.errors_ = errors
        self.n_epochs_ = len(updates_per_epoch)
        self.converged_ = errors[-1] == 0
        if not self.converged_:
            warnings.warn(
                f"Perceptron did not converge after {self.n_epochs_} "
                f"epoch{'s' if self.n_epochs_ != 1 else ''}: "
                f"{errors[-1]} of {len(X)} training points are still misclassified. "
                "The data may not be linearly separable (XOR is the classic example: "
                "no straight line separates its classes, so the perceptron rule "
                "never stops updating). If the data should be separable, increase "
                "`epochs`; otherwise use a network with a hidden layer.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def decision_function(self, X: ArrayLike) -> Array:
        """Return the weighted sums ``X @ weights_ + bias_``, shape (n_samples,)."""
        X = self._check_X(X, fitted=True)
        return X @ self.weights_ + self.bias_

    def predict(self, X: ArrayLike) -> Array:
        """Return the predicted label (one of ``classes_``) of each row of ``X``."""
        fires = self.decision_function(X) > self.threshold
        return self.classes_[fires.astype(int)]

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Return the accuracy: the fraction of rows of ``X`` labelled as in ``y``."""
        predictions = self.predict(X)
        labels = _as_label_vector(y)
        if len(labels) != len(predictions):
            raise ShapeError(
                "X and y must have the same number of samples. "
                f"Received: len(X)={len(predictions)}, len(y)={len(labels)}"
            )
        return float(np.mean(predictions == labels))

    def _check_X(self, X: Any, *, fitted: bool) -> Array:
        if fitted and not hasattr(self, "weights_"):
            raise NotFittedError(
                "This Perceptron is not fitted yet. Call fit(X, y) before using "
                "predict, decision_function or score."
            )
        array = as_float_array(X, "X")
        if array.ndim != 2:
            raise ShapeError(
                "Argument `X` must be 2-D with shape (n_samples, n_features); for a "
                "single sample use [x], for a single feature X.reshape(-1, 1). "
                f"Received: X.shape={array.shape}"
            )
        if fitted and array.shape[1] != self.n_features_in_:
            raise ShapeError(
                f"Argument `X` has {array.shape[1]} features, but this Perceptron "
                f"was fitted with {self.n_features_in_}. Expected: X.shape=(n, "
                f"{self.n_features_in_}). Received: X.shape={array.shape}"
            )
        return array


def _check_hyper_parameters(
    learning_rate: Any, epochs: Any, shuffle: Any, seed: Any, threshold: Any
) -> tuple[float, int, bool, int | None, float]:
    return (
        check_positive_float(learning_rate, "learning_rate"),
        check_positive_int(epochs, "epochs"),
        check_bool(shuffle, "shuffle"),
        check_seed(seed, "seed"),
        _check_real(threshold, "threshold", "a finite number"),
    )


def _as_label_vector(y: Any) -> Array:
    """Return ``y`` as a 1-D array of labels (a column (n, 1) is flattened)."""
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ShapeError(
            "Argument `y` must be a 1-D sequence of labels, one per sample. "
            f"Received: y.shape={labels.shape}"
        )
    return labels


def _encode_labels(y: Any, n_samples: int) -> tuple[Array, Array]:
    """Check ``y`` and return ``(classes, targets)`` with targets 0/1 per sample."""
    labels = _as_label_vector(y)
    if len(labels) == 0:
        raise DataError("Argument `y` is empty. Received: y.shape=(0,)")
    if len(labels) != n_samples:
        raise ShapeError(
            "X and y must have the same number of samples. "
            f"Received: len(X)={n_samples}, len(y)={len(labels)}"
        )
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise DataError("Argument `y` contains NaN or inf. Every label must be set.")
    try:
        classes, targets = np.unique(labels, return_inverse=True)
    except TypeError:
        raise GlassnetTypeError(
            "Argument `y` mixes labels that cannot be compared (e.g. numbers and "
            f"strings or None). Received: y={labels.tolist()!r:.80}"
        ) from None
    if len(classes) != 2:
        raise DataError(
            f"Argument `y` must contain exactly two classes; it contains "
            f"{len(classes)}: {classes.tolist()!r:.80}. A perceptron separates two "
            "classes (use a network with a softmax output for more)."
        )
    return classes, targets.reshape(-1)
