"""What bench_train.py prints: its tables and the machine line.

``format_tables`` turns the driver's rows into the Markdown tables; ``versions``
and ``machine_line`` say what ran them (bench_conv.py shares ``cpu_name``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import subprocess
import sys
from typing import Any

import driver
from timed_rounds import ratio_text

LABEL = {
    "glassnet_numpy": "glassnet, NumPy only",
    "torch_fused": "torch fused",
    "jax": "jax jit",
    "keras": "keras (jax)",
}


def label(name: str) -> str:
    return LABEL.get(name, name)


def row0_cpu(rows: list[dict[str, Any]]) -> list[str]:
    """The peers of the by-CPU-time table."""
    return list(rows[0]["glassnet_vs_by_cpu"])


def format_tables(rows: list[dict[str, Any]], imports: dict[str, float]) -> str:
    peers = list(rows[0]["samples_per_s"])
    others = list(rows[0]["glassnet_vs"])
    floor = "floor" in peers
    lines = [
        "Training speed: median over rounds of each round's ratio (min-max in "
        "brackets); > 1x means glassnet is faster",
        "",
        "| workload | threads | glassnet samples/s | "
        + " | ".join(f"glassnet / {label(name)}" for name in others)
        + (" | glassnet / matmul floor" if floor else "")
        + " | quiet rounds |",
        "|---|---|---|" + "---|" * (len(others) + floor) + "---|",
    ]
    for row in rows:
        cells = [
            row["workload"],
            str(row["threads"]),
            f"{row['samples_per_s']['glassnet']:,.0f}",
            *(ratio_text(row["glassnet_vs"][name]) for name in others),
            *([f"{row['share_of_floor']['glassnet']['median']:.0%}"] if floor else []),
            f"{row['quiet_rounds']} of {row['rounds']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "The same ratios by CPU time (samples per CPU-second of each process, all "
        "its threads): at one thread, what each peer computes per second of CPU it "
        "got, less disturbed by other programs than wall time",
        "",
        "| workload | threads | "
        + " | ".join(f"glassnet / {label(name)}" for name in row0_cpu(rows))
        + " |",
        "|---|---|" + "---|" * len(row0_cpu(rows)),
    ]
    for row in rows:
        by_cpu = row["glassnet_vs_by_cpu"]
        lines.append(
            f"| {row['workload']} | {row['threads']} | "
            + " | ".join(ratio_text(by_cpu[name]) for name in row0_cpu(rows))
            + " |"
        )
    lines += [
        "",
        "Every peer: samples/s (median), speed relative to PyTorch's default, "
        "CPU-seconds per wall-second of its chunks (all its threads), peak memory of "
        "its process (MB), and its final training loss and accuracy",
        "",
        "| workload | threads | peer | samples/s | / torch | CPU/wall | peak MB "
        "| loss | accuracy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for name in peers:
            vs = row["ratio_vs_torch"].get(name)
            trained = name in row["final_loss"]
            lines.append(
                f"| {row['workload']} | {row['threads']} | {label(name)} | "
                f"{row['samples_per_s'][name]:,.0f} | "
                f"{ratio_text(vs) if vs else '-'} | {row['cpu_per_wall'][name]:.2f} | "
                f"{row['memory_mb'][name]:,.0f} | "
                + (
                    f"{row['final_loss'][name]:.4f} | {row['accuracy'][name]:.1%} |"
                    if trained
                    else "- | - |"
                )
            )
    checked = [n for n in peers if any(n in row["first_step"] for row in rows)]
    lines += [
        "",
        "First step on the same batch: the loss before and after it (each peer; "
        "checked against glassnet's)",
        "",
        "| workload | threads | " + " | ".join(label(name) for name in checked) + " |",
        "|---|---|" + "---|" * len(checked),
    ]
    for row in rows:
        first = row["first_step"]
        cells = [
            f"{first[n]['before']:.6f} -> {first[n]['after']:.6f}"
            if n in first
            else "-"
            for n in checked
        ]
        lines.append(
            f"| {row['workload']} | {row['threads']} | " + " | ".join(cells) + " |"
        )
    if any(row["latency"] for row in rows):
        lines += [
            "",
            "predict latency in microseconds (medians) and the median per-round "
            "ratio to a hand-written NumPy forward pass",
            "",
            "| workload | threads | samples | glassnet | numpy forward | torch "
            "| glassnet / numpy | torch / numpy |",
            "|---|---|---|---|---|---|---|---|",
        ]
    for row in rows:
        for samples, lat in row["latency"].items():
            s, vs = lat["seconds"], lat["vs_numpy"]
            lines.append(
                f"| {row['workload']} | {row['threads']} | {samples} | "
                f"{s['glassnet'] * 1e6:,.1f} | {s['numpy'] * 1e6:,.1f} | "
                f"{s['torch'] * 1e6:,.1f} | {ratio_text(vs['glassnet'])} | "
                f"{ratio_text(vs['torch'])} |"
            )
    if imports:
        lines += ["", "Import time, fresh interpreter, median (seconds): " + ", ".join(
            f"{label} {seconds:.3f}" for label, seconds in imports.items()
        )]  # fmt: skip
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


def versions(peers: tuple[str, ...]) -> dict[str, str]:
    """Library versions; torch, JAX and Keras read in a peer's own environment."""
    import numpy
    import sklearn

    v = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "sklearn": sklearn.__version__,
    }
    if importlib.util.find_spec("numba") is not None:  # glassnet's fused updates
        v["numba"] = importlib.metadata.version("numba")
    for key, module in (("torch", "torch"), ("jax", "jax"), ("keras", "keras")):
        if any(name.startswith(key) for name in peers):
            done = subprocess.run(
                [sys.executable, "-c", f"import {module}; print({module}.__version__)"],
                capture_output=True, text=True, check=True,
                env=driver.worker_env(key, 1),
            )  # fmt: skip
            v[key] = done.stdout.strip()
    return v


def machine_line(v: dict[str, str], rows: list[dict[str, Any]]) -> str:
    """The CPU, the libraries, and the BLAS kernels the workers reported.

    OPENBLAS_CORETYPE overrides OpenBLAS's choice of kernels for the CPU, which can
    halve or double the speed of every matrix multiply: the workers run without it
    (driver.worker_env), and the line says when the driver's environment had it.
    """
    blas = sorted(
        {b for row in rows for kernels in row["blas"].values() for b in kernels}
    )
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return (
        f"{cpu_name()}, {os.cpu_count()} CPUs, Python {v['python']}, NumPy "
        f"{v['numpy']}; BLAS in the workers (threadpoolctl): "
        f"{', '.join(blas) or 'none reported'}"
        + (
            f" (OPENBLAS_CORETYPE={forced} here, unset in the workers)"
            if forced
            else ""
        )
        + "; "
        + ", ".join(
            f"{k} {v[k]}"
            for k in ("numba", "torch", "jax", "keras", "sklearn")
            if k in v
        )
    )
