"""A single artificial neuron: weighted sum, plus bias, through an activation.

This is the building block of seeds/000 and seeds/003, kept as a standalone object so
a learner can compute one neuron, then wire a few of them into a network by hand,
before meeting the batched ``Dense`` layer that does the same for many neurons at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import activations
from glassnet._typing import Array, ArrayLike
from glassnet._validation import (
    _check_real,
    as_float_array,
    check_positive_int,
    check_seed,
)
from glassnet.errors import ShapeError

__all__ = ["Neuron"]


class Neuron:
    """One neuron: ``output = activation(dot(weights, x) + bias)``, in float64.

    Parameters
    ----------
    weights : array-like of shape (n_inputs,)
        One finite weight per input.
    bias : float
        Added to the weighted sum before the activation.
    activation : str or activation object, default "sigmoid"
        Any name known to :mod:`glassnet.activations` (``"sigmoid"``, ``"tanh"``,
        ``"relu"``, ``"step"``, ...) or an activation instance.

    Attributes
    ----------
    weights : ndarray of shape (n_inputs,)
    bias : float
    activation : activation object
        The resolved activation; ``activation.name`` is its registered name.

    Examples
    --------
    seeds/000's neuron: ``w = [0, 1]``, ``b = 4``, ``x = [2, 3]`` gives
    ``sigmoid(0*2 + 1*3 + 4) = sigmoid(7)``:

    >>> n = Neuron([0, 1], 4)
    >>> n.feedforward([2, 3])
    0.9990889488055994

    A network is neurons feeding neurons. seeds/000's 2-2-1 network, every neuron
    with ``w = [0, 1]`` and ``b = 0``:

    >>> h1, h2, o1 = Neuron([0, 1], 0), Neuron([0, 1], 0), Neuron([0, 1], 0)
    >>> x = [2, 3]
    >>> o1.feedforward([h1.feedforward(x), h2.feedforward(x)])
    0.7216325609518421

    A 2-D input is a batch, one sample per row:

    >>> n.feedforward([[2, 3], [0, 0]]).shape
    (2,)
    """

    def __init__(
        self, weights: ArrayLike, bias: float, activation: Any = "sigmoid"
    ) -> None:
        self.weights = weights
        self.bias = bias
        self.activation = activation

    @classmethod
    def random(
        cls, num_inputs: int, activation: Any = "sigmoid", seed: int | None = None
    ) -> Neuron:
        """A neuron with standard-normal random weights and a zero bias (seeds/003).

        The weights come from ``numpy.random.default_rng(seed).standard_normal``, so
        the same seed always gives the same neuron.

        >>> n = Neuron.random(3, seed=0)
        >>> n.weights.shape, n.bias
        ((3,), 0.0)
        >>> bool((n.weights == Neuron.random(3, seed=0).weights).all())
        True
        """
        num_inputs = check_positive_int(num_inputs, "num_inputs")
        rng = np.random.default_rng(check_seed(seed, "seed"))
        return cls(rng.standard_normal(num_inputs), 0.0, activation)

    @property
    def weights(self) -> Array:
        """The weight vector, shape (n_inputs,); assigning a new one validates it."""
        return self._weights

    @weights.setter
    def weights(self, value: ArrayLike) -> None:
        weights = as_float_array(value, "weights", min_ndim=0)
        if weights.ndim != 1:
            raise ShapeError(
                "Argument `weights` must be a 1-D vector with one weight per input. "
                f"Received: weights.shape={weights.shape}"
            )
        # A private copy: later edits to the caller's array must not change the neuron.
        self._weights = weights.copy()

    @property
    def bias(self) -> float:
        """The bias, a finite float."""
        return self._bias

    @bias.setter
    def bias(self, value: float) -> None:
        self._bias = _check_real(value, "bias", "a finite number")

    @property
    def activation(self) -> activations.ActivationFunction:
        """The activation object (set it with a name or an instance)."""
        return self._activation

    @activation.setter
    def activation(self, value: Any) -> None:
        self._activation = activations.get(value)

    def __repr__(self) -> str:
        weights = np.array2string(self.weights, separator=", ", threshold=8)
        return (
            f"Neuron(weights={weights}, bias={self.bias!r}, "
            f"activation={self.activation.name!r})"
        )

    def feedforward(self, x: ArrayLike) -> float | Array:
        """Return ``activation(dot(weights, x) + bias)``.

        Parameters
        ----------
        x : array-like of shape (n_inputs,) or (n_samples, n_inputs)
            One input vector, or a batch with one sample per row.

        Returns
        -------
        float or ndarray of shape (n_samples,)
            A Python float for one input vector, an array for a batch.
        """
        x = as_float_array(x, "x")
        n_inputs = len(self.weights)
        if x.ndim > 2:
            raise ShapeError(
                f"Argument `x` must be one sample of shape ({n_inputs},) or a batch "
                f"of shape (n_samples, {n_inputs}). Received: x.shape={x.shape}"
            )
        if x.shape[-1] != n_inputs:
            raise ShapeError(
                f"Argument `x` must have {n_inputs} values per sample (one per "
                f"weight), but has {x.shape[-1]}. Received: x.shape={x.shape}"
            )
        if x.ndim == 1:
            z = np.dot(self.weights, x) + self.bias
            # Activations work on batches (n, units): this is one sample, one unit.
            return float(self.activation(np.array([[z]]))[0, 0])
        z = x @ self.weights + self.bias
        # z[:, None] is (n, 1): one unit, so softmax normalises per sample, not across
        # the batch.
        return self.activation(z[:, None])[:, 0]

    forward = feedforward
