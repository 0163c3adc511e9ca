"""Load a module of tests/corpus/ by path, once per process (the folder is no package).

>>> watching = load_corpus_module("watch.py", "glassnet_corpus_watch")
>>> load_corpus_module("watch.py", "glassnet_corpus_watch") is watching
True
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parent / "corpus"


def load_corpus_module(name: str, module_name: str) -> Any:
    """The module in ``tests/corpus/<name>``, registered as ``module_name``."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, CORPUS / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
