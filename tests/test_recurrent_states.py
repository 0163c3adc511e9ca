"""return_state and initial_state: recurrent layers' states in and out, as Keras 3.

- Keras 3 (torch backend) from the same weights, float32 within 1e-5: SimpleRNN,
  LSTM, GRU (both reset modes) and Bidirectional with return_state and
  initial_state, return_sequences and go_backwards, with padding masks (leading
  pads, where Keras' output starts at zero but the state at the initial state,
  and a fully padded row), and an encoder-decoder model;
- PyTorch autograd in float64 (1e-10 relative per tensor): torch's LSTM, GRU and
  RNN take h0 (and c0) and return h_n (and c_n): outputs, final states, dx, dh0,
  dc0 and every weight gradient, with gradients on the returned states too;
- float64 central differences: the initial states' and returned states'
  gradients of every layer with masks, go_backwards and dropout, and
  ``glassnet.gradcheck`` of whole models whose states flow from one layer into
  another (the encoder's weights are checked through the decoder's dh0, dc0);
- the graph: several outputs per call, None for outputs nothing used, masks per
  output, Sequential's refusal, summaries, clone_model, ONNX's refusal; the
  encoder-decoder pattern trains; the errors a user will meet.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest
import torch

import glassnet
from glassnet import Input, gradcheck
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.gradient_check import relative_error
from glassnet.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Embedding,
    Layer,
    SimpleRNN,
)
from glassnet.models import Model, Sequential, clone_model
from glassnet.models.walk import Walk

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(21)

#: four sequences of five steps: leading pads, trailing pads, none, all padding
MASK = np.array(
    [[0, 0, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool
)

CASES = [(SimpleRNN, {}), (LSTM, {}), (GRU, {}), (GRU, {"reset_after": False})]
OPTIONS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
]


def built(layer: Layer, shape: tuple[int, ...], dtype=np.float64) -> Layer:
    """``layer`` built for ``shape`` (batch first) with random weights."""
    layer.build(shape[1:], np.random.default_rng(0), dtype)
    for value in layer.params.values():
        value[...] = RNG.normal(scale=0.5, size=value.shape)
    return layer


def states_for(layer: Layer, batch: int, dtype=np.float64) -> list[np.ndarray]:
    return [RNG.normal(size=(batch, size)).astype(dtype) for size in layer.state_sizes]


def numeric(objective, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``objective()`` for every entry of ``array``."""
    grad = np.zeros_like(array)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        plus = objective()
        flat[i] = keep - eps
        minus = objective()
        flat[i] = keep
        out[i] = (plus - minus) / (2 * eps)
    return grad


def as_numpy(value) -> np.ndarray:
    return keras.ops.convert_to_numpy(value)


# -- Keras 3, the same weights ------------------------------------------------------------
def keras_twin(layer: Layer, shape: tuple[int, ...]):
    config = {k: v for k, v in layer.get_config().items() if k != "name"}
    twin = getattr(keras.layers, type(layer).__name__)(**config)
    twin.build(shape)
    twin.set_weights([w.astype("float32") for w in layer.get_weights()])
    return twin


@pytest.mark.parametrize(("cls", "kwargs"), CASES)
@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_states_in_and_out_match_keras(cls, kwargs, options, masked):
    ours = built(cls(3, return_state=True, **kwargs, **options), (4, 5, 2), np.float32)
    theirs = keras_twin(ours, (4, 5, 2))
    x = RNG.normal(size=(4, 5, 2)).astype("float32")
    start = states_for(ours, 4, np.float32)
    mask = MASK if masked else None
    for initial in (None, start):
        expected = theirs(x, initial_state=initial, mask=mask)
        found = ours(x, initial_state=initial, mask=mask)
        assert isinstance(found, tuple) and len(found) == 1 + len(ours.state_sizes)
        assert len(expected) == len(found)
        for got, want in zip(found, expected, strict=True):
            np.testing.assert_allclose(got, as_numpy(want), rtol=1e-5, atol=1e-5)
    if masked:  # Keras' output starts at zero, the state at the initial state
        output, h = found[0], found[1]
        row = output[3] if not ours.return_sequences else output[3, -1]
        np.testing.assert_array_equal(row, 0)
        np.testing.assert_allclose(h[3], start[0][3])


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_states_match_keras(merge_mode, return_sequences):
    inner = LSTM(3, return_sequences=return_sequences, return_state=True, name="l")
    ours = built(Bidirectional(inner, merge_mode=merge_mode, name="bi"), (4, 5, 2))
    theirs = keras.layers.Bidirectional(
        keras.layers.LSTM(
            3, return_sequences=return_sequences, return_state=True, name="l"
        ),
        merge_mode=merge_mode,
        name="bi",
    )
    theirs.build((None, 5, 2))
    theirs.set_weights([w.astype("float32") for w in ours.get_weights()])
    x = RNG.normal(size=(4, 5, 2))
    start = states_for(ours, 4)
    assert ours.state_sizes == [3, 3, 3, 3]
    for initial, mask in ((None, None), (start, None), (start, MASK)):
        expected = theirs(
            x.astype("float32"),
            initial_state=None
            if initial is None
            else [s.astype("float32") for s in initial],
            mask=mask,
        )
        found = ours(x, initial_state=initial, mask=mask)
        assert [f.shape for f in found] == [tuple(e.shape) for e in expected]
        for got, want in zip(found, expected, strict=True):
            np.testing.assert_allclose(got, as_numpy(want), rtol=1e-5, atol=1e-5)


def encoder_decoder(lib, units=4, bidirectional=False):
    """Keras' encoder-decoder: the encoder's last states start the decoder."""
    layers = lib.layers
    source, target = lib.Input((6, 3), name="source"), lib.Input((5, 2), name="target")
    if bidirectional:
        encoder = layers.Bidirectional(
            layers.GRU(units, return_state=True, name="gru"), name="encoder"
        )
        _, forward_h, backward_h = encoder(source)
        states = [layers.Add(name="both")([forward_h, backward_h])]
        decoder = layers.GRU(units, return_sequences=True, name="decoder")
    else:
        _, h, c = layers.LSTM(units, return_state=True, name="encoder")(source)
        states = [h, c]
        decoder = layers.LSTM(units, return_sequences=True, name="decoder")
    decoded = decoder(target, initial_state=states)
    scores = layers.Dense(3, name="scores")(decoded)
    return lib.Model([source, target], scores, name="seq2seq")


@pytest.mark.parametrize("bidirectional", [False, True], ids=["lstm", "bi-gru"])
def test_an_encoder_decoder_matches_keras(bidirectional):
    ours = encoder_decoder(glassnet, bidirectional=bidirectional)
    theirs = encoder_decoder(keras, bidirectional=bidirectional)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    weights = [
        RNG.normal(scale=0.5, size=w.shape).astype("float32") for w in ours.weights
    ]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = [RNG.normal(size=(7, 6, 3)), RNG.normal(size=(7, 5, 2))]
    expected = as_numpy(theirs([a.astype("float32") for a in x]))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-5)
    assert ours.output_shape == tuple(theirs.output_shape)


# -- PyTorch autograd in float64 ------------------------------------------------------------
def torch_twin(layer: Layer) -> torch.nn.Module:
    """torch's LSTM, GRU or RNN computing ``layer``, with its weights."""
    d, units = layer.params["W"].shape[0], layer.units
    kernel, recurrent = layer.params["W"], layer.params["recurrent_kernel"]
    bias = layer.params["b"]
    if isinstance(layer, GRU):
        module = torch.nn.GRU(d, units, batch_first=True)
        order = np.r_[units : 2 * units, 0:units, 2 * units : 3 * units]
        kernel, recurrent = kernel[:, order], recurrent[:, order]
        bias_ih, bias_hh = bias[0][order], bias[1][order]
    else:
        cls = torch.nn.LSTM if isinstance(layer, LSTM) else torch.nn.RNN
        module = cls(d, units, batch_first=True)
        bias_ih, bias_hh = bias, np.zeros_like(bias)
    module = module.double()
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor(kernel.T))
        module.weight_hh_l0.copy_(torch.tensor(recurrent.T))
        module.bias_ih_l0.copy_(torch.tensor(bias_ih))
        module.bias_hh_l0.copy_(torch.tensor(bias_hh))
    return module


def torch_results(layer, x, start, grads) -> dict[str, np.ndarray]:
    """torch's outputs and gradients of ``sum(y * dy) + sum(state_n * d state)``."""
    module = torch_twin(layer)
    x_t = torch.tensor(x, requires_grad=True)
    start_t = [torch.tensor(s[None], requires_grad=True) for s in start]
    given = tuple(start_t) if isinstance(layer, LSTM) else start_t[0]
    outputs, final = module(x_t.flip(1) if layer.go_backwards else x_t, given)
    final = list(final) if isinstance(layer, LSTM) else [final]
    y = outputs if layer.return_sequences else outputs[:, -1]
    found = [y, *(state[0] for state in final)]
    total = sum((v * torch.tensor(g)).sum() for v, g in zip(found, grads, strict=True))
    total.backward()
    units = layer.units
    weights = {
        "W": module.weight_ih_l0.grad.numpy().T,
        "recurrent_kernel": module.weight_hh_l0.grad.numpy().T,
        "b": module.bias_ih_l0.grad.numpy(),
    }
    if isinstance(layer, GRU):
        back = np.r_[units : 2 * units, 0:units, 2 * units : 3 * units]
        weights = {key: value[..., back] for key, value in weights.items()}
        weights["b"] = np.stack([weights["b"], module.bias_hh_l0.grad.numpy()[back]])
    return {
        **{f"out{i}": v.detach().numpy() for i, v in enumerate(found)},
        "x": x_t.grad.numpy(),
        **{f"start{i}": s.grad.numpy()[0] for i, s in enumerate(start_t)},
        **weights,
    }


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("options", OPTIONS)
def test_initial_and_returned_states_match_torch_autograd(cls, options):
    layer = built(cls(4, return_state=True, **options), (3, 6, 2))
    x, start = RNG.normal(size=(3, 6, 2)), states_for(layer, 3)
    found_out = layer.forward(x, keep_cache=True, initial_state=start)
    grads = [RNG.normal(size=v.shape) for v in found_out]
    dx, *d_start = layer.backward(grads)
    found = {
        **{f"out{i}": v for i, v in enumerate(found_out)},
        "x": dx,
        **{f"start{i}": g for i, g in enumerate(d_start)},
        **layer.grads,
    }
    expected = torch_results(layer, x, start, grads)
    assert found.keys() == expected.keys()
    for key, value in expected.items():
        assert relative_error(found[key], value) < 1e-10, key


# -- central differences ----------------------------------------------------------------
def state_errors(layer, x, start, mask=None, training=False) -> dict[str, float]:
    """Relative errors of every gradient of ``sum_i sum(out_i * r_i)``: the
    weights, x, and each initial state."""
    rng_state = [g.bit_generator.state for g in layer_generators(layer)]

    def run():
        for g, state in zip(layer_generators(layer), rng_state, strict=True):
            g.bit_generator.state = state  # the same dropout masks every time
        return layer.forward(
            x, training=training, keep_cache=True, mask=mask, initial_state=start
        )

    outs = run()
    outs = outs if isinstance(outs, tuple) else (outs,)
    weights = [RNG.normal(size=o.shape) for o in outs]

    def objective() -> float:
        found = run()
        found = found if isinstance(found, tuple) else (found,)
        return float(sum(np.sum(o * w) for o, w in zip(found, weights, strict=True)))

    objective()
    grad = layer.backward(weights if layer.return_state else weights[0])
    dx, *d_start = grad
    analytic = {**{k: g.copy() for k, g in layer.grads.items()}, "x": dx}
    analytic.update({f"state{i}": g for i, g in enumerate(d_start)})
    arrays = {**layer.params, "x": x, **{f"state{i}": s for i, s in enumerate(start)}}
    return {
        key: relative_error(analytic[key], numeric(objective, arrays[key]))
        for key in analytic
    }


def layer_generators(layer):
    inner = getattr(layer, "inner_layers", lambda: [layer])()
    return [g for g in (getattr(i, "_rng", None) for i in inner) if g is not None]


@pytest.mark.parametrize(("cls", "kwargs"), CASES)
@pytest.mark.parametrize("options", OPTIONS[1:])
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_state_gradients_by_central_differences(cls, kwargs, options, masked):
    layer = built(cls(3, return_state=True, **kwargs, **options), (4, 5, 2))
    x, start = RNG.normal(size=(4, 5, 2)), states_for(layer, 4)
    errors = state_errors(layer, x, start, MASK if masked else None)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(("cls", "kwargs"), CASES)
def test_state_gradients_with_dropout_and_zero_outputs(cls, kwargs):
    layer = cls(
        3,
        **kwargs,
        return_state=True,
        return_sequences=True,
        dropout=0.3,
        recurrent_dropout=0.4,
        zero_output_for_mask=True,
        seed=3,
    )
    layer = built(layer, (4, 5, 2))
    x, start = RNG.normal(size=(4, 5, 2)), states_for(layer, 4)
    errors = state_errors(layer, x, start, MASK, training=True)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_state_gradients(return_sequences):
    inner = GRU(3, return_state=True, return_sequences=return_sequences)
    layer = built(Bidirectional(inner, merge_mode="mul"), (4, 5, 2))
    x, start = RNG.normal(size=(4, 5, 2)), states_for(layer, 4)
    errors = state_errors(layer, x, start, MASK)
    assert max(errors.values()) < 1e-7, errors
    assert sorted(k for k in errors if k.startswith("state")) == ["state0", "state1"]


def test_unused_outputs_get_none_and_a_lone_state_still_reaches_the_weights():
    layer = built(LSTM(3, return_state=True), (2, 4, 2))
    x = RNG.normal(size=(2, 4, 2))
    _, _, c = layer.forward(x, keep_cache=True)
    dc = RNG.normal(size=c.shape)
    assert layer.backward([None, None, dc]).shape == x.shape
    lone = {key: grad.copy() for key, grad in layer.grads.items()}
    layer.forward(x, keep_cache=True)
    layer.backward([np.zeros((2, 3)), np.zeros((2, 3)), dc])
    for key, grad in layer.grads.items():  # None counts as zero
        np.testing.assert_allclose(lone[key], grad, rtol=1e-12, atol=1e-15)
    with pytest.raises(ShapeError, match="one gradient for each"):
        layer.backward(dc)


# -- whole models: gradcheck, training ---------------------------------------------------
def test_gradcheck_of_models_whose_states_flow_between_layers():
    # The encoder's weights are checked through the decoder's dh0 and dc0 only.
    glassnet.utils.set_random_seed(1)
    model = encoder_decoder(glassnet, units=3)
    model.compile(loss="mse")
    x = [RNG.normal(size=(3, 6, 3)), RNG.normal(size=(3, 5, 2))]
    report = gradcheck(model, x, RNG.normal(size=(3, 5, 3)))
    assert report.passed, str(report)
    assert {"encoder.W", "encoder.recurrent_kernel", "encoder.b"} <= set(report.errors)
    # states from Dense layers on a second input, masked tokens, go_backwards
    tokens, context = Input((5,), dtype="int32"), Input((2,))
    embedded = Embedding(6, 3, mask_zero=True)(tokens)
    h0 = Dense(4, activation="tanh", name="h0")(context)
    c0 = Dense(4, name="c0")(context)
    out, h, c = LSTM(4, return_state=True, go_backwards=True, return_sequences=True)(
        embedded, initial_state=[h0, c0]
    )
    summary = GRU(2, name="gru")(out, initial_state=Dense(2, name="from_h")(h))
    model = Model([tokens, context], [summary, c])
    model.compile(loss=["mse", "mse"], loss_weights=[1.0, 0.5])
    ids = np.where(MASK, RNG.integers(1, 6, size=MASK.shape), 0)
    x = [ids, RNG.normal(size=(4, 2))]
    report = gradcheck(model, x, [RNG.normal(size=(4, 2)), RNG.normal(size=(4, 4))])
    assert report.passed, str(report)
    assert {"h0.W", "c0.W", "from_h.W"} <= set(report.errors)


def copy_task(n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The decoder sees only zeros: the running sums of the source it must output
    reach it through the encoder's states alone."""
    rng = np.random.default_rng(seed)
    source = rng.uniform(-1, 1, size=(n, 6, 3))
    target = np.cumsum(source[:, :5, :], axis=1) / 3.0
    return [source, np.zeros((n, 5, 2))], target


def test_the_encoder_decoder_pattern_trains():
    glassnet.utils.set_random_seed(0)
    model = encoder_decoder(glassnet, units=16)
    model.compile(optimizer=glassnet.optimizers.Adam(0.01), loss="mse")
    x, y = copy_task(256, 0)
    baseline = float(np.mean(y**2))
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    x_test, y_test = copy_task(128, 1)
    loss = model.evaluate(x_test, y_test, verbose=0)
    assert loss < 0.15 * baseline, (loss, baseline)
    # without the states the decoder cannot do it: zero states give one answer
    blind = LSTM(16, return_sequences=True)
    assert blind(x_test[1]).std(axis=0).max() == 0.0


# -- the graph -----------------------------------------------------------------------------
def test_a_call_with_several_outputs_in_the_graph():
    x = Input((5, 2))
    out, h, c = LSTM(3, return_state=True, name="encoder")(x)
    assert [t.index for t in (out, h, c)] == [0, 1, 2]
    assert out.shape == h.shape == c.shape == (None, 3)
    model = Model(x, [out, h, c])
    data = RNG.normal(size=(4, 5, 2))
    found = model.predict(data, verbose=0)
    layer = model.get_layer("encoder")
    for got, want in zip(found, layer(data.astype("float32")), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert model.output_shape == [(None, 3)] * 3
    # only h is used downstream: the walk hands the LSTM [None, dh, None]
    seen = []
    real_backward = layer.backward
    layer.backward = lambda g, **kw: seen.append(g) or real_backward(g, **kw)
    head = Dense(1)(h)
    walk = Walk(Model(x, head).graph)
    [y] = walk.forward([data.astype("float32")], training=True)
    walk.backward([np.ones_like(y)])
    assert seen[0][0] is None and seen[0][2] is None and seen[0][1].shape == (4, 3)


def test_masks_per_output_and_a_shared_layer():
    tokens = Input((5,), dtype="int32")
    embedded = Embedding(6, 3, mask_zero=True)(tokens)
    shared = GRU(3, return_state=True, return_sequences=True, name="shared")
    seq, h = shared(embedded)
    again, h2 = shared(seq, initial_state=h)
    model = Model(tokens, [again, h2])
    ids = np.where(MASK, 1 + np.arange(5) % 5, 0)
    model.predict(ids, verbose=0)
    assert np.array_equal(model.graph.output_masks[0], MASK)
    assert model.graph.output_masks[1] is None  # states carry no mask (Keras)
    assert shared.compute_mask(None, MASK)[1:] == [None]
    data = ids.astype("int64")
    first, state = shared(model.layers[1](data), mask=MASK)
    expected = shared(first, mask=MASK, initial_state=state)
    for got, want in zip(model.predict(ids, verbose=0), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_sequential_refuses_a_layer_with_several_outputs():
    with pytest.raises(
        InvalidArgumentError, match=r"'lstm'.*several outputs.*functional"
    ):
        Sequential([Input((5, 2)), LSTM(3, return_state=True, name="lstm")])
    model = Sequential([Input((5, 2))])
    with pytest.raises(InvalidArgumentError, match="return_state=True"):
        model.add(Bidirectional(GRU(2, return_state=True)))
    assert model.layers == []


def test_summary_clone_and_onnx(tmp_path):
    model = encoder_decoder(glassnet)
    text = []
    model.summary(print_fn=text.append, line_length=250)
    model.summary(print_fn=text.append, explain=True)  # costs of list shapes
    assert "[(None, 4), (None, 4), (None, 4)]" in text[0]
    assert "target[0][0], encoder[0][1], encoder[0][2]" in text[0]
    assert "returned h and returned c" in text[1]
    copy = clone_model(model)
    copy.set_weights(model.get_weights())
    x = [RNG.normal(size=(2, 6, 3)), RNG.normal(size=(2, 5, 2))]
    np.testing.assert_array_equal(
        copy.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from glassnet.export import to_onnx

    # the states become the ONNX ops' initial_h/c and Y_h/c (test_masking_onnx.py)
    path = to_onnx(model, tmp_path / "seq2seq.onnx")
    sess = ort.InferenceSession(str(path))
    feed = {
        i.name: a.astype(np.float32) for i, a in zip(sess.get_inputs(), x, strict=True)
    }
    (got,) = sess.run(None, feed)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


# -- softmax activations normalize over the units (Keras) --------------------------------
SOFTMAX_CASES = [
    (SimpleRNN, {"activation": "softmax"}),
    (LSTM, {"recurrent_activation": "softmax"}),
    (LSTM, {"activation": "softmax"}),
    (GRU, {"recurrent_activation": "softmax", "activation": "softmax"}),
    (GRU, {"recurrent_activation": "softmax", "reset_after": False}),
]


@pytest.mark.parametrize(("cls", "kwargs"), SOFTMAX_CASES)
def test_softmax_activations_normalize_each_gate_over_its_units(cls, kwargs):
    ours = built(cls(4, return_sequences=True, **kwargs), (3, 5, 2), np.float32)
    theirs = keras_twin(ours, (3, 5, 2))
    x = RNG.normal(size=(3, 5, 2)).astype("float32")
    np.testing.assert_allclose(ours(x), as_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    # one sample's output does not depend on the others (no mixing over the batch)
    np.testing.assert_allclose(ours(x[:1]), ours(x)[:1], rtol=1e-6)
    layer = built(cls(3, **kwargs), (2, 4, 2))
    report = gradcheck(layer, RNG.normal(size=(2, 4, 2)))
    assert report.passed, str(report)


# -- Bidirectional with a backward layer of other units ------------------------------------
def test_bidirectional_with_a_narrower_backward_layer():
    def make(L, merge_mode="concat"):
        return L.Bidirectional(
            L.LSTM(3, return_sequences=True),
            backward_layer=L.LSTM(2, return_sequences=True, go_backwards=True),
            merge_mode=merge_mode,
        )

    ours = make(glassnet.layers)
    assert ours.output_shape((5, 2)) == (5, 5)  # Keras declares (5, 6), computes 5
    ours = built(ours, (3, 5, 2), np.float32)
    theirs = make(keras.layers)
    theirs.build((None, 5, 2))
    theirs.set_weights(ours.get_weights())
    x = RNG.normal(size=(3, 5, 2)).astype("float32")
    np.testing.assert_allclose(ours(x), as_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    inputs = Input((5, 2))
    model = Model(inputs, Dense(1)(make(glassnet.layers)(inputs)))
    assert model.layers[1].output.shape == (None, 5, 5)
    assert model.predict(x, verbose=0).shape == (3, 5, 1)
    report = gradcheck(
        built(make(glassnet.layers), (2, 4, 2)), RNG.normal(size=(2, 4, 2))
    )
    assert report.passed, str(report)
    # Keras fails when called; glassnet refuses when the layer is made
    with pytest.raises(InvalidArgumentError, match=r"merge_mode='sum'.*same units"):
        make(glassnet.layers, "sum")
    with pytest.raises(InvalidArgumentError, match="return_state"):
        Bidirectional(
            LSTM(2, return_state=True), backward_layer=LSTM(2, go_backwards=True)
        )


# -- what a user will get wrong ---------------------------------------------------------------
BAD_CALLS = [
    (
        lambda: LSTM(3)(np.ones((2, 4, 1)), initial_state=[np.ones((2, 3))]),
        InvalidArgumentError,
        r"LSTM layer 'lstm' starts from 2 state\(s\).*\[h, c\]",
    ),
    (
        lambda: GRU(3)(np.ones((2, 4, 1)), initial_state=np.ones((2, 4))),
        ShapeError,
        r"initial_state\[0\] \(h\) must be shaped \(batch, 3\)",
    ),
    (
        lambda: GRU(3)(np.ones((2, 4, 1)), initial_state=np.ones((5, 3))),
        ShapeError,
        r"\(batch, units\) = \(2, 3\) for this batch",
    ),
    (
        lambda: GRU(3)(Input((4, 1)), initial_state=np.ones((2, 3))),
        GlassnetTypeError,
        "symbolic tensors.*Input",
    ),
    (
        lambda: GRU(3)(np.ones((2, 4, 1)), initial_state=Input((3,))),
        GlassnetTypeError,
        "called on arrays, so initial_state must hold arrays",
    ),
    (
        lambda: LSTM(3)(Input((4, 1)), initial_state=[Input((3,)), Input((2,))]),
        ShapeError,
        r"initial_state\[1\] \(c\) must be shaped \(batch, 3\)",
    ),
    (
        lambda: Bidirectional(GRU(3))(
            np.ones((2, 4, 1)), initial_state=[np.ones((2, 3))]
        ),
        InvalidArgumentError,
        r"\[forward h, backward h\]",
    ),
    (
        lambda: GRU(3)(Input((4, 1)), mask=np.ones((1, 4)), initial_state=Input((3,))),
        InvalidArgumentError,
        "mask= is taken on arrays only",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_CALLS)
def test_bad_states_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- files: glassnet's formats, and Keras 3 reading them (and the reverse) ------------
@pytest.mark.parametrize("bidirectional", [False, True], ids=["lstm", "bi-gru"])
def test_models_with_states_save_load_and_cross_to_keras(tmp_path, bidirectional):
    from glassnet.io import load_model, load_weights, save_model, save_weights

    model = encoder_decoder(glassnet, bidirectional=bidirectional)
    model.compile(optimizer="adam", loss="mse")
    x = [RNG.normal(size=(3, 6, 3)).astype("float32"), RNG.normal(size=(3, 5, 2))]
    x[1] = x[1].astype("float32")
    expected = model.predict(x, verbose=0)
    for name in ("m.keras", "m.h5"):
        save_model(model, tmp_path / name)
        again = load_model(tmp_path / name)
        np.testing.assert_array_equal(again.predict(x, verbose=0), expected)
        theirs = keras.saving.load_model(tmp_path / name, compile=False)
        np.testing.assert_allclose(as_numpy(theirs(x)), expected, atol=1e-6)
    for name in ("w.weights.h5", "w.safetensors"):
        save_weights(model, tmp_path / name)
        other = encoder_decoder(glassnet, bidirectional=bidirectional)
        load_weights(other, tmp_path / name)
        np.testing.assert_array_equal(other.predict(x, verbose=0), expected)
    rebuilt = Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), expected)
    decoder_call = model.get_config()["layers"][-2]["inbound_nodes"][0]
    assert [
        t["config"]["keras_history"][2] for t in decoder_call["kwargs"]["initial_state"]
    ] == ([0] if bidirectional else [1, 2])
    keras_model = encoder_decoder(keras, bidirectional=bidirectional)
    keras_model.set_weights(model.get_weights())
    for name in ("k.keras", "k.h5"):
        keras_model.save(tmp_path / name)
        np.testing.assert_array_equal(
            load_model(tmp_path / name).predict(x, verbose=0), expected
        )


def test_a_model_whose_outputs_are_states_round_trips_through_keras(tmp_path):
    from glassnet.io import load_model, save_model

    inputs = Input((6, 3))
    outputs = GRU(4, return_state=True, return_sequences=True, name="gru")(inputs)
    model = Model(inputs, list(outputs))
    assert model.get_config()["output_layers"] == [["gru", 0, 0], ["gru", 0, 1]]
    save_model(model, tmp_path / "states.keras")
    x = RNG.normal(size=(2, 6, 3)).astype("float32")
    for got, want in zip(
        keras.saving.load_model(tmp_path / "states.keras")(x),
        model.predict(x, verbose=0),
        strict=True,
    ):
        np.testing.assert_allclose(as_numpy(got), want, atol=1e-6)
    assert load_model(tmp_path / "states.keras").output_shape == [
        (None, 6, 4),
        (None, 4),
    ]


def test_a_config_naming_an_output_a_call_lacks_is_refused():
    from glassnet.errors import ModelFileError
    from glassnet.io.architecture import model_from_config
    from glassnet.io.functional import functional_to_config

    inputs = Input((6, 3))
    _, h = GRU(4, return_state=True, name="gru")(inputs)
    document = functional_to_config(Model(inputs, Dense(1, name="d")(h)))
    node = document["config"]["layers"][-1]["inbound_nodes"][0]
    node["args"][0]["config"]["keras_history"] = ["gru", 0, 2]
    with pytest.raises(
        ModelFileError, match=r"'d'.*\['gru', 0, 2\].*gives 2 outputs \(#0 to #1\)"
    ):
        model_from_config(document, "config")


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_return_state_configs_match_keras(cls):
    ours = cls(3, return_state=True, go_backwards=True, name="rnn").get_config()
    theirs = getattr(keras.layers, cls.__name__)(
        3, return_state=True, go_backwards=True, name="rnn"
    ).get_config()
    assert all(ours[key] == theirs[key] for key in ("return_state", "go_backwards"))
    assert cls.from_config(ours).get_config() == ours


def test_the_walk_returns_the_gradients_of_inputs_used_as_states():
    x, h0, c0 = Input((5, 2)), Input((3,)), Input((3,))
    layer = LSTM(3, return_sequences=True, name="lstm")
    model = Model([x, h0, c0], layer(x, initial_state=[h0, c0]))
    data = [RNG.normal(size=(4, 5, 2)), *states_for(layer, 4)]
    data = [a.astype("float32") for a in data]
    walk = Walk(model.graph, input_grads=True)
    [y] = walk.forward(data, training=True)
    dy = RNG.normal(size=y.shape).astype("float32")
    found = walk.backward([dy])
    layer.forward(data[0], keep_cache=True, initial_state=data[1:])
    expected = layer.backward(dy)
    for got, want in zip(found, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
