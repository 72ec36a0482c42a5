"""Whole runs against hostile servers and a damaged data directory (issue 9 §1, §5, §6).

Every document of the catalogue ends up curated or quarantined with its reason, whatever the
server does; a rerun converges; torn manifest, state and raw files are recovered from; a second
run of the same year is refused while the first holds the year's lock.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tasks.errors import XxgkError
from tasks.load.parquet import JOURNAL
from tasks.load.storage import DataDir
from tests.conftest import SAMPLES
from tests.misbehaving_server import PATHS, Behaviours, misbehaving

pytestmark = pytest.mark.usefixtures("prefect_backend")
HOSTILE = {"per_host_interval_s": 0.0, "per_host_connections": 8, "backoff_base_s": 0.05, "backoff_max_s": 1.0,
           "read_timeout_s": 3.0, "retries": 2, "max_body_bytes": 200_000, "request_deadline_s": 2.0,
           "document_deadline_s": 6.0, "max_retry_after_s": 5.0}
GOOD = 5


def _catalogue(tmp_path: Path, base: str) -> tuple[str, int]:
    rows = [f"好县{k}人民政府,,,2021,{base}/ok?{k}," for k in range(GOOD)]
    rows += [f"坏站{n}人民政府,,,2021,{base}{p}?x," for n, p in enumerate(PATHS) if p != "/ok"]
    path = tmp_path / "catalogue.csv"
    path.write_text("organ,region,level,year,report_url,listing_url\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path), len(rows)


def _zones(out: Path) -> dict[str, list[tuple]]:
    q = "select organ, report_id, error from read_parquet('{d}/{z}/reports/*/*.parquet', hive_partitioning=true)"
    return {z: sorted(duckdb.sql(q.format(d=out, z=z)).fetchall()) for z in ("curated", "quarantine")}


def test_every_document_is_curated_or_quarantined_whatever_the_server_does(tmp_path: Path) -> None:
    from flows.ingest import ingest

    page = (SAMPLES / "012_hangzhou_2021.html").read_bytes()
    out = tmp_path / "out"
    with misbehaving(Behaviours(page, page_gbk=(SAMPLES / "010_shanghai_2019_gbk.html").read_bytes())) as base:
        catalogue, n = _catalogue(tmp_path, base)
        first = ingest(year=2021, catalogue=catalogue, data_dir=str(out), fetch_options=HOSTILE,
                       max_quarantine_rate=1.0)
        zones = _zones(out)
        ids = [r[1] for rows in zones.values() for r in rows]
        assert len(ids) == n and len(set(ids)) == n  # every document exactly once, none lost
        curated = {r[0] for r in zones["curated"]}
        assert {f"好县{k}人民政府" for k in range(GOOD)} <= curated
        reasons = {r[0]: r[2] or "" for r in zones["quarantine"]}
        assert all(reasons.values()), reasons  # each quarantined document says why
        assert first["counts"]["discovered"] == n

        second = ingest(year=2021, catalogue=catalogue, data_dir=str(out), fetch_options=HOSTILE,
                        max_quarantine_rate=1.0)
        assert _zones(out) == zones and second["counts"]["published"] == first["counts"]["published"]


def test_torn_files_are_recovered_and_a_second_run_waits_its_turn(tmp_path: Path) -> None:
    from flows.ingest import ingest

    page = (SAMPLES / "012_hangzhou_2021.html").read_bytes()
    out = tmp_path / "out"
    with misbehaving(Behaviours(page)) as base:
        catalogue = tmp_path / "catalogue.csv"
        catalogue.write_text("organ,region,level,year,report_url,listing_url\n" + "".join(
            f"好县{k}人民政府,,,2021,{base}/ok?{k},\n" for k in range(3)), encoding="utf-8")
        ingest(year=2021, catalogue=str(catalogue), data_dir=str(out), fetch_options=HOSTILE)
        before = _zones(out)
        assert len(before["curated"]) == 3

        manifests = sorted((out / "raw" / "manifest").glob("*.json"))
        manifests[0].write_text('{"url": "ht', encoding="utf-8")          # torn manifest entry
        for state in (out / "_state").rglob("*.json"):
            state.write_text("", encoding="utf-8")                      # emptied state file
        (obj,) = [p for p in (out / "raw" / "objects").rglob("*") if p.is_file()]  # one page, three URLs
        obj.write_bytes(obj.read_bytes()[:1000])                        # torn raw object
        staging = out / "_staging" / "2021-deadbeef0000"
        staging.mkdir(parents=True)
        (staging / JOURNAL).write_text("", encoding="utf-8")     # empty publish journal

        ingest(year=2021, catalogue=str(catalogue), data_dir=str(out), fetch_options=HOSTILE)
        assert _zones(out) == before
        assert not staging.exists()

        with DataDir(str(out)).lock("ingest-year=2021"), pytest.raises(XxgkError, match="held by"):
            ingest(year=2021, catalogue=str(catalogue), data_dir=str(out), fetch_options=HOSTILE)
        assert _zones(out) == before
