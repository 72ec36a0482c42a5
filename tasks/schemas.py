"""Polars schemas of the datasets of docs/contract.md §2: the one place their columns and dtypes live.

`year` is the Hive partition key: it is in the frames (Int16) but not inside the Parquet files,
so DuckDB and Polars read it from the `year=YYYY` directory names. Readers should pass
`hive_types={'year': SMALLINT}` (DuckDB) or `hive_schema={'year': pl.Int16}` (Polars) to keep Int16.

Extension to the contract (README changelog): `reports.error` holds the reason a document could
not be read at all (no tables, legacy template, fetch failure), for quarantined rows.
"""

from __future__ import annotations

from typing import Final

import polars as pl

PARTITION_KEY: Final = "year"
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
    "error": pl.String,
})
PROACTIVE: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "block": pl.String,
    "row": pl.String,
    "column": pl.String,
    "value": pl.Float64,
    "unit": pl.String,
    "raw": pl.String,
    "flags": pl.List(pl.String),
})
REQUESTS: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "row": pl.String,
    "column": pl.String,
    "value": pl.Int64,
    "raw": pl.String,
    "flags": pl.List(pl.String),
})
REVIEW_LITIGATION: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "column": pl.String,
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

DATASETS: Final[dict[str, pl.Schema]] = {
    "reports": REPORTS,
    "proactive": PROACTIVE,
    "requests": REQUESTS,
    "review_litigation": REVIEW_LITIGATION,
    "checks": CHECKS,
}
# Zones a report lands in, by status.
ZONES: Final = {STATUS_CURATED: "curated", STATUS_QUARANTINED: "quarantine"}
