"""Strict JSON for model files: bounded, unambiguous, and only plain data.

Python's ``json.loads`` accepts things a model file must not contain: ``NaN`` and
``Infinity`` tokens (not JSON at all), numbers such as ``1e999`` that silently become
``inf``, keys that appear twice (which one wins depends on the reader: an attacker
can show one config to a reviewer and another to the loader), and nesting deep
enough to exhaust the stack. :func:`loads` refuses all of them, anything larger
than :data:`~glassnet.io.limits.MAX_JSON_BYTES`, and (counted before parsing)
anything holding more than :data:`~glassnet.io.limits.MAX_JSON_VALUES` values,
with a :class:`ModelFileError` that says where the document came from.

>>> loads('{"units": 3}', "config.json")
{'units': 3}
>>> loads('{"units": 3, "units": 4}', "config.json")
Traceback (most recent call last):
...
glassnet.errors.ModelFileError: config.json: duplicate key 'units' in a JSON object ...
>>> loads('{"rate": NaN}', "config.json")
Traceback (most recent call last):
...
glassnet.errors.ModelFileError: config.json: the JSON holds the token NaN; ...
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

from glassnet.errors import ModelFileError
from glassnet.io import limits

__all__ = ["dumps", "loads"]


class _Refused(ValueError):
    """Raised inside the parser's hooks; turned into a ModelFileError by loads."""


def _refuse_constant(token: str) -> NoReturn:
    raise _Refused(
        f"the JSON holds the token {token}; model files must use finite numbers only"
    )


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is too large for a float")
    return value


def _parse_int(text: str) -> int:
    if len(text) > 60:  # 2**128 has 39 digits; nothing in a model file needs more
        raise _Refused(f"an integer of {len(text)} digits is too long")
    return int(text)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(
                f"duplicate key {key[:80]!r} in a JSON object (readers disagree on "
                "which copy wins, so glassnet accepts neither)"
            )
        result[key] = value
    return result


def _depth(value: Any) -> int:
    """Nesting depth of lists and dicts, without recursion.

    The stack holds one iterator per open container, so it grows with the depth,
    never with the number of elements: a list of 3 million zeros is walked in
    constant memory (one tuple per element used to cost more than the list).
    """
    deepest = 0
    stack = [iter((value,))]
    while stack:
        for item in stack[-1]:
            if isinstance(item, (dict, list)):
                stack.append(iter(item.values() if isinstance(item, dict) else item))
                deepest = max(deepest, len(stack) - 1)
                if deepest > limits.MAX_JSON_DEPTH:
                    return deepest
                break
        else:
            stack.pop()
    return deepest


def _count_values(text: str | bytes) -> int:
    """An upper bound on the lists, objects and elements ``text`` parses to.

    Every container opens with ``[`` or ``{`` and every further element or member
    follows a ``,``; counting the characters (inside strings too, which only
    overestimates) costs a few milliseconds, while parsing a 16 MiB document of
    ``[],[],...`` builds millions of Python objects, several hundred MB.
    """
    if isinstance(text, str):
        return text.count(",") + text.count("[") + text.count("{")
    return text.count(b",") + text.count(b"[") + text.count(b"{")


def loads(text: str | bytes, where: str) -> Any:
    """Parse ``text`` (UTF-8 bytes or ``str``) strictly; ``where`` names its source."""
    # A str is measured by its characters first (each one is at least one byte in
    # UTF-8), so a huge str is refused without encoding it; one holding lone
    # surrogates (bytes that were not UTF-8, smuggled in by "surrogateescape") has
    # no UTF-8 form at all and is refused, not left to raise UnicodeEncodeError.
    size = len(text)
    if isinstance(text, str) and size <= limits.MAX_JSON_BYTES:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as error:
            raise ModelFileError(
                f"{where}: the JSON text is not valid Unicode ({error.reason} at "
                f"character {error.start}); was it decoded from bytes that are not "
                "UTF-8?"
            ) from None
    if size > limits.MAX_JSON_BYTES:
        raise ModelFileError(
            f"{where}: the JSON document is {size} bytes; the limit is "
            f"{limits.MAX_JSON_BYTES} (glassnet.io.limits.MAX_JSON_BYTES)."
        )
    values = _count_values(text)
    if values > limits.MAX_JSON_VALUES:
        raise ModelFileError(
            f"{where}: the JSON document holds up to {values} values (counting "
            f"',', '[' and '{{'); the limit is {limits.MAX_JSON_VALUES} "
            "(glassnet.io.limits.MAX_JSON_VALUES)."
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ModelFileError(
                f"{where}: the JSON is not valid UTF-8 ({error})."
            ) from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_constant=_refuse_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except _Refused as error:
        raise ModelFileError(f"{where}: {error}.") from None
    except RecursionError:
        raise ModelFileError(
            f"{where}: the JSON is nested too deeply (limit {limits.MAX_JSON_DEPTH})."
        ) from None
    except ValueError as error:  # json.JSONDecodeError and int conversion limits
        raise ModelFileError(f"{where}: not valid JSON ({error}).") from None
    if _depth(value) > limits.MAX_JSON_DEPTH:
        raise ModelFileError(
            f"{where}: the JSON is nested too deeply (limit {limits.MAX_JSON_DEPTH})."
        )
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that refuses NaN and inf, so every file glassnet writes is JSON.

    >>> dumps({"units": 3})
    '{"units": 3}'
    """
    kwargs.setdefault("allow_nan", False)
    return json.dumps(value, **kwargs)
