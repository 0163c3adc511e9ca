"""The README's Python examples run as written (they share one namespace, in order)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the examples save files
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(
            compile(block, str(README), "exec"), namespace
        )  # our own README, no file input
    model = namespace["model"]
    assert model.predict_classes(namespace["x"]).ravel().tolist() == [0, 1, 1, 0]
    assert namespace["report"].passed


def test_every_file_the_readme_names_is_in_the_repository() -> None:
    # Users have the repository only: a relative file path in backticks or a link
    # must resolve in it (package modules as ``glassnet/...`` under src/).
    root = README.parent
    text = README.read_text()
    named = set(re.findall(r"`([A-Za-z_][\w.-]*/[\w./-]*\.[a-z]+)`", text))
    named |= set(re.findall(r"\]\(([A-Za-z_][\w.-]*/[\w./-]+)\)", text))
    assert len(named) > 10
    missing = [
        path
        for path in sorted(named)
        if not (root / path).exists() and not (root / "src" / path).exists()
    ]
    assert not missing, f"the README names files the repository lacks: {missing}"
