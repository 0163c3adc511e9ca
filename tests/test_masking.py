"""Padding masks: Masking, Embedding(mask_zero=True), and what carries and uses them.

- float64 central differences of every tensor (weights and x) of SimpleRNN, LSTM,
  GRU (both reset modes) and Bidirectional with leading, trailing and middle pads
  and a fully padded row, for return_sequences, go_backwards and
  zero_output_for_mask on and off, and with dropout while training;
- PyTorch autograd in float64 (1e-10 relative per tensor): torch has no masks, so
  each post-padded sequence is run alone over its real length, and the masked
  batch must give the same outputs and the sum of the per-sequence gradients;
- Keras 3 (torch backend) from the same weights: every layer and option with a
  mask, Masking and Embedding(mask_zero) stacks (Sequential and functional,
  Bidirectional, go_backwards), GlobalAveragePooling1D, the merge layers' masks,
  and a masked TimeDistributed output's loss, metrics, fit history and weights;
- the walk carries masks only when a layer makes them; Keras' rules for which
  layers pass them on; the masked loss's gradient against central differences;
  a padded task that needs masking; the errors a user will meet.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest
import torch

import glassnet
from glassnet import gradcheck
from glassnet.errors import GlassnetTypeError, InvalidArgumentError, ShapeError
from glassnet.gradient_check import relative_error
from glassnet.layers import (
    GRU,
    LSTM,
    Add,
    Bidirectional,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    Layer,
    Masking,
    SimpleRNN,
    TimeDistributed,
)
from glassnet.losses import get as get_loss
from glassnet.losses.masked import mask_weights, masked_loss
from glassnet.models import Model, Sequential
from glassnet.models.walk import Walk
from glassnet.optimizers import Adam
from glassnet.training import make_gradient_step

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RNG = np.random.default_rng(7)

#: five sequences of six steps: trailing pads, leading pads, pads in the middle (and
#: at the end), none, and a sequence that is all padding
MASK = np.array(
    [
        [1, 1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1, 1],
        [1, 0, 0, 1, 1, 0],
        [1, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=bool,
)


def built(layer: Layer, shape: tuple[int, ...], dtype=np.float64) -> Layer:
    """``layer`` built for ``shape`` (batch first) with random weights."""
    layer.build(shape[1:], np.random.default_rng(0), dtype)
    for value in layer.params.values():
        value[...] = RNG.normal(scale=0.5, size=value.shape)
    return layer


def numeric(objective, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``objective()`` over every entry of ``array``."""
    grad = np.zeros_like(array)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        up = objective()
        flat[i] = saved - eps
        down = objective()
        flat[i] = saved
        out[i] = (up - down) / (2 * eps)
    return grad


def masked_layer_errors(layer: Layer, x, mask, training=False) -> dict[str, float]:
    """Relative errors of ``layer``'s weight and input gradients on
    ``sum(layer(x, mask) * r)``, against central differences (each evaluation
    draws the same dropout masks)."""
    generators = [
        g
        for each in [layer, *getattr(layer, "inner_layers", list)()]
        for g in vars(each).values()
        if isinstance(g, np.random.Generator)
    ]
    states = [g.bit_generator.state for g in generators]

    def run() -> np.ndarray:
        for generator, state in zip(generators, states, strict=True):
            generator.bit_generator.state = state
        return layer.forward(x, training=training, keep_cache=True, mask=mask)

    r = RNG.normal(size=run().shape)
    run()
    grad_x = layer.backward(r)
    analytic = {key: grad.copy() for key, grad in layer.grads.items()}

    def objective() -> float:
        return float((run() * r).sum())

    errors = {
        key: relative_error(analytic[key], numeric(objective, p))
        for key, p in layer.params.items()
    }
    errors["x"] = relative_error(grad_x, numeric(objective, x))
    return errors


CELLS = [(SimpleRNN, {}), (LSTM, {}), (GRU, {}), (GRU, {"reset_after": False})]
OPTIONS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
    {"zero_output_for_mask": True},
    {"zero_output_for_mask": True, "return_sequences": True},
    {"zero_output_for_mask": True, "go_backwards": True, "return_sequences": True},
]


# -- gradients against central differences ----------------------------------------------
@pytest.mark.parametrize(("cls", "kwargs"), CELLS)
@pytest.mark.parametrize("options", OPTIONS)
def test_masked_gradients_of_every_tensor(cls, kwargs, options):
    layer = built(cls(3, **kwargs, **options), (5, 6, 2))
    errors = masked_layer_errors(layer, RNG.normal(size=(5, 6, 2)), MASK)
    assert list(errors) == [*layer.params, "x"]
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(("cls", "kwargs"), CELLS)
def test_masked_gradients_with_dropout_while_training(cls, kwargs):
    layer = built(
        cls(3, dropout=0.3, recurrent_dropout=0.4, seed=2, return_sequences=True),
        (5, 6, 2),
    )
    errors = masked_layer_errors(layer, RNG.normal(size=(5, 6, 2)), MASK, True)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("merge_mode", ["concat", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_masked_gradients(merge_mode, return_sequences):
    layer = built(
        Bidirectional(GRU(2, return_sequences=return_sequences), merge_mode=merge_mode),
        (5, 6, 2),
    )
    errors = masked_layer_errors(layer, RNG.normal(size=(5, 6, 2)), MASK)
    assert max(errors.values()) < 1e-7, errors


def test_the_state_passes_masked_steps_unchanged():
    layer = built(LSTM(3, return_sequences=True), (5, 6, 2))
    x = RNG.normal(size=(5, 6, 2))
    y = layer.forward(x, mask=MASK)
    np.testing.assert_array_equal(y[0, 4], y[0, 3])  # repeats the last real output
    np.testing.assert_array_equal(y[2, 2], y[2, 0])
    assert not np.any(y[1, :2]) and not np.any(y[4])  # nothing real yet: zeros
    # what a masked step holds does not matter: it is skipped
    noisy = x.copy()
    noisy[~MASK] = RNG.normal(size=noisy[~MASK].shape)
    np.testing.assert_array_equal(layer.forward(noisy, mask=MASK), y)
    # a sequence without pads computes what it computes unmasked
    np.testing.assert_allclose(y[3], layer.forward(x[3:4])[0], rtol=0, atol=1e-15)
    zeros = LSTM.from_config({**layer.get_config(), "zero_output_for_mask": True})
    zeros.build((None, 2), np.random.default_rng(0), np.float64)
    zeros.set_weights(layer.get_weights())
    np.testing.assert_array_equal(zeros.forward(x, mask=MASK), y * MASK[..., None])


# -- PyTorch, one sequence at a time ------------------------------------------------------
def torch_twin(layer: Layer) -> torch.nn.Module:
    """torch's module with ``layer``'s weights (Keras' gate order -> torch's)."""
    d, units = layer.params["W"].shape[0], layer.units
    kernel, recurrent, bias = (layer.params[k] for k in ("W", "recurrent_kernel", "b"))
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


def torch_grads(module: torch.nn.Module, layer: Layer) -> dict[str, np.ndarray]:
    units = layer.units
    grads = {
        "W": module.weight_ih_l0.grad.numpy().T,
        "recurrent_kernel": module.weight_hh_l0.grad.numpy().T,
        "b": module.bias_ih_l0.grad.numpy(),
    }
    if isinstance(layer, GRU):
        back = np.r_[units : 2 * units, 0:units, 2 * units : 3 * units]
        grads = {key: value[..., back] for key, value in grads.items()}
        grads["b"] = np.stack([grads["b"], module.bias_hh_l0.grad.numpy()[back]])
    return grads


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"go_backwards": True},
        {"return_sequences": True, "zero_output_for_mask": True},
        {"return_sequences": True, "zero_output_for_mask": True, "go_backwards": True},
    ],
)
def test_a_masked_batch_is_each_sequence_run_alone_in_torch(cls, options):
    lengths = [6, 2, 4, 1, 5]
    mask = np.arange(6) < np.array(lengths)[:, None]  # post-padding
    layer = built(cls(4, **options), (5, 6, 3))
    x = RNG.normal(size=(5, 6, 3))
    y = layer.forward(x, mask=mask, keep_cache=True)
    dy = RNG.normal(size=y.shape)
    found = {"y": y, "x": layer.backward(dy), **layer.grads}
    module = torch_twin(layer)
    expected_y, expected_x = np.zeros_like(y), np.zeros_like(x)
    pad = 6 - np.array(lengths)
    for n, length in enumerate(lengths):
        x_n = torch.tensor(x[n : n + 1, :length], requires_grad=True)
        h, _ = module(x_n.flip(1) if layer.go_backwards else x_n)
        if not layer.return_sequences:
            out, grad = h[:, -1], dy[n : n + 1]
            expected_y[n] = out.detach().numpy()[0]
        elif layer.go_backwards:  # the pads come first, as zeros
            out, grad = h, dy[n : n + 1, pad[n] :]
            expected_y[n, pad[n] :] = h.detach().numpy()[0]
        else:
            out, grad = h, dy[n : n + 1, :length]
            expected_y[n, :length] = h.detach().numpy()[0]
        (out * torch.tensor(grad)).sum().backward()
        expected_x[n, :length] = x_n.grad.numpy()[0]
    expected = {"y": expected_y, "x": expected_x, **torch_grads(module, layer)}
    for key in expected:
        assert relative_error(found[key], expected[key]) < 1e-10, key


# -- Keras 3, from the same weights ---------------------------------------------------------
def keras_twin(layer: Layer):
    config = {k: v for k, v in layer.get_config().items() if k != "name"}
    twin = getattr(keras.layers, type(layer).__name__)(**config)
    return twin


X32 = RNG.normal(size=(5, 6, 2)).astype("float32")


@pytest.mark.parametrize(("cls", "kwargs"), CELLS)
@pytest.mark.parametrize("options", OPTIONS)
def test_every_layer_and_option_matches_keras_with_a_mask(cls, kwargs, options):
    ours = built(cls(4, **kwargs, **options), (5, 6, 2), np.float32)
    theirs = keras_twin(ours)
    theirs.build((None, 6, 2))
    theirs.set_weights(ours.get_weights())
    expected = keras.ops.convert_to_numpy(theirs(X32, mask=MASK))
    np.testing.assert_allclose(ours(X32, mask=MASK), expected, atol=1e-5)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_matches_keras_with_a_mask(cls, return_sequences):
    ours = Bidirectional(cls(3, return_sequences=return_sequences), merge_mode="ave")
    ours.build((None, 2), np.random.default_rng(0))
    theirs = keras.layers.Bidirectional(
        getattr(keras.layers, cls.__name__)(3, return_sequences=return_sequences),
        merge_mode="ave",
    )
    theirs.build((None, 6, 2))
    theirs.set_weights(ours.get_weights())
    assert theirs.forward_layer.zero_output_for_mask == return_sequences
    assert ours.forward_layer.zero_output_for_mask == return_sequences
    expected = keras.ops.convert_to_numpy(theirs(X32, mask=MASK))
    np.testing.assert_allclose(ours(X32, mask=MASK), expected, atol=1e-5)


def twin_models(make):
    """The same architecture in glassnet and in Keras (``make(layers)``), Keras
    given glassnet's weights."""
    ours, theirs = make(glassnet.layers), make(keras.layers)
    ours_model = Sequential(ours, seed=0) if isinstance(ours, list) else Model(*ours)
    theirs_model = (
        keras.Sequential(theirs) if isinstance(theirs, list) else keras.Model(*theirs)
    )
    weights = [RNG.normal(scale=0.5, size=w.shape) for w in ours_model.get_weights()]
    ours_model.set_weights(weights)
    theirs_model.set_weights(weights)
    return ours_model, theirs_model


def masking_stack(L, go_backwards=False):
    return [
        L.Input((6, 2)),
        L.Masking(0.0),
        L.SimpleRNN(4, return_sequences=True),
        L.LSTM(3, return_sequences=True, go_backwards=go_backwards),
        L.GRU(3),
        L.Dense(2),
    ]


def embedding_stack(L):
    return [
        L.Input((6,), dtype="int32"),
        L.Embedding(9, 3, mask_zero=True),
        L.Bidirectional(L.LSTM(3, return_sequences=True)),
        L.Dropout(0.5),
        L.TimeDistributed(L.Dense(4, activation="tanh")),
        L.GRU(2, return_sequences=True, go_backwards=True),
    ]


def functional(L):
    tokens = L.Input((6,), dtype="int32")
    words = L.Embedding(9, 4, mask_zero=True)(tokens)
    forward = L.LSTM(3, return_sequences=True)(words)
    backward = L.SimpleRNN(3, return_sequences=True, go_backwards=True)(words)
    both = L.Add()([forward, L.Dense(3)(backward)])
    return tokens, [L.GRU(2)(both), L.GlobalAveragePooling1D()(words)]


@pytest.mark.parametrize(
    "make",
    [masking_stack, lambda L: masking_stack(L, True), embedding_stack, functional],
    ids=["masking", "masking-go_backwards", "embedding-bidirectional", "functional"],
)
def test_whole_masked_models_match_keras(make):
    ours, theirs = twin_models(make)
    if make is functional or make is embedding_stack:
        x = RNG.integers(1, 9, size=(5, 6)) * MASK  # ids; 0 = padding
    else:
        x = X32 * MASK[..., None]  # steps of zeros = padding
    expected = theirs.predict(x, verbose=0)
    found = ours.predict(x, verbose=0)
    for a, b in zip(
        found if isinstance(found, list) else [found],
        expected if isinstance(expected, list) else [expected],
        strict=True,
    ):
        np.testing.assert_allclose(a[:4], b[:4], atol=1e-5)
        # the all-padding row: Keras' 0 / 0 in the pooled mean, NaN in both
        np.testing.assert_allclose(a[4], b[4], atol=1e-5, equal_nan=True)


def test_merge_layers_combine_masks_as_keras():
    two, three = np.zeros((5, 6, 2)), np.zeros((5, 6, 3))
    for ours, theirs, pair in (
        (Add(), keras.layers.Add(), [two, two]),
        (Concatenate(), keras.layers.Concatenate(), [two, three]),
        (Concatenate(axis=1), keras.layers.Concatenate(axis=1), [two, two]),
    ):
        for masks in ([MASK, np.roll(MASK, 1, axis=1)], [MASK, None], [None, None]):
            expected = theirs.compute_mask(
                [keras.ops.convert_to_tensor(p) for p in pair],
                [None if m is None else keras.ops.convert_to_tensor(m) for m in masks],
            )
            found = ours.compute_mask(pair, masks)
            if expected is None:
                assert found is None, (ours, masks)
            else:
                np.testing.assert_array_equal(
                    found, keras.ops.convert_to_numpy(expected)
                )


def padded_tokens(n: int, seed: int):
    """Token sequences of 1 to 8 real steps, post-padded with 0 to 8 steps, with a
    label per step: the running count of token 1, capped at 2."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, size=n)
    ids = rng.integers(1, 5, size=(n, 8)) * (np.arange(8) < lengths[:, None])
    labels = np.minimum(np.cumsum(ids == 1, axis=1), 2)
    return ids, labels


@pytest.mark.parametrize("wrapped", [True, False], ids=["time_distributed", "dense"])
def test_a_masked_sequence_loss_trains_as_keras(wrapped):
    # TimeDistributed(Dense), or a Dense on the sequence (whose softmax then fuses
    # with the cross-entropy: the logits path)
    def make(L):
        head = L.Dense(3, activation="softmax")
        return [
            L.Input((8,), dtype="int32"),
            L.Embedding(5, 4, mask_zero=True),
            L.LSTM(5, return_sequences=True),
            L.TimeDistributed(head) if wrapped else head,
        ]

    ours, theirs = twin_models(make)
    ids, labels = padded_tokens(20, 0)
    for model in (ours, theirs):
        model.compile(
            optimizer="sgd",
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    logs = ours.evaluate(ids, labels, batch_size=7, verbose=0, return_dict=True)
    keras_logs = theirs.evaluate(ids, labels, batch_size=7, verbose=0, return_dict=True)
    for key in ("loss", "accuracy"):
        assert logs[key] == pytest.approx(keras_logs[key], abs=1e-6)
    # the mean over the real steps alone, by hand
    probabilities = ours.predict(ids, verbose=0)
    picked = np.take_along_axis(probabilities, labels[..., None], -1)[..., 0]
    real = ids != 0
    by_batch = [
        (-np.log(picked[s][real[s]]).mean(), len(picked[s]))
        for s in (slice(0, 7), slice(7, 14), slice(14, 20))
    ]
    assert logs["loss"] == pytest.approx(
        sum(loss * n for loss, n in by_batch) / 20, rel=1e-6
    )
    history = ours.fit(ids, labels, epochs=2, batch_size=6, shuffle=False, verbose=0)
    keras_history = theirs.fit(
        ids, labels, epochs=2, batch_size=6, shuffle=False, verbose=0
    )
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(
            history.history[key], keras_history.history[key], atol=1e-6
        )
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    single = ours.train_on_batch(ids[:5], labels[:5], return_dict=True)
    keras_single = theirs.train_on_batch(ids[:5], labels[:5], return_dict=True)
    assert single["loss"] == pytest.approx(float(keras_single["loss"]), abs=1e-6)


# -- the walk and the rules -------------------------------------------------------------
def test_only_models_with_a_mask_making_layer_carry_masks():
    plain = Sequential([glassnet.Input((6, 2)), LSTM(3), Dense(1)])
    masked = Sequential([glassnet.Input((6, 2)), Masking(), LSTM(3), Dense(1)])
    assert not plain.graph.masking and Walk(plain.graph).chain
    assert masked.graph.masking and not Walk(masked.graph).chain
    ids = Sequential([glassnet.Input((6,), dtype="int32"), Embedding(4, 2), LSTM(2)])
    assert not ids.graph.masking  # mask_zero=False makes no mask


@pytest.mark.parametrize(
    ("layers", "carries"),
    [
        ([Dense(3)], True),
        ([Dropout(0.5), TimeDistributed(Dense(2))], True),
        ([LSTM(2, return_sequences=True)], True),
        ([LSTM(2)], False),
        ([Bidirectional(GRU(2))], False),
        ([Bidirectional(GRU(2, return_sequences=True))], True),
        ([Flatten()], False),  # Keras' Flatten does not support masking
        ([GlobalAveragePooling1D()], False),
    ],
)
def test_which_layers_pass_the_mask_on(layers, carries):
    model = Sequential(
        [glassnet.Input((6,), dtype="int32"), Embedding(5, 3, mask_zero=True)]
    )
    for layer in layers:
        model.add(layer)
    model.predict(np.array([[1, 2, 0, 0, 0, 0]]), verbose=0)
    (mask,) = model.graph.output_masks
    if carries:
        np.testing.assert_array_equal(mask, [[True, True, False, False, False, False]])
    else:
        assert mask is None


def test_the_masked_loss_gradient_is_the_derivative_of_the_masked_loss():
    model = Sequential(
        [
            glassnet.Input((8,), dtype="int32"),
            Embedding(5, 3, mask_zero=True),
            GRU(4, return_sequences=True),
            Dense(3, activation="softmax"),  # fused with the cross-entropy
        ],
        seed=1,
        dtype="float64",
    )
    model.compile(loss="sparse_categorical_crossentropy")
    ids, labels = padded_tokens(6, 3)
    weights = RNG.uniform(0.5, 2.0, size=6)
    make_gradient_step(model, model.loss)(ids, labels, weights)
    loss = get_loss("sparse_categorical_crossentropy")

    def objective() -> float:
        out = model.forward(ids)
        (mask,) = model.graph.output_masks
        return masked_loss(loss, labels, out, mask_weights(mask, weights, out.dtype))

    for layer in model.layers:  # some gradients are small: a larger step
        for key, param in layer.params.items():
            expected = numeric(objective, param, eps=1e-5)
            error = relative_error(layer.grads[key].copy(), expected)
            assert error < 1e-7, (layer.name, key, error)


def test_gradcheck_of_whole_masked_models_in_float64():
    model = Sequential(
        [
            glassnet.Input((6,), dtype="int32"),
            Embedding(7, 3, mask_zero=True),
            Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode="sum"),
            LSTM(3, return_sequences=True, go_backwards=True),
            GRU(2),
            Dense(1),
        ],
        seed=0,
    )
    model.compile(optimizer="sgd", loss="mse")
    ids = RNG.integers(1, 7, size=(5, 6)) * MASK
    for training in (False, True):  # small gradients deep down: a larger step
        y = RNG.normal(size=(5, 1))
        report = gradcheck(model, ids, y, training=training, epsilon=1e-5)
        assert report.passed, str(report)
    inputs = glassnet.Input((6, 2))
    hidden = LSTM(3, return_sequences=True)(Masking(0.0)(inputs))
    outputs = [GRU(2)(hidden), TimeDistributed(Dense(1))(hidden)]
    functional = Model(inputs, outputs)
    functional.compile(optimizer="sgd", loss=["mse", "mse"])
    targets = [RNG.normal(size=(5, 2)), RNG.normal(size=(5, 6, 1))]
    x = X32.astype(float) * MASK[..., None]
    report = gradcheck(functional, x, targets, epsilon=1e-5)
    assert report.passed, str(report)


def test_a_padded_task_needs_its_mask():
    # The label: whether token 1 occurs more often than token 2 in the real steps
    # (3 to 12 of them), post-padded to 40: without the mask, the LSTM must carry
    # its count through up to 37 steps of padding.
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 13, size=768)
    ids = rng.integers(1, 4, size=(768, 40)) * (np.arange(40) < lengths[:, None])
    y = ((ids == 1).sum(1) > (ids == 2).sum(1)).astype("float32")[:, None]
    accuracy = {}
    for mask_zero in (False, True):
        model = Sequential(
            [
                glassnet.Input((40,), dtype="int32"),
                Embedding(4, 8, mask_zero=mask_zero),
                LSTM(8),
                Dense(1, activation="sigmoid"),
            ],
            seed=0,
        )
        model.compile(Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
        model.fit(ids[:512], y[:512], epochs=8, batch_size=32, verbose=0)
        accuracy[mask_zero] = model.evaluate(
            ids[512:], y[512:], verbose=0, return_dict=True
        )["accuracy"]
    assert accuracy[True] > 0.9
    assert accuracy[True] > accuracy[False] + 0.1, accuracy


# -- Masking and the errors a user meets --------------------------------------------------
def test_masking_zeroes_and_marks_padded_steps():
    layer = Masking(mask_value=-1.0)
    x = np.array([[[1.0, 2.0], [-1.0, -1.0], [-1.0, 0.5]]])
    np.testing.assert_array_equal(layer.compute_mask(x, None), [[True, False, True]])
    y = layer.forward(x, training=True)
    np.testing.assert_array_equal(y, [[[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5]]])
    # y = where(keep, x, 0)  =>  dx = dy on the real steps, 0 on the padded one
    np.testing.assert_array_equal(
        layer.backward(np.ones((1, 3, 2))), [[[1, 1], [0, 0], [1, 1]]]
    )
    keras_layer = keras.layers.Masking(mask_value=-1.0)
    np.testing.assert_array_equal(y, keras.ops.convert_to_numpy(keras_layer(x)))
    assert layer.get_config()["mask_value"] == keras_layer.get_config()["mask_value"]
    assert Masking.from_config(layer.get_config()).mask_value == -1.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: Masking("0"), GlassnetTypeError, "mask_value"),
        (lambda: Masking(True), GlassnetTypeError, "mask_value"),
        (lambda: LSTM(2)(np.ones((2, 3, 1)), mask=np.ones((2, 4))), ShapeError, "mask"),
        (
            lambda: LSTM(2)(glassnet.Input((3, 1)), mask=np.ones((1, 3))),
            InvalidArgumentError,
            "Masking",
        ),
        (lambda: Masking().output_shape(()), ShapeError, "features"),
    ],
)
def test_bad_masks_and_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
