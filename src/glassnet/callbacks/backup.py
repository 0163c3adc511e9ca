"""``BackupAndRestore``: a training process killed at any moment resumes where it was.

At the end of every epoch (or every ``save_freq`` batches) the callback writes one
file, ``<backup_dir>/backup.weights.h5``, atomically (:mod:`glassnet.io.atomic`:
a kill mid-write leaves the previous backup whole). It holds everything the next
step of training depends on:

- the weights (and non-trainable state), in Keras 3's ``.weights.h5`` layout;
- the optimizer's state (its step count and every slot) and learning rate;
- the state of every random generator the model draws from (the shuffling
  generator, and the ones dropout and noise layers use), and where the current
  pass over the data stands: the shuffling generator's state when the pass's order
  was drawn, and how many of its batches were trained;
- the epoch (and batch) to resume at.

When ``fit`` starts again with the same command, the callback loads that file
into the model before the first epoch, and the loop resumes at the saved epoch and
batch with the same batch order: the run ends with the same weights, bit for bit,
as one never interrupted. When training finishes, the backup is deleted
(``delete_checkpoint=True``); a run that crashed keeps it.

What is not in the backup: the state of other callbacks (EarlyStopping's patience
count, ReduceLROnPlateau's wait), and an epoch resumed mid-way logs only the
batches trained after the restart.
"""

from __future__ import annotations

import copy
import glob
import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet.callbacks.base import Callback, Logs
from glassnet.callbacks.checkpoint import check_save_freq
from glassnet.errors import GlassnetTypeError, ModelFileError

__all__ = ["BackupAndRestore", "FitProgress", "ResumePoint", "generators"]

_FILE = "backup.weights.h5"
_ATTRIBUTE = "glassnet_backup"
_FORMAT = 1


@dataclass
class ResumePoint:
    """Where a restored run starts: epoch, batch, and the data pass to continue.

    >>> ResumePoint(epoch=3, batch=0, pass_state=None, position=0).epoch
    3
    """

    epoch: int
    batch: int
    #: the shuffling generator's state when the pass's order was drawn (None: no pass
    #: in progress, the next epoch starts a new one)
    pass_state: dict[str, Any] | None
    #: batches of that pass already trained
    position: int


class FitProgress:
    """What the training loop tells ``BackupAndRestore`` about the current pass.

    The loop sets ``pass_state`` when it draws a pass's batch order and advances
    ``position`` after every batch; the callback sets ``resume`` when it restores a
    backup, and the loop starts from there.

    >>> import numpy as np
    >>> progress = FitProgress()
    >>> progress.start_pass(np.random.default_rng(0))
    >>> progress.pass_state["bit_generator"], progress.position
    ('PCG64', 0)
    """

    def __init__(self) -> None:
        self.pass_state: dict[str, Any] | None = None
        self.position = 0
        self.resume: ResumePoint | None = None

    def start_pass(self, rng: np.random.Generator) -> None:
        """Record the generator's state before a pass's order is drawn from it."""
        self.pass_state = dict(rng.bit_generator.state)
        self.position = 0


def generators(model: Any) -> list[np.random.Generator]:
    """Every random generator ``model`` draws from, each once, in a fixed order.

    The model's own (shuffles, and the dropout of layers it built), then the
    generator of each random layer (its own seed's, or the session generator a
    functional model's layers were built with).

    >>> from glassnet.layers import Dense, Dropout
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(2, input_dim=2), Dropout(0.5, seed=1)], seed=0)
    >>> len(generators(model))  # the model's, and the dropout's own
    2
    """
    from glassnet.layers.random_layer import RandomLayer

    found = [model.rng]
    for layer in model.leaf_layers():
        if isinstance(layer, RandomLayer) and layer.built:
            generator = layer.generator()
            if not any(generator is g for g in found):
                found.append(generator)
    return found


class BackupAndRestore(Callback):
    """Back up the training state so a killed run resumes exactly where it stopped.

    Parameters
    ----------
    backup_dir : str or os.PathLike
        The folder of the backup file (made if missing). Use one folder per run.
    save_freq : "epoch" or int, default="epoch"
        Back up at the end of every epoch, or after every that many batches.
    double_checkpoint : bool, default=False
        Keep the previous backup next to the new one (``.bkp``) and fall back to
        it if the newest cannot be read.
    delete_checkpoint : bool, default=True
        Delete the backup when training ends normally (it stays after a crash).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> folder = os.path.join(tempfile.mkdtemp(), "backup")
    >>> backup = BackupAndRestore(folder, delete_checkpoint=False)
    >>> _ = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=3, callbacks=[backup],
    ...               verbose=0)
    >>> os.listdir(folder)
    ['backup.weights.h5']
    >>> history = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=3,
    ...                     callbacks=[backup], verbose=0)
    >>> history.epoch  # the backup says 3 epochs are done: nothing left to train
    []
    """

    def __init__(
        self,
        backup_dir: Any,
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(backup_dir, os.PathLike):
            backup_dir = os.fspath(backup_dir)
        if not isinstance(backup_dir, str) or not backup_dir:
            raise GlassnetTypeError(
                "Argument `backup_dir` must be a folder path. "
                f"Received: backup_dir={backup_dir!r}"
            )
        self.backup_dir = backup_dir
        self.save_freq = check_save_freq(save_freq)
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.path = os.path.join(backup_dir, _FILE)
        self.progress = FitProgress()
        self._epoch = 0
        self._batches_since_save = 0
        self._due = False
        if self.save_freq != "epoch":
            self.on_train_batch_end = self._on_batch_end  # type: ignore[method-assign]
            self.uses_batch_logs = False

    def attach_progress(self, progress: FitProgress) -> None:
        """Called by the loop before ``on_train_begin`` with its progress record."""
        self.progress = progress

    # -- restoring ---------------------------------------------------------------
    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._batches_since_save = 0
        self._due = False
        previous = f"{self.path}.bkp"
        if os.path.exists(self.path):
            try:
                self._load(self.path)
                return
            except (ModelFileError, OSError):
                if not (self.double_checkpoint and os.path.exists(previous)):
                    raise
        if self.double_checkpoint and os.path.exists(previous):
            self._load(previous)

    def _load(self, path: str) -> None:
        from glassnet.io import hdf5, keras_h5
        from glassnet.io.slots import commit
        from glassnet.io.training_state import restore_generator, restore_optimizer

        model = self.model
        optimizer, _ = model.require_compiled("fit")
        where = f"BackupAndRestore: {path}"
        with hdf5.load_h5py().File(path, "r") as file:
            text = hdf5.read_string(file, _ATTRIBUTE, where)
            if text is None:
                raise ModelFileError(f"{where}: not a glassnet training backup.")
            meta = json.loads(text)
            _check_meta(meta, where)
            arrays = keras_h5.read_layer_weights(file, model, where, True)
            state = keras_h5.read_optimizer_state(
                file, model, where, strict=True, allow_nonfinite=True
            )
        found = generators(model)
        if len(found) != len(meta["generators"]):
            raise ModelFileError(
                f"{where}: the backup holds {len(meta['generators'])} random "
                f"generators; this model draws from {len(found)}."
            )
        commit(model, arrays, allow_nonfinite=True)
        if state is not None:
            restore_optimizer(optimizer, *state)
        else:
            optimizer.reset()
        if meta["learning_rate"] is not None:
            optimizer.learning_rate = meta["learning_rate"]
        for index, (generator, saved) in enumerate(
            zip(found, meta["generators"], strict=True)
        ):
            restore_generator(generator, saved, f"{where}: generators[{index}]")
        self.progress.resume = ResumePoint(
            meta["epoch"], meta["batch"], meta["pass_state"], meta["position"]
        )

    # -- saving ------------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch" or self._due:
            self._due = False
            self._save(epoch + 1, 0)

    def _on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._batches_since_save += 1
        if self._batches_since_save >= int(self.save_freq):
            self._batches_since_save = 0
            if batch + 1 == self.params.get("steps"):
                # The epoch's last batch: back up at its end instead, once its
                # validation and callbacks have run, so a restart never resumes
                # into an epoch with nothing left to train.
                self._due = True
            else:
                self._save(self._epoch, batch + 1)

    def _save(self, epoch: int, batch: int) -> None:
        from glassnet.io import atomic_write, hdf5, keras_h5

        model = self.model
        optimizer, _ = model.require_compiled("fit")
        meta = {
            "format": _FORMAT,
            "epoch": epoch,
            "batch": batch,
            "learning_rate": None
            if optimizer.schedule is not None
            else float(optimizer.learning_rate),
            "generators": [dict(g.bit_generator.state) for g in generators(model)],
            "pass_state": copy.deepcopy(self.progress.pass_state),
            "position": self.progress.position,
        }
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self.path):
            os.replace(self.path, f"{self.path}.bkp")
        with atomic_write(self.path) as handle:
            with hdf5.load_h5py().File(handle, "w") as file:
                keras_h5.write_weights(file, model, include_optimizer=True)
                file.attrs[_ATTRIBUTE] = json.dumps(meta)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if not self.delete_checkpoint:
            return
        # A process killed mid-write leaves atomic_write's temporary file behind.
        stale = glob.glob(os.path.join(glob.escape(self.backup_dir), f".{_FILE}.*.tmp"))
        for path in (self.path, f"{self.path}.bkp", *stale):
            if os.path.exists(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)  # only if nothing else lives there
        except OSError:
            pass

    def __repr__(self) -> str:
        return f"BackupAndRestore({self.backup_dir!r}, save_freq={self.save_freq!r})"


def _check_meta(meta: Any, where: str) -> None:
    """The backup's own record, checked before anything is restored."""
    keys = {
        "format",
        "epoch",
        "batch",
        "learning_rate",
        "generators",
        "pass_state",
        "position",
    }
    if not isinstance(meta, dict) or set(meta) != keys or meta["format"] != _FORMAT:
        raise ModelFileError(f"{where}: not a backup this glassnet can read.")
    for key in ("epoch", "batch", "position"):
        value = meta[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ModelFileError(f"{where}: '{key}' must be a non-negative integer.")
    rate = meta["learning_rate"]
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0
    ):
        raise ModelFileError(f"{where}: 'learning_rate' must be a positive number.")
    if not isinstance(meta["generators"], list):
        raise ModelFileError(f"{where}: 'generators' must be a list.")
