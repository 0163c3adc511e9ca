"""Export glassnet models to other runtimes.

:func:`to_onnx` writes a model as a standard ONNX graph that ONNX Runtime (or any
ONNX backend) runs with the same predictions as ``model.predict``. It needs the
optional ``onnx`` package (``pip install 'glassnet[onnx]'``), imported only when
``to_onnx`` is called, so ``import glassnet.export`` stays light.

>>> from glassnet.export import to_onnx, ExportError
>>> issubclass(ExportError, ValueError)
True
"""

from glassnet.export._errors import ExportError, MissingDependencyError
from glassnet.export.onnx_export import DEFAULT_OPSET, MIN_OPSET, to_onnx

__all__ = [
    "DEFAULT_OPSET",
    "MIN_OPSET",
    "ExportError",
    "MissingDependencyError",
    "to_onnx",
]
