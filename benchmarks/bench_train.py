"""Training and inference speed of glassnet against PyTorch, JAX, Keras, scikit-learn
and NumPy.

Run: ``make bench``, or ``python benchmarks/bench_train.py [--rounds R]
[--threads 1,2] [--workloads tiny,small,medium,wide] [--peers glassnet,torch,...]
[--quick] [--json PATH]``.
It prints Markdown tables (the README's Speed section is one run of it); ``--json``
also writes every number to PATH. ``--quick`` is a smoke run on small data that
checks the machinery, not the speed.

Workloads (float32 everywhere; every peer gets the same data, architecture, initial
weights, optimizer with the same hyper-parameters, and batch size):

- ``tiny``: the 2-2-1 sigmoid network of seeds/000 on its four samples, mean squared
  error, SGD with learning rate 0.1, batch size 1.
- ``small``: 64-128-64-10 ReLU, softmax cross-entropy, on scikit-learn's digits
  (1,797 samples, pixels / 16), SGD momentum 0.9, learning rate 0.01, batch 32.
- ``medium``: 784-256-128-10 ReLU, softmax cross-entropy, Adam (learning rate 1e-3,
  epsilon 1e-7 for every peer), batch 128, on 60,000 MNIST-sized samples.
- ``wide``: 784-1024-1024-10 ReLU, softmax cross-entropy, Adam as above, batch 256,
  on 20,000 samples.

The MNIST-sized data is synthesized with a fixed seed (no download): 28x28 images of
ten classes, each drawn in one of three stroke styles, shifted by up to 2 pixels,
dimmed and covered in noise; a linear model fits it poorly, an MLP learns it.

Peers, each in its own persistent process (one per peer and workload):

- ``glassnet``: ``model.fit(x, y, batch_size=..., epochs=..., verbose=0)`` with a
  softmax output layer and ``sparse_categorical_crossentropy`` (Keras' idiom).
  With the ``fast`` extra installed (the ``bench`` extra installs it) its
  optimizer updates, and its Dense layers' bias and ReLU, run as Numba-compiled
  loops (glassnet/fused.py).
- ``glassnet_numpy``: the same with ``GLASSNET_FUSED=0``: every step as the NumPy
  code those loops fuse (the results are the same, bit for bit).
- ``torch``: PyTorch's default idiom: ``nn.Sequential``, ``nn.CrossEntropyLoss`` on
  logits (``nn.MSELoss`` after a sigmoid for tiny), ``torch.optim.SGD``/``Adam`` with
  their default implementation, and per batch ``zero_grad(); loss.backward();
  step()``. Each epoch shuffles with ``torch.randperm`` and slices batches.
- ``torch fused``: the same with ``fused=True`` (PyTorch's fastest CPU optimizer).
- ``jax`` (dense_jax.py, when JAX and optax are installed: the ``bench`` extra): one
  ``jax.jit``-compiled step of forward, loss, ``value_and_grad`` and an optax update
  (``optax.sgd`` with momentum, or ``optax.adam`` with eps 1e-7), parameters and
  state donated; each epoch a seeded NumPy permutation, then batch slices.
- ``keras``: Keras 3 on the JAX backend, glassnet's twin: ``keras.Sequential`` of
  Dense layers, compiled (XLA by default) and trained by ``fit(x, y, batch_size,
  epochs, verbose=0)`` per chunk.
- ``sklearn``: ``MLPClassifier`` fed float32 (it keeps float32 weights), alpha=0,
  the same solver, learning rate, momentum and batch size. Whole-epoch chunks call
  ``fit`` with ``warm_start=True, max_iter=epochs`` (its own epoch loop; its SGD
  velocity restarts at each call), slice chunks call ``partial_fit`` (one pass, Adam
  state kept). Its tiny network is the same 2-2-1 sigmoid but trained on log-loss:
  MLPClassifier has no squared-error loss.
- ``numpy``: a hand-written vectorized NumPy network with the same math, written
  plainly: expressions that allocate, ``x[permutation]`` copies, per-tensor updates.
- ``floor``: not a peer but the machine's limit for glassnet: the step's matrix
  multiplies alone (forward ``x @ W``, backward ``x.T @ dz`` and ``dz @ W.T``, none
  for the data's gradient), same shapes and batches, outputs preallocated, in NumPy.

What is measured, and how:

- A chunk is a few whole epochs (tiny, small) or one pass over a slice of the data
  (medium: 100 steps, wide: 10 steps; each round trains the next slice, the same for
  every peer). Samples per second is samples seen / wall-clock time of the chunk,
  timed inside the peer's process (``fit`` included whole: its input checks, the
  shuffle, storing predictions, the epoch's loss and the History callback; JAX and
  Keras wait for their queued work, ``block_until_ready``, before the clock stops).
- The machine is shared and its speed swings by tens of percent for seconds at a
  time, so the peers alternate chunk by chunk in rounds (who goes first rotates),
  and every ratio is the median over rounds of that round's ratio; the min-max range
  shows the noise. Before each chunk the driver waits for the CPUs to be idle
  (``QuietGate``: other peers' BLAS threads stop spinning about 0.1 s after their
  last call, and other programs may be running); a round is quiet when every chunk
  in it started on an idle machine, and the medians are over the quiet rounds when
  there are at least five ("quiet rounds" in the table), else over all rounds.
  CPU-seconds per wall-second of each peer's chunks (every thread of its process)
  show who used more than its share: XLA queues the next step while computing.
  Two-thread PyTorch and OpenBLAS suffer most from a busy machine: every parallel
  operation waits for its slower thread. Before any timing, every peer takes one
  step on the same first batch, and the loss on that batch before and after the
  step must match glassnet's (``FIRST_STEP_TOLERANCE``; scikit-learn's tiny network
  trains log-loss and is left out), or the run stops. Then one warm-up chunk per
  peer (JAX and Keras compile there); then every peer's weights, gradients and
  optimizer state are checked to be float32.
- Threads: each thread count runs separately; every process gets
  ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` before it
  imports NumPy or torch, then ``threadpoolctl.threadpool_limits`` and
  ``torch.set_num_threads`` once; the JAX and Keras processes get ``PJRT_NPROC``
  (and with one thread ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false``).
  ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are unset in every worker (users'
  machines do not set them), and each worker reports the BLAS libraries it loaded
  and the kernels they picked (threadpoolctl) for the machine line.
- Peak memory is each training process's resident-set high-water mark (VmHWM),
  reset after the imports and the data are loaded, so it is what the process holds
  while training: libraries, the data (the same for every peer) and what the peer
  allocates. The final accuracy and loss are over the whole training set.
- ``predict`` latency (when glassnet, numpy and torch are all among the peers):
  one sample and 1,024 samples (one batch), through glassnet's
  ``model.predict(x, verbose=0)`` (``batch_size=1024`` for 1,024 samples, one batch
  like the others), a hand-written NumPy forward pass
  and torch's ``softmax(net(x))`` under ``torch.inference_mode()``, interleaved in
  rounds like training (median per-round ratio to the NumPy forward pass). Each
  chunk times five bursts of calls (100 calls of 1 sample, 3 of 1,024) and keeps the
  fastest burst, so one interruption does not count as the peer's latency.
- ``import glassnet`` is timed in fresh interpreters (median of 7), alone and
  together with the modules a training script needs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import driver

SEED = 0
PEERS = ("glassnet", "torch", "torch_fused", "sklearn", "numpy", "floor")
JAX_PEERS = ("jax", "keras")  # when the bench extra is installed (driver.py)
ALL_PEERS = (
    "glassnet",
    "glassnet_numpy",
    "torch",
    "torch_fused",
    *JAX_PEERS,
    "sklearn",
    "numpy",
    "floor",
)
LATENCY_PEERS = ("glassnet", "numpy", "torch")
TRAINERS = ("glassnet", "glassnet_numpy", "torch", "torch_fused", *JAX_PEERS)
LABEL = {
    "glassnet_numpy": "glassnet, NumPy only",
    "torch_fused": "torch fused",
    "jax": "jax jit",
    "keras": "keras (jax)",
}
# The first step of every peer on the same batch: the loss before it must agree to
# float32 rounding; after it, Adam's epsilon sits in a different place in
# Keras-style implementations (glassnet, Keras, the numpy peer) than in PyTorch's,
# optax's and scikit-learn's, which moves weights with tiny gradients differently.
FIRST_STEP_TOLERANCE = {"sgd": 2e-5, "adam": 1e-3}
# QuietGate: seconds to let BLAS threads stop spinning, seconds to watch the CPUs,
# the busy share of all CPUs that still counts as quiet, the most to wait per workload
SETTLE, WINDOW, QUIET, BUDGET = 0.15, 0.1, 0.1, 10.0
LATENCY_BURSTS = 5  # predict latency: each chunk times this many bursts of calls


@dataclass
class Workload:
    """One benchmark problem; every peer process rebuilds it from this description."""

    name: str
    units: list[int]  # layer widths, input first
    hidden: str  # "sigmoid" or "relu"
    loss: str  # "mse" (sigmoid output) or "softmax_ce"
    optimizer: str  # "sgd" or "adam"
    learning_rate: float
    momentum: float
    batch_size: int
    samples: int  # size of the data set
    epochs_per_chunk: int  # whole-epoch chunks when > 0 ...
    steps_per_chunk: int  # ... else one pass over a slice of this many batches

    @property
    def chunk_samples(self) -> int:
        if self.epochs_per_chunk:
            return self.epochs_per_chunk * self.samples
        return self.steps_per_chunk * self.batch_size

    def chunk(self, k: int) -> tuple[int, int, int]:
        """``(start, stop, epochs)``: chunk k trains that slice for that many epochs."""
        if self.epochs_per_chunk:
            return 0, self.samples, self.epochs_per_chunk
        size = self.chunk_samples
        start = (k % (self.samples // size)) * size
        return start, start + size, 1


def make_workloads(quick: bool) -> list[Workload]:
    return [
        Workload("tiny", [2, 2, 1], "sigmoid", "mse", "sgd", 0.1, 0.0, 1, 4,
                 100 if quick else 400, 0),
        Workload("small", [64, 128, 64, 10], "relu", "softmax_ce", "sgd", 0.01, 0.9,
                 32, 1797, 1 if quick else 3, 0),
        Workload("medium", [784, 256, 128, 10], "relu", "softmax_ce", "adam", 1e-3,
                 0.0, 128, 2048 if quick else 60_000, 0, 4 if quick else 100),
        Workload("wide", [784, 1024, 1024, 10], "relu", "softmax_ce", "adam", 1e-3,
                 0.0, 256, 1024 if quick else 20_000, 0, 2 if quick else 10),
    ]  # fmt: skip


# -- data ----------------------------------------------------------------------------
def mnist_like(n: int, seed: int = SEED) -> tuple[Any, Any]:
    """``n`` synthetic 28x28 images of ten classes, float32 in [0, 1], and labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    t = np.linspace(0, 1, 24, dtype=np.float32)[:, None, None]
    styles = np.zeros((30, 28, 28), np.float32)  # three stroke styles per class
    for style in styles:
        for _ in range(3):
            x0, y0, x1, y1 = rng.uniform(7, 21, 4)
            d2 = ((xx - x0 - (x1 - x0) * t) ** 2 + (yy - y0 - (y1 - y0) * t) ** 2).min(
                0
            )
            np.maximum(style, np.exp(-d2 / 2.0), out=style)
    padded = np.pad(styles, ((0, 0), (2, 2), (2, 2)))
    labels = rng.integers(0, 10, n)
    style_of = labels * 3 + rng.integers(0, 3, n)
    shift = rng.integers(0, 5, (n, 2))
    x = np.empty((n, 784), np.float32)
    for start in range(0, n, 5000):  # in blocks: no full-size temporaries
        stop = min(n, start + 5000)
        images = np.empty((stop - start, 28, 28), np.float32)
        for dy in range(5):
            for dx in range(5):
                rows = np.flatnonzero((shift[start:stop] == (dy, dx)).all(axis=1))
                images[rows] = padded[
                    style_of[start + rows], dy : dy + 28, dx : dx + 28
                ]
        images *= rng.uniform(0.5, 1.0, (stop - start, 1, 1)).astype(np.float32)
        images += rng.standard_normal(images.shape, dtype=np.float32) * 0.3
        np.clip(images, 0.0, 1.0, out=images)
        x[start:stop] = images.reshape(stop - start, 784)
    return x, labels.astype(np.int64)


def make_data(w: Workload) -> tuple[Any, Any]:
    """float32 ``x``; float32 (n, 1) targets for mse, int64 labels otherwise."""
    import numpy as np

    if w.name == "tiny":
        x = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float32)
        return x, np.array([[1], [0], [0], [1]], dtype=np.float32)
    if w.name == "small":
        from sklearn.datasets import load_digits

        digits = load_digits()
        return (digits.data / 16).astype(np.float32), digits.target.astype(np.int64)
    return mnist_like(w.samples)


def build_glassnet(w: Workload) -> Any:
    from glassnet.initializers import RandomNormal
    from glassnet.layers import Dense
    from glassnet.models import Sequential
    from glassnet.optimizers import SGD, Adam

    model = Sequential(seed=SEED, dtype="float32")
    for i, units in enumerate(w.units[1:]):
        last = i == len(w.units) - 2
        output = "sigmoid" if w.loss == "mse" else "softmax"
        if w.hidden == "sigmoid":  # seeds/000 draws every weight and bias from N(0, 1)
            init: dict[str, Any] = {
                "kernel_initializer": RandomNormal(stddev=1.0),
                "bias_initializer": RandomNormal(stddev=1.0),
            }
        else:
            init = {"kernel_initializer": "he_uniform"}
        first = {"input_dim": w.units[0]} if i == 0 else {}
        model.add(
            Dense(units, activation=output if last else w.hidden, **init, **first)
        )
    if w.optimizer == "sgd":
        optimizer: Any = SGD(learning_rate=w.learning_rate, momentum=w.momentum)
    else:
        optimizer = Adam(learning_rate=w.learning_rate, epsilon=1e-7)
    loss = "mse" if w.loss == "mse" else "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizer, loss=loss)
    return model


# -- peers: each runs in its own process ------------------------------------------------
class Peer:
    """What the driver asks of every trainer: a chunk of training and a final report."""

    def train(self, x: Any, y: Any, epochs: int) -> None:
        raise NotImplementedError

    def sync(self) -> None:
        """Wait for work still queued (JAX dispatches asynchronously)."""

    def arrays(self) -> list[Any]:  # weights, gradients, optimizer state (dtype check)
        return []

    def predictions(self, x: Any) -> Any:  # model outputs (probabilities), float
        raise NotImplementedError

    def latency_call(self, x: Any) -> Any:  # one predict call, for latency
        raise NotImplementedError


class GlassnetPeer(Peer):
    def __init__(self, w: Workload, weights: list[Any]) -> None:
        self.w, self.model = w, build_glassnet(w)
        self.model.set_weights(weights)

    def train(self, x: Any, y: Any, epochs: int) -> None:
        self.model.fit(x, y, batch_size=self.w.batch_size, epochs=epochs, verbose=0)

    def arrays(self) -> list[Any]:
        state = self.model.optimizer.state.values()
        triples = self.model.parameter_triples()
        return [a for _, p, g in triples for a in (p, g)] + [
            a for slots in state for a in slots.values()
        ]

    def predictions(self, x: Any) -> Any:
        return self.model.predict(x, batch_size=1024, verbose=0)

    def latency_call(self, x: Any) -> Any:
        if len(x) == 1:
            return self.model.predict(x, verbose=0)
        return self.model.predict(x, batch_size=len(x), verbose=0)


class TorchPeer(Peer):
    def __init__(self, w: Workload, weights: list[Any], fused: bool) -> None:
        import torch
        from torch import nn

        self.torch, self.w = torch, w
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(w.units, w.units[1:], strict=False)):
            linear = nn.Linear(n_in, n_out)
            with torch.no_grad():  # nn.Linear stores W transposed
                linear.weight.copy_(torch.from_numpy(weights[2 * i].T.copy()))
                linear.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
            layers.append(linear)
            if i < len(w.units) - 2:
                layers.append(nn.Sigmoid() if w.hidden == "sigmoid" else nn.ReLU())
        if w.loss == "mse":
            layers.append(nn.Sigmoid())
            self.loss_fn: nn.Module = nn.MSELoss()
        else:
            self.loss_fn = nn.CrossEntropyLoss()  # takes logits: softmax fused in
        self.net = nn.Sequential(*layers)
        params = self.net.parameters()
        if w.optimizer == "sgd":
            self.opt: Any = torch.optim.SGD(
                params, lr=w.learning_rate, momentum=w.momentum, fused=fused
            )
        else:
            self.opt = torch.optim.Adam(
                params, lr=w.learning_rate, eps=1e-7, fused=fused
            )

    def train(self, x: Any, y: Any, epochs: int) -> None:
        torch, net, opt, loss_fn = self.torch, self.net, self.opt, self.loss_fn
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        n, batch_size = len(x), self.w.batch_size
        for _ in range(epochs):
            perm = torch.randperm(n)
            xs, ys = x[perm], y[perm]
            for start in range(0, n, batch_size):
                xb, yb = xs[start : start + batch_size], ys[start : start + batch_size]
                opt.zero_grad()
                loss = loss_fn(net(xb), yb)
                loss.backward()
                opt.step()

    def arrays(self) -> list[Any]:
        params = list(self.net.parameters())
        state = [
            v
            for s in self.opt.state.values()
            for v in s.values()
            if v.dim() > 0  # Adam's step counter is a float32 scalar tensor
        ]
        return params + [p.grad for p in params if p.grad is not None] + state

    def predictions(self, x: Any) -> Any:
        return self.latency_call(x)

    def latency_call(self, x: Any) -> Any:
        torch = self.torch
        with torch.inference_mode():
            out = self.net(torch.from_numpy(x))
            if self.w.loss != "mse":
                out = torch.softmax(out, dim=1)
            return out.numpy()


class SklearnPeer(Peer):
    def __init__(self, w: Workload, weights: list[Any], x: Any, y: Any) -> None:
        import numpy as np
        from sklearn.neural_network import MLPClassifier

        self.w = w
        self.clf = MLPClassifier(
            hidden_layer_sizes=tuple(w.units[1:-1]),
            activation="logistic" if w.hidden == "sigmoid" else "relu",
            solver=w.optimizer,
            alpha=0.0,
            batch_size=w.batch_size,
            learning_rate_init=w.learning_rate,
            momentum=w.momentum,
            nesterovs_momentum=False,
            epsilon=1e-7,
            shuffle=True,
            random_state=SEED,
            n_iter_no_change=1 << 30,  # never stop early: train every epoch asked
            tol=0.0,
        )
        labels = self._labels(y)
        self.clf.partial_fit(
            x[: w.batch_size], labels[: w.batch_size], classes=np.unique(labels)
        )
        # Start from the shared weights, with fresh optimizer state.
        for i, coef in enumerate(self.clf.coefs_):
            coef[...] = weights[2 * i]
            self.clf.intercepts_[i][...] = weights[2 * i + 1]
        del self.clf._optimizer
        # fit continues from these weights (and needs every class in each y)
        self.clf.set_params(warm_start=True)

    @staticmethod
    def _labels(y: Any) -> Any:
        return y.ravel().astype("int64")

    def train(self, x: Any, y: Any, epochs: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter "not converged" warnings
            if self.w.epochs_per_chunk:
                self.clf.set_params(max_iter=epochs)
                self.clf.fit(x, self._labels(y))
            else:
                self.clf.partial_fit(x, self._labels(y))

    def arrays(self) -> list[Any]:
        return list(self.clf.coefs_) + list(self.clf.intercepts_)

    def predictions(self, x: Any) -> Any:
        proba = self.clf.predict_proba(x)
        return proba[:, 1:] if self.w.loss == "mse" else proba


class NumpyPeer(Peer):
    """A plain NumPy network: forward, backward and the update written out, no tricks."""

    def __init__(self, w: Workload, weights: list[Any]) -> None:
        import numpy as np

        self.np, self.w = np, w
        self.params = [p.copy() for p in weights]
        self.state = [[np.zeros_like(p), np.zeros_like(p)] for p in self.params]
        self.t = 0
        self.rng = np.random.default_rng(SEED)

    def forward(self, x: Any) -> list[Any]:
        np, w, params = self.np, self.w, self.params
        outs = [x]
        n_layers = len(params) // 2
        for i in range(n_layers):
            z = outs[-1] @ params[2 * i] + params[2 * i + 1]
            if i < n_layers - 1 and w.hidden == "relu":
                outs.append(np.maximum(z, 0))
            elif i < n_layers - 1 or w.loss == "mse":
                outs.append(1 / (1 + np.exp(-z)))
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                outs.append(e / e.sum(axis=1, keepdims=True))
        return outs

    def step(self, x: Any, y: Any) -> None:
        np, w, params = self.np, self.w, self.params
        outs = self.forward(x)
        p = outs[-1]
        if w.loss == "mse":
            grad = 2 * (p - y) / p.size * p * (1 - p)  # through the output sigmoid
        else:
            grad = p.copy()
            grad[np.arange(len(y)), y] -= 1  # softmax + cross-entropy: p - onehot
            grad /= len(y)
        self.t += 1
        b1, b2, lr = 0.9, 0.999, w.learning_rate
        lr_t = lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for i in reversed(range(len(params) // 2)):
            h = outs[i]
            grads = [h.T @ grad, grad.sum(axis=0)]
            if i > 0:
                grad = grad @ params[2 * i].T
                grad = grad * h * (1 - h) if w.hidden == "sigmoid" else grad * (h > 0)
            for j, g in zip((2 * i, 2 * i + 1), grads, strict=True):
                m, v = self.state[j]
                if w.optimizer == "adam":
                    m[...] = b1 * m + (1 - b1) * g
                    v[...] = b2 * v + (1 - b2) * g * g
                    params[j] -= lr_t * m / (np.sqrt(v) + 1e-7)
                elif w.momentum:
                    m[...] = w.momentum * m - lr * g
                    params[j] += m
                else:
                    params[j] -= lr * g

    def train(self, x: Any, y: Any, epochs: int) -> None:
        n, batch_size = len(x), self.w.batch_size
        for _ in range(epochs):
            order = self.rng.permutation(n)
            xs, ys = x[order], y[order]
            for start in range(0, n, batch_size):
                self.step(
                    xs[start : start + batch_size], ys[start : start + batch_size]
                )

    def arrays(self) -> list[Any]:
        return self.params + [a for pair in self.state for a in pair]

    def predictions(self, x: Any) -> Any:
        return self.forward(x)[-1]

    def latency_call(self, x: Any) -> Any:
        return self.forward(x)[-1]


class FloorPeer(Peer):
    """The step's matrix multiplies alone, into preallocated outputs."""

    def __init__(self, w: Workload, x: Any) -> None:
        import numpy as np

        self.np, self.w = np, w
        rng = np.random.default_rng(SEED)
        f32 = np.float32
        self.weights = [
            rng.uniform(-0.1, 0.1, (a, b)).astype(f32)
            for a, b in zip(w.units, w.units[1:], strict=False)
        ]
        self.buffers: dict[int, tuple[list[Any], ...]] = {}
        self.x = x

    def _buffers(self, n: int) -> tuple[list[Any], ...]:
        np, units = self.np, self.w.units
        if n not in self.buffers:
            rng = np.random.default_rng(n)
            h = [np.ascontiguousarray(self.x[:n])]
            h += [np.empty((n, u), np.float32) for u in units[1:]]
            dz = [rng.uniform(-1, 1, (n, u)).astype(np.float32) for u in units[1:]]
            dh = [np.empty((n, u), np.float32) for u in units[1:-1]]
            dw = [np.empty_like(weight) for weight in self.weights]
            self.buffers[n] = (h, dz, dh, dw)
        return self.buffers[n]

    def train(self, x: Any, y: Any, epochs: int) -> None:
        matmul, weights = self.np.matmul, self.weights
        n, batch_size = len(x), self.w.batch_size
        sizes = [min(batch_size, n - s) for s in range(0, n, batch_size)] * epochs
        for size in sizes:
            h, dz, dh, dw = self._buffers(size)
            for i, weight in enumerate(weights):
                matmul(h[i], weight, out=h[i + 1])
            for i in reversed(range(len(weights))):
                matmul(h[i].T, dz[i], out=dw[i])
                if i > 0:
                    matmul(dz[i], weights[i].T, out=dh[i - 1])


# -- worker process ----------------------------------------------------------------------
def memory_kb(field: str) -> int:
    """A field of /proc/self/status in kB (VmHWM, VmRSS), 0 where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_memory() -> None:
    """Make VmHWM start again from the current resident size (Linux >= 4.0)."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def limit_threads(threads: int, torch: bool) -> None:
    # The parent set OMP/OPENBLAS/MKL_NUM_THREADS before this process imported
    # anything; threadpoolctl and set_num_threads make sure of it, once.
    import threadpoolctl

    threadpoolctl.threadpool_limits(threads)
    if torch:
        import torch as torch_module

        torch_module.set_num_threads(threads)


def make_peer(name: str, w: Workload, data: dict[str, Any]) -> Peer:
    weights = [data[f"w{i}"] for i in range(2 * (len(w.units) - 1))]
    if name in JAX_PEERS:
        import dense_jax

        cls = dense_jax.JaxPeer if name == "jax" else dense_jax.KerasPeer
        return cls(w, weights)
    if name in ("glassnet", "glassnet_numpy"):  # the latter: GLASSNET_FUSED=0
        return GlassnetPeer(w, weights)
    if name in ("torch", "torch_fused"):
        return TorchPeer(w, weights, fused=name == "torch_fused")
    if name == "sklearn":
        return SklearnPeer(w, weights, data["x"], data["y"])
    if name == "numpy":
        return NumpyPeer(w, weights)
    return FloorPeer(w, data["x"])


def run_worker(name: str, threads: int, path: str) -> None:
    """Serve the driver's commands, one JSON line in, one JSON line out."""
    import numpy as np

    limit_threads(threads, torch=name.startswith("torch"))
    if name in JAX_PEERS:  # dense_jax imports this script: one module, not two
        sys.modules.setdefault("bench_train", sys.modules[__name__])
    with np.load(path) as npz:
        data = {key: npz[key] for key in npz.files}
    w = Workload(**json.loads(str(data.pop("workload"))))
    x, y = data["x"], data["y"]
    reset_peak_memory()
    baseline_kb = memory_kb("VmRSS")
    peer = make_peer(name, w, data)
    for line in sys.stdin:
        command = json.loads(line)
        reply: dict[str, Any] = {}
        if command["op"] == "train":
            start, stop, epochs = w.chunk(command["chunk"])
            xs, ys = x[start:stop], y[start:stop]
            with np.errstate(over="ignore"):  # the plain sigmoid may overflow
                began, cpu = time.perf_counter(), time.process_time()
                peer.train(xs, ys, epochs)
                peer.sync()
                reply["seconds"] = time.perf_counter() - began
                reply["cpu_seconds"] = time.process_time() - cpu
        elif command["op"] == "first_step":
            # the first batch, unshuffled: the loss before and after one step on it
            xb, yb = x[: w.batch_size], y[: w.batch_size]
            with np.errstate(over="ignore"):
                reply["before"] = quality(w, peer.predictions(xb), yb)["loss"]
                peer.train(xb, yb, 1)
                peer.sync()
                reply["after"] = quality(w, peer.predictions(xb), yb)["loss"]
        elif command["op"] == "dtypes":
            reply["dtypes"] = sorted(
                {str(a.dtype).removeprefix("torch.") for a in peer.arrays()}
            )
        elif command["op"] == "latency":
            batch = np.ascontiguousarray(x[: command["samples"]])
            calls = command["calls"]
            for _ in range(3):
                peer.latency_call(batch)
            # The fastest of a few bursts: one call takes microseconds, so a single
            # interruption (another process, a page fault) would swamp a burst.
            bursts = []
            for _ in range(LATENCY_BURSTS):
                began = time.perf_counter()
                for _ in range(calls):
                    peer.latency_call(batch)
                bursts.append((time.perf_counter() - began) / calls)
            reply["seconds"] = min(bursts)
        elif command["op"] == "report":
            reply = {
                "peak_rss_mb": memory_kb("VmHWM") / 1024,
                "start_rss_mb": baseline_kb / 1024,
                "blas": driver.blas_kernels(),
            }
            if name != "floor":
                reply.update(quality(w, peer.predictions(x), y))
        print(json.dumps(reply), flush=True)


def quality(w: Workload, p: Any, y: Any) -> dict[str, float]:
    """Training loss (as the workload defines it) and accuracy over all samples."""
    import numpy as np

    p = np.asarray(p, dtype=np.float64)
    if w.loss == "mse":
        return {
            "loss": float(np.mean((p - y) ** 2)),
            "accuracy": float(np.mean((p > 0.5) == (y > 0.5))),
        }
    picked = np.clip(p[np.arange(len(y)), y], 1e-12, None)
    return {
        "loss": float(-np.mean(np.log(picked))),
        "accuracy": float(np.mean(p.argmax(axis=1) == y)),
    }


# -- driver ------------------------------------------------------------------------------
def busy_share(seconds: float) -> float:
    """Share of all CPUs' time that anything spent busy over the next ``seconds``."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
        return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # minus idle and iowait

    try:
        busy, total = sample()
        time.sleep(seconds)
        busy_after, total_after = sample()
    except (OSError, ValueError, IndexError):  # no /proc/stat: assume quiet
        return 0.0
    return (busy_after - busy) / max(1, total_after - total)


class QuietGate:
    """Before each timed command, wait until the machine looks idle; say if it did.

    Two waits. With several threads, first ``SETTLE`` seconds: after its last call a
    BLAS library keeps its idle threads spinning for a while (OpenBLAS about 0.1 s),
    and a process that starts while another's threads spin runs at half speed or
    less on two cores. Then, since the machine is shared, it watches every CPU for
    ``WINDOW`` seconds and, while something else keeps them busy, waits on (at most
    ``BUDGET`` seconds in all per workload, so a busy machine still finishes).
    """

    def __init__(self, threads: int, budget: float = BUDGET) -> None:
        self.settle = SETTLE if threads > 1 else 0.0
        self.budget = budget

    def wait(self) -> bool:
        time.sleep(self.settle)
        while True:
            quiet = busy_share(WINDOW) <= QUIET
            if quiet or self.budget <= 0:
                return quiet
            self.budget -= WINDOW


class Worker:
    """A peer's process, driven through its stdin and stdout."""

    def __init__(
        self,
        name: str,
        threads: int,
        path: str,
        gate: QuietGate,
        script: str = __file__,
        env: dict[str, str] | None = None,
    ) -> None:
        """``script --worker name`` in ``env`` (default: this process's)."""
        env = dict(os.environ if env is None else env)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        command = [sys.executable, os.path.abspath(script), "--worker", name]
        command += ["--threads", str(threads), "--data", path]
        self.name, self.gate = name, gate
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        """Send one command and return the reply; timed ones go through the gate."""
        assert self.process.stdin is not None and self.process.stdout is not None
        quiet = self.gate.wait() if command["op"] in ("train", "latency") else True
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            raise SystemExit(
                f"benchmark worker {self.name!r} exited ({code}); see stderr"
            )
        reply: dict[str, Any] = json.loads(line)
        reply["quiet"] = quiet
        return reply

    def close(self) -> None:
        with contextlib.suppress(OSError):  # a worker that died has closed its end
            assert self.process.stdin is not None
            self.process.stdin.close()  # end of input: the worker returns
        self.process.wait(timeout=60)


def save_workload(w: Workload, folder: str) -> str:
    """Make the data and glassnet's initial weights once; every worker loads them."""
    import numpy as np

    x, y = make_data(w)
    weights = build_glassnet(w).get_weights()
    path = os.path.join(folder, f"{w.name}.npz")
    arrays = {f"w{i}": weight for i, weight in enumerate(weights)}
    np.savez(path, x=x, y=y, workload=json.dumps(asdict(w)), **arrays)
    return path


def summarize(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def interleave(
    workers: dict[str, Worker], names: tuple[str, ...], rounds: int, **command: Any
) -> tuple[dict[str, list[float]], list[bool]]:
    """Each round, every peer runs ``command`` once, the first peer rotating.

    Returns each peer's seconds per round, and for each round whether every peer
    started it on a quiet machine.
    """
    seconds: dict[str, list[float]] = {name: [] for name in names}
    quiet = []
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        replies = {name: workers[name].ask(chunk=r + 1, **command) for name in order}
        for name in names:
            seconds[name].append(replies[name]["seconds"])
        quiet.append(all(reply["quiet"] for reply in replies.values()))
    return seconds, quiet


def clean(values: list[float], quiet: list[bool]) -> list[float]:
    """The values of the quiet rounds, if there are at least five; else all of them."""
    kept = [v for v, q in zip(values, quiet, strict=True) if q]
    return kept if len(kept) >= 5 else values


class PeerWorker(Worker):
    """A worker of ``script`` (this one by default; bench_conv and bench_rnn pass
    theirs) in its peer's environment (driver.worker_env), keeping its training
    replies (for the CPU-seconds per wall-second)."""

    def __init__(
        self, name: str, threads: int, path: str, gate: QuietGate, script: str = __file__
    ) -> None:
        env = driver.worker_env(name, threads)
        super().__init__(name, threads, path, gate, script=script, env=env)
        self.trained: list[dict[str, Any]] = []

    def ask(self, **command: Any) -> dict[str, Any]:
        reply = super().ask(**command)
        if command["op"] == "train":
            self.trained.append(reply)
        return reply


def run_workload(
    w: Workload,
    threads: int,
    rounds: int,
    path: str,
    wait: bool = True,
    peers: tuple[str, ...] = PEERS,
) -> dict[str, Any]:
    gate = QuietGate(threads, BUDGET if wait else 0.0)
    workers = {name: PeerWorker(name, threads, path, gate) for name in peers}
    trainers = tuple(name for name in peers if name != "floor")
    latency_peers = tuple(name for name in LATENCY_PEERS if name in peers)
    try:
        # Every peer's first step on the same batch (sklearn's tiny network trains
        # log-loss, not MSE: it is left out there).
        checked = [n for n in trainers if not (n == "sklearn" and w.loss == "mse")]
        first = {name: workers[name].ask(op="first_step") for name in checked}
        tolerance = FIRST_STEP_TOLERANCE[w.optimizer]
        driver.check_first_step(w.name, threads, first, tolerance)
        for name, worker in workers.items():  # warm-up: caches, lazy init, allocators
            worker.ask(op="train", chunk=0)
            if name != "floor":
                dtypes = worker.ask(op="dtypes")["dtypes"]
                if dtypes != ["float32"]:
                    raise SystemExit(f"{name} trains {w.name} in {dtypes}, not float32")
            worker.trained.clear()
        seconds, quiet = interleave(workers, peers, rounds, op="train")
        latency = (
            measure_latency(workers, max(5, rounds // 2), min(1024, w.samples))
            if len(latency_peers) == len(LATENCY_PEERS)
            else {}
        )
        reports = {name: workers[name].ask(op="report") for name in peers}
    finally:
        for worker in workers.values():
            worker.close()
    rates = {name: [w.chunk_samples / s for s in seconds[name]] for name in peers}
    # samples per CPU-second (every thread of the process): at one thread, what a
    # peer computes per second of CPU it got, which other programs on a shared
    # machine disturb less than wall time (with more threads it counts spinning)
    cpu_rates = {
        name: [w.chunk_samples / r["cpu_seconds"] for r in worker.trained]
        for name, worker in workers.items()
    }

    def ratios(a: str, b: str, by: dict[str, list[float]] = rates) -> dict[str, float]:
        per_round = [x / y for x, y in zip(by[a], by[b], strict=True)]
        return summarize(clean(per_round, quiet))

    others = [name for name in trainers if name != "glassnet"]
    return {
        "workload": w.name,
        "threads": threads,
        "batch_size": w.batch_size,
        "samples_per_chunk": w.chunk_samples,
        "rounds": rounds,
        "quiet_rounds": sum(quiet),
        "first_step": first,
        "samples_per_s": {
            name: statistics.median(clean(v, quiet)) for name, v in rates.items()
        },
        "rounds_samples_per_s": rates,
        "rounds_quiet": quiet,
        "ratio_vs_torch": {
            name: ratios(name, "torch") for name in trainers if name != "torch"
        },
        "glassnet_vs": {name: ratios("glassnet", name) for name in others},
        "glassnet_vs_by_cpu": {
            name: ratios("glassnet", name, cpu_rates)
            for name in (*others, "floor")
            if name in peers
        },
        "share_of_floor": {
            name: ratios(name, "floor")
            for name in TRAINERS
            if name in peers and "floor" in peers
        },
        "cpu_per_wall": {
            name: statistics.median(
                clean([r["cpu_seconds"] / r["seconds"] for r in worker.trained], quiet)
            )
            for name, worker in workers.items()
        },
        "latency": latency,
        "memory_mb": {name: reports[name]["peak_rss_mb"] for name in peers},
        "start_memory_mb": {name: reports[name]["start_rss_mb"] for name in peers},
        "accuracy": {name: reports[name]["accuracy"] for name in trainers},
        "final_loss": {name: reports[name]["loss"] for name in trainers},
        "blas": {name: reports[name]["blas"] for name in peers},
    }


def measure_latency(
    workers: dict[str, Worker], rounds: int, many: int
) -> dict[str, Any]:
    """predict on 1 and ``many`` samples, interleaved; ratios to the NumPy forward."""
    result: dict[str, Any] = {}
    for samples, calls in ((1, 100), (many, 3)):
        seconds, quiet = interleave(
            workers, LATENCY_PEERS, rounds, op="latency", samples=samples, calls=calls
        )
        result[str(samples)] = {
            "seconds": {
                name: statistics.median(clean(v, quiet)) for name, v in seconds.items()
            },
            "vs_numpy": {
                name: summarize(
                    clean(
                        [
                            a / b
                            for a, b in zip(
                                seconds[name], seconds["numpy"], strict=True
                            )
                        ],
                        quiet,
                    )
                )
                for name in ("glassnet", "torch")
            },
        }
    return result


def import_times(runs: int = 7) -> dict[str, float]:
    """Median seconds of imports in fresh interpreters (startup itself not counted)."""
    snippets = {
        "import glassnet": "import glassnet",
        "glassnet, ready to train": "import glassnet\n"
        "from glassnet.models import Sequential\nfrom glassnet.layers import Dense",
        "import numpy": "import numpy",
        "import torch": "import torch",
    }
    result = {}
    for label, code in snippets.items():
        program = (
            "import time\nt = time.perf_counter()\n"
            + code
            + "\nprint(time.perf_counter() - t)"
        )
        times = []
        for _ in range(runs if "torch" not in label else min(runs, 3)):
            done = subprocess.run(
                [sys.executable, "-c", program],
                capture_output=True,
                text=True,
                check=True,
            )
            times.append(float(done.stdout))
        result[label] = statistics.median(times)
    return result


# -- report ------------------------------------------------------------------------------
def ratio_text(r: dict[str, float]) -> str:
    return f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"


def label(name: str) -> str:
    return LABEL.get(name, name)


def row0_cpu(rows: list[dict[str, Any]]) -> list[str]:
    """The peers of the by-CPU-time table."""
    return list(rows[0]["glassnet_vs_by_cpu"])


def format_tables(rows: list[dict[str, Any]], imports: dict[str, float]) -> str:
    peers = list(rows[0]["samples_per_s"])
    others = list(rows[0]["glassnet_vs"])
    floor = "floor" in peers
    lines = [
        "Training speed: median over rounds of each round's ratio (min-max in "
        "brackets); > 1x means glassnet is faster",
        "",
        "| workload | threads | glassnet samples/s | "
        + " | ".join(f"glassnet / {label(name)}" for name in others)
        + (" | glassnet / matmul floor" if floor else "")
        + " | quiet rounds |",
        "|---|---|---|" + "---|" * (len(others) + floor) + "---|",
    ]
    for row in rows:
        cells = [
            row["workload"],
            str(row["threads"]),
            f"{row['samples_per_s']['glassnet']:,.0f}",
            *(ratio_text(row["glassnet_vs"][name]) for name in others),
            *([f"{row['share_of_floor']['glassnet']['median']:.0%}"] if floor else []),
            f"{row['quiet_rounds']} of {row['rounds']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "The same ratios by CPU time (samples per CPU-second of each process, all "
        "its threads): at one thread, what each peer computes per second of CPU it "
        "got, less disturbed by other programs than wall time",
        "",
        "| workload | threads | "
        + " | ".join(f"glassnet / {label(name)}" for name in row0_cpu(rows))
        + " |",
        "|---|---|" + "---|" * len(row0_cpu(rows)),
    ]
    for row in rows:
        by_cpu = row["glassnet_vs_by_cpu"]
        lines.append(
            f"| {row['workload']} | {row['threads']} | "
            + " | ".join(ratio_text(by_cpu[name]) for name in row0_cpu(rows))
            + " |"
        )
    lines += [
        "",
        "Every peer: samples/s (median), speed relative to PyTorch's default, "
        "CPU-seconds per wall-second of its chunks (all its threads), peak memory of "
        "its process (MB), and its final training loss and accuracy",
        "",
        "| workload | threads | peer | samples/s | / torch | CPU/wall | peak MB "
        "| loss | accuracy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for name in peers:
            vs = row["ratio_vs_torch"].get(name)
            trained = name in row["final_loss"]
            lines.append(
                f"| {row['workload']} | {row['threads']} | {label(name)} | "
                f"{row['samples_per_s'][name]:,.0f} | "
                f"{ratio_text(vs) if vs else '-'} | {row['cpu_per_wall'][name]:.2f} | "
                f"{row['memory_mb'][name]:,.0f} | "
                + (
                    f"{row['final_loss'][name]:.4f} | {row['accuracy'][name]:.1%} |"
                    if trained
                    else "- | - |"
                )
            )
    checked = [n for n in peers if any(n in row["first_step"] for row in rows)]
    lines += [
        "",
        "First step on the same batch: the loss before and after it (each peer; "
        "checked against glassnet's)",
        "",
        "| workload | threads | " + " | ".join(label(name) for name in checked) + " |",
        "|---|---|" + "---|" * len(checked),
    ]
    for row in rows:
        first = row["first_step"]
        cells = [
            f"{first[n]['before']:.6f} -> {first[n]['after']:.6f}"
            if n in first
            else "-"
            for n in checked
        ]
        lines.append(
            f"| {row['workload']} | {row['threads']} | " + " | ".join(cells) + " |"
        )
    if any(row["latency"] for row in rows):
        lines += [
            "",
            "predict latency in microseconds (medians) and the median per-round "
            "ratio to a hand-written NumPy forward pass",
            "",
            "| workload | threads | samples | glassnet | numpy forward | torch "
            "| glassnet / numpy | torch / numpy |",
            "|---|---|---|---|---|---|---|---|",
        ]
    for row in rows:
        for samples, lat in row["latency"].items():
            s, vs = lat["seconds"], lat["vs_numpy"]
            lines.append(
                f"| {row['workload']} | {row['threads']} | {samples} | "
                f"{s['glassnet'] * 1e6:,.1f} | {s['numpy'] * 1e6:,.1f} | "
                f"{s['torch'] * 1e6:,.1f} | {ratio_text(vs['glassnet'])} | "
                f"{ratio_text(vs['torch'])} |"
            )
    if imports:
        lines += ["", "Import time, fresh interpreter, median (seconds): " + ", ".join(
            f"{label} {seconds:.3f}" for label, seconds in imports.items()
        )]  # fmt: skip
    return "\n".join(lines)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions(peers: tuple[str, ...]) -> dict[str, str]:
    """Library versions; torch, JAX and Keras read in a peer's own environment."""
    import numpy
    import sklearn

    v = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "sklearn": sklearn.__version__,
    }
    if importlib.util.find_spec("numba") is not None:  # glassnet's fused updates
        v["numba"] = importlib.metadata.version("numba")
    for key, module in (("torch", "torch"), ("jax", "jax"), ("keras", "keras")):
        if any(name.startswith(key) for name in peers):
            done = subprocess.run(
                [sys.executable, "-c", f"import {module}; print({module}.__version__)"],
                capture_output=True, text=True, check=True,
                env=driver.worker_env(key, 1),
            )  # fmt: skip
            v[key] = done.stdout.strip()
    return v


def machine_line(v: dict[str, str], rows: list[dict[str, Any]]) -> str:
    """The CPU, the libraries, and the BLAS kernels the workers reported.

    OPENBLAS_CORETYPE overrides OpenBLAS's choice of kernels for the CPU, which can
    halve or double the speed of every matrix multiply: the workers run without it
    (driver.worker_env), and the line says when the driver's environment had it.
    """
    blas = sorted(
        {b for row in rows for kernels in row["blas"].values() for b in kernels}
    )
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return (
        f"{cpu_name()}, {os.cpu_count()} CPUs, Python {v['python']}, NumPy "
        f"{v['numpy']}; BLAS in the workers (threadpoolctl): "
        f"{', '.join(blas) or 'none reported'}"
        + (
            f" (OPENBLAS_CORETYPE={forced} here, unset in the workers)"
            if forced
            else ""
        )
        + "; "
        + ", ".join(
            f"{k} {v[k]}"
            for k in ("numba", "torch", "jax", "keras", "sklearn")
            if k in v
        )
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds (default 12; 1 quick)"
    )
    parser.add_argument(
        "--threads", default="1,2", help="comma-separated thread counts (default 1,2)"
    )
    parser.add_argument(
        "--workloads",
        default="tiny,small,medium,wide",
        help="comma-separated subset of tiny,small,medium,wide",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small data, short chunks"
    )
    parser.add_argument(
        "--peers",
        default=None,
        help=f"a subset of {','.join(ALL_PEERS)} with glassnet and torch among them "
        "(default: all; jax and keras when JAX, optax and Keras are installed)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    check_common_args(parser, args, [w.name for w in make_workloads(quick=True)])
    if args.peers is None:
        jax = driver.jax_peers_available()
        args.peer_names = tuple(n for n in ALL_PEERS if jax or n not in JAX_PEERS)
    else:
        chosen = args.peers.split(",")
        if not set(chosen) <= set(ALL_PEERS) or not {"glassnet", "torch"} <= set(
            chosen
        ):
            parser.error(
                f"--peers takes names from {','.join(ALL_PEERS)}, glassnet and torch "
                f"among them; received {args.peers!r}"
            )
        args.peer_names = tuple(name for name in ALL_PEERS if name in chosen)
    return args


def check_common_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace, known: list[str]
) -> None:
    """Check --rounds, --threads and --workloads (this script's and bench_conv's).

    Sets ``args.rounds`` (default 1 with --quick, else 12), ``args.thread_counts``
    and ``args.workload_names``; a bad value ends in ``parser.error``.
    """
    if args.rounds is None:
        args.rounds = 1 if args.quick else 12
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        args.thread_counts = [int(t) for t in args.threads.split(",")]
    except ValueError:
        parser.error(f"--threads must look like 1,2; received {args.threads!r}")
    if not args.thread_counts or min(args.thread_counts) < 1:
        parser.error("--threads needs positive thread counts")
    args.workload_names = args.workloads.split(",")
    if not set(args.workload_names) <= set(known) or not args.workload_names:
        parser.error(f"--workloads takes names from {','.join(known)}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker is not None:
        run_worker(args.worker, args.thread_counts[0], args.data)
        return
    started = time.perf_counter()
    chosen = [w for w in make_workloads(args.quick) if w.name in args.workload_names]
    rows = []
    with tempfile.TemporaryDirectory(prefix="glassnet-bench-") as folder:
        paths = {w.name: save_workload(w, folder) for w in chosen}
        for threads in args.thread_counts:
            for w in chosen:
                row = run_workload(
                    w, threads, args.rounds, paths[w.name], not args.quick,
                    args.peer_names,
                )  # fmt: skip
                rows.append(row)
    names = [w.name for w in chosen]
    rows.sort(key=lambda row: (names.index(row["workload"]), row["threads"]))
    imports = import_times(1 if args.quick else 7)
    v = versions(args.peer_names)
    print(
        "glassnet vs "
        + ", ".join(label(name) for name in args.peer_names if name != "glassnet")
        + f", float32, median of {args.rounds} alternating rounds"
    )
    print(machine_line(v, rows) + "\n")
    print(format_tables(rows, imports))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.json:
        report = {
            "machine": machine_line(v, rows),
            "peers": list(args.peer_names),
            "platform": platform.platform(),
            "versions": v,
            "rounds": args.rounds,
            "quick": args.quick,
            "import_seconds": imports,
            "results": rows,
        }
        Path(args.json).write_text(
            json.dumps(report, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
