"""Building deep models: time per layer as the depth grows (issue 15, class 4).

Run: ``python benchmarks/bench_build.py [--depths 1000 2000 4000] [--rounds 3]
[--keras-depths 100 200 400] [--no-keras]``.

A ``Sequential`` of n ``Dense(1)`` layers is built three ways: one ``add`` at a
time after an ``Input`` (``add``), from its JSON (``json``, what a model file
does), and, as the peer, Keras 3 on its torch backend adding the same layers
(``keras add``, if Keras is installed; at its own, smaller depths: Keras builds
each layer symbolically, about 0.1 s a layer and growing). Each way runs in its own process with
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset; each time is the median of
``--rounds`` rounds, and includes one ``predict`` on one sample, so the graph and
the flat buffer are made. Linear building keeps the time per layer flat as n
doubles (growth ~1.0x per doubling); before issue 15, glassnet's grew ~2x per
doubling (3,000 layers from JSON took over 5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import driver

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    way, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if way == "keras add":
        import os
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras
        def build():
            model = keras.Sequential([keras.Input((1,))])
            for _ in range(n):
                model.add(keras.layers.Dense(1))
            model.predict(np.ones((1, 1)), verbose=0)
    else:
        import glassnet
        from glassnet.layers import Dense
        from glassnet.models import Sequential, model_from_json
        def by_adding():
            model = Sequential([glassnet.Input((1,))], seed=0)
            for _ in range(n):
                model.add(Dense(1))
            return model
        text = by_adding().to_json()
        def build():
            model = by_adding() if way == "add" else model_from_json(text)
            model.predict(np.ones((1, 1)), verbose=0)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        build()
        times.append(time.perf_counter() - start)
    print(json.dumps(times))
    """
)


def measure(way: str, n: int, rounds: int) -> float | None:
    """Median seconds to build ``n`` layers ``way``, or None if it cannot run."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, way, str(n), str(rounds)],
        capture_output=True,
        text=True,
        env=driver.source_env(),
        check=False,
    )
    if result.returncode != 0:
        print(f"{way} n={n}: failed: {result.stderr.strip().splitlines()[-1:]}")
        return None
    return statistics.median(json.loads(result.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[1000, 2000, 4000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keras-depths", type=int, nargs="+", default=[100, 200, 400])
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args(argv)
    ways = ["add", "json"] + ([] if args.no_keras else ["keras add"])
    print(f"{'way':<10} {'layers':>7} {'seconds':>9} {'us/layer':>9} {'growth':>7}")
    for way in ways:
        previous = None
        for n in args.keras_depths if way == "keras add" else args.depths:
            seconds = measure(way, n, args.rounds)
            if seconds is None:
                break
            per_layer = seconds / n
            growth = "" if previous is None else f"{per_layer / previous:.2f}x"
            print(
                f"{way:<10} {n:>7} {seconds:>9.3f} {per_layer * 1e6:>9.0f} {growth:>7}"
            )
            previous = per_layer


if __name__ == "__main__":
    main()
