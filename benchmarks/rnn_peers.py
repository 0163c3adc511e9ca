"""The peers of bench_rnn.py that run on NumPy (glassnet) or PyTorch.

Each peer trains one pass over the rows it is handed, in order, in batches of the
workload's size (the driver's order already holds the chunk's shuffled epochs);
``first_step`` takes one training step and returns the loss that step computed,
so the driver can check that every peer starts from the same network; and
``layer_call`` times the recurrent layer's forward and backward pass alone. The
JAX peers are in rnn_jax.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dense_peers
import numpy as np
from rnn_workloads import (
    SEED,
    RnnWorkload,
    build_glassnet,
    layer_input_shape,
    torch_weights,
)

Array = Any


class RnnPeer:
    """What the worker asks of every peer."""

    def prepare(self, x: Array) -> Array:
        """The inputs in this peer's dtype, made once, untimed."""
        return x

    def train(self, x: Array, y: Array) -> None:
        raise NotImplementedError

    def first_step(self, x: Array, y: Array) -> float:
        """One training step on one batch; the loss it computed before updating."""
        raise NotImplementedError

    def sync(self) -> None:
        """Wait for work still queued (JAX dispatches asynchronously)."""

    def arrays(self) -> list[Any]:
        return []

    def predictions(self, x: Array) -> Array:
        """Softmax probabilities, ``(N, classes)`` or ``(N, steps, classes)``."""
        raise NotImplementedError

    def layer_call(self) -> Callable[[], Any]:
        raise NotImplementedError(f"{type(self).__name__} times no single layer")


def layer_inputs(w: RnnWorkload) -> tuple[Array, Array]:
    """A batch of inputs and output gradients for the recurrent layer, seeded."""
    rng = np.random.default_rng([SEED, 2])
    x = rng.standard_normal(layer_input_shape(w), dtype=np.float32)
    out = (w.batch_size, w.steps, w.units) if w.per_step_targets else (
        w.batch_size, w.units
    )  # fmt: skip
    return x, rng.standard_normal(out, dtype=np.float32)


def recurrent_weights(w: RnnWorkload, weights: list[Array]) -> list[Array]:
    """The recurrent layer's kernel, recurrent kernel and bias."""
    first = 1 if w.per_step_targets else 0
    return weights[first : first + 3]


# -- glassnet ----------------------------------------------------------------------------
class GlassnetPeer(dense_peers.GlassnetPeer, RnnPeer):
    """``Sequential([Input, (Embedding,) LSTM or GRU, Dense])`` trained by ``fit``."""

    def __init__(self, w: RnnWorkload, weights: list[Array]) -> None:
        self.w, self.weights = w, weights
        self.model = build_glassnet(w)
        self.model.set_weights(weights)

    def train(self, x: Array, y: Array) -> None:
        self.model.fit(
            x, y, batch_size=self.w.batch_size, epochs=1, shuffle=False, verbose=0
        )

    def first_step(self, x: Array, y: Array) -> float:
        return float(self.model.train_on_batch(x, y))

    def predictions(self, x: Array) -> Array:
        return self.model.predict(x, batch_size=256, verbose=0)

    def layer_call(self) -> Callable[[], Any]:
        from glassnet.layers import GRU, LSTM

        w = self.w
        cls = LSTM if w.cell == "lstm" else GRU
        layer = cls(w.units, return_sequences=w.per_step_targets)
        layer.build((w.steps, w.features), np.random.default_rng(SEED), np.float32)
        for key, value in zip(
            layer.params, recurrent_weights(w, self.weights), strict=True
        ):
            layer.params[key][...] = value
        x, dy = layer_inputs(w)
        # the model's walk asks for dx only where a layer before needs it (R3's
        # Embedding), never for the first layer (R1, R2)
        input_grad = w.per_step_targets

        def call() -> Any:
            layer.forward(x, training=True)
            return layer.backward(dy, input_grad=input_grad)

        return call


# -- PyTorch ---------------------------------------------------------------------------
def torch_network(w: RnnWorkload, weights: list[Array]) -> Any:
    """``[nn.Embedding ->] nn.LSTM or nn.GRU (batch_first) -> nn.Linear`` holding
    ``weights`` (converted by rnn_workloads.torch_weights); returns logits."""
    import torch
    from torch import nn

    class Network(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if w.per_step_targets:
                self.embedding = nn.Embedding(w.vocab, w.features)
            cell = nn.LSTM if w.cell == "lstm" else nn.GRU
            self.rnn = cell(w.features, w.units, batch_first=True)
            self.linear = nn.Linear(w.units, w.classes)

        def forward(self, x: Any) -> Any:
            if w.per_step_targets:
                outputs, _ = self.rnn(self.embedding(x))
                return self.linear(outputs)  # (N, steps, classes)
            outputs, _ = self.rnn(x)
            return self.linear(outputs[:, -1])

    net = Network()
    state = {k: torch.from_numpy(v) for k, v in torch_weights(w, weights).items()}
    net.load_state_dict(state, strict=True)
    if w.cell == "lstm":  # Keras has one bias where torch adds two: keep b_hh at 0
        net.rnn.bias_hh_l0.requires_grad_(False)
    return net


class TorchPeer(RnnPeer):
    """PyTorch's modules as a user writes them, ``CrossEntropyLoss`` on the logits
    (over every step for R3) and ``optim.SGD`` with its default implementation;
    ``zero_grad(); backward(); step()`` per batch. Its float32 CPU ``nn.LSTM`` and
    ``nn.GRU`` run through oneDNN's RNN primitive when PyTorch was built with it."""

    def __init__(self, w: RnnWorkload, weights: list[Array]) -> None:
        import torch

        self.torch, self.w, self.weights = torch, w, weights
        self.net = torch_network(w, weights)
        self.params = [p for p in self.net.parameters() if p.requires_grad]
        self.opt = torch.optim.SGD(self.params, lr=w.learning_rate, momentum=w.momentum)
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def _step(self, x: Any, y: Any) -> Any:
        self.opt.zero_grad()
        logits = self.net(x)
        loss = self.loss_fn(logits.reshape(-1, self.w.classes), y.reshape(-1))
        loss.backward()
        self.opt.step()
        return loss

    def train(self, x: Array, y: Array) -> None:
        xs, ys = self.torch.from_numpy(x), self.torch.from_numpy(y)
        batch_size = self.w.batch_size
        for start in range(0, len(ys), batch_size):
            self._step(xs[start : start + batch_size], ys[start : start + batch_size])

    def first_step(self, x: Array, y: Array) -> float:
        loss = self._step(self.torch.from_numpy(x), self.torch.from_numpy(y))
        return float(loss.item())

    def arrays(self) -> list[Any]:
        grads = [p.grad for p in self.params if p.grad is not None]
        state = [v for s in self.opt.state.values() for v in s.values() if v.dim()]
        return [*self.net.parameters(), *grads, *state]

    def predictions(self, x: Array) -> Array:
        torch = self.torch
        with torch.inference_mode():
            return torch.softmax(self.net(torch.from_numpy(x)), dim=-1).numpy()

    def layer_call(self) -> Callable[[], Any]:
        w = self.w
        rnn = torch_network(w, self.weights).rnn
        x_np, dy_np = layer_inputs(w)
        x = self.torch.from_numpy(x_np).requires_grad_(w.per_step_targets)
        dy = self.torch.from_numpy(dy_np)
        params = list(rnn.parameters())

        def call() -> Any:
            for p in params:
                p.grad = None
            x.grad = None
            outputs, _ = rnn(x)
            (outputs if w.per_step_targets else outputs[:, -1]).backward(dy)
            return x.grad

        return call
