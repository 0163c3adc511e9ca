"""From a target column to what the network trains on, and from outputs back to labels.

**Task** (``--task auto``): classification when the target holds text, or when its
values are whole numbers with at most :data:`MAX_AUTO_CLASSES` (20) distinct values
and at most one distinct value per two rows (0/1 flags, star ratings, digits);
regression otherwise (prices, measurements). ``--task`` overrides the rule.

**Classes** are the distinct labels, sorted; a label's class index is its position.

**Outputs and targets**: two classes train one sigmoid unit with binary
cross-entropy on 0/1 (the probability of the second class), as scikit-learn's
MLPClassifier does; more classes train one softmax unit per class with sparse
categorical cross-entropy on the class index. With ``--loss
categorical_crossentropy`` (or ``sparse_categorical_crossentropy``) two classes get
two softmax units too; losses other than the sparse one take one-hot targets when
there are several units.

>>> import numpy as np
>>> infer_task(np.array([0.0, 1.0, 1.0, 0.0]), "auto")
'classification'
>>> infer_task(np.array([1.5, 2.0, 3.25, 4.0]), "auto")
'regression'
>>> make_classes(np.array(["b", "a", "b"]))
['a', 'b']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import CliError
from glassnet.cli.info import Label

if TYPE_CHECKING:
    from glassnet.cli.data import Data

__all__ = [
    "MAX_AUTO_CLASSES",
    "class_indices",
    "decode",
    "encode",
    "format_label",
    "infer_task",
    "make_classes",
    "output_units",
]

#: ``--task auto`` treats whole-number targets with at most this many values as classes
MAX_AUTO_CLASSES = 20
#: losses that take one output unit per class even for two classes
CATEGORICAL = ("sparse_categorical_crossentropy", "categorical_crossentropy")


def infer_task(y: Array, requested: str) -> str:
    """``"classification"`` or ``"regression"`` for the raw target ``y``."""
    text = y.dtype.kind == "U"
    if requested == "regression" and text:
        raise CliError("--task regression needs a numeric target; this one holds text")
    if requested != "auto":
        return requested
    if text:
        return "classification"
    distinct = np.unique(y)
    whole = bool(np.all(distinct == np.round(distinct)))
    few = len(distinct) <= MAX_AUTO_CLASSES and 2 * len(distinct) <= len(y)
    return "classification" if whole and few else "regression"


def make_classes(y: Array) -> list[Label]:
    """The sorted distinct labels (whole numbers as ints)."""
    distinct = np.unique(y)
    if y.dtype.kind == "U":
        return [str(label) for label in distinct]
    return [_number(float(label)) for label in distinct]


def _number(value: float) -> Label:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def format_label(label: Label) -> str:
    """How a label is written to CSV: text as is, ``3`` not ``3.0``."""
    if isinstance(label, float):
        return repr(_number(label))
    return str(label)


def class_indices(data: Data, classes: list[Label]) -> Array:
    """Each row's class index; a label unseen in training is an error naming its line."""
    assert data.y is not None
    y = data.y
    if isinstance(classes[0], str):
        keys = (
            [str(v) for v in y]
            if y.dtype.kind == "U"
            else [format_label(float(v)) for v in y]
        )
        lookup = {label: index for index, label in enumerate(classes)}
        indices = np.array([lookup.get(key, -1) for key in keys], dtype=np.int64)
    elif y.dtype.kind == "U":
        indices = np.full(len(y), -1, dtype=np.int64)
    else:
        table = np.array(classes, dtype=np.float64)
        order = np.argsort(table)
        found = np.clip(np.searchsorted(table[order], y), 0, len(table) - 1)
        indices = np.where(table[order][found] == y, order[found], -1).astype(np.int64)
    unknown = np.flatnonzero(indices < 0)
    if len(unknown):
        row = int(unknown[0])
        label = y[row] if y.dtype.kind == "U" else format_label(float(y[row]))
        shown = ", ".join(format_label(c) for c in classes[:20])
        raise CliError(
            f"{data.where(row)}, column {data.target!r}: the label {str(label)!r} is not "
            f"one of the model's classes ({shown}{', ...' if len(classes) > 20 else ''})"
        )
    return indices


def output_units(n_classes: int, loss_name: str) -> int:
    """1 sigmoid unit for two classes, else one unit per class (see the module doc)."""
    return 1 if n_classes == 2 and loss_name not in CATEGORICAL else n_classes


def encode(indices: Array, units: int, loss_name: str) -> Array:
    """Class indices as the loss takes them: 0/1, the index itself, or one-hot."""
    if units == 1:
        return indices.astype(np.float64).reshape(-1, 1)
    if loss_name == "sparse_categorical_crossentropy":
        return indices
    return np.eye(units)[indices]


def regression_targets(data: Data) -> Array:
    """The target as a float column ``(n, 1)``."""
    assert data.y is not None
    if data.y.dtype.kind == "U":
        row = next(i for i, v in enumerate(data.y) if _not_number(str(v)))
        raise CliError(
            f"{data.where(row)}, column {data.target!r}: {str(data.y[row])[:40]!r} is not "
            "a number, and this model predicts numbers (regression)"
        )
    return data.y.astype(np.float64).reshape(-1, 1)


def _not_number(text: str) -> bool:
    try:
        return not np.isfinite(float(text))
    except ValueError:
        return True


def decode(outputs: Array, classes: list[Label]) -> tuple[list[Label], Array]:
    """``(labels, probabilities)``: the predicted label and one column per class."""
    if outputs.shape[1] == 1:
        p = outputs[:, 0].astype(np.float64)
        proba = np.column_stack([1.0 - p, p])
        index = (p > 0.5).astype(np.int64)
    else:
        proba = outputs.astype(np.float64)
        index = proba.argmax(axis=1)
    return [classes[i] for i in index], proba
