"""The batches on a real Dask cluster (a `distributed.LocalCluster` of two worker processes started
here): the published datasets are identical to the single-process run's, and the batches really ran
in the workers' processes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.generate_year import generate
from tests.flows.test_streamed import _published

pytestmark = pytest.mark.usefixtures("prefect_backend")


def test_dask_cluster_publishes_what_one_process_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import Client, LocalCluster
    from prefect.settings import PREFECT_API_URL

    from flows.ingest import ingest

    # The workers are separate processes: like a real cluster's, they are told where the API is.
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    catalogue = str(generate(24, 2021, tmp_path / "gen", seed=3, error_rate=0.2))
    single = ingest(year=2021, catalogue=catalogue, data_dir=str(tmp_path / "single"), batch_size=4,
                    min_reports_for_rate=1000)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        workers = set(client.run(os.getpid).values())
        assert len(workers) == 2 and os.getpid() not in workers
        on_dask = ingest(year=2021, catalogue=catalogue, data_dir=str(tmp_path / "dask"), batch_size=4,
                         min_reports_for_rate=1000, dask_address=cluster.scheduler_address)
        assert on_dask["counts"] == single["counts"]
    # every batch was extracted in a Dask worker's process, not in this one
    ran_in = {int(json.loads(p.read_text())["worker"].rsplit(":", 1)[1])
              for p in (tmp_path / "dask" / "_cache" / "batches").rglob("batch.json")}
    assert ran_in and ran_in <= workers
    a, b = _published(str(tmp_path / "single")), _published(str(tmp_path / "dask"))
    for name in a:
        assert a[name].equals(b[name]), name
    assert a["curated/reports"].height > 0 and a["quarantine/reports"].height > 0
