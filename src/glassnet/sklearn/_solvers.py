"""The two ways an estimator trains: mini-batch epochs, or L-BFGS on the whole set.

:func:`fit_stochastic` is scikit-learn's stochastic loop with glassnet inside: each
epoch shuffles the rows with the model's seeded generator, runs one
:func:`~glassnet.sklearn._network.loss_and_gradients` and one optimizer step per
batch, records the epoch's loss (the batch losses, weighted by batch size, as
scikit-learn reports them), then decides whether to stop: after
``n_iter_no_change`` epochs without improving by ``tol`` on the training loss, or,
with ``early_stopping``, on the validation score or loss, whose best weights are
restored at the end. A loss that turns NaN or inf raises an error with advice;
with ``early_stopping``, as in scikit-learn, it does not: the epoch's validation
score is NaN, training stops there with a warning and the best weights are
restored (scikit-learn runs on to ``max_iter``; weights that are NaN cannot
improve). :func:`fit_lbfgs` hands the same loss and gradients to SciPy.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.model_selection import train_test_split

from glassnet._typing import Array
from glassnet.errors import ConvergenceWarning as GlassnetConvergenceWarning
from glassnet.errors import InvalidArgumentError
from glassnet.optimizers import SGD, Optimizer
from glassnet.sklearn._network import dense, forward, loss_and_gradients, update
from glassnet.sklearn._params import Spec

__all__ = ["ConvergenceWarning", "fit_lbfgs", "fit_stochastic"]

Validation = tuple[Any, Array, Any, Array | None]  # x, encoded y, raw y, weights


class ConvergenceWarning(GlassnetConvergenceWarning, SklearnConvergenceWarning):
    """Training stopped at ``max_iter`` before converging.

    A subclass of both glassnet's and scikit-learn's ``ConvergenceWarning``, so a
    filter on either catches it.
    """


def _diverged(estimator: Any, optimizer: Optimizer | None) -> InvalidArgumentError:
    rate = "" if optimizer is None else f" (now {optimizer.learning_rate:g})"
    return InvalidArgumentError(
        f"The loss became NaN or inf at iteration {estimator.n_iter_}, so training "
        f"stopped. Try a smaller learning_rate_init{rate}, standardize the inputs "
        "(e.g. StandardScaler in a Pipeline), or scale the regression targets."
    )


def _split(
    estimator: Any, x: Any, y: Array, y_raw: Any, w: Array | None
) -> tuple[Any, Array, Array | None, Validation]:
    """Hold out ``validation_fraction`` of the rows, stratified for classifiers."""
    stratify = None
    if estimator._stratify_validation():
        # Stratified when it can be: every class twice, in both parts at least once.
        _, counts = np.unique(y_raw, return_counts=True)
        n_val = math.ceil(estimator.validation_fraction * x.shape[0])
        fits = min(n_val, x.shape[0] - n_val) >= len(counts)
        stratify = y_raw if counts.min() >= 2 and fits else None
    seed = int(estimator.model_.rng.integers(2**31 - 1))
    arrays = [x, y, y_raw] + ([] if w is None else [w])
    parts = train_test_split(
        *arrays,
        test_size=estimator.validation_fraction,
        random_state=seed,
        stratify=stratify,
    )
    if parts[1].shape[0] < 2:
        raise InvalidArgumentError(
            "The validation set is too small (fewer than 2 samples). Increase "
            "validation_fraction or the size of the data set. Received: "
            f"validation_fraction={estimator.validation_fraction!r} with "
            f"{x.shape[0]} samples"
        )
    x_train, x_val, y_train, y_val, _, raw_val = parts[:6]
    w_train, w_val = (parts[6], parts[7]) if w is not None else (None, None)
    return x_train, y_train, w_train, (x_val, y_val, raw_val, w_val)


def _weighted_mean(values: Array, w: Array | None) -> float:
    return float(np.mean(values) if w is None else np.average(values, weights=w))


def _update_no_improvement_count(estimator: Any, validation: Validation | None) -> None:
    """scikit-learn's rule, plus the validation loss as a second possible monitor."""
    e = estimator
    if validation is None:
        if e.loss_curve_[-1] > e.best_loss_ - e.tol:
            e._no_improvement_count += 1
        else:
            e._no_improvement_count = 0
        e.best_loss_ = min(e.best_loss_, e.loss_curve_[-1])
        return
    x_val, y_val, raw_val, w_val = validation
    out = forward(e.model_, x_val)
    # a diverged network's score is NaN, as scikit-learn's _score_with_function
    finite = bool(np.isfinite(out).all())
    score = e._score_outputs(out, raw_val, w_val) if finite else math.nan
    val_loss = _weighted_mean(e._loss.per_sample(y_val, out), w_val)
    e.validation_scores_.append(score)
    e.validation_loss_curve_.append(val_loss)
    if e.verbose:
        print(f"Validation score: {score:f}, validation loss: {val_loss:f}")
    # Both monitors as "higher is better": the score, or minus the loss.
    value = score if e.early_stopping_monitor == "score" else -val_loss
    if value < e._best_monitored + e.tol:
        e._no_improvement_count += 1
    else:
        e._no_improvement_count = 0
    if value > e._best_monitored:
        e._best_monitored = value
        e.best_validation_score_ = score
        e.best_validation_loss_ = val_loss
        e._best_weights = e.model_.get_weights()


def _keep_going(estimator: Any, optimizer: Optimizer, schedule: str) -> bool:
    """After ``n_iter_no_change`` epochs without progress: stop, or lower the rate."""
    e = estimator
    if not e.early_stopping:
        what = "Training loss"
    else:
        what = (
            "Validation score"
            if e.early_stopping_monitor == "score"
            else "Validation loss"
        )
    message = (
        f"{what} did not improve more than tol={e.tol:f} for "
        f"{e.n_iter_no_change} consecutive epochs."
    )
    if schedule != "adaptive" or optimizer.learning_rate <= 1e-6:
        if e.verbose:
            print(message + " Stopping.")
        return False
    optimizer.learning_rate = optimizer.learning_rate / 5.0
    if e.verbose:
        print(message + f" Setting learning rate to {optimizer.learning_rate:f}")
    return True


def _batch_size(spec: Spec, n: int) -> int:
    if spec.batch_size is None:
        return min(200, n)
    if spec.batch_size > n:
        warnings.warn(
            f"batch_size={spec.batch_size} is larger than the {n} training samples; "
            f"using {n}.",
            UserWarning,
            stacklevel=5,
        )
    return min(spec.batch_size, n)


def fit_stochastic(
    estimator: Any,
    spec: Spec,
    x: Any,
    y: Array,
    y_raw: Any,
    w: Array | None,
    incremental: bool,
) -> None:
    """Mini-batch training with the compiled glassnet optimizer (sgd, adam, ...)."""
    e = estimator
    model = e.model_
    optimizer = model.optimizer
    validation = None
    if e.early_stopping:
        x, y, w, validation = _split(e, x, y, y_raw, w)
    n = x.shape[0]
    batch_size = _batch_size(spec, n)
    # scikit-learn's learning-rate schedules apply to SGD only.
    schedule = e.learning_rate if isinstance(optimizer, SGD) else "constant"
    e.n_iter_ = 0
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(e.max_iter):
                xs, ys, ws = x, y, w
                if e.shuffle:
                    order = model.rng.permutation(n)
                    xs, ys = x[order], y[order]
                    ws = None if w is None else w[order]
                total = 0.0
                for start in range(0, n, batch_size):
                    stop = min(start + batch_size, n)
                    batch_w = None if ws is None else ws[start:stop]
                    loss = loss_and_gradients(
                        e, xs[start:stop], ys[start:stop], batch_w
                    )
                    if loss is None:  # every weight in the batch is 0
                        continue
                    update(model)
                    total += loss * (stop - start)
                e.n_iter_ += 1
                e.t_ += n
                e.loss_ = total / n
                e.loss_curve_.append(e.loss_)
                if not math.isfinite(e.loss_) and not e.early_stopping:
                    raise _diverged(e, optimizer)
                if e.verbose:
                    print(f"Iteration {e.n_iter_}, loss = {e.loss_:.8f}")
                _update_no_improvement_count(e, validation)
                if not math.isfinite(e.loss_):
                    warnings.warn(
                        f"{_diverged(e, optimizer)} With early_stopping, the weights "
                        "of the best validation epoch are kept (as scikit-learn).",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
                    break
                if schedule == "invscaling":
                    optimizer.learning_rate = (
                        e.learning_rate_init / (e.t_ + 1) ** e.power_t
                    )
                if e._no_improvement_count > spec.n_iter_no_change:
                    if not _keep_going(e, optimizer, schedule):
                        break
                    e._no_improvement_count = 0
                if incremental:
                    break
                if e.n_iter_ == e.max_iter:
                    warnings.warn(
                        f"Stochastic optimizer: maximum iterations ({e.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", UserWarning, stacklevel=4)
    if e.early_stopping:
        model.set_weights(e._best_weights)


def fit_lbfgs(estimator: Any, x: Any, y: Array, w: Array | None) -> None:
    """Full-batch L-BFGS-B (SciPy) on the same loss and gradients."""
    import scipy.optimize

    e = estimator
    model = e.model_
    flat = model.flat
    assert flat is not None
    x = dense(x)  # every evaluation uses all rows

    def unpack(values: Array) -> None:
        flat.params[...] = values

    def objective(values: Array) -> tuple[float, Array]:
        unpack(values)
        loss = loss_and_gradients(e, x, y, w, training=False)
        flat.sync_grads()
        return float(loss or 0.0), flat.grads.astype(np.float64)

    curve: list[float] = []

    def record(intermediate_result: Any) -> None:
        loss = getattr(intermediate_result, "fun", None)
        if loss is not None:
            curve.append(float(loss))
            if e.verbose:
                print(f"Iteration {len(curve)}, loss = {curve[-1]:.8f}")

    start = flat.params.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = scipy.optimize.minimize(
            objective,
            start,
            method="L-BFGS-B",
            jac=True,
            callback=record,
            options={"maxfun": e.max_fun, "maxiter": e.max_iter, "gtol": e.tol},
        )
    unpack(result.x)
    e.n_iter_ = int(result.nit)
    e.loss_ = float(result.fun)
    e.loss_curve_ = curve
    e.best_loss_ = min([e.loss_, *curve])
    if not math.isfinite(e.loss_):
        raise _diverged(e, None)
    if result.status != 0:
        warnings.warn(
            f"lbfgs failed to converge after {e.n_iter_} iteration(s) "
            f"(status={result.status}): {result.message}. Increase max_iter "
            "(or max_fun), or scale the data.",
            ConvergenceWarning,
            stacklevel=4,
        )
