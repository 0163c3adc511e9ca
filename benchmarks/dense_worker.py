"""A peer's process of bench_train.py: it serves the driver's commands.

``bench_train.py --worker NAME`` runs ``run_worker``: it limits its threads, loads
the workload's data, builds the peer (dense_peers.make_peer), then answers one JSON
line per command on its stdin (train a chunk, take the first step, list its dtypes,
time ``predict``, report memory, loss and accuracy).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import driver
from dense_peers import make_peer
from dense_workloads import Workload

LATENCY_BURSTS = 5  # predict latency: each chunk times this many bursts of calls


def run_worker(name: str, threads: int, path: str) -> None:
    """Serve the driver's commands, one JSON line in, one JSON line out."""
    import numpy as np

    driver.limit_threads(threads, torch=name.startswith("torch"))
    with np.load(path) as npz:
        data = {key: npz[key] for key in npz.files}
    w = Workload(**json.loads(str(data.pop("workload"))))
    x, y = data["x"], data["y"]
    driver.reset_peak_memory()
    baseline_kb = driver.memory_kb("VmRSS")
    peer = make_peer(name, w, data)
    for line in sys.stdin:
        command = json.loads(line)
        reply: dict[str, Any] = {}
        if command["op"] == "train":
            start, stop, epochs = w.chunk(command["chunk"])
            xs, ys = x[start:stop], y[start:stop]
            with np.errstate(over="ignore"):  # the plain sigmoid may overflow
                began, cpu = time.perf_counter(), time.process_time()
                peer.train(xs, ys, epochs)
                peer.sync()
                reply["seconds"] = time.perf_counter() - began
                reply["cpu_seconds"] = time.process_time() - cpu
        elif command["op"] == "first_step":
            # the first batch, unshuffled: the loss before and after one step on it
            xb, yb = x[: w.batch_size], y[: w.batch_size]
            with np.errstate(over="ignore"):
                reply["before"] = quality(w, peer.predictions(xb), yb)["loss"]
                peer.train(xb, yb, 1)
                peer.sync()
                reply["after"] = quality(w, peer.predictions(xb), yb)["loss"]
        elif command["op"] == "dtypes":
            reply["dtypes"] = sorted(
                {str(a.dtype).removeprefix("torch.") for a in peer.arrays()}
            )
        elif command["op"] == "latency":
            batch = np.ascontiguousarray(x[: command["samples"]])
            calls = command["calls"]
            for _ in range(3):
                peer.latency_call(batch)
            # The fastest of a few bursts: one call takes microseconds, so a single
            # interruption (another process, a page fault) would swamp a burst.
            bursts = []
            for _ in range(LATENCY_BURSTS):
                began = time.perf_counter()
                for _ in range(calls):
                    peer.latency_call(batch)
                bursts.append((time.perf_counter() - began) / calls)
            reply["seconds"] = min(bursts)
        elif command["op"] == "report":
            reply = {
                "peak_rss_mb": driver.memory_kb("VmHWM") / 1024,
                "start_rss_mb": baseline_kb / 1024,
                "blas": driver.blas_kernels(),
            }
            if name != "floor":
                reply.update(quality(w, peer.predictions(x), y))
        print(json.dumps(reply), flush=True)


def quality(w: Workload, p: Any, y: Any) -> dict[str, float]:
    """Training loss (as the workload defines it) and accuracy over all samples."""
    import numpy as np

    p = np.asarray(p, dtype=np.float64)
    if w.loss == "mse":
        return {
            "loss": float(np.mean((p - y) ** 2)),
            "accuracy": float(np.mean((p > 0.5) == (y > 0.5))),
        }
    picked = np.clip(p[np.arange(len(y)), y], 1e-12, None)
    return {
        "loss": float(-np.mean(np.log(picked))),
        "accuracy": float(np.mean(p.argmax(axis=1) == y)),
    }
