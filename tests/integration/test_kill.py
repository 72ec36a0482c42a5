"""kill -9 at random moments of `xxgk run` (two sample years), then a rerun: published data is whole, no duplicates.

The killed run may die while fetching, extracting, validating, staging or in the middle of the
renames of a publish; whatever it left, the next run completes (or discards) it, and the datasets
then hold every sample report exactly once, in the same zone as after an undisturbed run.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import ROOT, SAMPLES
from tests.integration.server import prefect_server

TRIALS = 2
YEARS = ("2020", "2021")  # two of the sample's six years: a run is about a third as long, still two publishes


def _two_years(folder: Path) -> Path:
    """The bundled sample's catalogue cut to `YEARS`, beside copies of their documents."""
    folder.mkdir()
    with (SAMPLES / "catalogue.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        kept = [row for row in reader if row["year"] in YEARS]
    for row in kept:
        (folder / row["report_url"]).write_bytes((SAMPLES / row["report_url"]).read_bytes())
    with (folder / "catalogue.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(kept)
    return folder / "catalogue.csv"


def _run(out: Path, env: dict[str, str], catalogue: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--data-dir", str(out),
                             "--catalogue", str(catalogue)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _published(out: Path) -> list[tuple]:
    q = ("select report_id, organ, status from read_parquet('{d}/{z}/reports/*/*.parquet', hive_partitioning=true)")
    rows = []
    for zone in ("curated", "quarantine"):
        rows += duckdb.sql(q.format(d=out, z=zone)).fetchall()
    return sorted(rows)


def test_kill_at_random_moments_then_rerun(tmp_path: Path) -> None:
    # One real server for every run (as under a deployment), not an ephemeral API started by each:
    # that start-up was half of each run's time here. A killed run leaves its flow run behind on it.
    home = tmp_path / "prefect-home"
    home.mkdir()
    with prefect_server(home) as (_api, env, _proc):
        _kill_and_rerun(tmp_path, env)


def _kill_and_rerun(tmp_path: Path, env: dict[str, str]) -> None:
    reference = tmp_path / "reference"
    catalogue = _two_years(tmp_path / "samples")
    started = time.monotonic()
    first = _run(reference, env, catalogue)
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()[-2000:]
    want = _published(reference)
    assert len({r[0] for r in want}) == len(want) == 6
    budget = time.monotonic() - started  # how long a whole run takes on this machine
    rng = random.Random()
    for trial in range(TRIALS):
        out = tmp_path / f"out{trial}"
        victim = _run(out, env, catalogue)
        delay = rng.uniform(2.0, min(budget, 25.0))
        try:
            victim.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(victim.pid, signal.SIGKILL)  # the run and its reader processes
            victim.wait()
        rerun = _run(out, env, catalogue)
        assert rerun.wait(timeout=300) == 0, (trial, delay, rerun.stderr.read().decode()[-2000:])
        assert _published(out) == want, (trial, delay)
        assert not list((out / "_staging").glob("*/*")), (trial, delay)
