"""Scoring a Spark table with a glassnet model: the recipe of docs/distributed.md.

``pyspark.ml.functions.predict_batch_udf`` calls ``make_predict_fn`` once per
Python worker, which loads the glassnet ``.keras`` file there, then feeds it the
table in NumPy batches. The test runs the recipe on ``local[2]`` (two executor
threads, every socket on 127.0.0.1) and compares the scores with
``model.predict`` here. It needs PySpark and a Java runtime
(``pip install "glassnet[spark]"`` plus a JDK 17 or newer); without them it is
skipped with a message, except under CI (which installs both), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import warnings

import numpy as np
import pytest
from test_cluster_support import (
    check_process_tree_listens_on_loopback,
    deadline,
    missing_engine,
)

from glassnet.layers import Dense
from glassnet.models import Sequential

pytestmark = pytest.mark.cluster

if importlib.util.find_spec("pyspark") is None:
    missing_engine(
        'PySpark is not installed: pip install "glassnet[spark]" runs this test'
    )
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    missing_engine(
        "Spark needs a Java runtime (JDK 17+), and none was found: no `java` on "
        "PATH and no JAVA_HOME"
    )


def make_scorer(path: str, features: int):
    """The recipe: a pandas UDF that scores rows with the model saved at ``path``."""
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import ArrayType, FloatType

    def make_predict_fn():
        # runs on each Python worker: load once, then score batch after batch
        from glassnet.models import load_model

        model = load_model(path, compile=False)

        def predict(rows: np.ndarray) -> np.ndarray:
            return model.predict(rows.astype(np.float32), verbose=0)

        return predict

    return predict_batch_udf(
        make_predict_fn,
        return_type=ArrayType(FloatType()),
        batch_size=256,
        input_tensor_shapes=[[features]],
    )


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    # Every socket on 127.0.0.1; the workers run this Python (and this glassnet).
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    with deadline(180, "starting Spark on local[2]"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PySpark's pandas 3 notice
        session = (
            SparkSession.builder.master("local[2]")
            .appName("glassnet-test")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.local.dir", str(tmp_path_factory.mktemp("spark")))
            .getOrCreate()
        )
    yield session
    with deadline(60, "stopping Spark"):
        session.stop()


def test_predict_batch_udf_scores_a_table_with_a_saved_model(spark, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    model = Sequential(
        [Dense(16, activation="relu", input_dim=6), Dense(3, activation="softmax")],
        seed=0,
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, verbose=0)
    path = str(tmp_path / "scorer.keras")
    model.save(path)

    with deadline(180, "scoring a Spark table"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PySpark's pandas 3 notice
        table = spark.createDataFrame(
            [(i, row.tolist()) for i, row in enumerate(x)], ["id", "features"]
        ).repartition(4)
        scorer = make_scorer(path, features=6)
        rows = table.withColumn("scores", scorer("features")).orderBy("id").collect()

    scores = np.array([row["scores"] for row in rows], dtype=np.float32)
    expected = model.predict(x, verbose=0)
    assert scores.shape == (1000, 3)
    # float32 in batches of 256 against one call: the same up to float32 rounding
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(scores.argmax(axis=1), expected.argmax(axis=1))
    # the JVM and its Python workers, still up, listen on 127.0.0.1 only
    pytest.importorskip("psutil", reason="listing Spark's sockets needs psutil")
    listeners = check_process_tree_listens_on_loopback()
    assert any("java" in who for who in listeners), listeners
