"""`backfill` over the bundled sample catalogue: every year once, and a rerun does only what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.load.parquet import read_dataset
from tasks.load.storage import DataDir
from tasks.runs import state_path
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("prefect_backend")


def test_backfill_is_resumable(tmp_path: Path) -> None:
    from flows.ingest import backfill

    catalogue = str(ROOT / "data" / "samples" / "catalogue.csv")
    out = DataDir(str(tmp_path / "out"))
    first = backfill(start_year=2019, end_year=2022, catalogue=catalogue, data_dir=out.uri)
    assert [s["year"] for s in first] == [2019, 2020, 2021, 2022] and not any(s.get("skipped") for s in first)
    curated = read_dataset(out, "curated", "reports")
    assert sorted(curated["year"].to_list()) == [2019, 2020, 2020, 2020, 2021, 2021, 2022]
    assert curated["report_id"].n_unique() == curated.height

    # a crash lost the record of 2021 (as if the run died after 2020): the rerun does 2021 only
    Path(state_path(out, 2021)).unlink()
    second = backfill(start_year=2019, end_year=2022, catalogue=catalogue, data_dir=out.uri)
    assert [s.get("skipped", False) for s in second] == [True, True, False, True]
    assert second[2]["counts"]["unchanged"] == 2
    again = read_dataset(out, "curated", "reports")
    assert again.height == curated.height and again["report_id"].n_unique() == again.height


def test_a_year_without_documents_is_not_recorded_as_done(tmp_path: Path) -> None:
    from flows.ingest import ingest
    from tasks.catalogue import load_catalogue
    from tasks.runs import year_is_done

    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text("organ,region,level,year,report_url,listing_url\n某县人民政府,,county,2020,a.html,\n",
                         encoding="utf-8")
    out = DataDir(str(tmp_path / "out"))
    summary = ingest(year=2021, catalogue=str(catalogue), data_dir=out.uri)
    assert summary["counts"]["discovered"] == 0
    # a catalogue or listing problem (or a run before the reports are out): a later backfill tries again
    assert not year_is_done(out, 2021, load_catalogue(str(catalogue)).sha256)
