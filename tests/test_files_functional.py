"""Functional models and the new layers in files, and the functional configs refused.

Every format (``.keras``, legacy ``.h5``, ``.weights.h5``, ``.h5`` weights,
``.safetensors``, ``to_json``) round-trips a functional model with two inputs, two
outputs, a shared layer, every merge layer and every new layer bit-identically, in
float32 and float64; ``trainable`` flags survive, and training resumes exactly.
Hostile functional configs end in a ModelFileError before any layer is called
(built). Crossing to and from the real Keras 3 is in ``test_keras_interop.py``.
"""

from __future__ import annotations

import json
import zipfile

import h5py
import numpy as np
import pytest

import glassnet.io.functional as io_functional
from glassnet import Input, Model
from glassnet.errors import InvalidArgumentError, ModelFileError, UnsafeFileError
from glassnet.io import limits
from glassnet.layers import (
    ELU,
    Activation,
    Add,
    Average,
    BatchNormalization,
    Concatenate,
    Dense,
    Dropout,
    Flatten,
    GaussianNoise,
    LayerNormalization,
    LeakyReLU,
    Maximum,
    Minimum,
    Multiply,
    Permute,
    PReLU,
    ReLU,
    RepeatVector,
    Reshape,
    Softmax,
    Subtract,
)
from glassnet.models import Sequential, load_model, model_from_json
from glassnet.optimizers import Adam
from glassnet.utils import set_random_seed

RNG = np.random.default_rng(0)
XA, XB = RNG.normal(size=(16, 4)), RNG.normal(size=(16, 6))
Y = RNG.normal(size=(16, 1))


def functional_model(dtype: str = "float32") -> Model:
    """Two inputs, two outputs, a shared layer, every merge and every new layer."""
    a = Input((4,), dtype=dtype, name="a")
    b = Input((6,), dtype=dtype, name="b")
    shared = Dense(4, name="shared")
    x = ReLU()(shared(a))
    y = Flatten()(Permute((2, 1))(Reshape((2, 3))(b)))
    y = shared(Dense(4, activation="tanh")(y))  # the second call of `shared`
    merged = Concatenate()(
        [
            Add()([x, y]),
            Subtract()([x, y]),
            Multiply()([x, y]),
            Average()([x, y]),
            Maximum()([x, y]),
            Minimum()([x, y]),
        ]
    )
    h = LayerNormalization()(BatchNormalization()(merged))
    h = ELU()(PReLU()(LeakyReLU(0.2)(Dense(8)(h))))
    h = Dropout(0.2)(GaussianNoise(0.1)(h))
    probabilities = Softmax(name="probabilities")(
        Dense(3)(Flatten()(RepeatVector(2)(h)))
    )
    score = Dense(1, name="score")(h)
    model = Model([a, b], [probabilities, score], name="two_heads", seed=3)
    randomize(model)
    return model


def randomize(model: Model) -> None:
    """Weights no initializer would draw (moving variances positive)."""
    rng = np.random.default_rng(1)
    model.set_weights(
        [
            rng.uniform(0.5, 2.0, w.shape)
            if "variance" in w.name
            else rng.normal(size=w.shape)
            for w in model.weights
        ]
    )


def predictions(model: Model) -> list[np.ndarray]:
    return model.predict([XA, XB], verbose=0)


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(
        x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b, strict=True)
    )


# -- the config -------------------------------------------------------------------------
def test_get_config_is_keras_functional_layout():
    config = functional_model().get_config()
    assert set(config) == {
        "name",
        "trainable",
        "seed",
        "layers",
        "input_layers",
        "output_layers",
    }
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["probabilities", 0, 0], ["score", 0, 0]]
    entries = {entry["name"]: entry for entry in config["layers"]}
    assert entries["a"]["inbound_nodes"] == [] and entries["a"]["class_name"] == (
        "InputLayer"
    )
    first, second = entries["shared"]["inbound_nodes"]  # one layer, two calls
    assert first["args"][0]["config"]["keras_history"] == ["a", 0, 0]
    assert second["args"][0]["config"]["keras_history"] == ["dense", 0, 0]
    assert second["args"][0]["class_name"] == "__keras_tensor__"
    add = entries["add"]["inbound_nodes"][0]
    assert [t["config"]["keras_history"] for t in add["args"][0]] == [
        ["re_lu", 0, 0],
        ["shared", 1, 0],
    ]
    assert add["kwargs"] == {}
    assert json.loads(json.dumps(config)) == config  # plain JSON


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_from_config_and_json_rebuild_the_same_architecture(dtype):
    model = functional_model(dtype)
    for copy in (
        Model.from_config(model.get_config()),
        model_from_json(model.to_json()),
    ):
        assert isinstance(copy, Model) and not isinstance(copy, Sequential)
        assert copy.get_config() == model.get_config()
        assert [w.shape for w in copy.weights] == [w.shape for w in model.weights]
        assert copy.dtype == np.dtype(dtype)
        copy.set_weights(model.get_weights())
        assert same(predictions(copy), predictions(model))


# -- round trips ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "w.safetensors", "m.keras"])
def test_weights_round_trip_is_bit_identical(tmp_path, name, dtype):
    model = functional_model(dtype)
    path = tmp_path / name
    if name == "m.keras":
        model.save(path)
    else:
        model.save_weights(path)
    copy = model_from_json(model.to_json())
    copy.load_weights(path)
    for ours, theirs in zip(copy.get_weights(), model.get_weights(), strict=True):
        assert ours.dtype == np.dtype(dtype) and np.array_equal(ours, theirs)
    assert same(predictions(copy), predictions(model))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_model_round_trip_is_bit_identical(tmp_path, name, dtype):
    model = functional_model(dtype)
    model.save(tmp_path / name)
    copy = load_model(tmp_path / name)
    assert copy.get_config() == model.get_config()
    assert copy.seed == 3 and copy.name == "two_heads"
    assert same(copy.get_weights(), model.get_weights())
    assert same(predictions(copy), predictions(model))


def test_weights_files_follow_keras_layout(tmp_path):
    model = functional_model()
    model.save_weights(tmp_path / "w.weights.h5")
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.weights.h5") as f:
        groups = f["layers"]
        inputs = [groups[f"{name}/vars"] for name in ("input_layer", "input_layer_1")]
        assert {group.attrs["name"] for group in inputs} == {"a", "b"}
        assert all(len(group) == 0 for group in inputs)  # Keras lists them too
        bn = groups["batch_normalization/vars"]
        assert [bn[str(i)].shape for i in range(4)] == [(24,)] * 4
        variance = model.get_layer("batch_normalization").state["moving_variance"]
        assert np.array_equal(bn["3"][()], variance)  # gamma, beta, mean, variance
    with h5py.File(tmp_path / "w.h5") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        assert names == [layer.name for layer in model.layers]


def test_layers_are_in_keras_order_whatever_the_build_order():
    """A layer shared at two depths sits where Keras puts it (its deepest call)."""
    x = Input((3,), name="x")
    first, second = Dense(3, name="first"), Dense(3, name="second")
    model = Model(x, first(second(first(x))))
    assert [layer.name for layer in model.layers] == ["x", "first", "second"]
    config = model.get_config()
    assert [entry["name"] for entry in config["layers"]] == ["x", "first", "second"]
    copy = Model.from_config(config)
    assert [layer.name for layer in copy.layers] == ["x", "first", "second"]


# -- trainable --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["m.keras", "m.h5", "json"])
def test_frozen_layers_stay_frozen(tmp_path, name):
    model = functional_model()
    model.get_layer("shared").trainable = False
    model.get_layer("batch_normalization").trainable = False
    if name == "json":
        copy = model_from_json(model.to_json())
    else:
        model.save(tmp_path / name)
        copy = load_model(tmp_path / name)
    assert {layer.name for layer in copy.layers if not layer.trainable} == {
        "shared",
        "batch_normalization",
    }
    entries = {e["name"]: e for e in json.loads(model.to_json())["config"]["layers"]}
    assert entries["shared"]["config"]["trainable"] is False
    assert entries["dense"]["config"]["trainable"] is True
    assert len(copy.trainable_weights) == len(model.trainable_weights)


def test_a_frozen_model_loads_frozen_and_does_not_train(tmp_path):
    model = Sequential([Dense(3, input_dim=2), BatchNormalization(), Dense(1)], seed=0)
    model.trainable = False
    model.save(tmp_path / "m.keras")
    copy = load_model(tmp_path / "m.keras")
    assert copy.trainable is False and not any(x.trainable for x in copy.layers)
    assert copy.get_config() == model.get_config()
    before = copy.get_weights()
    copy.compile(optimizer="sgd", loss="mse")
    copy.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0)
    assert same(copy.get_weights(), before)  # nor the moving statistics


def test_the_model_flag_is_kept_apart_from_the_layers():
    x = Input((2,))
    model = Model(x, Dense(1)(Dense(2)(x)))
    model.trainable = False
    model.layers[1].trainable = True  # unfrozen again after the model was frozen
    copy = model_from_json(model.to_json())
    assert copy.trainable is False
    assert [layer.trainable for layer in copy.layers[1:]] == [True, False]


def test_training_resumes_exactly_with_frozen_layers_and_moving_statistics(tmp_path):
    def fresh() -> Model:
        # a functional model's Dropout draws from the session generator, which
        # the .keras file saves and load_model restores
        set_random_seed(7)
        x = Input((6,), name="x")
        h = BatchNormalization()(Dense(5, name="frozen")(x))
        h = Concatenate()([Dense(3, activation="relu")(h), LayerNormalization()(h)])
        model = Model(x, Dense(1)(Dropout(0.3)(h)), seed=4)
        randomize(model)
        model.get_layer("frozen").trainable = False
        model.compile(optimizer=Adam(0.01), loss="mse")
        return model

    straight = fresh()
    straight.fit(XB, Y, epochs=6, batch_size=4, verbose=0)
    first = fresh()
    first.fit(XB, Y, epochs=3, batch_size=4, verbose=0)
    first.save(tmp_path / "half.keras")
    second = load_model(tmp_path / "half.keras")
    second.fit(XB, Y, epochs=3, batch_size=4, verbose=0)
    assert same(second.get_weights(), straight.get_weights())
    assert second.optimizer.iterations == straight.optimizer.iterations == 24


def test_sequential_config_keeps_trainable():
    model = Sequential([Dense(2, input_dim=3), LeakyReLU(), Dense(1)], seed=1)
    model.layers[0].trainable = False
    config = model.get_config()
    assert config["trainable"] is True
    assert config["layers"][0]["config"]["trainable"] is False
    copy = Sequential.from_config(config)
    assert [layer.trainable for layer in copy.layers] == [False, True, True]
    assert copy.get_config() == config


def test_nested_models_are_refused_by_name(tmp_path):
    inner_x = Input((3,))
    inner = Model(inner_x, Dense(2)(inner_x), name="inner")
    x = Input((3,))
    try:
        outer = Model(x, Dense(1)(inner(x)), name="outer")
    except InvalidArgumentError:
        pytest.skip("models inside models are not available")
    with pytest.raises(InvalidArgumentError, match="model 'inner' as a layer"):
        outer.save(tmp_path / "m.keras")
    with pytest.raises(InvalidArgumentError, match="model 'inner' as a layer"):
        outer.to_json()
    assert not (tmp_path / "m.keras").exists()


# -- hostile functional configs ---------------------------------------------------------
def small_config() -> dict:
    """A functional model's to_json document: x -> d -> shared -> shared -> add."""
    x = Input((3,), name="x")
    shared = Dense(3, name="shared")
    h = shared(Dense(3, name="d")(x))
    model = Model(x, Add(name="add")([h, shared(h)]), name="small")
    return json.loads(model.to_json())


def _layer(config: dict, name: str) -> dict:
    return next(e for e in config["config"]["layers"] if e["name"] == name)


def _history(config: dict, name: str, node: int = 0, arg: int = 0) -> list:
    args = _layer(config, name)["inbound_nodes"][node]["args"][0]
    tensor = args[arg] if isinstance(args, list) else args
    return tensor["config"]["keras_history"]


def _set_history(name: str, value: list, node: int = 0):
    def edit(config: dict) -> None:
        _history(config, name, node)[:] = value

    return edit


def _rename(c: dict) -> None:
    entry = _layer(c, "d")
    entry["name"] = entry["config"]["name"] = "shared"


def _kwargs(**kwargs):
    return lambda c: _layer(c, "d")["inbound_nodes"][0].__setitem__("kwargs", kwargs)


def _huge_units(c: dict) -> None:
    _layer(c, "d")["config"]["units"] = 2**29


def _bad_merge(c: dict) -> None:
    _layer(c, "shared")["config"]["units"] = 5  # add then takes (3,) and (5,)
    _layer(c, "shared")["inbound_nodes"].pop()  # one call: 3 -> 5
    _layer(c, "add")["inbound_nodes"][0]["args"][0][1]["config"]["keras_history"] = [
        "d",
        0,
        0,
    ]


def _lambda_tensor(c: dict) -> None:
    node = _layer(c, "d")["inbound_nodes"][0]
    node["args"][0] = {"module": "builtins", "class_name": "function", "config": "eval"}


HOSTILE = [
    ("unknown-layer", _set_history("d", ["ghost", 0, 0]), "'ghost', which the config"),
    ("future-node", _set_history("shared", ["shared", 1, 0]), "depend on each other"),
    ("cycle", _set_history("d", ["shared", 1, 0]), "depend on each other"),
    ("self-loop", _set_history("d", ["d", 0, 0]), "depend on each other"),
    (
        "huge-node-index",
        _set_history("d", ["x", 2**62, 0]),
        "call #4611686018427387904",
    ),
    (
        "negative-node-index",
        _set_history("d", ["x", -1, 0]),
        "node index, tensor index",
    ),
    ("second-output", _set_history("d", ["x", 0, 1]), "one output"),
    ("name-used-twice", _rename, "used by another layer"),
    (
        "names-disagree",
        lambda c: _layer(c, "d").__setitem__("name", "other"),
        "its config names it 'd'",
    ),
    (
        "input-called",
        lambda c: _layer(c, "x")["inbound_nodes"].append(
            _layer(c, "d")["inbound_nodes"][0]
        ),
        "InputLayer and cannot be called",
    ),
    (
        "never-called",
        lambda c: _layer(c, "add").__setitem__("inbound_nodes", []),
        "never called",
    ),
    (
        "input-is-a-dense",
        lambda c: c["config"].__setitem__("input_layers", ["d", 0, 0]),
        "not an InputLayer",
    ),
    (
        "no-outputs",
        lambda c: c["config"].__setitem__("output_layers", []),
        "output_layers",
    ),
    ("mask-given", _kwargs(mask=True), "mask=True"),
    ("training-string", _kwargs(training="yes"), "true, false or null"),
    (
        "two-arguments",
        lambda c: _layer(c, "d")["inbound_nodes"][0]["args"].append(1),
        "one argument",
    ),
    ("huge-units", _huge_units, "MAX_PARAMETERS"),
    ("merge-of-mismatched-shapes", _bad_merge, "call #0"),
    ("unknown-model-key", lambda c: c["config"].__setitem__("exec", "x"), "exec"),
    ("nested-nodes", lambda c: _layer(c, "d").__setitem__("inbound_nodes", {}), "list"),
]


@pytest.mark.parametrize(
    ("edit", "match"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_hostile_functional_configs_are_refused_before_any_layer_is_built(
    monkeypatch, tmp_path, edit, match
):
    document = small_config()
    edit(document)

    def built(*args, **kwargs):
        raise AssertionError("a layer was called, so built, before the refusal")

    monkeypatch.setattr(io_functional, "call_layers", built)
    with pytest.raises(ModelFileError, match=match):
        model_from_json(json.dumps(document))
    # the same config in a .keras archive
    x = Input((3,), name="x")
    Model(x, Dense(1)(x)).save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["config.json"] = json.dumps(document).encode()
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    with pytest.raises(ModelFileError, match=match):
        load_model(tmp_path / "bad.keras")


def test_a_tensor_naming_code_is_unsafe():
    document = small_config()
    _lambda_tensor(document)
    with pytest.raises(UnsafeFileError, match="function or lambda"):
        model_from_json(json.dumps(document))


def test_too_many_calls_are_refused(monkeypatch):
    document = small_config()
    node = _layer(document, "shared")["inbound_nodes"][1]
    _layer(document, "shared")["inbound_nodes"] += [node] * 50
    monkeypatch.setattr(limits, "MAX_LAYER_CALLS", 20)
    with pytest.raises(ModelFileError, match="more than 20 times"):
        model_from_json(json.dumps(document))


def test_keras_2_inbound_nodes_are_read():
    """tf.keras 2 wrote each call as [[layer, node, tensor, kwargs], ...]."""
    document = small_config()
    for entry in document["config"]["layers"]:
        entry["inbound_nodes"] = [
            [
                [*t["config"]["keras_history"], {}]
                for t in (
                    n["args"][0] if isinstance(n["args"][0], list) else [n["args"][0]]
                )
            ]
            for n in entry["inbound_nodes"]
        ]
    document["config"]["input_layers"] = [["x", 0, 0]]
    document["config"]["output_layers"] = [["add", 0, 0]]
    model = model_from_json(json.dumps(document))
    assert [len(e["inbound_nodes"]) for e in model.get_config()["layers"]] == [
        0,
        1,
        2,
        1,
    ]


def test_a_call_with_its_own_training_mode_keeps_it():
    document = small_config()
    _kwargs(training=False)(document)
    model = model_from_json(json.dumps(document))
    entry = next(e for e in model.get_config()["layers"] if e["name"] == "d")
    assert entry["inbound_nodes"][0]["kwargs"] == {"training": False}


def test_a_graph_deeper_than_the_recursion_limit_saves_and_loads(tmp_path):
    """The loaders' walks (the plan, the counts, Keras' order) use no recursion."""
    x = Input((2,), name="x")
    h = x
    for _ in range(2000):
        h = Activation("relu")(h)
    model = Model(x, Dense(1)(h))
    copy = model_from_json(model.to_json())
    assert len(copy.layers) == 2002
    model.save(tmp_path / "deep.keras")
    copy = load_model(tmp_path / "deep.keras")
    assert same(copy.get_weights(), model.get_weights())
    assert np.array_equal(
        copy.predict(XA[:, :2], verbose=0), model.predict(XA[:, :2], verbose=0)
    )


def test_a_model_compiled_with_a_loss_per_output_saves_and_resumes(tmp_path) -> None:
    from glassnet import Input, Model
    from glassnet.layers import Dense
    from glassnet.models import load_model

    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    targets = {"price": x[:, :1], "kind": (x[:, 1] > 0).astype(np.int64)}
    inputs = Input((4,))
    hidden = Dense(5, activation="tanh")(inputs)
    model = Model(
        inputs,
        [
            Dense(1, name="price")(hidden),
            Dense(2, activation="softmax", name="kind")(hidden),
        ],
        seed=0,
    )
    model.compile(
        optimizer="adam",
        loss={"price": "mae", "kind": "sparse_categorical_crossentropy"},
        loss_weights={"price": 2.0, "kind": 0.5},
        metrics={"kind": ["accuracy"]},
    )
    model.fit(x, targets, epochs=2, verbose=0)
    path = tmp_path / "two_heads.keras"
    model.save(path)
    copy = load_model(path)
    assert [
        (h.name, h.loss.name, h.weight, [m.name for m in h.metrics]) for h in copy.heads
    ] == [
        (h.name, h.loss.name, h.weight, [m.name for m in h.metrics])
        for h in model.heads
    ]
    a = model.fit(x, targets, epochs=2, verbose=0, shuffle=False).history
    b = copy.fit(x, targets, epochs=2, verbose=0, shuffle=False).history
    assert a == b
    for mine, theirs in zip(model.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
