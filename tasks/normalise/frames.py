"""Reports -> Polars frames with the explicit schemas of `tasks.schemas` (docs/contract.md §2).

Input: extracted `Report`s (each with its catalogue context) and the documents that could not be
read at all. Output: one frame per dataset for one reporting year, every row tagged with its
`report_id` and `status`-relevant data, cast to the declared schema (a wrong dtype is an error
here, not a surprise in a BI tool).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

import polars as pl

from tasks import schemas
from tasks.catalogue import Target
from tasks.geography import place
from tasks.model import Report


def report_id(source: str) -> str:
    """Stable id of a report: a hash of its normalised URL or path, so reruns replace, not add."""
    text = source.strip()
    if text.startswith(("http://", "https://")):
        scheme, _, rest = text.partition("://")
        host, _, path = rest.partition("/")
        text = f"{scheme.lower()}://{host.lower()}/{path}".rstrip("/")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ReadReport:
    """An extracted report with the context the pipeline knows about it."""

    report: Report
    report_id: str
    fetched_at: datetime
    status: str
    failed_checks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnreadDocument:
    """A document that could not be read into a report: it is quarantined with its reason."""

    report_id: str
    year: int
    organ: str
    source: str
    sha256: str | None
    fetched_at: datetime | None
    error: str


def build_frames(read: list[ReadReport], unread: list[UnreadDocument]) -> dict[str, pl.DataFrame]:
    """One frame per dataset, rows of every report given (all years they carry)."""
    reports: list[dict] = []
    proactive: list[dict] = []
    requests: list[dict] = []
    review: list[dict] = []
    checks: list[dict] = []
    for r in read:
        m = r.report.meta
        base = {"report_id": r.report_id, "year": m.year}
        reports.append({
            **base, "organ": m.organ, "template": m.template, "title": m.title,
            "published_on": date.fromisoformat(m.published_on) if m.published_on else None,
            "source": m.source, "sha256": m.sha256, "fetched_at": r.fetched_at, "status": r.status,
            "failed_checks": list(r.failed_checks), "released": [], "error": None,
        })
        for c in r.report.table2:
            proactive.append({**base, "block": c.block, "row_code": c.row, "column_code": c.column,
                              "value": None if c.value is None else float(c.value), "unit": c.unit,
                              "raw": c.raw, "flags": list(c.flags), "confidence": c.confidence})
        for c in r.report.table3:
            requests.append({**base, "row_code": c.row, "column_code": c.column, "value": c.value, "raw": c.raw,
                             "flags": list(c.flags), "confidence": c.confidence})
        for c in r.report.table4:
            review.append({**base, "column_code": c.column, "value": c.value, "raw": c.raw, "flags": list(c.flags),
                           "confidence": c.confidence})
        for k in r.report.checks:
            checks.append({**base, "check_id": k.id, "scope": k.scope,
                           "lhs": None if k.lhs is None else float(k.lhs),
                           "rhs": None if k.rhs is None else float(k.rhs),
                           "passed": k.passed, "severity": k.severity, "detail": k.detail})
    for u in unread:
        reports.append({
            "report_id": u.report_id, "year": u.year, "organ": u.organ, "template": None, "title": None,
            "published_on": None, "source": u.source, "sha256": u.sha256, "fetched_at": u.fetched_at,
            "status": schemas.STATUS_QUARANTINED, "failed_checks": [], "released": [], "error": u.error,
        })
    rows = {"reports": reports, "proactive": proactive, "requests": requests,
            "review_litigation": review, "checks": checks}
    return {name: pl.DataFrame(rows[name], schema=schema)
            for name, schema in schemas.DATASETS.items()}


IDENTITY: Final = ("organ_id", "level", "adcode", "province", "prefecture", "county", "region")


def with_identity(reports: pl.DataFrame, targets: Sequence[Target]) -> pl.DataFrame:
    """The reports with their organ's identity and geography, from the catalogue rows they came from."""
    rows = []
    for t in targets:
        where = place(t.adcode) if t.adcode else None
        rows.append({"report_id": report_id(t.source), "organ_id": t.organ_id or None, "level": t.level or None,
                     "adcode": t.adcode or None, "province": where.province if where else None,
                     "prefecture": where.prefecture if where else None,
                     "county": where.county if where else None, "region": t.region or None})
    schema = {"report_id": pl.String, **{c: pl.String for c in IDENTITY}}
    identity = pl.DataFrame(rows, schema=schema).unique("report_id", keep="first")
    return (reports.drop(IDENTITY).join(identity, on="report_id", how="left")
            .select(reports.columns).cast(dict(schemas.REPORTS)))  # type: ignore[arg-type]


def split_by_status(frames: dict[str, pl.DataFrame]) -> dict[str, dict[str, pl.DataFrame]]:
    """{zone: {dataset: frame}}: each report's rows go to the zone of its status."""
    status = frames["reports"].select("report_id", "status")
    out: dict[str, dict[str, pl.DataFrame]] = {}
    for st, zone in schemas.ZONES.items():
        ids = status.filter(pl.col("status") == st)["report_id"]
        out[zone] = {name: f.filter(pl.col("report_id").is_in(ids.implode())) for name, f in frames.items()}
    return out
