"""benchmarks/bench_callbacks.py runs end to end and its logs-only timing is honest.

Only the report's shape and the logs it times are checked, never a timing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_script_prints_one_row_per_workload() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "bench_callbacks.py"), "--quick", "--rounds", "2",
         "--workloads", "tiny,small"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| workload |")
    assert [row.split("|")[1].strip() for row in rows[1:]] == ["tiny", "small"]
    for row in rows[1:]:
        cells = [cell.strip() for cell in row.split("|")[2:-1]]
        assert int(cells[0]) > 0 and cells[-1].endswith("x")
        assert all(float(cell) > 0 for cell in [*cells[1:3], cells[4]])


def test_the_callback_sees_the_running_logs_the_benchmark_times() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import bench_callbacks as bc
    finally:
        sys.path.remove(str(BENCH))
    from glassnet.layers import Dense
    from glassnet.models import Sequential

    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    callback = bc.make_callback()
    x = np.ones((8, 2), np.float32)
    model.fit(x, np.zeros((8, 1), np.float32), batch_size=8, epochs=1, verbose=0,
              callbacks=[callback], shuffle=False)  # fmt: skip
    # one batch: the running loss after it is the epoch's loss
    assert callback.last == model.history.history["loss"][0] > 0
    assert bc.logs_only(model, x, np.zeros((8, 1), np.float32), 4, 2) > 0
