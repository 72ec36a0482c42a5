"""Batch parts read back in their schema, and a zone's rows of a part that do not hold the whole
part (staging keeps the small zone's rows of every part of a year until they fill a chunk)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tasks import schemas
from tasks.batches import read_part, write_part_file
from tasks.load.storage import DataDir
from tasks.year import zone_rows


def _requests(n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "report_id": [f"{i // 160:016x}" for i in range(n)],
        "year": [2021] * n,
        "row_code": [f"row_code_{i % 40:03d}_long" for i in range(n)],
        "column_code": [f"column_code_{i % 7}_long" for i in range(n)],
        "value": list(range(n)),
        "raw": [f"原始单元格文本 {i}" for i in range(n)],
        "flags": [["flag_long_enough"]] * n,
        "confidence": [1.0] * n,
    }).cast(dict(schemas.DATASETS["requests"]))


def _buffers(frame: pl.DataFrame) -> int:
    """Bytes of every buffer the frame's columns hold, string views' data buffers included."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest()).get_total_buffer_size()


def test_a_part_reads_back_in_its_declared_schema(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    frame = _requests(3200)
    write_part_file(dd, str(tmp_path / "part"), "requests", frame)
    back = read_part(dd, str(tmp_path / "part"), "requests")
    assert back.schema == pl.Schema(schemas.DATASETS["requests"])
    assert back.equals(frame)


def test_a_zones_rows_hold_only_their_own_data(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    write_part_file(dd, str(tmp_path / "part"), "requests", _requests(32_000))
    whole = read_part(dd, str(tmp_path / "part"), "requests")
    ids = whole["report_id"].unique().sort()
    # A plain filter holds the part's pages: the premise of zone_rows (if Polars stops doing this,
    # the round trip can go).
    assert _buffers(whole.filter(pl.col("report_id") == ids[0])) > _buffers(whole) / 5
    quarantined = zone_rows(whole, ids[:2])  # 320 of 32,000 rows
    assert quarantined.height == 320
    assert quarantined.equals(whole.filter(pl.col("report_id").is_in(ids[:2].implode())))
    assert quarantined.schema == whole.schema
    assert _buffers(quarantined) < _buffers(whole) / 20, "the zone's rows keep the whole part's buffers"
    curated = zone_rows(whole, ids[2:])
    assert curated.height == 31_680 and _buffers(curated) <= _buffers(whole)
