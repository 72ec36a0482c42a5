"""Schema suites, one per dataset of docs/contract.md §2 (named after the dataset).

Exact dtypes are checked with Polars before GX sees the data (`check_dtypes`): GX reads pandas,
where Int16 and Int64 are both "int" (notes/stack.md §2.6). GX then checks what a person would
read off the table: the columns in order, each column's type, the codes in their value sets for
the report's template version, non-negative counts (only `items_change` may be negative),
the year, and one row per (report, cell).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tasks import schemas
from tasks.normalise.summary import FIGURE_DTYPES
from tasks.template import codes, layouts

_GX_TYPE = {pl.Int16: "int", pl.Int64: "int", pl.String: "str", pl.Float64: "float", pl.Float32: "float",
            pl.Boolean: "bool",
            pl.Date: "date"}


def gx_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return "list"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return _GX_TYPE[type(dtype)] if type(dtype) in _GX_TYPE else _GX_TYPE[dtype]  # type: ignore[index]


def check_dtypes(dataset: str, frame: pl.DataFrame) -> list[str]:
    """Exact dtype mismatches against tasks/schemas.py, as readable failures."""
    expected = schemas.PUBLISHED[dataset]
    problems = []
    if frame.columns != expected.names():
        problems.append(f"{dataset}: columns {frame.columns} are not {expected.names()}")
    for name, dtype in expected.items():
        if name in frame.schema and frame.schema[name] != dtype:
            problems.append(f"{dataset}.{name}: dtype {frame.schema[name]} is not {dtype}")
    return problems


def _code_sets(template: str) -> dict[str, dict[str, list[str]]]:
    blocks = layouts.TABLE2_BLOCKS[template]
    return {
        "proactive": {"block": [b.code for b in blocks],
                      "row_code": sorted({r for b in blocks for r in b.rows}),
                      "column_code": sorted({c for b in blocks for c in b.columns})},
        # a group printed as one row (flag group_as_leaf) keeps its code: other_handling in fmt_2021
        "requests": {"row_code": [*layouts.TABLE3_ROWS[template], *layouts.TABLE3_GROUPS[template]],
                     "column_code": list(layouts.TABLE3_COLUMNS)},
        "review_litigation": {"column_code": list(layouts.TABLE4_COLUMNS)},
    }


_KEYS = {"proactive": ["report_id", "block", "row_code", "column_code"],
         "requests": ["report_id", "row_code", "column_code"],
         "review_litigation": ["report_id", "column_code"], "checks": ["report_id", "check_id", "scope"]}
_NOT_NULL = {"reports": ["report_id", "year", "organ", "source", "status"],
             "checks": ["check_id", "scope", "passed", "severity", "detail"]}
CHECK_IDS = [*codes.STRICT_CHECKS, "E1", "E4", "E5"]


def schema_expectations(dataset: str, zone: str, year_range: tuple[int, int], template: str | None = None
                        ) -> list[Any]:
    """The expectations of one dataset's suite (for one template version's rows, for cell datasets)."""
    import great_expectations.expectations as gxe

    schema = schemas.PUBLISHED[dataset]
    out: list[Any] = [gxe.ExpectTableColumnsToMatchOrderedList(column_list=schema.names())]
    out += [gxe.ExpectColumnValuesToBeOfType(column=name, type_=gx_type(dtype)) for name, dtype in schema.items()
            if name not in ("published_on", "fetched_at", "title", "template", "error", "lhs", "rhs", "unit")
            and name not in FIGURE_DTYPES]  # the figures' exact dtypes: check_dtypes
    out += [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ["report_id", "year", *_NOT_NULL.get(dataset, [])]]
    out.append(gxe.ExpectColumnValuesToBeBetween(column="year", min_value=year_range[0], max_value=year_range[1]))
    if dataset in ("reports", "report_summary"):
        out.append(gxe.ExpectColumnValuesToBeUnique(column="report_id"))
        status = schemas.STATUS_CURATED if zone == "curated" else schemas.STATUS_QUARANTINED
        out.append(gxe.ExpectColumnValuesToBeInSet(column="status", value_set=[status]))
        out.append(gxe.ExpectColumnValuesToBeInSet(column="template", value_set=list(codes.SUPPORTED_TEMPLATES)))
        if dataset == "report_summary" and zone == "curated":  # S6 held: every count is ≥ 0
            out += [gxe.ExpectColumnValuesToBeBetween(column=name, min_value=0)
                    for name, dtype in FIGURE_DTYPES.items() if dtype == pl.Int64]
    elif dataset == "checks":
        out.append(gxe.ExpectColumnValuesToBeInSet(column="check_id", value_set=CHECK_IDS))
        out.append(gxe.ExpectColumnValuesToBeInSet(
            column="severity", value_set=[codes.SEVERITY_STRICT, codes.SEVERITY_EXPECTED]))
    else:
        out.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=_KEYS[dataset]))
        out.append(gxe.ExpectColumnValuesToBeBetween(column="confidence", min_value=0, max_value=1))  # OCR only
        if template is not None:
            for column, values in _code_sets(template)[dataset].items():
                out.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values))
        if zone == "curated":  # quarantine may hold the very negative counts that S6 caught
            if dataset == "proactive":
                out.append(gxe.ExpectColumnValuesToBeBetween(
                    column="value", min_value=0, row_condition='column_code!="items_change"',
                    condition_parser="pandas"))
            else:
                out.append(gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0))
    return out
