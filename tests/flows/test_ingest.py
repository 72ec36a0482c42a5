"""`ingest` end to end on a real local HTTP server, checked through DuckDB like a BI user would."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

import duckdb
import pytest

from tasks.load.storage import DataDir
from tests.conftest import SAMPLES
from tests.fixtures import render
from tests.http_server import serve

pytestmark = pytest.mark.usefixtures("prefect_backend")
FAST = {"per_host_interval_s": 0.01, "backoff_base_s": 0.05}  # politeness is for real sites


def _listing(links: list[tuple[str, str]], next_href: str | None) -> bytes:
    items = "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in links)
    nxt = f'<a href="{next_href}">下一页</a>' if next_href else ""
    return f"<html><meta charset='utf-8'><body><ul>{items}</ul>{nxt}</body></html>".encode()


class Site:
    """The server's pages; `hz` can be changed between runs to see what a rerun does."""

    def __init__(self) -> None:
        self.hz = render.hangzhou_2021()
        self.calls_503 = 0

    def routes(self) -> dict:
        sh = render.shanghai_2019()
        sh.year, sh.title = 2021, "2021年上海市人民政府办公厅政府信息公开工作年度报告"
        sh_page = render.render_sh2019(sh).replace(b"2019\xc4\xea1\xd4\xc21\xc8\xd5", b"2021\xc4\xea1\xd4\xc21\xc8\xd5")

        def hz(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, render.render_hz2021(self.hz)

        def busy(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
            self.calls_503 += 1
            if self.calls_503 == 1:
                return 503, {"Retry-After": "0"}, b""
            return 200, {"Content-Type": "text/html; charset=utf-8"}, render.render_hz2021(render.hangzhou_2021())

        return {
            "/sh/list/index.html": (200, {}, _listing([
                ("/sh/2021.html", "上海市人民政府办公厅2021年政府信息公开工作年度报告"),
                ("/sh/2020.html", "上海市人民政府办公厅2020年政府信息公开工作年度报告"),
            ], "/sh/list/index_1.html")),
            "/sh/list/index_1.html": (200, {}, _listing([
                ("/sh/notice.html", "关于2021年政府信息公开工作年度报告的说明"),
            ], None)),
            "/sh/2021.html": (200, {"Content-Type": "text/html"}, sh_page),
            "/sh/notice.html": (200, {}, render.LISTING_PAGE.encode()),
            "/hz/2021.html": hz,
            "/busy/2021.html": busy,
            "/js/2021.html": (200, {"Content-Type": "text/html; charset=utf-8"}, (
                "<html><body><h1>洪泽区2021年政府信息公开工作年度报告</h1><p>附件：</p>"
                "<a href='/js/files/report.pdf'>洪泽区2021年政府信息公开工作年度报告.pdf</a></body></html>").encode()),
            "/js/files/report.pdf": (200, {"Content-Type": "application/octet-stream"},
                                     (SAMPLES / "022_hongze_2024.pdf").read_bytes()),
        }


def _catalogue(tmp_path: Path, base: str) -> str:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "organ_id,organ,adcode,region,level,year,report_url,listing_url\n"
        f"sh-gov-office,上海市人民政府办公厅,310000,上海市,provincial,,,{base}/sh/list/index.html\n"
        f",杭州市西湖区人民政府,330106,浙江省杭州市,county,2021,{base}/hz/2021.html,\n"
        f",某县人民政府,,某省,county,2021,{base}/busy/2021.html,\n"
        f",失联县人民政府,,某省,county,2021,{base}/missing/2021.html,\n"
        f"hongze,淮安市洪泽区人民政府,320813,江苏省淮安市,county,2021,{base}/js/2021.html,\n",
        encoding="utf-8")
    return str(path)


def _q(data_dir: Path, sql: str) -> list[tuple]:
    sql = sql.replace("{d}", str(data_dir))
    return duckdb.sql(sql).fetchall()


def _snapshot(data_dir: Path) -> dict[str, bytes]:
    """The published files (not staging, not the extraction cache)."""
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in sorted(data_dir.rglob("*.parquet"))
            if p.relative_to(data_dir).parts[0] in ("curated", "quarantine")}


def test_ingest_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.ingest import ingest

    site = Site()
    out = tmp_path / "out"
    with serve(site.routes()) as base:
        catalogue = _catalogue(tmp_path, base)
        summary = ingest(year=2021, catalogue=catalogue, data_dir=str(out), fetch_options=FAST)

        # stage counts: 2 from the listing (the 2020 link is another year) + 4 direct; the 洪泽区 page
        # holds its tables in an attached PDF, which is fetched and read under the page's identity
        assert summary["counts"] == {"discovered": 6, "fetched": 5, "unchanged": 0, "failed": 1,
                                     "extracted": 4, "quarantined": 2, "published": 4}
        reasons = {f["source"].rsplit("/", 2)[-2]: f["reason"] for f in summary["failures"]}
        assert reasons["missing"].startswith("HTTP 404")
        assert "NoTablesFound" in reasons["sh"]

        reports = "read_parquet('{d}/%s/reports/*/*.parquet', hive_partitioning=true)"
        assert _q(out, f"select count(*), count(distinct report_id), min(year), max(year) from {reports % 'curated'}") \
            == [(4, 4, 2021, 2021)]
        assert sorted(r[0] for r in _q(out, f"select organ from {reports % 'curated'}")) == \
            ["上海市人民政府办公厅", "杭州市西湖区人民政府", "某县人民政府", "淮安市洪泽区人民政府"]
        assert _q(out, f"select source from {reports % 'curated'} where organ = '淮安市洪泽区人民政府'") == \
            [(f"{base}/js/2021.html",)]
        # every report carries its organ's identity and geography; a listing's reports inherit its row's
        assert sorted(_q(out, f"select organ_id, level, adcode, province, prefecture, county, region "
                              f"from {reports % 'curated'}")) == sorted([
            ("sh-gov-office", "provincial", "310000", "上海市", None, None, "上海市"),
            ("330106:杭州市西湖区人民政府", "county", "330106", "浙江省", "杭州市", "西湖区", "浙江省杭州市"),
            ("某县人民政府", "county", None, None, None, None, "某省"),
            ("hongze", "county", "320813", "江苏省", "淮安市", "洪泽区", "江苏省淮安市")])
        assert _q(out, f"select organ_id, province from {reports % 'quarantine'} where organ = '失联县人民政府'") \
            == [("失联县人民政府", None)]
        quarantined = _q(out, f"select organ, error from {reports % 'quarantine'} order by organ")
        assert [q[0] for q in quarantined] == ["上海市人民政府办公厅", "失联县人民政府"]
        assert "HTTP 404" in quarantined[1][1]
        assert [p.name for p in sorted((out / "curated" / "requests").iterdir())] == ["2021"]
        cell = _q(out, "select r.value, r.raw from read_parquet('{d}/curated/requests/*/*.parquet', "
                       "hive_partitioning=true) r join read_parquet('{d}/curated/reports/*/*.parquet', "
                       "hive_partitioning=true) m using (report_id) where m.organ = '杭州市西湖区人民政府' "
                       "and r.row_code = 'other_misc' and r.column_code = 'total'")
        assert cell == [(6, "6")]
        fee = _q(out, "select value, unit from read_parquet('{d}/curated/proactive/*/*.parquet', "
                      "hive_partitioning=true) where column_code = 'fee_amount_wan' order by value")
        assert (12.5, "万元") in fee
        assert _q(out, "select count(*) from read_parquet('{d}/curated/requests/*/*.parquet', "
                       "hive_partitioning=true)") == [(161 + 2 * 175 + 182,)]  # the Shanghai page keeps the 2019 table

        # a second run: nothing changed, nothing duplicated
        again = ingest(year=2021, catalogue=catalogue, data_dir=str(out), fetch_options=FAST)
        assert again["counts"]["unchanged"] == 5 and again["counts"]["fetched"] == 0
        # ... and the year is recognised as published already: no gate, no staging, no rename
        assert again["unchanged_since_publish"] and again["counts"]["published"] == 4
        assert sorted((f["stage"], f["source"]) for f in again["failures"]) == \
            sorted((f["stage"], f["source"]) for f in summary["failures"])  # the same documents still listed
        published = {p: p.stat().st_mtime_ns for p in (out / "curated").rglob("*.parquet")}
        ingest(year=2021, catalogue=catalogue, data_dir=str(out), fetch_options=FAST)
        assert {p: p.stat().st_mtime_ns for p in (out / "curated").rglob("*.parquet")} == published
        assert _q(out, f"select count(*), count(distinct report_id) from {reports % 'curated'}") == [(4, 4)]
        before = _snapshot(out)

        # a run that fails midway (before publishing) leaves the published data untouched
        site.hz.t2[("art20_8", "admin_fees", "fee_amount_wan")] = ("99", 99)
        import tasks.load.task as load_task

        def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk full while staging")

        monkeypatch.setattr(load_task, "stage_parts", broken)
        with pytest.raises(RuntimeError, match="disk full"):
            ingest(year=2021, catalogue=catalogue, data_dir=str(out), fetch_options=FAST)
        assert _snapshot(out) == before
        monkeypatch.undo()

        # a crash in the middle of publishing: the rerun completes it, without duplicates
        calls = {"n": 0}
        real_move = DataDir.move

        def crash_after_three(self, src: str, dst: str) -> None:  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] > 3:
                raise OSError("power cut")
            real_move(self, src, dst)

        monkeypatch.setattr(DataDir, "move", crash_after_three)
        with pytest.raises(OSError, match="power cut"):
            ingest(year=2021, catalogue=catalogue, data_dir=str(out), fetch_options=FAST)
        monkeypatch.undo()
        assert list((out / "_staging").iterdir()), "the journalled staging run is left for recovery"
        ingest(year=2021, catalogue=catalogue, data_dir=str(out), fetch_options=FAST)
        assert not list((out / "_staging").iterdir())
        assert _q(out, f"select count(*), count(distinct report_id) from {reports % 'curated'}") == [(4, 4)]
        assert (99.0, "万元") in _q(out, "select value, unit from read_parquet('{d}/curated/proactive/*/*.parquet', "
                                         "hive_partitioning=true) where column_code = 'fee_amount_wan'")
