"""Typed records passed between stages: the extracted report and its parts.

`Report` is what `tasks.read_report()` returns and what the later stages (normalise to frames,
validate, load) consume. Records are frozen: a stage returns new records instead of mutating.
`Report.to_dict()` is the JSON contract of `docs/contract.md` §1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks.template import codes


@dataclass(frozen=True, slots=True)
class CellValue:
    """One template cell: where it is, what was printed, what it means."""

    table: str  # t2 | t3 | t4
    row: str | None  # None for table 4
    column: str
    value: int | float | None
    raw: str
    flags: tuple[str, ...] = ()
    block: str | None = None  # table 2 only
    unit: str | None = None  # table 2 only
    confidence: float | None = None  # OCR'd cells only: the recognition confidence of `raw` (0–1)

    @property
    def cell_id(self) -> str:
        parts = [self.table, self.block, self.row, self.column]
        return ".".join(p for p in parts if p)

    @property
    def is_blank(self) -> bool:
        return self.value is None and codes.FLAG_BLANK in self.flags

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.table == codes.T2:
            out["block"] = self.block
        if self.row is not None:
            out["row"] = self.row
        out["column"] = self.column
        out["value"] = self.value
        if self.table == codes.T2:
            out["unit"] = self.unit
        out["raw"] = self.raw
        out["flags"] = list(self.flags)
        if self.confidence is not None:
            out["confidence"] = self.confidence
        return out


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One evaluated relation of spec §7 (strict S1–S6 here; expected E* come with the flows)."""

    id: str
    scope: str
    lhs: int | float | None
    rhs: int | float | None
    passed: bool
    severity: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "lhs": self.lhs,
            "rhs": self.rhs,
            "passed": self.passed,
            "severity": self.severity,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ReportMeta:
    source: str
    sha256: str
    organ: str | None  # None when neither the document nor the caller names it (a warning says so)
    year: int | None
    template: str
    title: str | None = None
    published_on: str | None = None  # ISO date

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "organ": self.organ,
            "year": self.year,
            "template": self.template,
            "title": self.title,
            "published_on": self.published_on,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """One annual report: metadata, every template cell of tables 2–4, checks and warnings."""

    meta: ReportMeta
    table2: tuple[CellValue, ...]
    table3: tuple[CellValue, ...]
    table4: tuple[CellValue, ...]
    checks: tuple[CheckResult, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def cells(self) -> tuple[CellValue, ...]:
        return self.table2 + self.table3 + self.table4

    def cell(self, cell_id: str) -> CellValue:
        """The cell with this id, e.g. `report.cell("t3.granted.total")`."""
        for c in self.cells:
            if c.cell_id == cell_id:
                return c
        raise KeyError(cell_id)

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if not c.passed and c.severity == codes.SEVERITY_STRICT)

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": self.meta.to_dict(),
            "table2": [c.to_dict() for c in self.table2],
            "table3": [c.to_dict() for c in self.table3],
            "table4": [c.to_dict() for c in self.table4],
            "checks": [c.to_dict() for c in self.checks],
            "warnings": list(self.warnings),
        }
