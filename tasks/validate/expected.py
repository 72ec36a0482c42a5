"""Expected relations of spec §7.2, evaluated as warnings: E1, E4, E5.

* E1 -- table 3, same organ, each column: carried_over@Y = carried_forward@(Y−1)
* E4 -- fmt_2019 art20_1, each row: published_new ≤ published_total (lhs = max(new − total, 0), rhs = 0)
* E5 -- fmt_2021 art20_1, same organ, each row: in_force@Y = in_force@(Y−1) + issued@Y − repealed@Y

Cross-year relations need last year's published data (curated); they run in backfills and
whenever it exists. "Same organ" is the catalogue's organ name (spec §6: watch reorganisations).
Results are `CheckResult`s with severity `expected`: they appear in the checks dataset and the
run's report, and never block publishing.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tasks.model import CheckResult, Report
from tasks.template import codes, layouts

SEVERITY = codes.SEVERITY_EXPECTED


def _cells(report: Report) -> dict[str, int | float | None]:
    return {c.cell_id: c.value for c in report.cells}


def within_year(report: Report) -> list[CheckResult]:
    """E4 for a fmt_2019 report."""
    if report.meta.template != codes.FMT_2019:
        return []
    cells = _cells(report)
    out = []
    for row in ("regulations", "normative_docs"):
        new, total = cells[f"t2.art20_1.{row}.published_new"], cells[f"t2.art20_1.{row}.published_total"]
        if new is None or total is None:
            continue
        excess = max(new - total, 0)
        out.append(CheckResult("E4", f"art20_1.{row}", excess, 0, excess == 0, SEVERITY,
                               f"{row}: 本年新公开数量 {new:g} {'≤' if excess == 0 else '>'} 对外公开总数量 {total:g}"))
    return out


@dataclass(frozen=True, slots=True)
class LastYear:
    """Last year's published values the expected relations need, indexed by organ once per run.

    (Filtering last year's whole table once per report made E1/E5 grow with the square of the year.)
    """

    carried_forward: dict[str, dict[str, int | float | None]]  # organ -> column -> 结转下年度
    in_force: dict[str, dict[str, int | float | None]]  # organ -> row -> 现行有效件数

    @classmethod
    def index(cls, previous_requests: pl.DataFrame, previous_proactive: pl.DataFrame) -> LastYear:
        carried: dict[str, dict[str, int | float | None]] = {}
        for organ, column, value in previous_requests.filter(pl.col("row") == "carried_forward") \
                .select("organ", "column", "value").iter_rows():
            carried.setdefault(organ, {})[column] = value
        in_force: dict[str, dict[str, int | float | None]] = {}
        for organ, row, value in previous_proactive.filter(pl.col("column") == "in_force") \
                .select("organ", "row", "value").iter_rows():
            in_force.setdefault(organ, {})[row] = value
        return cls(carried, in_force)


def across_years(report: Report, organ: str, previous_requests: pl.DataFrame, previous_proactive: pl.DataFrame
                 ) -> list[CheckResult]:
    """E1 (and E5 for fmt_2021) against last year's published rows of the same organ.

    `previous_*` are last year's curated rows joined with their organ (columns organ, row, column, value).
    """
    return across_years_indexed(report, organ, LastYear.index(previous_requests, previous_proactive))


def across_years_indexed(report: Report, organ: str, last_year: LastYear) -> list[CheckResult]:
    """`across_years` with last year already indexed (what the flows use: one index, one lookup per report)."""
    out: list[CheckResult] = []
    cells = _cells(report)
    last = last_year.carried_forward.get(organ, {})
    if last:
        for col in layouts.TABLE3_COLUMNS:
            now, before = cells[f"t3.carried_over.{col}"], last.get(col)
            if now is None and before is None:
                continue
            lhs, rhs = now or 0, before or 0
            out.append(CheckResult("E1", col, lhs, rhs, lhs == rhs, SEVERITY,
                                   f"{col}: 上年结转 {lhs} vs last year's 结转下年度 {rhs}"))
    if report.meta.template == codes.FMT_2021:
        last_in_force = last_year.in_force.get(organ, {})
        for row in ("regulations", "normative_docs"):
            before = last_in_force.get(row)
            issued, repealed = cells[f"t2.art20_1.{row}.issued"], cells[f"t2.art20_1.{row}.repealed"]
            now = cells[f"t2.art20_1.{row}.in_force"]
            if before is None or now is None:
                continue
            rhs = before + (issued or 0) - (repealed or 0)
            out.append(CheckResult("E5", f"art20_1.{row}", now, rhs, now == rhs, SEVERITY,
                                   f"{row}: 现行有效 {now:g} vs last year's {before:g} + 制发 {issued or 0:g} − 废止 "
                                   f"{repealed or 0:g} = {rhs:g}"))
    return out


def add_expected_checks(read: list, previous_requests: pl.DataFrame, previous_proactive: pl.DataFrame) -> list:
    """Append E1/E4/E5 results to each read report's checks (a new ReadReport; records are frozen)."""
    from dataclasses import replace

    out = []
    last_year = LastYear.index(previous_requests, previous_proactive)
    for r in read:
        extra = within_year(r.report) + across_years_indexed(r.report, r.report.meta.organ, last_year)
        out.append(replace(r, report=replace(r.report, checks=r.report.checks + tuple(extra))) if extra else r)
    return out


def previous_year_rows(requests: pl.DataFrame, proactive: pl.DataFrame, reports: pl.DataFrame, year: int
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Last year's published table-3 and table-2 rows with their organ (empty frames when none)."""
    organs = reports.filter(pl.col("year") == year - 1).select("report_id", "organ")
    req = requests.filter(pl.col("year") == year - 1).join(organs, on="report_id")
    pro = proactive.filter(pl.col("year") == year - 1).join(organs, on="report_id")
    return req, pro
