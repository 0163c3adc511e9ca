"""Checking the estimators' constructor parameters, once per fit.

scikit-learn's convention is that ``__init__`` only stores its arguments and ``fit``
validates them. :func:`check_params` reads every parameter, raises a glassnet error
that names the bad one, and returns a :class:`Spec` of resolved values (activation
objects, an optimizer factory) that the fit uses. Nothing on the estimator changes.
"""

from __future__ import annotations

import copy
import inspect
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet import activations, optimizers
from glassnet._registry import canonical_name, did_you_mean
from glassnet._validation import (
    check_bool,
    check_in_range,
    check_nonnegative_float,
    check_one_of,
    check_positive_float,
    check_positive_int,
    normalize_dtype,
)
from glassnet.activations import ActivationFunction
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, UnknownNameError
from glassnet.optimizers import Optimizer

__all__ = ["Spec", "check_params", "glassnet_activation"]

#: scikit-learn's names of activations that glassnet spells differently.
SKLEARN_ACTIVATIONS = {"logistic": "sigmoid", "identity": "linear"}

#: glassnet optimizer argument -> the estimator parameter that fills it.
OPTIMIZER_ARGUMENTS = {
    "learning_rate": "learning_rate_init",
    "momentum": "momentum",
    "nesterov": "nesterovs_momentum",
    "beta_1": "beta_1",
    "beta_2": "beta_2",
    "epsilon": "epsilon",
}


@dataclass(frozen=True)
class Spec:
    """The checked and resolved parameters of one fit."""

    hidden: tuple[int, ...]
    activations: tuple[ActivationFunction, ...]
    dropout: tuple[float, ...]
    make_optimizer: Callable[[], Optimizer] | None  # None: solver="lbfgs"
    batch_size: int | None  # None: "auto", min(200, n_samples)
    n_iter_no_change: float
    dtype: np.dtype


def glassnet_activation(value: Any, name: str = "activation") -> ActivationFunction:
    """An activation from a scikit-learn name, a glassnet name or an instance.

    >>> glassnet_activation("logistic")
    Sigmoid()
    """
    if isinstance(value, str) and canonical_name(value) in SKLEARN_ACTIVATIONS:
        value = SKLEARN_ACTIVATIONS[canonical_name(value)]
    if value is None:
        raise GlassnetTypeError(
            f"Argument `{name}` must be an activation name such as 'relu'. "
            f"Received: {name}=None"
        )
    activation: ActivationFunction = activations.get(value)
    return activation


def _per_layer(value: Any, n_hidden: int, name: str) -> list[Any]:
    """``value`` repeated for every hidden layer, or a list with one per layer."""
    if isinstance(value, (list, tuple)):
        if len(value) != n_hidden:
            raise InvalidArgumentError(
                f"Argument `{name}` as a list needs one entry per hidden layer "
                f"({n_hidden}). Received: {name}={value!r}"
            )
        return list(value)
    return [value] * n_hidden


def _hidden_sizes(value: Any) -> tuple[int, ...]:
    sizes = value if hasattr(value, "__iter__") else [value]
    if isinstance(sizes, (str, bytes)):
        raise GlassnetTypeError(
            "Argument `hidden_layer_sizes` must be a positive integer or a tuple of "
            f"them, e.g. (100,). Received: hidden_layer_sizes={value!r}"
        )
    return tuple(check_positive_int(size, "hidden_layer_sizes") for size in sizes)


def _optimizer_factory(estimator: Any) -> Callable[[], Optimizer] | None:
    """A function returning a fresh optimizer for ``estimator.solver``."""
    solver = estimator.solver
    if isinstance(solver, Optimizer):
        # Deep-copied, so the user's object is never trained (sklearn's clone rule).
        def from_instance() -> Optimizer:
            fresh = copy.deepcopy(solver)
            fresh.reset()
            return fresh

        return from_instance
    if isinstance(solver, dict):
        optimizers.get(solver)  # check it now
        return lambda: optimizers.get(solver)
    if not isinstance(solver, str):
        raise GlassnetTypeError(
            "Argument `solver` must be 'lbfgs', a glassnet optimizer name such as "
            f"'adam', or an optimizer instance. Received: solver={solver!r}"
        )
    if canonical_name(solver) == "lbfgs":
        return None
    try:
        cls = optimizers.registry.lookup(solver)
    except UnknownNameError:
        names = ["lbfgs", *optimizers.registry.names()]
        raise UnknownNameError(
            f"Unknown solver '{solver}'. Available: {', '.join(names)}."
            + did_you_mean(canonical_name(solver), names)
        ) from None
    accepted = inspect.signature(cls).parameters
    kwargs = {
        argument: getattr(estimator, parameter)
        for argument, parameter in OPTIMIZER_ARGUMENTS.items()
        if argument in accepted
    }
    cls(**kwargs)  # check the values now
    return lambda: cls(**kwargs)


def check_params(estimator: Any) -> Spec:
    """Check every constructor parameter of a Glass estimator; resolve what needs it.

    Raises a glassnet error (a ``ValueError`` or ``TypeError``) naming the first bad
    parameter.
    """
    e = estimator
    hidden = _hidden_sizes(e.hidden_layer_sizes)
    acts = tuple(
        glassnet_activation(a)
        for a in _per_layer(e.activation, len(hidden), "activation")
    )
    dropout = tuple(
        check_in_range(rate, "dropout", 0.0, 1.0)
        for rate in _per_layer(e.dropout, len(hidden), "dropout")
    )
    check_nonnegative_float(e.alpha, "alpha")
    if isinstance(e.batch_size, str) and e.batch_size == "auto":
        batch_size = None
    else:
        batch_size = check_positive_int(e.batch_size, "batch_size")
    check_one_of(
        e.learning_rate, "learning_rate", ("constant", "invscaling", "adaptive")
    )
    check_positive_float(e.learning_rate_init, "learning_rate_init")
    check_nonnegative_float(e.power_t, "power_t")
    check_positive_int(e.max_iter, "max_iter")
    for flag in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
        check_bool(getattr(e, flag), flag)
    check_nonnegative_float(e.tol, "tol")
    if isinstance(e.verbose, bool) or not isinstance(e.verbose, numbers.Integral):
        check_bool(e.verbose, "verbose")
    check_in_range(e.momentum, "momentum", 0.0, 1.0, high_inclusive=True)
    check_in_range(
        e.validation_fraction,
        "validation_fraction",
        0.0,
        1.0,
        low_inclusive=not e.early_stopping,
    )
    check_in_range(e.beta_1, "beta_1", 0.0, 1.0)
    check_in_range(e.beta_2, "beta_2", 0.0, 1.0)
    check_positive_float(e.epsilon, "epsilon")
    if isinstance(e.n_iter_no_change, numbers.Real) and e.n_iter_no_change == np.inf:
        patience = float("inf")
    else:
        patience = float(check_positive_int(e.n_iter_no_change, "n_iter_no_change"))
    check_positive_int(e.max_fun, "max_fun")
    check_one_of(
        e.early_stopping_monitor, "early_stopping_monitor", ("score", "val_loss")
    )
    make_optimizer = _optimizer_factory(e)
    if make_optimizer is None and any(dropout):
        raise InvalidArgumentError(
            "solver='lbfgs' needs a deterministic loss, so it cannot train with "
            f"dropout. Use solver='adam' or dropout=0. Received: dropout={e.dropout!r}"
        )
    return Spec(
        hidden=hidden,
        activations=acts,
        dropout=dropout,
        make_optimizer=make_optimizer,
        batch_size=batch_size,
        n_iter_no_change=patience,
        dtype=normalize_dtype(e.dtype),
    )
