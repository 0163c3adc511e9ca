"""What the command line keeps with a model: the task, the preparation, the labels.

A network sees numbers; a table has named columns, text, dates and holes.
``glassnet train`` records the bridge between the two, so that ``predict``,
``evaluate`` and ``explain`` read new files exactly as the training file was read::

    {"version": 2, "task": "classification", "target": "species",
     "classes": ["setosa", "versicolor", "virginica"],
     "target_mean": null, "target_scale": null,
     "preparation": {"missing": "impute", "dropped": [],
                     "inputs": [{"kind": "number", "name": "sepal_length",
                                 "fill": 5.8, "mean": 5.84, "scale": 0.825,
                                 "indicator": false}, ...]},
     "training": {"loss": "sparse_categorical_crossentropy", "optimizer": "adam",
                  "learning_rate": 0.001, "epochs": 180, "best_epoch": 150, ...}}

- ``classes`` (classification): the distinct labels sorted (text by code point,
  numbers by value); a label's class index is its position. With two classes the
  network has one sigmoid output, the probability of ``classes[1]``.
- ``target_mean``, ``target_scale`` (regression): the network learns
  ``(y - mean) / scale``; predictions are mapped back with ``y = out * scale + mean``.
- ``preparation``: :class:`~glassnet.cli.prep.Plan`, the input encoders.
- ``training``: how the model was trained and its final metrics (``summary``).

Version 1 files (numeric inputs, optional ``mean``/``scale``) still load. The data
is read as untrusted: strict JSON, every field checked here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.cli.prep import NumberInput, Plan
from glassnet.errors import ModelFileError

if TYPE_CHECKING:
    from glassnet.models import Sequential

__all__ = ["Label", "ModelInfo"]

Label = str | int | float
_KEYS_V1 = {"version", "task", "target", "features", "classes", "mean", "scale"}
_KEYS = {
    "version",
    "task",
    "target",
    "classes",
    "target_mean",
    "target_scale",
    "preparation",
    "training",
}
_TASKS = ("classification", "regression")
_MAX_CLASSES = 100_000
_MAX_NAME = 1024


@dataclass
class ModelInfo:
    """The task, labels, target scaling and input preparation a model was trained with."""

    task: str
    target: str | None
    plan: Plan
    classes: list[Label] | None = None
    target_mean: float | None = None
    target_scale: float | None = None
    training: dict[str, Any] | None = None

    @property
    def features(self) -> list[str]:
        """The table columns the model reads."""
        return self.plan.columns

    @property
    def n_classes(self) -> int:
        return 0 if self.classes is None else len(self.classes)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data (the layout in this module's docstring)."""
        return {
            "version": 2,
            "task": self.task,
            "target": self.target,
            "classes": None if self.classes is None else list(self.classes),
            "target_mean": self.target_mean,
            "target_scale": self.target_scale,
            "preparation": self.plan.to_json(),
            "training": self.training,
        }

    @classmethod
    def from_json(cls, value: Any, where: str) -> ModelInfo:
        """Check and rebuild what :meth:`to_json` wrote; a ModelFileError otherwise."""

        def refuse(problem: str) -> ModelFileError:
            return ModelFileError(f"{where}: the command line's column data {problem}.")

        if (
            isinstance(value, dict)
            and value.get("version") == 1
            and set(value) == _KEYS_V1
        ):
            return _from_version_1(value, refuse)
        if not isinstance(value, dict) or set(value) != _KEYS:
            raise refuse(f"must be an object with the keys {sorted(_KEYS)}")
        if value["version"] != 2:
            raise refuse(
                f"has version {str(value['version'])[:20]}; glassnet reads 1 and 2"
            )
        task, target, classes = value["task"], value["target"], value["classes"]
        if task not in _TASKS:
            raise refuse(f"names the task {str(task)[:40]!r}")
        if target is not None and not _name(target):
            raise refuse("has an invalid target name")
        if (task == "classification") != (classes is not None):
            raise refuse("must list classes for classification, and only then")
        if classes is not None and not _labels(classes):
            raise refuse("must list at least 2 distinct labels (text or numbers)")
        mean, scale = value["target_mean"], value["target_scale"]
        if (mean is None) != (scale is None) or (
            mean is not None and task != "regression"
        ):
            raise refuse(
                "must give the target's mean and scale together, for regression"
            )
        if mean is not None and not (_finite(mean) and _finite(scale) and scale > 0):
            raise refuse("must give a finite target mean and a positive scale")
        training = value["training"]
        if training is not None and not _flat_record(training):
            raise refuse("must describe the training as names and numbers")
        plan = Plan.from_json(value["preparation"], refuse)
        return cls(task, target, plan, classes, mean, scale, training)

    def check(self, model: Sequential, where: str) -> None:
        """Refuse column data that does not fit ``model``'s inputs and outputs."""
        shape = model.built_input_shape()
        outputs = model.compute_output_shape(shape)[-1]
        inputs = len(self.plan.input_names)
        if len(shape) != 1 or inputs != shape[0]:
            raise ModelFileError(
                f"{where}: the column data makes {inputs} inputs but the model takes "
                f"inputs shaped {shape}."
            )
        if self.classes is None and outputs != 1:
            raise ModelFileError(
                f"{where}: a regression's column data, but the model has {outputs} outputs."
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

    def scale_target(self, y: Array) -> Array:
        """Regression targets as the network learns them."""
        if self.target_mean is None or self.target_scale is None:
            return y
        return (y - self.target_mean) / self.target_scale

    def unscale(self, outputs: Array) -> Array:
        """Network outputs back in the target's units (regression)."""
        if self.target_mean is None or self.target_scale is None:
            return outputs.astype(np.float64)
        return outputs.astype(np.float64) * self.target_scale + self.target_mean

    def describe_task(self) -> str:
        """``classification of 'species' into 3 classes (setosa, ...)``."""
        target = f" of {self.target!r}" if self.target else ""
        if self.classes is None:
            scaled = ""
            if self.target_mean is not None and self.target_scale is not None:
                scaled = (
                    f" (mean {self.target_mean:.4g}, std {self.target_scale:.4g}; "
                    "learned standardized, predicted in its units)"
                )
            return f"regression{target}{scaled}"
        shown = ", ".join(str(label) for label in self.classes[:10])
        more = ", ..." if len(self.classes) > 10 else ""
        return (
            f"classification{target} into {len(self.classes)} classes ({shown}{more})"
        )

    def describe(self) -> str:
        """One line: the task and the inputs."""
        inputs = len(self.plan.input_names)
        return f"{self.describe_task()} from {inputs} input{'s' if inputs != 1 else ''}"


def _from_version_1(value: dict[str, Any], refuse: Any) -> ModelInfo:
    features, mean, scale = value["features"], value["mean"], value["scale"]
    if not isinstance(features, list) or not features or not all(map(_name, features)):
        raise refuse("must list the input column names")
    if (mean is None) != (scale is None):
        raise refuse("must give both mean and scale, or neither")
    if mean is not None and not (
        _numbers(mean, len(features))
        and _numbers(scale, len(features))
        and min(scale) > 0
    ):
        raise refuse("must give one finite mean and one positive scale per input")
    encoders: list[Any] = [
        NumberInput(
            name,
            None,
            None if mean is None else mean[i],
            None if scale is None else scale[i],
        )
        for i, name in enumerate(features)
    ]
    body = {
        "version": 2,
        "task": value["task"],
        "target": value["target"],
        "classes": value["classes"],
        "target_mean": None,
        "target_scale": None,
        "preparation": {"missing": "error", "inputs": [], "dropped": []},
        "training": None,
    }
    body["preparation"]["inputs"] = [e.to_json() for e in encoders]
    return ModelInfo.from_json(body, "version 1 data")


def _name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_NAME


def _finite(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _label(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= _MAX_NAME
    return _finite(value)


def _labels(classes: Any) -> bool:
    if not isinstance(classes, list) or not 2 <= len(classes) <= _MAX_CLASSES:
        return False
    if not all(_label(label) for label in classes):
        return False
    kinds = {isinstance(label, str) for label in classes}
    return len(kinds) == 1 and len(set(classes)) == len(classes)


def _numbers(values: Any, length: int) -> bool:
    return (
        isinstance(values, list) and len(values) == length and all(map(_finite, values))
    )


def _flat_record(value: Any, depth: int = 0) -> bool:
    """A dict of names to text, numbers, None or (once nested) such dicts."""
    if not isinstance(value, dict) or len(value) > 200:
        return False
    for key, item in value.items():
        if not _name(key):
            return False
        if isinstance(item, dict):
            if depth or not _flat_record(item, depth + 1):
                return False
        elif not (
            item is None or _finite(item) or (isinstance(item, str) and len(item) < 200)
        ):
            return False
    return True
