"""Flag value types for argparse: each parses one flag's text or explains what it wants.

A refused value becomes argparse's one-line error with exit code 2:
``glassnet: error: argument --epochs: must be a positive integer, got '0'``.

>>> layer_sizes("16,8")
[16, 8]
>>> fraction("0.2")
0.2
>>> separator("tab"), patience("off"), patience("5")
('\\t', 'off', 5)
"""

from __future__ import annotations

import argparse
import math

#: ``--format`` values
FORMATS = ("csv", "tsv", "json", "jsonl", "parquet", "npz")

__all__ = [
    "FORMATS",
    "column_list",
    "decimal_mark",
    "fraction",
    "layer_sizes",
    "nonnegative_int",
    "patience",
    "positive_float",
    "positive_int",
    "separator",
    "text_list",
]


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, batch size)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    """An integer >= 0 (seed, patience, row)."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rate)."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1) (validation split, dropout rate)."""
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a number from 0 up to (not including) 1, got {text!r}"
        )
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def layer_sizes(text: str) -> list[int]:
    """``"16,8"`` -> ``[16, 8]``; ``""`` gives no hidden layer (a linear model)."""
    sizes = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise argparse.ArgumentTypeError(
                f"must be positive layer sizes separated by commas, such as 16,8; "
                f"got {text!r}"
            )
        sizes.append(int(part))
    return sizes


def column_list(text: str) -> list[str]:
    """``"a,b"`` -> ``["a", "b"]``."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"must be column names separated by commas, got {text!r}"
        )
    return names


def text_list(text: str) -> list[str]:
    """``"NA,?,-"`` -> ``["NA", "?", "-"]`` (missing-value markers; spaces kept)."""
    return [part for part in text.split(",") if part]


def separator(text: str) -> str:
    """One character; ``tab`` (or ``\\t``) for a tab."""
    named = {"tab": "\t", "\\t": "\t", "space": " ", "comma": ",", "semicolon": ";"}
    value = named.get(text.lower(), text)
    if len(value) != 1 or value in '"\r\n':
        raise argparse.ArgumentTypeError(
            f"must be one character such as ';' or '|', or 'tab'; got {text!r}"
        )
    return value


def decimal_mark(text: str) -> str:
    """``.`` or ``,``."""
    if text not in (".", ","):
        raise argparse.ArgumentTypeError(f"must be '.' or ','; got {text!r}")
    return text


def patience(text: str) -> int | str:
    """Epochs without improvement before stopping, or ``off``."""
    if text.lower() == "off":
        return "off"
    return nonnegative_int(text)
