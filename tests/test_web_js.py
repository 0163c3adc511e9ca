"""The JavaScript tests of glassnet.web, run by pytest: ``node --test tests/js/``.

The parity fixture holds, for every glassnet activation (and each setting that
changes its formula), a small model and glassnet's own ``predict`` on inputs that
reach the activations' tails; tests/js/forward.test.js checks the JavaScript forward
pass against it. float64 models must agree to 1e-12 (the same formulas in the same
precision), a float32 model to 1e-5 (glassnet computes it in float32).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from glassnet.layers import ELU, Activation, Dense, Dropout, LeakyReLU, ReLU, Softmax
from glassnet.models import Sequential
from glassnet.web import model_to_json

JS_TESTS = Path(__file__).parent / "js"

# (case name, hidden activation, output activation) for every registered activation
ACTIVATION_CASES = [
    ("sigmoid", "sigmoid", "sigmoid"),
    ("tanh", "tanh", "tanh"),
    ("relu", "relu", "linear"),
    (
        "leaky_relu",
        {"class_name": "LeakyReLU", "config": {"negative_slope": 0.1}},
        "linear",
    ),
    ("elu", {"class_name": "ELU", "config": {"alpha": 0.5}}, "linear"),
    ("softplus", "softplus", "softplus"),
    ("softmax", "tanh", "softmax"),
    ("linear", "linear", "linear"),
    ("step", {"class_name": "Step", "config": {"threshold": 0.3}}, "sigmoid"),
    ("gelu", "gelu", "gelu"),
    (
        "gelu_approximate",
        {"class_name": "GELU", "config": {"approximate": True}},
        "linear",
    ),
    ("silu", "silu", "silu"),
]


def _inputs(rng: np.random.Generator) -> np.ndarray:
    # ordinary values, then large ones that reach exp's overflow and erfc's far tail
    return np.concatenate([rng.normal(0, 1.5, (12, 3)), rng.normal(0, 25, (4, 3))])


def _case(name: str, model: Sequential, x: np.ndarray, tolerance: float) -> dict:
    return {
        "name": name,
        "model": model_to_json(model),
        "x": x.tolist(),
        "y": model.predict(x, verbose=0).astype(np.float64).tolist(),
        "tolerance": tolerance,
    }


def parity_cases() -> list[dict]:
    rng = np.random.default_rng(7)
    x = _inputs(rng)
    cases = []
    for name, hidden, output in ACTIVATION_CASES:
        model = Sequential(
            [Dense(5, activation=hidden, input_dim=3), Dense(3, activation=output)],
            seed=3,
            dtype="float64",
        )
        cases.append(_case(name, model, x, 1e-12))
    layers = Sequential(
        [
            Dense(6, input_dim=3),
            ReLU(max_value=1.5, threshold=0.2, negative_slope=0.1),
            Dropout(0.5),
            Dense(4),
            LeakyReLU(),
            Dense(4),
            ELU(alpha=0.7),
            Dense(3),
            Activation("tanh"),
            Softmax(),
        ],
        seed=4,
        dtype="float64",
    )
    cases.append(_case("activation layers", layers, x, 1e-12))
    float32 = Sequential(
        [Dense(8, activation="gelu", input_dim=3), Dense(2, activation="softmax")],
        seed=5,
    )
    cases.append(_case("float32 model", float32, x, 1e-5))
    return cases


def test_parity_cases_cover_every_activation() -> None:
    from glassnet.activations import registry
    from glassnet.web import SUPPORTED_ACTIVATIONS

    covered = {name for name, _, _ in ACTIVATION_CASES}
    assert set(registry.names()) - {"identity", "swish"} <= covered
    spec = parity_cases()[-2]["model"]
    assert "capped_relu" in json.dumps(spec)
    assert set(SUPPORTED_ACTIVATIONS) - {"capped_relu"} <= covered


def test_node_tests_pass(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing: CI must run the JavaScript tests")
        pytest.skip("node is not installed: install Node.js to run tests/js")
    fixture = tmp_path / "parity.json"
    fixture.write_text(json.dumps({"cases": parity_cases()}))
    files = sorted(str(path) for path in JS_TESTS.glob("*.test.js"))
    result = subprocess.run(
        [node, "--test", *files],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GLASSNET_PARITY": str(fixture)},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
    assert "# skipped 0" in result.stdout  # the parity test ran
