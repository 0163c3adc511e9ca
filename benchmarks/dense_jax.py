"""The JAX peers of bench_train.py: a jit-compiled train step, and Keras 3 on JAX.

Both import JAX only inside their own process, whose environment the driver set
before (driver.worker_env: ``PJRT_NPROC`` sizes XLA's CPU thread pool, ``XLA_FLAGS``
turns off Eigen's multi-threading for one thread, ``KERAS_BACKEND=jax`` for Keras).
XLA queues work and returns at once, so ``sync`` waits for the last step before a
chunk's clock stops; compilation happens in the first step and the warm-up chunk,
never in a timed one.
"""

from __future__ import annotations

from typing import Any

import driver
from dense_peers import Peer
from dense_workloads import SEED, Workload

Array = Any


def jax_forward(w: Workload) -> Any:
    """``forward(params, x) -> output`` for ``w``, written as a JAX user would.

    ``params`` is the flat list ``[W0, b0, W1, b1, ...]`` in glassnet's (and Keras')
    layout, ``W`` shaped (n_in, units). The output is the logits for softmax
    cross-entropy, the sigmoid's probabilities for the MSE network (tiny).
    """
    import jax

    hidden = jax.nn.relu if w.hidden == "relu" else jax.nn.sigmoid

    def forward(params: list[Array], x: Array) -> Array:
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = hidden(h)
        return jax.nn.sigmoid(h) if w.loss == "mse" else h

    return forward


class JaxPeer(Peer):
    """One ``jax.jit``-compiled step: forward, loss, ``value_and_grad``, optax update.

    ``optax.sgd`` (with ``momentum`` when the workload has it: optax's trace
    ``v = g + momentum * v``, ``w -= lr * v`` is Keras' and PyTorch's rule for a
    constant rate) or ``optax.adam(lr, eps=1e-7)``. The parameters and optimizer
    state are donated to the step, so XLA updates their buffers in place. Each epoch
    shuffles with a seeded NumPy permutation and slices batches, as the PyTorch peer
    does with ``randperm``.
    """

    def __init__(self, w: Workload, weights: list[Array]) -> None:
        import jax
        import jax.numpy as jnp
        import numpy as np
        import optax

        self.jax, self.w = jax, w
        forward = jax_forward(w)
        if w.optimizer == "sgd":
            optimizer = optax.sgd(w.learning_rate, momentum=w.momentum or None)
        else:
            optimizer = optax.adam(w.learning_rate, eps=1e-7)

        def loss_fn(params: list[Array], x: Array, y: Array) -> Array:
            out = forward(params, x)
            if w.loss == "mse":
                return jnp.mean((out - y) ** 2)
            return optax.softmax_cross_entropy_with_integer_labels(out, y).mean()

        def step(params: list[Array], state: Any, x: Array, y: Array) -> Any:
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            updates, state = optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state, loss

        def outputs(params: list[Array], x: Array) -> Array:
            out = forward(params, x)
            return out if w.loss == "mse" else jax.nn.softmax(out)

        self.step = jax.jit(step, donate_argnums=(0, 1))
        self.outputs = jax.jit(outputs)
        self.params = [jnp.asarray(a) for a in weights]
        self.state = optimizer.init(self.params)
        self.rng = np.random.default_rng(SEED)

    def train(self, x: Array, y: Array, epochs: int) -> None:
        if self.w.loss != "mse":
            y = y.astype("int32")  # JAX's default integers (int64 would be truncated)
        n, batch_size, step = len(x), self.w.batch_size, self.step
        params, state = self.params, self.state
        for _ in range(epochs):
            order = self.rng.permutation(n)
            xs, ys = x[order], y[order]
            for start in range(0, n, batch_size):
                stop = start + batch_size
                params, state, _ = step(params, state, xs[start:stop], ys[start:stop])
        self.params, self.state = params, state

    def sync(self) -> None:
        self.jax.block_until_ready((self.params, self.state))

    def arrays(self) -> list[Any]:
        leaves = self.jax.tree_util.tree_leaves((self.params, self.state))
        return [a for a in leaves if a.ndim > 0]  # not Adam's int32 step count

    def predictions(self, x: Array) -> Array:
        import numpy as np

        parts = [
            self.outputs(self.params, x[s : s + 1024]) for s in range(0, len(x), 1024)
        ]
        return np.concatenate([np.asarray(p) for p in parts])


class KerasPeer(driver.KerasOnJaxState, Peer):
    """Keras 3 on the JAX backend: ``keras.Sequential`` of Dense layers, ``fit``.

    Keras' idiom as a user writes it, glassnet's twin: ``Dense(units,
    activation=...)`` with a softmax (sigmoid for tiny) output,
    ``sparse_categorical_crossentropy`` (``mse`` for tiny), ``SGD(lr, momentum)`` or
    ``Adam(lr, epsilon=1e-7)``, ``compile`` with its default ``jit_compile`` (XLA on
    JAX) and one ``fit(x, y, batch_size, epochs, verbose=0)`` call per chunk (it
    shuffles each epoch).
    """

    def __init__(self, w: Workload, weights: list[Array]) -> None:
        import keras
        from keras import layers

        self.w = w
        stack: list[Any] = [keras.Input((w.units[0],))]
        for i, units in enumerate(w.units[1:]):
            last = i == len(w.units) - 2
            output = "sigmoid" if w.loss == "mse" else "softmax"
            stack.append(layers.Dense(units, activation=output if last else w.hidden))
        self.model = keras.Sequential(stack)
        if w.optimizer == "sgd":
            optimizer: Any = keras.optimizers.SGD(w.learning_rate, momentum=w.momentum)
        else:
            optimizer = keras.optimizers.Adam(w.learning_rate, epsilon=1e-7)
        loss = "mse" if w.loss == "mse" else "sparse_categorical_crossentropy"
        self.model.compile(optimizer=optimizer, loss=loss)
        self.model.set_weights(weights)

    def train(self, x: Array, y: Array, epochs: int) -> None:
        self.model.fit(x, y, batch_size=self.w.batch_size, epochs=epochs, verbose=0)

    def predictions(self, x: Array) -> Array:
        return self.model.predict(x, batch_size=1024, verbose=0)
