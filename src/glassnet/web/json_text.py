"""JSON for a page's source: readable, deterministic, and safe inside ``<script>``.

:func:`readable_json` lays a value out one key per line, with each list of plain
values (a weight row, a data point) on one line, so a reader who views the page's
source sees the numbers as a table. ``<``, ``>`` and ``&`` are written as ``\\u003c``,
``\\u003e`` and ``\\u0026`` (and every non-ASCII character as its ``\\u`` escape), so no
string in the data can close the ``<script>`` element that holds it or open markup;
``JSON.parse`` reads the same text back. The same value always gives the same text.

>>> print(readable_json({"name": "</script>", "W": [[0.5, -1.0], [2.0, 0.25]]}))
{
 "name": "\\u003c/script\\u003e",
 "W": [
  [0.5, -1.0],
  [2.0, 0.25]
 ]
}
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["readable_json", "script_safe"]

_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def script_safe(text: str) -> str:
    """``text`` (JSON) with ``<``, ``>`` and ``&`` written as ``\\u`` escapes.

    Only valid inside JSON strings, where they can appear: JSON has no ``<`` elsewhere.

    >>> script_safe('"a<b & c>d"')
    '"a\\\\u003cb \\\\u0026 c\\\\u003ed"'
    """
    for raw, escaped in _ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def readable_json(value: Any) -> str:
    """``value`` as indented, escaped JSON text (see the module docstring).

    Raises ``ValueError`` for NaN or infinite floats (not JSON).
    """
    return script_safe("\n".join(_lines(value, 0)))


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, allow_nan=False)


def _flat(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _lines(value: Any, depth: int) -> list[str]:
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        if not value:
            return ["{}"]
        lines = ["{"]
        items = list(value.items())
        for index, (key, item) in enumerate(items):
            inner = _lines(item, depth + 1)
            inner[0] = f"{pad}{_scalar(str(key))}: {inner[0]}"
            if index < len(items) - 1:
                inner[-1] += ","
            lines.extend(inner)
        lines.append(" " * depth + "}")
        return lines
    if isinstance(value, list):
        if all(_flat(item) for item in value):
            return ["[" + ", ".join(_scalar(item) for item in value) + "]"]
        lines = ["["]
        for index, item in enumerate(value):
            inner = _lines(item, depth + 1)
            inner[0] = pad + inner[0]
            if index < len(value) - 1:
                inner[-1] += ","
            lines.extend(inner)
        lines.append(" " * depth + "]")
        return lines
    return [_scalar(value)]
