"""Expected relations of spec §7.2, evaluated as warnings: E1, E4, E5.

* E1 -- table 3, same organ, each column: carried_over@Y = carried_forward@(Y−1)
* E4 -- fmt_2019 art20_1, each row: published_new ≤ published_total (lhs = max(new − total, 0), rhs = 0)
* E5 -- fmt_2021 art20_1, same organ, each row: in_force@Y = in_force@(Y−1) + issued@Y − repealed@Y

E4 looks at one report and is added when the report is read (`within_year`). E1 and E5 need last
year's published data: they are one join of the year's rows against `last_year_index` (an
index of last year's 结转下年度 and 现行有效 values by organ), never a filter per report, so a
national year costs one pass. "Same organ" is the catalogue's organ name (spec §6: watch
reorganisations). Results have severity `expected`: they appear in the checks dataset and the run's
report, and never block publishing.
"""

from __future__ import annotations

import polars as pl

from tasks import schemas
from tasks.model import CheckResult, Report
from tasks.template import codes, layouts

SEVERITY = codes.SEVERITY_EXPECTED
CARRIED_FORWARD = "carried_forward"
IN_FORCE = "in_force"
E5_ROWS = ("regulations", "normative_docs")

# organ, kind (carried_forward: key = table-3 column; in_force: key = art20_1 row), value
LAST_YEAR = pl.Schema({"organ": pl.String, "kind": pl.String, "key": pl.String, "value": pl.Float64})


def within_year(report: Report) -> list[CheckResult]:
    """E4 for a fmt_2019 report."""
    if report.meta.template != codes.FMT_2019:
        return []
    cells = {c.cell_id: c.value for c in report.cells}
    out = []
    for row in E5_ROWS:
        new, total = cells[f"t2.art20_1.{row}.published_new"], cells[f"t2.art20_1.{row}.published_total"]
        if new is None or total is None:
            continue
        excess = max(new - total, 0)
        out.append(CheckResult("E4", f"art20_1.{row}", excess, 0, excess == 0, SEVERITY,
                               f"{row}: 本年新公开数量 {new:g} {'≤' if excess == 0 else '>'} 对外公开总数量 {total:g}"))
    return out


def last_year_index(requests: pl.DataFrame, proactive: pl.DataFrame) -> pl.DataFrame:
    """Last year's values E1/E5 compare with, one row per (organ, kind, key).

    `requests` and `proactive` are last year's published rows joined with their organ. An organ
    that published twice keeps its last report's values.
    """
    carried = requests.filter(pl.col("row_code") == CARRIED_FORWARD).select(
        "organ", pl.lit(CARRIED_FORWARD).alias("kind"), pl.col("column_code").alias("key"),
        pl.col("value").cast(pl.Float64))
    in_force = proactive.filter((pl.col("block") == "art20_1") & (pl.col("column_code") == IN_FORCE)
                                & pl.col("row_code").is_in(E5_ROWS)).select(
        "organ", pl.lit(IN_FORCE).alias("kind"), pl.col("row_code").alias("key"), "value")
    both = pl.concat([carried, in_force]).cast(dict(LAST_YEAR))
    return both.unique(["organ", "kind", "key"], keep="last", maintain_order=True)


def _g(value: pl.Expr) -> pl.Expr:
    """A float as Python's `:g` prints a count: 12.0 -> "12", 2.5 -> "2.5"."""
    return pl.when(value == value.round()).then(value.cast(pl.Int64).cast(pl.String)) \
        .otherwise(value.cast(pl.String))


def across_years_frame(reports: pl.DataFrame, requests: pl.DataFrame, proactive: pl.DataFrame,
                       last: pl.DataFrame) -> pl.DataFrame:
    """E1 and E5 rows (the checks schema) for this year's reports against `last_year_index`.

    `reports` needs report_id, year, organ, template; `requests` and `proactive` are this year's
    rows (only carried_over and art20_1 are read). An organ without last year's values gets none.
    """
    ids = reports.select("report_id", "year", "organ", "template")
    carried = last.filter(pl.col("kind") == CARRIED_FORWARD).select("organ", pl.col("key").alias("column_code"),
                                                                    pl.col("value").alias("before"))
    organs_with_last = carried.select("organ").unique()
    columns = pl.DataFrame({"column_code": list(layouts.TABLE3_COLUMNS)}).with_row_index("order")
    now = requests.filter(pl.col("row_code") == "carried_over").select("report_id", "column_code",
                                                                   pl.col("value").cast(pl.Float64).alias("now"))
    e1 = (ids.join(organs_with_last, on="organ").join(columns, how="cross")
          .join(now, on=["report_id", "column_code"], how="left")
          .join(carried, on=["organ", "column_code"], how="left")
          .filter(pl.col("now").is_not_null() | pl.col("before").is_not_null())
          .with_columns(lhs=pl.col("now").fill_null(0), rhs=pl.col("before").fill_null(0))
          .select("report_id", "year", pl.lit("E1").alias("check_id"), pl.col("column_code").alias("scope"),
                  "lhs", "rhs", (pl.col("lhs") == pl.col("rhs")).alias("passed"), "order",
                  pl.format("{}: 上年结转 {} vs last year's 结转下年度 {}", "column_code", _g(pl.col("lhs")),
                            _g(pl.col("rhs"))).alias("detail")))

    in_force = last.filter(pl.col("kind") == IN_FORCE).select("organ", pl.col("key").alias("row_code"),
                                                              pl.col("value").alias("before"))
    art20_1 = (proactive.filter((pl.col("block") == "art20_1") & pl.col("row_code").is_in(E5_ROWS))
               .pivot(on="column_code", index=["report_id", "row_code"], values="value", aggregate_function="first")
               if proactive.height else pl.DataFrame(schema={"report_id": pl.String, "row_code": pl.String}))
    for col in ("issued", "repealed", IN_FORCE):
        if col not in art20_1.columns:
            art20_1 = art20_1.with_columns(pl.lit(None, pl.Float64).alias(col))
    rhs = pl.col("before") + pl.col("issued").fill_null(0) - pl.col("repealed").fill_null(0)
    e5 = (ids.filter(pl.col("template") == codes.FMT_2021)
          .join(art20_1, on="report_id").join(in_force, on=["organ", "row_code"])
          .filter(pl.col(IN_FORCE).is_not_null() & pl.col("before").is_not_null())
          .with_columns(pl.col(IN_FORCE).cast(pl.Float64).alias("lhs"), rhs.cast(pl.Float64).alias("rhs"),
                        (pl.col("row_code").replace_strict({r: i for i, r in enumerate(E5_ROWS)},
                                                           return_dtype=pl.UInt32)
                         + len(layouts.TABLE3_COLUMNS)).alias("order"))
          .select("report_id", "year", pl.lit("E5").alias("check_id"),
                  pl.format("art20_1.{}", "row_code").alias("scope"),
                  "lhs", "rhs", (pl.col("lhs") == pl.col("rhs")).alias("passed"), "order",
                  pl.format("{}: 现行有效 {} vs last year's {} + 制发 {} − 废止 {} = {}", "row_code", _g(pl.col("lhs")),
                            _g(pl.col("before")), _g(pl.col("issued").fill_null(0)),
                            _g(pl.col("repealed").fill_null(0)), _g(pl.col("rhs"))).alias("detail")))
    out = pl.concat([e1.cast({"order": pl.UInt32}), e5.cast({"order": pl.UInt32})], how="vertical_relaxed")
    return (out.sort("report_id", "order").with_columns(pl.lit(SEVERITY).alias("severity"))
            .select(schemas.CHECKS.names()).cast(dict(schemas.CHECKS)))


def across_years(report: Report, organ: str, previous_requests: pl.DataFrame, previous_proactive: pl.DataFrame
                 ) -> list[CheckResult]:
    """E1 (and E5 for fmt_2021) of one report against last year's published rows of the same organ.

    `previous_*` are last year's rows joined with their organ (columns organ, row, column, value).
    The one-report face of `across_years_frame` (for tests and `xxgk extract`).
    """
    from datetime import UTC, datetime

    from tasks.normalise.frames import ReadReport, build_frames

    frames = build_frames([ReadReport(report, "r", datetime.now(UTC), schemas.STATUS_CURATED, ())], [])
    reports = frames["reports"].with_columns(pl.lit(organ).alias("organ"))
    checks = across_years_frame(reports, frames["requests"], frames["proactive"],
                                last_year_index(previous_requests, previous_proactive))
    return [CheckResult(r["check_id"], r["scope"], r["lhs"], r["rhs"], r["passed"], r["severity"], r["detail"])
            for r in checks.iter_rows(named=True)]


def previous_year_rows(requests: pl.DataFrame, proactive: pl.DataFrame, reports: pl.DataFrame, year: int
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Last year's published table-3 and table-2 rows with their organ (empty frames when none)."""
    organs = reports.filter(pl.col("year") == year - 1).select("report_id", "organ")
    req = requests.filter(pl.col("year") == year - 1).join(organs, on="report_id")
    pro = proactive.filter(pl.col("year") == year - 1).join(organs, on="report_id")
    return req, pro
