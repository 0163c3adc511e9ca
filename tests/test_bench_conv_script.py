"""benchmarks/bench_conv.py runs end to end, and its peers train the same network.

Only the shape of the report and the agreement of the peers are checked, never a
timing: speed is measured by running the benchmark, not asserted in unit tests.
The JAX and Keras peers are left out here (CI installs no JAX).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

FOLDER = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPT = FOLDER / "bench_conv.py"


def load(name: str) -> ModuleType:
    """A module of benchmarks/ (they import each other by their plain names)."""
    if str(FOLDER) not in sys.path:
        sys.path.insert(0, str(FOLDER))
    return importlib.import_module(name)


def test_arguments_are_parsed_and_checked() -> None:
    bench = load("bench_conv")
    args = bench.parse_args(["--quick", "--threads", "1,2", "--peers", "numpy,torch"])
    assert args.rounds == 1 and args.thread_counts == [1, 2] and args.json is None
    assert args.workload_names == ["C1", "C2"]
    assert args.peer_names == ("torch", "numpy")  # in the table's order
    assert bench.parse_args([]).peer_names == bench.PEERS
    for bad in (
        ["--threads", "one"],
        ["--rounds", "0"],
        ["--workloads", "C1,C3"],
        ["--peers", "glassnet,numpy"],  # the ratios need torch
        ["--peers", "torch,tensorflow"],
    ):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_workloads_are_the_two_networks_of_the_issue() -> None:
    workloads = load("conv_workloads")
    c1, c2 = workloads.make_workloads(quick=False)
    shapes = [out for _, _, out in workloads.layer_shapes(c1)]
    assert shapes == [(8, 8, 8), (4, 4, 8), (4, 4, 16), (2, 2, 16), (64,), (10,)]
    assert (c1.batch_size, c1.learning_rate, c1.momentum) == (32, 0.01, 0.9)
    shapes = [out for _, _, out in workloads.layer_shapes(c2)]  # LeNet-5
    assert shapes == [
        (28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (400,), (120,), (84,), (10,)
    ]  # fmt: skip
    assert c2.batch_size == 64 and c2.samples % 64 == 0 and c1.samples % 32 == 0
    kernels = [w.shape for w in workloads.initial_weights(c2)[::2]]
    assert kernels == [(5, 5, 1, 6), (5, 5, 6, 16), (400, 120), (120, 84), (84, 10)]


def test_data_and_batch_order_are_seeded_and_the_same_everywhere() -> None:
    pytest.importorskip("sklearn")
    workloads = load("conv_workloads")
    c1, c2 = workloads.make_workloads(quick=False)
    x, y = workloads.make_data(c2)
    assert x.shape == (1792, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and set(y.tolist()) == set(range(10))
    assert not x[:, :2].any() and not x[:, :, -2:].any()  # the 2-pixel frame
    small, _ = workloads.make_data(c1)
    assert small.shape == (1792, 8, 8, 1)
    order = c1.chunk_order(3)
    assert (order == c1.chunk_order(3)).all() and not (order == c1.chunk_order(4)).all()
    epochs = order.reshape(c1.epochs_per_chunk, c1.samples)
    assert all(sorted(epoch) == list(range(c1.samples)) for epoch in epochs)


def test_the_numpy_yardstick_and_torch_take_the_same_steps() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    workloads, peers = load("conv_workloads"), load("conv_peers")
    for w in workloads.make_workloads(quick=True):
        x, y = workloads.make_data(w)
        weights = workloads.initial_weights(w)
        reference = peers.NumpyPeer(w, weights)
        torch_peers = [
            peers.TorchPeer(w, weights, channels_last=cl, fused=False)
            for cl in (False, True)
        ]
        order = w.chunk_order(1)[: 4 * w.batch_size]
        for peer in (reference, *torch_peers):
            peer.train(peer.prepare(x).take(order, axis=0), y.take(order))
        expected = reference.predictions(x)
        for peer in torch_peers:
            np.testing.assert_allclose(peer.predictions(x), expected, atol=1e-5)
        for index, spec in enumerate(w.layers):
            if spec[0] not in ("conv", "pool"):
                continue
            dx = reference.layer_call(index)()
            for peer in torch_peers:
                grad = peer.layer_call(index)()
                if index == 0:  # the first layer computes no input gradient
                    assert dx is None and grad is None
                else:
                    grad = grad.permute(0, 2, 3, 1).numpy()
                    np.testing.assert_allclose(grad, dx, atol=1e-5)


def test_a_quick_run_writes_the_tables_and_the_json(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("threadpoolctl")
    out = tmp_path / "results.json"
    arguments = ["--quick", "--threads", "1", "--peers", "glassnet,torch,numpy"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments, "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "glassnet / torch" in done.stdout and "conv2d+relu" in done.stdout
    report = json.loads(out.read_text())
    assert "CPUs" in report["machine"]
    assert report["peers"] == ["glassnet", "torch", "numpy"]
    rows = {(row["workload"], row["threads"]): row for row in report["results"]}
    assert set(rows) == {("C1", 1), ("C2", 1)}
    peers = {"glassnet", "torch", "numpy"}
    for row in rows.values():
        assert set(row["samples_per_s"]) == peers
        assert all(rate > 0 for rate in row["samples_per_s"].values())
        assert all(share > 0 for share in row["cpu_per_wall"].values())
        assert set(row["ratio_vs_torch"]) == {"glassnet", "numpy"}
        for ratio in row["ratio_vs_torch"].values():
            assert ratio["min"] <= ratio["median"] <= ratio["max"]
        assert any("openblas" in kernel.lower() for kernel in row["blas"]["numpy"])
        # Same weights, data, batches and optimizer: the peers took the same steps.
        losses = list(row["final_loss"].values())
        assert max(losses) - min(losses) < 1e-4, row["final_loss"]
        kinds = [layer["kind"] for layer in row["layers"]]
        assert kinds == ["conv2d+relu", "maxpool2d"] * 2
        for layer in row["layers"]:
            assert set(layer["seconds"]) == peers
            assert all(s > 0 for s in layer["seconds"].values())
