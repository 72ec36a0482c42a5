"""Split a `Document` into the six report sections and give each table section its cell tokens.

Only the known heading texts open a section (spec §9.2, §9.4): "四、结转下年度继续办理" is a table
row, not section 四, and intro sentences that name the sections are not headings. When a page has
no headings around its tables (some CMS templates render them as images), the table sections are
found by their anchors instead: the first 第二十条 caption, the table-3 header, the table-4 header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from tasks.extract.align import looks_numeric
from tasks.extract.document import Document, Grid, Token
from tasks.extract.pdf import split_text_row
from tasks.extract.stream import label_keys, scan_tokens
from tasks.extract.text import tokenize_table_lines
from tasks.template import codes
from tasks.template.labels import SECTION_HEADINGS, SECTION_NUMBERING, TABLE2_CAPTION, normalise_label

_HEADING_KEYS: Final[dict[str, str]] = {
    normalise_label(text): code for code, texts in SECTION_HEADINGS.items() for text in texts
}
_EXACT_LABELS: Final = label_keys()
TABLE_SECTIONS: Final = (codes.SEC_PROACTIVE, codes.SEC_REQUESTS, codes.SEC_REVIEW_LITIGATION)
_TRAILING_CHARS: Final = ":。."
_TRAILING: Final = re.compile(f"[{re.escape(_TRAILING_CHARS)}]+$")
# Every heading ends in one of a few two-character endings (情况, 事项): most lines are rejected by
# their end alone, without folding off a numbering (a line is matched once per report, ~300 lines a page).
_HEADING_ENDS: Final = frozenset(key[-2:] for key in _HEADING_KEYS)


def match_heading(text: str) -> str | None:
    """The section code if this line (or cell) is exactly a section heading, else None."""
    if len(text) > 120:  # long lines are prose, never a heading: do not fold them at all
        return None
    key = normalise_label(text)
    if len(key) > 40 or key.rstrip(_TRAILING_CHARS)[-2:] not in _HEADING_ENDS:
        return None
    core = _TRAILING.sub("", SECTION_NUMBERING.sub("", key, count=1))
    return _HEADING_KEYS.get(core)


@dataclass(slots=True)
class Section:
    code: str
    heading: str
    items: list[str | Token] = field(default_factory=list)


def _units(doc: Document) -> list[str | Token]:
    """Lines of a text document; lines and grid tokens of an HTML document."""
    out: list[str | Token] = []
    for number, item in enumerate(doc.items):
        if isinstance(item, Grid):
            for token in item.tokens():
                token.grid = number
                out.append(token)
        else:
            out.append(item)
    return out


def split_sections(doc: Document) -> dict[str, Section]:
    """Sections by code. A table section that repeats keeps the occurrence that holds a table."""
    found: list[Section] = [Section("preamble", "")]
    for unit in _units(doc):
        text = unit.raw if isinstance(unit, Token) else unit
        code = match_heading(text) if text.strip() else None
        if code is not None:
            found.append(Section(code, text.strip()))
        else:
            found[-1].items.append(unit)
    sections: dict[str, Section] = {}
    for sec in found:
        if sec.code not in sections or (sec.code in TABLE_SECTIONS and not _has_table(sections[sec.code])
                                        and _has_table(sec)):
            sections[sec.code] = sec
    if not all(code in sections and _has_table(sections[code]) for code in TABLE_SECTIONS):
        _add_anchored_sections(found, sections)
    return sections


def _text(unit: str | Token) -> str:
    return unit.raw if isinstance(unit, Token) else unit


def _has_table(sec: Section) -> bool:
    """Cells (grid tokens, pipes, tabs) or, in a capture without separators, the table's own labels."""
    if any(isinstance(u, Token) or "|" in u or u.startswith("\t") for u in sec.items):
        return True
    keys = [normalise_label(_text(u)) for u in sec.items]
    return any(TABLE2_CAPTION.search(k) or "勾稽关系" in k or "申请人情况" in k or k.startswith("行政复议")
               or ("行政复议" in k and "行政诉讼" in k) for k in keys)


_ANCHORS: Final = {
    codes.SEC_PROACTIVE: lambda key: bool(TABLE2_CAPTION.search(key)) or key == "信息内容",
    codes.SEC_REQUESTS: lambda key: "勾稽关系" in key or key in ("申请人情况", "一、本年新收政府信息公开申请数量"),
    codes.SEC_REVIEW_LITIGATION: lambda key: key.startswith("行政复议"),
}


def _add_anchored_sections(found: list[Section], sections: dict[str, Section]) -> None:
    """Find missing table sections by their anchors across the whole document."""
    units = [u for sec in found for u in ([sec.heading] if sec.heading else []) + sec.items]
    starts: dict[str, int] = {}
    position = 0
    for code in TABLE_SECTIONS:
        for i in range(position, len(units)):
            if _ANCHORS[code](normalise_label(_text(units[i]))):
                starts[code] = i
                position = i + 1
                break
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    for n, (code, start) in enumerate(ordered):
        if code in sections and _has_table(sections[code]):
            continue
        end = ordered[n + 1][1] if n + 1 < len(ordered) else len(units)
        for i in range(start + 1, end):
            if match_heading(_text(units[i])):
                end = i
                break
        sections[code] = Section(code, "(anchor)", units[start:end])


def split_label_cells(tokens: list[Token]) -> list[Token]:
    """Re-read cells that are not one label: a cell holding a label and part of the next
    (`（二）部分公开（区分处理的，只`), a group label fused with a leaf label, a converter's `数据1`.

    Such a cell is cut by the label scanner into its labels and text; a cell that is one label,
    a value or blank is kept as it is.
    """
    out: list[Token] = []
    for tok in tokens:
        if tok.kind != "cell" or tok.is_blank or tok.key in _EXACT_LABELS or looks_numeric(tok.key):
            out.append(tok)
            continue
        parts = scan_tokens(tok.raw)
        if any(p.kind == "value" for p in parts) or not any(p.kind == "label" for p in parts):
            out.append(tok)
            continue
        for k, part in enumerate(parts):
            part.new_row = tok.new_row if k == 0 else part.new_row
            out.append(part)
    return out


def section_tokens(sec: Section, doc: Document, warnings: list[str]) -> list[Token]:
    """The cell tokens of a table section, in reading order."""
    where = {codes.SEC_PROACTIVE: "table2", codes.SEC_REQUESTS: "table3",
             codes.SEC_REVIEW_LITIGATION: "table4"}.get(sec.code, sec.code)
    tokens: list[Token] = []
    pending: list[str] = []
    for unit in sec.items:
        if isinstance(unit, Token):
            if pending:
                tokens.extend(_line_tokens(pending, doc, warnings, where))
                pending = []
            tokens.append(unit)
        else:
            pending.append(unit)
    if pending:
        tokens.extend(_line_tokens(pending, doc, warnings, where))
    return tokens


def _line_tokens(lines: list[str], doc: Document, warnings: list[str], where: str) -> list[Token]:
    if doc.kind == "text":
        return split_label_cells(tokenize_table_lines(lines, warnings, where))
    tokens: list[Token] = []
    for line in (ln.strip() for ln in lines):
        cells = split_text_row(line) if doc.kind in ("pdf", "scan") else None
        if cells:  # a PDF (or scanned) table row without ruling lines: "规章 0 0 0"
            tokens += [Token(c, new_row=i == 0) for i, c in enumerate(cells)]
        elif line:
            tokens.append(Token(line, new_row=True))
    return tokens
