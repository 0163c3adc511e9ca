"""Training speed of glassnet's recurrent networks against PyTorch, JAX and Keras.

Run: ``python benchmarks/bench_rnn.py [--rounds R] [--threads 1,2]
[--workloads R1,R2,R3] [--peers glassnet,torch,jax,keras] [--quick] [--json PATH]``.
It prints Markdown tables; ``--json`` also writes every number to PATH. ``--quick``
is a smoke run on short sequences that checks the machinery, not the speed.

Workloads (float32; softmax cross-entropy; SGD with momentum 0.9, batch 32):

- ``R1``: LSTM(64) -> Dense(10) on 2,048 generated sine sequences (50 steps, 16
  channels, 10 classes by frequency; rnn_workloads.sine_sequences), learning rate
  0.01; the class is read from the last hidden state.
- ``R2``: the same with GRU(64) (``reset_after=True``, Keras' default and PyTorch's
  form).
- ``R3``: a character LSTM: Embedding(vocab, 32) -> LSTM(128, return_sequences)
  -> Dense(vocab) predicting the next character at each of 64 steps, on 1,024
  windows of CPython's own help texts (``pydoc_data.topics``, no download; the
  vocabulary is its ~100 distinct characters), learning rate 0.1.

Every peer gets the same initial weights (glassnet's draw of Keras' defaults, in
Keras' layout, converted for PyTorch: LSTM gates i, f, c, o are torch's i, f, g, o;
GRU gates z, r, h are torch's r, z, n reordered), the same data and the same batches
in the same order: chunk k trains the rows of ``chunk_order(k)`` (a seeded
permutation), one pass. SGD with momentum, not Adam, so every peer takes the same
steps up to float rounding. **Before any timing** each peer takes one training step
on the same first batch; the loss that step computed, and the loss on that batch
after it (the gradients and the update), must match glassnet's within float32
rounding (``LOSS_TOLERANCE``), or the run stops: the peers then train the same
network. Peers, each in its own persistent process:

- ``glassnet``: ``Sequential([Input, (Embedding,) LSTM or GRU, Dense(softmax)])``
  and ``fit(x, y, batch_size=32, epochs=1, shuffle=False)`` per chunk.
- ``torch``: ``nn.LSTM`` / ``nn.GRU`` (``batch_first``), ``nn.Linear``,
  ``CrossEntropyLoss`` on logits, the default ``optim.SGD``; ``zero_grad();
  backward(); step()`` per batch. Its float32 CPU LSTM and GRU run oneDNN's fused
  RNN primitive. The LSTM's second bias ``bias_hh`` (Keras has one) stays at zero,
  frozen.
- ``jax``: one ``jax.jit`` step (the input projection as one product, ``lax.scan``
  over the steps, ``value_and_grad``, optax SGD), parameters and state donated.
- ``keras``: Keras 3 on the JAX backend, ``fit`` per chunk like glassnet.

What is measured, and how (the machinery is bench_train.py's and bench_conv.py's,
imported from timed_rounds.py, driver.py and bench_conv.py):

- Samples (sequences) per second of each chunk, timed inside the peer's process:
  gathering the chunk's rows, every step, and for JAX waiting for the queued work
  before the clock stops. The first step (JAX and Keras compile there) and one
  warm-up chunk run first; then every peer's arrays are checked to be float32.
- Chunks alternate peer by peer in rounds, the first peer rotating; before each,
  the driver waits for an idle machine (timed_rounds.QuietGate), and every ratio is
  the median over the quiet rounds of that round's ratio (min-max in brackets).
  At one thread the same ratios are also given by CPU time (samples per CPU-second
  of each chunk, every thread of the process): what a peer computes per second of
  CPU it got, which a shared machine's other programs disturb less than wall time.
- Threads: each thread count runs separately, as bench_conv does:
  ``OMP/OPENBLAS/MKL_NUM_THREADS`` before any import, then ``threadpoolctl`` and
  ``torch.set_num_threads``; the JAX processes get ``PJRT_NPROC`` and, for one
  thread, ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false``. ``OPENBLAS_CORETYPE``
  and ``OPENBLAS_L2_SIZE`` are unset in the workers, and every worker reports the
  BLAS libraries it loaded and the kernels they picked (threadpoolctl).
- Per layer: the recurrent layer alone, forward and backward on one batch of the
  workload's shape, for glassnet and PyTorch (the input gradient only where the
  model needs it: R3, for the Embedding), interleaved the same way; each chunk
  keeps the fastest of five bursts. (benchmarks/rnn_profile.py breaks glassnet's
  step down further.)
- Peak memory (VmHWM after the imports and data), the final loss and accuracy over
  the training set (per character for R3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import driver
import timed_rounds  # the worker pipe, the quiet gate, interleaving, medians
from bench_conv import machine_line, ratio, time_layer, versions  # the same rules
from driver import blas_kernels  # the BLAS report (PeerWorker sets the environment)
from rnn_workloads import RnnWorkload, initial_weights, make_data, make_workloads

PEERS = ("glassnet", "torch", "jax", "keras")
LAYER_PEERS = ("glassnet", "torch")
LABEL = {"jax": "jax jit", "keras": "keras (jax)"}
LAYER_BURSTS, BURST_SECONDS = 5, 0.05  # per layer chunk: 5 bursts of about 50 ms
# |peer - glassnet| <= LOSS_TOLERANCE * max(1, |glassnet|) for both first-step
# losses: float32 rounding through 64 steps of a recurrence stays near 1e-6
LOSS_TOLERANCE = 2e-5


# -- worker process ----------------------------------------------------------------------
def make_peer(name: str, w: RnnWorkload, weights: list[Any]) -> Any:
    if name in ("jax", "keras"):
        import rnn_jax

        cls = rnn_jax.JaxPeer if name == "jax" else rnn_jax.KerasPeer
        return cls(w, weights)
    import rnn_peers

    cls = rnn_peers.GlassnetPeer if name == "glassnet" else rnn_peers.TorchPeer
    return cls(w, weights)


def cross_entropy(p: Any, y: Any) -> float:
    """Mean of ``-log p[target]`` over every sample (and step), in float64."""
    import numpy as np

    p = np.asarray(p, dtype=np.float64)
    picked = np.take_along_axis(p, np.asarray(y)[..., None], axis=-1)
    return float(-np.mean(np.log(np.clip(picked, 1e-12, None))))


def run_worker(name: str, threads: int, path: str) -> None:
    """Serve the driver's commands, one JSON line in, one JSON line out."""
    import numpy as np

    driver.limit_threads(threads, torch=name == "torch")
    with np.load(path) as npz:
        data = {key: npz[key] for key in npz.files}
    w = RnnWorkload(**json.loads(str(data.pop("workload"))))
    x, y = data.pop("x"), data.pop("y")
    weights = [data[f"w{i}"] for i in range(len(data))]
    driver.reset_peak_memory()
    baseline_kb = driver.memory_kb("VmRSS")
    peer = make_peer(name, w, weights)
    prepared = peer.prepare(x)
    layer_call = None
    for line in sys.stdin:
        command = json.loads(line)
        reply: dict[str, Any] = {}
        if command["op"] == "first_step":
            rows = w.chunk_order(0)[: w.batch_size]
            xb, yb = prepared.take(rows, axis=0), y.take(rows, axis=0)
            reply["loss"] = peer.first_step(xb, yb)
            reply["loss_after"] = cross_entropy(peer.predictions(xb), yb)
        elif command["op"] == "train":
            order = w.chunk_order(command["chunk"])
            began, cpu = time.perf_counter(), time.process_time()
            peer.train(prepared.take(order, axis=0), y.take(order, axis=0))
            peer.sync()
            reply["seconds"] = time.perf_counter() - began
            reply["cpu_seconds"] = time.process_time() - cpu
        elif command["op"] == "dtypes":
            reply["dtypes"] = sorted(
                {str(a.dtype).removeprefix("torch.") for a in peer.arrays()}
            )
        elif command["op"] == "layer":
            layer_call = layer_call or peer.layer_call()
            reply["seconds"] = time_layer(
                layer_call, command["bursts"], command["burst_seconds"]
            )
        elif command["op"] == "report":
            p = np.asarray(peer.predictions(prepared), dtype=np.float64)
            reply = {
                "peak_rss_mb": driver.memory_kb("VmHWM") / 1024,
                "start_rss_mb": baseline_kb / 1024,
                "loss": cross_entropy(p, y),
                "accuracy": float(np.mean(p.argmax(axis=-1) == y)),
                "blas": blas_kernels(),
            }
        print(json.dumps(reply), flush=True)


# -- driver ------------------------------------------------------------------------------
def save_workload(w: RnnWorkload, folder: str) -> str:
    """Make the data and the initial weights once; every worker loads them."""
    import numpy as np

    x, y = make_data(w)
    arrays = {f"w{i}": weight for i, weight in enumerate(initial_weights(w))}
    path = os.path.join(folder, f"{w.name}.npz")
    np.savez(path, x=x, y=y, workload=json.dumps(asdict(w)), **arrays)
    return path


def check_first_step(
    w: RnnWorkload, threads: int, losses: dict[str, dict[str, float]]
) -> None:
    """Stop the run unless every peer's first-step losses match the reference's
    (glassnet's, else PyTorch's) within ``LOSS_TOLERANCE``."""
    reference = "glassnet" if "glassnet" in losses else "torch"
    wrong = []
    for name, values in losses.items():
        for key in ("loss", "loss_after"):
            expected = losses[reference][key]
            if abs(values[key] - expected) > LOSS_TOLERANCE * max(1.0, abs(expected)):
                wrong.append(f"{name} {key} {values[key]:.8f} vs {expected:.8f}")
    if wrong:
        raise SystemExit(
            f"{w.name} ({threads} thread(s)): the peers do not train the same network "
            f"(first step against {reference}): " + "; ".join(wrong)
        )


def run_workload(
    w: RnnWorkload,
    threads: int,
    rounds: int,
    path: str,
    peers: tuple[str, ...],
    quick: bool = False,
) -> dict[str, Any]:
    workers = timed_rounds.peer_workers(peers, threads, path, __file__, not quick)
    layer_peers = tuple(name for name in LAYER_PEERS if name in peers)
    try:
        first = {name: worker.ask(op="first_step") for name, worker in workers.items()}
        losses = {
            name: {"loss": r["loss"], "loss_after": r["loss_after"]}
            for name, r in first.items()
        }
        check_first_step(w, threads, losses)
        for worker in workers.values():  # warm-up: compilation, caches
            worker.warm_up(w.name)
        seconds, quiet = timed_rounds.interleave(workers, peers, rounds, op="train")
        layer_rounds = 1 if quick else max(3, rounds // 2)
        layer = measure_layer(workers, layer_peers, layer_rounds, quick)
        reports = {name: workers[name].ask(op="report") for name in peers}
    finally:
        for worker in workers.values():
            worker.close()
    rates = {name: [w.chunk_samples / s for s in seconds[name]] for name in peers}
    # samples per CPU-second (all the process's threads): at one thread, what a
    # peer computes per second of CPU it got, which other programs on a shared
    # machine disturb less than wall time (with more threads it counts spinning)
    cpu_rates = {
        name: [w.chunk_samples / r["cpu_seconds"] for r in workers[name].trained]
        for name in peers
    }
    cpu_share = {name: workers[name].cpu_per_wall(quiet) for name in peers}
    return {
        "workload": w.name,
        "threads": threads,
        "batch_size": w.batch_size,
        "steps": w.steps,
        "samples_per_chunk": w.chunk_samples,
        "rounds": rounds,
        "quiet_rounds": sum(quiet),
        "first_step": losses,
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
        "cpu_ratio_vs_torch": {
            name: ratio(cpu_rates, name, "torch", quiet)
            for name in peers
            if name != "torch"
        },
        "cpu_per_wall": cpu_share,
        "memory_mb": {name: reports[name]["peak_rss_mb"] for name in peers},
        "start_memory_mb": {name: reports[name]["start_rss_mb"] for name in peers},
        "final_loss": {name: reports[name]["loss"] for name in peers},
        "accuracy": {name: reports[name]["accuracy"] for name in peers},
        "blas": {name: reports[name]["blas"] for name in peers},
        "layer": layer,
    }


def measure_layer(
    workers: dict[str, timed_rounds.PeerWorker],
    peers: tuple[str, ...],
    rounds: int,
    quick: bool,
) -> dict[str, Any]:
    """The recurrent layer alone, forward and backward, interleaved."""
    if not peers:
        return {}
    timing = {"bursts": 2, "burst_seconds": 0.002} if quick else {
        "bursts": LAYER_BURSTS, "burst_seconds": BURST_SECONDS
    }  # fmt: skip
    seconds, quiet = timed_rounds.interleave(
        workers, peers, rounds, op="layer", **timing
    )
    row: dict[str, Any] = {
        "seconds": {
            name: statistics.median(timed_rounds.clean(v, quiet))
            for name, v in seconds.items()
        }
    }
    if "glassnet" in peers and "torch" in peers:  # a speed ratio, like training's
        row["glassnet_vs_torch"] = ratio(seconds, "torch", "glassnet", quiet)
    return row


# -- report ------------------------------------------------------------------------------
def label(name: str) -> str:
    return LABEL.get(name, name)


def network(w: RnnWorkload) -> str:
    cell = f"{w.cell.upper()}({w.units})"
    if w.per_step_targets:
        return f"Embedding({w.vocab}, {w.features}) -> {cell} -> Dense({w.classes})"
    return f"{cell} -> Dense({w.classes})"


def format_tables(rows: list[dict[str, Any]], peers: tuple[str, ...]) -> str:
    others = [name for name in peers if name != "torch"]
    lines = driver.ratio_table(
        rows,
        others,
        label,
        "Training speed relative to PyTorch's default (optim.SGD): median over rounds "
        "of each round's ratio of samples/s (min-max in brackets); > 1x is faster "
        "than PyTorch",
    )
    one_thread = [row for row in rows if row["threads"] == 1]
    if one_thread:
        lines += [
            "",
            "The same at one thread by CPU time: samples per CPU-second of each "
            "chunk relative to PyTorch's (what each peer computes per second of CPU "
            "it got; less disturbed by other programs than wall time)",
            "",
            "| workload | "
            + " | ".join(f"{label(name)} / torch" for name in others)
            + " |",
            "|---|" + "---|" * len(others),
        ]
        for row in one_thread:
            cells = [
                timed_rounds.ratio_text(row["cpu_ratio_vs_torch"][n]) for n in others
            ]
            lines.append(f"| {row['workload']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Samples per second (medians), CPU-seconds per wall-second of the chunks, peak "
        "memory of each process (MB), the first step's loss and the loss on its "
        "batch after it (checked equal before timing), and the final loss and "
        "accuracy over the training set",
        "",
        "| workload | threads | peer | samples/s | CPU/wall | peak MB | first-step "
        "loss | after it | final loss | accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for name in peers:
            first = row["first_step"][name]
            lines.append(
                f"| {row['workload']} | {row['threads']} | {label(name)} | "
                f"{row['samples_per_s'][name]:,.0f} | {row['cpu_per_wall'][name]:.2f} | "
                f"{row['memory_mb'][name]:,.0f} | {first['loss']:.7f} | "
                f"{first['loss_after']:.7f} | {row['final_loss'][name]:.6f} | "
                f"{row['accuracy'][name]:.1%} |"
            )
    layer_peers = [name for name in LAYER_PEERS if name in peers]
    if layer_peers:
        lines += [
            "",
            "The recurrent layer alone: forward + backward on one batch, "
            "milliseconds (medians of the fastest burst per round)",
            "",
            "| workload | threads | input (batch, steps, features) | "
            + " | ".join(label(name) for name in layer_peers)
            + " | glassnet / torch (speed) |",
            "|---|---|---|" + "---|" * len(layer_peers) + "---|",
        ]
        for row in rows:
            layer = row["layer"]
            times = [f"{layer['seconds'][name] * 1e3:.3f}" for name in layer_peers]
            vs = layer.get("glassnet_vs_torch")
            shape = f"{row['batch_size']} x {row['steps']}"
            lines.append(
                f"| {row['workload']} | {row['threads']} | {shape} | "
                + " | ".join(times)
                + f" | {timed_rounds.ratio_text(vs) if vs else '-'} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return driver.peer_arguments(
        __doc__.split("\n\n")[0],
        ["R1", "R2", "R3"],
        PEERS,
        "smoke run: short sequences, 1 round",
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
        args, chosen, save_workload, run_workload, "glassnet-bench-rnn-"
    )
    v = versions(args.peer_names)
    print(
        f"glassnet recurrent networks, float32, median of {args.rounds} alternating "
        "rounds"
    )
    print(machine_line(v, rows))
    print("; ".join(f"{w.name}: {network(w)}, {w.steps} steps" for w in chosen) + "\n")
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
            "workloads": [asdict(w) for w in chosen],
            "results": rows,
        }
        Path(args.json).write_text(
            json.dumps(report, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
