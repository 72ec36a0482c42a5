"""Extract a batch of fetched documents: raw-store entries in, read reports and unread documents out.

A document that cannot be read (no tables, legacy template, never fetched) becomes an
`UnreadDocument` with its reason, quarantined, never dropped. A document whose latest fetch failed
is still read from its last good bytes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from tasks.catalogue import Target
from tasks.errors import XxgkError
from tasks.extract.reader import read_report, require_metadata
from tasks.fetch.store import ManifestEntry, RawStore
from tasks.normalise.frames import ReadReport, UnreadDocument, report_id
from tasks.validate.route import route_report

_PACKAGE: Final = Path(__file__).resolve().parents[1]


def _code_fingerprint() -> str:
    """Hash of the code that decides what a document reads as: a change invalidates cached extractions."""
    digest = hashlib.sha256()
    for sub in ("extract", "template", "normalise", "validate"):
        for path in sorted((_PACKAGE / sub).glob("*.py")):
            digest.update(path.read_bytes())
    digest.update((_PACKAGE / "model.py").read_bytes())
    return digest.hexdigest()[:16]


CODE_FINGERPRINT: Final = _code_fingerprint()


def batch_key(items: list[tuple[Target, ManifestEntry | None]]) -> str:
    """Cache key of a batch: the content hashes of its documents, their hints, and the extractor code."""
    digest = hashlib.sha256(CODE_FINGERPRINT.encode())
    for target, entry in items:
        digest.update(f"{target.source}|{target.organ}|{target.year}|{entry.sha256 if entry else None}\n".encode())
    return "extract-" + digest.hexdigest()[:32]


def extract_documents(items: list[tuple[Target, ManifestEntry | None]], store: RawStore
                      ) -> tuple[list[ReadReport], list[UnreadDocument]]:
    read: list[ReadReport] = []
    unread: list[UnreadDocument] = []
    for target, entry in items:
        rid = report_id(target.source)
        fetched_at = datetime.fromisoformat(entry.good_fetched_at) if entry and entry.good_fetched_at else None
        if entry is None or entry.sha256 is None:
            reason = f"fetch failed: {entry.error}" if entry and entry.error else "never fetched"
            unread.append(UnreadDocument(rid, target.year, target.organ, target.source, None, None, reason))
            continue
        try:
            report = read_report(store.read(entry.sha256), source=target.source, content_type=entry.content_type,
                                 organ=target.organ, year=target.year)
            require_metadata(report, target.source)
        except XxgkError as exc:
            unread.append(UnreadDocument(rid, target.year, target.organ, target.source, entry.sha256, fetched_at,
                                         f"{type(exc).__name__}: {exc.reason}"))
            continue
        except Exception as exc:  # any failure of one document is its quarantine reason, never the year's
            unread.append(UnreadDocument(rid, target.year, target.organ, target.source, entry.sha256, fetched_at,
                                         f"internal error while reading ({type(exc).__name__}: {str(exc)[:200]})"))
            continue
        status, failed = route_report(report)
        read.append(ReadReport(report, rid, fetched_at or datetime.now(UTC), status, failed))
    return read, unread
