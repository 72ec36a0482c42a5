"""Named defaults, each in one place: politeness and limits of the fetcher, batch sizes, thresholds.

Defaults are gentle: a government site is not ours to load. Override per run (flow parameters,
CLI options) rather than by editing here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final

from tasks.errors import SettingsError

USER_AGENT: Final = "xxgk/0.1 (annual-report dataset builder; +https://github.com/xxgk)"
DEFAULT_DATA_DIR: Final = "output"
DEFAULT_CATALOGUE: Final = "data/samples/catalogue.csv"
DEFAULT_OVERRIDES: Final = "data/overrides.csv"
MAX_QUARANTINE_RATE: Final = 0.20  # above this share of quarantined reports a run fails: the extractor broke
MIN_REPORTS_FOR_RATE: Final = 20  # ... judged only on years with at least this many documents
# The Prefect global concurrency limit (1 slot) that every top-level ingest/backfill run holds where
# it exists, so that two runs never fetch from the sites at once (flows/deployments.py creates it).
SITES_LIMIT: Final = "xxgk-sites"
BATCH_SIZE: Final = 200  # documents per Prefect task run: hundreds of task runs a year, not 100k
# A year of at least this many documents is gated and staged in child processes (tasks/isolated.py:
# their memory is given back); below it, in the flow process, which
# saves the ~5 s each child spends importing Great Expectations. XXGK_ISOLATE_FROM overrides.
ISOLATE_FROM: Final = int(os.environ.get("XXGK_ISOLATE_FROM", "10000"))
# Staging children alive at once (XXGK_STAGE_PROCESSES overrides). One: a staging child holds
# ~0.55-0.8 GB whatever the year's size (GX's copies of one chunk, its import), beside a flow
# process of 0.45-0.65 GB, so two at once would pass 1.5 GB (140,000 reports: 1.40 GB with one).
STAGE_PROCESSES: Final = int(os.environ.get("XXGK_STAGE_PROCESSES", "1"))
# Values (rows × columns) per Great Expectations validation: GX copies each chunk several times,
# and each validation costs ~0.3 s whatever its size (its metric graph, pydantic). 3,200,000 is
# 400,000 rows of a cell dataset: a chunk's copies are ~0.15 GB, and a national year's `requests`
# (23 million rows) is 58 validations per zone, not 290 (bench: staging 2.4 s per 835,000 rows of
# requests with 3.2M, 4.6 s with 800k).
# XXGK_CHUNK_CELLS overrides (less memory, more time; the tests make it small to cross chunks).
CHUNK_CELLS: Final = int(os.environ.get("XXGK_CHUNK_CELLS", "3200000"))
# The consistency suites' chunks stay at 800,000 values: their cost is per row, not per validation
# (a 10,000-report year's checks: 4.5 s in 800k chunks, 4.6 s in 3.2M), and their pandas copy holds
# Python strings, so 3.2M-value chunks took the gate's process from 0.45 to 0.9 GB.
CONSISTENCY_CHUNK_CELLS: Final = min(CHUNK_CELLS, 800_000)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    max_connections: int = 16  # across all hosts
    per_host_connections: int = 2
    per_host_interval_s: float = 1.0  # minimum gap between two requests to one host
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    retries: int = 3  # retries after the first attempt, on timeouts, resets, 5xx and 429
    backoff_base_s: float = 1.0  # delay = base * 2**attempt * jitter(0.5–1.5), at least Retry-After
    backoff_max_s: float = 60.0
    max_body_bytes: int = 30 * 1024 * 1024
    max_redirects: int = 5
    max_listing_pages: int = 30
    request_deadline_s: float = 120.0  # one request, connect and every read together (a trickling server)
    document_deadline_s: float = 300.0  # one document over all its retries
    max_retry_after_s: float = 600.0  # a longer Retry-After defers the document to the next run
    # Loopback, private, link-local and reserved addresses are refused (a redirect to an internal
    # service is SSRF). The tests, whose servers are on 127.0.0.1, allow them: XXGK_ALLOW_PRIVATE_NETWORKS=1.
    allow_private_networks: bool = field(
        default_factory=lambda: os.environ.get("XXGK_ALLOW_PRIVATE_NETWORKS", "") == "1")
    user_agent: str = USER_AGENT


DEFAULT_FETCH: Final = FetchSettings()


def fetch_settings(options: dict[str, object] | None) -> FetchSettings:
    """FetchSettings from flow parameters, e.g. {"per_host_interval_s": 2, "max_connections": 8}.

    Values are validated, never coerced: `2.7` connections, a negative interval or `"three"`
    retries are refused with the option named (`SettingsError`).
    """
    if not options:
        return DEFAULT_FETCH
    known = set(FetchSettings.__slots__)  # type: ignore[attr-defined]
    unknown = set(options) - known
    if unknown:
        raise SettingsError(f"unknown fetch option(s) {sorted(unknown)}; known: {sorted(known)}")
    return FetchSettings(**{k: _validated(k, v) for k, v in options.items()})


def _validated(name: str, value: object) -> object:
    kind = type(getattr(DEFAULT_FETCH, name))
    text = str(value).strip().lower()
    if kind is bool:
        if isinstance(value, bool):
            return value
        if text in ("1", "true", "yes", "0", "false", "no"):
            return text in ("1", "true", "yes")
        raise SettingsError(f"fetch option {name}: {value!r} is not true or false")
    if kind is str:
        if isinstance(value, str) and value.strip():
            return value
        raise SettingsError(f"fetch option {name}: {value!r} is not a non-empty string")
    try:
        number = float(text) if not isinstance(value, bool) else float("nan")
    except ValueError:
        number = float("nan")
    if number != number or number < 0:
        raise SettingsError(f"fetch option {name}: {value!r} is not a number ≥ 0")
    if kind is int:
        if not number.is_integer():
            raise SettingsError(f"fetch option {name}: {value!r} is not a whole number")
        return int(number)
    return number
