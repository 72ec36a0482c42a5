"""Metadata as printed (issue 8 item 7): spaced years, 统计周期, the organ only in the title,
archive header fields, and reports whose tables are readable but whose organ is printed nowhere."""

from __future__ import annotations

import json

import pytest

import tasks
from flows.cli import main
from tasks.extract.metadata import read_metadata
from tasks.extract.reader import require_metadata
from tests.conftest import SAMPLES
from tests.fixtures import captures


@pytest.mark.parametrize(("lines", "organ", "year"), [
    (["# 某某区人民政府办公室 2024 年政府信息公开工作年度报告",
      "本报告所列数据统计期限自 2024 年 1 月 1 日至 12 月 31 日止。"], "某某区人民政府办公室", 2024),
    (["2019年上海市人民政府办公厅政府信息公开工作年度报告",
      "本报告中所列数据的统计周期为2019年1月1日至2019年12月31日。"], "上海市人民政府办公厅", 2019),
    (["标题：2022年政府信息公开工作年度报告", "发布机构：某某市司法局", "统计期限为2022年1月1日起"],
     "某某市司法局", 2022),
    (["标题： | 关于印发某某县2021年政府信息公开工作年度报告的通知 |", "所列数据统计期间为2021年01月01日至12月31日"],
     "某某县", 2021),
    (["统计期限", "自", "2023", "年", "1", "月", "1", "日起"], None, 2023),  # one half-width run per line
])
def test_metadata_as_printed(lines: list[str], organ: str | None, year: int) -> None:
    meta = read_metadata(lines)
    assert (meta.organ, meta.year) == (organ, year)


def _without_organ() -> bytes:
    truth = tasks.read_source(str(SAMPLES / "004_duji_2020.txt"))
    text = captures.one_per_line(captures.printed_rows(truth))
    lines = [ln for ln in text.split("\n") if "杜集区" not in ln]  # title and signature gone
    return ("2020年政府信息公开工作年度报告\n" + "\n".join(lines)).encode()


def test_readable_tables_without_an_organ_are_returned_with_a_warning() -> None:
    report = tasks.read_report(_without_organ(), source="no-organ.txt")
    assert report.meta.organ is None and report.meta.year == 2020
    assert any(w.startswith("no organ") for w in report.warnings)
    assert report.cell("t3.new_received.total").value == 0
    with pytest.raises(tasks.MissingMetadata, match="no organ"):
        require_metadata(report, "no-organ.txt")
    given = tasks.read_report(_without_organ(), organ="淮北市杜集区经济和信息化局")
    require_metadata(given, "no-organ.txt")  # the catalogue's organ is enough


def test_extract_exits_0_without_a_printed_organ(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "no-organ.txt"
    path.write_bytes(_without_organ())
    assert main(["extract", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["report"]["organ"] is None and out["report"]["year"] == 2020
