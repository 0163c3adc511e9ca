"""The JAX peers of bench_conv.py: a jit-compiled train step, and Keras 3 on JAX.

Both import JAX only inside their process, whose environment the driver set before
(``PJRT_NPROC`` sizes XLA's CPU thread pool, ``XLA_FLAGS`` turns off Eigen's
multi-threading for one thread, ``KERAS_BACKEND=jax`` for Keras). XLA queues work
and returns at once, so ``sync`` waits for the last step before a chunk's clock
stops, and compilation happens in the warm-up chunk, never in a timed one.
"""

from __future__ import annotations

from typing import Any

import driver
from conv_peers import ConvPeer
from conv_workloads import ConvWorkload

Array = Any


class JaxPeer(ConvPeer):
    """One ``jax.jit``-compiled step: forward, loss, ``value_and_grad``, optax SGD.

    NHWC throughout: ``lax.conv_general_dilated`` with ("NHWC", "HWIO", "NHWC") takes
    the Keras-layout kernels as they are, ``lax.reduce_window`` max-pools, and
    Flatten is a reshape in Keras' (h, w, c) order. The parameters and optimizer
    state are donated to the step, so XLA updates their buffers in place.
    """

    def __init__(self, w: ConvWorkload, weights: list[Array]) -> None:
        import jax
        import jax.numpy as jnp
        import optax
        from jax import lax

        self.jax, self.w = jax, w

        def forward(params: list[Array], x: Array) -> Array:
            h, i = x, 0
            for spec in w.layers:
                if spec[0] == "conv":
                    h = lax.conv_general_dilated(
                        h, params[i], (1, 1), spec[3].upper(),
                        dimension_numbers=("NHWC", "HWIO", "NHWC"),
                    )  # fmt: skip
                    h = jax.nn.relu(h + params[i + 1])
                    i += 2
                elif spec[0] == "pool":
                    window = (1, spec[1], spec[1], 1)
                    h = lax.reduce_window(h, -jnp.inf, lax.max, window, window, "VALID")
                elif spec[0] == "flatten":
                    h = h.reshape(h.shape[0], -1)
                else:
                    h = h @ params[i] + params[i + 1]
                    i += 2
                    if i < len(params):
                        h = jax.nn.relu(h)
            return h  # logits

        optimizer = optax.sgd(w.learning_rate, momentum=w.momentum)

        def loss_fn(params: list[Array], x: Array, y: Array) -> Array:
            logits = forward(params, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        def step(params: list[Array], state: Any, x: Array, y: Array) -> Any:
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            updates, state = optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state, loss

        self.step = jax.jit(step, donate_argnums=(0, 1))
        self.probabilities = jax.jit(lambda p, x: jax.nn.softmax(forward(p, x)))
        self.params = [jnp.asarray(a) for a in weights]
        self.state = optimizer.init(self.params)

    def train(self, x: Array, y: Array, epochs: int = 1) -> None:
        y = y.astype("int32")  # JAX's default integers (int64 would be truncated)
        batch_size, step = self.w.batch_size, self.step
        params, state = self.params, self.state
        for _ in range(epochs):
            for start in range(0, len(x), batch_size):
                stop = start + batch_size
                params, state, _ = step(params, state, x[start:stop], y[start:stop])
        self.params, self.state = params, state

    def sync(self) -> None:
        self.jax.block_until_ready((self.params, self.state))

    def arrays(self) -> list[Any]:
        leaves = self.jax.tree_util.tree_leaves((self.params, self.state))
        return [a for a in leaves if a.ndim > 0]

    def predictions(self, x: Array) -> Array:
        import numpy as np

        parts = [
            self.probabilities(self.params, x[s : s + 256])
            for s in range(0, len(x), 256)
        ]
        return np.concatenate([np.asarray(p) for p in parts])


class KerasPeer(driver.KerasOnJaxState, ConvPeer):
    """Keras 3 on the JAX backend: ``keras.Sequential`` trained by ``fit``.

    Keras' idiom as a user writes it: ``Conv2D(..., activation="relu")``, a softmax
    output, ``sparse_categorical_crossentropy``, ``compile`` with its default
    ``jit_compile`` (XLA on JAX) and one ``fit`` call per chunk.
    """

    def __init__(self, w: ConvWorkload, weights: list[Array]) -> None:
        import keras
        from keras import layers

        self.w = w
        last_dense = max(i for i, spec in enumerate(w.layers) if spec[0] == "dense")
        stack: list[Any] = [keras.Input((w.image_size, w.image_size, 1))]
        for i, spec in enumerate(w.layers):
            if spec[0] == "conv":
                _, filters, k, padding = spec
                stack.append(
                    layers.Conv2D(filters, k, padding=padding, activation="relu")
                )
            elif spec[0] == "pool":
                stack.append(layers.MaxPooling2D(spec[1]))
            elif spec[0] == "flatten":
                stack.append(layers.Flatten())
            else:
                activation = "softmax" if i == last_dense else "relu"
                stack.append(layers.Dense(spec[1], activation=activation))
        self.model = keras.Sequential(stack)
        self.model.compile(
            optimizer=keras.optimizers.SGD(w.learning_rate, momentum=w.momentum),
            loss="sparse_categorical_crossentropy",
        )
        self.model.set_weights(weights)

    def train(self, x: Array, y: Array, epochs: int = 1) -> None:
        self.model.fit(
            x, y, batch_size=self.w.batch_size, epochs=epochs, shuffle=False, verbose=0
        )

    def predictions(self, x: Array) -> Array:
        return self.model.predict(x, batch_size=256, verbose=0)
