"""The corpus' recurrent cases: sequence models damaged one way, with expected errors.

``make_corpus.py`` loads this file and calls :func:`declare` with itself, so these
cases use its helpers and its recurrent reference model
(``make_corpus.make_rnn_model``: Embedding, Bidirectional(LSTM),
TimeDistributed(Dense), GRU with and without ``reset_after``, RepeatVector,
SimpleRNN, Dense). Every case states the message it must end in (``expect``,
checked by ``tests/test_files_recurrent.py``), and ``load_weights`` loads it into
that reference model (``model="rnn"``), so a weights file is compared with the
architecture it was damaged from. Three groups, one folder each:

- ``rnn/config/``: architecture edits, each as model_from_json text, a ``.keras``
  config.json and an ``.h5`` model_config: absurd ``units``, ``input_dim`` and
  ``output_dim`` (refused by the parameter count before anything is built), sizes
  of the wrong type, wrappers around something unknown, an InputLayer, a merge, a
  Lambda or code, or nested past ``MAX_WRAPPER_DEPTH``, a ``RepeatVector`` past
  ``MAX_REPEAT``, Keras settings glassnet refuses (``stateful``, ``return_state``,
  ``time_major``);
- ``rnn/mismatch/``: whole-model files whose weights disagree with their own
  config (a GRU's ``reset_after`` flipped, more units, a larger embedding table, a
  table larger than the whole file);
- ``rnn/weights/``: weights damaged in every weights format (a GRU bias of the
  other ``reset_after``, a transposed recurrent kernel, an LSTM recurrent kernel of
  GRU shape, an embedding table with more rows, one declared 2**20 x 2**20 with
  nothing stored, the cell's weights stored flat, a Bidirectional's backward layer
  missing, weights for an LSTM the model lacks).
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import numpy as np

CATEGORY = "recurrent"
_PARAMS = r"declares at least \d+ parameters; the limit is 268435456"

Config = dict[str, Any]


def _named(c: Config, name: str) -> Config:
    """The config of the layer called ``name`` in a (functional) model document."""
    config: Config = next(
        e["config"] for e in c["config"]["layers"] if e["config"].get("name") == name
    )
    return config


def _set(name: str, **changes: Any) -> Any:
    return lambda c, p: _named(c, name).update(changes)


def _set_inner(name: str, key: str, **changes: Any) -> Any:
    """Change the config of the layer a wrapper holds under ``key``."""
    return lambda c, p: _named(c, name)[key]["config"].update(changes)


def _wrap(name: str, key: str, value: Any) -> Any:
    """Replace what the wrapper ``name`` holds under ``key``."""

    def edit(c: Config, p: Any) -> None:
        _named(c, name)[key] = value(p) if callable(value) else value

    return edit


def _drop(name: str, key: str) -> Any:
    return lambda c, p: _named(c, name).pop(key)


def _nested(depth: int) -> Any:
    """TimeDistributed's Dense wrapped in ``depth - 1`` more TimeDistributed layers."""

    def edit(c: Config, p: Any) -> None:
        wrapper = _named(c, "time_distributed")
        inner = wrapper["layer"]
        for level in range(depth - 1):
            inner = {
                "class_name": "TimeDistributed",
                "config": {"name": f"nested_{level}", "layer": inner},
            }
        wrapper["layer"] = inner

    return edit


def _lambda(p: Any) -> Config:
    function = {
        "module": "builtins",
        "class_name": "__lambda__",
        "config": {"code": p.bytecode(), "defaults": None, "closure": None},
        "registered_name": "function",
    }
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "lambda", "function": function, "arguments": {}},
        "registered_name": None,
    }


_DENSE = {"class_name": "Dense", "config": {"name": "inner_dense", "units": 3}}
_NO_WRAPPED = r"a wrapped layer must be a layer config"

#: (slug, what, edit, expected message, unsafe): the recurrent model's architecture
#: damaged one way, written as model_from_json text, config.json and model_config.
# fmt: off
ARCHITECTURE_EDITS: list[tuple[str, str, Any, str, bool]] = [
    # absurd sizes: refused by the parameter count, before any layer is built
    ("lstm-units-1e12", "the Bidirectional's forward LSTM has 10**12 units",
     _set_inner("bidirectional", "layer", units=10**12), _PARAMS, False),
    ("gru-units-2e31", "a GRU of 2**31 units", _set("gru", units=2**31), _PARAMS, False),
    ("simple-rnn-units-1e30", "a SimpleRNN of 10**30 units",
     _set("simple_rnn", units=10**30), _PARAMS, False),
    ("embedding-input-dim-1e12", "an Embedding of 10**12 token ids",
     _set("embedding", input_dim=10**12), _PARAMS, False),
    ("embedding-output-dim-2e40", "an Embedding of 2**40-long vectors",
     _set("embedding", output_dim=2**40), _PARAMS, False),
    ("time-distributed-units-1e15", "TimeDistributed(Dense(10**15))",
     _set_inner("time_distributed", "layer", units=10**15), _PARAMS, False),
    # sizes of the wrong kind: the constructors' own checks, named
    ("gru-units-zero", "a GRU of 0 units", _set("gru", units=0),
     r"'gru'.*`units`.*Received: units=0", False),
    ("simple-rnn-units-negative", "a SimpleRNN of -2 units", _set("simple_rnn", units=-2),
     r"'simple_rnn'.*`units`.*Received: units=-2", False),
    ("gru-units-float", "a GRU of 2.5 units", _set("gru", units=2.5),
     r"'gru'.*`units`.*Received: units=2.5", False),
    ("gru-units-string", "a GRU of '3' units", _set("gru", units="3"),
     r"'gru'.*`units`.*Received: units='3'", False),
    ("gru-units-bool", "a GRU of true units", _set("gru", units=True),
     r"'gru'.*`units`.*Received: units=True", False),
    ("embedding-input-dim-zero", "an Embedding of 0 token ids",
     _set("embedding", input_dim=0), r"'embedding'.*`input_dim`.*Received: input_dim=0",
     False),
    ("embedding-output-dim-negative", "an Embedding of -4-long vectors",
     _set("embedding", output_dim=-4), r"'embedding'.*`output_dim`", False),
    ("gru-reset-after-string", "a GRU with reset_after 'yes'",
     _set("gru", reset_after="yes"), r"'gru'.*`reset_after`", False),
    ("repeat-vector-zero", "RepeatVector(0)", _set("repeat_vector", n=0),
     r"'repeat_vector'.*`n`", False),
    # a RepeatVector has no weights to count: capped as data
    ("repeat-vector-1e9", "RepeatVector(10**9): a billion steps per sample",
     _set("repeat_vector", n=10**9), r"'repeat_vector'.*`n=1000000000`.*MAX_REPEAT", False),
    # wrappers around what they cannot hold
    ("bidirectional-wraps-dense", "Bidirectional(Dense)",
     _wrap("bidirectional", "layer", _DENSE),
     r"'bidirectional'.*must be a SimpleRNN, LSTM or GRU. Received: Dense", False),
    ("bidirectional-wraps-unknown", "Bidirectional(ConvLSTM2D), a Keras layer glassnet lacks",
     _wrap("bidirectional", "layer", {"class_name": "ConvLSTM2D", "config": {"filters": 2}}),
     r"'bidirectional'.*layer.*glassnet has no layer 'ConvLSTM2D'", False),
    ("bidirectional-wraps-rnn-cell", "Bidirectional(RNN(cell)), Keras' generic RNN",
     _wrap("bidirectional", "layer", {"class_name": "RNN", "config": {
         "cell": {"class_name": "LSTMCell", "config": {"units": 3}}}}),
     r"'bidirectional'.*glassnet has no layer 'RNN'", False),
    ("bidirectional-layer-string", "Bidirectional's layer is the string 'lstm'",
     _wrap("bidirectional", "layer", "lstm"), _NO_WRAPPED, False),
    ("bidirectional-layer-null", "Bidirectional's layer is null",
     _wrap("bidirectional", "layer", None), _NO_WRAPPED, False),
    ("bidirectional-layer-list", "Bidirectional's layer is a list",
     _wrap("bidirectional", "layer", [_DENSE]), _NO_WRAPPED, False),
    ("bidirectional-layer-missing", "Bidirectional without a layer",
     _drop("bidirectional", "layer"), r"'bidirectional'.*'layer'", False),
    ("bidirectional-backward-not-recurrent", "Bidirectional's backward_layer is a Dense",
     _wrap("bidirectional", "backward_layer", _DENSE),
     r"'bidirectional'.*`backward_layer`.*SimpleRNN, LSTM or GRU", False),
    ("bidirectional-same-direction", "both directions read forwards",
     _set_inner("bidirectional", "backward_layer", go_backwards=False),
     r"'bidirectional'.*opposite directions", False),
    ("bidirectional-merge-none", "merge_mode null: two outputs",
     _set("bidirectional", merge_mode=None), r"'bidirectional'.*merge_mode=None", False),
    ("bidirectional-merge-max", "merge_mode 'max'", _set("bidirectional", merge_mode="max"),
     r"'bidirectional'.*`merge_mode`.*Received: merge_mode='max'", False),
    ("time-distributed-wraps-input", "TimeDistributed(InputLayer)",
     _wrap("time_distributed", "layer",
           {"class_name": "InputLayer", "config": {"batch_shape": [None, 3]}}),
     r"'time_distributed'.*an InputLayer cannot be wrapped", False),
    ("time-distributed-wraps-add", "TimeDistributed(Add), a merge of several tensors",
     _wrap("time_distributed", "layer", {"class_name": "Add", "config": {"name": "add"}}),
     r"'time_distributed'.*wraps a layer that takes one tensor", False),
    ("time-distributed-wraps-unknown", "TimeDistributed(Conv3D)",
     _wrap("time_distributed", "layer", {"class_name": "Conv3D", "config": {}}),
     r"'time_distributed'.*glassnet has no layer 'Conv3D'", False),
    ("wrapped-layer-with-calls", "a wrapped Dense that lists inbound nodes",
     _wrap("time_distributed", "layer", {**_DENSE, "inbound_nodes": [[["x", 0, 0, {}]]]}),
     r"'time_distributed'.*unexpected keys \['inbound_nodes'\]", False),
    ("wrappers-9-deep", "Dense inside 9 TimeDistributed layers", _nested(9),
     r"wrappers nested 9 deep.*MAX_WRAPPER_DEPTH", False),
    ("wrappers-40-deep", "Dense inside 40 TimeDistributed layers", _nested(40),
     r"nested too deeply \(limit 64\)", False),
    # Keras settings glassnet refuses, by name
    ("gru-stateful", "a stateful GRU", _set("gru", stateful=True),
     r"'gru'.*stateful=True is not supported yet", False),
    ("gru-time-major", "tf.keras 2's time_major=True", _set("gru", time_major=True),
     r"'gru'.*`time_major=True` is not supported", False),
    # code where a wrapped layer should be
    ("wrapped-module-os", "Bidirectional's layer claims module 'os'",
     _wrap("bidirectional", "layer", {"module": "os", "class_name": "system",
                                      "config": {}}),
     r"names the module 'os'", True),
    ("wrapped-lambda", "TimeDistributed(Lambda) with marshalled bytecode",
     _wrap("time_distributed", "layer", _lambda), r"a Python function or lambda", True),
    ("wrapped-initializer-code", "the wrapped LSTM's recurrent_initializer is "
     "subprocess.Popen", _set_inner("bidirectional", "layer", recurrent_initializer={
         "module": "subprocess", "class_name": "Popen", "config": {}}),
     r"recurrent_initializer: the config names the module 'subprocess'", True),
]

#: (slug, what, edit, expected message): whole-model files (.keras, .h5) whose
#: recurrent weights disagree with their own config.
MISMATCHES: list[tuple[str, str, Any, str]] = [
    ("gru-reset-after-flipped", "config reset_after=False; the bias stored is (2, 9)",
     _set("gru", reset_after=False),
     r"\(2, 9\); the model's has \(9,\).*reset_after=False, whose bias is \(3u,\); "
     r"the file's \(2, 9\) is the bias of reset_after=True"),
    ("gru-reset-after-set", "config reset_after=True; the bias stored is (6,)",
     _set("gru_1", reset_after=True),
     r"\(6,\); the model's has \(2, 6\).*the file's \(6,\) is the bias of "
     r"reset_after=False"),
    ("lstm-units-disagree", "config units 4 for both LSTMs; the weights hold 3",
     lambda c, p: [_set_inner("bidirectional", key, units=4)(c, p)
                   for key in ("layer", "backward_layer")],
     r"\(4, 12\); the model's has \(4, 16\).*LSTM 'forward_lstm'.*kernel of \(input "
     r"features, 4 x units\)"),
    ("embedding-rows-disagree", "config input_dim 1000; the table stored has 12 rows",
     _set("embedding", input_dim=1000),
     r"\(12, 4\); the model's has \(1000, 4\).*one row per token id"),
    ("embedding-larger-than-file", "an Embedding of 2**24 x 4 in a file of kilobytes",
     _set("embedding", input_dim=2**24), r"about \d+ parameters, but the file has only"),
]
# fmt: on

#: Where the reference model's weights are, in a Keras 3 weights file and in a Keras 2
#: one ("model_weights/" in front in a whole-model .h5); the safetensors names.
GRU_BIAS = ("layers/gru/cell/vars/2", "gru/gru/gru_cell/bias:0", "gru.b")
GRU_RECURRENT = (
    "layers/gru/cell/vars/1",
    "gru/gru/gru_cell/recurrent_kernel:0",
    "gru.recurrent_kernel",
)
LSTM_RECURRENT = (
    "layers/bidirectional/forward_layer/cell/vars/1",
    "bidirectional/bidirectional/forward_lstm/lstm_cell/recurrent_kernel:0",
    "bidirectional.forward.recurrent_kernel",
)
EMBEDDINGS = (
    "layers/embedding/vars/0",
    "embedding/embedding/embeddings:0",
    "embedding.embeddings",
)

_HUGE = {"shape": (2**20, 2**20), "chunks": (1, 4), "dtype": "f4"}

#: (slug, what, weights, replacement (an array, or a dataset's create arguments),
#: expected message): one weight replaced in every format.
# fmt: off
WEIGHT_EDITS: list[tuple[str, str, tuple[str, str, str], Any, str]] = [
    ("gru-bias-of-reset-after-false", "the GRU's bias stored (9,), that of reset_after=False",
     GRU_BIAS, np.zeros(9, "f4"),
     r"\(9,\); the model's has \(2, 9\).*reset_after=True, whose bias is \(2, 3u\); the "
     r"file's \(9,\) is the bias of reset_after=False"),
    ("gru-bias-neither", "the GRU's bias stored (3, 3)", GRU_BIAS, np.zeros((3, 3), "f4"),
     r"\(3, 3\); the model's has \(2, 9\).*the file's \(3, 3\) is neither GRU bias"),
    ("gru-recurrent-transposed", "the GRU's recurrent kernel stored transposed (9, 3)",
     GRU_RECURRENT, np.zeros((9, 3), "f4"),
     r"\(9, 3\); the model's has \(3, 9\).*recurrent kernel of \(units, 3 x units\) = "
     r"\(3, 9\)"),
    ("lstm-recurrent-of-gru-shape", "the LSTM's recurrent kernel stored (3, 9): three gates",
     LSTM_RECURRENT, np.zeros((3, 9), "f4"),
     r"\(3, 9\); the model's has \(3, 12\).*LSTM 'forward_lstm'.*\(units, 4 x units\) = "
     r"\(3, 12\)"),
    ("embedding-more-rows", "the embedding table stored with 24 rows, the model has 12",
     EMBEDDINGS, np.zeros((24, 4), "f4"),
     r"\(24, 4\); the model's has \(12, 4\).*\(input_dim, output_dim\) = \(12, 4\)"),
    ("embedding-declared-huge", "the embedding table declared 2**20 x 2**20, nothing stored",
     EMBEDDINGS, _HUGE, r"\(1048576, 1048576\); the model's has \(12, 4\)"),
]
# fmt: on


def _replaced(path: str, value: Any) -> Any:
    def edit(f: Any) -> None:
        del f[path]
        if isinstance(value, dict):
            f.create_dataset(path, **value)
        else:
            f.create_dataset(path, data=value)

    return edit


def _safetensors_with(c: ModuleType, name: str, value: Any) -> Any:
    """The reference safetensors file with tensor ``name`` replaced by ``value``."""

    def build(b: Any) -> bytes:
        header, data = b.rnn.safetensors_parts()
        if isinstance(value, dict):  # declared, not stored: the bytes stay as they are
            header[name] = {**header[name], "shape": list(value["shape"])}
            return bytes(c.safetensors_bytes(header, data))
        raw = np.ascontiguousarray(value, "<f4").tobytes()
        start, end = header[name]["data_offsets"]
        header[name] = {"dtype": "F32", "shape": list(value.shape),
                        "data_offsets": [start, start + len(raw)]}  # fmt: skip
        shift = len(raw) - (end - start)
        for key, entry in header.items():
            if key != "__metadata__" and entry["data_offsets"][0] >= end:
                entry["data_offsets"] = [o + shift for o in entry["data_offsets"]]
        return bytes(c.safetensors_bytes(header, data[:start] + raw + data[end:]))

    return build


def _flat_cell(f: Any) -> None:
    """The GRU's weights moved up from ``cell/vars`` to ``vars``: the layout glassnet
    wrote before it nested them as Keras does."""
    for index in range(3):
        f.move(f"layers/gru/cell/vars/{index}", f"layers/gru/vars/{index}")
    del f["layers/gru/cell"]


def _in_base(kind: str, path: str, value: Any) -> Any:
    """The reference model's base file ``kind`` with the weight at ``path`` replaced."""
    return lambda b: b.rnn.h5(kind, _replaced(path, value))


def _in_archive(path: str, value: Any) -> Any:
    """The reference ``.keras`` archive with that weight replaced in its weights."""
    return lambda b: b.rnn.keras(
        weights=b.rnn.h5("keras-member", _replaced(path, value))
    )


def _on_rnn(build: Any) -> Any:
    return lambda b: build(b.rnn)


def declare(c: ModuleType) -> None:
    """Declare the recurrent cases through ``make_corpus``'s own ``_case``."""
    rnn = {"model": "rnn"}
    model_loaders = (c.LOAD_MODEL,)
    for slug, what, edit, expect, unsafe in ARCHITECTURE_EDITS:
        c._case(f"rnn/config/{slug}.json", CATEGORY, what, _on_rnn(c._json_file(edit)),
                expect=expect, unsafe=unsafe, **rnn)  # fmt: skip
        loaders = (c.LOAD_MODEL, c.LOAD_WEIGHTS) if unsafe else model_loaders
        for name, build in [
            (f"rnn/config/{slug}.keras", c._keras_config_file(edit)),
            (f"rnn/config/{slug}-model.h5", c._legacy_config_file(edit)),
        ]:
            c._case(name, CATEGORY, what, _on_rnn(build), loaders=loaders,
                    unsafe=unsafe, expect=expect, **rnn)  # fmt: skip
    for slug, what, edit, expect in MISMATCHES:
        for name, build in [
            (f"rnn/mismatch/{slug}.keras", c._keras_config_file(edit)),
            (f"rnn/mismatch/{slug}-model.h5", c._legacy_config_file(edit)),
        ]:
            c._case(name, CATEGORY, what, _on_rnn(build), loaders=model_loaders,
                    expect=expect, **rnn)  # fmt: skip
    both = (c.LOAD_MODEL, c.LOAD_WEIGHTS)
    for slug, what, (keras3, keras2, tensor), value, expect in WEIGHT_EDITS:
        for name, build, loaders in [
            (f"rnn/weights/{slug}.weights.h5", _in_base("weights.h5", keras3, value),
             (c.LOAD_WEIGHTS,)),
            (f"rnn/weights/{slug}.keras", _in_archive(keras3, value), both),
            (f"rnn/weights/{slug}.h5", _in_base("legacy-weights", keras2, value),
             (c.LOAD_WEIGHTS,)),
            (f"rnn/weights/{slug}-model.h5",
             _in_base("legacy-model", f"model_weights/{keras2}", value), both),
            (f"rnn/weights/{slug}.safetensors", _safetensors_with(c, tensor, value),
             (c.LOAD_WEIGHTS,)),
        ]:  # fmt: skip
            if name.endswith(".safetensors") and isinstance(value, dict):
                # a header whose shape its bytes cannot hold: refused as it is parsed
                expect = r"needs \d+ bytes; the offsets give"
            c._case(name, CATEGORY, what, build, loaders=loaders, expect=expect, **rnn)
    nested = (
        r"layers/gru/vars.*Keras 3 nests this layer's weights: layers/gru/cell/vars"
    )
    for name, build, loaders in [
        ("rnn/weights/cell-weights-flat.weights.h5",
         lambda b: b.rnn.h5("weights.h5", _flat_cell), (c.LOAD_WEIGHTS,)),
        ("rnn/weights/cell-weights-flat.keras",
         lambda b: b.rnn.keras(weights=b.rnn.h5("keras-member", _flat_cell)), both),
    ]:  # fmt: skip
        c._case(name, CATEGORY, "the GRU's weights in layers/gru/vars, not in its cell",
                build, loaders=loaders, expect=nested, **rnn)  # fmt: skip
    c._case(
        "rnn/weights/extra-lstm-layer.weights.h5",
        CATEGORY,
        "weights for an LSTM the model lacks, in its cell's group",
        lambda b: b.rnn.h5(
            "weights.h5",
            lambda f: f.create_dataset("layers/lstm_9/cell/vars/0", data=np.ones(4)),
        ),
        loaders=(c.LOAD_WEIGHTS,),
        expect=r"weights for a layer 'layers/lstm_9' that the model does not have",
        **rnn,
    )
    c._case(
        "rnn/weights/backward-layer-missing.weights.h5",
        CATEGORY,
        "no group for the Bidirectional's backward layer",
        lambda b: b.rnn.h5(
            "weights.h5", lambda f: f.__delitem__("layers/bidirectional/backward_layer")
        ),
        loaders=(c.LOAD_WEIGHTS,),
        expect=r"layers/bidirectional.*no group 'backward_layer'",
        **rnn,
    )
    c._case(
        "rnn/weights/legacy-names-by-order.h5",
        CATEGORY,
        "legacy weights naming the GRU's bias where its recurrent kernel is",
        lambda b: b.rnn.h5(
            "legacy-weights",
            c._attr(
                "weight_names",
                [
                    b"gru/gru_cell/kernel:0",
                    b"gru/gru_cell/bias:0",
                    b"gru/gru_cell/recurrent_kernel:0",
                ],
                "gru",
            ),
        ),
        loaders=(c.LOAD_WEIGHTS,),
        expect=r"gru/gru_cell/bias:0.*\(2, 9\); the model's has \(3, 9\).*recurrent kernel",
        **rnn,
    )


def document_edit(edit: Any, base: str) -> Config:
    """``edit`` applied to the reference model's ``to_json()`` (for the tests)."""
    config: Config = json.loads(base)
    edit(config, None)
    return config
