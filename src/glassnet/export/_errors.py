"""The errors of :mod:`glassnet.export`."""

from __future__ import annotations

from glassnet.errors import GlassnetError

__all__ = ["ExportError", "MissingDependencyError"]


class ExportError(GlassnetError, ValueError):
    """The model uses a layer or activation that has no ONNX translation."""


class MissingDependencyError(GlassnetError, ImportError):
    """An optional package (here ``onnx``) is not installed."""
