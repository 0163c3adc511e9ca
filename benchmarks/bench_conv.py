"""Training speed of glassnet's convolutional networks against PyTorch, JAX and Keras.

Run: ``python benchmarks/bench_conv.py [--rounds R] [--threads 1,2]
[--workloads C1,C2] [--peers glassnet,torch,...] [--quick] [--json PATH]``.
It prints Markdown tables; ``--json`` also writes every number to PATH. ``--quick``
is a smoke run on 256 samples that checks the machinery, not the speed.

Workloads (float32; scikit-learn's digits, the first 1,792 so every batch is full;
softmax cross-entropy; SGD with momentum 0.9 and learning rate 0.01):

- ``C1``: a small CNN on the 8x8x1 digits, batch 32: Conv2D(8, 3, "same")-ReLU,
  MaxPooling2D(2), Conv2D(16, 3, "same")-ReLU, MaxPooling2D(2), Flatten, Dense(10).
- ``C2``: LeNet-5 on the digits resized bilinearly to 24x24 and padded to 28x28,
  batch 64: Conv2D(6, 5, "same")-ReLU, MaxPooling2D(2), Conv2D(16, 5, "valid")-ReLU,
  MaxPooling2D(2), Flatten, Dense(120)-ReLU, Dense(84)-ReLU, Dense(10).

Both use SGD with momentum, not Adam, so that every peer takes the same steps up to
float rounding, which checks that they all trained the same network: after a quick
run the final losses agree to about 1e-6; over a full run last-bit differences
decide a few near-ties of ReLU and max pooling differently and the losses drift
apart by up to about 1e-2 (C2's zero border makes many ties). Adam would make them
drift from the first steps: its epsilon sits in a different place in Keras-style
implementations (glassnet, Keras) and in PyTorch's and optax's, which matters
while gradients are tiny.

Every peer gets the same initial weights (drawn once by the driver in Keras'
layout, converted for PyTorch), the same data and the same batches in the same
order: chunk k trains the rows of ``chunk_order(k)`` (one seeded permutation per
epoch) in order, one pass. Peers, each in its own persistent process:

- ``glassnet``: ``Sequential([Input, Conv2D, MaxPooling2D, ..., Dense])`` and
  ``fit(x, y, batch_size, epochs=1, shuffle=False)`` per chunk.
- ``torch``: ``nn.Sequential`` of Conv2d/ReLU/MaxPool2d/Flatten/Linear, NCHW (the
  data transposed once, untimed), ``CrossEntropyLoss`` on logits, ``optim.SGD`` with
  its default implementation; ``zero_grad(); backward(); step()`` per batch.
- ``torch_cl``: the same in ``torch.channels_last`` memory format (the NHWC images
  as they are, modules converted).
- ``torch_fused``: NCHW with ``optim.SGD(fused=True)``.
- ``jax``: one ``jax.jit`` step (forward with ``lax.conv_general_dilated`` in NHWC,
  loss, ``value_and_grad``, optax SGD), parameters and state donated.
- ``keras``: Keras 3 on the JAX backend, ``fit`` per chunk like glassnet.
- ``numpy``: the yardstick, a plain NumPy network of the im2col-by-offset algorithm
  (the kh*kw strided slices of the padded input copied into a (kh, kw, N, OH, OW, C)
  buffer, one transposing copy to (N*OH*OW, kh*kw*C), one GEMM; backward
  ``dW = col.T @ dz``, ``db``, and ``dx`` by one batched GEMM and kh*kw slice-adds).

What is measured, and how (the machinery is bench_train.py's, imported from
timed_rounds.py and driver.py):

- Samples per second of each chunk, timed inside the peer's process: gathering
  the chunk's rows, every step, and for JAX waiting for the queued work
  (``block_until_ready``) before the clock stops. One warm-up chunk per peer runs
  first (JAX and Keras compile there), then every peer's arrays are checked to be
  float32. Chunks: 4 epochs of C1, 1 epoch of C2.
- Chunks alternate peer by peer in rounds, the first peer rotating; before each,
  the driver waits for an idle machine (timed_rounds.QuietGate), and every ratio
  is the median over the quiet rounds of that round's ratio (min-max in brackets).
- Threads: each thread count runs separately. Every process gets
  ``OMP/OPENBLAS/MKL_NUM_THREADS`` before it imports anything, then
  ``threadpoolctl`` and ``torch.set_num_threads``; the JAX processes get
  ``PJRT_NPROC`` (the size of XLA's CPU thread pool) and, for one thread,
  ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false`` (TensorFlow's
  ``intra_op_parallelism_threads`` is no XLA flag: XLA refuses it with ``--`` and
  skips it without).
  CPU-seconds per wall-second of each chunk (all the process's threads) shows
  what each peer really used. ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are
  unset in the workers (users' machines do not set them), and every worker
  reports the BLAS libraries it loaded and the kernels they picked (threadpoolctl).
- Per layer: each convolution (with its ReLU) and pooling layer's forward and
  backward pass alone, on a batch of the workload's shape, for glassnet, the NumPy
  yardstick and PyTorch (NCHW and channels_last), interleaved the same way; each
  chunk keeps the fastest of five bursts. The first layer computes no input
  gradient, as in training.
- Peak memory (VmHWM after the imports and data), the final loss and accuracy
  over the training set.
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
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import driver
import timed_rounds  # the worker pipe, the quiet gate, interleaving, medians
from conv_workloads import (
    ConvWorkload,
    initial_weights,
    layer_shapes,
    make_data,
    make_workloads,
)
from dense_report import cpu_name  # the machine line's CPU, as bench_train's
from driver import blas_kernels, worker_env  # the workers' environment, BLAS report

PEERS = ("glassnet", "torch", "torch_cl", "torch_fused", "jax", "keras", "numpy")
LAYER_PEERS = ("glassnet", "numpy", "torch", "torch_cl")
LABEL = {
    "torch_cl": "torch channels_last",
    "torch_fused": "torch fused",
    "jax": "jax jit",
    "keras": "keras (jax)",
}
LAYER_BURSTS, BURST_SECONDS = 5, 0.05  # per layer chunk: 5 bursts of about 50 ms


# -- worker process ----------------------------------------------------------------
def make_peer(name: str, w: ConvWorkload, weights: list[Any]) -> Any:
    if name in ("jax", "keras"):
        import conv_jax

        return (
            conv_jax.JaxPeer(w, weights)
            if name == "jax"
            else conv_jax.KerasPeer(w, weights)
        )
    import conv_peers

    if name == "glassnet":
        return conv_peers.GlassnetPeer(w, weights)
    if name == "numpy":
        return conv_peers.NumpyPeer(w, weights)
    return conv_peers.TorchPeer(
        w, weights, channels_last=name == "torch_cl", fused=name == "torch_fused"
    )


def time_layer(call: Any, bursts_wanted: int, burst_seconds: float) -> float:
    """Seconds per call of ``call``: the fastest of a few bursts of calls.

    One interruption (another process, a page fault) would swamp a burst of
    sub-millisecond calls; the fastest burst is the layer's own speed.
    """
    for _ in range(3):
        call()
    began = time.perf_counter()
    call()
    calls = max(1, int(burst_seconds / max(time.perf_counter() - began, 1e-6)))
    bursts = []
    for _ in range(bursts_wanted):
        began = time.perf_counter()
        for _ in range(calls):
            call()
        bursts.append((time.perf_counter() - began) / calls)
    return min(bursts)


def run_worker(name: str, threads: int, path: str) -> None:
    """Serve the driver's commands, one JSON line in, one JSON line out."""
    import numpy as np

    driver.limit_threads(threads, torch=name.startswith("torch"))
    with np.load(path) as npz:
        data = {key: npz[key] for key in npz.files}
    w = ConvWorkload(**json.loads(str(data.pop("workload"))))
    x, y = data.pop("x"), data.pop("y")
    weights = [data[f"w{i}"] for i in range(len(data))]
    driver.reset_peak_memory()
    baseline_kb = driver.memory_kb("VmRSS")
    peer = make_peer(name, w, weights)
    prepared = peer.prepare(x)
    layer_calls: dict[int, Any] = {}
    for line in sys.stdin:
        command = json.loads(line)
        reply: dict[str, Any] = {}
        if command["op"] == "train":
            order = w.chunk_order(command["chunk"])
            began, cpu = time.perf_counter(), time.process_time()
            peer.train(prepared.take(order, axis=0), y.take(order), 1)
            peer.sync()
            reply["seconds"] = time.perf_counter() - began
            reply["cpu_seconds"] = time.process_time() - cpu
        elif command["op"] == "dtypes":
            reply["dtypes"] = sorted(
                {str(a.dtype).removeprefix("torch.") for a in peer.arrays()}
            )
        elif command["op"] == "layer":
            index = command["index"]
            if index not in layer_calls:
                layer_calls[index] = peer.layer_call(index)
            reply["seconds"] = time_layer(
                layer_calls[index], command["bursts"], command["burst_seconds"]
            )
        elif command["op"] == "report":
            p = np.asarray(peer.predictions(x), dtype=np.float64)
            picked = np.clip(p[np.arange(len(y)), y], 1e-12, None)
            reply = {
                "peak_rss_mb": driver.memory_kb("VmHWM") / 1024,
                "start_rss_mb": baseline_kb / 1024,
                "loss": float(-np.mean(np.log(picked))),
                "accuracy": float(np.mean(p.argmax(axis=1) == y)),
                "blas": blas_kernels(),
            }
        print(json.dumps(reply), flush=True)


# -- driver ------------------------------------------------------------------------
def save_workload(w: ConvWorkload, folder: str) -> str:
    """Make the data and the initial weights once; every worker loads them."""
    import numpy as np

    x, y = make_data(w)
    arrays = {f"w{i}": weight for i, weight in enumerate(initial_weights(w))}
    path = os.path.join(folder, f"{w.name}.npz")
    np.savez(path, x=x, y=y, workload=json.dumps(asdict(w)), **arrays)
    return path


def run_workload(
    w: ConvWorkload,
    threads: int,
    rounds: int,
    path: str,
    peers: tuple[str, ...],
    quick: bool = False,
) -> dict[str, Any]:
    workers = timed_rounds.peer_workers(peers, threads, path, __file__, not quick)
    layer_peers = tuple(name for name in LAYER_PEERS if name in peers)
    try:
        for worker in workers.values():  # warm-up: compilation, caches
            worker.warm_up(w.name)
        seconds, quiet = timed_rounds.interleave(workers, peers, rounds, op="train")
        layer_rounds = 1 if quick else max(3, rounds // 2)
        layers = measure_layers(workers, layer_peers, w, layer_rounds, quick)
        reports = {name: workers[name].ask(op="report") for name in peers}
    finally:
        for worker in workers.values():
            worker.close()
    rates = {name: [w.chunk_samples / s for s in seconds[name]] for name in peers}
    cpu_share = {name: workers[name].cpu_per_wall(quiet) for name in peers}
    return {
        "workload": w.name,
        "threads": threads,
        "batch_size": w.batch_size,
        "samples_per_chunk": w.chunk_samples,
        "rounds": rounds,
        "quiet_rounds": sum(quiet),
        "samples_per_s": {
            name: statistics.median(timed_rounds.clean(v, quiet))
            for name, v in rates.items()
        },
        "rounds_samples_per_s": rates,
        "rounds_quiet": quiet,
        "ratio_vs_torch": {
            name: ratio(rates, name, "torch", quiet)
            for name in peers
            if name != "torch"
        },
        "cpu_per_wall": cpu_share,
        "memory_mb": {name: reports[name]["peak_rss_mb"] for name in peers},
        "start_memory_mb": {name: reports[name]["start_rss_mb"] for name in peers},
        "final_loss": {name: reports[name]["loss"] for name in peers},
        "accuracy": {name: reports[name]["accuracy"] for name in peers},
        "blas": {name: reports[name]["blas"] for name in peers},
        "layers": layers,
    }


def ratio(
    values: dict[str, list[float]], a: str, b: str, quiet: list[bool]
) -> dict[str, float]:
    """Median (min, max) over the (quiet) rounds of ``values[a] / values[b]``."""
    per_round = [x / y for x, y in zip(values[a], values[b], strict=True)]
    return timed_rounds.summarize(timed_rounds.clean(per_round, quiet))


def measure_layers(
    workers: dict[str, timed_rounds.PeerWorker],
    peers: tuple[str, ...],
    w: ConvWorkload,
    rounds: int,
    quick: bool,
) -> list[dict[str, Any]]:
    """Each convolution and pooling layer alone, forward and backward, interleaved."""
    timing = {"bursts": 2, "burst_seconds": 0.002} if quick else {
        "bursts": LAYER_BURSTS, "burst_seconds": BURST_SECONDS
    }  # fmt: skip
    rows = []
    for index, (spec, shape_in, shape_out) in enumerate(layer_shapes(w)):
        if spec[0] not in ("conv", "pool"):
            continue
        seconds, quiet = timed_rounds.interleave(
            workers, peers, rounds, op="layer", index=index, **timing
        )
        row: dict[str, Any] = {
            "layer": index,
            "kind": "conv2d+relu" if spec[0] == "conv" else "maxpool2d",
            "input": [w.batch_size, *shape_in],
            "output": [w.batch_size, *shape_out],
            "seconds": {
                name: statistics.median(timed_rounds.clean(v, quiet))
                for name, v in seconds.items()
            },
        }
        if "glassnet" in peers:  # a speed ratio, like the training table's
            row["glassnet_vs_torch"] = ratio(seconds, "torch", "glassnet", quiet)
        rows.append(row)
    return rows


# -- report ------------------------------------------------------------------------
def label(name: str) -> str:
    return LABEL.get(name, name)


def format_tables(rows: list[dict[str, Any]], peers: tuple[str, ...]) -> str:
    others = [name for name in peers if name != "torch"]
    lines = driver.ratio_table(
        rows,
        others,
        label,
        "Training speed relative to PyTorch's default (NCHW, optim.SGD): median over "
        "rounds of each round's ratio of samples/s (min-max in brackets); > 1x is "
        "faster than PyTorch",
    )
    lines += [
        "",
        "Samples per second (medians), CPU-seconds per wall-second of the chunks, "
        "peak memory of each process (MB), and the final loss and accuracy over the "
        "training set (the same steps up to float rounding: close, not identical)",
        "",
        "| workload | threads | peer | samples/s | CPU/wall | peak MB | loss | accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for name in peers:
            lines.append(
                f"| {row['workload']} | {row['threads']} | {label(name)} | "
                f"{row['samples_per_s'][name]:,.0f} | {row['cpu_per_wall'][name]:.2f} | "
                f"{row['memory_mb'][name]:,.0f} | {row['final_loss'][name]:.6f} | "
                f"{row['accuracy'][name]:.1%} |"
            )
    layer_peers = [name for name in LAYER_PEERS if name in peers]
    lines += [
        "",
        "Per layer: forward + backward of one layer on one batch, milliseconds "
        "(medians of the fastest burst per round)",
        "",
        "| workload | threads | layer | input -> output | "
        + " | ".join(label(name) for name in layer_peers)
        + " | glassnet / torch (speed) |",
        "|---|---|---|---|" + "---|" * len(layer_peers) + "---|",
    ]
    for row in rows:
        for layer in row["layers"]:
            shapes = "x".join(map(str, layer["input"])) + " -> "
            shapes += "x".join(map(str, layer["output"]))
            times = [f"{layer['seconds'][name] * 1e3:.3f}" for name in layer_peers]
            vs = layer.get("glassnet_vs_torch")
            lines.append(
                f"| {row['workload']} | {row['threads']} | {layer['layer']}: "
                f"{layer['kind']} | {shapes} | "
                + " | ".join(times)
                + f" | {timed_rounds.ratio_text(vs) if vs else '-'} |"
            )
    return "\n".join(lines)


def versions(peers: tuple[str, ...]) -> dict[str, str]:
    """Library versions, each read in a fresh interpreter of the peer's kind."""
    import numpy

    v = {"python": platform.python_version(), "numpy": numpy.__version__}
    modules = {"torch": "torch", "jax": "jax", "keras": "keras"}
    for key, module in modules.items():
        if any(name.startswith(key) for name in peers):
            env = worker_env(key, 1)
            done = subprocess.run(
                [sys.executable, "-c", f"import {module}; print({module}.__version__)"],
                capture_output=True, text=True, check=True, env=env,
            )  # fmt: skip
            v[key] = done.stdout.strip()
    return v


def machine_line(v: dict[str, str], rows: list[dict[str, Any]]) -> str:
    blas = sorted(
        {b for row in rows for kernels in row["blas"].values() for b in kernels}
    )
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return (
        f"{cpu_name()}, {os.cpu_count()} CPUs, Python {v['python']}, NumPy "
        f"{v['numpy']}; BLAS in the workers: {', '.join(blas) or 'none reported'}"
        + (
            f" (OPENBLAS_CORETYPE={forced} here, unset in the workers)"
            if forced
            else ""
        )
        + "; "
        + ", ".join(f"{k} {v[k]}" for k in ("torch", "jax", "keras") if k in v)
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return driver.peer_arguments(
        __doc__.split("\n\n")[0],
        [w.name for w in make_workloads(quick=True)],
        PEERS,
        "smoke run: 256 samples, 1 round",
        argv,
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker is not None:
        run_worker(args.worker, args.thread_counts[0], args.data)
        return
    started = time.perf_counter()
    chosen = [w for w in make_workloads(args.quick) if w.name in args.workload_names]
    rows = driver.run_every_workload(
        args, chosen, save_workload, run_workload, "glassnet-bench-conv-"
    )
    v = versions(args.peer_names)
    print(
        f"glassnet convolutional networks, float32, median of {args.rounds} "
        "alternating rounds"
    )
    print(machine_line(v, rows) + "\n")
    print(format_tables(rows, args.peer_names))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.json:
        report = {
            "machine": machine_line(v, rows),
            "platform": platform.platform(),
            "versions": v,
            "rounds": args.rounds,
            "quick": args.quick,
            "peers": list(args.peer_names),
            "results": rows,
        }
        Path(args.json).write_text(
            json.dumps(report, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
