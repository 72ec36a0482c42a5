"""Run bookkeeping, as plain functions: batches, stage counts, the failure list, per-year state.

The state file `_state/ingest/year=YYYY.json` records a completed year (with the catalogue hash it
was built from), so a backfill rerun after a crash does only the years that are missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import polars as pl

from tasks.catalogue import Target
from tasks.fetch.store import ManifestEntry
from tasks.load.storage import DataDir
from tasks.normalise.frames import ReadReport, UnreadDocument, report_id
from tasks.validate.gate import ConsistencyResult

T = TypeVar("T")
SHANGHAI = timezone(timedelta(hours=8))
STAGES = ("discovered", "fetched", "unchanged", "failed", "extracted", "quarantined", "published")


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), max(1, size)):
        yield list(items[i:i + size])


def latest_reporting_year(now: datetime | None = None) -> int:
    """The latest reporting year: reports for year Y are published from January of Y+1 (Beijing time)."""
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).year - 1


def count_stages(discovered: int, entries: list[ManifestEntry], read: list[ReadReport],
                 zones: dict[str, dict[str, pl.DataFrame]]) -> dict[str, int]:
    fetched = sum(1 for e in entries if e.error is None and e.changed)
    unchanged = sum(1 for e in entries if e.error is None and not e.changed)
    failed = sum(1 for e in entries if e.error is not None)
    return {"discovered": discovered, "fetched": fetched, "unchanged": unchanged, "failed": failed,
            "extracted": len(read), "quarantined": zones["quarantine"]["reports"].height,
            "published": zones["curated"]["reports"].height}


def failure_list(targets: list[Target], entries: list[ManifestEntry], unread: list[UnreadDocument],
                 discovery_errors: list[str], consistency: ConsistencyResult) -> list[dict[str, str]]:
    """Every document that did not reach curated/, with the stage and the reason."""
    out = [{"source": e.split(":", 1)[0], "stage": "discover", "reason": e} for e in discovery_errors]
    for t, e in zip(targets, entries, strict=True):
        if e.error is not None:
            fallback = " (read from the last good bytes)" if e.sha256 else ""
            out.append({"source": t.source, "stage": "fetch", "reason": e.error + fallback})
    listed = {f["source"] for f in out}
    out.extend({"source": u.source, "stage": "extract", "reason": u.error} for u in unread if u.source not in listed)
    sources = {report_id(t.source): t.source for t in targets}
    for rid, fails in consistency.failing_reports().items():
        shown = "; ".join(f"{f.check_id}[{f.scope}]: {f.detail}" for f in fails[:3])
        more = f" (+{len(fails) - 3} more)" if len(fails) > 3 else ""
        out.append({"source": sources.get(rid, rid), "stage": "validate", "reason": shown + more})
    return out


def gate_markdown(year: int, validation: Any) -> str:
    """The Great Expectations gate of one year as a Prefect markdown artifact."""
    c = validation.consistency
    lines = [f"# Validation {year}", "", "| relation | severity | evaluated | failed |", "|---|---|---|---|"]
    for check_id, (n, failed) in sorted(c.per_relation.items()):
        severity = "expected (warning)" if check_id.startswith("E") else "strict"
        lines.append(f"| {check_id} | {severity} | {n} | {failed} |")
    lines += ["", f"Schema suites: {'passed' if not validation.schema_problems else 'FAILED'}"]
    lines += [f"* {p}" for p in validation.schema_problems[:20]]
    for title, failures in (("Quarantined relations", c.strict_failures),
                            ("Warnings (expected relations)", c.expected_failures)):
        if failures:
            lines += ["", f"## {title}", "", "| report | relation | scope | lhs | rhs |", "|---|---|---|---|---|"]
            lines += [f"| {f.report_id} | {f.check_id} | {f.scope} | {f.lhs} | {f.rhs} |" for f in failures[:200]]
    if validation.docs:
        lines += ["", f"Data Docs: `{validation.docs}`"]
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
