"""Prefect face of batch extraction, cached on the content hashes of the batch (not on paths)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect import task

from tasks.catalogue import Target
from tasks.extract.batch import batch_key, extract_documents
from tasks.fetch.store import ManifestEntry, RawStore
from tasks.load.storage import DataDir
from tasks.normalise.frames import ReadReport, UnreadDocument


def _cache_key(context: Any, parameters: dict[str, Any]) -> str:
    items = parameters["items"]
    return batch_key(items.unquote() if hasattr(items, "unquote") else items)


@task(name="extract-batch", task_run_name="extract-{year}-{batch_no}", cache_key_fn=_cache_key,
      cache_expiration=timedelta(days=400), persist_result=True)
def extract_batch(items: list[tuple[Target, ManifestEntry | None]], data_dir: str, year: int, batch_no: int
                  ) -> tuple[list[ReadReport], list[UnreadDocument]]:
    """Read every document of the batch from the raw store; unchanged batches come from the cache."""
    return extract_documents(items, RawStore(DataDir(data_dir)))
