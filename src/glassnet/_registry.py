"""Closed name -> class registries with "did you mean" suggestions.

Every family (activations, losses, optimizers, initializers, layers, metrics) owns one
:class:`Registry`. Names are snake_case; aliases such as ``"mse"`` map to the same class.
Registries are filled at import time; a file or a string can only ever select a class
that is already registered here, never import one.

>>> reg = Registry("activation")
>>> @reg.register("relu", "rectifier")
... class Relu:
...     pass
>>> reg.lookup("rectifier") is Relu
True
>>> reg.lookup("rleu")
Traceback (most recent call last):
...
glassnet.errors.UnknownNameError: Unknown activation 'rleu'. ... Did you mean 'relu'?
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from glassnet.errors import GlassnetTypeError, InvalidArgumentError, UnknownNameError

__all__ = ["Configurable", "Registry", "canonical_name", "did_you_mean"]

T = TypeVar("T")
C = TypeVar("C", bound="Configurable")


def canonical_name(name: str) -> str:
    """Lower-case a name and treat dashes and spaces like underscores.

    >>> canonical_name("Leaky-ReLU")
    'leaky_relu'
    """
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""``.

    >>> did_you_mean("sigmiod", ["sigmoid", "tanh"])
    " Did you mean 'sigmoid'?"
    """
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    if not close:
        return ""
    # difflib ranks "adamax" above "adam" for "adma"; the fewest edits (a swap of two
    # neighbours counting as one) decide, difflib's order breaking ties.
    best = min(close, key=lambda choice: _edits(name, choice))
    return f" Did you mean '{best}'?"


def _edits(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``: insertions, deletions, substitutions, swaps.

    >>> _edits("adma", "adam"), _edits("adma", "adamax")
    (1, 2)
    """
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(
                rows[-1][j] + 1,
                row[j - 1] + 1,
                rows[-1][j - 1] + (a[i - 1] != b[j - 1]),
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


class Registry:
    """A closed mapping from names (and aliases) to the classes of one family."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, type] = {}
        self._primary: dict[type, str] = {}

    def register(self, name: str, *aliases: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: register ``cls`` under ``name`` and its ``aliases``."""

        def decorate(cls: type[T]) -> type[T]:
            for key in (name, *aliases):
                key = canonical_name(key)
                if key in self._classes and self._classes[key] is not cls:
                    raise InvalidArgumentError(
                        f"The {self.kind} name '{key}' is already registered to "
                        f"{self._classes[key].__name__}."
                    )
                self._classes[key] = cls
            self._primary.setdefault(cls, canonical_name(name))
            return cls

        return decorate

    def names(self) -> list[str]:
        """All registered names and aliases, sorted."""
        return sorted(self._classes)

    def primary_names(self) -> list[str]:
        """One name per registered class (no aliases), sorted."""
        return sorted(self._primary.values())

    def name_of(self, cls: type) -> str:
        """The primary registered name of ``cls``."""
        try:
            return self._primary[cls]
        except KeyError:
            raise UnknownNameError(
                f"{cls.__name__} is not a registered {self.kind}."
            ) from None

    def classes(self) -> list[type]:
        """Every registered class once, in name order."""
        return [self._classes[name] for name in self.primary_names()]

    def lookup(self, name: str) -> type:
        """The class registered under ``name``; an unknown name lists the valid ones."""
        if not isinstance(name, str):
            raise GlassnetTypeError(
                f"A {self.kind} name must be a string. "
                f"Received: {type(name).__name__} {name!r}"
            )
        key = canonical_name(name)
        if key not in self._classes:
            raise UnknownNameError(
                f"Unknown {self.kind} '{name}'. Available: {', '.join(self.names())}."
                + did_you_mean(key, self._classes)
            )
        return self._classes[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical_name(name) in self._classes

    def get(
        self,
        identifier: Any,
        *,
        base: type | None = None,
        custom_objects: dict[str, type] | None = None,
    ) -> Any:
        """Resolve ``identifier`` to an instance.

        Accepts an instance (returned as is), a registered name, or a
        ``{"class_name": ..., "config": {...}}`` dict. ``None`` is returned unchanged.
        ``custom_objects`` lets a caller name extra classes explicitly.
        """
        if identifier is None:
            return None
        if base is not None and isinstance(identifier, base):
            return identifier
        if isinstance(identifier, str):
            return self._resolve_class(identifier, custom_objects)()
        if isinstance(identifier, dict):
            if set(identifier) - {"class_name", "config", "module", "registered_name"}:
                raise InvalidArgumentError(
                    f"A {self.kind} config dict has the keys 'class_name' and 'config'. "
                    f"Received keys: {sorted(identifier)}"
                )
            class_name = identifier.get("class_name")
            config = identifier.get("config", {})
            if not isinstance(class_name, str) or not isinstance(config, dict):
                raise InvalidArgumentError(
                    f"A {self.kind} config needs a string 'class_name' and a dict "
                    f"'config'. Received: {identifier!r}"
                )
            cls = self._resolve_class(class_name, custom_objects)
            return cls.from_config(config)  # type: ignore[attr-defined]
        raise GlassnetTypeError(
            f"Could not interpret {self.kind} identifier: expected a name, a config "
            f"dict or a {self.kind} instance. Received: {type(identifier).__name__} "
            f"{identifier!r}"
        )

    def _resolve_class(self, name: str, custom_objects: dict[str, type] | None) -> type:
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        by_class_name = {cls.__name__: cls for cls in self._primary}
        if name in by_class_name:
            return by_class_name[name]
        return self.lookup(name)


def check_config_keys(kind: str, cls: type, config: Any, accepted: list[str]) -> None:
    """Refuse a config that is not a dict, or that names an argument ``cls`` lacks.

    Used by the ``from_config`` of optimizers and initializers, whose configs come
    from files: an unknown key is named, with the accepted ones and a suggestion.

    >>> check_config_keys("initializer", dict, {"sead": 1}, ["seed"])
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Unknown argument 'sead' in a dict config. ...
    """
    if not isinstance(config, dict):
        raise GlassnetTypeError(
            f"An {kind} config must be a dict. Received: {config!r}"
        )
    for key in config:
        if key not in accepted:
            raise InvalidArgumentError(
                f"Unknown argument '{key}' in a {cls.__name__} config. Accepted: "
                f"{', '.join(sorted(set(accepted))) or 'none'}."
                + did_you_mean(key, accepted)
            )


class Configurable:
    """What every registered object shares: a name, a config, equality by config.

    A subclass sets the class attribute ``registry`` and returns its constructor
    arguments from :meth:`get_config`; :meth:`from_config` rebuilds an equal object.
    Activations and losses derive from it.
    """

    registry: Registry

    @property
    def name(self) -> str:
        """The registry's primary name (the class name for unregistered classes)."""
        try:
            return self.registry.name_of(type(self))
        except UnknownNameError:
            return type(self).__name__

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments."""
        return {}

    @classmethod
    def from_config(cls: type[C], config: dict[str, Any]) -> C:
        """Rebuild an object from :meth:`get_config` output."""
        try:
            return cls(**config)
        except GlassnetTypeError:
            raise
        except TypeError as error:
            raise InvalidArgumentError(
                f"Invalid config for {cls.__name__}: {error}. Received: "
                f"config={config!r}"
            ) from None

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Configurable):
            return NotImplemented
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_config().items()))))


_PARAMETERS: dict[type, Mapping[str, inspect.Parameter]] = {}


def constructor_parameters(cls: type) -> Mapping[str, inspect.Parameter]:
    """``inspect.signature(cls).parameters``, worked out once per class.

    Why: every layer, initializer and metric read from a file asks which arguments
    its class takes, and ``inspect.signature`` costs about 0.1 ms each time, a third
    of reading a Dense layer's config (``model_from_json``). The mapping is
    read-only, so one copy serves every caller.

    >>> class Unit:
    ...     def __init__(self, size: int, name: str = "unit") -> None: ...
    >>> list(constructor_parameters(Unit))
    ['size', 'name']
    """
    parameters = _PARAMETERS.get(cls)
    if parameters is None:
        parameters = _PARAMETERS[cls] = inspect.signature(cls).parameters
    return parameters
