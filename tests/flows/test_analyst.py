"""The README's analyst questions, run as written against catalog.duckdb after a real run of the sample,
and checked against the same answers computed from the cell datasets with Polars."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("prefect_backend")


def _readme_sql() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Questions an analyst asks"):]
    section = section[:section.index("\n## ")]
    return re.findall(r"```sql\n(.+?)```", section, flags=re.S)


def test_per_province_and_most_corrected_in_one_query_each(tmp_path: Path) -> None:
    from flows.ingest import backfill

    out = tmp_path / "output"
    backfill(start_year=2019, end_year=2024, catalogue=str(ROOT / "data" / "samples" / "catalogue.csv"),
             data_dir=str(out), force=True)
    per_province, most_corrected = _readme_sql()
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)

    # 1. applications received per province per year, independently: the 总计 cell of 一、本年新收
    got = con.sql(per_province).pl()
    cells = pl.read_parquet(out / "curated" / "requests").filter(
        (pl.col("row_code") == "new_received") & (pl.col("column_code") == "total"))
    reports = pl.read_parquet(out / "curated" / "reports")
    want = (reports.join(cells, on=["report_id", "year"], how="left").group_by("province", "year")
            .agg(pl.col("value").sum().alias("received"), pl.len().alias("reports")).sort("province", "year"))
    assert got.rows() == want.rows()
    assert ("浙江省", 2021, 44, 1) in got.rows()  # 杭州市西湖区, 2021: 本年新收 总计 44

    # 2. most 行政复议 corrected, both zones: independently from table 4's review_corrected cells
    got = con.sql(most_corrected).pl()
    t4 = pl.concat([pl.read_parquet(out / zone / "review_litigation") for zone in ("curated", "quarantine")])
    everyone = pl.concat([pl.read_parquet(out / zone / "reports") for zone in ("curated", "quarantine")],
                         how="diagonal_relaxed")
    corrected = (t4.filter((pl.col("column_code") == "review_corrected") & (pl.col("value") > 0))
                 .join(everyone, on=["report_id", "year"]).sort(["value", "organ"], descending=[True, False]))
    assert got["organ"].to_list() == corrected["organ"].to_list() and got.height > 0
    assert got["review_corrected"].to_list() == corrected["value"].to_list()
    assert ("淮安市洪泽区人民政府", 2023, "quarantined") in got.select("organ", "year", "status").rows()
