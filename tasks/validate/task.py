"""Prefect faces of the gate (great_expectations is imported inside `tasks.validate.gate`'s functions)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.load.parquet import read_dataset
from tasks.load.storage import DataDir
from tasks.normalise.frames import ReadReport, split_by_status
from tasks.validate.expected import add_expected_checks, previous_year_rows
from tasks.validate.gate import ConsistencyResult
from tasks.validate.route import apply_gate


@task(name="expected-checks", task_run_name="expected-{year}", cache_policy=NO_CACHE)
def expected_checks(read: list[ReadReport], data_dir: str, year: int) -> list[ReadReport]:
    """E4 within the year; E1/E5 against last year's published data (curated or quarantined: a report
    quarantined for its table 4 still states what it carried forward)."""
    dd = DataDir(data_dir)
    previous = [pl.concat([read_dataset(dd, zone, d) for zone in ("curated", "quarantine")])
                for d in ("requests", "proactive", "reports")]
    req, pro = previous_year_rows(*previous, year=year)
    return add_expected_checks(read, req, pro)


@dataclass(slots=True)
class Validation:
    zones: dict[str, dict[str, pl.DataFrame]]
    consistency: ConsistencyResult
    schema_problems: list[str]
    releases_used: list[tuple[str, str]]
    docs: str | None


@task(name="validate", task_run_name="validate-{year}", cache_policy=NO_CACHE)
def validate_year(frames: dict[str, pl.DataFrame], year: int, year_range: tuple[int, int], data_dir: str,
                  released: frozenset[tuple[str, str]]) -> Validation:
    """Consistency suites decide the zones; schema suites check what would be published; Data Docs."""
    from tasks.validate.gate import consistency_gate, schema_gate

    dd = DataDir(data_dir)
    consistency, gx = consistency_gate(frames["checks"], docs_dir="docs")
    failing = {rid: [f.check_id for f in fs] for rid, fs in consistency.failing_reports().items()}
    reports, used = apply_gate(frames["reports"], failing, released)
    zones = split_by_status({**frames, "reports": reports})
    problems, gx = schema_gate(zones, year_range, gx)
    docs = gx.publish_docs(lambda rel, data: dd.write_bytes(dd.path("docs", str(year), rel), data))
    return Validation(zones, consistency, problems, used, dd.path("docs", str(year), docs) if docs else None)
