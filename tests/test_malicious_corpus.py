"""The malicious corpus: every file ends in a glassnet error, safely.

``tests/corpus/make_corpus.py`` writes several hundred malicious or corrupt files in
every format glassnet reads (a temporary folder, built once per session). Each file
is loaded through every public entry point that reads its format
(``glassnet.models.load_model``, ``model.load_weights`` on a fresh model of the
matching architecture, ``glassnet.models.model_from_json`` on the bytes and on the
text), and each load must:

- raise a :class:`~glassnet.errors.GlassnetError` that is also a builtin exception
  (``ValueError``...), an :class:`~glassnet.errors.UnsafeFileError` where the file is
  hostile on principle, with a message naming the file;
- run no code: the canary module is never imported, the marker file any payload
  would create never appears, and an audit hook sees no ``exec``, ``compile``,
  ``marshal``, ``pickle.find_class``, process or network event, no import outside
  the standard library and glassnet's dependencies, and no file opened but the
  one being loaded;
- stay bounded: at most 200 MiB above the starting point, measured as the
  process' peak resident memory (Linux: it sees Python objects, NumPy arrays and
  HDF5's own C buffers alike; elsewhere ``tracemalloc``, Python's allocations
  only), and at most 5 s of CPU time (a denial of service, not a speed test: a
  refusal takes milliseconds; CPU time, so a busy machine does not fail it);
- leave the model exactly as it was: weights bit-identical, optimizer state and
  random generator untouched;
- end in the message a case expects (``expect``, a regular expression), where it
  states one.

A known weakness is marked ``xfail(strict=True)`` with the reason (a case's
``known={loader: reason}`` in make_corpus.py): when the loader is fixed, the mark
must go. There are none at the moment.
"""

from __future__ import annotations

import pickle
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from corpus_modules import load_corpus_module

from glassnet.errors import GlassnetError, UnsafeFileError
from glassnet.models import load_model, model_from_json

corpus_builder = load_corpus_module("make_corpus.py", "glassnet_corpus_builder")
CASES = corpus_builder.cases()
MEMORY_CAP = 200 * 2**20
TIME_LIMIT = 5.0
BUILTIN_ERRORS = (ValueError, TypeError, RuntimeError, OSError, LookupError)

watching = load_corpus_module("watch.py", "glassnet_corpus_watch")
LoadTimeout = watching.LoadTimeout
snapshot = watching.snapshot


# -- the corpus -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("malicious-corpus")
    corpus_builder.build(folder)
    canary = str(folder / "canary")
    sys.path.insert(0, canary)  # importable: importing it by name would fire it
    watching.install_audit_hook()
    _warm_up(folder)
    try:
        yield folder
    finally:
        sys.path.remove(canary)
    assert not (folder / corpus_builder.MARKER).exists()
    assert corpus_builder.CANARY_MODULE not in sys.modules
    shutil.rmtree(folder)  # 175 MB, most of it the 100 MiB and 20 MiB strings


def _warm_up(folder: Path) -> None:
    """Load valid files once, so lazy imports happen before anything is watched."""
    model = corpus_builder.make_model(seed=5)
    for name in ("w.weights.h5", "w.h5", "w.safetensors"):
        model.save_weights(folder / name)
        model.load_weights(folder / name)
    for name in ("m.keras", "m.h5"):
        model.save(folder / name)
        load_model(folder / name)
    model_from_json(model.to_json())
    for case in CASES[:: max(1, len(CASES) // 40)]:  # error paths too
        path = folder / case.name
        if path.stat().st_size < 2**20:
            for loader in case.loaders:
                try:
                    _load(loader, path, model, _json_input(loader, path))
                except Exception:
                    pass
    for name in ("w.weights.h5", "w.h5", "w.safetensors", "m.keras", "m.h5"):
        (folder / name).unlink()


def _json_input(loader: str, path: Path) -> bytes | str | None:
    """What model_from_json gets: the file's bytes, or the same as a str.

    The str keeps bytes that are not UTF-8 as lone surrogates, the way Python hands
    over undecodable data (``os.fsdecode``, ``errors="surrogateescape"``).
    """
    if loader == corpus_builder.FROM_JSON_BYTES:
        return path.read_bytes()
    if loader == corpus_builder.FROM_JSON_STR:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    return None


def _load(loader: str, path: Path, model: Any, text: bytes | str | None) -> None:
    if loader == corpus_builder.LOAD_MODEL:
        load_model(path)
    elif loader == corpus_builder.LOAD_WEIGHTS:
        model.load_weights(path)
    else:
        assert text is not None
        model_from_json(text)


def _params() -> list[Any]:
    params = []
    for case in CASES:
        known = dict(case.known)
        for loader in case.loaders:
            marks = []
            if loader in known:
                marks.append(pytest.mark.xfail(strict=True, reason=known[loader]))
            params.append(
                pytest.param(case, loader, id=f"{case.name}|{loader}", marks=marks)
            )
    return params


@pytest.mark.parametrize(("case", "loader"), _params())
def test_corpus_file_ends_in_a_glassnet_error_safely(corpus, case, loader):
    path = corpus / case.name
    model = corpus_builder.reference_model(case.model, seed=42)
    before = snapshot(model)
    text = _json_input(loader, path)  # read before watching: the caller holds it
    error: BaseException | None = None
    with warnings.catch_warnings(record=True), watching.watched(TIME_LIMIT) as watch:
        try:
            _load(loader, path, model, text)
        except (Exception, LoadTimeout) as raised:
            error = raised
    del text

    problems = []
    if error is None:
        problems.append("the file was accepted")
    elif isinstance(error, LoadTimeout):
        problems.append(str(error))
    elif not isinstance(error, GlassnetError):
        problems.append(f"a foreign error: {type(error).__name__}: {error}")
    else:
        if not isinstance(error, BUILTIN_ERRORS):
            problems.append(f"{type(error).__name__} is no builtin exception")
        if loader in case.unsafe and not isinstance(error, UnsafeFileError):
            problems.append(f"expected an UnsafeFileError, got {type(error).__name__}")
        where = "model_from_json" if "json" in loader else path.name
        if where not in str(error):
            problems.append(f"the message does not name {where!r}")
        if case.expect and not re.search(case.expect, str(error)):
            problems.append(f"the message does not match {case.expect!r}: {error}")
    problems += watching.forbidden(watch.events, path)
    if (corpus / corpus_builder.MARKER).exists():
        problems.append("the canary fired: a payload ran")
    if corpus_builder.CANARY_MODULE in sys.modules:
        problems.append("the canary module was imported")
    if watch.python_peak > MEMORY_CAP:
        problems.append(f"Python allocations peaked at {watch.python_peak >> 20} MiB")
    if watch.rss_peak is not None and watch.rss_peak > MEMORY_CAP:
        problems.append(f"resident memory grew by {watch.rss_peak >> 20} MiB")
    if snapshot(model) != before:
        problems.append("the model changed")
    assert not problems, f"{case.name} via {loader} ({case.what}): " + "; ".join(
        problems
    )


def test_the_watch_sees_code_running_and_memory_growing(tmp_path):
    """The checks above can fail: running code and allocating show up in a Watch."""
    watching.install_audit_hook()
    path = tmp_path / "x.json"
    with watching.watched(TIME_LIMIT) as watch:
        pickle.loads(b"cbuiltins\nlen\n(V\ntR.")  # calls len(''): harmless
        exec("1")
        big = np.ones(MEMORY_CAP // 8 + 2**22)
        del big
    found = watching.forbidden(watch.events, path)
    assert any(f.startswith("pickle.find_class") for f in found)
    assert any(f.startswith("exec") for f in found)
    peak = watch.rss_peak if watch.rss_peak is not None else watch.python_peak
    assert peak > MEMORY_CAP


def test_the_corpus_is_large_and_covers_every_format():
    assert len(CASES) >= 100
    assert len({case.name for case in CASES}) == len(CASES)
    suffixes = {case.suffix for case in CASES}
    assert suffixes == {".keras", ".weights.h5", ".h5", ".safetensors", ".json"}
    loaders = {loader for case in CASES for loader in case.loaders}
    assert loaders == {
        corpus_builder.LOAD_MODEL,
        corpus_builder.LOAD_WEIGHTS,
        corpus_builder.FROM_JSON_BYTES,
        corpus_builder.FROM_JSON_STR,
    }
    categories = {case.category for case in CASES}
    assert {"pickle", "code-in-config", "truncation", "bit-flip", "size-bomb"} <= (
        categories
    )
    # the second wave (issue 15): at least five cases of each of its six classes
    wave = [c.category for c in CASES if c.category.startswith("wave2-")]
    classes = ("errors", "shapes", "sizes", "work", "broken", "ambiguous")
    assert {f"wave2-{name}" for name in classes} == set(wave)
    assert all(wave.count(f"wave2-{name}") >= 5 for name in classes)
    legacy_models = [c for c in CASES if c.name.endswith("-model.h5")]
    legacy_weights = [c for c in CASES if c.suffix == ".h5" and c not in legacy_models]
    assert len(legacy_models) >= 10 and len(legacy_weights) >= 10


def test_the_corpus_is_deterministic(tmp_path):
    """Two builds into the same folder write the same bytes (bombs excepted, for time)."""
    small = {c.name for c in CASES if c.category != "size-bomb"}
    built = corpus_builder.build(tmp_path, only=lambda c: c.name in small)
    first = {c.name: (tmp_path / c.name).read_bytes() for c in built}
    for name in first:
        (tmp_path / name).unlink()
    corpus_builder.build(tmp_path, only=lambda c: c.name in small)
    changed = [n for n, data in first.items() if (tmp_path / n).read_bytes() != data]
    assert not changed


PROBE = """
import base64, io, marshal, pathlib, pickle, sys
import numpy as np
sys.path.insert(0, sys.argv[1] + "/canary")
marker = pathlib.Path(sys.argv[1]) / {marker!r}
payloads = {payloads!r}
fired = []
for name, kind, data in payloads:
    marker.unlink(missing_ok=True)
    sys.modules.pop({canary!r}, None)
    if kind == "pickle":
        pickle.loads(data)
    elif kind == "npz":
        np.load(io.BytesIO(data), allow_pickle=True)["arr_0"]
    else:
        exec(marshal.loads(base64.b64decode(data)))
    if marker.exists():
        fired.append(name)
print(",".join(fired))
"""


def test_the_payloads_are_live(tmp_path):
    """The canary works: each payload, if a loader did run it, creates the marker."""
    payloads = corpus_builder.Payloads(tmp_path)
    corpus_builder.build(tmp_path, only=lambda case: False)  # the canary module only
    kinds = [
        ("pickle-canary", "pickle", payloads.pickle_canary()),
        ("pickle-system", "pickle", payloads.pickle_system()),
        ("pickle-exec", "pickle", payloads.pickle_exec()),
        ("npz", "npz", payloads.npz()),
        ("bytecode", "bytecode", payloads.bytecode()),
    ]
    script = PROBE.format(
        payloads=kinds,
        marker=corpus_builder.MARKER,
        canary=corpus_builder.CANARY_MODULE,
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip().split(",") == [name for name, _, _ in kinds]
