"""HTML pages rendered the way real sites publish reports, each compared cell by cell with its spec."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

import tasks
from tasks.extract.decode import decode_text, sniff_kind
from tasks.extract.html import read_grid, read_html
from tests.fixtures import render


def _assert_cells(report: tasks.Report, spec: render.ReportSpec) -> None:
    expected = spec.expected_cells()
    got = {c.cell_id: c for c in report.cells}
    assert set(got) == set(expected)
    wrong = {k: (got[k].raw, got[k].value, v) for k, v in expected.items()
             if got[k].value != v[1] or got[k].raw.strip("\u00a0 ") != v[0]}
    assert not wrong
    m = report.meta
    assert (m.organ, m.year, m.template, m.title, m.published_on) == (
        spec.organ, spec.year, spec.template, spec.title, spec.published_on)


@pytest.mark.parametrize("charset", ["gb2312", "gbk", "GB18030", None])
def test_shanghai_2019_gbk_with_and_without_declaration(charset: str | None) -> None:
    spec = render.shanghai_2019()
    data = render.render_sh2019(spec, charset=charset)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GB bytes
    report = tasks.read_report(data, source="sh2019.html")
    _assert_cells(report, spec)
    assert not report.failed_checks
    assert report.meta.source == "sh2019.html"


def test_charset_from_http_header_wins_over_meta() -> None:
    spec = render.shanghai_2019()
    data = render.render_sh2019(spec, charset="utf-8")  # the page lies; the server says GBK
    report = tasks.read_report(data, content_type="text/html; charset=GBK")
    _assert_cells(report, spec)


def test_hangzhou_2021_tables_per_block_with_th() -> None:
    spec = render.hangzhou_2021()
    report = tasks.read_report(render.render_hz2021(spec))
    _assert_cells(report, spec)
    assert report.cell("t2.art20_8.admin_fees.fee_amount_wan").unit == "万元"
    assert not report.failed_checks


def test_four_byte_gb18030_characters_survive() -> None:
    spec = render.hangzhou_2021()
    spec.organ = "𠮷县人民政府"
    data = render.render_hz2021(spec, charset="gbk", encoding="gb18030")
    text, encoding = decode_text(data)
    assert encoding == "gb18030" and "𠮷县人民政府" in text
    assert tasks.read_report(data).meta.organ == "𠮷县人民政府"


def test_listing_page_with_two_report_links_is_not_a_report() -> None:
    with pytest.raises(tasks.NoTablesFound, match="no statistical tables"):
        tasks.read_report(render.LISTING_PAGE.encode(), source="list.html")


def test_pre_2019_report_is_refused_as_legacy() -> None:
    with pytest.raises(tasks.LegacyTemplate, match="pre-2019"):
        tasks.read_report(render.LEGACY_2016.encode(), source="2016.html")


def test_grid_lays_out_rowspan_and_colspan() -> None:
    html = """<table>
      <tr><td rowspan="3" colspan="3">corner</td><td colspan="2">申请人情况</td></tr>
      <tr><td rowspan="2">自然人</td><td>x</td></tr>
      <tr><td>y</td></tr>
      <tr><td rowspan="99">三</td><td colspan="2">（一）</td><td>1</td><td>2</td></tr>
      <tr><td>1.</td><td>a</td><td>3</td><td>4</td></tr>
    </table>"""
    grid = read_grid(LexborHTMLParser(html).css_first("table"))
    assert grid.logical() == [
        ["corner", "corner", "corner", "申请人情况", "申请人情况"],
        ["corner", "corner", "corner", "自然人", "x"],
        ["corner", "corner", "corner", "自然人", "y"],
        ["三", "（一）", "（一）", "1", "2"],
        ["三", "1.", "a", "3", "4"],  # the rowspan of 99 is clamped to the rows that exist
    ]
    assert [t.raw for t in grid.tokens()][:4] == ["corner", "申请人情况", "自然人", "x"]


def test_nested_layout_tables_script_and_chrome_are_not_tables() -> None:
    doc = read_html(render.render_hz2021(render.hangzhou_2021()).decode("utf-8"))
    lines = [i for i in doc.items if isinstance(i, str)]
    assert "二、主动公开政府信息情况" in lines
    assert lines.count("二、主动公开政府信息情况") == 1  # the copy inside <script> is not text
    assert doc.title and doc.title.startswith("杭州市西湖区人民政府2021年")


def test_content_is_sniffed_from_bytes_not_names() -> None:
    assert sniff_kind(b"%PDF-1.7\n...") == "pdf"
    assert sniff_kind(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100) == "doc"
    assert sniff_kind("<html><body>年报</body></html>".encode()) == "html"
    assert sniff_kind("一、总体情况\n".encode()) == "text"
    with pytest.raises(tasks.UnsupportedFormat, match=r"legacy Word \.doc"):
        tasks.read_report(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, source="x.html")


def test_table3_columns_are_found_by_their_header_labels() -> None:
    """An organ inserted a 小计 column after 其他: cells are placed under their labelled column."""
    spec = render.hangzhou_2021()
    report = tasks.read_report(render.render_hz2021(spec, org_subtotal=True))
    _assert_cells(report, spec)
    assert not report.failed_checks
    assert any("'4' sits under no template column" in w for w in report.warnings)  # new_received 小计 = 3 + 1
