"""Report pages whose tables live only in an attached PDF or Word file: which attachments to fetch.

A page that extracted as `NoTablesFound` but links to .pdf/.docx/.doc files is a wrapper around
its report (common in Jiangsu). The attachment is fetched and read in its place, under the page's
identity (same `report_id`), so the report is not lost and reruns do not duplicate it.
"""

from __future__ import annotations

from dataclasses import replace

from tasks.catalogue import Target
from tasks.extract.decode import decode_text, sniff_kind
from tasks.fetch.discover import find_attachments
from tasks.fetch.store import ManifestEntry, RawStore
from tasks.normalise.frames import UnreadDocument, report_id


def attachment_targets(targets: list[Target], entries: list[ManifestEntry], unread: list[UnreadDocument],
                       store: RawStore) -> list[Target]:
    """One target per wrapper page: its first report attachment, fetched under the page's source."""
    wrappers = {u.report_id for u in unread if u.error.startswith("NoTablesFound")}
    out: list[Target] = []
    for target, entry in zip(targets, entries, strict=True):
        if report_id(target.source) not in wrappers or entry.sha256 is None:
            continue
        data = store.read(entry.sha256)
        if sniff_kind(data) != "html":
            continue
        text, _ = decode_text(data, entry.content_type)
        links = find_attachments(text, entry.final_url or target.location)
        if links:
            out.append(replace(target, location=links[0]))
    return out
