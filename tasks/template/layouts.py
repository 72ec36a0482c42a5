"""Which rows and columns the three tables have, per template version (spec §3, §4, §5).

Version differences are data here, never `if fmt == ...` branches in the readers: the aligner
asks the layout of the detected version for its blocks, rows and columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from tasks.template.codes import FMT_2019, FMT_2021

ValueKind = Literal["count", "signed_count", "money_wan", "money_unknown_unit"]


@dataclass(frozen=True, slots=True)
class Relation:
    """Σ lhs = Σ rhs over (row code, column index) cells of table 3: one column of S1, S2 or S4."""

    name: str
    lhs: tuple[tuple[str, int], ...]
    rhs: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Table2Block:
    """One block of table 2: a caption 第二十条第（N）项, a header row and one or two data rows."""

    code: str
    article_item: str  # the N of 第二十条第（N）项, as a Chinese numeral
    rows: tuple[str, ...]
    columns: tuple[str, ...]


TABLE2_BLOCKS: Final[dict[str, tuple[Table2Block, ...]]] = {
    FMT_2019: (
        Table2Block("art20_1", "一", ("regulations", "normative_docs"),
                    ("made_new", "published_new", "published_total")),
        Table2Block("art20_5", "五", ("admin_licensing", "other_admin_services"),
                    ("items_prev_year", "items_change", "decisions")),
        Table2Block("art20_6", "六", ("admin_penalty", "admin_coercion"),
                    ("items_prev_year", "items_change", "decisions")),
        Table2Block("art20_8", "八", ("admin_fees",), ("items_prev_year", "items_change")),
        Table2Block("art20_9", "九", ("central_procurement",),
                    ("procurement_projects", "procurement_amount_wan")),
    ),
    FMT_2021: (
        Table2Block("art20_1", "一", ("regulations", "normative_docs"), ("issued", "repealed", "in_force")),
        Table2Block("art20_5", "五", ("admin_licensing",), ("decisions",)),
        Table2Block("art20_6", "六", ("admin_penalty", "admin_coercion"), ("decisions",)),
        Table2Block("art20_8", "八", ("admin_fees",), ("fee_amount_wan",)),
    ),
}

# How a table-2 column is parsed and in which unit it is stored.
TABLE2_COLUMN_KIND: Final[dict[str, ValueKind]] = {
    "made_new": "count",
    "published_new": "count",
    "published_total": "count",
    "items_prev_year": "count",
    "items_change": "signed_count",
    "decisions": "count",
    "procurement_projects": "count",
    "procurement_amount_wan": "money_unknown_unit",
    "issued": "count",
    "repealed": "count",
    "in_force": "count",
    "fee_amount_wan": "money_wan",
}
TABLE2_COLUMN_UNIT: Final[dict[str, str]] = {
    "made_new": "件",
    "published_new": "件",
    "published_total": "件",
    "items_prev_year": "项",
    "items_change": "项",
    "decisions": "件",
    "procurement_projects": "项",
    "procurement_amount_wan": "万元",
    "issued": "件",
    "repealed": "件",
    "in_force": "件",
    "fee_amount_wan": "万元",
}

# Table 3 (spec §4). The order of columns is the printed order.
TABLE3_COLUMNS: Final = (
    "natural_person",
    "org_business",
    "org_research",
    "org_public_interest",
    "org_legal_services",
    "org_other",
    "total",
)
TABLE3_TOTAL_COLUMN: Final = "total"
TABLE3_COMPONENT_COLUMNS: Final = TABLE3_COLUMNS[:-1]

_WITHHELD: Final = tuple(
    f"withheld_{s}"
    for s in ("state_secret", "law_prohibited", "security_stability", "third_party",
              "internal_affairs", "process_info", "enforcement_file", "admin_query")
)
_UNAVAILABLE: Final = ("unavailable_not_held", "unavailable_needs_creation", "unavailable_still_unclear")
_NOT_PROCESSED: Final = tuple(
    f"not_processed_{s}" for s in ("petition", "duplicate", "publication", "excessive", "confirmation")
)
_OTHER_2021: Final = ("other_no_correction", "other_fee_unpaid", "other_misc")

# Leaves of 三、本年度办理结果 whose sum is （七）总计 (check S2).
TABLE3_RESULT_LEAVES: Final[dict[str, tuple[str, ...]]] = {
    FMT_2019: ("granted", "partly_granted", *_WITHHELD, *_UNAVAILABLE, *_NOT_PROCESSED, "other_handling"),
    FMT_2021: ("granted", "partly_granted", *_WITHHELD, *_UNAVAILABLE, *_NOT_PROCESSED, *_OTHER_2021),
}

# Every data row of table 3, in printed order.
TABLE3_ROWS: Final[dict[str, tuple[str, ...]]] = {
    fmt: ("new_received", "carried_over", *leaves, "results_total", "carried_forward")
    for fmt, leaves in TABLE3_RESULT_LEAVES.items()
}

# Group rows: no cells of their own in the template; a printed subtotal is checked by S4.
TABLE3_GROUPS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    FMT_2019: {"withheld": _WITHHELD, "unavailable": _UNAVAILABLE, "not_processed": _NOT_PROCESSED},
    FMT_2021: {"withheld": _WITHHELD, "unavailable": _UNAVAILABLE, "not_processed": _NOT_PROCESSED,
               "other_handling": _OTHER_2021},
}

# Table 4 (spec §5): one data row of 15 cells, three groups of five.
TABLE4_GROUPS: Final = ("review", "suit_direct", "suit_post_review")
TABLE4_OUTCOMES: Final = ("upheld", "corrected", "other", "pending", "total")
TABLE4_COLUMNS: Final = tuple(f"{g}_{o}" for g in TABLE4_GROUPS for o in TABLE4_OUTCOMES)


def table3_relations(leaves: Sequence[str], subtotal_groups: Sequence[str], groups: dict[str, tuple[str, ...]]
                     ) -> list[Relation]:
    """The column relations of table 3 (S1, S2 and S4 for the printed subtotal rows), per column.

    `leaves` are the result rows whose sum is （七）总计 for this report (a group printed as one
    row stands in for its sub-rows); S3 and S5 are relations inside one row (see `solve.Segment`).
    """
    out: list[Relation] = []
    for k, col in enumerate(TABLE3_COLUMNS):
        out.append(Relation(f"S1[{col}]", (("new_received", k), ("carried_over", k)),
                            (("results_total", k), ("carried_forward", k))))
        out.append(Relation(f"S2[{col}]", (("results_total", k),), tuple((r, k) for r in leaves)))
        for g in subtotal_groups:
            out.append(Relation(f"S4[{g}.{col}]", ((g, k),), tuple((r, k) for r in groups[g])))
    return out


def table2_cell_id(block: str, row: str, column: str) -> str:
    return f"t2.{block}.{row}.{column}"


def table3_cell_id(row: str, column: str) -> str:
    return f"t3.{row}.{column}"


def table4_cell_id(column: str) -> str:
    return f"t4.{column}"
