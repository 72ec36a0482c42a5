"""Word and PDF reports read into the same cells as HTML.

The three real PDFs (淮安市 2024, 洪泽区 2023 and 2024, all 2021 format) are pinned cell by cell,
typed by hand from the PDFs' tables. 洪泽区 prints （六）其他处理 as one row without its three
2021 sub-rows, and its 2023 table 4 prints 总计 0 beside 10 + 1 review outcomes (a real error).
"""

from __future__ import annotations

import io
import zipfile

import pytest

import tasks
from tasks.extract.pdf import split_text_row
from tasks.normalise.frames import ReadReport, build_frames, report_id
from tasks.validate.expected import across_years
from tests.conftest import SAMPLES
from tests.extract.test_seeds import T2_2021, T3_ROWS_2021, expected
from tests.fixtures import render
from tests.fixtures.render_docx import render_docx

Z = (0, 0, 0, 0, 0, 0, 0)
_ = None


def only_natural(n: int) -> tuple:
    return (n, 0, 0, 0, 0, 0, n)


NOT_PRINTED = (_, _, _, _, _, _, _)

HONGZE_2024 = expected(
    {"art20_1": [(0, 0, 0), (3, 0, 8)], "art20_5": [(9487,)], "art20_6": [(2776,), (84,)], "art20_8": [(7545.0,)]},
    T2_2021,
    {"new_received": only_natural(95), "granted": only_natural(50), "partly_granted": only_natural(9),
     "withheld_security_stability": only_natural(1), "withheld_process_info": only_natural(1),
     "withheld_enforcement_file": only_natural(1), "unavailable_not_held": only_natural(31),
     "unavailable_needs_creation": only_natural(1), "not_processed_petition": only_natural(1),
     "results_total": only_natural(95), "other_no_correction": NOT_PRINTED, "other_fee_unpaid": NOT_PRINTED,
     "other_misc": NOT_PRINTED},
    [*T3_ROWS_2021, "other_handling"], Z,
    (1, 1, 0, 0, 2, 1, 0, 0, 0, 1, 2, 0, 1, 0, 3))
HONGZE_2023 = expected(
    {"art20_1": [(0, 0, 0), (0, 5, 5)], "art20_5": [(550,)], "art20_6": [(4119,), (195,)], "art20_8": [(7730.28,)]},
    T2_2021,
    {"new_received": only_natural(21), "partly_granted": only_natural(4), "withheld_state_secret": only_natural(1),
     "withheld_process_info": only_natural(1), "withheld_enforcement_file": only_natural(1),
     "unavailable_not_held": only_natural(10), "unavailable_needs_creation": only_natural(3),
     "not_processed_petition": only_natural(1), "results_total": only_natural(21),
     "other_no_correction": NOT_PRINTED, "other_fee_unpaid": NOT_PRINTED, "other_misc": NOT_PRINTED},
    [*T3_ROWS_2021, "other_handling"], Z,
    (10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0))
HUAIAN_2024 = expected(
    {"art20_1": [(1, 0, 11), (8, 26, 66)], "art20_5": [(447228,)], "art20_6": [(3985758,), (88283,)],
     "art20_8": [(96171.6,)]},
    T2_2021,
    {"new_received": (3001, 53, 0, 0, 61, 4, 3119), "carried_over": only_natural(34),
     "granted": (1288, 21, 0, 0, 50, 3, 1362), "partly_granted": (447, 7, 0, 0, 0, 0, 454),
     "withheld_state_secret": only_natural(2), "withheld_law_prohibited": (30, 1, 0, 0, 0, 0, 31),
     "withheld_security_stability": only_natural(5), "withheld_third_party": only_natural(6),
     "withheld_internal_affairs": (7, 1, 0, 0, 0, 0, 8), "withheld_process_info": only_natural(12),
     "withheld_enforcement_file": only_natural(9), "withheld_admin_query": only_natural(105),
     "unavailable_not_held": (746, 12, 0, 0, 10, 1, 769), "unavailable_needs_creation": only_natural(11),
     "unavailable_still_unclear": only_natural(1), "not_processed_petition": (56, 6, 0, 0, 0, 0, 62),
     "not_processed_duplicate": only_natural(25), "not_processed_confirmation": only_natural(1),
     "other_no_correction": (67, 3, 0, 0, 1, 0, 71), "other_fee_unpaid": only_natural(6),
     "other_misc": (108, 2, 0, 0, 0, 0, 110), "results_total": (2932, 53, 0, 0, 61, 4, 3050),
     "carried_forward": only_natural(103)},
    T3_ROWS_2021, Z,
    (72, 64, 178, 37, 351, 13, 4, 8, 1, 26, 12, 1, 1, 6, 20))

PDFS = {
    "020_huaian_2024.pdf": (HUAIAN_2024, ("淮安市人民政府", 2024), set()),
    "021_hongze_2023.pdf": (HONGZE_2023, ("洪泽区人民政府", 2023), {("S5", "review"), ("S5", "suit_post_review")}),
    "022_hongze_2024.pdf": (HONGZE_2024, ("淮安市洪泽区人民政府", 2024), set()),
}


@pytest.fixture(scope="module", params=sorted(PDFS))
def pdf(request: pytest.FixtureRequest) -> tuple[tasks.Report, tuple]:
    return tasks.read_source(str(SAMPLES / request.param)), PDFS[request.param]


def test_real_pdf_every_cell(pdf: tuple[tasks.Report, tuple]) -> None:
    report, (cells, _, _) = pdf
    got = {c.cell_id: c.value for c in report.cells}
    assert set(got) == set(cells)
    wrong = {k: (got[k], v) for k, v in cells.items() if got[k] != v or type(got[k]) is not type(v)}
    assert not wrong


def test_real_pdf_metadata_and_checks(pdf: tuple[tasks.Report, tuple]) -> None:
    report, (_, (organ, year), failing) = pdf
    assert (report.meta.organ, report.meta.year, report.meta.template) == (organ, year, "fmt_2021")
    assert {(c.id, c.scope) for c in report.failed_checks} == failing
    assert any("page mark '- 2 -' dropped" in w for w in report.warnings)


def test_hongze_keeps_its_single_other_handling_row() -> None:
    report = tasks.read_source(str(SAMPLES / "022_hongze_2024.pdf"))
    cell = report.cell("t3.other_handling.total")
    assert cell.value == 0 and "group_as_leaf" in cell.flags
    assert "not_printed" in report.cell("t3.other_misc.total").flags


def test_carry_over_between_hongze_2023_and_2024() -> None:
    r23 = tasks.read_source(str(SAMPLES / "021_hongze_2023.pdf"), organ="淮安市洪泽区人民政府")
    r24 = tasks.read_source(str(SAMPLES / "022_hongze_2024.pdf"))
    frames = build_frames([ReadReport(r23, report_id("2023"), __import__("datetime").datetime.now(), "curated", ())],
                          [])
    organs = frames["reports"].select("report_id", "organ")
    e = across_years(r24, "淮安市洪泽区人民政府", frames["requests"].join(organs, on="report_id"),
                     frames["proactive"].join(organs, on="report_id"))
    e1 = [c for c in e if c.id == "E1"]
    assert len(e1) == 7 and all(c.passed for c in e1)  # 2023 carried forward 0 = 2024 carried over 0
    assert r23.cell("t3.carried_forward.total").value == r24.cell("t3.carried_over.total").value == 0
    e5 = {c.scope: c for c in e if c.id == "E5"}  # 现行有效 5 + 制发 3 − 废止 0 = 8
    assert e5["art20_1.normative_docs"].passed and e5["art20_1.normative_docs"].rhs == 8


@pytest.mark.parametrize("spec", [render.shanghai_2019(), render.hangzhou_2021()], ids=["fmt_2019", "fmt_2021"])
def test_docx_with_vertical_and_horizontal_merges(spec: render.ReportSpec) -> None:
    data = render_docx(spec)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("word/document.xml").decode()
    assert "w:gridSpan" in xml and "w:vMerge" in xml
    report = tasks.read_report(data, source="report.docx")
    got = {c.cell_id: c for c in report.cells}
    exp = spec.expected_cells()
    assert set(got) == set(exp)
    assert {k: (got[k].raw, got[k].value) for k in exp if got[k].value != exp[k][1]} == {}
    assert report.meta.template == spec.template and report.meta.year == spec.year
    assert not report.failed_checks


def _scanned_pdf() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (600, 800), "white")
    ImageDraw.Draw(img).rectangle((50, 50, 550, 300), outline="black")
    buf = io.BytesIO()
    img.save(buf, "PDF")
    return buf.getvalue()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (30 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(("make", "reason"), [
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048), "legacy Word .doc"),
    (_scanned_pdf, r"scanned PDF \(no text layer\): OCR found no text on page 1"),
    (lambda: (SAMPLES / "022_hongze_2024.pdf").read_bytes()[:20_000], "corrupted or truncated PDF"),
    (lambda: render_docx(render.hangzhou_2021())[:3000], "corrupted or truncated .docx"),
    (_zip_bomb, "zip bomb"),
], ids=["doc", "scan", "truncated-pdf", "truncated-docx", "zip-bomb"])
def test_unreadable_documents_give_a_clear_error(make, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(tasks.UnsupportedFormat, match=reason):
        tasks.read_report(make(), source="attachment")


def test_pdf_rows_without_ruling_lines_are_split() -> None:
    assert split_text_row("一、本年新收政府信息公开申请数量 95 0 0 0 0 0 95") == [
        "一、本年新收政府信息公开申请数量", "95", "0", "0", "0", "0", "0", "95"]
    assert split_text_row("规章 - - -") == ["规章", "-", "-", "-"]
    assert split_text_row("行政事业性收费 134.3235万元") == ["行政事业性收费", "134.3235万元"]
    assert split_text_row("2024 年，全区政府信息公开工作虽取得一定成绩") is None
