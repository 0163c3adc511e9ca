"""glassnet.explain on models that make padding masks.

A recurrent layer skips masked steps (its state is carried over them), so
``recurrent_step``, ``recurrent_states`` and ``bptt`` explain the real steps and
name the rows they skipped. Their numbers are checked against the model's own
masked forward pass and its training gradients (``make_gradient_step``, which
weighs a masked output's loss as ``fit`` does).
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.errors import ShapeError
from glassnet.explain import bptt, recurrent_states, recurrent_step
from glassnet.gradient_check import float64_copy
from glassnet.layers import (
    GRU,
    LSTM,
    Dense,
    Embedding,
    Input,
    Masking,
    SimpleRNN,
    TimeDistributed,
)
from glassnet.models import Model, Sequential
from glassnet.training import make_gradient_step

RNG = np.random.default_rng(21)


def token_model(rnn, **options):
    model = Sequential(
        [
            Input((8,), dtype="int64"),
            Embedding(6, 3, mask_zero=True, name="embedding"),
            rnn(4, name="rnn", **options),
            Dense(2, name="out"),
        ],
        seed=3,
        dtype="float64",
    )
    model.compile(optimizer="sgd", loss="mse")
    return model


def rnn_output(model, ids):
    """The recurrent layer's output from the model itself (a functional view)."""
    view = Model(model.inputs, model.get_layer("rnn").output)
    return view.predict(ids[None], verbose=0)[0]


@pytest.mark.parametrize("rnn", [LSTM, GRU, SimpleRNN])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize(
    "ids",
    [
        [3, 1, 4, 1, 5, 0, 0, 0],  # padded at the end
        [0, 0, 0, 2, 5, 1, 3, 2],  # padded in front
        [2, 0, 5, 0, 0, 1, 3, 0],  # pads between the tokens
    ],
    ids=["post", "pre", "between"],
)
def test_recurrent_step_explains_the_real_steps(rnn, go_backwards, ids):
    ids = np.array(ids)
    model = token_model(rnn, go_backwards=go_backwards)
    real = ids != 0
    table = recurrent_step(model, ids)
    assert table.padding == tuple(int(t) + 1 for t in np.flatnonzero(~real))
    assert table.steps == real.sum() and len(table.x) == real.sum()
    # the last real step's state is the layer's output in the masked model
    np.testing.assert_allclose(table.h[-1], rnn_output(model, ids), rtol=1e-12)
    embedded = model.get_layer("embedding").params["embeddings"][ids[real]]
    expected = embedded[::-1] if go_backwards else embedded
    np.testing.assert_allclose(table.x, expected, rtol=1e-12)
    text = str(table)
    assert "of the 8 are masked: skipped, the state carried over them" in text
    _, xs, h, _ = recurrent_states(model, ids)
    assert len(xs) == table.steps
    np.testing.assert_array_equal(h, table.h)
    assert table.to_dict()["padding"] == list(table.padding)


def test_unmasked_rows_show_no_padding_note():
    model = token_model(LSTM)
    table = recurrent_step(model, np.array([1, 2, 3, 4, 5, 1, 2, 3]))
    assert table.padding == () and "padding" not in str(table)


@pytest.mark.parametrize("rnn", [LSTM, GRU, SimpleRNN])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_bptt_of_a_masked_model_gives_the_training_gradients(rnn, go_backwards):
    ids = np.array([2, 0, 5, 4, 0, 1, 0, 0])
    model = token_model(rnn, go_backwards=go_backwards)
    y = RNG.normal(size=2)
    table = bptt(model, ids, y)
    assert table.padding == (2, 5, 7, 8)
    make_gradient_step(model, model.loss)(ids[None], y[None])
    layer = model.get_layer("rnn")
    for key in ("W", "recurrent_kernel", "b"):
        np.testing.assert_allclose(table.grads[key], layer.grads[key], rtol=1e-9)
    out = model.predict(ids[None], verbose=0)
    assert table.loss == pytest.approx(float(np.mean((out - y) ** 2)), rel=1e-12)
    assert "rows 2, 5, 7-8 of the 8 are masked" in str(table)


def test_bptt_with_a_masked_sequence_output_weighs_the_real_steps():
    # the masked outputs repeat the last real state: their loss gradient goes there
    model = Sequential(
        [
            Input((6, 2)),
            Masking(0.0),
            LSTM(3, return_sequences=True, name="rnn"),
            TimeDistributed(Dense(1)),
        ],
        seed=5,
    )
    model.compile(optimizer="sgd", loss="mse")
    x = RNG.normal(size=(6, 2))
    x[[1, 4, 5]] = 0.0
    y = RNG.normal(size=(6, 1))
    table = bptt(model, x, y)
    assert table.padding == (2, 5, 6)
    np.testing.assert_allclose(table.x, x[[0, 2, 3]], rtol=1e-12)
    twin = float64_copy(model, x[None])  # the explanation computes in float64
    make_gradient_step(twin, model.loss)(x[None], y[None])
    layer = twin.get_layer("rnn")
    for key in ("W", "recurrent_kernel", "b"):
        np.testing.assert_allclose(table.grads[key], layer.grads[key], rtol=1e-9)
    out = twin.predict(x[None], verbose=0)[0]
    real = [0, 2, 3]
    assert table.loss == pytest.approx(float(np.mean((out[real] - y[real]) ** 2)))


def test_a_sample_of_padding_only_is_refused_clearly():
    model = token_model(LSTM)
    with pytest.raises(ShapeError, match="only padding"):
        recurrent_step(model, np.zeros(8, np.int64))
    with pytest.raises(ShapeError, match="only padding"):
        bptt(model, np.zeros(8, np.int64), np.zeros(2))


def test_plot_hidden_states_draws_the_real_steps():
    pytest.importorskip("matplotlib")
    from glassnet.plot import plot_hidden_states

    model = token_model(GRU)
    ids = np.array([2, 0, 5, 4, 0, 1, 0, 0])
    figure = plot_hidden_states(model, ids)
    hidden = next(ax for ax in figure.axes if ax.get_title() == "hidden state h_t")
    assert hidden.images[0].get_array().shape == (4, 4)  # 4 units x 4 real steps
    _, _, h, _ = recurrent_states(model, ids)
    np.testing.assert_allclose(hidden.images[0].get_array(), h.T)
