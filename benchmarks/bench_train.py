"""Training throughput of glassnet, PyTorch and plain NumPy, side by side in one run.

Run: ``make bench``, or ``python benchmarks/bench_train.py [--rounds R]
[--threads 1,2] [--quick] [--json PATH]``. Prints a table of samples/second per peer
and the ratio to PyTorch; ``--json`` also writes the numbers to PATH.

Workloads (float32 everywhere; every peer gets the same data, architecture, initial
weights, optimizer and batch size):

- ``tiny``: the 2-2-1 sigmoid network of seeds/000 on its four samples, mean squared
  error, per-sample SGD (learning rate 0.1, batch size 1).
- ``small``: a 64-128-64-10 ReLU network with softmax cross-entropy on
  scikit-learn's ``load_digits`` (1797 samples, pixels scaled by 1/16), SGD with
  momentum 0.9 and learning rate 0.01, batch size 32.

Peers:

- ``glassnet``: ``model.fit(x, y, batch_size=..., epochs=..., verbose=0)``, with a
  softmax output layer and ``sparse_categorical_crossentropy`` (Keras' idiom, which
  ``fit`` fuses into the gradient at the logits).
- ``torch``: PyTorch's default idiom: ``nn.Sequential``, ``nn.MSELoss`` or
  ``nn.CrossEntropyLoss`` on logits, ``torch.optim.SGD`` with its defaults, and per
  batch ``zero_grad(); loss_fn(net(xb), yb).backward(); step()``. No DataLoader: each
  epoch shuffles the tensors once with ``torch.randperm`` and slices batches (views),
  the cheapest idiomatic batching.
- ``numpy``: a hand-written NumPy network with the same math, written plainly (no
  preallocated buffers, no flattened parameters): the reference for what NumPy
  itself does here. Like autograd, it computes no gradient for the input data.

Fairness notes (what is and is not measured):

- Each peer is timed training a fixed number of epochs (a "chunk"); samples/second
  is samples seen / wall-clock time, reported as the median over rounds. Building
  the models and converting data is not timed; one warm-up chunk per peer runs
  first, after which every peer's weights, gradients and optimizer state are checked
  to be float32.
- glassnet's time includes everything ``fit`` does: input checks on each ``fit``
  call, the per-epoch shuffle with the model's generator, storing each batch's
  predictions, the epoch's loss (no metrics are compiled), the non-finite-loss check
  and the History callback.
- The torch loop includes its per-epoch shuffle. It never reads the loss back
  (no ``loss.item()``) and keeps no history, which favours torch slightly.
- The numpy reference shuffles every epoch too and keeps no loss history.
- Threads are limited identically for every peer: each thread count runs in its own
  subprocess with ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
  ``MKL_NUM_THREADS`` set before NumPy or torch is imported, plus ``threadpoolctl``
  and ``torch.set_num_threads``. At these sizes NumPy's BLAS stays on one thread,
  while torch's thread pool is sensitive to other load on the machine, so
  multi-thread torch numbers swing more.
- Shared machines are noisy, so the peers alternate chunk by chunk in rounds (who
  goes first rotates every round) and the reported ratio is the median over rounds
  of each round's ratio; its min-max range shows the noise. The final training
  losses are printed as a sanity check that all three peers train alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

PEERS = ("glassnet", "torch", "numpy")
SEED = 0


@dataclass
class Workload:
    """One benchmark problem, described once and built by every peer."""

    name: str
    x: Any  # float32 (n, features)
    y: Any  # float32 (n, 1) targets for mse, int64 (n,) labels for cross-entropy
    units: list[int]  # layer widths, input first
    hidden: str  # hidden activation: "sigmoid" or "relu"
    loss: str  # "mse" (sigmoid output) or "softmax_ce" (softmax output)
    learning_rate: float
    momentum: float
    batch_size: int
    epochs_per_chunk: int


# -- workloads ---------------------------------------------------------------------
def make_workloads(quick: bool) -> list[Workload]:
    import numpy as np
    from sklearn.datasets import load_digits

    people = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float32)
    female = np.array([[1], [0], [0], [1]], dtype=np.float32)
    digits = load_digits()
    return [
        Workload(
            name="tiny",
            x=people,
            y=female,
            units=[2, 2, 1],
            hidden="sigmoid",
            loss="mse",
            learning_rate=0.1,
            momentum=0.0,
            batch_size=1,
            epochs_per_chunk=100 if quick else 400,
        ),
        Workload(
            name="small",
            x=(digits.data / 16).astype(np.float32),
            y=digits.target.astype(np.int64),
            units=[64, 128, 64, 10],
            hidden="relu",
            loss="softmax_ce",
            learning_rate=0.01,
            momentum=0.9,
            batch_size=32,
            epochs_per_chunk=1 if quick else 3,
        ),
    ]


# -- peers ------------------------------------------------------------------------------
class Peer(NamedTuple):
    """What the benchmark needs from each implementation."""

    train: Callable[[int], None]  # train for this many epochs
    loss: Callable[[], float]  # training loss over all samples (a sanity check)
    arrays: Callable[[], list[Any]]  # weights, gradients, optimizer state (dtype check)


def glassnet_peer(w: Workload) -> tuple[Peer, list[Any]]:
    """The glassnet model; its initial weights are handed to the other peers."""
    from glassnet.initializers import RandomNormal
    from glassnet.layers import Dense
    from glassnet.models import Sequential
    from glassnet.optimizers import SGD

    model = Sequential(seed=SEED, dtype="float32")
    for i, units in enumerate(w.units[1:]):
        last = i == len(w.units) - 2
        activation = (
            w.hidden if not last else "sigmoid" if w.loss == "mse" else "softmax"
        )
        if w.hidden == "sigmoid":  # seeds/000 draws every weight and bias from N(0, 1)
            init: dict[str, Any] = {
                "kernel_initializer": RandomNormal(stddev=1.0),
                "bias_initializer": RandomNormal(stddev=1.0),
            }
        else:
            init = {"kernel_initializer": "he_uniform"}
        kwargs = {"input_dim": w.units[0]} if i == 0 else {}
        model.add(Dense(units, activation=activation, **init, **kwargs))
    loss = "mse" if w.loss == "mse" else "sparse_categorical_crossentropy"
    model.compile(
        optimizer=SGD(learning_rate=w.learning_rate, momentum=w.momentum), loss=loss
    )

    def train(epochs: int) -> None:
        model.fit(w.x, w.y, batch_size=w.batch_size, epochs=epochs, verbose=0)

    def final_loss() -> float:
        return float(model.evaluate(w.x, w.y, batch_size=len(w.x), verbose=0))

    def arrays() -> list[Any]:
        state = [a for slots in model.optimizer.state.values() for a in slots.values()]
        return [a for _, p, g in model.parameter_triples() for a in (p, g)] + state

    return Peer(train, final_loss, arrays), model.get_weights()


def torch_peer(w: Workload, weights: list[Any]) -> Peer:
    """PyTorch's default training loop (see the module docstring)."""
    import torch
    from torch import nn

    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(w.units, w.units[1:], strict=False)):
        linear = nn.Linear(n_in, n_out)
        with torch.no_grad():  # same start as glassnet; nn.Linear stores W transposed
            linear.weight.copy_(torch.from_numpy(weights[2 * i].T.copy()))
            linear.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        layers.append(linear)
        if i < len(w.units) - 2:
            layers.append(nn.Sigmoid() if w.hidden == "sigmoid" else nn.ReLU())
    if w.loss == "mse":
        layers.append(nn.Sigmoid())
        loss_fn: nn.Module = nn.MSELoss()
    else:
        loss_fn = nn.CrossEntropyLoss()  # takes logits: softmax is fused into the loss
    net = nn.Sequential(*layers)
    optimizer = torch.optim.SGD(
        net.parameters(), lr=w.learning_rate, momentum=w.momentum
    )
    x, y = torch.from_numpy(w.x), torch.from_numpy(w.y)
    n, batch_size = len(x), w.batch_size

    def train(epochs: int) -> None:
        for _ in range(epochs):
            perm = torch.randperm(n)
            xs, ys = x[perm], y[perm]
            for start in range(0, n, batch_size):
                xb, yb = xs[start : start + batch_size], ys[start : start + batch_size]
                optimizer.zero_grad()
                loss = loss_fn(net(xb), yb)
                loss.backward()
                optimizer.step()

    def final_loss() -> float:
        with torch.no_grad():
            return float(loss_fn(net(x), y))

    def arrays() -> list[Any]:
        params = list(net.parameters())
        state = [v for s in optimizer.state.values() for v in s.values()]
        return params + [p.grad for p in params if p.grad is not None] + state

    return Peer(train, final_loss, arrays)


def numpy_peer(w: Workload, weights: list[Any]) -> Peer:
    """A plain NumPy network: forward, backward and SGD written out, no tricks."""
    import numpy as np

    params = [p.copy() for p in weights]
    velocity = [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(SEED)
    n, batch_size = len(w.x), w.batch_size
    n_layers = len(params) // 2

    def sigmoid(z: Any) -> Any:
        return 1 / (1 + np.exp(-z))

    def forward(x: Any) -> tuple[list[Any], Any]:
        outs = [x]
        for i in range(n_layers):
            z = outs[-1] @ params[2 * i] + params[2 * i + 1]
            if i < n_layers - 1:
                outs.append(sigmoid(z) if w.hidden == "sigmoid" else np.maximum(z, 0))
            elif w.loss == "mse":
                outs.append(sigmoid(z))
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                outs.append(e / e.sum(axis=1, keepdims=True))
        return outs, outs[-1]

    def step(x: Any, y: Any) -> None:
        outs, p = forward(x)
        if w.loss == "mse":
            grad = 2 * (p - y) / p.size * p * (1 - p)  # through the output sigmoid
        else:
            grad = p.copy()
            grad[np.arange(len(y)), y] -= 1  # softmax + cross-entropy: p - onehot
            grad /= len(y)
        for i in reversed(range(n_layers)):
            h = outs[i]
            grads = [h.T @ grad, grad.sum(axis=0)]
            if i > 0:
                grad = grad @ params[2 * i].T
                grad = grad * h * (1 - h) if w.hidden == "sigmoid" else grad * (h > 0)
            for j, g in zip((2 * i, 2 * i + 1), grads, strict=True):
                if w.momentum:
                    velocity[j] = w.momentum * velocity[j] - w.learning_rate * g
                    params[j] += velocity[j]
                else:
                    params[j] -= w.learning_rate * g

    def train(epochs: int) -> None:
        for _ in range(epochs):
            order = rng.permutation(n)
            xs, ys = w.x[order], w.y[order]
            for start in range(0, n, batch_size):
                step(xs[start : start + batch_size], ys[start : start + batch_size])

    def final_loss() -> float:
        _, p = forward(w.x)
        if w.loss == "mse":
            return float(np.mean((p - w.y) ** 2))
        return float(-np.mean(np.log(p[np.arange(n), w.y])))

    return Peer(train, final_loss, lambda: params + velocity)


# -- worker: one thread count, in a fresh process ---------------------------------------
def run_worker(threads: int, rounds: int, quick: bool) -> dict[str, Any]:
    # The parent set OMP/OPENBLAS/MKL_NUM_THREADS in this process's environment, so
    # NumPy and torch pick them up on import; threadpoolctl and set_num_threads make
    # sure of it for pools that ignore the variables.
    import numpy as np
    import threadpoolctl
    import torch

    torch.set_num_threads(threads)
    threadpoolctl.threadpool_limits(threads)
    results = []
    for w in make_workloads(quick):
        gn_peer, weights = glassnet_peer(w)
        peers = {
            "glassnet": gn_peer,
            "torch": torch_peer(w, weights),
            "numpy": numpy_peer(w, weights),
        }
        samples = w.epochs_per_chunk * len(w.x)
        rates: dict[str, list[float]] = {name: [] for name in PEERS}
        with np.errstate(over="ignore"):  # the numpy reference's sigmoid may overflow
            for name, peer in peers.items():
                peer.train(w.epochs_per_chunk)  # warm-up: caches, lazy init, allocators
                dtypes = {str(a.dtype).removeprefix("torch.") for a in peer.arrays()}
                if dtypes != {"float32"}:
                    raise RuntimeError(f"{name} trains in {dtypes}, not float32")
            for r in range(rounds):
                order = PEERS[r % 3 :] + PEERS[: r % 3]  # rotate who goes first
                for name in order:
                    start = time.perf_counter()
                    peers[name].train(w.epochs_per_chunk)
                    rates[name].append(samples / (time.perf_counter() - start))
        ratios = {
            name: [a / b for a, b in zip(rates[name], rates["torch"], strict=True)]
            for name in ("glassnet", "numpy")
        }
        results.append(
            {
                "workload": w.name,
                "threads": threads,
                "batch_size": w.batch_size,
                "samples_per_chunk": samples,
                "rounds": rounds,
                "samples_per_s": {k: statistics.median(v) for k, v in rates.items()},
                "ratio_vs_torch": {
                    k: {"median": statistics.median(v), "min": min(v), "max": max(v)}
                    for k, v in ratios.items()
                },
                "final_loss": {name: peers[name].loss() for name in PEERS},
            }
        )
    return {
        "threads": threads,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "threadpools": [
            {k: pool[k] for k in ("internal_api", "prefix", "num_threads", "version")}
            for pool in threadpoolctl.threadpool_info()
        ],
        "results": results,
    }


def spawn_worker(threads: int, rounds: int, quick: bool) -> dict[str, Any]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    command = [sys.executable, os.path.abspath(__file__), "--worker", str(threads)]
    command += ["--rounds", str(rounds)] + (["--quick"] if quick else [])
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"benchmark worker for {threads} thread(s) failed")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- report ------------------------------------------------------------------------------
def format_table(rows: list[dict[str, Any]]) -> str:
    """The results as a text table, one line per (workload, threads)."""
    lines = [
        f"{'':17}{'samples per second (median)':^32}  "
        f"{'ratio vs torch: median (min-max)':^40}",
        f"{'workload':<9}{'threads':>7} {'glassnet':>11}{'torch':>10}{'numpy':>11}  "
        f"{'glassnet/torch':^20}{'numpy/torch':^20}",
    ]
    lines.append("-" * len(lines[1]))
    for row in rows:
        rate, ratio = row["samples_per_s"], row["ratio_vs_torch"]
        shown = [
            f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"
            for r in (ratio["glassnet"], ratio["numpy"])
        ]
        lines.append(
            f"{row['workload']:<9}{row['threads']:>7} {rate['glassnet']:>11,.0f}"
            f"{rate['torch']:>10,.0f}{rate['numpy']:>11,.0f}  "
            f"{shown[0]:^20}{shown[1]:^20}"
        )
    return "\n".join(line.rstrip() for line in lines)


def format_losses(rows: list[dict[str, Any]]) -> str:
    """Each peer's final training loss: the same start should give about the same."""
    lines = ["Training loss after the run (a sanity check: all peers learn alike):"]
    for row in rows:
        losses = "  ".join(f"{k} {v:.4f}" for k, v in row["final_loss"].items())
        lines.append(f"  {row['workload']}, {row['threads']} thread(s): {losses}")
    return "\n".join(lines)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="timed rounds (default 30; 3 with --quick)",
    )
    parser.add_argument(
        "--threads",
        default="1,2",
        help="comma-separated thread counts, one subprocess each (default 1,2)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a ~20 s smoke run: short chunks"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 30
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        args.thread_counts = [int(t) for t in args.threads.split(",")]
    except ValueError:
        parser.error(f"--threads must look like 1,2; received {args.threads!r}")
    if not args.thread_counts or min(args.thread_counts) < 1:
        parser.error("--threads needs positive thread counts")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker is not None:
        print(json.dumps(run_worker(args.worker, args.rounds, args.quick)))
        return
    started = time.perf_counter()
    workers = [spawn_worker(t, args.rounds, args.quick) for t in args.thread_counts]
    rows = [row for worker in workers for row in worker["results"]]
    first = workers[0]
    print(
        f"glassnet vs PyTorch {first['torch']} (CPU) vs plain NumPy {first['numpy']}: "
        f"training samples/second, float32, median of {args.rounds} alternating rounds"
    )
    print(f"{cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print(format_table(rows))
    print()
    print(format_losses(rows))
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        report = {
            "platform": platform.platform(),
            "cpu": cpu_name(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "rounds": args.rounds,
            "quick": args.quick,
            "workers": workers,
            "results": rows,
        }
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)
            file.write("\n")


if __name__ == "__main__":
    main()
