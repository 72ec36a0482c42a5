"""OCR'd cells: flagged, and corrected only where the template's arithmetic leaves one answer.

Every cell of a scan carries the flag `ocr` (and, where it came from a recognised box, the
recognition `confidence`). When strict relations fail, the cells read with low confidence
(`LOW_CONFIDENCE`) are the suspects: for each, the values the failing relations point at (the
difference moved onto it, or the other side of the relation) are tried, and every strict relation
is evaluated again by `tasks.validate.checks.check_report` — the one definition of the relations.
If exactly one (cell, value) pair makes every relation hold, that cell takes the value, flagged
`ocr_corrected`, its recognised text kept in `raw`. Otherwise nothing changes: the report keeps
the values as read and fails its checks (two suspects that could each explain the failure are
named in a warning, neither is chosen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from tasks.model import CellValue, CheckResult
from tasks.template import codes
from tasks.validate.checks import check_report

LOW_CONFIDENCE: Final = 0.97  # recognition confidence under which a cell is a suspect
MAX_SUSPECTS: Final = 60  # the least confident first; a page of noise is not searched exhaustively

Tables = tuple[list[CellValue], list[CellValue], list[CellValue]]


def flag_ocr(cells: Sequence[CellValue]) -> list[CellValue]:
    """Every printed cell of a scan gets the flag `ocr` (a row the scan does not print stays as it is)."""
    return [c if codes.FLAG_NOT_PRINTED in c.flags or codes.FLAG_OCR in c.flags
            else replace(c, flags=(*c.flags, codes.FLAG_OCR)) for c in cells]


def _failing(checks: Sequence[CheckResult]) -> list[CheckResult]:
    return [c for c in checks if not c.passed and c.severity == codes.SEVERITY_STRICT]


def correct_single_cell(template: str, tables: Tables, subtotals: Sequence[CellValue], checks: Sequence[CheckResult],
                        *, ends_in_tables: bool, warnings: list[str]) -> tuple[Tables, list[CheckResult]]:
    """The tables and checks after the one correction the relations allow, if there is exactly one."""
    failing = _failing(checks)
    if not failing:
        return tables, list(checks)
    suspects = sorted(((k, i) for k, cells in enumerate(tables) for i, c in enumerate(cells)
                       if c.confidence is not None and c.confidence < LOW_CONFIDENCE and c.raw),
                      key=lambda ki: tables[ki[0]][ki[1]].confidence or 0.0)[:MAX_SUSPECTS]
    fixes: list[tuple[int, int, int, list[CheckResult]]] = []
    for k, i in suspects:
        cell = tables[k][i]
        old = cell.value if isinstance(cell.value, int) else 0
        values: set[int] = set()
        for f in failing:
            if isinstance(f.lhs, int | float) and isinstance(f.rhs, int | float):
                d = int(f.lhs - f.rhs)
                values.update({old + d, old - d, int(f.lhs), int(f.rhs)})
        for v in sorted(x for x in values if x >= 0 and x != cell.value):
            trial = [list(t) for t in tables]
            trial[k][i] = replace(cell, value=v)
            result = check_report(template, trial[0], trial[1], trial[2], subtotals, ends_in_tables=ends_in_tables)
            if not _failing(result):
                fixes.append((k, i, v, result))
    if len(fixes) == 1:
        k, i, v, result = fixes[0]
        cell = tables[k][i]
        out = [list(t) for t in tables]
        out[k][i] = replace(cell, value=v, flags=(*cell.flags, codes.FLAG_OCR_CORRECTED))
        warnings.append(f"OCR: {cell.cell_id} read {cell.raw!r} (confidence {cell.confidence:.2f}) corrected to {v}: "
                        f"the only single-cell value that makes every relation hold")
        return (out[0], out[1], out[2]), result
    if len(fixes) > 1:
        named = ", ".join(f"{tables[k][i].cell_id} = {v}" for k, i, v, _ in fixes[:4])
        warnings.append(f"OCR: several single-cell corrections would make every relation hold ({named}); "
                        f"none made")
    return tables, list(checks)
