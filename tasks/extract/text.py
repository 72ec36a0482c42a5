"""Text captures -> `Document`, and the table part of a text capture -> cell tokens.

Three shapes of flattened table occur (seeds README, spec §9):

* pipes   -- cells separated by `|`, either one cell per line (S000, S004) or one row per line
             with ` | ` between cells (S001, S003). Several `|` in a row are cells of spanned
             columns. In the one-row-per-line shape a bare line break between pipes is a
             *collapsed* run of empty cells (S001: "(一)予以公开 | 8 |\\n|\\n|\\n| 8 |").
* tabs    -- Word export: one cell per line after a tab, a blank line between rows, a line
             without a tab right after a cell continues that cell ("本年新" / "制作数量", S002).
* markdown -- PDF-to-text and OCR converters: "| a | b |" rows, "|---|" rules, page marks such
             as "— 3 —" between rows and fragments of one table.

Page numbers and page marks between rows are dropped with a warning, never read as a cell.
"""

from __future__ import annotations

import re
from typing import Final

from tasks.errors import UnsupportedFormat
from tasks.extract.document import Document, Token
from tasks.extract.stream import scan_tokens
from tasks.template.labels import SECTION_HEADINGS

_PAGE_MARK: Final = re.compile(
    r"^(?:[-—–―－_~·\s]*\d{1,4}[-—–―－_~·\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|page\s*\d{1,4})$",
    re.IGNORECASE,
)
_DECORATED_PAGE_MARK: Final = re.compile(r"^[-—–―－_~·]+\s*\d{1,4}\s*[-—–―－_~·]+$")
_MD_RULE: Final = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_STRIP: Final = " \t\r\n"


_HEADING_IN_RUN: Final = re.compile(
    r"(?:[一二三四五六]|\d)\s*[、.,，．]\s*(?:" + "|".join(
        r"\s*".join(re.escape(ch) for ch in text) for texts in SECTION_HEADINGS.values() for text in texts
    ) + ")"
)
_LONG_LINE: Final = 400
MAX_SECTION_CHARS: Final = 300_000  # a table section of a one-line page is ~10 thousand characters


def read_text(text: str) -> Document:
    """A text capture as a document of lines (tables are tokenised per section later).

    A capture that put the whole page on one line (or a few) gets a line break before and after
    each section heading, so that sections split as in any other capture.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    for line in lines:
        if len(line) > _LONG_LINE and _HEADING_IN_RUN.search(line):
            out += [part for part in _HEADING_IN_RUN.sub(lambda m: "\n" + m.group(0) + "\n", line).split("\n")]
        else:
            out.append(line)
    return Document(kind="text", items=out)


def is_page_mark(line: str, *, bare_numbers: bool) -> bool:
    """'— 3 —', '- 3 -', '第3页', '3/12'; a bare '3' only when `bare_numbers` (it may be a value)."""
    s = line.strip(_STRIP + "\u00a0\u3000")
    if not s:
        return False
    if _DECORATED_PAGE_MARK.match(s) or s.startswith("第") or "/" in s or s.lower().startswith("page"):
        return bool(_PAGE_MARK.match(s))
    return bare_numbers and s.isdigit() and len(s) <= 3


def detect_shape(lines: list[str]) -> str:
    """'tabs', 'markdown', 'pipes-inline' (row per line), 'pipes' (cell per line) or 'plain' (no separators)."""
    content = [ln for ln in lines if ln.strip(_STRIP)]
    if not content:
        return "pipes"
    tabbed = sum(1 for ln in content if ln.startswith("\t"))
    if tabbed >= 3 and tabbed >= 0.3 * len(content):
        return "tabs"
    if any(_MD_RULE.match(ln) and "-" in ln and "|" in ln for ln in content):
        return "markdown"
    piped = [ln for ln in content if "|" in ln]
    if len(piped) < 3 and len(piped) < 0.1 * len(content):
        return "plain"
    inline_lines = [ln for ln in piped if sum(1 for part in ln.split("|") if part.strip(_STRIP)) >= 2]
    inline = len(inline_lines)
    fenced = sum(1 for ln in inline_lines if ln.strip(_STRIP).startswith("|") and ln.strip(_STRIP).endswith("|"))
    if inline >= 3 and fenced >= 0.6 * inline:
        return "markdown"  # "| a | b |" rows without the "|---|" rule line
    # In the cell-per-line shape no line holds two cells; a few such lines mean rows per line.
    return "pipes-inline" if inline >= min(3, len(piped)) and inline else "pipes"


def tokenize_table_lines(lines: list[str], warnings: list[str], where: str) -> list[Token]:
    """Cut the lines of one table section into cell tokens, in reading order."""
    shape = detect_shape(lines)
    if shape == "plain":
        return _tokenize_plain(lines, warnings, where)
    if shape == "tabs":
        return _tokenize_tabs(lines, warnings, where)
    if shape == "markdown":
        return _tokenize_markdown(lines, warnings, where)
    return _tokenize_pipes(lines, warnings, where, inline=shape == "pipes-inline")


def _tokenize_plain(lines: list[str], warnings: list[str], where: str) -> list[Token]:
    """No pipes (innerText, archive captures, a page on one line): scan for labels.

    A browser's innerText keeps a table row on one line with a tab between cells, so an empty
    cell is still there (two tabs in a row): such lines are cut at their tabs, an empty field is a
    blank cell, and each other field is scanned. Lines without tabs are scanned as one stream, so
    that a label broken over several lines is still one label.
    """
    if sum(len(line) for line in lines) > MAX_SECTION_CHARS:
        raise UnsupportedFormat(f"{where}: a table section of over {MAX_SECTION_CHARS} characters is no table "
                                f"of the template: refused")
    tokens: list[Token] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            tokens.extend(scan_tokens("\n".join(pending)))
            pending.clear()

    for line in lines:
        s = line.strip(_STRIP + "\u00a0\u3000")
        if s and is_page_mark(s, bare_numbers=False):
            warnings.append(f"{where}: page mark {s!r} dropped between rows")
            continue
        if "\t" not in s:
            pending.append(line)
            continue
        flush()
        for field in line.rstrip("\r\n").split("\t"):
            if field.strip(_STRIP + "\u00a0\u3000"):
                tokens.extend(scan_tokens(field))
            else:
                tokens.append(Token(""))
    flush()
    return tokens


def _clean_segment(segment: str, warnings: list[str], where: str) -> tuple[str, bool]:
    """Join the lines of one cell; drop page marks and stray page numbers beside other text."""
    parts = [p.strip(_STRIP) for p in segment.split("\n")]
    parts = [p for p in parts if p.strip(_STRIP + "\u00a0")] or [p for p in parts if p]
    kept: list[str] = []
    for p in parts:
        if is_page_mark(p, bare_numbers=len(parts) > 1 and any(not q.strip().isdigit() for q in parts)):
            warnings.append(f"{where}: page mark {p.strip()!r} dropped between rows")
            continue
        kept.append(p)
    dropped_all = bool(parts) and not kept
    return "".join(kept), dropped_all


def _tokenize_pipes(lines: list[str], warnings: list[str], where: str, *, inline: bool) -> list[Token]:
    text = "\n".join(lines)
    segments = text.split("|")
    tokens: list[Token] = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if last and not seg.strip(_STRIP + "\u00a0"):
            break  # what follows the final pipe is not a cell
        raw, dropped_all = _clean_segment(seg, warnings, where)
        if dropped_all:
            continue  # a page mark alone between two pipes is not an empty cell
        leading = seg[: len(seg) - len(seg.lstrip(_STRIP))]
        collapsed = inline and not raw.strip(_STRIP + "\u00a0") and "\n" in seg
        tokens.append(Token(raw, new_row="\n" in leading, collapsed=collapsed))
    return tokens


def _tokenize_tabs(lines: list[str], warnings: list[str], where: str) -> list[Token]:
    tokens: list[Token] = []
    new_row = True
    continuing = False  # the previous line was a cell: a tab-less line continues it
    for line in lines:
        if line.startswith("\t"):
            for k, cell in enumerate(line[1:].split("\t")):
                tokens.append(Token(cell.strip(_STRIP), new_row=new_row and k == 0))
                new_row = False
            continuing = True
        elif not line.strip(_STRIP):
            new_row = True
            continuing = False
        elif continuing and tokens:
            tokens[-1] = Token(tokens[-1].raw + line.strip(_STRIP), new_row=tokens[-1].new_row)
        elif is_page_mark(line, bare_numbers=True):
            warnings.append(f"{where}: page number {line.strip()!r} dropped between rows")
        else:
            tokens.append(Token(line.strip(_STRIP), new_row=True))
            new_row = False
    return tokens


def _tokenize_markdown(lines: list[str], warnings: list[str], where: str) -> list[Token]:
    tokens: list[Token] = []
    for line in lines:
        s = line.strip(_STRIP)
        if not s or _MD_RULE.match(s):
            continue
        if "|" not in s:
            if is_page_mark(s, bare_numbers=True):
                warnings.append(f"{where}: page mark {s!r} dropped between rows")
            else:
                tokens.append(Token(s, new_row=True))
            continue
        if s.startswith("|"):
            s = s[1:]
        if s.endswith("|"):
            s = s[:-1]
        for k, cell in enumerate(s.split("|")):
            tokens.append(Token(cell.strip(_STRIP), new_row=k == 0))
    return tokens
