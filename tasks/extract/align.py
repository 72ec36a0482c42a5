"""Cell tokens of a table section -> canonical cells, found by label (spec §3–§5, §9).

Rows are found by their printed label, never by position, wherever labels exist: each row label
starts a row and the value tokens that follow it, up to the next label, are its cells. Flattened
captures lose some structure, so a row's tokens are placed on columns by these rules:

* exactly as many tokens as columns (after dropping trailing empty placeholder cells of spanned
  columns): by position;
* a collapsed run in a one-row-per-line capture (S001): tokens before it fill columns from the
  left, tokens after it fill columns from the right, the cells in between are blank + `collapsed`;
* fewer tokens than columns otherwise: first value -> first column, last -> total, accepted only
  when the row total confirms it (check S3); when no placement is certain, every cell of the row
  is flagged `misaligned`. A number is never invented or dropped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from tasks.extract import solve
from tasks.extract.document import Token
from tasks.extract.stream import label_keys
from tasks.model import CellValue
from tasks.normalise.values import parse_value
from tasks.template import codes, labels, layouts
from tasks.template.layouts import ValueKind

_NUMBERING: Final = re.compile(r"^(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d{1,2}\.)")
FUZZY_MIN_RATIO: Final = 0.86


def _keyed(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {labels.normalise_label(text): code for code, texts in table.items() for text in texts}


_T2_ROWS: Final = _keyed(labels.TABLE2_ROWS)
_T2_COLUMNS: Final = _keyed(labels.TABLE2_COLUMNS)
_T3_ROWS: Final = _keyed(labels.TABLE3_ROWS)
_T3_GROUPS: Final = _keyed(labels.TABLE3_GROUP_ROWS)
_T3_COLUMNS: Final = _keyed(labels.TABLE3_COLUMNS)
_T3_HEADERS: Final = frozenset(labels.normalise_label(t) for t in labels.TABLE3_HEADER_OTHER)
_T4_HEADERS: Final = frozenset(labels.normalise_label(t) for t in labels.TABLE4_HEADERS)
_T2_HEADER_FIRST: Final = frozenset(labels.normalise_label(t) for t in labels.TABLE2_HEADER_FIRST)


def _numbering(key: str) -> str:
    m = _NUMBERING.match(key)
    return m.group(0) if m else ""


def lookup(key: str, dictionary: dict[str, str], warnings: list[str] | None = None) -> str | None:
    """Code of a printed label: exact after normalisation, else one close variant with the same numbering.

    The fuzzy step catches one-character typos in long labels; it never crosses numbering
    ("1." of 不予公开 vs "1." of 无法提供 differ in wording, not number) and never matches values.
    """
    if not key:
        return None
    code = dictionary.get(key)
    if code is not None or len(key) < 6 or looks_numeric(key):
        return code
    cache_key = (key, id(dictionary))
    found = _FUZZY.get(cache_key)
    if found is None:
        found = _FUZZY[cache_key] = _fuzzy(key, dictionary)
    code, warning = found
    if code is None:
        code, warning = _unnumbered(key, dictionary)
    if warning is not None and warnings is not None:
        warnings.append(warning)
    return code


# OCR drops the numbering of a label more than any other part of it: "一、" reads as nothing (the
# stroke of 一 is taken for a ruling line) or as "、", "三、" as "三". A label printed without (or with a
# mangled) numbering is looked up among the labels with their numbering taken off, where that is
# unambiguous.
_MANGLED_NUMBERING: Final = re.compile(r"^(?:[一二三四五六七八九十]+[、.,，]?|\d{1,2}[、.,，]?|[、.,，])(?=[^\d])")
_UNNUMBERED: dict[int, dict[str, str | None]] = {}


def _unnumbered(key: str, dictionary: dict[str, str]) -> tuple[str | None, str | None]:
    table = _UNNUMBERED.get(id(dictionary))
    if table is None:
        table = {}
        for label, code in dictionary.items():
            bare = label[len(_numbering(label)):]
            if _numbering(label) and len(bare) >= 6:
                table[bare] = code if table.get(bare, code) == code else None  # None: two rows share it
        _UNNUMBERED[id(dictionary)] = table
    for bare in (key, _MANGLED_NUMBERING.sub("", key, count=1)):
        code = table.get(bare)
        if code is not None:
            return code, f"label {key!r} read without its numbering"
    return None, None


# Fuzzy answers by (key, dictionary): the dictionaries are module constants, and a year's reports
# repeat the same unlisted wordings; bounded so that hostile input cannot grow it without end.
_FUZZY: dict[tuple[str, int], tuple[str | None, str | None]] = {}


def _fuzzy(key: str, dictionary: dict[str, str]) -> tuple[str | None, str | None]:
    if len(_FUZZY) > 50_000:
        _FUZZY.clear()
    number = _numbering(key)
    best: tuple[float, str, str] | None = None
    second = 0.0
    for label, candidate in dictionary.items():
        if _numbering(label) != number or len(label) < 6:
            continue
        ratio = difflib.SequenceMatcher(None, key, label, autojunk=False).ratio()
        if best is None or ratio > best[0]:
            second = best[0] if best else 0.0
            best = (ratio, candidate, label)
        elif ratio > second:
            second = ratio
    if best and best[0] >= FUZZY_MIN_RATIO and best[0] - second > 0.05:
        return best[1], f"label {key!r} read as {best[2]!r} (fuzzy match, ratio {best[0]:.2f})"
    return None, None


_NUMERIC: Final = re.compile(r"^[+\-]?[\d,.]+[^\d]{0,3}$")


def looks_numeric(key: str) -> bool:
    """'12', '-825', '947个', '1.19亿元' — but not '3.补正后申请内容仍不明确'."""
    return bool(_NUMERIC.match(key))


_T3_PREFIXES: Final = tuple(sorted([*_T3_GROUPS, labels.normalise_label("(六)其他处理")], key=len, reverse=True))


def lookup_table3_row(key: str, warnings: list[str] | None = None) -> str | None:
    """A table-3 row label, also when a PDF converter merged the group label into the same cell.

    "三、本年度办理结果 （一）予以公开" and "（三）不予公开 1.属于国家秘密" read as their leaf rows.
    """
    code = lookup(key, _T3_ROWS, warnings)
    if code is not None:
        return code
    for prefix in _T3_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return lookup_table3_row(key[len(prefix):], warnings)
    return None


@dataclass(slots=True)
class _Row:
    code: str
    tokens: list[Token]


# ---------------------------------------------------------------------------------------------
# Row placement, shared by tables 2, 3 and 4


@dataclass(frozen=True, slots=True)
class _Placed:
    raw: str
    collapsed: bool = False
    flags: tuple[str, ...] = ()  # how the solver placed it: solved, misaligned, blank_or_zero
    confidence: float | None = None  # OCR

    @classmethod
    def of(cls, token: Token) -> _Placed:
        """The cell a token fills, with its OCR confidence when it was recognised from an image."""
        return cls(token.raw, confidence=token.confidence)


@dataclass(frozen=True, slots=True)
class Capture:
    """What a boundary-less capture may have done, judged over the whole document (`read_report`)."""

    collapses: bool = False       # consecutive identical lines collapsed into one
    breaks_numbers: bool = False  # a number broken over two lines somewhere
    drops_blanks: bool = False    # empty cells left out (a table-3 row with fewer values than columns)


Placement = tuple[list[_Placed], bool]  # the row's cells, and whether the whole row is misaligned


def _is_scanned(tokens: Sequence[Token]) -> bool:
    """Tokens of the label scanner (a capture without cell boundaries), not cells of a grid."""
    return any(t.kind == "value" for t in tokens)


def place_table(rows: dict[str, list[Token]], kinds: Callable[[str], list[ValueKind]],
                segments: Callable[[str], list[solve.Segment]], relations: Sequence[layouts.Relation],
                place_fixed: Callable[[str, list[Token]], Placement], *, capture: Capture, where: str,
                warnings: list[str]) -> dict[str, Placement]:
    """Place every printed row of one table: rows with their cell boundaries by `place_fixed`, the
    rows of a boundary-less capture by the relations (`tasks.extract.solve`), the whole table at once.

    A scanned row with exactly one token per column and no sign of run-together or broken numbers
    is read by position; any other scanned row is solved. A row no reading fits, or one the search
    cap stops, keeps its printed tokens in order with every cell `misaligned`.
    """
    out: dict[str, Placement] = {}
    widths = {code: len(kinds(code)) for code in rows}
    scanned = {code: toks for code, toks in rows.items() if _is_scanned(toks)}
    breaks = capture.breaks_numbers or any(len(toks) > widths[code] for code, toks in scanned.items())
    drops = capture.drops_blanks or any(len(toks) < widths[code] for code, toks in scanned.items())
    join = breaks and drops  # only then can a row with one token per cell hide a broken number
    collapses = capture.collapses
    fixed: dict[str, tuple[int, ...]] = {}
    open_rows: dict[str, list[solve.Reading]] = {}
    split_rows: set[str] = set()
    unplaceable: dict[str, str] = {}
    for code, toks in rows.items():
        width = widths[code]
        split = any(t.tight for t in toks)
        one_per_cell = not split and not join and len(toks) == width
        readings: list[solve.Reading] | None = None
        if code in scanned and one_per_cell \
                and not solve.segments_hold([t.raw for t in toks], kinds(code), segments(code)):
            # One token per cell, yet the row does not add up: a number broken over two lines beside a
            # dropped blank would look the same. Solve it if a join makes it add up; else it is as printed.
            readings = solve.row_readings([t.raw for t in toks], kinds(code), segments(code),
                                          solve.Mode(join=True, repeats=collapses)) or None
        if readings is None and (code not in scanned or one_per_cell):
            out[code] = place_fixed(code, toks)
            fixed[code] = tuple(solve.numeric_or_zero(p.raw, k) for p, k in zip(out[code][0], kinds(code), strict=True))
            continue
        if readings is None:
            row_join = (join or (breaks and len(toks) != width)) and not split
            mode = solve.Mode(split=split, join=row_join, repeats=collapses and not split)
            readings = solve.row_readings([t.raw for t in toks], kinds(code), segments(code), mode)
        if readings is None:
            unplaceable[code] = f"over the search cap of {solve.MAX_NODES} nodes"
        elif not readings:
            unplaceable[code] = "no placement of its printed values satisfies its own total"
        else:
            open_rows[code] = readings
            if split:
                split_rows.add(code)
    if open_rows:
        usable = [r for r in relations if not any(row in unplaceable for row, _ in (*r.lhs, *r.rhs))]
        solution = solve.solve_table(fixed, open_rows, usable)
        for code, readings in open_rows.items():
            reading = solution.chosen.get(code)
            if reading is None and len(readings) == 1 and code not in split_rows:
                reading = readings[0]  # the column relations fail anyway; its own total decides
                warnings.append(f"{where}: row {code} placed by its own total alone: no placement of the "
                                f"table satisfies every column relation")
            if reading is None:
                unplaceable[code] = ("no placement satisfies every relation of the table" if not solution.capped
                                     else "the solver's limit was reached")
                continue
            varying = solution.varying.get(code, set())
            if varying:
                ties = ", ".join(solve.describe(r) for r in readings[:4])
                warnings.append(f"{where}: row {code}: several placements satisfy every relation "
                                f"(e.g. {ties}); cells {sorted(varying)} flagged {codes.FLAG_MISALIGNED}")
            cells: list[_Placed] = []
            union = solution.printed.get(code, reading.seen)
            for c, raw in enumerate(reading.first):
                flags = [codes.FLAG_SOLVED]
                seen = union[c]
                if c in reading.joined:
                    flags.append(codes.FLAG_JOINED)
                if c in varying:
                    flags.append(codes.FLAG_MISALIGNED)
                elif len(seen) > 1 and "" in seen:
                    raw = next(f for f in sorted(seen) if f)
                    flags.append(codes.FLAG_BLANK_OR_ZERO)
                cells.append(_Placed(raw, flags=tuple(flags)))
            out[code] = (cells, False)
    for code, reason in unplaceable.items():
        toks = rows[code]
        width = widths[code]
        raws = [t.raw for t in toks]
        if len(raws) > width:
            raws = [*raws[: width - 1], " ".join(raws[width - 1:])]
        warnings.append(f"{where}: row {code} could not be placed ({reason}): {[t.raw for t in toks]}")
        out[code] = ([_Placed(r) for r in raws] + [_Placed("", collapsed=True)] * (width - len(raws)), True)
    return out


def place_row(tokens: list[Token], width: int, total_index: int | None) -> tuple[list[_Placed], bool]:
    """Place a row's value tokens on `width` columns; returns (cells, misaligned)."""
    if any(t.collapsed for t in tokens):
        return _place_collapsed(tokens, width, total_index)
    values = list(tokens)
    if len(values) > width:
        extra = values[width:]
        lead = values[: len(values) - width]
        if all(t.is_blank for t in extra):
            values = values[:width]
        elif all(t.is_blank for t in lead):
            values = values[len(values) - width:]
        else:
            return [_Placed.of(t) for t in values[:width]], True
    if len(values) == width:
        return [_Placed.of(t) for t in values], False
    return _place_short(values, width, total_index)


def _place_short(values: list[Token], width: int, total_index: int | None) -> tuple[list[_Placed], bool]:
    """Fewer cells than columns and no collapse marker: first -> first column, last -> total."""
    filled = [t for t in values if not t.is_blank]
    cells = [_Placed("", collapsed=True) for _ in range(width)]
    if not filled:
        return cells, False
    if total_index is None or len(filled) > 2:
        for i, t in enumerate(values):
            cells[i] = _Placed.of(t)
        return cells, bool(filled)
    cells[0] = _Placed.of(filled[0])
    if len(filled) == 2:
        cells[total_index] = _Placed.of(filled[-1])
    return cells, not _total_confirms(cells, total_index)


def _place_collapsed(tokens: list[Token], width: int, total_index: int | None) -> tuple[list[_Placed], bool]:
    tokens = list(tokens)
    while tokens and tokens[-1].is_blank:
        tokens.pop()  # trailing placeholder cells of spanned columns, and the break before the next row
    cells = [_Placed("", collapsed=True) for _ in range(width)]
    if not any(t.collapsed for t in tokens):
        return _place_short(tokens, width, total_index) if tokens else (cells, False)
    first = next(i for i, t in enumerate(tokens) if t.collapsed)
    last = max(i for i, t in enumerate(tokens) if t.collapsed)
    left = tokens[:first]
    right = tokens[last + 1:]
    if len(left) + len(right) > width:
        merged = [t for t in tokens if not t.collapsed]
        return [_Placed.of(t) for t in merged[:width]] + cells[len(merged[:width]):], True
    for i, t in enumerate(left):
        cells[i] = _Placed.of(t)
    for i, t in enumerate(right):
        cells[width - len(right) + i] = _Placed.of(t)
    misaligned = total_index is not None and not _total_confirms(cells, total_index)
    return cells, misaligned


def _total_confirms(cells: list[_Placed], total_index: int) -> bool:
    """S3 on a placed row: the printed total equals the sum of the placed components."""
    total = parse_value(cells[total_index].raw, "count").value
    parts = [parse_value(c.raw, "count").value for i, c in enumerate(cells) if i != total_index]
    if total is None:
        return all(p in (None, 0) for p in parts)
    return total == sum(p for p in parts if p is not None)


def _cell(table: str, row: str | None, column: str, placed: _Placed, kind: ValueKind, *,
          misaligned: bool = False, block: str | None = None, unit: str | None = None,
          extra: tuple[str, ...] = ()) -> CellValue:
    parsed = parse_value(placed.raw, kind)
    flags = list(parsed.flags)
    if placed.collapsed:
        flags.append(codes.FLAG_COLLAPSED)
    flags.extend(placed.flags)
    if "\n" in placed.raw.strip() and codes.FLAG_JOINED not in flags and parsed.value is not None:
        flags.append(codes.FLAG_JOINED)  # one cell printed as two lines of digits ("1<br>265")
    if misaligned and codes.FLAG_MISALIGNED not in flags:
        flags.append(codes.FLAG_MISALIGNED)
    flags.extend(extra)
    return CellValue(table=table, row=row, column=column, value=parsed.value, raw=placed.raw,
                     flags=tuple(flags), block=block, unit=unit, confidence=placed.confidence)


_NOT_PRINTED: Final = _Placed("")


def _skip_text(tok: Token, where: str, warnings: list[str]) -> bool:
    """A scanned text token that is no label: drop it; True when it is prose that ends the row.

    A fragment of a label (a label cut over two cells, `计这一情形…`) or a converter's header
    (`数据1`) is dropped silently; other text is a label in an unknown wording, a footnote or
    prose, and the values after it are not cells of the row before it (table 3 keeps them as a
    row without a label, placed by template order when it is the only row missing there).
    """
    key = tok.key
    if len(key) <= 3 or any(key in label for label in _ALL_LABELS) or key.startswith(("数据", "列")):
        return False
    warnings.append(f"{where}: text {tok.raw[:30]!r} is no label of the template")
    return True


_ALL_LABELS: Final = (*label_keys(),  # what the scanner knows, and the 勾稽 note it matches by pattern
                      labels.normalise_label("(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)"))


# ---------------------------------------------------------------------------------------------
# Table 2


def align_table2(tokens: list[Token], template: str, warnings: list[str], *, capture: Capture | None = None
                 ) -> list[CellValue]:
    """Table 2 cells in layout order; every cell of the template version exactly once.

    `capture`: what the capture may have done to its cells (see `Capture`, `place_table`).
    """
    capture = capture or Capture()
    blocks = layouts.TABLE2_BLOCKS[template]
    block_of_row = {row: b for b in blocks for row in b.rows}
    known_items = {b.article_item for b in blocks}
    rows: dict[tuple[str, str], _Row] = {}
    headers: dict[str, list[str]] = {}
    current: _Row | None = None
    caption_block: str | None = None
    for tok in tokens:
        if tok.is_blank:
            if current is not None:
                current.tokens.append(tok)
            continue
        caption = labels.TABLE2_CAPTION.search(tok.key)
        if caption:
            current = None
            item = caption.group(1)
            caption_block = next((b.code for b in blocks if b.article_item == item), None)
            if item not in known_items:
                warnings.append(f"table2: block 第二十条第（{item}）项 is not in {template}; ignored")
            continue
        row_code = lookup(tok.key, _T2_ROWS, warnings)
        if row_code is not None:
            block = block_of_row.get(row_code)
            if block is None:
                warnings.append(f"table2: row {tok.raw!r} is not in {template}; ignored")
                current = None
                continue
            if (block.code, row_code) in rows:
                warnings.append(f"table2: row {tok.raw!r} printed twice; the first is kept")
                current = None
                continue
            current = _Row(row_code, [])
            rows[(block.code, row_code)] = current
            continue
        if tok.key in _T2_HEADER_FIRST or lookup(tok.key, _T2_COLUMNS) is not None:
            current = None
            if caption_block is not None and tok.key not in _T2_HEADER_FIRST:
                headers.setdefault(caption_block, []).append(tok.key)
            continue
        if tok.kind == "text":
            if current is not None and not current.tokens and not _NUMBERING.match(tok.key):
                continue  # the rest of the row's label, worded otherwise
            if _skip_text(tok, "table2", warnings):
                current = None
            continue
        if current is not None:
            current.tokens.append(tok)

    order = {block.code: _table2_column_order(block, headers.get(block.code, []), warnings) for block in blocks}
    block_of = {f"{b}.{r}": b for b, r in rows}

    def kinds(key: str) -> list[ValueKind]:
        return [layouts.TABLE2_COLUMN_KIND[c] for c in order[block_of[key]]]

    def fixed(key: str, toks: list[Token]) -> Placement:
        placed, misaligned = place_row(toks, len(order[block_of[key]]), None)
        if misaligned:
            warnings.append(f"table2: row {key} has {len(toks)} cells for {len(placed)} columns: "
                            f"{[t.raw for t in toks]}")
        return placed, misaligned

    placements = place_table({f"{b}.{r}": row.tokens for (b, r), row in rows.items()}, kinds, lambda key: [], (),
                             fixed, capture=capture, where="table2", warnings=warnings)
    cells: list[CellValue] = []
    for block in blocks:
        columns = order[block.code]
        for row in block.rows:
            found = rows.get((block.code, row))
            if found is None:
                placed, misaligned = [_NOT_PRINTED] * len(columns), False
                extra: tuple[str, ...] = (codes.FLAG_NOT_PRINTED,)
            else:
                placed, misaligned = placements[f"{block.code}.{row}"]
                extra = ()
            by_column = dict(zip(columns, placed, strict=True))
            for column in block.columns:
                cells.append(_cell(codes.T2, row, column, by_column[column],
                                   layouts.TABLE2_COLUMN_KIND[column], misaligned=misaligned,
                                   block=block.code, unit=layouts.TABLE2_COLUMN_UNIT[column], extra=extra))
    return cells


def _table2_column_order(block: layouts.Table2Block, header_keys: list[str], warnings: list[str]) -> list[str]:
    """Columns in printed order: the header's order when it names every column, else the template's."""
    named = [lookup(k, _T2_COLUMNS) for k in header_keys]
    named = [c for c in named if c in block.columns]
    if sorted(named) == sorted(block.columns) and named != list(block.columns):
        warnings.append(f"table2: {block.code} prints its columns in the order {named}")
        return named
    return list(block.columns)


# ---------------------------------------------------------------------------------------------
# Table 3


def align_table3(tokens: list[Token], template: str, warnings: list[str], *, capture: Capture | None = None
                 ) -> tuple[list[CellValue], dict[str, list[CellValue]]]:
    """Table 3 cells (every row × column of the version) and any printed subtotal rows (for S4).

    A row whose label was lost (an empty or unreadable first cell in a converted PDF) is kept as an
    unlabelled row; it is given the missing label only when exactly as many unlabelled rows as
    missing labels sit between two labelled rows (template order), and then flagged `label_inferred`.
    """
    capture = capture or Capture()
    leaf_rows = layouts.TABLE3_ROWS[template]
    groups = layouts.TABLE3_GROUPS[template]
    width = len(layouts.TABLE3_COLUMNS)
    total_index = layouts.TABLE3_COLUMNS.index(layouts.TABLE3_TOTAL_COLUMN)
    rows: dict[str, _Row] = {}
    subtotals: dict[str, _Row] = {}
    sequence: list[_Row] = []  # labelled and unlabelled rows in reading order
    header_columns: dict[int, dict[str, tuple[int, int]]] = {}  # grid -> column code -> (first col, span)
    current: _Row | None = None
    for tok in tokens:
        if tok.new_row and current is not None and len(current.tokens) >= width \
                and not _is_table3_label(tok.key, groups):
            current = _Row("", [])  # a row whose label was lost
            sequence.append(current)
            if tok.is_blank or not looks_numeric(tok.key):
                if not tok.is_blank:
                    warnings.append(f"table3: unreadable row label {tok.raw!r}")
                continue
        if tok.is_blank:
            if current is not None:
                current.tokens.append(tok)
            continue
        code = lookup_table3_row(tok.key, warnings)
        if code is not None and code in groups:  # (六)其他处理 is a group in fmt_2021
            current = _Row(code, [])
            subtotals.setdefault(code, current)
            continue
        if code is not None:
            if code not in leaf_rows:
                warnings.append(f"table3: row {tok.raw!r} is not in {template}; ignored")
                current = None
            elif code in rows:
                warnings.append(f"table3: row {tok.raw!r} printed twice; the first is kept")
                current = None
            else:
                current = _Row(code, [])
                rows[code] = current
                sequence.append(current)
            continue
        group = _T3_GROUPS.get(tok.key)
        if group is not None:
            current = _Row(group, [])
            if group in groups:
                subtotals.setdefault(group, current)
            continue
        column_code = lookup(tok.key, _T3_COLUMNS)
        if column_code is not None and tok.grid is not None and tok.col is not None:
            header_columns.setdefault(tok.grid, {})[column_code] = (tok.col, tok.colspan)
        if tok.key in _T3_HEADERS or labels.TABLE3_NOTE_MARK in tok.key or column_code is not None:
            current = None
            continue
        if tok.kind == "text":
            if current is not None and not current.tokens and not _NUMBERING.match(tok.key):
                continue  # right after a label, before its values: the rest of that label, worded otherwise
            if _skip_text(tok, "table3", warnings) and rows:
                current = _Row("", [])  # a row label in a wording the dictionary does not know
                sequence.append(current)
            continue
        if current is not None:
            current.tokens.append(tok)

    inferred = _infer_lost_labels(sequence, rows, leaf_rows, warnings)
    printed = {code: r.tokens for code, r in rows.items()}
    printed_groups = {g: r.tokens for g, r in subtotals.items() if any(not t.is_blank for t in r.tokens)}
    as_leaf = {g for g in printed_groups if g in groups and not any(r in rows for r in groups[g])}
    leaves = [r for r in layouts.TABLE3_RESULT_LEAVES[template]
              if not any(r in groups[g] for g in as_leaf)] + sorted(as_leaf)

    def fixed(code: str, toks: list[Token]) -> Placement:
        placement = _place_by_header(toks, header_columns, warnings, code) or place_row(toks, width, total_index)
        if placement[1]:
            warnings.append(f"table3: row {code} could not be placed with certainty: {[t.raw for t in toks]}")
        return placement

    placements = place_table(
        {**printed, **printed_groups}, lambda code: ["count"] * width,
        lambda code: [solve.Segment(tuple(range(total_index)), total_index)],
        layouts.table3_relations(leaves, [g for g in printed_groups if g not in as_leaf], groups), fixed,
        capture=capture, where="table3", warnings=warnings)

    def row_cells(code: str, found: _Row | None, extra: tuple[str, ...] = ()) -> list[CellValue]:
        """The seven cells of one printed (or unprinted) row, as `place_table` placed them."""
        if found is None:
            placed, misaligned, extra = [_NOT_PRINTED] * width, False, (codes.FLAG_NOT_PRINTED,)
        else:
            placed, misaligned = placements[code]
        return [_cell(codes.T3, code, column, p, "count", misaligned=misaligned, extra=extra)
                for column, p in zip(layouts.TABLE3_COLUMNS, placed, strict=True)]

    cells: list[CellValue] = []
    for row in leaf_rows:
        cells += row_cells(row, rows.get(row), (codes.FLAG_LABEL_INFERRED,) if row in inferred else ())

    printed_subtotals: dict[str, list[CellValue]] = {}
    for group, found in subtotals.items():
        if not any(not t.is_blank for t in found.tokens):
            continue
        if group in groups and not any(r in rows for r in groups[group]):
            # The report prints the group as one row and none of its sub-rows (a 2021-format report
            # keeping the 2019 （六）其他处理 row, 洪泽区 2023/2024): keep its cells rather than lose them.
            cells += row_cells(group, found, (codes.FLAG_GROUP_AS_LEAF,))
            warnings.append(f"table3: {group} printed as one row without its sub-rows; kept as a row "
                            f"(flag {codes.FLAG_GROUP_AS_LEAF}) and used in place of its sub-rows by S2")
            continue
        printed_subtotals[group] = row_cells(group, found)
        warnings.append(f"table3: subtotal row {group} printed (not in the template); checked by S4")
    return cells, printed_subtotals


def _place_by_header(tokens: list[Token], header_columns: dict[int, dict[str, tuple[int, int]]],
                     warnings: list[str], row: str) -> tuple[list[_Placed], bool] | None:
    """Place a grid row's cells under the header cells whose columns they sit in (HTML, Word, PDF).

    Used only when the row's cells and a complete header (all seven column labels) are in the same
    grid; a value under a column that is not in the template (a 小计 added by the organ) is left
    out with a warning. None when the header cannot decide, so the positional rules apply.
    """
    cells = [t for t in tokens if t.col is not None]
    grids = {t.grid for t in cells}
    if not cells or len(cells) != len(tokens) or len(grids) != 1:
        return None
    header = header_columns.get(next(iter(grids)))  # type: ignore[arg-type]
    if header is None or set(header) != set(layouts.TABLE3_COLUMNS):
        return None
    column_of = _columns_by_position(header)
    placed: dict[str, _Placed] = {}
    for t in cells:
        code = column_of.get(t.col)  # type: ignore[arg-type]
        if code is None:
            if not t.is_blank:
                warnings.append(f"table3: row {row}: {t.raw!r} sits under no template column; left out")
            continue
        if code in placed:
            return None
        placed[code] = _Placed.of(t)
    return [placed.get(c, _Placed("", collapsed=True)) for c in layouts.TABLE3_COLUMNS], False


def _columns_by_position(header: dict[str, tuple[int, int]]) -> dict[int, str]:
    """Logical column → the header column code it sits under (the first header cell that spans it)."""
    out: dict[int, str] = {}
    for code, (start, span) in header.items():
        for col in range(start, start + span):
            out.setdefault(col, code)
    return out


def _is_table3_label(key: str, groups: dict[str, tuple[str, ...]]) -> bool:
    return bool(key) and (lookup_table3_row(key) is not None or lookup(key, _T3_GROUPS) is not None
                          or key in _T3_HEADERS
                          or labels.TABLE3_NOTE_MARK in key or lookup(key, _T3_COLUMNS) is not None)


def _infer_lost_labels(sequence: list[_Row], rows: dict[str, _Row], leaf_rows: tuple[str, ...],
                       warnings: list[str]) -> set[str]:
    """Give unlabelled rows the labels missing between their labelled neighbours, when counts agree."""
    inferred: set[str] = set()
    orphans_between: list[_Row] = []
    previous = -1
    for row in [*sequence, _Row("<end>", [])]:
        if row.code == "":
            if any(looks_numeric(t.key) for t in row.tokens):  # a stray label fragment is not a row
                orphans_between.append(row)
            continue
        position = leaf_rows.index(row.code) if row.code in leaf_rows else len(leaf_rows)
        if orphans_between:
            missing = [r for r in leaf_rows[previous + 1:position] if r not in rows]
            if len(missing) == len(orphans_between):
                for code, orphan in zip(missing, orphans_between, strict=True):
                    rows[code] = _Row(code, orphan.tokens)
                    inferred.add(code)
                    warnings.append(f"table3: a row without a readable label read as {code} "
                                    f"(the only row missing between its neighbours)")
            else:
                warnings.append(f"table3: {len(orphans_between)} row(s) without a label could not be "
                                f"matched to the {len(missing)} missing row(s) {missing}; left out")
            orphans_between = []
        previous = max(previous, position)
    return inferred


# ---------------------------------------------------------------------------------------------
# Table 4


def align_table4(tokens: list[Token], warnings: list[str], *, capture: Capture | None = None) -> list[CellValue]:
    """The 15 cells of table 4's single data row, which follows the three header rows."""
    capture = capture or Capture()
    columns = layouts.TABLE4_COLUMNS
    last_header = -1
    for i, tok in enumerate(tokens):
        if tok.key in _T4_HEADERS:
            last_header = i
    data = tokens[last_header + 1:]
    if _is_scanned(data):
        kept: list[Token] = []
        for tok in data:
            if tok.kind == "text":
                if _skip_text(tok, "table4", warnings):
                    break  # a footnote after the data row
                continue
            kept.append(tok)
        data = kept
    if last_header < 0:
        data = [t for t in tokens
                if t.is_blank or looks_numeric(t.key) or parse_value(t.raw, "count").value is not None]
    # Prose after the data row (a footnote) is not a cell.
    while data and not data[-1].is_blank and parse_value(data[-1].raw, "count").value is None \
            and len(data[-1].key) > 4:
        warnings.append(f"table4: text {data[-1].raw[:30]!r} after the data row ignored")
        data.pop()
    if not data:
        placed, misaligned = [_NOT_PRINTED] * len(columns), False
        extra: tuple[str, ...] = (codes.FLAG_NOT_PRINTED,)
    else:
        def fixed(code: str, toks: list[Token]) -> Placement:
            placement = place_row(toks, len(columns), None)
            if placement[1]:
                warnings.append(f"table4: {len(toks)} cells for 15 columns: {[t.raw for t in toks]}")
            return placement

        n = len(layouts.TABLE4_OUTCOMES)
        segments = [solve.Segment(tuple(range(g * n, g * n + n - 1)), g * n + n - 1)
                    for g in range(len(layouts.TABLE4_GROUPS))]
        placed, misaligned = place_table({"t4": data}, lambda code: ["count"] * len(columns),
                                         lambda code: segments, (), fixed, capture=capture,
                                         where="table4", warnings=warnings)["t4"]
        extra = ()
    return [_cell(codes.T4, None, column, p, "count", misaligned=misaligned, extra=extra)
            for column, p in zip(columns, placed, strict=True)]
