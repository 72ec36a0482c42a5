"""A real `prefect server` on a free loopback port: deployments registered by `xxgk serve`, a
backfill of two years triggered through the API, and the cron schedules creating runs."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db"}
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 180, "the Prefect server")
        yield api, env, home
    finally:
        _stop(proc)
        log.close()


def test_serve_then_backfill_two_years(server: tuple[str, dict[str, str], Path], tmp_path: Path) -> None:
    api, env, _home = server
    out = tmp_path / "out"
    serve_log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--catalogue",
                              str(ROOT / "data" / "samples" / "catalogue.csv"), "--data-dir", str(out)],
                             env=env, cwd=ROOT, stdout=serve_log, stderr=subprocess.STDOUT)
    try:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        async def deployments() -> dict[str, object]:
            async with get_client() as client:
                return {f"{d.name}": d for d in await client.read_deployments()}

        with temporary_settings(updates={PREFECT_API_URL: api}):
            _wait(lambda: {"latest-year", "backfill"} <= set(asyncio.run(deployments())), 120,
                  "the deployments served by xxgk serve")
            latest = asyncio.run(deployments())["latest-year"]
            crons = sorted((s.schedule.cron, s.schedule.timezone) for s in latest.schedules)  # type: ignore[attr-defined]
            assert crons == [("30 6 * 1-3 *", "Asia/Shanghai"), ("30 6 * 4-12 1", "Asia/Shanghai")]

            from prefect.deployments import run_deployment

            run = run_deployment("backfill/backfill", parameters={"start_year": 2020, "end_year": 2021},
                                 timeout=600)
            assert run.state is not None and run.state.is_completed(), run.state

            years = duckdb.sql(
                f"select year, count(*) from read_parquet('{out}/curated/reports/*/*.parquet', "
                "hive_partitioning=true) group by 1 order by 1").fetchall()
            assert years == [(2020, 3), (2021, 2)]
            quarantined = duckdb.sql(
                f"select organ from read_parquet('{out}/quarantine/reports/*/*.parquet', hive_partitioning=true)"
            ).fetchall()
            assert quarantined == [("河曲县人民政府办公室",)]

            async def scheduled() -> int:
                async with get_client() as client:
                    runs = await client.read_flow_runs()
                    return sum(1 for r in runs if r.deployment_id == latest.id  # type: ignore[attr-defined]
                               and r.state is not None and r.state.is_scheduled())

            # the scheduler service (needs sqlalchemy<2.1) creates the next cron runs within a minute or so
            _wait(lambda: asyncio.run(scheduled()) > 0, 150, "scheduled runs of latest-year")
    finally:
        _stop(serve)
        serve_log.close()
