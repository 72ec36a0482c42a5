"""Prefect flows: `ingest` one reporting year, `backfill` a range of years.

    discover ─▶ fetch (batches) ─▶ extract (batches, cached on content) ─▶ normalise ─▶ stage ─▶ publish

Flows only put tasks in order and route by the values the tasks return; every decision about
data is a plain function in `tasks/`. Documents travel in batches, so a year of 100,000 reports
is a few hundred task runs, not 100,000.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.utilities.annotations import quote

from tasks.catalogue import Catalogue, load_catalogue
from tasks.errors import PublishError
from tasks.extract.task import extract_batch
from tasks.fetch.attachments import attachment_targets
from tasks.fetch.store import RawStore
from tasks.fetch.task import discover_targets, fetch_batch
from tasks.load.storage import DataDir
from tasks.load.task import publish_staged, recover_staging, stage
from tasks.normalise.frames import build_frames
from tasks.runs import (
    chunks,
    count_stages,
    failure_list,
    gate_markdown,
    latest_reporting_year,
    write_state,
    year_is_done,
)
from tasks.settings import (
    BATCH_SIZE,
    DEFAULT_CATALOGUE,
    DEFAULT_DATA_DIR,
    DEFAULT_OVERRIDES,
    MAX_QUARANTINE_RATE,
    MIN_REPORTS_FOR_RATE,
    FetchSettings,
    fetch_settings,
)
from tasks.validate.overrides import load_overrides, released_pairs
from tasks.validate.route import publish_refusal, quarantine_rate
from tasks.validate.task import expected_checks, validate_year


@flow(name="ingest", flow_run_name="ingest-{year}")
def ingest(year: int | None = None, catalogue: str = DEFAULT_CATALOGUE, data_dir: str = DEFAULT_DATA_DIR,
           batch_size: int = BATCH_SIZE, overrides: str | None = DEFAULT_OVERRIDES,
           max_quarantine_rate: float = MAX_QUARANTINE_RATE, min_reports_for_rate: int = MIN_REPORTS_FOR_RATE,
           fetch_options: dict[str, float] | None = None) -> dict[str, Any]:
    """Fetch, extract, normalise, validate and publish every report of one reporting year (default: the latest)."""
    year = year or latest_reporting_year()
    cat = load_catalogue(catalogue)
    released = released_pairs(load_overrides(overrides))
    settings = fetch_settings(fetch_options)
    with DataDir(data_dir).lock(f"ingest-year={year}"):  # one run per year and data directory at a time
        return _ingest_locked(year, cat, data_dir, batch_size, released, max_quarantine_rate,
                              min_reports_for_rate, settings)


def _ingest_locked(year: int, cat: Catalogue, data_dir: str, batch_size: int, released: frozenset[tuple[str, str]],
                   max_quarantine_rate: float, min_reports_for_rate: int, settings: FetchSettings) -> dict[str, Any]:
    logger = get_run_logger()
    for note in recover_staging(data_dir, year):
        logger.warning(note)

    targets = cat.direct_targets(year)
    discovery_errors: list[str] = []
    if cat.listings():
        found, discovery_errors = discover_targets(cat.listings(), year, settings)
        known = {t.source for t in targets}
        targets += [t for t in found if t.source not in known]
    logger.info("%s: %d document(s) to read (%d listing page(s))", year, len(targets), len(cat.listings()))

    batches = list(chunks(targets, batch_size))
    fetch_futures = [fetch_batch.submit(quote(b), data_dir, year, i, settings) for i, b in enumerate(batches)]
    entries_by_batch = [f.result() for f in fetch_futures]
    entries = [e for batch in entries_by_batch for e in batch]
    extract_futures = [extract_batch.submit(quote(list(zip(b, e, strict=True))), data_dir, year, i)
                       for i, (b, e) in enumerate(zip(batches, entries_by_batch, strict=True))]
    read, unread = [], []
    for f in extract_futures:
        r, u = f.result()
        read.extend(r)
        unread.extend(u)
    read, unread = _follow_attachments(targets, entries, read, unread, data_dir, year, settings)

    # quote(): large inputs pass by reference; Prefect would otherwise walk every nested cell
    read = expected_checks(quote(read), data_dir, year)
    frames = build_frames(read, unread)
    years = cat.years() or [year]
    validation = validate_year(quote(frames), year, (min(*years, year), max(*years, year)), data_dir, released)
    counts = count_stages(len(targets), entries, read, validation.zones)
    failures = failure_list(targets, entries, unread, discovery_errors, validation.consistency)
    create_markdown_artifact(key=f"validate-{year}", markdown=gate_markdown(year, validation),
                             description=f"Great Expectations gate, reporting year {year}")
    for rid, check_id in validation.releases_used:
        logger.warning("%s: %s released by data/overrides.csv (reviewed), published despite the failure",
                       rid, check_id)
    rate = quarantine_rate(validation.zones["curated"]["reports"].vstack(validation.zones["quarantine"]["reports"]))
    logger.info("%s: %s; quarantine rate %.0f%%", year, ", ".join(f"{k} {v}" for k, v in counts.items()), rate * 100)
    for f in failures:
        logger.warning("%s [%s] %s: %s", year, f["stage"], f["source"], f["reason"])
    create_markdown_artifact(key=f"ingest-{year}-failures", markdown=_failures_markdown(year, failures),
                             description=f"Documents that did not reach curated/, reporting year {year}")
    refusal = publish_refusal(year, validation.schema_problems, rate, counts["discovered"],
                              max_quarantine_rate, min_reports_for_rate)
    if refusal:
        raise PublishError(refusal)

    staged = stage(quote(validation.zones), data_dir, year)
    rows = publish_staged(staged, data_dir)
    create_table_artifact(key=f"ingest-{year}-counts", table=[{"year": year, **counts}],
                          description=f"Documents per stage, reporting year {year}")
    summary = {"year": year, "counts": counts, "rows": rows, "failures": failures,
               "quarantine_rate": rate, "docs": validation.docs,
               "relations": validation.consistency.per_relation}
    write_state(DataDir(data_dir), year, cat.sha256, summary)
    return summary


def _follow_attachments(targets: list, entries: list, read: list, unread: list, data_dir: str, year: int,
                        settings: FetchSettings) -> tuple[list, list]:
    """Pages that only wrap a PDF/Word attachment: fetch and read the attachment in their place."""
    attached = attachment_targets(targets, entries, unread, RawStore(DataDir(data_dir)))
    if not attached:
        return read, unread
    get_run_logger().info("%s: %d report page(s) hold their tables in an attachment", year, len(attached))
    att_entries = fetch_batch(quote(attached), data_dir, year, -1, settings)
    more_read, more_unread = extract_batch(quote(list(zip(attached, att_entries, strict=True))), data_dir, year, -1)
    done = {r.report_id for r in more_read}
    unread = [u for u in unread if u.report_id not in done]
    still = {u.report_id: u for u in more_unread}
    unread = [replace(u, error=f"{u.error}; attachment {still[u.report_id].error}") if u.report_id in still else u
              for u in unread]
    return read + more_read, unread


def _failures_markdown(year: int, failures: list[dict[str, str]]) -> str:
    if not failures:
        return f"# {year}: no failures\n"
    lines = [f"# {year}: {len(failures)} document(s) not curated", "", "| stage | source | reason |", "|---|---|---|"]
    lines += [f"| {f['stage']} | {f['source']} | {f['reason'].replace('|', '/')} |" for f in failures]
    return "\n".join(lines) + "\n"


@flow(name="backfill", flow_run_name="backfill-{start_year}-{end_year}")
def backfill(start_year: int, end_year: int, catalogue: str = DEFAULT_CATALOGUE,
             data_dir: str = DEFAULT_DATA_DIR, force: bool = False, batch_size: int = BATCH_SIZE,
             fetch_options: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Ingest each year from start_year to end_year, one after another; completed years are skipped
    (unless `force`), so a rerun after a crash does only what is missing."""
    logger = get_run_logger()
    cat = load_catalogue(catalogue)
    dd = DataDir(data_dir)
    summaries: list[dict[str, Any]] = []
    for year in range(start_year, end_year + 1):
        if not force and year_is_done(dd, year, cat.sha256):
            logger.info("%s already ingested from this catalogue; skipped (force=True redoes it)", year)
            summaries.append({"year": year, "skipped": True})
            continue
        summaries.append(ingest(year=year, catalogue=catalogue, data_dir=data_dir, batch_size=batch_size,
                                fetch_options=fetch_options))
    return summaries
