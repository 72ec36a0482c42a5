"""The source catalogue: which organs to read, and where their reports are (a CSV in data/catalogue/).

Columns (header required, UTF-8):

    organ_id     the organ's identity across years (optional; default `adcode:organ`, else the name)
    organ        the organ's name as it signs its reports (required)
    adcode       GB/T 2260 code of its division (optional; checked against data/divisions/ and the level)
    region       province/city/county as free text, where known
    level        national / provincial / municipal / county / township / department, where known
    year         the reporting year of `report_url` (required with report_url)
    report_url   the URL (or a path relative to the catalogue file) of one report, or
    listing_url  the URL of the organ's 政府信息公开年报 listing page, read by discovery

Rows are validated before anything is fetched; an error names the file, the line and the column.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tasks.errors import CatalogueError
from tasks.fetch.client import is_url
from tasks.geography import check_adcode

COLUMNS: Final = ("organ_id", "organ", "adcode", "region", "level", "year", "report_url", "listing_url")
MAX_ORGAN_ID: Final = 64
LEVELS: Final = frozenset({"", "national", "provincial", "municipal", "county", "township", "department"})
YEAR_RANGE: Final = range(2008, 2100)


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    organ: str
    region: str
    level: str
    year: int | None
    report_url: str | None  # as written (stable identity of the report)
    listing_url: str | None
    line: int
    organ_id: str = ""  # the organ's identity across years (given, or `adcode:organ` / the organ's name)
    adcode: str = ""  # GB/T 2260 six-digit code of the division the organ belongs to


@dataclass(frozen=True, slots=True)
class Target:
    """One document to fetch for one reporting year."""

    source: str  # identity: the URL, or the path as written in the catalogue
    location: str  # what to fetch: the URL, or the resolved local path
    organ: str
    region: str
    level: str
    year: int
    organ_id: str = ""
    adcode: str = ""  # a document found through a listing page has the listing row's identity


@dataclass(frozen=True, slots=True)
class Catalogue:
    path: Path
    entries: tuple[CatalogueEntry, ...]
    sha256: str

    def years(self) -> list[int]:
        return sorted({e.year for e in self.entries if e.year is not None})

    def locate(self, source: str) -> str:
        return source if is_url(source) else str((self.path.parent / source).resolve())

    def direct_targets(self, year: int) -> list[Target]:
        return [Target(e.report_url, self.locate(e.report_url), e.organ, e.region, e.level, year, e.organ_id,
                       e.adcode)
                for e in self.entries if e.report_url and e.year == year]

    def listings(self) -> list[CatalogueEntry]:
        return [e for e in self.entries if e.listing_url]


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and validate a catalogue CSV."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"cannot read the catalogue: {exc.strerror or exc}", source=str(p)) from exc
    if b"\x00" in raw:
        raise CatalogueError("the catalogue holds NUL bytes: a binary file, not a CSV", source=str(p))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            raw.decode("gb18030")
            hint = " (it reads as GBK/GB18030: save it as UTF-8)"
        except UnicodeDecodeError:
            pass
        raise CatalogueError(f"the catalogue is not UTF-8 text at byte {exc.start}{hint}", source=str(p)) from exc
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in ("organ", "report_url", "listing_url", "year") if c not in (reader.fieldnames or [])]
    if missing:
        raise CatalogueError(f"header lacks column(s) {missing}; expected {list(COLUMNS)}", source=str(p))
    unknown = [c for c in (reader.fieldnames or []) if c not in COLUMNS]
    if unknown:  # a typo (`repot_url`) or a column from another tool would otherwise be silently ignored
        raise CatalogueError(f"header has unknown column(s) {unknown}; the columns are {list(COLUMNS)}",
                             source=str(p))
    entries: list[CatalogueEntry] = []
    for n, row in enumerate(reader, start=2):
        def fail(column: str, why: str, n: int = n, row: dict = row) -> CatalogueError:
            return CatalogueError(f"line {n}, column {column}: {why} (got {row.get(column)!r})", source=str(p))

        organ = (row.get("organ") or "").strip()
        report_url = (row.get("report_url") or "").strip() or None
        listing_url = (row.get("listing_url") or "").strip() or None
        year_text = (row.get("year") or "").strip()
        level = (row.get("level") or "").strip()
        if not organ:
            raise fail("organ", "an organ name is required")
        if bool(report_url) == bool(listing_url):
            raise fail("report_url", "give exactly one of report_url and listing_url")
        if listing_url and not is_url(listing_url):
            raise fail("listing_url", "a listing page must be an http(s) URL")
        if report_url and "\x00" in report_url:
            raise fail("report_url", "a NUL byte in a URL or path")
        if report_url and not is_url(report_url):
            if "://" in report_url:
                raise fail("report_url", "only http(s) URLs or paths inside the catalogue's folder")
            folder = p.resolve().parent
            if not (folder / report_url).resolve().is_relative_to(folder):
                raise fail("report_url", f"a local path must stay inside the catalogue's folder {folder}")
        year = None
        if year_text:
            if not year_text.isdigit() or int(year_text) not in YEAR_RANGE:
                raise fail("year", f"a reporting year between {YEAR_RANGE.start} and {YEAR_RANGE.stop - 1}")
            year = int(year_text)
        elif report_url:
            raise fail("year", "the reporting year of report_url is required")
        if level not in LEVELS:
            raise fail("level", f"one of {sorted(LEVELS - {''})} or empty")
        adcode = (row.get("adcode") or "").strip()
        if adcode and (why := check_adcode(adcode, level)):
            raise fail("adcode", why)
        organ_id = (row.get("organ_id") or "").strip()
        if organ_id and (len(organ_id) > MAX_ORGAN_ID or any(ch.isspace() for ch in organ_id)):
            raise fail("organ_id", f"an id of at most {MAX_ORGAN_ID} characters without spaces")
        entries.append(CatalogueEntry(organ, (row.get("region") or "").strip(), level, year, report_url,
                                      listing_url, n, organ_id or (f"{adcode}:{organ}" if adcode else organ),
                                      adcode))
    _check_identities(entries, str(p))
    return Catalogue(p, tuple(entries), hashlib.sha256(raw).hexdigest())


def _check_identities(entries: list[CatalogueEntry], source: str) -> None:
    """One organ, one id: an id keeps its code and level and has one report a year; a name (with
    its code) has one id. (An id may change its name over the years: that is what ids are for.)"""
    first: dict[str, CatalogueEntry] = {}
    by_name: dict[tuple[str, str], CatalogueEntry] = {}
    reports: dict[tuple[str, int], CatalogueEntry] = {}
    for e in entries:
        seen = first.setdefault(e.organ_id, e)
        if (seen.adcode, seen.level) != (e.adcode, e.level):
            raise CatalogueError(f"line {e.line}, column organ_id: {e.organ_id!r} is {seen.level or 'no level'} "
                                 f"{seen.adcode or 'without code'} on line {seen.line}, here {e.level or 'no level'} "
                                 f"{e.adcode or 'without code'}", source=source)
        named = by_name.setdefault((e.organ, e.adcode), e)
        if named.organ_id != e.organ_id:
            raise CatalogueError(f"line {e.line}, column organ_id: {e.organ} already has the id {named.organ_id!r} "
                                 f"(line {named.line}), here {e.organ_id!r}", source=source)
        if e.report_url and e.year is not None:
            other = reports.setdefault((e.organ_id, e.year), e)
            if other is not e:
                raise CatalogueError(f"line {e.line}, column organ_id: {e.organ_id!r} already has a {e.year} report "
                                     f"on line {other.line}", source=source)
