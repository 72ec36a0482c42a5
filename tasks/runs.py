"""Run bookkeeping, as plain functions: batches, stage counts, the failure list, per-year state.

The state file `_state/ingest/year=YYYY.json` records a completed year (with the catalogue hash it
was built from), so a backfill rerun after a crash does only the years that are missing.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import polars as pl
import pyarrow.parquet as pq

from tasks import schemas
from tasks.batches import BatchResult
from tasks.catalogue import Target
from tasks.errors import SettingsError
from tasks.fetch.client import host_key
from tasks.load.storage import DataDir
from tasks.validate.gate import ConsistencyResult
from tasks.validate.overrides import Releases
from tasks.year import YearResult

T = TypeVar("T")
SHANGHAI = timezone(timedelta(hours=8))
STAGES = ("discovered", "fetched", "unchanged", "failed", "extracted", "quarantined", "published")


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), max(1, size)):
        yield list(items[i:i + size])


def host_of(target: Target) -> str | None:
    """The host a target is fetched from (as the fetcher's gate names it), None for a local path."""
    if not target.location.startswith(("http://", "https://")):
        return None
    return host_key(target.location)


def plan_batches(targets: Sequence[Target], size: int) -> list[list[Target]]:
    """Batches of at most `size` documents in which every host belongs to one batch at a time.

    A host with fewer than `size` documents is packed whole into one batch (first fit, in catalogue
    order); a bigger host gets batches of its own, which the flow runs one after another. So
    whichever process runs a batch (a reader thread, a Dask worker on another machine) is the only
    one fetching from its hosts, and its per-host gate is the host's: the politeness limits hold
    across workers without a round trip per request. Local paths are packed freely.
    """
    size = max(1, size)
    by_host: dict[str | None, list[Target]] = {}
    for t in targets:
        by_host.setdefault(host_of(t), []).append(t)
    full: list[list[Target]] = []
    open_batches: list[list[Target]] = []  # batches with room left, for what remains of each host
    for group in by_host.values():
        cut = len(group) - len(group) % size
        full += [group[i:i + size] for i in range(0, cut, size)]
        rest = group[cut:]
        if rest:
            room = next((b for b in open_batches if len(b) + len(rest) <= size), None)
            if room is None:
                open_batches.append(list(rest))
            else:
                room.extend(rest)
    return full + open_batches


def latest_reporting_year(now: datetime | None = None) -> int:
    """The latest reporting year: reports for year Y are published from January of Y+1 (Beijing time)."""
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).year - 1


FIRST_REPORTING_YEAR = 2019  # the national template of 2019 (fmt_2019, then fmt_2021); earlier reports are refused


def check_years(start: int, end: int, now: datetime | None = None) -> None:
    """Refuse, before any work, a year the template does not cover or a reversed range (`SettingsError`)."""
    latest = latest_reporting_year(now)
    if start > end:
        raise SettingsError(f"the years run backwards: {start} to {end}")
    for year in (start, end):
        if not FIRST_REPORTING_YEAR <= year <= latest:
            raise SettingsError(f"reporting year {year} is outside {FIRST_REPORTING_YEAR}–{latest}: the national "
                                f"template covers reports from {FIRST_REPORTING_YEAR}, and reports for {latest + 1} "
                                f"are published from January {latest + 2}")


def _batch_counts(discovered: int, batches: list[BatchResult]) -> dict[str, int]:
    return {"discovered": discovered, "fetched": sum(b.fetched for b in batches),
            "unchanged": sum(b.unchanged for b in batches), "failed": sum(b.failed for b in batches),
            "extracted": sum(b.extracted for b in batches)}


def count_stages(discovered: int, batches: list[BatchResult], result: YearResult) -> dict[str, int]:
    rows = result.staged.rows if result.staged is not None else {}
    return {**_batch_counts(discovered, batches),
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


def gate_markdown(year: int, c: ConsistencyResult, reports: pl.DataFrame | None = None,
                  audit: str | None = None) -> str:
    """The Great Expectations gate of one year as a Prefect markdown artifact: each failure names
    the organ (from `reports`) and links the report's audit page (under `audit`)."""
    organs = dict(zip(reports["report_id"].to_list(), reports["organ"].to_list(), strict=True)) \
        if reports is not None else {}

    def who(rid: str) -> str:
        name = f"{organs[rid]} ({rid})" if rid in organs else rid
        return f"[{name}]({audit}/reports/{rid}.html)" if audit else name

    lines = [f"# Validation {year}", "", "| relation | severity | evaluated | failed |", "|---|---|---|---|"]
    for check_id, (n, failed) in sorted(c.per_relation.items()):
        severity = "expected (warning)" if check_id.startswith("E") else "strict"
        lines.append(f"| {check_id} | {severity} | {n} | {failed} |")
    for title, failures in (("Quarantined relations", c.strict_failures),
                            ("Warnings (expected relations)", c.expected_failures)):
        if failures:
            lines += ["", f"## {title}", "", "| organ (report) | relation | scope | lhs | rhs |",
                      "|---|---|---|---|---|"]
            lines += [f"| {who(f.report_id)} | {f.check_id} | {f.scope} | {f.lhs} | {f.rhs} |" for f in failures[:200]]
    return "\n".join(lines) + "\n"


def state_path(data_dir: DataDir, year: int) -> str:
    return data_dir.path("_state", "ingest", f"year={year}.json")


def write_state(data_dir: DataDir, year: int, catalogue_sha256: str, summary: dict[str, Any]) -> None:
    data_dir.write_json(state_path(data_dir, year), {
        "year": year, "status": "completed", "catalogue_sha256": catalogue_sha256,
        "finished_at": datetime.now(UTC).isoformat(), "counts": summary.get("counts", {}),
        "inputs": summary.get("inputs"), "run_id": summary.get("run_id"),
        "quarantine_rate": summary.get("quarantine_rate"), "rows": summary.get("rows", {}),
    })


def read_state(data_dir: DataDir, year: int) -> dict[str, Any] | None:
    state = data_dir.read_json_or_none(state_path(data_dir, year))
    return state if isinstance(state, dict) else None


def publish_inputs(parts: list[str], released: Releases, year_range: tuple[int, int],
                   last_year_run: str | None) -> str:
    """Hash of everything a published year is made of: its batches' parts (content hashes and the
    extractor's code are in their names), the reviewed releases, the catalogue's year range and
    last year's published run (E1/E5). Equal to the last publish's → the year is already published."""
    digest = hashlib.sha256()
    releases = sorted(f"{r}|{c}|{note}" for (r, c), note in released.items())
    for item in (*sorted(p.rsplit("/", 1)[-1] for p in parts), *releases, f"{year_range}", f"{last_year_run}"):
        digest.update(item.encode() + b"\n")
    return digest.hexdigest()


def year_is_done(data_dir: DataDir, year: int, catalogue_sha256: str) -> bool:
    state = read_state(data_dir, year)
    if state is None:
        return False  # missing or torn: the year is done again, not skipped
    return state.get("status") == "completed" and state.get("catalogue_sha256") == catalogue_sha256


def unchanged_summary(data_dir: DataDir, year: int, discovered: int, batches: list[BatchResult],
                      state: dict[str, Any]) -> dict[str, Any]:
    """The summary of a rerun that found the year exactly as last published (nothing staged).

    Counts of this run's fetches, with the published and quarantined counts of the last publish;
    failures are this run's fetch/extract failures plus the published quarantine's failing relations.
    """
    last = state.get("counts", {})
    counts = {**_batch_counts(discovered, batches), "quarantined": last.get("quarantined", 0),
              "published": last.get("published", 0)}
    failures = [f for b in batches for f in b.failures]
    listed = {f["source"] for f in failures}
    path = data_dir.published_file("quarantine", "reports", year)
    if data_dir.exists(path):
        table = pq.read_table(io.BytesIO(data_dir.read_bytes(path)), columns=["source", "failed_checks"])
        for source, failed in zip(table.column("source").to_pylist(), table.column("failed_checks").to_pylist(),
                                  strict=True):
            if failed and source not in listed:
                failures.append({"source": source, "stage": "validate", "reason": "fails " + ", ".join(failed)})
    return {"year": year, "counts": counts, "rows": state.get("rows", {}), "failures": failures,
            "quarantine_rate": state.get("quarantine_rate"), "docs": None, "relations": {},
            "run_id": state.get("run_id"), "unchanged_since_publish": True}
