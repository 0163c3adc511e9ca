"""Where glassnet's Dense training step goes: matmuls, optimizer update, the rest.

Run: ``python benchmarks/dense_profile.py [--threads 1] [--workloads medium,wide]
[--steps 200] [--rounds 7]``. For each workload of bench_train.py it builds
glassnet's model (same weights, optimizer and batch size) and times, interleaved in
rounds on the same batch (median over rounds of the per-step time):

- ``step``: one training step as ``fit`` runs it (``training.make_train_step``:
  forward, the fused softmax cross-entropy gradient, backward, the optimizer's
  ``apply_flat`` over the flat buffer);
- ``matmul floor``: the step's matrix multiplies alone, into preallocated outputs
  (forward ``x @ W``, backward ``x.T @ dz`` and ``dz @ W.T``, none for the data's
  gradient), as bench_train's ``floor`` peer;
- ``gradients``: the step without the update (forward, loss gradient, backward);
- ``update``: ``optimizer.apply_flat`` alone, on the model's flat buffers (one
  compiled loop when Numba is installed: glassnet/optimizers/fused.py);
- ``numpy update``: the same with fused updates turned off, the rule's NumPy passes.

``elementwise = gradients - matmul floor`` is the activations, bias adds and sums,
softmax and the loss gradient. With ``--xla`` (JAX and optax installed) it also
times, in the same rounds, what XLA does with the same shapes and threads: the
JAX peer's whole jitted step (dense_jax.py), the same matrix multiplies jitted
together, and optax's Adam or SGD update alone, jitted with donated buffers. Each
of those waits for its result, so on small shapes it is mostly JAX's dispatch;
two more take that out: ``jax steps, queued`` (the peer's step called
``QUEUED`` times, as its training loop does, then one wait) and ``xla matmuls,
looped`` (the matrix multiplies ``QUEUED`` times inside one jitted
``fori_loop``, each pass moving ``W`` by ``1e-9 dW`` and the input by the sum of
the ``dx``, so that every product depends on the last pass and none is dropped
or hoisted: an upper bound on XLA's own matrix multiplies), both per step.
It also prints the top functions of a cProfile of the step. With one thread the
clock is the process's CPU time (other programs on a shared machine take wall
time, not this process's CPU time), else wall time. The environment is the
benchmark workers' (driver.worker_env), set before NumPy or JAX loads: the thread
counts, ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` removed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from typing import Any


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workloads", default="medium,wide")
    parser.add_argument("--steps", type=int, default=100, help="steps per timing")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--xla", action="store_true", help="time XLA's peers too")
    parser.add_argument(
        "--queued", type=int, default=50, help="steps per queued/looped XLA call"
    )
    return parser.parse_args()


CLOCK = time.perf_counter  # main() switches to CPU time for one thread
QUEUED = 50  # steps per call of the "queued" and "looped" XLA timings


def per_step(call: Any, steps: int) -> float:
    began = CLOCK()
    for _ in range(steps):
        call()
    return (CLOCK() - began) / steps


def main() -> None:
    global CLOCK, QUEUED
    args = parse_args()
    QUEUED = args.queued
    if args.threads == 1:  # CPU time: what a shared machine's other programs
        CLOCK = time.process_time  # disturb less than wall time (one thread only)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import driver

    # the benchmark's worker environment, before NumPy (or JAX) is imported
    os.environ.clear()
    os.environ.update(
        driver.worker_env("jax" if args.xla else "glassnet", args.threads)
    )
    import numpy  # noqa: F401  (loads OpenBLAS, for the kernel report below)
    from dense_workloads import make_workloads

    print(f"{args.threads} thread(s); BLAS: {', '.join(driver.blas_kernels())}")
    for w in make_workloads(quick=False):
        if w.name in args.workloads.split(","):
            profile_workload(w, args)


def step_calls(w: Any) -> tuple[dict[str, Any], int]:
    """The four timed calls on glassnet's model of ``w``, and its weight count."""
    import numpy as np
    from dense_peers import FloorPeer
    from dense_workloads import build_glassnet, make_data

    from glassnet import fused
    from glassnet.training import make_gradient_step, make_train_step

    x, y = make_data(w)
    xb, yb = np.ascontiguousarray(x[: w.batch_size]), y[: w.batch_size]
    model = build_glassnet(w)
    model.fit(xb, yb, batch_size=w.batch_size, epochs=1, verbose=0)  # builds it
    step = make_train_step(model)
    gradients = make_gradient_step(model, model.loss)
    flat, optimizer = model.flat, model.optimizer
    params, grads = flat.trainable_params, flat.trainable_grads
    layout = flat.trainable_layout
    floor = FloorPeer(w, xb)
    calls = {
        "step": lambda: step(xb, yb),
        "gradients": lambda: gradients(xb, yb),
        "update": lambda: optimizer.apply_flat(params, grads, layout),
        "matmul floor": lambda: floor.train(xb, yb, 1),
    }
    if fused.use_fused_kernels():  # Numba is installed: time the NumPy passes too

        def numpy_update() -> None:
            fused.use_fused_kernels(False)
            optimizer.apply_flat(params, grads, layout)
            fused.use_fused_kernels(True)

        calls["numpy update"] = numpy_update
    return calls, params.size


def xla_calls(w: Any) -> dict[str, Any]:
    """The JAX peer's step, the step's matmuls and the optax update, jitted."""
    import dense_jax
    import jax
    import numpy as np
    import optax
    from dense_workloads import build_glassnet, make_data

    x, y = make_data(w)
    xb, yb = np.ascontiguousarray(x[: w.batch_size]), y[: w.batch_size]
    weights = build_glassnet(w).get_weights()
    peer = dense_jax.JaxPeer(w, weights)
    jax_y = yb if w.loss == "mse" else yb.astype("int32")

    def jax_step() -> None:
        peer.params, peer.state, _ = peer.step(peer.params, peer.state, xb, jax_y)
        peer.sync()

    def matmuls(kernels: list[Any], h: Any, dz: list[Any]) -> Any:
        hs = [h]
        for kernel in kernels:
            hs.append(hs[-1] @ kernel)
        out = [hs[i].T @ dz[i] for i in range(len(kernels))]
        out += [dz[i] @ kernels[i].T for i in range(1, len(kernels))]
        return out, hs

    rng = np.random.default_rng(0)
    kernels = [jax.numpy.asarray(a) for a in weights[::2]]
    dz = [rng.uniform(-1, 1, (len(xb), k.shape[1])).astype(np.float32) for k in kernels]
    jitted = jax.jit(matmuls)
    if w.optimizer == "adam":
        tx = optax.adam(w.learning_rate, eps=1e-7)
    else:
        tx = optax.sgd(w.learning_rate, momentum=w.momentum or None)

    def apply(params: Any, state: Any, grads: Any) -> Any:
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    def looped(kernels: list[Any], h: Any, dz: list[Any]) -> Any:
        # Every product must feed the next pass, or XLA drops it (an unused dx) or
        # hoists it out of the loop (x.T @ dz of a fixed x): dW moves W, and the
        # sum of every dx moves x, an extra pass over them, as the update is.
        def one_pass(_: Any, carry: tuple[list[Any], Any]) -> Any:
            kernels, h = carry
            out, _ = matmuls(kernels, h, dz)
            grads, dxs = out[: len(kernels)], out[len(kernels) :]
            moved = [k - 1e-9 * g for k, g in zip(kernels, grads, strict=True)]
            return moved, h + 1e-9 * sum(jax.numpy.sum(dx) for dx in dxs)

        return jax.lax.fori_loop(0, QUEUED, one_pass, (kernels, h))

    jitted_loop = jax.jit(looped)

    def queued_steps() -> None:
        for _ in range(QUEUED):
            peer.params, peer.state, _ = peer.step(peer.params, peer.state, xb, jax_y)
        peer.sync()

    update = jax.jit(apply, donate_argnums=(0, 1))
    grads = [jax.numpy.asarray(a * 1e-2) for a in weights]
    box = [[jax.numpy.asarray(a) for a in weights]]
    box.append(tx.init(box[0]))

    def optax_update() -> None:
        box[0], box[1] = update(box[0], box[1], grads)
        jax.block_until_ready(box[0])

    return {
        "jax step": jax_step,
        "xla matmuls": lambda: jax.block_until_ready(jitted(kernels, xb, dz)),
        "optax update": optax_update,
        "jax steps, queued": queued_steps,
        "xla matmuls, looped": lambda: jax.block_until_ready(
            jitted_loop(kernels, xb, dz)
        ),
    }


#: The calls that run QUEUED steps each (their times are divided by it).
PER_QUEUE = ("jax steps, queued", "xla matmuls, looped")


def profile_workload(w: Any, args: argparse.Namespace) -> None:
    import numpy as np

    calls, weights = step_calls(w)
    if args.xla:
        calls.update(xla_calls(w))
    with np.errstate(over="ignore"):
        for call in calls.values():
            per_step(call, 5)
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.rounds):
            for name, call in calls.items():
                times[name].append(per_step(call, args.steps))
    for name in PER_QUEUE:
        if name in times:
            times[name] = [t / QUEUED for t in times[name]]
    median = {name: statistics.median(v) for name, v in times.items()}
    elementwise = median["gradients"] - median["matmul floor"]
    clock = "CPU" if CLOCK is time.process_time else "wall"
    print(
        f"\n{w.name} ({'-'.join(map(str, w.units))}, batch {w.batch_size}, "
        f"{weights:,} weights, {w.optimizer}); microseconds per step ({clock} "
        f"time), median of {args.rounds} rounds of {args.steps} steps"
    )
    for name, seconds in median.items():
        share = seconds / median["step"]
        print(f"  {name:>19}: {seconds * 1e6:9.1f} us  ({share:.0%} of the step)")
    print(f"  {'elementwise':>19}: {elementwise * 1e6:9.1f} us  (gradients - floor)")
    print(f"  share of the matmul floor: {median['matmul floor'] / median['step']:.0%}")
    for ours, theirs in (
        ("step", "jax step"),
        ("step", "jax steps, queued"),
        ("matmul floor", "xla matmuls"),
        ("matmul floor", "xla matmuls, looped"),
        ("update", "optax update"),
        ("update", "numpy update"),
    ):
        if theirs in times:
            ratios = [a / b for a, b in zip(times[ours], times[theirs], strict=True)]
            print(
                f"  {ours} / {theirs} (time): {statistics.median(ratios):.2f} "
                f"({min(ratios):.2f}-{max(ratios):.2f})"
            )
    if not args.no_profile:
        profile = cProfile.Profile()
        with np.errstate(over="ignore"):
            profile.runcall(per_step, calls["step"], args.steps * 2)
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
