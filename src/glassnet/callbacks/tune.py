"""``TuneReport``: each epoch's logs to Ray Tune, so ``fit`` can be tuned on a cluster.

Ray Tune runs a training function once per trial, on whichever machine of the Ray
cluster has room, and decides from the metrics each trial reports which trials to
stop early (ASHA, HyperBand) or which settings to try next. Inside such a function,
``model.fit(..., callbacks=[TuneReport()])`` reports the loss and metrics of every
epoch (with their ``val_`` versions) through ``ray.tune.report``::

    from ray import tune
    from glassnet.callbacks import TuneReport

    def train(config):
        model = make_model(config["units"], config["learning_rate"])
        model.fit(x, y, validation_split=0.2, epochs=30, verbose=0,
                  callbacks=[TuneReport(["val_loss"])])

    tuner = tune.Tuner(
        train,
        param_space={"units": tune.grid_search([16, 64]),
                     "learning_rate": tune.loguniform(1e-4, 1e-1)},
        tune_config=tune.TuneConfig(metric="val_loss", mode="min", num_samples=4,
                                    scheduler=tune.schedulers.ASHAScheduler()),
    )
    best = tuner.fit().get_best_result()

Ray is imported when the first epoch ends, never by ``import glassnet``:
``pip install "glassnet[ray]"`` installs it. ``docs/distributed.md`` has the
whole recipe.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from glassnet.callbacks.base import Callback, Logs
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = ["TuneReport"]

Reporter = Callable[[dict[str, Any]], Any]


def _ray_tune_report() -> Reporter:
    from ray import tune  # the first epoch's end: an import of several seconds

    report: Reporter = tune.report
    return report


class TuneReport(Callback):
    """Report each epoch's logs to Ray Tune (``ray.tune.report``).

    Parameters
    ----------
    metrics : None, str, list of str, or dict, default=None
        What to report: every key of the epoch's logs (None); these keys (a name
        or a list, e.g. ``["loss", "val_accuracy"]``); or ``{name in Tune: key in
        the logs}`` to rename them. An epoch whose logs lack a requested ``val_``
        key because it was not validated (``validation_freq``) reports nothing;
        any other missing key is an error that lists the keys there are.
    report : callable, optional
        The function that receives each epoch's dict; by default Ray Tune's
        ``ray.tune.report`` (imported at the first epoch's end). Ray Train's
        ``ray.train.report`` works too.

    Examples
    --------
    A reporter of your own shows what Tune receives:

    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> received = []
    >>> model = Sequential([Dense(1, input_dim=2)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> history = model.fit(np.ones((8, 2)), np.zeros((8, 1)), epochs=2, verbose=0,
    ...                     callbacks=[TuneReport({"error": "mae"}, report=received.append)])
    >>> [sorted(r) for r in received], received[1]["error"] == history.history["mae"][1]
    ([['error'], ['error']], True)
    """

    uses_batch_logs = False

    def __init__(
        self,
        metrics: str | Sequence[str] | Mapping[str, str] | None = None,
        *,
        report: Reporter | None = None,
    ) -> None:
        super().__init__()
        self.metrics = _check_metrics(metrics)
        if report is None:
            if importlib.util.find_spec("ray") is None:
                raise ModuleNotFoundError(
                    "TuneReport reports to Ray Tune, which is not installed. Install "
                    "it with: pip install 'glassnet[ray]' (or pass report=...)"
                )
        elif not callable(report):
            raise GlassnetTypeError(
                "Argument `report` must be a function that takes a dict of metrics "
                f"(e.g. ray.tune.report). Received: report={report!r}"
            )
        self.report = report

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.metrics is None:
            values = dict(logs)
        else:
            missing = [key for key in self.metrics.values() if key not in logs]
            if missing:
                if _not_validated(missing, logs):
                    return
                raise InvalidArgumentError(
                    f"TuneReport: the logs of epoch {epoch + 1} have no {missing}. "
                    f"Available: {sorted(logs)}."
                )
            values = {name: logs[key] for name, key in self.metrics.items()}
        if self.report is None:
            self.report = _ray_tune_report()
        self.report(values)

    def __repr__(self) -> str:
        return f"TuneReport(metrics={self.metrics!r})"


def _not_validated(missing: list[str], logs: Logs) -> bool:
    """An epoch skipped by ``validation_freq``: it has no ``val_`` key at all."""
    return all(key.startswith("val_") for key in missing) and not any(
        key.startswith("val_") for key in logs
    )


def _check_metrics(metrics: Any) -> dict[str, str] | None:
    if metrics is None:
        return None
    if isinstance(metrics, str):
        return {metrics: metrics}
    if isinstance(metrics, Mapping):
        pairs = list(metrics.items())
    elif isinstance(metrics, Sequence):
        pairs = [(key, key) for key in metrics]
    else:
        pairs = []
    if not pairs or not all(
        isinstance(a, str) and isinstance(b, str) and a and b for a, b in pairs
    ):
        raise InvalidArgumentError(
            "Argument `metrics` must be None (every log), a log key, a non-empty "
            "list of log keys, or a dict {name in Tune: log key}, all strings. "
            f"Received: metrics={metrics!r}"
        )
    return dict(pairs)
