"""Data that arrives batch by batch: ``PyDataset``, generators and other iterables.

``fit``, ``evaluate`` and ``predict`` take NumPy arrays, and also, as Keras 3 does:

- a :class:`PyDataset` subclass: ``__len__`` batches, ``__getitem__(i)`` the i-th,
  ``on_epoch_end()`` between epochs. ``fit(shuffle=True)`` visits the batches in
  an order drawn from the model's seeded generator; ``workers > 1`` loads the
  next batches in threads while the model trains;
- any other iterable or iterator of batches: a generator, a PyTorch
  ``DataLoader``. Each batch is ``(x, y)``, ``(x, y, sample_weight)`` or, for
  ``predict``, ``x`` alone (lists count as tuples, as in Keras; arrays may be
  NumPy arrays, PyTorch tensors, anything ``numpy.asarray`` reads).

Every batch is checked as ``fit`` checks arrays (against the model's input and
output shapes, the loss's targets, the weights), and an error names the batch:
a generator whose batches change shape fails at that batch with its index.

A pass over the data is one iteration of it. ``steps_per_epoch`` takes that many
batches per epoch, continuing the pass across epochs; when a pass ends before the
epoch does, the epoch ends there with a warning and the next one starts a new pass
(as in Keras). A generator can be read only once: when it is exhausted, training
stops with a warning.

>>> import numpy as np
>>> class Squares(PyDataset):
...     def __len__(self):
...         return 3
...     def __getitem__(self, index):
...         x = np.full((2, 1), float(index))
...         return x, x ** 2
>>> len(Squares()), Squares()[2][1].ravel().tolist()
(3, [4.0, 4.0])
"""

from __future__ import annotations

import collections
import itertools
import math
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from glassnet._validation import check_positive_int
from glassnet.errors import GlassnetTypeError, InvalidArgumentError

__all__ = [
    "ArrayBatches",
    "Batches",
    "DatasetBatches",
    "IterableBatches",
    "PyDataset",
    "is_batch_stream",
    "unpack_batch",
]


class PyDataset:
    """Base class for data served batch by batch, as ``keras.utils.PyDataset``.

    Subclass it, call ``super().__init__(**kwargs)`` and implement ``__len__``
    (the number of batches) and ``__getitem__(index)`` (one whole batch:
    ``(x, y)`` or ``(x, y, sample_weight)``). ``on_epoch_begin`` and
    ``on_epoch_end`` run around every epoch, e.g. to reshuffle files.

    Parameters
    ----------
    workers : int, default=1
        Threads that load batches ahead of the training step (1: none, batches are
        loaded when needed). Threads help when ``__getitem__`` waits on files or
        releases the GIL (NumPy, image decoding).
    use_multiprocessing : bool, default=False
        glassnet loads batches in threads only; True is refused.
    max_queue_size : int, default=10
        How many batches the threads may load ahead.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.models import Sequential
    >>> from glassnet.layers import Dense
    >>> class Batches(PyDataset):
    ...     def __init__(self, x, y, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return int(np.ceil(len(self.x) / self.batch_size))
    ...     def __getitem__(self, idx):
    ...         rows = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
    ...         return self.x[rows], self.y[rows]
    >>> x = np.linspace(-1, 1, 20).reshape(-1, 1)
    >>> model = Sequential([Dense(1, input_dim=1)], seed=0)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(Batches(x, 2 * x, batch_size=8), epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
    """

    def __init__(
        self,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        self._workers = check_positive_int(workers, "workers")
        if use_multiprocessing is not False:
            raise InvalidArgumentError(
                "glassnet loads PyDataset batches in threads (workers=...), not in "
                f"processes. Received: use_multiprocessing={use_multiprocessing!r}"
            )
        self._max_queue_size = check_positive_int(max_queue_size, "max_queue_size")

    @property
    def workers(self) -> int:
        """Threads loading batches ahead (1 when ``__init__`` was not called)."""
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        """Always False: batches load in threads."""
        return False

    @property
    def max_queue_size(self) -> int:
        """How many batches may be loaded ahead."""
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index: int) -> Any:
        """Batch number ``index``: ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement __getitem__(index) returning one "
            "batch (x, y) or (x, y, sample_weight)."
        )

    @property
    def num_batches(self) -> int | None:
        """``len(self)``, or None for a dataset without ``__len__`` (endless)."""
        length = getattr(self, "__len__", None)
        return None if length is None else int(length())

    def on_epoch_begin(self) -> None:
        """Called before every epoch."""

    def on_epoch_end(self) -> None:
        """Called after every epoch."""


def is_batch_stream(x: Any) -> bool:
    """Whether ``x`` is data served in batches rather than arrays.

    Arrays, array-likes (anything with ``__array__``), lists, tuples, dicts and
    numbers are array data; a PyDataset, a generator, an iterator or any other
    iterable is a stream of batches.

    >>> is_batch_stream([[0.0, 1.0]]), is_batch_stream(iter([]))
    (False, True)
    """
    if isinstance(x, PyDataset):
        return True
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)):
        return False
    if hasattr(x, "__array__") or hasattr(x, "__array_interface__"):
        return False
    return isinstance(x, (Iterable, Iterator))


def unpack_batch(batch: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from a batch, as Keras' ``unpack_x_y_sample_weight``.

    >>> unpack_batch(([1], [2]))
    ([1], [2], None)
    >>> unpack_batch([[1], [2], [3]])
    ([1], [2], [3])
    """
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if len(batch) == 1:
        return batch[0], None, None
    if len(batch) == 2:
        return batch[0], batch[1], None
    if len(batch) == 3:
        return batch[0], batch[1], batch[2]
    raise GlassnetTypeError(
        "A batch must be x, (x,), (x, y) or (x, y, sample_weight). "
        f"Received: a {type(batch).__name__} of {len(batch)} items"
    )


class Batches:
    """A source of batches, read in passes (one iteration over the data each).

    ``length`` is the number of batches in a pass (None when unknown);
    ``start_pass(rng)`` begins a pass (drawing its order from ``rng`` when
    shuffled), ``take()`` returns the next batch or raises StopIteration at the
    pass's end, ``skip(k)`` passes over k batches (resuming a backup).
    ``raw`` is True when batches come from the user and must be checked.

    >>> source = IterableBatches([1, 2, 3])
    >>> source.start_pass(None)
    >>> source.skip(1)
    >>> source.take(), source.length
    (2, 3)
    """

    length: int | None = None
    raw = True
    shuffled = False

    def start_pass(self, rng: np.random.Generator | None) -> None:
        raise NotImplementedError

    def take(self) -> Any:
        raise NotImplementedError

    def skip(self, count: int) -> None:
        """Advance ``count`` batches into the current pass."""
        for _ in range(count):
            self.take()

    def epoch_begin(self) -> None:
        """Before every epoch (a PyDataset's ``on_epoch_begin``)."""

    def epoch_end(self) -> None:
        """After every epoch (a PyDataset's ``on_epoch_end``)."""

    def close(self) -> None:
        """Release what the source holds (a PyDataset's loading threads)."""


class ArrayBatches(Batches):
    """Checked arrays cut into ``batch_size`` rows, shuffled each pass if asked.

    >>> source = ArrayBatches(np.arange(5).reshape(5, 1), None, None, batch_size=2)
    >>> source.start_pass(None)
    >>> source.length, source.take()[0].ravel().tolist()
    (3, [0, 1])
    """

    raw = False

    def __init__(
        self, x: Any, y: Any, w: Any, batch_size: int, shuffle: bool = False
    ) -> None:
        self.x, self.y, self.w = x, y, w
        first = x[0] if isinstance(x, list) else x
        self.n = len(first)
        self.batch_size = batch_size
        self.length = math.ceil(self.n / batch_size)
        self.shuffled = shuffle
        self._order: Any = None
        self._next = 0

    def start_pass(self, rng: np.random.Generator | None) -> None:
        self._order = rng.permutation(self.n) if self.shuffled and rng else None
        self._next = 0

    def take(self) -> Any:
        if self._next >= self.n:
            raise StopIteration
        start, stop = self._next, min(self._next + self.batch_size, self.n)
        self._next = stop
        index: Any = (
            slice(start, stop) if self._order is None else self._order[start:stop]
        )
        w = None if self.w is None else self.w[index]
        y = None if self.y is None else _rows(self.y, index)
        return _rows(self.x, index), y, w

    def skip(self, count: int) -> None:
        self._next = min(self._next + count * self.batch_size, self.n)


def _rows(x: Any, index: Any) -> Any:
    """``x[index]`` for an array or a list of them (one per model input or output)."""
    return [xi[index] for xi in x] if isinstance(x, list) else x[index]


class DatasetBatches(Batches):
    """A :class:`PyDataset`'s batches by index; threads load ahead with ``workers > 1``.

    >>> class Three(PyDataset):
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, index):
    ...         return index
    >>> source = DatasetBatches(Three(workers=2), shuffle=True)
    >>> source.start_pass(np.random.default_rng(0))
    >>> sorted(source.take() for _ in range(3))
    [0, 1, 2]
    >>> source.close()
    """

    def __init__(self, dataset: PyDataset, shuffle: bool = False) -> None:
        self.dataset = dataset
        self.length = dataset.num_batches
        self.shuffled = shuffle and self.length is not None
        self._order: Any = None
        self._next = 0
        workers = dataset.workers
        self._pool = ThreadPoolExecutor(workers) if workers > 1 else None
        self._queue: collections.deque[Future[Any]] = collections.deque()
        self._queued = 0

    def start_pass(self, rng: np.random.Generator | None) -> None:
        self._drain()
        length = self.length
        self._order = (
            rng.permutation(length) if self.shuffled and rng and length else None
        )
        self._next = 0
        self._queued = 0

    def _index(self, position: int) -> int:
        return int(position if self._order is None else self._order[position])

    def _fill(self) -> None:
        assert self._pool is not None
        limit = self.dataset.max_queue_size
        while len(self._queue) < limit and (
            self.length is None or self._queued < self.length
        ):
            index = self._index(self._queued)
            self._queue.append(self._pool.submit(self.dataset.__getitem__, index))
            self._queued += 1

    def take(self) -> Any:
        if self.length is not None and self._next >= self.length:
            raise StopIteration
        if self._pool is None:
            batch = self.dataset[self._index(self._next)]
        else:
            self._fill()
            batch = self._queue.popleft().result()
        self._next += 1
        return batch

    def skip(self, count: int) -> None:
        self._drain()
        self._next += count
        self._queued = self._next

    def _drain(self) -> None:
        for future in self._queue:
            future.cancel()
        self._queue.clear()

    def epoch_begin(self) -> None:
        self.dataset.on_epoch_begin()

    def epoch_end(self) -> None:
        self.dataset.on_epoch_end()

    def close(self) -> None:
        self._drain()
        if self._pool is not None:
            self._pool.shutdown(wait=True)


class IterableBatches(Batches):
    """Batches from a generator, an iterator or any iterable (a DataLoader).

    >>> source = IterableBatches(iter([10, 20]))  # a generator: read once
    >>> source.peek(), source.one_shot
    (10, True)
    >>> source.start_pass(None)
    >>> source.take(), source.take()
    (10, 20)
    """

    def __init__(self, data: Any) -> None:
        self.data = data
        self.one_shot = iter(data) is data
        try:
            self.length = None if self.one_shot else len(data)
        except TypeError:
            self.length = None
        self._iterator: Iterator[Any] | None = None
        self._peeked: list[Any] = []

    def peek(self) -> Any:
        """The first batch, without consuming it (a generator gets it back)."""
        if not self._peeked:
            iterator = iter(self.data)
            try:
                self._peeked.append(next(iterator))
            except StopIteration:
                raise InvalidArgumentError(
                    "The data yielded no batch at all."
                ) from None
            if self.one_shot:
                self.data = itertools.chain(self._peeked, iterator)
        return self._peeked[0]

    def start_pass(self, rng: np.random.Generator | None) -> None:
        self._iterator = iter(self.data)

    def take(self) -> Any:
        assert self._iterator is not None, "start_pass() comes first"
        return next(self._iterator)
