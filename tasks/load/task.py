"""Prefect faces of staging and publishing one year."""

from __future__ import annotations

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.load.parquet import StagedYear, publish, recover, stage_year
from tasks.load.storage import DataDir


@task(name="recover-staging", cache_policy=NO_CACHE)
def recover_staging(data_dir: str, year: int | None = None) -> list[str]:
    return recover(DataDir(data_dir), year)


@task(name="stage-year", task_run_name="stage-{year}", cache_policy=NO_CACHE)
def stage(zones: dict[str, dict[str, pl.DataFrame]], data_dir: str, year: int) -> StagedYear:
    return stage_year(DataDir(data_dir), zones, year)


@task(name="publish-year", task_run_name="publish-{staged.year}", cache_policy=NO_CACHE)
def publish_staged(staged: StagedYear, data_dir: str) -> dict[str, int]:
    publish(DataDir(data_dir), staged)
    return staged.rows
