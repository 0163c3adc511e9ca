"""What the cluster tests share (this module holds no tests of its own).

- :func:`missing_engine`: skip without Ray or Spark, except under CI, which fails;
- :func:`deadline`: every cluster test, and every cluster start, runs under a time
  limit, so a misconfigured cluster fails the test instead of hanging the suite
  (SIGALRM raises ``TimeoutError`` in the test's thread; Dask's and Ray's waits
  are interruptible);
- :func:`start_dask_processes`: the multi-node deployment shape on one machine, a
  ``dask scheduler`` and two ``dask worker`` processes started separately, every
  socket on 127.0.0.1 (``--dashboard-address 127.0.0.1:0`` on each: without a
  dashboard they still open a health server on all interfaces);
- :func:`check_every_listener_on_loopback`: every socket a scheduler, nanny or
  worker listens on is on 127.0.0.1; :func:`check_process_tree_listens_on_loopback`
  the same for every process a test started (Ray, Spark);
- the data the tests train on, made the same way everywhere.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

#: the LocalCluster of the acceptance tests (issue 16)
LOCAL_CLUSTER = {
    "n_workers": 2,
    "threads_per_worker": 1,
    "host": "127.0.0.1",
    "dashboard_address": None,
    "memory_limit": "1GiB",
}


def missing_engine(reason: str) -> None:
    """Skip (a developer machine) or fail (CI, set by .ci/run) when a cluster engine
    the tests need is not installed: CI installs Ray, PySpark and Java, so there a
    missing one is a broken set-up, not a reason to test less."""
    ci = os.environ.get("CI", "")
    if ci and ci.lower() not in ("0", "false", "no"):
        pytest.fail(f"CI must run the cluster tests, but {reason}")
    pytest.skip(reason, allow_module_level=True)


@contextlib.contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise ``TimeoutError`` in this thread if the block runs past ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(
            f"{what} took more than {seconds:g} s: is the cluster reachable and "
            "does every worker have glassnet installed?"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


#: how the loopback address shows in a listening socket (IPv4, or IPv4 on an IPv6 socket)
LOOPBACK = ("127.0.0.1", "::ffff:127.0.0.1")


def listening_addresses(pid: int | None = None) -> list[str]:
    """The addresses a process (this one by default) listens on, as "ip:port"."""
    import psutil  # a dependency of distributed

    return sorted(
        f"{c.laddr.ip}:{c.laddr.port}"
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    )


def _beyond_loopback(listens: list[str]) -> list[str]:
    return [a for a in listens if a.rsplit(":", 1)[0] not in LOOPBACK]


def check_every_listener_on_loopback(client: Any) -> dict[str, list[str]]:
    """Every socket the scheduler, the nannies and the workers listen on is on
    127.0.0.1 (a dashboard or health server on all interfaces would show here)."""
    found = {"scheduler": client.run_on_scheduler(listening_addresses)}
    for role, nanny in (("worker", False), ("nanny", True)):
        for address, listens in client.run(listening_addresses, nanny=nanny).items():
            found[f"{role} {address}"] = listens
    for role, listens in found.items():
        assert listens, f"the {role} listens on nothing: is this the right process?"
        outside = _beyond_loopback(listens)
        assert not outside, f"the {role} process listens beyond the loopback: {outside}"
    return found


def check_process_tree_listens_on_loopback() -> dict[str, list[str]]:
    """Every socket this process and the processes it started (Ray's GCS, raylet
    and workers; Spark's JVM and Python daemons) listen on is on 127.0.0.1."""
    import psutil

    found = {}
    for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            listens = listening_addresses(process.pid)
            name = process.name()
        except psutil.Error:  # ended meanwhile
            continue
        if listens:
            found[f"{process.pid} {name}"] = listens
    assert found, "no process of this test listens on anything"
    outside = {who: _beyond_loopback(ls) for who, ls in found.items()}
    assert not any(outside.values()), f"listening beyond the loopback: {outside}"
    return found


def classification_data(n: int = 2000, features: int = 8, seed: int = 0):
    """Standardized features and three classes that depend on two of them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.8)
    return x, y


def regression_data(n: int = 2000, features: int = 8, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    return x, np.tanh(x @ rng.normal(size=features)) + 0.05 * rng.normal(size=n)


def _dask_command(program: str, *args: str) -> list[str]:
    # the same interpreter as the tests: the same glassnet on every process
    return [sys.executable, "-m", f"distributed.cli.{program}", *args]


@contextlib.contextmanager
def start_dask_processes(
    folder: Path, workers: int = 2, timeout: float = 90.0
) -> Iterator[str]:
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes on 127.0.0.1;
    yields the scheduler file's path. Each process logs to ``folder``."""
    scheduler_file = folder / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    loopback = ("--dashboard-address", "127.0.0.1:0")
    processes = []
    try:
        with deadline(timeout, "starting a dask scheduler and its workers"):
            processes.append(
                subprocess.Popen(
                    _dask_command(
                        "dask_scheduler",
                        *("--host", "127.0.0.1", "--port", "0", *loopback),
                        *("--scheduler-file", str(scheduler_file)),
                    ),
                    stdout=subprocess.DEVNULL,
                    stderr=(folder / "scheduler.log").open("w"),
                    env=env,
                )
            )
            while not scheduler_file.exists():
                if processes[0].poll() is not None:
                    raise RuntimeError(
                        "dask scheduler exited: "
                        + (folder / "scheduler.log").read_text()[-2000:]
                    )
                time.sleep(0.1)
            for index in range(workers):
                processes.append(
                    subprocess.Popen(
                        _dask_command(
                            "dask_worker",
                            *("--scheduler-file", str(scheduler_file)),
                            *("--host", "127.0.0.1", *loopback),
                            *("--nthreads", "1", "--memory-limit", "1GiB"),
                            *("--local-directory", str(folder)),
                            *("--name", f"worker-{index}"),
                        ),
                        stdout=subprocess.DEVNULL,
                        stderr=(folder / f"worker-{index}.log").open("w"),
                        env=env,
                    )
                )
        yield str(scheduler_file)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
