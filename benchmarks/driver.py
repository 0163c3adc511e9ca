"""What every benchmark driver here shares about its worker processes.

bench_train.py, bench_conv.py and bench_rnn.py run each peer in its own process:
``worker_env`` is that process's environment, ``limit_threads`` limits its threads
once, ``blas_kernels`` is what it reports about the BLAS it loaded and
``memory_kb`` (after ``reset_peak_memory``) its memory; ``check_first_step`` stops a
run whose peers did not start from the same network, and ``check_common_args``
checks the command line they share. (timed_rounds.py holds the driver's side: the
worker pipe, the quiet gate, interleaved rounds and their medians.)

>>> env = worker_env("jax", 1)
>>> env["PJRT_NPROC"], env["JAX_PLATFORMS"], "OPENBLAS_CORETYPE" in env
('1', 'cpu', False)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
from pathlib import Path
from typing import Any

# With one thread XLA's own pool has one worker (PJRT_NPROC=1), and this turns off
# the Eigen thread pool its matrix multiplies would otherwise start.
ONE_XLA_THREAD = "--xla_cpu_multi_thread_eigen=false"
# Users' machines do not set these: OPENBLAS_CORETYPE=Haswell halves OpenBLAS's
# matmul speed on an AVX-512 CPU, OPENBLAS_L2_SIZE changes its blocking.
DROPPED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "XLA_FLAGS", "PJRT_NPROC")


def worker_env(name: str, threads: int) -> dict[str, str]:
    """The environment of peer ``name``'s process, ``threads`` threads wide.

    ``OMP/OPENBLAS/MKL_NUM_THREADS`` are set before the worker imports anything;
    the peers named ``jax`` and ``keras`` also get XLA's thread settings, and
    ``keras`` the JAX backend.
    """
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.pop("KERAS_BACKEND", None)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    if name in ("jax", "keras"):
        env["JAX_PLATFORMS"] = "cpu"
        env["PJRT_NPROC"] = str(threads)
        if threads == 1:
            env["XLA_FLAGS"] = ONE_XLA_THREAD
    if name == "keras":
        env["KERAS_BACKEND"] = "jax"
    if name == "glassnet_numpy":  # glassnet without its Numba-compiled loops
        env["GLASSNET_FUSED"] = "0"
    return env


def source_env() -> dict[str, str]:
    """This environment without ``OPENBLAS_*`` settings, with the checkout's ``src``
    first on ``PYTHONPATH``: for child processes that time this tree's glassnet
    (bench_build.py, bench_cli_load.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    source = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(
        [source, *filter(None, [env.get("PYTHONPATH", "")])]
    )
    return env


def jax_peers_available() -> bool:
    """Whether JAX, optax and Keras can be imported (the ``bench`` extra)."""
    return all(
        importlib.util.find_spec(module) is not None
        for module in ("jax", "optax", "keras")
    )


def blas_kernels() -> list[str]:
    """The BLAS libraries loaded in this process, with the kernels they picked."""
    import threadpoolctl

    return [
        f"{pool['internal_api']} {pool['version']} ({pool.get('architecture', '?')})"
        for pool in threadpoolctl.threadpool_info()
        if pool["user_api"] == "blas"
    ]


def memory_kb(field: str) -> int:
    """A field of /proc/self/status in kB (VmHWM, VmRSS), 0 where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_memory() -> None:
    """Make VmHWM start again from the current resident size (Linux >= 4.0)."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def limit_threads(threads: int, torch: bool) -> None:
    # The parent set OMP/OPENBLAS/MKL_NUM_THREADS before this process imported
    # anything; threadpoolctl and set_num_threads make sure of it, once.
    import threadpoolctl

    threadpoolctl.threadpool_limits(threads)
    if torch:
        import torch as torch_module

        torch_module.set_num_threads(threads)


def check_first_step(
    workload: str, threads: int, losses: dict[str, dict[str, float]], tolerance: float
) -> None:
    """Stop the run unless every peer's first-step losses match glassnet's.

    ``losses[peer]`` holds ``before`` and ``after``: the loss on the first batch
    before and after one training step on it. Each must be within ``tolerance *
    max(1, |glassnet's|)`` of glassnet's.

    >>> same = {"before": 2.30, "after": 2.25}
    >>> check_first_step("w", 1, {"glassnet": same, "jax": same}, 1e-5)
    >>> check_first_step("w", 1, {"glassnet": same, "jax": {"before": 2.3,
    ...     "after": 2.0}}, 1e-5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    SystemExit: w (1 thread(s)): the peers do not train the same network: jax after ...
    """
    reference = losses["glassnet"]
    wrong = [
        f"{name} {key} {values[key]:.8f} vs {reference[key]:.8f}"
        for name, values in losses.items()
        for key in ("before", "after")
        if abs(values[key] - reference[key]) > tolerance * max(1.0, abs(reference[key]))
    ]
    if wrong:
        raise SystemExit(
            f"{workload} ({threads} thread(s)): the peers do not train the same "
            "network: " + "; ".join(wrong)
        )


def check_common_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace, known: list[str]
) -> None:
    """Check --rounds, --threads and --workloads (bench_train's, and bench_conv's and
    bench_rnn's through ``peer_arguments``).

    Sets ``args.rounds`` (default 1 with --quick, else 12), ``args.thread_counts``
    and ``args.workload_names``; a bad value ends in ``parser.error``.
    """
    if args.rounds is None:
        args.rounds = 1 if args.quick else 12
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        args.thread_counts = [int(t) for t in args.threads.split(",")]
    except ValueError:
        parser.error(f"--threads must look like 1,2; received {args.threads!r}")
    if not args.thread_counts or min(args.thread_counts) < 1:
        parser.error("--threads needs positive thread counts")
    args.workload_names = args.workloads.split(",")
    if not set(args.workload_names) <= set(known) or not args.workload_names:
        parser.error(f"--workloads takes names from {','.join(known)}")


def peer_arguments(
    description: str,
    workloads: list[str],
    peers: tuple[str, ...],
    quick_help: str,
    argv: list[str] | None = None,
) -> Any:
    """The command line bench_conv.py and bench_rnn.py share: ``--rounds``,
    ``--threads``, ``--workloads`` (a subset of ``workloads``), ``--peers`` (of
    ``peers``, torch among them), ``--quick`` (``quick_help``), ``--json``, and the
    hidden ``--worker``/``--data`` of a worker process.

    >>> args = peer_arguments("d", ["C1", "C2"], ("glassnet", "torch", "jax"), "smoke",
    ...                       ["--peers", "torch,glassnet", "--threads", "1"])
    >>> args.peer_names, args.thread_counts, args.workload_names
    (('glassnet', 'torch'), [1], ['C1', 'C2'])
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds (default 12; 1 quick)"
    )
    parser.add_argument(
        "--threads", default="1,2", help="comma-separated thread counts (default 1,2)"
    )
    names = ",".join(workloads)
    parser.add_argument("--workloads", default=names, help=f"a subset of {names}")
    parser.add_argument(
        "--peers",
        default=",".join(peers),
        help=f"a subset of {','.join(peers)}; torch is always needed",
    )
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    check_common_args(parser, args, workloads)
    chosen = args.peers.split(",")
    if args.worker is None and (not set(chosen) <= set(peers) or "torch" not in chosen):
        parser.error(f"--peers takes names from {','.join(peers)}, torch among them")
    args.peer_names = tuple(name for name in peers if name in chosen)
    return args


def run_every_workload(
    args: Any, chosen: list[Any], save: Any, run: Any, prefix: str
) -> list[dict[str, Any]]:
    """``run(w, threads, rounds, path, peers, quick=)`` for every thread count and
    chosen workload, on data ``save(w, folder)`` wrote once into a temporary folder;
    the rows sorted by workload, then threads."""
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        paths = {w.name: save(w, folder) for w in chosen}
        for threads in args.thread_counts:
            for w in chosen:
                rows.append(
                    run(w, threads, args.rounds, paths[w.name], args.peer_names,
                        quick=args.quick)
                )  # fmt: skip
    names = [w.name for w in chosen]
    rows.sort(key=lambda row: (names.index(row["workload"]), row["threads"]))
    return rows


def ratio_table(
    rows: list[dict[str, Any]], others: list[str], label: Any, heading: str
) -> list[str]:
    """``heading``, then a row per workload and thread count: glassnet's samples/s
    and each of ``others``' ratio to PyTorch's (``label(name)`` names its column),
    and how many rounds were quiet. The conv and RNN drivers' first table."""
    import timed_rounds  # it imports this module

    lines = [
        heading,
        "",
        "| workload | threads | glassnet samples/s | "
        + " | ".join(f"{label(name)} / torch" for name in others)
        + " | quiet rounds |",
        "|---|---|---|" + "---|" * len(others) + "---|",
    ]
    for row in rows:
        glassnet = row["samples_per_s"].get("glassnet")
        cells = [
            row["workload"],
            str(row["threads"]),
            f"{glassnet:,.0f}" if glassnet is not None else "-",
            *(timed_rounds.ratio_text(row["ratio_vs_torch"][name]) for name in others),
            f"{row['quiet_rounds']} of {row['rounds']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


class KerasOnJaxState:
    """``sync`` and ``arrays`` of a Keras-on-JAX peer whose model is ``self.model``.

    Shared by the Keras peers of dense_jax.py, conv_jax.py and rnn_jax.py (put first
    among a peer's bases). ``arrays`` leaves out scalars (the optimizer's step count)
    and integer state (the recurrent layers' dropout seeds).
    """

    model: Any

    def sync(self) -> None:
        import jax

        jax.block_until_ready([v.value for v in self.model.variables])

    def arrays(self) -> list[Any]:
        variables = [*self.model.variables, *self.model.optimizer.variables]
        return [v.value for v in variables if len(v.shape) > 0 and "int" not in v.dtype]
