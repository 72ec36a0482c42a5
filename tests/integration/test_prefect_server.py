"""A real `prefect server` on a free loopback port and both deployment routes on it: prefect.yaml
deployed to a process work pool with a real worker, and `xxgk serve`; backfills triggered through
the API complete on each, with their INFO lines on the server; serving does not break the worker
route; the cron schedules create runs; `xxgk serve` stops on SIGTERM, also once the API is gone."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT
from tests.integration.server import prefect_server, stop, wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, dict[str, str], Path, subprocess.Popen]]:  # type: ignore[type-arg]
    home = tmp_path_factory.mktemp("prefect-home")
    # INFO: what an operator has, runs log their progress to the server
    with prefect_server(home, PREFECT_LOGGING_LEVEL="INFO") as (api, env, proc):
        yield api, env, home, proc


def _years(out: Path) -> list[tuple[int, int]]:
    return duckdb.sql(f"select year, count(*) from read_parquet('{out}/curated/reports/*/*.parquet', "
                      "hive_partitioning=true) group by 1 order by 1").fetchall()


def _info_lines(api: str, flow_run_ids: set[object]) -> list[str]:
    """INFO records the server holds for these flow runs and their subflow runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId, LogFilter
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def read() -> list[str]:
        async with get_client() as client:
            children = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=list(flow_run_ids))))
            ids = [*flow_run_ids, *(c.id for c in children)]
            logs = await client.read_logs(log_filter=LogFilter(flow_run_id={"any_": ids}), limit=200)
            return [log.message for log in logs if log.level == 20]

    with temporary_settings(updates={PREFECT_API_URL: api}):
        return asyncio.run(read())


def test_both_routes_on_one_server(server: tuple[str, dict[str, str], Path, subprocess.Popen],  # type: ignore[type-arg]
                                   tmp_path: Path) -> None:
    api, env, _home, server_proc = server
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def deployments() -> dict[str, object]:
        async with get_client() as client:
            return {f"{d.name}": d for d in await client.read_deployments()}

    # -- the worker route: prefect.yaml (rendered from flows/deployments.py) on a process work pool
    for argv in (["work-pool", "create", "xxgk", "--type", "process"], ["--no-prompt", "deploy", "--all"]):
        done = subprocess.run([sys.executable, "-m", "prefect", *argv], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
    worker_log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "xxgk", "--limit", "1"],
                              env={**env, "PREFECT_WORKER_QUERY_SECONDS": "2"}, cwd=tmp_path,  # not the checkout
                              stdout=worker_log, stderr=subprocess.STDOUT)
    serve_log = (tmp_path / "serve.log").open("w")
    serve: subprocess.Popen | None = None  # type: ignore[type-arg]
    try:
        with temporary_settings(updates={PREFECT_API_URL: api}):
            by_worker = tmp_path / "by-worker"
            run = run_deployment("backfill/backfill", timeout=600, parameters={
                "start_year": 2020, "end_year": 2021, "data_dir": str(by_worker)})
            assert run.state is not None and run.state.is_completed(), (tmp_path / "worker.log").read_text()
            assert _years(by_worker) == [(2020, 3), (2021, 2)]
            info = _info_lines(api, {run.id})
            assert any("2020: 4 document(s) to read" in m for m in info), info  # progress reaches the server
            with get_client(sync_client=True) as client:  # the pull step created the runs' shared limit
                assert client.read_global_concurrency_limit_by_name("xxgk-sites").limit == 1

            # -- the serve route, from the same definition, under its own names
            serve = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--catalogue",
                                      str(ROOT / "data" / "samples" / "catalogue.csv"), "--data-dir",
                                      str(tmp_path / "unused")],
                                     env=env, cwd=ROOT, stdout=serve_log, stderr=subprocess.STDOUT)
            wait_for(lambda: {"latest-year-serve", "backfill-serve"} <= set(asyncio.run(deployments())), 120,
                  "the deployments served by xxgk serve")
            found = asyncio.run(deployments())
            latest = found["latest-year-serve"]
            crons = sorted((s.schedule.cron, s.schedule.timezone) for s in latest.schedules)  # type: ignore[attr-defined]
            assert crons == [("30 6 * 1-3 *", "Asia/Shanghai"), ("30 6 * 4-12 1", "Asia/Shanghai")]
            assert found["backfill"].work_pool_name == "xxgk"  # type: ignore[attr-defined]  # not replaced

            by_serve = tmp_path / "by-serve"
            run = run_deployment("backfill/backfill-serve", timeout=600, parameters={
                "start_year": 2020, "end_year": 2021, "data_dir": str(by_serve)})
            assert run.state is not None and run.state.is_completed(), run.state
            assert _years(by_serve) == [(2020, 3), (2021, 2)]
            quarantined = duckdb.sql(f"select organ from read_parquet('{by_serve}/quarantine/reports/*/*.parquet', "
                                     "hive_partitioning=true)").fetchall()
            assert quarantined == [("河曲县人民政府办公室",)]
            info = _info_lines(api, {run.id})
            assert any("2021: 2 document(s) to read" in m for m in info), info

            # -- the worker route still works after serve registered its deployments
            run = run_deployment("backfill/backfill", timeout=600, parameters={
                "start_year": 2022, "end_year": 2022, "data_dir": str(by_worker)})
            assert run.state is not None and run.state.is_completed(), run.state
            assert _years(by_worker) == [(2020, 3), (2021, 2), (2022, 1)]

            async def scheduled() -> int:
                async with get_client() as client:
                    runs = await client.read_flow_runs()
                    return sum(1 for r in runs if r.deployment_id == latest.id  # type: ignore[attr-defined]
                               and r.state is not None and r.state.is_scheduled())

            # the scheduler service (needs sqlalchemy<2.1) creates the next cron runs within a minute or so
            wait_for(lambda: asyncio.run(scheduled()) > 0, 150, "scheduled runs of latest-year-serve")

        # -- SIGTERM stops serve within seconds, also when the API has gone away
        stop(worker)
        server_proc.terminate()
        server_proc.wait(30)
        start = time.monotonic()
        serve.terminate()
        serve.wait(30)
        assert time.monotonic() - start < 15, time.monotonic() - start
    finally:
        for proc in (worker, serve):
            if proc is not None and proc.poll() is None:
                proc.kill()
        worker_log.close()
        serve_log.close()
