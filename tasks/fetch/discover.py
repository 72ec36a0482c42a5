"""Discovery: read an organ's 年报 listing page, follow its pagination, pick the report links.

A link is a report when its text (or title attribute) names a 政府信息公开(工作)年度报告 and a
year. Pagination is followed through links whose text is 下一页/下页/后页/>/» or a page number,
up to `max_listing_pages`, never leaving the listing's host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from tasks.extract.decode import decode_text
from tasks.fetch.client import FetchRequest, fetch_all
from tasks.settings import DEFAULT_FETCH, FetchSettings

_REPORT_LINK: Final = re.compile(r"((?:19|20)\d\d)\s*年(?:度)?.{0,40}?政府信息公开(?:工作)?(?:年度)?(?:报告|年报)")
_REPORT_LINK_ALT: Final = re.compile(r"政府信息公开(?:工作)?(?:年度)?(?:报告|年报)\s*[（(]?((?:19|20)\d\d)")
_NEXT: Final = frozenset({"下一页", "下页", "后页", ">", "»", "›", "next", "下一页>", "下一页»"})


@dataclass(frozen=True, slots=True)
class DiscoveredReport:
    url: str
    year: int
    title: str
    listing: str


def parse_listing(html: str, base_url: str) -> tuple[list[DiscoveredReport], list[str]]:
    """(report links, further listing pages) of one listing page."""
    tree = LexborHTMLParser(html)
    reports: list[DiscoveredReport] = []
    pages: list[str] = []
    host = urlsplit(base_url).netloc
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        url = urljoin(base_url, href)
        if urlsplit(url).scheme not in ("http", "https"):  # never file:, ftp: or a bare path from a page
            continue
        text = " ".join((a.text(deep=True) or "").split())
        label = text or (a.attributes.get("title") or "")
        compact = label.replace(" ", "")
        m = _REPORT_LINK.search(compact) or _REPORT_LINK_ALT.search(compact)
        if m:
            reports.append(DiscoveredReport(url=url, year=int(m.group(1)), title=label, listing=base_url))
        elif (compact.lower() in _NEXT or compact.isdigit()) and urlsplit(url).netloc == host:
            pages.append(url)
    seen: set[str] = set()
    unique = [r for r in reports if not (r.url in seen or seen.add(r.url))]  # type: ignore[func-returns-value]
    return unique, pages


def discover(listing_url: str, settings: FetchSettings = DEFAULT_FETCH) -> tuple[list[DiscoveredReport], list[str]]:
    """All report links of a listing and its pages; returns (reports, errors)."""
    queue, visited = [listing_url], set()
    found: dict[str, DiscoveredReport] = {}
    errors: list[str] = []
    while queue and len(visited) < settings.max_listing_pages:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        (result,) = fetch_all([FetchRequest(url)], settings)
        if not result.ok or result.body is None:
            errors.append(f"{url}: {result.error}")
            continue
        text, _ = decode_text(result.body, result.content_type)
        reports, pages = parse_listing(text, result.final_url or url)
        for r in reports:
            found.setdefault(r.url, r)
        queue.extend(p for p in pages if p not in visited)
    return list(found.values()), errors


_ATTACHMENT_EXT: Final = (".pdf", ".docx", ".doc", ".wps")


def find_attachments(html: str, base_url: str) -> list[str]:
    """Links to PDF/Word attachments on a report page, the ones naming a 年度报告 first."""
    tree = LexborHTMLParser(html)
    ranked: list[tuple[int, str]] = []
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        path = urlsplit(href).path.lower()
        if not path.endswith(_ATTACHMENT_EXT):
            continue
        text = "".join((a.text(deep=True) or a.attributes.get("title") or "").split())
        rank = 0 if ("报告" in text or "年报" in text) else 1
        url = urljoin(base_url, href)
        if urlsplit(url).scheme in ("http", "https"):  # an attachment is fetched, never read from disk
            ranked.append((rank, url))
    seen: set[str] = set()
    return [u for _, u in sorted(ranked, key=lambda r: r[0]) if not (u in seen or seen.add(u))]  # type: ignore[func-returns-value]
