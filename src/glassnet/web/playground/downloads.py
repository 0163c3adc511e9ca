"""What the playground's download buttons send: the data, the model, its page, code.

Each is a ``{"type": "file", "name", "mime", "base64"}`` message for the page, which
saves it. The model goes out as a Keras 3 ``.keras`` file (``model.save``) and as
:func:`glassnet.web.export_html`'s page, with the data drawn on it.

>>> from glassnet.web.playground.session import Session
>>> message = download(Session(seed=0), "data")
>>> message["name"], message["mime"]
('playground_data.csv', 'text/csv')
"""

from __future__ import annotations

import base64
import os
import tempfile
from typing import Any

from glassnet.web.export_html import render_html
from glassnet.web.playground.codegen import DATA_FILE, glassnet_code
from glassnet.web.playground.datasets import (
    feature_labels,
    feature_matrix,
    to_csv,
)

__all__ = ["DOWNLOADS", "download"]

DOWNLOADS = ("data", "keras", "html", "code")


def download(session: Any, what: str) -> dict[str, Any]:
    """The file message for ``what`` (one of :data:`DOWNLOADS`)."""
    if what == "data":
        text = to_csv(
            session.points,
            session.labels,
            session.is_train,
            session.classes,
            session.names,
        )
        return _message(DATA_FILE, "text/csv", text.encode("utf-8"))
    if what == "keras":
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "playground.keras")
            session.model.save(path)
            with open(path, "rb") as handle:
                content = handle.read()
        return _message("playground.keras", "application/octet-stream", content)
    if what == "html":
        features = session.config["features"]
        html = render_html(
            session.model,
            data=(feature_matrix(session.points, features), session.labels),
            feature_names=feature_labels(features, session.names),
            class_names=session.classes,
            task=session.plan.task,
            # the page's own heatmap extent: the upload's range, or the Playground's
            domain=session.domain if features == ["x", "y"] else None,
            title="glassnet playground model",
        )
        return _message("playground.html", "text/html", html.encode("utf-8"))
    if what == "code":
        return _message(
            "playground.py", "text/x-python", glassnet_code(session).encode("utf-8")
        )
    raise ValueError(f"download takes one of {', '.join(DOWNLOADS)}, not {what!r:.30}")


def _message(name: str, mime: str, content: bytes) -> dict[str, Any]:
    return {
        "type": "file",
        "name": name,
        "mime": mime,
        "base64": base64.b64encode(content).decode("ascii"),
    }
