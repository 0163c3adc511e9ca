"""Where glassnet's recurrent training step spends its time (bench_rnn's workloads).

Run: ``python benchmarks/rnn_profile.py [--workloads R1,R2,R3] [--rounds 7]``.
One thread (the script re-executes itself with ``OMP/OPENBLAS/MKL_NUM_THREADS=1``
and without ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``). Every number is thread
CPU time per training step (32 sequences), so that other programs on a shared
machine slow it down less than they would wall time; each is the fastest of
interleaved bursts over ``--rounds`` rounds. Only public APIs are timed, and the
products in glassnet's feature-major form (``layers/recurrent_ops.py``), so the
breakdown stays valid while the layers' code changes:

- ``step``: ``fit`` over a few batches, per batch (what bench_rnn times), which
  includes the loss ``fit`` computes over the epoch's stored predictions at its end;
- ``layer forward`` / ``layer backward``: the recurrent layer alone on a batch of the
  workload's shape (backward with the input gradient only where the model needs it);
- ``call floor``: the same layer forward + backward with units, batch and features
  of 1 and the same number of steps: what the per-step NumPy calls and Python cost
  whatever the sizes;
- the products, each at its shape: the per-step ``U.T @ h`` (forward) and
  ``U @ dG[t]`` (backward), the input projection ``W.T @ x`` for every step, the
  weight gradients with the long side inside (``layers/recurrent_ops.py``: the
  LSTM's one product ``as_matrix(dG) @ [X; H_prev].T``, the GRU's two from its one
  ``(4U, time x batch)`` gradient block), the input gradient ``W @ dG`` (R3), and the
  ``as_matrix`` copy of the gradients they read;
- ``epoch loss``: the loss's ``per_sample`` over one chunk's predictions, per batch.

The rest of the layer's time (layer minus products, copy and call floor) is the
elementwise work: gate activations, cell and state arithmetic, their derivatives
(the products' own call overhead, about a microsecond per call, is in the floor
too, so this rest is slightly underestimated).
"""

from __future__ import annotations

import os
import sys

_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_FORCED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and (
    any(key in os.environ for key in _FORCED)
    or any(os.environ.get(key) != "1" for key in _THREADS)
):
    env = {k: v for k, v in os.environ.items() if k not in _FORCED}
    env.update({key: "1" for key in _THREADS})
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import replace  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rnn_workloads import (  # noqa: E402
    RnnWorkload,
    build_glassnet,
    make_data,
    make_workloads,
)

BURST_SECONDS = 0.05
BATCHES = 8  # per timed fit


def fastest(calls: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Seconds (thread CPU time) per call of each, the fastest burst over
    ``rounds`` interleaved rounds, the first call rotating."""
    sizes = {}
    for name, call in calls.items():
        for _ in range(2):
            call()
        began = time.thread_time()
        call()
        sizes[name] = max(1, int(BURST_SECONDS / max(time.thread_time() - began, 1e-6)))
    best = dict.fromkeys(calls, float("inf"))
    names = list(calls)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            began = time.thread_time()
            for _ in range(sizes[name]):
                calls[name]()
            best[name] = min(best[name], (time.thread_time() - began) / sizes[name])
    return best


def recurrent_layer(w: RnnWorkload, seed: int = 0) -> Any:
    """A built recurrent layer of ``w`` with its own weights (their values do not
    change the time)."""
    import numpy as np

    from glassnet.layers import GRU, LSTM

    cls = LSTM if w.cell == "lstm" else GRU
    layer = cls(w.units, return_sequences=w.per_step_targets)
    layer.build((w.steps, w.features), np.random.default_rng(seed), np.float32)
    return layer


def layer_calls(w: RnnWorkload) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """The layer's forward, and its forward + backward, on one random batch."""
    import numpy as np

    layer = recurrent_layer(w)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((w.batch_size, w.steps, w.features), dtype=np.float32)
    y = layer.forward(x, training=True)
    dy = rng.standard_normal(y.shape, dtype=np.float32)

    def both() -> Any:
        layer.forward(x, training=True)
        return layer.backward(dy, input_grad=w.per_step_targets)

    return (lambda: layer.forward(x, training=True)), both


def product_calls(w: RnnWorkload) -> dict[str, Callable[[], Any]]:
    """Every product of one forward + backward pass at its shape, and the copy."""
    import numpy as np

    rng = np.random.default_rng(2)
    u, d, n, t = w.units, w.features, w.batch_size, w.steps
    g = (4 if w.cell == "lstm" else 3) * u

    def normal(*shape: int) -> Any:
        return rng.standard_normal(shape, dtype=np.float32)

    kernel, recurrent = normal(d, g), normal(u, g)
    xs, h, dg_seq = normal(t, d, n), normal(u, n), normal(t, g, n)
    step_out, state_out = np.empty((g, n), np.float32), np.empty((u, n), np.float32)
    x_matrix, h_matrix = normal(d, t * n), normal(u, t * n)
    xh_matrix = np.concatenate([x_matrix, h_matrix])  # the LSTM's [X; H_prev]
    if w.cell == "gru":  # reset_after: one block E = [dN, dZ, dR_r, dN * r] per step
        dg_seq = normal(t, 4 * u, n)
    dg_matrix = normal(len(dg_seq[0]), t * n)

    def per_step_forward() -> None:
        for _ in range(t):
            np.matmul(recurrent.T, h, out=step_out)

    def per_step_backward() -> None:
        for step in range(1, t):
            np.matmul(recurrent, dg_seq[step][-g:], out=state_out)  # GRU: E[t][U:]

    calls = {
        "product per step, forward: U.T @ h (x steps)": per_step_forward,
        "product per step, backward: U @ dG[t] (x steps - 1)": per_step_backward,
        "product, input projection W.T @ x (all steps)": lambda: np.matmul(
            kernel.T, xs
        ),
        "products, weight gradients dW and dU": lambda: np.matmul(
            dg_matrix, xh_matrix.T
        ),
        "copy as_matrix(dG)": lambda: np.copyto(
            dg_matrix.reshape(-1, t, n), dg_seq.transpose(1, 0, 2)
        ),
    }
    if w.cell == "gru":  # dW from E's rows dX = [dN, dZ, dR_r], dU from dR = E[U:]
        calls["products, weight gradients dW and dU"] = lambda: (
            np.matmul(dg_matrix[: 3 * u], x_matrix.T),
            np.matmul(dg_matrix[u:], h_matrix.T),
        )
    if w.per_step_targets:
        calls["product, input gradient W @ dG (all steps)"] = lambda: np.matmul(
            kernel, dg_seq
        )
    return calls


def epoch_loss_call(w: RnnWorkload) -> Callable[[], Any]:
    """``fit``'s loss over one chunk of stored predictions (at an epoch's end)."""
    import numpy as np

    from glassnet.losses import SparseCategoricalCrossentropy

    rng = np.random.default_rng(3)
    shape = (w.samples, w.steps) if w.per_step_targets else (w.samples,)
    p = rng.random((*shape, w.classes), dtype=np.float32)
    p /= p.sum(axis=-1, keepdims=True)
    y = rng.integers(0, w.classes, shape)
    loss = SparseCategoricalCrossentropy()
    return lambda: loss.per_sample(y, p)


def profile(w: RnnWorkload, rounds: int) -> list[tuple[str, float]]:
    """Milliseconds per training step, by part (see the module docstring)."""
    x, y = make_data(w)
    model = build_glassnet(w)
    rows = slice(0, BATCHES * w.batch_size)
    xb, yb = x[rows], y[rows]

    def fit() -> None:
        model.fit(xb, yb, batch_size=w.batch_size, epochs=1, shuffle=False, verbose=0)

    forward, both = layer_calls(w)
    tiny = replace(w, units=1, features=1, batch_size=1)
    _, floor = layer_calls(tiny)
    calls = {"step": fit, "layer forward": forward, "layer forward + backward": both}
    calls["call floor"] = floor
    calls.update(product_calls(w))
    calls["epoch loss"] = epoch_loss_call(w)
    seconds = fastest(calls, rounds)
    ms = {name: s * 1e3 for name, s in seconds.items()}
    ms["step"] /= BATCHES
    ms["epoch loss"] /= w.samples // w.batch_size
    layer = ms.pop("layer forward + backward")
    parts = [
        ("training step (fit, per batch)", ms.pop("step")),
        ("recurrent layer forward + backward", layer),
        ("  of which forward", ms.pop("layer forward")),
    ]
    named = [(name, value) for name, value in ms.items() if name != "epoch loss"]
    elementwise = layer - sum(value for _, value in named)
    parts += [(f"  {name}", value) for name, value in named]
    parts.append(("  elementwise passes (the rest of the layer)", elementwise))
    outside = parts[0][1] - layer
    parts.append(("outside the recurrent layer", outside))
    parts.append(("  of which the epoch-end loss", ms["epoch loss"]))
    return parts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="R1,R2,R3", help="a subset of R1,R2,R3")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    args = parser.parse_args(argv)
    names = args.workloads.split(",")
    if not set(names) <= {"R1", "R2", "R3"} or args.rounds < 1:
        parser.error("--workloads takes names from R1,R2,R3; --rounds at least 1")
    import threadpoolctl

    threadpoolctl.threadpool_limits(1)
    for w in make_workloads(quick=False):
        if w.name not in names:
            continue
        parts = profile(w, args.rounds)
        total = parts[0][1]
        print(f"\n{w.name}: ms of thread CPU time per training step, share of the step")
        print("| part | ms | share |\n|---|---|---|")
        for name, value in parts:
            print(f"| {name} | {value:.3f} | {value / total:.0%} |")


if __name__ == "__main__":
    main()
