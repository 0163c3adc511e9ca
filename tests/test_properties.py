"""Property tests over wide input spaces (shapes, sizes, batch sizes)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glassnet import gradcheck
from glassnet.layers import Dense
from glassnet.models import Sequential

sizes = st.integers(min_value=1, max_value=6)


@settings(max_examples=30, deadline=None)
@given(
    n=sizes, n_in=sizes, units=sizes, use_bias=st.booleans(), seed=st.integers(0, 99)
)
def test_dense_shapes_and_gradients(n, n_in, units, use_bias, seed) -> None:
    rng = np.random.default_rng(seed)
    layer = Dense(units, activation="tanh", use_bias=use_bias)
    layer.build((n_in,), rng, np.float64)
    x = rng.normal(size=(n, n_in))
    y = layer.forward(x, keep_cache=True)
    assert y.shape == (n, units)
    grad_x = layer.backward(np.ones_like(y))
    assert grad_x.shape == x.shape
    assert layer.grads["W"].shape == (n_in, units)
    assert gradcheck(Dense(units, activation="tanh", use_bias=use_bias), x).passed


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 70), batch_size=st.integers(1, 80), seed=st.integers(0, 99))
def test_predict_does_not_depend_on_batch_size(n, batch_size, seed) -> None:
    model = Sequential([Dense(5, activation="relu", input_dim=3), Dense(2)], seed=seed)
    x = np.random.default_rng(seed).normal(size=(n, 3))
    whole = model.predict(x, batch_size=max(n, 1), verbose=0)
    batched = model.predict(x, batch_size=batch_size, verbose=0)
    np.testing.assert_allclose(
        batched, whole, rtol=1e-5, atol=1e-6
    )  # float32 BLAS blocking


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), epochs=st.integers(1, 3))
def test_one_update_per_batch(n, batch_size, epochs) -> None:
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    x = np.random.default_rng(n).normal(size=(n, 2))
    history = model.fit(x, x[:, :1], batch_size=batch_size, epochs=epochs, verbose=0)
    assert model.optimizer.iterations == epochs * math.ceil(n / batch_size)
    assert len(history.history["loss"]) == epochs


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(["float32", "float64"]))
def test_weights_round_trip(seed, dtype) -> None:
    model = Sequential([Dense(3, input_dim=2), Dense(1)], seed=seed, dtype=dtype)
    clone = Sequential([Dense(3, input_dim=2), Dense(1)], seed=seed + 1, dtype=dtype)
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(seed).normal(size=(4, 2))
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), model.predict(x, verbose=0)
    )


@settings(max_examples=200, deadline=None)
@given(
    array=st.sampled_from([np.float32, np.float64]).flatmap(
        lambda dtype: hnp.arrays(
            dtype,
            hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
            elements=st.floats(width=32 if dtype == np.float32 else 64),
        )
    )
)
def test_all_finite_agrees_with_isfinite(array) -> None:
    # The fast path (a dot product) must never call NaN, inf or huge values wrong.
    from glassnet._validation import all_finite

    assert all_finite(array) == bool(np.isfinite(array).all())
    strided = array[..., ::2]  # vdot copies non-contiguous input
    assert all_finite(strided) == bool(np.isfinite(strided).all())
