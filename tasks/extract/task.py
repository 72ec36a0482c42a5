"""Prefect face of one batch: fetch → extract → normalise into the batch's parts (`tasks.batches`).

No Prefect result is persisted: the batch's rows are in its parts in the data directory, which is
also the extraction cache (keyed on the documents' content hashes), shared by every worker.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.batches import BatchResult, run_batch
from tasks.catalogue import Target
from tasks.load.storage import DataDir
from tasks.settings import DEFAULT_FETCH, FetchSettings


@task(name="batch", task_run_name="batch-{year}-{batch_no}", retries=2, retry_delay_seconds=[5, 30],
      cache_policy=NO_CACHE, persist_result=False)
def process_batch(targets: list[Target], data_dir: str, year: int, batch_no: int,
                  settings: FetchSettings = DEFAULT_FETCH, host_starts: dict[str, float] | None = None
                  ) -> BatchResult:
    """Fetch (conditional requests), read and normalise a batch; unchanged documents are not read again.

    Retries are for whole-batch failures (the data directory unwritable for a moment); single
    requests already retry inside the fetcher, and one document's failure is its own quarantine.
    """
    return run_batch(targets, DataDir(data_dir), year, settings, host_starts)
