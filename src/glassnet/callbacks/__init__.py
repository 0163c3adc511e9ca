"""Callbacks: code that runs at fixed moments of ``fit``, ``evaluate`` and ``predict``.

The package follows Keras 3's ``keras.callbacks``:

- :mod:`~glassnet.callbacks.base`: :class:`Callback` (every hook) and
  :class:`CallbackList`;
- :mod:`~glassnet.callbacks.history`: :class:`History`, :class:`ProgressBar`;
- :mod:`~glassnet.callbacks.monitor`: :class:`EarlyStopping`,
  :class:`ReduceLROnPlateau`;
- :mod:`~glassnet.callbacks.checkpoint`: :class:`ModelCheckpoint`;
- :mod:`~glassnet.callbacks.control`: :class:`LearningRateScheduler`,
  :class:`TerminateOnNaN`, :class:`LambdaCallback`, :class:`CSVLogger`;
- :mod:`~glassnet.callbacks.backup`: :class:`BackupAndRestore`;
- :mod:`~glassnet.callbacks.tune`: :class:`TuneReport` (epoch logs to Ray Tune, which
  it imports only when used).

>>> from glassnet.callbacks import EarlyStopping
>>> EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
EarlyStopping(monitor='val_loss', patience=3)
"""

from glassnet.callbacks.backup import BackupAndRestore
from glassnet.callbacks.base import Callback, CallbackList, Logs, format_logs
from glassnet.callbacks.checkpoint import ModelCheckpoint
from glassnet.callbacks.control import (
    CSVLogger,
    LambdaCallback,
    LearningRateScheduler,
    TerminateOnNaN,
)
from glassnet.callbacks.history import History, ProgressBar
from glassnet.callbacks.monitor import EarlyStopping, ReduceLROnPlateau
from glassnet.callbacks.tune import TuneReport

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "Logs",
    "ModelCheckpoint",
    "ProgressBar",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "TuneReport",
    "format_logs",
]
