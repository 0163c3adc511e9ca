"""ONNX export: ONNX Runtime must predict what ``model.predict`` predicts.

Every registered activation (in every config that changes its graph), every layer, both
dtypes and several opsets are exported, checked with ``onnx.checker`` and run by ONNX
Runtime on inputs that include large magnitudes and exact thresholds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from glassnet import activations  # noqa: E402
from glassnet.activations import ActivationFunction, ReLU  # noqa: E402
from glassnet.errors import GlassnetError, NotBuiltError  # noqa: E402
from glassnet.export import (  # noqa: E402
    DEFAULT_OPSET,
    MIN_OPSET,
    ExportError,
    MissingDependencyError,
    to_onnx,
)
from glassnet.layers import Activation, Dense, Dropout, Layer  # noqa: E402
from glassnet.models import Sequential  # noqa: E402

DTYPES = [np.float32, np.float64]

#: Configs that change an activation's graph, besides the default one.
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "elu": [{"alpha": 0.3}],
    "gelu": [{"approximate": True}],
    "leaky_relu": [{"negative_slope": 0.01}, {"negative_slope": 0.0}],
    "softmax": [{"axis": 1}],
    "step": [{"threshold": 0.1}, {"threshold": -2.5}],
}


def activation_cases() -> list[Any]:
    """Every registered activation (primary name) with its default config + VARIANTS."""
    cases = []
    for name in activations.registry.primary_names():
        for config in [{}, *VARIANTS.get(name, [])]:
            label = name + "".join(f"-{k}={v}" for k, v in config.items())
            cases.append(pytest.param(name, config, id=label))
    return cases


def make_activation(name: str, config: dict[str, Any]) -> ActivationFunction:
    return activations.get({"class_name": name, "config": config})


def session(model_file: Path | bytes, *, optimize: bool = True) -> Any:
    """An ONNX Runtime session; ``optimize=False`` runs the graph's nodes as written
    (no fusion of the Erf formula into one Gelu kernel, for instance)."""
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    source = str(model_file) if isinstance(model_file, Path) else model_file
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def run(sess: Any, x: np.ndarray) -> np.ndarray:
    (y,) = sess.run(None, {sess.get_inputs()[0].name: x})
    return np.asarray(y)


def assert_matches(actual: np.ndarray, expected: np.ndarray, dtype: Any) -> None:
    """float32: rtol 1e-5, atol 1e-6 (near 0 only rounding is left); float64: 1e-12."""
    assert actual.dtype == expected.dtype == np.dtype(dtype)
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-12)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def assert_matches_scaled(actual: np.ndarray, expected: np.ndarray, dtype: Any) -> None:
    """As assert_matches, with atol scaled by the output's largest magnitude.

    After a MatMul, an output near 0 can be the difference of large terms, so its
    error is relative to their size (a sum order other than NumPy's BLAS rounds
    differently).
    """
    scale = max(1.0, float(np.abs(expected).max()))
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-12)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


def activation_inputs(dtype: Any, width: int = 6) -> np.ndarray:
    """17 rows: extremes, tiny values, zeros, both signs, then normal draws."""
    tails = np.array([1e-8, 1e-3, 0.4, 1.0, 3.0, 5.0, 10.0, 30.0, 100.0, 745.0, 1e4])
    special = np.concatenate([-tails, [0.0], tails])
    rng = np.random.default_rng(0)
    rest = rng.normal(scale=3.0, size=17 * width - special.size)
    return np.concatenate([special, rest]).reshape(17, width).astype(dtype)


def export_and_run(
    model: Sequential, tmp_path: Path, x: np.ndarray, **kwargs: Any
) -> np.ndarray:
    path = to_onnx(model, tmp_path / "model.onnx", **kwargs)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    return run(session(path), x)


# -- activations ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "config"), activation_cases())
def test_activation_layer_matches_predict(name, config, dtype, tmp_path):
    model = Sequential(
        [Activation(make_activation(name, config), input_dim=6)], dtype=dtype
    )
    x = activation_inputs(dtype)
    expected = model.predict(x, verbose=0)
    sess = session(to_onnx(model, tmp_path / "act.onnx"))
    assert_matches(run(sess, x), expected, dtype)
    # the same file, one sample at a time
    assert_matches(run(sess, x[3:4]), expected[3:4], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "config"), activation_cases())
def test_dense_activation_matches_predict(name, config, dtype, tmp_path):
    model = Sequential(
        [Dense(5, activation=make_activation(name, config), input_dim=4)],
        seed=1,
        dtype=dtype,
    )
    x = np.random.default_rng(2).normal(scale=2.0, size=(17, 4)).astype(dtype)
    got = export_and_run(model, tmp_path, x)
    assert_matches_scaled(got, model.predict(x, verbose=0), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opset", [MIN_OPSET, DEFAULT_OPSET, 20])
@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_every_opset(approximate, opset, dtype, tmp_path):
    model = Sequential(
        [Activation(activations.GELU(approximate=approximate), input_dim=6)],
        dtype=dtype,
    )
    x = activation_inputs(dtype)
    proto = to_onnx(model, None, opset=opset)
    ops = {node.op_type for node in proto.graph.node}
    if dtype == np.float32 and opset >= 20:
        assert ops == {"Gelu"}
    else:
        assert "Gelu" not in ops
        assert ("Erf" in ops) == (dtype == np.float32 and not approximate)
    expected = model.predict(x, verbose=0)
    for optimize in (True, False):
        got = run(session(proto.SerializeToString(), optimize=optimize), x)
        assert_matches(got, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_step_at_its_threshold(dtype, tmp_path):
    # x > threshold gives 1.0; NumPy compares a float32 array with the threshold
    # rounded to float32, and so must the graph: float32(0.1) == 0.1000000015 there.
    threshold = 0.1000000015
    t = np.array(threshold, dtype=dtype)
    x = np.array(
        [[np.nextafter(t, -np.inf), t, np.nextafter(t, np.inf), 0.1, -0.0, 0.0]],
        dtype=dtype,
    )
    model = Sequential(
        [Activation(activations.Step(threshold), input_dim=6)], dtype=dtype
    )
    got = export_and_run(model, tmp_path, x)
    expected = model.predict(x, verbose=0)
    np.testing.assert_array_equal(got, expected)
    assert expected[0, 1] == 0.0 and expected[0, 2] == 1.0


@pytest.mark.parametrize(
    "activation",
    [activations.ELU(alpha=0.3), activations.Softplus(), activations.GELU()],
    ids=repr,
)
def test_float64_formulas_keep_relative_precision_in_the_tails(activation):
    # The float64 graphs spell these out (expm1 via tanh, Kahan's log1p, Cody's
    # erfc), so even tiny outputs such as softplus(-30) = 9.4e-14 or elu(-1e-8)
    # agree to a few ulps, not just to an absolute 1e-12.
    model = Sequential([Activation(activation, input_dim=6)], dtype="float64")
    x = activation_inputs(np.float64)
    got = run(session(to_onnx(model, None).SerializeToString()), x)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_ops_used_for_each_dtype(dtype):
    """float32 uses the named ONNX ops; float64 spells out those without a double
    kernel in ONNX Runtime (or with a float32 attribute)."""
    expected32 = {
        "elu": "Elu",
        "leaky_relu": "LeakyRelu",
        "linear": "Identity",
        "relu": "Relu",
        "sigmoid": "Sigmoid",
        "softmax": "Softmax",
        "softplus": "Softplus",
        "tanh": "Tanh",
    }
    for name, op in expected32.items():
        model = Sequential([Activation(name, input_dim=3)], dtype=dtype)
        ops = [node.op_type for node in to_onnx(model, None).graph.node]
        composed = dtype == np.float64 and name in {"elu", "leaky_relu", "softplus"}
        assert (ops != [op]) if composed else (ops == [op]), (name, ops)


# -- layers and models ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_with_and_without_bias(use_bias, dtype, tmp_path):
    model = Sequential(
        [Dense(3, use_bias=use_bias, bias_initializer="ones", input_dim=4)],
        seed=0,
        dtype=dtype,
    )
    proto = to_onnx(model, None)
    ops = [node.op_type for node in proto.graph.node]
    assert ops == (["MatMul", "Add"] if use_bias else ["MatMul"])
    weights = {w.name: onnx.numpy_helper.to_array(w) for w in proto.graph.initializer}
    assert sorted(weights) == (["dense.W", "dense.b"] if use_bias else ["dense.W"])
    for key, param in model.layers[0].params.items():
        np.testing.assert_array_equal(weights[f"dense.{key}"], param)
        assert weights[f"dense.{key}"].dtype == np.dtype(dtype)
    x = np.random.default_rng(0).normal(size=(17, 4)).astype(dtype)
    got = run(session(proto.SerializeToString()), x)
    assert_matches_scaled(got, model.predict(x, verbose=0), dtype)


def test_dropout_is_identity_at_inference(tmp_path):
    model = Sequential([Dropout(0.9, input_dim=5), Dense(2), Dropout(0.5)], seed=0)
    ops = [node.op_type for node in to_onnx(model, None).graph.node]
    assert ops == ["Identity", "MatMul", "Add", "Identity"]
    x = np.random.default_rng(1).normal(size=(17, 5)).astype(np.float32)
    assert_matches_scaled(
        export_and_run(model, tmp_path, x), model.predict(x, verbose=0), np.float32
    )


def multilayer_model(dtype: Any) -> Sequential:
    return Sequential(
        [
            Dense(16, activation="relu", input_dim=7),
            Dropout(0.3),
            Dense(12, activation="gelu"),
            Activation("tanh"),
            Dense(10, activation=activations.ELU(alpha=0.7), use_bias=False),
            Dense(8, activation="silu"),
            Dense(6, activation="softplus"),
            Activation(activations.LeakyReLU(negative_slope=0.05)),
            Dense(4),
            Activation("softmax"),
        ],
        seed=3,
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilayer_model_batch_1_and_17_on_one_file(dtype, tmp_path):
    model = multilayer_model(dtype)
    rng = np.random.default_rng(4)
    # rows of very different magnitudes: 1e-3 ... 1e3
    x = (rng.normal(size=(17, 7)) * 10.0 ** rng.uniform(-3, 3, size=(17, 1))).astype(
        dtype
    )
    path = to_onnx(model, tmp_path / "deep.onnx")
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    dims = loaded.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 7
    sess = session(path)
    expected = model.predict(x, verbose=0)
    assert_matches_scaled(run(sess, x), expected, dtype)
    for i in (0, 16):
        assert_matches_scaled(run(sess, x[i : i + 1]), expected[i : i + 1], dtype)


def test_trained_model_matches(tmp_path, xor):
    x, y = xor
    model = Sequential(
        [Dense(8, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")],
        seed=0,
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=20, verbose=0)
    x32 = x.astype(np.float32)
    got = export_and_run(model, tmp_path, x32)
    assert_matches(got, model.predict(x, verbose=0), np.float32)


def test_activation_layer_on_multidimensional_samples(tmp_path):
    model = Sequential([Activation("softmax")])
    model.build((None, 3, 4))
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    assert_matches(
        export_and_run(model, tmp_path, x), model.predict(x, verbose=0), np.float32
    )


# step is left out: where z lands within rounding of the threshold, the two runtimes'
# different summation orders may flip it (test_step_at_its_threshold covers step).
SMOOTH = [name for name in activations.registry.primary_names() if name != "step"]


@settings(max_examples=15, deadline=None)
@given(
    widths=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    names=st.lists(st.sampled_from(SMOOTH), min_size=3, max_size=3),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_random_models_match(widths, names, dtype, seed):
    layers: list[Layer] = [Dense(widths[0], activation=names[0], input_dim=3)]
    layers += [
        Dense(w, activation=n) for w, n in zip(widths[1:], names[1:], strict=False)
    ]
    model = Sequential(layers, seed=seed, dtype=dtype)
    x = np.random.default_rng(seed).normal(scale=2.0, size=(5, 3)).astype(dtype)
    got = run(session(to_onnx(model, None).SerializeToString()), x)
    assert_matches_scaled(got, model.predict(x, verbose=0), dtype)


# -- API -----------------------------------------------------------------------------
def test_path_none_returns_the_model_proto(tmp_path):
    model = multilayer_model(np.float32)
    proto = to_onnx(model, None)
    assert isinstance(proto, onnx.ModelProto)
    assert list(tmp_path.iterdir()) == []
    path = to_onnx(model, str(tmp_path / "m.onnx"))
    assert isinstance(path, Path)
    assert path.read_bytes() == proto.SerializeToString()
    assert proto.producer_name == "glassnet"
    assert proto.opset_import[0].version == DEFAULT_OPSET


def test_names_batch_size_and_dtype(tmp_path):
    model = Sequential([Dense(2, activation="sigmoid", input_dim=3)], dtype="float64")
    path = to_onnx(
        model,
        tmp_path / "m.onnx",
        input_name="features",
        output_name="proba",
        batch_size=4,
    )
    sess = session(path)
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert (inp.name, inp.shape, inp.type) == ("features", [4, 3], "tensor(double)")
    assert (out.name, out.shape, out.type) == ("proba", [4, 2], "tensor(double)")
    x = np.random.default_rng(0).normal(size=(4, 3))
    assert_matches(run(sess, x), model.predict(x, verbose=0), np.float64)


# -- errors --------------------------------------------------------------------------
class Cube(ActivationFunction):
    """A user activation glassnet.export cannot know."""

    def forward(self, x):
        return x**3

    def backward(self, x, y, grad_y):
        return 3 * x**2 * grad_y


class MyReLU(ReLU):
    """A subclass of a supported activation may compute something else."""


class Scale(Layer):
    """A user layer: y = 2 x."""

    def forward(self, x, *, training=False):
        return 2 * x

    def backward(self, grad_output):
        return 2 * grad_output


@pytest.mark.parametrize("activation", [Cube(), MyReLU()])
def test_unsupported_activation_is_named(activation, tmp_path):
    model = Sequential([Dense(2, activation=activation, input_dim=3, name="hidden")])
    cls = type(activation).__name__
    with pytest.raises(ExportError, match=rf"'hidden' uses the activation {cls}.*relu"):
        to_onnx(model, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_unsupported_layer_is_named(tmp_path):
    model = Sequential([Dense(2, input_dim=3), Scale(name="doubler")])
    with pytest.raises(ExportError, match=r"'doubler' is a Scale.*Activation, Dense"):
        to_onnx(model, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_softmax_over_the_batch_axis_is_refused():
    model = Sequential([Activation(activations.Softmax(axis=0), input_dim=3)])
    with pytest.raises(ExportError, match="batch axis"):
        to_onnx(model, None)
    # an axis the arrays do not have never gets as far as the export: the model
    # that would hold it is refused when built
    with pytest.raises(GlassnetError, match="along axis 2, but the arrays"):
        Sequential([Activation(activations.Softmax(axis=2), input_dim=3)])


def test_unbuilt_model(tmp_path):
    model = Sequential([Dense(2)])
    with pytest.raises(NotBuiltError, match="not been built"):
        to_onnx(model, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"opset": 12}, "from 13 to"),
        ({"opset": 10**6}, "from 13 to"),
        ({"opset": "17"}, "opset"),
        ({"batch_size": 0}, "positive integer"),
        ({"batch_size": True}, "positive integer"),
        ({"input_name": ""}, "non-empty string"),
        ({"input_name": "x", "output_name": "x"}, "different names"),
        ({"output_name": "dense.W"}, "already the name"),
    ],
)
def test_bad_arguments(kwargs, match):
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(GlassnetError, match=match):
        to_onnx(model, None, **kwargs)


def test_bad_model_and_path(tmp_path):
    with pytest.raises(TypeError, match="Sequential"):
        to_onnx(Dense(2), None)  # type: ignore[call-overload]
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(TypeError, match="must be a path"):
        to_onnx(model, 3)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="folder"):
        to_onnx(model, tmp_path)


def test_missing_onnx_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(MissingDependencyError, match=r"pip install 'glassnet\[onnx\]'"):
        to_onnx(model, None)
    assert issubclass(MissingDependencyError, ImportError)


def test_importing_glassnet_does_not_import_onnx():
    code = (
        "import sys, glassnet, glassnet.export, glassnet.models; "
        "assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- atomic writes -------------------------------------------------------------------
def test_write_leaves_no_temporary_files(tmp_path):
    model = multilayer_model(np.float32)
    path = tmp_path / "model.onnx"
    to_onnx(model, path)
    to_onnx(model, path)  # replacing an existing file
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    onnx.checker.check_model(onnx.load(str(path)))


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old model")

    def crash(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C between the write and the rename

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        to_onnx(Sequential([Dense(2, input_dim=3)]), path)
    assert path.read_bytes() == b"old model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_written_file_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = to_onnx(Sequential([Dense(2, input_dim=3)]), tmp_path / "m.onnx")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
