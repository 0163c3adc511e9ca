"""The preparation ``glassnet train`` saves with a model, checked against scikit-learn.

The fitted plan must compute what scikit-learn's ``SimpleImputer`` (median / most
frequent, ``add_indicator=True``) and ``OneHotEncoder(handle_unknown="ignore")``
compute, standardize with the training columns' mean and (population) standard
deviation, and read dates as Python's ``datetime`` does. The user-visible parts
(notices, refusals, the target mapped back) run as subprocesses.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pytest
from test_cli import glassnet, ok, one_error, write_csv

from glassnet.cli.app import CliError
from glassnet.cli.info import ModelInfo
from glassnet.cli.prep import Plan, fit_plan
from glassnet.cli.tables import ReadOptions, read_table
from glassnet.errors import ModelFileError
from glassnet.io import read_metadata

sklearn = pytest.importorskip("sklearn")
from sklearn.impute import MissingIndicator, SimpleImputer  # noqa: E402
from sklearn.preprocessing import OneHotEncoder  # noqa: E402

CARS = """name,mpg,cylinders,horsepower,weight,origin,year,id
chevrolet malibu,18,8,130,3504,usa,1970-01-01,0
buick skylark,15,8,165,3693,usa,1970-01-01,1
ford torino,,8,140,3449,usa,1971-01-01,2
renault 12,?,4,NA,2219,europe,1971-01-01,3
datsun pl510,27,4,88,2130,japan,1972-01-01,4
vw super beetle,26,4,46,1835,europe,1972-01-01,5
toyota corona,25,4,?,2372,japan,1973-01-01,6
amc hornet,18,6,97,2774,usa,1973-01-01,7
peugeot 504,25,4,87,2672,,1974-01-01,8
audi 100ls,24,4,90,2430,europe,1974-01-01,9
saab 99e,25,4,95,2375,europe,1975-01-01,10
bmw 2002,26,4,113,2234,europe,1975-01-01,11
"""


def cars(tmp_path: Path) -> Path:
    path = tmp_path / "cars.csv"
    path.write_text(CARS)
    return path


def test_numbers_and_categories_match_scikit_learn(tmp_path: Path) -> None:
    table = read_table(str(cars(tmp_path)), ReadOptions(progress=False))
    plan, _ = fit_plan(table, ["horsepower", "weight", "origin"], named=())
    x, report = plan.transform(table, np.float64)
    assert plan.input_names == [
        "horsepower",
        "horsepower (missing)",
        "weight",
        "origin=europe",
        "origin=japan",
        "origin=usa",
        "origin (missing)",
    ]
    assert report.imputed == {"horsepower": 2, "origin": 1}
    horsepower = table.columns["horsepower"].reshape(-1, 1)
    imputed = SimpleImputer(strategy="median", add_indicator=True).fit_transform(
        horsepower
    )
    present = horsepower[~np.isnan(horsepower)]
    assert np.allclose(x[:, 0], (imputed[:, 0] - present.mean()) / present.std())
    assert np.array_equal(x[:, 1], imputed[:, 1])
    weight = table.columns["weight"]
    assert np.allclose(x[:, 2], (weight - weight.mean()) / weight.std())
    origin = np.array(
        [v if v is not None else np.nan for v in table.columns["origin"]], dtype=object
    ).reshape(-1, 1)
    filled = SimpleImputer(strategy="most_frequent").fit_transform(origin)
    onehot = OneHotEncoder(handle_unknown="ignore").fit(filled)
    assert np.array_equal(x[:, 3:6], onehot.transform(filled).toarray())
    assert np.array_equal(x[:, 6], MissingIndicator().fit_transform(origin)[:, 0])
    # new data: an unknown category is all zeros, as handle_unknown="ignore"
    new = table.take(np.arange(3))
    new.columns["origin"] = np.array(["mars", "japan", None], dtype=object)
    y, report = plan.transform(new, np.float64)
    expected = onehot.transform(
        np.array([["mars"], ["japan"], ["europe"]], dtype=object)
    )
    assert np.array_equal(y[:, 3:6], expected.toarray())
    assert report.unknown == {"origin": {"mars": 1}}


def test_dates_become_their_parts(tmp_path: Path) -> None:
    days = [
        datetime.date(2012, 1, 1) + datetime.timedelta(days=37 * i) for i in range(30)
    ]
    write_csv(
        tmp_path / "w.csv",
        ["date", "rain", "weather"],
        [
            [d.strftime("%Y/%m/%d"), i % 3, "sun" if i % 2 else "rain"]
            for i, d in enumerate(days)
        ],
    )
    table = read_table(str(tmp_path / "w.csv"), ReadOptions(progress=False))
    plan, notices = fit_plan(table, ["date"], named=(), standardize=False)
    assert plan.input_names == ["date.year", "date.month", "date.day", "date.weekday"]
    assert notices == [
        "'date': dates (%Y/%m/%d), used as date.year, date.month, date.day, date.weekday"
    ]
    x, _ = plan.transform(table, np.float64)
    expected = [[d.year, d.month, d.day, d.weekday()] for d in days]
    assert np.array_equal(x, expected)
    out = ok(glassnet("train w.csv --target weather --epochs 1", cwd=tmp_path))
    assert "'date' as date.year, date.month, date.day, date.weekday" in out


def test_what_train_drops_and_keeps(tmp_path: Path) -> None:
    cars(tmp_path)
    out = ok(glassnet("train cars.csv --target mpg --epochs 1 --seed 0", cwd=tmp_path))
    out = " ".join(out.split())  # the block wraps at 80 columns
    assert "Note 2 rows without a target 'mpg' left out" in out
    assert "'id' dropped: a row number (0 to 11, each once)" in out
    assert "'name' dropped: 12 different texts in 12 rows" in out
    assert "'year' as year.year" in out
    inputs = read_metadata(tmp_path / "model.keras")["data"]["preparation"]["inputs"]
    assert [c["name"] for c in inputs] == [
        "cylinders",
        "horsepower",
        "weight",
        "origin",
        "year",
    ]
    # weight is whole numbers, all different, but no run of row numbers: kept
    weights = [3504, 3693, 3449, 2219, 2130, 1835, 2372, 2774, 2672, 2430, 2375, 2234]
    assert inputs[2] == {
        "kind": "number",
        "name": "weight",
        "fill": np.median(
            weights
        ),  # all 12 rows: the plan is fitted on the whole table
        "mean": pytest.approx(np.mean(weights)),
        "scale": pytest.approx(np.std(weights)),
        "indicator": False,
    }
    # named columns are used even when the rules would drop them
    out = ok(
        glassnet(
            "train cars.csv --target mpg --features id,name --epochs 1 -o named.keras",
            cwd=tmp_path,
        )
    )
    assert "'name' one-hot: 12 categories" in out


def test_missing_error_counts_per_column(tmp_path: Path) -> None:
    cars(tmp_path)
    one_error(
        glassnet("train cars.csv --target weight --missing error", cwd=tmp_path),
        "missing values (cells per column: mpg 2, horsepower 2, origin 1)",
    )
    bad = CARS.replace("3449", "heavy").replace("2130", "light").replace(",88,", ",x,")
    (tmp_path / "typos.csv").write_text(bad)
    one_error(
        glassnet("train typos.csv --target mpg", cwd=tmp_path),
        "'horsepower' has 1 cell that is not a number ('x' x1)",
        "'weight' has 2 cells that are not numbers",
        "--na-values",
    )
    ok(
        glassnet(
            "train typos.csv --target mpg --na-values heavy,light,x --epochs 1",
            cwd=tmp_path,
        )
    )


def test_regression_target_is_standardized_and_mapped_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    weight = 3000 + 800 * x[:, 0] - 300 * x[:, 1] + 20 * rng.normal(size=200)
    write_csv(
        tmp_path / "w.csv",
        ["a", "b", "weight"],
        [
            [f"{p:.4f}", f"{q:.4f}", f"{w:.1f}"]
            for (p, q), w in zip(x, weight, strict=True)
        ],
    )
    ok(glassnet("train w.csv --target weight --seed 0 -q", cwd=tmp_path))
    data = read_metadata(tmp_path / "model.keras")["data"]
    truth = np.round(weight, 1)
    assert data["target_mean"] == pytest.approx(truth.mean())
    assert data["target_scale"] == pytest.approx(truth.std())
    predicted = ok(glassnet("predict model.keras w.csv", cwd=tmp_path)).splitlines()
    values = np.array(predicted[1:], dtype=float)
    assert np.abs(values - truth).mean() < 60  # of a spread of 850: learned, in lbs
    report = ok(glassnet("evaluate model.keras w.csv", cwd=tmp_path))
    mae = float(report.splitlines()[1].split()[1])
    assert mae == pytest.approx(np.abs(values - truth).mean(), rel=1e-3)


def test_plan_json_round_trip_and_refusals(tmp_path: Path) -> None:
    table = read_table(str(cars(tmp_path)), ReadOptions(progress=False))
    plan, _ = fit_plan(table, ["horsepower", "origin", "year"], named=())
    info = ModelInfo("regression", "mpg", plan, None, 22.0, 4.0)
    text = json.dumps(info.to_json())
    again = ModelInfo.from_json(json.loads(text), "here")
    assert again.to_json() == info.to_json()
    x1, _ = plan.transform(table)
    x2, _ = again.plan.transform(table)
    assert np.array_equal(x1, x2)
    broken = json.loads(text)
    broken["preparation"]["inputs"][1]["fill"] = "atlantis"
    with pytest.raises(ModelFileError, match="fills with a category it does not list"):
        ModelInfo.from_json(broken, "here")
    broken = json.loads(text)
    broken["preparation"]["inputs"][0]["scale"] = 0
    with pytest.raises(ModelFileError, match="positive scale"):
        ModelInfo.from_json(broken, "here")
    with pytest.raises(ModelFileError, match="unknown kind"):
        Plan.from_json(
            {
                "missing": "impute",
                "dropped": [],
                "inputs": [{"kind": "eval", "name": "x", "indicator": False}],
            },
            lambda problem: ModelFileError(problem),
        )


def test_version_1_column_data_still_loads(tmp_path: Path) -> None:
    from glassnet.layers import Dense
    from glassnet.models import Sequential

    model = Sequential([Dense(3, activation="softmax", input_dim=2)], seed=0)
    model.compile(loss="sparse_categorical_crossentropy")
    old = {
        "version": 1,
        "task": "classification",
        "target": "kind",
        "features": ["height", "weight"],
        "classes": ["a", "b", "c"],
        "mean": [1.0, 2.0],
        "scale": [0.5, 2.0],
    }
    model.save(tmp_path / "old.keras", metadata={"data": old})
    write_csv(tmp_path / "new.csv", ["weight", "height"], [[2.0, 1.0], [4.0, 1.5]])
    out = ok(glassnet("predict old.keras new.csv --proba", cwd=tmp_path))
    x = (np.array([[1.0, 2.0], [1.5, 4.0]]) - [1.0, 2.0]) / [0.5, 2.0]
    expected = model.predict(x.astype(np.float32), verbose=0)
    rows = [line.split(",") for line in out.splitlines()[1:]]
    assert np.allclose(
        [[float(v) for v in row[1:]] for row in rows], expected, atol=1e-7
    )


def test_transform_in_row_blocks_is_the_whole_column_transform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of 3 rows give the same matrix and counts as one block of all rows."""
    import glassnet.cli.prep.plan as plan_module

    table = read_table(str(cars(tmp_path)), ReadOptions(progress=False))
    plan, _ = fit_plan(
        table, ["mpg", "horsepower", "weight", "origin", "year"], named=()
    )
    (tmp_path / "new.csv").write_text(
        CARS.replace("usa,1970", "mars,1970").replace(",130,", ",?,")
    )
    new = read_table(str(tmp_path / "new.csv"), ReadOptions(progress=False))
    (tmp_path / "typo.csv").write_text(CARS.replace("2130", "heavy"))
    typo = read_table(str(tmp_path / "typo.csv"), ReadOptions(progress=False))
    whole = [plan.transform(table), plan.transform(new)]
    monkeypatch.setattr(plan_module, "_BLOCK_ROWS", 3)
    for (x_whole, report_whole), t in zip(whole, [table, new], strict=True):
        x_blocks, report_blocks = plan.transform(t)
        np.testing.assert_array_equal(x_blocks, x_whole)
        assert report_blocks == report_whole
    report = plan.transform(new)[1]
    assert report.unknown == {"origin": {"mars": 2}}
    assert report.imputed == {"mpg": 2, "horsepower": 3, "origin": 1}
    # row 4, in the second block of 3, is line 6 of the file
    with pytest.raises(
        CliError, match=r"'weight' has 1 cell .*'heavy' x1\) on line 6\."
    ):
        plan.transform(typo)
