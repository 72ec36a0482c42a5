"""Deployments: the latest reporting year on a schedule, and a parameterised backfill.

Schedules are in Asia/Shanghai: daily at 06:30 in the reporting season (January to March, when
reports appear), weekly on Mondays at 06:30 otherwise. `xxgk serve` registers both deployments
on the Prefect server named by PREFECT_API_URL and runs their flow runs in this process
(`prefect.serve`); prefect.yaml describes the same deployments for `prefect deploy` and a worker.
"""

from __future__ import annotations

from typing import Any

from prefect.schedules import Cron

from flows.ingest import backfill, ingest
from tasks.settings import DEFAULT_CATALOGUE, DEFAULT_DATA_DIR

TIMEZONE = "Asia/Shanghai"
SEASON_CRON = "30 6 * 1-3 *"  # daily, January to March
OFF_SEASON_CRON = "30 6 * 4-12 1"  # Mondays, April to December


def build_deployments(catalogue: str = DEFAULT_CATALOGUE, data_dir: str = DEFAULT_DATA_DIR) -> list[Any]:
    params = {"catalogue": catalogue, "data_dir": data_dir}
    return [
        ingest.to_deployment(
            name="latest-year",
            description="Ingest the latest reporting year (daily in the season, weekly otherwise).",
            schedules=[Cron(SEASON_CRON, timezone=TIMEZONE), Cron(OFF_SEASON_CRON, timezone=TIMEZONE)],
            parameters=params, concurrency_limit=1, tags=["xxgk"],
        ),
        backfill.to_deployment(
            name="backfill",
            description="Ingest a range of past reporting years; completed years are skipped unless force.",
            parameters=params, concurrency_limit=1, tags=["xxgk", "backfill"],
        ),
    ]


def serve_deployments(catalogue: str = DEFAULT_CATALOGUE, data_dir: str = DEFAULT_DATA_DIR) -> None:
    from prefect import serve

    serve(*build_deployments(catalogue, data_dir), limit=1)
