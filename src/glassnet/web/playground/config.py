"""The playground's configuration: every key, its default, and how a value is cleaned.

A configuration comes from the page (a control, ``glassnet.command("set", ...)``) or
from a URL's query string, so every value is untrusted: :func:`clean_config` takes a
patch of strings or JSON values, keeps the known keys, converts each value,
clamps numbers into their range and refuses unknown choices (keeping the current
value), and returns the new configuration with the problems it found. The
defaults are the TensorFlow Playground's (circle data, tanh, learning rate 0.03,
batch 10, half the points for training, layers of 4 and 2 neurons, the squared
error), with glassnet's extras (optimizer, loss, dropout, per-layer activations,
speed).

>>> config, problems = clean_config({"learning_rate": "99", "hidden": "4,40,2",
...                                  "dataset": "moon"}, default_config(seed=1))
>>> config["learning_rate"], config["hidden"], config["dataset"]
(10.0, [4, 32, 2], 'circle')
>>> problems  # doctest: +ELLIPSIS
["dataset: 'moon' is not one of circle, xor, gauss, spiral, blobs, spiral3, reg-plane, ..."]
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "ACTIVATIONS",
    "CLASSIFICATION_DATASETS",
    "DATASETS",
    "FEATURES",
    "LIMITS",
    "REGRESSION_DATASETS",
    "clean_config",
    "default_config",
    "problem_of",
]

#: Binary, then multiclass data sets; ``upload`` is a CSV sent from the page.
CLASSIFICATION_DATASETS = ("circle", "xor", "gauss", "spiral", "blobs", "spiral3")
REGRESSION_DATASETS = ("reg-plane", "reg-gauss")
DATASETS = CLASSIFICATION_DATASETS + REGRESSION_DATASETS
#: The seven input features of the Playground, in its order.
FEATURES = ("x", "y", "x_squared", "y_squared", "x_times_y", "sin_x", "sin_y")
ACTIVATIONS = (
    "tanh", "relu", "sigmoid", "linear", "leaky_relu", "elu", "softplus", "gelu",
    "silu", "step",
)  # fmt: skip
OPTIMIZERS = ("sgd", "momentum", "adam")
LOSSES = ("mse", "cross_entropy")
REGULARIZATIONS = ("none", "L1", "L2")
SPEEDS = (1, 2, 5, 10, 25, 50)

#: (low, high) of every number; values outside are clamped.
LIMITS: dict[str, tuple[float, float]] = {
    "learning_rate": (1e-6, 10.0),
    "regularization_rate": (0.0, 10.0),
    "batch_size": (1, 1000),
    "train_percent": (10, 90),
    "noise": (0, 50),
    "dropout": (0.0, 0.9),
    "seed": (0, 2**31 - 1),
    "data_seed": (0, 2**31 - 1),
    "layers": (0, 8),
    "neurons": (1, 32),
}
_INTEGERS = ("batch_size", "train_percent", "noise", "seed", "data_seed")
_CHOICES: dict[str, tuple[Any, ...]] = {
    "dataset": (*DATASETS, "upload"),
    "activation": ACTIVATIONS,
    "optimizer": OPTIMIZERS,
    "loss": LOSSES,
    "regularization": REGULARIZATIONS,
}
_BOOLEANS = ("show_test", "discretize")
_MAX_TEXT = 200


def default_config(seed: int = 0) -> dict[str, Any]:
    """The Playground's defaults, with glassnet's extra keys."""
    return {
        "dataset": "circle",
        "problem": "classification",
        "learning_rate": 0.03,
        "activation": "tanh",
        "layer_activations": ["", ""],
        "regularization": "none",
        "regularization_rate": 0.0,
        "batch_size": 10,
        "train_percent": 50,
        "noise": 0,
        "features": ["x", "y"],
        "hidden": [4, 2],
        "optimizer": "sgd",
        "loss": "mse",
        "dropout": 0.0,
        "seed": int(seed),
        "data_seed": int(seed),
        "speed": 1,
        "show_test": False,
        "discretize": False,
    }


def problem_of(dataset: str, uploaded_kind: str | None = None) -> str:
    """``classification`` or ``regression`` for a data set name."""
    if dataset == "upload":
        return "regression" if uploaded_kind == "regression" else "classification"
    return "regression" if dataset in REGRESSION_DATASETS else "classification"


def clean_config(
    patch: Any, current: dict[str, Any], uploaded_kind: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """``current`` updated by the valid parts of ``patch``; and what was refused.

    Unknown keys are reported and ignored; a value of the wrong kind keeps the
    current one; numbers are clamped into :data:`LIMITS`. ``problem`` follows the
    data set (setting ``problem`` alone picks that problem's first data set).
    """
    config = dict(current)
    problems: list[str] = []
    if not isinstance(patch, dict):
        return config, ["the configuration must be an object of keys and values"]
    for key, raw in patch.items():
        key = str(key)[:_MAX_TEXT]
        if key == "problem":
            continue  # after the data set, below
        if key not in config:
            problems.append(f"{key}: not a setting of the playground")
            continue
        try:
            config[key] = _clean_value(key, raw, config)
        except ValueError as error:
            problems.append(f"{key}: {error}")
    if config["dataset"] == "upload" and uploaded_kind is None:
        problems.append("dataset: no CSV was uploaded; choose a file first")
        config["dataset"] = (
            current["dataset"] if current["dataset"] != "upload" else "circle"
        )
    wanted = patch.get("problem")
    if wanted is not None and "dataset" not in patch:
        if wanted not in ("classification", "regression"):
            problems.append(
                f"problem: {_show(wanted)} is not classification or regression"
            )
        elif problem_of(config["dataset"], uploaded_kind) != wanted:
            first = (
                REGRESSION_DATASETS
                if wanted == "regression"
                else CLASSIFICATION_DATASETS
            )
            config["dataset"] = first[0]
    config["problem"] = problem_of(config["dataset"], uploaded_kind)
    if config["problem"] == "regression":
        config["loss"] = "mse"
    layers = len(config["hidden"])
    extra = config["layer_activations"][:layers]
    config["layer_activations"] = extra + [""] * (layers - len(extra))
    return config, problems


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _clean_value(key: str, raw: Any, config: dict[str, Any]) -> Any:
    if key in _CHOICES:
        if raw not in _CHOICES[key]:
            raise ValueError(
                f"{_show(raw)} is not one of {', '.join(map(str, _CHOICES[key]))}"
            )
        return raw
    if key in _BOOLEANS:
        if raw in (True, "true", "1", 1):
            return True
        if raw in (False, "false", "0", 0):
            return False
        raise ValueError(f"{_show(raw)} is not true or false")
    if key == "speed":
        number = _number(raw)
        return min(SPEEDS, key=lambda speed: abs(speed - number))
    if key == "features":
        names = _list(raw)
        unknown = [name for name in names if name not in FEATURES]
        if unknown:
            raise ValueError(f"{_show(unknown[0])} is not one of {', '.join(FEATURES)}")
        chosen = [name for name in FEATURES if name in names]
        if not chosen:
            raise ValueError("at least one input feature is needed")
        return chosen
    if key == "hidden":
        low, high = LIMITS["neurons"]
        sizes = [int(_clamp(round(_number(v)), low, high)) for v in _list(raw)]
        return sizes[: int(LIMITS["layers"][1])]
    if key == "layer_activations":
        names = [str(name) for name in _list(raw)]
        bad = [name for name in names if name and name not in ACTIVATIONS]
        if bad:
            raise ValueError(f"{_show(bad[0])} is not one of {', '.join(ACTIVATIONS)}")
        return names[: int(LIMITS["layers"][1])]
    low, high = LIMITS[key]
    value = _clamp(_number(raw), low, high)
    return round(value) if key in _INTEGERS else float(value)


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"{_show(raw)} is not a number")
    try:
        value = (
            float(raw) if not isinstance(raw, str) else float(raw.strip()[:_MAX_TEXT])
        )
    except ValueError:
        raise ValueError(f"{_show(raw)} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{_show(raw)} is not a finite number")
    return value


def _list(raw: Any) -> list[Any]:
    if isinstance(raw, str):
        return [] if not raw.strip() else raw[: 20 * _MAX_TEXT].split(",")
    if isinstance(raw, list):
        return raw[:64]
    raise ValueError(f"{_show(raw)} is not a list")


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
