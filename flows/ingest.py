"""Prefect flows: `ingest` one reporting year, `backfill` a range of years.

    discover ─▶ batches: fetch ─▶ extract (cached on content) ─▶ normalise ─▶ parts
            ─▶ gate (consistency suites over the parts) ─▶ stage (zones, schema suites) ─▶ publish

Flows only put tasks in order and route by the values the tasks return; every decision about
data is a plain function in `tasks/`. Documents travel in batches, so a year of 100,000 reports
is a few hundred task runs, not 100,000; and the flow keeps only each batch's counts and the
folder of its Parquet parts, so its memory does not grow with the year.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.utilities.annotations import quote

from tasks import progress
from tasks.batches import BatchResult
from tasks.catalogue import Catalogue, Target, load_catalogue
from tasks.errors import PublishError, SettingsError
from tasks.extract.budget import MAX_PROCESSES, stop_idle_readers
from tasks.extract.task import process_batch
from tasks.fetch.task import discover_targets
from tasks.isolated import give_back_freed_memory
from tasks.load.storage import DataDir
from tasks.load.task import audit_site, discard_staged, gate, publish_staged, recover_staging, stage
from tasks.runs import (
    check_years,
    count_stages,
    failure_list,
    gate_markdown,
    host_of,
    latest_reporting_year,
    plan_batches,
    publish_inputs,
    read_state,
    unchanged_summary,
    write_state,
    year_is_done,
)
from tasks.settings import (
    BATCH_SIZE,
    DEFAULT_CATALOGUE,
    DEFAULT_DATA_DIR,
    DEFAULT_OVERRIDES,
    ISOLATE_FROM,
    MAX_QUARANTINE_RATE,
    MIN_REPORTS_FOR_RATE,
    SITES_LIMIT,
    FetchSettings,
    fetch_settings,
)
from tasks.validate.overrides import Releases, load_overrides, released_pairs
from tasks.validate.route import publish_refusal, quarantine_rate

# Batches submitted at once: enough to keep every reader process busy while the next batch fetches.
BATCHES_IN_FLIGHT = MAX_PROCESSES + 1


@contextlib.contextmanager
def _sites_slot() -> Iterator[None]:
    """Hold the `xxgk-sites` slot for a top-level run, so that runs never fetch at the same time.

    Only where the limit exists (created by `xxgk serve` or the worker route; on the embedded API
    of `xxgk run`, by hand if wanted); a subflow (a year of a backfill) runs in its parent's slot.
    The lease is renewed while the run lives and lapses within a minute of a killed one.
    """
    from prefect.client.orchestration import get_client
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectNotFound
    from prefect.runtime import flow_run

    if flow_run.parent_flow_run_id:
        yield
        return
    try:
        with get_client(sync_client=True) as client:
            client.read_global_concurrency_limit_by_name(SITES_LIMIT)
    except ObjectNotFound:
        yield
        return
    with concurrency(SITES_LIMIT, occupy=1, lease_duration=60, strict=True):
        yield


def _ingest_run_name() -> str:
    """`ingest-2025`: a scheduled run without a year is named for the year it ingests, not `ingest-None`."""
    from prefect.runtime import flow_run

    return f"ingest-{flow_run.parameters.get('year') or latest_reporting_year()}"


@flow(name="ingest", flow_run_name=_ingest_run_name)
def ingest(year: int | None = None, catalogue: str = DEFAULT_CATALOGUE, data_dir: str = DEFAULT_DATA_DIR,
           batch_size: int = BATCH_SIZE, overrides: str | None = DEFAULT_OVERRIDES,
           max_quarantine_rate: float = MAX_QUARANTINE_RATE, min_reports_for_rate: int = MIN_REPORTS_FOR_RATE,
           fetch_options: dict[str, float] | None = None, dask_address: str | None = None,
           republish: bool = False) -> dict[str, Any]:
    """Fetch, extract, normalise, validate and publish every report of one reporting year (default: the latest).

    A year whose inputs (documents, catalogue hints, releases, code, last year's run) are unchanged
    since its last publish is not published again, unless `republish`.

    With `dask_address` (``tcp://scheduler:8786``) the batches run on that Dask cluster's workers
    (prefect-dask); the data directory must then be one every worker reaches (a shared path or an
    fsspec URL). Without it, batches run in this process and read in one reader process per core.
    """
    year = year or latest_reporting_year()
    check_years(year, year)
    cat = load_catalogue(catalogue)
    released = released_pairs(load_overrides(overrides))
    settings = fetch_settings(fetch_options)
    with _sites_slot(), DataDir(data_dir).lock(f"ingest-year={year}"):  # one run per year and data dir at a time
        return _ingest_locked(year, cat, data_dir, batch_size, released, max_quarantine_rate,
                              min_reports_for_rate, settings, dask_address, republish)


def _ingest_locked(year: int, cat: Catalogue, data_dir: str, batch_size: int, released: Releases,
                   max_quarantine_rate: float, min_reports_for_rate: int, settings: FetchSettings,
                   dask_address: str | None = None, republish: bool = False) -> dict[str, Any]:
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
    progress.announce(year, discovered=len(targets))

    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    batches = _run_batches(targets, data_dir, year, batch_size, settings, dask_address)
    stop_idle_readers()
    logger.info("%s: %.0f MB of freed memory given back after the batches", year, give_back_freed_memory() / 2**20)
    parts = [b.part for b in batches]
    seconds["batches"], clock = time.perf_counter() - clock, time.perf_counter()
    years = cat.years() or [year]
    year_range = (min(*years, year), max(*years, year))
    previous = read_state(DataDir(data_dir), year - 1)
    inputs = publish_inputs(parts, released, year_range, previous.get("run_id") if previous else None)
    state = read_state(DataDir(data_dir), year)
    if not republish and targets and state and state.get("status") == "completed" and state.get("inputs") == inputs:
        # nothing that makes the year has changed since it was published: no gate, no staging, no publish
        logger.info("%s: every batch unchanged since the last publish (%s); nothing to publish", year,
                    state.get("run_id"))
        summary = unchanged_summary(DataDir(data_dir), year, len(targets), batches, state)
        summary["seconds"], summary["inputs"] = seconds, inputs
        write_state(DataDir(data_dir), year, cat.sha256, summary)
        progress.announce(year, quarantined=summary["counts"]["quarantined"],
                          published=summary["counts"]["published"])
        return summary
    isolate = len(targets) >= ISOLATE_FROM  # a large year: gate and staging in child processes
    result, expected, gate_site = gate(data_dir, year, parts, released, isolate)
    seconds["gate"], clock = time.perf_counter() - clock, time.perf_counter()
    create_markdown_artifact(key=f"validate-{year}", markdown=gate_markdown(
        year, result.consistency, result.reports, DataDir(data_dir).path("audit", str(year))),
                             description=f"Great Expectations gate, reporting year {year}")
    for rid, check_id in result.releases_used:
        logger.warning("%s: %s released by data/overrides.csv (reviewed), published despite the failure",
                       rid, check_id)
    rate = quarantine_rate(result.reports.filter(pl.col("year") == year))
    refusal = publish_refusal(year, [], rate, len(targets), max_quarantine_rate, min_reports_for_rate)
    if not refusal:
        result = stage(data_dir, year, parts, quote(result), expected, year_range, gate_site, isolate)
        refusal = publish_refusal(year, result.schema_problems, rate, len(targets), max_quarantine_rate,
                                  min_reports_for_rate)
        seconds["stage"], clock = time.perf_counter() - clock, time.perf_counter()
    counts = count_stages(len(targets), batches, result)
    progress.announce(year, quarantined=counts["quarantined"])
    failures = failure_list(batches, discovery_errors, result)
    logger.info("%s: %s; quarantine rate %.0f%%", year, ", ".join(f"{k} {v}" for k, v in counts.items()), rate * 100)
    for f in failures:
        logger.warning("%s [%s] %s: %s", year, f["stage"], f["source"], f["reason"])
    create_markdown_artifact(key=f"ingest-{year}-failures", markdown=_failures_markdown(year, failures),
                             description=f"Documents that did not reach curated/, reporting year {year}")
    if refusal:
        if result.staged is not None:
            discard_staged(result.staged, data_dir)
        raise PublishError(refusal)

    assert result.staged is not None
    rows = publish_staged(result.staged, data_dir, [u for b in batches for u in b.used])
    seconds["publish"], clock = time.perf_counter() - clock, time.perf_counter()
    audit = audit_site(data_dir, year)
    seconds["audit"] = time.perf_counter() - clock
    progress.announce(year, published=counts["published"])
    create_table_artifact(key=f"ingest-{year}-counts", table=[{"year": year, **counts}],
                          description=f"Documents per stage, reporting year {year}")
    summary = {"year": year, "counts": counts, "rows": rows, "failures": failures,
               "quarantine_rate": rate, "docs": result.docs,
               "relations": result.consistency.per_relation, "seconds": seconds, "inputs": inputs, "audit": audit,
               "isolated": isolate,
               "run_id": result.staged.run_id}
    if targets:
        write_state(DataDir(data_dir), year, cat.sha256, summary)
    else:  # an empty year (a catalogue or listing problem, or too early): a later backfill tries again
        logger.warning("%s: no documents found; the year is not recorded as completed", year)
    return summary


def _run_batches(targets: list[Target], data_dir: str, year: int, batch_size: int, settings: FetchSettings,
                 dask_address: str | None = None) -> list[BatchResult]:
    """Every batch through `process_batch`, at most `BATCHES_IN_FLIGHT` at a time (a thread runner would
    otherwise start every batch of the year at once); only their small results are kept.

    On a Dask cluster the window is twice the cluster's worker threads, so every worker stays busy.
    """
    if dask_address:
        from prefect_dask import DaskTaskRunner

        with DaskTaskRunner(address=dask_address) as runner:
            width = max(2, 2 * sum(runner.client.nthreads().values()))
            return _windowed(targets, data_dir, year, batch_size, settings, width,
                             lambda params: runner.submit(process_batch, parameters=params))
    # The targets quoted: the thread runner would walk every target of the batch looking for futures
    # (7 % of the flow process while reading a year). The Dask runner does not unquote.
    return _windowed(targets, data_dir, year, batch_size, settings, BATCHES_IN_FLIGHT,
                     lambda params: process_batch.submit(**{**params, "targets": quote(params["targets"])}))


def _windowed(targets: list[Target], data_dir: str, year: int, batch_size: int, settings: FetchSettings,
              width: int, submit: Any) -> list[BatchResult]:
    """Run the batches of `plan_batches`, at most `width` at once and never two sharing a host: a
    host's next batch starts when its last one is done, with the time of its last request."""
    batches = plan_batches(targets, batch_size)
    hosts = [{h for t in batch if (h := host_of(t)) is not None} for batch in batches]
    results: list[BatchResult | None] = [None] * len(batches)
    pending: deque[tuple[int, Any]] = deque()
    waiting = deque(range(len(batches)))
    busy: set[str] = set()
    last_start: dict[str, float] = {}
    logger = get_run_logger()

    def collect() -> None:
        i, future = pending.popleft()
        results[i] = r = future.result()
        busy.difference_update(hosts[i])
        for host, t in r.host_starts.items():
            last_start[host] = max(last_start.get(host, 0.0), t)
        done = sum(1 for x in results if x is not None)
        logger.info("%s: batch %d/%d done: %d fetched, %d unchanged, %d failed, %d read%s", year, done,
                    len(batches), r.fetched, r.unchanged, r.failed, r.extracted, " (cached)" if r.cached else "")
        finished = [x for x in results if x is not None]
        progress.announce(year, fetched=sum(x.fetched + x.unchanged for x in finished),
                          extracted=sum(x.extracted for x in finished), failed=sum(x.failed for x in finished))

    while waiting or pending:
        ready = next((i for i in waiting if not hosts[i] & busy), None) if len(pending) < width else None
        if ready is None:
            collect()  # the window is full, or every waiting batch has a host still busy
            continue
        waiting.remove(ready)
        busy.update(hosts[ready])
        pending.append((ready, submit({"targets": batches[ready], "data_dir": data_dir, "year": year,
                                       "batch_no": ready, "settings": settings,
                                       "host_starts": {h: last_start[h] for h in hosts[ready] if h in last_start}})))
    return [r for r in results if r is not None]


def _failures_markdown(year: int, failures: list[dict[str, str]]) -> str:
    if not failures:
        return f"# {year}: no failures\n"
    lines = [f"# {year}: {len(failures)} document(s) not curated", "", "| stage | source | reason |", "|---|---|---|"]
    lines += [f"| {f['stage']} | {f['source']} | {f['reason'].replace('|', '/')} |" for f in failures]
    return "\n".join(lines) + "\n"


@flow(name="backfill", flow_run_name="backfill-{start_year}-{end_year}")
def backfill(start_year: int, end_year: int, catalogue: str = DEFAULT_CATALOGUE,
             data_dir: str = DEFAULT_DATA_DIR, force: bool = False, batch_size: int = BATCH_SIZE,
             fetch_options: dict[str, float] | None = None, dask_address: str | None = None,
             parallel_years: int = 1, max_quarantine_rate: float = MAX_QUARANTINE_RATE,
             min_reports_for_rate: int = MIN_REPORTS_FOR_RATE,
             overrides: str | None = DEFAULT_OVERRIDES, republish: bool = False) -> list[dict[str, Any]]:
    """Ingest each year from start_year to end_year; completed years are skipped (unless `force`), so a
    rerun after a crash does only what is missing. `republish` publishes a year again even when none
    of its inputs changed.

    `parallel_years` > 1 ingests that many years at once (each still published as one unit under
    its own lock; the per-host politeness is the process's, so the sites see no more requests).
    E1/E5 of a year compare with last year as published when the year runs: with years in
    parallel, run the backfill once more (unchanged batches are not read again) to settle them.
    """
    check_years(start_year, end_year)
    if parallel_years < 1:
        raise SettingsError(f"parallel_years must be at least 1, not {parallel_years}")
    with _sites_slot():
        return _backfill(start_year, end_year, catalogue, data_dir, force, batch_size, fetch_options, dask_address,
                         parallel_years, max_quarantine_rate, min_reports_for_rate, overrides, republish)


def _backfill(start_year: int, end_year: int, catalogue: str, data_dir: str, force: bool, batch_size: int,
              fetch_options: dict[str, float] | None, dask_address: str | None, parallel_years: int,
              max_quarantine_rate: float, min_reports_for_rate: int, overrides: str | None,
              republish: bool) -> list[dict[str, Any]]:
    logger = get_run_logger()
    cat = load_catalogue(catalogue)
    dd = DataDir(data_dir)
    todo: list[int] = []
    summaries: dict[int, dict[str, Any]] = {}
    for year in range(start_year, end_year + 1):
        if not force and year_is_done(dd, year, cat.sha256):
            logger.info("%s already ingested from this catalogue; skipped (force=True redoes it)", year)
            summaries[year] = {"year": year, "skipped": True}
        else:
            todo.append(year)

    def one(year: int) -> dict[str, Any]:
        return ingest(year=year, catalogue=catalogue, data_dir=data_dir, batch_size=batch_size,
                      fetch_options=fetch_options, dask_address=dask_address, republish=republish,
                      overrides=overrides,
                      max_quarantine_rate=max_quarantine_rate, min_reports_for_rate=min_reports_for_rate)

    if parallel_years <= 1:
        for year in todo:
            summaries[year] = one(year)
    else:
        with ThreadPoolExecutor(max_workers=parallel_years, thread_name_prefix="xxgk-year") as pool:
            # each thread runs its year as a subflow of this run (the flow context is copied into it)
            futures = {year: pool.submit(contextvars.copy_context().run, one, year) for year in todo}
            for year, future in futures.items():
                summaries[year] = future.result()
    return [summaries[y] for y in sorted(summaries)]
