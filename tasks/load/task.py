"""Prefect faces of the year's gate, staging and publishing (plain functions in `tasks.year`, `parquet`)."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.audit import audit_year, link_audit
from tasks.batches import prune_batches
from tasks.load.catalog import write_catalog
from tasks.load.parquet import StagedYear, discard, migrate_legacy_layout, publish, recover
from tasks.load.storage import DataDir
from tasks.validate.overrides import Releases
from tasks.year import YearResult, gate_year, stage_parts


@task(name="recover-staging", cache_policy=NO_CACHE)
def recover_staging(data_dir: str, year: int | None = None) -> list[str]:
    """Finish or discard this year's interrupted publishes; move this year and the last (E1 reads it)
    out of the 0.3 layout if they are still in it."""
    dd = DataDir(data_dir)
    notes = recover(dd, year)
    for y in ([year - 1, year] if year is not None else []):
        notes += migrate_legacy_layout(dd, y)
    if notes:  # the published state changed under the catalogue: point it at the state as it is now
        write_catalog(dd, f"{year}-recovered-{uuid.uuid4().hex[:8]}")
    return notes


@task(name="gate-year", task_run_name="gate-{year}", cache_policy=NO_CACHE, persist_result=False)
def gate(data_dir: str, year: int, parts: list[str], released: Releases
         ) -> tuple[YearResult, str, Any]:
    """The consistency suites over the year's parts: every report's status."""
    return gate_year(DataDir(data_dir), year, parts, released)


@task(name="stage-year", task_run_name="stage-{year}", cache_policy=NO_CACHE, persist_result=False)
def stage(data_dir: str, year: int, parts: list[str], result: YearResult, expected: str,
          year_range: tuple[int, int], gx: Any) -> YearResult:
    """Stream the year into staging, zone by zone, under the schema suites; Data Docs written."""
    dd = DataDir(data_dir)
    result = stage_parts(dd, year, parts, result, expected, year_range, gx)
    docs = gx.publish_docs(lambda rel, data: dd.write_bytes(dd.path("docs", str(year), rel),
                                                            link_audit(rel, data, year))) if gx else None
    result.docs = dd.path("docs", str(year), docs) if docs else None
    return result


@task(name="audit-year", task_run_name="audit-{year}", cache_policy=NO_CACHE)
def audit_site(data_dir: str, year: int) -> str | None:
    """The year's audit site (tasks/audit.py) from what was just published."""
    return audit_year(DataDir(data_dir), year)


@task(name="discard-staged", cache_policy=NO_CACHE)
def discard_staged(staged: StagedYear, data_dir: str) -> None:
    discard(DataDir(data_dir), staged)


@task(name="publish-year", task_run_name="publish-{staged.year}", cache_policy=NO_CACHE)
def publish_staged(staged: StagedYear, data_dir: str, keep: list[str]) -> dict[str, int]:
    """Publish the staged year in one journalled step, point catalog.duckdb at the new state; then
    drop cached batches no longer used."""
    dd = DataDir(data_dir)
    publish(dd, staged)
    write_catalog(dd, staged.run_id)
    prune_batches(dd, staged.year, keep)
    return staged.rows
