"""The peers of bench_conv.py that run on NumPy or PyTorch, and the NumPy yardstick.

Each peer trains one pass over the rows it is handed, in order, in batches of the
workload's size (the driver's order already holds the chunk's shuffled epochs), and
can time one convolution or pooling layer's forward and backward pass on its own
(``layer_call``). The JAX peers are in conv_jax.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dense_peers
import numpy as np
from conv_workloads import SEED, ConvWorkload, layer_shapes, torch_weights

Array = Any


class ConvPeer:
    """What the worker asks of every peer (see dense_peers.Peer for the dense one)."""

    def prepare(self, x: Array) -> Array:
        """The (N, H, W, 1) images in this peer's layout, made once, untimed."""
        return x

    def train(self, x: Array, y: Array, epochs: int = 1) -> None:
        raise NotImplementedError

    def sync(self) -> None:
        """Wait for work still queued (JAX dispatches asynchronously)."""

    def arrays(self) -> list[Any]:
        return []

    def predictions(self, x: Array) -> Array:
        raise NotImplementedError

    def layer_call(self, index: int) -> Callable[[], Any]:
        raise NotImplementedError(f"{type(self).__name__} times no single layer")


def layer_inputs(w: ConvWorkload, index: int) -> tuple[Array, Array]:
    """A batch of inputs and output gradients for layer ``index``, NHWC, seeded."""
    _, shape_in, shape_out = layer_shapes(w)[index]
    rng = np.random.default_rng([SEED, index])
    x = rng.standard_normal((w.batch_size, *shape_in), dtype=np.float32)
    dy = rng.standard_normal((w.batch_size, *shape_out), dtype=np.float32)
    return x, dy


def layer_weights(w: ConvWorkload, weights: list[Array], index: int) -> list[Array]:
    """The initial kernel and bias of layer ``index`` (none for pooling, Flatten)."""
    if w.layers[index][0] not in ("conv", "dense"):
        return []
    before = sum(1 for spec in w.layers[:index] if spec[0] in ("conv", "dense"))
    return weights[2 * before : 2 * before + 2]


# -- glassnet ----------------------------------------------------------------------
def glassnet_layers(w: ConvWorkload) -> list[Any]:
    from glassnet.layers import Conv2D, Dense, Flatten, MaxPooling2D

    layers: list[Any] = []
    last_dense = max(i for i, spec in enumerate(w.layers) if spec[0] == "dense")
    for i, spec in enumerate(w.layers):
        if spec[0] == "conv":
            _, filters, k, padding = spec
            layers.append(Conv2D(filters, k, padding=padding, activation="relu"))
        elif spec[0] == "pool":
            layers.append(MaxPooling2D(spec[1]))
        elif spec[0] == "flatten":
            layers.append(Flatten())
        else:
            layers.append(
                Dense(spec[1], activation="softmax" if i == last_dense else "relu")
            )
    return layers


class GlassnetPeer(dense_peers.GlassnetPeer, ConvPeer):
    """``Sequential([Input, Conv2D, MaxPooling2D, ...])`` trained by ``fit``."""

    def __init__(self, w: ConvWorkload, weights: list[Array]) -> None:
        import glassnet
        from glassnet.models import Sequential
        from glassnet.optimizers import SGD

        self.w = w
        shape = (w.image_size, w.image_size, 1)
        self.model = Sequential(
            [glassnet.Input(shape), *glassnet_layers(w)], seed=SEED, dtype="float32"
        )
        optimizer = SGD(learning_rate=w.learning_rate, momentum=w.momentum)
        self.model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        self.model.set_weights(weights)
        self.weights = weights

    def train(self, x: Array, y: Array, epochs: int = 1) -> None:
        self.model.fit(
            x, y, batch_size=self.w.batch_size, epochs=epochs, shuffle=False, verbose=0
        )

    def predictions(self, x: Array) -> Array:
        return self.model.predict(x, batch_size=256, verbose=0)

    def layer_call(self, index: int) -> Callable[[], Any]:
        layer = glassnet_layers(self.w)[index]
        _, shape_in, _ = layer_shapes(self.w)[index]
        layer.build(shape_in, np.random.default_rng(SEED), np.float32)
        for key, value in zip(
            layer.params, layer_weights(self.w, self.weights, index), strict=True
        ):
            layer.params[key][...] = value
        x, dy = layer_inputs(self.w, index)
        input_grad = index > 0  # the model's walk never asks the first layer for dx

        def call() -> Any:
            layer.forward(x, training=True)
            return layer.backward(dy, input_grad=input_grad)

        return call


# -- PyTorch -----------------------------------------------------------------------
class TorchPeer(dense_peers.TorchPeer, ConvPeer):
    """``nn.Sequential`` of Conv2d/ReLU/MaxPool2d/Flatten/Linear, NCHW or channels_last.

    NCHW gets its data transposed to NCHW once, before any timing; channels_last
    gets the NHWC images as they are, seen through ``permute(0, 3, 1, 2)`` (which is
    exactly PyTorch's channels_last memory format), and its modules converted with
    ``.to(memory_format=torch.channels_last)``.
    """

    def __init__(
        self, w: ConvWorkload, weights: list[Array], channels_last: bool, fused: bool
    ) -> None:
        import torch
        from torch import nn

        self.torch, self.w, self.channels_last = torch, w, channels_last
        self.weights = weights
        every = range(len(w.layers))
        self.net = nn.Sequential(*self._modules(every, torch_weights(w, weights)))
        if channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self.loss_fn = nn.CrossEntropyLoss()  # takes logits: softmax fused in
        self.opt = torch.optim.SGD(
            self.net.parameters(), lr=w.learning_rate, momentum=w.momentum, fused=fused
        )

    def _modules(self, indices: Any, weights: list[Array]) -> list[Any]:
        """The modules of the layers at ``indices``, holding ``weights`` (torch's
        layout, see conv_workloads.torch_weights)."""
        torch = self.torch
        from torch import nn

        shapes = layer_shapes(self.w)
        converted = iter(weights)
        last_dense = max(
            i for i, spec in enumerate(self.w.layers) if spec[0] == "dense"
        )
        modules: list[Any] = []
        for i in indices:
            spec, shape_in, _ = shapes[i]
            if spec[0] == "pool":
                modules.append(nn.MaxPool2d(spec[1]))
                continue
            if spec[0] == "flatten":
                modules.append(nn.Flatten())
                continue
            if spec[0] == "conv":
                _, filters, k, padding = spec
                module: Any = nn.Conv2d(
                    shape_in[2], filters, k, padding="same" if padding == "same" else 0
                )
            else:
                module = nn.Linear(shape_in[0], spec[1])
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(next(converted)))
                module.bias.copy_(torch.from_numpy(next(converted)))
            modules.append(module)
            if i != last_dense:
                modules.append(nn.ReLU())
        return modules

    def prepare(self, x: Array) -> Array:
        return (
            x if self.channels_last else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        )

    def _images(self, x: Array) -> Any:
        """A prepared array as the NCHW-shaped tensor the network takes (no copy)."""
        t = self.torch.from_numpy(x)
        return t.permute(0, 3, 1, 2) if self.channels_last else t

    def train(self, x: Array, y: Array, epochs: int = 1) -> None:
        net, opt, loss_fn = self.net, self.opt, self.loss_fn
        xs, ys = self._images(x), self.torch.from_numpy(y)
        n, batch_size = len(y), self.w.batch_size
        for _ in range(epochs):
            for start in range(0, n, batch_size):
                opt.zero_grad()
                loss = loss_fn(
                    net(xs[start : start + batch_size]), ys[start : start + batch_size]
                )
                loss.backward()
                opt.step()

    def predictions(self, x: Array) -> Array:
        torch = self.torch
        with torch.inference_mode():
            return torch.softmax(self.net(self._images(self.prepare(x))), dim=1).numpy()

    def layer_call(self, index: int) -> Callable[[], Any]:
        torch = self.torch
        weights = layer_weights(self.w, self.weights, index)
        if weights:  # a convolution: (kh, kw, in, out) -> (out, in, kh, kw)
            weights = [
                np.ascontiguousarray(weights[0].transpose(3, 2, 0, 1)),
                weights[1],
            ]
        module = torch.nn.Sequential(*self._modules([index], weights))  # conv: + ReLU
        x_nhwc, dy_nhwc = layer_inputs(self.w, index)
        x, dy = (self._images(self.prepare(a)) for a in (x_nhwc, dy_nhwc))
        if self.channels_last:
            module = module.to(memory_format=torch.channels_last)
        x = x.detach().requires_grad_(index > 0)  # no dx for the first layer
        params = list(module.parameters())

        def call() -> Any:
            for p in params:
                p.grad = None
            x.grad = None
            module(x).backward(dy)
            return x.grad

        return call


# -- the NumPy yardstick -------------------------------------------------------------
class RefConv:
    """Conv2D + ReLU by im2col-by-offset, written plainly (stride 1, no dilation).

    Forward: the kh*kw strided slices of the padded input are copied into a
    (kh, kw, N, OH, OW, C) buffer, one transposing copy makes the column matrix
    (N*OH*OW, kh*kw*C), and one GEMM with the (kh*kw*C, F) kernel gives z.
    """

    def __init__(self, kernel: Array, bias: Array, padding: str) -> None:
        self.params = [kernel, bias]
        k = kernel.shape[0]
        self.pad = ((k - 1) // 2, k // 2) if padding == "same" else (0, 0)

    def forward(self, x: Array) -> Array:
        kernel, bias = self.params
        kh, kw, c, f = kernel.shape
        xp = np.pad(x, ((0, 0), self.pad, self.pad, (0, 0))) if self.pad[1] else x
        n, hp, wp, _ = xp.shape
        oh, ow = hp - kh + 1, wp - kw + 1
        blocks = np.empty((kh, kw, n, oh, ow, c), x.dtype)
        for i in range(kh):
            for j in range(kw):
                blocks[i, j] = xp[:, i : i + oh, j : j + ow]
        col = blocks.reshape(kh * kw, n * oh * ow, c).transpose(1, 0, 2)
        col = col.reshape(n * oh * ow, kh * kw * c)
        z = col @ kernel.reshape(kh * kw * c, f) + bias
        self.col, self.x_shape, self.xp_shape = col, x.shape, xp.shape
        self.y = np.maximum(z, 0).reshape(n, oh, ow, f)
        return self.y

    def backward(self, dy: Array, need_dx: bool) -> Array | None:
        # y = relu(z), z = col @ W + b  =>  dz = dy * (y > 0),  dW = col.T @ dz,
        # db = sum(dz),  dcol = dz @ W.T, added back at the slices it came from
        kernel = self.params[0]
        kh, kw, c, f = kernel.shape
        dz = (dy * (self.y > 0)).reshape(-1, f)
        self.grads = [(self.col.T @ dz).reshape(kernel.shape), dz.sum(axis=0)]
        if not need_dx:
            return None
        n, oh, ow, _ = self.y.shape
        per_offset = kernel.reshape(kh * kw, c, f).transpose(0, 2, 1)  # (K, F, C)
        dblocks = np.matmul(dz, per_offset).reshape(kh, kw, n, oh, ow, c)
        dxp = np.zeros(self.xp_shape, dy.dtype)
        for i in range(kh):
            for j in range(kw):
                dxp[:, i : i + oh, j : j + ow] += dblocks[i, j]
        (top, _), (_, h, w, _) = self.pad, self.x_shape
        return dxp[:, top : top + h, top : top + w]


class RefPool:
    """2x2 max pooling, stride 2, remembering which entry of each window was the max."""

    params: tuple[Array, ...] = ()

    def forward(self, x: Array) -> Array:
        n, h, w, c = x.shape
        windows = x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 5, 2, 4)
        windows = windows.reshape(n, h // 2, w // 2, c, 4)
        # The first maximum in row-major order, as PyTorch, TensorFlow and XLA pick:
        # ties are common (a background region gives every position the same value).
        self.arg = windows.argmax(axis=-1)[..., None]
        return np.take_along_axis(windows, self.arg, axis=-1)[..., 0]

    def backward(self, dy: Array, need_dx: bool) -> Array:
        # y = x[argmax of the window]  =>  dx = dy at that entry, 0 at the others
        n, oh, ow, c, _ = self.arg.shape
        dwindows = np.zeros((n, oh, ow, c, 4), dy.dtype)
        np.put_along_axis(dwindows, self.arg, dy[..., None], axis=-1)
        dx = dwindows.reshape(n, oh, ow, c, 2, 2).transpose(0, 1, 4, 2, 5, 3)
        return dx.reshape(n, 2 * oh, 2 * ow, c)


class RefFlatten:
    params: tuple[Array, ...] = ()

    def forward(self, x: Array) -> Array:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dy: Array, need_dx: bool) -> Array:
        return dy.reshape(self.shape)


class RefDense:
    """``z = x @ W + b`` with a ReLU, or the logits for the last layer."""

    def __init__(self, kernel: Array, bias: Array, relu: bool) -> None:
        self.params, self.relu = [kernel, bias], relu

    def forward(self, x: Array) -> Array:
        self.x = x
        z = x @ self.params[0] + self.params[1]
        self.y = np.maximum(z, 0) if self.relu else z
        return self.y

    def backward(self, dy: Array, need_dx: bool) -> Array:
        # y = relu(x @ W + b)  =>  dz = dy * (y > 0),  dW = x.T @ dz,  dx = dz @ W.T
        dz = dy * (self.y > 0) if self.relu else dy
        self.grads = [self.x.T @ dz, dz.sum(axis=0)]
        return dz @ self.params[0].T


class NumpyPeer(ConvPeer):
    """The plain NumPy reference network, trained by SGD with momentum."""

    def __init__(self, w: ConvWorkload, weights: list[Array]) -> None:
        self.w, self.weights = w, weights
        self.layers = [self._layer(i, weights) for i in range(len(w.layers))]
        self.params = [p for layer in self.layers for p in layer.params]
        self.velocity = [np.zeros_like(p) for p in self.params]

    def _layer(self, index: int, weights: list[Array]) -> Any:
        spec = self.w.layers[index]
        params = [a.copy() for a in layer_weights(self.w, weights, index)]
        if spec[0] == "conv":
            return RefConv(*params, padding=spec[3])
        if spec[0] == "pool":
            return RefPool()
        if spec[0] == "flatten":
            return RefFlatten()
        last = index == max(i for i, s in enumerate(self.w.layers) if s[0] == "dense")
        return RefDense(*params, relu=not last)

    def forward(self, x: Array) -> Array:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def step(self, x: Array, y: Array) -> None:
        logits = self.forward(x)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        grad = e / e.sum(axis=1, keepdims=True)
        grad[np.arange(len(y)), y] -= 1  # softmax + cross-entropy: (p - onehot) / n
        grad /= len(y)
        for i in reversed(range(len(self.layers))):
            grad = self.layers[i].backward(grad, need_dx=i > 0)
        grads = [g for layer in self.layers if layer.params for g in layer.grads]
        lr, mu = self.w.learning_rate, self.w.momentum
        for p, g, v in zip(self.params, grads, self.velocity, strict=True):
            # Keras' form; PyTorch's v = mu*v + g, p -= lr*v takes the same steps
            v[...] = mu * v - lr * g
            p += v

    def train(self, x: Array, y: Array, epochs: int = 1) -> None:
        batch_size = self.w.batch_size
        for _ in range(epochs):
            for start in range(0, len(x), batch_size):
                self.step(x[start : start + batch_size], y[start : start + batch_size])

    def arrays(self) -> list[Any]:
        return self.params + self.velocity

    def predictions(self, x: Array) -> Array:
        logits = np.concatenate(
            [self.forward(x[s : s + 256]) for s in range(0, len(x), 256)]
        )
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def layer_call(self, index: int) -> Callable[[], Any]:
        layer = self._layer(index, self.weights)
        x, dy = layer_inputs(self.w, index)
        need_dx = index > 0

        def call() -> Any:
            layer.forward(x)
            return layer.backward(dy, need_dx)

        return call
