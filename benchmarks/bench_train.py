"""Training and inference speed of glassnet against PyTorch, JAX, Keras, scikit-learn
and NumPy.

Run: ``make bench``, or ``python benchmarks/bench_train.py [--rounds R]
[--threads 1,2] [--workloads tiny,small,medium,wide] [--peers glassnet,torch,...]
[--quick] [--json PATH]``.
It prints Markdown tables (the README's Speed section is one run of it); ``--json``
also writes every number to PATH. ``--quick`` is a smoke run on small data that
checks the machinery, not the speed.

Workloads (float32 everywhere; every peer gets the same data, architecture, initial
weights, optimizer with the same hyper-parameters, and batch size):

- ``tiny``: the 2-2-1 sigmoid network of seeds/000 on its four samples, mean squared
  error, SGD with learning rate 0.1, batch size 1.
- ``small``: 64-128-64-10 ReLU, softmax cross-entropy, on scikit-learn's digits
  (1,797 samples, pixels / 16), SGD momentum 0.9, learning rate 0.01, batch 32.
- ``medium``: 784-256-128-10 ReLU, softmax cross-entropy, Adam (learning rate 1e-3,
  epsilon 1e-7 for every peer), batch 128, on 60,000 MNIST-sized samples.
- ``wide``: 784-1024-1024-10 ReLU, softmax cross-entropy, Adam as above, batch 256,
  on 20,000 samples.

The MNIST-sized data is synthesized with a fixed seed (no download): 28x28 images of
ten classes, each drawn in one of three stroke styles, shifted by up to 2 pixels,
dimmed and covered in noise; a linear model fits it poorly, an MLP learns it.

Peers, each in its own persistent process (one per peer and workload):

- ``glassnet``: ``model.fit(x, y, batch_size=..., epochs=..., verbose=0)`` with a
  softmax output layer and ``sparse_categorical_crossentropy`` (Keras' idiom).
  With the ``fast`` extra installed (the ``bench`` extra installs it) its
  optimizer updates, and its Dense layers' bias and ReLU, run as Numba-compiled
  loops (glassnet/fused.py).
- ``glassnet_numpy``: the same with ``GLASSNET_FUSED=0``: every step as the NumPy
  code those loops fuse (the results are the same, bit for bit).
- ``torch``: PyTorch's default idiom: ``nn.Sequential``, ``nn.CrossEntropyLoss`` on
  logits (``nn.MSELoss`` after a sigmoid for tiny), ``torch.optim.SGD``/``Adam`` with
  their default implementation, and per batch ``zero_grad(); loss.backward();
  step()``. Each epoch shuffles with ``torch.randperm`` and slices batches.
- ``torch fused``: the same with ``fused=True`` (PyTorch's fastest CPU optimizer).
- ``jax`` (dense_jax.py, when JAX and optax are installed: the ``bench`` extra): one
  ``jax.jit``-compiled step of forward, loss, ``value_and_grad`` and an optax update
  (``optax.sgd`` with momentum, or ``optax.adam`` with eps 1e-7), parameters and
  state donated; each epoch a seeded NumPy permutation, then batch slices.
- ``keras``: Keras 3 on the JAX backend, glassnet's twin: ``keras.Sequential`` of
  Dense layers, compiled (XLA by default) and trained by ``fit(x, y, batch_size,
  epochs, verbose=0)`` per chunk.
- ``sklearn``: ``MLPClassifier`` fed float32 (it keeps float32 weights), alpha=0,
  the same solver, learning rate, momentum and batch size. Whole-epoch chunks call
  ``fit`` with ``warm_start=True, max_iter=epochs`` (its own epoch loop; its SGD
  velocity restarts at each call), slice chunks call ``partial_fit`` (one pass, Adam
  state kept). Its tiny network is the same 2-2-1 sigmoid but trained on log-loss:
  MLPClassifier has no squared-error loss.
- ``numpy``: a hand-written vectorized NumPy network with the same math, written
  plainly: expressions that allocate, ``x[permutation]`` copies, per-tensor updates.
- ``floor``: not a peer but the machine's limit for glassnet: the step's matrix
  multiplies alone (forward ``x @ W``, backward ``x.T @ dz`` and ``dz @ W.T``, none
  for the data's gradient), same shapes and batches, outputs preallocated, in NumPy.

What is measured, and how:

- A chunk is a few whole epochs (tiny, small) or one pass over a slice of the data
  (medium: 100 steps, wide: 10 steps; each round trains the next slice, the same for
  every peer). Samples per second is samples seen / wall-clock time of the chunk,
  timed inside the peer's process (``fit`` included whole: its input checks, the
  shuffle, storing predictions, the epoch's loss and the History callback; JAX and
  Keras wait for their queued work, ``block_until_ready``, before the clock stops).
- The machine is shared and its speed swings by tens of percent for seconds at a
  time, so the peers alternate chunk by chunk in rounds (who goes first rotates),
  and every ratio is the median over rounds of that round's ratio; the min-max range
  shows the noise. Before each chunk the driver waits for the CPUs to be idle
  (``QuietGate``: other peers' BLAS threads stop spinning about 0.1 s after their
  last call, and other programs may be running); a round is quiet when every chunk
  in it started on an idle machine, and the medians are over the quiet rounds when
  there are at least five ("quiet rounds" in the table), else over all rounds.
  CPU-seconds per wall-second of each peer's chunks (every thread of its process)
  show who used more than its share: XLA queues the next step while computing.
  Two-thread PyTorch and OpenBLAS suffer most from a busy machine: every parallel
  operation waits for its slower thread. Before any timing, every peer takes one
  step on the same first batch, and the loss on that batch before and after the
  step must match glassnet's (``FIRST_STEP_TOLERANCE``; scikit-learn's tiny network
  trains log-loss and is left out), or the run stops. Then one warm-up chunk per
  peer (JAX and Keras compile there); then every peer's weights, gradients and
  optimizer state are checked to be float32.
- Threads: each thread count runs separately; every process gets
  ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` before it
  imports NumPy or torch, then ``threadpoolctl.threadpool_limits`` and
  ``torch.set_num_threads`` once; the JAX and Keras processes get ``PJRT_NPROC``
  (and with one thread ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false``).
  ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are unset in every worker (users'
  machines do not set them), and each worker reports the BLAS libraries it loaded
  and the kernels they picked (threadpoolctl) for the machine line.
- Peak memory is each training process's resident-set high-water mark (VmHWM),
  reset after the imports and the data are loaded, so it is what the process holds
  while training: libraries, the data (the same for every peer) and what the peer
  allocates. The final accuracy and loss are over the whole training set.
- ``predict`` latency (when glassnet, numpy and torch are all among the peers):
  one sample and 1,024 samples (one batch), through glassnet's
  ``model.predict(x, verbose=0)`` (``batch_size=1024`` for 1,024 samples, one batch
  like the others), a hand-written NumPy forward pass
  and torch's ``softmax(net(x))`` under ``torch.inference_mode()``, interleaved in
  rounds like training (median per-round ratio to the NumPy forward pass). Each
  chunk times five bursts of calls (100 calls of 1 sample, 3 of 1,024) and keeps the
  fastest burst, so one interruption does not count as the peer's latency.
- ``import glassnet`` is timed in fresh interpreters (median of 7), alone and
  together with the modules a training script needs.

This script is the driver; the workloads and their data are in dense_workloads.py,
the peers in dense_peers.py (JAX's in dense_jax.py), a peer's process in
dense_worker.py, the worker pipe, the quiet gate and the rounds in timed_rounds.py,
and the tables in dense_report.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import driver
from dense_peers import JAX_PEERS
from dense_report import format_tables, label, machine_line, versions
from dense_worker import run_worker
from dense_workloads import Workload, make_workloads, save_workload
from timed_rounds import Worker, clean, interleave, peer_workers, summarize

PEERS = ("glassnet", "torch", "torch_fused", "sklearn", "numpy", "floor")
ALL_PEERS = (
    "glassnet",
    "glassnet_numpy",
    "torch",
    "torch_fused",
    *JAX_PEERS,
    "sklearn",
    "numpy",
    "floor",
)
LATENCY_PEERS = ("glassnet", "numpy", "torch")
TRAINERS = ("glassnet", "glassnet_numpy", "torch", "torch_fused", *JAX_PEERS)
# The first step of every peer on the same batch: the loss before it must agree to
# float32 rounding; after it, Adam's epsilon sits in a different place in
# Keras-style implementations (glassnet, Keras, the numpy peer) than in PyTorch's,
# optax's and scikit-learn's, which moves weights with tiny gradients differently.
FIRST_STEP_TOLERANCE = {"sgd": 2e-5, "adam": 1e-3}


def run_workload(
    w: Workload,
    threads: int,
    rounds: int,
    path: str,
    wait: bool = True,
    peers: tuple[str, ...] = PEERS,
) -> dict[str, Any]:
    workers = peer_workers(peers, threads, path, __file__, wait)
    trainers = tuple(name for name in peers if name != "floor")
    latency_peers = tuple(name for name in LATENCY_PEERS if name in peers)
    try:
        # Every peer's first step on the same batch (sklearn's tiny network trains
        # log-loss, not MSE: it is left out there).
        checked = [n for n in trainers if not (n == "sklearn" and w.loss == "mse")]
        first = {name: workers[name].ask(op="first_step") for name in checked}
        tolerance = FIRST_STEP_TOLERANCE[w.optimizer]
        driver.check_first_step(w.name, threads, first, tolerance)
        for name, worker in workers.items():  # warm-up: caches, lazy init, allocators
            worker.warm_up(w.name, check_dtypes=name != "floor")
        seconds, quiet = interleave(workers, peers, rounds, op="train")
        latency = (
            measure_latency(workers, max(5, rounds // 2), min(1024, w.samples))
            if len(latency_peers) == len(LATENCY_PEERS)
            else {}
        )
        reports = {name: workers[name].ask(op="report") for name in peers}
    finally:
        for worker in workers.values():
            worker.close()
    rates = {name: [w.chunk_samples / s for s in seconds[name]] for name in peers}
    # samples per CPU-second (every thread of the process): at one thread, what a
    # peer computes per second of CPU it got, which other programs on a shared
    # machine disturb less than wall time (with more threads it counts spinning)
    cpu_rates = {
        name: [w.chunk_samples / r["cpu_seconds"] for r in worker.trained]
        for name, worker in workers.items()
    }

    def ratios(a: str, b: str, by: dict[str, list[float]] = rates) -> dict[str, float]:
        per_round = [x / y for x, y in zip(by[a], by[b], strict=True)]
        return summarize(clean(per_round, quiet))

    others = [name for name in trainers if name != "glassnet"]
    return {
        "workload": w.name,
        "threads": threads,
        "batch_size": w.batch_size,
        "samples_per_chunk": w.chunk_samples,
        "rounds": rounds,
        "quiet_rounds": sum(quiet),
        "first_step": first,
        "samples_per_s": {
            name: statistics.median(clean(v, quiet)) for name, v in rates.items()
        },
        "rounds_samples_per_s": rates,
        "rounds_quiet": quiet,
        "ratio_vs_torch": {
            name: ratios(name, "torch") for name in trainers if name != "torch"
        },
        "glassnet_vs": {name: ratios("glassnet", name) for name in others},
        "glassnet_vs_by_cpu": {
            name: ratios("glassnet", name, cpu_rates)
            for name in (*others, "floor")
            if name in peers
        },
        "share_of_floor": {
            name: ratios(name, "floor")
            for name in TRAINERS
            if name in peers and "floor" in peers
        },
        "cpu_per_wall": {
            name: worker.cpu_per_wall(quiet) for name, worker in workers.items()
        },
        "latency": latency,
        "memory_mb": {name: reports[name]["peak_rss_mb"] for name in peers},
        "start_memory_mb": {name: reports[name]["start_rss_mb"] for name in peers},
        "accuracy": {name: reports[name]["accuracy"] for name in trainers},
        "final_loss": {name: reports[name]["loss"] for name in trainers},
        "blas": {name: reports[name]["blas"] for name in peers},
    }


def measure_latency(
    workers: dict[str, Worker], rounds: int, many: int
) -> dict[str, Any]:
    """predict on 1 and ``many`` samples, interleaved; ratios to the NumPy forward."""
    result: dict[str, Any] = {}
    for samples, calls in ((1, 100), (many, 3)):
        seconds, quiet = interleave(
            workers, LATENCY_PEERS, rounds, op="latency", samples=samples, calls=calls
        )
        result[str(samples)] = {
            "seconds": {
                name: statistics.median(clean(v, quiet)) for name, v in seconds.items()
            },
            "vs_numpy": {
                name: summarize(
                    clean(
                        [
                            a / b
                            for a, b in zip(
                                seconds[name], seconds["numpy"], strict=True
                            )
                        ],
                        quiet,
                    )
                )
                for name in ("glassnet", "torch")
            },
        }
    return result


def import_times(runs: int = 7) -> dict[str, float]:
    """Median seconds of imports in fresh interpreters (startup itself not counted)."""
    snippets = {
        "import glassnet": "import glassnet",
        "glassnet, ready to train": "import glassnet\n"
        "from glassnet.models import Sequential\nfrom glassnet.layers import Dense",
        "import numpy": "import numpy",
        "import torch": "import torch",
    }
    result = {}
    for name, code in snippets.items():
        program = (
            "import time\nt = time.perf_counter()\n"
            + code
            + "\nprint(time.perf_counter() - t)"
        )
        times = []
        for _ in range(runs if "torch" not in name else min(runs, 3)):
            done = subprocess.run(
                [sys.executable, "-c", program],
                capture_output=True,
                text=True,
                check=True,
            )
            times.append(float(done.stdout))
        result[name] = statistics.median(times)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds (default 12; 1 quick)"
    )
    parser.add_argument(
        "--threads", default="1,2", help="comma-separated thread counts (default 1,2)"
    )
    parser.add_argument(
        "--workloads",
        default="tiny,small,medium,wide",
        help="comma-separated subset of tiny,small,medium,wide",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small data, short chunks"
    )
    parser.add_argument(
        "--peers",
        default=None,
        help=f"a subset of {','.join(ALL_PEERS)} with glassnet and torch among them "
        "(default: all; jax and keras when JAX, optax and Keras are installed)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    driver.check_common_args(parser, args, [w.name for w in make_workloads(quick=True)])
    if args.peers is None:
        jax = driver.jax_peers_available()
        args.peer_names = tuple(n for n in ALL_PEERS if jax or n not in JAX_PEERS)
    else:
        chosen = args.peers.split(",")
        if not set(chosen) <= set(ALL_PEERS) or not {"glassnet", "torch"} <= set(
            chosen
        ):
            parser.error(
                f"--peers takes names from {','.join(ALL_PEERS)}, glassnet and torch "
                f"among them; received {args.peers!r}"
            )
        args.peer_names = tuple(name for name in ALL_PEERS if name in chosen)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker is not None:
        run_worker(args.worker, args.thread_counts[0], args.data)
        return
    started = time.perf_counter()
    chosen = [w for w in make_workloads(args.quick) if w.name in args.workload_names]
    rows = []
    with tempfile.TemporaryDirectory(prefix="glassnet-bench-") as folder:
        paths = {w.name: save_workload(w, folder) for w in chosen}
        for threads in args.thread_counts:
            for w in chosen:
                row = run_workload(
                    w, threads, args.rounds, paths[w.name], not args.quick,
                    args.peer_names,
                )  # fmt: skip
                rows.append(row)
    names = [w.name for w in chosen]
    rows.sort(key=lambda row: (names.index(row["workload"]), row["threads"]))
    imports = import_times(1 if args.quick else 7)
    v = versions(args.peer_names)
    print(
        "glassnet vs "
        + ", ".join(label(name) for name in args.peer_names if name != "glassnet")
        + f", float32, median of {args.rounds} alternating rounds"
    )
    print(machine_line(v, rows) + "\n")
    print(format_tables(rows, imports))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.json:
        report = {
            "machine": machine_line(v, rows),
            "peers": list(args.peer_names),
            "platform": platform.platform(),
            "versions": v,
            "rounds": args.rounds,
            "quick": args.quick,
            "import_seconds": imports,
            "results": rows,
        }
        Path(args.json).write_text(
            json.dumps(report, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
