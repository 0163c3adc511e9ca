"""The recurrent workloads of bench_rnn.py: networks, data, initial weights.

Everything here is made the same way in the driver and in every worker, so each
peer trains the same network from the same weights on the same batches in the same
order. Weights use Keras' layout (glassnet's): an LSTM kernel is ``(in, 4U)`` with
the gates as column blocks **i, f, c, o**, its recurrent kernel ``(U, 4U)`` and its
bias ``(4U,)``; a GRU's blocks are **z, r, h** and, with ``reset_after=True``, its
bias is ``(2, 3U)`` (input side, recurrent side); a dense kernel is ``(in, out)``.
PyTorch's layouts differ (``torch_weights``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SEED = 0


@dataclass
class RnnWorkload:
    """One benchmark problem; every worker rebuilds it from this description.

    ``vocab == 0``: real-valued sequences ``(N, steps, features)`` and one class per
    sequence, read from the last hidden state (``RNN(units) -> Dense(classes)``).
    ``vocab > 0``: token ids ``(N, steps)`` through ``Embedding(vocab, features)``,
    and a class (the next character) at every step (``return_sequences=True``,
    ``Dense(vocab)`` on each step's hidden state).
    """

    name: str
    cell: str  # "lstm" or "gru" (GRU: reset_after=True, Keras' default)
    units: int
    steps: int
    features: int  # input channels, or the embedding's width
    classes: int
    vocab: int
    learning_rate: float  # SGD with momentum everywhere
    momentum: float
    batch_size: int
    samples: int  # a multiple of batch_size: every batch is full
    epochs_per_chunk: int

    @property
    def chunk_samples(self) -> int:
        return self.epochs_per_chunk * self.samples

    @property
    def per_step_targets(self) -> bool:
        return self.vocab > 0

    def chunk_order(self, k: int) -> Any:
        """The rows chunk ``k`` trains on, in order: one permutation per epoch.

        Seeded by the chunk number alone, so every peer's process draws the same.
        """
        import numpy as np

        rng = np.random.default_rng([SEED, k])
        return np.concatenate(
            [rng.permutation(self.samples) for _ in range(self.epochs_per_chunk)]
        )


def make_workloads(quick: bool) -> list[RnnWorkload]:
    """R1 LSTM(64) and R2 GRU(64) on sine sequences, R3 the character LSTM.

    ``quick`` shrinks the data and the sequences (a smoke run of the machinery).
    """
    sines, steps = (128, 12) if quick else (2048, 50)
    text, text_steps = (64, 16) if quick else (1024, 64)
    vocab = len(vocabulary())
    return [
        RnnWorkload("R1", "lstm", 64, steps, 16, 10, 0, 0.01, 0.9, 32, sines, 1),
        RnnWorkload("R2", "gru", 64, steps, 16, 10, 0, 0.01, 0.9, 32, sines, 1),
        RnnWorkload(
            "R3", "lstm", 128, text_steps, 32, vocab, vocab, 0.1, 0.9, 32, text, 1
        ),
    ]


# -- data ------------------------------------------------------------------------------
def sine_sequences(w: RnnWorkload) -> tuple[Any, Any]:
    """``w.samples`` noisy multichannel sine waves, float32 ``(N, steps, features)``,
    and their classes (int64): class k oscillates at ``0.02 (k + 1)`` cycles per
    step in every channel, each channel with its own amplitude (0.5 to 1.5) and
    phase, plus Gaussian noise of standard deviation 0.3. Balanced classes in a
    seeded order."""
    import numpy as np

    rng = np.random.default_rng([SEED, 1])
    n, t, c = w.samples, w.steps, w.features
    y = rng.permutation(np.arange(n) % w.classes)
    frequency = 0.02 * (y + 1)[:, None, None]
    amplitude = rng.uniform(0.5, 1.5, (n, 1, c))
    phase = rng.uniform(0.0, 2 * math.pi, (n, 1, c))
    time = np.arange(t)[None, :, None]
    x = amplitude * np.sin(2 * math.pi * frequency * time + phase)
    x += 0.3 * rng.standard_normal((n, t, c))
    return x.astype(np.float32), y.astype(np.int64)


def corpus() -> str:
    """CPython's own help texts (``pydoc_data.topics``, shipped with every Python):
    the topics in sorted order, joined by newlines. The exact text (and so the
    vocabulary) follows the Python version; every process of one run uses the same
    interpreter."""
    from pydoc_data.topics import topics

    return "\n".join(topics[key] for key in sorted(topics))


def vocabulary() -> list[str]:
    """Every character of the corpus, sorted (about a hundred)."""
    return sorted(set(corpus()))


def text_sequences(w: RnnWorkload) -> tuple[Any, Any]:
    """The corpus cut into ``w.samples`` windows of ``steps + 1`` characters, one
    after the other from the start: int64 ids ``x = window[:-1]`` and the next
    characters ``y = window[1:]``, both ``(N, steps)``."""
    import numpy as np

    text = corpus()
    index = {ch: i for i, ch in enumerate(vocabulary())}
    width = w.steps + 1
    if len(text) < w.samples * width:
        raise SystemExit(f"{w.name}: the corpus is too short for {w.samples} windows")
    ids = np.fromiter((index[ch] for ch in text[: w.samples * width]), np.int64)
    windows = ids.reshape(w.samples, width)
    return np.ascontiguousarray(windows[:, :-1]), np.ascontiguousarray(windows[:, 1:])


def make_data(w: RnnWorkload) -> tuple[Any, Any]:
    return text_sequences(w) if w.per_step_targets else sine_sequences(w)


# -- networks and weights ----------------------------------------------------------------
def build_glassnet(w: RnnWorkload) -> Any:
    """The glassnet model of ``w``, compiled (its weights drawn from ``SEED``)."""
    import glassnet
    from glassnet.layers import GRU, LSTM, Dense, Embedding
    from glassnet.models import Sequential
    from glassnet.optimizers import SGD

    recurrent = LSTM if w.cell == "lstm" else GRU
    layers: list[Any]
    if w.per_step_targets:
        layers = [
            glassnet.Input((w.steps,), dtype="int64"),
            Embedding(w.vocab, w.features),
            recurrent(w.units, return_sequences=True),
        ]
    else:
        layers = [glassnet.Input((w.steps, w.features)), recurrent(w.units)]
    layers.append(Dense(w.classes, activation="softmax"))
    model = Sequential(layers, seed=SEED, dtype="float32")
    model.compile(
        optimizer=SGD(learning_rate=w.learning_rate, momentum=w.momentum),
        loss="sparse_categorical_crossentropy",
    )
    return model


def initial_weights(w: RnnWorkload) -> list[Any]:
    """Keras' defaults as glassnet draws them (glorot-uniform kernels, orthogonal
    recurrent kernels, zero biases with the LSTM's forget block at 1, a uniform
    embedding), in Keras' order: [embeddings,] kernel, recurrent kernel, bias,
    dense kernel, dense bias."""
    return [a.copy() for a in build_glassnet(w).get_weights()]


def gru_to_torch_order(units: int) -> Any:
    """Column indices taking Keras' GRU blocks z, r, h to PyTorch's r, z, n (the
    same permutation takes them back)."""
    import numpy as np

    return np.r_[units : 2 * units, 0:units, 2 * units : 3 * units]


def torch_weights(w: RnnWorkload, weights: list[Any]) -> dict[str, Any]:
    """The same weights under PyTorch's names and layouts.

    ``nn.LSTM`` keeps ``weight_ih (4U, in)`` and ``weight_hh (4U, U)`` with the
    gates i, f, g, o (Keras' i, f, c, o in the same order) and two biases that it
    adds: ``bias_ih`` gets Keras' bias and ``bias_hh`` zeros (the torch peer freezes
    it, else SGD would move the sum of the two biases twice as fast). ``nn.GRU``'s
    gates are r, z, n and its two biases are exactly Keras' ``reset_after`` rows.
    ``nn.Linear`` keeps ``(out, in)``.
    """
    import numpy as np

    weights = [np.asarray(a) for a in weights]
    out: dict[str, Any] = {}
    if w.per_step_targets:
        out["embedding.weight"] = weights.pop(0)
    kernel, recurrent, bias, dense, dense_bias = weights
    if w.cell == "gru":
        order = gru_to_torch_order(w.units)
        kernel, recurrent = kernel[:, order], recurrent[:, order]
        bias_ih, bias_hh = bias[0][order], bias[1][order]
    else:
        bias_ih, bias_hh = bias, np.zeros_like(bias)
    out["rnn.weight_ih_l0"] = kernel.T
    out["rnn.weight_hh_l0"] = recurrent.T
    out["rnn.bias_ih_l0"] = bias_ih
    out["rnn.bias_hh_l0"] = bias_hh
    out["linear.weight"] = dense.T
    out["linear.bias"] = dense_bias
    return {key: np.ascontiguousarray(value) for key, value in out.items()}


def layer_input_shape(w: RnnWorkload) -> tuple[int, int, int]:
    """The recurrent layer's input, ``(batch, steps, features)``."""
    return (w.batch_size, w.steps, w.features)
