"""The ``glassnet`` command: train, evaluate, predict, inspect and convert from a shell.

::

    glassnet datasets iris iris.csv
    glassnet train iris.csv --target species --seed 0
    glassnet evaluate model.keras iris.csv
    glassnet predict model.keras new_flowers.csv --keep @0 --output predictions.csv
    glassnet summary model.keras --explain
    glassnet inspect model.keras
    glassnet convert model.keras model.safetensors
    glassnet explain model.keras iris.csv --row 0

``python -m glassnet.cli`` runs the same program. docs/cli.md describes every
subcommand, flag and exit code (0 success, 1 a bug in glassnet, 2 a usage, data or
file error, 130 interrupted). Only :mod:`argparse` is imported until a subcommand
runs, so ``glassnet --help`` answers at once; tables are read with pandas
(``pip install 'glassnet[cli]'``), imported only when a table is read.

>>> main(["--version"])
glassnet 0.1.0
0
"""

from __future__ import annotations

from glassnet.cli.app import main

__all__ = ["main"]
