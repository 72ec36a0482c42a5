"""PDF (with a text layer) -> `Document`, read with pdfplumber.

Per page, tables are found from their ruling lines (`find_tables`) and laid out as grids (a
`None` cell of pdfplumber is the continuation of a merged cell, so it is not a physical cell);
text outside the tables becomes prose lines, in reading order by their position on the page. A
table continued on the next page is simply the next grid: the aligner reads tokens across grids,
and repeated header rows are labels it skips. Text boxes that pdfplumber takes for one-column
tables are prose. Page marks ("- 3 -", "— 3 —", "第3页") are dropped.

Where a page has no ruling lines, the table rows come out as text lines such as
"一、本年新收政府信息公开申请数量 95 0 0 0 0 0 95"; `split_text_row` cuts them into a label and
value cells (see `tasks.extract.sections.section_tokens`).

Guard rails: a size cap (the reader's), a page cap; a scan without a text layer is not guessed at
from its (absent) text: `ScannedPdf` sends it to OCR.
"""

from __future__ import annotations

import io
import re
from typing import Final

from tasks.errors import UnsupportedFormat
from tasks.extract.document import Document, Grid, GridCell, Item, Token
from tasks.extract.text import is_page_mark


class ScannedPdf(UnsupportedFormat):
    """A PDF without a text layer: the reader hands it to OCR (`tasks.extract.ocr`)."""


MAX_PAGES: Final = 80
MIN_TEXT_CHARS: Final = 40  # fewer characters than this in the whole text layer: a scan
_VALUE: Final = r"[-+]?[\d][\d,.]*(?:[万亿]?元|[个件项条])?|[-—/]"
_TEXT_ROW: Final = re.compile(
    rf"^(?P<label>.*?[^\d\s,.])?(?P<values>(?:\s+(?:{_VALUE}))+|(?:{_VALUE})(?:\s+(?:{_VALUE}))*)$"
)


def split_text_row(line: str) -> list[str] | None:
    """'规章 0 0 0' -> ['规章', '0', '0', '0']; None when the line is not a table row."""
    s = " ".join(line.split())
    m = _TEXT_ROW.match(s)
    if not m:
        return None
    values = m["values"].split()
    label = (m["label"] or "").strip()
    return ([label] if label else []) + values


def _grid(rows: list[list[str | None]]) -> Grid:
    cells: list[GridCell] = []
    n_cols = max((len(r) for r in rows), default=0)
    for r, row in enumerate(rows):
        first = True
        for c, text in enumerate(row):
            if text is None:
                continue
            colspan = 1
            while c + colspan < len(row) and row[c + colspan] is None:
                colspan += 1
            raw = "".join(part.strip() for part in text.split("\n"))
            cells.append(GridCell(Token(raw, new_row=first, col=c, colspan=colspan), r, c, 1, colspan))
            first = False
    return Grid(cells=cells, n_rows=len(rows), n_cols=n_cols)


MAX_INFLATED_BYTES: Final = 150 * 1024 * 1024  # all Flate streams together; a real report's are < 20 MB
_STREAM: Final = re.compile(rb"stream\r?\n")


def check_streams(data: bytes, source: str | None = None) -> None:
    """Refuse a PDF whose compressed streams would inflate past `MAX_INFLATED_BYTES`, before parsing.

    Each Flate stream is inflated in 1 MB steps and only counted (nothing is kept), so a 1 MB file
    that would inflate to gigabytes costs a fraction of a second here instead of the parser's memory.
    """
    import zlib

    total = 0
    for m in _STREAM.finditer(data):
        if b"FlateDecode" not in data[max(0, m.start() - 300):m.start()]:
            continue
        end = data.find(b"endstream", m.end())
        packed = data[m.end(): end if end > 0 else len(data)]
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(packed, 1 << 20)
            while chunk:
                total += len(chunk)
                if total > MAX_INFLATED_BYTES:
                    raise UnsupportedFormat(f"PDF streams inflate past {MAX_INFLATED_BYTES} bytes: refused as a "
                                            f"decompression bomb", source=source)
                chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
        except zlib.error:
            continue  # a damaged stream: the parser will say what it makes of it


def read_pdf(data: bytes, source: str | None = None) -> Document:
    check_streams(data, source)
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PdfminerException, PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as exc:
        raise UnsupportedFormat(f"corrupted or truncated PDF ({type(exc).__name__})", source=source) from exc
    items: list[Item] = []
    warnings: list[str] = []
    chars = 0
    try:
        with pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise UnsupportedFormat(f"PDF of {len(pdf.pages)} pages is over the {MAX_PAGES}-page cap",
                                        source=source)
            for page in pdf.pages:
                placed: list[tuple[float, Item | list[str]]] = []
                tables = page.find_tables()
                for table in tables:
                    rows = table.extract()
                    if all(sum(1 for c in row if c) <= 1 for row in rows):  # a text box, not a table
                        placed.append((table.bbox[1], [c for row in rows for c in row if c]))
                    else:
                        placed.append((table.bbox[1], _grid(rows)))
                outside = page
                for table in tables:
                    outside = outside.outside_bbox(table.bbox)
                for line in outside.extract_text_lines():
                    placed.append((line["top"], [line["text"]]))
                for _, item in sorted(placed, key=lambda p: p[0]):
                    if isinstance(item, Grid):
                        items.append(item)
                        chars += sum(len(c.token.raw) for c in item.cells)
                        continue
                    for text in item:
                        for line in text.split("\n"):
                            line = line.strip()
                            chars += len(line)
                            if is_page_mark(line, bare_numbers=False):
                                warnings.append(f"page mark {line!r} dropped")
                            elif line:
                                items.append(line)
    except UnsupportedFormat:
        raise
    except Exception as exc:  # pdfminer raises many types on damaged files
        raise UnsupportedFormat(f"corrupted or truncated PDF ({type(exc).__name__}: {exc})", source=source) from exc
    if chars < MIN_TEXT_CHARS:
        raise ScannedPdf("scanned PDF, no text layer", source=source)
    return Document(kind="pdf", items=items, warnings=warnings)
