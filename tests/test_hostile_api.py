"""Hostile arguments refused when a model is made (issue 15, class 5).

What a model accepts must predict, train and save again: a softmax along an axis
its arrays lack, an initializer whose weights would be infinite, and a name no
file can hold are refused when the layer, initializer or model is made, with a
glassnet error, never later at ``predict`` or ``save``. The same holds for a model
read from a file, whose layers are made by the same constructors.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet
from glassnet import activations, initializers
from glassnet._naming import MAX_NAME_LENGTH
from glassnet.errors import (
    GlassnetError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)
from glassnet.layers import (
    GRU,
    LSTM,
    Activation,
    Conv1D,
    Dense,
    SimpleRNN,
    Softmax,
    TimeDistributed,
)
from glassnet.models import Sequential, load_model, model_from_json


# -- softmax axes ---------------------------------------------------------------------
@pytest.mark.parametrize("axis", [10**30, -(10**30), 64, -65])
def test_a_softmax_axis_no_array_has_is_refused_when_made(axis):
    with pytest.raises(InvalidArgumentError, match=r"\[-64, 64\)"):
        activations.Softmax(axis=axis)
    with pytest.raises(InvalidArgumentError, match="axis"):
        Softmax(axis=axis)


@pytest.mark.parametrize("axis", [2, 7, -3, 63])
def test_a_softmax_layer_along_an_axis_its_input_lacks_is_refused_at_build(axis):
    with pytest.raises(ShapeError, match=f"axis {axis}, which inputs shaped"):
        Sequential([glassnet.Input((3,)), Softmax(axis=axis)])
    x = glassnet.Input((3,))
    with pytest.raises(ShapeError, match=f"axis {axis}"):
        glassnet.Model(x, Softmax(axis=axis)(x))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
def test_a_softmax_layer_normalises_any_axis_its_input_has(axis):
    # Keras counts the axis on the batch array; scipy is the independent reference
    model = Sequential([glassnet.Input((4, 3), dtype="float64"), Softmax(axis=axis)])
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    np.testing.assert_allclose(
        model.predict(x, verbose=0), scipy.special.softmax(x, axis=axis), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        pytest.param(lambda a: Dense(3, activation=a), (3,), id="Dense"),
        pytest.param(lambda a: Activation(a), (3,), id="Activation"),
        pytest.param(
            lambda a: TimeDistributed(Dense(3, activation=a)), (4, 3), id="wrapped"
        ),
    ],
)
def test_a_softmax_activation_along_a_missing_axis_is_refused_at_build(make, shape):
    with pytest.raises(ShapeError, match="applies a softmax along axis 7"):
        Sequential([glassnet.Input(shape), make(activations.Softmax(axis=7))])
    x = glassnet.Input(shape)
    with pytest.raises(ShapeError, match="axis 7"):
        glassnet.Model(x, make(activations.Softmax(axis=7))(x))


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (lambda a: SimpleRNN(3, activation=a), (5, 2)),
        (lambda a: LSTM(3, activation=a, return_sequences=True), (5, 2)),
        (lambda a: GRU(3, recurrent_activation=a), (5, 2)),
        (lambda a: Conv1D(2, 2, activation=a), (5, 2)),
    ],
)
def test_an_activation_inside_a_layer_must_take_rank_2(layer, shape):
    # a recurrent cell applies it to (batch, units) at each step: axis 2 or -3
    # cannot work there, whatever the output's rank
    with pytest.raises(ShapeError, match="axis -3"):
        Sequential([glassnet.Input(shape), layer(activations.Softmax(axis=-3))])


def test_a_softmax_activation_along_an_axis_that_exists_works():
    dense = Dense(3, activation=activations.Softmax(axis=1), kernel_initializer="ones")
    model = Sequential([glassnet.Input((2,), dtype="float64"), dense])
    x = np.array([[1.0, 2.0], [0.0, -1.0]])
    z = x @ np.ones((2, 3))
    np.testing.assert_allclose(
        model.predict(x, verbose=0), scipy.special.softmax(z, axis=1), rtol=1e-12
    )


def _json_with(replace: str, by: str, **layer_kwargs) -> str:
    model = Sequential([glassnet.Input((3,)), Dense(2, **layer_kwargs)])
    text = model.to_json()
    assert replace in text
    return text.replace(replace, by)


@pytest.mark.parametrize("axis", ["7", "1000000000000000000000000000000", "-3"])
def test_a_file_with_a_softmax_axis_its_arrays_lack_is_refused(axis):
    text = _json_with(
        '"axis": 1', f'"axis": {axis}', activation=activations.Softmax(axis=1)
    )
    with pytest.raises(GlassnetError):
        model_from_json(text)
    layer = Sequential([glassnet.Input((3,)), Softmax(axis=1)]).to_json()
    assert '"axis": 1' in layer
    with pytest.raises(GlassnetError):
        model_from_json(layer.replace('"axis": 1', f'"axis": {axis}'))


# -- initializers ---------------------------------------------------------------------
F32_MAX = float(np.finfo(np.float32).max)


@pytest.mark.parametrize(
    "make",
    [
        lambda: initializers.VarianceScaling(scale=1e308),
        lambda: initializers.VarianceScaling(scale=1e78, distribution="uniform"),
        lambda: initializers.VarianceScaling(
            scale=1e76, distribution="untruncated_normal"
        ),
        lambda: initializers.RandomUniform(minval=-1e308, maxval=1e308),
        lambda: initializers.RandomUniform(minval=0.0, maxval=1e39),
        lambda: initializers.RandomNormal(mean=3e38, stddev=1e37),
        lambda: initializers.RandomNormal(stddev=1e38),
        lambda: initializers.TruncatedNormal(mean=-1e300),
        lambda: initializers.Constant(1e39),
        lambda: initializers.Constant(-(10**400)),
        lambda: initializers.Orthogonal(gain=1e39),
    ],
)
def test_an_initializer_that_would_draw_infinite_weights_is_refused_when_made(make):
    with pytest.raises(InvalidArgumentError, match="float32's largest"):
        make()


@pytest.mark.parametrize(
    "distribution", ["truncated_normal", "untruncated_normal", "uniform"]
)
@given(log_scale=st.floats(min_value=-30, max_value=80))
@settings(max_examples=40, deadline=None)
def test_an_accepted_variance_scaling_gives_finite_float32_weights(
    distribution, log_scale
):
    try:
        init = initializers.VarianceScaling(
            scale=10.0**log_scale, distribution=distribution
        )
    except InvalidArgumentError:
        return  # refused: nothing to build
    for shape in [(1,), (1, 1), (3, 5), (2, 2, 1, 1)]:
        weights = init(shape, np.random.default_rng(0), np.float32)
        assert np.isfinite(weights).all()


def test_the_largest_accepted_uniform_bounds_give_finite_weights():
    init = initializers.RandomUniform(minval=-F32_MAX, maxval=F32_MAX)
    weights = init((1000,), np.random.default_rng(0), np.float32)
    assert np.isfinite(weights).all() and np.abs(weights).max() > 1e38


def test_a_custom_initializer_giving_non_finite_weights_is_refused_at_build():
    class Huge(initializers.Initializer):
        uses_rng = False

        def sample(self, shape, rng):
            return np.full(shape, 1e39)  # finite in float64, inf in float32

    with pytest.raises(InvalidArgumentError, match="not finite in float32"):
        Sequential([glassnet.Input((2,)), Dense(1, kernel_initializer=Huge())])
    model = Sequential(
        [glassnet.Input((2,), dtype="float64"), Dense(1, kernel_initializer=Huge())]
    )
    assert model.get_weights()[0][0, 0] == 1e39


@pytest.mark.parametrize(
    ("replace", "by"),
    [
        ('"scale": 2.0', '"scale": 1e308'),
        ('"scale": 2.0', '"scale": 1e80'),
    ],
)
def test_a_file_with_an_initializer_giving_infinite_weights_is_refused(replace, by):
    text = _json_with(
        replace, by, kernel_initializer=initializers.VarianceScaling(scale=2.0)
    )
    with pytest.raises(GlassnetError):
        model_from_json(text)


def test_a_file_with_uniform_bounds_beyond_float_range_is_refused_not_overflowing():
    text = _json_with(
        '"minval": -0.5, "maxval": 0.5',
        '"minval": -1e308, "maxval": 1e308',
        kernel_initializer=initializers.RandomUniform(-0.5, 0.5),
    )
    with pytest.raises(GlassnetError):  # was OverflowError from NumPy
        model_from_json(text)


# -- names ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("a\x00b", "NUL"),
        ("\ud800", "lone surrogates"),
        ("x\udfffy", "lone surrogates"),
        ("a" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH}"),
        ("a" * 2000, f"at most {MAX_NAME_LENGTH}"),
        ("", "empty"),
        ("dense/kernel", "'/'"),
    ],
)
@pytest.mark.parametrize(
    "make",
    [
        lambda name: Dense(1, name=name),
        lambda name: glassnet.Input((2,), name=name),
        lambda name: Sequential(name=name),
        lambda name: Softmax(name=name),
    ],
)
def test_a_name_no_file_can_hold_is_refused_when_made(name, match, make):
    with pytest.raises(InvalidArgumentError, match=match):
        make(name)


def test_a_name_that_is_not_a_string_is_refused():
    with pytest.raises(GlassnetTypeError, match="must be a string"):
        Dense(1, name=3)


def test_a_file_with_a_name_no_file_can_hold_is_refused():
    text = Sequential([glassnet.Input((3,)), Dense(2, name="layer_x")]).to_json()
    for bad in ("layer\\u0000x", "layer\\ud800x", "x" * 2000):
        with pytest.raises(GlassnetError):
            model_from_json(text.replace("layer_x", bad))


@pytest.mark.parametrize(
    "name",
    [
        "a" * MAX_NAME_LENGTH,
        "\U0001f600" * MAX_NAME_LENGTH,  # 4 bytes each in UTF-8: 1 KiB
        "中" * MAX_NAME_LENGTH,
        " tab\tand\nnewline ",
    ],
)
@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5", ".safetensors"])
def test_every_accepted_name_saves_and_loads_again(tmp_path, name, suffix):
    def make():
        second = name[:-1] + "~"
        return Sequential(
            [glassnet.Input((2,)), Dense(3, name=name), Dense(1, name=second)],
            name=name,
            seed=0,
        )

    model = make()
    path = os.fspath(tmp_path / f"model{suffix}")
    if suffix in (".weights.h5", ".safetensors"):
        model.save_weights(path)
        loaded = make()
        for weight in loaded.weights:
            weight.value[...] = 0
        loaded.load_weights(path)
    else:
        model.save(path)
        loaded = load_model(path)
        assert [layer.name for layer in loaded.layers] == [name, name[:-1] + "~"]
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    x = np.ones((2, 2))
    np.testing.assert_array_equal(
        model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    )


def test_the_name_limit_is_the_documented_one():
    assert MAX_NAME_LENGTH == 256
    with open(
        os.path.join(os.path.dirname(__file__), "..", "docs", "internals.md")
    ) as f:
        assert f"at most {MAX_NAME_LENGTH} characters" in f.read()
    assert json.dumps("x" * MAX_NAME_LENGTH)  # a JSON string, as configs hold it
