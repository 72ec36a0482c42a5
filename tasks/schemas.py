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
import pyarrow as pa

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
    "organ_id": pl.String,
    "level": pl.String,
    "adcode": pl.String,
    "province": pl.String,
    "prefecture": pl.String,
    "county": pl.String,
    "region": pl.String,
    "template": pl.String,
    "title": pl.String,
    "published_on": pl.Date,
    "source": pl.String,
    "sha256": pl.String,
    "fetched_at": pl.Datetime("us", "UTC"),
    "status": pl.String,
    "failed_checks": pl.List(pl.String),
    "released": pl.List(pl.String),
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
    "confidence": pl.Float32,
})
REQUESTS: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "row_code": pl.String,
    "column_code": pl.String,
    "value": pl.Int64,
    "raw": pl.String,
    "flags": pl.List(pl.String),
    "confidence": pl.Float32,
})
REVIEW_LITIGATION: Final = pl.Schema({
    "report_id": pl.String,
    "year": pl.Int16,
    "column_code": pl.String,
    "value": pl.Int64,
    "raw": pl.String,
    "flags": pl.List(pl.String),
    "confidence": pl.Float32,
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

# What each column means: the one home of the descriptions in the data dictionary (docs/dictionary.md,
# the `dictionary` dataset) and in every Parquet file's schema (field metadata "description").
# Keys are column names, or "dataset.column" where a dataset means something of its own.
DESCRIPTIONS: Final[dict[str, str]] = {
    "report_id": "Stable id of the report: a hash of its normalised URL or catalogue path (16 hex digits)",
    "year": "Reporting year (the year the report is about, not the year it was published)",
    "organ": "The organ as it signs the report (the catalogue's name where it has one)",
    "organ_id": "The organ's identity across years, from the catalogue (survives a rename)",
    "level": "The organ's level, from the catalogue: provincial, municipal, county, township, department, national",
    "adcode": "GB/T 2260 six-digit code of the organ's administrative division, from the catalogue",
    "province": "Province-level division of `adcode`, named by the division table (data/divisions/)",
    "prefecture": "Prefecture-level division of `adcode`; null for a province, a municipality's district and "
                  "a county under the province directly",
    "county": "County-level division of `adcode`; null above county level",
    "region": "The catalogue's free-text region, as written",
    "template": "Template version the tables follow: fmt_2019 (trial format, 2019-2020) or fmt_2021 (2021 on)",
    "title": "The report's title as printed",
    "published_on": "Publication date printed on the page, when there is one",
    "source": "The URL or catalogue path the report was read from",
    "sha256": "SHA-256 of the bytes read (the raw store's key)",
    "fetched_at": "When those bytes were fetched (UTC)",
    "status": "curated (every strict 勾稽 relation holds, or a reviewer released the failure) or quarantined",
    "failed_checks": "Strict relations the report fails (S1-S7), kept even when released",
    "released": "Failed relations a reviewer released in data/overrides.csv, each with the reviewer's note",
    "error": "Why the document could not be read at all (quarantined rows only)",
    "block": "Table 2 block: art20_1, art20_5, art20_6, art20_8, art20_9 (第二十条第（N）项)",
    "row_code": "Canonical code of the table row (see the codes below)",
    "column_code": "Canonical code of the table column (see the codes below)",
    "proactive.value": "The cell's value: a count, or money in 万元 for *_wan columns",
    "requests.value": "The cell's count; null when the cell is blank",
    "review_litigation.value": "The cell's count; null when the cell is blank",
    "unit": "Unit the cell was printed in, when not the canonical one",
    "raw": "The cell's text exactly as printed",
    "flags": "What the reader noticed about the cell (blank, dash, unit_stripped, solved, ocr, …; README: flags)",
    "confidence": "OCR'd cells (flag ocr): the recognition confidence of raw, 0–1; null for cells read from text",
    "check_id": "Relation id: S1-S7 strict within a report, E1/E4/E5 expected (warnings)",
    "scope": "Which column, row or group of the table the relation was evaluated on",
    "lhs": "Left-hand side of the relation as evaluated",
    "rhs": "Right-hand side of the relation as evaluated",
    "passed": "Whether the relation holds",
    "severity": "strict (fails the report) or expected (a warning)",
    "detail": "The relation in words, with the cells' values",
}

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


def description(dataset: str, column: str) -> str:
    """What `column` of `dataset` means (a figure of report_summary: its template cells)."""
    from tasks.normalise.summary import FIGURES

    labels = [f.label for f in FIGURES if f.name == column]
    if dataset == "report_summary" and labels:
        return "Table cells: " + " / ".join(dict.fromkeys(labels))
    return DESCRIPTIONS.get(f"{dataset}.{column}") or DESCRIPTIONS[column]


def arrow_schema(dataset: str) -> pa.Schema:
    """The Arrow schema a published file of `dataset` is written with: each field's description inside."""
    schema = pl.DataFrame(schema=PUBLISHED[dataset]).to_arrow().schema
    return pa.schema([f.with_metadata({"description": description(dataset, f.name)}) for f in schema],
                     metadata={"xxgk.dataset": dataset})
