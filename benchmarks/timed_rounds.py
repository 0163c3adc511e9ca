"""Timing peers in interleaved rounds on a shared machine (every driver here).

bench_train.py, bench_conv.py, bench_rnn.py and bench_versions.py run each peer in
a persistent process (``Worker``, ``PeerWorker``) driven through a pipe, wait for an
idle machine before each timed command (``QuietGate``), alternate the peers round
by round (``interleave``), and keep the quiet rounds (``clean``) for the medians of
per-round ratios (``summarize``, printed by ``ratio_text``).

>>> ratio_text(summarize([1.0, 1.5, 1.25]))
'1.25x (1.00-1.50)'
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import driver

# QuietGate: seconds to let BLAS threads stop spinning, seconds to watch the CPUs,
# the busy share of all CPUs that still counts as quiet, the most to wait per workload
SETTLE, WINDOW, QUIET, BUDGET = 0.15, 0.1, 0.1, 10.0


def busy_share(seconds: float) -> float:
    """Share of all CPUs' time that anything spent busy over the next ``seconds``."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
        return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # minus idle and iowait

    try:
        busy, total = sample()
        time.sleep(seconds)
        busy_after, total_after = sample()
    except (OSError, ValueError, IndexError):  # no /proc/stat: assume quiet
        return 0.0
    return (busy_after - busy) / max(1, total_after - total)


class QuietGate:
    """Before each timed command, wait until the machine looks idle; say if it did.

    Two waits. With several threads, first ``SETTLE`` seconds: after its last call a
    BLAS library keeps its idle threads spinning for a while (OpenBLAS about 0.1 s),
    and a process that starts while another's threads spin runs at half speed or
    less on two cores. Then, since the machine is shared, it watches every CPU for
    ``WINDOW`` seconds and, while something else keeps them busy, waits on (at most
    ``BUDGET`` seconds in all per workload, so a busy machine still finishes).
    """

    def __init__(self, threads: int, budget: float = BUDGET) -> None:
        self.settle = SETTLE if threads > 1 else 0.0
        self.budget = budget

    def wait(self) -> bool:
        time.sleep(self.settle)
        while True:
            quiet = busy_share(WINDOW) <= QUIET
            if quiet or self.budget <= 0:
                return quiet
            self.budget -= WINDOW


class Worker:
    """A peer's process, driven through its stdin and stdout."""

    def __init__(
        self,
        name: str,
        threads: int,
        path: str,
        gate: QuietGate,
        script: str,
        env: dict[str, str] | None = None,
    ) -> None:
        """``script --worker name`` in ``env`` (default: this process's)."""
        env = dict(os.environ if env is None else env)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        command = [sys.executable, os.path.abspath(script), "--worker", name]
        command += ["--threads", str(threads), "--data", path]
        self.name, self.gate = name, gate
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        """Send one command and return the reply; timed ones go through the gate."""
        assert self.process.stdin is not None and self.process.stdout is not None
        quiet = self.gate.wait() if command["op"] in ("train", "latency") else True
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            raise SystemExit(
                f"benchmark worker {self.name!r} exited ({code}); see stderr"
            )
        reply: dict[str, Any] = json.loads(line)
        reply["quiet"] = quiet
        return reply

    def close(self) -> None:
        with contextlib.suppress(OSError):  # a worker that died has closed its end
            assert self.process.stdin is not None
            self.process.stdin.close()  # end of input: the worker returns
        self.process.wait(timeout=60)


def summarize(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def interleave(
    workers: dict[str, Worker], names: tuple[str, ...], rounds: int, **command: Any
) -> tuple[dict[str, list[float]], list[bool]]:
    """Each round, every peer runs ``command`` once, the first peer rotating.

    Returns each peer's seconds per round, and for each round whether every peer
    started it on a quiet machine.
    """
    seconds: dict[str, list[float]] = {name: [] for name in names}
    quiet = []
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        replies = {name: workers[name].ask(chunk=r + 1, **command) for name in order}
        for name in names:
            seconds[name].append(replies[name]["seconds"])
        quiet.append(all(reply["quiet"] for reply in replies.values()))
    return seconds, quiet


def clean(values: list[float], quiet: list[bool]) -> list[float]:
    """The values of the quiet rounds, if there are at least five; else all of them."""
    kept = [v for v, q in zip(values, quiet, strict=True) if q]
    return kept if len(kept) >= 5 else values


class PeerWorker(Worker):
    """A worker of ``script`` (bench_train, bench_conv or bench_rnn) in its peer's
    environment (driver.worker_env), keeping its training replies (for the
    CPU-seconds per wall-second)."""

    def __init__(
        self, name: str, threads: int, path: str, gate: QuietGate, script: str
    ) -> None:
        env = driver.worker_env(name, threads)
        super().__init__(name, threads, path, gate, script=script, env=env)
        self.trained: list[dict[str, Any]] = []

    def ask(self, **command: Any) -> dict[str, Any]:
        reply = super().ask(**command)
        if command["op"] == "train":
            self.trained.append(reply)
        return reply

    def warm_up(self, workload: str, check_dtypes: bool = True) -> None:
        """One untimed chunk (compilation, caches, lazy set-up), then refuse a peer
        that trains in anything but float32; the chunk's reply is not kept."""
        self.ask(op="train", chunk=0)
        if check_dtypes:
            dtypes = self.ask(op="dtypes")["dtypes"]
            if dtypes != ["float32"]:
                raise SystemExit(
                    f"{self.name} trains {workload} in {dtypes}, not float32"
                )
        self.trained.clear()

    def cpu_per_wall(self, quiet: list[bool]) -> float:
        """The median over quiet rounds of the CPU-seconds (all threads) per
        wall-second of the timed chunks."""
        shares = [r["cpu_seconds"] / r["seconds"] for r in self.trained]
        return statistics.median(clean(shares, quiet))


def peer_workers(
    peers: tuple[str, ...], threads: int, path: str, script: str, wait: bool = True
) -> dict[str, PeerWorker]:
    """A :class:`PeerWorker` of ``script`` per peer, sharing one quiet gate (which
    never waits with ``wait=False``: the scripts' ``--quick`` runs)."""
    gate = QuietGate(threads, BUDGET if wait else 0.0)
    return {name: PeerWorker(name, threads, path, gate, script) for name in peers}


def ratio_text(r: dict[str, float]) -> str:
    return f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"
