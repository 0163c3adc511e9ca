"""What a second OpenBLAS thread does to glassnet's Dense training step, part by part.

Run: ``python benchmarks/dense_threads.py [--workloads small,medium,wide]
[--rounds 9] [--steps 20] [--contention] [--budget 20]``. One process, with
OpenBLAS started at 2 threads (the benchmark workers' environment,
driver.worker_env); each round times, at 1 and at 2 threads (``threadpoolctl``
switches between them, the order alternating), the parts of bench_train's
workloads on one batch:

- ``step``, ``gradients``, ``update``: as dense_profile.py (``fit``'s step,
  the step without the update, ``optimizer.apply_flat`` alone);
- ``floor``: the step's matrix multiplies alone (bench_train's ``floor`` peer);
- each of those products alone, named by layer (``fwd``: ``x @ W``, ``dW``:
  ``x.T @ dz``, ``dx``: ``dz @ W.T``), with ``m*n*k``: OpenBLAS 0.3.x runs a product
  of at most 65,536 x 4 = 262,144 multiply-adds on the calling thread
  (``interface/gemm.c``), and with its AVX-512 kernels any product of at most
  ``100**3`` through its small-matrix kernel, also on the calling thread (some
  transposed shapes excepted). Only larger products can use the second thread.

Each timing is the mean per call over ``--steps`` calls (what training pays,
stalls included). Before each round the machine must look idle (timed_rounds.py's
``busy_share``: at most 10% of both CPUs busy over 0.1 s, after 0.15 s for
OpenBLAS's idle thread to stop spinning); the medians are over the quiet rounds
when there are at least three, else over all rounds, and the header says which
(``--budget``: the most seconds to wait each time).

``--contention`` also times the step at 1 and 2 threads while a busy loop (a
60-second Python loop, killed after each round) runs beside it, as another
program on a shared machine would: each parallel product waits for its slower
thread, so at 2 threads the step slows far more than at 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

QUIET_SHARE = 0.1  # busy share of all CPUs that still counts as idle
BUSY_LOOP = "import time\nend = time.time() + 60\nwhile time.time() < end: pass"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="small,medium,wide")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=20, help="calls per timing")
    parser.add_argument("--contention", action="store_true")
    parser.add_argument(
        "--budget", type=float, default=20.0, help="most seconds to wait for idle CPUs"
    )
    return parser.parse_args()


def mean_per_call(call: Callable[[], Any], calls: int) -> float:
    call()
    began = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - began) / calls


def wait_idle(budget: float) -> bool:
    """Wait (at most ``budget`` seconds) until the machine looks idle; say if it did."""
    from timed_rounds import busy_share

    time.sleep(0.15)  # OpenBLAS's idle thread spins about 0.1 s after its last call
    end = time.time() + budget
    while time.time() < end:
        if busy_share(0.1) <= QUIET_SHARE:
            return True
    return False


def product(a: Any, b: Any, out: Any) -> Callable[[], Any]:
    """``a @ b`` into ``out``, as one call (NumPy passes a transposed view to BLAS)."""
    import numpy as np

    return lambda: np.matmul(a, b, out=out)


def workload_calls(w: Any) -> dict[str, tuple[Callable[[], Any], int]]:
    """Every timed call of workload ``w``, with its multiply-adds (0: not a product)."""
    import numpy as np
    from dense_peers import FloorPeer
    from dense_workloads import build_glassnet, make_data

    from glassnet.training import make_gradient_step, make_train_step

    x, y = make_data(w)
    xb, yb = np.ascontiguousarray(x[: w.batch_size]), y[: w.batch_size]
    model = build_glassnet(w)
    model.fit(xb, yb, batch_size=w.batch_size, epochs=1, verbose=0)  # builds it
    step, gradients = make_train_step(model), make_gradient_step(model, model.loss)
    flat, optimizer = model.flat, model.optimizer
    params, grads = flat.trainable_params, flat.trainable_grads
    layout = flat.trainable_layout
    floor = FloorPeer(w, xb)
    calls: dict[str, tuple[Callable[[], Any], int]] = {
        "step": (lambda: step(xb, yb), 0),
        "gradients": (lambda: gradients(xb, yb), 0),
        "update": (lambda: optimizer.apply_flat(params, grads, layout), 0),
        "floor": (lambda: floor.train(xb, yb, 1), 0),
    }
    h, dz, dh, dw = floor._buffers(w.batch_size)
    kernels = floor.weights
    for i, kernel in enumerate(kernels):
        n_in, n_out = kernel.shape
        madds = w.batch_size * n_in * n_out
        calls[f"fwd{i} {h[i].shape}@{kernel.shape}"] = (
            product(h[i], kernel, h[i + 1]),
            madds,
        )
        calls[f"dW{i} {h[i].T.shape}@{dz[i].shape}"] = (
            product(h[i].T, dz[i], dw[i]),
            madds,
        )
        if i:
            calls[f"dx{i} {dz[i].shape}@{kernel.T.shape}"] = (
                product(dz[i], kernel.T, dh[i - 1]),
                madds,
            )
    return calls


def time_workload(w: Any, args: argparse.Namespace) -> None:
    import threadpoolctl

    calls = workload_calls(w)
    controller = threadpoolctl.ThreadpoolController()
    times: dict[tuple[str, int], list[float]] = {
        (name, t): [] for name in calls for t in (1, 2)
    }
    quiet = []
    for r in range(args.rounds):
        quiet.append(wait_idle(args.budget))
        for threads in (1, 2) if r % 2 else (2, 1):
            controller.limit(limits=threads, user_api="blas")
            for name, (call, _) in calls.items():
                times[name, threads].append(mean_per_call(call, args.steps))
    controller.limit(limits=2, user_api="blas")
    kept = [i for i, q in enumerate(quiet) if q]
    if len(kept) < 3:
        kept = list(range(args.rounds))
    print(
        f"\n{w.name} ({'-'.join(map(str, w.units))}, batch {w.batch_size}, "
        f"{w.optimizer}): microseconds per call, median of {len(kept)} rounds "
        f"({sum(quiet)} of {args.rounds} quiet) of {args.steps} calls"
    )
    print(f"  {'':44} {'m*n*k':>11} {'1T':>9} {'2T':>9} {'2T/1T':>6}")
    for name, (_, madds) in calls.items():
        one = [times[name, 1][i] for i in kept]
        two = [times[name, 2][i] for i in kept]
        ratio = statistics.median(b / a for a, b in zip(one, two, strict=True))
        size = f"{madds:,}" if madds else ""
        print(
            f"  {name:>44} {size:>11} {statistics.median(one) * 1e6:9.1f} "
            f"{statistics.median(two) * 1e6:9.1f} {ratio:6.2f}"
        )
    for threads in (1, 2):
        median = {
            name: statistics.median(times[name, threads][i] for i in kept)
            for name in ("step", "gradients", "update", "floor")
        }
        rest = median["step"] - median["floor"] - median["update"]
        print(
            f"  {threads}T: step - floor - update = {rest * 1e6:.1f} us "
            f"({rest / median['step']:.0%} of the step)"
        )
    if args.contention:
        time_contention(calls["step"][0], args)


def time_contention(step: Callable[[], Any], args: argparse.Namespace) -> None:
    """The step at 1 and 2 threads, alone and beside a busy loop on one CPU."""
    import threadpoolctl

    controller = threadpoolctl.ThreadpoolController()
    seconds: dict[tuple[int, bool], list[float]] = {}
    for r in range(args.rounds):
        wait_idle(args.budget)
        for busy in (False, True) if r % 2 else (True, False):
            loop = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if busy else None
            try:
                time.sleep(0.2 if busy else 0.0)
                for threads in (1, 2):
                    controller.limit(limits=threads, user_api="blas")
                    seconds.setdefault((threads, busy), []).append(
                        mean_per_call(step, args.steps)
                    )
            finally:
                if loop is not None:
                    loop.kill()
                    loop.wait()
    controller.limit(limits=2, user_api="blas")
    for threads in (1, 2):
        alone = statistics.median(seconds[threads, False])
        beside = statistics.median(seconds[threads, True])
        print(
            f"  step at {threads}T: alone {alone * 1e6:9.1f} us, beside a busy loop "
            f"{beside * 1e6:9.1f} us ({beside / alone:.2f}x)"
        )


def main() -> None:
    args = parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import driver

    os.environ.clear()  # the workers' environment, before NumPy loads OpenBLAS
    os.environ.update(driver.worker_env("glassnet", 2))
    import numpy as np
    from dense_workloads import make_workloads

    print(f"BLAS: {', '.join(driver.blas_kernels())}; started at 2 threads")

    with np.errstate(over="ignore"):
        for w in make_workloads(quick=False):
            if w.name in args.workloads.split(","):
                time_workload(w, args)


if __name__ == "__main__":
    main()
