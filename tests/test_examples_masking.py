"""examples/padded_sequences.py: padded variable-length sequences need the mask.

The masked model's answer on a padded row is checked against the same model run
on the row cut to its own length (no padding, so no mask involved), and the
whole example against the accuracies its docstring states.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load() -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module("padded_sequences")


def test_sequences_are_padded_with_zeros_after_their_tokens() -> None:
    module = load()
    ids, labels, lengths = module.make_sequences(500, seed=3)
    assert ids.shape == (500, 20) and ids.dtype == np.int64
    assert lengths.min() >= 2 and lengths.max() <= 20
    assert 0.4 < labels.mean() < 0.6  # about half the answers are 1
    for row, length, label in zip(ids, lengths, labels, strict=True):
        assert np.all(row[:length] >= 1) and np.all(row[:length] <= 4)
        assert np.all(row[length:] == 0)
        assert label == (row[0] == row[length - 1])
    longer, same_labels, _ = module.make_sequences(500, seed=3, max_length=30)
    np.testing.assert_array_equal(longer[:, :20], ids)
    assert np.all(longer[:, 20:] == 0)
    np.testing.assert_array_equal(same_labels, labels)


def test_masked_answer_is_the_answer_on_the_unpadded_sequence() -> None:
    module = load()
    model = module.build(mask_zero=True, seed=4)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y, lengths = module.make_sequences(64, seed=2)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # weights that are not initial
    padded = model.predict(x, verbose=0)
    for row, length in zip(range(8), lengths, strict=False):
        alone = model.predict(x[row : row + 1, :length], verbose=0)
        np.testing.assert_allclose(padded[row], alone[0], rtol=1e-5, atol=1e-6)
    # without the mask the padding changes the answer
    unmasked = module.build(mask_zero=False, seed=4)
    unmasked.set_weights(model.get_weights())
    short = int(np.argmin(lengths))
    assert not np.allclose(
        unmasked.predict(x[short : short + 1], verbose=0),
        unmasked.predict(x[short : short + 1, : lengths[short]], verbose=0),
        atol=1e-4,
    )
    # Embedding 5 x 8, LSTM 4 gates of 32 over 8 inputs, Dense 32 x 2 + 2
    assert model.count_params() == 40 + 8 * 128 + 32 * 128 + 128 + 66 == 5354


def test_padded_sequences_reaches_the_documented_accuracies() -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limits: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1)
    module = load()
    out = io.StringIO()
    with limits, contextlib.redirect_stdout(out):
        results = module.main()
    assert "mask_zero=True    100.00 %" in module.__doc__
    assert "mask_zero=False    47.70 %" in module.__doc__
    assert results["mask_zero=True"] == pytest.approx(1.0, abs=0.01)
    assert results["mask_zero=False"] < 0.6  # chance: about half
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Embedding -> LSTM(32) -> Dense(2): 5,354 weights")
    assert "same answers with 30 steps of padding: True" in lines[2]
