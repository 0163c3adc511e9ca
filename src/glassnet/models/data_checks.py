"""The checks on what users hand to ``fit``, ``evaluate`` and ``predict``.

Each check runs once, at the boundary, before any work: the inputs ``x`` against the
model's input shape, the targets ``y`` against the loss and the output shape, the
validation data, and the loop's arguments (``batch_size``, ``initial_epoch``,
``verbose``, callbacks). The training loop itself never validates (see
:mod:`glassnet.training`).

>>> import numpy as np
>>> from glassnet.layers import Dense
>>> from glassnet.models import Sequential
>>> model = Sequential([Dense(1, input_dim=2)])
>>> check_inputs(model, [[0, 1], [1, 0]]).dtype
dtype('float32')
>>> check_inputs(model, [0, 1])
Traceback (most recent call last):
...
glassnet.errors.ShapeError: Argument `x` must be 2-D (samples, features). ... single sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet._validation import (
    as_float_array,
    check_positive_int,
    is_integer,
    refuse_masked,
)
from glassnet.callbacks import Callback
from glassnet.data_adapters import unpack_batch
from glassnet.errors import (
    DataError,
    GlassnetError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)
from glassnet.losses import Loss
from glassnet.models.building import describe_shape
from glassnet.models.network import Network
from glassnet.models.sample_weights import (
    check_sample_weight,
    class_weight_to_sample_weight,
)

__all__ = [
    "check_batch",
    "check_batch_size",
    "check_callbacks",
    "check_initial_epoch",
    "check_inputs",
    "check_inputs_and_targets",
    "check_verbose",
    "rows",
    "split_validation",
    "take_rows",
]


def check_inputs(model: Network, x: Any, name: str = "x") -> Any:
    """``x`` as an array of the model's dtype and input shape (a list for several inputs).

    A model with several inputs takes a list (in ``model.inputs`` order) or a dict
    keyed by the inputs' names. Integer inputs (token ids) keep their integer dtype.
    """
    graph = model.graph
    if graph is not None and len(graph.inputs) > 1:
        names = [t.name for t in graph.inputs]
        x = one_per_name(model, x, names, name, "input")
        arrays = [
            _check_one_input(
                model, xi, f"{name}[{i}]", tensor.sample_shape, tensor.dtype
            )
            for i, (xi, tensor) in enumerate(zip(x, graph.inputs, strict=True))
        ]
        if len({len(a) for a in arrays}) > 1:
            raise DataError(
                f"Every input in `{name}` must have the same number of samples. "
                f"Received: {[len(a) for a in arrays]}"
            )
        return arrays
    expected = model.input_shape or (
        model.layers[0].declared_input_shape if model.layers else None
    )
    dtype = graph.inputs[0].dtype if graph is not None else model.dtype
    return _check_one_input(model, x, name, expected, dtype)


def _check_one_input(
    model: Network, x: Any, name: str, expected: Any, dtype: Any
) -> Array:
    if np.dtype(dtype).kind in "iu":
        refuse_masked(x, name)
        array = np.asarray(x)
        # floats holding whole numbers are ids too (Keras casts them)
        whole = array.dtype.kind == "f" and bool(np.all(np.rint(array) == array))
        if array.dtype.kind not in "iu" and not whole:
            raise GlassnetTypeError(
                f"Argument `{name}` must hold integers (token ids) for this input. "
                f"Received: dtype {array.dtype}"
            )
        array = array.astype(dtype, copy=False)
    else:
        array = as_float_array(x, name, model.dtype, min_ndim=1)
    if array.ndim == 1:
        hint = (
            f"reshape({name}, (-1, 1)) for one feature"
            if expected == (1,)
            else f"{name}.reshape(1, -1) for a single sample"
        )
        raise ShapeError(
            f"Argument `{name}` must be 2-D (samples, features). Received: "
            f"{name}.shape={array.shape}. Use {hint}."
        )
    got = array.shape[1:]
    if expected is not None and (
        len(got) != len(expected)
        or any(e is not None and e != g for e, g in zip(expected, got, strict=True))
    ):
        raise ShapeError(
            f"Argument `{name}` has {describe_shape(got)} features per "
            f"sample but the model was built for {describe_shape(expected)}. "
            f"Received: {name}.shape={array.shape}"
        )
    # Batches are rows: gathering them from a column-major array (a DataFrame's
    # .to_numpy()) strides through memory and made fit ~20x slower. One copy here.
    return np.ascontiguousarray(array)


def rows(x: Any, index: Any) -> Any:
    """``x[index]``, for one array or a list of them (one per model input or output)."""
    return [xi[index] for xi in x] if isinstance(x, list) else x[index]


def take_rows(x: Any, order: Array) -> Any:
    """``x[order]`` for an integer array ``order``, for one array or a list of them.

    ``x.take(order, axis=0)`` is the same copy as ``x[order]`` without the
    fancy-indexing machinery: 0.25 us against 1 us on a few rows, where fit
    shuffles a small data set whole each epoch (a tiny network's epoch is four
    steps of 20 us).

    >>> import numpy as np
    >>> take_rows(np.array([[1, 2], [3, 4], [5, 6]]), np.array([2, 0]))
    array([[5, 6],
           [1, 2]])
    """
    if isinstance(x, list):
        return [xi.take(order, axis=0) for xi in x]
    return x.take(order, axis=0)


def check_inputs_and_targets(
    model: Network,
    loss: Loss,
    x: Any,
    y: Any,
    x_name: str = "x",
    y_name: str = "y",
) -> tuple[Any, Any]:
    """``(x, y)`` as arrays: x as :func:`check_inputs`, y as ``loss`` expects."""
    x_arr = check_inputs(model, x, x_name)
    refuse_masked(y, y_name)  # sparse labels are read without as_float_array
    if not model.layers:
        raise InvalidArgumentError("The model has no layers; add some before training.")
    first = x_arr[0] if isinstance(x_arr, list) else x_arr
    heads = getattr(model, "heads", None)
    if heads is not None:
        return x_arr, _check_head_targets(model, heads, y, len(first), y_name)
    out_shape = model.compute_output_shape(first.shape[1:])  # type: ignore[attr-defined]
    y_arr = loss.validate_targets(y, out_shape, y_name, dtype=model.dtype)
    if len(y_arr) != len(first):
        raise DataError(
            f"`{x_name}` and `{y_name}` must have the same number of samples. "
            f"Received: {len(first)} and {len(y_arr)}"
        )
    return x_arr, y_arr


def one_per_name(
    model: Network, value: Any, names: list[str], argument: str, what: str
) -> list[Any]:
    """One entry per model input (or output): a list in order, or a dict by name."""
    if isinstance(value, dict):
        missing = [key for key in names if key not in value]
        extra = [key for key in value if key not in names]
        if missing or extra:
            raise InvalidArgumentError(
                f"Argument `{argument}` must have one entry per {what} {names}. "
                f"Missing: {missing}; unknown: {extra}"
            )
        value = [value[key] for key in names]
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        raise GlassnetTypeError(
            f"Model '{model.name}' has {len(names)} {what}s {names}: give `{argument}` "
            f"as a list or dict of {len(names)} arrays. Received: {type(value).__name__}"
        )
    return list(value)


def _check_head_targets(
    model: Network, heads: list[Any], y: Any, n: int, name: str
) -> list[Array]:
    """One target array per output, from a list (outputs order) or a dict by name."""
    y = one_per_name(model, y, [head.name for head in heads], name, "output")
    graph = model._require_graph("fit")
    targets = []
    for head, tensor, values in zip(heads, graph.outputs, y, strict=True):
        label = f"{name}['{head.name}']"
        array = head.validate_targets(
            values, tensor.sample_shape, label, dtype=model.dtype
        )
        if len(array) != n:
            raise DataError(
                f"`{label}` must have one row per sample ({n}). Received: {len(array)}"
            )
        targets.append(array)
    return targets


def split_validation(
    model: Network,
    loss: Loss,
    x_arr: Any,
    y_arr: Any,
    w_arr: Array | None,
    validation_data: Any,
    split: float,
) -> tuple[Any, Any, Array | None, tuple[Any, Any, Array | None] | None]:
    """The training arrays and weights, and the validation ``(x, y, w)``, if any.

    ``validation_data=(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` is
    checked like ``(x, y)`` and wins; otherwise a ``split`` above 0 holds out the
    *last* share of the samples (and of their weights), before shuffling, as Keras
    does.
    """
    validation = None
    if validation_data is not None:
        is_tuple = isinstance(validation_data, (tuple, list))
        if not is_tuple or len(validation_data) not in (2, 3):
            size = f" of {len(validation_data)}" if is_tuple else ""
            raise GlassnetTypeError(
                "Argument `validation_data` must be a tuple (x_val, y_val) or "
                "(x_val, y_val, sample_weight_val), or a generator or PyDataset of "
                f"batches. Received: {type(validation_data).__name__}{size}"
            )
        refuse_masked(validation_data, "validation_data")
        x_val, y_val = validation_data[0], validation_data[1]
        xv, yv = check_inputs_and_targets(
            model, loss, x_val, y_val, x_name="x_val", y_name="y_val"
        )
        w_val = validation_data[2] if len(validation_data) == 3 else None
        first = xv[0] if isinstance(xv, list) else xv
        wv = check_sample_weight(w_val, len(first), model.dtype, "sample_weight_val")
        validation = (xv, yv, wv)
    elif split > 0:
        n = len(x_arr[0]) if isinstance(x_arr, list) else len(x_arr)
        cut = int(np.floor(n * (1.0 - split)))
        if cut == 0 or cut == n:
            raise DataError(
                f"validation_split={split} of {n} samples leaves no training "
                "or no validation samples."
            )
        held, kept = slice(cut, None), slice(None, cut)
        validation = (
            rows(x_arr, held),
            rows(y_arr, held),
            None if w_arr is None else w_arr[held],
        )
        x_arr, y_arr = rows(x_arr, kept), rows(y_arr, kept)
        w_arr = None if w_arr is None else w_arr[kept]
    return x_arr, y_arr, w_arr, validation


def check_batch_size(batch_size: Any) -> int:
    """``batch_size`` as a positive int; ``None`` means Keras' default of 32."""
    return 32 if batch_size is None else check_positive_int(batch_size, "batch_size")


def check_initial_epoch(initial_epoch: Any, epochs: int) -> int:
    """``initial_epoch`` as an int in ``[0, epochs)`` (NumPy integers too).

    >>> check_initial_epoch(np.int64(2), 5)
    2
    """
    if not is_integer(initial_epoch) or not 0 <= initial_epoch < epochs:
        raise InvalidArgumentError(
            "Argument `initial_epoch` must be an integer in [0, epochs). "
            f"Received: initial_epoch={initial_epoch!r}, epochs={epochs!r}"
        )
    return int(initial_epoch)


def check_verbose(verbose: Any) -> int:
    """``verbose`` as 0 (silent), 1 (progress bar) or 2 (one line per epoch).

    ``"auto"`` means 1, as in Keras.
    """
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise InvalidArgumentError(
            f"Argument `verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}"
        )
    return int(verbose)


def check_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a new list, each entry a glassnet :class:`Callback`."""
    user_callbacks = list(callbacks or [])
    for callback in user_callbacks:
        if not isinstance(callback, Callback):
            raise GlassnetTypeError(
                f"Every callback must be a glassnet Callback. Received: {callback!r}"
            )
    return user_callbacks


def check_batch(
    model: Network,
    batch: Any,
    label: str,
    class_weight: dict[int, float] | None,
    *,
    targets: bool = True,
) -> tuple[Any, Any, Any]:
    """One batch from a generator or PyDataset as checked ``(x, y, sample_weight)``.

    Each batch is checked as ``fit`` checks arrays; an error is re-raised with
    ``label`` (e.g. ``"batch 3 (from 0) of epoch 2"``) in front, so a generator
    whose batches change shape fails naming the batch. ``targets=False`` (predict)
    reads ``x`` alone.
    """
    try:
        x, y, w = unpack_batch(batch)
        refuse_masked(batch, "batch")
        if not targets:
            return check_inputs(model, x), None, None
        if y is None:
            raise DataError(
                "the batch has no targets: yield (x, y) or (x, y, sample_weight)."
            )
        loss = getattr(model, "loss", None)
        assert loss is not None, "fit and evaluate require a compiled model"
        x_arr, y_arr = check_inputs_and_targets(model, loss, x, y)
        first = x_arr[0] if isinstance(x_arr, list) else x_arr
        w_arr = check_sample_weight(w, len(first), model.dtype)
        if class_weight is not None:
            if w_arr is not None:
                raise InvalidArgumentError(
                    "the batch has sample weights and fit has a class_weight: give "
                    "one or the other, as in Keras."
                )
            units = model.output_shape[-1]  # type: ignore[attr-defined]
            w_arr = class_weight_to_sample_weight(class_weight, y_arr, units).astype(
                model.dtype
            )
        return x_arr, y_arr, w_arr
    except GlassnetError as error:
        raise type(error)(f"In {label}: {error}") from None
