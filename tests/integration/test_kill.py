"""kill -9 at random moments of `xxgk run`, then a rerun: published data is whole and without duplicates.

The killed run may die while fetching, extracting, validating, staging or in the middle of the
renames of a publish; whatever it left, the next run completes (or discards) it, and the datasets
then hold every sample report exactly once, in the same zone as after an undisturbed run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import ROOT

TRIALS = 2


def _run(out: Path, home: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": ""}
    env.pop("PREFECT_API_URL")
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--data-dir", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _published(out: Path) -> list[tuple]:
    q = ("select report_id, organ, status from read_parquet('{d}/{z}/reports/*/*.parquet', hive_partitioning=true)")
    rows = []
    for zone in ("curated", "quarantine"):
        rows += duckdb.sql(q.format(d=out, z=zone)).fetchall()
    return sorted(rows)


def test_kill_at_random_moments_then_rerun(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    reference = tmp_path / "reference"
    started = time.monotonic()
    first = _run(reference, home)
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()[-2000:]
    want = _published(reference)
    assert len({r[0] for r in want}) == len(want) > 5
    budget = time.monotonic() - started  # how long a whole run takes on this machine
    rng = random.Random()
    for trial in range(TRIALS):
        out = tmp_path / f"out{trial}"
        victim = _run(out, home)
        delay = rng.uniform(2.0, min(budget, 25.0))
        try:
            victim.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(victim.pid, signal.SIGKILL)  # the run and the ephemeral server it started
            victim.wait()
        rerun = _run(out, home)
        assert rerun.wait(timeout=300) == 0, (trial, delay, rerun.stderr.read().decode()[-2000:])
        assert _published(out) == want, (trial, delay)
        assert not list((out / "_staging").glob("*/*")), (trial, delay)
