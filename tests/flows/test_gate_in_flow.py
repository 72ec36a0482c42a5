"""The gate inside `ingest`: what is quarantined, what stops publishing, and reviewed releases."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tasks.errors import PublishError
from tasks.load.parquet import read_dataset
from tasks.load.storage import DataDir
from tasks.normalise.frames import report_id
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("prefect_backend")
CATALOGUE = str(ROOT / "data" / "samples" / "catalogue.csv")
HEQU = report_id("002_hequ_2020.txt")


def _files(root: Path) -> dict[str, bytes]:
    """The published files (the extraction cache under _cache/ is not published data)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))
            if p.relative_to(root).parts[0] in ("curated", "quarantine")}


def test_seed_002_is_quarantined_with_its_relations_and_docs_are_built(tmp_path: Path) -> None:
    from flows.ingest import ingest

    out = DataDir(str(tmp_path / "out"))
    summary = ingest(year=2020, catalogue=CATALOGUE, data_dir=out.uri)
    quarantined = read_dataset(out, "quarantine", "reports")
    assert quarantined.select("report_id", "failed_checks").rows() == [(HEQU, ["S2", "S3"])]
    curated = read_dataset(out, "curated", "reports")
    assert sorted(curated["organ"]) == ["井冈山市人民政府", "包头市人民政府办公室", "淮北市杜集区经济和信息化局"]
    assert curated["failed_checks"].to_list() == [[], [], []]
    checks = read_dataset(out, "quarantine", "checks").filter(~pl.col("passed"))
    assert checks.select("check_id", "scope", "lhs", "rhs").rows() == [("S2", "total", 3.0, 0.0),
                                                                         ("S3", "other_handling", None, 3.0)]
    assert summary["relations"]["S2"][1] == 1 and summary["relations"]["S3"][1] == 1
    assert summary["quarantine_rate"] == 0.25
    assert (tmp_path / "out" / "docs" / "2020" / "index.html").exists()

    # a rerun finds the year as published: the quarantined report is still reported, with its relations
    again = ingest(year=2020, catalogue=CATALOGUE, data_dir=out.uri)
    assert again["unchanged_since_publish"] and again["counts"]["quarantined"] == summary["counts"]["quarantined"]
    assert [f["reason"] for f in again["failures"] if f["stage"] == "validate"] == ["fails S2, S3"]


def test_a_schema_break_publishes_nothing_and_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import flows.ingest as ingest_module
    import tasks.batches as batches_module

    out = tmp_path / "out"
    ingest_module.ingest(year=2020, catalogue=CATALOGUE, data_dir=str(out))
    # The batches are read again, through the broken normaliser below (which the code fingerprint cannot
    # see: without the cache and the state, the year is not recognised as unchanged since its publish).
    shutil.rmtree(out / "_cache")
    shutil.rmtree(out / "_state")
    before = _files(out)
    real = batches_module.finish_frames

    def unknown_code(frames, targets):  # type: ignore[no-untyped-def]
        frames = real(frames, targets)
        frames["review_litigation"] = frames["review_litigation"].with_columns(
            pl.col("column_code").str.replace("review_upheld", "review_kept"))
        return frames

    monkeypatch.setattr(batches_module, "finish_frames", unknown_code)
    with pytest.raises(PublishError, match=r"schema suites failed.*review_litigation.*'column_code'.*review_kept"):
        ingest_module.ingest(year=2020, catalogue=CATALOGUE, data_dir=str(out))
    assert _files(out) == before


def test_quarantine_rate_over_the_threshold_fails_without_publishing(tmp_path: Path) -> None:
    from flows.ingest import ingest

    out = tmp_path / "out"
    with pytest.raises(PublishError, match=r"25% of the reports would be quarantined \(threshold 20%\)"):
        ingest(year=2020, catalogue=CATALOGUE, data_dir=str(out), min_reports_for_rate=1)
    assert not (out / "curated").exists()


def test_reviewed_override_releases_a_report(tmp_path: Path) -> None:
    from flows.ingest import ingest

    overrides = tmp_path / "overrides.csv"
    overrides.write_text("report_id,check_id,reason,reviewer,date\n"
                         f"{HEQU},S2,总计 left blank by the organ; 3 confirmed by phone,王审核,2026-11-20\n"
                         f"{HEQU},S3,same blank 总计 cell,王审核,2026-11-20\n", encoding="utf-8")
    out = DataDir(str(tmp_path / "out"))
    ingest(year=2020, catalogue=CATALOGUE, data_dir=out.uri, overrides=str(overrides))
    row = read_dataset(out, "curated", "reports").filter(pl.col("report_id") == HEQU).row(0, named=True)
    assert row["status"] == "curated" and row["failed_checks"] == ["S2", "S3"]
    assert row["released"] == ["S2: 总计 left blank by the organ; 3 confirmed by phone (王审核, 2026-11-20)",
                               "S3: same blank 总计 cell (王审核, 2026-11-20)"]
    assert read_dataset(out, "quarantine", "reports").height == 0


def test_a_gate_that_fails_in_its_child_process_leaves_the_published_year_untouched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large year is gated and staged in child processes: a failure there fails the run like one in
    the flow process (its reason carried across), nothing is published, and the rerun completes."""
    import flows.ingest

    monkeypatch.setattr(flows.ingest, "ISOLATE_FROM", 1)
    out = tmp_path / "out"
    first = flows.ingest.ingest(year=2020, catalogue=CATALOGUE, data_dir=str(out))
    assert first["isolated"] and first["counts"]["published"] > 0
    before = _files(out)
    cached = sorted((out / "_cache" / "batches" / "year=2020").glob("extract-*/requests.parquet"))
    assert cached
    cached[0].unlink()  # the batch still counts as cached (its batch.json is there); the gate cannot read it
    with pytest.raises(FileNotFoundError, match=r"requests\.parquet"):
        flows.ingest.ingest(year=2020, catalogue=CATALOGUE, data_dir=str(out), republish=True)
    assert _files(out) == before
    cached[0].parent.joinpath("batch.json").unlink()  # the batch is read again
    again = flows.ingest.ingest(year=2020, catalogue=CATALOGUE, data_dir=str(out), republish=True)
    assert (again["counts"]["published"], again["counts"]["quarantined"]) == \
        (first["counts"]["published"], first["counts"]["quarantined"])
    assert read_dataset(DataDir(str(out)), "curated", "reports").height == first["counts"]["published"]
