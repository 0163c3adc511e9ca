"""What ``glassnet evaluate`` prints: a classification report or regression metrics.

Classification: precision, recall and F1 per class with the number of rows of each
(``support``), accuracy, their macro and weighted averages (the numbers of
scikit-learn's ``classification_report``, zero where a class is never predicted)
and the confusion matrix (rows: the true class; columns: the predicted one).
Regression: mean absolute error, root mean squared error and R², in the target's
own units.

>>> import numpy as np
>>> scores = class_scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2)
>>> scores["precision"].round(3).tolist(), scores["recall"].tolist()
([1.0, 0.667], [0.5, 1.0])
>>> regression_scores(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
{'mae': 0.3333333333333333, 'rmse': 0.5773502691896257, 'r2': 0.5}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet._typing import Array

__all__ = [
    "class_scores",
    "classification_report",
    "confusion_matrix",
    "regression_report",
    "regression_scores",
]


def confusion_matrix(true: Array, predicted: Array, n_classes: int) -> Array:
    """``counts[i, j]``: rows of true class ``i`` predicted as class ``j``."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def class_scores(true: Array, predicted: Array, n_classes: int) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support, with accuracy and averages."""
    counts = confusion_matrix(true, predicted, n_classes)
    hits = np.diag(counts).astype(np.float64)
    support = counts.sum(axis=1)
    chosen = counts.sum(axis=0)
    precision = np.divide(hits, chosen, out=np.zeros(n_classes), where=chosen > 0)
    recall = np.divide(hits, support, out=np.zeros(n_classes), where=support > 0)
    total = precision + recall
    f1 = np.divide(
        2 * precision * recall, total, out=np.zeros(n_classes), where=total > 0
    )
    weights = support / max(support.sum(), 1)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "accuracy": float(hits.sum() / max(len(true), 1)),
        "macro": [float(precision.mean()), float(recall.mean()), float(f1.mean())],
        "weighted": [
            float(weights @ precision),
            float(weights @ recall),
            float(weights @ f1),
        ],
        "confusion": counts,
    }


def classification_report(true: Array, predicted: Array, labels: Sequence[str]) -> str:
    """The table described in the module docstring, as text."""
    scores = class_scores(true, predicted, len(labels))
    width = max(12, *(len(label) for label in labels))
    rows = [f"{'':<{width}}  precision  recall  f1-score  support"]
    for i, label in enumerate(labels):
        rows.append(
            f"{label:<{width}}  {scores['precision'][i]:9.3f}  {scores['recall'][i]:6.3f}"
            f"  {scores['f1'][i]:8.3f}  {scores['support'][i]:7d}"
        )
    n = int(scores["support"].sum())
    rows.append("")
    rows.append(
        f"{'accuracy':<{width}}  {'':9}  {'':6}  {scores['accuracy']:8.3f}  {n:7d}"
    )
    for name in ("macro", "weighted"):
        p, r, f = scores[name]
        rows.append(f"{name + ' avg':<{width}}  {p:9.3f}  {r:6.3f}  {f:8.3f}  {n:7d}")
    rows.append("")
    rows.append("Confusion matrix (rows: true class, columns: predicted class)")
    counts = scores["confusion"]
    cell = max(5, *(len(label) for label in labels), len(str(counts.max())))
    rows.append(f"{'':<{width}}  " + " ".join(f"{label:>{cell}}" for label in labels))
    for i, label in enumerate(labels):
        rows.append(
            f"{label:<{width}}  " + " ".join(f"{v:>{cell}d}" for v in counts[i])
        )
    return "\n".join(rows)


def regression_scores(y: Array, predicted: Array) -> dict[str, float]:
    """MAE, RMSE and R² (1 - residual sum of squares / total sum of squares)."""
    error = predicted - y
    total = float(((y - y.mean()) ** 2).sum())
    residual = float((error**2).sum())
    r2 = 1.0 - residual / total if total > 0 else float("nan")
    return {
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "r2": r2,
    }


def regression_report(y: Array, predicted: Array, target: str) -> str:
    """``MAE 2.1  RMSE 2.9  R² 0.86``, with the target's mean and spread for scale."""
    scores = regression_scores(y, predicted)
    return (
        f"MAE {scores['mae']:.4g}  RMSE {scores['rmse']:.4g}  R² {scores['r2']:.4f}\n"
        f"({target}: mean {y.mean():.4g}, standard deviation {y.std():.4g}; "
        f"predicting the mean would give MAE {np.abs(y - y.mean()).mean():.4g})"
    )
