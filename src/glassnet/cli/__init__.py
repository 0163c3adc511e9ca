"""The ``glassnet`` command: train, evaluate, predict, inspect and convert from a shell.

::

    glassnet train iris.csv --target species --layers 16,8 --epochs 50
    glassnet predict model.keras new_flowers.csv --output predictions.csv
    glassnet evaluate model.keras test.csv
    glassnet summary model.keras --explain
    glassnet inspect model.keras
    glassnet convert model.keras model.safetensors
    glassnet explain model.keras iris.csv --row 0

``python -m glassnet.cli`` runs the same program. docs/cli.md describes every
subcommand, flag and exit code (0 success, 1 a bug in glassnet, 2 a usage, data or
file error, 130 interrupted). Only :mod:`argparse` is imported until a subcommand
runs, so ``glassnet --help`` answers at once.

>>> main(["--version"])
glassnet 0.1.0
0
"""

from __future__ import annotations

from glassnet.cli.app import main

__all__ = ["main"]
