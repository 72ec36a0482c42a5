"""The label dictionary and layouts agree with each other and with the variants of spec §9."""

from __future__ import annotations

import pytest

from tasks.extract.align import _T3_ROWS, lookup, lookup_table3_row
from tasks.extract.sections import match_heading
from tasks.template import labels, layouts
from tasks.template.labels import normalise_label

VARIANTS = [
    # printed label as seen in a real report, the code it must read as (spec §9, seeds)
    ("规 章", labels.TABLE2_ROWS, "regulations"),
    ("行政规范性文件", labels.TABLE2_ROWS, "normative_docs"),
    ("本年新\n制作数量", labels.TABLE2_COLUMNS, "made_new"),
    ("本年收费金额(单位:万元)", labels.TABLE2_COLUMNS, "fee_amount_wan"),
    ("本年收费金额（单位：万元）", labels.TABLE2_COLUMNS, "fee_amount_wan"),
    ("合计", labels.TABLE3_COLUMNS, "total"),
    ("自\n然\n人", labels.TABLE3_COLUMNS, "natural_person"),
    ("商业 企业", labels.TABLE3_COLUMNS, "org_business"),
    ("(二)部分公开(区分处理的,只记这一情形,不记其他情形)", labels.TABLE3_ROWS, "partly_granted"),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", labels.TABLE3_ROWS, "partly_granted"),
    ("1.信访投诉举报类申请", labels.TABLE3_ROWS, "not_processed_petition"),
    ("1、信访举报投诉类申请", labels.TABLE3_ROWS, "not_processed_petition"),
    ("3.危及“三安全一稳定”", labels.TABLE3_ROWS, "withheld_security_stability"),
    ('3.危及"三安全一稳定"', labels.TABLE3_ROWS, "withheld_security_stability"),
    ("| (七)总计", labels.TABLE3_ROWS, "results_total"),
]


@pytest.mark.parametrize(("printed", "table", "code"), VARIANTS)
def test_variant_reads_as_its_code(printed: str, table: dict, code: str) -> None:
    keyed = {normalise_label(t): c for c, texts in table.items() for t in texts}
    assert keyed.get(normalise_label(printed)) == code


def test_merged_group_and_row_labels() -> None:
    assert lookup_table3_row(normalise_label("三、本年度办理结果 （一）予以公开")) == "granted"
    assert lookup_table3_row(normalise_label("（六）其他处理 3.其他")) == "other_misc"


def test_fuzzy_match_needs_same_numbering_and_is_reported() -> None:
    warnings: list[str] = []
    assert lookup(normalise_label("3.补正后申请内容仍不明碗"), _T3_ROWS, warnings) == "unavailable_still_unclear"
    assert warnings and "fuzzy" in warnings[0]
    assert lookup(normalise_label("2.补正后申请内容仍不明碗"), _T3_ROWS) is None
    assert lookup(normalise_label("123"), _T3_ROWS) is None


@pytest.mark.parametrize(("line", "code"), [
    ("二、主动公开政府信息情况", "sec_proactive"),
    ("三、收到和处理政府信息公开申请情况 |", "sec_requests"),
    ("四、政府信息公开行政复议、行政诉讼情况", "sec_review_litigation"),
    ("5、 存在的主要问题及改进情况", "sec_problems"),
    ("五、政府信息公开工作存在的主要问题及改进情况", "sec_problems"),
    ("六、其他需要报告事项", "sec_other"),
    ("四、结转下年度继续办理", None),
    ("三、本年度办理结果", None),
    ("(四)因政府信息公开工作被申请行政复议、提起行政诉讼级责任追究情况", None),
    ("本报告包括主动公开政府信息情况、收到和处理政府信息公开申请情况等内容。", None),
])
def test_only_known_headings_open_a_section(line: str, code: str | None) -> None:
    assert match_heading(line) == code


def test_every_layout_code_has_a_label_and_every_label_a_layout_code() -> None:
    t2_rows = {r for blocks in layouts.TABLE2_BLOCKS.values() for b in blocks for r in b.rows}
    t2_cols = {c for blocks in layouts.TABLE2_BLOCKS.values() for b in blocks for c in b.columns}
    t3_rows = {r for rows in layouts.TABLE3_ROWS.values() for r in rows}
    assert set(labels.TABLE2_ROWS) == t2_rows
    assert set(labels.TABLE2_COLUMNS) == t2_cols == set(layouts.TABLE2_COLUMN_KIND) == set(layouts.TABLE2_COLUMN_UNIT)
    assert set(labels.TABLE3_ROWS) == t3_rows
    assert set(labels.TABLE3_COLUMNS) == set(layouts.TABLE3_COLUMNS)
    groups = {g for gs in layouts.TABLE3_GROUPS.values() for g in gs}
    assert groups - {"other_handling"} <= set(labels.TABLE3_GROUP_ROWS)


def test_labels_are_unambiguous() -> None:
    for table in (labels.TABLE2_ROWS, labels.TABLE2_COLUMNS, labels.TABLE3_ROWS, labels.TABLE3_COLUMNS):
        keys = [normalise_label(t) for texts in table.values() for t in texts]
        assert len(keys) == len(set(keys))


def test_versions_differ_only_where_the_spec_says() -> None:
    r19, r21 = layouts.TABLE3_ROWS["fmt_2019"], layouts.TABLE3_ROWS["fmt_2021"]
    assert set(r19) ^ set(r21) == {"other_handling", "other_no_correction", "other_fee_unpaid", "other_misc"}
    assert len(layouts.TABLE3_RESULT_LEAVES["fmt_2019"]) == 19
    assert len(layouts.TABLE3_RESULT_LEAVES["fmt_2021"]) == 21
    assert len(layouts.TABLE4_COLUMNS) == 15
