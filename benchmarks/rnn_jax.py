"""The JAX peers of bench_rnn.py: a jit-compiled train step, and Keras 3 on JAX.

Both import JAX only inside their process, whose environment the driver set before
(``PJRT_NPROC`` sizes XLA's CPU thread pool, ``XLA_FLAGS`` turns off Eigen's
multi-threading for one thread, ``KERAS_BACKEND=jax`` for Keras; see bench_conv's
``worker_env``). XLA queues work and returns at once, so ``sync`` waits for the last
step before a chunk's clock stops; compilation happens in the first step, never in
a timed chunk.
"""

from __future__ import annotations

from typing import Any

import driver
from rnn_peers import RnnPeer
from rnn_workloads import RnnWorkload

Array = Any


def jax_forward(w: RnnWorkload) -> Any:
    """``forward(params, x) -> logits`` for ``w``, written as a JAX user would.

    Keras' layouts as they are (``params`` is the list of Keras-order weights):
    the input projection of every step is one product before ``lax.scan``, which
    carries the state through the steps (``h @ U`` and the gates per step).
    """
    import jax
    import jax.numpy as jnp
    from jax import lax

    def lstm(kernel: Array, recurrent: Array, bias: Array, xs: Array) -> Array:
        projected = jnp.swapaxes(xs @ kernel + bias, 0, 1)  # (steps, N, 4U)

        def step(carry: Any, g_x: Array) -> Any:
            h, c = carry
            i, f, g, o = jnp.split(g_x + h @ recurrent, 4, axis=-1)  # Keras' i, f, c, o
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), h

        zeros = jnp.zeros((xs.shape[0], w.units), xs.dtype)
        _, hs = lax.scan(step, (zeros, zeros), projected)
        return hs  # (steps, N, U)

    def gru(kernel: Array, recurrent: Array, bias: Array, xs: Array) -> Array:
        projected = jnp.swapaxes(xs @ kernel + bias[0], 0, 1)  # (steps, N, 3U)

        def step(h: Array, g_x: Array) -> Any:
            x_z, x_r, x_h = jnp.split(g_x, 3, axis=-1)  # Keras' z, r, h
            r_z, r_r, r_h = jnp.split(h @ recurrent + bias[1], 3, axis=-1)
            z = jax.nn.sigmoid(x_z + r_z)
            r = jax.nn.sigmoid(x_r + r_r)
            n = jnp.tanh(x_h + r * r_h)  # reset_after=True
            h = z * h + (1 - z) * n
            return h, h

        _, hs = lax.scan(step, jnp.zeros((xs.shape[0], w.units), xs.dtype), projected)
        return hs

    cell = lstm if w.cell == "lstm" else gru

    def forward(params: list[Array], x: Array) -> Array:
        if w.per_step_targets:
            embeddings, *params = params
            x = jnp.take(embeddings, x, axis=0)
        kernel, recurrent, bias, dense, dense_bias = params
        hs = cell(kernel, recurrent, bias, x)
        if w.per_step_targets:
            return jnp.swapaxes(hs, 0, 1) @ dense + dense_bias  # (N, steps, classes)
        return hs[-1] @ dense + dense_bias

    return forward


class JaxPeer(RnnPeer):
    """One ``jax.jit``-compiled step: forward, loss, ``value_and_grad``, optax SGD
    with momentum; the parameters and optimizer state are donated to the step, so
    XLA updates their buffers in place."""

    def __init__(self, w: RnnWorkload, weights: list[Array]) -> None:
        import jax
        import jax.numpy as jnp
        import optax

        self.jax, self.w = jax, w
        forward = jax_forward(w)
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

    def prepare(self, x: Array) -> Array:
        # JAX's default integers are int32 (int64 ids would be truncated, warning)
        return x.astype("int32") if self.w.per_step_targets else x

    def train(self, x: Array, y: Array) -> None:
        y = y.astype("int32")
        batch_size, step = self.w.batch_size, self.step
        params, state = self.params, self.state
        for start in range(0, len(y), batch_size):
            stop = start + batch_size
            params, state, _ = step(params, state, x[start:stop], y[start:stop])
        self.params, self.state = params, state

    def first_step(self, x: Array, y: Array) -> float:
        self.params, self.state, loss = self.step(
            self.params, self.state, x, y.astype("int32")
        )
        return float(loss)

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


class KerasPeer(driver.KerasOnJaxState, RnnPeer):
    """Keras 3 on the JAX backend: ``keras.Sequential`` trained by ``fit``.

    Keras' idiom as a user writes it: ``[Embedding ->] LSTM or GRU (reset_after,
    the default) -> Dense(softmax)``, ``sparse_categorical_crossentropy``,
    ``compile`` with its default ``jit_compile`` (XLA on JAX) and one ``fit`` call
    per chunk; on a CPU its recurrent layers loop with ``lax.scan`` (cuDNN only on
    a GPU).
    """

    def __init__(self, w: RnnWorkload, weights: list[Array]) -> None:
        import keras
        from keras import layers

        self.w = w
        cell = layers.LSTM if w.cell == "lstm" else layers.GRU
        if w.per_step_targets:
            stack: list[Any] = [
                keras.Input((w.steps,), dtype="int32"),
                layers.Embedding(w.vocab, w.features),
                cell(w.units, return_sequences=True),
            ]
        else:
            stack = [keras.Input((w.steps, w.features)), cell(w.units)]
        stack.append(layers.Dense(w.classes, activation="softmax"))
        self.model = keras.Sequential(stack)
        self.model.compile(
            optimizer=keras.optimizers.SGD(w.learning_rate, momentum=w.momentum),
            loss="sparse_categorical_crossentropy",
        )
        self.model.set_weights(weights)

    def prepare(self, x: Array) -> Array:
        return x.astype("int32") if self.w.per_step_targets else x

    def train(self, x: Array, y: Array) -> None:
        self.model.fit(
            x, y, batch_size=self.w.batch_size, epochs=1, shuffle=False, verbose=0
        )

    def first_step(self, x: Array, y: Array) -> float:
        return float(self.model.train_on_batch(x, y))

    def predictions(self, x: Array) -> Array:
        return self.model.predict(x, batch_size=256, verbose=0)
