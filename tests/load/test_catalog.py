"""catalog.duckdb: views over an immutable snapshot, replaced in one step after each publish."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from tasks.load.catalog import CATALOG_FILE, KEEP_SNAPSHOTS, write_catalog
from tasks.load.parquet import publish, stage_year
from tasks.load.storage import DataDir
from tests.load.test_parquet import _zones


def _counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    return con.execute("select (select count(*) from reports), (select count(*) from requests), "
                       "(select count(*) from quarantine_reports)").fetchone()  # type: ignore[return-value]


def _counts_elsewhere(catalog: Path) -> tuple[int, int, int]:
    """The counts as another process (a BI tool) sees them on connecting now: DuckDB shares one open
    database per file within a process, so a new connection here would reuse the old one."""
    import json
    import subprocess
    import sys

    code = ("import duckdb, json, sys; con = duckdb.connect(sys.argv[1], read_only=True); print(json.dumps("
            "con.execute('select (select count(*) from reports), (select count(*) from requests), "
            "(select count(*) from quarantine_reports)').fetchone()))")
    out = subprocess.run([sys.executable, "-c", code, str(catalog)], capture_output=True, text=True, check=True)
    return tuple(json.loads(out.stdout))  # type: ignore[return-value]


def test_a_connection_sees_one_published_state_whatever_the_files_do(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    first = stage_year(dd, _zones("000_baotou_2020.txt", "002_hequ_2020.txt"), 2020)
    publish(dd, first)
    write_catalog(dd, first.run_id)
    con = duckdb.connect(str(tmp_path / CATALOG_FILE), read_only=True)
    before = _counts(con)
    assert before == (1, 161, 1)

    # the next publish, caught half-way: requests renamed into place, reports not yet
    second = stage_year(dd, _zones("000_baotou_2020.txt", "004_duji_2020.txt", "001_jinggangshan_2020.txt"), 2020)
    for staged, live in second.moves:
        if "/requests/" in live:
            os.replace(staged, live)
    plain = duckdb.execute(f"select (select count(*) from read_parquet('{tmp_path}/curated/reports/*/*.parquet')), "
                       f"(select count(*) from read_parquet('{tmp_path}/curated/requests/*/*.parquet'))").fetchone()
    assert plain == (1, 3 * 161)  # a plain reader sees a mix: one report, the cells of three
    assert _counts(con) == before  # the catalogue does not
    assert _counts_elsewhere(tmp_path / CATALOG_FILE) == before

    # the publish completes and the catalogue is replaced: new connections see the new state whole,
    # the connection opened before keeps its snapshot
    publish(dd, second)
    write_catalog(dd, second.run_id)
    assert _counts(con) == before
    assert _counts_elsewhere(tmp_path / CATALOG_FILE) == (3, 3 * 161, 0)


def test_views_cover_every_dataset_and_old_snapshots_are_pruned(tmp_path: Path) -> None:
    dd = DataDir(str(tmp_path))
    for n in range(KEEP_SNAPSHOTS + 2):
        staged = stage_year(dd, _zones("000_baotou_2020.txt"), 2020, run_id=f"2020-run{n}")
        publish(dd, staged)
        write_catalog(dd, staged.run_id)
    assert sorted(p.name for p in (tmp_path / "_snapshots").iterdir()) == \
        [f"2020-run{n}" for n in range(2, KEEP_SNAPSHOTS + 2)]
    con = duckdb.connect(str(tmp_path / CATALOG_FILE), read_only=True)
    views = {r[0] for r in con.sql("select table_name from information_schema.tables where table_type = 'VIEW'")
             .fetchall()}
    assert {"reports", "requests", "proactive", "review_litigation", "checks", "report_summary", "all_reports",
            "quarantine_reports", "quarantine_report_summary"} <= views
    assert con.execute("select count(*) from quarantine_requests").fetchone() == (0,)  # typed, empty, not an error
    assert con.execute("select typeof(year), typeof(received) from report_summary limit 1").fetchone() == \
        ("SMALLINT", "BIGINT")
