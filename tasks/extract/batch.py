"""Extract a batch of fetched documents: raw-store entries in, read reports and unread documents out.

A document that cannot be read (no tables, legacy template, never fetched, over its time or
memory budget, any exception of the reader) becomes an `UnreadDocument` with its reason,
quarantined, never dropped: one bad document never costs the batch or the year. A document whose latest fetch failed
is still read from its last good bytes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import polars as pl

from tasks.catalogue import Target
from tasks.errors import XxgkError
from tasks.extract.budget import DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT_S, Job, read_in_budget
from tasks.extract.reader import require_metadata
from tasks.fetch.store import ManifestEntry, RawStore
from tasks.model import Report
from tasks.normalise.frames import Columns, ReadReport, UnreadDocument, frames_of_rows, report_columns, report_id
from tasks.validate.expected import within_year
from tasks.validate.route import route_report

_PACKAGE: Final = Path(__file__).resolve().parents[1]


def _code_fingerprint() -> str:
    """Hash of the code that decides what a document reads as: a change invalidates cached extractions."""
    digest = hashlib.sha256()
    for sub in ("extract", "template", "normalise", "validate"):
        for path in sorted((_PACKAGE / sub).glob("*.py")):
            digest.update(path.read_bytes())
    digest.update((_PACKAGE / "model.py").read_bytes())
    # A scan reads differently with OCR installed (and by model version) than refused without it.
    try:
        digest.update(f"ocr={importlib.metadata.version('rapidocr-onnxruntime')}".encode())
    except importlib.metadata.PackageNotFoundError:
        digest.update(b"ocr=none")
    return digest.hexdigest()[:16]


CODE_FINGERPRINT: Final = _code_fingerprint()


def batch_key(items: list[tuple[Target, ManifestEntry | None]]) -> str:
    """Cache key of a batch: the content hashes of its documents, their hints, and the extractor code."""
    digest = hashlib.sha256(CODE_FINGERPRINT.encode())
    for target, entry in items:
        digest.update(f"{target.source}|{target.organ}|{target.year}|{target.organ_id}|{target.adcode}|"
                      f"{target.level}|{target.region}|{entry.sha256 if entry else None}\n".encode())
    return "extract-" + digest.hexdigest()[:32]


def _jobs(items: list[tuple[Target, ManifestEntry | None]], store: RawStore, rows: bool
          ) -> tuple[list[tuple[Target, ManifestEntry, str, datetime | None]], list[Job], list[UnreadDocument]]:
    """The documents that can be read (with a job each) and those that cannot (never fetched, torn)."""
    unread: list[UnreadDocument] = []
    pending: list[tuple[Target, ManifestEntry, str, datetime | None]] = []
    jobs: list[Job] = []
    for target, entry in items:
        rid = report_id(target.source)
        fetched_at = datetime.fromisoformat(entry.good_fetched_at) if entry and entry.good_fetched_at else None
        if entry is None or entry.sha256 is None:
            reason = f"fetch failed: {entry.error}" if entry and entry.error else "never fetched"
            unread.append(UnreadDocument(rid, target.year, target.organ, target.source, None, None, reason))
            continue
        try:
            data = store.read(entry.sha256)
        except XxgkError as exc:
            unread.append(UnreadDocument(rid, target.year, target.organ, target.source, entry.sha256, fetched_at,
                                         f"{type(exc).__name__}: {exc.reason}"))
            continue
        pending.append((target, entry, rid, fetched_at))
        jobs.append(Job(data, target.source, entry.content_type, target.organ, target.year,
                        (rid, fetched_at) if rows else None))
    return pending, jobs, unread


def extract_documents(items: list[tuple[Target, ManifestEntry | None]], store: RawStore, *,
                      workers: int = 1, timeout_s: float = DEFAULT_TIMEOUT_S,
                      memory_bytes: int = DEFAULT_MEMORY_BYTES) -> tuple[list[ReadReport], list[UnreadDocument]]:
    """Read a batch, each document in a worker process under a time and memory budget (`budget.py`);
    the `Report`s come back whole (`extract_rows` is the batch path: only their rows come back)."""
    read: list[ReadReport] = []
    pending, jobs, unread = _jobs(items, store, rows=False)
    outcomes = read_in_budget(jobs, workers=workers, timeout_s=timeout_s, memory_bytes=memory_bytes)
    for (target, entry, rid, fetched_at), outcome in zip(pending, outcomes, strict=True):
        error = outcome.error
        if outcome.report is not None:
            try:
                require_metadata(outcome.report, target.source)
            except XxgkError as exc:
                error = f"{type(exc).__name__}: {exc.reason}"
        if error is not None or outcome.report is None:
            unread.append(UnreadDocument(rid, target.year, target.organ, target.source, entry.sha256, fetched_at,
                                         error or "internal error: no report"))
            continue
        status, failed = route_report(outcome.report)
        read.append(ReadReport(outcome.report, rid, fetched_at or datetime.now(UTC), status, failed))
    return read, unread


def document_rows(report: Report, job: Job) -> Columns:
    """In the reader process, after `read_report`: the document's rows of every dataset (column lists),
    with its metadata required, E4 (the within-year relations) added and its provisional status.

    Made here, not in the flow: unpickling a whole `Report` and making its rows in the one flow
    process was a third of that process's CPU, which capped a 2-core machine's extraction.
    """
    assert job.row_context is not None
    rid, fetched_at = job.row_context
    require_metadata(report, job.source)
    extra = within_year(report)
    if extra:
        report = replace(report, checks=report.checks + tuple(extra))
    status, failed = route_report(report)
    return report_columns([ReadReport(report, rid, fetched_at or datetime.now(UTC), status, failed)], [])


def extract_rows(items: list[tuple[Target, ManifestEntry | None]], store: RawStore, *,
                 workers: int = 1, timeout_s: float = DEFAULT_TIMEOUT_S, memory_bytes: int = DEFAULT_MEMORY_BYTES
                 ) -> tuple[dict[str, pl.DataFrame], list[UnreadDocument], int]:
    """Read a batch like `extract_documents`, each reader answering with its document's rows
    (`document_rows`): (one frame per dataset, the unread documents, how many were read)."""
    pending, jobs, unread = _jobs(items, store, rows=True)
    outcomes = read_in_budget(jobs, workers=workers, timeout_s=timeout_s, memory_bytes=memory_bytes)
    documents: list[Columns] = []
    for (target, entry, rid, fetched_at), outcome in zip(pending, outcomes, strict=True):
        if outcome.error is not None or outcome.rows is None:
            unread.append(UnreadDocument(rid, target.year, target.organ, target.source, entry.sha256, fetched_at,
                                         outcome.error or "internal error: no rows"))
            continue
        documents.append(outcome.rows)
    return frames_of_rows(documents, unread), unread, len(documents)
