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
                       "(select count(*) from quarantine_reports)").fetchall()[0]  # type: ignore[return-value]


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
    glob = f"{tmp_path}/curated/%s/*/*.parquet"
    plain = duckdb.connect().execute(f"select (select count(*) from read_parquet('{glob % 'reports'}')), "
                                     f"(select count(*) from read_parquet('{glob % 'requests'}'))").fetchall()[0]
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
    assert con.execute("select count(*) from quarantine_requests").fetchall() == [(0,)]  # typed, empty, not an error
    assert con.execute("select typeof(year), typeof(received) from report_summary limit 1").fetchall() == \
        [("SMALLINT", "BIGINT")]


def test_the_dictionary_covers_every_column_and_code_and_is_in_the_files(tmp_path: Path) -> None:
    import polars as pl
    import pyarrow.parquet as pq

    from expectations.schema import _code_sets
    from tasks import schemas
    from tasks.dictionary import MARKDOWN, dictionary_frame, dictionary_markdown
    from tasks.template import codes

    assert MARKDOWN.read_text(encoding="utf-8") == dictionary_markdown(), \
        "docs/dictionary.md is stale: python -m tasks.dictionary --write"
    frame = dictionary_frame()
    columns = {(r["dataset"], r["name"]) for r in frame.filter(pl.col("kind") == "column").iter_rows(named=True)}
    assert columns == {(d, c) for d, s in schemas.PUBLISHED.items() for c in s.names()}
    assert frame.filter(pl.col("description").is_null() | (pl.col("description") == "")
                        & (pl.col("kind") == "column")).height == 0
    for template in codes.SUPPORTED_TEMPLATES:  # every code the schema suites allow has its entry and label
        for dataset, fields in _code_sets(template).items():
            for field, allowed in fields.items():
                known = frame.filter((pl.col("dataset") == dataset) & (pl.col("kind") == field)
                                     & pl.col("templates").list.contains(template))
                assert set(allowed) <= set(known["name"]), (dataset, field, template)
                assert known["label_zh"].null_count() == 0
    partly = frame.filter((pl.col("name") == "partly_granted") & (pl.col("kind") == "row_code"))
    assert partly["label_zh"].to_list() == ["（二）部分公开（区分处理的，只计这一情形，不计其他情形）"]

    dd = DataDir(str(tmp_path))
    staged = stage_year(dd, _zones("000_baotou_2020.txt"), 2020)
    publish(dd, staged)
    write_catalog(dd, staged.run_id)
    field = pq.read_schema(tmp_path / "curated" / "report_summary" / "2020" / "part-0.parquet").field("received")
    assert field.metadata[b"description"].decode().startswith("Table cells: 一、本年新收政府信息公开申请数量")
    con = duckdb.connect(str(tmp_path / CATALOG_FILE), read_only=True)
    assert con.execute("select count(*) from dictionary").fetchall() == [(frame.height,)]
