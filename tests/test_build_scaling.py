"""Building a model of n layers is linear in n (issue 15, class 4).

Adding a layer to a built ``Sequential`` used to make the graph, the walks and the
flat parameter buffer again (O(n) each), so n one-by-one ``add`` calls, and a
model file of n layers, cost O(n**2): 3,000 ``Dense(1)`` took over 5 s. Now
``add`` does constant work and the graph waits until first needed.

No timing is asserted (the machine may be busy): the tests count work that does
not depend on the machine. How many times the graph and the flat buffer are made,
how many times each layer's ``output_shape`` is asked, and how many Python
function calls building takes, for n and for 4n layers: linear work grows 4x,
quadratic work 16x.
"""

from __future__ import annotations

import copy
import cProfile
import pickle
import pstats

import numpy as np
import pytest

import glassnet
from glassnet.errors import InvalidArgumentError, ShapeError
from glassnet.layers import Dense, Dropout, Softmax
from glassnet.models import Sequential, model_from_json
from glassnet.models import network as network_module
from glassnet.models import sequential as sequential_module


def _by_adding(n: int, seed: int = 0) -> Sequential:
    model = Sequential([glassnet.Input((2,))], seed=seed)
    for _ in range(n):
        model.add(Dense(1))
    return model


def _python_calls(build, n: int) -> int:
    profile = cProfile.Profile()
    profile.enable()
    build(n)
    profile.disable()
    return pstats.Stats(profile).total_calls


class _Counter:
    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


@pytest.fixture
def made(monkeypatch):
    """Counts of graphs and flat buffers made."""
    graphs = _Counter(sequential_module.Graph)
    buffers = _Counter(network_module.flatten_parameters)
    monkeypatch.setattr(sequential_module, "Graph", graphs)
    monkeypatch.setattr(network_module, "flatten_parameters", buffers)
    return graphs, buffers


@pytest.mark.parametrize("n", [30, 120])
def test_adding_layers_makes_the_graph_and_the_buffer_a_constant_number_of_times(
    made, n
):
    graphs, buffers = made
    model = _by_adding(n)
    model.predict(np.ones((3, 2)), verbose=0)
    model.predict(np.ones((3, 2)), verbose=0)
    # once when the first layer builds the model, once when predict needs it
    assert (graphs.calls, buffers.calls) == (2, 2)


def test_a_model_from_json_makes_its_graph_and_buffer_a_constant_number_of_times(
    made,
):
    for n in (25, 100):
        json_text = _by_adding(n).to_json()
        graphs, buffers = made
        graphs.calls = buffers.calls = 0
        model_from_json(json_text).predict(np.ones((1, 2)), verbose=0)
        assert graphs.calls <= 2 and buffers.calls <= 2, n


def test_each_layer_is_asked_its_output_shape_a_constant_number_of_times(
    monkeypatch,
):
    asked = _Counter(Dense.output_shape)
    monkeypatch.setattr(Dense, "output_shape", lambda self, s: asked(self, s))
    per_layer = []
    for n in (40, 160):
        asked.calls = 0
        _by_adding(n).predict(np.ones((1, 2)), verbose=0)
        per_layer.append(asked.calls / n)
    # about 3 per layer, whatever n; the old add asked every earlier layer again
    # (over 20, then over 80 per layer)
    assert max(per_layer) < 3.1, per_layer


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda n: _by_adding(n), id="add in code"),
        pytest.param(
            lambda n: Sequential.from_config(_CONFIGS[n]), id="Sequential.from_config"
        ),
        pytest.param(lambda n: model_from_json(_JSON[n]), id="model_from_json"),
    ],
)
def test_building_work_grows_linearly(build):
    small, large = _python_calls(build, 100), _python_calls(build, 400)
    # linear: at most 4x (less with a constant part); quadratic would be ~16x
    assert large / small < 4.5, (small, large)


_CONFIGS = {n: _by_adding(n).get_config() for n in (100, 400)}
_JSON = {n: _by_adding(n).to_json() for n in (100, 400)}


# -- what a deferred graph must not change ------------------------------------------
def test_a_model_built_by_adding_equals_one_built_from_a_list():
    added = _by_adding(6, seed=3)
    listed = Sequential([glassnet.Input((2,))] + [Dense(1) for _ in range(6)], seed=3)
    x = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(
        added.predict(x, verbose=0), listed.predict(x, verbose=0)
    )
    for a, b in zip(added.get_weights(), listed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert added.count_params() == listed.count_params() == 2 * 1 + 1 + 5 * 2


def test_weights_read_through_the_layers_are_the_views_training_updates():
    model = _by_adding(4)
    kernel = model.layers[2].params["W"]  # model.layers makes the waiting graph
    assert model.flat is not None
    assert np.shares_memory(kernel, model.flat.params)
    before = kernel.copy()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 2)), np.full((8, 1), 3.0), epochs=2, verbose=0)
    assert not np.array_equal(kernel, before)  # trained in place


def test_every_added_layer_trains():
    model = _by_adding(5)
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    model.fit(np.ones((8, 2)), np.full((8, 1), 3.0), epochs=1, verbose=0)
    assert all(
        not np.array_equal(a, b)
        for a, b in zip(before, model.get_weights(), strict=True)
    )


def test_layer_output_is_known_right_after_add():
    model = _by_adding(3)
    layer = Dense(4)
    model.add(layer)
    assert layer.output.shape == (None, 4)
    assert model.output_shape == (None, 4)


def test_a_refused_add_leaves_the_model_as_it_was():
    model = _by_adding(3)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ShapeError, match="axis 5"):
        model.add(Softmax(axis=5))
    with pytest.raises(InvalidArgumentError, match="unique names"):
        model.add(Dense(1, name=model.layers[0].name))
    same = model.layers[1]
    with pytest.raises(InvalidArgumentError, match="already in this model"):
        model.add(same)
    assert len(model.layers) == 3
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.predict(np.ones((1, 2)), verbose=0).shape == (1, 1)


def test_pop_then_add_again():
    model = _by_adding(3)
    popped = model.pop()
    assert popped.inbound_nodes == []
    model.add(Dense(2, name=popped.name))  # its name is free again
    model.add(Dropout(0.5))
    assert model.predict(np.ones((1, 2)), verbose=0).shape == (1, 2)
    assert [layer.name for layer in model.layers][-2] == popped.name


def test_a_model_with_a_waiting_graph_copies_and_pickles():
    model = _by_adding(3)
    model.add(Dense(2))
    x = np.ones((2, 2))
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(
            twin.predict(x, verbose=0), model.predict(x, verbose=0)
        )
        assert twin.flat is not None
        assert np.shares_memory(twin.layers[-1].params["W"], twin.flat.params)


def test_a_missing_attribute_is_still_an_attribute_error():
    model = _by_adding(2)
    model.add(Dense(1))
    assert not hasattr(model, "no_such_attribute")
    with pytest.raises(AttributeError, match="no_such_attribute"):
        model.no_such_attribute  # noqa: B018
