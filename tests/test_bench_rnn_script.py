"""benchmarks/bench_rnn.py runs end to end, and its peers train the same network.

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
SCRIPT = FOLDER / "bench_rnn.py"


def load(name: str) -> ModuleType:
    """A module of benchmarks/ (they import each other by their plain names)."""
    if str(FOLDER) not in sys.path:
        sys.path.insert(0, str(FOLDER))
    return importlib.import_module(name)


def test_arguments_are_parsed_and_checked() -> None:
    bench = load("bench_rnn")
    args = bench.parse_args(
        ["--quick", "--threads", "1,2", "--peers", "torch,glassnet"]
    )
    assert args.rounds == 1 and args.thread_counts == [1, 2] and args.json is None
    assert args.workload_names == ["R1", "R2", "R3"]
    assert args.peer_names == ("glassnet", "torch")  # in the table's order
    assert bench.parse_args([]).peer_names == bench.PEERS
    for bad in (
        ["--threads", "one"],
        ["--rounds", "0"],
        ["--workloads", "R1,R4"],
        ["--peers", "glassnet,jax"],  # the ratios need torch
        ["--peers", "torch,tensorflow"],
    ):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_workloads_are_the_three_networks_of_the_issue() -> None:
    workloads = load("rnn_workloads")
    r1, r2, r3 = workloads.make_workloads(quick=False)
    assert (r1.cell, r1.units, r1.steps, r1.features, r1.classes) == (
        "lstm", 64, 50, 16, 10
    )  # fmt: skip
    assert (r2.cell, r2.units) == ("gru", 64) and r2.samples == r1.samples == 2048
    assert (r3.cell, r3.units, r3.steps) == ("lstm", 128, 64)
    assert r3.vocab == r3.classes == len(workloads.vocabulary()) > 60
    for w in (r1, r2, r3):
        assert (w.batch_size, w.momentum) == (32, 0.9) and w.samples % 32 == 0
    shapes = [a.shape for a in workloads.initial_weights(r2)]
    assert shapes == [(16, 192), (64, 192), (2, 192), (64, 10), (10,)]
    shapes = [a.shape for a in workloads.initial_weights(r3)]
    v = r3.vocab
    assert shapes == [(v, 32), (32, 512), (128, 512), (512,), (128, v), (v,)]


def test_data_is_seeded_and_the_text_is_cpythons_help() -> None:
    workloads = load("rnn_workloads")
    r1, _, r3 = workloads.make_workloads(quick=False)
    x, y = workloads.make_data(r1)
    assert x.shape == (2048, 50, 16) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [2048 // 10 + (k < 8) for k in range(10)]
    again, _ = workloads.make_data(r1)
    assert (x == again).all()
    ids, targets = workloads.make_data(r3)
    assert ids.shape == targets.shape == (1024, 64) and ids.dtype == np.int64
    assert (ids[:, 1:] == targets[:, :-1]).all()  # the next character
    text = "".join(workloads.vocabulary()[i] for i in ids[0])
    assert text == workloads.corpus()[:64]
    order = r1.chunk_order(3)
    assert sorted(order) == list(range(2048)) and not (order == r1.chunk_order(4)).all()


def test_torch_takes_the_same_steps_as_glassnet() -> None:
    """R3 here (Embedding, a per-step output, the layer's input gradient); the
    quick run below checks every workload's first step and final loss."""
    pytest.importorskip("torch")
    workloads, peers = load("rnn_workloads"), load("rnn_peers")
    w = workloads.make_workloads(quick=True)[2]
    x, y = workloads.make_data(w)
    weights = workloads.initial_weights(w)
    glassnet, torch = peers.GlassnetPeer(w, weights), peers.TorchPeer(w, weights)
    rows = w.chunk_order(0)[: w.batch_size]
    first = [p.first_step(x[rows], y[rows]) for p in (glassnet, torch)]
    assert abs(first[0] - first[1]) < 1e-5, first
    order = w.chunk_order(1)[: 3 * w.batch_size]
    for peer in (glassnet, torch):
        peer.train(x[order], y[order])
    np.testing.assert_allclose(torch.predictions(x), glassnet.predictions(x), atol=1e-5)
    # the recurrent layer alone, as timed: the same input gradient
    dx, torch_dx = glassnet.layer_call()(), torch.layer_call()()
    np.testing.assert_allclose(torch_dx.numpy(), dx, atol=1e-5)


def test_the_gru_weights_reach_torch_in_its_gate_order() -> None:
    pytest.importorskip("torch")
    workloads, peers = load("rnn_workloads"), load("rnn_peers")
    w = workloads.make_workloads(quick=True)[1]
    weights = workloads.initial_weights(w)
    weights[2] = np.random.default_rng(0).random(weights[2].shape, np.float32)
    rnn = peers.torch_network(w, weights).rnn
    for keras, torch in (
        (weights[0], rnn.weight_ih_l0.T),
        (weights[1], rnn.weight_hh_l0.T),
        (weights[2][0], rnn.bias_ih_l0),
        (weights[2][1], rnn.bias_hh_l0),
    ):
        z, r, h = np.split(keras, 3, axis=-1)  # Keras' blocks z, r, h
        expected = np.concatenate([r, z, h], axis=-1)  # torch's r, z, n
        assert (torch.detach().numpy() == expected).all()


def test_a_quick_run_writes_the_tables_and_the_json(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("threadpoolctl")
    out = tmp_path / "results.json"
    arguments = ["--quick", "--threads", "1", "--peers", "glassnet,torch"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments, "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "glassnet / torch" in done.stdout and "first-step loss" in done.stdout
    assert "by CPU time" in done.stdout
    report = json.loads(out.read_text())
    assert "CPUs" in report["machine"] and report["peers"] == ["glassnet", "torch"]
    rows = {(row["workload"], row["threads"]): row for row in report["results"]}
    assert set(rows) == {("R1", 1), ("R2", 1), ("R3", 1)}
    peers = {"glassnet", "torch"}
    for row in rows.values():
        assert set(row["samples_per_s"]) == peers
        assert all(rate > 0 for rate in row["samples_per_s"].values())
        assert all(share > 0 for share in row["cpu_per_wall"].values())
        for ratios in (row["ratio_vs_torch"], row["cpu_ratio_vs_torch"]):
            assert ratios["glassnet"]["min"] <= ratios["glassnet"]["median"]
            assert ratios["glassnet"]["median"] <= ratios["glassnet"]["max"]
        assert any("openblas" in kernel.lower() for kernel in row["blas"]["glassnet"])
        # checked by the script before timing, and still true after the run
        first = row["first_step"]
        assert abs(first["glassnet"]["loss"] - first["torch"]["loss"]) < 1e-5
        losses = list(row["final_loss"].values())
        assert max(losses) - min(losses) < 1e-4, row["final_loss"]
        assert set(row["layer"]["seconds"]) == peers


def test_a_peer_computing_another_loss_stops_the_run() -> None:
    bench = load("bench_rnn")
    (r1, *_) = load("rnn_workloads").make_workloads(quick=True)
    same = {"loss": 2.302585, "loss_after": 2.3}
    bench.check_first_step(r1, 1, {"glassnet": same, "torch": dict(same)})
    off = {"loss": 2.302585, "loss_after": 2.3001}  # a wrong gradient or update
    with pytest.raises(SystemExit, match="torch loss_after"):
        bench.check_first_step(r1, 1, {"glassnet": same, "torch": off})
