"""The playground's data: the Playground's six data sets, two multiclass ones, uploads.

Every generator takes ``(n_samples, noise, rng)`` with ``noise`` in [0, 0.5] and
``rng`` a ``numpy.random.Generator``, so a seed reproduces the data, and returns
``(points, labels)``: points ``(n, 2)`` in about [-6, 6], labels class indices
(1 is the Playground's blue, positive class) or regression targets in [-1, 1].
They follow the TensorFlow Playground's descriptions: points inside a circle
against a ring around it; the four quadrants of XOR; two Gaussian clouds; two
interleaved spirals; a tilted plane and six Gaussian bumps to regress. glassnet
adds four Gaussian clouds and a three-armed spiral, for softmax outputs.

:func:`parse_csv` reads an uploaded CSV of two numeric columns and a label,
refusing with a message a person can act on anything else; a header's first two
names replace X1 and X2 in :func:`feature_labels`.

>>> import numpy as np
>>> points, labels = generate("circle", 500, 0.0, np.random.default_rng(0))
>>> points.shape, sorted(set(labels.tolist()))
((500, 2), [0, 1])
>>> feature_matrix(np.array([[1.0, 2.0]]), ["x", "x_times_y", "sin_y"]).round(3)
array([[1.   , 2.   , 0.909]])
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, overload

import numpy as np

__all__ = [
    "DOMAIN",
    "FEATURE_LABELS",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_ROWS",
    "UploadError",
    "feature_labels",
    "feature_matrix",
    "generate",
    "parse_csv",
    "sample_count",
    "thumbnails",
    "to_csv",
]

#: The extent of the generated data and of the heatmaps, as in the Playground.
DOMAIN = ((-6.0, 6.0), (-6.0, 6.0))
MAX_UPLOAD_BYTES = 1_000_000
MAX_UPLOAD_ROWS = 5000
MAX_UPLOAD_CLASSES = 8
#: An uploaded column name is cut to this many characters.
MAX_NAME_LENGTH = 40

#: How the page labels each feature.
FEATURE_LABELS = {
    "x": "X1",
    "y": "X2",
    "x_squared": "X1²",
    "y_squared": "X2²",
    "x_times_y": "X1X2",
    "sin_x": "sin(X1)",
    "sin_y": "sin(X2)",
}
#: The same labels for columns with names ({0} the first's, {1} the second's).
_NAMED_LABELS = {
    "x": "{0}",
    "y": "{1}",
    "x_squared": "{0}²",
    "y_squared": "{1}²",
    "x_times_y": "{0}·{1}",
    "sin_x": "sin({0})",
    "sin_y": "sin({1})",
}
_FEATURES: dict[str, Callable[[Any, Any], Any]] = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "x_squared": lambda x, y: x * x,
    "y_squared": lambda x, y: y * y,
    "x_times_y": lambda x, y: x * y,
    "sin_x": lambda x, y: np.sin(x),
    "sin_y": lambda x, y: np.sin(y),
}


class UploadError(ValueError):
    """An uploaded CSV the playground cannot use; the message says why."""


def feature_labels(
    features: Iterable[str], names: Sequence[str] | None = None
) -> list[str]:
    """How the page names ``features``: :data:`FEATURE_LABELS`, or after ``names``.

    ``names`` is the data's two column names (as :func:`parse_csv` returns them),
    or None for X1 and X2.

    >>> feature_labels(["x", "x_times_y"])
    ['X1', 'X1X2']
    >>> feature_labels(["x", "y_squared", "x_times_y", "sin_y"], ["weight", "height"])
    ['weight', 'height²', 'weight·height', 'sin(height)']
    """
    if names is None:
        return [FEATURE_LABELS[name] for name in features]
    if isinstance(names, str) or len(names) != 2:
        raise ValueError(
            f"names must be the two columns' names, as ['weight', 'height']; "
            f"received {names!r:.80}"
        )
    return [_NAMED_LABELS[name].format(*names) for name in features]


def feature_matrix(points: Any, features: list[str]) -> Any:
    """The model's inputs: one column per chosen feature of the points' (x, y)."""
    x, y = points[:, 0], points[:, 1]
    return np.stack([_FEATURES[name](x, y) for name in features], axis=1)


def sample_count(dataset: str) -> int:
    """500 points to classify, 1200 to regress (the Playground's numbers)."""
    return 1200 if dataset.startswith("reg-") else 500


def generate(
    dataset: str, n: int, noise: float, rng: np.random.Generator
) -> tuple[Any, Any]:
    """``n`` points of a named data set (see the module docstring)."""
    return _GENERATORS[dataset](n, noise, rng)


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    radius = 5.0
    inner, outer = n // 2, n - n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner),
                        rng.uniform(radius * 0.7, radius, outer)])  # fmt: skip
    angle = rng.uniform(0, 2 * math.pi, n)
    points = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    shifted = points + rng.uniform(-radius, radius, (n, 2)) * noise
    labels = (np.hypot(shifted[:, 0], shifted[:, 1]) < radius * 0.5).astype(np.int64)
    return points, labels


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    points = rng.uniform(-5, 5, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)  # keep the points off the axes
    shifted = points + rng.uniform(-5, 5, (n, 2)) * noise
    return points, (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)


def _clouds(
    centers: list[tuple[float, float]], n: int, noise: float, rng: Any
) -> tuple[Any, Any]:
    variance = 0.5 + 7.0 * noise  # 0.5 to 4 as the noise goes from 0 to 0.5
    labels = np.arange(n) % len(centers)
    points = np.asarray(centers)[labels] + rng.normal(0, math.sqrt(variance), (n, 2))
    return points, labels.astype(np.int64)


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    return _clouds([(-2.0, -2.0), (2.0, 2.0)], n, noise, rng)


def _blobs(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    return _clouds([(-3.0, -3.0), (3.0, -3.0), (-3.0, 3.0), (3.0, 3.0)], n, noise, rng)


def _spiral_arms(arms: int, n: int, noise: float, rng: Any) -> tuple[Any, Any]:
    labels = np.arange(n) % arms
    step = np.arange(n) // arms
    per_arm = math.ceil(n / arms)
    r = step / per_arm * 5
    t = 1.75 * step / per_arm * 2 * math.pi + labels * (2 * math.pi / arms)
    points = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    points += rng.uniform(-1, 1, (n, 2)) * noise
    return points, labels.astype(np.int64)


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    return _spiral_arms(2, n, noise, rng)


def _spiral3(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    return _spiral_arms(3, n, noise, rng)


def _noisy_uniform(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    points = rng.uniform(-6, 6, (n, 2))
    return points, points + rng.uniform(-6, 6, (n, 2)) * noise


def _reg_plane(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    points, shifted = _noisy_uniform(n, noise, rng)
    return points, (shifted[:, 0] + shifted[:, 1]) / 10.0


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                   [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=float)  # fmt: skip


def _reg_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Any, Any]:
    points, shifted = _noisy_uniform(n, noise, rng)
    distance = np.hypot(
        shifted[:, None, 0] - _BUMPS[:, 0], shifted[:, None, 1] - _BUMPS[:, 1]
    )
    height = _BUMPS[:, 2] * np.clip(
        1 - distance / 2, 0, 1
    )  # 1 at a centre, 0 from 2 away
    strongest = np.abs(height).argmax(axis=1)
    return points, height[np.arange(n), strongest]


_GENERATORS = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "blobs": _blobs,
    "spiral3": _spiral3,
    "reg-plane": _reg_plane,
    "reg-gauss": _reg_gauss,
}


def thumbnails(n: int = 200) -> dict[str, list[list[float]]]:
    """``[x, y, label]`` rows of every data set without noise, for the page's buttons."""
    result = {}
    for name in _GENERATORS:
        points, labels = generate(name, n, 0.0, np.random.default_rng(0))
        rows = np.column_stack([points, labels]).round(3)
        result[name] = rows.tolist()
    return result


def to_csv(
    points: Any,
    labels: Any,
    split: Any,
    classes: list[str] | None,
    names: list[str] | None = None,
) -> str:
    """The data as CSV text: ``x,y,label,split`` (``train`` or ``test``).

    ``names``, an upload's column names, replace ``x`` and ``y`` in the header.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*(names or ["x", "y"]), "label", "split"])
    for (x, y), label, is_train in zip(points, labels, split, strict=True):
        shown = classes[int(label)] if classes is not None else repr(float(label))
        writer.writerow(
            [repr(float(x)), repr(float(y)), shown, "train" if is_train else "test"]
        )
    return out.getvalue()


@overload
def parse_csv(data: bytes) -> tuple[Any, Any, str, list[str] | None]: ...


@overload
def parse_csv(
    data: bytes, *, with_names: Literal[True]
) -> tuple[Any, Any, str, list[str] | None, list[str] | None]: ...


def parse_csv(data: bytes, *, with_names: bool = False) -> tuple[Any, ...]:
    """An uploaded CSV as ``(points, labels, kind, classes)``, and ``names`` after
    them with ``with_names=True``.

    (Four values by default: the scripts the playground generated for uploads
    before it read column names unpack four.)

    The file needs two numeric columns (x and y) and a label column, after an
    optional header; a ``split`` column (as :func:`to_csv` writes) is ignored.
    Labels that are text, or integers with at most 8 distinct values, make a
    classification (``classes`` lists them); other numbers a regression. Raises
    :class:`UploadError` with the reason otherwise.

    ``names`` is the header's first two names, None without a header. They come
    from the file, so they are cleaned: spaces trimmed and collapsed, control
    characters dropped, cut to 40 characters; a blank, numeric or repeated name
    becomes X1 or X2 (None if both do). They are text, never markup.

    >>> text = b"weight,height,label\\n0,1,cat\\n1,0,dog\\n2,2,cat\\n3,1,dog\\n"
    >>> points, labels, kind, classes = parse_csv(text)
    >>> points[:2].tolist(), labels.tolist(), kind, classes
    ([[0.0, 1.0], [1.0, 0.0]], [0, 1, 0, 1], 'classification', ['cat', 'dog'])
    >>> hostile = text.replace(b"weight,height", b" ,<b>x</b>")
    >>> parse_csv(text, with_names=True)[4], parse_csv(hostile, with_names=True)[4]
    (['weight', 'height'], ['X1', '<b>x</b>'])
    >>> parse_csv(b"1\\n2\\n3\\n4\\n")
    Traceback (most recent call last):
    ...
    glassnet.web.playground.datasets.UploadError: Line 1 has 1 column; the playground needs ...
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"The file has {len(data):,} bytes; the playground takes CSV files up to "
            f"{MAX_UPLOAD_BYTES:,} bytes ({MAX_UPLOAD_ROWS:,} rows of x, y, label)."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadError(
            f"The file is not UTF-8 text (byte {error.start} is not valid UTF-8): "
            "save it as a CSV in UTF-8."
        ) from None
    if "\x00" in text:
        raise UploadError("The file holds NUL bytes: it is not a CSV text file.")
    try:
        rows = [
            row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)
        ]
    except csv.Error as error:
        raise UploadError(f"The file is not a readable CSV: {error}.") from None
    names = None
    if rows and not _is_number(rows[0][0]) and not _is_number(rows[0][-1]):
        names = _column_names(rows[0])
        rows = rows[1:]  # a header
    if len(rows) < 4:
        raise UploadError(
            f"The file has {len(rows)} data rows; the playground needs 4 or more."
        )
    if len(rows) > MAX_UPLOAD_ROWS:
        raise UploadError(
            f"The file has {len(rows):,} rows; the limit is {MAX_UPLOAD_ROWS:,}."
        )
    points = np.empty((len(rows), 2))
    raw_labels = []
    for number, row in enumerate(rows, start=1):
        if len(row) < 3:
            raise UploadError(
                f"Line {number} has {len(row)} column{'s' if len(row) != 1 else ''}; the "
                "playground needs three: x, y (numbers) and a label."
            )
        for column in (0, 1):
            value = _finite(row[column])
            if value is None:
                raise UploadError(
                    f"Line {number}, column {column + 1}: {row[column][:30]!r} is not a "
                    "finite number (x and y must be numbers)."
                )
            points[number - 1, column] = value
        raw_labels.append(row[2].strip()[:100])
    parsed = (points, *_labels(raw_labels))
    return (*parsed, names) if with_names else parsed


def _column_names(header: list[str]) -> list[str] | None:
    """The header's first two names, cleaned; X1 or X2 for one that is unusable."""
    first, second = (_clean_name(cell) for cell in [*header, "", ""][:2])
    first = first or "X1"
    if not second or second == first:
        second = "X2"
    if second == first:  # a header such as "X2,X2"
        first = "X1"
    return None if [first, second] == ["X1", "X2"] else [first, second]


def _clean_name(text: str) -> str:
    """A name as the page shows it, or "" for none: one line, no control characters."""
    # split() also breaks on line and paragraph separators; category C drops the
    # control and bidirectional-override characters that could disguise a name
    words = " ".join(text.split())
    name = "".join(c for c in words if unicodedata.category(c)[0] != "C")
    name = name[:MAX_NAME_LENGTH].strip()
    return "" if _is_number(name) else name


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _finite(text: str) -> float | None:
    try:
        value = float(text.strip()[:60])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _labels(raw: list[str]) -> tuple[Any, str, list[str] | None]:
    numbers = [_finite(label) for label in raw]
    if all(value is not None for value in numbers):
        values = np.array(numbers, dtype=float)
        distinct = np.unique(values)
        if len(distinct) > MAX_UPLOAD_CLASSES or not np.all(values == np.round(values)):
            return values, "regression", None
        classes = [str(int(value)) for value in distinct]
        return (
            np.searchsorted(distinct, values).astype(np.int64),
            "classification",
            classes,
        )
    if any(label.lower() in ("nan", "inf", "-inf", "infinity") for label in raw):
        raise UploadError(
            "A label is NaN or infinite: labels must be names or finite numbers."
        )
    classes = sorted(set(raw))
    if len(classes) > MAX_UPLOAD_CLASSES:
        raise UploadError(
            f"The labels name {len(classes)} classes; the playground shows up to "
            f"{MAX_UPLOAD_CLASSES}."
        )
    if len(classes) < 2:
        raise UploadError(
            "Every row has the same label: a classifier needs 2 classes or more."
        )
    index = {label: k for k, label in enumerate(classes)}
    return (
        np.array([index[label] for label in raw], dtype=np.int64),
        "classification",
        classes,
    )
