"""Run bookkeeping, as plain functions: batches, stage counts, the failure list, per-year state.

The state file `_state/ingest/year=YYYY.json` records a completed year (with the catalogue hash it
was built from), so a backfill rerun after a crash does only the years that are missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import polars as pl

from tasks import schemas
from tasks.batches import BatchResult
from tasks.load.storage import DataDir
from tasks.validate.gate import ConsistencyResult
from tasks.year import YearResult

T = TypeVar("T")
SHANGHAI = timezone(timedelta(hours=8))
STAGES = ("discovered", "fetched", "unchanged", "failed", "extracted", "quarantined", "published")


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), max(1, size)):
        yield list(items[i:i + size])


def latest_reporting_year(now: datetime | None = None) -> int:
    """The latest reporting year: reports for year Y are published from January of Y+1 (Beijing time)."""
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).year - 1


def count_stages(discovered: int, batches: list[BatchResult], result: YearResult) -> dict[str, int]:
    rows = result.staged.rows if result.staged is not None else {}
    return {"discovered": discovered, "fetched": sum(b.fetched for b in batches),
            "unchanged": sum(b.unchanged for b in batches), "failed": sum(b.failed for b in batches),
            "extracted": sum(b.extracted for b in batches),
            "quarantined": rows.get("quarantine/reports", _by_status(result, schemas.STATUS_QUARANTINED)),
            "published": rows.get("curated/reports", _by_status(result, schemas.STATUS_CURATED))}


def _by_status(result: YearResult, status: str) -> int:
    return result.reports.filter(pl.col("status") == status).height


def failure_list(batches: list[BatchResult], discovery_errors: list[str], result: YearResult) -> list[dict[str, str]]:
    """Every document that did not reach curated/, with the stage and the reason."""
    out = [{"source": e.split(":", 1)[0], "stage": "discover", "reason": e} for e in discovery_errors]
    out += [f for b in batches for f in b.failures]
    failing = result.consistency.failing_reports()
    sources = dict(result.reports.filter(pl.col("report_id").is_in(list(failing)))
                   .select("report_id", "source").iter_rows())
    for rid, fails in failing.items():
        shown = "; ".join(f"{f.check_id}[{f.scope}]: {f.detail}" for f in fails[:3])
        more = f" (+{len(fails) - 3} more)" if len(fails) > 3 else ""
        out.append({"source": sources.get(rid, rid), "stage": "validate", "reason": shown + more})
    return out


def gate_markdown(year: int, c: ConsistencyResult) -> str:
    """The Great Expectations gate of one year as a Prefect markdown artifact."""
    lines = [f"# Validation {year}", "", "| relation | severity | evaluated | failed |", "|---|---|---|---|"]
    for check_id, (n, failed) in sorted(c.per_relation.items()):
        severity = "expected (warning)" if check_id.startswith("E") else "strict"
        lines.append(f"| {check_id} | {severity} | {n} | {failed} |")
    for title, failures in (("Quarantined relations", c.strict_failures),
                            ("Warnings (expected relations)", c.expected_failures)):
        if failures:
            lines += ["", f"## {title}", "", "| report | relation | scope | lhs | rhs |", "|---|---|---|---|---|"]
            lines += [f"| {f.report_id} | {f.check_id} | {f.scope} | {f.lhs} | {f.rhs} |" for f in failures[:200]]
    return "\n".join(lines) + "\n"


def state_path(data_dir: DataDir, year: int) -> str:
    return data_dir.path("_state", "ingest", f"year={year}.json")


def write_state(data_dir: DataDir, year: int, catalogue_sha256: str, summary: dict[str, Any]) -> None:
    data_dir.write_json(state_path(data_dir, year), {
        "year": year, "status": "completed", "catalogue_sha256": catalogue_sha256,
        "finished_at": datetime.now(UTC).isoformat(), "counts": summary.get("counts", {}),
    })


def year_is_done(data_dir: DataDir, year: int, catalogue_sha256: str) -> bool:
    path = state_path(data_dir, year)
    if not data_dir.exists(path):
        return False
    state = data_dir.read_json_or_none(path)
    if not isinstance(state, dict):
        return False  # a torn state file: the year is done again, not skipped
    return state.get("status") == "completed" and state.get("catalogue_sha256") == catalogue_sha256
