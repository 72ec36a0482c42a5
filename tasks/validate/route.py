"""Which zone each report belongs in, decided from the consistency gate's failures.

A report is `curated` when Great Expectations found no failing strict relation for it, or when
every relation it fails was released by a reviewer (data/overrides.csv); otherwise `quarantined`.
`failed_checks` always lists every failing relation, released or not, so the decision is recorded.
Documents that could not be read at all are quarantined with their `error`.
"""

from __future__ import annotations

import polars as pl

from tasks import schemas
from tasks.model import Report
from tasks.validate.overrides import Releases


def route_report(report: Report) -> tuple[str, tuple[str, ...]]:
    """Provisional (status, failed strict check ids) from the report's own checks; the gate decides."""
    failed = tuple(sorted({c.id for c in report.failed_checks}))
    return (schemas.STATUS_QUARANTINED if failed else schemas.STATUS_CURATED), failed


def apply_gate(reports: pl.DataFrame, failing: dict[str, list[str]], released: Releases
               ) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """Set `status`, `failed_checks` and `released` of the reports frame; returns it and the releases used.

    A curated report whose failures a reviewer released says so: `released` lists each released
    relation with the reviewer's note ("S2: 原表如此，已电话核实 (王某, 2025-03-01)").
    """
    used: list[tuple[str, str]] = []
    statuses, failed_lists, notes = [], [], []
    for rid, error in zip(reports["report_id"].to_list(), reports["error"].to_list(), strict=True):
        failed = sorted(set(failing.get(rid, [])))
        blocking = [c for c in failed if (rid, c) not in released]
        mine = [(rid, c) for c in failed if (rid, c) in released]
        used += mine
        bad = error is not None or bool(blocking)
        statuses.append(schemas.STATUS_QUARANTINED if bad else schemas.STATUS_CURATED)
        failed_lists.append(failed)
        notes.append([f"{c}: {released[(r, c)]}" for r, c in mine])
    out = reports.with_columns(pl.Series("status", statuses, dtype=pl.String),
                               pl.Series("failed_checks", failed_lists, dtype=pl.List(pl.String)),
                               pl.Series("released", notes, dtype=pl.List(pl.String)))
    return out.select(reports.columns), used


def quarantine_rate(reports: pl.DataFrame) -> float:
    if reports.height == 0:
        return 0.0
    return reports.filter(pl.col("status") == schemas.STATUS_QUARANTINED).height / reports.height


def publish_refusal(year: int, schema_problems: list[str], rate: float, documents: int, max_rate: float,
                    min_documents: int) -> str | None:
    """Why a year must not be published, or None.

    A failed schema suite is a pipeline bug; a quarantine rate over the threshold (on a year with
    enough documents to judge) usually means the extractor broke. Either way the published year
    stays as it was.
    """
    if schema_problems:
        return (f"{year}: the schema suites failed, nothing was published (a pipeline bug): "
                + " | ".join(schema_problems[:5]))
    if rate > max_rate and documents >= min_documents:
        return (f"{year}: {rate:.0%} of the reports would be quarantined (threshold {max_rate:.0%}); "
                "the extractor is probably broken: nothing was published")
    return None
