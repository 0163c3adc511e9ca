"""``glassnet train`` on a 1,000,000 x 20 CSV: loading and preparing against pandas.

Run: ``python benchmarks/bench_cli_load.py [--rows N] [--rounds R] [--csv PATH]
[--train-rows N] [--no-training]``.

The table (written once, seeded: 19 float columns and a 0/1 label, about 163 MB
for a million rows) is read by, each in its own process with
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset, as on users' machines:

- ``pandas``: ``python -c "import pandas; pandas.read_csv(PATH)"``, the whole
  process, start to exit;
- ``glassnet``: ``python -m glassnet.cli train PATH --target label``, from the start
  of the process to the line that names the task it will train (``Task ...``),
  when it is stopped; and the time to its first line of output of any kind.

Each peer's time is the median of ``--rounds`` runs, its memory the largest peak
resident set (``wait4``'s ``ru_maxrss``) of those runs. The issue's budget: at most
1.5x pandas' time, 2x its memory, first output within 1 s.

Training throughput (rows a second over one epoch of the first ``--train-rows``
rows, standardized, row-major float32 as the CLI prepares them, a 19-32-1 network,
batches of 32, Adam) is then reported for glassnet, scikit-learn's
``MLPClassifier.partial_fit`` and Keras 3 (torch backend, if installed), each in its
own process; ``glassnet-F`` is glassnet given pandas' column-major
``DataFrame.to_numpy()`` as it is (``fit`` makes it row-major once).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import driver


def write_table(path: Path, rows: int) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    scales = np.linspace(1, 100, 19)
    with open(path, "w") as handle:
        handle.write(",".join([f"f{i}" for i in range(19)] + ["label"]) + "\n")
        for start in range(0, rows, 100_000):
            x = rng.normal(size=(min(100_000, rows - start), 19)) * scales
            y = (x[:, 0] + x[:, 1] / 10 > 0).astype(int)
            handle.write(
                "\n".join(
                    ",".join(f"{v:.6g}" for v in row) + f",{t}"
                    for row, t in zip(x, y, strict=True)
                )
                + "\n"
            )


def run(command: list[str], stop_at: str | None) -> tuple[float, float | None, float]:
    """``(seconds to stop_at or exit, seconds to the first output line, peak MB)``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=driver.source_env(),
    )
    assert process.stdout is not None
    first = None
    seconds = None
    for line in process.stdout:
        now = time.perf_counter() - start
        if first is None:
            first = now
        if stop_at is not None and line.startswith(stop_at):
            seconds = now
            process.kill()
            break
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    if seconds is None:
        seconds = time.perf_counter() - start
        if stop_at is not None or os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{command[:4]} failed or never printed {stop_at!r}")
    return seconds, first, usage.ru_maxrss / 1024


def loading(path: Path, rounds: int) -> dict[str, dict[str, float]]:
    pandas_cmd = [
        sys.executable,
        "-c",
        "import pandas, sys; pandas.read_csv(sys.argv[1])",
        str(path),
    ]
    with tempfile.TemporaryDirectory() as folder:
        glassnet_cmd = [
            sys.executable,
            "-m",
            "glassnet.cli",
            "train",
            str(path),
            "--target",
            "label",
            "--epochs",
            "1",
            "-o",
            os.path.join(folder, "m.keras"),
        ]
        results: dict[str, list[tuple[float, float | None, float]]] = {
            "pandas": [],
            "glassnet": [],
        }
        for _ in range(rounds):  # alternate, so a busy moment hits both
            results["pandas"].append(run(pandas_cmd, None))
            results["glassnet"].append(run(glassnet_cmd, "Task"))
    summary = {}
    for peer, runs in results.items():
        firsts = [r[1] for r in runs if r[1] is not None]
        summary[peer] = {
            "seconds": statistics.median(r[0] for r in runs),
            "first": statistics.median(firsts) if firsts else float("nan"),
            "peak_mb": max(r[2] for r in runs),
        }
    return summary


THROUGHPUT = textwrap.dedent(
    """
    import sys, time, warnings
    import numpy as np, pandas as pd
    peer, path, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    table = pd.read_csv(path, nrows=rows)
    y = table.pop("label").to_numpy()
    x = table.to_numpy(dtype=np.float32)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    # pandas hands back a column-major array; the CLI's inputs are row-major, and
    # "glassnet-F" is a Python user passing pandas' array to fit as it is
    assert x.flags.f_contiguous
    if peer != "glassnet-F":
        x = np.ascontiguousarray(x)
    if peer.startswith("glassnet"):
        from glassnet.layers import Dense
        from glassnet.models import Sequential
        model = Sequential([Dense(32, activation="relu", input_dim=19),
                            Dense(1, activation="sigmoid")], seed=0)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        start = time.perf_counter()
        model.fit(x, y.reshape(-1, 1).astype(np.float32), batch_size=32, epochs=1,
                  verbose=0, shuffle=True)
    elif peer == "sklearn":
        from sklearn.neural_network import MLPClassifier
        model = MLPClassifier(hidden_layer_sizes=(32,), batch_size=32, random_state=0)
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.partial_fit(x, y, classes=np.array([0, 1]))
    else:
        import os
        os.environ["KERAS_BACKEND"] = "torch"
        import keras
        model = keras.Sequential([keras.Input((19,)),
                                  keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        start = time.perf_counter()
        model.fit(x, y.astype(np.float32), batch_size=32, epochs=1, verbose=0)
    print(len(x) / (time.perf_counter() - start))
    """
)


def throughput(path: Path, rows: int) -> dict[str, float | str]:
    result: dict[str, float | str] = {}
    for peer in ("glassnet", "glassnet-F", "sklearn", "keras"):
        done = subprocess.run(
            [sys.executable, "-c", THROUGHPUT, peer, str(path), str(rows)],
            capture_output=True,
            text=True,
            env=driver.source_env(),
        )
        if done.returncode != 0:
            result[peer] = (
                "unavailable: " + (done.stderr.strip().splitlines() or ["?"])[-1]
            )
        else:
            result[peer] = float(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--csv", type=Path, help="where the table is (written if absent)"
    )
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--no-training", action="store_true")
    args = parser.parse_args(argv)
    if args.rows < 100 or args.rounds < 1 or args.train_rows < 1:
        parser.error("--rows must be 100 or more; --rounds and --train-rows positive")
    with tempfile.TemporaryDirectory() as folder:
        path = args.csv or Path(folder) / "table.csv"
        if not path.exists():
            write_table(path, args.rows)
        size = path.stat().st_size / 1e6
        print(f"table: {path.name}, {args.rows:,} rows x 20 columns, {size:.0f} MB")
        times = loading(path, args.rounds)
        p, g = times["pandas"], times["glassnet"]
        print(
            f"pandas.read_csv process:  {p['seconds']:.2f} s, peak {p['peak_mb']:.0f} MB"
        )
        print(
            f"glassnet train to 'Task': {g['seconds']:.2f} s, peak {g['peak_mb']:.0f} MB, "
            f"first output after {g['first']:.2f} s"
        )
        print(
            f"ratios: time {g['seconds'] / p['seconds']:.2f}x (budget 1.5x), memory "
            f"{g['peak_mb'] / p['peak_mb']:.2f}x (budget 2x), first output "
            f"{g['first']:.2f} s (budget 1 s)"
        )
        if not args.no_training:
            rates = throughput(path, min(args.train_rows, args.rows))
            print(
                f"training throughput, one epoch of {min(args.train_rows, args.rows):,} "
                "rows, 19-32-1, batches of 32:"
            )
            for peer, rate in rates.items():
                shown = f"{rate:,.0f} rows/s" if isinstance(rate, float) else rate
                print(f"  {peer:<10} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
