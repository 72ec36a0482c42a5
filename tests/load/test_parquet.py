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


def test_publish_writes_a_folder_per_year_with_year_inside(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    staged = stage_year(dd, _zones("000_baotou_2020.txt", "002_hequ_2020.txt"), 2020)
    assert not (tmp_path / "curated").exists(), "nothing is live before publish"
    publish(dd, staged)
    assert not list((tmp_path / "_staging").iterdir())
    assert (tmp_path / "curated" / "requests" / "2020" / "part-0.parquet").is_file()
    rows = duckdb.sql(f"select year, count(*) from read_parquet('{tmp_path}/curated/requests/*/*.parquet') "
                      "group by 1").fetchall()
    assert rows == [(2020, 161)]
    frame = pl.read_parquet(tmp_path / "quarantine" / "reports")
    assert frame["organ"].to_list() == ["河曲县人民政府办公室"] and frame["year"].dtype == pl.Int16
    assert frame["failed_checks"].to_list() == [["S2", "S3"]]
    assert read_dataset(dd, "curated", "reports").schema == schemas.REPORTS


def test_year_is_the_same_int16_in_every_reader_with_or_without_hive_options(tmp_path: Path) -> None:
    """DuckDB, Polars, pandas and pyarrow.dataset, each with and without Hive partitioning."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as pads

    dd = DataDir(str(tmp_path))
    publish(dd, stage_year(dd, _zones("000_baotou_2020.txt"), 2020))
    publish(dd, stage_year(dd, _zones("012_hangzhou_2021.html"), 2021))
    folder, files = tmp_path / "curated" / "reports", f"{tmp_path}/curated/reports/*/*.parquet"
    seen: dict[str, object] = {}
    for hive in ("", ", hive_partitioning=true", ", hive_partitioning=false"):
        query = f"select distinct typeof(year) from read_parquet('{files}'{hive})"
        seen[f"duckdb{hive}"] = duckdb.sql(query).fetchall()
    for option in ({}, {"hive_partitioning": True}, {"hive_partitioning": False}):
        seen[f"polars {option}"] = pl.read_parquet(folder, **option).schema["year"]
        seen[f"polars scan {option}"] = pl.scan_parquet(files, **option).collect_schema()["year"]
    for option in ({}, {"partitioning": "hive"}):
        seen[f"pyarrow {option}"] = pads.dataset(folder, format="parquet", **option).schema.field("year").type
        seen[f"pandas {option}"] = pd.read_parquet(folder, **option)["year"].dtype
    assert seen == {k: ([("SMALLINT",)] if k.startswith("duckdb") else pl.Int16 if k.startswith("polars")
                        else pa.int16() if k.startswith("pyarrow") else "int16") for k in seen}, seen
    assert sorted(pd.read_parquet(folder)["year"].tolist()) == [2020, 2021]


def test_a_year_in_the_old_hive_layout_is_moved(tmp_path: Path) -> None:
    """0.3 published `<dataset>/year=YYYY/part-0.parquet` without `year` in the file."""
    import io

    import pyarrow.parquet as pq

    from tasks.load.parquet import migrate_legacy_layout

    dd = DataDir(str(tmp_path))
    for zone, frames in _zones("000_baotou_2020.txt", "002_hequ_2020.txt").items():
        for dataset, frame in frames.items():
            buf = io.BytesIO()
            pq.write_table(frame.drop("year").to_arrow(), buf)
            dd.write_bytes(dd.path(zone, dataset, "year=2020", "part-0.parquet"), buf.getvalue())
    notes = migrate_legacy_layout(dd, 2020)
    assert len(notes) == 2 * len(schemas.DATASETS)
    assert not list(tmp_path.glob("*/*/year=*"))
    assert read_dataset(dd, "quarantine", "reports")["organ"].to_list() == ["河曲县人民政府办公室"]
    assert read_dataset(dd, "curated", "requests")["year"].unique().to_list() == [2020]
    assert migrate_legacy_layout(dd, 2020) == []  # nothing left to move


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
