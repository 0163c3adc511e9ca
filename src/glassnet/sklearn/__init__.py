"""scikit-learn estimators backed by glassnet: ``GlassClassifier``, ``GlassRegressor``.

Drop-in replacements for scikit-learn's ``MLPClassifier`` and ``MLPRegressor``
(same parameters, defaults and fitted attributes, ``partial_fit``, ``warm_start``,
early stopping), whose network is a glassnet :class:`~glassnet.models.Sequential`
you can inspect, gradient-check and keep training (``model_``). They add per-layer
activations, dropout, ``class_weight``, a validation loss curve, early stopping on
the validation loss, float32 by default and every glassnet optimizer. They pass
scikit-learn's estimator checks and work in ``Pipeline`` and ``GridSearchCV``.

Needs scikit-learn 1.6 or newer: ``pip install glassnet[sklearn]``.

>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from glassnet.datasets import iris
>>> from glassnet.sklearn import GlassClassifier
>>> x, y = iris()
>>> model = make_pipeline(StandardScaler(), GlassClassifier(
...     (16,), learning_rate_init=0.01, max_iter=300, random_state=0))
>>> model.fit(x, y).score(x, y) > 0.95
True
"""

from __future__ import annotations

import re

try:
    import sklearn
except ImportError:  # pragma: no cover - depends on the environment
    raise ModuleNotFoundError(
        "glassnet.sklearn needs scikit-learn, which is not installed. Install it "
        "with: pip install glassnet[sklearn]"
    ) from None


def _check_version(version: str) -> None:
    found = re.match(r"(\d+)\.(\d+)", version)
    if found is None:  # pragma: no cover - not a release number; let it try
        return
    major, minor = int(found.group(1)), int(found.group(2))
    if (major, minor) < (1, 6):
        raise ImportError(
            f"glassnet.sklearn needs scikit-learn 1.6 or newer (found {version}). "
            "Upgrade it with: pip install -U 'glassnet[sklearn]'"
        )


_check_version(sklearn.__version__)

from glassnet.sklearn._classifier import GlassClassifier  # noqa: E402
from glassnet.sklearn._regressor import GlassRegressor  # noqa: E402
from glassnet.sklearn._solvers import ConvergenceWarning  # noqa: E402

__all__ = ["ConvergenceWarning", "GlassClassifier", "GlassRegressor"]
