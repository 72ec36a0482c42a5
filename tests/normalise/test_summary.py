"""`report_summary`'s figures: each the sum of its printed cells, its fallback when none is printed,
null where the report's template has no such cell."""

from __future__ import annotations

import polars as pl

from tasks import schemas
from tasks.normalise.summary import FIGURE_DTYPES, NAMES, figures
from tasks.template import layouts

_WITHHELD = layouts.TABLE3_GROUPS[layouts.FMT_2021]["withheld"]
_OTHER_2021 = layouts.TABLE3_GROUPS[layouts.FMT_2021]["other_handling"]


def _requests(cells: list[tuple[str, str, str, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(rid, 2021, row, col, value, str(value), [], 1.0) for rid, row, col, value in cells],
        schema=schemas.DATASETS["requests"], orient="row")


def _review(cells: list[tuple[str, str, int | None]]) -> pl.DataFrame:
    return pl.DataFrame([(rid, 2021, col, value, str(value), [], 1.0) for rid, col, value in cells],
                        schema=schemas.DATASETS["review_litigation"], orient="row")


def _proactive(cells: list[tuple[str, str, str, str, float | None]]) -> pl.DataFrame:
    return pl.DataFrame([(rid, 2021, block, row, col, value, None, str(value), [], 1.0)
                         for rid, block, row, col, value in cells],
                        schema=schemas.DATASETS["proactive"], orient="row")


TEMPLATES = pl.DataFrame({"report_id": ["a21", "b21", "c19", "d", "e"],
                          "template": ["fmt_2021", "fmt_2021", "fmt_2019", None, "fmt_2021"]})


def _figures() -> dict[str, dict[str, object]]:
    requests = _requests([
        ("a21", "new_received", "total", 10), ("a21", "new_received", "natural_person", 4),
        ("a21", "new_received", "org_business", 1), ("a21", "new_received", "org_other", 2),
        ("a21", "new_received", "org_research", None),
        *(("a21", row, "total", i) for i, row in enumerate(_WITHHELD)),  # 0 + 1 + ... + 7
        ("a21", "withheld", "total", 99),  # the group's own row: not read when its reasons are printed
        *(("a21", row, "total", 1) for row in _OTHER_2021),
        ("b21", "withheld", "total", 5),  # the group printed as one row: its fallback
        *(("b21", row, "total", None) for row in _WITHHELD[:3]),  # reasons printed empty
        ("b21", "other_handling", "total", 3),
        ("c19", "other_handling", "total", 6),  # the 2019 template's one row
        ("c19", "new_received", "total", 7),
        ("d", "new_received", "total", 8),  # no template (an unread report): nothing is read
        ("zz", "new_received", "total", 9),  # not one of the reports asked for
    ])
    review = _review([("a21", "review_total", 2), ("c19", "review_total", None)])
    proactive = _proactive([("a21", "art20_1", "regulations", "in_force", 12.0),
                            ("c19", "art20_1", "regulations", "in_force", 3.0),  # not a 2019 figure
                            ("c19", "art20_1", "normative_docs", "published_new", 4.0)])
    out = figures(TEMPLATES, requests, review, proactive)
    assert out.columns == ["report_id", *NAMES]
    assert out.schema == pl.Schema({"report_id": pl.String, **FIGURE_DTYPES})
    assert out["report_id"].to_list() == TEMPLATES["report_id"].to_list()
    return {row["report_id"]: row for row in out.iter_rows(named=True)}


def test_a_figure_is_its_cell_or_the_sum_of_its_printed_cells() -> None:
    a = _figures()["a21"]
    assert (a["received"], a["received_natural_person"], a["received_organisations"]) == (10, 4, 3)
    assert a["withheld"] == sum(range(len(_WITHHELD)))
    assert a["other_handling"] == len(_OTHER_2021)
    assert a["review_total"] == 2 and a["regulations_in_force"] == 12.0
    assert a["granted"] is None and a["normative_docs_published_new"] is None


def test_a_group_printed_as_one_row_is_read_from_that_row() -> None:
    b = _figures()["b21"]
    assert b["withheld"] == 5  # its reasons printed, every one empty: the group's row
    assert b["other_handling"] == 3


def test_a_figure_the_template_lacks_is_null() -> None:
    c = _figures()["c19"]
    assert c["other_handling"] == 6 and c["received"] == 7 and c["normative_docs_published_new"] == 4.0
    assert c["regulations_in_force"] is None  # a 2021-format cell printed in a 2019 report
    assert c["review_total"] is None  # printed empty


def test_a_report_without_cells_or_template_has_only_nulls() -> None:
    found = _figures()
    assert all(found["d"][n] is None for n in NAMES)
    assert all(found["e"][n] is None for n in NAMES)
    assert "zz" not in found
