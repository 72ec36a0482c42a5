"""Read one report: bytes in, a `Report` out. The whole extract + normalise + check path, no Prefect.

    bytes ──sniff/decode──▶ Document ──sections──▶ tokens ──detect──▶ template
          ──align (labels, layouts)──▶ cells ──parse_value──▶ typed cells ──checks S1–S6──▶ Report
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Final

from tasks.errors import ExtractError, MissingMetadata, NoTablesFound, SourceError, UnsupportedFormat, XxgkError
from tasks.extract.align import Capture, align_table2, align_table3, align_table4
from tasks.extract.correct import correct_single_cell, flag_ocr
from tasks.extract.decode import decode_text, sniff_kind
from tasks.extract.detect import detect_template
from tasks.extract.document import Document, Grid, Token
from tasks.extract.html import read_html
from tasks.extract.metadata import read_metadata
from tasks.extract.sections import section_tokens, split_sections
from tasks.extract.text import read_text
from tasks.model import Report, ReportMeta
from tasks.settings import FetchSettings
from tasks.template import codes, layouts
from tasks.template.labels import normalise_label
from tasks.validate.checks import check_report, flag_missing_totals

MAX_DOCUMENT_BYTES: Final = 50 * 1024 * 1024
MAX_TEXT_CHARS: Final = 3_000_000  # decoded HTML or text; a real report page is 20–500 thousand
_NFKC_MAX_EXPANSION: Final = 18  # U+FDFA ﷺ folds to 18 characters, the most of any code point
_UNSUPPORTED: Final = {
    "doc": "legacy Word .doc (OLE2) is not read; save it as .docx or PDF",
    "zip": "a ZIP archive that is not a Word .docx document",
    "binary": "not a document: binary data (an executable, an archive or random bytes)",
}


def read_document(data: bytes, *, content_type: str | None = None, source: str | None = None) -> Document:
    """Sniff and decode the bytes into a `Document` (HTML or text capture)."""
    kind = sniff_kind(data)
    if kind in _UNSUPPORTED:
        raise UnsupportedFormat(_UNSUPPORTED[kind], source=source)
    try:
        return _read_kind(kind, data, content_type, source)
    except XxgkError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, LookupError, NotImplementedError, KeyError,
            IndexError, OSError, EOFError) as exc:  # a reader library choking on a damaged file
        raise UnsupportedFormat(f"unreadable {kind} ({type(exc).__name__}: {str(exc)[:160]})", source=source) from exc


def _read_kind(kind: str, data: bytes, content_type: str | None, source: str | None) -> Document:
    if kind == "pdf":
        from tasks.extract.pdf import ScannedPdf, read_pdf

        try:
            return read_pdf(data, source)
        except ScannedPdf:
            from tasks.extract.ocr import read_scanned_pdf

            return read_scanned_pdf(data, source)
    if kind == "image":
        from tasks.extract.ocr import read_image

        return read_image(data, source)
    if kind == "docx":
        from tasks.extract.docx import read_docx

        return read_docx(data, source)
    text, encoding = decode_text(data, content_type)
    images: list[bytes] = []
    if kind == "html" and "data:image/" in text:  # pictures inline in the page: OCR'd if it has no table
        from tasks.extract.ocr import split_inline_images

        text, images = split_inline_images(text)
    if len(text) > MAX_TEXT_CHARS:
        raise UnsupportedFormat(f"{len(text)} characters of {kind} (cap {MAX_TEXT_CHARS}): not a report, refused",
                                source=source)
    # Labels are compared after NFKC, which expands a character at most 18×: only a text that could pass
    # the cap folded is folded here to measure it, so real pages pay nothing for this check.
    folded = len(unicodedata.normalize("NFKC", text)) if len(text) * _NFKC_MAX_EXPANSION > 2 * MAX_TEXT_CHARS else 0
    if folded > 2 * MAX_TEXT_CHARS:
        raise UnsupportedFormat(f"{len(text)} characters that NFKC expands to {folded} (cap {2 * MAX_TEXT_CHARS}): "
                                f"refused", source=source)
    if kind == "html":
        doc = read_html(text, encoding=encoding)
        if images and not any(isinstance(item, Grid) for item in doc.items):
            from tasks.extract.ocr import with_image_tables

            return with_image_tables(doc, images, source)
        return doc
    doc = read_text(text)
    doc.encoding = encoding
    return doc


MISSING_YEAR: Final = "no reporting year: no 统计期限 sentence, no year in the title or text"
MISSING_ORGAN: Final = "no organ: no signature, no 发布机构 field, no organ in the title or intro"


def require_metadata(report: Report, source: str) -> None:
    """Raise `MissingMetadata` when the report has no year or no organ (the flows need both)."""
    if report.meta.year is None:
        raise MissingMetadata(f"{MISSING_YEAR}, and the catalogue gives none", source=source)
    if not report.meta.organ:
        raise MissingMetadata(f"{MISSING_ORGAN}, and the catalogue gives none", source=source)


_WIDEST_ROW: Final = {
    codes.SEC_PROACTIVE: max(len(b.columns) for blocks in layouts.TABLE2_BLOCKS.values() for b in blocks),
    codes.SEC_REQUESTS: len(layouts.TABLE3_COLUMNS),
    codes.SEC_REVIEW_LITIGATION: len(layouts.TABLE4_COLUMNS),
}


def judge_capture(tokens: dict[str, list[Token]]) -> Capture:
    """What a scanned capture (no cell boundaries) may have done to its values, from the whole document.

    * It collapses repeated lines unless two equal values stand next to each other somewhere (a
      crawler that collapses consecutive identical lines never leaves such a pair).
    * It breaks numbers over lines when somewhere more values follow a row label than the
      widest row of that table has cells; then a row that shows one token per cell may still
      hold a broken number beside a dropped blank, and is solved rather than read by position.
    """
    scanned = [t for toks in tokens.values() for t in toks if t.kind != "cell"]
    if not scanned:
        return Capture()
    collapses = not any(a.kind == b.kind == "value" and a.raw == b.raw
                        for a, b in pairwise(scanned))
    breaks = drops = False
    for section, toks in tokens.items():
        runs: list[int] = []
        run = 0
        for t in toks:
            if t.kind == "label":
                runs.append(run)
                run = 0
            elif t.kind == "value" and not t.tight:
                run += 1
        runs.append(run)
        breaks = breaks or any(r > _WIDEST_ROW[section] for r in runs)
        drops = drops or (section == codes.SEC_REQUESTS and any(0 < r < _WIDEST_ROW[section] for r in runs))
    return Capture(collapses=collapses, breaks_numbers=breaks, drops_blanks=drops)


def read_report(data: bytes, *, source: str = "<bytes>", content_type: str | None = None,
                organ: str | None = None, year: int | None = None) -> Report:
    """Extract one annual report from its bytes.

    `source` names the document in errors and in the output; `content_type` is the HTTP header
    when there was one (its charset is trusted before `<meta>`); `organ` and `year`, when given
    (from the source catalogue), take precedence over what the text says.

    Raises an `ExtractError` subclass when the bytes hold no readable report. Problems in single
    cells never raise: they are flags and failed checks on the returned report. A report whose
    tables are readable is returned even when neither the text nor the caller names its organ or
    year: those are None, with a warning (`require_metadata` is what the flows apply).

    >>> from pathlib import Path
    >>> report = read_report(Path("data/samples/002_hequ_2020.txt").read_bytes())
    >>> report.cell("t3.results_total.natural_person").value
    3
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SourceError(f"document is {len(data)} bytes, over the {MAX_DOCUMENT_BYTES}-byte cap", source=source)
    doc = read_document(data, content_type=content_type, source=source)
    try:
        return _report_of(doc, data, source, organ, year)
    except NoTablesFound as exc:
        if doc.ocr_pages:  # say where OCR looked
            raise NoTablesFound(f"OCR found no table on {doc.ocr_pages} ({exc.reason})", source=source) from exc
        raise


def _report_of(doc: Document, data: bytes, source: str, organ: str | None, year: int | None) -> Report:
    warnings: list[str] = list(doc.warnings)
    sections = split_sections(doc)
    tokens = {code: section_tokens(sections[code], doc, warnings) if code in sections else []
              for code in (codes.SEC_PROACTIVE, codes.SEC_REQUESTS, codes.SEC_REVIEW_LITIGATION)}
    lines = doc.lines()
    meta = read_metadata(lines, doc.title)
    report_year = year or meta.year
    table_keys = [t.key for toks in tokens.values() for t in toks]
    template = detect_template(table_keys, [normalise_label(ln) for ln in lines], report_year,
                               source=source, warnings=warnings)
    if not any(tokens.values()):
        raise NoTablesFound("the template's headings were found but no table cells under them", source=source)

    capture = judge_capture(tokens)
    table3, subtotals = align_table3(tokens[codes.SEC_REQUESTS], template, warnings, capture=capture)
    table4 = align_table4(tokens[codes.SEC_REVIEW_LITIGATION], warnings, capture=capture)
    if capture.drops_blanks and not capture.breaks_numbers \
            and any(codes.FLAG_JOINED in c.flags for c in (*table3, *table4)):
        # tables 3 and 4 proved that this capture breaks numbers: table 2 (no relations) cannot tell
        warnings.append("numbers broken over two lines in tables 3/4: table 2 read under that assumption")
        capture = replace(capture, breaks_numbers=True)
    table2 = align_table2(tokens[codes.SEC_PROACTIVE], template, warnings, capture=capture)
    if all(codes.FLAG_NOT_PRINTED in c.flags for c in (*table2, *table3, *table4)):
        raise NoTablesFound("the table sections hold no row of the national template", source=source)

    ends_in_tables = not (codes.SEC_PROBLEMS in sections or codes.SEC_OTHER in sections)
    if doc.kind == "scan":
        table2, table3, table4 = flag_ocr(table2), flag_ocr(table3), flag_ocr(table4)
    checks = check_report(template, table2, table3, table4, subtotals, ends_in_tables=ends_in_tables)
    if doc.kind == "scan":
        (table2, table3, table4), checks = correct_single_cell(
            template, (table2, table3, table4), subtotals, checks, ends_in_tables=ends_in_tables, warnings=warnings)
    table3, table4 = flag_missing_totals(table3, table4, checks)

    report_organ = organ or meta.organ or None
    if report_year is None:
        warnings.append(f"{MISSING_YEAR} (pass the year from the catalogue)")
    if not report_organ:
        warnings.append(f"{MISSING_ORGAN} (pass the organ from the catalogue)")
    if meta.year is not None and year is not None and meta.year != year:
        warnings.append(f"the text says {meta.year} but the catalogue says {year}; kept {year}")
    report_meta = ReportMeta(
        source=source, sha256=hashlib.sha256(data).hexdigest(), organ=report_organ, year=report_year,
        template=template, title=meta.title, published_on=meta.published_on,
    )
    return Report(meta=report_meta, table2=tuple(table2), table3=tuple(table3), table4=tuple(table4),
                  checks=tuple(checks), warnings=tuple(warnings))


def load_source(source: str, *, settings: FetchSettings | None = None) -> tuple[bytes, str | None]:
    """The bytes (and HTTP content type) of a local path or an http(s) URL.

    A URL goes through the flows' fetcher: retries with backoff, the body cap counted on the
    decoded stream (a gzip bomb stops at the cap), redirects only to http(s) and never to a
    loopback or private address, a deadline per request.
    """
    if source.startswith(("http://", "https://")):
        from tasks.fetch.client import FetchRequest, fetch_all
        from tasks.settings import DEFAULT_FETCH

        (result,) = fetch_all([FetchRequest(source)], settings or DEFAULT_FETCH)
        if result.error is not None or result.body is None:
            raise SourceError(result.error or "no body", source=source)
        return result.body, result.content_type
    path = Path(source)
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise SourceError(f"file is over the {MAX_DOCUMENT_BYTES}-byte cap", source=source)
        return path.read_bytes(), None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", source=source) from exc


def read_source(source: str, *, organ: str | None = None, year: int | None = None) -> Report:
    """Read a report from a local path or an http(s) URL (fetched as the flows fetch)."""
    data, content_type = load_source(source)
    return read_report(data, source=source, content_type=content_type, organ=organ, year=year)


__all__ = ["ExtractError", "load_source", "read_document", "read_report", "read_source"]
