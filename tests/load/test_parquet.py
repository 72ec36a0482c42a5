"""Staging, journalled publishing and recovery; a local directory and an fsspec object store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

import tasks
from tasks import schemas
from tasks.load.parquet import discard, publish, read_dataset, recover, stage_year
from tasks.load.storage import DataDir
from tasks.normalise.frames import ReadReport, build_frames, report_id, split_by_status
from tests.conftest import SAMPLES


def _zones(*names: str) -> dict[str, dict[str, pl.DataFrame]]:
    read = []
    for name in names:
        r = tasks.read_source(str(SAMPLES / name))
        status = schemas.STATUS_QUARANTINED if r.failed_checks else schemas.STATUS_CURATED
        read.append(ReadReport(r, report_id(name), datetime(2021, 2, 1, tzinfo=UTC), status,
                               tuple(c.id for c in r.failed_checks)))
    return split_by_status(build_frames(read, []))


def test_publish_writes_hive_partitions_readable_by_duckdb_and_polars(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    staged = stage_year(dd, _zones("000_baotou_2020.txt", "002_hequ_2020.txt"), 2020)
    assert not (tmp_path / "curated").exists(), "nothing is live before publish"
    publish(dd, staged)
    assert not list((tmp_path / "_staging").iterdir())
    rows = duckdb.sql(f"select year, count(*) from read_parquet('{tmp_path}/curated/requests/*/*.parquet', "
                      "hive_partitioning=true, hive_types={'year': SMALLINT}) group by 1").fetchall()
    assert rows == [(2020, 161)]
    frame = pl.scan_parquet(tmp_path / "quarantine" / "reports", hive_partitioning=True,
                            hive_schema={"year": pl.Int16}).collect()
    assert frame["organ"].to_list() == ["河曲县人民政府办公室"] and frame["year"].dtype == pl.Int16
    assert frame["failed_checks"].to_list() == [["S2", "S3"]]
    assert read_dataset(dd, "curated", "reports").schema == schemas.REPORTS


def test_republishing_a_year_replaces_it(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    publish(dd, stage_year(dd, _zones("000_baotou_2020.txt", "004_duji_2020.txt"), 2020))
    publish(dd, stage_year(dd, _zones("000_baotou_2020.txt", "004_duji_2020.txt"), 2020))
    assert read_dataset(dd, "curated", "reports").height == 2
    publish(dd, stage_year(dd, _zones("004_duji_2020.txt"), 2020))
    assert read_dataset(dd, "curated", "reports")["organ"].to_list() == ["杜集区经济和信息化局"]


def test_recover_completes_a_journalled_publish_and_drops_an_unjournalled_one(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    staged = stage_year(dd, _zones("000_baotou_2020.txt"), 2020)
    dd.write_json(dd.path("_staging", staged.run_id, "PUBLISH.json"),
                  {"year": 2020, "moves": [list(m) for m in staged.moves]})
    orphan = stage_year(dd, _zones("004_duji_2020.txt"), 2020)
    notes = recover(dd)
    assert any("completed" in n for n in notes) and any("discarded" in n for n in notes)
    assert read_dataset(dd, "curated", "reports")["organ"].to_list() == ["包头市人民政府办公室"]
    assert not dd.exists(dd.path("_staging", orphan.run_id))


def test_schema_drift_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    zones = _zones("000_baotou_2020.txt")
    zones["curated"]["requests"] = zones["curated"]["requests"].with_columns(pl.col("value").cast(pl.Float64))
    with pytest.raises(TypeError, match="curated/requests"):
        stage_year(DataDir(str(tmp_path)), zones, 2020)


def test_discard_leaves_nothing(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    staged = stage_year(dd, _zones("000_baotou_2020.txt"), 2020)
    discard(dd, staged)
    assert not list((tmp_path / "_staging").iterdir())
    assert not (tmp_path / "curated").exists()


def test_object_store_url(tmp_path: Path) -> None:
    """Any fsspec URL works as the data directory (memory:// here, s3:// or oss:// in production)."""
    dd = DataDir(f"memory://xxgk-{uuid.uuid4().hex}")
    assert not dd.is_local
    publish(dd, stage_year(dd, _zones("003_hulunbuir_2022.txt"), 2022))
    reports = read_dataset(dd, "curated", "reports")
    assert reports["organ"].to_list() == ["呼伦贝尔经济技术开发区管委会"] and reports["year"].to_list() == [2022]
    assert read_dataset(dd, "curated", "requests").height == 175
    assert dd.listdir(dd.path("_staging")) == []


def test_file_url_is_the_local_filesystem(tmp_path: Path) -> None:
    dd = DataDir(f"file://{tmp_path}")
    assert dd.is_local and dd.root == str(tmp_path)
