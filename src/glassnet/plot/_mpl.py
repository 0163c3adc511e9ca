"""matplotlib, imported only when a picture is drawn (it is an optional extra)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from glassnet.errors import GlassnetTypeError

if TYPE_CHECKING:
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

__all__ = ["NEGATIVE", "NEUTRAL", "POSITIVE", "colormap", "finish", "new_figure"]

#: TensorFlow Playground's colours: orange for negative, blue for positive.
NEGATIVE = "#f59322"
POSITIVE = "#0877bd"
NEUTRAL = "#e8eaeb"

INSTALL_HINT = (
    "glassnet.plot draws with matplotlib, which is not installed. "
    "Install it with: pip install glassnet[plot]"
)


def require_matplotlib() -> Any:
    """The matplotlib module, or an ImportError that says how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ModuleNotFoundError(INSTALL_HINT, name="matplotlib") from None
    return matplotlib


def new_figure(figsize: tuple[float, float], *, managed: bool = True) -> Figure:
    """A new figure: through pyplot (so ``plt.show()`` shows it) or standalone.

    Standalone figures (``managed=False``) are for files written during training:
    pyplot never holds on to them and a notebook does not display them.
    """
    require_matplotlib()
    if managed:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize)
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def finish(
    figure: Figure, path: str | os.PathLike[str] | None, dpi: int = 100
) -> Figure:
    """Save ``figure`` as a PNG at ``path`` (if given) and return it."""
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise GlassnetTypeError(
                f"Argument `path` must be a file path such as 'history.png'. "
                f"Received: path={path!r}"
            )
        figure.savefig(path, dpi=dpi)
    return figure


def colormap() -> Colormap:
    """Orange (negative) through light grey to blue (positive)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("glassnet", [NEGATIVE, NEUTRAL, POSITIVE])
