"""The strict relations S1–S6 of spec §7.1 with the blank rules of §7.3, and completeness (C1).

Input: the canonical cells of tables 2–4 (and any printed subtotal rows). Output: one
`CheckResult` per relation instance (per column for S1/S2, per row for S3, per group for S5,
per offending cell for S6), each with lhs, rhs and a detail that names the row, the column and
what was printed. These results are the `checks` dataset; the Great Expectations gate of the
flows reads them instead of encoding the rules a second time.

Blank rules (§7.3): a relation whose cells are all blank is skipped (an unfilled table); otherwise
blank components count as 0. A blank *total* beside non-zero components fails the relation with
the cell flagged `total_missing` ("总计 blank while 自然人 = 3"): the value is not derived, because
the published report does not state it (seeds README on S002; docs/contract.md §1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from tasks.model import CellValue, CheckResult
from tasks.template import codes, layouts

_T3_COLUMN_NAMES = {
    "natural_person": "自然人", "org_business": "商业企业", "org_research": "科研机构",
    "org_public_interest": "社会公益组织", "org_legal_services": "法律服务机构", "org_other": "其他",
    "total": "总计",
}
_T3_ROW_NAMES = {
    "new_received": "一、本年新收", "carried_over": "二、上年结转", "results_total": "（七）总计",
    "carried_forward": "四、结转下年度",
}
_T4_GROUP_NAMES = {"review": "行政复议", "suit_direct": "未经复议直接起诉", "suit_post_review": "复议后起诉"}


def _show(cell: CellValue) -> str:
    return "blank" if cell.value is None else f"{cell.value:g}" if isinstance(cell.value, float) else str(cell.value)


def _sum(cells: Iterable[CellValue]) -> int | float:
    return sum(c.value for c in cells if c.value is not None)


def _all_blank(cells: Iterable[CellValue]) -> bool:
    return all(c.value is None for c in cells)


def _relation(check_id: str, scope: str, total: CellValue, parts: Sequence[CellValue], label: str,
              part_names: Sequence[str]) -> CheckResult | None:
    """`total == Σ parts` with the blank rules; None when every cell is blank."""
    if _all_blank([total, *parts]):
        return None
    rhs = _sum(parts)
    printed = ", ".join(f"{n} = {_show(p)}" for n, p in zip(part_names, parts, strict=True) if p.value is not None)
    if total.value is None:
        if rhs == 0:  # a blank total over zero components: nothing is missing, read it as 0
            return CheckResult(check_id, scope, 0, rhs, True, codes.SEVERITY_STRICT,
                               f"{label}: total blank, components sum to 0")
        return CheckResult(check_id, scope, None, rhs, False, codes.SEVERITY_STRICT,
                           f"{label}: 总计 blank while {printed}")
    passed = total.value == rhs
    detail = f"{label}: total {_show(total)} {'=' if passed else '≠'} {rhs:g} ({printed or 'components blank'})"
    return CheckResult(check_id, scope, total.value, rhs, passed, codes.SEVERITY_STRICT, detail)


def check_report(template: str, table2: Sequence[CellValue], table3: Sequence[CellValue],
                 table4: Sequence[CellValue], subtotals: dict[str, list[CellValue]] | None = None, *,
                 ends_in_tables: bool = False) -> list[CheckResult]:
    """Every strict relation S1–S6 that applies to a report of this template version."""
    t3 = {(c.row, c.column): c for c in table3}
    results: list[CheckResult | None] = []
    leaves = layouts.TABLE3_RESULT_LEAVES[template]
    groups_as_leaves = sorted({c.row for c in table3 if codes.FLAG_GROUP_AS_LEAF in c.flags})
    for group in groups_as_leaves:  # the printed group row stands in for its (unprinted) sub-rows
        subs = layouts.TABLE3_GROUPS[template][group]
        leaves = (*(r for r in leaves if r not in subs), group)

    for col in layouts.TABLE3_COLUMNS:  # S1: 一 + 二 = 三 + 四, column by column
        name = _T3_COLUMN_NAMES[col]
        a, b = t3[("new_received", col)], t3[("carried_over", col)]
        c, d = t3[("results_total", col)], t3[("carried_forward", col)]
        if _all_blank([a, b, c, d]):
            continue
        lhs, rhs = _sum([a, b]), _sum([c, d])
        passed = lhs == rhs
        results.append(CheckResult(
            codes.S1, col, lhs, rhs, passed, codes.SEVERITY_STRICT,
            f"{name}: 本年新收 {_show(a)} + 上年结转 {_show(b)} = {lhs} {'=' if passed else '≠'} "
            f"办理结果总计 {_show(c)} + 结转下年度 {_show(d)} = {rhs}"))

    for col in layouts.TABLE3_COLUMNS:  # S2: （七）总计 = Σ results leaves
        results.append(_relation(codes.S2, col, t3[("results_total", col)], [t3[(r, col)] for r in leaves],
                                 f"{_T3_COLUMN_NAMES[col]} column, （七）总计 vs the result rows",
                                 leaves))

    for row in (*layouts.TABLE3_ROWS[template], *groups_as_leaves):  # S3: 总计 = Σ the six applicant columns
        parts = [t3[(row, col)] for col in layouts.TABLE3_COMPONENT_COLUMNS]
        results.append(_relation(codes.S3, row, t3[(row, layouts.TABLE3_TOTAL_COLUMN)], parts,
                                 f"row {_T3_ROW_NAMES.get(row, row)}",
                                 [_T3_COLUMN_NAMES[c] for c in layouts.TABLE3_COMPONENT_COLUMNS]))

    groups = layouts.TABLE3_GROUPS[template]
    for group, cells in (subtotals or {}).items():  # S4: printed subtotal = Σ its sub-rows
        by_col = {c.column: c for c in cells}
        for col in layouts.TABLE3_COLUMNS:
            results.append(_relation(codes.S4, f"{group}.{col}", by_col[col],
                                     [t3[(r, col)] for r in groups[group]],
                                     f"subtotal {group}, {_T3_COLUMN_NAMES[col]}", groups[group]))

    t4 = {c.column: c for c in table4}
    for g in layouts.TABLE4_GROUPS:  # S5: 总计 of each group of four
        parts = [t4[f"{g}_{o}"] for o in layouts.TABLE4_OUTCOMES[:-1]]
        results.append(_relation(codes.S5, g, t4[f"{g}_total"], parts, _T4_GROUP_NAMES[g],
                                 ["结果维持", "结果纠正", "其他结果", "尚未审结"]))

    results.extend(check_domain(table2, table3, table4))
    results.extend(check_completeness(table2, table3, table4, ends_in_tables=ends_in_tables))
    return [r for r in results if r is not None]


MIN_PRINTED_SHARE = 0.8  # of a table's rows; 洪泽区 prints （六） as one row, 21 of 23 table-3 rows


def check_completeness(table2: Sequence[CellValue], table3: Sequence[CellValue], table4: Sequence[CellValue], *,
                       ends_in_tables: bool = False) -> list[CheckResult]:
    """C1: the report is complete enough to publish.

    * per table: at least 80 % of its template rows are printed (a report cut off mid-table, or a
      page that lost a table, is incomplete even when what remains adds up);
    * some cell of tables 3 and 4 is filled (a table printed with every cell empty, or a damaged
      file whose cells could not be read, is not "no applications");
    * the document does not end inside the tables (no section 五 or 六 after them: a truncated
      download or capture, whose last value may be cut mid-number).

    lhs = what the report has, rhs = what is required; they are equal when the check passes.
    """
    out: list[CheckResult] = []
    for table, cells in ((codes.T2, table2), (codes.T3, table3), (codes.T4, table4)):
        rows = {(c.block, c.row) for c in cells}
        printed = {(c.block, c.row) for c in cells if codes.FLAG_NOT_PRINTED not in c.flags}
        need = max(1, math.ceil(MIN_PRINTED_SHARE * len(rows)))
        passed = len(printed) >= need
        out.append(CheckResult(codes.C1, table, len(printed), len(printed) if passed else need, passed,
                               codes.SEVERITY_STRICT,
                               f"{table}: {len(printed)} of {len(rows)} rows printed"
                               + ("" if passed else f", fewer than the {need} a complete report prints")))
    filled = sum(1 for c in (*table3, *table4) if c.value is not None)
    out.append(CheckResult(codes.C1, "filled", filled, filled if filled else 1, filled > 0, codes.SEVERITY_STRICT,
                           f"tables 3 and 4: {filled} cells filled" + ("" if filled else ": every cell is empty")))
    out.append(CheckResult(codes.C1, "end", 0, 1 if ends_in_tables else 0, not ends_in_tables, codes.SEVERITY_STRICT,
                           "the document ends inside the tables (no section 五 or 六 after them): truncated?"
                           if ends_in_tables else "sections after the tables are present"))
    return out


def check_domain(table2: Sequence[CellValue], table3: Sequence[CellValue], table4: Sequence[CellValue]
                 ) -> list[CheckResult]:
    """S6: counts are integers ≥ 0 (items_change may be negative), money ≥ 0, no unreadable text.

    One failing result per offending cell, and one passing result per table without any.
    """
    out: list[CheckResult] = []
    for table, cells in ((codes.T2, table2), (codes.T3, table3), (codes.T4, table4)):
        bad = 0
        for cell in cells:
            kind = layouts.TABLE2_COLUMN_KIND.get(cell.column, "count") if table == codes.T2 else "count"
            reason = None
            if codes.FLAG_UNPARSED in cell.flags:
                reason = f"printed {cell.raw!r}, not a number"
            elif cell.value is None:
                continue
            elif codes.FLAG_NOT_INTEGER in cell.flags:
                reason = f"printed {cell.raw!r}, not a whole number"
            elif cell.value < 0 and kind != "signed_count":
                reason = f"printed {cell.raw!r}, negative"
            if reason:
                bad += 1
                out.append(CheckResult(codes.S6, cell.cell_id, cell.value, 0, False, codes.SEVERITY_STRICT,
                                       f"{cell.cell_id}: {reason}"))
        if not bad:
            out.append(CheckResult(codes.S6, table, 0, 0, True, codes.SEVERITY_STRICT,
                                   f"{table}: every cell in its domain"))
    return out


def flag_missing_totals(table3: list[CellValue], table4: list[CellValue], checks: Sequence[CheckResult]
                        ) -> tuple[list[CellValue], list[CellValue]]:
    """Add `total_missing` to the total cells whose relation failed because they were blank."""
    missing: set[str] = set()
    for c in checks:
        if c.passed or c.lhs is not None:  # only failures whose total was blank
            continue
        if c.id == codes.S3:
            missing.add(f"t3.{c.scope}.total")
        elif c.id == codes.S2:
            missing.add(f"t3.results_total.{c.scope}")
        elif c.id == codes.S5:
            missing.add(f"t4.{c.scope}_total")

    def mark(cells: list[CellValue]) -> list[CellValue]:
        from dataclasses import replace

        return [replace(x, flags=(*x.flags, codes.FLAG_TOTAL_MISSING)) if x.cell_id in missing else x for x in cells]

    return mark(table3), mark(table4)
