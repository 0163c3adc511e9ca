"""benchmarks/bench_train.py runs end to end and reports what it promises.

Only the shape of the report is checked, never a timing: speed is measured by
``make bench``, not asserted in unit tests.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_train.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_train", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_train"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_arguments_are_parsed_and_checked() -> None:
    bench = load_script()
    args = bench.parse_args(["--quick", "--threads", "1,2"])
    assert args.rounds == 3 and args.thread_counts == [1, 2] and args.json is None
    with pytest.raises(SystemExit):
        bench.parse_args(["--threads", "one"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--rounds", "0"])


def test_a_quick_run_writes_the_table_and_the_json(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    out = tmp_path / "results.json"
    arguments = ["--quick", "--rounds", "1", "--threads", "1", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "glassnet/torch" in done.stdout
    report = json.loads(out.read_text())
    rows = {(row["workload"], row["threads"]): row for row in report["results"]}
    assert set(rows) == {("tiny", 1), ("small", 1)}
    for row in rows.values():
        assert set(row["samples_per_s"]) == {"glassnet", "torch", "numpy"}
        assert all(rate > 0 for rate in row["samples_per_s"].values())
        for ratio in row["ratio_vs_torch"].values():
            assert ratio["min"] <= ratio["median"] <= ratio["max"]
        # Every peer trained the same network from the same weights: all learn.
        assert all(math.isfinite(loss) for loss in row["final_loss"].values())
