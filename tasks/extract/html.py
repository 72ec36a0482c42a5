"""HTML page -> `Document`, read with selectolax (Lexbor).

Government pages wrap the report in site chrome and often in nested layout tables. The walker
keeps prose as lines (block elements and `<br>` end a line) and turns every *data* table into a
`Grid` with rowspan/colspan laid out. A table that contains other tables, has a single row or
column, or holds long prose in a cell is layout: it is walked through as if it were not there.
"""

from __future__ import annotations

import re
from typing import Any, Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from tasks.errors import UnsupportedFormat
from tasks.extract.document import Document, Grid, GridCell, Item, Token

_SKIP: Final = frozenset({"script", "style", "head", "noscript", "template", "iframe", "svg", "select",
                          "option", "button", "textarea", "-comment", "object", "embed", "canvas"})
_BLOCK: Final = frozenset({
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
    "table", "tbody", "thead", "tfoot", "section", "article", "header", "footer", "nav", "aside", "main",
    "blockquote", "pre", "hr", "form", "center", "figure", "figcaption", "caption", "address", "fieldset",
})
MAX_SPAN: Final = 200
_NUMBER_LINE: Final = re.compile(r"^\s*[+\-]?\d[\d,.]*\s*$")
MAX_GRID_POSITIONS: Final = 50_000  # a real table-3 grid has ~250; cap the layout work before doing it
MAX_TABLES: Final = 500  # every check of a nested table walks the tables inside it
MAX_CELLS: Final = 20_000  # per page: a real report has ~300 cells, a site with layout tables a few thousand
MAX_CELL_CHARS_IN_DATA_TABLE: Final = 400


def _span(attributes: dict[str, str | None], name: str, limit: int) -> int:
    value = attributes.get(name)
    if not value:
        return 1
    digits = value.strip()
    if not digits.isdecimal():  # "2px", " 3 ", "二": keep the decimal digits (int() reads any script's)
        digits = "".join(ch for ch in digits if ch.isdecimal())
    return max(1, min(int(digits) if digits else 1, limit))


def _flow(node: LexborNode, grids: bool) -> list[Item]:
    """Walk an element in reading order: text as lines (<br> and block elements break lines,
    source newlines are spaces), and, when `grids`, each data table as a `Grid`."""
    items: list[Item] = []
    buf: list[str] = []

    def flush() -> None:
        line = _collapse("".join(buf))
        buf.clear()
        if line:
            items.append(line)

    # An explicit stack instead of recursion: a page of thousands of nested tags must not reach
    # Python's recursion limit. Entries are child iterators, and markers that end a block element.
    stack: list[Any] = [node.iter(include_text=True)]
    while stack:
        top = stack[-1]
        if top is _END_BLOCK:
            stack.pop()
            flush()
            continue
        child = next(top, None)
        if child is None:
            stack.pop()
            continue
        tag = child.tag
        if tag == "-text":
            buf.append(child.text_content or "")
        elif tag in _SKIP:
            continue
        elif grids and tag == "table" and (cells := _data_cells(child)) is not None:
            flush()
            items.append(read_grid(child, cells))
        elif tag == "br":
            flush()
        elif tag in _BLOCK:
            flush()
            stack.append(_END_BLOCK)
            stack.append(child.iter(include_text=True))
        else:
            stack.append(child.iter(include_text=True))
    flush()
    return items


_END_BLOCK: Final = object()


def _lines(node: LexborNode) -> list[str]:
    """Text of a cell as lines (no grids inside a cell: a nested table is text there)."""
    text = _only_text(node)
    if text is not None:  # most cells: one line, read without the walker
        line = _collapse(text)
        return [line] if line else []
    return [i for i in _flow(node, grids=False) if isinstance(i, str)]


def _collapse(text: str) -> str:
    """One line as `_flow` makes it: whitespace runs are one space, NBSP is kept."""
    return " ".join(text.replace("\u00a0", "\x00").split()).replace("\x00", "\u00a0")


def _only_text(node: LexborNode) -> str | None:
    """The text of a cell that is a chain of only children ending in one text node
    (`<td>12</td>`, `<td><p><span>12</span></p></td>`): exactly what `_flow` reads as its one line.
    None for anything else (siblings, <br>, skipped or table elements), which the walker reads."""
    child = node.child
    while child is not None and child.next is None:
        tag = child.tag
        if tag == "-text":
            return child.text_content or ""
        if tag in _SKIP or tag in ("br", "table"):
            return None
        child = child.child
    return "" if child is None else None


def _cell_lines(td: LexborNode, segments: str) -> list[str]:
    """The lines of a cell of a table without skipped elements, given its text nodes joined by NUL
    (`text(separator="\x00")`; the parser drops NUL from text, so it only ever separates nodes).

    A cell with at most one text node that is not blank is that node, collapsed, whatever elements
    (inline or block, `<br>`) surround it: what `_flow` reads, without walking the cell. Others
    (`1<br>265`, `<span>1</span><span>2</span>`) are walked."""
    line = ""
    for segment in segments.split("\x00"):
        collapsed = _collapse(segment)
        if collapsed:
            if line:
                return _lines(td)
            line = collapsed
    return [line] if line else []


_SKIP_SELECTOR: Final = ", ".join(sorted(_SKIP - {"-comment"}))


def _rows(table: LexborNode) -> list[LexborNode]:
    """The table's own rows (thead/tbody/tfoot included), not those of nested tables."""
    rows: list[LexborNode] = []
    for child in table.iter():
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(c for c in child.iter() if c.tag == "tr")
    return rows


def _data_cells(table: LexborNode) -> list[list[tuple[LexborNode, str]]] | None:
    """Each row's cells with their text nodes joined by NUL if `table` is a data table, else None.

    Layout, walked through as if it were not there: a table that contains other tables, has fewer
    than two rows or no row of two cells, or holds long prose in a cell."""
    if len(table.css("table")) > 1:  # css() matches the table itself too
        return None
    rows = _rows(table)
    if len(rows) < 2:
        return None
    cells = _row_cells(rows)
    if max(len(row) for row in cells) < 2:
        return None
    for row in cells:
        for _, segments in row:
            if len(segments) - segments.count("\x00") > MAX_CELL_CHARS_IN_DATA_TABLE:
                return None
    return cells


def _row_cells(rows: list[LexborNode]) -> list[list[tuple[LexborNode, str]]]:
    """Each row's `td`/`th` cells with their text nodes joined by NUL (`_cell_lines` reads them)."""
    return [[(td, td.text(deep=True, separator="\x00")) for td in tr.iter() if td.tag in ("td", "th")]
            for tr in rows]


def _too_big(r: int, rowspan: int, colspan: int) -> UnsupportedFormat:
    return UnsupportedFormat(f"a table whose spans cover more than {MAX_GRID_POSITIONS} positions "
                             f"(row {r + 1}: rowspan {rowspan} × colspan {colspan}): refused")


def read_grid(table: LexborNode, cells: list[list[tuple[LexborNode, str]]] | None = None) -> Grid:
    """Lay out one `<table>` on logical positions; rowspans are clamped to the rows that exist.

    `cells` are the table's `_data_cells`, when the caller has them already."""
    if cells is None:
        cells = _row_cells(_rows(table))
    plain = table.css_first(_SKIP_SELECTOR) is None  # a cell's text nodes are all it shows
    n_rows = len(cells)
    occupied: set[tuple[int, int]] = set()
    out: list[GridCell] = []
    n_cols = 0
    for r, row in enumerate(cells):
        c = 0
        first = True
        for td, segments in row:
            while (r, c) in occupied:
                c += 1
            attributes = td.attributes  # a new dict per access: read once
            rowspan = _span(attributes, "rowspan", n_rows - r) if "rowspan" in attributes else 1
            colspan = _span(attributes, "colspan", MAX_SPAN) if "colspan" in attributes else 1
            if rowspan == 1 and colspan == 1:
                if len(occupied) >= MAX_GRID_POSITIONS:
                    raise _too_big(r, 1, 1)
                occupied.add((r, c))
            else:
                if len(occupied) + rowspan * colspan > MAX_GRID_POSITIONS:
                    raise _too_big(r, rowspan, colspan)
                for dr in range(rowspan):
                    for dc in range(colspan):
                        occupied.add((r + dr, c + dc))
            lines = _cell_lines(td, segments) if plain else _lines(td)
            # "1<br>265": two numbers in one cell are not silently one; the break is kept and the
            # aligner flags the joined value (`joined`) so that the relations, not the markup, vouch for it
            if len(lines) == 1:
                text = lines[0]
            else:
                numbers = len(lines) > 1 and all(_NUMBER_LINE.match(x) for x in lines)
                text = "\n".join(lines) if numbers else "".join(lines)
            out.append(GridCell(Token(text, new_row=first, col=c, colspan=colspan), r, c, rowspan, colspan))
            first = False
            c += colspan
            if c > n_cols:
                n_cols = c
    if occupied:
        n_cols = max(n_cols, max(c for _, c in occupied) + 1)
    return Grid(cells=out, n_rows=n_rows, n_cols=n_cols)


def read_html(text: str, *, encoding: str = "utf-8") -> Document:
    """Parse a decoded HTML page into prose lines and data grids, in reading order."""
    tree = LexborHTMLParser(text)
    cells = len(tree.css("td, th"))
    if cells > MAX_CELLS:
        raise UnsupportedFormat(f"a page of {cells} table cells (cap {MAX_CELLS}): not a report, refused")
    tables = len(tree.css("table"))
    if tables > MAX_TABLES:
        raise UnsupportedFormat(f"a page of {tables} tables (cap {MAX_TABLES}): not a report, refused")
    root = tree.body or tree.root
    items = _flow(root, grids=True) if root is not None else []
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node is not None else None
    return Document(kind="html", items=items, title=title or None, encoding=encoding)
