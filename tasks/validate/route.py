"""Which zone a report belongs in: `curated` when every strict check passed, else `quarantined`."""

from __future__ import annotations

from tasks import schemas
from tasks.model import Report


def route_report(report: Report, released: frozenset[tuple[str, str]] = frozenset(),
                 report_id: str | None = None) -> tuple[str, tuple[str, ...]]:
    """(status, failed strict check ids). `released` holds (report_id, check id) pairs a reviewer cleared."""
    failed = tuple(sorted({c.id for c in report.failed_checks}))
    blocking = [c for c in failed if (report_id, c) not in released]
    return (schemas.STATUS_QUARANTINED if blocking else schemas.STATUS_CURATED), failed
