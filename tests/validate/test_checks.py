"""Corrupt one cell of a clean report and see the relation it breaks named (spec §7.1, §7.3)."""

from __future__ import annotations

import pytest

import tasks
from tests.conftest import SAMPLES
from tests.fixtures import render


def _failed(spec: render.ReportSpec) -> set[tuple[str, str]]:
    report = tasks.read_report(render.render_sh2019(spec))
    return {(c.id, c.scope) for c in report.failed_checks}


def _set(spec: render.ReportSpec, row: str, col: int, value: int) -> None:
    spec.t3[row][col] = render.n(value)


def test_clean_report_passes_every_strict_check() -> None:
    report = tasks.read_report(render.render_sh2019(render.shanghai_2019()))
    ids = {c.id for c in report.checks}
    assert {"S1", "S2", "S3", "S5", "S6"} <= ids
    assert all(c.passed for c in report.checks)
    assert len([c for c in report.checks if c.id == "S1"]) == 7
    assert len([c for c in report.checks if c.id == "S3"]) == 23


def test_s1_new_plus_carried_over_equals_handled_plus_carried_forward() -> None:
    spec = render.shanghai_2019()
    _set(spec, "carried_over", 2, 1)
    _set(spec, "carried_over", 6, 19)
    assert _failed(spec) == {("S1", "org_research"), ("S1", "total")}


def test_s2_results_total_is_the_sum_of_the_result_rows() -> None:
    spec = render.shanghai_2019()
    _set(spec, "granted", 5, 2)
    _set(spec, "granted", 6, 275)
    assert _failed(spec) == {("S2", "org_other"), ("S2", "total")}


def test_s3_total_column_is_the_sum_of_the_applicant_columns() -> None:
    spec = render.shanghai_2019()
    _set(spec, "withheld_third_party", 6, 16)
    failed = _failed(spec)
    assert ("S3", "withheld_third_party") in failed
    report = tasks.read_report(render.render_sh2019(spec))
    s3 = next(c for c in report.failed_checks if c.id == "S3")
    assert (s3.lhs, s3.rhs) == (16, 15) and "16" in s3.detail and "自然人 = 14" in s3.detail


def test_s5_review_total() -> None:
    spec = render.shanghai_2019()
    spec.t4[4] = render.n(5)
    assert _failed(spec) == {("S5", "review")}


@pytest.mark.parametrize(("raw", "reason"), [("-1", "negative"), ("见附件", "not a number"), ("2.5", "whole")])
def test_s6_domain(raw: str, reason: str) -> None:
    spec = render.shanghai_2019()
    spec.t3["granted"][2] = (raw, None)
    report = tasks.read_report(render.render_sh2019(spec))
    s6 = [c for c in report.failed_checks if c.id == "S6"]
    assert [c.scope for c in s6] == ["t3.granted.org_research"]
    assert reason in s6[0].detail


def test_s4_printed_subtotal_row() -> None:
    text = (SAMPLES / "005_suining_2021_pdf2md.md").read_text(encoding="utf-8")
    subtotal = "| （三）不予公开 | {n} | 0 | 0 | 0 | 0 | 0 | {n} |\n| 1.属于国家秘密 |"
    ok = tasks.read_report(text.replace("| （三）不予公开 1.属于国家秘密 |", subtotal.format(n=1)).encode())
    assert {c.scope for c in ok.checks if c.id == "S4"} >= {"withheld.natural_person", "withheld.total"}
    assert not ok.failed_checks
    bad = tasks.read_report(text.replace("| （三）不予公开 1.属于国家秘密 |", subtotal.format(n=2)).encode())
    assert {(c.id, c.scope) for c in bad.failed_checks} == {("S4", "withheld.natural_person"),
                                                             ("S4", "withheld.total")}
    # the subtotal is not counted again in S2
    assert not [c for c in bad.failed_checks if c.id == "S2"]


def test_all_blank_relation_is_skipped_and_blank_total_is_total_missing() -> None:
    spec = render.shanghai_2019()
    for col in range(7):
        spec.t3["carried_over"][col] = render.n(None)
        spec.t3["carried_forward"][col] = render.n(None)
    spec.t3["new_received"] = render.row(767, 30, 0, 2, 4, 2, 805)
    _set(spec, "other_handling", 6, None)  # type: ignore[arg-type]
    report = tasks.read_report(render.render_sh2019(spec))
    assert not [c for c in report.checks if c.id == "S3" and c.scope in ("carried_over", "carried_forward")]
    assert {(c.id, c.scope) for c in report.failed_checks} == {("S3", "other_handling"), ("S2", "total")}
    assert "total_missing" in report.cell("t3.other_handling.total").flags
