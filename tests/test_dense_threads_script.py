"""benchmarks/dense_threads.py runs end to end and names each product it times.

Only the report's shape and its multiply-add counts are checked, never a timing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_script_times_every_product_of_the_small_step() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "dense_threads.py"), "--workloads", "small",
         "--rounds", "1", "--steps", "1", "--budget", "0"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0].startswith("BLAS: ") and "started at 2 threads" in lines[0]
    rows = {line.split()[0]: line.split() for line in lines if line.startswith("  ")}
    # 64-128-64-10 at batch 32: x @ W, x.T @ dz and (above the first layer) dz @ W.T
    madds = {"0": 32 * 64 * 128, "1": 32 * 128 * 64, "2": 32 * 64 * 10}
    expected = ["fwd0", "dW0", "fwd1", "dW1", "dx1", "fwd2", "dW2", "dx2"]
    assert [name for name in rows if name[-1].isdigit()] == expected
    for name in expected:
        cells = rows[name]
        assert int(cells[-4].replace(",", "")) == madds[name[-1]]
        assert float(cells[-3]) > 0 and float(cells[-2]) > 0 and float(cells[-1]) > 0
    for part in ("step", "gradients", "update", "floor"):
        assert len(rows[part]) == 4 and all(float(v) > 0 for v in rows[part][1:])
    assert sum("step - floor - update" in line for line in lines) == 2
