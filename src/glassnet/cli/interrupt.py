"""Ctrl-C during training: finish the current batch, save, exit 130; twice: quit now.

:func:`catch_ctrl_c` installs a SIGINT handler for the duration of training and of
the save that follows. The first Ctrl-C only sets a flag (and says so on stderr);
:class:`StopAtBatchEnd`, a training callback, sees it at the end of the current
batch, sets ``model.stop_training`` and raises :class:`TrainingInterrupted`, which
tells the command that the run was cut short (it saves, then exits 130, where a
plain ``stop_training`` would end ``fit`` as if training had finished); the batch's
update is complete by then, so the weights and the optimizer state are consistent
and the caller saves them. A second Ctrl-C raises
``KeyboardInterrupt`` from the handler, wherever the program is: an unfinished save
is abandoned by :func:`~glassnet.io.atomic_write`, which removes its temporary file
and leaves any previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from glassnet.callbacks import Callback, Logs

__all__ = ["CtrlC", "StopAtBatchEnd", "TrainingInterrupted", "catch_ctrl_c"]

_NOTICE = (
    b"\nglassnet: Ctrl-C: stopping after the current batch to save the model "
    b"(press Ctrl-C again to quit at once without saving)\n"
)


class CtrlC:
    """Set by the SIGINT handler: ``pressed`` after the first Ctrl-C."""

    def __init__(self) -> None:
        self.pressed = False


class TrainingInterrupted(BaseException):
    """Raised at the end of a batch after Ctrl-C (a BaseException, like Ctrl-C's own,
    so that no ``except Exception`` on the way can swallow it)."""

    def __init__(self, epoch: int, batch: int, steps: int) -> None:
        super().__init__(f"interrupted in epoch {epoch + 1}, after batch {batch + 1}")
        self.epoch, self.batch, self.steps = epoch, batch, steps


class StopAtBatchEnd(Callback):
    """Ends training after the batch during which Ctrl-C was pressed."""

    uses_batch_logs = False  # it reads no loss: fit need not compute batch logs

    def __init__(self, ctrl_c: CtrlC) -> None:
        self.ctrl_c = ctrl_c
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.ctrl_c.pressed:
            self.model.stop_training = True
            raise TrainingInterrupted(
                self.epoch, batch, int(self.params.get("steps", 0))
            )


@contextlib.contextmanager
def catch_ctrl_c() -> Iterator[CtrlC]:
    """Handle SIGINT as described above inside the block (main thread only)."""
    ctrl_c = CtrlC()
    if threading.current_thread() is not threading.main_thread():
        yield ctrl_c
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if ctrl_c.pressed:
            raise KeyboardInterrupt
        ctrl_c.pressed = True
        # os.write, not print: a handler that prints while the program is inside a
        # print to the same stream makes Python raise "reentrant call".
        with contextlib.suppress(OSError):
            os.write(2, _NOTICE)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield ctrl_c
    finally:
        signal.signal(signal.SIGINT, previous)
