"""glassnet.utils: to_categorical, normalize, split_dataset, set_random_seed.

Compared with Keras 3's ``keras.utils`` on the same inputs where Keras behaves, and
with values worked by hand; the inputs Keras accepts silently (negative or fractional
labels, orders that are not norms, sizes that don't fit) get named errors here.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

from typing import Any

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import glassnet  # noqa: E402
from glassnet.errors import (  # noqa: E402
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)
from glassnet.layers import Dense, Dropout  # noqa: E402
from glassnet.models import Model, Sequential  # noqa: E402
from glassnet.utils import (  # noqa: E402
    clear_session,
    normalize,
    plot_model,
    set_random_seed,
    split_dataset,
    to_categorical,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")


def test_every_import_path_of_the_old_module_still_works() -> None:
    import glassnet.utils as utils

    assert glassnet.utils is utils
    for name in ("clear_session", "set_random_seed", "plot_model"):
        assert callable(getattr(utils, name))
    assert callable(clear_session) and callable(plot_model)
    assert set(utils.__all__) >= {"to_categorical", "normalize", "split_dataset"}


# -- to_categorical -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("labels", "num_classes"),
    [
        ([0, 2, 1, 2], None),
        ([0, 2, 1, 2], 5),
        (np.array([[1], [0], [3]]), None),  # (n, 1) -> (n, k)
        (np.array([[1, 0], [2, 2]]), 3),  # (n, m) -> (n, m, k)
        (np.array([[[1], [0]], [[2], [2]]]), None),  # (n, m, 1) -> (n, m, k)
        (np.array([1]), 2),  # (1,) stays (1, k)
        (np.array(2), 4),  # a scalar -> (k,)
        (np.array([0.0, 3.0, 1.0]), None),  # whole floats
        (np.array([True, False]), None),
        (np.array([2, 0], dtype=np.uint8), 3),
    ],
)
def test_to_categorical_matches_keras(labels: Any, num_classes: int | None) -> None:
    ours = to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.dtype == theirs.dtype == np.float64
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_to_categorical_by_hand() -> None:
    np.testing.assert_array_equal(
        to_categorical([2, 0], num_classes=4), [[0, 0, 1, 0], [1, 0, 0, 0]]
    )
    assert to_categorical(np.zeros((0,), int), num_classes=3).shape == (0, 3)
    # each row sums to 1 and argmax gives the labels back
    labels = np.random.default_rng(0).integers(0, 7, size=(50, 1))
    one_hot = to_categorical(labels)
    assert one_hot.shape == (50, 7)
    np.testing.assert_array_equal(one_hot.sum(axis=1), 1)
    np.testing.assert_array_equal(one_hot.argmax(axis=1), labels[:, 0])


@pytest.mark.parametrize(
    ("labels", "num_classes", "error", "match"),
    [
        ([0, -1, 2], None, DataError, r"class ids >= 0; x\[1\] = -1"),
        ([0, 1.5], None, DataError, r"x\[1\] = 1.5 is not a whole number"),
        ([[0], [np.nan]], None, DataError, r"x\[1, 0\] = nan is not a whole number"),
        ([0, 3], 3, DataError, r"class id 3 \(at x\[1\]\), but num_classes=3 allows"),
        ([0, 1], 0, InvalidArgumentError, r"`num_classes` must be a positive integer"),
        ([0, 1], 2.0, GlassnetTypeError, r"Received: num_classes=2.0"),
        ([0, 1], True, GlassnetTypeError, r"Received: num_classes=True"),
        ([], None, DataError, r"cannot be inferred: give num_classes"),
        (["a", "b"], None, GlassnetTypeError, r"integer class ids.*dtype <U1"),
        ("0", None, GlassnetTypeError, r"Received: x='0'"),
        ([[0, 1], [2]], None, DataError, r"rectangular"),
    ],
)
def test_to_categorical_refuses_bad_labels(
    labels: Any, num_classes: Any, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        to_categorical(labels, num_classes)


# -- normalize ------------------------------------------------------------------------
X = np.random.default_rng(1).normal(size=(5, 4))
X[2] = 0.0  # a zero row stays zero


@pytest.mark.parametrize("order", [1, 2, 3, 1.5, np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_matches_keras(order: float, dtype: type) -> None:
    x = X.astype(dtype)
    ours = normalize(x, order=order)
    theirs = keras.utils.normalize(x, order=order)
    assert ours.dtype == theirs.dtype == dtype
    np.testing.assert_allclose(
        ours, theirs, rtol=1e-6 if dtype == np.float32 else 1e-15
    )


def test_normalize_matches_keras_on_more_axes_and_integers() -> None:
    x3 = np.random.default_rng(2).normal(size=(2, 3, 4))
    np.testing.assert_allclose(normalize(x3, axis=2), keras.utils.normalize(x3, axis=2))
    ints = np.array([[3, 4], [0, 5]])
    np.testing.assert_array_equal(normalize(ints), keras.utils.normalize(ints))
    assert normalize(ints).dtype == np.float64


def test_normalize_by_hand_on_any_axis() -> None:
    x = np.array([[3.0, 1.0], [4.0, 0.0]])
    # along axis 0 the columns (3, 4) and (1, 0) have L2 norms 5 and 1 (Keras' NumPy
    # path reshapes the norms along the last axis there, and gets this wrong)
    np.testing.assert_allclose(normalize(x, axis=0), [[0.6, 1.0], [0.8, 0.0]])
    np.testing.assert_allclose(normalize(x, order=1), [[0.75, 0.25], [1.0, 0.0]])
    np.testing.assert_allclose(normalize(x, order=np.inf), [[1.0, 1 / 3], [1.0, 0.0]])
    np.testing.assert_allclose(
        np.linalg.norm(normalize(X, axis=0), axis=0), np.ones(4), rtol=1e-14
    )
    np.testing.assert_allclose(normalize([3, 4]), [0.6, 0.8])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"order": 0}, InvalidArgumentError, r"orders below 1 do not define a norm. "),
        ({"order": 0.5}, InvalidArgumentError, r"Received: order=0.5"),
        ({"order": -1}, InvalidArgumentError, r"Received: order=-1"),
        ({"order": -np.inf}, InvalidArgumentError, r"Received: order=-inf"),
        ({"order": np.nan}, InvalidArgumentError, r"Received: order=nan"),
        ({"order": "fro"}, GlassnetTypeError, r"number >= 1 or numpy.inf.*order='fro'"),
        ({"order": None}, GlassnetTypeError, r"Received: order=None"),
        ({"order": True}, GlassnetTypeError, r"Received: order=True"),
        ({"axis": 2}, InvalidArgumentError, r"from -2 to 1. Received: axis=2"),
        ({"axis": -3}, InvalidArgumentError, r"Received: axis=-3"),
        ({"axis": None}, GlassnetTypeError, r"`axis` must be an integer"),
        ({"axis": (0, 1)}, GlassnetTypeError, r"Received: axis=\(0, 1\)"),
    ],
)
def test_normalize_refuses_bad_arguments(
    kwargs: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        normalize(X, **kwargs)


def test_normalize_refuses_bad_data() -> None:
    with pytest.raises(DataError, match=r"at least one axis.*x.shape=\(\)"):
        normalize(3.0)
    with pytest.raises(GlassnetTypeError, match="must hold numbers"):
        normalize(np.array(["a"]))


# -- split_dataset ----------------------------------------------------------------------
def keras_sizes(left: Any, right: Any, total: int) -> tuple[int, int] | None:
    """Keras' own size rules (used by its TensorFlow and torch paths), or None."""
    from keras.src.utils.dataset_utils import _rescale_dataset_split_sizes

    try:
        return _rescale_dataset_split_sizes(left, right, total)
    except (TypeError, ValueError):
        return None


def our_sizes(left: Any, right: Any, total: int) -> tuple[int, int] | None:
    try:
        a, b = split_dataset(np.arange(total), left, right)
    except (TypeError, ValueError):
        return None
    return len(a), len(b)


SIZES = [None, 0, 1, 2, 3, 7, 9, 10, 11, -1, 0.0, 0.05, 0.1, 0.25, 0.35, 0.5, 0.75,
         0.95, 0.99, 1.0, 1.5, -0.2]  # fmt: skip


@pytest.mark.parametrize("total", [1, 2, 10])
def test_split_sizes_follow_keras_rules(total: int) -> None:
    # every pair of sizes: the same two lengths, or an error from both
    for left in SIZES:
        for right in SIZES:
            assert our_sizes(left, right, total) == keras_sizes(left, right, total), (
                left,
                right,
                total,
            )


@pytest.mark.parametrize(
    ("left", "right"), [(0.8, None), (None, 3), (0.25, None), (7, 3), (0.6, 0.4)]
)
def test_split_lengths_match_keras_split_dataset(left: Any, right: Any) -> None:
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    theirs = keras.utils.split_dataset((x, y), left_size=left, right_size=right)
    (x_left, y_left), (x_right, y_right) = split_dataset((x, y), left, right)
    assert (len(x_left), len(x_right)) == (len(theirs[0]), len(theirs[1]))
    assert len(y_left) == len(x_left) and len(y_right) == len(x_right)


def test_split_keeps_the_order_without_shuffle() -> None:
    # round(0.25 * 10) = round(2.5) = 2 (Python rounds halves to even, as Keras does)
    left, right = split_dataset(np.arange(10), left_size=0.25)
    np.testing.assert_array_equal(left, [0, 1])
    np.testing.assert_array_equal(right, [2, 3, 4, 5, 6, 7, 8, 9])
    # sizes that leave samples out: the first 3 and the last 2, as Keras' TF path
    left, right = split_dataset(np.arange(10), left_size=3, right_size=2)
    np.testing.assert_array_equal(left, [0, 1, 2])
    np.testing.assert_array_equal(right, [8, 9])


def test_split_of_tuples_lists_and_multidimensional_arrays() -> None:
    x = np.arange(24, dtype=np.float32).reshape(6, 2, 2)
    y = np.array([0, 1, 0, 1, 1, 0], dtype=np.int8)
    (xl, yl), (xr, yr) = split_dataset((x, y), right_size=2)
    assert xl.dtype == np.float32 and yl.dtype == np.int8
    np.testing.assert_array_equal(xl, x[:4])
    np.testing.assert_array_equal(xr, x[4:])
    np.testing.assert_array_equal(yr, y[4:])
    lists = split_dataset([x, y], left_size=0.5)
    assert isinstance(lists[0], list) and isinstance(lists[1], list)
    left, right = split_dataset((x, y), left_size=2)
    assert isinstance(left, tuple) and isinstance(right, tuple) and len(left) == 2
    # the parts are new arrays: writing to one leaves the dataset alone
    xl[...] = -1
    assert x.min() == 0


def test_shuffle_is_a_seeded_permutation() -> None:
    x, y = np.arange(50), np.arange(50) * 10
    (xl, yl), (xr, yr) = split_dataset((x, y), left_size=0.8, shuffle=True, seed=3)
    np.testing.assert_array_equal(yl, xl * 10)  # rows stay together
    np.testing.assert_array_equal(yr, xr * 10)
    np.testing.assert_array_equal(np.sort(np.concatenate([xl, xr])), x)
    assert not np.array_equal(xl, x[:40])
    order = np.random.default_rng(3).permutation(50)
    np.testing.assert_array_equal(xl, order[:40])
    np.testing.assert_array_equal(xr, order[40:])
    again = split_dataset((x, y), left_size=0.8, shuffle=True, seed=3)
    np.testing.assert_array_equal(again[0][0], xl)
    other = split_dataset((x, y), left_size=0.8, shuffle=True, seed=4)
    assert not np.array_equal(other[0][0], xl)


def test_shuffle_without_a_seed_follows_set_random_seed() -> None:
    set_random_seed(7)
    first = split_dataset(np.arange(30), left_size=0.5, shuffle=True)
    set_random_seed(7)
    again = split_dataset(np.arange(30), left_size=0.5, shuffle=True)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], np.arange(15))


@pytest.mark.parametrize(
    ("dataset", "kwargs", "error", "match"),
    [
        (np.arange(10), {}, InvalidArgumentError, r"At least one of `left_size`"),
        (np.arange(10), {"left_size": 10}, InvalidArgumentError, r"from 1 to 9 "),
        (np.arange(10), {"left_size": 0}, InvalidArgumentError, r"left_size=0$"),
        (np.arange(10), {"right_size": 1.0}, InvalidArgumentError, r"strictly between"),
        (np.arange(10), {"left_size": -0.5}, InvalidArgumentError, r"left_size=-0.5"),
        (np.arange(10), {"left_size": 0.6, "right_size": 0.5}, InvalidArgumentError,
         r"add up to more than 1"),
        (np.arange(10), {"left_size": 6, "right_size": 5}, InvalidArgumentError,
         r"left_size \+ right_size = 11 samples, more than the 10"),
        (np.arange(10), {"left_size": 0.99}, InvalidArgumentError,
         r"right part would be empty: .* give 10 left and 0 right"),
        (np.arange(10), {"left_size": "half"}, GlassnetTypeError,
         r"Received: left_size='half'"),
        (np.arange(10), {"left_size": True}, GlassnetTypeError, r"left_size=True"),
        (np.arange(10), {"left_size": 0.5, "shuffle": 1}, GlassnetTypeError,
         r"`shuffle` must be True or False"),
        (np.arange(10), {"left_size": 0.5, "seed": -1}, GlassnetTypeError, r"seed=-1"),
        ((np.arange(10), np.arange(9)), {"left_size": 0.5}, ShapeError,
         r"dataset\[0\] has 10, dataset\[1\] has 9"),
        ((), {"left_size": 0.5}, DataError, r"empty tuple"),
        (np.zeros((0, 3)), {"left_size": 0.5}, DataError, r"holds no samples"),
        ([1, 2, 3], {"left_size": 0.5}, ShapeError, r"`dataset\[0\]` must be an array"),
        ({"x": np.arange(4)}, {"left_size": 0.5}, GlassnetTypeError, r"Received: dict"),
        (np.float64(3.0), {"left_size": 0.5}, GlassnetTypeError, r"Received: float64"),
    ],
)  # fmt: skip
def test_split_refuses_what_does_not_fit(
    dataset: Any, kwargs: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        split_dataset(dataset, **kwargs)


# -- set_random_seed --------------------------------------------------------------------
def functional_kernel() -> np.ndarray:
    inputs = glassnet.Input((3,))
    hidden = Dense(4)(inputs)
    model = Model(inputs, Dense(1)(Dropout(0.5)(hidden)))
    return model.get_weights()[0]


def sequential_kernel(seed: int | None) -> np.ndarray:
    model = Sequential([Dense(4, input_dim=3), Dense(1)], seed=seed)
    return model.get_weights()[0]


def test_set_random_seed_fixes_functional_initial_weights() -> None:
    set_random_seed(11)
    first = functional_kernel()
    set_random_seed(11)
    np.testing.assert_array_equal(functional_kernel(), first)
    set_random_seed(12)
    assert not np.array_equal(functional_kernel(), first)


def test_a_sequential_seed_wins_over_set_random_seed() -> None:
    set_random_seed(1)
    first = sequential_kernel(5)
    set_random_seed(2)
    np.testing.assert_array_equal(sequential_kernel(5), first)


def test_set_random_seed_reaches_models_without_a_seed() -> None:
    # A model without a seed seeds its generator from the session generator, so
    # set_random_seed makes its initial weights repeat (as in Keras); a model's own
    # seed still wins.
    set_random_seed(3)
    first = sequential_kernel(None)
    set_random_seed(3)
    assert np.array_equal(sequential_kernel(None), first)
    set_random_seed(4)
    assert not np.array_equal(sequential_kernel(None), first)
    set_random_seed(3)
    seeded = sequential_kernel(7)
    set_random_seed(4)
    assert np.array_equal(sequential_kernel(7), seeded)


def test_set_random_seed_refuses_bad_seeds() -> None:
    with pytest.raises(GlassnetTypeError, match="Received: seed=None"):
        set_random_seed(None)  # type: ignore[arg-type]
    with pytest.raises(GlassnetTypeError, match="seed=-2"):
        set_random_seed(-2)
