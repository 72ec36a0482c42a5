"""Reviewed releases of quarantined reports: `data/overrides.csv` (report_id, check_id, reason, reviewer, date).

A row releases one failing relation of one report after a person looked at it; a report is
curated when every relation it fails is released. The decision stays recorded: the report's
`failed_checks` still lists the relation, and the release is logged with its reason.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import CatalogueError
from tasks.template import codes

COLUMNS = ("report_id", "check_id", "reason", "reviewer", "date")


@dataclass(frozen=True, slots=True)
class Release:
    report_id: str
    check_id: str
    reason: str
    reviewer: str
    date: str


def load_overrides(path: str | Path | None) -> list[Release]:
    if path is None or not Path(path).exists():
        return []
    releases = []
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise CatalogueError(f"header must be {','.join(COLUMNS)}", source=str(path))
        for n, row in enumerate(reader, start=2):
            if row["check_id"] not in codes.STRICT_CHECKS:
                raise CatalogueError(f"line {n}: check_id {row['check_id']!r} is not one of {codes.STRICT_CHECKS}",
                                     source=str(path))
            if not row["reason"].strip():
                raise CatalogueError(f"line {n}: a release needs a reason", source=str(path))
            releases.append(Release(**{k: row[k].strip() for k in COLUMNS}))
    return releases


# (report_id, check_id) → the reviewer's note, "reason (reviewer, date)"; `in` tells whether a pair is released
Releases = Mapping[tuple[str, str], str]


def released_pairs(releases: list[Release]) -> dict[tuple[str, str], str]:
    """The releases by (report_id, check_id), each with the note the published report carries."""
    return {(r.report_id, r.check_id): f"{r.reason} ({', '.join(x for x in (r.reviewer, r.date) if x)})"
            if r.reviewer or r.date else r.reason for r in releases}
