"""Activation functions: stateless objects with a forward pass and its backward pass.

``forward(x)`` returns ``y = f(x)``; ``backward(x, y, grad_y)`` returns ``dL/dx`` given
``dL/dy``. It is a vector-Jacobian product rather than an elementwise derivative, so
softmax, which mixes a row, fits the same protocol. Outputs keep the input float dtype.

The package holds one family per module: :mod:`~glassnet.activations.base` (the
:class:`ActivationFunction` protocol, the registry and shared helpers),
``squashing`` (sigmoid, tanh), ``rectifiers`` (relu, leaky_relu, elu, softplus),
``softmax``, ``linear`` (linear, step) and ``gated`` (gelu, silu), and
:mod:`~glassnet.activations.functions`: Keras' plain functions on arrays
(``relu(x)``, ``softmax(x, axis=-1)``...). Those functions are what
``glassnet.activations.relu``, ``.softmax`` and ``.linear`` name (the modules of the
same names stay importable as ``from glassnet.activations.softmax import Softmax``).
This module resolves names, functions and configs with :func:`get`,
:func:`serialize` and :func:`deserialize`.

>>> import numpy as np
>>> act = get("relu")
>>> x = np.array([[-1.0, 2.0]])
>>> act(x)
array([[0., 2.]])
>>> act.backward(x, act(x), np.ones_like(x))
array([[0., 1.]])
>>> get(relu) == act, relu(x)
(True, array([[0., 2.]]))
"""

from __future__ import annotations

from typing import Any

# isort: off
# Importing a module registers its activations; this order keeps the registration
# order they have always had: sigmoid, tanh, relu, leaky_relu, elu, softplus, softmax,
# linear, step, gelu, silu.
from glassnet.activations.base import ActivationFunction, registry
from glassnet.activations.squashing import Sigmoid, Tanh
from glassnet.activations.rectifiers import ELU, LeakyReLU, ReLU, Softplus
from glassnet.activations.softmax import Softmax
from glassnet.activations.linear import Linear, Step
from glassnet.activations.gated import GELU, SiLU
# isort: on

# Names importable from glassnet.activations since it was a single module.
from glassnet.activations.base import _check_finite_number as _check_finite_number
from glassnet.activations.base import _float_dtype as _float_dtype

# Keras' plain functions; ``softmax`` and ``linear`` replace the package attributes
# that named the modules (those stay in sys.modules, so ``from
# glassnet.activations.softmax import Softmax`` keeps working).
from glassnet.activations.functions import (
    FUNCTION_CLASSES,
    elu,
    function_class,
    gelu,
    leaky_relu,
    linear,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    step,
    swish,
    tanh,
)
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = [
    "ELU",
    "GELU",
    "ActivationFunction",
    "LeakyReLU",
    "Linear",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Step",
    "Tanh",
    "deserialize",
    "elu",
    "gelu",
    "get",
    "leaky_relu",
    "linear",
    "registry",
    "relu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "step",
    "swish",
    "tanh",
]

#: The module paths Keras writes for its own activation functions in a
#: ``{"class_name": "function", ...}`` config (``serialize_keras_object(relu)``).
_KERAS_FUNCTION_MODULES = (None, "builtins", "keras.activations",
                           "keras.src.activations.activations")  # fmt: skip

#: The names of this package's functions, in registration order, then Keras' alias.
_FUNCTION_NAMES = [function.__name__ for function in FUNCTION_CLASSES] + ["swish"]


def get(
    identifier: Any, *, custom_objects: dict[str, type] | None = None
) -> ActivationFunction:
    """Resolve an activation from a name, a function, a config dict, an instance or None.

    Parameters
    ----------
    identifier : str, function, dict, ActivationFunction or None
        ``None`` means linear. Names are case-insensitive (``"ReLU"`` works). A
        function of this module (``glassnet.activations.relu``) gives its class in
        the default form, as its name does. Any other Python function is refused:
        glassnet runs only activations with a written backward pass and saves them
        by name, never as code.
    custom_objects : dict, optional
        Extra classes a config dict may name, ``{"MyAct": MyAct}``.

    Examples
    --------
    >>> get(None)
    Linear()
    >>> get(relu), get(swish)
    (ReLU(), SiLU())
    >>> get({"class_name": "LeakyReLU", "config": {"negative_slope": 0.1}})
    LeakyReLU(negative_slope=0.1)
    >>> get("rleu")
    Traceback (most recent call last):
    ...
    glassnet.errors.UnknownNameError: Unknown activation 'rleu'...Did you mean 'relu'?
    >>> get(lambda x: x * 2)
    Traceback (most recent call last):
    ...
    glassnet.errors.GlassnetTypeError: glassnet cannot use the function <lambda>...
    """
    if identifier is None:
        return Linear()
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        return _from_function_config(identifier)
    if callable(identifier) and not isinstance(identifier, ActivationFunction):
        cls = function_class(identifier)
        if cls is None:
            raise GlassnetTypeError(_refusal(identifier))
        return cls()
    activation: ActivationFunction = registry.get(
        identifier, base=ActivationFunction, custom_objects=custom_objects
    )
    return activation


def serialize(activation: Any) -> str | dict[str, Any]:
    """The plain name when ``activation`` has its default config, else a config dict.

    ``activation`` is an :class:`ActivationFunction`, or anything :func:`get` takes
    (a function of this module serializes as its name, as in Keras).

    Examples
    --------
    >>> serialize(ReLU()), serialize(relu), serialize(swish)
    ('relu', 'relu', 'silu')
    >>> serialize(ELU(alpha=0.5))
    {'class_name': 'ELU', 'config': {'alpha': 0.5}}
    """
    if not isinstance(activation, ActivationFunction):
        activation = get(activation)
    config = activation.get_config()
    cls = type(activation)
    if cls in registry.classes() and config == cls().get_config():
        return activation.name
    return {"class_name": cls.__name__, "config": config}


def deserialize(
    config: str | dict[str, Any], custom_objects: dict[str, type] | None = None
) -> ActivationFunction:
    """The activation a name or a config dict (what :func:`serialize` returns) names.

    As ``keras.activations.deserialize``, but it returns the
    :class:`ActivationFunction` (callable on arrays like Keras' function). Keras'
    ``{"class_name": "function", "config": "relu", ...}`` form is read too.

    Examples
    --------
    >>> deserialize("swish"), deserialize({"class_name": "ELU", "config": {"alpha": 0.5}})
    (SiLU(), ELU(alpha=0.5))
    >>> deserialize(relu)
    Traceback (most recent call last):
    ...
    glassnet.errors.GlassnetTypeError: Argument `config` must be an activation name...
    """
    if not isinstance(config, (str, dict)):
        raise GlassnetTypeError(
            "Argument `config` must be an activation name or a config dict (what "
            "serialize returns); use get() for functions and instances. Received: "
            f"config={_describe(config)}"
        )
    return get(config, custom_objects=custom_objects)


def _from_function_config(config: dict[str, Any]) -> ActivationFunction:
    """Keras' ``{"class_name": "function", "config": "relu"}``: a built-in, by name."""
    name, module = config.get("config"), config.get("module")
    extra = set(config) - {"class_name", "config", "module", "registered_name"}
    if extra or not isinstance(name, str) or module not in _KERAS_FUNCTION_MODULES:
        raise InvalidArgumentError(
            "A function config must name one of Keras' built-in activations, as "
            "{'class_name': 'function', 'config': 'relu'}; glassnet never imports "
            f"code. Received: {_describe(config)}"
        )
    return get(name)


def _refusal(identifier: Any) -> str:
    """Why a callable that is not one of this package's functions is refused."""
    if isinstance(identifier, type) and issubclass(identifier, ActivationFunction):
        return (
            f"An activation class must be instantiated: pass {identifier.__name__}() "
            f"rather than the class. Received: activation={_describe(identifier)}"
        )
    name = getattr(identifier, "__name__", None)
    what = f"the function {name}" if name else f"a {type(identifier).__name__}"
    hint = ""
    if name in _FUNCTION_NAMES:
        hint = f" Did you mean glassnet.activations.{name} (or the name '{name}')?"
    return (
        f"glassnet cannot use {what} as an activation: it runs only activations "
        "with a written backward pass and saves them by name, never as code. Give a "
        "name such as 'relu', a function of glassnet.activations "
        f"({', '.join(_FUNCTION_NAMES)}), a config dict, or an ActivationFunction "
        "instance; for a new activation, subclass "
        "glassnet.activations.ActivationFunction and write forward and backward."
        f"{hint} Received: activation={_describe(identifier)}"
    )


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
