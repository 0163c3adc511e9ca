"""One optimizer update: glassnet's NumPy passes, its Numba loop, PyTorch's updates.

Run: ``python benchmarks/bench_updates.py [--sizes 17226,235146,1863690]
[--rounds 7] [--threads 1]``. For each update rule and number of weights (by
default those of bench_train.py's small, medium and wide networks) it times, in
interleaved rounds on the same float32 buffers, one update of:

- ``numpy``: glassnet's rule as NumPy passes (its ``_update``, the reference);
- ``fused``: the same rule compiled into one loop (glassnet/optimizers/fused.py,
  Numba: the ``fast`` extra);
- ``torch``: ``torch.optim``'s rule with its default implementation (``foreach``),
  and ``torch fused`` with ``fused=True`` where PyTorch has one (SGD, Adam, Adagrad).

Each peer updates one flat parameter of that size, as glassnet's ``apply_flat``
does (a model's weights are one buffer). With one thread the clock is the
process's CPU time (less disturbed by other programs), else wall time; the table
gives the median microseconds per update and glassnet fused's speed relative to
each. The environment is the benchmark workers' (driver.worker_env): thread counts
set and ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` removed before NumPy loads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

RULES = ("sgd_momentum", "adam", "rmsprop", "adagrad")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="17226,235146,1863690")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args()


def glassnet_update(rule: str, w: Any, g: Any, fused_on: bool) -> Callable[[], None]:
    from glassnet import fused
    from glassnet.optimizers import SGD, Adagrad, Adam, RMSprop

    optimizer = {
        "sgd_momentum": lambda: SGD(learning_rate=0.01, momentum=0.9),
        "adam": lambda: Adam(learning_rate=1e-3),
        "rmsprop": lambda: RMSprop(learning_rate=1e-3),
        "adagrad": lambda: Adagrad(learning_rate=1e-3),
    }[rule]()
    layout = [("w", 0, w.size, w.shape)]

    def step() -> None:
        fused.use_fused_kernels(fused_on)
        optimizer.apply_flat(w, g, layout)

    return step


def torch_update(rule: str, w: Any, g: Any, fused: bool) -> Callable[[], None] | None:
    import torch

    if fused and rule == "rmsprop":
        return None  # PyTorch 2.13 has no fused RMSprop
    param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    param.grad = torch.from_numpy(g.copy())
    options: dict[str, Any] = {"fused": True} if fused else {}
    optimizer = {
        "sgd_momentum": lambda: torch.optim.SGD([param], lr=0.01, momentum=0.9, **options),
        "adam": lambda: torch.optim.Adam([param], lr=1e-3, eps=1e-7, **options),
        "rmsprop": lambda: torch.optim.RMSprop([param], lr=1e-3, eps=1e-7),
        "adagrad": lambda: torch.optim.Adagrad([param], lr=1e-3, **options),
    }[rule]()
    return optimizer.step


def per_call(call: Callable[[], None], clock: Callable[[], float], seconds: float) -> float:
    """Median-friendly time of one call: repeat for about ``seconds``."""
    began, calls = clock(), 0
    while True:
        call()
        calls += 1
        spent = clock() - began
        if spent >= seconds:
            return spent / calls


def main() -> None:
    args = parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import driver

    os.environ.clear()
    os.environ.update(driver.worker_env("torch", args.threads))
    import numpy as np
    import torch

    from glassnet import fused

    torch.set_num_threads(args.threads)
    if not fused.use_fused_kernels():
        sys.exit("bench_updates.py needs Numba: pip install -e '.[fast]'")
    clock = time.process_time if args.threads == 1 else time.perf_counter
    print(
        f"{args.threads} thread(s), {'CPU' if args.threads == 1 else 'wall'} time, "
        f"median of {args.rounds} interleaved rounds; NumPy {np.__version__}, "
        f"torch {torch.__version__}\n"
    )
    print("| rule | weights | numpy | fused | torch | torch fused "
          "| fused vs numpy | fused vs torch | fused vs torch fused |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for rule in RULES:
        for size in map(int, args.sizes.split(",")):
            grad = (rng.normal(size=size) * 1e-2).astype(np.float32)
            calls = {
                "numpy": glassnet_update(rule, rng.normal(size=size).astype(np.float32),
                                         grad, fused_on=False),
                "fused": glassnet_update(rule, rng.normal(size=size).astype(np.float32),
                                         grad, fused_on=True),
                "torch": torch_update(rule, rng.normal(size=size).astype(np.float32),
                                      grad, fused=False),
                "torch fused": torch_update(rule, rng.normal(size=size).astype(np.float32),
                                            grad, fused=True),
            }  # fmt: skip
            live = {name: call for name, call in calls.items() if call is not None}
            times: dict[str, list[float]] = {name: [] for name in live}
            for call in live.values():
                per_call(call, clock, 0.02)  # warm up: compile, first touch
            for _ in range(args.rounds):
                for name, call in live.items():
                    times[name].append(per_call(call, clock, 0.05))
            us = {name: statistics.median(t) * 1e6 for name, t in times.items()}

            def ratio(other: str, us: dict[str, float] = us) -> str:
                return f"{us[other] / us['fused']:.2f}x" if other in us else "-"

            cells = [f"{us[n]:,.0f}" if n in us else "-" for n in calls]
            print(
                f"| {rule} | {size:,} | {' | '.join(cells)} | {ratio('numpy')} "
                f"| {ratio('torch')} | {ratio('torch fused')} |"
            )
    fused.use_fused_kernels(True)


if __name__ == "__main__":
    main()
