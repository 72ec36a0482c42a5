"""The common model every reader produces: prose lines, table grids, and the cell tokens of a table.

* `Token`    -- one physical table cell as printed (its text, and where it sits when known).
* `Grid`     -- one HTML/Word table with rowspan/colspan laid out into logical columns.
* `Document` -- a report as a sequence of prose lines (`str`) and `Grid`s, plus how it was read.

Text captures have no grid: their table sections stay lines until `tasks.extract.text` cuts them
into tokens. Either way the aligner sees a flat stream of tokens in reading order, which is what
all the flattened captures in the seeds are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tasks.template.labels import normalise_label


@dataclass(slots=True)
class Token:
    """One cell of a table as printed.

    `raw` is the cell text with its line breaks joined; `key` its normalised form for label
    lookups. `collapsed` marks an empty cell that stands for one *or more* cells lost when the
    capture collapsed them (a bare line break between pipes in a one-row-per-line capture).
    `col`/`colspan` are the logical position when the source had a real grid (HTML, Word).
    `kind` is "cell" for a cell whose boundaries the capture kept; the label scanner of
    `tasks.extract.stream` makes "label", "value" and "text" tokens instead, and marks a value
    `tight` when no separator stood before it (its digits ran into the label or another value).
    A cell read by OCR (`tasks.extract.ocr`) keeps its recognition `confidence`.
    """

    raw: str
    new_row: bool = False
    collapsed: bool = False
    col: int | None = None
    colspan: int = 1
    grid: int | None = None  # which grid of the document the cell belongs to
    kind: Literal["cell", "label", "value", "text"] = "cell"
    tight: bool = False
    confidence: float | None = None  # OCR: the recognition confidence of the cell's text (lowest line)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = normalise_label(self.raw)

    @property
    def is_blank(self) -> bool:
        return not self.key


@dataclass(slots=True)
class GridCell:
    token: Token
    row: int
    col: int
    rowspan: int
    colspan: int


@dataclass(slots=True)
class Grid:
    """A table whose rowspan/colspan cells are placed on logical (row, column) positions."""

    cells: list[GridCell]
    n_rows: int
    n_cols: int

    def tokens(self) -> list[Token]:
        """Each physical cell once, row by row, left to right: the reading order of a capture."""
        return [c.token for c in sorted(self.cells, key=lambda c: (c.row, c.col))]

    def logical(self) -> list[list[str]]:
        """The rectangular grid, a spanned cell's text repeated over every position it covers."""
        out = [["" for _ in range(self.n_cols)] for _ in range(self.n_rows)]
        for c in self.cells:
            for r in range(c.row, c.row + c.rowspan):
                for k in range(c.col, c.col + c.colspan):
                    out[r][k] = c.token.raw
        return out


Item = str | Grid


@dataclass(slots=True)
class Document:
    """A decoded report: prose lines and grids in reading order."""

    kind: Literal["html", "text", "pdf", "docx", "scan"]
    items: list[Item]
    title: str | None = None  # <title> of an HTML page
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)
    ocr_pages: str | None = None  # a scan: which pages OCR read ("pages 1, 3–5")

    def lines(self) -> list[str]:
        """Prose lines, with each grid row rendered as one 'a | b | c' line (for metadata search)."""
        out: list[str] = []
        for item in self.items:
            if isinstance(item, Grid):
                rows: dict[int, list[str]] = {}
                for c in sorted(item.cells, key=lambda c: (c.row, c.col)):
                    rows.setdefault(c.row, []).append(c.token.raw)
                out.extend(" | ".join(r) for _, r in sorted(rows.items()))
            else:
                out.append(item)
        return out
