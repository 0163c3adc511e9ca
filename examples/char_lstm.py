"""A character-level LSTM learns to write like Python's own documentation.

Run: ``python examples/char_lstm.py``

The text is ``pydoc_data.topics``, shipped with every Python: the reference
chapters ``help()`` shows (465,048 characters in Python 3.11, 103 distinct ones).
The network reads 64 characters and, at every position, predicts the next one::

    Embedding(103, 32)                   (64, 32)      3,296 weights
    LSTM(128, return_sequences=True)     (64, 128)    82,432
    Dense(103): one logit per character  (64, 103)    13,287       99,015 in all

trained with Adam (learning rate 0.003, clipnorm 1) on the sparse categorical
cross-entropy of the logits, in batches of 32 windows; each epoch reads the whole
text once, cut at another offset. :func:`sample` then writes: it feeds the last
64 characters, draws the next from ``softmax(logits / temperature)``, appends it
and goes on (temperature 0 takes the most likely character every time).

Measured here: 10 epochs took 5.2 minutes on a busy 2-core machine (one BLAS
thread, about 23 s an epoch), the loss falling from 4.635 nats per character (a
uniform guess, ln 103) to 1.405 (2.03 bits); 20 epochs reach 1.219. The tests run
a short version (3 epochs of 160 windows) and check that the loss falls. After
the 10 epochs, ``main()`` printed, for ``sample(model, "The ", 400,
temperature=0.5, seed=1)`` (wrapped to this page; the blank line and the
indented line are the network's)::

    The code compare plicing and the statement container to an any a "async"
    statement to the sequence is a string attribute is contained in the standard
    from the sequence of the compares to the compare is a paring and the names
    the sele and the same in the object called to the class of the "int()"

       "if" is a truch in the "__set__" and "__getattr__()" method in a "module"
       class as the sequence is an ex

Words, quotes, dunder names, paragraphs and indentation come out right; the
sentences are locally plausible and make no sense. At temperature 0.8 the network
also draws the text's tables (``+-----+`` rules and ``|`` columns). A low
temperature can fall into a run of spaces it does not leave (the tables hold runs
of up to 53 spaces, and 64 characters of spaces say nothing about where the
network is): the 20-epoch network does at 0.5, after about 320 characters.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np

from glassnet.datasets import Vocabulary, pydoc_text, text_windows
from glassnet.errors import InvalidArgumentError
from glassnet.layers import LSTM, Dense, Embedding, Input
from glassnet.losses import SparseCategoricalCrossentropy
from glassnet.models import Sequential
from glassnet.optimizers import Adam

LENGTH = 64
EMBEDDING = 32
UNITS = 128
EPOCHS = 10
BATCH_SIZE = 32


@functools.lru_cache(maxsize=1)
def load() -> tuple[np.ndarray, Vocabulary]:
    """The whole text as ids, and its vocabulary."""
    text = pydoc_text()
    vocabulary = Vocabulary.from_text(text)
    return vocabulary.encode(text), vocabulary


def build(vocabulary_size: int, seed: int = 0) -> Sequential:
    """Embedding -> LSTM(128) -> Dense(vocabulary): a logit per character, per step.

    The time axis is left free (None): training reads 64 characters, sampling as
    many as it has.
    """
    return Sequential(
        [
            Input((None,)),
            Embedding(vocabulary_size, EMBEDDING, name="embedding"),
            LSTM(UNITS, return_sequences=True, name="lstm"),
            Dense(vocabulary_size, name="logits"),
        ],
        seed=seed,
    )


def windows(ids: np.ndarray, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ``epoch``'s windows: the text cut every 64 ids from another offset,
    each window's target the window shifted by one character."""
    offset = (epoch * 23) % LENGTH
    return text_windows(ids[offset:], LENGTH)


def train(
    epochs: int = EPOCHS,
    *,
    seed: int = 0,
    max_windows: int | None = None,
    verbose: bool = True,
) -> tuple[Sequential, list[float]]:
    """Train a new model; return it and the mean loss of every epoch (nats/char).

    ``max_windows`` limits each epoch to its first windows (after shuffling), for
    a quick run.
    """
    ids, vocabulary = load()
    model = build(vocabulary.size, seed)
    model.compile(
        optimizer=Adam(learning_rate=0.003, clipnorm=1.0),
        loss=SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(seed)
    losses = []
    start = time.perf_counter()
    for epoch in range(epochs):
        x, y = windows(ids, epoch)
        order = rng.permutation(len(x))[:max_windows]
        history = model.fit(
            x[order], y[order], batch_size=BATCH_SIZE, epochs=1, verbose=0
        )
        losses.append(float(history.history["loss"][0]))
        if verbose:
            print(
                f"epoch {epoch + 1}/{epochs}: loss {losses[-1]:.3f} nats/char "
                f"({losses[-1] / math.log(2):.2f} bits), "
                f"{time.perf_counter() - start:.0f} s"
            )
    return model, losses


def sample(
    model: Sequential,
    seed_text: str,
    length: int,
    temperature: float = 1.0,
    *,
    seed: int | None = None,
    vocabulary: Vocabulary | None = None,
) -> str:
    """``seed_text`` followed by ``length`` characters the model writes.

    Each character is drawn from ``softmax(logits / temperature)`` of the model's
    last step, given the last 64 characters: low temperatures pick the likely
    characters, high ones take more risks; ``temperature=0`` always takes the
    most likely one. ``seed`` seeds the draws.
    """
    vocabulary = vocabulary or load()[1]
    if not isinstance(seed_text, str) or not seed_text:
        raise InvalidArgumentError(
            f"Argument `seed_text` must be a non-empty str. Received: {seed_text!r}"
        )
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise InvalidArgumentError(
            f"Argument `length` must be an integer >= 0. Received: {length!r}"
        )
    if not isinstance(temperature, (int, float)) or not 0 <= temperature < math.inf:
        raise InvalidArgumentError(
            f"Argument `temperature` must be a number >= 0. Received: {temperature!r}"
        )
    rng = np.random.default_rng(seed)
    ids = list(vocabulary.encode(seed_text))
    for _ in range(length):
        context = np.array(ids[-LENGTH:])[np.newaxis]
        logits = model.predict(context, verbose=0)[0, -1].astype(np.float64)
        if temperature == 0.0:
            ids.append(int(np.argmax(logits)))
            continue
        z = logits / temperature
        p = np.exp(z - z.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return vocabulary.decode(np.array(ids))


def main(epochs: int = EPOCHS, max_windows: int | None = None) -> dict[str, object]:
    """Train, then print samples at temperatures 0.5 and 0.8."""
    ids, vocabulary = load()
    print(
        f"{len(ids):,} characters, {vocabulary.size} distinct; windows of {LENGTH}; "
        f"uniform guess: {math.log(vocabulary.size):.3f} nats/char"
    )
    model, losses = train(epochs, max_windows=max_windows)
    texts = {}
    for temperature in (0.5, 0.8):
        texts[temperature] = sample(model, "The ", 400, temperature, seed=1)
        print(f"\n--- temperature {temperature} ---\n{texts[temperature]}")
    return {"model": model, "losses": losses, "samples": texts}


if __name__ == "__main__":
    main()
