"""The peers of bench_train.py: one class per way of training the dense workloads.

Each runs in its own process (dense_worker.py serves the driver's commands there)
and trains a chunk of the data for a number of epochs; ``make_peer`` builds the one
a worker is named after. The JAX peers are in dense_jax.py.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from dense_workloads import SEED, Workload, build_glassnet

JAX_PEERS = ("jax", "keras")  # when the bench extra is installed (driver.py)


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
