"""The convolutional workloads of bench_conv.py: networks, data, initial weights.

Everything here is made the same way in the driver and in every worker, so each
peer trains the same network from the same weights on the same batches in the same
order. Weights use Keras' layout (channels_last): a convolution kernel is
``(kh, kw, in, out)``, a dense kernel ``(in, out)``, and Flatten orders a sample's
values ``(h, w, c)``; peers with other layouts convert them (``torch_weights``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SEED = 0


@dataclass
class ConvWorkload:
    """One benchmark problem; every worker rebuilds it from this description.

    ``layers`` lists ``["conv", filters, kernel, padding]`` (ReLU after it),
    ``["pool", 2]`` (max pooling, window and stride 2), ``["flatten"]`` and
    ``["dense", units]`` (ReLU after it, softmax after the last one).
    """

    name: str
    image_size: int  # input images are (image_size, image_size, 1)
    layers: list[list[Any]]
    learning_rate: float  # SGD with momentum for both workloads
    momentum: float
    batch_size: int
    samples: int  # a multiple of batch_size: every batch is full
    epochs_per_chunk: int

    @property
    def chunk_samples(self) -> int:
        return self.epochs_per_chunk * self.samples

    def chunk_order(self, k: int) -> Any:
        """The rows chunk ``k`` trains on, in order: one permutation per epoch.

        Seeded by the chunk number alone, so every peer's process draws the same.
        """
        import numpy as np

        rng = np.random.default_rng([SEED, k])
        return np.concatenate(
            [rng.permutation(self.samples) for _ in range(self.epochs_per_chunk)]
        )


def make_workloads(quick: bool) -> list[ConvWorkload]:
    small = 256 if quick else 1792  # 1792 = 56 x 32 = 28 x 64 of the 1,797 digits
    c1 = [
        ["conv", 8, 3, "same"],
        ["pool", 2],
        ["conv", 16, 3, "same"],
        ["pool", 2],
        ["flatten"],
        ["dense", 10],
    ]
    lenet = [
        ["conv", 6, 5, "same"],
        ["pool", 2],
        ["conv", 16, 5, "valid"],
        ["pool", 2],
        ["flatten"],
        ["dense", 120],
        ["dense", 84],
        ["dense", 10],
    ]
    return [
        ConvWorkload("C1", 8, c1, 0.01, 0.9, 32, small, 1 if quick else 4),
        ConvWorkload("C2", 28, lenet, 0.01, 0.9, 64, small, 1),
    ]  # fmt: skip


def layer_shapes(w: ConvWorkload) -> list[tuple[Any, ...]]:
    """Per layer of ``w.layers``: ``(spec, input shape, output shape)``, no batch axis."""
    shape: tuple[int, ...] = (w.image_size, w.image_size, 1)
    out = []
    for spec in w.layers:
        kind = spec[0]
        if kind == "conv":
            _, filters, k, padding = spec
            side = shape[0] if padding == "same" else shape[0] - k + 1
            new: tuple[int, ...] = (side, side, filters)
        elif kind == "pool":
            new = (shape[0] // spec[1], shape[1] // spec[1], shape[2])
        elif kind == "flatten":
            new = (math.prod(shape),)
        else:
            new = (spec[1],)
        out.append((spec, shape, new))
        shape = new
    return out


def initial_weights(w: ConvWorkload) -> list[Any]:
    """Keras' defaults drawn once: glorot-uniform kernels, zero biases, float32."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    weights = []
    for spec, shape_in, _ in layer_shapes(w):
        if spec[0] == "conv":
            _, filters, k, _ = spec
            kernel: tuple[int, ...] = (k, k, shape_in[2], filters)
            fan_in, fan_out = k * k * shape_in[2], k * k * filters
        elif spec[0] == "dense":
            kernel = (shape_in[0], spec[1])
            fan_in, fan_out = kernel
        else:
            continue
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, kernel).astype(np.float32))
        weights.append(np.zeros(kernel[-1], np.float32))
    return weights


def torch_weights(w: ConvWorkload, weights: list[Any]) -> list[Any]:
    """The same weights in PyTorch's layout.

    Conv2d's kernel is ``(out, in, kh, kw)``; Linear's is ``(out, in)``; and after
    Flatten of an NCHW tensor the first Linear sees ``(c, h, w)`` order, so its rows
    are permuted from Keras' ``(h, w, c)``.
    """
    import numpy as np

    out, i, before = [], 0, None
    for spec, shape_in, _ in layer_shapes(w):
        if spec[0] == "flatten":
            before = shape_in
        if spec[0] not in ("conv", "dense"):
            continue
        kernel, bias = weights[i], weights[i + 1]
        i += 2
        if spec[0] == "conv":
            kernel = kernel.transpose(3, 2, 0, 1)
        elif before is not None:  # the first dense layer after Flatten
            h, w_, c = before
            kernel = (
                kernel.reshape(h, w_, c, -1)
                .transpose(3, 2, 0, 1)
                .reshape(-1, h * w_ * c)
            )
            before = None
        else:
            kernel = kernel.T
        out += [np.ascontiguousarray(kernel), bias.copy()]
    return out


def bilinear_matrix(size_in: int, size_out: int) -> Any:
    """(size_out, size_in): ``A @ v`` resamples ``v`` bilinearly (pixel centres)."""
    import numpy as np

    a = np.zeros((size_out, size_in), np.float32)
    for u in range(size_out):
        src = min(max((u + 0.5) * size_in / size_out - 0.5, 0.0), size_in - 1.0)
        lo = min(int(src), size_in - 2)
        frac = src - lo
        a[u, lo] += 1.0 - frac
        a[u, lo + 1] += frac
    return a


def make_data(w: ConvWorkload) -> tuple[Any, Any]:
    """scikit-learn's digits as float32 (N, S, S, 1) images in [0, 1], int64 labels.

    C1 keeps the 8x8 images; C2 resizes them bilinearly to 24x24 and pads 2 zero
    pixels around (28x28, a digit in the middle as in MNIST).
    """
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images[: w.samples] / 16).astype(np.float32)
    if w.image_size != 8:
        inner = w.image_size - 4
        a = bilinear_matrix(8, inner)
        images = np.einsum("ui,nij,vj->nuv", a, images, a).astype(np.float32)
        images = np.pad(np.clip(images, 0.0, 1.0), ((0, 0), (2, 2), (2, 2)))
    x = np.ascontiguousarray(images[..., None], dtype=np.float32)
    return x, digits.target[: w.samples].astype(np.int64)
