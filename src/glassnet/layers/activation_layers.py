"""The activation layers Keras users write: ReLU, LeakyReLU, PReLU, Softmax and ELU.

Each is its own layer class with Keras 3's arguments and automatic names (``re_lu``,
``leaky_re_lu``, ``p_re_lu``, ``softmax``, ``elu``). All but PReLU hold a stateless
function from :mod:`glassnet.activations` and apply it the way ``Activation`` does;
PReLU learns its negative slope ``alpha``, one per input entry (or per group of
entries along ``shared_axes``).

>>> import numpy as np
>>> x = np.array([[-2.0, 0.5, 3.0]])
>>> ReLU(max_value=2.0).forward(x)
array([[0. , 0.5, 2. ]])
>>> LeakyReLU().forward(x)  # Keras' layer default slope is 0.3
array([[-0.6,  0.5,  3. ]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import activations
from glassnet._typing import Array
from glassnet._validation import check_nonnegative_float
from glassnet.activations import ActivationFunction
from glassnet.errors import ShapeError
from glassnet.layers.activation import ActivationFunctionLayer
from glassnet.layers.base import registry
from glassnet.layers.costs import Cost, elementwise_flops, known_size

__all__ = ["ELU", "LeakyReLU", "ReLU", "Softmax"]


class CappedReLU(ActivationFunction):
    """Keras 3's full ``relu(x, negative_slope, max_value, threshold)``.

    ``y = min(x, max_value)`` where ``x > threshold``, else
    ``negative_slope * (x - threshold)``: a thresholded ReLU jumps from 0 to
    ``threshold`` at ``x = threshold`` (Keras' ``keras.activations.relu``). Not
    registered: only :class:`ReLU` builds it, for the settings that
    :class:`glassnet.activations.ReLU` and ``LeakyReLU`` do not cover.
    """

    def __init__(
        self, negative_slope: float, max_value: float | None, threshold: float
    ) -> None:
        self.negative_slope = negative_slope
        self.max_value = max_value
        self.threshold = threshold

    @property
    def name(self) -> str:
        """Shown as ``relu`` (summaries, explain): it is Keras' relu."""
        return "relu"

    def forward(self, x: Array) -> Array:
        y = np.where(x > self.threshold, x, 0)
        if self.max_value is not None:
            np.minimum(y, self.max_value, out=y)
        if self.negative_slope:
            y -= self.negative_slope * np.maximum(self.threshold - x, 0)
        return y

    def backward(self, x: Array, y: Array, grad_y: Array) -> Array:
        # y = x (threshold < x < max_value), max_value (x >= max_value),
        #     negative_slope (x - threshold) (x <= threshold)
        #   =>  dx = dy, 0 or negative_slope * dy on those pieces (0 at the kinks)
        passed = x > self.threshold
        if self.max_value is not None:
            passed &= x < self.max_value
        slope = passed.astype(grad_y.dtype)
        if self.negative_slope:
            slope[x < self.threshold] = self.negative_slope
        return grad_y * slope

    def get_config(self) -> dict[str, Any]:
        return {
            "negative_slope": self.negative_slope,
            "max_value": self.max_value,
            "threshold": self.threshold,
        }


@registry.register("re_lu")
class ReLU(ActivationFunctionLayer):
    """Rectified linear unit, with Keras' optional cap, threshold and negative slope.

    ``y = min(x, max_value)`` for ``x > threshold`` and
    ``y = negative_slope * (x - threshold)`` otherwise; the defaults give
    ``max(x, 0)``. A ``threshold > 0`` makes the output jump from 0 to
    ``threshold`` there, exactly as ``keras.activations.relu`` does.

    Parameters
    ----------
    max_value : float or None, default None
        Largest output (>= 0); None means no cap.
    negative_slope : float, default 0.0
        Slope below the threshold (>= 0).
    threshold : float, default 0.0
        Inputs at or below it are damped (>= 0).
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> layer = ReLU(max_value=10, negative_slope=0.5)
    >>> layer.forward(np.array([[-10.0, -5.0, 0.0, 5.0, 10.0]]))
    array([[-5. , -2.5,  0. ,  5. , 10. ]])
    >>> ReLU(threshold=2.0).forward(np.array([[1.0, 2.0, 3.0]]))
    array([[0., 0., 3.]])
    """

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        cap = max_value
        if cap is not None:
            cap = check_nonnegative_float(max_value, "max_value")
        slope = check_nonnegative_float(negative_slope, "negative_slope")
        threshold = check_nonnegative_float(threshold, "threshold")
        self.max_value, self.negative_slope, self.threshold = cap, slope, threshold
        if cap is None and threshold == 0.0:  # glassnet's functions do the math
            self.activation = activations.ReLU()
            if slope:
                self.activation = activations.LeakyReLU(slope)
        else:
            self.activation = CappedReLU(slope, cap, threshold)

    def flops(self, input_shape: Any) -> Cost:
        """Per element: relu's compare; with a cap 1 more, with a slope 4 more."""
        if not isinstance(self.activation, CappedReLU):
            return super().flops(input_shape)
        steps = ["compare 1"]
        steps += [] if self.max_value is None else ["cap 1"]
        steps += ["slope 4 (-, max, x, -)"] if self.negative_slope else []
        per = 1 + (self.max_value is not None) + 4 * bool(self.negative_slope)
        return elementwise_flops(known_size(input_shape), per, ", ".join(steps))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config.update(
            max_value=self.max_value,
            negative_slope=self.negative_slope,
            threshold=self.threshold,
        )
        return config


@registry.register("leaky_re_lu")
class LeakyReLU(ActivationFunctionLayer):
    """Leaky ReLU ``y = x if x >= 0 else negative_slope * x``.

    The layer's default slope is 0.3, as in Keras 3's ``keras.layers.LeakyReLU``,
    while the ``"leaky_relu"`` activation function (``Dense(activation="leaky_relu")``,
    :class:`glassnet.activations.LeakyReLU`) defaults to 0.2, as in Keras 3's
    ``keras.activations.leaky_relu``.

    Parameters
    ----------
    negative_slope : float, default 0.3
        Slope for negative inputs (>= 0).
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> LeakyReLU(negative_slope=0.5).forward(np.array([[-10.0, 0.0, 10.0]]))
    array([[-5.,  0., 10.]])
    """

    def __init__(
        self,
        negative_slope: float = 0.3,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        self.activation = activations.LeakyReLU(negative_slope)
        self.negative_slope = self.activation.negative_slope

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


@registry.register("elu")
class ELU(ActivationFunctionLayer):
    """Exponential linear unit ``y = x if x > 0 else alpha * (exp(x) - 1)``.

    Parameters
    ----------
    alpha : float, default 1.0
        Scale of the negative part (>= 0; Keras does not check it).
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> ELU(alpha=2.0).forward(np.array([[-1.0, 3.0]]))  # 2 * (exp(-1) - 1) = -1.2642...
    array([[-1.26424112,  3.        ]])
    """

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        self.activation = activations.ELU(alpha)
        self.alpha = self.activation.alpha

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


@registry.register("softmax")
class Softmax(ActivationFunctionLayer):
    """Softmax along ``axis``: ``y = exp(x) / sum(exp(x))``, each slice sums to 1.

    Parameters
    ----------
    axis : int, default -1
        The axis normalised, counted on the batch array as in Keras (so ``1`` is
        the first axis of a sample).
    input_dim, input_shape, name, trainable
        As for every layer (see :class:`glassnet.layers.Dense`).

    Examples
    --------
    >>> import numpy as np
    >>> Softmax().forward(np.array([[0.0, np.log(3.0)]]))  # e^0 : e^log3 = 1 : 3
    array([[0.25, 0.75]])
    >>> Softmax(axis=1).output_shape((4, 2))
    (4, 2)
    """

    def __init__(
        self,
        axis: int = -1,
        *,
        input_dim: Any = None,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            name=name, input_shape=input_shape, input_dim=input_dim, trainable=trainable
        )
        self.activation = activations.Softmax(axis)
        self.axis = self.activation.axis

    def output_shape(self, input_shape: Any) -> Any:
        """The input shape; the axis must exist on ``(batch, *input_shape)``."""
        rank = len(input_shape) + 1
        if not -rank <= self.axis < rank:
            raise ShapeError(
                f"Softmax layer '{self.name}' normalises axis {self.axis}, which "
                f"inputs shaped {(None, *input_shape)} do not have. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["axis"] = self.axis
        return config
