"""ONNX export of padding masks and of recurrent states, checked with onnxruntime.

Masking and Embedding(mask_zero=True) make the recurrent layers after them skip
padded steps; the export writes those layers as a ``Scan`` that reads the mask
beside each step (``export/_masks.py``, ``export/_scan.py``). ``return_state`` and
``initial_state=`` become the ONNX ops' ``initial_h``/``initial_c`` inputs and
``Y_h``/``Y_c`` outputs (or a Scan's initial and final states). Every exported
graph passes onnx's full checker and gives what ``predict`` gives (float32: 1e-5;
float64: 1e-12); what is still out of reach is refused by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from glassnet import Input, Model  # noqa: E402
from glassnet.export import ExportError, to_onnx  # noqa: E402
from glassnet.layers import (  # noqa: E402
    GRU,
    LSTM,
    BatchNormalization,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    Masking,
    SimpleRNN,
    TimeDistributed,
)
from glassnet.models import Sequential  # noqa: E402

RNNS = [LSTM, GRU, SimpleRNN]
RNG = np.random.default_rng(3)
#: six token rows: padding at the end, in front, between tokens, all of it, none
IDS = RNG.integers(1, 6, size=(6, 9))
IDS[0, 4:] = 0
IDS[1, :3] = 0
IDS[2, [1, 4, 5]] = 0
IDS[3] = 0


def randomize(model: Any, seed: int = 1, scale: float = 0.5) -> None:
    rng = np.random.default_rng(seed)
    values = [rng.normal(scale=scale, size=w.shape) for w in model.weights]
    for weight, value in zip(model.weights, values, strict=True):
        if "variance" in weight.name:
            value[...] = np.abs(value) + 0.5
    model.set_weights(values)


def check(model: Any, xs: list[np.ndarray]) -> Any:
    proto = to_onnx(model, None)
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feed = {i.name: x for i, x in zip(sess.get_inputs(), xs, strict=True)}
    expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    got = sess.run(None, feed)
    assert len(got) == len(expected)
    for actual, wanted in zip(got, expected, strict=True):
        assert actual.dtype == wanted.dtype and actual.shape == wanted.shape
        tol = 1e-5 if wanted.dtype == np.float32 else 1e-12
        scale = max(1.0, float(np.abs(wanted).max()))
        np.testing.assert_allclose(actual, wanted, rtol=tol, atol=tol / 10 * scale)
    return proto


def ops(proto: Any) -> list[str]:
    return [node.op_type for node in proto.graph.node]


# -- padding masks --------------------------------------------------------------------
@pytest.mark.parametrize("rnn", RNNS)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_embedding_mask_through_a_stack_matches_predict(rnn, go_backwards):
    model = Sequential(
        [
            Input((None,), dtype="int64"),
            Embedding(6, 3, mask_zero=True),
            rnn(4, return_sequences=True, go_backwards=go_backwards),
            Dropout(0.5),
            TimeDistributed(Dense(3, activation="tanh")),
            BatchNormalization(),
            rnn(3, go_backwards=not go_backwards),
            Dense(2),
        ],
        seed=0,
    )
    randomize(model)
    proto = check(model, [IDS])
    assert ops(proto).count("Scan") == 2
    # the mask matters: the same weights without it give other answers
    plain = Sequential(
        [
            Input((None,), dtype="int64"),
            Embedding(6, 3),
            *[
                type(layer).from_config(layer.get_config())
                for layer in model.layers[1:]
            ],
        ],
        seed=0,
    )
    plain.set_weights(model.get_weights())
    assert not np.allclose(plain.predict(IDS, verbose=0), model.predict(IDS, verbose=0))
    # longer padding changes nothing for the rows padded at the end
    longer = np.pad(IDS, ((0, 0), (0, 5)))
    sess = ort.InferenceSession(proto.SerializeToString())
    (a,) = sess.run(None, {"input": IDS})
    (b,) = sess.run(None, {"input": longer})
    if not go_backwards:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rnn", RNNS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("zero_output", [False, True])
def test_masking_layer_sequences_match_predict(rnn, dtype, zero_output):
    x = RNG.normal(size=(6, 9, 3)).astype(dtype)
    x[IDS == 0] = 0.0
    model = Sequential(
        [
            Input((None, 3), dtype=dtype),
            Masking(0.0),
            rnn(4, return_sequences=True, zero_output_for_mask=zero_output),
        ],
        seed=0,
    )
    randomize(model, seed=2)
    proto = check(model, [x])
    assert "Scan" in ops(proto)


def test_masking_with_another_mask_value_zeroes_the_masked_steps():
    x = RNG.normal(size=(6, 9, 2)).astype("float32")
    x[IDS == 0] = -1.0
    model = Sequential([Input((9, 2)), Masking(-1.0), LSTM(3, return_sequences=True)])
    randomize(model)
    check(model, [x])
    masked_only = Sequential([Input((9, 2)), Masking(-1.0)])
    proto = check(masked_only, [x])
    (y,) = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x})
    assert np.all(y[IDS == 0] == 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling_averages_the_real_steps(dtype, keepdims):
    # channels-first in float32 graphs, channels-last in float64 ones; a row of
    # padding only gives NaN, in glassnet as in Keras
    x = RNG.normal(size=(6, 9, 3)).astype(dtype)
    x[IDS == 0] = 0.0
    model = Sequential(
        [
            Input((None, 3), dtype=dtype),
            Masking(0.0),
            Dense(4),
            GlobalAveragePooling1D(keepdims=keepdims),
            Dense(2),
        ],
        seed=0,
    )
    randomize(model)
    check(model, [x])
    tokens = Sequential(
        [
            Input((None,), dtype="int64"),
            Embedding(6, 3, mask_zero=True),
            GlobalAveragePooling1D(),
        ]
    )
    randomize(tokens)
    out = check(tokens, [IDS])
    assert "ReduceSum" in ops(out)


def test_a_functional_model_with_a_masked_encoder_and_two_outputs():
    tokens = Input((None,), dtype="int64", name="tokens")
    hidden = GRU(4, return_sequences=True)(Embedding(6, 3, mask_zero=True)(tokens))
    model = Model(tokens, [LSTM(2)(hidden), TimeDistributed(Dense(1))(hidden)])
    randomize(model)
    check(model, [IDS])


def test_a_masked_encoder_returns_the_states_of_its_last_real_steps():
    tokens = Input((None,), dtype="int64")
    masked = Embedding(6, 3, mask_zero=True)(tokens)
    model = Model(tokens, LSTM(4, return_state=True, go_backwards=True)(masked))
    randomize(model)
    check(model, [IDS])


def test_a_masked_softmax_activation_is_refused_too():
    model = Sequential(
        [
            Input((None,), dtype="int64"),
            Embedding(6, 3, mask_zero=True),
            GRU(2, activation="softmax"),
        ]
    )
    with pytest.raises(ExportError, match="activation='softmax'"):
        to_onnx(model, None)


# -- states ---------------------------------------------------------------------------
@pytest.mark.parametrize("rnn", RNNS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("sequences", [False, True])
def test_encoder_decoder_states_match_predict(rnn, dtype, go_backwards, sequences):
    source = Input((None, 3), dtype=dtype)
    target = Input((None, 2), dtype=dtype)
    encoded, *states = rnn(4, return_state=True, go_backwards=go_backwards)(source)
    decoder = rnn(
        4, return_sequences=sequences, return_state=True, go_backwards=not go_backwards
    )
    decoded = decoder(target, initial_state=states)
    model = Model([source, target], [Dense(2)(encoded), *decoded])
    randomize(model)
    xs = [
        RNG.normal(size=(5, 7, 3)).astype(dtype),
        RNG.normal(size=(5, 6, 2)).astype(dtype),
    ]
    proto = check(model, xs)
    kind = {LSTM: "LSTM", GRU: "GRU", SimpleRNN: "RNN"}[rnn]
    assert ops(proto).count("Scan" if dtype == "float64" else kind) == 2


def test_a_decoder_started_from_given_states_alone():
    x, h0, c0 = Input((None, 3)), Input((4,)), Input((4,))
    model = Model(
        [x, h0, c0], LSTM(4, return_sequences=True)(x, initial_state=[h0, c0])
    )
    randomize(model)
    xs = [RNG.normal(size=(3, 5, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))]
    check(model, [a.astype("float32") for a in xs])


# -- what is still refused ----------------------------------------------------------
def test_layers_that_use_masks_otherwise_are_refused_by_name(tmp_path):
    tokens = Input((None,), dtype="int64")
    masked = Embedding(6, 3, mask_zero=True)(tokens)
    model = Model(tokens, Bidirectional(LSTM(2))(masked))
    with pytest.raises(
        ExportError, match=r"'bidirectional' \(Bidirectional\)"
    ) as error:
        to_onnx(model, tmp_path / "model.onnx")
    assert "padding mask" in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_a_masked_layer_with_initial_states_is_refused():
    tokens, h0 = Input((None,), dtype="int64"), Input((3,))
    masked = Embedding(6, 2, mask_zero=True)(tokens)
    model = Model([tokens, h0], GRU(3)(masked, initial_state=[h0]))
    with pytest.raises(ExportError, match=r"initial_state=.*not the initial state"):
        to_onnx(model, None)


def test_bidirectional_states_are_refused_by_name():
    x = Input((None, 3))
    outputs = Bidirectional(LSTM(2), name="both")(x, initial_state=None)
    model = Model(x, outputs)
    assert model is not None
    both = Bidirectional(GRU(2, return_state=True), name="states")
    model = Model(x, both(x))
    with pytest.raises(ExportError, match="Layer 'states' is a Bidirectional"):
        to_onnx(model, None)
