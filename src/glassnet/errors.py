"""glassnet's exception and warning types.

Every error subclasses :class:`GlassnetError` *and* the builtin exception a user would
expect, so ordinary ``except ValueError`` / ``except TypeError`` / ``except RuntimeError``
clauses keep working.

>>> from glassnet.errors import ShapeError
>>> issubclass(ShapeError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "GlassnetError",
    "GlassnetTypeError",
    "GlassnetWarning",
    "InvalidArgumentError",
    "MissingForwardError",
    "ModelFileError",
    "NotBuiltError",
    "NotCompiledError",
    "NotFittedError",
    "ShapeError",
    "TrainingWarning",
    "UnknownNameError",
    "UnsafeFileError",
]


class GlassnetError(Exception):
    """Base class of every error glassnet raises on purpose."""


class InvalidArgumentError(GlassnetError, ValueError):
    """An argument has the right type but a value outside what is allowed."""


class GlassnetTypeError(GlassnetError, TypeError):
    """An argument has the wrong type (a string where numbers were expected, ...)."""


class ShapeError(GlassnetError, ValueError):
    """An array's shape does not fit the model, layer or loss it was given to."""


class DataError(GlassnetError, ValueError):
    """Input data is empty, contains NaN/inf, or has labels the loss cannot use."""


class UnknownNameError(GlassnetError, ValueError):
    """A name (activation, loss, optimizer, ...) is not in glassnet's registry."""


class NotBuiltError(GlassnetError, RuntimeError):
    """The model or layer has no weights yet: build it or give it an input shape."""


class MissingForwardError(GlassnetError, RuntimeError):
    """``backward`` was called without the forward pass it needs (or one that kept no cache)."""


class NotCompiledError(GlassnetError, RuntimeError):
    """The model must be compiled (optimizer and loss chosen) before this call."""


class NotFittedError(GlassnetError, RuntimeError):
    """The estimator must be fitted before it can predict."""


class GlassnetWarning(UserWarning):
    """Base class of glassnet's warnings."""


class ConvergenceWarning(GlassnetWarning):
    """Training ended without reaching its goal (e.g. a perceptron on XOR)."""


class TrainingWarning(GlassnetWarning):
    """Training was stopped early for a reason the user should know (NaN loss, ...)."""


class ModelFileError(GlassnetError, ValueError):
    """A model or weights file cannot be used: corrupt, truncated, or not this model's.

    The message says what was wrong and where (file, archive member, layer, weight).
    A load that raises it leaves the model exactly as it was.
    """


class UnsafeFileError(ModelFileError):
    """A file holds something glassnet refuses to read on principle.

    HDF5 links or external storage, archive members that climb out of the archive,
    decompression bombs, or a config that names code (a module or a class outside
    glassnet's registries). No part of such a file is used.
    """
