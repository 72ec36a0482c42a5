"""Cut the text of a table section into label and value tokens, whatever the flattening.

Crawlers and archives flatten a table in every way (one cell per line, half-width runs on lines
of their own, numbers broken over two lines, repeated lines collapsed, the whole page on one
line with the digits of adjacent cells run together). What survives every one of them is the
*sequence of characters*: the template's labels, in order, with the printed values between them.
So this reader ignores the separators for finding labels and keeps them only as evidence for
the values:

1. The section's characters are folded like labels (`normalise_label`: NFKC, no whitespace, no
   pipes, no quotes) into one stream, remembering before which characters a separator (line
   break, pipe, tab, space) stood.
2. The stream is scanned left to right. At each position the longest template label that starts
   there wins (a label spread over several lines or cells is one label, since separators are
   gone); else a value is read (digits with a decimal part, a sign, a unit suffix; `-`, `/`,
   `无`) up to the next separator or the next label (the `1.` of `1.属于国家秘密` belongs to the
   label even when the previous cell's digits run into it); anything else is text (a label
   fragment, a converter's `数据1` header, a footnote).
3. Each value token records whether a separator stood before it (`tight`: the digits were run
   into the label or into the previous value, so where one cell ends is unknown).

The aligner then anchors rows on the label tokens and the placement solver
(`tasks.extract.solve`) decides where the value tokens go.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from tasks.extract.document import Token
from tasks.template import labels

_SEPARATORS: Final = frozenset(" \t\r\n\u00a0\u3000|\u2002\u2003\u2009\u200b\ufeff\f\v")
_DROPPED: Final = frozenset("“”‘’\"'「」『』")
_VALUE_START: Final = frozenset("0123456789+-—–―/")
_DIGITS: Final = frozenset("0123456789")
_UNIT: Final = re.compile(r"(?:万元|亿元|元|个|件|项|条)")
_CAPTION: Final = re.compile(r"第二十条第\([一二三四五六七八九十]+\)项")
_NOTE: Final = re.compile(r"\(?本列数据的?勾稽关系[^)]{0,40}\)?")
# Column headers that converters print instead of the real ones ("数据1" … "数据6", "列3").
_HEADER_JUNK: Final = re.compile(r"(?:数据|列|第)\d{1,2}(?:列)?")
_MONEY_UNITS: Final = frozenset({"万元", "亿元", "元"})
_DASH_VALUES: Final = frozenset({"-", "—", "–", "―", "/", "--", "——"})


@lru_cache(maxsize=1)
def _label_index() -> dict[str, tuple[str, ...]]:
    """Every label key of the three tables, indexed by its first character, longest first."""
    texts: list[str] = []
    for table in (labels.TABLE2_ROWS, labels.TABLE2_COLUMNS, labels.TABLE3_ROWS, labels.TABLE3_GROUP_ROWS,
                  labels.TABLE3_COLUMNS):
        texts += [t for variants in table.values() for t in variants]
    texts += [*labels.TABLE2_HEADER_FIRST, *labels.TABLE3_HEADER_OTHER, *labels.TABLE4_HEADERS]
    index: dict[str, set[str]] = {}
    for text in texts:
        key = labels.normalise_label(text)
        if key:
            index.setdefault(key[0], set()).add(key)
    return {first: tuple(sorted(keys, key=len, reverse=True)) for first, keys in index.items()}


def label_keys() -> frozenset[str]:
    """Every label key the scanner knows."""
    return frozenset(k for keys in _label_index().values() for k in keys)


def fold_stream(text: str) -> tuple[str, list[bool]]:
    """The folded characters of `text` and, for each, whether a separator stood before it."""
    out: list[str] = []
    before: list[bool] = []
    pending = True
    for ch in text:
        if ch in _SEPARATORS:
            pending = True
            continue
        if ch in _DROPPED:
            continue
        folded = unicodedata.normalize("NFKC", ch) if ord(ch) > 127 else ch
        for k, f in enumerate(folded):
            if f in _SEPARATORS:
                pending = True
                continue
            out.append(f)
            before.append(pending and k == 0)
            pending = False
    stream = "".join(out)
    # "5、属于三类内部事务信息": Word numbering with 、 reads as "5." (as `normalise_label` does at the start).
    stream = re.sub(r"(?<![\d.])(\d)、", r"\1.", stream)
    return stream, before


def _label_at(stream: str, i: int) -> int:
    """End of the longest label starting at `i`, or -1."""
    ch = stream[i]
    if ch == "第" and (m := _CAPTION.match(stream, i)):
        return m.end()
    if ch in "(本" and (m := _NOTE.match(stream, i)) and len(m.group(0)) > 8:
        return m.end()
    for key in _label_index().get(ch, ()):
        if stream.startswith(key, i):
            return i + len(key)
    return -1


_NUMBERED: Final = re.compile(r"\d\.[\u4e00-\u9fff]")  # "1.信访、举报…": the numbering of a label, never a value


def _value_end(stream: str, i: int) -> int:
    """End of the value that starts at `i` (a number with sign, decimals and unit, or a dash), or -1."""
    n = len(stream)
    j = i
    if stream[j] in "+-" and j + 1 < n and stream[j + 1] in _DIGITS:
        j += 1
    if stream[j] in _DIGITS:
        while j < n and stream[j] in _DIGITS:
            if j > i and _NUMBERED.match(stream, j):
                return j  # the digits before an unknown label's numbering
            j += 1
            if j < n and stream[j] in ".," and j + 1 < n and stream[j + 1] in _DIGITS \
                    and _label_at(stream, j + 1) < 0 and _label_at(stream, j - 1) < 0:
                j += 1  # a decimal point or thousands separator inside one number
        if m := _UNIT.match(stream, j):
            if _label_at(stream, j) < 0:
                j = m.end()
        return j
    if stream[j] in "-—–―/":
        while j < n and stream[j] in "-—–―/" and j - i < 2:
            j += 1
        return j
    return -1


def scan_tokens(text: str) -> list[Token]:
    """Label, value and text tokens of one table section's text, in reading order.

    Label tokens have `kind="label"` and `new_row=True`; value tokens `kind="value"`, with `tight`
    when no separator stood before them; everything else is `kind="text"`.
    """
    stream, before = fold_stream(text)
    tokens: list[Token] = []
    n = len(stream)
    i = 0
    text_start = -1

    def flush_text(end: int) -> None:
        nonlocal text_start
        if text_start >= 0:
            raw = stream[text_start:end]
            if raw == "无" or raw in _DASH_VALUES:
                tokens.append(Token(raw, kind="value", tight=not before[text_start]))
            elif raw in _MONEY_UNITS and tokens and tokens[-1].kind == "value" and tokens[-1].raw[-1:].isdigit():
                tokens[-1] = Token(tokens[-1].raw + raw, kind="value", tight=tokens[-1].tight)  # "134.3235" / "万元"
            else:
                tokens.append(Token(raw, kind="text"))
            text_start = -1

    while i < n:
        end = _label_at(stream, i)
        if end > 0:
            flush_text(i)
            tokens.append(Token(stream[i:end], new_row=True, kind="label"))
            i = end
            continue
        if _NUMBERED.match(stream, i):  # a label the dictionary does not know, with its numbering
            flush_text(i)
            text_start = i
            i += 2
            continue
        if stream[i] in _VALUE_START and (text_start < 0 or before[i] or stream[i] in _DIGITS):
            end = _value_end(stream, i)
            if end > i:
                flush_text(i)
                # a value ends at a separator or where a label starts inside its digits
                k = i + 1
                while k < end and not before[k] and _label_at(stream, k) < 0 and not _NUMBERED.match(stream, k):
                    k += 1
                tokens.append(Token(stream[i:k], kind="value", tight=not before[i]))
                i = k
                continue
        if (m := _HEADER_JUNK.match(stream, i)) and (text_start < 0 or before[i]):
            flush_text(i)
            tokens.append(Token(m.group(0), kind="text"))
            i = m.end()
            continue
        if text_start >= 0 and before[i]:
            flush_text(i)
        if text_start < 0:
            text_start = i
        i += 1
    flush_text(n)
    return tokens
