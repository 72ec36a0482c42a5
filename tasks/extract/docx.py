"""Word .docx -> `Document`, read with python-docx (merged cells kept right).

Body paragraphs and tables are read in document order. A table is laid out from its XML: a
`w:gridSpan` is a horizontal merge (one physical cell over several columns) and a `w:vMerge`
"continue" cell is the continuation of the cell above (not a physical cell), so the grid and the
token stream are the same as for the equivalent HTML table. Nested tables are walked as layout.

Guard rails: the reader's size cap, and a decompression cap: a .docx is a ZIP, and one whose
entries would expand past `MAX_UNCOMPRESSED_BYTES` (or with an absurd ratio) is refused before
anything is decompressed (a zip bomb). Legacy binary .doc is refused upstream, by magic number.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any, Final

from tasks.errors import UnsupportedFormat
from tasks.extract.document import Document, Grid, GridCell, Item, Token

MAX_UNCOMPRESSED_BYTES: Final = 50 * 1024 * 1024  # lxml needs ~10× the XML in memory; a real report's is < 2 MB
MAX_SPAN: Final = 200
MAX_RATIO: Final = 200  # uncompressed / compressed, over the whole archive
MAX_ENTRIES: Final = 5000

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def check_zip(data: bytes, source: str | None = None) -> None:
    """Refuse archives that are corrupt or would decompress into too much (before decompressing)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except zipfile.BadZipFile as exc:
        raise UnsupportedFormat(f"corrupted or truncated .docx (not a readable ZIP: {exc})", source=source) from exc
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if len(infos) > MAX_ENTRIES or total > MAX_UNCOMPRESSED_BYTES or total / packed > MAX_RATIO:
        raise UnsupportedFormat(f".docx would expand to {total} bytes in {len(infos)} entries "
                                f"(caps {MAX_UNCOMPRESSED_BYTES} bytes, ratio {MAX_RATIO}): refused as a zip bomb",
                                source=source)
    if "word/document.xml" not in {i.filename for i in infos}:
        raise UnsupportedFormat("a ZIP without word/document.xml is not a Word document", source=source)


def _text(element: Any) -> str:
    """Text of a cell or paragraph element: its paragraphs' runs, line breaks joined."""
    parts = []
    for node in element.iter():
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag in (f"{_W}tab",):
            parts.append(" ")
    return "".join(parts)


def _int_attr(value: str | None, limit: int) -> int:
    """A span attribute as printed: digits only, at least 1, at most `limit` (a bad value is 1)."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())[:6]
    return max(1, min(int(digits), limit)) if digits else 1


def _grid(tbl: Any) -> Grid:
    cells: list[GridCell] = []
    open_cells: dict[int, GridCell] = {}  # column -> cell a vMerge may continue
    n_cols = 0
    rows = [tr for tr in tbl.iterchildren(f"{_W}tr")]
    for r, tr in enumerate(rows):
        c = 0
        first = True
        for tc in tr.iterchildren(f"{_W}tc"):
            pr = tc.find(f"{_W}tcPr")
            span_el = pr.find(f"{_W}gridSpan") if pr is not None else None
            vmerge_el = pr.find(f"{_W}vMerge") if pr is not None else None
            span = _int_attr(span_el.get(f"{_W}val") if span_el is not None else None, MAX_SPAN)
            vmerge = (vmerge_el.get(f"{_W}val") or "continue") if vmerge_el is not None else None
            if vmerge == "continue" and c in open_cells:
                open_cells[c].rowspan += 1
            else:
                cell = GridCell(Token(_text(tc).strip(), new_row=first, col=c, colspan=span), r, c, 1, span)
                cells.append(cell)
                open_cells[c] = cell
                first = False
            c += span
        n_cols = max(n_cols, c)
    return Grid(cells=cells, n_rows=len(rows), n_cols=n_cols)


def read_docx(data: bytes, source: str | None = None) -> Document:
    check_zip(data, source)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UnsupportedFormat(f"corrupted or truncated .docx ({type(exc).__name__})", source=source) from exc
    except Exception as exc:  # lxml and python-docx raise several types on damaged XML
        raise UnsupportedFormat(f"corrupted .docx ({type(exc).__name__}: {exc})", source=source) from exc
    items: list[Item] = []

    def walk(parent: Any) -> None:
        for child in parent.iterchildren():
            if child.tag == f"{_W}p":
                text = _text(child).strip()
                if text:
                    items.append(text)
            elif child.tag == f"{_W}tbl":
                if child.find(f".//{_W}tbl") is not None:  # a layout table around others
                    for tr in child.iterchildren(f"{_W}tr"):
                        for tc in tr.iterchildren(f"{_W}tc"):
                            walk(tc)
                else:
                    items.append(_grid(child))
            elif child.tag == f"{_W}sdt":
                content = child.find(f"{_W}sdtContent")
                if content is not None:
                    walk(content)

    walk(document.element.body)
    return Document(kind="docx", items=items)
