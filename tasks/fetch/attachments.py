"""Report pages whose tables live only in an attached PDF or Word file, or in pictures on the page.

A page that extracted as `NoTablesFound` but links to .pdf/.docx/.doc files is a wrapper around
its report (common in Jiangsu). The attachment is fetched and read in its place, under the page's
identity (same `report_id`), so the report is not lost and reruns do not duplicate it.

A wrapper without such a link whose body shows its report as images (`<img src="…png">`, one per
scanned page: common for county offices) has its images fetched and put inline into the page
(`data:` URIs, `embed_images`), and that one document is read: its prose gives the title and
organ, OCR reads the tables from the pictures (`tasks.extract.ocr.with_image_tables`).
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from typing import Final
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from tasks.catalogue import Target
from tasks.extract.decode import decode_text, image_mime, sniff_kind
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


IMAGE_EXTENSIONS: Final = (".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp")
MAX_IMAGES: Final = 30  # the OCR page cap
_IMG_SRC: Final = re.compile(r"""(<img\b[^>]*?\bsrc\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def image_links(data: bytes, content_type: str | None, base_url: str) -> list[str]:
    """The raster images (http(s), by extension) shown on an HTML page, in page order, at most `MAX_IMAGES`."""
    if sniff_kind(data) != "html":
        return []
    text, _ = decode_text(data, content_type)
    out: list[str] = []
    for img in LexborHTMLParser(text).css("img[src]"):
        url = urljoin(base_url, (img.attributes.get("src") or "").strip())
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).path.lower().endswith(IMAGE_EXTENSIONS) \
                and url not in out:
            out.append(url)
    return out[:MAX_IMAGES]


def embed_images(data: bytes, content_type: str | None, base_url: str, images: dict[str, bytes]) -> bytes:
    """The page (UTF-8) with each fetched image's `src` replaced by a `data:` URI of its bytes."""
    text, _ = decode_text(data, content_type)

    def inline(m: re.Match[str]) -> str:
        body = images.get(urljoin(base_url, m.group(3).strip()))
        mime = image_mime(body) if body is not None else None
        if body is None or mime is None:
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}data:{mime};base64,{base64.b64encode(body).decode()}{m.group(2)}"

    return _IMG_SRC.sub(inline, text).encode("utf-8")


def picture_wrappers(targets: list[Target], entries: list[ManifestEntry], unread: list[UnreadDocument],
                     store: RawStore, attached: list[Target]) -> list[tuple[Target, ManifestEntry, list[str]]]:
    """Wrapper pages with no PDF/Word attachment that show images: (target, its entry, image URLs)."""
    wrappers = {u.report_id for u in unread if u.error.startswith("NoTablesFound")}
    with_attachment = {t.source for t in attached}
    out = []
    for target, entry in zip(targets, entries, strict=True):
        if report_id(target.source) not in wrappers or entry.sha256 is None or target.source in with_attachment:
            continue
        links = image_links(store.read(entry.sha256), entry.content_type, entry.final_url or target.location)
        if links:
            out.append((target, entry, links))
    return out
