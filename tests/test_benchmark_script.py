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
from typing import Any

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
    assert args.rounds == 1 and args.thread_counts == [1, 2] and args.json is None
    assert args.workload_names == ["tiny", "small", "medium", "wide"]
    with pytest.raises(SystemExit):
        bench.parse_args(["--threads", "one"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--rounds", "0"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--workloads", "tiny,huge"])


def test_peers_are_chosen_with_glassnet_and_torch_among_them() -> None:
    bench = load_script()
    args = bench.parse_args(["--quick", "--peers", "torch,glassnet,jax"])
    assert args.peer_names == ("glassnet", "torch", "jax")  # in the table's order
    for bad in ("glassnet,jax", "glassnet,torch,tensorflow"):
        with pytest.raises(SystemExit):
            bench.parse_args(["--peers", bad])


def test_workers_run_without_the_forced_blas_kernels(monkeypatch: Any) -> None:
    load_script()
    import driver  # benchmarks/ is on sys.path once the script is loaded

    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "524288")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    torch_env = driver.worker_env("torch", 2)
    assert "OPENBLAS_CORETYPE" not in torch_env and "OPENBLAS_L2_SIZE" not in torch_env
    assert torch_env["OPENBLAS_NUM_THREADS"] == torch_env["OMP_NUM_THREADS"] == "2"
    assert "PJRT_NPROC" not in torch_env and "KERAS_BACKEND" not in torch_env
    keras_env = driver.worker_env("keras", 1)
    assert keras_env["PJRT_NPROC"] == "1" and keras_env["KERAS_BACKEND"] == "jax"
    assert keras_env["XLA_FLAGS"] == driver.ONE_XLA_THREAD
    assert "XLA_FLAGS" not in driver.worker_env("jax", 2)


def test_a_first_step_that_differs_stops_the_run() -> None:
    load_script()
    import driver

    same = {"before": 2.3, "after": 2.2}
    close = {"before": 2.3 + 1e-6, "after": 2.2 - 1e-6}
    driver.check_first_step("medium", 1, {"glassnet": same, "jax": close}, 2e-5)
    with pytest.raises(SystemExit, match="jax after"):
        driver.check_first_step(
            "medium", 1, {"glassnet": same, "jax": {"before": 2.3, "after": 2.1}}, 2e-5
        )


def test_workloads_are_the_four_of_the_issue() -> None:
    bench = load_script()
    workloads = {w.name: w for w in bench.make_workloads(quick=False)}
    assert workloads["medium"].units == [784, 256, 128, 10]
    assert workloads["medium"].samples == 60_000
    assert workloads["wide"].units == [784, 1024, 1024, 10]
    assert (workloads["wide"].batch_size, workloads["wide"].samples) == (256, 20_000)
    # Slice chunks cycle through the data set and stay inside it.
    medium = workloads["medium"]
    for k in range(30):
        start, stop, epochs = medium.chunk(k)
        assert 0 <= start < stop <= medium.samples and epochs == 1
        assert stop - start == medium.chunk_samples


def test_mnist_like_data_is_seeded_float32_in_the_unit_interval() -> None:
    load_script()
    import dense_workloads  # benchmarks/ is on sys.path once the script is loaded

    x, y = dense_workloads.mnist_like(300)
    again, _ = dense_workloads.mnist_like(300)
    assert x.dtype.name == "float32" and x.shape == (300, 784)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(y.tolist()) <= set(range(10))
    assert (x == again).all()


def test_a_quick_run_writes_the_tables_and_the_json(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("threadpoolctl")
    out = tmp_path / "results.json"
    arguments = ["--quick", "--threads", "1", "--workloads", "tiny,medium"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments, "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "glassnet / torch fused" in done.stdout
    report = json.loads(out.read_text())
    assert "CPUs" in report["machine"] and "BLAS in the workers" in report["machine"]
    assert set(report["import_seconds"]) >= {"import glassnet"}
    rows = {(row["workload"], row["threads"]): row for row in report["results"]}
    assert set(rows) == {("tiny", 1), ("medium", 1)}
    peers = {"glassnet", "glassnet_numpy", "torch", "torch_fused", "sklearn", "numpy"}
    peers.add("floor")
    for row in rows.values():
        # jax and keras too where the bench extra is installed
        assert peers <= set(row["samples_per_s"]) <= peers | {"jax", "keras"}
        assert set(row["cpu_per_wall"]) == set(row["samples_per_s"])
        assert all(share > 0 for share in row["cpu_per_wall"].values())
        assert any("openblas" in b for b in row["blas"]["glassnet"])
        # every peer took the same first step: the driver checked the losses
        first = row["first_step"]
        assert first["torch"]["before"] == pytest.approx(first["glassnet"]["before"])
        assert all(rate > 0 for rate in row["samples_per_s"].values())
        for ratio in [*row["ratio_vs_torch"].values(), *row["share_of_floor"].values()]:
            assert ratio["min"] <= ratio["median"] <= ratio["max"]
        assert all(mb > 0 for mb in row["memory_mb"].values())
        for latency in row["latency"].values():
            assert all(s > 0 for s in latency["seconds"].values())
        # Every peer trained the same network from the same weights: all learn.
        assert all(math.isfinite(loss) for loss in row["final_loss"].values())
        assert all(0.0 <= acc <= 1.0 for acc in row["accuracy"].values())
