"""The metric protocol, the registry, ``Mean`` and the checks every metric shares.

A metric keeps running sums (its *state*) in NumPy arrays: ``update_state`` adds a
batch to them, ``result`` reads the value off them and ``reset_state`` zeroes them,
as in Keras 3. Because the state is a set of sums, one ``update_state`` over a whole
epoch gives the same value as one call per batch: the training loop relies on that.

State accumulates in float64. The comparisons a metric makes (``y_pred >
threshold``, the AUC buckets) are made in the metric's ``dtype``: float32 by
default, like Keras, or float64 when the predictions are float64 (a float64 model's
metrics keep its precision).

>>> m = Mean()
>>> m.update_state([1, 3, 5, 7])
>>> m.result()
4.0
>>> m.update_state([2], sample_weight=[4])  # total 16 + 8, count 4 + 4
>>> m.result()
3.0
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from glassnet._naming import auto_name
from glassnet._registry import Registry, check_config_keys
from glassnet._typing import Array
from glassnet._validation import normalize_dtype
from glassnet.errors import (
    GlassnetTypeError,
    InvalidArgumentError,
)
from glassnet.metrics.inputs import (
    read_array,
    read_pair,
    read_sample_weight,
    weighted_sums,
)

__all__ = ["EPSILON", "Mean", "Metric", "PerSampleMean", "registry"]

registry = Registry("metric")

#: Keras' ``backend.epsilon()``: the guard in MAPE's and the F-scores' denominators.
EPSILON = 1e-7


class Metric:
    """Base class: running state, ``update_state``, ``result``, ``reset_state``.

    A subclass makes its state with :meth:`add_variable` in ``__init__`` (float64
    arrays it updates in place: ``self.total += ...``), adds a batch in
    ``update_state`` and reads the value in ``result``; the default ``reset_state``
    zeroes every variable. ``metric(y_true, y_pred)`` updates, then returns the
    result, as in Keras.

    Parameters
    ----------
    dtype : str, optional
        ``"float32"`` or ``"float64"``: the precision of the comparisons and formulas.
        By default float32, or float64 for float64 predictions.
    name : str, optional
        The key in training logs; Keras' automatic name (``precision``,
        ``precision_1``...) for metrics whose Keras default is automatic.

    Examples
    --------
    >>> class TruePositives(Metric):
    ...     def __init__(self, name="tp", dtype=None):
    ...         super().__init__(dtype=dtype, name=name)
    ...         self.count = self.add_variable(name="count")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         hits = (np.asarray(y_true) == 1) & (np.asarray(y_pred) > 0.5)
    ...         self.count += hits.sum()
    ...     def result(self):
    ...         return float(self.count)
    >>> m = TruePositives()
    >>> m([1, 1, 0], [0.9, 0.2, 0.8]), m([1], [0.7])
    (1.0, 2.0)
    >>> m.reset_state(); m.result()
    0.0
    """

    def __init__(self, dtype: Any = None, name: str | None = None) -> None:
        if name is None:
            name = auto_name(type(self).__name__)
        if not isinstance(name, str) or not name:
            raise GlassnetTypeError(
                f"Argument `name` must be a non-empty string. Received: name={name!r}"
            )
        self.name = name
        self._dtype = None if dtype is None else normalize_dtype(dtype)
        self._variables: dict[str, Array] = {}

    @property
    def dtype(self) -> str | None:
        """The precision chosen at construction (None: float32, or the inputs' float64)."""
        return None if self._dtype is None else self._dtype.name

    def compute_dtype(self, y_pred: Array) -> np.dtype:
        """The float dtype this batch is compared in (see :attr:`dtype`)."""
        if self._dtype is not None:
            return self._dtype
        return np.dtype(np.float64 if y_pred.dtype == np.float64 else np.float32)

    def add_variable(
        self,
        shape: Any = (),
        initializer: str = "zeros",
        dtype: Any = None,
        name: str | None = None,
    ) -> Array:
        """A new state array (float64 unless ``dtype``), zeroed by ``reset_state``."""
        if initializer not in ("zeros", "ones"):
            raise InvalidArgumentError(
                "Argument `initializer` must be 'zeros' or 'ones'. "
                f"Received: initializer={initializer!r}"
            )
        key = f"variable_{len(self._variables)}" if name is None else name
        if key in self._variables:
            raise InvalidArgumentError(
                f"Metric '{self.name}' already has a variable named '{key}'."
            )
        fill = np.zeros if initializer == "zeros" else np.ones
        variable: Array = fill(shape, dtype=np.float64 if dtype is None else dtype)
        self._variables[key] = variable
        return variable

    @property
    def variables(self) -> list[Array]:
        """The state arrays, in the order they were added."""
        return list(self._variables.values())

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Add a batch to the state."""
        raise NotImplementedError

    def result(self) -> Any:
        """The metric's value over everything added since the last reset."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget every batch: zero the state (training does this each epoch)."""
        for variable in self._variables.values():
            variable.fill(0)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``update_state(...)``, then ``result()``."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments, in Keras' layout."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Rebuild a metric (fresh state) from :meth:`get_config` output."""
        parameters = inspect.signature(cls.__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            check_config_keys("metric", cls, config, list(parameters)[1:])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class _Averaged(Metric):
    """Holds ``total`` and ``count``; the result is ``total / count`` (0 if empty)."""

    def __init__(self, name: str | None, dtype: Any) -> None:
        super().__init__(dtype=dtype, name=name)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def _add(self, values: Array, weight: Array | None) -> None:
        total, count = weighted_sums(values, weight)
        self.total += total
        self.count += count

    def result(self) -> Any:
        """``total / count``: the (weighted) mean so far, 0.0 before any sample."""
        count = float(self.count)
        return float(self.total) / count if count else 0.0


@registry.register("mean")
class Mean(_Averaged):
    """The (weighted) mean of the values given: ``sum(w * v) / sum(w)``.

    A value with several entries per sample counts as its mean.

    >>> m = Mean()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> m.result()
    2.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Add ``values`` (one per sample, or one array per sample) to the mean."""
        array = read_array(values, "values")
        weight = read_sample_weight(sample_weight, len(array))
        self._add(array.astype(self.compute_dtype(array), copy=False), weight)


class PerSampleMean(_Averaged):
    """A metric that is the mean of one value per sample (accuracy, squared error...).

    Subclasses give :meth:`values` (Keras' metric *function*: one value per sample or
    per output entry); the state is a :class:`Mean` of them.

    >>> class Hits(PerSampleMean):
    ...     def values(self, y_true, y_pred):
    ...         return (y_true == np.round(y_pred)).astype(float)
    >>> Hits(name="hits")(np.array([1, 0, 1]), np.array([0.9, 0.4, 0.2]))
    0.6666666666666666
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def values(self, y_true: Array, y_pred: Array) -> Array:
        """The metric's value for each sample (or each output entry)."""
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch: its values, weighted by ``sample_weight`` (default 1 each)."""
        y_true_arr, y_pred_arr = read_pair(y_true, y_pred)
        weight = read_sample_weight(sample_weight, len(y_pred_arr))
        y_pred_arr = y_pred_arr.astype(self.compute_dtype(y_pred_arr), copy=False)
        self._add(self.values(y_true_arr, y_pred_arr), weight)

    def per_sample(self, y_true: Any, y_pred: Any) -> Array:
        """Each sample's value, shape (n,) (entries of one sample averaged)."""
        y_true_arr, y_pred_arr = read_pair(y_true, y_pred)
        y_pred_arr = y_pred_arr.astype(self.compute_dtype(y_pred_arr), copy=False)
        values = self.values(y_true_arr, y_pred_arr)
        return values.reshape(len(values), -1).mean(axis=1)
