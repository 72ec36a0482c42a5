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
        link = attachment_link(store.read(entry.sha256), entry.content_type, entry.final_url or target.location)
        if link:
            out.append(replace(target, location=link))
    return out


def attachment_link(data: bytes, content_type: str | None, base_url: str) -> str | None:
    """The first report attachment (.pdf/.docx/.doc, http(s) only) linked from an HTML page, or None."""
    if sniff_kind(data) != "html":
        return None
    text, _ = decode_text(data, content_type)
    links = find_attachments(text, base_url)
    return links[0] if links else None
