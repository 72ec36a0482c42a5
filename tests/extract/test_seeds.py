"""Every cell of the five seed reports, pinned by hand from their text (seeds README, spec §9).

The expected tables below were typed from the captures themselves, not from the extractor's
output: a blank cell is None, '-' is 0, amounts are converted by hand (62423198.43元 = 6242.319843
万元). For S001 the rows whose empty cells collapsed are pinned with the cells that are *not*
printed (natural person and total only).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tasks
from tests.conftest import SAMPLES

T3_COLUMNS = ["natural_person", "org_business", "org_research", "org_public_interest",
              "org_legal_services", "org_other", "total"]
T3_ROWS_2019 = [
    "new_received", "carried_over", "granted", "partly_granted",
    "withheld_state_secret", "withheld_law_prohibited", "withheld_security_stability", "withheld_third_party",
    "withheld_internal_affairs", "withheld_process_info", "withheld_enforcement_file", "withheld_admin_query",
    "unavailable_not_held", "unavailable_needs_creation", "unavailable_still_unclear",
    "not_processed_petition", "not_processed_duplicate", "not_processed_publication", "not_processed_excessive",
    "not_processed_confirmation", "other_handling", "results_total", "carried_forward",
]
T3_ROWS_2021 = [r for r in T3_ROWS_2019 if r != "other_handling"]
T3_ROWS_2021[20:20] = ["other_no_correction", "other_fee_unpaid", "other_misc"]
T4_COLUMNS = [f"{g}_{o}" for g in ("review", "suit_direct", "suit_post_review")
              for o in ("upheld", "corrected", "other", "pending", "total")]
T2_2019 = {
    "art20_1": (["regulations", "normative_docs"], ["made_new", "published_new", "published_total"]),
    "art20_5": (["admin_licensing", "other_admin_services"], ["items_prev_year", "items_change", "decisions"]),
    "art20_6": (["admin_penalty", "admin_coercion"], ["items_prev_year", "items_change", "decisions"]),
    "art20_8": (["admin_fees"], ["items_prev_year", "items_change"]),
    "art20_9": (["central_procurement"], ["procurement_projects", "procurement_amount_wan"]),
}
T2_2021 = {
    "art20_1": (["regulations", "normative_docs"], ["issued", "repealed", "in_force"]),
    "art20_5": (["admin_licensing"], ["decisions"]),
    "art20_6": (["admin_penalty", "admin_coercion"], ["decisions"]),
    "art20_8": (["admin_fees"], ["fee_amount_wan"]),
}
_ = None
BLANK7 = (_, _, _, _, _, _, _)
ZERO7 = (0, 0, 0, 0, 0, 0, 0)


def expected(t2: dict[str, list], t2_layout: dict, t3: dict[str, tuple], t3_rows: list[str], t3_default: tuple,
             t4: tuple) -> dict[str, object]:
    out: dict[str, object] = {}
    for block, (rows, cols) in t2_layout.items():
        for row, values in zip(rows, t2[block], strict=True):
            for col, v in zip(cols, values, strict=True):
                out[f"t2.{block}.{row}.{col}"] = v
    for row in t3_rows:
        for col, v in zip(T3_COLUMNS, t3.get(row, t3_default), strict=True):
            out[f"t3.{row}.{col}"] = v
    for col, v in zip(T4_COLUMNS, t4, strict=True):
        out[f"t4.{col}"] = v
    return out


def collapsed(first: int, total: int) -> tuple:
    return (first, _, _, _, _, _, total)


SEEDS = {
    "000_baotou_2020.txt": dict(
        meta=("包头市人民政府办公室", 2020, "fmt_2019", None, None),
        cells=expected(
            {"art20_1": [(0, 0, 0), (6, 6, 74)], "art20_5": [(0, 0, 0), (0, 0, 0)],
             "art20_6": [(0, 0, 0), (0, 0, 0)], "art20_8": [(0, 0)], "art20_9": [(33, 134.3235)]},
            T2_2019,
            {"new_received": (11, _, _, _, 2, _, 13), "granted": (6, _, _, _, 1, _, 7),
             "unavailable_not_held": (5, _, _, _, 1, _, 6), "results_total": (11, _, _, _, 2, _, 13)},
            T3_ROWS_2019, BLANK7,
            (_, _, _, _, 0, _, _, _, _, _, _, _, _, _, 0)),
        failing=set(),
    ),
    "001_jinggangshan_2020.txt": dict(
        meta=("井冈山市", 2020, "fmt_2019", "井冈山市2020年政府信息公开工作年度报告", "2021-01-28"),
        cells=expected(
            {"art20_1": [(0, 0, 0), (0, 0, 1874)], "art20_5": [(161, 0, 2537), (194, 0, 16681)],
             "art20_6": [(2133, 0, 1065), (72, 0, 30)], "art20_8": [(_, _)], "art20_9": [(947, 11900.0)]},
            T2_2019,
            {"new_received": (8, 0, 0, 0, 0, 0, 8), "carried_over": ZERO7,
             "granted": collapsed(8, 8), "partly_granted": (_, _, _, _, _, _, 0),
             "results_total": collapsed(8, 8)},
            T3_ROWS_2019, collapsed(0, 0),
            (0,) * 15),
        failing=set(),
    ),
    "002_hequ_2020.txt": dict(
        meta=("河曲县人民政府办公室", 2020, "fmt_2019", "关于河曲县2020年政府信息公开工作报告", "2021-02-05"),
        cells=expected(
            {"art20_1": [(0, 0, 0), (27, 32, 32)], "art20_5": [(1837, -825, 4323), (3414, 49, 3469)],
             "art20_6": [(215, 52, 123), (16, 0, 0)], "art20_8": [(35, 0)], "art20_9": [(111, 6242.319843)]},
            T2_2019,
            {"new_received": (3, _, _, _, _, _, 3), "other_handling": (3, _, _, _, _, _, _),
             "results_total": (3, _, _, _, _, _, 3)},
            T3_ROWS_2019, BLANK7,
            (_, _, 1, _, 1, _, _, _, _, _, _, _, _, _, _)),
        failing={("S2", "total"), ("S3", "other_handling")},
    ),
    "003_hulunbuir_2022.txt": dict(
        meta=("呼伦贝尔经济技术开发区管委会", 2022, "fmt_2021",
              "呼伦贝尔经济技术开发区2022年政府信息公开工作年度报告", "2023-01-11"),
        cells=expected(
            {"art20_1": [(0, 0, 0), (0, 0, 0)], "art20_5": [(0,)], "art20_6": [(0,), (0,)],
             "art20_8": [(0.0,)]},
            T2_2021, {}, T3_ROWS_2021, ZERO7, (0,) * 15),
        failing=set(),
    ),
    "004_duji_2020.txt": dict(
        meta=("杜集区经济和信息化局", 2020, "fmt_2019", None, None),
        cells=expected(
            {"art20_1": [(0, 0, 0), (0, 5, 21)], "art20_5": [(0, 0, 0), (1, 0, 0)],
             "art20_6": [(0, 0, 0), (0, 0, 0)], "art20_8": [(0, 0)], "art20_9": [(0, 0.0)]},
            T2_2019, {}, T3_ROWS_2019, ZERO7, (0,) * 15),
        failing=set(),
    ),
}


@pytest.fixture(scope="module", params=sorted(SEEDS))
def seed(request: pytest.FixtureRequest) -> tuple[tasks.Report, dict]:
    path: Path = SAMPLES / request.param
    return tasks.read_report(path.read_bytes(), source=path.name), SEEDS[request.param]


def test_metadata(seed: tuple[tasks.Report, dict]) -> None:
    report, spec = seed
    m = report.meta
    assert (m.organ, m.year, m.template, m.title, m.published_on) == spec["meta"]


def test_every_cell_exactly_once_with_its_value(seed: tuple[tasks.Report, dict]) -> None:
    report, spec = seed
    ids = [c.cell_id for c in report.cells]
    assert len(ids) == len(set(ids)), "a cell appears twice"
    assert set(ids) == set(spec["cells"]), "the cells are not the template's"
    wrong = {c.cell_id: (c.raw, c.value, spec["cells"][c.cell_id]) for c in report.cells
             if c.value != spec["cells"][c.cell_id] or type(c.value) is not type(spec["cells"][c.cell_id])}
    assert not wrong


def test_blank_cells_stay_null_and_are_flagged(seed: tuple[tasks.Report, dict]) -> None:
    report, _ = seed
    for cell in report.cells:
        if cell.value is None and "semantic_misuse" not in cell.flags:
            assert "blank" in cell.flags, cell
        if "blank" in cell.flags:
            assert cell.value is None and not cell.raw.strip(" \u00a0"), cell


def test_failing_checks_are_exactly_the_known_ones(seed: tuple[tasks.Report, dict]) -> None:
    report, spec = seed
    assert {(c.id, c.scope) for c in report.failed_checks} == spec["failing"]


def test_seed_quirks() -> None:
    """The quirks the seeds README names, each asserted on its own cell."""
    s000 = tasks.read_source(str(SAMPLES / "000_baotou_2020.txt"))
    assert s000.cell("t2.art20_1.regulations.made_new").flags == ("dash",)
    assert s000.cell("t2.art20_9.central_procurement.procurement_amount_wan").flags == ("unit=万元",)

    s001 = tasks.read_source(str(SAMPLES / "001_jinggangshan_2020.txt"))
    fee = s001.cell("t2.art20_8.admin_fees.items_prev_year")
    assert (fee.raw, fee.value, fee.flags) == ("3138.14万元", None, ("semantic_misuse",))
    change = s001.cell("t2.art20_8.admin_fees.items_change")
    assert change.value is None and "semantic_misuse" in change.flags and change.raw == "+1108.67万元"
    assert s001.cell("t2.art20_9.central_procurement.procurement_projects").flags == ("unit_stripped",)
    assert s001.cell("t2.art20_9.central_procurement.procurement_amount_wan").flags == ("unit=亿元",)
    assert "collapsed" in s001.cell("t3.granted.org_business").flags
    assert "collapsed" not in s001.cell("t3.new_received.org_business").flags

    s002 = tasks.read_source(str(SAMPLES / "002_hequ_2020.txt"))
    assert s002.cell("t2.art20_5.admin_licensing.items_change").flags == ("signed",)
    assert s002.cell("t2.art20_9.central_procurement.procurement_amount_wan").flags == ("unit=元",)
    assert "total_missing" in s002.cell("t3.other_handling.total").flags
    assert s002.cell("t4.review_other").raw == "1\u00a0"
    assert any("page number '1' dropped" in w for w in s002.warnings)
    s3 = next(c for c in s002.failed_checks if c.id == "S3")
    assert (s3.lhs, s3.rhs) == (None, 3) and "自然人 = 3" in s3.detail and "总计 blank" in s3.detail
    s2 = next(c for c in s002.failed_checks if c.id == "S2")
    assert (s2.lhs, s2.rhs) == (3, 0)
