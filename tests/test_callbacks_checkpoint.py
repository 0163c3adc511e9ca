"""ModelCheckpoint and CSVLogger: the files they write, and the templates they refuse.

A template key ``fit`` will not log, or a format spec that does not fit its value,
is refused before the first epoch: no weight moves and no file is written or
touched. Keras' own runs give the expected file names and CSV layout.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

import glassnet
from glassnet.callbacks import CSVLogger, ModelCheckpoint
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.models import load_model

RNG = np.random.default_rng(5)
X = RNG.normal(size=(32, 3)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def model_of(library: Any = glassnet, weights: Any = None) -> Any:
    model = library.Sequential(
        [library.Input((3,)), library.layers.Dense(1, activation="sigmoid")]
    )
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer=library.optimizers.SGD(0.5), loss="binary_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def fit(model: Any, callback: Any, **kwargs: Any) -> Any:
    options = {"epochs": 3, "batch_size": 8, "verbose": 0, "shuffle": False}
    options.update(kwargs)
    return model.fit(X, Y, callbacks=[callback], **options)


def test_template_names_match_keras(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    weights = model_of().get_weights()
    names = []
    for library in (glassnet, keras):
        folder = tmp_path / library.__name__
        template = str(folder / "ckpt-{epoch:02d}-{val_loss:.2f}-{accuracy:.3f}.keras")
        save = library.callbacks.ModelCheckpoint(template)
        fit(model_of(library, weights), save, validation_data=(X, Y))
        names.append(sorted(os.listdir(folder)))
    assert names[0] == names[1] and len(names[0]) == 3


def test_save_best_only_keeps_improvements_and_the_best_carries_over(tmp_path) -> None:
    path = tmp_path / "best.keras"
    best = ModelCheckpoint(path, monitor="loss", save_best_only=True)
    model = model_of()
    fit(model, best)
    saved = load_model(path)
    for a, b in zip(saved.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the loss fell every epoch
    stamp = path.stat().st_mtime_ns
    worse = ModelCheckpoint(path, monitor="loss", save_best_only=True, mode="max",
                            initial_value_threshold=100.0)  # fmt: skip
    fit(model, worse)
    assert path.stat().st_mtime_ns == stamp  # no loss above 100: nothing written


def test_weights_only_and_every_n_batches(tmp_path: Path) -> None:
    template = tmp_path / "w-{epoch}-{batch}.weights.h5"
    model = model_of()
    fit(model, ModelCheckpoint(template, save_weights_only=True, save_freq=3))
    # 4 batches per epoch, 12 in all: saved after batches 3, 6, 9, 12
    assert sorted(os.listdir(tmp_path)) == [
        "w-1-3.weights.h5",
        "w-2-2.weights.h5",
        "w-3-1.weights.h5",
        "w-3-4.weights.h5",
    ]
    copy = model_of()
    copy.load_weights(tmp_path / "w-3-4.weights.h5")
    for a, b in zip(copy.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("template", "kwargs", "match"),
    [
        ("m-{epoch}-{val_los:.2f}.keras", {}, r"\{val_los\}.*did you mean 'val_loss'"),
        ("m-{val_loss:.2f}.keras", {"validation_data": None}, r"\{val_loss\}"),
        ("m-{batch}.keras", {}, r"\{batch\}"),
        ("m-{epoch:.2q}.keras", {}, "cannot be filled in"),
        ("m-{loss:03d}.keras", {}, "cannot be filled in"),
    ],
)
def test_a_bad_template_is_refused_before_any_epoch(
    tmp_path: Path, template: str, kwargs: dict[str, Any], match: str
) -> None:
    existing = tmp_path / "m-1.keras"
    model = model_of()
    model.save(existing)
    before, content = model.get_weights(), existing.read_bytes()
    options = {"validation_data": (X, Y), **kwargs}
    with pytest.raises(InvalidArgumentError, match=match):
        fit(model, ModelCheckpoint(tmp_path / template), **options)
    assert model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert os.listdir(tmp_path) == ["m-1.keras"] and existing.read_bytes() == content


def test_save_best_only_monitor_must_be_logged(tmp_path: Path) -> None:
    model = model_of()
    with pytest.raises(InvalidArgumentError, match="'val_accuracy'"):
        fit(
            model,
            ModelCheckpoint(tmp_path / "m.keras", "val_accuracy", save_best_only=True),
        )
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("m.weights.h5",), InvalidArgumentError, r"\.keras"),
        (("m.keras",), InvalidArgumentError, r"\.weights\.h5"),
        (("m-{}.keras",), InvalidArgumentError, "named fields"),
        ((3,), GlassnetTypeError, "filepath"),
    ],
)
def test_bad_checkpoint_arguments(args, error, match) -> None:
    kwargs = {"save_weights_only": True} if args == ("m.keras",) else {}
    with pytest.raises(error, match=match):
        ModelCheckpoint(*args, **kwargs)
    with pytest.raises(InvalidArgumentError, match="save_freq"):
        ModelCheckpoint("m.keras", save_freq=0)


def test_csv_logger_writes_keras_columns_and_appends(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    weights = model_of().get_weights()
    tables = []
    for library in (glassnet, keras):
        path = tmp_path / f"{library.__name__}.csv"
        model = model_of(library, weights)
        fit(model, library.callbacks.CSVLogger(str(path), separator=";"), epochs=2)
        fit(model, library.callbacks.CSVLogger(str(path), ";", append=True), epochs=1)
        with open(path, newline="") as handle:
            tables.append(list(csv.reader(handle, delimiter=";")))
    ours, theirs = tables
    assert ours[0] == theirs[0] == [
        "epoch", "accuracy", "loss", "val_accuracy", "val_loss"
    ]  # fmt: skip
    assert [row[0] for row in ours] == [row[0] for row in theirs]  # one header
    for row, their_row in zip(ours[1:], theirs[1:], strict=True):
        assert row[3:] == their_row[3:] == ["NA", "NA"]
        np.testing.assert_allclose(
            [float(v) for v in row[1:3]], [float(v) for v in their_row[1:3]], rtol=1e-5
        )


def test_csv_logger_checks_its_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="one character"):
        CSVLogger("log.csv", separator=";;")
    with pytest.raises(GlassnetTypeError, match="filename"):
        CSVLogger(None)


def test_a_checkpoint_is_written_atomically(tmp_path: Path, monkeypatch) -> None:
    # A save that fails half-way (here: the disk fills) leaves the last good file.
    path = tmp_path / "m.keras"
    model = model_of()
    fit(model, ModelCheckpoint(path), epochs=1)
    good = path.read_bytes()
    import glassnet.io.keras_archive as archive

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive, "write_archive", full_disk)
    with pytest.raises(OSError, match="No space"):
        fit(model, ModelCheckpoint(path), epochs=1)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["m.keras"]
