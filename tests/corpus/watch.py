"""Watching one load of a hostile file: code run, files touched, memory, time.

Shared by ``tests/test_malicious_corpus.py`` and ``tests/test_fuzz_model_files.py``
(each loads this file by path). :func:`watched` measures one load: the audit
events it raised (:func:`forbidden` picks those that show code running or files
touched), the peak resident memory above its start (Linux: the kernel's
high-water mark, reset before the load; elsewhere ``tracemalloc``), and its
CPU time, with an alarm (``ITIMER_PROF``) that interrupts a load past
``time_limit`` seconds of it: the work a file costs, which other jobs on a busy
machine do not inflate as they inflate the wall clock.
:func:`snapshot` is everything a refused load must leave unchanged in a model.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

#: Audit events no loader may raise: running code, processes, network, file changes.
FORBIDDEN_EVENTS = {
    "exec", "compile", "marshal.load", "marshal.loads", "pickle.find_class",
    "code.__new__", "function.__new__", "builtins.input", "os.system",
    "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
    "os.forkpty", "os.startfile", "ctypes.dlopen", "ctypes.dlsym",
    "socket.connect", "socket.getaddrinfo", "urllib.Request", "os.remove",
    "os.rename", "os.symlink", "os.link", "os.chmod", "os.truncate",
    "shutil.rmtree", "shutil.copyfile", "webbrowser.open",
}  # fmt: skip
ALLOWED_IMPORTS = {"glassnet", "numpy", "h5py", "safetensors"}


class Audit:
    """Records audit events while ``active`` (the hook itself cannot be removed)."""

    active = False
    events: list[tuple[str, tuple[Any, ...]]] = []  # noqa: RUF012

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if cls.active and event not in ("builtins.id", "object.__getattr__"):
            cls.events.append((event, args))


class LoadTimeout(BaseException):
    """Raised by the alarm; a BaseException, so no loader's except clause catches it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise LoadTimeout("the load took more than its time limit (CPU seconds)")


def _ignore_timeouts(hook: Any) -> Any:
    def unraisable(info: Any) -> None:
        if not isinstance(info.exc_value, LoadTimeout):
            hook(info)

    return unraisable


def _proc_status(key: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's resident-memory high-water mark (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return _proc_status("VmHWM") is not None


def _trim_heap() -> None:
    """Hand freed heap pages back to the kernel, so the next peak starts from zero."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


try:
    _LIBC: Any = ctypes.CDLL("libc.so.6")
    _LIBC.malloc_trim  # noqa: B018 - glibc only
except (OSError, AttributeError):
    _LIBC = None

#: On Linux the kernel reports (and resets) the peak resident memory of the process;
#: elsewhere the test falls back on tracemalloc, which sees Python's allocations only.
MEASURE_RSS = _reset_peak_rss()


class Watch:
    """What happened during one load: memory, time, audit events."""

    def __init__(self) -> None:
        self.python_peak = 0
        self.rss_peak: int | None = None
        self.seconds = 0.0
        self.events: list[tuple[str, tuple[Any, ...]]] = []


@contextmanager
def watched(time_limit: float) -> Iterator[Watch]:
    watch = Watch()
    _trim_heap()
    rss_before = _proc_status("VmRSS") if MEASURE_RSS and _reset_peak_rss() else None
    alarm = hasattr(signal, "setitimer") and (
        threading.current_thread() is threading.main_thread()
    )
    if alarm:
        # CPU time, the process's own (ITIMER_PROF): the work a file costs, which
        # other jobs on a busy machine do not inflate as they do the wall clock
        previous = signal.signal(signal.SIGPROF, _on_alarm)
        # then every 50 ms: an exception raised inside a weakref callback or a
        # destructor is swallowed (sys.unraisablehook), so the alarm repeats
        signal.setitimer(signal.ITIMER_PROF, time_limit, 0.05)
        unraisable = sys.unraisablehook
        sys.unraisablehook = _ignore_timeouts(unraisable)
    if rss_before is None:
        tracemalloc.start()
    Audit.events = []
    Audit.active = True
    start = time.process_time()
    try:
        yield watch
    finally:
        watch.seconds = time.process_time() - start
        Audit.active = False
        watch.events = Audit.events
        if tracemalloc.is_tracing():
            watch.python_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if alarm:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)
            sys.unraisablehook = unraisable
        peak = _proc_status("VmHWM")
        if rss_before is not None and peak is not None:
            watch.rss_peak = peak - rss_before


def forbidden(events: list[tuple[str, tuple[Any, ...]]], path: Path) -> list[str]:
    """The audit events that show code running or files touched beyond ``path``."""
    found = []
    for event, args in events:
        if event in FORBIDDEN_EVENTS:
            found.append(f"{event}{str(args)[:120]}")
        elif event == "import":
            top = str(args[0]).partition(".")[0]
            if top not in sys.stdlib_module_names and top not in ALLOWED_IMPORTS:
                found.append(f"import {args[0]}")
        elif event == "open":
            target, mode = args[0], args[1]
            if (
                not isinstance(target, (str, bytes, os.PathLike))
                or Path(os.fsdecode(target)).resolve() != path.resolve()
            ):
                found.append(f"open {str(target)[:120]}")
            elif mode is not None and any(c in str(mode) for c in "wax+"):
                found.append(f"open {target} for writing")
    return found


def snapshot(model: Any) -> list[bytes]:
    """Everything a failed load must leave alone, as bytes."""
    optimizer = model.optimizer
    state = [
        f"{name}.{slot}".encode() + np.ascontiguousarray(value).tobytes()
        for name, slots in sorted(optimizer.state.items())
        for slot, value in sorted(slots.items())
    ]
    rng = repr(model.rng.bit_generator.state).encode()
    weights = [np.ascontiguousarray(w).tobytes() for w in model.get_weights()]
    return [*weights, *state, str(optimizer.iterations).encode(), rng]


def install_audit_hook() -> None:
    """Install the recording hook once per process (a hook cannot be removed)."""
    if not getattr(Audit, "installed", False):
        sys.addaudithook(Audit.hook)
        Audit.installed = True  # type: ignore[attr-defined]
