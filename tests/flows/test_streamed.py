"""The streamed flow (batches → parts → gate → staging) publishes exactly what the whole-year path does.

Compared on the bundled sample (every year, in order, so E1/E5 see last year) and on two
generated years of the same organs, with batches small enough that every year has several parts.
`fetched_at` differs between two runs by construction and is left out; every other column of
every dataset in both zones must be equal.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bench.generate_year import generate
from tasks import schemas
from tasks.load.parquet import read_dataset
from tasks.load.storage import DataDir
from tests.conftest import ROOT
from tests.flows.whole_year import ingest_whole_year

pytestmark = pytest.mark.usefixtures("prefect_backend")

KEYS = {"reports": ["report_id"], "proactive": ["report_id", "block", "row_code", "column_code"],
        "requests": ["report_id", "row_code", "column_code"], "review_litigation": ["report_id", "column_code"],
        "checks": ["report_id", "check_id", "scope"], "report_summary": ["report_id"]}


def _published(data_dir: str) -> dict[str, pl.DataFrame]:
    dd = DataDir(data_dir)
    out = {}
    for zone in schemas.ZONES.values():
        for dataset in schemas.PUBLISHED:
            frame = read_dataset(dd, zone, dataset)
            if "fetched_at" in frame.columns:
                frame = frame.drop("fetched_at")
            out[f"{zone}/{dataset}"] = frame.sort(["year", *KEYS[dataset]])
    return out


def _assert_same(streamed: str, whole: str, cross_year: bool = True) -> None:
    a, b = _published(streamed), _published(whole)
    if not cross_year:
        a, b = ({k: v.filter(~pl.col("check_id").is_in(["E1", "E5"])) if k.endswith("/checks") else v
                 for k, v in x.items()} for x in (a, b))
    for name in a:
        assert a[name].height == b[name].height, name
        assert a[name].equals(b[name]), name
    assert a["curated/reports"].height > 0 and a["quarantine/reports"].height > 0


def test_streamed_equals_whole_year_on_the_sample(tmp_path: Path) -> None:
    from flows.ingest import backfill

    catalogue = str(ROOT / "data" / "samples" / "catalogue.csv")
    # years two at a time, each still published as one unit; a year may compare with a last year
    # published after it ran, so E1/E5 (warnings) are compared in the sequential test below
    backfill(start_year=2019, end_year=2024, catalogue=catalogue, data_dir=str(tmp_path / "streamed"),
             batch_size=1, parallel_years=2)
    for year in range(2019, 2025):
        ingest_whole_year(catalogue, str(tmp_path / "whole"), year)
    _assert_same(str(tmp_path / "streamed"), str(tmp_path / "whole"), cross_year=False)


def test_streamed_equals_whole_year_on_generated_years(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """2020 is gated and staged in the flow process, 2021 in child processes (as a large year is);
    chunks of 8,000 values, so that every dataset of both zones crosses several GX validations."""
    import flows.ingest
    import tasks.settings
    from flows.ingest import ingest

    monkeypatch.setattr(tasks.settings, "CHUNK_CELLS", 8000)  # the flow process
    monkeypatch.setattr(tasks.settings, "CONSISTENCY_CHUNK_CELLS", 8000)
    monkeypatch.setenv("XXGK_CHUNK_CELLS", "8000")  # the child processes

    catalogues = {year: str(generate(45, year, tmp_path / f"gen{year}", seed=7, error_rate=0.15))
                  for year in (2020, 2021)}
    for year, catalogue in catalogues.items():
        monkeypatch.setattr(flows.ingest, "ISOLATE_FROM", 10**9 if year == 2020 else 1)
        summary = ingest(year=year, catalogue=catalogue, data_dir=str(tmp_path / "streamed"), batch_size=8,
                         min_reports_for_rate=1000)
        assert summary["counts"]["discovered"] == 45 and summary["isolated"] == (year == 2021)
        ingest_whole_year(catalogue, str(tmp_path / "whole"), year)
        docs = tmp_path / "streamed" / "docs" / str(year)
        assert (docs / "index.html").exists()  # the gate's Data Docs, and each dataset's schema suites'
        assert {p.parent.name for p in (docs / "schema").glob("*/index.html")} == set(schemas.PUBLISHED)
        suites = {p.name for p in (docs / "schema" / "requests" / "validations").iterdir()}
        assert {"curated_requests_fmt_2021_0", "curated_requests_fmt_2021_1", "quarantine_requests_fmt_2021_0",
                "quarantine_requests_fmt_2021_1"} <= suites  # several chunks in each zone
    _assert_same(str(tmp_path / "streamed"), str(tmp_path / "whole"))
    checks = _published(str(tmp_path / "streamed"))["curated/checks"]
    assert checks.filter((pl.col("check_id") == "E1") & (pl.col("year") == 2021)).height > 0
