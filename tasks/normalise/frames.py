"""Reports -> Polars frames with the explicit schemas of `tasks.schemas` (docs/contract.md §2).

Input: extracted `Report`s (each with its catalogue context) and the documents that could not be
read at all. Output: one frame per dataset for one reporting year, every row tagged with its
`report_id` and `status`-relevant data, cast to the declared schema (a wrong dtype is an error
here, not a surprise in a BI tool).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

import polars as pl
import pyarrow as pa

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
    return {name: pl.from_arrow(table) for name, table in build_tables(read, unread).items()}  # type: ignore[misc]


def build_tables(read: list[ReadReport], unread: list[UnreadDocument]) -> dict[str, pa.Table]:
    """`build_frames` as Arrow tables: through Arrow, as polars builds a List column from Python
    lists element by element (4x slower)."""
    return _tables(report_columns(read, unread))


Columns = dict[str, dict[str, list]]  # dataset → column → values


def report_columns(read: list[ReadReport], unread: list[UnreadDocument]) -> Columns:
    """The rows of every dataset as plain lists, a list per column (not a dict per row): what a reader
    process sends for a document (`tasks.extract.batch.document_rows`); a batch's are joined
    (`frames_of_rows`) and made into Arrow tables once."""
    cols: dict[str, dict[str, list]] = {name: {c: [] for c in schema} for name, schema in schemas.DATASETS.items()}
    rep, pro, req, rev, chk = (cols[n] for n in ("reports", "proactive", "requests", "review_litigation", "checks"))
    for r in read:
        m = r.report.meta
        _add(rep, report_id=r.report_id, year=m.year, organ=m.organ, organ_id=None, level=None, adcode=None,
             province=None, prefecture=None, county=None, region=None, template=m.template, title=m.title,
             published_on=date.fromisoformat(m.published_on) if m.published_on else None, source=m.source,
             sha256=m.sha256, fetched_at=r.fetched_at, status=r.status, failed_checks=list(r.failed_checks),
             released=[], error=None)
        t2, t3, t4, ks = r.report.table2, r.report.table3, r.report.table4, r.report.checks
        for frame, n in ((pro, len(t2)), (req, len(t3)), (rev, len(t4)), (chk, len(ks))):
            frame["report_id"] += [r.report_id] * n
            frame["year"] += [m.year] * n
        pro["block"] += [c.block for c in t2]
        pro["row_code"] += [c.row for c in t2]
        pro["value"] += [None if c.value is None else float(c.value) for c in t2]
        pro["unit"] += [c.unit for c in t2]
        for frame, cells in ((pro, t2), (req, t3), (rev, t4)):
            frame["column_code"] += [c.column for c in cells]
            frame["raw"] += [c.raw for c in cells]
            frame["flags"] += [list(c.flags) for c in cells]
            frame["confidence"] += [c.confidence for c in cells]
        for frame, cells in ((req, t3), (rev, t4)):
            frame["value"] += [c.value for c in cells]
        req["row_code"] += [c.row for c in t3]
        chk["check_id"] += [k.id for k in ks]
        chk["scope"] += [k.scope for k in ks]
        chk["lhs"] += [None if k.lhs is None else float(k.lhs) for k in ks]
        chk["rhs"] += [None if k.rhs is None else float(k.rhs) for k in ks]
        chk["passed"] += [k.passed for k in ks]
        chk["severity"] += [k.severity for k in ks]
        chk["detail"] += [k.detail for k in ks]
    for u in unread:
        _add(rep, report_id=u.report_id, year=u.year, organ=u.organ, organ_id=None, level=None, adcode=None,
             province=None, prefecture=None, county=None, region=None, template=None, title=None,
             published_on=None, source=u.source, sha256=u.sha256, fetched_at=u.fetched_at,
             status=schemas.STATUS_QUARANTINED, failed_checks=[], released=[], error=u.error)
    return cols


def _tables(cols: Columns) -> dict[str, pa.Table]:
    return {name: pa.Table.from_pydict(cols[name], schema=_arrow(name)) for name in schemas.DATASETS}


def frames_of_rows(documents: list[Columns], unread: list[UnreadDocument]) -> dict[str, pl.DataFrame]:
    """One frame per dataset from the documents' `report_columns` and the unread documents' rows.

    (Plain lists over the pipe, joined here and made into Arrow once per batch: an Arrow IPC stream
    per document and dataset cost the readers 1.9 ms a document, more than the lists.)
    """
    of_unread = report_columns([], unread)
    cols = {name: {column: list(itertools.chain.from_iterable([*(d[name][column] for d in documents), values]))
                   for column, values in columns.items()}
            for name, columns in of_unread.items()}
    return {name: pl.from_arrow(table) for name, table in _tables(cols).items()}  # type: ignore[misc]


@functools.cache
def _arrow(dataset: str) -> pa.Schema:
    return pl.DataFrame(schema=schemas.DATASETS[dataset]).to_arrow().schema


def _add(columns: dict[str, list], **row: object) -> None:
    for name, value in row.items():
        columns[name].append(value)


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
