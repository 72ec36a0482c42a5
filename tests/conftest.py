"""Shared fixtures: the repository root and the bundled sample reports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The tests' HTTP servers listen on 127.0.0.1, which the fetcher refuses by default (SSRF guard):
# the test settings allow private networks explicitly. test_ssrf.py checks the default refusal.
os.environ["XXGK_ALLOW_PRIVATE_NETWORKS"] = "1"

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
SAMPLE_REPORTS = sorted(p for p in SAMPLES.iterdir() if p.is_file() and p.suffix != ".csv")  # not catalogue.csv


# Workers for `pytest -n auto`: one per core, at most this many (each worker starts its own Prefect
# server and Great Expectations; a big CI machine gains little beyond a few).
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES
