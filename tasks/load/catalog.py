"""`catalog.duckdb`: one file a BI tool connects to, showing one consistent published state.

A publish renames each year's files into place one by one, so a plain Parquet reader that globs
`curated/*/*/*.parquet` during those milliseconds can see some datasets of the new run and some
of the old (docs/contract.md §3). The catalogue closes that gap for everything that connects to
it (DuckDB, DBeaver, Superset, Metabase, Power BI's DuckDB connector):

1. after a publish, every published file is hard-linked into `_snapshots/<run_id>/` — no copy;
   a later publish renames a new file over the published path, which leaves the snapshot's link,
   and so its bytes, as they were: a snapshot is immutable;
2. a new DuckDB file is written beside the data with one view per dataset over that snapshot
   (`reports`, `requests`, …, `report_summary` for the curated zone; `quarantine_<dataset>`;
   `all_reports` and `all_report_summary` with both zones; `dictionary`) and then renamed over
   `catalog.duckdb` in one step.

A connection opened before the rename keeps reading the old snapshot; one opened after reads the
new; neither sees a mix. The last `KEEP_SNAPSHOTS` snapshots are kept, so queries in flight
survive the next publishes. Hard links need a local data directory: on an object store no
catalogue is written (DuckDB would need httpfs and the store's credentials to even define the
views, and a publish there is not atomic per file either); read the Parquet files directly.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from pathlib import Path
from typing import Final

import polars as pl
import pyarrow.parquet as pq

from tasks import schemas
from tasks.dictionary import dictionary_frame
from tasks.load.storage import DataDir

CATALOG_FILE: Final = "catalog.duckdb"
DICTIONARY_FILE: Final = "dictionary/dictionary.parquet"  # the data dictionary (tasks/dictionary.py)
SNAPSHOTS: Final = "_snapshots"
KEEP_SNAPSHOTS: Final = 3
_EMPTY: Final = "_empty.parquet"  # a typed, empty file: a view over a dataset with no year yet


def view_name(zone: str, dataset: str) -> str:
    return dataset if zone == "curated" else f"{zone}_{dataset}"


def _snapshot(root: Path, snapshot: Path) -> None:
    """Hard-link every published file of both zones into `snapshot` (same relative paths)."""
    for zone in schemas.ZONES.values():
        for dataset, schema in schemas.PUBLISHED.items():
            target = snapshot / zone / dataset
            target.mkdir(parents=True, exist_ok=True)
            pl.DataFrame(schema=schema).write_parquet(target / _EMPTY)
            for path in sorted((root / zone / dataset).glob(f"*/{schemas.PART_FILE}")):
                (target / path.parent.name).mkdir(exist_ok=True)
                os.link(path, target / path.parent.name / path.name)


def write_catalog(data_dir: DataDir, run_id: str) -> str | None:
    """Snapshot the published state as `run_id` and point a new `catalog.duckdb` at it; returns its
    path (None on an object store)."""
    import duckdb

    if not data_dir.is_local:
        return None
    with data_dir.lock("catalog", wait_s=120):  # years published in parallel take turns here
        root = Path(data_dir.root)
        dictionary = dictionary_frame().to_arrow()
        buf = io.BytesIO()
        pq.write_table(dictionary, buf)
        data_dir.write_bytes(data_dir.path(DICTIONARY_FILE), buf.getvalue())  # for plain readers too
        snapshot = root / SNAPSHOTS / run_id
        if not (snapshot / "DONE").exists():
            data_dir.delete_dir(str(snapshot))
            _snapshot(root, snapshot)
            os.link(root / DICTIONARY_FILE, snapshot / "dictionary.parquet")
            (snapshot / "DONE").write_text(run_id)
        base = str(snapshot.resolve())
        final = data_dir.path(CATALOG_FILE)
        tmp = root / f".{CATALOG_FILE}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            con = duckdb.connect(str(tmp))
            try:
                for zone in schemas.ZONES.values():
                    for dataset in schemas.PUBLISHED:
                        files = f"{base}/{zone}/{dataset}/**/*.parquet".replace("'", "''")
                        # by name: a year written before a column was added (0.4: `confidence`) reads as null there
                        con.execute(f"create view {view_name(zone, dataset)} as select * "
                                    f"from read_parquet('{files}', union_by_name = true)")
                for dataset in ("reports", "report_summary"):  # both zones, told apart by `status`
                    con.execute(f"create view all_{dataset} as select * from {dataset} union all by name "
                                f"select * from quarantine_{dataset}")
                con.execute(f"create view dictionary as select * from read_parquet('{base}/dictionary.parquet')")
                con.execute("create table xxgk_catalog as select ? as run_id, now() as written_at, ? as snapshot",
                            [run_id, base])
            finally:
                con.close()
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        _prune(root / SNAPSHOTS, keep=run_id)
        return final


def _prune(folder: Path, keep: str) -> None:
    snapshots = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in snapshots[:-KEEP_SNAPSHOTS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
