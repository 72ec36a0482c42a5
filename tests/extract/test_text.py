"""Text captures: the three flattened shapes, page marks, Markdown from PDF converters."""

from __future__ import annotations

import tasks
from tasks.extract.text import detect_shape, is_page_mark, tokenize_table_lines
from tests.conftest import SAMPLES


def test_shapes_of_the_seeds() -> None:
    def shape(name: str, start: str) -> str:
        lines = (SAMPLES / name).read_text(encoding="utf-8").split("\n")
        i = next(k for k, ln in enumerate(lines) if ln.startswith(start))
        return detect_shape(lines[i + 1:i + 60])

    assert shape("000_baotou_2020.txt", "三、收到") == "pipes"
    assert shape("001_jinggangshan_2020.txt", "三、收到") == "pipes-inline"
    assert shape("002_hequ_2020.txt", "三、收到") == "tabs"
    assert shape("004_duji_2020.txt", "三、收到") == "pipes"
    assert shape("005_suining_2021_pdf2md.md", "三、收到") == "markdown"


def test_page_marks() -> None:
    for mark in ("— 3 —", "- 12 -", "第3页", "第 3 页 共 12 页", "3/12", "－ 4 －"):
        assert is_page_mark(mark, bare_numbers=False), mark
    for value in ("3", "-", "0", "第二十条第(一)项", "1236"):
        assert not is_page_mark(value, bare_numbers=False), value
    assert is_page_mark("1", bare_numbers=True)


def test_collapsed_run_in_row_per_line_capture() -> None:
    warnings: list[str] = []
    tokens = tokenize_table_lines(["一、本年新收政府信息公开申请数量 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |",
                                   "二、上年结转政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
                                   "(一)予以公开 | 8 |", "|", "|", "| 8 | |"], warnings, "t3")
    raws = [(t.raw, t.collapsed) for t in tokens]
    assert raws[-6:] == [("8", False), ("", True), ("", True), ("", True), ("8", False), ("", False)]


def test_markdown_from_a_pdf_converter() -> None:
    """Page marks between rows, a table in two fragments, a lost label, a garbled label, merged labels."""
    report = tasks.read_source(str(SAMPLES / "005_suining_2021_pdf2md.md"))
    assert (report.meta.organ, report.meta.year, report.meta.template) == ("睢宁县交通运输局", 2021, "fmt_2021")
    assert report.meta.published_on == "2022-01-25"
    assert report.cell("t2.art20_5.admin_licensing.decisions").value == 1236
    assert report.cell("t2.art20_8.admin_fees.fee_amount_wan").value == 0.85
    assert [report.cell(f"t3.granted.{c}").value for c in ("natural_person", "org_business", "total")] == [6, 1, 7]
    assert report.cell("t3.unavailable_still_unclear.total").value == 1  # label garbled: 不明碗
    lost = report.cell("t3.withheld_process_info.total")  # label cell empty in the PDF
    assert lost.value == 0 and "label_inferred" in lost.flags
    assert report.cell("t3.not_processed_petition.org_legal_services").value == 1
    assert report.cell("t3.results_total.total").value == 18
    assert report.cell("t4.review_upheld").value == 1
    assert not report.failed_checks
    assert any("— 3 —" in w for w in report.warnings) and any("— 4 —" in w for w in report.warnings)


def test_lost_labels_are_inferred_only_when_counts_agree() -> None:
    text = (SAMPLES / "005_suining_2021_pdf2md.md").read_text(encoding="utf-8")
    two_lost = text.replace("| 7.属于行政执法案卷 |", "| |")  # rows 6 and 7 both without a label
    report = tasks.read_report(two_lost.encode())
    for row in ("withheld_process_info", "withheld_enforcement_file"):
        assert "label_inferred" in report.cell(f"t3.{row}.total").flags

    lines = [ln for ln in two_lost.split("\n") if not ln.startswith("| | 0 | 0 | 0 | 0 | 0 | 0 | 0 |")]
    one_row_for_two_labels = "\n".join(lines[:]) .replace(
        "| 5.属于三类内部事务信息 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| 5.属于三类内部事务信息 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |\n| | 0 | 0 | 0 | 0 | 0 | 0 | 0 |")
    report = tasks.read_report(one_row_for_two_labels.encode())
    for row in ("withheld_process_info", "withheld_enforcement_file"):
        assert "not_printed" in report.cell(f"t3.{row}.total").flags
    assert any("could not be matched" in w for w in report.warnings)
