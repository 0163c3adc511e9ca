"""Keras' automatic names (``dense``, ``dense_1``, ``lstm``) and the checks on user names.

Names are unique within a session, as in Keras 3: every ``Dense()`` made without a
name takes the next free ``dense``, ``dense_1``, ``dense_2``...
:func:`glassnet.utils.clear_session` starts the counters again.

>>> reset_names()
>>> auto_name("Dense"), auto_name("Dense"), auto_name("BatchNormalization")
('dense', 'dense_1', 'batch_normalization')
>>> to_snake_case("LSTM"), to_snake_case("Conv2D"), to_snake_case("LeakyReLU")
('lstm', 'conv2d', 'leaky_re_lu')
>>> check_name("dense/kernel", "name")
Traceback (most recent call last):
...
glassnet.errors.InvalidArgumentError: Argument `name` ...
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["MAX_NAME_LENGTH", "auto_name", "check_name", "reset_names", "to_snake_case"]

#: Longest name a layer or model may take: every accepted name must fit in a file.
MAX_NAME_LENGTH = 256

_counters: Counter[str] = Counter()


def to_snake_case(class_name: str) -> str:
    """Keras' snake case of a class name: ``BatchNormalization`` -> ``batch_normalization``.

    Runs of capitals stay together (``LSTM`` -> ``lstm``), as Keras writes them.
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(class_name: str) -> str:
    """The next free automatic name for an instance of ``class_name``."""
    prefix = to_snake_case(class_name)
    _counters[prefix] += 1
    count = _counters[prefix]
    return prefix if count == 1 else f"{prefix}_{count - 1}"


def reset_names() -> None:
    """Forget every automatic name given so far (``clear_session`` calls this)."""
    _counters.clear()


def check_name(value: Any, argument: str = "name") -> str:
    """``value`` if it can name a layer or model and be saved and loaded again.

    A name is a non-empty string of at most :data:`MAX_NAME_LENGTH` characters,
    without ``/`` (it separates the parts of a weight's path), NUL, or lone
    surrogates (which no file encoding can hold).
    """
    if not isinstance(value, str):
        raise GlassnetTypeError(
            f"Argument `{argument}` must be a string. "
            f"Received: {argument}={value!r} ({type(value).__name__})"
        )
    problem = None
    if not value:
        problem = "must not be empty"
    elif len(value) > MAX_NAME_LENGTH:
        problem = f"must be at most {MAX_NAME_LENGTH} characters long"
    elif "/" in value:
        problem = "must not contain '/' (it separates the parts of a weight path)"
    elif "\x00" in value:
        problem = "must not contain the NUL character"
    elif any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        problem = "must not contain lone surrogates (no file can store them)"
    if problem is not None:
        raise InvalidArgumentError(
            f"Argument `{argument}` {problem}. Received: {argument}={value[:80]!r}"
        )
    return value
