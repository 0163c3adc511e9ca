"""What the command line keeps with a model: the task, the columns, the labels, the scaling.

A network sees numbers; a CSV file has named columns and text labels. ``glassnet
train`` records the bridge between the two, so that ``predict``, ``evaluate`` and
``explain`` read new files exactly as the training file was read::

    {"version": 1, "task": "classification", "target": "species",
     "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
     "classes": ["setosa", "versicolor", "virginica"], "mean": null, "scale": null}

- ``features``: the input columns, in the order the network takes them; new files
  may hold them in any order, among other columns.
- ``classes`` (classification): the distinct labels sorted (text by code point,
  numbers by value); a label's class index is its position. With two classes the
  network has one sigmoid output, the probability of ``classes[1]``.
- ``mean``, ``scale`` (``--standardize``): inputs are used as ``(x - mean) / scale``.

:mod:`glassnet.cli.modelfile` stores it inside a ``.keras`` file and next to other
formats. It is read as untrusted data: strict JSON, and every field checked here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import ModelFileError
from glassnet.io import limits

if TYPE_CHECKING:
    from glassnet.models import Sequential

__all__ = ["Label", "ModelInfo"]

Label = str | int | float
_KEYS = {"version", "task", "target", "features", "classes", "mean", "scale"}
_TASKS = ("classification", "regression")
_MAX_CLASSES = 100_000


@dataclass
class ModelInfo:
    """The columns, labels and scaling a model was trained with."""

    task: str
    target: str | None
    features: list[str]
    classes: list[Label] | None = None
    mean: list[float] | None = None
    scale: list[float] | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data (the layout in this module's docstring)."""
        return {
            "version": 1,
            "task": self.task,
            "target": self.target,
            "features": list(self.features),
            "classes": None if self.classes is None else list(self.classes),
            "mean": self.mean,
            "scale": self.scale,
        }

    @classmethod
    def from_json(cls, value: Any, where: str) -> ModelInfo:
        """Check and rebuild what :meth:`to_json` wrote; a ModelFileError otherwise."""

        def refuse(problem: str) -> ModelFileError:
            return ModelFileError(f"{where}: the command line's column data {problem}.")

        if not isinstance(value, dict) or set(value) != _KEYS:
            raise refuse(f"must be an object with the keys {sorted(_KEYS)}")
        if value["version"] != 1:
            raise refuse(f"has version {str(value['version'])[:20]}; glassnet reads 1")
        if value["task"] not in _TASKS:
            raise refuse(f"names the task {str(value['task'])[:40]!r}")
        target = value["target"]
        if target is not None and not _name(target):
            raise refuse("has an invalid target name")
        features = value["features"]
        if (
            not isinstance(features, list)
            or not 0 < len(features) <= limits.MAX_PARAMETERS
            or not all(_name(name) for name in features)
        ):
            raise refuse("must list the input column names")
        classes = value["classes"]
        if (value["task"] == "classification") != (classes is not None):
            raise refuse("must list classes for classification, and only then")
        if classes is not None and not _labels(classes):
            raise refuse("must list at least 2 distinct labels (text or numbers)")
        mean, scale = value["mean"], value["scale"]
        if (mean is None) != (scale is None):
            raise refuse("must give both mean and scale, or neither")
        if mean is not None and not (
            _numbers(mean, len(features)) and _numbers(scale, len(features))
        ):
            raise refuse("must give one finite mean and one positive scale per input")
        if scale is not None and min(scale) <= 0:
            raise refuse("must give one finite mean and one positive scale per input")
        return cls(value["task"], target, list(features), classes, mean, scale)

    @property
    def n_classes(self) -> int:
        return 0 if self.classes is None else len(self.classes)

    def check(self, model: Sequential, where: str) -> None:
        """Refuse column data that does not fit ``model``'s inputs and outputs."""
        shape = model.built_input_shape()
        outputs = model.compute_output_shape(shape)[-1]
        if len(shape) != 1 or len(self.features) != shape[0]:
            raise ModelFileError(
                f"{where}: the column data lists {len(self.features)} inputs but the "
                f"model takes inputs shaped {shape}."
            )
        if self.classes is not None and outputs not in (1, len(self.classes)):
            raise ModelFileError(
                f"{where}: the column data lists {len(self.classes)} classes but the "
                f"model has {outputs} outputs."
            )
        if self.classes is not None and outputs == 1 and len(self.classes) != 2:
            raise ModelFileError(
                f"{where}: a model with one output separates 2 classes; the column "
                f"data lists {len(self.classes)}."
            )

    def transform(self, x: Array) -> Array:
        """Inputs as the network takes them (standardized when trained so)."""
        if self.mean is None or self.scale is None:
            return x
        return (x - np.asarray(self.mean)) / np.asarray(self.scale)

    def describe(self) -> str:
        """One line, e.g. ``classification of 'species' into 3 classes ... from 4 inputs``."""
        inputs = f"{len(self.features)} input{'s' if len(self.features) != 1 else ''}"
        scaled = ", standardized" if self.mean is not None else ""
        target = f" of {self.target!r}" if self.target else ""
        if self.classes is None:
            return f"regression{target} from {inputs}{scaled}"
        shown = ", ".join(str(label) for label in self.classes[:10])
        more = ", ..." if len(self.classes) > 10 else ""
        return (
            f"classification{target} into {len(self.classes)} classes "
            f"({shown}{more}) from {inputs}{scaled}"
        )


def _name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limits.MAX_NAME_LENGTH


def _label(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= limits.MAX_NAME_LENGTH
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


def _labels(classes: Any) -> bool:
    if not isinstance(classes, list) or not 2 <= len(classes) <= _MAX_CLASSES:
        return False
    if not all(_label(label) for label in classes):
        return False
    kinds = {isinstance(label, str) for label in classes}
    return len(kinds) == 1 and len(set(classes)) == len(classes)


def _numbers(values: Any, length: int) -> bool:
    return (
        isinstance(values, list)
        and len(values) == length
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        )
    )
