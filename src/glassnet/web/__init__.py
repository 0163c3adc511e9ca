"""glassnet in the browser: a model as one offline HTML page, and a live playground.

- :func:`export_html` (also ``Model.export_html``): a trained model as a single
  self-contained page with a JavaScript forward pass, heatmaps, the network diagram
  and one slider per input (:mod:`glassnet.web.export_html`).
- :func:`model_to_json`: the model as the JSON those pages read, refusing layers
  they cannot run (:mod:`glassnet.web.model_json`).
- ``glassnet playground``: a local server that trains real glassnet models while
  the page shows every neuron (:mod:`glassnet.web.playground`, needs
  ``pip install "glassnet[playground]"``).

>>> from glassnet.web import SUPPORTED_LAYERS
>>> "Dense" in SUPPORTED_LAYERS
True
"""

from __future__ import annotations

from glassnet.web.export_html import MAX_POINTS, export_html, render_html
from glassnet.web.model_json import (
    SUPPORTED_ACTIVATIONS,
    SUPPORTED_LAYERS,
    model_to_json,
)

__all__ = [
    "MAX_POINTS",
    "SUPPORTED_ACTIVATIONS",
    "SUPPORTED_LAYERS",
    "export_html",
    "model_to_json",
    "render_html",
]
