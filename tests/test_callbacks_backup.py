"""BackupAndRestore: a training process killed at a random moment resumes exactly.

The real test runs a small training script in a subprocess, kills it with SIGKILL
at random moments (after its first backup, so that each restart resumes), starts
it again with the same command until it finishes, and compares the final weights,
optimizer state and generator state bit for bit with a run never interrupted. The
kills land anywhere: mid-batch, mid-epoch, mid-write of a backup.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from glassnet.callbacks import BackupAndRestore, ReduceLROnPlateau
from glassnet.errors import ModelFileError
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import Adam

SRC = Path(__file__).resolve().parent.parent / "src"

SCRIPT = """
import sys, time
import numpy as np
import glassnet
from glassnet.callbacks import BackupAndRestore, Callback
from glassnet.data_adapters import PyDataset
from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential

kind, backup, out, save_freq, pause = sys.argv[1:6]
save_freq = save_freq if save_freq == "epoch" else int(save_freq)
rng = np.random.default_rng(0)
x = rng.normal(size=(96, 5)).astype("float32")
y = (x[:, :3].sum(axis=1) > 0).astype("int64")
if kind == "functional":
    glassnet.utils.set_random_seed(3)
    inputs = glassnet.Input((5,))
    hidden = Dropout(0.3)(Dense(16, activation="relu")(inputs))
    outputs = Dense(2, activation="softmax")(hidden)
    model = glassnet.Model(inputs, outputs, seed=4)
else:
    model = Sequential(
        [Dense(16, activation="relu", input_dim=5), Dropout(0.3),
         Dense(2, activation="softmax")],
        seed=1,
    )
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])


class Pause(Callback):
    uses_batch_logs = False

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(float(pause))


class Data(PyDataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        return x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]


def endless():
    while True:
        for i in range(0, 96, 8):
            yield x[i:i + 8], y[i:i + 8]


callbacks = [BackupAndRestore(backup, save_freq=save_freq), Pause()]
if kind in ("arrays", "functional"):
    history = model.fit(x, y, batch_size=8, epochs=8, callbacks=callbacks, verbose=0)
elif kind == "pydataset":
    history = model.fit(Data(), epochs=8, callbacks=callbacks, verbose=0)
else:
    history = model.fit(endless(), steps_per_epoch=5, epochs=8, callbacks=callbacks,
                        verbose=0)
slots = [a for state in model.optimizer.state.values() for a in state.values()]
np.savez(out, *model.get_weights(), *slots,
         iterations=model.optimizer.iterations,
         rng=np.array(str(model.rng.bit_generator.state)),
         first_epoch=history.epoch[0] if history.epoch else -1)
"""


def run(script: Path, args: list[str], kill: float | None = None) -> None:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    process = subprocess.Popen([sys.executable, str(script), *args], env=env)
    if kill is None:
        assert process.wait(timeout=300) == 0
        return
    backup = Path(args[1]) / "backup.weights.h5"
    deadline = time.monotonic() + 120
    while not backup.exists() and process.poll() is None:
        assert time.monotonic() < deadline, "no backup was ever written"
        time.sleep(0.01)
    time.sleep(kill)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize(
    ("kind", "save_freq"),
    [
        ("arrays", "epoch"),
        ("functional", "5"),
        ("pydataset", "4"),
        ("generator", "3"),
    ],
)
def test_a_killed_run_restarted_ends_with_the_uninterrupted_weights(
    tmp_path: Path, kind: str, save_freq: str
) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    run(
        script,
        [kind, str(tmp_path / "once"), str(tmp_path / "once.npz"), save_freq, "0"],
    )
    backup, result = tmp_path / "backup", tmp_path / "resumed.npz"
    args = [kind, str(backup), str(result), save_freq, "0.004"]
    chance = random.Random(f"{kind}-{save_freq}")
    for _ in range(3):
        run(script, args, kill=chance.uniform(0.0, 0.3))
    assert backup.exists()  # killed runs leave their backup
    run(script, args)
    once, resumed = np.load(tmp_path / "once.npz"), np.load(result)
    assert sorted(once.files) == sorted(resumed.files)
    for key in once.files:
        if key != "first_epoch":
            np.testing.assert_array_equal(once[key], resumed[key], err_msg=key)
    assert int(resumed["iterations"]) == int(once["iterations"]) > 0
    assert int(resumed["first_epoch"]) > 0 or save_freq != "epoch"  # it resumed
    assert not backup.exists()  # the finished run deleted its backup


# -- unit behaviour -----------------------------------------------------------------
X = np.linspace(-1, 1, 24, dtype="float32").reshape(-1, 2)
Y = X[:, :1] * 2 - X[:, 1:]


def model() -> Sequential:
    net = Sequential([Dense(3, activation="tanh", input_dim=2), Dense(1)], seed=0)
    net.compile(optimizer=Adam(0.01), loss="mse")
    return net


def test_a_backup_resumes_at_its_epoch_with_the_optimizer_state(tmp_path) -> None:
    reference = model()
    reference.fit(X, Y, batch_size=5, epochs=6, verbose=0)
    first = model()
    keep = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    first.fit(X, Y, batch_size=5, epochs=4, callbacks=[keep], verbose=0)
    second = model()  # a fresh process would make the same untrained model
    history = second.fit(
        X, Y, batch_size=5, epochs=6, callbacks=[BackupAndRestore(tmp_path / "b")],
        verbose=0,
    )  # fmt: skip
    assert history.epoch == [4, 5]
    assert second.optimizer.iterations == reference.optimizer.iterations == 6 * 3
    for a, b in zip(second.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "b").exists()


def test_the_learning_rate_set_by_other_callbacks_is_backed_up(tmp_path) -> None:
    net = model()
    reduce = ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=100.0)
    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    # BackupAndRestore first in the list still backs up after ReduceLROnPlateau
    net.fit(X, Y, epochs=2, callbacks=[backup, reduce], verbose=0)
    assert net.optimizer.learning_rate == 0.005  # halved at the end of epoch 2
    again = model()
    again.fit(X, Y, epochs=3, callbacks=[BackupAndRestore(tmp_path / "b")], verbose=0)
    assert again.optimizer.learning_rate == 0.005


def test_a_corrupt_backup_is_refused_before_training(tmp_path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "backup.weights.h5").write_bytes(b"not hdf5 at all")
    net = model()
    before = net.get_weights()
    with pytest.raises((ModelFileError, OSError)):
        net.fit(X, Y, callbacks=[BackupAndRestore(folder)], verbose=0)
    assert net.optimizer.iterations == 0
    for a, b in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path) -> None:
    folder = tmp_path / "b"
    net = model()
    backup = BackupAndRestore(folder, double_checkpoint=True, delete_checkpoint=False)
    net.fit(X, Y, epochs=3, callbacks=[backup], verbose=0)
    assert sorted(os.listdir(folder)) == ["backup.weights.h5", "backup.weights.h5.bkp"]
    (folder / "backup.weights.h5").write_bytes(b"damaged")
    history = model().fit(X, Y, epochs=4, callbacks=[backup], verbose=0)
    assert history.epoch == [2, 3]  # the .bkp was taken after epoch 2


def test_a_backup_of_another_architecture_is_refused(tmp_path) -> None:
    folder = tmp_path / "b"
    model().fit(
        X, Y, epochs=1, callbacks=[BackupAndRestore(folder, delete_checkpoint=False)],
        verbose=0,
    )  # fmt: skip
    other = Sequential([Dense(4, activation="tanh", input_dim=2), Dense(1)], seed=0)
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(
        ModelFileError, match=r"shape \(2, 3\); the model's has \(2, 4\)"
    ):
        other.fit(X, Y, callbacks=[BackupAndRestore(folder)], verbose=0)
    assert other.optimizer.iterations == 0


def test_finishing_removes_the_backup_and_leftovers_of_killed_writes(tmp_path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / ".backup.weights.h5.0123456789ab.tmp").write_bytes(b"half a write")
    model().fit(X, Y, epochs=2, callbacks=[BackupAndRestore(folder)], verbose=0)
    assert not folder.exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's own file")
    model().fit(X, Y, epochs=1, callbacks=[BackupAndRestore(mine)], verbose=0)
    assert os.listdir(mine) == ["notes.txt"]  # only its own files are removed
