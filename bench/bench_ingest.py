"""End-to-end reports per second of the `ingest` flow, and the share of time Prefect itself takes.

    python bench/bench_ingest.py --reports 5000

Runs (1) the bundled sample catalogue and (2) a generated year of N reports (bench/generate_year.py),
each through the real `ingest` flow on Prefect's embedded API (a fresh data directory; the second
number is a rerun, where every document is unchanged and extraction comes from the cache). Then it
runs the same stages as plain functions, without Prefect, and reports the difference as Prefect's
share: orchestration, task-run bookkeeping, result persistence and the ephemeral API.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")

from bench.generate_year import generate


def plain_pipeline(catalogue: str, data_dir: str, year: int) -> float:
    """The same stages without Prefect: fetch (local), extract, expected checks, frames, the GX gate,
    stage, publish (and the same Data Docs)."""
    from tasks.catalogue import load_catalogue
    from tasks.extract.batch import extract_documents
    from tasks.fetch.client import fetch_all
    from tasks.fetch.store import RawStore
    from tasks.load.parquet import publish, stage_year
    from tasks.load.storage import DataDir
    from tasks.normalise.frames import build_frames, split_by_status
    from tasks.runs import chunks

    start = time.perf_counter()
    dd = DataDir(data_dir)
    store = RawStore(dd)
    targets = load_catalogue(catalogue).direct_targets(year)
    read, unread = [], []
    for batch in chunks(targets, 200):
        entries = [store.record(r) for r in fetch_all([store.request(t.location) for t in batch])]
        r, u = extract_documents(list(zip(batch, entries, strict=True)), store)
        read += r
        unread += u
    from tasks.load.parquet import read_dataset
    from tasks.validate.expected import add_expected_checks, previous_year_rows
    from tasks.validate.gate import consistency_gate, schema_gate
    from tasks.validate.route import apply_gate

    req, pro = previous_year_rows(*(read_dataset(dd, "curated", d) for d in ("requests", "proactive", "reports")),
                                  year=year)
    frames = build_frames(add_expected_checks(read, req, pro), unread)
    result, gx = consistency_gate(frames["checks"], docs_dir="docs")
    failing = {rid: [f.check_id for f in fs] for rid, fs in result.failing_reports().items()}
    reports, _ = apply_gate(frames["reports"], failing, {})
    zones = split_by_status({**frames, "reports": reports})
    problems, gx = schema_gate(zones, (year, year), gx)
    assert not problems, problems
    gx.publish_docs(lambda rel, data: dd.write_bytes(dd.path("docs", str(year), rel), data))
    publish(dd, stage_year(dd, zones, year))
    return time.perf_counter() - start


def timed_flow(catalogue: str, data_dir: str, year: int | None = None) -> tuple[float, int]:
    from flows.ingest import backfill, ingest
    from tasks.catalogue import load_catalogue

    start = time.perf_counter()
    if year is None:
        years = load_catalogue(catalogue).years()
        out = backfill(start_year=min(years), end_year=max(years), catalogue=catalogue, data_dir=data_dir, force=True)
        n = sum(s["counts"]["discovered"] for s in out)
    else:
        n = ingest(year=year, catalogue=catalogue, data_dir=data_dir)["counts"]["discovered"]
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xxgk-bench-"))
    try:
        import flows.ingest  # noqa: F401  (import cost is not part of the runs)

        sample = str(Path(__file__).resolve().parents[1] / "data" / "samples" / "catalogue.csv")
        t, n = timed_flow(sample, str(work / "sample"))
        print(f"sample catalogue  {n:6d} reports  {t:7.1f} s  {n / t:7.1f} reports/s  (backfill 2019–2024, fresh)")
        t, n = timed_flow(sample, str(work / "sample"))
        print(f"sample catalogue  {n:6d} reports  {t:7.1f} s  {n / t:7.1f} reports/s  (rerun: unchanged, cached)")

        start = time.perf_counter()
        catalogue = str(generate(args.reports, 2021, work / "year"))
        print(f"generated {args.reports} reports in {time.perf_counter() - start:.1f} s")
        t_flow, n = timed_flow(catalogue, str(work / "gen-flow"), 2021)
        print(f"generated year    {n:6d} reports  {t_flow:7.1f} s  {n / t_flow:7.1f} reports/s  (ingest flow, fresh)")
        t_rerun, _ = timed_flow(catalogue, str(work / "gen-flow"), 2021)
        print(f"generated year    {n:6d} reports  {t_rerun:7.1f} s  {n / t_rerun:7.1f} reports/s  (rerun: cached)")
        t_plain = plain_pipeline(catalogue, str(work / "gen-plain"), 2021)
        print(f"generated year    {n:6d} reports  {t_plain:7.1f} s  {n / t_plain:7.1f} reports/s  (plain functions)")
        share = max(0.0, t_flow - t_plain) / t_flow
        print(f"Prefect's share of the fresh ingest: {share:.0%} ({t_flow - t_plain:.1f} s of {t_flow:.1f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
