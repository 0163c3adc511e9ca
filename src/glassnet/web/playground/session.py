"""One playground session: its configuration, data, model, epoch and loss history.

Plain synchronous Python, driven by the server (:mod:`.server`) one call at a time
from a worker thread. :meth:`Session.reset` draws the data from ``data_seed`` and
the model from ``seed``, so the same configuration gives the same initial loss and
the same training; :meth:`Session.train` runs whole epochs with glassnet's ``fit``
(splitting training into calls of any size gives the same weights: the model's
generator carries the shuffles over). :meth:`Session.frame` is what the page
draws: the epoch, the losses and the weights, as base64 float32 for speed.

>>> session = Session(seed=3)
>>> first = session.frame()["loss_train"]
>>> session.train(2)
>>> session.epoch, session.frame()["loss_train"] < first
(2, True)
>>> again = Session(seed=3)
>>> again.frame()["loss_train"] == first
True
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from glassnet import losses
from glassnet.losses import Loss
from glassnet.web.model_json import model_to_json
from glassnet.web.playground.building import Plan
from glassnet.web.playground.config import FEATURES, clean_config, default_config
from glassnet.web.playground.datasets import (
    DOMAIN,
    feature_labels,
    feature_matrix,
    generate,
    parse_csv,
    sample_count,
)

__all__ = ["HISTORY_LIMIT", "Session"]

#: The loss chart keeps at most this many points, thinning itself as it grows.
HISTORY_LIMIT = 1000
#: Settings the model takes on the fly; any other change starts again (as the Playground).
LIVE_KEYS = {"learning_rate", "speed", "show_test", "discretize"}


class Session:
    """The state of one playground page (see the module docstring)."""

    def __init__(self, seed: int = 0) -> None:
        self.config = default_config(seed)
        #: An upload as parse_csv returns it: (points, labels, kind, classes, names).
        self.upload: tuple[Any, Any, str, Any, Any] | None = None
        self.generation = 0
        self.reset()

    # -- data and model ------------------------------------------------------------
    @property
    def uploaded_kind(self) -> str | None:
        return None if self.upload is None else self.upload[2]

    def _data(self) -> None:
        config = self.config
        rng = np.random.default_rng(config["data_seed"])
        if config["dataset"] == "upload" and self.upload is not None:
            points, labels, kind, classes, names = self.upload
        else:
            dataset = config["dataset"]
            points, labels = generate(
                dataset, sample_count(dataset), config["noise"] / 100, rng
            )
            kind = config["problem"]
            classes, names = None, None
            if kind == "classification":
                classes = [str(k) for k in range(int(labels.max()) + 1)]
        n = len(points)
        n_train = min(max(round(n * config["train_percent"] / 100), 1), n - 1)
        self.is_train = np.zeros(n, dtype=bool)
        self.is_train[rng.permutation(n)[:n_train]] = True
        self.points, self.labels, self.classes = points, labels, classes
        self.kind = kind
        #: The data's column names (an upload's header), None for X1 and X2.
        self.names = names
        if config["dataset"] == "upload":
            low, high = points.min(axis=0), points.max(axis=0)
            margin = np.maximum(0.1 * (high - low), 0.5)
            bounds = zip(low - margin, high + margin, strict=True)
            self.domain = [[float(a), float(b)] for a, b in bounds]
        else:
            self.domain = [list(DOMAIN[0]), list(DOMAIN[1])]

    def reset(self) -> None:
        """New data and a new model from the seeds; epoch 0."""
        self.generation += 1
        self._data()
        n_classes = 0 if self.classes is None else len(self.classes)
        self.plan = Plan(self.config, len(self.config["features"]), n_classes)
        self.model = self.plan.build()
        self.loss: Loss = losses.registry.get(self.plan.loss, base=Loss)
        inputs = feature_matrix(self.points, self.config["features"]).astype(np.float32)
        targets = self.plan.targets(self.labels)
        self.x_train, self.x_test = inputs[self.is_train], inputs[~self.is_train]
        self.y_train, self.y_test = targets[self.is_train], targets[~self.is_train]
        self.epoch = 0
        self.history: list[list[float]] = []
        self._measure()

    def apply(self, patch: Any) -> tuple[bool, list[str]]:
        """Change the configuration; returns (whether it started again, problems)."""
        config, problems = clean_config(patch, self.config, self.uploaded_kind)
        changed = {key for key in config if config[key] != self.config[key]}
        self.config = config
        if changed - LIVE_KEYS:
            self.reset()
            return True, problems
        optimizer = self.model.optimizer
        if optimizer is not None:
            optimizer.learning_rate = config["learning_rate"]
        return False, problems

    def use_upload(self, data: bytes) -> None:
        """Train on an uploaded CSV from now on (raises UploadError, changing nothing)."""
        parsed = parse_csv(data, with_names=True)
        self.upload = parsed
        self.config, _ = clean_config({"dataset": "upload"}, self.config, parsed[2])
        self.reset()

    # -- training ------------------------------------------------------------------
    def train(self, epochs: int) -> None:
        """``epochs`` passes over the training points."""
        batch = min(self.config["batch_size"], len(self.x_train))
        self.model.fit(
            self.x_train, self.y_train, batch_size=batch, epochs=epochs, verbose=0
        )
        self.epoch += epochs
        self._measure()

    def _evaluate(self, x: Any, y: Any, labels: Any) -> tuple[float, float | None]:
        """The data loss (no regularization, as the Playground shows) and accuracy."""
        outputs = self.model.predict(x, batch_size=4096, verbose=0)
        loss = float(self.loss(y, outputs))
        if self.plan.task == "regression":
            return loss, None
        return loss, float((self.plan.predicted_classes(outputs) == labels).mean())

    def _measure(self) -> None:
        train, test = self.is_train, ~self.is_train
        self.loss_train, self.accuracy_train = self._evaluate(
            self.x_train, self.y_train, self.labels[train]
        )
        self.loss_test, self.accuracy_test = self._evaluate(
            self.x_test, self.y_test, self.labels[test]
        )
        self.history.append([self.epoch, self.loss_train, self.loss_test])
        if len(self.history) > HISTORY_LIMIT:
            self.history = self.history[::2]  # bounded however long it runs

    def set_weight(self, args: Any) -> None:
        """Edit one weight or bias: ``{stage, kind: "weight"|"bias", from, to, value}``."""
        if not isinstance(args, dict):
            raise ValueError("set_weight takes {stage, kind, from, to, value}")
        dense = self._dense_layers()
        stage, to = _index(args.get("stage"), len(dense)), args.get("to")
        layer = dense[stage]
        value = args.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("the new value must be a number")
        value = float(np.clip(value, -1000.0, 1000.0)) if np.isfinite(value) else None
        if value is None:
            raise ValueError("the new value must be a finite number")
        if args.get("kind") == "bias":
            layer.params["b"][_index(to, layer.units)] = value
        else:
            n_in = layer.params["W"].shape[0]
            layer.params["W"][
                _index(args.get("from"), n_in), _index(to, layer.units)
            ] = value
        self._measure()

    def compare(self, epochs: int = 40) -> dict[str, Any]:
        """Batch, mini-batch and stochastic gradient descent from the same start.

        Three copies of the current setup (same data, same initial weights) train
        for ``epochs`` epochs with batches of every training point, of 10 points,
        and of 1 point; returns each one's training loss after every epoch.
        """
        n_train = len(self.x_train)
        curves = []
        for name, batch in (
            ("batch learning", n_train),
            ("mini-batch learning", min(10, n_train)),
            ("stochastic gradient descent", 1),
        ):
            model = self.plan.build()
            losses = []
            for _ in range(epochs):
                model.fit(
                    self.x_train, self.y_train, batch_size=batch, epochs=1, verbose=0
                )
                outputs = model.predict(self.x_train, batch_size=4096, verbose=0)
                losses.append(float(self.loss(self.y_train, outputs)))
            updates = -(-n_train // batch)
            curves.append({"name": name, "batch_size": batch, "updates_per_epoch": updates,
                           "loss": losses})  # fmt: skip
        return {"type": "compare", "epochs": epochs, "curves": curves}

    def _dense_layers(self) -> list[Any]:
        return [layer for layer in self.model.layers if type(layer).__name__ == "Dense"]

    # -- what the page receives ----------------------------------------------------
    def model_json(self) -> dict[str, Any]:
        return model_to_json(self.model, task=self.plan.task)

    def setup(self) -> dict[str, Any]:
        """Everything the page needs after a reset: model, data, names, domain."""
        return {
            "type": "setup",
            "generation": self.generation,
            "config": self.config,
            "model": self.model_json(),
            "features": feature_labels(self.config["features"], self.names),
            "feature_labels": dict(
                zip(FEATURES, feature_labels(FEATURES, self.names), strict=True)
            ),
            "classes": self.classes,
            "domain": self.domain,
            "data": {
                "points": np.round(self.points, 5).tolist(),
                "labels": self.labels.tolist(),
                "train": self.is_train.astype(int).tolist(),
            },
            "upload": None if self.upload is None else {"kind": self.upload[2]},
        }

    def frame(self, playing: bool = False) -> dict[str, Any]:
        """The epoch, the losses, the weights (float32 base64) and the loss history."""
        weights = []
        for layer in self._dense_layers():
            W = np.ascontiguousarray(layer.params["W"], dtype="<f4")
            b = np.ascontiguousarray(layer.params["b"], dtype="<f4")
            weights.append({"W": _b64(W), "b": _b64(b)})
        return {
            "type": "frame",
            "generation": self.generation,
            "epoch": self.epoch,
            "loss_train": self.loss_train,
            "loss_test": self.loss_test,
            "accuracy_train": self.accuracy_train,
            "accuracy_test": self.accuracy_test,
            "playing": playing,
            "weights": weights,
            "history": self.history,
        }


def _b64(array: Any) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


def _index(value: Any, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < size:
        raise ValueError(
            f"an index from 0 to {size - 1} was expected, not {value!r:.20}"
        )
    return value
