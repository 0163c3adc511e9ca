"""The multi-node deployment shape: a separately started ``dask scheduler`` and two
``dask worker`` processes on 127.0.0.1 (issue 16).

Unlike a LocalCluster, whose scheduler lives in the test process, this scheduler
unpickles the task graph itself, so it needs glassnet as much as the workers do
("Error during deserialization of the task graph" otherwise). It runs the checks
(b) Incremental, bitwise as a local loop, and (d) GridSearchCV under joblib's
Dask backend, from ``test_cluster_dask.py``.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")
pytest.importorskip(
    "dask_ml.wrappers",
    reason='the cluster tests need the dask extra: pip install "glassnet[dask]"',
)

import distributed
from test_cluster_dask import (
    check_grid_search_matches_sequential,
    check_incremental_matches_local_loop,
)
from test_cluster_support import (
    check_every_listener_on_loopback,
    deadline,
    start_dask_processes,
)

pytestmark = pytest.mark.cluster


def test_a_scheduler_and_two_worker_processes_run_incremental_and_a_search(tmp_path):
    with start_dask_processes(tmp_path) as scheduler_file:
        with deadline(150, "Incremental and GridSearchCV on dask processes"):
            with distributed.Client(
                scheduler_file=scheduler_file, timeout="30s"
            ) as client:
                client.wait_for_workers(2, timeout=90)
                hosts = {
                    info["host"] for info in client.scheduler_info()["workers"].values()
                }
                assert hosts == {"127.0.0.1"}
                assert client.scheduler.address.startswith("tcp://127.0.0.1:")
                check_every_listener_on_loopback(client)
                check_incremental_matches_local_loop(client)
                check_grid_search_matches_sequential(client)
