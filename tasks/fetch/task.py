"""Prefect faces of discovery and fetching (the only fetch module that imports prefect).

Retries here are for whole-batch failures (the raw store unwritable for a moment); single
requests already retry inside the fetcher, so the attempts do not multiply (3 × 2, not 12).
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.catalogue import CatalogueEntry, Target
from tasks.fetch.discover import discover
from tasks.settings import DEFAULT_FETCH, FetchSettings


@task(name="discover", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def discover_targets(listings: list[CatalogueEntry], year: int, settings: FetchSettings = DEFAULT_FETCH
                     ) -> tuple[list[Target], list[str]]:
    """Report links of the given year on every listing page (and its pagination)."""
    targets: list[Target] = []
    errors: list[str] = []
    for entry in listings:
        assert entry.listing_url is not None
        found, errs = discover(entry.listing_url, settings)
        errors.extend(f"{entry.organ}: {e}" for e in errs)
        targets.extend(Target(r.url, r.url, entry.organ, entry.region, entry.level, r.year, entry.organ_id,
                              entry.adcode)
                       for r in found if r.year == year)
    return targets, errors
