"""Place the printed values of flattened rows on their columns by the template's 勾稽 relations.

A capture that lost its cell boundaries leaves, for each row, a sequence of printed value tokens
that may be fewer than the row's columns (blank cells dropped, repeated lines collapsed), more
(a number broken over two lines) or run together (`640020470` for 64, 0, 0, 2, 0, 4, 70). Which
cells they stand for is then decided by the relations the table must satisfy:

1. **Readings of one row** (`row_readings`): every way to lay the printed tokens on the row's
   cells that the capture could have produced — blanks dropped anywhere, a token repeated over
   consecutive cells (only where the capture collapses repeated lines), adjacent tokens joined
   (only where the table shows broken numbers), a digit string split (only where the digits ran
   into their label). The search goes cell by cell and prunes at every group total (S3 for a
   table-3 row, S5 for each table-4 group): a partial reading whose total differs from the sum
   of its components is abandoned. Worst case without pruning is 3^width leaves times the
   splits of the digit string; the search is capped at `MAX_NODES` nodes per row and a row
   over the cap is left unplaced (flags), never guessed.
2. **The table at once** (`solve_table`): one choice per unplaced row, under the column
   relations (S1, S2, S4) that involve at least one such row, solved with OR-Tools CP-SAT
   (one Boolean per distinct reading, exactly one per row; each relation a linear equality).
   All solutions are enumerated up to `MAX_SOLUTIONS` within `TIME_LIMIT_S`. A cell whose value
   is the same in every solution is placed (`solved`); a cell that differs between solutions
   is `misaligned`, and the warning names the tied placements. Relations whose cells are all
   fixed are left to the checks: a report that really does not add up must not stop the others
   from being placed, and must not be "repaired".

Readings are compared by their numeric values (a blank counts 0 in every relation), so a cell
that is 0 in some readings and blank in others is placed with the printed `0` and flagged
`blank_or_zero`: no relation can tell the two apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from tasks.normalise.values import parse_value
from tasks.template.layouts import Relation, ValueKind

MAX_NODES: Final = 200_000
MAX_SOLUTIONS: Final = 64
TIME_LIMIT_S: Final = 5.0
_JOIN_MARK: Final = "\x00"  # ends the text of an item made of two printed tokens (internal)
_SCALE: Final = 1000  # CP-SAT is integer-only: values are compared in thousandths


@dataclass(frozen=True, slots=True)
class Segment:
    """A sum relation inside one row: cells `parts` add up to cell `total` (S3, S5)."""

    parts: tuple[int, ...]
    total: int


@dataclass(slots=True)
class Reading:
    """One numeric placement of a row, and the printed forms that give it."""

    values: tuple[int, ...]  # per cell, in thousandths; blank = 0
    invalid: int = 0  # cells whose printed value does not parse as its column's kind
    first: tuple[str, ...] = ()  # per cell the printed text of the first form found, "" = blank
    seen: list[set[str]] = field(default_factory=list)  # per cell every printed text of any form

    joined: set[int] = field(default_factory=set)  # cells whose text joins two printed tokens

    def add(self, form: tuple[str, ...]) -> None:
        self.joined |= {c for c, f in enumerate(form) if f.endswith(_JOIN_MARK)}
        form = tuple(f.rstrip(_JOIN_MARK) for f in form)
        if not self.first:
            self.first = form
            self.seen = [{f} for f in form]
        else:
            for c, f in enumerate(form):
                self.seen[c].add(f)


@dataclass(frozen=True, slots=True)
class Mode:
    """What the capture may have done to a row's tokens."""

    split: bool = False    # digits of adjacent cells ran together
    join: bool = False     # a number may be broken over two tokens
    repeats: bool = False  # consecutive identical cells collapsed into one token


@lru_cache(maxsize=65536)
def _numeric(raw: str, kind: ValueKind) -> int | None:
    """The value of a printed cell in thousandths (blank and unreadable = 0); None if impossible."""
    if not raw:
        return 0
    value = parse_value(raw, kind).value
    return 0 if value is None else round(value * _SCALE)


_INVALID: Final = frozenset({"unparsed", "semantic_misuse", "not_integer"})


@lru_cache(maxsize=65536)
def _invalid(raw: str, kind: ValueKind) -> bool:
    return bool(_INVALID.intersection(parse_value(raw, kind).flags))


def numeric_or_zero(raw: str, kind: ValueKind) -> int:
    """A fixed cell's value as the relations see it (thousandths; blank and unreadable = 0)."""
    return _numeric(raw, kind) or 0


def _digit_item(text: str) -> bool:
    return text.isdigit() and (len(text) == 1 or text[0] != "0")


def row_readings(tokens: Sequence[str], kinds: Sequence[ValueKind], segments: Sequence[Segment], mode: Mode,
                 *, max_nodes: int = MAX_NODES) -> list[Reading] | None:
    """Every reading of a row's printed tokens on `len(kinds)` cells that satisfies its segments.

    Returns None when the search passes `max_nodes` (the caller flags the row instead of guessing).
    """
    width = len(kinds)
    totals = {s.total: s for s in segments}
    found: dict[tuple[int, ...], Reading] = {}
    nodes = 0
    n = len(tokens)

    def items_from(t: int, offset: int) -> list[tuple[str, int, int]]:
        """(item text, next token, next offset) for the next printed item; a joined item ends in
        `_JOIN_MARK` so that the reading can say which cells it joined."""
        raw = tokens[t]
        rest = raw[offset:]
        out: list[tuple[str, int, int]] = []
        if mode.split:
            digits = len(rest) - len(rest.lstrip("0123456789"))
            for length in range(1, digits if digits < len(rest) else len(rest) + 1):
                piece = rest[:length]
                if not _digit_item(piece):
                    break
                out.append((piece, t, offset + length) if length < len(rest) else (piece, t + 1, 0))
            if digits < len(rest):  # "33134.3235万元": the last cell keeps the decimals and the unit
                out.append((rest, t + 1, 0))
            return out
        out.append((rest, t + 1, 0))
        if mode.join and offset == 0 and raw.isdigit():
            joined = raw
            for u in range(t + 1, n):
                if not tokens[u].isdigit():
                    break
                joined += tokens[u]
                if _digit_item(joined):
                    out.append((joined + _JOIN_MARK, u + 1, 0))
        return out

    def remaining_min(t: int) -> int:
        if t >= n:
            return 0
        return 1 if mode.join else n - t

    # The row is cut into blocks that end at a segment total; what can follow a block depends only on
    # where the block left the tokens (token, offset, last value), so each block's continuations are
    # computed once per such state (memoised), not once per way of filling the blocks before it.
    blocks: list[tuple[int, int]] = []
    begin = 0
    for seg in sorted(segments, key=lambda s: s.total):
        blocks.append((begin, seg.total + 1))
        begin = seg.total + 1
    if begin < width:
        blocks.append((begin, width))
    memo: dict[tuple[int, int, int, str | None], list[tuple[tuple[str, ...], tuple[int, ...]]]] = {}
    forms_total = 0

    def fills(b: int, t: int, offset: int, last: str | None
              ) -> list[tuple[tuple[str, ...], tuple[int, ...], int, int, str | None]]:
        """Every way to fill block `b` from this state: (cells, values, token, offset, last)."""
        lo, hi = blocks[b]
        out: list[tuple[tuple[str, ...], tuple[int, ...], int, int, str | None]] = []
        cells: list[str] = []
        values: list[int] = []

        def go(c: int, t: int, offset: int, last: str | None) -> None:
            nonlocal nodes
            nodes += 1
            if nodes > max_nodes:
                raise _CapReached
            if c == hi:
                out.append((tuple(cells), tuple(values), t, offset, last))
                return
            cells_left = width - c
            if remaining_min(t) > cells_left:
                return
            choices: list[tuple[str, int, int]] = []
            if t < n:
                choices += items_from(t, offset)
            if mode.repeats and last:
                choices.append((last, t, offset))
            if cells_left > remaining_min(t) or t >= n:
                choices.append(("", t, offset))
            seg = totals.get(c)
            for text, t2, off2 in choices:
                value = _numeric(text.rstrip(_JOIN_MARK), kinds[c])
                if value is None:
                    continue
                if seg is not None and not _total_holds(text, value, sum(values[p - lo] for p in seg.parts)):
                    continue
                cells.append(text)
                values.append(value)
                go(c + 1, t2, off2, text.rstrip(_JOIN_MARK) if text else last)
                cells.pop()
                values.pop()

        go(lo, t, offset, last)
        return out

    def suffix(b: int, t: int, offset: int, last: str | None) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
        nonlocal forms_total
        if b == len(blocks):
            return [((), ())] if t >= n else []
        key = (b, t, offset, last)
        if key not in memo:
            out: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
            for cells, values, t2, off2, last2 in fills(b, t, offset, last):
                for rest_cells, rest_values in suffix(b + 1, t2, off2, last2):
                    out.append((cells + rest_cells, values + rest_values))
            forms_total += len(out)
            if forms_total > max_nodes:
                raise _CapReached
            memo[key] = out
        return memo[key]

    try:
        for cells, values in suffix(0, 0, 0, None):
            invalid = tuple(bool(cells[k]) and _invalid(cells[k].rstrip(_JOIN_MARK), kinds[k]) for k in range(width))
            key = (*values, *invalid)
            found.setdefault(key, Reading(tuple(values), invalid=sum(invalid))).add(cells)
    except _CapReached:
        return None
    readings = list(found.values())
    if readings:  # prefer placements under which every printed value parses as its column's kind
        fewest = min(r.invalid for r in readings)
        readings = [r for r in readings if r.invalid == fewest]
    return readings


def segments_hold(raws: Sequence[str], kinds: Sequence[ValueKind], segments: Sequence[Segment]) -> bool:
    """Whether a placed row satisfies its own sum relations (S3, S5) under the blank rules."""
    values = [_numeric(r, k) or 0 for r, k in zip(raws, kinds, strict=True)]
    return all(_total_holds(raws[s.total], values[s.total], sum(values[p] for p in s.parts)) for s in segments)


def _total_holds(total_text: str, total: int, parts: int) -> bool:
    """A group total with the blank rules of the checks: a blank total holds only over zero parts."""
    if not total_text:
        return parts == 0
    return total == parts


class _CapReached(Exception):
    pass


@dataclass(slots=True)
class TableSolution:
    """Per unplaced row: the chosen reading and which of its cells differ between solutions."""

    chosen: dict[str, Reading]
    varying: dict[str, set[int]]
    capped: bool
    printed: dict[str, list[set[str]]] = field(default_factory=dict)  # per row and cell: every text it may hold


def solve_table(fixed: dict[str, tuple[int, ...]], open_rows: dict[str, list[Reading]],
                relations: Sequence[Relation]) -> TableSolution:
    """Choose one reading per open row so that every relation touching an open row holds."""
    relevant = [r for r in relations if any(row in open_rows for row, _ in (*r.lhs, *r.rhs))]
    touched = {row for r in relevant for row, _ in (*r.lhs, *r.rhs)}
    chosen: dict[str, Reading] = {}
    varying: dict[str, set[int]] = {}
    printed: dict[str, list[set[str]]] = {}
    for row, readings in open_rows.items():  # a row no relation reaches is decided by its own readings
        if row not in touched or (len(readings) == 1 and not relevant):
            chosen[row] = readings[0]
            printed[row] = _union(readings)
            if cols := _varying(readings):
                varying[row] = cols
    open_rows = {row: rs for row, rs in open_rows.items() if row not in chosen}
    if not open_rows:
        return TableSolution(chosen, varying, False, printed)

    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    choice = {row: [model.new_bool_var(f"{row}[{k}]") for k in range(len(rs))] for row, rs in open_rows.items()}
    for vars_ in choice.values():
        model.add_exactly_one(vars_)

    def cell(row: str, col: int) -> cp_model.LinearExprT:
        if row in open_rows:
            return sum(r.values[col] * v for r, v in zip(open_rows[row], choice[row], strict=True))
        values = fixed.get(row)
        return values[col] if values is not None else 0

    for rel in relevant:
        model.add(sum(cell(r, c) for r, c in rel.lhs) == sum(cell(r, c) for r, c in rel.rhs))

    rows = list(open_rows)

    class Collect(cp_model.CpSolverSolutionCallback):
        def __init__(self) -> None:
            super().__init__()
            self.solutions: list[dict[str, int]] = []

        def on_solution_callback(self) -> None:
            self.solutions.append({row: next(k for k, v in enumerate(choice[row]) if self.value(v))
                                   for row in rows})
            if len(self.solutions) >= MAX_SOLUTIONS:
                self.stop_search()

    solver = cp_model.CpSolver()
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.max_time_in_seconds = TIME_LIMIT_S
    solver.parameters.num_workers = 1
    collect = Collect()
    status = solver.solve(model, collect)
    found = collect.solutions
    if not found:
        return TableSolution(chosen, varying, status not in (cp_model.INFEASIBLE, cp_model.OPTIMAL), printed)
    capped = len(found) >= MAX_SOLUTIONS or status not in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    first = found[0]
    chosen.update({row: open_rows[row][first[row]] for row in rows})
    for row in rows:
        # Capped: the solutions not enumerated may choose any of a row's readings, so only what all of
        # them agree on is certain (a row that did not vary among the first 64 is not thereby forced).
        readings = open_rows[row] if capped else [open_rows[row][k] for k in {s[row] for s in found}]
        printed[row] = _union(readings)
        if cols := _varying(readings):
            varying[row] = cols
    return TableSolution(chosen, varying, capped, printed)


def _varying(readings: Sequence[Reading]) -> set[int]:
    """The cells whose value differs between these readings of one row."""
    return {c for c in range(len(readings[0].values)) if len({r.values[c] for r in readings}) > 1}


def _union(readings: Sequence[Reading]) -> list[set[str]]:
    """Per cell, every printed text any of these readings puts there."""
    out = [set(s) for s in readings[0].seen]
    for r in readings[1:]:
        for c, s in enumerate(r.seen):
            out[c] |= s
    return out


def describe(reading: Reading) -> str:
    """A reading as printed cells, for warnings: '64|0|0|2|0|4|70'."""
    return "|".join(f or "_" for f in reading.first)
