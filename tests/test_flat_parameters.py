"""A model's parameters live in one flat buffer; the optimizer's flat step is exact."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.layers import Activation, Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from glassnet.utils import clear_session

OPTIMIZERS = [
    lambda: SGD(learning_rate=0.1),
    lambda: SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    lambda: Adagrad(learning_rate=0.1),
    lambda: RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
    lambda: Adam(learning_rate=0.01, amsgrad=True),
    lambda: AdamW(learning_rate=0.01, weight_decay=0.1),
    lambda: Adam(learning_rate=0.01, clipnorm=0.1),
    lambda: SGD(learning_rate=0.1, clipvalue=0.01),
    lambda: SGD(learning_rate=0.1, global_clipnorm=0.05),
]


def model() -> Sequential:
    clear_session()  # both copies get the same names: optimizer state is by name
    return Sequential(
        [Dense(4, activation="tanh", input_dim=3), Dense(2, activation="sigmoid")],
        seed=0,
        dtype="float64",
    )


def test_parameters_are_views_into_one_buffer() -> None:
    m = model()
    assert m.flat is not None
    assert m.flat.params.size == m.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    for layer in m.layers:
        for key in layer.params:
            assert np.shares_memory(layer.params[key], m.flat.params)
            assert np.shares_memory(layer.grads[key], m.flat.grads)
    names = [name for name, *_ in m.flat.layout]
    assert names == ["dense.W", "dense.b", "dense_1.W", "dense_1.b"]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_flat_step_equals_the_per_tensor_step(make) -> None:
    rng = np.random.default_rng(0)
    flat_model, tensor_model = model(), model()
    flat_opt, tensor_opt = make(), make()
    for _ in range(5):
        grads = rng.normal(size=flat_model.flat.grads.shape)
        flat_model.flat.grads[...] = grads
        tensor_model.flat.grads[...] = grads
        flat_opt.apply_flat(
            flat_model.flat.params, flat_model.flat.grads, flat_model.flat.layout
        )
        tensor_opt.apply(tensor_model.parameter_triples())
    np.testing.assert_allclose(
        flat_model.flat.params, tensor_model.flat.params, rtol=1e-12
    )
    assert flat_opt.iterations == tensor_opt.iterations == 5
    for name in tensor_opt.state:
        for slot, value in tensor_opt.state[name].items():
            np.testing.assert_allclose(flat_opt.state[name][slot], value, rtol=1e-12)


def test_state_is_keyed_by_name_and_a_replaced_state_is_picked_up() -> None:
    m = model()
    opt = Adam(learning_rate=0.01)
    m.flat.grads[...] = 1.0
    opt.apply_flat(m.flat.params, m.flat.grads, m.flat.layout)
    assert set(opt.state) == {"dense.W", "dense.b", "dense_1.W", "dense_1.b"}
    assert opt.state["dense.W"]["m"].shape == (3, 4)
    # A checkpoint replaces one parameter's state: the next flat step must use it.
    opt.state["dense.b"] = {"m": np.full(4, 7.0), "v": np.full(4, 9.0)}
    opt.apply_flat(m.flat.params, m.flat.grads, m.flat.layout)
    np.testing.assert_allclose(opt.state["dense.b"]["m"], 7.0 + (1.0 - 7.0) * 0.1)


def test_a_layer_that_rebinds_its_gradients_still_trains() -> None:
    class RebindingDense(Dense):
        def backward_from_logits(self, grad_logits, *, input_grad=True):
            x = self.cached()[0]
            grad_x = grad_logits @ self.params["W"].T
            self.grads = {"W": x.T @ grad_logits, "b": grad_logits.sum(axis=0)}
            return grad_x

    x = np.random.default_rng(1).normal(size=(8, 3))
    y = x[:, :1] * 2.0
    plain = Sequential([Dense(1, input_dim=3)], seed=0, dtype="float64")
    custom = Sequential([RebindingDense(1, input_dim=3)], seed=0, dtype="float64")
    for m in (plain, custom):
        m.compile(loss="mse", optimizer=SGD(learning_rate=0.1))
        m.fit(x, y, epochs=3, batch_size=4, verbose=0, shuffle=False)
    np.testing.assert_allclose(
        custom.get_weights()[0], plain.get_weights()[0], rtol=1e-12
    )


def test_add_and_pop_after_build_keep_the_buffer_whole() -> None:
    m = model()
    weights = m.get_weights()
    m.add(Dense(3))
    assert m.flat.params.size == m.count_params()
    for a, b in zip(weights, m.get_weights()[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    m.add(Activation("relu"))
    m.pop()
    m.pop()
    assert m.flat.params.size == m.count_params() == 26
    m.compile(loss="mse", optimizer="sgd")
    m.fit(np.ones((2, 3)), np.ones((2, 2)), epochs=1, verbose=0)
    assert all(
        np.shares_memory(p, m.flat.params)
        for layer in m.layers
        for p in layer.params.values()
    )


def test_a_deep_copied_model_still_trains() -> None:
    import copy

    m = model()
    m.compile(loss="mse", optimizer="sgd")
    clone = copy.deepcopy(m)
    before = clone.predict(np.ones((1, 3)), verbose=0)
    clone.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=3, verbose=0)
    assert not np.array_equal(clone.predict(np.ones((1, 3)), verbose=0), before)
    assert np.shares_memory(clone.layers[0].params["W"], clone.flat.params)
    np.testing.assert_array_equal(m.predict(np.ones((1, 3)), verbose=0), before)
