"""The Great Expectations gate: corrupt one cell per relation and see that report quarantined with the
relation named; break the schema and see publishing refused; E1/E4/E5 as warnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import polars as pl
import pytest

import tasks
from tasks.normalise.frames import ReadReport, UnreadDocument, build_frames, report_id, split_by_status
from tasks.validate.expected import across_years, within_year
from tasks.validate.gate import consistency_gate, schema_gate
from tasks.validate.route import apply_gate
from tests.conftest import SAMPLES
from tests.fixtures import render


def _read(name: str, data: bytes) -> ReadReport:
    report = tasks.read_report(data, source=name)
    return ReadReport(report, report_id(name), datetime(2021, 1, 1, tzinfo=UTC), "curated", ())


def _gate(*reads: ReadReport, unread: tuple[UnreadDocument, ...] = ()) -> tuple[dict[str, pl.DataFrame], dict]:
    frames = build_frames(list(reads), list(unread))
    result, _ = consistency_gate(frames["checks"])
    failing = {rid: sorted({(f.check_id, f.scope) for f in fs}) for rid, fs in result.failing_reports().items()}
    return frames, failing


@pytest.fixture(scope="module")
def gated() -> tuple[dict, dict]:
    """One gate run over a clean report and one corrupted copy per strict relation."""
    cases = {"clean": render.shanghai_2019()}
    s1 = render.shanghai_2019()
    s1.t3["carried_over"][2], s1.t3["carried_over"][6] = render.n(1), render.n(19)
    s2 = render.shanghai_2019()
    s2.t3["granted"][5], s2.t3["granted"][6] = render.n(2), render.n(275)
    s3 = render.shanghai_2019()
    s3.t3["withheld_third_party"][6] = render.n(16)
    s5 = render.shanghai_2019()
    s5.t4[9] = render.n(4)
    s6 = render.shanghai_2019()
    s6.t3["granted"][2] = ("见附件", None)
    cases.update({"S1": s1, "S2": s2, "S3": s3, "S5": s5, "S6": s6})
    reads = [_read(f"{k}.html", render.render_sh2019(spec)) for k, spec in cases.items()]
    text = (SAMPLES / "005_suining_2021_pdf2md.md").read_text(encoding="utf-8")
    s4 = text.replace("| （三）不予公开 1.属于国家秘密 |",
                      "| （三）不予公开 | 5 | 0 | 0 | 0 | 0 | 0 | 5 |\n| 1.属于国家秘密 |")
    reads.append(_read("S4.md", s4.encode()))
    reads.append(_read("002_hequ_2020.txt", (SAMPLES / "002_hequ_2020.txt").read_bytes()))
    return _gate(*reads)


@pytest.mark.parametrize(("case", "expected"), [
    ("S1", [("S1", "org_research"), ("S1", "total")]),
    ("S2", [("S2", "org_other"), ("S2", "total")]),
    ("S3", [("S2", "total"), ("S3", "withheld_third_party")]),
    ("S4", [("S4", "withheld.natural_person"), ("S4", "withheld.total")]),
    ("S5", [("S5", "suit_direct")]),
    ("S6", [("S6", "t3.granted.org_research")]),
])
def test_one_corrupted_cell_quarantines_with_the_relation_named(gated: tuple[dict, dict], case: str,
                                                                expected: list[tuple[str, str]]) -> None:
    _, failing = gated
    suffix = ".md" if case == "S4" else ".html"
    assert failing[report_id(case + suffix)] == expected


def test_clean_report_passes_and_seed_002_fails_exactly_s2_and_s3(gated: tuple[dict, dict]) -> None:
    frames, failing = gated
    assert report_id("clean.html") not in failing
    assert failing[report_id("002_hequ_2020.txt")] == [("S2", "total"), ("S3", "other_handling")]
    reports, used = apply_gate(frames["reports"], {k: [c for c, _ in v] for k, v in failing.items()}, {})
    by_id = dict(zip(reports["report_id"], reports["status"], strict=True))
    assert by_id[report_id("clean.html")] == "curated" and by_id[report_id("002_hequ_2020.txt")] == "quarantined"
    assert not used


def test_a_reviewed_release_curates_but_keeps_the_record(gated: tuple[dict, dict]) -> None:
    frames, failing = gated
    rid = report_id("002_hequ_2020.txt")
    released = {(rid, "S2"): "原表如此 (王某, 2025-03-01)", (rid, "S3"): "同上"}
    reports, used = apply_gate(frames["reports"], {k: [c for c, _ in v] for k, v in failing.items()}, released)
    row = reports.filter(pl.col("report_id") == rid).row(0, named=True)
    assert row["status"] == "curated" and row["failed_checks"] == ["S2", "S3"]
    assert row["released"] == ["S2: 原表如此 (王某, 2025-03-01)", "S3: 同上"]  # visible as released, with why
    assert sorted(used) == [(rid, "S2"), (rid, "S3")]
    assert all(r == [] for r in reports.filter(pl.col("report_id") != rid)["released"].to_list())
    only_one = {(rid, "S2"): "原表如此"}
    reports, _ = apply_gate(frames["reports"], {k: [c for c, _ in v] for k, v in failing.items()}, only_one)
    assert reports.filter(pl.col("report_id") == rid)["status"].to_list() == ["quarantined"]


def _zones() -> dict[str, dict[str, pl.DataFrame]]:
    reads = [_read(n, (SAMPLES / n).read_bytes()) for n in ("000_baotou_2020.txt", "003_hulunbuir_2022.txt")]
    unread = UnreadDocument("deadbeef", 2020, "某局", "x.html", None, None, "NoTablesFound: …")
    frames = build_frames(reads, [unread])
    frames["reports"] = frames["reports"].with_columns(
        pl.when(pl.col("error").is_null()).then(pl.lit("curated")).otherwise(pl.lit("quarantined")).alias("status"))
    return split_by_status(frames)


def test_schema_suites_pass_on_good_frames() -> None:
    problems, _ = schema_gate(_zones(), (2019, 2022))
    assert problems == []


def test_a_validation_leaves_nothing_of_its_frame_in_the_context() -> None:
    """A context validates a year chunk by chunk: each chunk's batch and metrics (a boolean Series per
    row-wise expectation) must go with its validation, or a national year's staging grows ~2 MB each."""
    problems, gx = schema_gate(_zones(), (2019, 2022))
    engine = gx.source.get_execution_engine()
    assert problems == []
    assert len(engine.batch_manager.batch_data_cache) == 0
    assert len(engine._metric_cache) == 0


def test_schema_break_wrong_dtype_is_named() -> None:
    zones = _zones()
    zones["curated"]["requests"] = zones["curated"]["requests"].with_columns(pl.col("value").cast(pl.Float64))
    problems, _ = schema_gate(zones, (2019, 2022))
    assert problems == ["curated/requests.value: dtype Float64 is not Int64"]


def test_schema_break_unknown_code_is_named_with_samples() -> None:
    zones = _zones()
    zones["curated"]["requests"] = zones["curated"]["requests"].with_columns(
        pl.when(pl.col("row_code") == "granted").then(pl.lit("granted_typo")).otherwise(pl.col("row_code"))
        .alias("row_code"))
    problems, _ = schema_gate(zones, (2019, 2022))
    assert len(problems) == 2  # one per template version present in the batch
    assert problems[0].startswith("curated/requests (fmt_2019 reports): expect_column_values_to_be_in_set "
                                  "failed on column 'row_code'")
    assert all("granted_typo" in p for p in problems)


def test_schema_break_2021_row_in_a_2019_report_and_year_out_of_range() -> None:
    zones = _zones()
    req = zones["curated"]["requests"]
    rid_2019 = report_id("000_baotou_2020.txt")
    zones["curated"]["requests"] = req.with_columns(
        pl.when((pl.col("report_id") == rid_2019) & (pl.col("row_code") == "other_handling"))
        .then(pl.lit("other_no_correction")).otherwise(pl.col("row_code")).alias("row_code"))
    problems, _ = schema_gate(zones, (2021, 2022))
    assert any("column 'row_code'" in p and "other_no_correction" in p for p in problems)
    assert any("expect_column_values_to_be_between failed on column 'year'" in p for p in problems)


def test_negative_count_in_curated_is_a_schema_failure_but_items_change_may_be_negative() -> None:
    zones = _zones()
    pro = zones["curated"]["proactive"]
    zones["curated"]["proactive"] = pro.with_columns(
        pl.when(pl.col("column_code") == "items_change").then(pl.lit(-5.0)).otherwise(pl.col("value")).alias("value"))
    assert schema_gate(zones, (2019, 2022))[0] == []
    zones["curated"]["proactive"] = pro.with_columns(
        pl.when(pl.col("column_code") == "decisions").then(pl.lit(-5.0)).otherwise(pl.col("value")).alias("value"))
    problems = schema_gate(zones, (2019, 2022))[0]
    assert len(problems) == 2 and all("between failed on column 'value'" in p and "-5.0" in p for p in problems)


def test_e1_carry_over_across_years_one_matching_one_not() -> None:
    last = render.hangzhou_2021()  # carried_forward: 4 natural persons, 4 in total
    ok, bad = render.hangzhou_2021(), render.hangzhou_2021()
    for spec in (ok, bad):
        spec.year = 2022
    bad.t3["carried_over"] = render.row(3, 0, 0, 0, 0, 0, 3)
    bad.t3["new_received"] = render.row(41, 3, 0, 0, 1, 0, 45)  # keep S1 true
    ok.t3["carried_over"] = render.row(4, 0, 0, 0, 0, 0, 4)
    ok.t3["new_received"] = render.row(38, 3, 0, 0, 1, 0, 42)
    prev = build_frames([_read("2021.html", render.render_hz2021(last))], [])
    organs = prev["reports"].select("report_id", "organ")
    prev_req = prev["requests"].join(organs, on="report_id")
    prev_pro = prev["proactive"].join(organs, on="report_id")
    organ = "杭州市西湖区人民政府"
    good = across_years(tasks.read_report(render.render_hz2021(ok)), organ, prev_req, prev_pro)
    wrong = across_years(tasks.read_report(render.render_hz2021(bad)), organ, prev_req, prev_pro)
    e1_good = [c for c in good if c.id == "E1"]
    e1_bad = {c.scope: c for c in wrong if c.id == "E1" and not c.passed}
    assert e1_good and all(c.passed for c in e1_good)
    assert set(e1_bad) == {"natural_person", "total"}
    assert (e1_bad["total"].lhs, e1_bad["total"].rhs, e1_bad["total"].severity) == (3, 4, "expected")
    other_organ = across_years(tasks.read_report(render.render_hz2021(bad)), "另一个机关", prev_req, prev_pro)
    assert other_organ == []  # no published year of that organ: nothing to compare
    # E5: in_force 12 + issued 1 − repealed 0 = 13 expected for regulations; the 2022 page still prints 12
    e5 = {c.scope: c for c in good if c.id == "E5"}
    assert not e5["art20_1.regulations"].passed and e5["art20_1.regulations"].rhs == 13


def test_expected_failures_are_warnings_not_quarantine() -> None:
    spec = render.shanghai_2019()
    spec.t2[("art20_1", "regulations", "published_new")] = ("200", 200)  # > published_total 139: E4
    read = _read("e4.html", render.render_sh2019(spec))
    read = replace(read, report=replace(read.report, checks=read.report.checks + tuple(within_year(read.report))))
    frames = build_frames([read], [])
    result, _ = consistency_gate(frames["checks"])
    assert [(f.check_id, f.scope) for f in result.expected_failures] == [("E4", "art20_1.regulations")]
    assert result.strict_failures == []
    assert result.per_relation["E4"] == (2, 1)
