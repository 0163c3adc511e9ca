"""A decision-boundary picture every N epochs while ``fit`` runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from glassnet._validation import check_bool, check_positive_int
from glassnet.callbacks import Callback
from glassnet.errors import GlassnetTypeError, InvalidArgumentError
from glassnet.explain.neurons import neuron_layers
from glassnet.plot._mpl import finish, new_figure
from glassnet.plot.boundary import (
    check_data,
    check_model,
    draw_decision_boundary,
    figure_size,
)

__all__ = ["DecisionBoundaryFrames"]


class DecisionBoundaryFrames(Callback):
    """Save a decision-boundary picture every ``every`` epochs while ``fit`` runs.

    Frames are PNG files named ``{prefix}_00010.png`` (the epoch, from 1) in
    ``folder``; the last epoch is always saved. ``paths`` lists the files written.
    Join them into an animation with any GIF tool.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> model = Sequential([Dense(2, activation="tanh", input_dim=2),
    ...                     Dense(1, activation="sigmoid")], seed=0)
    >>> model.compile(optimizer="sgd", loss="binary_crossentropy")
    >>> x, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 0])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     frames = DecisionBoundaryFrames(x, y, every=2, folder=folder, resolution=10)
    ...     _ = model.fit(x, y, epochs=3, callbacks=[frames], verbose=0)
    ...     [Path(p).name for p in frames.paths]
    ['frame_00002.png', 'frame_00003.png']
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        every: int = 10,
        folder: str | os.PathLike[str] = "frames",
        neurons: bool = False,
        resolution: int = 60,
        prefix: str = "frame",
        dpi: int = 80,
    ) -> None:
        self.x, self.y = check_data(x, y)
        self.every = check_positive_int(every, "every")
        if not isinstance(folder, (str, os.PathLike)):
            raise GlassnetTypeError(
                f"Argument `folder` must be a folder path. Received: folder={folder!r}"
            )
        self.folder = Path(folder)
        self.neurons = check_bool(neurons, "neurons")
        self.resolution = check_positive_int(resolution, "resolution")
        if not isinstance(prefix, str) or not prefix or os.sep in prefix:
            raise InvalidArgumentError(
                f"Argument `prefix` must be a plain file-name prefix. Received: {prefix!r}"
            )
        self.prefix = prefix
        self.dpi = check_positive_int(dpi, "dpi")
        self.paths: list[Path] = []
        self._last: tuple[int, dict[str, float]] | None = None  # epoch not saved yet

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        check_model(self.model)
        if self.neurons:
            neuron_layers(self.model)  # fail now, not at the first frame
        self.folder.mkdir(parents=True, exist_ok=True)
        self._last = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._last = (epoch, dict(logs or {}))
        if (epoch + 1) % self.every == 0:
            self._save(epoch, logs or {})
            self._last = None

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self._last is not None:
            self._save(*self._last)

    def _save(self, epoch: int, logs: dict[str, float]) -> None:
        figure = new_figure(figure_size(self.model, self.neurons, 8), managed=False)
        draw_decision_boundary(
            figure, self.model, self.x, self.y, neurons=self.neurons,
            resolution=self.resolution, max_neurons=8,
        )  # fmt: skip
        text = f"epoch {epoch + 1}"
        if "loss" in logs:
            text += f" - loss {logs['loss']:.4f}"
        figure.suptitle(text)
        path = self.folder / f"{self.prefix}_{epoch + 1:05d}.png"
        finish(figure, path, dpi=self.dpi)
        self.paths.append(path)
