"""glassnet.datasets: the seed tables, the seeded toy shapes, scikit-learn's sets."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet import datasets
from glassnet.errors import (
    DataError,
    GlassnetTypeError,
    InvalidArgumentError,
    ShapeError,
)
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import Adam

GENERATORS = [datasets.two_moons, datasets.circles, datasets.spirals, datasets.blobs]


def test_xor_is_the_truth_table():
    x, y = datasets.xor()
    assert x.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(y, np.logical_xor(x[:, 0], x[:, 1]))


def test_people_are_the_seed_000_table_with_its_shifts():
    x, y, names = datasets.people(return_names=True)
    assert names == ["Alice", "Bob", "Charlie", "Diana"]
    np.testing.assert_array_equal(x, [[-2, -1], [25, 6], [17, 4], [-15, -6]])
    np.testing.assert_array_equal(y, [1, 0, 0, 1])
    # The tutorial's shifts: weight - 135 lb, height - 66 in (Alice: 133 lb, 65 in).
    np.testing.assert_array_equal(x[0] + [135, 66], [133, 65])


def test_people_second_table_is_seed_001s():
    x, y = datasets.people_second_table()
    np.testing.assert_array_equal(x, [[-2, 5], [-5, -2], [-23, -11], [30, 8]])
    np.testing.assert_array_equal(y, [1, 1, 0, 0])
    assert datasets.people_second_table(return_names=True)[2][0] == "youge"


def test_return_names_must_be_a_bool():
    with pytest.raises(GlassnetTypeError, match="return_names"):
        datasets.people(return_names="yes")


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_return_float_features_and_int_labels(make):
    x, y = make(37, seed=0)
    assert x.shape == (37, 2) and x.dtype == np.float64
    assert y.shape == (37,) and y.dtype == np.int64
    assert np.isfinite(x).all()


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(make):
    first, again, other = make(50, seed=3), make(50, seed=3), make(50, seed=4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("make", GENERATORS)
def test_a_generator_can_be_passed_as_the_seed(make):
    x, _ = make(20, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(x, make(20, seed=7)[0])


@pytest.mark.parametrize("make", GENERATORS)
def test_rows_are_shuffled_so_the_last_rows_hold_every_class(make):
    # Keras' validation_split takes the last rows: they must not be one class.
    _, y = make(200, seed=0)
    assert len(np.unique(y[-40:])) > 1


def test_moons_without_noise_lie_on_their_arcs():
    x, y = datasets.two_moons(101, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [50, 51]
    np.testing.assert_allclose(np.hypot(x[y == 0, 0], x[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1.0)


def test_circles_radii_are_one_and_factor():
    x, y = datasets.circles(60, noise=0.0, factor=0.25, seed=0)
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.25)


def test_noise_is_the_standard_deviation_of_the_offsets():
    clean, _ = datasets.circles(20000, noise=0.0, seed=5)
    noisy, _ = datasets.circles(20000, noise=0.2, seed=5)
    # Same seed: the shuffle differs in draw order, so compare the radius spread.
    spread = np.std(np.hypot(noisy[:, 0], noisy[:, 1])[np.hypot(*clean.T) > 0.75])
    assert 0.15 < spread < 0.35


def test_spirals_have_one_arm_per_class_within_the_unit_disc():
    x, y = datasets.spirals(301, noise=0.0, n_classes=3, seed=0)
    assert np.bincount(y).tolist() == [101, 100, 100]
    assert np.hypot(x[:, 0], x[:, 1]).max() <= 1.0 + 1e-12


def test_blobs_with_given_centers_and_spreads():
    centers = [[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]]
    x, y = datasets.blobs(1000, centers=centers, cluster_std=[0.0, 2.0], seed=1)
    assert x.shape == (1000, 3)
    np.testing.assert_array_equal(x[y == 0], 0.0)
    assert 1.8 < x[y == 1].std() < 2.2


def test_blobs_draws_centers_in_the_box():
    x, y = datasets.blobs(300, centers=4, cluster_std=0.0, n_features=5, seed=2)
    assert x.shape == (300, 5) and len(np.unique(x, axis=0)) == 4
    assert np.abs(x).max() <= 10
    assert np.bincount(y).tolist() == [75, 75, 75, 75]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 400),
    noise=st.floats(0.0, 2.0),
    classes=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_size_and_noise_give_valid_data(n, noise, classes, seed):
    for x, y, k in [
        (*datasets.two_moons(n, noise, seed=seed), 2),
        (*datasets.circles(n, noise, seed=seed), 2),
        (*datasets.spirals(n, noise, n_classes=classes, seed=seed), classes),
        (*datasets.blobs(n, centers=classes, cluster_std=noise, seed=seed), classes),
    ]:
        assert x.shape == (n, 2) and y.shape == (n,)
        assert np.isfinite(x).all()
        assert y.min() >= 0 and y.max() < k
        # Every class gets n // k or n // k + 1 samples.
        counts = np.bincount(y, minlength=k)
        assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize(
    ("n_samples", "error"),
    [
        (0, InvalidArgumentError),
        (-3, InvalidArgumentError),
        (2.5, GlassnetTypeError),
        (True, GlassnetTypeError),
        ("100", GlassnetTypeError),
    ],
)
def test_n_samples_must_be_a_positive_int(make, n_samples, error):
    with pytest.raises(error, match="n_samples"):
        make(n_samples)


@pytest.mark.parametrize(
    "make", [datasets.two_moons, datasets.circles, datasets.spirals]
)
@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf")])
def test_noise_must_be_a_finite_non_negative_number(make, noise):
    with pytest.raises(InvalidArgumentError, match="noise"):
        make(10, noise=noise)


def test_bad_seeds_are_refused():
    with pytest.raises(GlassnetTypeError, match="seed"):
        datasets.two_moons(10, seed=-1)
    with pytest.raises(GlassnetTypeError, match="seed"):
        datasets.spirals(10, seed="abc")


def test_bad_shape_arguments_are_refused():
    with pytest.raises(InvalidArgumentError, match="factor"):
        datasets.circles(10, factor=1.0)
    with pytest.raises(InvalidArgumentError, match="n_classes"):
        datasets.spirals(10, n_classes=0)
    with pytest.raises(DataError, match="centers"):
        datasets.blobs(10, centers=[1.0, 2.0])
    with pytest.raises(ShapeError, match="centers"):
        datasets.blobs(10, centers=np.zeros((2, 2, 2)))
    with pytest.raises(GlassnetTypeError, match="centers"):
        datasets.blobs(10, centers="three")
    with pytest.raises(ShapeError, match="one value per center"):
        datasets.blobs(10, centers=3, cluster_std=[1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="cluster_std"):
        datasets.blobs(10, cluster_std=-1.0)
    with pytest.raises(InvalidArgumentError, match="n_features"):
        datasets.blobs(10, n_features=0)


@pytest.mark.parametrize(
    ("load", "shape", "n_classes"),
    [
        (datasets.iris, (150, 4), 3),
        (datasets.digits, (1797, 64), 10),
        (datasets.breast_cancer, (569, 30), 2),
    ],
)
def test_scikit_learn_sets(load, shape, n_classes):
    pytest.importorskip("sklearn")
    x, y = load()
    assert x.shape == shape and x.dtype == np.float64 and y.dtype == np.int64
    assert len(np.unique(y)) == n_classes


def test_digits_as_images_keep_the_pixel_grid():
    # scikit-learn's images are row-major 8 x 8: row r, column c is feature 8 r + c
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    images, y = datasets.digits(images=True)
    assert images.shape == (1797, 8, 8, 1) and y.shape == (1797,)
    np.testing.assert_array_equal(images[..., 0], load_digits().images)
    with pytest.raises(GlassnetTypeError, match="images"):
        datasets.digits(images="yes")


def test_scikit_learn_sets_without_scikit_learn_say_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(ModuleNotFoundError, match=r"pip install glassnet\[sklearn\]"):
        datasets.iris()
    # The generators do not need scikit-learn, nor does importing the module.
    importlib.reload(datasets)
    assert datasets.two_moons(4, seed=0)[0].shape == (4, 2)


def test_a_small_network_learns_two_moons():
    x, y = datasets.two_moons(200, noise=0.1, seed=0)
    model = Sequential(
        [Dense(16, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")],
        seed=0,
    )
    model.compile(
        optimizer=Adam(learning_rate=0.02),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=300, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


# --- sequences: the digits row by row, sine waves, pydoc text ----------------------


def test_digits_as_sequences_are_the_rows_of_the_images():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    rows, y = datasets.digits(sequences=True)
    assert rows.shape == (1797, 8, 8) and rows.dtype == np.float64
    # sample n, step t, feature j is pixel (row t, column j) of image n
    np.testing.assert_array_equal(rows, load_digits().images)
    np.testing.assert_array_equal(y, load_digits().target)
    with pytest.raises(InvalidArgumentError, match="not both"):
        datasets.digits(images=True, sequences=True)
    with pytest.raises(GlassnetTypeError, match="sequences"):
        datasets.digits(sequences=1)


def test_sine_classification_shapes_balance_and_seed():
    x, y = datasets.sine_classification(
        103, steps=32, n_features=3, n_classes=4, seed=2
    )
    assert x.shape == (103, 32, 3) and x.dtype == np.float64
    assert y.shape == (103,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [26, 26, 26, 25]
    again, _ = datasets.sine_classification(
        103, steps=32, n_features=3, n_classes=4, seed=2
    )
    np.testing.assert_array_equal(x, again)
    other, _ = datasets.sine_classification(
        103, steps=32, n_features=3, n_classes=4, seed=3
    )
    assert not np.array_equal(x, other)
    assert len(np.unique(y[-20:])) > 1  # shuffled: validation_split sees every class


def test_sine_classification_classes_are_frequency_bands():
    # Without noise each channel is a sine; its frequency, measured by fitting
    # sin and cos at fine frequencies, lies in the class's band of cycles.
    steps, classes = 64, 5
    x, y = datasets.sine_classification(
        200, steps=steps, n_features=2, n_classes=classes, noise=0.0, seed=0
    )
    width = (steps / 4 - 1) / classes
    t = np.arange(steps) / steps
    grid = np.linspace(0.5, steps / 4 + 0.5, 2000)
    basis = np.stack(
        [np.sin(2 * np.pi * grid[:, None] * t), np.cos(2 * np.pi * grid[:, None] * t)],
        1,
    )
    for sample, label in zip(x[:60], y[:60], strict=True):
        for channel in sample.T:
            # least squares fit of a sin + b cos at every frequency: the best one
            coef = np.einsum("fkt,t->fk", basis, channel) / (steps / 2)
            residual = np.sum((channel - np.einsum("fk,fkt->ft", coef, basis)) ** 2, 1)
            cycles = grid[np.argmin(residual)]
            assert 1 + label * width - 0.05 <= cycles <= 1 + (label + 1) * width + 0.05
        amplitude = np.abs(sample).max(axis=0)
        assert np.all(amplitude <= 1.5 + 1e-12)
    noisy, _ = datasets.sine_classification(
        200, steps=steps, n_features=2, n_classes=classes, noise=0.2, seed=0
    )
    assert 0.17 < np.std(noisy - x) < 0.23  # same draws, plus the noise


def test_sine_forecasting_targets_continue_the_window():
    # Both periods equal: one sine of period p, so every value follows the
    # recurrence s[t+1] = 2 cos(2 pi / p) s[t] - s[t-1], across the window's end too.
    x, y = datasets.sine_forecasting(
        50, steps=20, horizon=5, min_period=9.0, max_period=9.0, seed=4
    )
    assert x.shape == (50, 20, 1) and y.shape == (50, 5)
    series = np.concatenate([x[:, :, 0], y], axis=1)
    k = 2 * np.cos(2 * np.pi / 9.0)
    np.testing.assert_allclose(
        series[:, 2:], k * series[:, 1:-1] - series[:, :-2], atol=1e-12
    )
    assert np.abs(series).max() <= 1.2
    noisy, same_y = datasets.sine_forecasting(
        50, steps=20, horizon=5, noise=0.1, min_period=9.0, max_period=9.0, seed=4
    )
    np.testing.assert_array_equal(same_y, y)  # the targets stay clean
    assert 0.08 < np.std(noisy - x) < 0.12


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: datasets.sine_classification(10, steps=7),
            InvalidArgumentError,
            "at least 8",
        ),
        (
            lambda: datasets.sine_classification(10, n_features=0),
            InvalidArgumentError,
            "n_features",
        ),
        (
            lambda: datasets.sine_classification(10, noise=-1),
            InvalidArgumentError,
            "noise",
        ),
        (
            lambda: datasets.sine_forecasting(10, horizon=0),
            InvalidArgumentError,
            "horizon",
        ),
        (lambda: datasets.sine_forecasting(10, steps=1), InvalidArgumentError, "steps"),
        (
            lambda: datasets.sine_forecasting(10, min_period=1.0),
            InvalidArgumentError,
            "min_period",
        ),
        (
            lambda: datasets.sine_forecasting(10, min_period=9, max_period=8),
            InvalidArgumentError,
            "max_period",
        ),
        (lambda: datasets.sine_forecasting(10, seed="x"), GlassnetTypeError, "seed"),
    ],
)
def test_bad_sequence_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_pydoc_text_is_every_topic_joined():
    from pydoc_data.topics import topics

    text = datasets.pydoc_text()
    assert text == "\n".join(topics[name] for name in sorted(topics))
    assert text.startswith(topics["assert"])
    vocabulary = datasets.Vocabulary.from_text(text)
    assert vocabulary.chars == "".join(sorted(set(text)))
    ids = vocabulary.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert ids.min() == 0 and ids.max() == vocabulary.size - 1
    assert vocabulary.decode(ids) == text
    assert [vocabulary.chars[i] for i in ids[:10]] == list(text[:10])


def test_vocabulary_errors_name_the_character_or_id():
    vocabulary = datasets.Vocabulary("abc")
    assert len(vocabulary) == 3 and repr(vocabulary) == "Vocabulary(3 characters)"
    assert datasets.Vocabulary(["c", "a", "a"]).chars == "ac"
    with pytest.raises(DataError, match="'z' at position 2"):
        vocabulary.encode("abz")
    with pytest.raises(DataError, match="holds 3 at position 1"):
        vocabulary.decode([0, 3])
    with pytest.raises(DataError, match="holds -1"):
        vocabulary.decode(np.array([-1]))
    with pytest.raises(DataError, match="integer ids"):
        vocabulary.decode([0.5])
    with pytest.raises(GlassnetTypeError, match="str"):
        vocabulary.encode(b"abc")
    with pytest.raises(GlassnetTypeError, match="single characters"):
        datasets.Vocabulary(["ab"])
    with pytest.raises(InvalidArgumentError, match="at least one"):
        datasets.Vocabulary("")
    assert vocabulary.decode([]) == ""


def test_text_windows_targets():
    ids = np.arange(100, 120)
    x, y = datasets.text_windows(ids, 5)
    assert x.shape == y.shape == (3, 5) and x.dtype == np.int64
    np.testing.assert_array_equal(x[1], ids[5:10])
    np.testing.assert_array_equal(y, x + 1)  # every position's next id
    x, y = datasets.text_windows(ids, 5, step=2, targets="next")
    assert x.shape == (8, 5) and y.shape == (8,)
    np.testing.assert_array_equal(x[:, 0], ids[0:16:2])
    np.testing.assert_array_equal(y, x[:, -1] + 1)
    assert datasets.text_windows(ids[:6], 5)[0].shape == (1, 5)
    with pytest.raises(ShapeError, match="need 6 ids"):
        datasets.text_windows(ids[:5], 5)
    with pytest.raises(DataError, match="1-D"):
        datasets.text_windows(np.zeros((2, 8), dtype=int), 3)
    with pytest.raises(DataError, match="integer"):
        datasets.text_windows(np.zeros(8), 3)
    with pytest.raises(InvalidArgumentError, match="targets"):
        datasets.text_windows(ids, 3, targets="all")
    with pytest.raises(InvalidArgumentError, match="step"):
        datasets.text_windows(ids, 3, step=0)


def test_pydoc_characters_are_the_encoded_windows():
    x, y, vocabulary = datasets.pydoc_characters(64, step=100, targets="next")
    text = datasets.pydoc_text()
    assert x.shape == ((len(text) - 65) // 100 + 1, 64)
    assert (
        vocabulary.decode(x[3]) == text[300:364] and vocabulary.chars[y[3]] == text[364]
    )


def test_a_small_gru_tells_the_sine_bands_apart():
    from glassnet.layers import GRU, Input

    # three bands of frequencies, chance 1/3; measured here: 97.3 %
    x, y = datasets.sine_classification(600, steps=32, n_classes=3, noise=0.1, seed=0)
    model = Sequential(
        [Input((32, 1)), GRU(12), Dense(3, activation="softmax")], seed=0
    )
    model.compile(
        optimizer=Adam(learning_rate=0.02),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x[:450], y[:450], epochs=20, batch_size=32, verbose=0)
    assert model.evaluate(x[450:], y[450:], verbose=0)[1] > 0.9
