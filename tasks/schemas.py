"""Polars schemas of the datasets of docs/contract.md §2: the one place their columns and dtypes live.

Each dataset is partitioned by reporting year into folders named by the year alone
(`curated/reports/2024/part-0.parquet`), and `year` (Int16) is stored inside every file. Not Hive
`year=2024` folders: a reader with Hive options then types `year` from the folder name instead
(DuckDB BIGINT, pyarrow int32, pandas a category) and pyarrow/pandas refuse to merge it with the
file's column; with plain folders every reader gets the file's Int16, with or without Hive
options, and a filter on `year` still skips the other files by their statistics.

Extension to the contract (README changelog): `reports.error` holds the reason a document could
not be read at all (no tables, legacy template, fetch failure), for quarantined rows.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from tasks.normalise.summary import FIGURE_DTYPES

PARTITION_KEY: Final = "year"
PART_FILE: Final = "part-0.parquet"  # one fixed-name file per dataset, zone and year


def partition_dir(year: int) -> str:
    """The folder of one reporting year inside a dataset's folder: `2024`."""
    return f"{year:04d}"
STATUS_CURATED: Final = "curated"
STATUS_QUARANTINED: Final = "quarantined"

REPORTS: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "organ": pl.String,
    "organ_id": pl.String,  # the catalogue's identity of the organ, the same across years
    "level": pl.String,  # the catalogue's level: provincial, municipal, county, township, department…
    "adcode": pl.String,  # GB/T 2260 code of the organ's division
    "province": pl.String,  # names from the division table (data/divisions/), never from free text
    "prefecture": pl.String,
    "county": pl.String,
    "region": pl.String,  # the catalogue's free-text region, as written
    "template": pl.String,
    "title": pl.String,
    "published_on": pl.Date,
    "source": pl.String,
    "sha256": pl.String,
    "fetched_at": pl.Datetime("us", "UTC"),
    "status": pl.String,
    "failed_checks": pl.List(pl.String),
    "released": pl.List(pl.String),  # failed relations a reviewer released (data/overrides.csv), with the note
    "error": pl.String,
})
PROACTIVE: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "block": pl.String,
    "row_code": pl.String,
    "column_code": pl.String,
    "value": pl.Float64,
    "unit": pl.String,
    "raw": pl.String,
    "flags": pl.List(pl.String),
})
REQUESTS: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "row_code": pl.String,
    "column_code": pl.String,
    "value": pl.Int64,
    "raw": pl.String,
    "flags": pl.List(pl.String),
})
REVIEW_LITIGATION: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "column_code": pl.String,
    "value": pl.Int64,
    "raw": pl.String,
    "flags": pl.List(pl.String),
})
CHECKS: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "check_id": pl.String,
    "scope": pl.String,
    "lhs": pl.Float64,
    "rhs": pl.Float64,
    "passed": pl.Boolean,
    "severity": pl.String,
    "detail": pl.String,
})

SUMMARY_IDENTITY: Final = ("report_id", "year", "organ_id", "organ", "level", "adcode", "province", "prefecture",
                            "county", "template", "published_on", "status", "failed_checks", "released", "source")
REPORT_SUMMARY: Final = pl.Schema({
    **{c: REPORTS[c] for c in SUMMARY_IDENTITY},
    **FIGURE_DTYPES,  # the key figures as named columns (tasks/normalise/summary.py: FIGURES)
})

# What the batches write and the gate reads: the report and its cells.
DATASETS: Final[dict[str, pl.Schema]] = {
    "reports": REPORTS,
    "proactive": PROACTIVE,
    "requests": REQUESTS,
    "review_litigation": REVIEW_LITIGATION,
    "checks": CHECKS,
}
# What is published in each zone: the above, and the wide summary derived from them when staging.
PUBLISHED: Final[dict[str, pl.Schema]] = {**DATASETS, "report_summary": REPORT_SUMMARY}
# Zones a report lands in, by status.
ZONES: Final = {STATUS_CURATED: "curated", STATUS_QUARANTINED: "quarantine"}
