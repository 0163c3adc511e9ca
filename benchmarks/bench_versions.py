"""glassnet against an earlier glassnet: did a change slow training down?

Run: ``python benchmarks/bench_versions.py --base COMMIT [--rounds R]
[--threads 1,2] [--workloads tiny,small,medium,wide]``.

The four workloads of ``bench_train.py`` (same data, initial weights, optimizer and
batch size), trained by three peers, each in its own process:

- ``base``: glassnet as it was at ``--base`` (its ``src/`` exported with
  ``git archive`` into a temporary folder and put first on ``PYTHONPATH``);
- ``head``: glassnet as it is in this working tree, the same ``Sequential`` model;
- ``functional``: this working tree, the same network built as a functional
  ``glassnet.Model`` (an Input and the same Dense calls), which must train as fast as
  the ``Sequential`` it equals.

Chunks alternate peer by peer in rounds (the first peer rotating), each round waits
for a quiet machine as ``bench_train.py`` does, and every ratio is the median over
rounds of that round's ratio (min-max in brackets). Each worker process runs with
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset, as on users' machines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dense_peers
import dense_worker
from dense_peers import GlassnetPeer, Peer
from dense_workloads import (
    SEED,
    Workload,
    build_glassnet,
    make_workloads,
    save_workload,
)
from timed_rounds import (  # the worker pipe, the quiet gate, rounds, medians
    BUDGET,
    QuietGate,
    Worker,
    clean,
    interleave,
    ratio_text,
    summarize,
)

PEERS = ("base", "head", "functional")
ROOT = Path(__file__).resolve().parent.parent


def export_source(commit: str, folder: str) -> str:
    """``src/`` of ``commit`` in ``folder``; returns the path to put on PYTHONPATH."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return os.path.join(folder, "src")


def build_functional(w: Workload) -> Any:
    """The workload's network as a functional model: the same layers, called in turn."""
    import glassnet

    sequential = build_glassnet(w)
    inputs = glassnet.Input((w.units[0],))
    x = inputs
    for layer in sequential.layers:
        config = layer.get_config()
        config.pop("input_shape", None)
        config.pop("name", None)
        x = type(layer).from_config(config)(x)
    model = glassnet.Model(inputs, x, seed=SEED)
    model.compile(optimizer=sequential.optimizer, loss=sequential.loss)
    return model


class FunctionalPeer(GlassnetPeer):
    def __init__(self, w: Workload, weights: list[Any]) -> None:
        self.w, self.model = w, build_functional(w)
        self.model.set_weights(weights)


def run_worker(name: str, threads: int, path: str) -> None:
    """A bench_train worker whose glassnet peer is this version's."""
    original = dense_peers.make_peer

    def make_peer(_: str, w: Workload, data: dict[str, Any]) -> Peer:
        weights = [data[f"w{i}"] for i in range(2 * (len(w.units) - 1))]
        if name == "functional":
            return FunctionalPeer(w, weights)
        return original("glassnet", w, data)

    dense_worker.make_peer = make_peer  # the name run_worker calls
    dense_worker.run_worker("glassnet", threads, path)


class VersionWorker(Worker):
    """A worker process importing glassnet from ``source``."""

    def __init__(
        self,
        name: str,
        threads: int,
        path: str,
        gate: QuietGate,
        source: str,
    ) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        }
        env["PYTHONPATH"] = source
        super().__init__(name, threads, path, gate, script=__file__, env=env)


def compare(
    w: Workload, threads: int, rounds: int, path: str, sources: dict[str, str]
) -> dict[str, Any]:
    gate = QuietGate(threads, BUDGET)
    workers = {
        name: VersionWorker(name, threads, path, gate, sources[name]) for name in PEERS
    }
    try:
        for worker in workers.values():
            worker.ask(op="train", chunk=0)
        seconds, quiet = interleave(workers, PEERS, rounds, op="train")
    finally:
        for worker in workers.values():
            worker.close()
    rates = {name: [w.chunk_samples / s for s in seconds[name]] for name in PEERS}

    def ratio(a: str, b: str) -> dict[str, float]:
        per_round = [x / y for x, y in zip(rates[a], rates[b], strict=True)]
        return summarize(clean(per_round, quiet))

    return {
        "workload": w.name,
        "threads": threads,
        "quiet": sum(quiet),
        "rounds": rounds,
        "head_vs_base": ratio("head", "base"),
        "functional_vs_head": ratio("functional", "head"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="commit to compare against")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--workloads", default="tiny,small,medium,wide")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    if args.worker is not None:
        run_worker(args.worker, threads[0], args.data)
        return
    started = time.perf_counter()
    names = args.workloads.split(",")
    chosen = [w for w in make_workloads(False) if w.name in names]
    rows = []
    with tempfile.TemporaryDirectory(prefix="glassnet-versions-") as folder:
        base_src = export_source(args.base, folder)
        head_src = str(ROOT / "src")
        sources = {"base": base_src, "head": head_src, "functional": head_src}
        paths = {w.name: save_workload(w, folder) for w in chosen}
        for count in threads:
            for w in chosen:
                rows.append(compare(w, count, args.rounds, paths[w.name], sources))
    print(
        f"glassnet (this tree) vs glassnet at {args.base}, median of per-round ratios"
    )
    print(
        "| workload | threads | head / base | functional / Sequential | quiet rounds |"
    )
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['workload']} | {row['threads']} | {ratio_text(row['head_vs_base'])}"
            f" | {ratio_text(row['functional_vs_head'])} | {row['quiet']}/{row['rounds']} |"
        )
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
