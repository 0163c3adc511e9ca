"""What a batch-level callback costs ``fit``, against what computing its logs costs.

Run: ``python benchmarks/bench_callbacks.py [--rounds R] [--workloads tiny,small,medium]
[--quick]``.

Keras gives a callback's ``on_train_batch_end`` the loss and metrics of the epoch so
far. glassnet computes them only when some callback overrides a batch hook
(``glassnet.training_logs.RunningLogs``); a plain ``fit`` computes the epoch's logs
once at its end. The promise: a batch callback costs what computing the batch logs
costs, no more. Per workload of ``bench_train.py`` (same data, network, optimizer
and batch size), in one process on one BLAS thread, chunks alternate in rounds:

- ``plain``: ``fit(x, y, epochs=E)``;
- ``batch callback``: the same with a callback whose ``on_train_batch_end`` reads
  ``logs["loss"]``;
- ``logs``: the logs alone: ``RunningLogs.update`` and ``result`` for every batch of
  the same epochs, on predictions made once beforehand (what the callback run does
  on top of the plain one).

It prints each chunk's median time per epoch, the callback's extra time per epoch
and per batch, and the extra time over the logs' time (1.0x: the callback costs
exactly its logs). ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are unset (the
script re-executes itself without them), as on users' machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

if __name__ == "__main__" and any(
    key in os.environ for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dense_workloads import build_glassnet, make_data, make_workloads  # bench_train's


def make_callback() -> Any:
    from glassnet.callbacks import Callback

    class ReadsBatchLoss(Callback):
        """Reads the running loss after every batch, as a progress display would."""

        def __init__(self) -> None:
            super().__init__()
            self.last = 0.0

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.last = logs["loss"]

    return ReadsBatchLoss()


def logs_only(model: Any, x: Any, y: Any, batch_size: int, epochs: int) -> float:
    """Seconds for ``epochs`` epochs of running logs on fixed predictions."""
    from glassnet.training_logs import RunningLogs

    predictions = model.predict(x, batch_size=4096, verbose=0)
    running = RunningLogs(model)
    n = len(x)
    start = time.perf_counter()
    for _ in range(epochs):
        running.reset()
        for a in range(0, n, batch_size):
            b = min(a + batch_size, n)
            running.update(y[a:b], predictions[a:b], None)
            running.result()
        running.result()
    return time.perf_counter() - start


def measure(name: str, rounds: int, quick: bool) -> dict[str, Any]:
    workloads = {w.name: w for w in make_workloads(quick)}
    w = workloads[name]
    x, y = make_data(w)
    if name == "medium":
        x, y = x[:8192], y[:8192]
    epochs = {"tiny": 100 if quick else 400, "small": 1 if quick else 3}.get(name, 1)
    model = build_glassnet(w)
    callback = make_callback()
    model.fit(x, y, batch_size=w.batch_size, epochs=1, verbose=0)  # warm up
    times: dict[str, list[float]] = {"plain": [], "batch callback": [], "logs": []}
    for r in range(rounds):
        order = ["plain", "batch callback", "logs"]
        order = order[r % 3 :] + order[: r % 3]
        for kind in order:
            if kind == "logs":
                seconds = logs_only(model, x, y, w.batch_size, epochs)
            else:
                extra = [callback] if kind == "batch callback" else []
                start = time.perf_counter()
                model.fit(
                    x, y, batch_size=w.batch_size, epochs=epochs, verbose=0,
                    callbacks=extra,
                )  # fmt: skip
                seconds = time.perf_counter() - start
            times[kind].append(seconds / epochs)
    batches = -(-len(x) // w.batch_size)
    med = {kind: statistics.median(values) for kind, values in times.items()}
    extra = statistics.median(
        c - p for c, p in zip(times["batch callback"], times["plain"], strict=True)
    )
    return {
        "workload": name,
        "batches": batches,
        **med,
        "extra": extra,
        "extra_over_logs": extra / med["logs"] if med["logs"] > 0 else float("nan"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--workloads", default="tiny,small,medium")
    parser.add_argument("--quick", action="store_true", help="smoke run")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    rows = []
    with threadpool_limits(1):
        for name in args.workloads.split(","):
            rows.append(measure(name, args.rounds, args.quick))
    print(
        "| workload | batches/epoch | plain ms/epoch | with batch callback | "
        "extra us/batch | logs alone us/batch | extra / logs |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        n = row["batches"]
        print(
            f"| {row['workload']} | {n} | {row['plain'] * 1e3:.3f} | "
            f"{row['batch callback'] * 1e3:.3f} | {row['extra'] / n * 1e6:.1f} | "
            f"{row['logs'] / n * 1e6:.1f} | {row['extra_over_logs']:.2f}x |"
        )


if __name__ == "__main__":
    main()
