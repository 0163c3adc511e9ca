"""ONNX export of sequence models: Embedding, SimpleRNN, LSTM, GRU and their wrappers.

The oracle is glassnet's own ``predict`` (itself checked against PyTorch autograd
and Keras 3 in the layer tests): ONNX Runtime agrees within float32 rounding (rtol
1e-5, atol 1e-6 times the output's scale), or 1e-12 in float64, for every
recurrent layer in every option (return_sequences, go_backwards, use_bias, GRU's
reset_after, every activation: ONNX's recurrent ops for the ones they know, a
``Scan`` for the others and for float64), Bidirectional in every merge mode (one
bidirectional node, or a node per direction), TimeDistributed(Dense),
RepeatVector, an Embedding -> SimpleRNN -> LSTM -> GRU -> Dense stack on sequences
of many lengths through one file, and a trained model. The graphs are checked for
their shape too: the weights in ONNX's gate order, one transpose to time-major
for a whole stack, int64 token ids. What cannot be exported is refused by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import numpy_helper  # noqa: E402

from glassnet import Input, Model  # noqa: E402
from glassnet.activations import ActivationFunction  # noqa: E402
from glassnet.export import ExportError, to_onnx  # noqa: E402
from glassnet.layers import (  # noqa: E402
    GRU,
    LSTM,
    Activation,
    Bidirectional,
    Concatenate,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    Layer,
    RepeatVector,
    SimpleRNN,
    TimeDistributed,
)
from glassnet.models import Sequential  # noqa: E402
from glassnet.utils import set_random_seed  # noqa: E402

SUPPORTED = ["sigmoid", "tanh", "relu", "linear", "leaky_relu", "elu", "softplus"]


# -- helpers -------------------------------------------------------------------------
def session(proto: Any) -> Any:
    return ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """float32: rtol 1e-5, atol 1e-6 x the output's scale; float64: 1e-12."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    tol = 1e-5 if expected.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol / 10 * scale)


def randomize(model: Model, seed: int = 1, scale: float = 0.4) -> None:
    """Random weights everywhere, biases included, so no default hides a bug.

    A scale of 0.4 keeps the recurrences contracting: with weights that make the
    state grow step after step, float32 rounding grows with it in any runtime.
    """
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=scale, size=w.shape) for w in model.weights])


def sequences(
    batch: int, steps: int, width: int, seed: int = 0, dtype: Any = np.float32
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(scale=1.5, size=(batch, steps, width)).astype(dtype)


def check(model: Model, xs: list[np.ndarray], tmp_path: Path | None = None) -> Any:
    """Export (to a file when ``tmp_path`` is given), check the graph, run every
    output and compare with predict; returns the ONNX model."""
    if tmp_path is None:
        proto = to_onnx(model, None)
    else:
        proto = onnx.load(str(to_onnx(model, tmp_path / "model.onnx")))
    onnx.checker.check_model(proto, full_check=True)
    sess = session(proto)
    feed = {i.name: x for i, x in zip(sess.get_inputs(), xs, strict=True)}
    expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    got = sess.run(None, feed)
    for actual, wanted in zip(got, expected, strict=True):
        assert_close(np.asarray(actual), wanted)
    return proto


def ops(proto: Any) -> list[str]:
    return [node.op_type for node in proto.graph.node]


def initializer(proto: Any, name: str) -> np.ndarray:
    (found,) = [t for t in proto.graph.initializer if t.name == name]
    return numpy_helper.to_array(found)


def node_of(proto: Any, op_type: str) -> Any:
    (found,) = [n for n in proto.graph.node if n.op_type == op_type]
    return found


def attribute(node: Any, name: str) -> Any:
    (found,) = [a for a in node.attribute if a.name == name]
    return onnx.helper.get_attribute_value(found)


def one_layer(layer: Layer, width: int = 3, dtype: str = "float32") -> Sequential:
    model = Sequential([Input((None, width), dtype=dtype), layer], seed=0)
    randomize(model)
    return model


def recurrent_nodes(proto: Any) -> list[Any]:
    return [n for n in proto.graph.node if n.op_type in ("RNN", "LSTM", "GRU")]


# -- each recurrent layer, every option ----------------------------------------------
CELLS: list[tuple[str, Any]] = [
    ("simple_rnn", SimpleRNN),
    ("lstm", LSTM),
    ("gru", GRU),
    ("gru-reset-before", lambda units, **kw: GRU(units, reset_after=False, **kw)),
]


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequence"])
@pytest.mark.parametrize(("kind", "make"), CELLS, ids=[c[0] for c in CELLS])
def test_each_recurrent_layer_matches_predict(
    kind, make, return_sequences, go_backwards, use_bias
):
    layer = make(
        5,
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        use_bias=use_bias,
    )
    proto = check(one_layer(layer), [sequences(4, 7, 3)])
    op_type = {"simple_rnn": "RNN", "lstm": "LSTM"}.get(kind, "GRU")
    node = node_of(proto, op_type)
    assert attribute(node, "direction") == (b"reverse" if go_backwards else b"forward")
    assert len(node.input) == (4 if use_bias else 3)
    # the sequence, or only the last state (Y left unnamed)
    assert (node.output[0] != "") == return_sequences
    # Keras returns a go_backwards sequence in reading order: flipped in time
    assert ("Slice" in ops(proto)) == (go_backwards and return_sequences)


#: (cell, argument) for every activation argument of every cell
ARGUMENTS = [
    (kind, make, argument)
    for kind, make in CELLS
    for argument in ("activation", "recurrent_activation")
    if not (kind == "simple_rnn" and argument == "recurrent_activation")
]


def with_activation(kind: str, argument: str, function: str) -> dict[str, str]:
    """``argument=function``, the cell's other activation set to another one."""
    other = "tanh" if function == "sigmoid" else "sigmoid"
    kwargs = {argument: function}
    if kind != "simple_rnn":
        kwargs.setdefault("activation", other)
        kwargs.setdefault("recurrent_activation", other)
    return kwargs


@pytest.mark.parametrize("function", SUPPORTED)
@pytest.mark.parametrize(
    ("kind", "make", "argument"), ARGUMENTS, ids=[f"{a[0]}-{a[2]}" for a in ARGUMENTS]
)
def test_every_activation_onnx_knows(kind, make, argument, function):
    layer = make(4, return_sequences=True, **with_activation(kind, argument, function))
    proto = check(one_layer(layer), [sequences(3, 6, 3)])
    assert len(recurrent_nodes(proto)) == 1


@pytest.mark.parametrize("function", ["gelu", "silu", "step"])
@pytest.mark.parametrize(
    ("kind", "make", "argument"), ARGUMENTS, ids=[f"{a[0]}-{a[2]}" for a in ARGUMENTS]
)
def test_activations_onnx_lacks_run_in_a_scan(kind, make, argument, function):
    layer = make(4, return_sequences=True, **with_activation(kind, argument, function))
    proto = check(one_layer(layer), [sequences(3, 6, 3)])
    assert recurrent_nodes(proto) == [] and "Scan" in ops(proto)


def test_activation_parameters_are_passed_in_order():
    # alpha values go to the functions that take one, in the order of the functions:
    # LSTM's (recurrent_activation, activation, activation) here LeakyRelu(0.05),
    # Elu(0.5), Elu(0.5)
    from glassnet import activations

    layer = LSTM(
        4,
        return_sequences=True,
        activation=activations.ELU(alpha=0.5),
        recurrent_activation=activations.LeakyReLU(negative_slope=0.05),
    )
    proto = check(one_layer(layer), [sequences(3, 6, 3)])
    node = node_of(proto, "LSTM")
    assert attribute(node, "activations") == [b"LeakyRelu", b"Elu", b"Elu"]
    np.testing.assert_allclose(attribute(node, "activation_alpha"), [0.05, 0.5, 0.5])
    linear = check(one_layer(SimpleRNN(4, activation="linear")), [sequences(2, 4, 3)])
    rnn = node_of(linear, "RNN")
    assert attribute(rnn, "activations") == [b"Affine"]
    assert attribute(rnn, "activation_alpha") == [1.0]
    assert attribute(rnn, "activation_beta") == [0.0]


class Cube(ActivationFunction):
    """Not a glassnet activation: nothing can translate it."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x**3

    def backward(self, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return 3 * x**2 * grad


@pytest.mark.parametrize(
    ("kind", "make", "argument"), ARGUMENTS, ids=[f"{a[0]}-{a[2]}" for a in ARGUMENTS]
)
def test_softmax_inside_a_recurrent_layer_is_refused(kind, make, argument):
    # glassnet normalizes it over the batch (its gates are (units, batch) blocks),
    # so predict's result would depend on how it splits the data
    layer = Bidirectional(make(3, **with_activation(kind, argument, "softmax")))
    with pytest.raises(ExportError, match=f"uses {argument}='softmax'"):
        to_onnx(one_layer(layer), None)


def test_unknown_activation_is_refused_by_name(tmp_path):
    model = one_layer(GRU(3, activation=Cube()))
    with pytest.raises(ExportError, match="Layer 'gru' uses the activation Cube"):
        to_onnx(model, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


# -- the weights in ONNX's layout -----------------------------------------------------
def test_lstm_gates_are_reordered_to_iofc():
    model = one_layer(LSTM(2))
    proto = to_onnx(model, None)
    kernel, recurrent, bias = model.get_weights()  # gate blocks i, f, c, o
    W, R, B = (initializer(proto, f"lstm.{key}")[0] for key in "WRB")
    assert W.shape == (8, 3) and R.shape == (8, 2) and B.shape == (16,)
    for onnx_block, keras_block in enumerate([0, 3, 1, 2]):  # i, o, f, c
        rows, cols = (
            slice(2 * onnx_block, 2 * onnx_block + 2),
            slice(2 * keras_block, 2 * keras_block + 2),
        )
        np.testing.assert_array_equal(W[rows], kernel[:, cols].T)
        np.testing.assert_array_equal(R[rows], recurrent[:, cols].T)
        np.testing.assert_array_equal(B[rows], bias[cols])
    np.testing.assert_array_equal(B[8:], 0.0)  # Keras has no recurrent bias


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_keeps_the_zrh_order_and_both_biases(reset_after):
    model = one_layer(GRU(2, reset_after=reset_after))
    proto = to_onnx(model, None)
    kernel, recurrent, bias = model.get_weights()
    node = node_of(proto, "GRU")
    assert attribute(node, "linear_before_reset") == int(reset_after)
    np.testing.assert_array_equal(initializer(proto, "gru.W")[0], kernel.T)
    np.testing.assert_array_equal(initializer(proto, "gru.R")[0], recurrent.T)
    B = initializer(proto, "gru.B")[0]
    if reset_after:  # (2, 3U): the input side, then the recurrent side
        np.testing.assert_array_equal(B, bias.reshape(-1))
    else:
        np.testing.assert_array_equal(B, np.concatenate([bias, np.zeros(6)]))


# -- Bidirectional, TimeDistributed, RepeatVector --------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequence"])
@pytest.mark.parametrize(("kind", "make"), CELLS, ids=[c[0] for c in CELLS])
def test_bidirectional_is_one_node(kind, make, return_sequences, merge_mode):
    layer = Bidirectional(make(4, return_sequences=return_sequences), merge_mode)
    proto = check(one_layer(layer), [sequences(3, 6, 3)])
    recurrent = [n for n in proto.graph.node if n.op_type in ("RNN", "LSTM", "GRU")]
    assert len(recurrent) == 1
    assert attribute(recurrent[0], "direction") == b"bidirectional"
    assert "Slice" not in ops(proto)  # ONNX's reverse outputs are in time order


BIDIRECTIONAL_PAIRS: list[tuple[str, Any]] = [
    (
        "lstm-then-gru",
        lambda rs: Bidirectional(
            LSTM(4, return_sequences=rs),
            backward_layer=GRU(4, go_backwards=True, return_sequences=rs),
        ),
    ),
    (
        "forward-layer-reads-backwards",
        lambda rs: Bidirectional(
            SimpleRNN(4, return_sequences=rs, go_backwards=True), "sum"
        ),
    ),
    (
        "simple-rnn-then-gru",
        lambda rs: Bidirectional(
            SimpleRNN(4, return_sequences=rs, activation="relu"),
            backward_layer=GRU(4, go_backwards=True, return_sequences=rs),
            merge_mode="mul",
        ),
    ),
    (
        "different-activations-one-node",
        lambda rs: Bidirectional(
            LSTM(4, return_sequences=rs, activation="elu"),
            backward_layer=LSTM(
                4, go_backwards=True, return_sequences=rs, use_bias=False
            ),
            merge_mode="ave",
        ),
    ),
]


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequence"])
@pytest.mark.parametrize(
    ("kind", "make"), BIDIRECTIONAL_PAIRS, ids=[p[0] for p in BIDIRECTIONAL_PAIRS]
)
def test_bidirectional_with_unlike_directions(kind, make, return_sequences):
    proto = check(one_layer(make(return_sequences)), [sequences(3, 6, 3)])
    recurrent = [n for n in proto.graph.node if n.op_type in ("RNN", "LSTM", "GRU")]
    assert len(recurrent) == (1 if kind == "different-activations-one-node" else 2)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", ["linear", "softmax", "relu"])
def test_time_distributed_dense_is_a_matmul_on_the_last_axis(activation, use_bias):
    model = Sequential(
        [
            Input((None, 3)),
            LSTM(4, return_sequences=True),
            TimeDistributed(Dense(5, activation=activation, use_bias=use_bias)),
        ],
        seed=0,
    )
    randomize(model)
    proto = check(model, [sequences(2, 6, 3)])
    assert "MatMul" in ops(proto)
    assert ("Add" in ops(proto)) == use_bias


def test_time_distributed_around_another_layer_is_refused():
    model = one_layer(TimeDistributed(Activation("relu")))
    with pytest.raises(ExportError, match="TimeDistributed around a Activation"):
        to_onnx(model, None)


def test_sequence_to_sequence_with_repeat_vector(tmp_path):
    # encoder state repeated for every output step, decoded step by step
    source = Input((None, 3), name="source")
    state = LSTM(6, name="encoder")(source)
    repeated = RepeatVector(4)(state)
    decoded = GRU(5, return_sequences=True, name="decoder")(repeated)
    model = Model(source, TimeDistributed(Dense(2), name="head")(decoded))
    randomize(model)
    proto = check(model, [sequences(3, 9, 3)], tmp_path)
    assert "Tile" in ops(proto)
    check(model, [sequences(2, 2, 3, seed=4)])


# -- Embedding and token ids ------------------------------------------------------------
def stack(seed: int = 0, dtype: str = "float32") -> Sequential:
    """The issue's stack: Embedding -> SimpleRNN -> LSTM -> GRU -> Dense."""
    model = Sequential(
        [
            Input((None,), dtype=dtype),
            Embedding(20, 6),
            SimpleRNN(8, return_sequences=True),
            LSTM(7, return_sequences=True),
            GRU(5),
            Dense(3, activation="softmax"),
        ],
        seed=seed,
    )
    randomize(model, seed=seed, scale=0.5)
    return model


def test_the_whole_stack_on_many_lengths_through_one_file(tmp_path):
    model = stack()
    proto = check(model, [np.arange(12).reshape(2, 6) % 20], tmp_path)
    sess = session(proto)
    (ids,) = sess.get_inputs()
    assert ids.type == "tensor(int64)" and ids.shape == ["batch", "input_dim1"]
    # one transpose to time-major for the whole stack: each recurrent layer reads
    # the one before it time-major
    assert ops(proto).count("Transpose") == 1
    assert ops(proto)[:6] == ["Less", "Where", "Gather", "Transpose", "RNN", "Gather"]
    rng = np.random.default_rng(3)
    for batch, steps in [(1, 1), (5, 3), (2, 17), (3, 64)]:
        tokens = rng.integers(0, 20, size=(batch, steps))
        (probabilities,) = sess.run(None, {"input": tokens})
        assert_close(probabilities, model.predict(tokens, verbose=0))


def test_sequences_of_any_length_in_a_functional_model():
    x = Input((None, 4), name="signal")
    h = LSTM(6, return_sequences=True)(x)
    h = Dropout(0.3)(h)  # keeps the sequence time-major
    h = Bidirectional(GRU(3, return_sequences=True))(h)
    model = Model(x, Dense(2)(GRU(4)(h)))
    randomize(model)
    proto = check(model, [sequences(2, 5, 4)])
    assert ops(proto).count("Transpose") == 1
    (signal,) = session(proto).get_inputs()
    assert signal.shape == ["batch", "signal_dim1", 4]
    for steps in (1, 2, 30):
        check(model, [sequences(3, steps, 4, seed=steps)])


def test_int_token_inputs_and_a_second_float_input():
    tokens = Input((None,), dtype="int32", name="tokens")
    numbers = Input((3,), name="numbers")
    words = LSTM(4)(Embedding(15, 5)(tokens))
    model = Model(
        [tokens, numbers], Dense(2)(Concatenate()([words, Dense(3)(numbers)]))
    )
    randomize(model)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 15, size=(4, 6))
    proto = check(model, [ids, rng.normal(size=(4, 3)).astype(np.float32)])
    types = {i.name: i.type for i in session(proto).get_inputs()}
    assert types == {"tokens": "tensor(int64)", "numbers": "tensor(float)"}


def test_float_values_read_as_ids_are_rounded():
    # an input that an Embedding and a Dense both read stays float; the Embedding
    # rounds it to whole ids, as glassnet does
    x = Input((4,), name="x")
    model = Model(x, Concatenate()([Flatten()(Embedding(10, 2)(x)), Dense(2)(x)]))
    randomize(model)
    values = np.array([[1, 2, 3, 4], [0, 9, 2.0001, 5]], dtype=np.float32)
    proto = check(model, [values])
    assert ops(proto)[:2] == ["Round", "Cast"]


@pytest.mark.parametrize("bad_id", [20, 25, -1, -20])
def test_ids_out_of_range_fail_in_the_runtime_too(bad_id):
    model = stack()
    ids = np.array([[1, 2, bad_id]])
    with pytest.raises(Exception, match="takes ids in"):
        model.predict(ids, verbose=0)
    sess = session(to_onnx(model, None))
    # ONNX's Gather would wrap a negative id to a row from the end: it is sent
    # out of range instead, so the runtime refuses it as glassnet does
    with pytest.raises(Exception, match="out of data bounds"):
        sess.run(None, {"input": ids})


def test_embedding_alone_and_in_a_bag_of_words_classifier():
    model = Sequential(
        [Input((6,)), Embedding(30, 4), Flatten(), Dense(2, activation="softmax")],
        seed=0,
    )
    randomize(model)
    check(model, [np.random.default_rng(0).integers(0, 30, size=(5, 6))])


def test_recurrent_layers_between_convolutions_and_pools():
    # Conv1D (channels-first inside) -> LSTM (time-major) -> pool (channels-first)
    model = Sequential(
        [
            Input((None, 3)),
            Conv1D(4, 3, padding="causal", activation="relu"),
            LSTM(5, return_sequences=True),
            GlobalAveragePooling1D(),
            Dense(2),
        ],
        seed=0,
    )
    randomize(model)
    proto = check(model, [sequences(2, 9, 3)])
    perms = [
        list(attribute(n, "perm")) for n in proto.graph.node if n.op_type == "Transpose"
    ]
    # (N, T, C) -> (N, C, T); (N, C, T) -> (T, N, C); (T, N, U) -> (N, U, T)
    assert perms == [[0, 2, 1], [2, 0, 1], [1, 2, 0]]


def test_a_trained_model_matches(tmp_path):
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 10, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.float32)[:, None]
    model = Sequential(
        [
            Input((None, 2)),
            Bidirectional(LSTM(8, return_sequences=True)),
            GRU(6),
            Dense(1, activation="sigmoid"),
        ],
        seed=0,
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    check(model, [x[:16]], tmp_path)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opset", [13, 17, 20, int(onnx.defs.onnx_opset_version())])
def test_every_opset_and_a_fixed_batch_size(opset, dtype):
    model = stack(seed=2, dtype=dtype)
    proto = to_onnx(model, None, opset=opset, batch_size=3)
    sess = session(proto)
    assert sess.get_inputs()[0].shape == [3, "input_dim1"]
    ids = np.random.default_rng(opset).integers(0, 20, size=(3, 5))
    (probabilities,) = sess.run(None, {"input": ids})
    assert_close(probabilities, model.predict(ids, verbose=0))


# -- float64: each step written out in a Scan ---------------------------------------------
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequence"])
@pytest.mark.parametrize(("kind", "make"), CELLS, ids=[c[0] for c in CELLS])
def test_float64_layers_run_in_a_scan(
    kind, make, return_sequences, go_backwards, use_bias
):
    layer = make(
        5,
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        use_bias=use_bias,
    )
    model = one_layer(layer, dtype="float64")
    proto = check(model, [sequences(4, 7, 3, dtype=np.float64)])
    assert recurrent_nodes(proto) == [] and ops(proto).count("Scan") == 1
    # Keras' go_backwards order comes from the loop itself: no flip after it
    assert "Slice" not in ops(proto)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequence"])
def test_float64_bidirectional(return_sequences, merge_mode):
    layer = Bidirectional(
        LSTM(4, return_sequences=return_sequences),
        merge_mode,
        backward_layer=GRU(4, return_sequences=return_sequences, go_backwards=True),
    )
    proto = check(
        one_layer(layer, dtype="float64"), [sequences(3, 6, 3, 1, np.float64)]
    )
    assert ops(proto).count("Scan") == 2


def test_float64_stack_on_many_lengths():
    model = Sequential(
        [
            Input((None,), dtype="float64"),
            Embedding(20, 6),
            SimpleRNN(8, return_sequences=True),
            LSTM(7, return_sequences=True, activation="elu"),
            GRU(5, reset_after=False),
            Dense(3, activation="softmax"),
        ],
        seed=0,
    )
    randomize(model, scale=0.5)
    proto = check(model, [np.arange(12).reshape(2, 6)])
    sess = session(proto)
    rng = np.random.default_rng(5)
    for batch, steps in [(1, 1), (4, 9), (2, 33)]:
        tokens = rng.integers(0, 20, size=(batch, steps))
        (probabilities,) = sess.run(None, {"input": tokens})
        assert probabilities.dtype == np.float64
        assert_close(probabilities, model.predict(tokens, verbose=0))


# -- what is refused ------------------------------------------------------------------
def test_masked_models_export(tmp_path):
    # more in test_masking_onnx.py: masks, Masking, states, and what is refused
    model = Sequential(
        [Input((None,)), Embedding(10, 3, mask_zero=True), LSTM(2)], seed=0
    )
    randomize(model)
    ids = np.array([[3, 1, 4, 0, 0], [0, 0, 2, 7, 1]])
    proto = check(model, [ids], tmp_path)
    assert "Scan" in ops(proto)


class MyLSTM(LSTM):
    """A subclass may compute something else."""


def test_bidirectional_around_a_subclass_is_refused():
    model = one_layer(Bidirectional(MyLSTM(3)))
    with pytest.raises(ExportError, match="'forward_my_lstm', a MyLSTM"):
        to_onnx(model, None)


def test_integer_input_read_by_another_layer_is_refused():
    tokens = Input((4,), dtype="int64", name="tokens")
    model = Model(tokens, Dense(2)(Embedding(5, 2)(tokens)))
    to_onnx(model, None)  # read by the Embedding only: fine
    words = Flatten()(Embedding(5, 1)(tokens))
    both = Model(tokens, Concatenate()([words, Dense(1)(tokens)]))
    with pytest.raises(ExportError, match="only Embedding layers may read token ids"):
        to_onnx(both, None)
