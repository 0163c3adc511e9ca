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
there are several units. A regression target is standardized for training
(:class:`~glassnet.cli.info.ModelInfo` keeps its mean and scale).

>>> import numpy as np
>>> infer_task(np.array([0.0, 1.0, 1.0, 0.0]), "auto")
'classification'
>>> infer_task(np.array([1.5, 2.0, 3.25, 4.0]), "auto")
'regression'
>>> make_classes(np.array(["b", "a", "b"], dtype=object))
['a', 'b']
"""

from __future__ import annotations

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import CliError
from glassnet.cli.info import Label
from glassnet.cli.prep.encoders import as_numbers, as_texts

__all__ = [
    "MAX_AUTO_CLASSES",
    "class_indices",
    "decode",
    "encode",
    "format_label",
    "infer_task",
    "make_classes",
    "output_units",
    "target_column",
]

#: ``--task auto`` treats whole-number targets with at most this many values as classes
MAX_AUTO_CLASSES = 20
#: losses that take one output unit per class even for two classes
CATEGORICAL = ("sparse_categorical_crossentropy", "categorical_crossentropy")


def target_column(values: Array) -> tuple[Array, Array]:
    """``(y, present)``: numbers (float64) when every present cell is one, else text."""
    if values.dtype == np.float64:
        return values, ~np.isnan(values)
    numbers, bad = as_numbers(values)
    present = np.array([v is not None for v in values], dtype=bool)
    if not bad.any() and present.any():
        return numbers, present
    return as_texts(values), present


def infer_task(y: Array, requested: str) -> str:
    """``"classification"`` or ``"regression"`` for the target ``y`` (no missing)."""
    text = y.dtype != np.float64
    if requested == "regression" and text:
        raise CliError("--task regression needs a numeric target; this one holds text")
    if requested != "auto":
        return requested
    if text:
        return "classification"
    distinct = _distinct(y)
    whole = bool(np.all(distinct == np.round(distinct)))
    few = len(distinct) <= MAX_AUTO_CLASSES and 2 * len(distinct) <= len(y)
    return "classification" if whole and few else "regression"


def make_classes(y: Array) -> list[Label]:
    """The sorted distinct labels (whole numbers as ints)."""
    if y.dtype != np.float64:
        return sorted({str(label) for label in y})
    return [_number(float(label)) for label in _distinct(y)]


def _distinct(y: Array) -> Array:
    """The sorted distinct values (hashing first: a million rows, a few values)."""
    import pandas as pd

    return np.sort(pd.unique(y))


def _number(value: float) -> Label:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def format_label(label: Label) -> str:
    """How a label is written to CSV: text as is, ``3`` not ``3.0``."""
    if isinstance(label, float):
        return repr(_number(label))
    return str(label)


def class_indices(y: Array, classes: list[Label], where: str, target: str) -> Array:
    """Each row's class index; labels unseen in training are an error, counted."""
    import pandas as pd

    if isinstance(classes[0], str):
        keys = as_texts(y) if y.dtype == np.float64 else y
        indices = pd.Index(classes).get_indexer(keys)
    elif y.dtype != np.float64:
        indices = np.full(len(y), -1)
    else:
        indices = pd.Index(np.array(classes, dtype=np.float64)).get_indexer(y)
    unknown = indices < 0
    if unknown.any():
        texts = np.asarray(
            as_texts(y[unknown]) if y.dtype == np.float64 else y[unknown], str
        )
        found, counts = np.unique(texts, return_counts=True)
        order = np.argsort(-counts, kind="stable")[:5]
        shown = ", ".join(f"{found[i][:40]!r} x{counts[i]}" for i in order)
        known = ", ".join(format_label(c) for c in classes[:20])
        raise CliError(
            f"{where}: {int(unknown.sum())} rows of {target!r} hold labels the model "
            f"has never seen ({shown}); its classes: {known}"
            f"{', ...' if len(classes) > 20 else ''}"
        )
    return indices.astype(np.int64)


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


def decode(outputs: Array, classes: list[Label]) -> tuple[Array, Array]:
    """``(class indices, probabilities)``: the predicted class and one column per class."""
    if outputs.shape[1] == 1:
        p = outputs[:, 0].astype(np.float64)
        proba = np.column_stack([1.0 - p, p])
        index = (p > 0.5).astype(np.int64)
    else:
        proba = outputs.astype(np.float64)
        index = proba.argmax(axis=1)
    return index, proba
