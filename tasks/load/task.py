"""Prefect faces of the year's gate, staging and publishing (plain functions in `tasks.year`, `parquet`)."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.audit import audit_year, link_audit
from tasks.batches import prune_batches
from tasks.isolated import run_isolated
from tasks.load.catalog import write_catalog
from tasks.load.parquet import StagedYear, discard, migrate_legacy_layout, publish, recover
from tasks.load.storage import DataDir
from tasks.validate.gate import copy_site
from tasks.validate.overrides import Releases
from tasks.year import YearResult, gate_with_site, stage_parts


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
def gate(data_dir: str, year: int, parts: list[str], released: Releases, isolate: bool = False
         ) -> tuple[YearResult, str, str | None]:
    """The consistency suites over the year's parts: every report's status (in a child process
    when `isolate`: its memory is given back); with the folder of its rendered Data Docs."""
    if isolate:
        return run_isolated("tasks.year:gate_with_site", data_dir, year, parts, released)  # type: ignore[no-any-return]
    return gate_with_site(data_dir, year, parts, released)


@task(name="stage-year", task_run_name="stage-{year}", cache_policy=NO_CACHE, persist_result=False)
def stage(data_dir: str, year: int, parts: list[str], result: YearResult, expected: str,
          year_range: tuple[int, int], gate_site: str | None, isolate: bool = False) -> YearResult:
    """Stream the year into staging, dataset by dataset, under the schema suites; Data Docs written:
    the gate's at `docs/<year>/`, each dataset's schema suites at `docs/<year>/schema/<dataset>/`."""
    dd = DataDir(data_dir)
    result, sites = stage_parts(data_dir, year, parts, result, expected, year_range, isolate=isolate)

    def writer(prefix: str) -> Any:  # a file of a site, `prefix` deep inside docs/<year>/
        return lambda rel, data: dd.write_bytes(dd.path("docs", str(year), prefix + rel),
                                                link_audit(prefix + rel, data, year))

    index = copy_site(gate_site, writer(""))
    for dataset, site in sites.items():
        copy_site(site, writer(f"schema/{dataset}/"))
    result.docs = dd.path("docs", str(year), index) if index else None
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
