"""The audit site, opened from disk in a real browser (Debian's headless Chromium, driven by Playwright).

What a person checking 河曲县's 2020 report would look for: the organ and the failing relations are
named, the cells those relations involve are highlighted (the （六）其他处理 row and the 总计
column), the printed 3 is where the report printed it, and nothing is fetched from the network.
And 洪泽区 2024 is shown beside its 2023 report (E1/E5). A screenshot is saved in the test's folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tasks.normalise.frames import report_id
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("prefect_backend")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flows.ingest import backfill

    out = tmp_path_factory.mktemp("audit") / "output"
    backfill(start_year=2020, end_year=2024, catalogue=str(ROOT / "data" / "samples" / "catalogue.csv"),
             data_dir=str(out), force=True)
    return out


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        if os.environ.get("XXGK_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required here (XXGK_REQUIRE_BROWSER=1): apt-get install chromium")
        pytest.skip("no Chromium on this machine: apt-get install chromium (CI installs it and requires it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser, path: Path, requests: list[str]):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1300, "height": 1800})
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    return page


def test_hequ_2020_failing_cells_are_highlighted_offline(site: Path, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    requests: list[str] = []
    page = _open(browser, site / "audit" / "2020" / "reports" / f"{report_id('002_hequ_2020.txt')}.html", requests)
    assert "河曲县人民政府办公室" in page.locator("h1").inner_text()
    relations = page.locator("ul.relations li.fail")
    texts = [relations.nth(i).inner_text() for i in range(relations.count())]
    assert any(t.startswith("S3[other_handling]") and "总计 blank while 自然人 = 3" in t for t in texts), texts
    assert any(t.startswith("S2[total]") and "（七）总计" in t for t in texts), texts
    # the cells of the failing relations are highlighted, and only those
    natural = page.locator("#t3-other_handling-natural_person")
    assert "fail" in natural.get_attribute("class") and natural.inner_text().strip() == "3"
    assert "S3: row other_handling" in (natural.get_attribute("title") or "")
    assert "fail" in page.locator("#t3-results_total-total").get_attribute("class")
    assert "fail" in page.locator("#t3-granted-total").get_attribute("class")  # a result row of S2[total]
    assert "fail" not in page.locator("#t3-new_received-natural_person").get_attribute("class")
    assert page.locator("#t3-new_received-org_business").inner_text().strip() == ""  # a blank stays blank
    page.screenshot(path=str(tmp_path / "hequ_2020.png"), full_page=True)
    assert (tmp_path / "hequ_2020.png").stat().st_size > 10_000
    assert requests and all(u.startswith("file://") for u in requests), requests  # nothing left the machine


def test_the_index_filters_and_last_year_is_beside_this_year(site: Path, browser) -> None:  # type: ignore[no-untyped-def]
    requests: list[str] = []
    index = _open(browser, site / "audit" / "2020" / "index.html", requests)
    rows = index.locator("#reports tbody tr")
    assert rows.count() == 4
    index.fill("#q", "河曲")
    assert index.locator("#n").inner_text() == "1"
    index.fill("#q", "")
    index.select_option("#s", "quarantined")
    assert index.locator("#n").inner_text() == "1"

    page = _open(browser, site / "audit" / "2024" / "reports" / f"{report_id('022_hongze_2024.pdf')}.html", requests)
    text = page.locator("body").inner_text()
    assert "With last year's report" in text and "2023" in text
    link = page.locator("a", has_text="淮安市洪泽区人民政府").first.get_attribute("href")
    assert link == f"../../2023/reports/{report_id('021_hongze_2023.pdf')}.html"
    assert page.locator("table.expected tr").count() > 1  # E1/E5 evaluated against the 2023 report
    assert all(u.startswith("file://") for u in requests), requests
