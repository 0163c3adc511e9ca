"""``History`` (what ``fit`` returns) and ``ProgressBar`` (what ``verbose`` draws)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from glassnet.callbacks.base import Callback, Logs, format_logs

__all__ = ["History", "ProgressBar"]

#: Keras' look: ``Epoch 3/100: 4/4 [==============================] - 00:00``
_BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} [{bar:30}] - {elapsed}"


class History(Callback):
    """Records each epoch's logs; ``model.fit`` returns it.

    ``history.history["loss"]`` is the list of epoch losses; ``history.epoch`` the
    epoch numbers (from 0).

    >>> history = History()
    >>> history.on_epoch_end(0, {"loss": 0.5})
    >>> history.history, history.epoch
    ({'loss': [0.5]}, [0])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class ProgressBar(Callback):
    """Keras-style progress: one line per epoch with its loss and metrics.

    ``verbose=1`` draws a tqdm bar per epoch, counting batches as Keras does
    (``Epoch 3/100: 4/4 [====] - loss: ...``); ``verbose=2`` prints one plain line
    per epoch, for logs and CI. Its batch hook only advances the bar, so it never
    makes ``fit`` compute batch logs.

    >>> ProgressBar(verbose=2).uses_batch_logs
    False
    """

    uses_batch_logs = False

    def __init__(self, verbose: int = 1, file: TextIO | None = None) -> None:
        super().__init__()
        self.verbose = verbose
        self.file = file
        self._bar: Any = None

    def _out(self) -> TextIO:
        return self.file if self.file is not None else sys.stdout

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch_label = f"Epoch {epoch + 1}/{self.params['epochs']}"
        self._start = time.perf_counter()
        if self.verbose == 1:
            # Imported here: tqdm costs tens of milliseconds at `import glassnet`.
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.params.get("steps"),
                desc=self._epoch_label,
                file=self._out(),
                ascii=".=",
                leave=True,
                # Draw only epochs that take a while: a fast epoch prints just its
                # final line, so logs and notebooks are not flooded with 0% bars.
                delay=0.5,
                bar_format=_BAR_FORMAT,
            )

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        text = format_logs(logs or {})
        if self._bar is not None:
            # The final line carries the epoch's logs (braces escaped for format()).
            safe = text.replace("{", "{{").replace("}", "}}")
            bar, self._bar = self._bar, None
            bar.bar_format = f"{_BAR_FORMAT} - {safe}"
            if bar.last_print_t < bar.start_t + bar.delay:
                # A fast epoch never drew its bar (see `delay`): print its last line.
                print(str(bar), file=self._out())
                bar.disable = True
            bar.close()
        elif self.verbose == 2:
            seconds = time.perf_counter() - self._start
            print(f"{self._epoch_label} - {seconds:.2f}s - {text}", file=self._out())

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
