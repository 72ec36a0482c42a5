"""The whole-year path: every report of a year held at once, as the first wave did it.

The reference the streamed flow is compared with (tests/flows/test_streamed.py, bench/): the
same plain functions (read, frames, E1/E5, the GX gate, staging), but one frame per dataset for the
whole year instead of parts. Direct catalogue rows only (no listing pages, no attachments).
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from tasks.catalogue import load_catalogue
from tasks.extract.batch import extract_documents
from tasks.fetch.client import fetch_all
from tasks.fetch.store import RawStore
from tasks.load.parquet import publish, stage_year
from tasks.load.storage import DataDir
from tasks.normalise.frames import build_frames, split_by_status, with_identity
from tasks.runs import chunks
from tasks.validate.expected import across_years_frame, within_year
from tasks.validate.gate import consistency_gate, schema_gate
from tasks.validate.route import apply_gate
from tasks.year import published_last_year


def ingest_whole_year(catalogue: str, data_dir: str, year: int, batch_size: int = 200) -> None:
    dd = DataDir(data_dir)
    store = RawStore(dd)
    targets = load_catalogue(catalogue).direct_targets(year)
    read, unread = [], []
    for batch in chunks(targets, batch_size):
        entries = [store.record(r) for r in fetch_all([store.request(t.location) for t in batch])]
        r, u = extract_documents(list(zip(batch, entries, strict=True)), store, workers=2)
        read += [replace(x, report=replace(x.report, checks=x.report.checks + tuple(within_year(x.report))))
                 for x in r]
        unread += u
    frames = build_frames(read, unread)
    frames["reports"] = with_identity(frames["reports"], targets)
    expected = across_years_frame(frames["reports"].filter(pl.col("error").is_null()), frames["requests"],
                                  frames["proactive"], published_last_year(dd, year))
    frames["checks"] = pl.concat([frames["checks"], expected])
    result, gx = consistency_gate(frames["checks"], docs_dir="docs")
    failing = {rid: [f.check_id for f in fs] for rid, fs in result.failing_reports().items()}
    reports, _ = apply_gate(frames["reports"], failing, {})
    zones = split_by_status({**frames, "reports": reports})
    years = load_catalogue(catalogue).years() or [year]
    problems, gx = schema_gate(zones, (min(*years, year), max(*years, year)), gx)
    assert not problems, problems
    publish(dd, stage_year(dd, zones, year))
