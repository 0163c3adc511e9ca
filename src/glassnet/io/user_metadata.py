"""Your own JSON data in a ``.keras`` archive's ``metadata.json``.

It rides along under ``"glassnet": {"user": {...}}`` (``save_model(...,
metadata=...)``): :func:`check_user_metadata` checks it before writing, and
:func:`read_user_metadata` reads it back from ``metadata.json`` alone, never opening
``model.weights.h5``. Keras ignores the ``"glassnet"`` section.
"""

from __future__ import annotations

import math
from typing import Any

from glassnet.errors import InvalidArgumentError, ModelFileError
from glassnet.io import limits, safe_json
from glassnet.io.keras_zip import METADATA, opened, read_member

__all__ = [
    "MAX_USER_METADATA_BYTES",
    "USER",
    "check_user_metadata",
    "read_user_metadata",
]

USER = "user"  # the key of the caller's own metadata inside metadata.json's "glassnet"

#: Largest ``metadata=`` dict :func:`~glassnet.io.keras_archive.write_archive`
#: stores, as compact JSON.
MAX_USER_METADATA_BYTES = 2**20


def check_user_metadata(metadata: Any) -> dict[str, Any]:
    """``metadata`` if it is a JSON object that reads back as it was written.

    A dict with string keys holding only dicts, lists (tuples), strings, booleans,
    None, integers and finite floats, at most :data:`MAX_USER_METADATA_BYTES` as
    JSON and within the caps every loader applies (:mod:`glassnet.io.limits`).

    >>> check_user_metadata({"classes": ["cat", "dog"], "scale": [0.5]})
    {'classes': ['cat', 'dog'], 'scale': [0.5]}
    >>> check_user_metadata({"mean": float("nan")})
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: Argument `metadata`: metadata['mean'] is nan; ...
    """
    if not isinstance(metadata, dict):
        raise InvalidArgumentError(
            f"Argument `metadata` must be a dict (a JSON object). "
            f"Received: {type(metadata).__name__}"
        )
    stack: list[tuple[str, Any]] = [("metadata", metadata)]
    count = 0
    while stack:
        name, value = stack.pop()
        count += 1
        if count > limits.MAX_JSON_VALUES:
            raise InvalidArgumentError(
                f"Argument `metadata` holds over {limits.MAX_JSON_VALUES} values (or "
                "contains itself); the limit is glassnet.io.limits.MAX_JSON_VALUES."
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InvalidArgumentError(
                        f"Argument `metadata`: {name} has the key {key!r}; JSON "
                        "object keys must be strings."
                    )
                stack.append((_child(name, f"[{key[:40]!r}]"), item))
        elif isinstance(value, (list, tuple)):
            stack.extend((_child(name, f"[{i}]"), item) for i, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgumentError(
                f"Argument `metadata`: {name} is {value}; JSON holds finite numbers only."
            )
        elif value is not None and not isinstance(value, (str, bool, int, float)):
            raise InvalidArgumentError(
                f"Argument `metadata`: {name} is a {type(value).__name__}; JSON holds "
                "dicts, lists, strings, numbers, booleans and None only."
            )
    try:
        text = safe_json.dumps(metadata, separators=(",", ":"))
    except (ValueError, RecursionError) as error:  # a cycle, an int of 5,000 digits
        raise InvalidArgumentError(
            f"Argument `metadata` cannot be written as JSON: {error}"
        ) from None
    size = len(text)  # ASCII: json.dumps escapes everything else
    if size > MAX_USER_METADATA_BYTES:
        raise InvalidArgumentError(
            f"Argument `metadata` is {size} bytes as JSON; the limit is "
            f"{MAX_USER_METADATA_BYTES} "
            "(glassnet.io.keras_archive.MAX_USER_METADATA_BYTES)."
        )
    try:  # what a loader would refuse (deep nesting, huge integers, bad Unicode)
        safe_json.loads(text, "metadata")
    except ModelFileError as error:
        raise InvalidArgumentError(
            f"Argument `metadata` cannot be stored: {error}"
        ) from None
    return metadata


def _child(name: str, part: str) -> str:
    """The path of an item inside ``name``, kept short.

    A value nested deeply, or containing itself, would otherwise make every path
    longer than the last: 500,000 of them cost minutes to spell out.
    """
    return f"{name}{part}" if len(name) < 200 else f"{name[:200]}..."


def read_user_metadata(path: str, where: str) -> dict[str, Any]:
    """The ``metadata=`` dict saved with the archive (``{}`` if none).

    The zip directory is checked as for loading, then only metadata.json is read:
    config.json and model.weights.h5 are never inflated.
    """
    with opened(path, where) as (archive, infos):
        text = read_member(archive, infos[METADATA], where)
    metadata = safe_json.loads(text, f"{where}: {METADATA}")
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{where}: {METADATA} must be a JSON object.")
    ours = metadata.get("glassnet")
    if ours is None:
        return {}
    if not isinstance(ours, dict):
        raise ModelFileError(f"{where}: {METADATA}: 'glassnet' must be a JSON object.")
    user = ours.get(USER, {})
    if not isinstance(user, dict):
        raise ModelFileError(
            f"{where}: {METADATA}: glassnet.{USER} must be a JSON object."
        )
    return user
