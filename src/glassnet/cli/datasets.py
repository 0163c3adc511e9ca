"""``glassnet datasets NAME FILE``: write one of scikit-learn's bundled tables as CSV.

The README's and docs' commands train on these, so anyone can run them:

=================  ======  =========================================  ===========
NAME               rows    inputs                                     target
=================  ======  =========================================  ===========
``iris``           150     4 measurements in cm                       ``species`` (3 names)
``wine``           178     13 chemical measurements, unscaled         ``class`` (0, 1, 2)
``breast_cancer``  569     30 cell-nucleus measurements               ``diagnosis`` (2 names)
``diabetes``       442     age, sex, bmi, bp, s1-s6 (raw units)        ``progression``
=================  ======  =========================================  ===========

The tables come from scikit-learn (``pip install 'glassnet[sklearn]'``), which ships
them; nothing is downloaded. Column names are the dataset's feature names in
snake_case (``sepal length (cm)`` -> ``sepal_length_cm``).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from typing import Any

from glassnet.cli.app import EXIT_OK, CliError

__all__ = ["column_name", "run_datasets", "table_rows"]

#: name -> (scikit-learn loader, target column, whether the target is written as names)
_TABLES = {
    "iris": ("load_iris", "species", True),
    "wine": ("load_wine", "class", False),
    "breast_cancer": ("load_breast_cancer", "diagnosis", True),
    "diabetes": ("load_diabetes", "progression", False),
}


def column_name(feature: str) -> str:
    """``"sepal length (cm)"`` -> ``"sepal_length_cm"``.

    >>> column_name("sepal length (cm)"), column_name("od280/od315_of_diluted_wines")
    ('sepal_length_cm', 'od280_od315_of_diluted_wines')
    """
    return re.sub(r"[^0-9a-zA-Z]+", "_", feature).strip("_").lower()


def table_rows(name: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the table ``name`` (see the module docstring)."""
    try:
        from sklearn import datasets
    except ImportError:
        raise CliError(
            "glassnet datasets needs scikit-learn, which ships these tables: pip "
            "install 'glassnet[sklearn]'"
        ) from None
    loader, target, as_names = _TABLES[name]
    options: dict[str, Any] = {"scaled": False} if name == "diabetes" else {}
    bunch = getattr(datasets, loader)(**options)
    header = [column_name(feature) for feature in bunch.feature_names] + [target]
    rows = []
    for values, label in zip(bunch.data, bunch.target, strict=True):
        cells = [f"{float(v):.10g}" for v in values]
        if as_names:
            cells.append(str(bunch.target_names[int(label)]))
        else:
            cells.append(f"{float(label):.10g}")
        rows.append(cells)
    return header, rows


def run_datasets(args: argparse.Namespace) -> int:
    from glassnet.cli.train import check_output
    from glassnet.io import atomic_write

    check_output(args.file, args.overwrite, "FILE")
    header, rows = table_rows(args.name)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with atomic_write(args.file) as handle:
        handle.write(text.getvalue().encode("utf-8"))
    print(
        f"Wrote {args.file}: {len(rows)} rows, {len(header) - 1} inputs and the target "
        f"{header[-1]!r}."
    )
    return EXIT_OK
